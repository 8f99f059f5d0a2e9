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
