"""The transaction door on a Spark DataFrame: validation and calendar days in Spark SQL.

The rules are those of :mod:`churnlab.transactions` and :func:`churnlab._validation.parse_dates`
(the constants come from there), checked with one aggregation over the table:

* the customer, date and amount columns must exist; customer ids and amounts must not be
  missing (null, or NaN in a floating-point column); amounts must be finite numbers of a
  numeric type (text and booleans are refused, not converted);
* dates become calendar days (days since 1970-01-01):

  - ``DateType`` and ``TimestampNTZType`` (naive) by their own day;
  - ``TimestampType`` (an instant, shown by Spark in the session time zone) by its wall-clock
    day in ``tz=`` when given, else in the session time zone
    (``spark.sql.session.timeZone``), which is then the data's zone;
  - text as ISO 8601 (date, or date and time, with or without a UTC offset) by the wall-clock
    day it states, or converted to ``tz=`` when it carries an offset; ``date_format=`` gives
    another layout as a strftime pattern (read by Spark's datetime parser);
  - numbers are refused unless ``date_format=`` says how to read them (a strftime pattern such
    as ``"%Y%m%d"``, ``"unix_s"``, ``"unix_ms"`` or ``"excel"``); booleans are refused;
  - missing dates, values that do not parse and days outside
    [:data:`~churnlab._validation.EARLIEST_DATE`, :data:`~churnlab._validation.LATEST_DATE`]
    or on a :data:`~churnlab._validation.SENTINEL_DATES` day are refused.

Every refusal is a ValueError naming the column, counting the rows and showing up to
:data:`~churnlab._validation.MAX_ROWS_SHOWN` of them, with the hint the pandas path gives.

Two differences are stated rather than hidden. pandas guesses the layout of non-ISO text
(``"01/31/2024"``) from the first value; on a cluster a guess could differ between partitions,
so such text needs ``date_format=``. And a ``date_format=`` whose numeric fields touch
(``"%Y%m%d"``) needs zero-padded values (``"20240105"``): pandas also reads ``"202415"``,
which could be January 5 or a day in a later month, Spark refuses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from churnlab._validation import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_ROWS_SHOWN,
    NUMERIC_DATE_FORMATS,
    SENTINEL_DATES,
    _numeric_date_hint,
    as_timestamp,
    epoch_day,
)
from churnlab.transactions import NOT_FINITE, NOT_NUMBERS, NOT_NUMBERS_HINT

#: Internal column names of the validated rows (chosen not to clash with user columns).
CUSTOMER, DAY, AMOUNT = "__churnlab_customer", "__churnlab_day", "__churnlab_amount"

#: Days since 1970-01-01 of the date bounds and sentinels of :mod:`churnlab._validation`.
FIRST_DAY = int(EARLIEST_DATE.astype(np.int64))
LAST_DAY = int(LATEST_DATE.astype(np.int64))
SENTINEL_DAYS = tuple(int(d.astype(np.int64)) for d in SENTINEL_DATES)

#: Excel serial day 0 is 1899-12-30: serial 25569 is 1970-01-01.
EXCEL_EPOCH_SERIAL = 25569

#: A UTC offset at the end of ISO text (as in :mod:`churnlab._validation`).
_OFFSET = r"(Z|[+-]\d{2}:?\d{2})\s*$"

#: strftime directives and the Spark datetime pattern letters that read the same fields.
_STRFTIME_TO_SPARK = {
    "Y": "yyyy",
    "y": "yy",
    "m": "MM",
    "d": "dd",
    "H": "HH",
    "I": "hh",
    "M": "mm",
    "S": "ss",
    "f": "SSSSSS",
    "p": "a",
    "b": "MMM",
    "B": "MMMM",
    "a": "E",
    "A": "EEEE",
    "j": "DDD",
}


#: Two-digit directives that strftime also reads without the leading zero.
_UNPADDED = frozenset("mdHIMS")


def spark_pattern(date_format: str) -> str:
    """The Spark datetime pattern of a strftime pattern (``"%Y%m%d"`` -> ``"yyyyMMdd"``).

    Literal text is quoted. Time-zone directives (``%z``, ``%Z``) are refused: an offset read
    from text would have to be kept per row, which Spark's timestamps do not do; give such a
    column as ISO text (offsets are read) or as a timestamp column.

    >>> spark_pattern("%d.%m.%Y %H:%M"), spark_pattern("%Y%m%d")
    ("d'.'M'.'yyyy' 'H':'m", 'yyyyMMdd')
    """
    out, literal, i = [], "", 0
    directive = re.compile(r"%[^%]")
    while i < len(date_format):
        char = date_format[i]
        if char != "%":
            literal += char
            i += 1
            continue
        if i + 1 >= len(date_format):
            raise ValueError(f"date_format={date_format!r} ends with a lone '%'")
        code = date_format[i + 1]
        i += 2
        if code == "%":
            literal += "%"
            continue
        if code not in _STRFTIME_TO_SPARK:
            raise ValueError(
                f"date_format={date_format!r}: the directive %{code} is not supported on Spark; "
                f"use {', '.join('%' + c for c in _STRFTIME_TO_SPARK)}, or convert the column "
                "to a date or timestamp column first"
            )
        after_directive = bool(out) and not literal
        if literal:
            out.append("'" + literal.replace("'", "''") + "'")
            literal = ""
        letters = _STRFTIME_TO_SPARK[code]
        if code in _UNPADDED and not after_directive and not directive.match(date_format, i):
            # strftime reads "1" and "01" alike; one letter does too, unless the field touches
            # another ("%Y%m%d"), where only fixed widths can be split
            letters = letters[0]
        out.append(letters)
    if literal:
        out.append("'" + literal.replace("'", "''") + "'")
    return "".join(out)


def require_spark_frame(data, name: str = "transactions") -> DataFrame:
    if not isinstance(data, DataFrame):
        raise TypeError(f"{name} must be a Spark DataFrame, got {type(data).__name__}")
    return data


def require_spark_columns(sdf: DataFrame, columns, name: str = "transactions") -> None:
    """Raise if any of ``columns`` is missing (the message of the pandas path)."""
    missing = [c for c in columns if c not in sdf.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s) {missing}; it has {list(sdf.columns)}. "
            "Pass the right names through the *_col arguments."
        )


def show_spark_rows(sdf: DataFrame, condition: Column, n_bad: int) -> str:
    """Up to ``MAX_ROWS_SHOWN`` rows of ``sdf`` where ``condition`` holds, as text."""
    rows = sdf.filter(condition).limit(MAX_ROWS_SHOWN).toPandas()
    text = rows.to_string(index=False)
    if n_bad > MAX_ROWS_SHOWN:
        text += f"\n... and {n_bad - MAX_ROWS_SHOWN} more row(s)"
    return text


def fail_spark(
    column: str, problem: str, sdf: DataFrame, condition: Column, n_bad: int, hint: str = ""
) -> None:
    """Raise the ValueError of :func:`churnlab._validation.fail` for a Spark DataFrame."""
    message = f"column '{column}': {problem} in {n_bad} row(s):\n"
    message += show_spark_rows(sdf, condition, n_bad)
    if hint:
        message += f"\n{hint}"
    raise ValueError(message)


def _is_float(dtype) -> bool:
    return isinstance(dtype, (T.FloatType, T.DoubleType))


def _is_number(dtype) -> bool:
    return isinstance(dtype, T.NumericType)


def _missing(column: Column, dtype) -> Column:
    """Null, or NaN in a floating-point column: what pandas' ``isna`` finds."""
    return column.isNull() | F.isnan(column) if _is_float(dtype) else column.isNull()


