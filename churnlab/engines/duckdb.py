"""The transaction door as SQL: churnlab's summaries computed by DuckDB where the data lives.

Files (Parquet, CSV, globs of them) and DuckDB relations are summarised by an in-process
DuckDB: the per-customer summaries and churn features run as SQL within a memory limit,
spilling to disk rather than failing, and only the per-customer result comes back as pandas.
The public functions mirror :func:`churnlab.rfm_summary`,
:func:`churnlab.calibration_holdout_split`, :func:`churnlab.churn.make_churn_dataset` and
:func:`churnlab.inspect_transactions` (which call them for such inputs) and return the same
frames.

The rules are those of :mod:`churnlab.transactions`, stated once more as SQL with the same
constants (:data:`~churnlab.transactions.RETURNS_POLICIES`,
:data:`~churnlab._validation.EARLIEST_DATE`, :data:`~churnlab._validation.LATEST_DATE`,
:data:`~churnlab._validation.SENTINEL_DATES`, :data:`~churnlab._validation.NUMERIC_DATE_FORMATS`)
and the same messages; ``tests/engines/test_duckdb.py`` holds the two paths to identical output
and identical errors.

* **Validation.** One scan counts every problem the pandas path checks for (missing
  columns, missing ids and amounts, missing, boolean, numeric, unparseable, out-of-range and
  sentinel dates, non-finite amounts); the first one, in the pandas path's order, is raised as
  the same ValueError naming the column and showing up to ten offending rows, indexed by their
  position in the input (in file order; across the files of a glob in sorted file order).
* **Calendar days.** Naive timestamps and dates count by their own day. DuckDB stores a
  time-zone-aware column (``TIMESTAMP WITH TIME ZONE``) as an instant without its zone, so
  the data's own zone is taken from where it is known: for Parquet, the zone Arrow recorded in
  the file's schema (what pandas and Polars write, and what ``pd.read_parquet`` restores); for
  a relation, its connection's ``TimeZone`` setting (the zone ``relation.df()`` shows it in);
  ``tz=`` overrides both, as on the pandas path. Text is read as ISO 8601 (DuckDB's cast),
  each row at the wall-clock time it states (a UTC offset is dropped, or converted to ``tz=``
  when given), or by ``date_format=``; the pandas path also guesses other layouts such as
  ``01/02/2024``, which DuckDB refuses with the rows (pass ``date_format=``). CSV columns are
  typed as booleans, integers, doubles or text, never as dates, so that numeric dates are
  refused and text dates read by the rules above.
* **Purchases and returns.** A purchase occasion is a customer's calendar day with a
  transaction of non-negative amount; ``returns="net"`` refunds each return from the
  customer's latest occasion with positive spend on or before its day (an ``ASOF JOIN``),
  floors an occasion at 0 and leaves out returns without an earlier occasion in the window,
  with the same :class:`~churnlab.transactions.ReturnsWarning` (counts and value) as the pandas
  path. When the data has returns, each window's warning takes one more pass over the data.
* **Arithmetic.** Days, counts and sums come from SQL; frequency, recency and T are computed
  from integer days as on the pandas path (equal), money sums in another order (equal to about
  1e-15 relative); the spread of inter-purchase times is computed from exact integer sums
  (equal to rounding). The BG/NBD features come from :class:`churnlab.BetaGeo` fitted on the
  SQL summary, as on the pandas path.

The memory limit (``memory_limit=``, default :data:`DEFAULT_MEMORY_FRACTION` of the machine's
memory) and the spill folder (``temp_directory=``, default a fresh temporary folder removed
afterwards) apply to the connection churnlab opens for files. A relation is queried in its
own connection, whose settings are the user's: ``memory_limit`` and ``threads`` are set there
for the call when given and restored afterwards (to the value DuckDB reports, which it rounds
to a tenth of its unit), and it spills to that connection's ``temp_directory``.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

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
from churnlab.churn.features import (
    DEFAULT_WINDOWS,
    LABEL_NAME,
    _add_bgnbd,
    _check_windows,
    _join_attributes,
    horizon_days,
)
from churnlab.engines.sources import file_sources, source_kind
from churnlab.rfm import unit_days
from churnlab.transactions import (
    DEFAULT_RETURNS,
    DataQualityReport,
    ReturnsWarning,
    _money,
    check_returns,
)

__all__ = [
    "DEFAULT_MEMORY_FRACTION",
    "calibration_holdout_split",
    "connect",
    "default_memory_limit",
    "inspect_transactions",
    "make_churn_dataset",
    "rfm_summary",
]

#: Share of the machine's memory DuckDB may use when ``memory_limit`` is not given.
DEFAULT_MEMORY_FRACTION = 0.5

#: The name under which every query sees the transactions.
TABLE = "churnlab_transactions"
_ROW = "__churnlab_row"
_EPOCH = "DATE '1970-01-01'"
_OFFSET = r"(Z|[+-]\d{2}:?\d{2})$"
#: Types the CSV reader may give a column: never dates, so that dates are read by our rules.
_CSV_TYPES = "['BOOLEAN', 'BIGINT', 'DOUBLE', 'VARCHAR']"
_INTEGER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}


# --- connections ----------------------------------------------------------------------------
def default_memory_limit() -> str:
    """:data:`DEFAULT_MEMORY_FRACTION` of the machine's memory (or of a cgroup limit below it)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        with open("/sys/fs/cgroup/memory.max") as handle:
            text = handle.read().strip()
        if text.isdigit():
            total = min(total, int(text))
    except OSError:
        pass
    return f"{int(total * DEFAULT_MEMORY_FRACTION) // 2**20}MiB"


def _memory_setting(memory_limit) -> str:
    if memory_limit is None:
        return default_memory_limit()
    if isinstance(memory_limit, bool) or not isinstance(memory_limit, (int, str)):
        raise ValueError(
            f"memory_limit={memory_limit!r} must be a size such as '4GB' or a number of bytes"
        )
    if isinstance(memory_limit, int):
        if memory_limit <= 0:
            raise ValueError(f"memory_limit={memory_limit!r} must be positive")
        return f"{max(memory_limit // 1024, 1)}KiB"
    return memory_limit


def _threads_setting(threads) -> int | None:
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads={threads!r} must be a positive whole number")
    return int(threads)


