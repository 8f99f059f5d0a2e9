"""Purchase occasions and the returns policy in Spark SQL.

The definitions are those of :mod:`churnlab.transactions`: a purchase occasion is a
customer's calendar day with at least one row of non-negative amount (their amounts add up,
zero-amount rows included); a return (negative amount) never creates one. ``returns=``
(:data:`churnlab.transactions.RETURNS_POLICIES`) decides what happens to a return's value,
window by window:

* ``"exclude"``: left out;
* ``"net"``: subtracted from the customer's latest occasion with positive spend on or before
  the return's day in the same window, the occasion floored at 0; returns with no such
  occasion are left out;
* ``"error"``: refused, showing the rows.

Everything happens on *day records*: one row per customer, window and day with purchases
or returns on it. Netting needs no join: ordered by day within a customer and window, the
running count of days with positive spend numbers each paid occasion and the days after it up
to the next one; the returns of that group are what the occasion absorbs (returns before the
first paid occasion form group 0 and are left out).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from churnlab._validation import MAX_ROWS_SHOWN
from churnlab.spark._read import AMOUNT, CUSTOMER, DAY, SparkTransactions
from churnlab.transactions import ReturnsWarning, _money, check_returns

#: Internal column of the window a day record belongs to (0, 1, ...).
WIN = "__churnlab_window"

#: Ordering key of day records that are not occasions (above any day): ``min_by`` skips them.
_NOT_AN_OCCASION = 2**31 - 1

#: The per-window sums behind the returns warnings (see :func:`returns_stats`).
STAT_FIELDS = (
    "ret_rows",
    "ret_value",
    "only_returns",
    "unmatched_rows",
    "unmatched_value",
    "floored",
    "excess",
)


@dataclass(frozen=True)
class Period:
    """Days ``start..end`` (inclusive; ``start`` None = from the first day) and their name."""

    start: int | None
    end: int
    name: str

    def contains(self, day: Column) -> Column:
        inside = day <= self.end
        return inside if self.start is None else inside & (day >= self.start)


def day_records(
    table: SparkTransactions, periods: list[Period], returns: str, *, gaps: bool = False
) -> DataFrame:
    """One row per customer, period and day with a purchase or a return on it.

    Columns: :data:`CUSTOMER`, :data:`WIN` (the period's position), :data:`DAY`, ``buy_rows``
    (purchase rows), ``amount`` (the occasion's spend under the returns policy), ``ret_rows``,
    ``ret_value`` (returns of the day), ``unmatched_rows``, ``unmatched_value`` (returns left
    out by netting), ``floored`` (1 when netting took the occasion below 0), ``excess`` (the
    value below 0 then), ``gap`` (with ``gaps``: days since the previous occasion of the
    period, null on the first) and the sums of the extra columns over purchase rows.
    """
    check_returns(returns)
    day = F.col(DAY)
    period = F.lit(None).cast("int")
    for k in reversed(range(len(periods))):
        period = F.when(periods[k].contains(day), F.lit(k)).otherwise(period)
    rows = table.rows.withColumn(WIN, period).filter(F.col(WIN).isNotNull())
    amount = F.col(AMOUNT)
    buy = amount >= 0
    aggregates = [
        F.count(F.when(buy, 1)).alias("buy_rows"),
        F.sum(F.when(buy, amount).otherwise(0.0)).alias("gross"),
        F.sum(F.when(amount > 0, amount).otherwise(0.0)).alias("paid"),
        F.count(F.when(~buy, 1)).alias("ret_rows"),
        F.sum(F.when(~buy, amount).otherwise(0.0)).alias("ret_value"),
    ]
    aggregates += [
        F.sum(F.when(buy, F.col(name)).otherwise(0.0)).alias(name) for name in table.extra.values()
    ]
    keys = [CUSTOMER, WIN, DAY]
    # one shuffle: every later step (netting, gaps, per-customer sums) is within a customer
    records = rows.repartition(CUSTOMER).groupBy(*keys).agg(*aggregates)
    ordered = Window.partitionBy(CUSTOMER, WIN).orderBy(DAY)
    so_far = ordered.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    zero = F.lit(0.0)
    if returns == "net":
        paid = F.col("paid")
        records = records.withColumn("group", F.sum(F.when(paid > 0, 1).otherwise(0)).over(so_far))
        group = Window.partitionBy(CUSTOMER, WIN, "group")
        net = paid + F.sum("ret_value").over(group)
        unmatched = F.col("group") == 0
        records = records.select(
            *keys,
            "buy_rows",
            # the occasion's rows scaled by max(net, 0) / paid add up to max(net, 0)
            F.when(paid > 0, F.greatest(net, zero)).otherwise(F.col("gross")).alias("amount"),
            "ret_rows",
            "ret_value",
            F.when(unmatched, F.col("ret_rows")).otherwise(0).alias("unmatched_rows"),
            F.when(unmatched, F.col("ret_value")).otherwise(zero).alias("unmatched_value"),
            F.when((paid > 0) & (net < 0), 1).otherwise(0).alias("floored"),
            F.when((paid > 0) & (net < 0), net).otherwise(zero).alias("excess"),
            *table.extra.values(),
        )
    else:
        records = records.select(
            *keys,
            "buy_rows",
            F.col("gross").alias("amount"),
            "ret_rows",
            "ret_value",
            F.lit(0).alias("unmatched_rows"),
            zero.alias("unmatched_value"),
            F.lit(0).alias("floored"),
            zero.alias("excess"),
            *table.extra.values(),
        )
    if gaps:
        before = ordered.rowsBetween(Window.unboundedPreceding, -1)
        occasion_day = F.when(F.col("buy_rows") > 0, F.col(DAY))
        previous = F.last(occasion_day, ignorenulls=True).over(before)
        records = records.withColumn("gap", F.when(F.col("buy_rows") > 0, F.col(DAY) - previous))
    return records


def in_period(k: int, value: Column, otherwise=None) -> Column:
    """``value`` on the day records of period ``k`` (and of occasions only), else ``otherwise``."""
    chosen = F.when((F.col(WIN) == k) & (F.col("buy_rows") > 0), value)
    return chosen if otherwise is None else chosen.otherwise(otherwise)


def customer_sums(k: int, prefix: str) -> list[Column]:
    """Per-customer aggregates of period ``k``: the RFM ingredients and the returns counts.

    ``{prefix}days`` (occasions), ``{prefix}first``, ``{prefix}last`` (days),
    ``{prefix}total`` (spend), ``{prefix}first_amount`` (spend on the first day),
    ``{prefix}rows`` (purchase rows) and the :data:`STAT_FIELDS` ingredients.
    """
    day, amount = F.col(DAY), F.col("amount")
    in_k = F.col(WIN) == k
    return [
        F.count(in_period(k, F.lit(1))).alias(f"{prefix}days"),
        F.min(in_period(k, day)).alias(f"{prefix}first"),
        F.max(in_period(k, day)).alias(f"{prefix}last"),
        F.sum(in_period(k, amount, 0.0)).alias(f"{prefix}total"),
        F.min_by(in_period(k, amount), in_period(k, day, _NOT_AN_OCCASION)).alias(
            f"{prefix}first_amount"
        ),
        F.sum(in_period(k, F.col("buy_rows"), 0)).alias(f"{prefix}rows"),
        F.sum(F.when(in_k, F.col("ret_rows")).otherwise(0)).alias(f"{prefix}ret_rows"),
        F.sum(F.when(in_k, F.col("ret_value")).otherwise(0.0)).alias(f"{prefix}ret_value"),
        F.sum(F.when(in_k, F.col("unmatched_rows")).otherwise(0)).alias(f"{prefix}unmatched_rows"),
        F.sum(F.when(in_k, F.col("unmatched_value")).otherwise(0.0)).alias(
            f"{prefix}unmatched_value"
        ),
        F.sum(F.when(in_k, F.col("floored")).otherwise(0)).alias(f"{prefix}floored"),
        F.sum(F.when(in_k, F.col("excess")).otherwise(0.0)).alias(f"{prefix}excess"),
    ]


def stat_aggregates(prefix: str) -> list[Column]:
    """Sums over customers of one period's returns counts (named ``{prefix}<field>``)."""
    sums = [
        F.sum(f"{prefix}{name}").alias(f"{prefix}{name}")
        for name in STAT_FIELDS
        if name != "only_returns"
    ]
    only = (F.col(f"{prefix}days") == 0) & (F.col(f"{prefix}ret_rows") > 0)
    return sums + [F.count(F.when(only, 1)).alias(f"{prefix}only_returns")]


def returns_stats(values: dict, prefix: str) -> dict:
    """The :data:`STAT_FIELDS` of one period from a row of :func:`stat_aggregates`."""
    return {name: values.get(f"{prefix}{name}") or 0 for name in STAT_FIELDS}


def warn_returns(
    stats: dict, returns: str, amount_col: str | None, period: Period, stacklevel: int
) -> None:
    """The :class:`~churnlab.transactions.ReturnsWarning` of the pandas path, from counts."""
    n_ret = int(stats["ret_rows"])
    if n_ret == 0 or returns == "error":
        return
    where = f" in {period.name}" if period.name else ""
    v_ret = float(stats["ret_value"])
    n_only = int(stats["only_returns"])
    note_only = (
        f" {n_only} customer(s) have returns but no purchase{where} and are not customers there."
        if n_only
        else ""
    )
    if returns == "exclude":
        message = (
            f"returns='exclude': {n_ret:,} return row(s) (negative {amount_col}, total "
            f"{_money(v_ret)}){where} left out: a return is not a purchase occasion and does "
            f"not lower monetary value.{note_only} Pass returns='net' to net them against "
            "each customer's purchases, or returns='error' to refuse them."
        )
    else:
        message = (
            f"returns='net': {n_ret:,} return row(s) (negative {amount_col}, total "
            f"{_money(v_ret)}){where} netted against each customer's latest purchase occasion "
            "on or before the return; returns never create an occasion."
        )
        n_un = int(stats["unmatched_rows"])
        if n_un:
            message += (
                f" {n_un:,} of them (total {_money(float(stats['unmatched_value']))}) have no "
                f"earlier purchase{where} and are left out."
            )
        n_floored = int(stats["floored"])
        if n_floored:
            message += (
                f" {n_floored:,} occasion(s) were refunded more than they cost: their value is "
                f"floored at 0 (excess {_money(float(stats['excess']))} left out)."
            )
        message += note_only
    warnings.warn(message, ReturnsWarning, stacklevel=stacklevel + 1)


def refuse_returns(table: SparkTransactions, periods: list[Period]) -> None:
    """returns='error': raise for the first period holding a return, showing its rows."""
    if table.n_returns == 0:
        return
    day, amount = F.col(DAY), F.col(AMOUNT)
    aggregates = []
    for k, period in enumerate(periods):
        is_return = period.contains(day) & (amount < 0)
        aggregates += [
            F.count(F.when(is_return, 1)).alias(f"n{k}"),
            F.sum(F.when(is_return, amount)).alias(f"v{k}"),
        ]
    counts = table.rows.agg(*aggregates).first().asDict()
    for k, period in enumerate(periods):
        n_ret = int(counts[f"n{k}"])
        if not n_ret:
            continue
        where = f" in {period.name}" if period.name else ""
        is_return = period.contains(day) & (amount < 0)
        shown = (
            table.rows.filter(is_return)
            .limit(MAX_ROWS_SHOWN)
            .select(
                F.col(CUSTOMER).alias("customer"),
                F.date_from_unix_date(day).cast("string").alias("date"),
                amount.alias(table.amount_col),
            )
            .toPandas()
            .to_string(index=False)
        )
        more = f"\n... and {n_ret - MAX_ROWS_SHOWN} more row(s)" if n_ret > MAX_ROWS_SHOWN else ""
        raise ValueError(
            f"column '{table.amount_col}': {n_ret} return row(s) (negative amounts, total "
            f"{_money(float(counts[f'v{k}']))}){where} with returns='error':\n{shown}{more}\n"
            "Pass returns='exclude' to leave them out or returns='net' to net them against "
            "the customer's purchases."
        )


def day_name(day: int) -> str:
    return str(np.datetime64(int(day), "D"))