def _is_finite(value: Column) -> Column:
    return ~F.isnan(value) & (F.abs(value) != float("inf"))


@dataclass(frozen=True)
class _Check:
    """One rule: the column it names, its problem, the offending rows, the hint."""

    column: str
    problem: str
    condition: Column
    hint: str = ""
    hint_from_range: bool = False  # numeric dates: the hint needs the values' range


class _DateReader:
    """Calendar-day expression and checks of a date column (see the module's rules)."""

    def __init__(self, sdf: DataFrame, column: str, date_format, tz, session_zone: str):
        self.column = column
        self.dtype = sdf.schema[column].dataType
        self.value = F.col(column)
        self.date_format = date_format
        self.tz = None if tz is None else str(tz)
        self.session_zone = session_zone
        self.missing = _missing(self.value, self.dtype)
        self.checks: list[_Check] = []
        self.zone: str | None = None
        self.day = self._day()

    def _timestamp_day(self, timestamp: Column) -> Column:
        """Day of an instant: its wall-clock day in ``tz``, else in the session zone."""
        if self.tz is None:
            return F.unix_date(F.to_date(timestamp))
        local = F.convert_timezone(
            F.lit(self.session_zone), F.lit(self.tz), timestamp.cast("timestamp_ntz")
        )
        return F.unix_date(F.to_date(local))

    def _day(self) -> Column:
        dtype, value, fmt, column = self.dtype, self.value, self.date_format, self.column
        if isinstance(dtype, T.BooleanType):
            self.checks.append(_Check(column, "booleans where dates are expected", ~self.missing))
            return F.lit(None).cast("int")
        if fmt is not None and fmt in NUMERIC_DATE_FORMATS and not _is_number(dtype):
            raise ValueError(
                f"column '{column}': date_format={fmt!r} reads numbers, but the column "
                f"holds {dtype.simpleString()} values"
            )
        if _is_number(dtype):
            if fmt is None:
                self.checks.append(
                    _Check(
                        column,
                        "numbers where dates are expected",
                        ~self.missing,
                        hint_from_range=True,
                    )
                )
                return F.lit(None).cast("int")
            return self._numeric_day(value.cast("double"), fmt)
        if isinstance(dtype, T.DateType):
            return F.unix_date(value)
        if isinstance(dtype, T.TimestampNTZType):
            return F.unix_date(F.to_date(value))
        if isinstance(dtype, T.TimestampType):
            self.zone = self.tz if self.tz is not None else self.session_zone
            return self._timestamp_day(value)
        if isinstance(dtype, T.StringType):
            if fmt is not None:
                parsed = F.try_to_timestamp(value, F.lit(spark_pattern(fmt)))
                return F.unix_date(F.to_date(parsed))
            wall = F.unix_date(F.to_date(value.try_cast("timestamp_ntz")))
            if self.tz is None:
                return wall
            # text with a UTC offset is an instant: its day in tz; text without one is naive
            instant = self._timestamp_day(value.try_cast("timestamp"))
            return F.when(F.trim(value).rlike(_OFFSET), instant).otherwise(wall)
        raise ValueError(
            f"column '{column}': {dtype.simpleString()} values cannot be read as dates; "
            "use a date, timestamp or text column"
        )

    def _numeric_day(self, number: Column, fmt: str) -> Column:
        # numbers beyond any date are left unparsed (no overflow in the integer casts)
        if fmt == "unix_s":
            return F.when(F.abs(number) < 1e14, F.floor(number / 86400)).cast("int")
        if fmt == "unix_ms":
            return F.when(F.abs(number) < 1e17, F.floor(number / 86_400_000)).cast("int")
        if fmt == "excel":
            return F.when(F.abs(number) < 1e9, F.floor(number) - EXCEL_EPOCH_SERIAL).cast("int")
        whole = (F.abs(number) < 1e15) & (number == F.round(number))
        self.checks.append(
            _Check(
                self.column,
                f"numbers that do not fit date_format={fmt!r}",
                ~self.missing & ~whole,
            )
        )
        text = F.when(whole, number.cast("long")).cast("string")
        return F.unix_date(F.to_date(F.try_to_timestamp(text, F.lit(spark_pattern(fmt)))))

    def all_checks(self) -> list[_Check]:
        """The rules in the order of :func:`churnlab._validation.parse_dates`."""
        fmt_hint = (
            f"They do not match date_format={self.date_format!r}."
            if self.date_format
            else "Use ISO dates (YYYY-MM-DD) or pass date_format= (a strftime pattern)."
        )
        out_of_range = (self.day < FIRST_DAY) | (self.day > LAST_DAY)
        for sentinel in SENTINEL_DAYS:
            out_of_range = out_of_range | (self.day == sentinel)
        return [
            _Check(self.column, "missing dates", self.missing),
            *self.checks,
            _Check(
                self.column,
                "values that cannot be parsed as dates",
                ~self.missing & self.day.isNull(),
                fmt_hint,
            ),
            _Check(
                self.column,
                f"out-of-range or sentinel dates (outside {EARLIEST_DATE}..{LATEST_DATE}, or "
                f"{', '.join(str(d) for d in SENTINEL_DATES)}, which usually stand for 'no date' "
                "or are numbers read as nanoseconds)",
                ~self.missing & self.day.isNotNull() & out_of_range,
                "Remove or correct these rows, or convert the column from its real unit first.",
            ),
        ]


