"""Shared statistics (churnlab/stats.py) against independent implementations."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from churnlab.stats import gap_statistics, wilson_interval


@pytest.mark.parametrize("level", [0.8, 0.95, 0.99])
def test_wilson_interval_is_scipys(level):
    # scipy's binomtest(...).proportion_ci(method="wilson"), including k = 0 and k = n
    k = np.array([0, 1, 7, 50, 99, 100])
    n = np.array([10, 3, 20, 100, 100, 100])
    lower, upper = wilson_interval(k, n, level)
    for i in range(len(k)):
        ci = stats.binomtest(int(k[i]), int(n[i])).proportion_ci(level, method="wilson")
        assert lower[i] == pytest.approx(ci.low, abs=1e-12)
        assert upper[i] == pytest.approx(ci.high, abs=1e-12)


def test_wilson_interval_hand_computed():
    # 0 of 10 at 95%: lower 0, upper z^2 / (10 + z^2) = 3.8415 / 13.8415 = 0.2775
    lower, upper = wilson_interval(0, 10)
    assert lower == 0.0 and upper == pytest.approx(3.841459 / 13.841459, rel=1e-6)


def test_gap_statistics_match_pandas():
    # Per-customer gaps from a pandas groupby, independently of the bincount code.
    rng = np.random.default_rng(0)
    customer = np.sort(rng.integers(0, 50, 400))
    day = np.concatenate(
        [np.cumsum(rng.integers(1, 30, (customer == c).sum())) for c in np.unique(customer)]
    )
    count, mean, std, cv = gap_statistics(customer, day, 52)  # customers 50, 51 never buy
    gaps = pd.Series(day, dtype=float).groupby(customer).diff().groupby(customer)
    expected_mean = gaps.mean().reindex(range(52))
    expected_std = gaps.std().reindex(range(52))  # ddof=1: NaN with one gap
    np.testing.assert_array_equal(count, gaps.count().reindex(range(52), fill_value=0))
    np.testing.assert_allclose(mean, expected_mean, equal_nan=True)
    np.testing.assert_allclose(std, expected_std, equal_nan=True)
    np.testing.assert_allclose(cv, expected_std / expected_mean, equal_nan=True)
    assert np.isnan(mean[50]) and np.isnan(cv[51])


def test_periodic_buyer_has_no_variation_and_exponential_gaps_a_cv_near_one():
    # every 7 days: CV 0; exponential gaps (Poisson buyer): CV close to 1
    periodic = gap_statistics(np.zeros(10, int), np.arange(0, 70, 7), 1)[3]
    assert periodic[0] == 0.0
    gaps = np.random.default_rng(1).exponential(10.0, 20_000)
    poisson = gap_statistics(np.zeros(20_001, int), np.r_[0.0, np.cumsum(gaps)], 1)[3]
    assert poisson[0] == pytest.approx(1.0, abs=0.02)
