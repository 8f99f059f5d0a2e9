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

from churnlab.transactions import DEFAULT_RETURNS, distinct_days, read_transactions

#: Days in a mean Gregorian year (97 leap years in 400).
DAYS_PER_YEAR = 365.2425

#: Length of each supported time unit in days. A month is the mean Gregorian month
#: (365.2425 / 12 = 30.436875 days), never a hidden 30-day month.
TIME_UNITS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": DAYS_PER_YEAR / 12}


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


def summarise_purchases(
    customer: np.ndarray,
    day: np.ndarray,
    amount: np.ndarray | None,
    n_customers: int,
    end_day: int,
    unit: float,
    occasions: tuple[np.ndarray, ...] | None = None,
) -> dict[str, np.ndarray]:
    """Per-customer frequency / recency / T / monetary value from purchase rows.

    The one place the RFM arithmetic lives (:func:`rfm_summary`,
    :func:`calibration_holdout_split` and the churn features use it). ``customer``, ``day``
    and ``amount`` are per purchase row (:class:`churnlab.transactions.Purchases`), ``end_day``
    the last day observed, ``unit`` the time unit in days.

    The mean spend of repeat purchase days is (total spend - spend on the first day) / number
    of repeat days, so no per-day sums are needed. ``occasions``, the same rows already
    collapsed and sorted (:meth:`churnlab.transactions.Purchases.occasions`), saves the sort
    that counting purchase days otherwise needs; the result is identical.
    """
    if amount is None:
        amount = np.zeros(len(day))
    if occasions is None:
        n_days = distinct_days(customer, day, n_customers)
        has = n_days > 0
        first_day = np.full(n_customers, np.iinfo(np.int64).max)
        np.minimum.at(first_day, customer, day)
        last_day = np.full(n_customers, np.iinfo(np.int64).min)
        np.maximum.at(last_day, customer, day)
        first_day = np.where(has, first_day, 0)
        last_day = np.where(has, last_day, 0)
    else:
        o_customer, o_day = occasions[0], occasions[1]
        n_days = np.bincount(o_customer, minlength=n_customers)
        has = n_days > 0
        ends = np.cumsum(n_days)
        first_day = np.where(has, o_day[np.minimum(ends - n_days, len(o_day) - 1)], 0)
        last_day = np.where(has, o_day[np.maximum(ends - 1, 0)], 0)
    total = np.bincount(customer, weights=amount, minlength=n_customers)
    on_first = day == first_day[customer]
    first_amount = np.bincount(customer[on_first], weights=amount[on_first], minlength=n_customers)
    out = rfm_columns(n_days, first_day, last_day, total, first_amount, end_day, unit)
    return {"has": has, **out, "first_day": first_day}


def rfm_columns(
    n_days: np.ndarray,
    first_day: np.ndarray,
    last_day: np.ndarray,
    total: np.ndarray,
    first_amount: np.ndarray,
    end_day: int,
    unit: float,
) -> dict[str, np.ndarray]:
    """frequency / recency / T / monetary value from per-customer purchase-day aggregates.

    The RFM arithmetic of :func:`summarise_purchases`, for callers that already hold the
    aggregates (the churn features derive them from sorted purchase occasions).

    Parameters
    ----------
    n_days : int array
        Purchase days (occasions) of each customer.
    first_day, last_day : int array
        The customer's first and last purchase day (days since 1970-01-01).
    total, first_amount : float array
        The customer's total spend and spend on the first purchase day.
    end_day : int
        The last day observed.
    unit : float
        The time unit in days.

    Returns
    -------
    dict
        ``frequency``, ``recency``, ``T`` and ``monetary_value`` arrays.
    """
    frequency = np.maximum(n_days - 1, 0)
    # amounts are never negative (the returns policy), so the difference is >= 0 up to rounding
    repeat_spend = np.maximum(total - first_amount, 0.0)
    monetary = np.where(frequency > 0, repeat_spend / np.maximum(frequency, 1), 0.0)
    return {
        "frequency": frequency,
        "recency": (last_day - first_day) / unit,
        "T": (end_day - first_day) / unit,
        "monetary_value": monetary,
    }


