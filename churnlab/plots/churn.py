"""Figures of churn models: ROC, precision-recall, gains, lift, calibration, importance, profit.

Every function draws what :mod:`churnlab.churn` computed (the results of
:func:`churnlab.churn.evaluate`, :func:`churnlab.churn.permutation_importance`,
:func:`churnlab.churn.profit_curve`), takes ``ax=`` and returns the Axes. The curve plots
accept one result or a mapping ``{model name: result}`` to compare models on one chart.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from churnlab._validation import check_number
from churnlab.churn.evaluate import ChurnEvaluation
from churnlab.plots.style import PALETTE, axes_or_new

_GREY = "#7f7f7f"


def _results(results) -> dict[str, ChurnEvaluation]:
    """One :func:`evaluate` result or a mapping of them, as a mapping."""
    if isinstance(results, ChurnEvaluation):
        return {"": results}
    if (
        not isinstance(results, Mapping)
        or not results
        or not all(isinstance(r, ChurnEvaluation) for r in results.values())
    ):
        raise ValueError("pass an evaluate() result or a non-empty mapping of them")
    return dict(results)


def _label(name: str, text: str) -> str:
    return f"{name} ({text})" if name else text


def _draw_curves(
    ax: Axes, results, table: str, x: str, y: str, label
) -> dict[str, ChurnEvaluation]:
    """One line per result: columns ``x`` and ``y`` of ``result.<table>``, ``label(name, r)``."""
    items = _results(results)
    for (name, r), colour in zip(items.items(), _cycle(), strict=False):
        curve = getattr(r, table)
        ax.plot(curve[x], curve[y], color=colour, label=label(name, r))
    return items


def _unit_square(ax: Axes, *, xlabel: str, ylabel: str, title: str, legend: str) -> Axes:
    """Labels, the [0, 1] x [0, 1] frame of a rate-against-rate chart, and the legend."""
    ax.set(xlabel=xlabel, ylabel=ylabel, xlim=(0, 1), ylim=(0, 1.01), title=title)
    ax.legend(loc=legend)
    return ax


def plot_roc(results, *, ax: Axes | None = None) -> Axes:
    """ROC curves of one or several :func:`churnlab.churn.evaluate` results, AUC in the legend.

    Examples
    --------
    >>> from churnlab.churn import evaluate
    >>> ax = plot_roc({"model": evaluate([0, 1, 0, 1], [0.1, 0.7, 0.4, 0.6])})
    >>> ax.get_legend_handles_labels()[1]
    ['model (AUC 1.000)', 'chance']
    """
    ax = axes_or_new(ax)
    _draw_curves(ax, results, "roc", "fpr", "tpr", lambda n, r: _label(n, f"AUC {r.roc_auc:.3f}"))
    ax.plot([0, 1], [0, 1], color=_GREY, linestyle="--", linewidth=1, label="chance")
    return _unit_square(
        ax,
        xlabel="False positive rate (stayers flagged)",
        ylabel="True positive rate (churners flagged)",
        title="ROC curve",
        legend="lower right",
    )


def plot_precision_recall(results, *, ax: Axes | None = None) -> Axes:
    """Precision-recall curves with the churn rate (a random score's precision) as baseline.

    Examples
    --------
    >>> from churnlab.churn import evaluate
    >>> ax = plot_precision_recall(evaluate([0, 1, 0, 1], [0.1, 0.7, 0.4, 0.6]))
    >>> ax.get_xlabel()
    'Recall (share of churners reached)'
    """
    ax = axes_or_new(ax)
    items = _draw_curves(
        ax, results, "pr", "recall", "precision", lambda n, r: _label(n, f"AP {r.pr_auc:.3f}")
    )
    rate = next(iter(items.values())).churn_rate
    ax.axhline(rate, color=_GREY, linestyle="--", linewidth=1, label=f"churn rate {rate:.1%}")
    return _unit_square(
        ax,
        xlabel="Recall (share of churners reached)",
        ylabel="Precision (churners / flagged)",
        title="Precision-recall",
        legend="lower left",
    )


def plot_gains(results, *, ax: Axes | None = None) -> Axes:
    """Cumulative gains: share of churners reached against share of customers contacted.

    Examples
    --------
    >>> from churnlab.churn import evaluate
    >>> ax = plot_gains(evaluate([0, 1, 0, 1], [0.1, 0.7, 0.4, 0.6]))
    >>> len(ax.lines)
    3
    """
    ax = axes_or_new(ax)
    items = _draw_curves(
        ax, results, "gains", "fraction_targeted", "gain", lambda n, r: n or "model"
    )
    rate = next(iter(items.values())).churn_rate
    ax.plot([0, rate, 1], [0, 1, 1], color=_GREY, linewidth=1, linestyle=":", label="perfect")
    ax.plot([0, 1], [0, 1], color=_GREY, linestyle="--", linewidth=1, label="random")
    return _unit_square(
        ax,
        xlabel="Share of customers contacted (highest scores first)",
        ylabel="Share of churners reached",
        title="Cumulative gains",
        legend="lower right",
    )


def plot_lift(results, *, ax: Axes | None = None) -> Axes:
    """Cumulative lift: churn rate among the contacted over the overall churn rate.

    Examples
    --------
    >>> from churnlab.churn import evaluate
    >>> ax = plot_lift(evaluate([0, 1, 0, 1], [0.1, 0.7, 0.4, 0.6]))
    >>> ax.get_ylabel()
    'Cumulative lift'
    """
    ax = axes_or_new(ax)
    # the lift is undefined (NaN) at the origin, which matplotlib leaves out of the line
    _draw_curves(ax, results, "gains", "fraction_targeted", "lift", lambda n, r: n or "model")
    ax.axhline(1.0, color=_GREY, linestyle="--", linewidth=1, label="random")
    ax.set(
        xlabel="Share of customers contacted (highest scores first)",
        ylabel="Cumulative lift",
        xlim=(0, 1),
        title="Lift",
    )
    ax.legend(loc="upper right")
    return ax


def plot_calibration(results, *, ax: Axes | None = None) -> Axes:
    """Predicted against observed churn rate per bin, with the bins' 95% intervals.

    Results without a calibration table (scores that are not probabilities) are skipped.

    Examples
    --------
    >>> from churnlab.churn import evaluate
    >>> ax = plot_calibration(evaluate([0, 1, 0, 1, 1], [0.1, 0.7, 0.4, 0.6, 0.9], n_bins=2))
    >>> ax.get_xlabel()
    'Predicted churn probability'
    """
    ax = axes_or_new(ax)
    for (name, r), colour in zip(_results(results).items(), _cycle(), strict=False):
        table = r.calibration
        if table is None:
            continue
        rate = table["observed_rate"].to_numpy()
        err = np.vstack([rate - table["ci_lower"], table["ci_upper"] - rate])
        ax.errorbar(
            table["mean_predicted"],
            table["observed_rate"],
            yerr=err,
            color=colour,
            marker="o",
            capsize=3,
            label=name or "model",
        )
    ax.plot([0, 1], [0, 1], color=_GREY, linestyle="--", linewidth=1, label="perfectly calibrated")
    return _unit_square(
        ax,
        xlabel="Predicted churn probability",
        ylabel="Observed churn rate",
        title="Calibration",
        legend="upper left",
    )


def plot_permutation_importance(
    importance: pd.DataFrame, *, ax: Axes | None = None, top: int = 15
) -> Axes:
    """Horizontal bars of :func:`churnlab.churn.permutation_importance` (mean +- std).

    Examples
    --------
    >>> table = pd.DataFrame({"importance_mean": [0.2, 0.05], "importance_std": [0.01, 0.02]},
    ...                      index=pd.Index(["recency", "frequency"], name="feature"))
    >>> ax = plot_permutation_importance(table)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['recency', 'frequency']
    """
    top = check_number(top, "top", low=1, integer=True)
    missing = {"importance_mean", "importance_std"} - set(importance.columns)
    if missing:
        raise ValueError(
            f"importance lacks column(s) {sorted(missing)}: pass the table of "
            "churnlab.churn.permutation_importance"
        )
    ax = axes_or_new(ax)
    table = importance.head(top)
    positions = np.arange(len(table))[::-1]
    ax.barh(
        positions,
        table["importance_mean"],
        xerr=table["importance_std"],
        color=PALETTE[0],
        capsize=3,
    )
    ax.set_yticks(positions, labels=[str(i) for i in table.index])
    ax.axvline(0, color=_GREY, linewidth=1)
    ax.set(xlabel="Drop in ROC AUC when the feature is shuffled", title="Permutation importance")
    ax.grid(axis="y", visible=False)
    return ax


def plot_profit_curve(curves, *, ax: Axes | None = None, best=None) -> Axes:
    """Campaign profit by share of customers contacted (:func:`churnlab.churn.profit_curve`).

    Parameters
    ----------
    curves : DataFrame or mapping of name -> DataFrame
    best : MPCResult, optional
        Marks the most profitable fraction (:func:`churnlab.churn.mpc`).

    Examples
    --------
    >>> from churnlab.churn import mpc, profit_curve
    >>> y, s = [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]
    >>> ax = plot_profit_curve(profit_curve(y, s), best=mpc(y, s))
    >>> ax.get_ylabel()
    'Campaign profit'
    """
    ax = axes_or_new(ax)
    if isinstance(curves, pd.DataFrame):
        curves = {"": curves}
    for (name, curve), colour in zip(curves.items(), _cycle(), strict=False):
        ax.plot(curve["fraction_targeted"], curve["profit"], color=colour, label=name or "profit")
    if best is not None:
        ax.plot(
            [best.fraction],
            [best.profit],
            marker="o",
            color=PALETTE[3],
            linestyle="none",
            label=f"best: contact {best.fraction:.0%}",
        )
    ax.axhline(0, color=_GREY, linewidth=1)
    ax.set(
        xlabel="Share of customers contacted (highest scores first)",
        ylabel="Campaign profit",
        xlim=(0, 1),
        title="Profit of a retention campaign",
    )
    ax.legend(loc="best")
    return ax


def _cycle():
    while True:
        yield from PALETTE