def _number_reader(sdf: DataFrame, column: str) -> tuple[Column, list[_Check]]:
    """A numeric column as doubles and the checks of the transaction door: text and booleans
    are refused, not converted (:data:`churnlab.transactions.NOT_NUMBERS`), and so are NaN
    and infinities (:data:`churnlab.transactions.NOT_FINITE`)."""
    dtype = sdf.schema[column].dataType
    value = F.col(column)
    if _is_number(dtype):
        number = value.cast("double")
        return number, [_Check(column, NOT_FINITE, ~_is_finite(number))]
    # booleans, text and any other type: no value of the column is a number
    refused = _Check(column, NOT_NUMBERS, value.isNotNull(), NOT_NUMBERS_HINT)
    return F.lit(None).cast("double"), [refused]


@dataclass(frozen=True)
class SparkTransactions:
    """A validated transaction table: rows as (customer, day, amount, extras) in Spark.

    ``rows`` has the columns :data:`CUSTOMER` (the ids as given), :data:`DAY` (calendar day
    as days since 1970-01-01, int), :data:`AMOUNT` (double; 0 without an amount column) and
    ``extra`` (name -> internal column of further numeric columns). The counts come from the
    validating aggregation: ``n_rows``, ``first_day``/``last_day`` (None when empty),
    ``n_returns`` (rows with a negative amount) and ``n_purchases_until`` (see
    :func:`read_transactions`).
    """

    rows: DataFrame
    source: DataFrame
    customer_col: str
    date_col: str
    amount_col: str | None
    extra: dict[str, str]
    time_zone: str | None
    n_rows: int
    first_day: int | None
    last_day: int | None
    n_returns: int
    n_purchases_until: int | None = None

    def __len__(self) -> int:
        return self.n_rows

    def day_of(self, value, name: str) -> int:
        """A date argument as a calendar day in the data's own zone."""
        return epoch_day(as_timestamp(value, name, tz=self.time_zone))

    def end_day(self, value, name: str = "observation_end") -> int:
        """``value`` as a day, or the last transaction's day when it is None."""
        if value is None:
            if self.n_rows == 0:
                raise ValueError("transactions are empty")
            return int(self.last_day)
        return self.day_of(value, name)

    def date_range(self) -> str:
        first, last = (np.datetime64(int(d), "D") for d in (self.first_day, self.last_day))
        return f"{first} to {last}"