def rfm_summary(
    transactions,
    observation_end=None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    time_unit: str = "W",
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
    engine_options: dict | None = None,
) -> pd.DataFrame:
    """Summarise transactions into one row per customer: frequency, recency, T, monetary value.

    Transactions are read through :mod:`churnlab.transactions` (validation, dates as calendar
    days, the returns policy and the one definition of a purchase occasion);
    :func:`churnlab.inspect_transactions` reports what that does to a table.

    Parameters
    ----------
    transactions : DataFrame, Polars or Arrow table, path, DuckDB relation or Spark DataFrame
        One row per transaction: a pandas DataFrame, or any input of :mod:`churnlab.engines`
        (a Polars DataFrame or PyArrow table; a path to a Parquet or CSV file, or a glob of
        them, and a DuckDB relation, summarised by DuckDB out of core; a Spark DataFrame,
        by :mod:`churnlab.spark`). The result is a pandas DataFrame whatever the input.
    observation_end : date-like, optional
        End of the observation window (inclusive); transactions after it are ignored and
        customers whose first purchase is after it are left out. Defaults to the last date.
    customer_col, date_col, amount_col : str
        Column names. ``amount_col=None`` skips the monetary value (every row is then a
        purchase).
    time_unit : {'W', 'D', 'M'}
        Unit of ``recency`` and ``T``; see :data:`TIME_UNITS`.
    returns : {'exclude', 'net', 'error'}
        What negative amounts (returns) do: see :data:`churnlab.transactions.RETURNS_POLICIES`.
        A return never creates a purchase occasion and monetary value is never negative;
        what is left out or netted is warned about with counts and value.
    date_format : str, optional
        How to read a numeric or unusual date column: a strftime pattern (``"%Y%m%d"``) or
        ``"unix_s"``, ``"unix_ms"``, ``"excel"``. Numeric dates are refused without it.
    tz : str, optional
        Time zone whose calendar days count. By default aware dates and date arguments count
        by their own wall-clock day in the data's zone, never through UTC.
    engine_options : dict, optional
        Settings of the DuckDB engine for files and relations: ``memory_limit`` (a size such
        as ``"4GB"``; default half of the machine's memory), ``temp_directory`` (where DuckDB
        spills beyond it) and ``threads``; see :mod:`churnlab.engines`.

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
    if engine_options is not None or not isinstance(transactions, pd.DataFrame):
        from churnlab.engines import dispatch  # files, relations, Polars, Arrow, Spark

        return dispatch(rfm_summary, locals())
    unit = unit_days(time_unit)
    table = read_transactions(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        tz=tz,
    )
    end_day = table.end_day(observation_end)
    _require_customers(table, end_day, observation_end, "observation_end")
    bought = table.purchases(returns=returns, end=end_day, window=f"the window to {_date(end_day)}")
    s = summarise_purchases(
        bought.customer, bought.day, bought.amount, len(table.ids), end_day, unit
    )
    has = s["has"]
    out = pd.DataFrame(
        {
            "frequency": s["frequency"][has].astype(np.int64),
            "recency": s["recency"][has],
            "T": s["T"][has],
            "monetary_value": s["monetary_value"][has],
        },
        index=pd.Index(table.ids[has], name=customer_col),
    )
    if amount_col is None:
        out = out.drop(columns="monetary_value")
    out.attrs["time_unit"] = time_unit
    return out


def _date(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _require_customers(table, end_day: int, end, name: str) -> None:
    """Raise when no transaction falls on or before ``end_day`` (an empty summary)."""
    if len(table) == 0:
        raise ValueError("transactions are empty: no customer can be summarised")
    if int(table.day.min()) > end_day:
        raise ValueError(
            f"{name}={end!r} is before every purchase: the transactions run from "
            f"{table.date_range()}, so no customer can be summarised"
        )


def calibration_holdout_split(
    transactions,
    calibration_end,
    observation_end=None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    time_unit: str = "W",
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
    engine_options: dict | None = None,
) -> pd.DataFrame:
    """RFM summary of a calibration period and repeat purchases in the holdout that follows.

    Customers are those whose first purchase is on or before ``calibration_end``. The holdout
    is ``(calibration_end, observation_end]``. The returns policy applies to each period on its
    own, so a holdout return never changes the calibration summary.

    Parameters
    ----------
    transactions : DataFrame, Polars or Arrow table, path, DuckDB relation or Spark DataFrame
        One row per transaction: a pandas DataFrame, or any input of :mod:`churnlab.engines`
        (a Polars DataFrame or PyArrow table; a path to a Parquet or CSV file, or a glob of
        them, and a DuckDB relation, summarised by DuckDB out of core; a Spark DataFrame,
        by :mod:`churnlab.spark`). The result is a pandas DataFrame whatever the input.
    calibration_end, observation_end : date-like
        Ends of the calibration and holdout periods (inclusive); ``observation_end``
        defaults to the last date.
    customer_col, date_col, amount_col : str
        Column names. ``amount_col=None`` skips the monetary value (every row is then a
        purchase).
    time_unit : {'W', 'D', 'M'}
        Unit of ``recency`` and ``T``; see :data:`TIME_UNITS`.
    returns : {'exclude', 'net', 'error'}
        What negative amounts (returns) do: see :data:`churnlab.transactions.RETURNS_POLICIES`.
        A return never creates a purchase occasion and monetary value is never negative;
        what is left out or netted is warned about with counts and value.
    date_format : str, optional
        How to read a numeric or unusual date column: a strftime pattern (``"%Y%m%d"``) or
        ``"unix_s"``, ``"unix_ms"``, ``"excel"``. Numeric dates are refused without it.
    tz : str, optional
        Time zone whose calendar days count. By default aware dates and date arguments count
        by their own wall-clock day in the data's zone, never through UTC.
    engine_options : dict, optional
        Settings of the DuckDB engine for files and relations: ``memory_limit`` (a size such
        as ``"4GB"``; default half of the machine's memory), ``temp_directory`` (where DuckDB
        spills beyond it) and ``threads``; see :mod:`churnlab.engines`.

    Returns
    -------
    DataFrame
        Indexed by customer id with ``frequency_cal``, ``recency_cal``, ``T_cal``,
        ``monetary_value_cal``, ``frequency_holdout`` (purchase days in the holdout),
        ``monetary_value_holdout`` (mean spend per holdout purchase day, 0 without) and
        ``duration_holdout`` (holdout length in ``time_unit``). ``attrs`` records
        ``time_unit`` and the two ends as ISO dates, ``calibration_end`` and
        ``observation_end`` (the last transaction day when ``observation_end`` is None).

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
    if engine_options is not None or not isinstance(transactions, pd.DataFrame):
        from churnlab.engines import dispatch  # files, relations, Polars, Arrow, Spark

        return dispatch(calibration_holdout_split, locals())
    unit = unit_days(time_unit)
    table = read_transactions(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        tz=tz,
    )
    if calibration_end is None:
        raise ValueError("calibration_end is required: the last day of the calibration period")
    cal_end = table.end_day(calibration_end, "calibration_end")
    obs_end = table.end_day(observation_end, "observation_end")
    if obs_end <= cal_end:
        raise ValueError(
            f"observation_end ({observation_end}) must be after calibration_end ({calibration_end})"
        )
    _require_customers(table, cal_end, calibration_end, "calibration_end")
    cal = table.purchases(
        returns=returns, end=cal_end, window=f"the calibration period to {_date(cal_end)}"
    )
    s = summarise_purchases(cal.customer, cal.day, cal.amount, len(table.ids), cal_end, unit)
    hold = table.purchases(
        returns=returns,
        start=cal_end + 1,
        end=obs_end,
        window=f"the holdout {_date(cal_end + 1)} to {_date(obs_end)}",
    )
    n_hold = distinct_days(hold.customer, hold.day, len(table.ids))
    hold_amount = np.zeros(len(hold)) if hold.amount is None else hold.amount
    spend_hold = np.bincount(hold.customer, weights=hold_amount, minlength=len(table.ids))
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
        index=pd.Index(table.ids[has], name=customer_col),
    )
    if amount_col is None:
        out = out.drop(columns=["monetary_value_cal", "monetary_value_holdout"])
    out.attrs["time_unit"] = time_unit
    out.attrs["calibration_end"] = str(np.datetime64(cal_end, "D"))
    out.attrs["observation_end"] = str(np.datetime64(obs_end, "D"))
    return out
