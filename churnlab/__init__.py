"""churnlab: customer-retention analytics.

transactions -> :func:`rfm_summary` -> purchase and spend models (:class:`BetaGeo`,
:class:`GammaGamma`) -> :func:`customer_lifetime_value`; churn prediction in
:mod:`churnlab.churn`; why customers leave in :mod:`churnlab.defection`,
:mod:`churnlab.loyalty` and :mod:`churnlab.economics`; figures in :mod:`churnlab.plots`.
"""

from churnlab import datasets, plots
from churnlab.clv import customer_lifetime_value
from churnlab.models import BetaGeo, GammaGamma
from churnlab.rfm import TIME_UNITS, calibration_holdout_split, rfm_summary

__version__ = "0.1.0"

__all__ = [
    "BetaGeo",
    "GammaGamma",
    "TIME_UNITS",
    "calibration_holdout_split",
    "customer_lifetime_value",
    "datasets",
    "plots",
    "rfm_summary",
]
