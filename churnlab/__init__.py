"""churnlab: customer-retention analytics.

Data flows one way: transactions (read once, by :mod:`churnlab.transactions`; see
:func:`inspect_transactions`) -> :func:`rfm_summary` -> purchase and spend models
(:class:`BetaGeo`, :class:`ModifiedBetaGeo`, :class:`ParetoNBD`, :class:`BetaGeoBetaBinomial`;
:class:`GammaGamma`; chosen with :func:`compare_models`) -> :func:`customer_lifetime_value` ->
decisions and figures. Every forecast can carry an interval: :func:`prediction_interval` and
:func:`clv_interval` (parameter uncertainty), :func:`predictive_total_interval` (a cohort
total, with the purchase process's own randomness).

Subpackages and modules, by question:

- how many purchases, for how long, worth what: :mod:`churnlab.rfm`, :mod:`churnlab.models`,
  :mod:`churnlab.clv`, :mod:`churnlab.diagnostics` (fit checks and holdout validation);
- who is about to leave and whom to target: :mod:`churnlab.churn`;
- why customers leave: :mod:`churnlab.defection` (reasons against the 68/14/10/5/3 benchmark,
  leak rate, value at risk), :mod:`churnlab.nps`, :mod:`churnlab.loyalty` (loyalty matrix,
  ladder, customer types), :mod:`churnlab.concentration`, :mod:`churnlab.complaints`;
- what retention is worth: :mod:`churnlab.economics`;
- subscriptions (contractual retention): :mod:`churnlab.contractual` (cohort survival counts,
  the shifted-beta-geometric model, residual lifetime value, Kaplan-Meier);
- data and simulators: :mod:`churnlab.datasets`; figures: :mod:`churnlab.plots`;
- the contract every result object keeps (``table``, ``to_frame()``, the notebook view):
  :mod:`churnlab.results`; statistics shared across modules: :mod:`churnlab.stats`.
"""

import importlib

from churnlab.clv import customer_lifetime_value
from churnlab.compare import ModelComparison, compare_models
from churnlab.models import (
    BetaGeo,
    BetaGeoBetaBinomial,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    clv_interval,
    prediction_interval,
    predictive_total_interval,
)
from churnlab.rfm import TIME_UNITS, calibration_holdout_split, rfm_summary
from churnlab.transactions import DataQualityReport, inspect_transactions

__version__ = "0.1.0"

#: Subpackages loaded on first use (``churnlab.churn``, ``from churnlab import plots``), so that
#: ``import churnlab`` does not pay for scikit-learn, scipy.stats and matplotlib up front.
_LAZY = (
    "churn",
    "complaints",
    "concentration",
    "contractual",
    "datasets",
    "defection",
    "diagnostics",
    "economics",
    "loyalty",
    "nps",
    "plots",
    "report",
    "results",
    "spark",  # needs the extra churnlab[spark]
    "stats",
)


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(f"churnlab.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'churnlab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "BetaGeo",
    "BetaGeoBetaBinomial",
    "DataQualityReport",
    "GammaGamma",
    "ModelComparison",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "TIME_UNITS",
    "calibration_holdout_split",
    "churn",
    "compare_models",
    "clv_interval",
    "complaints",
    "concentration",
    "contractual",
    "customer_lifetime_value",
    "datasets",
    "defection",
    "diagnostics",
    "economics",
    "inspect_transactions",
    "loyalty",
    "nps",
    "plots",
    "results",
    "prediction_interval",
    "predictive_total_interval",
    "rfm_summary",
    "stats",
]
