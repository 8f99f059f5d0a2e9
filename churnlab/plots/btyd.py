"""Figures of the purchase-model diagnostics and of lifetime value.

Each function draws a result computed by :mod:`churnlab.diagnostics` or :mod:`churnlab.clv`
and computes nothing new: ``plot_x(result, *, ax=None) -> Axes``; a figure is created only
when ``ax`` is None.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from churnlab._validation import check_number
from churnlab.diagnostics import HoldoutValidation, PeriodTransactions, Tracking
from churnlab.plots.style import PALETTE, axes_or_new

_UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months"}
_THOUSANDS = FuncFormatter(lambda v, _: f"{v:,.0f}")


def plot_period_transactions(result: PeriodTransactions, *, ax: Axes | None = None) -> Axes:
    """Bars of customers by repeat transactions in the calibration period, actual vs model.

    Parameters
    ----------
    result : PeriodTransactions
        From :func:`churnlab.diagnostics.period_transactions`.
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from churnlab import BetaGeo
    >>> from churnlab.datasets import load_cdnow_summary
    >>> from churnlab.diagnostics import period_transactions
    >>> rfm = load_cdnow_summary()
    >>> ax = plot_period_transactions(period_transactions(BetaGeo().fit(rfm), rfm))
    >>> ax.get_xlabel()
    'Repeat transactions in the calibration period'
    >>> plt.close("all")
    """
    ax = axes_or_new(ax)
    table = result.table
    position = np.arange(len(table))
    width = 0.4
    ax.bar(position - width / 2, table["actual"], width, label="Actual", color=PALETTE[0])
    ax.bar(position + width / 2, table["expected"], width, label="Model", color=PALETTE[1])
    ax.set_xticks(position)
    ax.set_xticklabels(table.index.tolist())
    ax.set_xlabel("Repeat transactions in the calibration period")
    ax.set_ylabel("Customers")
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.set_title("Customers by repeat transactions: actual vs model")
    ax.legend()
    ax.grid(axis="x", visible=False)
    return ax


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges half-way between grid values (the outer cells mirror their neighbour)."""
    if len(centres) == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    mid = (centres[1:] + centres[:-1]) / 2
    return np.r_[centres[0] - (mid[0] - centres[0]), mid, centres[-1] + (centres[-1] - mid[-1])]


def _unit(matrix: pd.DataFrame) -> str:
    return _UNIT_NAMES.get(matrix.attrs.get("time_unit"), "periods")


def _age(matrix: pd.DataFrame) -> str:
    """`` (customers first seen 39 weeks ago)`` from the grid's ``T``, or nothing."""
    T = matrix.attrs.get("T")
    return "" if T is None else f" (customers first seen {T:g} {_unit(matrix)} ago)"


