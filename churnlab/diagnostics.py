"""How well does a fitted purchase model describe the data, and how well does it forecast?

The standard checks of a buy-till-you-die model (Fader, Hardie & Lee 2005, section 4), each a
computation whose result a function of :mod:`churnlab.plots.btyd` draws:

* :func:`period_transactions`: customers by number of repeat transactions in the calibration
  period, actual vs expected under the model (FHL 2005, figure 1), with a chi-square measure;
* :func:`frequency_recency_matrix` and :func:`probability_alive_matrix`: conditional
  expectations over a grid of frequency and recency, for heat maps;
* :func:`calibration_holdout_table` and :func:`holdout_validation`: mean repeat transactions in
  a holdout period by calibration frequency, predicted vs actual (FHL 2005, figure 4), with
  error measures;
* :func:`tracking`: repeat transactions over calendar time, actual vs expected, weekly and
  cumulative (FHL 2005, figures 2 and 3).

Who holds the lifetime value and whose value is slipping away are questions of
:mod:`churnlab.clv`.

The model is any fitted purchase model with the BG/NBD prediction methods
(``probability_of_purchases``, ``expected_purchases``, ``conditional_expected_purchases``,
``probability_alive``), e.g. :class:`churnlab.BetaGeo`. Every horizon is in the data's own time
unit.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnlab._estimator import check_is_fitted
from churnlab._validation import (
    as_float_array,
    check_number,
    fail,
    require_columns,
    require_dataframe,
)
from churnlab.models import check_time_unit, read_columns
from churnlab.results import Result
from churnlab.rfm import unit_days
from churnlab.transactions import DEFAULT_RETURNS, read_transactions

#: Number of BG/NBD parameters (r, alpha, a, b), subtracted from the chi-square degrees of
#: freedom of :func:`period_transactions`.
N_BGNBD_PARAMS = 4

#: Calibration-frequency buckets of the holdout comparison: 0, 1, ..., 6 and "7+", as in
#: FHL 2005, figure 4.
DEFAULT_MAX_FREQUENCY = 7

_HISTORY = ("frequency", "recency", "T")
_SPLIT_COLUMNS = ("frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout")


# --------------------------------------------------------------------------------------------
# small shared pieces
# --------------------------------------------------------------------------------------------


def _check_fitted(model) -> None:
    """Raise sklearn's NotFittedError (a ValueError) unless ``model`` has ``params_``."""
    check_is_fitted(model, "params_")


def _check_max_frequency(max_frequency: int) -> int:
    return check_number(max_frequency, "max_frequency", low=1, integer=True)


def _bucket_labels(max_frequency: int) -> list[str]:
    return [str(n) for n in range(max_frequency)] + [f"{max_frequency}+"]


def _bucket_codes(frequency: np.ndarray, max_frequency: int) -> np.ndarray:
    return np.minimum(frequency, max_frequency).astype(np.int64)


def _rfm_arrays(data: pd.DataFrame, suffix: str = "") -> tuple[np.ndarray, ...]:
    """frequency, recency, T arrays from an RFM frame (columns with an optional suffix).

    Read and checked as the models read them (:func:`churnlab.models._base.read_columns`).
    """
    require_dataframe(data, "data")
    names = [f"{name}{suffix}" for name in _HISTORY]
    require_columns(data, names, "data")
    frame = data[names].set_axis(list(_HISTORY), axis=1) if suffix else data
    columns, _ = read_columns(_HISTORY, frame, {"recency": None, "T": None})
    return tuple(columns[name] for name in _HISTORY)