def read_transactions(
    sdf,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    extra_cols: tuple[str, ...] = (),
    date_format: str | None = None,
    tz=None,
    count_purchases_until=None,
) -> SparkTransactions:
    """Validate a Spark transaction table in one aggregation and return its rows as days.

    Raises the ValueError of the first rule broken, in the order of
    :func:`churnlab.transactions.read_transactions`. ``count_purchases_until`` (a date
    argument, with its name: ``(value, name)``) also counts the purchase rows on or before
    that day (``n_purchases_until``), in the same pass.
    """
    sdf = require_spark_frame(sdf)
    for name, value in (("customer_col", customer_col), ("date_col", date_col)):
        if not isinstance(value, str):
            raise ValueError(f"{name}={value!r} must be a column name (a string)")
    columns = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
    columns += list(extra_cols)
    require_spark_columns(sdf, columns)
    session_zone = sdf.sparkSession.conf.get("spark.sql.session.timeZone")
    dates = _DateReader(sdf, date_col, date_format, tz, session_zone)

    checks = [
        _Check(
            c,
            "missing values (NaN/None)",
            _missing(F.col(c), sdf.schema[c].dataType),
            "Fill or remove them first.",
        )
        for c in columns
        if c != date_col
    ]
    checks += dates.all_checks()
    numbers = {}
    for c in ([amount_col] if amount_col is not None else []) + list(extra_cols):
        numbers[c], number_checks = _number_reader(sdf, c)
        checks += number_checks

    aggregates = [F.count(F.lit(1)).alias("n")]
    aggregates += [
        F.count(F.when(check.condition, 1)).alias(f"c{i}") for i, check in enumerate(checks)
    ]
    valid_day = F.when(~dates.missing, dates.day)
    aggregates += [F.min(valid_day).alias("first"), F.max(valid_day).alias("last")]
    if any(check.hint_from_range for check in checks):
        number = F.col(date_col).cast("double")
        aggregates += [F.min(number).alias("low"), F.max(number).alias("high")]
    if amount_col is not None:
        aggregates.append(F.count(F.when(numbers[amount_col] < 0, 1)).alias("neg"))
    zone = str(tz) if tz is not None else dates.zone
    until = None
    if count_purchases_until is not None:
        until = epoch_day(as_timestamp(*count_purchases_until, tz=zone))
        bought = valid_day <= until
        if amount_col is not None:
            bought = bought & (numbers[amount_col] >= 0)
        aggregates.append(F.count(F.when(bought, 1)).alias("until"))
    stats = sdf.agg(*aggregates).first().asDict()

    for i, check in enumerate(checks):
        n_bad = int(stats[f"c{i}"])
        if n_bad:
            hint = check.hint
            if check.hint_from_range:
                hint = _numeric_date_hint(pd.Series([stats["low"], stats["high"]]))
            fail_spark(check.column, check.problem, sdf, check.condition, n_bad, hint)

    extra = {c: f"__churnlab_extra_{i}" for i, c in enumerate(extra_cols)}
    amount = numbers[amount_col] if amount_col is not None else F.lit(0.0)
    rows = sdf.select(
        F.col(customer_col).alias(CUSTOMER),
        dates.day.cast("int").alias(DAY),
        amount.alias(AMOUNT),
        *[numbers[c].alias(name) for c, name in extra.items()],
    )
    n_rows = int(stats["n"])
    return SparkTransactions(
        rows=rows,
        source=sdf,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        extra=extra,
        time_zone=zone,
        n_rows=n_rows,
        first_day=None if stats["first"] is None else int(stats["first"]),
        last_day=None if stats["last"] is None else int(stats["last"]),
        n_returns=int(stats.get("neg") or 0),
        n_purchases_until=None if until is None else int(stats["until"]),
    )
