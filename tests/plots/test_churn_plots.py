"""Churn figures draw exactly what churnlab.churn computed, on the Axes they are given."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from churnlab.churn import evaluate, mpc, profit_curve
from churnlab.plots.churn import (
    plot_calibration,
    plot_gains,
    plot_lift,
    plot_permutation_importance,
    plot_precision_recall,
    plot_profit_curve,
    plot_roc,
)


@pytest.fixture(scope="module")
def results():
    rng = np.random.default_rng(0)
    y = rng.binomial(1, 0.4, 300)
    proba = np.clip(0.4 + 0.3 * (y - 0.4) + rng.normal(0, 0.15, 300), 0, 1)
    return y, {"model": evaluate(y, proba), "recency": evaluate(y, 5 * proba + 2)}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.mark.parametrize(
    "plot", [plot_roc, plot_precision_recall, plot_gains, plot_lift, plot_calibration]
)
def test_draws_on_the_given_axes(results, plot):
    _, res = results
    fig, ax = plt.subplots()
    n_figures = len(plt.get_fignums())
    assert plot(res, ax=ax) is ax
    assert len(plt.get_fignums()) == n_figures  # no new figure when ax is given
    assert ax.get_title()


def test_roc_draws_the_computed_curve(results):
    _, res = results
    ax = plot_roc(res)
    line = ax.lines[0]
    np.testing.assert_array_equal(line.get_xdata(), res["model"]["roc"]["fpr"])
    np.testing.assert_array_equal(line.get_ydata(), res["model"]["roc"]["tpr"])
    assert ax.get_legend_handles_labels()[1][0] == f"model (AUC {res['model']['roc_auc']:.3f})"


def test_gains_and_lift_draw_the_computed_curve(results):
    _, res = results
    gains = res["model"]["gains"]
    ax = plot_gains(res["model"])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), gains["gain"])
    ax = plot_lift(res["model"])
    # the whole computed lift, its undefined (NaN) origin included and left undrawn
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), gains["lift"])
    # the "perfect" reference bends at the churn rate
    perfect = plot_gains(res["model"]).lines[1]
    assert perfect.get_xdata()[1] == pytest.approx(res["model"]["churn_rate"])


def test_calibration_skips_non_probabilities(results):
    _, res = results
    ax = plot_calibration(res)
    labels = ax.get_legend_handles_labels()[1]
    assert "model" in labels and "recency" not in labels


def test_permutation_importance_bars():
    table = pd.DataFrame(
        {"importance_mean": [0.3, 0.1, 0.01], "importance_std": [0.02, 0.01, 0.005]},
        index=pd.Index(["recency", "frequency", "tenure"], name="feature"),
    )
    ax = plot_permutation_importance(table, top=2)
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths == [0.1, 0.3]
    with pytest.raises(ValueError, match="importance_std"):
        plot_permutation_importance(table[["importance_mean"]])


def test_profit_curve_marks_the_best_fraction(results):
    y, _ = results
    rng = np.random.default_rng(1)
    s = y + rng.normal(0, 1, len(y))
    curve, best = profit_curve(y, s), mpc(y, s)
    ax = plot_profit_curve({"model": curve}, best=best)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), curve["profit"])
    assert ax.lines[1].get_xdata()[0] == best.fraction
    assert ax.lines[1].get_ydata()[0] == best.profit


def test_bad_results():
    with pytest.raises(ValueError, match="evaluate"):
        plot_roc({})


def test_lift_scale_is_set_by_the_perfect_lift_not_the_first_customers(results):
    _, res = results
    ax = plot_lift(res)
    rate = res["model"]["churn_rate"]
    assert ax.get_ylim() == pytest.approx((0.0, round(1.1 / rate, 2)))
    perfect = next(line for line in ax.lines if line.get_label() == "perfect")
    x, y = perfect.get_xdata(), perfect.get_ydata()
    # lift 1 / rate until every churner is reached, then 1 / share, ending at 1
    assert y[0] == pytest.approx(1 / rate) and y[1] == pytest.approx(1 / rate)
    assert x[1] == pytest.approx(rate) and y[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(y[1:], 1 / x[1:])


def test_best_points_take_the_colour_of_their_curve_and_the_currency(results):
    y, _ = results
    rng = np.random.default_rng(1)
    scores = {"a": y + rng.normal(0, 1, len(y)), "b": y + rng.normal(0, 2, len(y))}
    curves = {k: profit_curve(y, s) for k, s in scores.items()}
    best = {k: mpc(y, s) for k, s in scores.items()}
    ax = plot_profit_curve(curves, best={"b": best["b"]}, currency="EUR")
    lines = {line.get_label(): line for line in ax.lines}
    (marker,) = [line for label, line in lines.items() if label.startswith("best")]
    assert marker.get_color() == lines["b"].get_color() != lines["a"].get_color()
    assert marker.get_label() == (
        f"best: contact {best['b'].fraction:.0%}, EUR {best['b'].profit:,.0f}"
    )
    # the marker's legend entry follows its curve's
    labels = ax.get_legend_handles_labels()[1]
    assert labels.index(marker.get_label()) == labels.index("b") + 1
    assert ax.get_ylabel() == "Campaign profit (EUR)"
    ax.figure.draw_without_rendering()
    # thousands separators on the money axis, per cent on the share axis
    assert ax.yaxis.get_major_formatter()(12345.0, 0) == "12,345"
    assert ax.xaxis.get_major_formatter()(0.25, 0) == "25%"
    with pytest.raises(ValueError, match="not curves"):
        plot_profit_curve(curves, best={"c": best["a"]})


def test_permutation_importance_names_features_in_words():
    table = pd.DataFrame(
        {"importance_mean": [0.3, 0.1, 0.05], "importance_std": [0.02, 0.01, 0.01]},
        index=pd.Index(["trend_90d", "expected_purchases", "region"], name="feature"),
    )
    ax = plot_permutation_importance(table, time_unit="W")
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Purchase trend, last 90 days vs the 90 before",
        "Expected purchases (BG/NBD)",
        "region",
    ]
    assert ax.get_ylabel() == "Feature"


def test_every_churn_feature_has_a_name_in_words():
    from churnlab.churn import make_churn_dataset
    from churnlab.churn.features import feature_label

    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 3, 3],
            "date": pd.to_datetime(
                ["2024-01-01", "2024-02-01", "2024-03-20", "2024-01-08", "2024-01-15", "2024-04-02"]
            ),
            "amount": [10.0, 20.0, 15.0, 7.0, 5.0, 9.0],
            "quantity": [1, 2, 1, 1, 3, 1],
        }
    )
    X, _ = make_churn_dataset(
        tx, "2024-03-31", "2W", quantity_col="quantity", bgnbd=False, data_end="2024-04-30"
    )
    names = [*X.columns, "p_alive", "expected_purchases"]
    labels = {name: feature_label(name, "W") for name in names}
    unnamed = [name for name, label in labels.items() if label == name]
    assert not unnamed, f"features without a label for charts: {unnamed}"
    assert labels["recency"] == "Time from first to last purchase (weeks)"
    assert labels["purchases_180d"] == "Purchases in the last 180 days"
