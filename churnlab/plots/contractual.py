"""Figures of contractual retention: survival and retention curves, Kaplan-Meier vs sBG.

Each function draws a result computed by :mod:`churnlab.contractual` and computes nothing new:
``plot_x(result, *, ax=None) -> Axes``; a figure is created only when ``ax`` is None.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator, PercentFormatter

from churnlab.contractual import KaplanMeier, SurvivalProjection
from churnlab.contractual.cohorts import PERIODS
from churnlab.plots.style import PALETTE, axes_or_new


def _unit(time_unit: str | None) -> str:
    return PERIODS.get(time_unit or "", "periods")


def _percent_axes(ax: Axes, time_unit: str | None, ylabel: str) -> None:
    ax.set_xlabel(f"Time since acquisition ({_unit(time_unit)})")
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _mark_holdout(ax: Axes, projection: SurvivalProjection) -> None:
    """Shade the periods after the calibration window and label the boundary."""
    last = projection.table.index[-1]
    end = projection.calibration_periods
    if last > end:
        ax.axvspan(end, last, color="0.92", zorder=0, label="after the fitting window")
        ax.axvline(end, color="0.5", linestyle="--", linewidth=1)


def plot_survival_projection(projection: SurvivalProjection, *, ax: Axes | None = None) -> Axes:
    """Share of the cohort still a customer: observed vs the sBG projection.

    Parameters
    ----------
    projection : SurvivalProjection
        From :meth:`churnlab.contractual.ShiftedBetaGeometric.project`.
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from churnlab.contractual import ShiftedBetaGeometric
    >>> from churnlab.datasets import load_retention_cohorts
    >>> regular = load_retention_cohorts("customers").loc["regular"]
    >>> projection = ShiftedBetaGeometric().fit(regular.loc[:7]).project(regular)
    >>> ax = plot_survival_projection(projection)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Time since acquisition (years)', 'Customers still active (% of cohort)')
    >>> plt.close("all")
    """
    ax = axes_or_new(ax)
    table = projection.table
    _mark_holdout(ax, projection)
    ax.plot(table.index, 100 * table["expected_survival"], color=PALETTE[0], label="sBG model")
    observed = table["actual_survival"].dropna()
    ax.plot(
        observed.index,
        100 * observed,
        linestyle="none",
        marker="o",
        color=PALETTE[1],
        label="Observed",
    )
    _percent_axes(ax, projection.time_unit, "Customers still active (% of cohort)")
    ax.set_ylim(0, 105)
    ax.set_title("Survival: observed vs sBG projection")
    ax.legend()
    return ax


def plot_retention_rates(projection: SurvivalProjection, *, ax: Axes | None = None) -> Axes:
    """Period-on-period retention rate ``S(t) / S(t-1)``: observed vs the sBG model.

    Parameters
    ----------
    projection : SurvivalProjection
        From :meth:`churnlab.contractual.ShiftedBetaGeometric.project`.
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from churnlab.contractual import ShiftedBetaGeometric
    >>> from churnlab.datasets import load_retention_cohorts
    >>> regular = load_retention_cohorts("customers").loc["regular"]
    >>> projection = ShiftedBetaGeometric().fit(regular.loc[:7]).project(regular)
    >>> plot_retention_rates(projection).get_title()
    'Retention rate by year since acquisition'
    >>> plt.close("all")
    """
    ax = axes_or_new(ax)
    table = projection.table.iloc[1:]
    _mark_holdout(ax, projection)
    ax.plot(table.index, 100 * table["expected_retention"], color=PALETTE[0], label="sBG model")
    observed = table["actual_retention"].dropna()
    ax.plot(
        observed.index,
        100 * observed,
        linestyle="none",
        marker="o",
        color=PALETTE[1],
        label="Observed",
    )
    _percent_axes(ax, projection.time_unit, "Retention rate (% renewing)")
    singular = _unit(projection.time_unit).removesuffix("s")
    ax.set_title(f"Retention rate by {singular} since acquisition")
    ax.legend()
    return ax


def plot_kaplan_meier(
    km: KaplanMeier, *, model_survival: pd.Series | None = None, ax: Axes | None = None
) -> Axes:
    """Kaplan-Meier survival with its interval, beside the sBG survival curve if given.

    Parameters
    ----------
    km : KaplanMeier
        From :func:`churnlab.contractual.kaplan_meier`.
    model_survival : Series, optional
        The model's survival by period, e.g.
        ``ShiftedBetaGeometric.survival_function(range(13))`` (a share, 0-1).
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from churnlab.contractual import ShiftedBetaGeometric, kaplan_meier
    >>> from churnlab.datasets import load_retention_cohorts
    >>> regular = load_retention_cohorts("customers").loc["regular", :7]
    >>> model = ShiftedBetaGeometric().fit(regular)
    >>> curve = model.survival_function(range(13))
    >>> ax = plot_kaplan_meier(kaplan_meier(regular), model_survival=curve)
    >>> ax.get_title()
    'Kaplan-Meier survival vs sBG projection'
    >>> plt.close("all")
    """
    ax = axes_or_new(ax)
    table = km.table
    periods = table.index.to_numpy()
    ax.fill_between(
        periods,
        100 * table["ci_lower"],
        100 * table["ci_upper"],
        step="post",
        color=PALETTE[1],
        alpha=0.25,
        linewidth=0,
        label=f"{km.level:.0%} interval",
    )
    ax.step(periods, 100 * table["survival"], where="post", color=PALETTE[1], label="Kaplan-Meier")
    title = "Kaplan-Meier survival"
    if model_survival is not None:
        ax.plot(
            model_survival.index,
            100 * model_survival.to_numpy(),
            color=PALETTE[0],
            marker=".",
            label="sBG model",
        )
        title += " vs sBG projection"
    _percent_axes(ax, km.time_unit, "Customers still active (% of cohort)")
    ax.set_ylim(0, 105)
    ax.set_title(title)
    ax.legend()
    return ax