# --------------------------------------------------------------------------------------------
# period transactions: model vs actual
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class PeriodTransactions(Result):
    """Customers by number of repeat transactions in the calibration period.

    Attributes
    ----------
    table : DataFrame
        Indexed by ``repeat_transactions`` ('0', '1', ..., 'k+'), columns ``actual`` (customers
        observed) and ``expected`` (sum over customers of P(X(T_i) = n) under the model).
    chi_square : float
        Pearson's sum of (actual - expected)^2 / expected over the buckets.
    degrees_of_freedom : int
        Buckets - 1 - number of model parameters (at least 1).
    p_value : float
        Upper tail of the chi-square distribution at ``chi_square``.
    """

    table: pd.DataFrame
    chi_square: float
    degrees_of_freedom: int
    p_value: float

    def __repr__(self) -> str:
        return (
            f"PeriodTransactions(chi_square={self.chi_square:.3f}, "
            f"degrees_of_freedom={self.degrees_of_freedom}, p_value={self.p_value:.3f})\n"
            f"{self.table.round(1).to_string()}"
        )

    def _html_title(self) -> str:
        return "Repeat transactions in the calibration period"

    def _html_notes(self) -> list[str]:
        return [
            f"customers: {int(self.table['actual'].sum())}",
            f"chi-square: {self.chi_square:.2f} on {self.degrees_of_freedom} degrees of "
            f"freedom (p = {self.p_value:.3g})",
        ]


def period_transactions(
    model, data: pd.DataFrame, *, max_frequency: int = DEFAULT_MAX_FREQUENCY
) -> PeriodTransactions:
    """Actual and expected number of customers by repeat transactions in the calibration period.

    The expected number with ``n`` repeat transactions is the sum over customers of
    P(X(T_i) = n), equation (8) of Fader, Hardie & Lee (2005), evaluated at each customer's own
    age ``T_i``; the last bucket ``max_frequency+`` collects the rest, so the expected counts
    add up to the number of customers.

    Parameters
    ----------
    model : fitted purchase model
        With ``probability_of_purchases(t, n)``, e.g. :class:`churnlab.BetaGeo`.
    data : DataFrame
        RFM summary with ``frequency``, ``recency`` and ``T`` (one row per customer), in the
        model's time unit: ``data.attrs["time_unit"]``, when recorded, must equal the model's
        ``time_unit_`` (:func:`churnlab.models._base.check_time_unit`).
    max_frequency : int
        Buckets are 0, 1, ..., ``max_frequency - 1`` and ``max_frequency+``.

    Returns
    -------
    PeriodTransactions

    Examples
    --------
    >>> from churnlab import BetaGeo
    >>> from churnlab.datasets import load_cdnow_summary
    >>> rfm = load_cdnow_summary()
    >>> model = BetaGeo().fit(rfm)
    >>> result = period_transactions(model, rfm)
    >>> # actual: the CDNOW sample's counts (FHL 2005, figure 1); expected: the same as
    >>> # lifetimes 0.11.3 at these parameters (tests/test_diagnostics.py)
    >>> result.table.round(1).head(3)
                         actual  expected
    repeat_transactions
    0                      1411    1407.7
    1                       439     460.3
    2                       214     192.5
    >>> round(float(result.table["expected"].sum()), 6), round(result.chi_square, 2)
    (2357.0, 4.82)
    """
    from scipy import stats  # 0.4 s to import: loaded here, not on import churnlab

    _check_fitted(model)
    check_time_unit(model, data)
    max_frequency = _check_max_frequency(max_frequency)
    x, _, T = _rfm_arrays(data)
    labels = _bucket_labels(max_frequency)
    actual = np.bincount(_bucket_codes(x, max_frequency), minlength=max_frequency + 1)
    # customers share few distinct ages: evaluate P(X(t) = n) once per distinct T
    ages, counts = np.unique(T, return_counts=True)
    expected = np.empty(max_frequency + 1)
    for n in range(max_frequency):
        probability = np.asarray(model.probability_of_purchases(ages, n), dtype=float)
        expected[n] = float(np.sum(counts * probability))
    expected[max_frequency] = len(T) - expected[:max_frequency].sum()
    table = pd.DataFrame(
        {"actual": actual.astype(np.int64), "expected": expected},
        index=pd.Index(labels, name="repeat_transactions"),
    )
    chi_square = float(np.sum((actual - expected) ** 2 / expected))
    dof = max(len(labels) - 1 - N_BGNBD_PARAMS, 1)
    return PeriodTransactions(
        table=table,
        chi_square=chi_square,
        degrees_of_freedom=dof,
        p_value=float(stats.chi2.sf(chi_square, dof)),
    )


# --------------------------------------------------------------------------------------------
# frequency / recency grids
# --------------------------------------------------------------------------------------------