def _plot_grid(
    matrix: pd.DataFrame, ax: Axes | None, label: str, title: str, formatter=None, **kwargs
) -> Axes:
    ax = axes_or_new(ax)
    frequency = matrix.columns.to_numpy(float)
    recency = matrix.index.to_numpy(float)
    values = np.ma.masked_invalid(matrix.to_numpy(float))
    # rasterized: in PDF and SVG the cells are one image, not hundreds of abutting polygons
    # that viewers anti-alias into white seams
    mesh = ax.pcolormesh(
        _edges(frequency), _edges(recency), values, shading="flat", rasterized=True, **kwargs
    )
    bar = ax.figure.colorbar(mesh, ax=ax, label=label)
    if formatter is not None:
        bar.ax.yaxis.set_major_formatter(formatter)
    ax.set_xlabel("Frequency (repeat purchases)")
    ax.set_ylabel(f"Recency: time of last purchase\n({_unit(matrix)} after the first)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.grid(False)
    return ax


def plot_frequency_recency_matrix(matrix: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Heat map of expected purchases by frequency and recency.

    Parameters
    ----------
    matrix : DataFrame
        From :func:`churnlab.diagnostics.frequency_recency_matrix` (rows recency, columns
        frequency; ``attrs`` give ``t`` and ``T``).
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from churnlab import BetaGeo
    >>> from churnlab.datasets import load_cdnow_summary
    >>> from churnlab.diagnostics import frequency_recency_matrix
    >>> model = BetaGeo().fit(load_cdnow_summary())
    >>> ax = plot_frequency_recency_matrix(frequency_recency_matrix(model, T=39, t=39))
    >>> ax.get_title()
    'Expected purchases in the next 39 periods (customers first seen 39 periods ago)'
    >>> grid = frequency_recency_matrix(model, T=39, t=52, time_unit="W")
    >>> plot_frequency_recency_matrix(grid).get_title()
    'Expected purchases in the next 52 weeks (customers first seen 39 weeks ago)'
    >>> plt.close("all")
    """
    t, unit = matrix.attrs.get("t"), _unit(matrix)
    title = "Expected purchases"
    if t is not None:
        title += f" in the next {t:g} {unit}"
    label = "Expected purchases per customer"
    return _plot_grid(matrix, ax, label, title + _age(matrix), cmap="viridis")


def plot_probability_alive_matrix(matrix: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Heat map of the probability that a customer is still active, by frequency and recency.

    Parameters
    ----------
    matrix : DataFrame
        From :func:`churnlab.diagnostics.probability_alive_matrix`.
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from churnlab import BetaGeo
    >>> from churnlab.datasets import load_cdnow_summary
    >>> from churnlab.diagnostics import probability_alive_matrix
    >>> model = BetaGeo().fit(load_cdnow_summary())
    >>> ax = plot_probability_alive_matrix(probability_alive_matrix(model, T=39))
    >>> ax.get_title()
    'Probability still active (customers first seen 39 periods ago)'
    >>> plt.close("all")
    """
    title = "Probability still active" + _age(matrix)
    return _plot_grid(
        matrix,
        ax,
        "Probability still active (P(alive))",
        title,
        formatter=PercentFormatter(1.0, decimals=0),
        cmap="cividis",
        vmin=0.0,
        vmax=1.0,
    )


def plot_calibration_holdout(
    result: HoldoutValidation | pd.DataFrame, *, ax: Axes | None = None
) -> Axes:
    """Mean repeat transactions in the holdout by calibration frequency, actual vs model.

    Parameters
    ----------
    result : HoldoutValidation or DataFrame
        From :func:`churnlab.diagnostics.holdout_validation` or
        :func:`churnlab.diagnostics.calibration_holdout_table`.
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from churnlab import BetaGeo, calibration_holdout_split
    >>> from churnlab.datasets import load_cdnow
    >>> from churnlab.diagnostics import holdout_validation
    >>> split = calibration_holdout_split(load_cdnow("sample"), "1997-09-30", "1998-06-30")
    >>> model = BetaGeo().fit(split["frequency_cal"], split["recency_cal"], split["T_cal"])
    >>> ax = plot_calibration_holdout(holdout_validation(model, split))
    >>> [line.get_label() for line in ax.get_lines()]
    ['Actual', 'Model']
    >>> plt.close("all")
    """
    ax = axes_or_new(ax)
    table = result.table if isinstance(result, HoldoutValidation) else result
    position = np.arange(len(table))
    ax.plot(position, table["actual_mean"], marker="o", label="Actual", color=PALETTE[0])
    ax.plot(
        position,
        table["predicted_mean"],
        marker="s",
        linestyle="--",
        label="Model",
        color=PALETTE[1],
    )
    ax.set_xticks(position)
    ax.set_xticklabels(table.index.tolist())
    ax.set_xlabel("Repeat transactions in the calibration period")
    ax.set_ylabel("Repeat transactions per customer\nin the holdout (mean)")
    ax.set_title("Holdout purchases by calibration frequency: actual vs model")
    ax.legend()
    return ax


def plot_tracking(result: Tracking, *, cumulative: bool = True, ax: Axes | None = None) -> Axes:
    """Repeat transactions over calendar time, actual vs model (FHL 2005, figures 2 and 3).

    Parameters
    ----------
    result : Tracking
        From :func:`churnlab.diagnostics.tracking`.
    cumulative : bool
        Running totals (True) or transactions per period (False).
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from churnlab import BetaGeo, calibration_holdout_split
    >>> from churnlab.datasets import load_cdnow
    >>> from churnlab.diagnostics import tracking
    >>> tx = load_cdnow("sample")
    >>> split = calibration_holdout_split(tx, "1997-09-30", "1998-06-30")
    >>> model = BetaGeo().fit(split["frequency_cal"], split["recency_cal"], split["T_cal"])
    >>> ax = plot_tracking(tracking(model, tx, "1998-06-30", calibration_end="1997-09-30"))
    >>> ax.get_ylabel()
    'Cumulative repeat transactions'
    >>> plt.close("all")
    """
    ax = axes_or_new(ax)
    table = result.table
    suffix = "_cumulative" if cumulative else ""
    period = table.index.to_numpy()
    ax.plot(period, table["actual" + suffix], label="Actual", color=PALETTE[0])
    ax.plot(period, table["expected" + suffix], label="Model", color=PALETTE[1], linestyle="--")
    if result.calibration_periods is not None:
        ax.axvline(result.calibration_periods, color="0.4", linestyle=":", linewidth=1.5)
        ax.annotate(
            "end of calibration",
            xy=(result.calibration_periods, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -4),
            textcoords="offset points",
            ha="left",
            va="top",
            color="0.3",
        )
    unit = _UNIT_NAMES.get(result.time_unit, result.time_unit)
    ax.set_xlabel(f"{unit.capitalize()} since {table['start'].iloc[0]:%Y-%m-%d}")
    period = unit[:-1] if unit.endswith("s") else unit
    what = "Cumulative repeat transactions" if cumulative else f"Repeat transactions per {period}"
    ax.set_ylabel(what)
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.set_title(f"{what}: actual vs model")
    ax.legend(loc="upper left" if cumulative else "upper right")
    return ax


def plot_clv_distribution(deciles: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Share of total lifetime value held by each group of customers, most valuable first.

    Parameters
    ----------
    deciles : DataFrame
        From :func:`churnlab.clv.value_deciles`.
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from churnlab.clv import value_deciles
    >>> values = pd.Series(np.arange(1.0, 101.0))
    >>> ax = plot_clv_distribution(value_deciles(values))
    >>> len(ax.patches)
    10
    >>> plt.close("all")
    """
    ax = axes_or_new(ax)
    groups = deciles.index.to_numpy()
    n_groups = len(groups)
    bars = ax.bar(groups, deciles["value_share"], color=PALETTE[0], label="Share of value")
    ax.plot(
        groups,
        deciles["value_share_cumulative"],
        marker="o",
        color=PALETTE[1],
        label="Cumulative share",
    )
    ax.bar_label(bars, labels=[f"{v:.0%}" for v in deciles["value_share"]], padding=2)
    ax.set_xticks(groups)
    ax.set_xticklabels([f"{100 * (g - 1) // n_groups}-{100 * g // n_groups}%" for g in groups])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("Customers ranked by lifetime value, in tenths (most valuable first)")
    ax.set_ylabel("Share of total lifetime value")
    ax.set_title("Who holds the lifetime value")
    ax.legend(loc="center right")
    return ax


def plot_retention_priorities(
    priorities: pd.DataFrame,
    *,
    top: int = 20,
    currency: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Customers by P(alive) and value if alive, the first ``top`` priorities highlighted.

    Parameters
    ----------
    priorities : DataFrame
        From :func:`churnlab.clv.retention_priorities` (sorted, highest priority
        first).
    top : int
        Number of leading rows to highlight.
    currency : str, optional
        Currency of the values (e.g. ``"USD"``), named on the value axis.
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from churnlab import BetaGeo
    >>> from churnlab.datasets import load_cdnow_summary
    >>> from churnlab.clv import retention_priorities
    >>> rfm = load_cdnow_summary()
    >>> model = BetaGeo().fit(rfm)
    >>> value = (30.0 * model.conditional_expected_purchases(52, rfm)).rename("clv")
    >>> ax = plot_retention_priorities(retention_priorities(model, rfm, value), top=10)
    >>> [c.get_label() for c in ax.collections]
    ['Other customers', 'Top 10 by value slipping away']
    >>> plt.close("all")
    """
    top = check_number(top, "top", low=1, integer=True)
    ax = axes_or_new(ax)
    first, rest = priorities.iloc[:top], priorities.iloc[top:]
    ax.scatter(
        rest["p_alive"],
        rest["clv_if_alive"],
        s=12,
        color="0.6",
        alpha=0.5,
        label="Other customers",
    )
    ax.scatter(
        first["p_alive"],
        first["clv_if_alive"],
        s=60,
        color=PALETTE[3],
        edgecolor="white",
        label=f"Top {len(first)} by value slipping away",
    )
    ax.set_xlim(-0.02, 1.02)
    ax.set_yscale("log")
    # plain numbers with thousands separators, not powers of ten
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("Probability still active today")
    unit = f"{currency}, log scale" if currency else "log scale"
    ax.set_ylabel(f"Lifetime value if still active ({unit})")
    ax.set_title("Whom to protect first: value that slips away if they go quiet")
    ax.legend(loc="upper center")
    return ax