def connect(memory_limit=None, temp_directory=None, threads=None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with churnlab's settings.

    ``memory_limit`` is a size DuckDB reads (``"4GB"``, ``"500MiB"``) or a number of bytes,
    default :func:`default_memory_limit`; beyond it DuckDB spills to ``temp_directory`` (which
    must be given here: the functions of this module make a temporary one). ``threads``
    defaults to DuckDB's choice (the number of cores).

    >>> con = connect("1GB", tempfile.gettempdir(), threads=1)
    >>> con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
    ('953.6 MiB', 1)
    >>> con.close()
    """
    config = {"memory_limit": _memory_setting(memory_limit)}
    if temp_directory is not None:
        config["temp_directory"] = os.fspath(temp_directory)
    threads = _threads_setting(threads)
    if threads is not None:
        config["threads"] = threads
    try:
        con = duckdb.connect(":memory:", config=config)
    except duckdb.Error as err:
        raise ValueError(f"DuckDB refused the settings {config}: {err}") from None
    con.execute("SET enable_progress_bar = false")
    return con


def _quote(name: str) -> str:
    """An SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def _literal(text: str) -> str:
    """An SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


class _Database:
    """Runs SELECT statements on the transactions, which they see as :data:`TABLE`."""

    def __init__(self, run, columns: list[str], types: list[str], zone_of, what: str, con=None):
        self._run = run
        self._con = con  # our own connection (None for a relation's)
        self.columns = list(columns)
        self.types = dict(zip(self.columns, types, strict=True))
        self.zone_of = zone_of  # column name -> the zone of an aware column
        self.what = what

    @contextmanager
    def in_input_order(self):
        """Queries whose row numbers follow the input's order (showing offending rows)."""
        if self._con is None:
            yield
            return
        self._con.execute("SET preserve_insertion_order = true")
        try:
            yield
        finally:
            self._con.execute("SET preserve_insertion_order = false")

    def fetchone(self, query: str) -> tuple:
        return self._call(lambda: self._run(query).fetchall()[0])

    def arrow(self, query: str):
        return self._call(lambda: self._run(query).to_arrow_table())

    def frame(self, query: str) -> pd.DataFrame:
        return self.arrow(query).to_pandas()

    def _call(self, call):
        try:
            return call()
        except duckdb.OutOfMemoryException as err:
            raise MemoryError(
                f"DuckDB ran out of memory summarising {self.what}: {err}\nRaise "
                "engine_options={'memory_limit': ...} or point 'temp_directory' to a disk with "
                "free space for DuckDB to spill to."
            ) from None
        except (
            duckdb.ConversionException,
            duckdb.IOException,
            duckdb.InvalidInputException,
        ) as err:
            raise ValueError(f"DuckDB could not read {self.what}: {err}") from None


def _parquet_zones(files: list[str]):
    """The time zone Arrow recorded for each aware column of Parquet files (one per column)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def zone_of(column: str) -> str | None:
        zones = set()
        for path in files:
            schema = pq.read_schema(path)
            if column in schema.names:
                kind = schema.field(column).type
                if pa.types.is_timestamp(kind) and kind.tz is not None:
                    zones.add(kind.tz)
        if len(zones) > 1:
            raise ValueError(
                f"column '{column}': the files hold dates in several time zones "
                f"({sorted(zones)}); pass tz= to say whose calendar days count"
            )
        return zones.pop() if zones else None

    return zone_of


@contextmanager
def _open(source, memory_limit, temp_directory, threads):
    """A :class:`_Database` over a file, a glob or a DuckDB relation."""
    kind = source_kind(source)
    if kind == "duckdb":
        with _relation_database(source, memory_limit, temp_directory, threads) as db:
            yield db
        return
    if kind != "path":
        raise TypeError(f"the DuckDB engine reads files and DuckDB relations, not {kind} inputs")
    file_format, files = file_sources(source)
    own_directory = temp_directory is None
    if own_directory:
        temp_directory = tempfile.mkdtemp(prefix="churnlab-duckdb-")
    try:
        con = connect(memory_limit, temp_directory, threads)
        try:
            listed = "[" + ", ".join(_literal(f) for f in files) + "]"
            several = "true" if len(files) > 1 else "false"
            if file_format == "parquet":
                scan = f"read_parquet({listed}, union_by_name = {several})"
                zone_of = _parquet_zones(files)
            else:
                scan = (
                    f"read_csv({listed}, header = true, union_by_name = {several}, "
                    f"auto_type_candidates = {_CSV_TYPES})"
                )

                def zone_of(column):
                    return None

            what = f"{os.fspath(source)!r}"
            # text is parsed once into a table (spilled beyond the memory limit), in file order;
            # Parquet is read where it is, as often as needed
            create = "CREATE TEMP TABLE" if file_format == "csv" else "CREATE VIEW"
            try:
                con.execute(f"{create} {TABLE} AS SELECT * FROM {scan}")
                described = con.sql(f"SELECT * FROM {TABLE}")
            except duckdb.Error as err:
                raise ValueError(f"DuckDB could not read {what}: {err}") from None
            # summaries need no row order, and spill more easily without it
            con.execute("SET preserve_insertion_order = false")
            columns, types = described.columns, [str(t) for t in described.types]
            yield _Database(con.sql, columns, types, zone_of, what, con)
        finally:
            con.close()
    finally:
        if own_directory:
            shutil.rmtree(temp_directory, ignore_errors=True)


@contextmanager
def _relation_database(relation, memory_limit, temp_directory, threads):
    def run(query: str):
        return relation.query(TABLE, query)

    if temp_directory is not None:
        raise ValueError(
            "temp_directory applies to files: a DuckDB relation spills to the temp_directory "
            "of its own connection (SET temp_directory there)"
        )
    settings = {}
    if memory_limit is not None:
        settings["memory_limit"] = _memory_setting(memory_limit)
    threads = _threads_setting(threads)
    if threads is not None:
        settings["threads"] = str(threads)
    before = {k: run(f"SELECT current_setting({_literal(k)})").fetchall()[0][0] for k in settings}
    zone = run("SELECT current_setting('TimeZone')").fetchall()[0][0]
    try:
        for key, value in settings.items():
            try:
                run(f"SET {key} = {_literal(value)}")
            except duckdb.Error as err:
                raise ValueError(f"DuckDB refused {key}={value!r}: {err}") from None
        yield _Database(
            run,
            relation.columns,
            [str(t) for t in relation.types],
            lambda column: zone,
            "the DuckDB relation",
        )
    finally:
        for key, value in before.items():
            run(f"SET {key} = {_literal(value)}")


# --- the rules as SQL -----------------------------------------------------------------------
def _type_kind(type_name: str) -> str:
    name = type_name.upper()
    if name == "BOOLEAN":
        return "bool"
    if name in _INTEGER_TYPES:
        return "int"
    if name in ("FLOAT", "DOUBLE", "REAL"):
        return "float"
    if name.startswith("DECIMAL"):
        return "decimal"
    if name.startswith("VARCHAR"):
        return "text"
    if name == "DATE":
        return "date"
    if name in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return "timestamptz"
    if name.startswith("TIMESTAMP"):
        return "timestamp"
    return "other"


def _missing(column: str, kind: str) -> str:
    """SQL: the value is missing (NULL, or NaN in a float column), as pandas' isna."""
    if kind == "float":
        return f"({column} IS NULL OR isnan({column}))"
    return f"({column} IS NULL)"


def _local_time(instant: str, zone: str) -> str:
    """SQL: the wall-clock time (TIMESTAMP) of an instant in ``zone``."""
    fixed = re.fullmatch(r"(?:UTC|GMT)?([+-]\d{2}):?(\d{2})", zone)
    if fixed:  # a fixed offset, as Arrow writes for pandas' fixed-offset zones
        zone = f"GMT{fixed.group(1)}:{fixed.group(2)}"
    return f"timezone({_literal(zone)}, {instant})"


@dataclass
class _Check:
    """One rule of the pandas path: ``condition`` (SQL) marks the offending rows.

    ``condition`` None is a rule that fails outright when reached (``message`` says why).
    """

    column: str
    problem: str
    condition: str | None
    hint: str = ""
    message: str = ""
    numeric_hint: bool = False


@dataclass
class _Columns:
    """SQL expressions for a validated table's columns and the checks that validate them."""

    customer: str
    day: str
    amount: str
    extra: dict[str, str]
    checks: list[_Check]
    time_zone: str | None
    numeric_date: str | None = None


def _date_rules(db: _Database, date_col: str, date_format, tz) -> tuple[str, list[_Check], str]:
    """SQL for a date column's calendar day (NULL where it cannot be read) and its checks.

    Mirrors :func:`churnlab._validation.parse_dates`; returns the day expression, the checks in
    the pandas path's order, and the zone of an aware column.
    """
    d = _quote(date_col)
    kind = _type_kind(db.types[date_col])
    checks = [_Check(date_col, "missing dates", _missing(d, kind))]
    zone = None
    if kind == "bool":
        checks.append(_Check(date_col, "booleans where dates are expected", f"{d} IS NOT NULL"))
        return "NULL", checks, zone
    numeric = kind in ("int", "float", "decimal")
    if date_format is not None and date_format in NUMERIC_DATE_FORMATS and not numeric:
        message = (
            f"column '{date_col}': date_format={date_format!r} reads numbers, but the column "
            f"holds {db.types[date_col]} values"
        )
        checks.append(_Check(date_col, "", None, message=message))
        return "NULL", checks, zone
    stamp = None
    if numeric:
        if date_format is None:
            checks.append(
                _Check(
                    date_col,
                    "numbers where dates are expected",
                    f"{d} IS NOT NULL",
                    numeric_hint=True,
                )
            )
            return "NULL", checks, zone
        x = f"CAST({d} AS DOUBLE)"
        if date_format in NUMERIC_DATE_FORMATS:
            per_day = {"unix_s": 86400.0, "unix_ms": 86400000.0}.get(date_format)
            if per_day is not None:
                days = f"floor({x} / {per_day})"
            else:  # Excel serial days count from 1899-12-30, 25569 days before 1970-01-01
                days = f"(floor({x}) - 25569)"
            day = f"CASE WHEN isfinite({x}) THEN TRY_CAST({days} AS BIGINT) END"
        else:
            checks.append(
                _Check(
                    date_col,
                    f"numbers that do not fit date_format={date_format!r}",
                    f"{x} <> round({x})",
                )
            )
            text = f"CAST(TRY_CAST({x} AS BIGINT) AS VARCHAR)"
            stamp = f"try_strptime({text}, {_literal(date_format)})"
            day = f"(CAST({stamp} AS DATE) - {_EPOCH})"
    elif kind == "text":
        stripped = f"regexp_replace({d}, {_literal(_OFFSET)}, '')"
        if date_format is None:
            naive = f"TRY_CAST({stripped} AS TIMESTAMP)"
            aware = f"TRY_CAST({d} AS TIMESTAMPTZ)"
        else:
            plain = date_format.replace("%z", "").replace("%Z", "").rstrip()
            naive = f"try_strptime(trim({stripped}), {_literal(plain)})"
            aware = f"try_strptime({d}, {_literal(date_format)})"
        if tz is not None:  # stated offsets are converted to tz; text without one is wall clock
            stamp = (
                f"CASE WHEN regexp_matches({d}, {_literal(_OFFSET)}) "
                f"THEN {_local_time(aware, str(tz))} ELSE {naive} END"
            )
        else:
            stamp = naive
        day = f"(CAST({stamp} AS DATE) - {_EPOCH})"
    elif kind == "date":
        day = f"({d} - {_EPOCH})"
    elif kind == "timestamp":
        day = f"(CAST({d} AS DATE) - {_EPOCH})"
    elif kind == "timestamptz":
        zone = db.zone_of(date_col)
        local = tz if tz is not None else zone
        day = f"(CAST({_local_time(d, str(local or 'UTC'))} AS DATE) - {_EPOCH})"
    else:
        message = (
            f"column '{date_col}' holds {db.types[date_col]} values: dates (or text, or numbers "
            "with date_format=) are expected"
        )
        checks.append(_Check(date_col, "", None, message=message))
        return "NULL", checks, zone
    hint = (
        f"They do not match date_format={date_format!r}."
        if date_format
        else "Use ISO dates (YYYY-MM-DD) or pass date_format= (a strftime pattern)."
    )
    if kind in ("text",) or stamp is not None or date_format in ("unix_s", "unix_ms", "excel"):
        checks.append(
            _Check(date_col, "values that cannot be parsed as dates", f"({day}) IS NULL", hint)
        )
    low, high = (int(np.datetime64(v, "D").astype(np.int64)) for v in (EARLIEST_DATE, LATEST_DATE))
    sentinels = ", ".join(str(int(np.datetime64(s, "D").astype(np.int64))) for s in SENTINEL_DATES)
    checks.append(
        _Check(
            date_col,
            f"out-of-range or sentinel dates (outside {EARLIEST_DATE}..{LATEST_DATE}, or "
            f"{', '.join(str(s) for s in SENTINEL_DATES)}, which usually stand for 'no date' "
            "or are numbers read as nanoseconds)",
            f"({day}) < {low} OR ({day}) > {high} OR ({day}) IN ({sentinels})",
            "Remove or correct these rows, or convert the column from its real unit first.",
        )
    )
    return day, checks, zone


def _number_rules(db: _Database, column: str) -> tuple[str, list[_Check]]:
    """SQL for a numeric column as DOUBLE and its checks (as ``_finite_numbers``)."""
    c = _quote(column)
    kind = _type_kind(db.types[column])
    if kind == "bool":
        return "NULL", [_Check(column, "booleans where numbers are expected", "true")]
    if kind in ("int", "float", "decimal"):
        value = f"CAST({c} AS DOUBLE)"
    elif kind == "text":
        value = f"TRY_CAST({c} AS DOUBLE)"
    else:
        message = f"column '{column}' holds {db.types[column]} values: numbers are expected"
        return "NULL", [_Check(column, "", None, message=message)]
    bad = f"({value} IS NULL OR NOT isfinite({value}))"
    return value, [_Check(column, "values that are not finite numbers", bad)]


def _require_columns(db: _Database, columns: list[str]) -> None:
    missing = [c for c in columns if c not in db.columns]
    if missing:
        raise ValueError(
            f"transactions is missing column(s) {missing}; it has {list(db.columns)}. "
            "Pass the right names through the *_col arguments."
        )


def _columns(db, customer_col, date_col, amount_col, extra_cols, date_format, tz) -> _Columns:
    """The checks of ``read_transactions`` in its order, and the SQL of the validated columns."""
    for name, value in (("customer_col", customer_col), ("date_col", date_col)):
        if not isinstance(value, str):
            raise ValueError(f"{name}={value!r} must be a column name (a string)")
    columns = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
    columns += list(extra_cols)
    _require_columns(db, columns)
    checks = [
        _Check(c, "missing values (NaN/None)", _missing(_quote(c), _type_kind(db.types[c])))
        for c in columns
        if c != date_col
    ]
    for check in checks:
        check.hint = "Fill or remove them first."
    # check_id_types has nothing to do: a SQL column holds values of one type
    day, date_checks, zone = _date_rules(db, date_col, date_format, tz)
    checks += date_checks
    amount = "0.0"
    if amount_col is not None:
        amount, amount_checks = _number_rules(db, amount_col)
        checks += amount_checks
    extra = {}
    for column in extra_cols:
        extra[column], extra_checks = _number_rules(db, column)
        checks += extra_checks
    numeric_date = None
    if any(c.numeric_hint for c in date_checks):
        numeric_date = f"CAST({_quote(date_col)} AS DOUBLE)"
    return _Columns(
        customer=_quote(customer_col),
        day=day,
        amount=amount,
        extra=extra,
        checks=checks,
        time_zone=str(tz) if tz is not None else zone,
        numeric_date=numeric_date,
    )


def _shown_rows(db: _Database, condition: str) -> str:
    """Up to MAX_ROWS_SHOWN rows where ``condition`` holds, indexed by position in the input."""
    with db.in_input_order():
        rows = db.frame(
            f"SELECT * FROM (SELECT row_number() OVER () - 1 AS {_ROW}, * FROM {TABLE}) "
            f"WHERE {condition} ORDER BY {_ROW} LIMIT {MAX_ROWS_SHOWN}"
        )
    rows = rows.set_index(_ROW)
    rows.index.name = None
    return rows.to_string()


def _failure(db: _Database, check: _Check, n_bad: int) -> str:
    """The message of ``churnlab._validation.fail`` for the rows of ``check``."""
    text = _shown_rows(db, check.condition)
    if n_bad > MAX_ROWS_SHOWN:
        text += f"\n... and {n_bad - MAX_ROWS_SHOWN} more row(s)"
    message = f"column '{check.column}': {check.problem} in {n_bad} row(s):\n{text}"
    return message + (f"\n{check.hint}" if check.hint else "")


@dataclass
class _Table:
    """A validated transaction table in a database: the SQL analogue of ``TransactionTable``."""

    db: _Database
    cols: _Columns
    n_rows: int
    first_day: int | None
    last_day: int | None
    n_negative: int
    amount_col: str | None
    extra_names: tuple[str, ...] = field(default_factory=tuple)

    @property
    def time_zone(self) -> str | None:
        return self.cols.time_zone

    def __len__(self) -> int:
        return self.n_rows

    def day_of(self, value, name: str) -> int:
        return epoch_day(as_timestamp(value, name, tz=self.time_zone))

    def end_day(self, value, name: str = "observation_end") -> int:
        if value is None:
            if self.n_rows == 0:
                raise ValueError("transactions are empty")
            return int(self.last_day)
        return self.day_of(value, name)

    def date_range(self) -> str:
        first, last = (np.datetime64(int(d), "D") for d in (self.first_day, self.last_day))
        return f"{first} to {last}"

    def rows(self, start: int | None = None, end: int | None = None, extra: bool = False) -> str:
        """SQL: the validated rows (cust, day, amount[, extra columns]) on days start..end."""
        select = [f"{self.cols.customer} AS cust", f"{self.cols.day} AS day"]
        select.append(f"{self.cols.amount} AS amount")
        if extra:
            select += [f"{sql} AS x{i}" for i, sql in enumerate(self.cols.extra.values())]
        where = []
        if start is not None:
            where.append(f"day >= {int(start)}")
        if end is not None:
            where.append(f"day <= {int(end)}")
        query = f"SELECT {', '.join(select)} FROM {TABLE}"
        if where:
            query = f"SELECT * FROM ({query}) WHERE {' AND '.join(where)}"
        return query

    def purchases(self, *, returns, start=None, end=None, window="", prefix="", extra=False):
        return _Window(self, check_returns(returns), start, end, window, prefix, extra)


def _read(
    db: _Database,
    *,
    customer_col,
    date_col,
    amount_col,
    extra_cols=(),
    date_format=None,
    tz=None,
) -> _Table:
    """Validate the table in one scan and raise the first failing rule as the pandas path does."""
    cols = _columns(db, customer_col, date_col, amount_col, tuple(extra_cols), date_format, tz)
    counted = [c for c in cols.checks if c.condition is not None]
    select = [f"count(*) FILTER (WHERE {c.condition})" for c in counted]
    negative = f"count(*) FILTER (WHERE {cols.amount} < 0)" if amount_col is not None else "0"
    select += ["count(*)", negative]
    select += [f"min({cols.day})", f"max({cols.day})"]  # meaningful once every check passes
    if cols.numeric_date is not None:
        select += [f"min({cols.numeric_date})", f"max({cols.numeric_date})"]
    result = db.fetchone(f"SELECT {', '.join(select)} FROM {TABLE}")
    counts = dict(zip((id(c) for c in counted), result[: len(counted)], strict=True))
    n_rows, n_negative, first, last = result[len(counted) : len(counted) + 4]
    for check in cols.checks:
        if check.condition is None:
            raise ValueError(check.message)
        n_bad = int(counts[id(check)])
        if n_bad:
            if check.numeric_hint:
                low, high = result[len(counted) + 4 :]
                check.hint = _numeric_date_hint(pd.Series([low, high], dtype=float))
            raise ValueError(_failure(db, check, n_bad))
    return _Table(
        db=db,
        cols=cols,
        n_rows=int(n_rows),
        first_day=None if first is None else int(first),
        last_day=None if last is None else int(last),
        n_negative=int(n_negative),
        amount_col=amount_col,
        extra_names=tuple(extra_cols),
    )


# --- the purchase definition and the returns policy -----------------------------------------
def _stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside churnlab."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame = inspect.currentframe().f_back
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(root):
        frame = frame.f_back
        level += 1
    return level


class _Window:
    """Purchase occasions of a window under a returns policy, as SQL common table expressions.

    Creating it applies the policy's side: the warning with counts and value (``exclude``,
    ``net``) or the error showing the rows (``error``), worded as on the pandas path
    (``churnlab.transactions._purchases``). :meth:`ctes` gives ``{prefix}w`` (the window's
    rows) and ``{prefix}occ`` (cust, day, amount, n_rows[, x0...]: one row per occasion).
    """

    def __init__(self, table: _Table, returns, start, end, window, prefix, extra):
        self.table, self.returns, self.prefix, self.extra = table, returns, prefix, extra
        self.start, self.end = start, end
        self.netted = False
        if table.amount_col is None or table.n_negative == 0:
            return
        where = f" in {window}" if window else ""
        w = table.rows(start, end)
        n_ret, v_ret, only = table.db.fetchone(
            f"WITH w AS ({w}), per AS (SELECT cust, count(*) FILTER (WHERE amount < 0) AS n_ret, "
            "sum(amount) FILTER (WHERE amount < 0) AS v_ret, "
            "count(*) FILTER (WHERE amount >= 0) AS n_buy FROM w GROUP BY cust) "
            "SELECT coalesce(sum(n_ret), 0), coalesce(sum(v_ret), 0), "
            "count(*) FILTER (WHERE n_ret > 0 AND n_buy = 0) FROM per"
        )
        n_ret, v_ret, only = int(n_ret), float(v_ret), int(only)
        if n_ret == 0:
            return
        note_only = (
            f" {only} customer(s) have returns but no purchase{where} and are not customers there."
            if only
            else ""
        )
        amount_col = table.amount_col
        if returns == "error":
            raise ValueError(self._error_message(n_ret, v_ret, where))
        if returns == "exclude":
            warnings.warn(
                f"returns='exclude': {n_ret:,} return row(s) (negative {amount_col}, total "
                f"{_money(v_ret)}){where} left out: a return is not a purchase occasion and does "
                f"not lower monetary value.{note_only} Pass returns='net' to net them against "
                "each customer's purchases, or returns='error' to refuse them.",
                ReturnsWarning,
                stacklevel=_stacklevel(),
            )
            return
        self.netted = True
        n_un, v_un, n_floor, excess = table.db.fetchone(
            f"WITH {', '.join(self._net_ctes('', left=True))} "
            "SELECT (SELECT count(*) FROM m WHERE pday IS NULL), "
            "(SELECT coalesce(sum(amount), 0) FROM m WHERE pday IS NULL), "
            "(SELECT count(*) FROM net WHERE value < 0), "
            "(SELECT coalesce(sum(value), 0) FROM net WHERE value < 0)"
        )
        message = (
            f"returns='net': {n_ret:,} return row(s) (negative {amount_col}, total "
            f"{_money(v_ret)}){where} netted against each customer's latest purchase occasion on "
            "or before the return; returns never create an occasion."
        )
        if n_un:
            message += (
                f" {n_un:,} of them (total {_money(float(v_un))}) have no earlier purchase"
                f"{where} and are left out."
            )
        if n_floor:
            message += (
                f" {n_floor:,} occasion(s) were refunded more than they cost: their value is "
                f"floored at 0 (excess {_money(float(excess))} left out)."
            )
        warnings.warn(message + note_only, ReturnsWarning, stacklevel=_stacklevel())

    def _error_message(self, n_ret: int, v_ret: float, where: str) -> str:
        table = self.table
        with table.db.in_input_order():
            rows = table.db.frame(
                f"SELECT * FROM (SELECT row_number() OVER () - 1 AS {_ROW}, cust, day, amount "
                f"FROM ({table.rows(self.start, self.end)})) WHERE amount < 0 ORDER BY {_ROW} "
                f"LIMIT {MAX_ROWS_SHOWN}"
            )
        day = rows["day"].to_numpy(dtype=np.int64)
        shown = pd.DataFrame(
            {
                "customer": rows["cust"].to_numpy(),
                "date": (np.datetime64("1970-01-01", "D") + day).astype(str),
                table.amount_col: rows["amount"].to_numpy(dtype=float),
            },
            index=rows[_ROW].to_numpy(),
        ).to_string()
        more = f"\n... and {n_ret - len(rows)} more row(s)" if n_ret > len(rows) else ""
        return (
            f"column '{table.amount_col}': {n_ret} return row(s) (negative amounts, total "
            f"{_money(v_ret)}){where} with returns='error':\n{shown}{more}\n"
            "Pass returns='exclude' to leave them out or returns='net' to net them against "
            "the customer's purchases."
        )

    def _extra(self, how: str) -> str:
        if not self.extra:
            return ""
        return "".join(
            f", {how.format(f'x{i}')} AS x{i}" for i in range(len(self.table.cols.extra))
        )

    def _net_ctes(self, p: str, left: bool = False) -> list[str]:
        """CTEs of returns='net': buys, refunds per paid occasion, and net values.

        Each return is matched to the customer's latest occasion with positive spend on or
        before its day (ASOF JOIN); ``m`` keeps unmatched returns (``pday`` NULL) when ``left``.
        """
        rows = self.table.rows(self.start, self.end, self.extra)
        asof = "ASOF LEFT JOIN" if left else "ASOF JOIN"
        return [
            f"{p}w AS ({rows})",
            f"{p}buys AS (SELECT cust, day, coalesce(sum(amount) FILTER (WHERE amount > 0), 0) "
            f"AS gross, count(*) AS n_rows{self._extra('sum({0})')} FROM {p}w "
            "WHERE amount >= 0 GROUP BY cust, day)",
            f"{p}m AS (SELECT r.cust, r.amount, p.day AS pday FROM "
            f"(SELECT cust, day, amount FROM {p}w WHERE amount < 0) r {asof} "
            f"(SELECT cust, day FROM {p}buys WHERE gross > 0) p "
            "ON r.cust = p.cust AND r.day >= p.day)",
            f"{p}refund AS (SELECT cust, pday AS day, sum(amount) AS refund FROM {p}m "
            "WHERE pday IS NOT NULL GROUP BY cust, pday)",
            f"{p}net AS (SELECT b.*, CASE WHEN f.refund IS NULL THEN b.gross "
            "ELSE b.gross + f.refund END AS value "
            f"FROM {p}buys b LEFT JOIN {p}refund f ON b.cust = f.cust AND b.day = f.day)",
        ]

    def rows_cte(self) -> str:
        """The CTE ``{prefix}w``: the window's rows (purchases and returns)."""
        return f"{self.prefix}w AS ({self.table.rows(self.start, self.end, self.extra)})"

    def ctes(self) -> list[str]:
        p = self.prefix
        if self.netted:
            extra = self._extra("{0}")
            return self._net_ctes(p) + [
                f"{p}occ AS (SELECT cust, day, greatest(value, 0) AS amount, n_rows{extra} "
                f"FROM {p}net)"
            ]
        rows = self.table.rows(self.start, self.end, self.extra)
        return [
            f"{p}w AS ({rows})",
            f"{p}occ AS (SELECT cust, day, sum(amount) AS amount, count(*) AS n_rows"
            f"{self._extra('sum({0})')} FROM {p}w WHERE amount >= 0 GROUP BY cust, day)",
        ]


# --- per-customer summaries -----------------------------------------------------------------
#: SQL aggregates of a window's occasions per customer: the inputs of the RFM arithmetic.
_SUMMARY = (
    "count(*) AS n_days, min(day) AS first_day, max(day) AS last_day, "
    "sum(amount) AS total, arg_min(amount, day) AS first_amount"
)


def _rfm_columns(result, end_day: int, unit: float) -> dict[str, np.ndarray]:
    """frequency / recency / T / monetary value as ``churnlab.rfm.summarise_purchases``."""
    n_days = _ints(result, "n_days")
    first, last = _ints(result, "first_day"), _ints(result, "last_day")
    total, first_amount = _floats(result, "total"), _floats(result, "first_amount")
    frequency = np.maximum(n_days - 1, 0)
    repeat_spend = np.maximum(total - first_amount, 0.0)
    return {
        "frequency": frequency.astype(np.int64),
        "recency": (last - first) / unit,
        "T": (end_day - first) / unit,
        "monetary_value": np.where(frequency > 0, repeat_spend / np.maximum(frequency, 1), 0.0),
        "last_day": last,
    }


def _ints(result, name: str) -> np.ndarray:
    return np.asarray(result.column(name).to_numpy(), dtype=np.int64)


def _floats(result, name: str) -> np.ndarray:
    return np.asarray(result.column(name).to_numpy(), dtype=float)


def _index(result, customer_col: str) -> tuple[pd.Index, np.ndarray | None]:
    """The customer ids of a result sorted by SQL, and the order that sorts them if they are not."""
    ids = pd.Index(result.column("cust").to_pandas(), name=customer_col)
    if ids.is_monotonic_increasing:
        return ids, None
    order = np.asarray(ids.argsort(kind="stable"))
    return ids[order], order


def _frame(columns: dict[str, np.ndarray], ids: pd.Index, order) -> pd.DataFrame:
    if order is not None:
        columns = {k: v[order] for k, v in columns.items()}
    return pd.DataFrame(columns, index=ids)


def _date(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _require_customers(table: _Table, end_day: int, end, name: str) -> None:
    if len(table) == 0:
        raise ValueError("transactions are empty: no customer can be summarised")
    if int(table.first_day) > end_day:
        raise ValueError(
            f"{name}={end!r} is before every purchase: the transactions run from "
            f"{table.date_range()}, so no customer can be summarised"
        )


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
    memory_limit=None,
    temp_directory=None,
    threads: int | None = None,
) -> pd.DataFrame:
    """:func:`churnlab.rfm_summary` of a file, glob or DuckDB relation, computed by DuckDB.

    Arguments and result are those of :func:`churnlab.rfm_summary`; ``memory_limit``,
    ``temp_directory`` and ``threads`` set the DuckDB connection (see :func:`connect` and the
    module notes). ``transactions`` is a path (str or :class:`pathlib.Path`) to a Parquet or CSV
    file, a glob of them, or a DuckDB relation.

    Examples
    --------
    >>> con = duckdb.connect()
    >>> tx = con.sql("SELECT * FROM (VALUES (1, DATE '2024-01-01', 10.0), "
    ...              "(1, DATE '2024-01-01', 5.0), (1, DATE '2024-01-15', 20.0), "
    ...              "(2, DATE '2024-01-08', 7.0)) t(customer_id, date, amount)")
    >>> rfm_summary(tx, "2024-01-29")
                 frequency  recency    T  monetary_value
    customer_id
    1                    1      2.0  4.0            20.0
    2                    0      0.0  3.0             0.0
    """
    unit = unit_days(time_unit)
    with _open(transactions, memory_limit, temp_directory, threads) as db:
        table = _read(
            db,
            customer_col=customer_col,
            date_col=date_col,
            amount_col=amount_col,
            date_format=date_format,
            tz=tz,
        )
        end_day = table.end_day(observation_end)
        _require_customers(table, end_day, observation_end, "observation_end")
        bought = table.purchases(
            returns=returns, end=end_day, window=f"the window to {_date(end_day)}"
        )
        result = db.arrow(
            f"WITH {', '.join(bought.ctes())} SELECT cust, {_SUMMARY} "
            "FROM occ GROUP BY cust ORDER BY cust"
        )
    ids, order = _index(result, customer_col)
    s = _rfm_columns(result, end_day, unit)
    out = _frame({k: s[k] for k in ("frequency", "recency", "T", "monetary_value")}, ids, order)
    if amount_col is None:
        out = out.drop(columns="monetary_value")
    out.attrs["time_unit"] = time_unit
    return out


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
    memory_limit=None,
    temp_directory=None,
    threads: int | None = None,
) -> pd.DataFrame:
    """:func:`churnlab.calibration_holdout_split` of a file, glob or relation, by DuckDB.

    Arguments and result are those of :func:`churnlab.calibration_holdout_split`; the engine
    settings are those of :func:`rfm_summary`.
    """
    unit = unit_days(time_unit)
    with _open(transactions, memory_limit, temp_directory, threads) as db:
        table = _read(
            db,
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
                f"observation_end ({observation_end}) must be after calibration_end "
                f"({calibration_end})"
            )
        _require_customers(table, cal_end, calibration_end, "calibration_end")
        cal = table.purchases(
            returns=returns,
            end=cal_end,
            window=f"the calibration period to {_date(cal_end)}",
            prefix="c_",
        )
        hold = table.purchases(
            returns=returns,
            start=cal_end + 1,
            end=obs_end,
            window=f"the holdout {_date(cal_end + 1)} to {_date(obs_end)}",
            prefix="h_",
        )
        result = db.arrow(
            f"WITH {', '.join(cal.ctes() + hold.ctes())}, "
            f"cs AS (SELECT cust, {_SUMMARY} FROM c_occ GROUP BY cust), "
            "hs AS (SELECT cust, count(*) AS n_hold, sum(amount) AS spend_hold FROM h_occ "
            "GROUP BY cust) "
            "SELECT cs.*, coalesce(hs.n_hold, 0) AS n_hold, "
            "coalesce(hs.spend_hold, 0) AS spend_hold "
            "FROM cs LEFT JOIN hs ON cs.cust = hs.cust ORDER BY cs.cust"
        )
    ids, order = _index(result, customer_col)
    s = _rfm_columns(result, cal_end, unit)
    n_hold, spend_hold = _ints(result, "n_hold"), _floats(result, "spend_hold")
    out = _frame(
        {
            "frequency_cal": s["frequency"],
            "recency_cal": s["recency"],
            "T_cal": s["T"],
            "monetary_value_cal": s["monetary_value"],
            "frequency_holdout": n_hold,
            "monetary_value_holdout": np.where(n_hold > 0, spend_hold / np.maximum(n_hold, 1), 0.0),
            "duration_holdout": np.full(len(ids), (obs_end - cal_end) / unit),
        },
        ids,
        order,
    )
    if amount_col is None:
        out = out.drop(columns=["monetary_value_cal", "monetary_value_holdout"])
    out.attrs["time_unit"] = time_unit
    return out