def _unit(model, time_unit: str | None) -> str | None:
    if time_unit is not None:
        unit_days(time_unit)  # raises on an unknown unit
        check_time_unit(model, time_unit=time_unit)
    return time_unit


def _grid(T: float, max_frequency: int, recency_step: float) -> tuple[np.ndarray, np.ndarray]:
    T = check_number(T, "T", low=0, low_open=True, hint="T is a customer age.")
    max_frequency = _check_max_frequency(max_frequency)
    recency_step = check_number(recency_step, "recency_step", low=0, low_open=True)
    recency = np.arange(0.0, T + 1e-9, recency_step)
    if T - recency[-1] > 1e-9:
        recency = np.append(recency, T)
    frequency = np.arange(int(max_frequency) + 1)
    return frequency, recency


def _check_grid_arguments(T, max_frequency, recency_step) -> None:
    """Refuse a bad grid before the model is asked anything."""
    _grid(T, max_frequency, recency_step)


def _grid_frame(values_for, T, max_frequency, recency_step, attrs) -> pd.DataFrame:
    frequency, recency = _grid(T, max_frequency, recency_step)
    xx, rr = np.meshgrid(frequency, recency)
    # frequency 0 has recency 0 by definition: other cells of that column are not customers
    valid = (xx > 0) | (rr == 0)
    values = np.full(xx.shape, np.nan)
    x_valid = pd.Series(xx[valid].astype(float), name="frequency")
    r_valid = pd.Series(rr[valid], name="recency")
    T_valid = pd.Series(np.full(int(valid.sum()), float(T)), name="T")
    values[valid] = np.asarray(values_for(x_valid, r_valid, T_valid), dtype=float)
    out = pd.DataFrame(
        values,
        index=pd.Index(recency, name="recency"),
        columns=pd.Index(frequency, name="frequency"),
    )
    out.attrs.update(attrs)
    out.attrs["T"] = float(T)
    return out


def frequency_recency_matrix(
    model,
    T: float,
    *,
    t: float = 1.0,
    max_frequency: int = 20,
    recency_step: float = 1.0,
    time_unit: str | None = None,
) -> pd.DataFrame:
    """Expected purchases in the next ``t`` periods over a grid of frequency and recency.

    Each cell is E[Y(t) | x, t_x, T] (equation (10) of Fader, Hardie & Lee 2005) for a customer
    of age ``T`` with ``x`` repeat purchases, the last at age ``t_x``.

    Parameters
    ----------
    model : fitted purchase model
        With ``conditional_expected_purchases``.
    T : float
        Customer age at the end of observation, in the data's time unit.
    t : float
        Forecast horizon, in the same unit.
    max_frequency : int
        Largest frequency (columns 0 to ``max_frequency``).
    recency_step : float
        Spacing of the recency grid (rows 0, step, 2 step, ..., T).
    time_unit : {'W', 'D', 'M'}, optional
        The data's time unit, recorded in ``attrs`` for labels; it must equal the model's
        ``time_unit_`` when the model recorded one.

    Returns
    -------
    DataFrame
        Indexed by ``recency``, columns ``frequency``. Cells with frequency 0 and recency > 0
        describe no customer and are NaN. ``attrs`` records ``quantity``, ``T``, ``t`` and
        ``time_unit``.

    Examples
    --------
    >>> from churnlab import BetaGeo
    >>> from churnlab.datasets import load_cdnow_summary
    >>> model = BetaGeo().fit(load_cdnow_summary())
    >>> grid = frequency_recency_matrix(model, T=39, t=39, max_frequency=3, recency_step=13)
    >>> grid.round(2)  # equation (10); lifetimes 0.11.3 agrees (tests/test_diagnostics.py)
    frequency     0     1     2     3
    recency
    0.0        0.19  0.14  0.04  0.01
    13.0        NaN  0.47  0.60  0.54
    26.0        NaN  0.63  1.11  1.53
    39.0        NaN  0.72  1.37  2.03
    """
    t = check_number(t, "t", low=0, low_open=True, hint="t is a forecast horizon.")
    _check_grid_arguments(T, max_frequency, recency_step)
    _check_fitted(model)

    def values_for(x, t_x, age):
        return model.conditional_expected_purchases(t, x, t_x, age)

    attrs = {"quantity": "expected purchases", "t": float(t), "time_unit": _unit(model, time_unit)}
    return _grid_frame(values_for, T, max_frequency, recency_step, attrs)


