"""Purchase and spend models: BG/NBD (:class:`BetaGeo`) and Gamma-Gamma (:class:`GammaGamma`).

Intervals for their forecasts (:mod:`churnlab.models.uncertainty`): :func:`parameter_draws`,
:func:`prediction_interval`, :func:`clv_interval`, :func:`predictive_total_interval`.
"""

from churnlab.models._base import ConvergenceError
from churnlab.models.beta_geo import (
    CDNOW_BGNBD_PUBLISHED,
    CDNOW_BGNBD_PUBLISHED_LOG_LIKELIHOOD,
    BetaGeo,
)
from churnlab.models.gamma_gamma import (
    CDNOW_GAMMA_GAMMA_PUBLISHED,
    INDEPENDENCE_THRESHOLD,
    GammaGamma,
    SpendFrequencyCorrelation,
    spend_frequency_correlation,
)
from churnlab.models.uncertainty import (
    TotalInterval,
    clv_interval,
    parameter_draws,
    prediction_interval,
    predictive_total_interval,
)

__all__ = [
    "CDNOW_BGNBD_PUBLISHED",
    "CDNOW_BGNBD_PUBLISHED_LOG_LIKELIHOOD",
    "CDNOW_GAMMA_GAMMA_PUBLISHED",
    "INDEPENDENCE_THRESHOLD",
    "BetaGeo",
    "ConvergenceError",
    "GammaGamma",
    "SpendFrequencyCorrelation",
    "TotalInterval",
    "clv_interval",
    "parameter_draws",
    "prediction_interval",
    "predictive_total_interval",
    "spend_frequency_correlation",
]
