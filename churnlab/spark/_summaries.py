"""RFM summaries, the calibration / holdout split, churn features and the data-quality report
of a Spark transaction table.

Each function mirrors its pandas namesake (same arguments, same rules, same warnings and the
same numbers) and adds ``as_spark``: by default the per-customer result is collected to the
driver as the pandas DataFrame the pandas path returns (sorted by customer id, ``attrs`` set);
``as_spark=True`` leaves it in Spark, one row per customer (unordered) with the customer id as
a column, for outputs too large for the driver.

A call runs one validating pass over the table and one pass that computes and collects the
result (the returns counts of the warnings are observed on the way). With ``as_spark=True``,
the counts behind a returns warning need a pass of their own, run only when the table holds
returns; the result itself is computed when an action runs on it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, Observation
from pyspark.sql import functions as F

from churnlab._validation import as_timestamp, epoch_day
from churnlab.churn.features import (
    DEFAULT_WINDOWS,
    LABEL_NAME,
    _add_bgnbd,
    _check_windows,
    _join_attributes,
    _label_window,
    horizon_days,
)
from churnlab.rfm import unit_days
from churnlab.spark._models import add_bgnbd, with_time_unit
from churnlab.spark._occasions import (
    WIN,
    Period,
    customer_sums,
    day_name,
    day_records,
    in_period,
    refuse_returns,
    returns_stats,
    stat_aggregates,
    warn_returns,
)
from churnlab.spark._read import (
    AMOUNT,
    CUSTOMER,
    DAY,
    SparkTransactions,
    read_transactions,
    require_spark_frame,
)
from churnlab.transactions import DEFAULT_RETURNS, DataQualityReport, check_returns

# Warnings point at the caller of the public function: it -> _finish -> warn_returns.
_STACKLEVEL = 3


class _DayRange:
    """What :func:`churnlab.churn.features._label_window` reads of a table: its first and
    last day and how a date argument becomes a day (so the label-window rules stay there)."""

    def __init__(self, table: SparkTransactions):
        self.day = np.array([table.first_day, table.last_day])
        self.day_of = table.day_of


def _rfm_columns(prefix: str, end_day: int, unit: float) -> dict[str, Column]:
    """frequency / recency / T / monetary value of one period, as
    :func:`churnlab.rfm.summarise_purchases` computes them."""
    days = F.col(f"{prefix}days")
    first, last = F.col(f"{prefix}first"), F.col(f"{prefix}last")
    frequency = F.greatest(days - 1, F.lit(0)).cast("long")
    # amounts are never negative (the returns policy), so the difference is >= 0 up to rounding
    repeat_spend = F.greatest(F.col(f"{prefix}total") - F.col(f"{prefix}first_amount"), F.lit(0.0))
    return {
        "frequency": frequency,
        "recency": (last - first) / F.lit(unit),
        "T": (F.lit(end_day) - first) / F.lit(unit),
        "monetary_value": F.when(
            frequency > 0, repeat_spend / F.greatest(frequency, F.lit(1))
        ).otherwise(F.lit(0.0)),
    }


def _to_pandas_frame(frame: pd.DataFrame, customer_col: str) -> pd.DataFrame:
    """Index a collected result by customer id, sorted, as the pandas path does."""
    ids = frame[customer_col]
    if ids.dtype == object and len(ids) and isinstance(ids.iloc[0], str):
        frame[customer_col] = ids.astype(str)
    frame = frame.sort_values(customer_col, kind="stable").set_index(customer_col)
    return frame


def _finish(
    table: SparkTransactions,
    per_customer: DataFrame,
    keep: Column,
    columns: list[Column],
    periods: list[Period],
    returns: str,
    as_spark: bool,
):
    """Warn about returns per period and return the result, collected or as Spark."""
    need_stats = table.n_returns > 0 and returns != "error"
    prefixes = [f"p{k}_" for k in range(len(periods))]
    aggregates = [a for prefix in prefixes for a in stat_aggregates(prefix)]
    if as_spark:
        if need_stats:
            values = per_customer.agg(*aggregates).first().asDict()
            _warn(values, prefixes, periods, returns, table)
        return per_customer.filter(keep).select(*columns)
    observation = None
    if need_stats:
        observation = Observation()
        per_customer = per_customer.observe(observation, *aggregates)
    frame = per_customer.filter(keep).select(*columns).toPandas()
    if observation is not None:
        _warn(observation.get, prefixes, periods, returns, table)
    return frame


def _warn(values, prefixes, periods, returns, table) -> None:
    for prefix, period in zip(prefixes, periods, strict=True):
        warn_returns(
            returns_stats(values, prefix), returns, table.amount_col, period, _STACKLEVEL + 1
        )


def _per_customer(
    table: SparkTransactions,
    periods: list[Period],
    returns: str,
    *,
    gaps: bool = False,
    extra: list[Column] = (),
) -> DataFrame:
    records = day_records(table, periods, returns, gaps=gaps)
    aggregates = [a for k in range(len(periods)) for a in customer_sums(k, f"p{k}_")]
    return records.groupBy(CUSTOMER).agg(*aggregates, *extra)


def _require_customers(table: SparkTransactions, end_day: int, end, name: str) -> None:
    if table.n_rows == 0:
        raise ValueError("transactions are empty: no customer can be summarised")
    if table.first_day > end_day:
        raise ValueError(
            f"{name}={end!r} is before every purchase: the transactions run from "
            f"{table.date_range()}, so no customer can be summarised"
        )


def rfm_summary(
    transactions: DataFrame,
    observation_end=None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    time_unit: str = "W",
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
    as_spark: bool = False,
):
    """:func:`churnlab.rfm_summary` of a Spark transaction table, computed in Spark.

    Same arguments, rules and numbers as the pandas function (purchase occasions, the returns
    policy and its warning, time units); see it for their meaning, and
    :mod:`churnlab.spark` for how dates of each Spark type are read.

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
        One row per transaction.
    observation_end, customer_col, date_col, amount_col, time_unit, returns, date_format, tz
        As in :func:`churnlab.rfm_summary`.
    as_spark : bool
        Return a Spark DataFrame (columns ``customer_col``, ``frequency``, ``recency``,
        ``T``, ``monetary_value``; unordered; the time unit is kept in the metadata of
        ``recency`` and ``T``) instead of collecting the result.

    Returns
    -------
    DataFrame
        pandas, indexed by customer id (sorted), as :func:`churnlab.rfm_summary`; or Spark.

    Examples
    --------
    >>> from pyspark.sql import SparkSession
    >>> spark = SparkSession.builder.getOrCreate()
    >>> tx = spark.createDataFrame(
    ...     [(1, "2024-01-01", 10.0), (1, "2024-01-01", 5.0), (1, "2024-01-15", 20.0),
    ...      (2, "2024-01-08", 7.0)], ["customer_id", "date", "amount"])
    >>> rfm_summary(tx, "2024-01-29")
                 frequency  recency    T  monetary_value
    customer_id
    1                    1      2.0  4.0            20.0
    2                    0      0.0  3.0             0.0
    """
    unit = unit_days(time_unit)
    check_returns(returns)
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
    periods = [Period(None, end_day, f"the window to {day_name(end_day)}")]
    if returns == "error":
        refuse_returns(table, periods)
    per_customer = _per_customer(table, periods, returns)
    rfm = _rfm_columns("p0_", end_day, unit)
    names = ["frequency", "recency", "T"] + (["monetary_value"] if amount_col is not None else [])
    columns = [F.col(CUSTOMER).alias(customer_col)]
    for name in names:
        if as_spark and name in ("recency", "T"):
            columns.append(with_time_unit(rfm[name], name, time_unit))
        else:
            columns.append(rfm[name].alias(name))
    keep = F.col("p0_days") > 0
    out = _finish(table, per_customer, keep, columns, periods, returns, as_spark)
    if as_spark:
        return out
    out = _to_pandas_frame(out, customer_col)
    out.attrs["time_unit"] = time_unit
    return out


def calibration_holdout_split(
    transactions: DataFrame,
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
    as_spark: bool = False,
):
    """:func:`churnlab.calibration_holdout_split` of a Spark transaction table.

    Same arguments, rules and numbers as the pandas function: the RFM summary of the
    calibration period (customers whose first purchase is on or before ``calibration_end``)
    and the purchase days and mean spend in the holdout ``(calibration_end,
    observation_end]``, the returns policy applied to each period on its own.

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
        One row per transaction.
    calibration_end, observation_end, customer_col, date_col, amount_col, time_unit, returns, \
