"""From transactions to per-customer recency / frequency / monetary summaries.

The summary follows the conventions of the buy-till-you-die literature (Fader, Hardie & Lee
2005): purchases are first collapsed to calendar days (several purchases on one day are one
purchase occasion), the first day is the customer's "birth", and

* ``frequency`` = number of *repeat* purchase days (days with a purchase, minus one),
* ``recency``   = time from the first to the last purchase day,
* ``T``         = time from the first purchase day to the end of observation,
* ``monetary_value`` = mean spend per repeat purchase day (0 when there is none),

all measured in one time unit (:data:`TIME_UNITS`). Time units are defined here and nowhere
else.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab._validation import (
    as_timestamp,
    fail,
    parse_dates,
    require_columns,
    require_dataframe,
    require_no_nan,
)

#: Length of each supported time unit in days. A month is the mean Gregorian month
#: (365.2425 / 12 = 30.436875 days), never a hidden 30-day month.
TIME_UNITS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.2425 / 12}

_DAY = np.timedelta64(1, "D")


def unit_days(time_unit: str) -> float:
    """Number of days in ``time_unit`` ('D', 'W' or 'M').

    >>> unit_days("W")
    7.0
    """
    try:
        return TIME_UNITS[time_unit]
    except KeyError:
        raise ValueError(
            f"time_unit={time_unit!r} is not supported; use one of {sorted(TIME_UNITS)}"
        ) from None


def _purchase_days(
    transactions: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray]:
    """Validate transactions and collapse them to one row per (customer, calendar day).

    Returns the customer ids (sorted), and for each purchase day, sorted by customer then day:
    the customer's position in the ids, the day as integer days since the epoch, and the day's
    total amount (zeros when ``amount_col`` is None).
    """
    require_dataframe(transactions, "transactions")
    columns = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
    require_columns(transactions, columns, "transactions")
    require_no_nan(transactions, [customer_col] + ([amount_col] if amount_col else []))
    dates = parse_dates(transactions, date_col)
    days = dates.to_numpy().astype("datetime64[D]").astype(np.int64)
    codes, ids = pd.factorize(transactions[customer_col], sort=True)
    if amount_col is not None:
        amounts = pd.to_numeric(transactions[amount_col], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(amounts)
        if bad.any():
            fail(amount_col, "amounts that are not finite numbers", transactions, bad)
    else:
        amounts = np.zeros(len(transactions))
    if len(days) == 0:
        return ids, codes.astype(np.int64), days, amounts
    span = int(days.max() - days.min()) + 1
    key = codes.astype(np.int64) * span + (days - days.min())
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    starts = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1]])
    day_amount = np.add.reduceat(amounts[order], starts)
    first = key_sorted[starts]
    return ids, first // span, first % span + days.min(), day_amount


def _summarise(
    customer: np.ndarray,
    day: np.ndarray,
    day_amount: np.ndarray,
    n_customers: int,
    end_day: int,
    unit: float,
) -> dict[str, np.ndarray]:
    """Per-customer frequency / recency / T / monetary value from sorted purchase days."""
    n_days = np.bincount(customer, minlength=n_customers)
    has = n_days > 0
    starts = np.r_[0, np.cumsum(n_days)[:-1]]
    last_idx = np.cumsum(n_days) - 1
    first_day = np.where(has, day[np.minimum(starts, len(day) - 1)] if len(day) else 0, 0)
    last_day = np.where(has, day[np.maximum(last_idx, 0)] if len(day) else 0, 0)
    total = np.bincount(customer, weights=day_amount, minlength=n_customers)
    first_amount = np.where(has, day_amount[np.minimum(starts, len(day) - 1)] if len(day) else 0, 0)
    frequency = np.maximum(n_days - 1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, (total - first_amount) / np.maximum(frequency, 1), 0.0)
    return {
        "has": has,
        "frequency": frequency,
        "recency": (last_day - first_day) / unit,
        "T": (end_day - first_day) / unit,
        "monetary_value": monetary,
        "first_day": first_day,
    }


def rfm_summary(
    transactions: pd.DataFrame,
    observation_end=None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    time_unit: str = "W",
) -> pd.DataFrame:
    """Summarise transactions into one row per customer: frequency, recency, T, monetary value.

    Parameters
    ----------
    transactions : DataFrame
        One row per transaction.
    observation_end : date-like, optional
        End of the observation window (inclusive); transactions after it are ignored and
        customers whose first purchase is after it are left out. Defaults to the last date.
    customer_col, date_col, amount_col : str
        Column names. ``amount_col=None`` skips the monetary value.
    time_unit : {'W', 'D', 'M'}
        Unit of ``recency`` and ``T``; see :data:`TIME_UNITS`.

    Returns
    -------
    DataFrame
        Indexed by customer id (sorted), with ``frequency`` (int), ``recency``, ``T`` and
        ``monetary_value`` (mean spend per repeat purchase day; 0 without repeats).
        ``attrs["time_unit"]`` records the unit.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                    "date": ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"],
    ...                    "amount": [10.0, 5.0, 20.0, 7.0]})
    >>> rfm_summary(tx, "2024-01-29")
                 frequency  recency    T  monetary_value
    customer_id
    1                    1      2.0  4.0            20.0
    2                    0      0.0  3.0             0.0
    """
    unit = unit_days(time_unit)
    ids, customer, day, day_amount = _purchase_days(
        transactions, customer_col, date_col, amount_col
    )
    end_day = _end_day(observation_end, day, "observation_end")
    keep = day <= end_day
    s = _summarise(customer[keep], day[keep], day_amount[keep], len(ids), end_day, unit)
    has = s["has"]
    out = pd.DataFrame(
        {
            "frequency": s["frequency"][has].astype(np.int64),
            "recency": s["recency"][has],
            "T": s["T"][has],
            "monetary_value": s["monetary_value"][has],
        },
        index=pd.Index(ids[has], name=customer_col),
    )
    if amount_col is None:
        out = out.drop(columns="monetary_value")
    out.attrs["time_unit"] = time_unit
    return out


def _end_day(value, day: np.ndarray, name: str) -> int:
    if value is None:
        if len(day) == 0:
            raise ValueError("transactions are empty")
        return int(day.max())
    stamp = as_timestamp(value, name)
    return int(np.datetime64(stamp.normalize(), "D").astype(np.int64))


def calibration_holdout_split(
    transactions: pd.DataFrame,
    calibration_end,
    observation_end=None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    time_unit: str = "W",
) -> pd.DataFrame:
    """RFM summary of a calibration period and repeat purchases in the holdout that follows.

    Customers are those whose first purchase is on or before ``calibration_end``. The holdout
    is ``(calibration_end, observation_end]``.

    Returns
    -------
    DataFrame
        Indexed by customer id with ``frequency_cal``, ``recency_cal``, ``T_cal``,
        ``monetary_value_cal``, ``frequency_holdout`` (purchase days in the holdout),
        ``monetary_value_holdout`` (mean spend per holdout purchase day, 0 without) and
        ``duration_holdout`` (holdout length in ``time_unit``).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                    "date": ["2024-01-01", "2024-01-08", "2024-02-05", "2024-02-12"],
    ...                    "amount": [10.0, 5.0, 20.0, 7.0]})
    >>> split = calibration_holdout_split(tx, "2024-01-29", "2024-02-26")
    >>> split[["frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"]]
                 frequency_cal  recency_cal  T_cal  frequency_holdout  duration_holdout
    customer_id
    1                        1          1.0    4.0                  1               4.0
    """
    unit = unit_days(time_unit)
    ids, customer, day, day_amount = _purchase_days(
        transactions, customer_col, date_col, amount_col
    )
    cal_end = _end_day(calibration_end, day, "calibration_end")
    obs_end = _end_day(observation_end, day, "observation_end")
    if obs_end <= cal_end:
        raise ValueError(
            f"observation_end ({observation_end}) must be after calibration_end ({calibration_end})"
        )
    cal = day <= cal_end
    s = _summarise(customer[cal], day[cal], day_amount[cal], len(ids), cal_end, unit)
    hold = (day > cal_end) & (day <= obs_end)
    n_hold = np.bincount(customer[hold], minlength=len(ids))
    spend_hold = np.bincount(customer[hold], weights=day_amount[hold], minlength=len(ids))
    has = s["has"]
    out = pd.DataFrame(
        {
            "frequency_cal": s["frequency"][has].astype(np.int64),
            "recency_cal": s["recency"][has],
            "T_cal": s["T"][has],
            "monetary_value_cal": s["monetary_value"][has],
            "frequency_holdout": n_hold[has].astype(np.int64),
            "monetary_value_holdout": np.where(
                n_hold[has] > 0, spend_hold[has] / np.maximum(n_hold[has], 1), 0.0
            ),
            "duration_holdout": np.full(int(has.sum()), (obs_end - cal_end) / unit),
        },
        index=pd.Index(ids[has], name=customer_col),
    )
    if amount_col is None:
        out = out.drop(columns=["monetary_value_cal", "monetary_value_holdout"])
    out.attrs["time_unit"] = time_unit
    return out
