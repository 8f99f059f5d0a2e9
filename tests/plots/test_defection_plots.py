"""The defection figures draw exactly the numbers in the results they are given."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from churnlab import defection as d
from churnlab.plots.defection import (
    plot_leak_rate,
    plot_pareto,
    plot_reason_mix,
    plot_value_at_risk,
)


@pytest.fixture
def comparison():
    return d.compare_to_benchmark(
        {
            "staff_indifference": 300,
            "product_dissatisfaction": 140,
            "competition": 30,
            "other_relationships": 20,
            "no_reason": 10,
            "unmapped": 12,
        }
    )


@pytest.fixture
def var():
    cats = pd.Series(["competition", "staff_indifference", "staff_indifference", "unmapped"])
    return d.value_at_risk(cats, pd.Series([100.0, 50.0, 30.0, 10.0], name="revenue"))


def _heights(ax):
    return np.array([p.get_height() for p in ax.patches])


def test_reason_mix_draws_shares_and_benchmark(comparison):
    fig, ax = plt.subplots()
    n_figs = len(plt.get_fignums())
    out = plot_reason_mix(comparison, ax=ax)
    assert out is ax and len(plt.get_fignums()) == n_figs  # no new figure when ax is given
    heights = _heights(ax)
    table = comparison.table.loc[list(d.CATEGORIES)]
    np.testing.assert_allclose(heights[:5], table["share"])  # 300/500, 140/500, ...
    np.testing.assert_allclose(heights[5:], d.BENCHMARK)
    assert heights[0] == pytest.approx(0.6)
    plt.close(fig)


def test_value_at_risk_draws_both_shares(var):
    ax = plot_value_at_risk(var)
    heights = _heights(ax)
    np.testing.assert_allclose(heights[:6], var.table["customer_share"])
    np.testing.assert_allclose(heights[6:], var.table["value_share"])
    assert "revenue" in ax.get_title()
    plt.close(ax.figure)


def test_pareto_sorts_bars_and_ends_at_100_percent(var):
    ax = plot_pareto(var)
    heights = _heights(ax)
    # competition 100, staff 80, then three zeros (unmapped left out)
    np.testing.assert_allclose(heights, [100.0, 80.0, 0.0, 0.0, 0.0])
    twin = [a for a in ax.figure.axes if a is not ax][0]
    cumulative = twin.lines[0].get_ydata()
    np.testing.assert_allclose(cumulative, [100 / 180, 1.0, 1.0, 1.0, 1.0])
    ax_c = plot_pareto(var, measure="customers")
    np.testing.assert_allclose(_heights(ax_c)[:2], [2, 1])
    plt.close("all")


def test_leak_rate_bars_and_ceiling():
    c = pd.DataFrame(
        {
            "signup_date": pd.to_datetime(["2020-05-01"] * 10),
            "defection_date": pd.to_datetime(["2021-02-01"] + [None] * 9),
        }
    )
    leak = d.leak_rate(c, end="2022-12-31")
    ax = plot_leak_rate(leak)
    np.testing.assert_allclose(_heights(ax), [0.1, 0.0])  # 1 of 10, then 0 of 9
    assert ax.lines[-1].get_ydata()[0] == pytest.approx(d.LEAK_CEILING)
    plt.close(ax.figure)
