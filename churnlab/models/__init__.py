"""Purchase and spend models.

Continuous time: BG/NBD (:class:`BetaGeo`), MBG/NBD (:class:`ModifiedBetaGeo`) and Pareto/NBD
(:class:`ParetoNBD`); discrete opportunities: BG/BB (:class:`BetaGeoBetaBinomial`); spend:
Gamma-Gamma (:class:`GammaGamma`).

Intervals for their forecasts (:mod:`churnlab.models.uncertainty`): :func:`parameter_draws`,
:func:`prediction_interval`, :func:`clv_interval`, :func:`predictive_total_interval`.
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
    "TotalInterval",
    "clv_interval",
    "parameter_draws",
    "prediction_interval",
    "predictive_total_interval",
    "spend_frequency_correlation",
]