date_format, tz
        As in :func:`churnlab.calibration_holdout_split`.
    as_spark : bool
        Return the Spark DataFrame (``customer_col`` and the columns below; unordered).

    Returns
    -------
    DataFrame
        ``frequency_cal``, ``recency_cal``, ``T_cal``, ``monetary_value_cal``,
        ``frequency_holdout``, ``monetary_value_holdout``, ``duration_holdout``; ``attrs``
        as in the pandas function (``time_unit``, ``calibration_end``, ``observation_end``).

    Examples
    --------
    >>> from pyspark.sql import SparkSession
    >>> spark = SparkSession.builder.getOrCreate()
    >>> tx = spark.createDataFrame(
    ...     [(1, "2024-01-01", 10.0), (1, "2024-01-08", 5.0), (1, "2024-02-05", 20.0),
    ...      (2, "2024-02-12", 7.0)], ["customer_id", "date", "amount"])
    >>> split = calibration_holdout_split(tx, "2024-01-29", "2024-02-26")
    >>> split[["frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"]]
                 frequency_cal  recency_cal  T_cal  frequency_holdout  duration_holdout
    customer_id
    1                        1          1.0    4.0                  1               4.0
    """
    unit = unit_days(time_unit)
    check_returns(returns)
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
    periods = [
        Period(None, cal_end, f"the calibration period to {day_name(cal_end)}"),
        Period(cal_end + 1, obs_end, f"the holdout {day_name(cal_end + 1)} to {day_name(obs_end)}"),
    ]
    if returns == "error":
        refuse_returns(table, periods)
    per_customer = _per_customer(table, periods, returns)
    rfm = _rfm_columns("p0_", cal_end, unit)
    n_hold = F.col("p1_days")
    values = {
        "frequency_cal": rfm["frequency"],
        "recency_cal": rfm["recency"],
        "T_cal": rfm["T"],
        "monetary_value_cal": rfm["monetary_value"],
        "frequency_holdout": n_hold.cast("long"),
        "monetary_value_holdout": F.when(
            n_hold > 0, F.col("p1_total") / F.greatest(n_hold, F.lit(1))
        ).otherwise(F.lit(0.0)),
        "duration_holdout": F.lit((obs_end - cal_end) / unit),
    }
    if amount_col is None:
        del values["monetary_value_cal"], values["monetary_value_holdout"]
    columns = [F.col(CUSTOMER).alias(customer_col)]
    for name, value in values.items():
        if as_spark and name in ("recency_cal", "T_cal", "duration_holdout"):
            columns.append(with_time_unit(value, name, time_unit))
        else:
            columns.append(value.alias(name))
    keep = F.col("p0_days") > 0
    out = _finish(table, per_customer, keep, columns, periods, returns, as_spark)
    if as_spark:
        return out
    out = _to_pandas_frame(out, customer_col)
    out.attrs["time_unit"] = time_unit
    out.attrs["calibration_end"] = day_name(cal_end)
    out.attrs["observation_end"] = day_name(obs_end)
    return out


def make_churn_dataset(
    transactions: DataFrame,
    cutoff,
    horizon,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    quantity_col: str | None = None,
    time_unit: str = "W",
    windows: tuple[int, ...] = DEFAULT_WINDOWS,
    trend_window: int = 90,
    bgnbd: bool = True,
    attributes: pd.DataFrame | None = None,
    data_end=None,
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
    as_spark: bool = False,
):
    """:func:`churnlab.churn.make_churn_dataset` of a Spark transaction table.

    Every feature column of the pandas function, computed in Spark from the transactions on
    or before ``cutoff``, and the label ``churned`` (no purchase in ``(cutoff, cutoff +
    horizon]``), with the same arguments, rules and warnings. With ``bgnbd`` the BG/NBD
    model is fitted on the customers' distinct (frequency, recency, tenure) rows and
    ``p_alive`` and ``expected_purchases`` follow, as in the pandas function.

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
        One row per transaction.
    cutoff, horizon, customer_col, date_col, amount_col, quantity_col, time_unit, windows, \
