"""Plots of contractual retention (churnlab/plots/contractual.py).

Each plot returns its Axes, draws into a given Axes without making a figure, and draws exactly
the numbers of the result it was given (read back from the artists).
"""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from churnlab.contractual import ShiftedBetaGeometric, kaplan_meier
from churnlab.datasets import load_retention_cohorts
from churnlab.plots.contractual import (
    plot_kaplan_meier,
    plot_retention_rates,
    plot_survival_projection,
)


@pytest.fixture(scope="module")
def regular():
    return load_retention_cohorts("customers").loc["regular"]


@pytest.fixture(scope="module")
def projection(regular):
    return ShiftedBetaGeometric().fit(regular.loc[:7]).project(regular)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def line(ax, label):
    (found,) = [artist for artist in ax.get_lines() if artist.get_label() == label]
    return found


def test_survival_projection_draws_the_table(projection):
    fig, ax = plt.subplots()
    assert plot_survival_projection(projection, ax=ax) is ax
    assert len(fig.axes) == 1
    table = projection.table
    np.testing.assert_allclose(line(ax, "sBG model").get_ydata(), 100 * table["expected_survival"])
    np.testing.assert_allclose(line(ax, "Observed").get_ydata(), 100 * table["actual_survival"])
    assert ax.get_xlabel() == "Time since acquisition (years)"
    assert ax.get_ylabel() == "Customers still active (% of cohort)"
    assert ax.get_title() == "Survival: observed vs sBG projection"
    # the boundary of the fitting window
    assert [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() == "--"] == [7]


def test_retention_rates_draw_the_table(projection):
    ax = plot_retention_rates(projection)
    table = projection.table.iloc[1:]
    np.testing.assert_allclose(line(ax, "sBG model").get_ydata(), 100 * table["expected_retention"])
    np.testing.assert_allclose(line(ax, "Observed").get_xdata(), np.arange(1, 13))
    assert ax.get_ylabel() == "Retention rate (% renewing)"
    assert ax.get_title() == "Retention rate by year since acquisition"


def test_kaplan_meier_with_and_without_the_model(regular):
    km = kaplan_meier(regular.loc[:7])
    ax = plot_kaplan_meier(km)
    assert ax.get_title() == "Kaplan-Meier survival"
    np.testing.assert_allclose(line(ax, "Kaplan-Meier").get_ydata(), 100 * km.survival)
    model = ShiftedBetaGeometric().fit(regular.loc[:7])
    fig, ax = plt.subplots()
    out = plot_kaplan_meier(km, model_survival=model.survival_function(range(13)), ax=ax)
    assert out is ax
    assert ax.get_title() == "Kaplan-Meier survival vs sBG projection"
    np.testing.assert_allclose(
        line(ax, "sBG model").get_ydata(), 100 * model.survival_function(range(13))
    )
    assert "95% interval" in [t.get_text() for t in ax.get_legend().get_texts()]
