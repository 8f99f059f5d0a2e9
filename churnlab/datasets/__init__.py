"""Bundled data sets and simulators."""

from churnlab.datasets.cdnow import load_cdnow, load_cdnow_summary
from churnlab.datasets.donations import load_donations
from churnlab.datasets.retail import RetailData, load_retail_sample, simulate_retailer
from churnlab.datasets.retention import (
    PUBLISHED_COHORT_SIZE,
    load_retention_cohorts,
    simulate_subscriptions,
)
from churnlab.datasets.simulate import (
    simulate_bgbb,
    simulate_bgnbd,
    simulate_gamma_gamma,
    simulate_modified_bgnbd,
    simulate_pareto_nbd,
)

__all__ = [
    "PUBLISHED_COHORT_SIZE",
    "RetailData",
    "load_cdnow",
    "load_cdnow_summary",
    "load_donations",
    "load_retail_sample",
    "load_retention_cohorts",
    "simulate_bgbb",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
    "simulate_modified_bgnbd",
    "simulate_pareto_nbd",
    "simulate_retailer",
    "simulate_subscriptions",
]