def make_churn_dataset(
    transactions,
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
    memory_limit=None,
    temp_directory=None,
    threads: int | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """:func:`churnlab.churn.make_churn_dataset` of a file, glob or relation, by DuckDB.

    Arguments and result are those of :func:`churnlab.churn.make_churn_dataset`; the engine
    settings are those of :func:`rfm_summary`. The features are SQL aggregates of the
    pre-cutoff purchase occasions (inter-purchase times from a window ``lag`` over each
    customer's days); the BG/NBD columns come from :class:`churnlab.BetaGeo` fitted on them.
    """
    unit = unit_days(time_unit)
    h_days = horizon_days(horizon, time_unit)
    windows = _check_windows(windows, trend_window)
    with _open(transactions, memory_limit, temp_directory, threads) as db:
        table = _read(
            db,
            customer_col=customer_col,
            date_col=date_col,
            amount_col=amount_col,
            extra_cols=(quantity_col,) if quantity_col else (),
            date_format=date_format,
            tz=tz,
        )
        if len(table) == 0:
            raise ValueError("transactions are empty")
        cut_day = table.day_of(cutoff, "cutoff")
        first_day, last_day = table.first_day, table.last_day
        end_day = last_day if data_end is None else table.day_of(data_end, "data_end")
        if cut_day < first_day:
            raise ValueError(
                f"cutoff={cutoff!r} is before the first transaction ({_date(first_day)}): "
                "no customer exists yet. Choose a cutoff within the data."
            )
        if cut_day >= end_day:
            raise ValueError(
                f"cutoff={cutoff!r} is not before the end of the data ({_date(end_day)}): "
                "there is no label window left. Choose an earlier cutoff."
            )
        label_end = cut_day + h_days
        if label_end > end_day:
            raise ValueError(
                f"cutoff={cutoff!r} with horizon={horizon!r}: the label window "
                f"({_date(cut_day)}, {_date(label_end)}] runs past "
                f"the end of the data ({_date(end_day)}): customers who buy after "
                f"{_date(end_day)} would be labelled churned wrongly. Use an earlier cutoff "
                "or a shorter horizon, or pass data_end= if observation continued after the "
                "last transaction."
            )
        pre = table.purchases(
            returns=returns,
            end=cut_day,
            window=f"the history to {_date(cut_day)}",
            prefix="p_",
            extra=bool(quantity_col),
        )
        # two narrow aggregates spill more easily than one wide one (arg_min would not spill)
        occasion_sql = [
            "count(*) AS n_days, min(day) AS first_day, max(day) AS last_day",
            "sum(amount) AS total, sum(n_rows) AS n_tx",
        ]
        for w in windows:
            occasion_sql += [
                f"count(*) FILTER (WHERE {cut_day} - day < {w}) AS p{w}",
                f"coalesce(sum(amount) FILTER (WHERE {cut_day} - day < {w}), 0) AS s{w}",
            ]
        tw = trend_window
        occasion_sql += [
            f"count(*) FILTER (WHERE {cut_day} - day < {tw}) AS recent",
            f"count(*) FILTER (WHERE {cut_day} - day >= {tw} AND {cut_day} - day < {2 * tw}) "
            "AS earlier",
        ]
        if quantity_col:
            occasion_sql.append("sum(x0) AS quantity")
        ctes = ", ".join(pre.ctes())
        result = db.arrow(
            f"WITH {ctes} SELECT cust, {', '.join(occasion_sql)} FROM p_occ "
            "GROUP BY cust ORDER BY cust"
        )
        if result.num_rows == 0:
            raise ValueError(f"no purchase on or before cutoff={cutoff!r}: only returns")
        # the gaps between a customer's consecutive purchase days; the first day has none
        gaps = db.arrow(
            f"WITH {ctes}, g AS (SELECT cust, day, amount, "
            "day - lag(day) OVER (PARTITION BY cust ORDER BY day) AS gap FROM p_occ) "
            "SELECT cust, sum(amount) FILTER (WHERE gap IS NULL) AS first_amount, "
            "count(gap) AS n_gaps, "
            # n * sum(g^2) - sum(g)^2, exact in 128-bit integers
            "coalesce(CAST(count(gap) * sum(CAST(gap AS HUGEINT) * gap) "
            "- sum(CAST(gap AS HUGEINT)) * sum(gap) AS DOUBLE), 0) AS spread "
            "FROM g GROUP BY cust ORDER BY cust"
        )
        if not gaps.column("cust").equals(result.column("cust")):
            raise RuntimeError("DuckDB returned the customers of two queries differently")
        for name in ("first_amount", "n_gaps", "spread"):
            result = result.append_column(name, gaps.column(name))
        ids, order = _index(result, customer_col)
        X = _frame(
            _churn_features(result, cut_day, unit, windows, trend_window, bool(quantity_col)),
            ids,
            order,
        )
        X.attrs.update(
            cutoff=_date(cut_day),
            label_end=_date(label_end),
            horizon_days=h_days,
            time_unit=time_unit,
        )
        if bgnbd:
            rfm = X[["frequency", "recency", "tenure"]].rename(columns={"tenure": "T"})
            rfm.attrs["time_unit"] = time_unit
            _add_bgnbd(X, rfm, h_days / unit)
        post = table.purchases(
            returns=returns,
            start=cut_day + 1,
            end=label_end,
            window=f"the label window {_date(cut_day + 1)} to {_date(label_end)}",
            prefix="q_",
        )
        bought = db.arrow(f"WITH {post.rows_cte()} SELECT DISTINCT cust FROM q_w WHERE amount >= 0")
    later = pd.Index(bought.column("cust").to_pandas())
    y = pd.Series((~X.index.isin(later)).astype(np.int64), index=X.index.copy(), name=LABEL_NAME)
    if attributes is not None:
        X = _join_attributes(X, attributes, customer_col)
    return X, y


def _churn_features(result, cut_day, unit, windows, trend_window, quantity) -> dict:
    """The columns of ``churnlab.churn.features._transaction_features`` from SQL aggregates."""
    rfm = _rfm_columns(result, cut_day, unit)
    out = {
        "frequency": rfm["frequency"],
        "recency": rfm["recency"],
        "tenure": rfm["T"],
        "monetary_value": rfm["monetary_value"],
        "time_since_last_purchase": (cut_day - rfm["last_day"]) / unit,
    }
    n_gaps = _ints(result, "n_gaps")
    has_gap = n_gaps > 0
    safe = np.maximum(n_gaps, 1)
    mean = (_ints(result, "last_day") - _ints(result, "first_day")) / safe / unit
    # the variance of the gaps in days is (n * sum(g^2) - sum(g)^2) / n^2 (exact in SQL)
    std = np.sqrt(np.maximum(_floats(result, "spread"), 0.0)) / safe / unit
    out["ipt_mean"] = np.where(has_gap, mean, 0.0)
    out["ipt_std"] = np.where(has_gap, std, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["ipt_cv"] = np.where(has_gap & (mean > 0), std / np.where(mean > 0, mean, 1.0), 0.0)
    for w in windows:
        out[f"purchases_{w}d"] = _ints(result, f"p{w}")
        out[f"spend_{w}d"] = _floats(result, f"s{w}")
    recent, earlier = _ints(result, "recent"), _ints(result, "earlier")
    total = recent + earlier
    out[f"trend_{trend_window}d"] = np.where(
        total > 0, (recent - earlier) / np.maximum(total, 1), 0.0
    )
    n_tx = _ints(result, "n_tx")
    spend = _floats(result, "total")
    out["n_transactions"] = n_tx
    out["total_spend"] = spend
    out["avg_basket_value"] = spend / n_tx
    if quantity:
        out["avg_quantity"] = _floats(result, "quantity") / n_tx
    return out


# --- the data-quality report ----------------------------------------------------------------
def inspect_transactions(
    transactions,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    observation_end=None,
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
    memory_limit=None,
    temp_directory=None,
    threads: int | None = None,
) -> DataQualityReport:
    """:func:`churnlab.inspect_transactions` of a file, glob or relation, counted by DuckDB.

    Arguments and result are those of :func:`churnlab.inspect_transactions`; the engine
    settings are those of :func:`rfm_summary`.
    """
    check_returns(returns)
    problems: list[str] = []
    with _open(transactions, memory_limit, temp_directory, threads) as db:
        n_rows = int(db.fetchone(f"SELECT count(*) FROM {TABLE}")[0])
        try:
            table = _read(
                db,
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
        duplicates = 0
        if n_rows:
            distinct = db.fetchone(f"SELECT count(*) FROM (SELECT DISTINCT * FROM {TABLE})")[0]
            duplicates = n_rows - int(distinct)
        if table is None or len(table) == 0:
            if table is not None:
                problems.append("transactions are empty: no customer can be summarised")
            n_customers = 0
            if customer_col in db.columns:
                c = _quote(customer_col)
                missing = _missing(c, _type_kind(db.types[customer_col]))
                query = f"SELECT count(DISTINCT {c}) FILTER (WHERE NOT {missing}) FROM {TABLE}"
                n_customers = int(db.fetchone(query)[0])
            return DataQualityReport(
                rows=n_rows,
                customers=n_customers,
                first_date=None,
                last_date=None,
                time_zone=None,
                return_rows=0,
                return_value=0.0,
                returns_only_customers=0,
                zero_amount_rows=0,
                same_day_rows_merged=0,
                purchase_occasions=0,
                duplicate_rows=duplicates,
                rows_after_end=0,
                observation_end=end_stamp,
                returns=returns,
                problems=tuple(problems),
            )
        first, last = table.first_day, table.last_day
        end_day = last if end_stamp is None else epoch_day(end_stamp)
        if end_stamp is not None and end_day < first:
            problems.append(
                f"observation_end={observation_end!r} is before every purchase: the "
                f"transactions run from {table.date_range()}"
            )
        counts = db.fetchone(
            f"WITH r AS ({table.rows()}), "
            f"per AS (SELECT cust, count(*) FILTER (WHERE day <= {end_day} AND amount < 0) "
            "AS n_ret, "
            f"count(*) FILTER (WHERE day <= {end_day} AND amount >= 0) AS n_buy, "
            f"count(DISTINCT day) FILTER (WHERE day <= {end_day} AND amount >= 0) AS n_days, "
            f"sum(amount) FILTER (WHERE day <= {end_day} AND amount < 0) AS v_ret, "
            f"count(*) FILTER (WHERE day <= {end_day} AND amount = 0) AS n_zero, "
            f"count(*) FILTER (WHERE day > {end_day}) AS n_after FROM r GROUP BY cust) "
            "SELECT count(*), coalesce(sum(n_ret), 0), coalesce(sum(v_ret), 0), "
            "count(*) FILTER (WHERE n_ret > 0 AND n_buy = 0), coalesce(sum(n_zero), 0), "
            "coalesce(sum(n_buy), 0), coalesce(sum(n_days), 0), coalesce(sum(n_after), 0) "
            "FROM per"
        )
        n_customers, n_ret, v_ret, only, n_zero, n_buy, occasions, n_after = counts
        if returns == "error" and n_ret:
            try:
                table.purchases(returns="error", end=end_day)
            except ValueError as err:
                problems.append(str(err))
        if not n_buy and not problems:
            problems.append("no purchase occasion on or before the observation end")
    epoch = np.datetime64("1970-01-01", "D")
    return DataQualityReport(
        rows=n_rows,
        customers=int(n_customers),
        first_date=pd.Timestamp(epoch + first),
        last_date=pd.Timestamp(epoch + last),
        time_zone=table.time_zone,
        return_rows=int(n_ret),
        return_value=float(v_ret),
        returns_only_customers=int(only),
        zero_amount_rows=int(n_zero) if amount_col is not None else 0,
        same_day_rows_merged=int(n_buy) - int(occasions),
        purchase_occasions=int(occasions),
        duplicate_rows=duplicates,
        rows_after_end=int(n_after),
        observation_end=end_stamp,
        returns=returns,
        problems=tuple(problems),
    )
