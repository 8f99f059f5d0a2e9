"""churnlab: customer-retention analytics.

Data flows one way: transactions -> :func:`rfm_summary` -> purchase and spend models
(:class:`BetaGeo`, :class:`ModifiedBetaGeo`, :class:`ParetoNBD`, :class:`BetaGeoBetaBinomial`;
:class:`GammaGamma`) -> :func:`customer_lifetime_value` -> decisions and figures.

Subpackages and modules, by question:

- how many purchases, for how long, worth what: :mod:`churnlab.rfm`, :mod:`churnlab.models`,
  :mod:`churnlab.clv`, :mod:`churnlab.diagnostics` (fit checks and holdout validation),
  :mod:`churnlab.compare` (which purchase model to trust);
- who is about to leave and whom to target: :mod:`churnlab.churn`;
- why customers leave: :mod:`churnlab.defection` (reasons against the 68/14/10/5/3 benchmark,
  leak rate, value at risk), :mod:`churnlab.nps`, :mod:`churnlab.loyalty` (loyalty matrix,
  ladder, customer types), :mod:`churnlab.concentration`, :mod:`churnlab.complaints`;
- what retention is worth: :mod:`churnlab.economics`;
- data and simulators: :mod:`churnlab.datasets`; figures: :mod:`churnlab.plots`.
"""

from churnlab import (
    churn,
    complaints,
    concentration,
    datasets,
    defection,
    diagnostics,
    economics,
    loyalty,
    nps,
    plots,
)
from churnlab.clv import customer_lifetime_value
from churnlab.compare import ModelComparison, compare_models
from churnlab.models import (
    BetaGeo,
    BetaGeoBetaBinomial,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
)
from churnlab.rfm import TIME_UNITS, calibration_holdout_split, rfm_summary

__version__ = "0.1.0"

__all__ = [
    "BetaGeo",
    "BetaGeoBetaBinomial",
    "GammaGamma",
    "ModelComparison",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "TIME_UNITS",
    "calibration_holdout_split",
    "churn",
    "compare_models",
    "complaints",
    "concentration",
    "customer_lifetime_value",
    "datasets",
    "defection",
    "diagnostics",
    "economics",
    "loyalty",
    "nps",
    "plots",
    "rfm_summary",
]
