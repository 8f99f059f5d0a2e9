"""Which purchase model to trust: several models side by side on calibration and holdout.

:func:`compare_models` fits each candidate on the calibration period of a
:func:`churnlab.calibration_holdout_split` and puts, one row per model, what each is good for:

* **in-sample fit**: number of parameters, log-likelihood, AIC = 2k - 2 ln L and
  BIC = k ln(n) - 2 ln L (Akaike 1974; Schwarz 1978), comparable because every model here is a
  likelihood of the same (frequency, recency, T) data;
* **individual forecasts**: repeat purchases each customer makes in the holdout, predicted by
  the conditional expectation and summed (total and percent error), the per-customer mean
  absolute error, and the error by calibration-frequency bucket (as in Fader, Hardie & Lee
  2005, figure 4), from :func:`churnlab.diagnostics.holdout_validation`;
* **aggregate forecasts**: the weekly (per period) tracking error of repeat transactions over
  the holdout, from :func:`churnlab.diagnostics.tracking` (FHL 2005, figures 2-3).

References
----------
Akaike, H. (1974). A new look at the statistical model identification. *IEEE Transactions on
Automatic Control* 19(6), 716-723.

Schwarz, G. (1978). Estimating the dimension of a model. *Annals of Statistics* 6(2), 461-464.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnlab._validation import require_columns, require_dataframe
from churnlab.diagnostics import (
    DEFAULT_MAX_FREQUENCY,
    HoldoutValidation,
    Tracking,
    holdout_validation,
    tracking,
)

_HISTORY = ("frequency", "recency", "T")
_SPLIT_COLUMNS = ("frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout")

#: Columns of :attr:`ModelComparison.table`, in order.
TABLE_COLUMNS = (
    "n_params",
    "log_likelihood",
    "aic",
    "bic",
    "holdout_actual",
    "holdout_predicted",
    "holdout_error_pct",
    "mae",
    "bucket_wape",
    "tracking_error_pct",
)


@dataclass(frozen=True, repr=False)
class ModelComparison:
    """Purchase models compared on one calibration / holdout split.

    Attributes
    ----------
    table : DataFrame
        One row per model (index ``model``), columns :data:`TABLE_COLUMNS`:
        ``n_params``; ``log_likelihood`` of the calibration data; ``aic`` and ``bic`` (lower
        is better); ``holdout_actual`` and ``holdout_predicted`` repeat transactions in the
        holdout, summed over customers, and ``holdout_error_pct`` = 100 (predicted - actual) /
        actual; ``mae``, the per-customer mean absolute error of the holdout forecast;
        ``bucket_wape``, the customer-weighted absolute percentage error over
        calibration-frequency buckets (see :class:`churnlab.diagnostics.HoldoutValidation`);
        ``tracking_error_pct`` = 100 sum |expected - actual| / sum actual of repeat
        transactions per period over the holdout periods (NaN without transactions).
    by_frequency : DataFrame
        One row per model, one column per calibration-frequency bucket ('0', ..., '7+'):
        100 (predicted - actual) / actual of the bucket's holdout transactions.
    holdout : dict
        Model name -> :class:`churnlab.diagnostics.HoldoutValidation`.
    tracking : dict
        Model name -> :class:`churnlab.diagnostics.Tracking` (empty without transactions).
    models : dict
        Model name -> the fitted model.
    n_customers : int
        Customers in the split.
    time_unit : str or None
        The split's time unit.
    """

    table: pd.DataFrame
    by_frequency: pd.DataFrame
    holdout: dict[str, HoldoutValidation]
    tracking: dict[str, Tracking]
    models: dict
    n_customers: int
    time_unit: str | None

    def __repr__(self) -> str:
        return (
            f"ModelComparison({len(self.table)} models, {self.n_customers} customers, "
            f"time_unit={self.time_unit!r})\n{self.table.round(3).to_string()}"
        )

    def _repr_html_(self) -> str:
        duration = next(iter(self.holdout.values())).duration if self.holdout else float("nan")
        head = (
            f"<h4>Purchase models compared on {self.n_customers:,} customers</h4>"
            f"<p>Fitted on the calibration period; forecasts checked on a holdout of "
            f"{duration:g} periods ({html.escape(str(self.time_unit))}). Lower AIC, BIC and "
            "errors are better.</p>"
        )
        table = self.table.to_html(float_format=lambda v: f"{v:,.3f}", na_rep="-")
        buckets = self.by_frequency.to_html(float_format=lambda v: f"{v:+.1f}", na_rep="-")
        return (
            head
            + table
            + "<p>Percent error of holdout transactions by calibration frequency:</p>"
            + buckets
        )


def compare_models(
    models,
    calibration: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
    *,
    max_frequency: int = DEFAULT_MAX_FREQUENCY,
    customer_col: str = "customer_id",
    date_col: str = "date",
    calibration_end=None,
    observation_end=None,
    time_unit: str | None = None,
) -> ModelComparison:
    """Fit purchase models on a calibration period and compare their fit and holdout forecasts.

    Parameters
    ----------
    models : dict or list
        Purchase models fitted on (frequency, recency, T), e.g. ``{"BG/NBD": BetaGeo(),
        "Pareto/NBD": ParetoNBD()}``; a list is named by class. Each is cloned with its
        settings and fitted on the calibration columns; the models passed in are not changed.
    calibration : DataFrame
        Output of :func:`churnlab.calibration_holdout_split`: the calibration summary
        (``frequency_cal``, ``recency_cal``, ``T_cal``) the models are fitted on, and each
        customer's repeat purchases in the holdout (``frequency_holdout``,
        ``duration_holdout``) that their forecasts are checked against.
    holdout : DataFrame, optional
        The transactions the split was made from (``customer_col``, ``date_col``), through
        the end of the holdout: their repeat purchases per period give the tracking error.
        Without them ``tracking_error_pct`` is NaN.
    max_frequency : int
        Calibration-frequency buckets 0, ..., ``max_frequency - 1`` and ``max_frequency+``.
    customer_col, date_col : str
        Columns of ``holdout``.
    calibration_end, observation_end : date-like, optional
        Ends of the calibration and holdout periods, for the tracking; by default those that
        :func:`churnlab.calibration_holdout_split` recorded in ``calibration.attrs``.
    time_unit : {'W', 'D', 'M'}, optional
        The split's time unit (the tracking's period); by default ``calibration.attrs``'s.

    Returns
    -------
    ModelComparison

    Examples
    --------
    >>> from churnlab import BetaGeo, ParetoNBD, calibration_holdout_split
    >>> from churnlab.datasets import load_cdnow
    >>> tx = load_cdnow("sample")
    >>> split = calibration_holdout_split(tx, "1997-09-30", "1998-06-30")
    >>> result = compare_models({"BG/NBD": BetaGeo(), "Pareto/NBD": ParetoNBD()}, split, tx)
    >>> result.table[["n_params", "log_likelihood", "holdout_predicted"]].round(1)
                n_params  log_likelihood  holdout_predicted
    model
    BG/NBD             4         -9582.4             1653.4
    Pareto/NBD         4         -9595.0             1665.5
    >>> int(result.table["holdout_actual"].iloc[0])
    1882
    """
    # scikit-learn (0.6 s to import) is loaded when models are compared, not on import churnlab
    from sklearn.base import clone

    named = _named_models(models)
    require_dataframe(calibration, "calibration")
    require_columns(calibration, _SPLIT_COLUMNS, "calibration")
    recorded = calibration.attrs.get("time_unit")
    if time_unit is not None and recorded is not None and time_unit != recorded:
        raise ValueError(
            f"time_unit={time_unit!r} but the split was made in {recorded!r} "
            "(calibration.attrs['time_unit'])"
        )
    time_unit = time_unit or recorded
    history = calibration[list(_SPLIT_COLUMNS[:3])].set_axis(list(_HISTORY), axis=1)
    history.attrs = {"time_unit": time_unit} if time_unit is not None else {}
    if holdout is not None:
        require_dataframe(holdout, "holdout")
        calibration_end = _end(calibration_end, calibration, "calibration_end")
        observation_end = _end(observation_end, calibration, "observation_end")
        if time_unit is None:
            raise ValueError(
                "time_unit is needed for the tracking error: pass it, or make the split with "
                "churnlab.calibration_holdout_split (which records it in attrs)"
            )
    fitted, checks, tracks, rows, buckets = {}, {}, {}, {}, {}
    for name, template in named.items():
        model = clone(template).fit(history)
        fitted[name] = model
        check = holdout_validation(model, calibration, max_frequency=max_frequency)
        checks[name] = check
        k = len(model.params_)
        ll = float(model.log_likelihood_)
        row = {
            "n_params": k,
            "log_likelihood": ll,
            "aic": 2 * k - 2 * ll,
            "bic": k * np.log(model.n_customers_) - 2 * ll,
            "holdout_actual": check.actual_total,
            "holdout_predicted": check.predicted_total,
            "holdout_error_pct": check.error_percent,
            "mae": check.mae,
            "bucket_wape": check.bucket_wape,
            "tracking_error_pct": np.nan,
        }
        if holdout is not None:
            track = tracking(
                model,
                holdout,
                observation_end,
                calibration_end=calibration_end,
                customer_col=customer_col,
                date_col=date_col,
                time_unit=time_unit,
            )
            tracks[name] = track
            row["tracking_error_pct"] = _holdout_tracking_error(track)
        rows[name] = row
        buckets[name] = check.table["error_percent"]
    table = pd.DataFrame.from_dict(rows, orient="index")[list(TABLE_COLUMNS)]
    table = table.astype({"n_params": np.int64}).rename_axis("model")
    by_frequency = pd.DataFrame(buckets).T.rename_axis("model")
    by_frequency.columns.name = "frequency_cal"
    return ModelComparison(
        table=table,
        by_frequency=by_frequency,
        holdout=checks,
        tracking=tracks,
        models=fitted,
        n_customers=len(calibration),
        time_unit=time_unit,
    )


def _named_models(models) -> dict:
    if isinstance(models, Mapping):
        named = {str(k): v for k, v in models.items()}
    else:
        named = {}
        for model in models:
            name = type(model).__name__
            if name in named:
                raise ValueError(
                    f"two models are named {name!r}: pass a dict to give each its own name"
                )
            named[name] = model
    if not named:
        raise ValueError("models is empty: pass at least one purchase model")
    for name, model in named.items():
        if getattr(model, "_columns", None) != _HISTORY or not hasattr(
            model, "conditional_expected_purchases"
        ):
            raise TypeError(
                f"models[{name!r}] is a {type(model).__name__}: compare_models compares "
                "continuous-time purchase models fitted on frequency, recency and T (BetaGeo, "
                "ModifiedBetaGeo, ParetoNBD)"
            )
    return named


def _end(value, calibration: pd.DataFrame, name: str):
    if value is not None:
        return value
    recorded = calibration.attrs.get(name)
    if recorded is None:
        raise ValueError(
            f"{name} is needed for the tracking error: pass it, or make the split with "
            "churnlab.calibration_holdout_split (which records it in attrs)"
        )
    return recorded


def _holdout_tracking_error(track: Tracking) -> float:
    """100 sum |expected - actual| / sum actual over the periods after the calibration end."""
    table = track.table
    after = table["start"] > track.calibration_end
    actual = table.loc[after, "actual"]
    if actual.sum() <= 0:
        return float("nan")
    return float(100.0 * np.abs(table.loc[after, "expected"] - actual).sum() / actual.sum())
