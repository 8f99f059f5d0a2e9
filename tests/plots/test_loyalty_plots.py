"""Plots of NPS, loyalty, concentration, complaints and programme effect
(churnlab/plots/loyalty.py).

Each plot returns its Axes, draws into a given Axes without making a figure, refuses the wrong
result type, and draws exactly the numbers of the result it was given (read back from the
artists).
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from churnlab import loyalty as L
from churnlab.datasets import simulate_retailer
from churnlab.economics import evaluate_programme
from churnlab.plots import loyalty as P


@pytest.fixture(scope="module")
def data():
    return simulate_retailer(1500, seed=4)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _draws_into(plot, result):
    fig, ax = plt.subplots()
    n_figs = len(plt.get_fignums())
    assert plot(result, ax=ax) is ax
    assert len(plt.get_fignums()) == n_figs
    return ax


def test_plot_nps_draws_scores_and_intervals(data):
    table = L.nps_by(data.nps, "touch_point")
    ax = _draws_into(P.plot_nps, table)
    line = ax.lines[0]
    # groups are drawn top to bottom in table order
    np.testing.assert_allclose(np.asarray(line.get_xdata(), float), table["nps"].to_numpy())
    np.testing.assert_array_equal(line.get_ydata(), [2, 1, 0])
    segments = ax.collections[-1].get_segments()
    lows = sorted(seg[0][0] for seg in segments)
    np.testing.assert_allclose(lows, np.sort(table["ci_lower"].to_numpy()))
    with pytest.raises(TypeError):
        P.plot_nps(L.nps([9, 3]))


def test_plot_nps_trend_one_line_per_group(data):
    table = L.nps_trend(data.nps, "YE", by="touch_point")
    ax = _draws_into(P.plot_nps_trend, table)
    drawn = [line for line in ax.lines if line.get_label() in {"sales", "support", "delivery"}]
    assert len(drawn) == 3
    sales = next(line for line in drawn if line.get_label() == "sales")
    expected = table.xs("sales", level="touch_point")["nps"].to_numpy()
    np.testing.assert_allclose(sales.get_ydata(), expected)
    assert ax.get_xlabel() == "Year"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2022", "2023", "2024"]
    assert ax.get_title() == "NPS by year, with 95% intervals (shaded)"


def test_plot_loyalty_matrix_annotates_counts():
    m = L.loyalty_matrix(
        pd.Series({1: 10, 2: 9, 3: 2}),
        pd.Series({1: 4.0, 2: 1.0, 3: 5.0}),
        pd.Series({1: 30.0, 2: 10.0, 3: 60.0}),
        repeat_threshold=3,
    )
    ax = _draws_into(P.plot_loyalty_matrix, m)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "True loyalty\n1 customers (33%)\n30% of value" in texts
    assert "Spurious loyalty\n1 customers (33%)\n60% of value" in texts
    assert "No loyalty\n0 customers (0%)" in texts
    with pytest.raises(TypeError):
        P.plot_loyalty_matrix(m.table)
    ax = P.plot_loyalty_matrix(m, repeat_unit="purchases a month")
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "low: under 3 purchases a month",
        "high: 3 purchases a month or more",
    ]


def test_plot_ladder_bar_widths_are_the_shares(data):
    ladder = L.loyalty_ladder(data.transactions)
    ax = _draws_into(P.plot_ladder, ladder)
    widths = [p.get_width() for p in ax.patches]
    np.testing.assert_allclose(widths, ladder.table["share_of_first"].to_numpy())


def test_plot_lorenz_draws_the_curve():
    c = L.concentration(pd.Series([1.0, 2.0, 3.0, 4.0, 10.0]), key_account_threshold=0.6)
    ax = _draws_into(P.plot_lorenz, c)
    curve = ax.lines[1]
    np.testing.assert_allclose(curve.get_xdata(), c.lorenz["customer_share"])
    np.testing.assert_allclose(curve.get_ydata(), c.lorenz["value_share"])
    point = ax.lines[3]
    assert (point.get_xdata()[0], point.get_ydata()[0]) == pytest.approx((0.8, 0.5))
    assert "Gini 0.40" in curve.get_label()
    # the top 20% hold 50%: the label names the share that the arrow spans, from the
    # curve at 80% of customers (50% of value) up to 100%
    arrow, label = ax.texts
    assert arrow.xy == pytest.approx((0.8, 1.0))
    assert arrow.xyann == pytest.approx((0.8, 0.5))
    assert label.get_text() == "top 20% of customers\nhold 50% of the value"
    assert label.xy == pytest.approx((0.8, 0.9))


def test_plot_lorenz_label_matches_the_gap_it_marks():
    # 27% / 73%: the point sits at the bottom 80%'s share, the label gives the top 20%'s
    values = pd.Series(np.r_[np.full(80, 27.0 / 80), np.full(20, 73.0 / 20)])
    c = L.concentration(values)
    ax = P.plot_lorenz(c)
    point = ax.lines[3]
    assert point.get_ydata()[0] == pytest.approx(0.27)
    assert "hold 73% of the value" in ax.texts[1].get_text()


def test_plot_complaint_iceberg_bars(data):
    ice = L.complaint_iceberg(data.complaints, by="touch_point")
    ax = _draws_into(P.plot_complaint_iceberg, ice)
    n = len(ice.table)
    heights = np.array([p.get_height() for p in ax.patches])
    np.testing.assert_allclose(heights[:n], ice.table["resolved"])
    np.testing.assert_allclose(heights[n : 2 * n], ice.table["unresolved"])
    np.testing.assert_allclose(heights[2 * n :], -ice.table["silent_unhappy"])
    # counts below the waterline read as counts, not negative numbers
    ax.figure.draw_without_rendering()
    assert all(not t.get_text().startswith(("-", "\u2212")) for t in ax.get_yticklabels())
    # the silent are credited with their own word of mouth only; the unresolved
    # complainants' share of the negative reach is not theirs
    delivery = ice.table.loc["delivery"]
    silent_text = next(t.get_text() for t in ax.texts if "silent" in t.get_text())
    reach = delivery["silent_unhappy"] * ice.told_by_dissatisfied
    assert (
        silent_text
        == f"{delivery['silent_unhappy']:,.0f} silent unhappy\ntell ~{reach:,.0f} people"
    )
    assert reach < delivery["negative_reach"]


def test_plot_programme_effect_draws_both_estimates(data):
    ev = evaluate_programme(data.customers, data.transactions, n_boot=100)
    ax = _draws_into(P.plot_programme_effect, ev)
    np.testing.assert_allclose(
        np.asarray(ax.lines[0].get_xdata(), float),
        ev.table.loc[["adjusted_ratio", "naive_ratio"], "estimate"],
    )


def test_plots_make_a_figure_only_without_ax():
    c = L.concentration(pd.Series([1.0, 2.0, 3.0]), key_account_threshold=0.9)
    before = len(plt.get_fignums())
    ax = P.plot_lorenz(c)
    assert len(plt.get_fignums()) == before + 1
    assert ax.figure is plt.figure(plt.get_fignums()[-1])
