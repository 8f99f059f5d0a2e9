"""Plots of a model comparison (churnlab/plots/compare.py): they draw the comparison's numbers."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

from churnlab import BetaGeo, ParetoNBD, calibration_holdout_split, compare_models
from churnlab.datasets import load_cdnow
from churnlab.plots.compare import plot_holdout_by_frequency, plot_tracking_comparison


@pytest.fixture(scope="module")
def result():
    tx = load_cdnow("sample")
    split = calibration_holdout_split(tx, "1997-09-30", "1998-06-30")
    return compare_models({"BG/NBD": BetaGeo(), "Pareto/NBD": ParetoNBD()}, split, tx)


@pytest.mark.parametrize("cumulative", [True, False])
def test_tracking_comparison_draws_every_curve(result, cumulative):
    fig, ax = plt.subplots()
    out = plot_tracking_comparison(result, cumulative=cumulative, ax=ax)
    assert out is ax and isinstance(out, Axes)
    suffix = "_cumulative" if cumulative else ""
    lines = {line.get_label(): line for line in ax.get_lines()}
    table = result.tracking["BG/NBD"].table
    np.testing.assert_array_equal(lines["Actual"].get_ydata(), table["actual" + suffix])
    for name, track in result.tracking.items():
        np.testing.assert_array_equal(lines[name].get_ydata(), track.table["expected" + suffix])
    # the end of calibration: 1997-01-01 to 1997-09-30 is 273 days
    assert ax.lines[-1].get_xdata()[0] == pytest.approx(273 / 7)
    plt.close(fig)


def test_holdout_by_frequency_draws_the_bucket_means(result):
    ax = plot_holdout_by_frequency(result)
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(
        lines["Actual"].get_ydata(), result.holdout["BG/NBD"].table["actual_mean"]
    )
    np.testing.assert_array_equal(
        lines["Pareto/NBD"].get_ydata(), result.holdout["Pareto/NBD"].table["predicted_mean"]
    )
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "7+"
    plt.close("all")


def test_tracking_comparison_needs_the_transactions(result):
    split = calibration_holdout_split(load_cdnow("sample"), "1997-09-30", "1998-06-30")
    with pytest.raises(ValueError, match="no tracking"):
        plot_tracking_comparison(compare_models([BetaGeo()], split))
