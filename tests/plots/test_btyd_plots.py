"""Plots of the purchase-model diagnostics (churnlab/plots/btyd.py).

Each plot returns its Axes, draws into a given Axes without making a figure, and draws exactly
the numbers of the result it was given (read back from the artists).
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from churnlab import BetaGeo, calibration_holdout_split
from churnlab.clv import retention_priorities, value_deciles
from churnlab.datasets import load_cdnow, load_cdnow_summary
from churnlab.diagnostics import (
    calibration_holdout_table,
    frequency_recency_matrix,
    holdout_validation,
    period_transactions,
    probability_alive_matrix,
    tracking,
)
from churnlab.models import CDNOW_BGNBD_PUBLISHED
from churnlab.plots.btyd import (
    plot_calibration_holdout,
    plot_clv_distribution,
    plot_frequency_recency_matrix,
    plot_period_transactions,
    plot_probability_alive_matrix,
    plot_retention_priorities,
    plot_tracking,
)


@pytest.fixture(scope="module")
def model():
    fitted = BetaGeo()
    fitted.params_ = pd.Series(CDNOW_BGNBD_PUBLISHED)[["r", "alpha", "a", "b"]]
    return fitted


@pytest.fixture(scope="module")
def results(model):
    rfm = load_cdnow_summary()
    tx = load_cdnow("sample")
    split = calibration_holdout_split(tx, "1997-09-30", "1998-06-30")
    clv = pd.Series(np.linspace(0.0, 99.0, 100) ** 2)
    return {
        "period": period_transactions(model, rfm),
        "expected": frequency_recency_matrix(model, T=39, t=13, max_frequency=8, recency_step=3),
        "alive": probability_alive_matrix(model, T=39, max_frequency=8, recency_step=3),
        "holdout": holdout_validation(model, split),
        "holdout_table": calibration_holdout_table(model, split),
        "tracking": tracking(model, tx, "1998-06-30", calibration_end="1997-09-30"),
        "deciles": value_deciles(clv),
        "priorities": retention_priorities(
            model, rfm, (20.0 * model.conditional_expected_purchases(52, rfm)).rename("clv")
        ),
    }


CASES = [
    (plot_period_transactions, "period"),
    (plot_frequency_recency_matrix, "expected"),
    (plot_probability_alive_matrix, "alive"),
    (plot_calibration_holdout, "holdout"),
    (plot_calibration_holdout, "holdout_table"),
    (plot_tracking, "tracking"),
    (plot_clv_distribution, "deciles"),
    (plot_retention_priorities, "priorities"),
]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize(("plot", "key"), CASES)
def test_returns_axes_on_a_new_figure(plot, key, results):
    before = plt.get_fignums()
    ax = plot(results[key])
    assert isinstance(ax, Axes)
    assert len(plt.get_fignums()) == len(before) + 1
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


@pytest.mark.parametrize(("plot", "key"), CASES)
def test_draws_into_the_given_axes(plot, key, results):
    fig, (left, right) = plt.subplots(1, 2)
    before = plt.get_fignums()
    ax = plot(results[key], ax=right)
    assert ax is right
    assert plt.get_fignums() == before  # no new figure
    assert not left.has_data()


def test_period_transactions_bars_are_the_counts(results):
    table = results["period"].table
    ax = plot_period_transactions(results["period"])
    heights = [patch.get_height() for patch in ax.patches]
    n = len(table)
    np.testing.assert_allclose(heights[:n], table["actual"])
    np.testing.assert_allclose(heights[n:], table["expected"])
    assert [t.get_text() for t in ax.get_xticklabels()] == table.index.tolist()


@pytest.mark.parametrize(
    ("plot", "key"),
    [(plot_frequency_recency_matrix, "expected"), (plot_probability_alive_matrix, "alive")],
)
def test_heat_maps_show_the_grid(plot, key, results):
    grid = results[key]
    ax = plot(grid)
    mesh = ax.collections[0]
    drawn = mesh.get_array()
    np.testing.assert_allclose(
        drawn.filled(np.nan).reshape(grid.shape), grid.to_numpy(), equal_nan=True
    )
    assert drawn.mask.reshape(grid.shape)[1:, 0].all()  # frequency 0, recency > 0: no customer
    # cells are centred on the grid values: frequency 0..8, recency 0, 3, ..., 39
    corners = mesh.get_coordinates()
    np.testing.assert_allclose(corners[0, :, 0], np.arange(-0.5, 9.0))
    np.testing.assert_allclose(corners[:, 0, 1], np.arange(-1.5, 41.0, 3.0))


def test_probability_alive_colour_scale_is_zero_to_one(results):
    mesh = plot_probability_alive_matrix(results["alive"]).collections[0]
    assert mesh.get_clim() == (0.0, 1.0)


def test_heat_map_labels_name_the_time_unit(model):
    grid = frequency_recency_matrix(model, T=39, t=52, max_frequency=3, time_unit="W")
    ax = plot_frequency_recency_matrix(grid)
    title = "Expected purchases in the next 52 weeks (customers first seen 39 weeks ago)"
    assert ax.get_title() == title
    assert ax.get_ylabel() == "Recency: time of last purchase\n(weeks after the first)"


@pytest.mark.parametrize("which", ["expected", "alive"])
def test_heat_maps_are_colour_blind_safe_and_one_image_in_vector_files(results, which):
    plot = plot_frequency_recency_matrix if which == "expected" else plot_probability_alive_matrix
    mesh = plot(results[which]).collections[0]
    # sequential maps of even lightness (viridis family), not a red-green diverging map
    assert mesh.get_cmap().name in {"viridis", "cividis"}
    # one raster image in PDF and SVG: no white seams between hundreds of cell polygons
    assert mesh.get_rasterized()


def test_calibration_holdout_lines_are_the_bucket_means(results):
    table = results["holdout"].table
    ax = plot_calibration_holdout(results["holdout"])
    actual, model = ax.get_lines()
    np.testing.assert_allclose(actual.get_ydata(), table["actual_mean"])
    np.testing.assert_allclose(model.get_ydata(), table["predicted_mean"])
    assert [t.get_text() for t in ax.get_xticklabels()] == table.index.tolist()


@pytest.mark.parametrize("cumulative", [True, False])
def test_tracking_lines_are_the_table(results, cumulative):
    result = results["tracking"]
    ax = plot_tracking(result, cumulative=cumulative)
    actual, model, calibration = ax.get_lines()
    suffix = "_cumulative" if cumulative else ""
    np.testing.assert_allclose(actual.get_xdata(), result.table.index)
    np.testing.assert_allclose(actual.get_ydata(), result.table["actual" + suffix])
    np.testing.assert_allclose(model.get_ydata(), result.table["expected" + suffix])
    assert calibration.get_xdata()[0] == 39.0  # the end of the calibration period
    assert ax.get_xlabel() == "Weeks since 1997-01-01"


def test_clv_distribution_bars_are_the_shares(results):
    deciles = results["deciles"]
    ax = plot_clv_distribution(deciles)
    np.testing.assert_allclose([p.get_height() for p in ax.patches], deciles["value_share"])
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), deciles["value_share_cumulative"])
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "0-10%" and labels[-1] == "90-100%"


def test_retention_priorities_highlights_the_first_rows(results):
    priorities = results["priorities"]
    ax = plot_retention_priorities(priorities, top=15)
    rest, first = ax.collections
    np.testing.assert_allclose(
        first.get_offsets(), priorities[["p_alive", "clv_if_alive"]].iloc[:15].to_numpy()
    )
    np.testing.assert_allclose(
        rest.get_offsets(), priorities[["p_alive", "clv_if_alive"]].iloc[15:].to_numpy()
    )
    assert first.get_label() == "Top 15 by value slipping away"
    with pytest.raises(ValueError, match="top"):
        plot_retention_priorities(priorities, top=0)