trend_window, bgnbd, attributes, data_end, returns, date_format, tz
        As in :func:`churnlab.churn.make_churn_dataset`. ``attributes`` (a pandas DataFrame
        indexed by customer id) is joined on the driver, so only without ``as_spark``.
    as_spark : bool
        Return ``(X, y)`` as Spark DataFrames, each with a ``customer_col`` column
        (unordered); with ``bgnbd`` the model is still fitted at once (one pass), the
        predictions are made when an action runs.

    Returns
    -------
    X : DataFrame
        The features, indexed by customer id (sorted), ``attrs`` as in the pandas function.
    y : Series
        ``churned``: 1 without a purchase in the horizon, else 0.

    Examples
    --------
    >>> from pyspark.sql import SparkSession
    >>> spark = SparkSession.builder.getOrCreate()
    >>> tx = spark.createDataFrame(
    ...     [(1, "2024-01-01", 10.0), (1, "2024-01-15", 20.0), (1, "2024-02-26", 15.0),
    ...      (2, "2024-01-08", 7.0)], ["customer_id", "date", "amount"])
    >>> X, y = make_churn_dataset(tx, "2024-01-29", "4W", bgnbd=False)
    >>> X[["frequency", "recency", "tenure", "time_since_last_purchase", "spend_30d"]]
                 frequency  recency  tenure  time_since_last_purchase  spend_30d
    customer_id
    1                    1      2.0     4.0                       2.0       30.0
    2                    0      0.0     3.0                       3.0        7.0
    >>> y.tolist()
    [0, 1]
    """
    unit = unit_days(time_unit)
    h_days = horizon_days(horizon, time_unit)
    windows = _check_windows(windows, trend_window)
    check_returns(returns)
    if as_spark and attributes is not None:
        raise ValueError(
            "attributes are joined on the driver; with as_spark=True join them in Spark: "
            f"X.join(attributes, on='{customer_col}', how='left')"
        )
    table = read_transactions(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        extra_cols=(quantity_col,) if quantity_col else (),
        date_format=date_format,
        tz=tz,
        count_purchases_until=(cutoff, "cutoff"),
    )
    if table.n_rows == 0:
        raise ValueError("transactions are empty")
    cut_day, label_end = _label_window(_DayRange(table), cutoff, horizon, h_days, data_end)
    periods = [
        Period(None, cut_day, f"the history to {day_name(cut_day)}"),
        Period(
            cut_day + 1,
            label_end,
            f"the label window {day_name(cut_day + 1)} to {day_name(label_end)}",
        ),
    ]
    if returns == "error":
        refuse_returns(table, periods[:1])
    if table.n_purchases_until == 0:
        raise ValueError(f"no purchase on or before cutoff={cutoff!r}: only returns")
    if returns == "error":
        refuse_returns(table, periods[1:])

    age = F.lit(cut_day) - F.col(DAY)  # days before the cutoff (0 = on the cutoff)
    gap = F.col("gap").cast("double")  # days between consecutive purchase days
    extra = [
        F.sum(in_period(0, gap, 0.0)).alias("gap_sum"),
        F.stddev_samp(in_period(0, gap)).alias("gap_std"),
    ]
    for w in windows:
        inside = age < w
        extra += [
            F.count(in_period(0, F.when(inside, 1))).alias(f"n_{w}"),
            F.sum(in_period(0, F.when(inside, F.col("amount")).otherwise(0.0), 0.0)).alias(
                f"s_{w}"
            ),
        ]
    extra += [
        F.count(in_period(0, F.when(age < trend_window, 1))).alias("recent"),
        F.count(in_period(0, F.when((age >= trend_window) & (age < 2 * trend_window), 1))).alias(
            "earlier"
        ),
        F.sum(F.when(F.col(WIN) == 1, F.col("buy_rows")).otherwise(0)).alias("label_rows"),
    ]
    if quantity_col:
        extra.append(F.sum(in_period(0, F.col(table.extra[quantity_col]), 0.0)).alias("qty"))
    per_customer = _per_customer(table, periods, returns, gaps=True, extra=extra)

    rfm = _rfm_columns("p0_", cut_day, unit)
    # the gap statistics of churnlab.stats.gap_statistics (sample standard deviation, in days;
    # the mean needs one gap, the others two), 0 where undefined
    n_gaps = F.col("p0_days") - 1
    mean = F.col("gap_sum") / F.greatest(n_gaps, F.lit(1))
    std = F.col("gap_std")
    n_tx = F.col("p0_rows")
    spend = F.col("p0_total")
    recent, earlier = F.col("recent"), F.col("earlier")
    features = {
        "frequency": rfm["frequency"],
        "recency": rfm["recency"],
        "tenure": rfm["T"],
        "monetary_value": rfm["monetary_value"],
        "time_since_last_purchase": (F.lit(cut_day) - F.col("p0_last")) / F.lit(unit),
        "ipt_mean": F.when(n_gaps > 0, mean / F.lit(unit)).otherwise(0.0),
        "ipt_std": F.when(n_gaps > 1, std / F.lit(unit)).otherwise(0.0),
        "ipt_cv": F.when(n_gaps > 1, std / mean).otherwise(0.0),
    }
    for w in windows:
        features[f"purchases_{w}d"] = F.col(f"n_{w}").cast("long")
        features[f"spend_{w}d"] = F.col(f"s_{w}")
    total = recent + earlier
    features[f"trend_{trend_window}d"] = F.when(
        total > 0, (recent - earlier) / F.greatest(total, F.lit(1))
    ).otherwise(0.0)
    features["n_transactions"] = n_tx.cast("long")
    features["total_spend"] = spend
    features["avg_basket_value"] = spend / n_tx
    if quantity_col:
        features["avg_quantity"] = F.col("qty") / n_tx
    label = (F.col("label_rows") == 0).cast("long").alias(LABEL_NAME)
    columns = [F.col(CUSTOMER).alias(customer_col)]
    for name, value in features.items():
        if as_spark and name in ("recency", "tenure"):
            columns.append(with_time_unit(value, name, time_unit))
        else:
            columns.append(value.alias(name))
    keep = F.col("p0_days") > 0
    out = _finish(table, per_customer, keep, [*columns, label], periods, returns, as_spark)
    if as_spark:
        y = out.select(customer_col, LABEL_NAME)
        X = out.drop(LABEL_NAME)
        if bgnbd:
            X, _ = add_bgnbd(X, h_days / unit, time_unit)
        return X, y
    out = _to_pandas_frame(out, customer_col)
    y = out.pop(LABEL_NAME).astype(np.int64)
    X = out
    X.attrs.update(
        cutoff=day_name(cut_day),
        label_end=day_name(label_end),
        horizon_days=h_days,
        time_unit=time_unit,
    )
    if bgnbd:
        history = X[["frequency", "recency", "tenure"]].rename(columns={"tenure": "T"})
        history.attrs["time_unit"] = time_unit
        _add_bgnbd(X, history, h_days / unit)
    if attributes is not None:
        X = _join_attributes(X, attributes, customer_col)
    return X, y


def inspect_transactions(
    transactions: DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    observation_end=None,
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
) -> DataQualityReport:
    """:func:`churnlab.inspect_transactions` of a Spark transaction table.

    The same report (:class:`churnlab.transactions.DataQualityReport`) with the same counts,
    computed in Spark; it never raises on bad data: what the other functions would refuse is
    listed in ``problems``.

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
        One row per transaction.
    customer_col, date_col, amount_col, observation_end, returns, date_format, tz
        As in :func:`churnlab.inspect_transactions`.

    Returns
    -------
    DataQualityReport

    Examples
    --------
    >>> from pyspark.sql import SparkSession
    >>> spark = SparkSession.builder.getOrCreate()
    >>> tx = spark.createDataFrame(
    ...     [(1, "2024-01-01", 10.0), (1, "2024-01-01", 5.0), (1, "2024-01-09", -5.0),
    ...      (2, "2024-01-03", 0.0), (2, "2024-01-05", 20.0)], ["customer_id", "date", "amount"])
    >>> report = inspect_transactions(tx)
    >>> report.table.loc[["rows", "return rows", "zero-amount rows", "same-day rows merged",
    ...                   "purchase occasions"], "value"].tolist()
    [5, 1, 1, 1, 3]
    >>> report.ok
    True
    """
    check_returns(returns)
    sdf = require_spark_frame(transactions)
    problems: list[str] = []
    try:
        table = read_transactions(
            sdf,
            customer_col=customer_col,
            date_col=date_col,
            amount_col=amount_col,
            date_format=date_format,
            tz=tz,
        )
    except ValueError as err:
        problems.append(str(err))
        table = None
    end_stamp = None
    if observation_end is not None:
        try:
            zone = None if table is None else table.time_zone
            end_stamp = as_timestamp(observation_end, "observation_end", tz=zone).normalize()
        except ValueError as err:
            problems.append(str(err))
    n_rows = sdf.count() if table is None else table.n_rows
    duplicates = n_rows - sdf.distinct().count() if n_rows else 0
    if table is None or table.n_rows == 0:
        if table is not None:
            problems.append("transactions are empty: no customer can be summarised")
        n_customers = (
            sdf.select(customer_col).distinct().count() if customer_col in sdf.columns else 0
        )
        return DataQualityReport.unreadable(
            rows=n_rows,
            customers=n_customers,
            duplicate_rows=duplicates,
            observation_end=end_stamp,
            returns=returns,
            problems=problems,
        )
    first, last = table.first_day, table.last_day
    end_day = last if end_stamp is None else epoch_day(end_stamp)
    if end_stamp is not None and end_day < first:
        problems.append(
            f"observation_end={observation_end!r} is before every purchase: the transactions "
            f"run from {table.date_range()}"
        )
    day, amount = F.col(DAY), F.col(AMOUNT)
    window = day <= end_day
    records = table.rows.groupBy(CUSTOMER, DAY).agg(
        F.count(F.when(window & (amount >= 0), 1)).alias("buy"),
        F.count(F.when(window & (amount < 0), 1)).alias("ret"),
        F.sum(F.when(window & (amount < 0), amount).otherwise(0.0)).alias("ret_value"),
        F.count(F.when(window & (amount == 0), 1)).alias("zero"),
        F.count(F.when(~window, 1)).alias("after"),
    )
    customers = records.groupBy(CUSTOMER).agg(
        F.sum("buy").alias("buy"),
        F.count(F.when(F.col("buy") > 0, 1)).alias("occasions"),
        F.sum("ret").alias("ret"),
        F.sum("ret_value").alias("ret_value"),
        F.sum("zero").alias("zero"),
        F.sum("after").alias("after"),
    )
    counts = (
        customers.agg(
            F.count(F.lit(1)).alias("customers"),
            F.sum("buy").alias("buy"),
            F.sum("occasions").alias("occasions"),
            F.sum("ret").alias("ret"),
            F.sum("ret_value").alias("ret_value"),
            F.count(F.when((F.col("buy") == 0) & (F.col("ret") > 0), 1)).alias("only"),
            F.sum("zero").alias("zero"),
            F.sum("after").alias("after"),
        )
        .first()
        .asDict()
    )
    if returns == "error" and counts["ret"]:
        try:
            refuse_returns(table, [Period(None, end_day, "")])
        except ValueError as err:
            problems.append(str(err))
    if not counts["buy"] and not problems:
        problems.append("no purchase occasion on or before the observation end")
    epoch = np.datetime64("1970-01-01", "D")
    return DataQualityReport(
        rows=n_rows,
        customers=int(counts["customers"]),
        first_date=pd.Timestamp(epoch + first),
        last_date=pd.Timestamp(epoch + last),
        time_zone=table.time_zone,
        return_rows=int(counts["ret"]),
        return_value=float(counts["ret_value"]),
        returns_only_customers=int(counts["only"]),
        zero_amount_rows=int(counts["zero"]) if amount_col is not None else 0,
        same_day_rows_merged=int(counts["buy"]) - int(counts["occasions"]),
        purchase_occasions=int(counts["occasions"]),
        duplicate_rows=duplicates,
        rows_after_end=int(counts["after"]),
        observation_end=end_stamp,
        returns=returns,
        problems=tuple(problems),
    )
