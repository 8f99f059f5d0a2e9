"""Purchase and spend models: BG/NBD (:class:`BetaGeo`) and Gamma-Gamma (:class:`GammaGamma`)."""

from churnlab.models._base import ConvergenceError
from churnlab.models.beta_geo import BetaGeo
from churnlab.models.gamma_gamma import (
    INDEPENDENCE_THRESHOLD,
    GammaGamma,
    SpendFrequencyCorrelation,
    spend_frequency_correlation,
)

__all__ = [
    "INDEPENDENCE_THRESHOLD",
    "BetaGeo",
    "ConvergenceError",
    "GammaGamma",
    "SpendFrequencyCorrelation",
    "spend_frequency_correlation",
]
