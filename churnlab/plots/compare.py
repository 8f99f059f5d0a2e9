"""Figures of a purchase-model comparison (:func:`churnlab.compare_models`).

Each function draws a :class:`churnlab.compare.ModelComparison` and computes nothing new:
``plot_x(result, *, ax=None) -> Axes``; a figure is created only when ``ax`` is None.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from churnlab.compare import ModelComparison
from churnlab.plots.style import PALETTE, axes_or_new

_UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months"}
#: Line styles of the models, after the solid black line of the actual transactions.
_DASHES = ("--", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1)))


def plot_tracking_comparison(
    result: ModelComparison, *, cumulative: bool = True, ax: Axes | None = None
) -> Axes:
    """Repeat transactions over calendar time: the actual curve and each model's, on one axes.

    Parameters
    ----------
    result : ModelComparison
        From :func:`churnlab.compare_models` called with the transactions.
    cumulative : bool
        Running totals (True) or transactions per period (False).
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from churnlab import BetaGeo, ParetoNBD, calibration_holdout_split, compare_models
    >>> from churnlab.datasets import load_cdnow
    >>> tx = load_cdnow("sample")
    >>> split = calibration_holdout_split(tx, "1997-09-30", "1998-06-30")
    >>> result = compare_models([BetaGeo(), ParetoNBD()], split, tx)
    >>> ax = plot_tracking_comparison(result)
    >>> [line.get_label() for line in ax.get_lines()][:3]
    ['Actual', 'BetaGeo', 'ParetoNBD']
    >>> plt.close("all")
    """
    if not result.tracking:
        raise ValueError(
            "the comparison has no tracking: call compare_models with the transactions "
            "(its holdout argument)"
        )
    ax = axes_or_new(ax)
    suffix = "_cumulative" if cumulative else ""
    tracks = list(result.tracking.items())
    first = tracks[0][1]
    period = first.table.index.to_numpy()
    ax.plot(period, first.table["actual" + suffix], color="black", label="Actual")
    for k, (name, track) in enumerate(tracks):
        ax.plot(
            period,
            track.table["expected" + suffix],
            color=PALETTE[k % len(PALETTE)],
            linestyle=_DASHES[k % len(_DASHES)],
            label=name,
        )
    if first.calibration_periods is not None:
        ax.axvline(first.calibration_periods, color="0.4", linestyle=":", linewidth=1.5)
        ax.annotate(
            "end of calibration",
            xy=(first.calibration_periods, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -4),
            textcoords="offset points",
            ha="left",
            va="top",
            color="0.3",
        )
    unit = _UNIT_NAMES.get(first.time_unit, first.time_unit)
    ax.set_xlabel(f"{unit.capitalize()} since {first.table['start'].iloc[0]:%Y-%m-%d}")
    what = "Cumulative repeat transactions" if cumulative else "Repeat transactions per period"
    ax.set_ylabel(what)
    ax.set_title(f"{what}: actual vs each model")
    ax.legend(loc="upper left" if cumulative else "upper right")
    return ax


def plot_holdout_by_frequency(result: ModelComparison, *, ax: Axes | None = None) -> Axes:
    """Mean holdout purchases by calibration frequency: actual and each model's forecast.

    Parameters
    ----------
    result : ModelComparison
        From :func:`churnlab.compare_models`.
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from churnlab import BetaGeo, ParetoNBD, calibration_holdout_split, compare_models
    >>> from churnlab.datasets import load_cdnow
    >>> split = calibration_holdout_split(load_cdnow("sample"), "1997-09-30", "1998-06-30")
    >>> ax = plot_holdout_by_frequency(compare_models([BetaGeo(), ParetoNBD()], split))
    >>> [line.get_label() for line in ax.get_lines()]
    ['Actual', 'BetaGeo', 'ParetoNBD']
    >>> plt.close("all")
    """
    ax = axes_or_new(ax)
    checks = list(result.holdout.items())
    table = checks[0][1].table
    position = np.arange(len(table))
    ax.plot(position, table["actual_mean"], color="black", marker="o", label="Actual")
    for k, (name, check) in enumerate(checks):
        ax.plot(
            position,
            check.table["predicted_mean"],
            color=PALETTE[k % len(PALETTE)],
            linestyle=_DASHES[k % len(_DASHES)],
            marker="s",
            label=name,
        )
    ax.set_xticks(position)
    ax.set_xticklabels(table.index.tolist())
    ax.set_xlabel("Repeat transactions in the calibration period")
    ax.set_ylabel("Mean repeat transactions in the holdout")
    ax.set_title("Holdout purchases by calibration frequency: actual vs each model")
    ax.legend(loc="upper left")
    return ax
