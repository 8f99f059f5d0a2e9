"""Figures of why customers leave.

Each function draws a result computed by :mod:`churnlab.defection` and computes nothing new:
``plot_x(result, *, ax=None) -> Axes``; a figure is created only when ``ax`` is None.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MultipleLocator, PercentFormatter

from churnlab.defection import (
    CATEGORIES,
    LABELS,
    BenchmarkComparison,
    LeakRate,
    ValueAtRisk,
)
from churnlab.plots.style import PALETTE, axes_or_new


def _label(reason: str) -> str:
    """The category's label on two lines (tick labels stay apart at slide size)."""
    return LABELS[reason].replace(" ", "\n", 1)


def plot_reason_mix(result: BenchmarkComparison, *, ax: Axes | None = None) -> Axes:
    """Observed share of each reason with its interval, beside the benchmark share.

    Parameters
    ----------
    result : BenchmarkComparison
        From :func:`churnlab.defection.compare_to_benchmark`.
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> from churnlab.defection import compare_to_benchmark
    >>> result = compare_to_benchmark({"staff_indifference": 300, "product_dissatisfaction": 140,
    ...                                "competition": 30, "other_relationships": 20,
    ...                                "no_reason": 10})
    >>> ax = plot_reason_mix(result)
    >>> [t.get_text() for t in ax.get_xticklabels()][:2]
    ['Staff\\nindifference', 'Product\\nor delivery']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = axes_or_new(ax)
    table = result.table.loc[list(CATEGORIES)]
    x = np.arange(len(table))
    width = 0.38
    err = np.vstack([table["share"] - table["ci_lower"], table["ci_upper"] - table["share"]])
    ax.bar(
        x - width / 2,
        table["share"],
        width,
        yerr=err,
        capsize=4,
        color=PALETTE[0],
        label=f"Observed ({result.level:.0%} {result.method.capitalize()} interval)",
    )
    p = "p < 0.001" if result.p_value < 0.001 else f"p = {result.p_value:.2g}"
    ax.bar(
        x + width / 2,
        table["benchmark"],
        width,
        color=PALETTE[1],
        label=f"Benchmark (chi-square test: {p})",
    )
    ax.set_xticks(x)
    ax.set_xticklabels([_label(r) for r in table.index])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("Reason for leaving")
    ax.set_ylabel("Share of coded answers")
    unmapped = f", {result.n_unmapped} unmapped left out" if result.n_unmapped else ""
    ax.set_title(f"Reasons for leaving vs benchmark ({result.n_coded} coded answers{unmapped})")
    ax.legend()
    ax.grid(axis="x", visible=False)
    return ax


def plot_value_at_risk(result: ValueAtRisk, *, ax: Axes | None = None) -> Axes:
    """Each reason's share of lost customers beside its share of lost value.

    Shares are of all answers, the unmapped ones included (drawn as their own bar), as in
    ``result.table``; :func:`plot_reason_mix` and :func:`plot_pareto` give shares of the coded
    answers only, hence somewhat larger shares for the same reason.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnlab.defection import value_at_risk
    >>> var = value_at_risk(pd.Series(["competition", "no_reason"]), pd.Series([3.0, 1.0]))
    >>> ax = plot_value_at_risk(var)
    >>> ax.get_ylabel()
    'Share of all exit answers (unmapped included)'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = axes_or_new(ax)
    table = result.table
    x = np.arange(len(table))
    width = 0.38
    ax.bar(x - width / 2, table["customer_share"], width, color=PALETTE[0], label="Customers lost")
    ax.bar(
        x + width / 2,
        table["value_share"],
        width,
        color=PALETTE[3],
        label=f"{result.value_name.capitalize()} lost",
    )
    ax.set_xticks(x)
    ax.set_xticklabels([_label(r) for r in table.index])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("Reason for leaving")
    ax.set_ylabel("Share of all exit answers (unmapped included)")
    ax.set_title(f"Lost customers and lost {result.value_name} by reason")
    ax.legend()
    ax.grid(axis="x", visible=False)
    return ax


def plot_pareto(
    result: ValueAtRisk,
    *,
    measure: str = "value",
    currency: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Pareto chart: reasons by lost ``measure``, largest first, with the cumulative share.

    Draws ``result.pareto(measure)``; the cumulative line is on a second y axis. Shares are of
    the coded answers (the unmapped left out). ``currency`` (e.g. ``"EUR"``) names the unit
    of a lost value.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnlab.defection import value_at_risk
    >>> var = value_at_risk(pd.Series(["competition", "no_reason"]), pd.Series([3.0, 1.0]))
    >>> ax = plot_pareto(var)
    >>> [t.get_text() for t in ax.get_xticklabels()][:2]
    ['Competition', 'No\\nreason']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = axes_or_new(ax)
    table = result.pareto(measure)
    x = np.arange(len(table))
    ax.bar(x, table[measure], color=PALETTE[0])
    ax.set_xticks(x)
    ax.set_xticklabels([_label(r) for r in table.index])
    ax.set_xlabel("Reason for leaving (largest first)")
    if measure == "value":
        ax.set_ylabel(f"Lost {result.value_name}" + (f" ({currency})" if currency else ""))
    else:
        ax.set_ylabel("Customers lost")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(axis="x", visible=False)
    line = ax.twinx()
    line.plot(x, table["cumulative_share"], marker="o", color=PALETTE[3])
    line.set_ylim(0, 1.05)
    line.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    line.set_ylabel("Cumulative share (unmapped left out)", color=PALETTE[3])
    line.grid(False)
    line.spines["right"].set_visible(True)
    what = result.value_name if measure == "value" else "customers"
    ax.set_title(f"Pareto of defection reasons by lost {what}")
    return ax


def plot_leak_rate(result: LeakRate, *, ax: Axes | None = None) -> Axes:
    """Yearly defection rate with its interval against the ceiling.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnlab.defection import leak_rate
    >>> c = pd.DataFrame({"signup_date": pd.to_datetime(["2021-03-01"] * 4),
    ...                   "defection_date": pd.to_datetime(["2022-05-01", None, None, None])})
    >>> ax = plot_leak_rate(leak_rate(c, end="2022-12-31"))
    >>> ax.get_ylabel()
    'Share of customers lost in the year'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = axes_or_new(ax)
    table = result.table
    x = np.arange(len(table))
    err = np.vstack([table["rate"] - table["ci_lower"], table["ci_upper"] - table["rate"]])
    colors = [PALETTE[3] if above else PALETTE[2] for above in table["above_ceiling"]]
    ax.bar(x, table["rate"], yerr=err, capsize=5, color=colors, width=0.6)
    ax.axhline(
        result.ceiling, color=PALETTE[7], linestyle="--", label=f"Ceiling {result.ceiling:.0%}"
    )
    ax.set_xticks(x)
    ax.set_xticklabels([str(y) for y in table.index])
    ax.yaxis.set_major_locator(MultipleLocator(0.05))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("Year")
    ax.set_ylabel("Share of customers lost in the year")
    ax.set_title(
        f"Yearly leak of customers against the ceiling ({result.level:.0%} Wilson intervals)"
    )
    ax.legend()
    ax.grid(axis="x", visible=False)
    return ax
