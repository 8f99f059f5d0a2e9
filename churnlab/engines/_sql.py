"""The rules of :mod:`churnlab.transactions` as DuckDB SQL.

Connections and their memory settings, the transactions as one table seen by every query
(files, globs, relations), the validation rules in the pandas path's order and wording, the
calendar day of every kind of date column, and purchase windows under the returns policy.
:mod:`churnlab.engines.duckdb` builds the summaries on them; its notes say what the SQL does
and what DuckDB can know that pandas cannot (and the other way round).
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
from churnlab.engines.sources import file_sources, source_kind
from churnlab.transactions import (
    NOT_FINITE,
    NOT_NUMBERS,
    NOT_NUMBERS_HINT,
    ReturnsWarning,
    _money,
    check_returns,
)

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
                try:
                    con.execute(f"{create} {TABLE} AS SELECT * FROM {scan}")
                except duckdb.ConversionException:
                    if file_format != "csv":
                        raise
                    # a value unlike the rows the types were guessed from: type from every row,
                    # so that, say, text among numbers is refused by our rules, with its row
                    whole = scan[:-1] + ", sample_size = -1)"
                    con.execute(f"{create} {TABLE} AS SELECT * FROM {whole}")
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
    """SQL for a numeric column as DOUBLE and its checks (as the pandas path's ``_numbers``)."""
    c = _quote(column)
    kind = _type_kind(db.types[column])
    if kind in ("bool", "text"):  # text is refused, not cast: numbers stored as text included
        return "NULL", [_Check(column, NOT_NUMBERS, "true", hint=NOT_NUMBERS_HINT)]
    if kind in ("int", "float", "decimal"):
        value = f"CAST({c} AS DOUBLE)"
    else:
        message = f"column '{column}' holds {db.types[column]} values: numbers are expected"
        return "NULL", [_Check(column, "", None, message=message)]
    bad = f"(NOT isfinite({value}))"
    return value, [_Check(column, NOT_FINITE, bad)]


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
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
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
