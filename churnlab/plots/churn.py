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
from matplotlib.ticker import FuncFormatter, PercentFormatter

from churnlab._validation import check_number
from churnlab.churn.evaluate import ChurnEvaluation
from churnlab.churn.features import feature_label
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


def _percent(axis) -> None:
    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _unit_square(ax: Axes, *, xlabel: str, ylabel: str, title: str, legend: str) -> Axes:
    """Labels, the [0, 1] x [0, 1] frame of a rate-against-rate chart (in per cent), legend."""
    ax.set(xlabel=xlabel, ylabel=ylabel, xlim=(0, 1), ylim=(0, 1.01), title=title)
    _percent(ax.xaxis)
    _percent(ax.yaxis)
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

    The y axis runs from 0 to just above the best possible lift (1 / churn rate, drawn as the
    "perfect" line), so the scale is set by what a ranking can achieve and not by the noisy
    lift of the first few customers on the list.

    Examples
    --------
    >>> from churnlab.churn import evaluate
    >>> ax = plot_lift(evaluate([0, 1, 0, 1], [0.1, 0.7, 0.4, 0.6]))
    >>> ax.get_ylabel()
    'Cumulative lift\\n(churn rate among contacted / overall)'
    >>> [float(v) for v in ax.get_ylim()]
    [0.0, 2.2]
    """
    ax = axes_or_new(ax)
    # the lift is undefined (NaN) at the origin, which matplotlib leaves out of the line
    items = _draw_curves(
        ax, results, "gains", "fraction_targeted", "lift", lambda n, r: n or "model"
    )
    rate = next(iter(items.values()))["churn_rate"]
    best = 1.0 / rate
    # a perfect ranking: only churners until all are reached (lift 1 / rate), then 1 / share
    share = np.linspace(rate, 1.0, 50)
    ax.plot(
        np.r_[0.0, share],
        np.r_[best, 1.0 / share],
        color=_GREY,
        linewidth=1,
        linestyle=":",
        label="perfect",
    )
    ax.axhline(1.0, color=_GREY, linestyle="--", linewidth=1, label="random")
    ax.set(
        xlabel="Share of customers contacted (highest scores first)",
        ylabel="Cumulative lift\n(churn rate among contacted / overall)",
        xlim=(0, 1),
        ylim=(0.0, round(1.1 * float(best), 2)),
        title="Lift",
    )
    _percent(ax.xaxis)
    ax.legend(loc="lower left")
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
        title="Calibration: predicted vs observed churn (bins with 95% intervals)",
        legend="upper left",
    )


def plot_permutation_importance(
    importance: pd.DataFrame,
    *,
    ax: Axes | None = None,
    top: int = 15,
    time_unit: str | None = None,
) -> Axes:
    """Horizontal bars of :func:`churnlab.churn.permutation_importance` (mean +- std).

    Features are named in words (:func:`churnlab.churn.features.feature_label`), with
    ``time_unit`` (the one the features were made with) in the names of time features.

    Examples
    --------
    >>> table = pd.DataFrame({"importance_mean": [0.2, 0.05], "importance_std": [0.01, 0.02]},
    ...                      index=pd.Index(["time_since_last_purchase", "ipt_cv"],
    ...                                     name="feature"))
    >>> ax = plot_permutation_importance(table, time_unit="W")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Weeks since last purchase', 'Irregularity of gaps between purchases']
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
    ax.set_yticks(positions, labels=[feature_label(str(i), time_unit) for i in table.index])
    ax.axvline(0, color=_GREY, linewidth=1)
    ax.set(
        xlabel="Drop in ROC AUC when the feature is shuffled",
        ylabel="Feature",
        title="Permutation importance",
    )
    ax.grid(axis="y", visible=False)
    return ax


def plot_profit_curve(
    curves, *, ax: Axes | None = None, best=None, currency: str | None = None
) -> Axes:
    """Campaign profit by share of customers contacted (:func:`churnlab.churn.profit_curve`).

    Parameters
    ----------
    curves : DataFrame or mapping of name -> DataFrame
    best : MPCResult or mapping of name -> MPCResult, optional
        Marks the most profitable fraction (:func:`churnlab.churn.mpc`) on its curve, in the
        curve's colour; a single MPCResult belongs to the first curve.
    currency : str, optional
        Currency of the profit (e.g. ``"USD"``), named on the axis and in the legend.

    Examples
    --------
    >>> from churnlab.churn import mpc, profit_curve
    >>> y, s = [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]
    >>> ax = plot_profit_curve(profit_curve(y, s), best=mpc(y, s), currency="USD")
    >>> ax.get_ylabel()
    'Campaign profit (USD)'
    >>> ax.get_legend_handles_labels()[1]
    ['profit', 'best: contact 75%, USD 101']
    """
    ax = axes_or_new(ax)
    if isinstance(curves, pd.DataFrame):
        curves = {"": curves}
    if best is not None and not isinstance(best, Mapping):
        best = {next(iter(curves)): best}
    best = dict(best or {})
    unknown = [name for name in best if name not in curves]
    if unknown:
        raise ValueError(f"best names {unknown} are not curves; curves are {list(curves)}")
    money = f"{currency} " if currency else ""
    for (name, curve), colour in zip(curves.items(), _cycle(), strict=False):
        ax.plot(curve["fraction_targeted"], curve["profit"], color=colour, label=name or "profit")
        if name in best:
            b = best[name]
            ax.plot(
                [b.fraction],
                [b.profit],
                marker="o",
                markersize=9,
                markeredgecolor="black",
                color=colour,
                linestyle="none",
                label=f"best: contact {b.fraction:.0%}, {money}{b.profit:,.0f}",
            )
    ax.axhline(0, color=_GREY, linewidth=1)
    ax.set(
        xlabel="Share of customers contacted (highest scores first)",
        ylabel=f"Campaign profit ({currency})" if currency else "Campaign profit",
        xlim=(0, 1),
        title="Profit of a retention campaign",
    )
    _percent(ax.xaxis)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    # beside the plot: profit curves run through every corner of the frame
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return ax


def _cycle():
    while True:
        yield from PALETTE
