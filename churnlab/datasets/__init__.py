"""Bundled data sets and simulators."""

from churnlab.datasets.cdnow import load_cdnow, load_cdnow_summary
from churnlab.datasets.retail import RetailData, load_retail_sample, simulate_retailer
from churnlab.datasets.retention import (
    PUBLISHED_COHORT_SIZE,
    load_retention_cohorts,
    simulate_subscriptions,
)
from churnlab.datasets.simulate import simulate_bgnbd, simulate_gamma_gamma

__all__ = [
    "PUBLISHED_COHORT_SIZE",
    "RetailData",
    "load_cdnow",
    "load_cdnow_summary",
    "load_retail_sample",
    "load_retention_cohorts",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
    "simulate_retailer",
    "simulate_subscriptions",
]
