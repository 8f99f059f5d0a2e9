"""Figures of NPS, loyalty, concentration, complaints and the programme evaluation.

Each function draws a result computed by :mod:`churnlab.loyalty` / :mod:`churnlab.economics`
and computes nothing new: ``plot_x(result, *, ax=None) -> Axes``; a figure is created only when
``ax`` is None.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter

from churnlab.economics import ProgrammeEvaluation
from churnlab.loyalty import (
    LOYALTY_KINDS,
    ComplaintIceberg,
    Concentration,
    LoyaltyLadder,
    LoyaltyMatrix,
)
from churnlab.nps import NPS_BAND_EDGES, NPS_BAND_LABELS
from churnlab.plots.style import PALETTE, axes_or_new

__all__ = [
    "plot_complaint_iceberg",
    "plot_ladder",
    "plot_lorenz",
    "plot_loyalty_matrix",
    "plot_nps",
    "plot_nps_trend",
    "plot_programme_effect",
]

_UNIT_NAMES = {"D": "day", "W": "week", "M": "month"}
_NPS_COLUMNS = ("nps", "ci_lower", "ci_upper")


_PERIODS = {"QE": "quarter", "Q": "quarter", "ME": "month", "M": "month", "YE": "year"}
_PERIOD_LABELS = {
    "quarter": lambda end: f"Q{end.quarter}\n{end.year}",
    "month": lambda end: f"{end:%b}\n{end.year}",
    "year": lambda end: f"{end.year}",
}


def _labels(index: pd.Index) -> list[str]:
    if isinstance(index, pd.MultiIndex):
        return [" / ".join(str(v) for v in row) for row in index]
    return [str(v) for v in index]


def _index_name(index: pd.Index, default: str = "group") -> str:
    """``segment / touch point`` from the index names (underscores as spaces)."""
    names = [str(n).replace("_", " ") for n in index.names if n is not None]
    return " / ".join(names) if names else default


def _interval(table: pd.DataFrame) -> str:
    level = table.attrs.get("level")
    return f"{level:.0%} intervals" if level is not None else "intervals"


def _check_nps_table(table) -> None:
    if not isinstance(table, pd.DataFrame) or not set(_NPS_COLUMNS) <= set(table.columns):
        raise TypeError("pass the DataFrame returned by nps_by / nps_trend")


def plot_nps(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """NPS per group with its interval, against the NPS bands.

    Parameters
    ----------
    table : DataFrame
        From :func:`churnlab.loyalty.nps_by`.
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from churnlab.loyalty import nps_by
    >>> answers = pd.DataFrame({"touch_point": ["sales"] * 3 + ["support"] * 3,
    ...                         "score": [10, 9, 3, 6, 8, 9]})
    >>> ax = plot_nps(nps_by(answers, "touch_point"))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['sales', 'support']
    >>> ax.get_title()
    'NPS by touch point, with 95% intervals'
    """
    _check_nps_table(table)
    ax = axes_or_new(ax)
    y = np.arange(len(table))[::-1]
    edges = (-100.0, *NPS_BAND_EDGES, 100.0)
    shades = np.linspace(0.04, 0.20, len(NPS_BAND_LABELS))
    for i, (lo, hi, label, alpha) in enumerate(
        zip(edges[:-1], edges[1:], NPS_BAND_LABELS, shades, strict=True)
    ):
        ax.axvspan(lo, hi, color=PALETTE[0], alpha=alpha, lw=0)
        # labels alternate between two heights so that narrow bands do not overlap
        ax.text(
            (lo + hi) / 2,
            1.01 + 0.045 * (i % 2),
            label,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=10,
        )
    err = np.vstack([table["nps"] - table["ci_lower"], table["ci_upper"] - table["nps"]])
    ax.errorbar(
        table["nps"], y, xerr=err, fmt="o", color=PALETTE[3], capsize=4, label="NPS with interval"
    )
    for yi, score, n in zip(y, table["nps"], table["n"], strict=True):
        ax.annotate(
            f"{score:+.0f} (n = {n:,})",
            (score, yi),
            xytext=(0, 7),
            textcoords="offset points",
            ha="center",
            fontsize=10,
        )
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(y)
    ax.set_yticklabels(_labels(table.index))
    ax.set_xlim(-100, 100)
    ax.set_ylim(-0.7, len(table) - 0.3)
    ax.set_xlabel("Net Promoter Score (% promoters - % detractors)")
    name = _index_name(table.index)
    ax.set_ylabel(name.capitalize())
    ax.set_title(f"NPS by {name}, with {_interval(table)}", pad=34)
    ax.grid(axis="y", visible=False)
    return ax


def plot_nps_trend(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """NPS per period (one line per group when the table has one), with interval bands.

    Parameters
    ----------
    table : DataFrame
        From :func:`churnlab.loyalty.nps_trend`.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnlab.loyalty import nps_trend
    >>> answers = pd.DataFrame({"date": ["2024-01-10", "2024-04-03", "2024-07-01"],
    ...                         "score": [10, 3, 9]})
    >>> ax = plot_nps_trend(nps_trend(answers))
    >>> len(ax.lines)
    2
    >>> ax.get_xlabel(), ax.get_title()
    ('Quarter', 'NPS by quarter, with 95% intervals (shaded)')
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['Q1\\n2024', 'Q2\\n2024', 'Q3\\n2024']
    """
    _check_nps_table(table)
    ax = axes_or_new(ax)
    if isinstance(table.index, pd.MultiIndex):
        groups = table.groupby(level=list(range(1, table.index.nlevels)), sort=True)
        parts = [
            (
                " / ".join(map(str, np.atleast_1d(k))),
                g.droplevel(list(range(1, table.index.nlevels))),
            )
            for k, g in groups
        ]
    else:
        parts = [("NPS", table)]
    for i, (label, part) in enumerate(parts):
        colour = PALETTE[i % len(PALETTE)]
        ax.plot(part.index, part["nps"], marker="o", color=colour, label=label)
        ax.fill_between(part.index, part["ci_lower"], part["ci_upper"], color=colour, alpha=0.15)
    ax.axhline(0, color="black", lw=1)
    period = _PERIODS.get(table.attrs.get("freq"), "period")
    ends = pd.DatetimeIndex(table.index.get_level_values(0).unique()).sort_values()
    if period in _PERIOD_LABELS:
        # one tick per period, named as people name it ("Q3 2024"), not at calendar dates
        # that fall between the points
        ax.set_xticks(ends, labels=[_PERIOD_LABELS[period](end) for end in ends])
        ax.set_xlabel(period.capitalize())
    else:
        ax.set_xlabel("End of period")
    ax.set_ylabel("NPS (% promoters - % detractors)")
    ax.set_title(f"NPS by {period}, with {_interval(table)} (shaded)")
    if len(parts) > 1:
        ax.legend()
    return ax


def plot_loyalty_matrix(
    result: LoyaltyMatrix, *, repeat_unit: str | None = None, ax: Axes | None = None
) -> Axes:
    """The four kinds of loyalty as a 2 x 2 grid: customers and value share per cell.

    Parameters
    ----------
    result : LoyaltyMatrix
    repeat_unit : str, optional
        The unit of the repeat measure, e.g. ``"purchases a month"`` for
        ``customer_activity(..., time_unit="M")["purchase_rate"]``; named on the axis and
        after the cut-off.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnlab.loyalty import loyalty_matrix
    >>> m = loyalty_matrix(pd.Series({1: 10, 2: 3}), pd.Series({1: 5.0, 2: 1.0}),
    ...                    pd.Series({1: 50.0, 2: 5.0}))
    >>> ax = plot_loyalty_matrix(m, repeat_unit="purchases a month")
    >>> ax.get_xlabel()
    'Repeat purchasing (purchases a month)'
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['low: under 3 purchases a month', 'high: 3 purchases a month or more']
    """
    if not isinstance(result, LoyaltyMatrix):
        raise TypeError("pass the LoyaltyMatrix returned by loyalty_matrix")
    ax = axes_or_new(ax)
    # (column = repeat high?, row = attitude high?)
    cells = {"true": (1, 1), "latent": (0, 1), "spurious": (1, 0), "no": (0, 0)}
    names = {
        "true": "True loyalty",
        "latent": "Latent loyalty",
        "spurious": "Spurious loyalty",
        "no": "No loyalty",
    }
    colours = {"true": PALETTE[2], "latent": PALETTE[5], "spurious": PALETTE[1], "no": PALETTE[7]}
    t = result.table
    for kind in LOYALTY_KINDS:
        x, y = cells[kind]
        share = t.loc[kind, "share"]
        ax.add_patch(
            plt.Rectangle(
                (x, y), 1, 1, color=colours[kind], alpha=0.15 + 0.6 * share, lw=2, ec="white"
            )
        )
        text = f"{names[kind]}\n{t.loc[kind, 'customers']:,} customers ({share:.0%})"
        if t["value"].notna().any():
            text += f"\n{t.loc[kind, 'value_share']:.0%} of value"
        ax.text(x + 0.5, y + 0.5, text, ha="center", va="center", fontsize=12)
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    cut = f"{result.repeat_threshold:.2g}" + (f" {repeat_unit}" if repeat_unit else "")
    ax.set_xticks([0.5, 1.5])
    ax.set_xticklabels([f"low: under {cut}", f"high: {cut} or more"])
    ax.set_yticks([0.5, 1.5])
    ax.set_yticklabels(
        [
            f"low\n(under {result.attitude_threshold:g})",
            f"high\n({result.attitude_threshold:g} or more)",
        ]
    )
    ax.set_xlabel("Repeat purchasing" + (f" ({repeat_unit})" if repeat_unit else ""))
    ax.set_ylabel("Attitude (answer, 0-10)")
    ax.set_title("Loyalty matrix: attitude x repeat purchasing")
    ax.grid(False)
    return ax


def plot_ladder(result: LoyaltyLadder, *, ax: Axes | None = None) -> Axes:
    """The loyalty ladder as a funnel: share of first-time buyers reaching each stage.

    Each bar is labelled with the share reached and the stage's purchase rate.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnlab.loyalty import loyalty_ladder
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": 1.0,
    ...                    "date": ["2024-01-01", "2024-02-01", "2024-01-15"]})
    >>> ax = plot_ladder(loyalty_ladder(tx, "2024-03-01"))
    >>> len(ax.patches)
    4
    """
    if not isinstance(result, LoyaltyLadder):
        raise TypeError("pass the LoyaltyLadder returned by loyalty_ladder")
    ax = axes_or_new(ax)
    t = result.table
    y = np.arange(len(t))[::-1]
    share = t["share_of_first"].to_numpy()
    # light fills keep the black labels readable on every bar
    colours = [PALETTE[i] for i in (5, 0, 2, 3)]
    ax.barh(y, share, left=(1 - share) / 2, color=colours, alpha=0.55, height=0.7)
    unit = _UNIT_NAMES.get(result.time_unit, result.time_unit)
    for yi, (_, row) in zip(y, t.iterrows(), strict=True):
        rate = row["purchase_rate"]
        rate_text = "" if np.isnan(rate) else f"; {rate:.2f} purchases / {unit}"
        ax.text(
            0.5,
            yi,
            f"{row['share_of_first']:.0%} ({int(row['reached']):,}){rate_text}",
            ha="center",
            va="center",
            fontsize=12,
        )
    ax.set_yticks(y)
    ax.set_yticklabels(
        [f"{s}\n({m} or more purchases)" for s, m in zip(t.index, t["min_purchases"], strict=True)]
    )
    ax.set_xlim(0, 1)
    ax.set_xticks([])
    ax.set_ylabel("Stage (purchases made)")
    ax.set_title("Loyalty ladder: share of first-time buyers reaching each stage")
    ax.grid(False)
    return ax


def plot_lorenz(result: Concentration, *, ax: Axes | None = None) -> Axes:
    """Lorenz curve of value across customers, the line of equality and the top-share point.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnlab.loyalty import concentration
    >>> ax = plot_lorenz(concentration(pd.Series([1.0, 2.0, 3.0, 4.0]), key_account_threshold=0.5))
    >>> ax.get_xlabel()
    'Share of customers (smallest first)'
    """
    if not isinstance(result, Concentration):
        raise TypeError("pass the Concentration returned by concentration")
    ax = axes_or_new(ax)
    lorenz = result.lorenz
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1.5, label="Equal value per customer")
    ax.plot(
        lorenz["customer_share"],
        lorenz["value_share"],
        color=PALETTE[0],
        label=f"Lorenz curve (Gini {result.gini:.2f})",
    )
    # the top customers' share is the gap between the curve and 100% at 1 - top_fraction
    x0, y0 = 1 - result.top_fraction, 1 - result.top_share
    ax.plot([x0, x0], [0, y0], color=PALETTE[3], lw=1.2, ls=":")
    ax.plot([x0], [y0], "o", color=PALETTE[3])
    ax.annotate(
        "",
        xy=(x0, 1.0),
        xytext=(x0, y0),
        arrowprops={
            "arrowstyle": "<->",
            "color": PALETTE[3],
            "lw": 1.8,
            "shrinkA": 4,
            "shrinkB": 0,
        },
    )
    # the label sits left of the arrow and above the diagonal, where neither curve runs
    ax.annotate(
        f"top {result.top_fraction:.0%} of customers\nhold {result.top_share:.0%} of the value",
        (x0, (1.0 + x0) / 2),
        xytext=(-12, 0),
        textcoords="offset points",
        ha="right",
        va="center",
        color=PALETTE[3],
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Share of customers (smallest first)")
    ax.set_ylabel("Cumulative share of value")
    ax.set_title("Concentration of value across customers")
    ax.legend(loc="upper left")
    return ax


def plot_complaint_iceberg(result: ComplaintIceberg, *, ax: Axes | None = None) -> Axes:
    """Complainants above the waterline, silent unhappy customers below it, per group.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnlab.loyalty import complaint_iceberg
    >>> c = pd.DataFrame({"customer_id": [1, 2], "resolved": [True, False]})
    >>> ax = plot_complaint_iceberg(complaint_iceberg(c))
    >>> ax.get_ylabel()
    'Customers: complained (up)\\nand silent unhappy (down)'
    """
    if not isinstance(result, ComplaintIceberg):
        raise TypeError("pass the ComplaintIceberg returned by complaint_iceberg")
    ax = axes_or_new(ax)
    t = result.table
    x = np.arange(len(t))
    ax.bar(x, t["resolved"], color=PALETTE[2], label="Complained, resolved")
    ax.bar(
        x, t["unresolved"], bottom=t["resolved"], color=PALETTE[3], label="Complained, unresolved"
    )
    ax.bar(
        x,
        -t["silent_unhappy"],
        color=PALETTE[0],
        alpha=0.6,
        label=f"Unhappy, never complained (x{result.unhappy_per_complaint:g} rule)",
    )
    ax.axhline(0, color="black", lw=1.5)
    for xi, (_, row) in zip(x, t.iterrows(), strict=True):
        # negative_reach_if_all_resolved is what the silent alone tell (complaint_iceberg);
        # negative_reach adds the unresolved complainants
        ax.text(
            xi,
            -row["silent_unhappy"],
            f"{row['silent_unhappy']:,.0f} silent unhappy\n"
            f"tell ~{row['negative_reach_if_all_resolved']:,.0f} people",
            ha="center",
            va="top",
            fontsize=11,
        )
        ax.text(
            xi,
            row["complainants"],
            f"{int(row['complainants']):,} complained\n({int(row['unresolved']):,} unresolved)",
            ha="center",
            va="bottom",
            fontsize=11,
        )
    low = -(t["silent_unhappy"].max()) * 1.6
    ax.set_ylim(low, max(t["complainants"].max() * 3.0, -low * 0.25))
    # customers are counted up from the waterline and down from it: no negative counts
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):,.0f}"))
    ax.set_xticks(x)
    ax.set_xticklabels(_labels(t.index))
    ax.set_xlabel(_index_name(t.index, default="").capitalize() or "All complaints")
    ax.set_ylabel("Customers: complained (up)\nand silent unhappy (down)")
    ax.set_title("Complaint iceberg: complaints seen and unhappy customers below the waterline")
    ax.legend(loc="lower center", ncols=3, fontsize=11, handlelength=1.2, columnspacing=1.2)
    ax.grid(axis="x", visible=False)
    return ax


def plot_programme_effect(result: ProgrammeEvaluation, *, ax: Axes | None = None) -> Axes:
    """Naive and adjusted programme effect (rate ratio) with their bootstrap intervals.

    Examples
    --------
    >>> from churnlab.datasets import simulate_retailer
    >>> from churnlab.economics import evaluate_programme
    >>> data = simulate_retailer(1500, seed=2)
    >>> ax = plot_programme_effect(evaluate_programme(data.customers, data.transactions,
    ...                                               n_boot=100))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Adjusted\\n(matched, diff-in-diff)', 'Naive\\n(members vs non-members)']
    """
    if not isinstance(result, ProgrammeEvaluation):
        raise TypeError("pass the ProgrammeEvaluation returned by evaluate_programme")
    ax = axes_or_new(ax)
    t = result.table.loc[["adjusted_ratio", "naive_ratio"]]
    y = np.arange(len(t))
    err = np.vstack([t["estimate"] - t["ci_lower"], t["ci_upper"] - t["estimate"]])
    ax.errorbar(t["estimate"], y, xerr=err, fmt="o", capsize=6, color=PALETTE[0], ms=9)
    for yi, est in zip(y, t["estimate"], strict=True):
        ax.annotate(
            f"x{est:.2f}", (est, yi), xytext=(0, 10), textcoords="offset points", ha="center"
        )
    ax.axvline(1.0, color="black", lw=1)
    ax.set_yticks(y)
    ax.set_yticklabels(["Adjusted\n(matched, diff-in-diff)", "Naive\n(members vs non-members)"])
    ax.set_ylim(-0.6, len(t) - 0.4)
    ax.set_ylabel("Comparison")
    outcome = {"purchases": "purchase"}.get(result.outcome, result.outcome)
    ax.set_xlabel(
        f"Members' {outcome} rate / comparison rate (x1 = no effect; {result.level:.0%} interval)"
    )
    ax.set_title("Loyalty programme effect: naive vs adjusted")
    ax.grid(axis="y", visible=False)
    return ax
