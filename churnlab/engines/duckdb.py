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
  refused and text dates read by the rules above; a CSV file is parsed once into a temporary
  table (which spills like the rest), Parquet is read where it is at every pass.
* **Purchases and returns.** A purchase occasion is a customer's calendar day with a
  transaction of non-negative amount; ``returns="net"`` refunds each return from the
  customer's latest occasion with positive spend on or before its day (an ``ASOF JOIN``),
  floors an occasion at 0 and leaves out returns without an earlier occasion in the window,
  with the same :class:`~churnlab.transactions.ReturnsWarning` (counts and value) as the pandas
  path. When the data has returns, each window's warning takes one more pass over the data
  (two with ``returns="net"``).
* **Arithmetic.** Days, counts and sums come from SQL; frequency, recency and T are computed
  from integer days as on the pandas path (equal), money sums in another order (equal to about
  1e-15 relative); the spread of inter-purchase times is computed from exact integer sums
  (equal to rounding; exactly 0 where the gaps are equal). The churn features are two narrow
  aggregates (per occasion, and over the gaps between a customer's days from a window
  ``lag``) rather than one wide one, which DuckDB spills more readily. The BG/NBD features come
  from :class:`churnlab.BetaGeo` fitted on the SQL summary, as on the pandas path.
* **Mixed-type ids** have no SQL counterpart (a column has one type), so that check of the
  pandas path never fires here; a DuckDB ``MemoryError`` names ``memory_limit`` and
  ``temp_directory``, and DuckDB's read errors (a broken file, say) are ValueErrors naming
  the input. CSV column types are guessed from the first rows; when a later value does not
  fit them, the file is read again with types guessed from every row.

The memory limit (``memory_limit=``, default :data:`DEFAULT_MEMORY_FRACTION` of the machine's
memory) and the spill folder (``temp_directory=``, default a fresh temporary folder removed
afterwards) apply to the connection churnlab opens for files. A relation is queried in its
own connection, whose settings are the user's: ``memory_limit`` and ``threads`` are set there
for the call when given and restored afterwards (to the value DuckDB reports, which it rounds
to a tenth of its unit), and it spills to that connection's ``temp_directory``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from churnlab._validation import as_timestamp, epoch_day
from churnlab.churn.features import (
    DEFAULT_WINDOWS,
    LABEL_NAME,
    _add_bgnbd,
    _check_windows,
    _join_attributes,
    horizon_days,
)
from churnlab.engines._sql import (
    DEFAULT_MEMORY_FRACTION,
    TABLE,
    _missing,
    _open,
    _quote,
    _read,
    _Table,
    _type_kind,
    connect,
    default_memory_limit,
)
from churnlab.rfm import unit_days
from churnlab.transactions import DEFAULT_RETURNS, DataQualityReport, check_returns

__all__ = [
    "DEFAULT_MEMORY_FRACTION",
    "calibration_holdout_split",
    "connect",
    "default_memory_limit",
    "inspect_transactions",
    "make_churn_dataset",
    "rfm_summary",
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
    return _numpy(result.column(name), np.int64)


def _floats(result, name: str) -> np.ndarray:
    return _numpy(result.column(name), float)


def _numpy(column, dtype) -> np.ndarray:
    """A result column (an Arrow chunked array) as one numpy array, copied chunk by chunk.

    ``ChunkedArray.to_numpy()`` joins the chunks in Arrow's memory pool, which keeps the pages
    once the arrays are freed (390 MiB still resident after the summary of 10,000,000
    customers; benchmarks/README.md); numpy's own allocations go back to the system.
    """
    out = np.empty(len(column), dtype=dtype)
    start = 0
    for chunk in column.chunks:
        out[start : start + len(chunk)] = chunk.to_numpy(zero_copy_only=False)
        start += len(chunk)
    return out


def _index(result, customer_col: str) -> tuple[pd.Index, np.ndarray | None]:
    """The customer ids of a result sorted by SQL, and the order that sorts them if they are not."""
    column = result.column("cust")
    if pa.types.is_integer(column.type) and column.null_count == 0:
        values = _numpy(column, column.type.to_pandas_dtype())
    else:
        values = column.to_pandas()
    ids = pd.Index(values, name=customer_col)
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
    >>> import duckdb
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
    del result  # DuckDB's copy of the result: freed before the frame is built
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
    out.attrs["calibration_end"] = str(np.datetime64(cal_end, "D"))
    out.attrs["observation_end"] = str(np.datetime64(obs_end, "D"))
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
    # the sample variance of the gaps in days is (n * sum(g^2) - sum(g)^2) / (n (n - 1)), with
    # the spread n * sum(g^2) - sum(g)^2 exact in SQL (churnlab.stats.gap_statistics: ddof=1,
    # defined from two gaps; 0 where undefined, as in the pandas path)
    two = n_gaps >= 2
    pairs = np.maximum(n_gaps * (n_gaps - 1), 1)
    std = np.sqrt(np.maximum(_floats(result, "spread"), 0.0) / pairs) / unit
    out["ipt_mean"] = np.where(has_gap, mean, 0.0)
    out["ipt_std"] = np.where(two, std, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["ipt_cv"] = np.where(two & (mean > 0), std / np.where(mean > 0, mean, 1.0), 0.0)
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