def probability_alive_matrix(
    model,
    T: float,
    *,
    max_frequency: int = 20,
    recency_step: float = 1.0,
    time_unit: str | None = None,
) -> pd.DataFrame:
    """P(alive) over a grid of frequency and recency for customers of age ``T``.

    Each cell is P(alive | x, t_x, T) (equation (A2) of Fader, Hardie & Lee 2005, as
    implemented by the model's ``probability_alive``).

    Parameters
    ----------
    model : fitted purchase model
        With ``probability_alive``.
    T : float
        Customer age at the end of observation, in the data's time unit.
    max_frequency : int
        Largest frequency (columns 0 to ``max_frequency``).
    recency_step : float
        Spacing of the recency grid.
    time_unit : {'W', 'D', 'M'}, optional
        The data's time unit, recorded in ``attrs`` for labels; it must equal the model's
        ``time_unit_`` when the model recorded one.

    Returns
    -------
    DataFrame
        Indexed by ``recency``, columns ``frequency``; NaN where frequency is 0 and recency
        is positive. ``attrs`` records ``quantity``, ``T`` and ``time_unit``.

    Examples
    --------
    >>> from churnlab import BetaGeo
    >>> from churnlab.datasets import load_cdnow_summary
    >>> model = BetaGeo().fit(load_cdnow_summary())
    >>> # equation (13); lifetimes 0.11.3 agrees (tests/test_diagnostics.py)
    >>> probability_alive_matrix(model, T=39, max_frequency=2, recency_step=39).round(3)
    frequency    0      1      2
    recency
    0.0        1.0  0.152  0.025
    39.0       NaN  0.754  0.812
    """
    _check_grid_arguments(T, max_frequency, recency_step)
    _check_fitted(model)

    def values_for(x, t_x, age):
        return model.probability_alive(x, t_x, age)

    attrs = {"quantity": "P(alive)", "time_unit": _unit(model, time_unit)}
    return _grid_frame(values_for, T, max_frequency, recency_step, attrs)


# --------------------------------------------------------------------------------------------
# calibration vs holdout
# --------------------------------------------------------------------------------------------


