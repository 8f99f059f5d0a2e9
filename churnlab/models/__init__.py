"""Purchase and spend models: BG/NBD (:class:`BetaGeo`) and Gamma-Gamma (:class:`GammaGamma`)."""

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

__all__ = [
    "CDNOW_BGNBD_PUBLISHED",
    "CDNOW_BGNBD_PUBLISHED_LOG_LIKELIHOOD",
    "CDNOW_GAMMA_GAMMA_PUBLISHED",
    "INDEPENDENCE_THRESHOLD",
    "BetaGeo",
    "ConvergenceError",
    "GammaGamma",
    "SpendFrequencyCorrelation",
    "spend_frequency_correlation",
]
