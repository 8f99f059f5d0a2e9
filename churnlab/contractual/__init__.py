"""Retention in a contractual (subscription) setting.

From a subscription table to tenure and cohort survival counts (:func:`subscription_tenure`,
:func:`cohort_survival_counts`), the shifted-beta-geometric model of contract duration
(:class:`ShiftedBetaGeometric`: survival and retention curves, projections, discounted expected
residual lifetime) and the model-free Kaplan-Meier curve beside it (:func:`kaplan_meier`).
"""

from churnlab.contractual.cohorts import (
    PERIODS,
    TENURE_COLUMNS,
    cohort_survival_counts,
    full_periods,
    subscription_tenure,
    tenure_from_survivors,
)
from churnlab.contractual.kaplan_meier import KaplanMeier, kaplan_meier
from churnlab.contractual.sbg import (
    HIGH_END_SBG_PUBLISHED,
    PUBLISHED_CALIBRATION_YEARS,
    REGULAR_SBG_PUBLISHED,
    ShiftedBetaGeometric,
    SurvivalProjection,
)

__all__ = [
    "HIGH_END_SBG_PUBLISHED",
    "PERIODS",
    "PUBLISHED_CALIBRATION_YEARS",
    "REGULAR_SBG_PUBLISHED",
    "TENURE_COLUMNS",
    "KaplanMeier",
    "ShiftedBetaGeometric",
    "SurvivalProjection",
    "cohort_survival_counts",
    "full_periods",
    "kaplan_meier",
    "subscription_tenure",
    "tenure_from_survivors",
]