def _holdout_predictions(model, split: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Actual and predicted repeat transactions in the holdout, one entry per customer."""
    _check_fitted(model)
    require_dataframe(split, "split")
    check_time_unit(model, split)
    require_columns(split, _SPLIT_COLUMNS, "split")
    x, t_x, T = _rfm_arrays(split, "_cal")
    duration = as_float_array(split["duration_holdout"], "duration_holdout")
    bad = duration <= 0
    if bad.any():
        fail("duration_holdout", "non-positive holdout length", split, bad)
    actual = as_float_array(split["frequency_holdout"], "frequency_holdout")
    bad = (actual < 0) | (actual != np.floor(actual))
    if bad.any():
        fail("frequency_holdout", "holdout counts that are not whole numbers >= 0", split, bad)
    horizon = duration[0] if np.all(duration == duration[0]) else duration
    predicted = model.conditional_expected_purchases(
        horizon,
        pd.Series(x, index=split.index, name="frequency"),
        pd.Series(t_x, index=split.index, name="recency"),
        pd.Series(T, index=split.index, name="T"),
    )
    return actual, np.asarray(predicted, dtype=float)


def _bucket_table(
    frequency_cal: np.ndarray, actual: np.ndarray, predicted: np.ndarray, max_frequency: int
) -> pd.DataFrame:
    codes = _bucket_codes(frequency_cal, max_frequency)
    size = max_frequency + 1
    customers = np.bincount(codes, minlength=size)
    actual_total = np.bincount(codes, weights=actual, minlength=size)
    predicted_total = np.bincount(codes, weights=predicted, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame(
            {
                "customers": customers.astype(np.int64),
                "actual_mean": actual_total / customers,
                "predicted_mean": predicted_total / customers,
                "actual_total": actual_total,
                "predicted_total": predicted_total,
            },
            index=pd.Index(_bucket_labels(max_frequency), name="frequency_cal"),
        )
    return table


def calibration_holdout_table(
    model, split: pd.DataFrame, *, max_frequency: int = DEFAULT_MAX_FREQUENCY
) -> pd.DataFrame:
    """Mean repeat transactions in the holdout by calibration frequency, actual vs predicted.

    The prediction for each customer is E[Y(t) | x, t_x, T] (equation (10) of Fader, Hardie &
    Lee 2005) with ``t`` the holdout length, from a model fitted on the calibration columns;
    the table averages both within buckets of calibration frequency (FHL 2005, figure 4).

    Parameters
    ----------
    model : fitted purchase model
        Fitted on ``frequency_cal``, ``recency_cal`` and ``T_cal``.
    split : DataFrame
        Output of :func:`churnlab.calibration_holdout_split`, in the model's time unit (its
        ``attrs["time_unit"]``, when recorded, must equal the model's ``time_unit_``).
    max_frequency : int
        Buckets 0, ..., ``max_frequency - 1`` and ``max_frequency+``.

    Returns
    -------
    DataFrame
        Indexed by ``frequency_cal`` ('0', ..., '7+'): ``customers``, ``actual_mean``,
        ``predicted_mean``, ``actual_total`` and ``predicted_total`` (repeat transactions in
        the holdout). Empty buckets have NaN means.

    Examples
    --------
    >>> from churnlab import BetaGeo, calibration_holdout_split
    >>> from churnlab.datasets import load_cdnow
    >>> split = calibration_holdout_split(load_cdnow("sample"), "1997-09-30", "1998-06-30")
    >>> model = BetaGeo().fit(split["frequency_cal"], split["recency_cal"], split["T_cal"])
    >>> # actual: recounts of the holdout purchases; predicted: equation (10), as lifetimes
    >>> # 0.11.3 computes it (tests/test_diagnostics.py)
    >>> calibration_holdout_table(model, split).round(2).head(3)
                   customers  actual_mean  predicted_mean  actual_total  predicted_total
    frequency_cal
    0                   1411         0.24            0.23         334.0           317.60
    1                    439         0.70            0.52         306.0           229.65
    2                    214         1.39            1.04         298.0           223.44
    """
    max_frequency = _check_max_frequency(max_frequency)
    actual, predicted = _holdout_predictions(model, split)
    return _bucket_table(split["frequency_cal"].to_numpy(), actual, predicted, max_frequency)


@dataclass(frozen=True, repr=False)
class HoldoutValidation(Result):
    """Predicted vs actual repeat transactions in a holdout period.

    Attributes
    ----------
    table : DataFrame
        Per calibration-frequency bucket (see :func:`calibration_holdout_table`), plus
        ``error_percent`` = 100 (predicted - actual) / actual of the bucket totals.
    measures : DataFrame
        The headline measures below in one column, ``value`` (a property).
    customers : DataFrame
        One row per customer: ``frequency_cal``, ``actual`` and ``predicted``.
    actual_total, predicted_total : float
        Repeat transactions in the holdout, summed over customers.
    error_percent : float
        100 (predicted_total - actual_total) / actual_total.
    mae, rmse : float
        Per-customer mean absolute and root mean squared error.
    bucket_wape : float
        Customer-weighted absolute percentage error of the bucket means:
        100 sum_b n_b |predicted_b - actual_b| / sum_b n_b actual_b.
    correlation : float
        Pearson correlation of predicted and actual per customer.
    duration : float
        Holdout length in the data's time unit.
    """

    table: pd.DataFrame
    customers: pd.DataFrame
    actual_total: float
    predicted_total: float
    error_percent: float
    mae: float
    rmse: float
    bucket_wape: float
    correlation: float
    duration: float

    @property
    def measures(self) -> pd.DataFrame:
        """The headline measures as a one-column DataFrame (``value``, indexed by measure)."""
        values = {
            "customers": float(len(self.customers)),
            "holdout length": self.duration,
            "actual repeat transactions": self.actual_total,
            "predicted repeat transactions": self.predicted_total,
            "error (%)": self.error_percent,
            "per-customer MAE": self.mae,
            "per-customer RMSE": self.rmse,
            "bucket-weighted APE (%)": self.bucket_wape,
            "correlation": self.correlation,
        }
        return pd.DataFrame({"value": values}).rename_axis("measure")

    def __repr__(self) -> str:
        return (
            f"HoldoutValidation(actual_total={self.actual_total:.0f}, "
            f"predicted_total={self.predicted_total:.1f}, error_percent={self.error_percent:.2f}, "
            f"mae={self.mae:.3f}, rmse={self.rmse:.3f}, bucket_wape={self.bucket_wape:.2f}, "
            f"correlation={self.correlation:.3f}, duration={self.duration:g})\n"
            f"{self.table.round(3).to_string()}"
        )

    def _html_title(self) -> str:
        return "Holdout validation"

    def _html_notes(self) -> list[str]:
        return [
            f"actual {self.actual_total:,.0f}, predicted {self.predicted_total:,.1f} repeat "
            f"transactions in {self.duration:g} periods ({self.error_percent:+.1f}%)",
            f"per customer: MAE {self.mae:.3f}, RMSE {self.rmse:.3f}, "
            f"correlation {self.correlation:.3f}",
            f"bucket-weighted absolute percentage error: {self.bucket_wape:.1f}%",
        ]


def holdout_validation(
    model, split: pd.DataFrame, *, max_frequency: int = DEFAULT_MAX_FREQUENCY
) -> HoldoutValidation:
    """Validate a purchase model's forecasts on a holdout period.

    Parameters
    ----------
    model : fitted purchase model
        Fitted on the calibration columns of ``split``.
    split : DataFrame
        Output of :func:`churnlab.calibration_holdout_split`, in the model's time unit (its
        ``attrs["time_unit"]``, when recorded, must equal the model's ``time_unit_``).
    max_frequency : int
        Calibration-frequency buckets 0, ..., ``max_frequency - 1`` and ``max_frequency+``.

    Returns
    -------
    HoldoutValidation

    Examples
    --------
    >>> from churnlab import BetaGeo, calibration_holdout_split
    >>> from churnlab.datasets import load_cdnow
    >>> split = calibration_holdout_split(load_cdnow("sample"), "1997-09-30", "1998-06-30")
    >>> model = BetaGeo().fit(split["frequency_cal"], split["recency_cal"], split["T_cal"])
    >>> result = holdout_validation(model, split)
    >>> # 1,882 repeat purchase days in the holdout (a recount of the raw data); the forecast
    >>> # is lifetimes 0.11.3's too (tests/test_diagnostics.py)
    >>> result.actual_total, round(result.predicted_total)
    (1882.0, 1653)
    """
    max_frequency = _check_max_frequency(max_frequency)
    actual, predicted = _holdout_predictions(model, split)
    frequency_cal = split["frequency_cal"].to_numpy()
    table = _bucket_table(frequency_cal, actual, predicted, max_frequency)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["error_percent"] = (
            100.0 * (table["predicted_total"] - table["actual_total"]) / table["actual_total"]
        )
    actual_total = float(actual.sum())
    predicted_total = float(predicted.sum())
    residual = predicted - actual
    if np.std(actual) > 0 and np.std(predicted) > 0:
        correlation = float(np.corrcoef(predicted, actual)[0, 1])
    else:
        correlation = float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        error_percent = 100.0 * (predicted_total - actual_total) / actual_total
        bucket_wape = (
            100.0 * np.sum(np.abs(table["predicted_total"] - table["actual_total"])) / actual_total
        )
    customers = pd.DataFrame(
        {"frequency_cal": frequency_cal, "actual": actual, "predicted": predicted},
        index=split.index,
    )
    return HoldoutValidation(
        table=table,
        customers=customers,
        actual_total=actual_total,
        predicted_total=predicted_total,
        error_percent=float(error_percent),
        mae=float(np.mean(np.abs(residual))),
        rmse=float(np.sqrt(np.mean(residual**2))),
        bucket_wape=float(bucket_wape),
        correlation=correlation,
        duration=float(split["duration_holdout"].iloc[0]),
    )


# --------------------------------------------------------------------------------------------
# tracking over calendar time
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Tracking(Result):
    """Repeat transactions per period of calendar time, actual vs expected under the model.

    Attributes
    ----------
    table : DataFrame
        Indexed by ``period`` (1, 2, ...): ``start`` and ``end`` (first and last calendar day
        of the period), ``actual`` and ``expected`` repeat transactions in the period, and
        their running totals ``actual_cumulative`` and ``expected_cumulative``.
    calibration_end : Timestamp or None
        End of the calibration period, when given.
    calibration_periods : float or None
        ``calibration_end`` in periods since the start of the first period.
    time_unit : str
        The period length ('D', 'W' or 'M').
    """

    table: pd.DataFrame
    calibration_end: pd.Timestamp | None
    calibration_periods: float | None
    time_unit: str

    @property
    def error_percent(self) -> float:
        """100 (expected - actual) / actual of the cumulative totals at the last period."""
        last = self.table.iloc[-1]
        return float(
            100.0
            * (last["expected_cumulative"] - last["actual_cumulative"])
            / last["actual_cumulative"]
        )

    def __repr__(self) -> str:
        last = self.table.iloc[-1]
        end = "None" if self.calibration_end is None else f"{self.calibration_end:%Y-%m-%d}"
        return (
            f"Tracking(periods={len(self.table)}, time_unit={self.time_unit!r}, "
            f"calibration_end={end}, actual_cumulative={last['actual_cumulative']:.0f}, "
            f"expected_cumulative={last['expected_cumulative']:.1f}, "
            f"error_percent={self.error_percent:.2f})"
        )

    def _html_title(self) -> str:
        return "Tracking"

    def _html_notes(self) -> str:
        last = self.table.iloc[-1]
        return (
            f"{len(self.table)} periods ({self.time_unit}); cumulative repeat transactions at "
            f"the end: actual {last['actual_cumulative']:,.0f}, expected "
            f"{last['expected_cumulative']:,.1f} ({self.error_percent:+.1f}%)"
        )


def tracking(
    model,
    transactions: pd.DataFrame,
    observation_end,
    *,
    calibration_end=None,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    time_unit: str = "W",
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
) -> Tracking:
    """Repeat transactions per period over calendar time, actual vs expected (FHL 2005, fig. 2-3).

    Periods start on the earliest first-purchase day: period ``k`` covers days
    ``[start + (k-1) u, start + k u)`` with ``u`` the length of ``time_unit`` in days, the last
    one cut at ``observation_end``. Actual counts are repeat purchase days (several purchases
    of one customer on one day are one purchase, the first day is not a repeat), as in
    :func:`churnlab.rfm_summary`. Expected cumulative repeat transactions by the last day of a
    period are the sum over customers of the unconditional E[X(age_i)] (equation (9) of Fader,
    Hardie & Lee 2005), where ``age_i`` is the time from the customer's first purchase to that
    day, measured as ``T`` is in :func:`churnlab.rfm_summary`; customers born on the same day
    share one evaluation.

    Parameters
    ----------
    model : fitted purchase model
        With ``expected_purchases(t)``, fitted in ``time_unit``.
    transactions : DataFrame
        One row per transaction, with ``customer_col``, ``date_col`` and ``amount_col``
        (read as by :func:`churnlab.rfm_summary`: a return is not a purchase).
    observation_end : date-like or None
        Last day tracked (None: the last transaction date); later transactions are ignored.
    calibration_end : date-like, optional
        End of the calibration period. When given, only customers whose first purchase is on
        or before it are tracked (those the model was fitted on), and it is recorded for plots.
    customer_col, date_col, amount_col : str
        Column names; ``amount_col=None`` when there is no amount (every row a purchase).
    time_unit : {'W', 'D', 'M'}
        Period length; it must equal the model's ``time_unit_`` when the model recorded one
        (the expected counts are E[X(t)] with ``t`` in this unit).
    returns, date_format, tz
        As in :func:`churnlab.rfm_summary`.

    Returns
    -------
    Tracking

    Examples
    --------
    >>> from churnlab import BetaGeo, calibration_holdout_split
    >>> from churnlab.datasets import load_cdnow
    >>> tx = load_cdnow("sample")
    >>> split = calibration_holdout_split(tx, "1997-09-30", "1998-06-30")
    >>> model = BetaGeo().fit(split["frequency_cal"], split["recency_cal"], split["T_cal"])
    >>> result = tracking(model, tx, "1998-06-30", calibration_end="1997-09-30")
    >>> # 78 weeks from 1997-01-01; 4,339 repeat purchase days (a recount of the raw data); the
    >>> # expected total sums lifetimes 0.11.3's equation (9) over customers
    >>> # (tests/test_diagnostics.py), as in FHL 2005, figure 3
    >>> len(result.table), int(result.table["actual_cumulative"].iloc[-1])
    (78, 4339)
    >>> round(result.table["expected_cumulative"].iloc[-1])
    4161
    """
    _check_fitted(model)
    unit = unit_days(time_unit)
    check_time_unit(model, time_unit=time_unit)
    table = read_transactions(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        tz=tz,
    )
    if len(table) == 0:
        raise ValueError("transactions are empty: nothing to track")
    end_day = table.end_day(observation_end, "observation_end")
    ids = table.ids
    customer, day, _, _ = table.purchases(returns=returns, end=end_day).occasions()
    if len(day) == 0:
        raise ValueError(
            f"no customer made a first purchase on or before {observation_end}: nothing to track"
        )
    # first purchase day of each customer (days are sorted by customer, then day)
    n_days = np.bincount(customer, minlength=len(ids))
    has = n_days > 0
    first_index = np.r_[0, np.cumsum(n_days)[:-1]]
    birth = np.where(has, day[np.minimum(first_index, len(day) - 1)], np.iinfo(np.int64).max)
    tracked = has & (birth <= end_day)
    cal_end_day = None
    if calibration_end is not None:
        cal_end_day = table.end_day(calibration_end, "calibration_end")
        if cal_end_day >= end_day:
            raise ValueError(
                f"calibration_end ({calibration_end}) must be before observation_end "
                f"({observation_end})"
            )
        tracked &= birth <= cal_end_day
    if not tracked.any():
        raise ValueError(
            f"no customer made a first purchase on or before {observation_end}: nothing to track"
        )
    start_day = int(birth[tracked].min())
    n_periods = int(np.ceil((end_day + 1 - start_day) / unit - 1e-9))
    boundaries = start_day + unit * np.arange(n_periods + 1)  # period k: [b_{k-1}, b_k)
    last_day = np.minimum(np.ceil(boundaries[1:] - 1e-9).astype(np.int64) - 1, end_day)
    first_day = np.ceil(boundaries[:-1] - 1e-9).astype(np.int64)

    # actual: repeat purchase days of tracked customers, by period
    is_repeat = np.ones(len(day), dtype=bool)
    is_repeat[first_index[has]] = False
    keep = is_repeat & tracked[customer] & (day <= end_day)
    period = np.floor((day[keep] - start_day) / unit + 1e-9).astype(np.int64)
    actual = np.bincount(period, minlength=n_periods)[:n_periods].astype(float)

    # expected: sum over birth days of (customers born that day) * E[X(age at period end)]
    births, born = np.unique(birth[tracked], return_counts=True)
    ages = (last_day[None, :] - births[:, None]) / unit  # births x periods
    positive = ages > 0
    expected_x = np.zeros(ages.shape)
    expected_x[positive] = np.asarray(model.expected_purchases(ages[positive]), dtype=float)
    expected_cumulative = born @ expected_x
    expected = np.diff(np.r_[0.0, expected_cumulative])

    epoch = np.datetime64("1970-01-01", "D")
    table = pd.DataFrame(
        {
            "start": (epoch + first_day).astype("datetime64[ns]"),
            "end": (epoch + last_day).astype("datetime64[ns]"),
            "actual": actual,
            "expected": expected,
            "actual_cumulative": np.cumsum(actual),
            "expected_cumulative": expected_cumulative,
        },
        index=pd.Index(np.arange(1, n_periods + 1), name="period"),
    )
    calibration_periods = None if cal_end_day is None else (cal_end_day + 1 - start_day) / unit
    return Tracking(
        table=table,
        calibration_end=None
        if cal_end_day is None
        else pd.Timestamp(np.datetime64(cal_end_day, "D")),
        calibration_periods=calibration_periods,
        time_unit=time_unit,
    )
