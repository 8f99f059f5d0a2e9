"""Purchase and spend models.

Continuous time: BG/NBD (:class:`BetaGeo`), MBG/NBD (:class:`ModifiedBetaGeo`) and Pareto/NBD
(:class:`ParetoNBD`); discrete opportunities: BG/BB (:class:`BetaGeoBetaBinomial`); spend:
Gamma-Gamma (:class:`GammaGamma`).
"""

from churnlab.models._base import ConvergenceError
from churnlab.models.beta_geo import (
    CDNOW_BGNBD_PUBLISHED,
    CDNOW_BGNBD_PUBLISHED_LOG_LIKELIHOOD,
    BetaGeo,
)
from churnlab.models.beta_geo_beta_binomial import (
    DONATIONS_BGBB_PUBLISHED,
    DONATIONS_BGBB_PUBLISHED_LOG_LIKELIHOOD,
    BetaGeoBetaBinomial,
)
from churnlab.models.gamma_gamma import (
    CDNOW_GAMMA_GAMMA_PUBLISHED,
    INDEPENDENCE_THRESHOLD,
    GammaGamma,
    SpendFrequencyCorrelation,
    spend_frequency_correlation,
)
from churnlab.models.modified_beta_geo import CDNOW_MBGNBD_PUBLISHED, ModifiedBetaGeo
from churnlab.models.pareto_nbd import (
    CDNOW_PARETO_NBD_PUBLISHED,
    CDNOW_PARETO_NBD_PUBLISHED_LOG_LIKELIHOOD,
    ParetoNBD,
)

__all__ = [
    "CDNOW_BGNBD_PUBLISHED",
    "CDNOW_BGNBD_PUBLISHED_LOG_LIKELIHOOD",
    "CDNOW_GAMMA_GAMMA_PUBLISHED",
    "CDNOW_MBGNBD_PUBLISHED",
    "CDNOW_PARETO_NBD_PUBLISHED",
    "CDNOW_PARETO_NBD_PUBLISHED_LOG_LIKELIHOOD",
    "DONATIONS_BGBB_PUBLISHED",
    "DONATIONS_BGBB_PUBLISHED_LOG_LIKELIHOOD",
    "INDEPENDENCE_THRESHOLD",
    "BetaGeo",
    "BetaGeoBetaBinomial",
    "ConvergenceError",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "SpendFrequencyCorrelation",
    "spend_frequency_correlation",
]
