"""The DuckDB engine and the in-memory inputs give the pandas path's output, warnings and errors.

Each case runs a public function on a pandas DataFrame and on the same transactions as a Parquet
file, a CSV file, a glob of two Parquet files, a DuckDB table, a Polars DataFrame and an Arrow
table: frequency, recency and T must be equal, money within 1e-9 relative, and the returns
warnings word for word the same.
"""

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from churnlab import calibration_holdout_split, inspect_transactions, rfm_summary
from churnlab.churn import make_churn_dataset
from churnlab.datasets import load_cdnow, load_retail_sample
from churnlab.engines import duckdb as engine
from churnlab.transactions import ReturnsWarning

duckdb = pytest.importorskip("duckdb")
pl = pytest.importorskip("polars")

SOURCES = ("parquet", "csv", "glob", "relation", "polars", "arrow")
#: Polars and Arrow tables reach the pandas path once converted (checked on every function by
#: the summary and the report); the split and the churn features are checked where SQL runs.
SQL_SOURCES = ("parquet", "csv", "glob", "relation")
#: Money is summed in another order by SQL: equal to rounding.
RTOL = 1e-9


def random_ties(seed: int = 7) -> pd.DataFrame:
    """Text ids of several lengths, many transactions on one day, zero amounts and returns."""
    rng = np.random.default_rng(seed)
    n = 4_000
    # customers differ in how often they buy (Gamma propensities), as real ones do: without
    # that spread the BG/NBD features refuse the data as not identifying the model
    propensity = rng.gamma(0.6, size=399)
    customer = rng.choice(np.arange(1, 400), size=n, p=propensity / propensity.sum())
    day = rng.integers(0, 60, n) * 6  # few distinct days: many same-day transactions
    seconds = rng.integers(0, 86_400, n)
    amount = rng.gamma(2.0, 15.0, n).round(2)
    amount[rng.random(n) < 0.08] = 0.0
    returns = rng.random(n) < 0.1
    amount[returns] = -rng.gamma(2.0, 10.0, returns.sum()).round(2)
    return pd.DataFrame(
        {
            "customer_id": pd.Series("C" + pd.Series(customer).astype(str), dtype="str"),
            "date": pd.Timestamp("2023-01-01")
            + pd.to_timedelta(day, unit="D")
            + pd.to_timedelta(seconds, unit="s"),
            "quantity": rng.integers(1, 5, n),
            "amount": amount,
        }
    )


#: name -> (loader, calibration end / cutoff, horizon, returns policies)
DATASETS = {
    "cdnow": (lambda: load_cdnow("master"), "1997-09-30", "39W", ("exclude",)),
    "retail": (lambda: load_retail_sample().transactions, "2024-06-30", "26W", ("exclude", "net")),
    "ties": (random_ties, "2023-08-31", "8W", ("exclude", "net")),
}
CASES = [(name, returns) for name, spec in DATASETS.items() for returns in spec[3]]


@pytest.fixture(scope="module")
def frames():
    return {name: spec[0]() for name, spec in DATASETS.items()}


@pytest.fixture(scope="module")
def sources(frames, tmp_path_factory):
    """Each data set in every form; DuckDB tables live in one connection for the module."""
    folder = tmp_path_factory.mktemp("engines")
    con = duckdb.connect()
    out = {}
    for name, frame in frames.items():
        frame.to_parquet(folder / f"{name}.parquet")
        frame.to_csv(folder / f"{name}.csv", index=False)
        half = len(frame) // 2
        frame.iloc[:half].to_parquet(folder / f"{name}-part1.parquet")
        frame.iloc[half:].to_parquet(folder / f"{name}-part2.parquet")
        con.register("incoming", pa.Table.from_pandas(frame, preserve_index=False))
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")
        con.unregister("incoming")
        out[name] = {
            "parquet": str(folder / f"{name}.parquet"),
            "csv": folder / f"{name}.csv",
            "glob": str(folder / f"{name}-part*.parquet"),
            "relation": con.table(name),
            "polars": pl.from_pandas(frame),
            "arrow": pa.Table.from_pandas(frame, preserve_index=False),
        }
    yield out
    con.close()


def run(function, data, *args, **kwargs):
    """The result of a call and the messages of the returns warnings it gave."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = function(data, *args, **kwargs)
    messages = [str(w.message) for w in record if issubclass(w.category, ReturnsWarning)]
    return result, messages


_expected: dict = {}


def expected(frames, key, function, *args, **kwargs):
    """The pandas path's result, computed once per module."""
    if key not in _expected:
        _expected[key] = run(function, frames[key[0]], *args, **kwargs)
    return _expected[key]


def assert_same_frame(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_index_equal(got.index, want.index)
    assert got.attrs.keys() == want.attrs.keys()
    for column in want.columns:
        if want[column].dtype.kind in "iu":  # counts: equal
            np.testing.assert_array_equal(got[column], want[column], err_msg=column)
        else:
            np.testing.assert_allclose(got[column], want[column], rtol=RTOL, err_msg=column)
    for column in ("frequency", "recency", "T", "frequency_cal", "recency_cal", "T_cal", "tenure"):
        if column in want:  # calendar arithmetic: exactly equal
            np.testing.assert_array_equal(got[column], want[column], err_msg=column)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(("name", "returns"), CASES)
def test_rfm_summary(frames, sources, name, returns, source):
    want, want_warnings = expected(frames, (name, returns, "rfm"), rfm_summary, returns=returns)
    got, got_warnings = run(rfm_summary, sources[name][source], returns=returns)
    assert_same_frame(got, want)
    assert got.attrs == want.attrs
    assert got_warnings == want_warnings


@pytest.mark.parametrize("source", SQL_SOURCES)
@pytest.mark.parametrize(("name", "returns"), CASES)
def test_calibration_holdout_split(frames, sources, name, returns, source):
    cal_end = DATASETS[name][1]
    key = (name, returns, "split")
    want, want_warnings = expected(
        frames, key, calibration_holdout_split, cal_end, returns=returns, time_unit="D"
    )
    got, got_warnings = run(
        calibration_holdout_split, sources[name][source], cal_end, returns=returns, time_unit="D"
    )
    assert_same_frame(got, want)
    assert got_warnings == want_warnings


@pytest.mark.parametrize("source", SQL_SOURCES)
@pytest.mark.parametrize(("name", "returns"), CASES)
def test_make_churn_dataset(frames, sources, name, returns, source):
    _, cutoff, horizon, _ = DATASETS[name]
    # the random ties have no dropout process: the BG/NBD's a runs to 0 and its fit is refused
    bgnbd = source == "parquet" and name != "ties"
    kwargs = {"quantity_col": "quantity", "returns": returns, "bgnbd": bgnbd}
    want, want_warnings = expected(
        frames, (name, returns, "churn", bgnbd), make_churn_dataset, cutoff, horizon,
        **kwargs,
    )  # fmt: skip
    (X, y), got_warnings = run(make_churn_dataset, sources[name][source], cutoff, horizon, **kwargs)
    want_X, want_y = want
    assert_same_frame(X, want_X)
    assert X.attrs == want_X.attrs  # the BG/NBD parameters too: fitted on equal summaries
    pd.testing.assert_series_equal(y, want_y)
    assert got_warnings == want_warnings


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(("name", "returns"), CASES)
def test_inspect_transactions(frames, sources, name, returns, source):
    end = DATASETS[name][1]
    want = inspect_transactions(frames[name], observation_end=end, returns=returns)
    got = inspect_transactions(sources[name][source], observation_end=end, returns=returns)
    assert got.return_value == pytest.approx(want.return_value, rel=RTOL)
    assert dataclasses.replace(got, return_value=0.0) == dataclasses.replace(want, return_value=0.0)


def test_the_retail_sample_has_returns_that_each_path_nets_alike(frames, sources):
    # the cases above would prove little if the windows held no returns to net
    _, messages = expected(frames, ("retail", "net", "rfm"), rfm_summary, returns="net")
    assert len(messages) == 1 and "netted against" in messages[0]
    split, messages = run(
        calibration_holdout_split, sources["retail"]["parquet"], "2024-06-30", returns="net"
    )
    assert len(messages) == 2 and "in the holdout 2024-07-01 to 2024-12-31" in messages[1]
    _, ties = expected(frames, ("ties", "net", "rfm"), rfm_summary, returns="net")
    assert "have no earlier purchase" in ties[0] and "floored at 0" in ties[0]


# --- the same errors ----------------------------------------------------------------------------
def frame(ids, dates, amounts):
    return pd.DataFrame({"customer_id": ids, "date": dates, "amount": amounts})


DAYS = ["2024-01-01", "2024-01-05", "2024-01-09"]
BAD_TABLES = {
    "missing column": (frame([1, 1, 2], DAYS, [1.0, 2.0, 3.0]).drop(columns="amount"), {}),
    "missing ids": (frame([1.0, np.nan, 2.0], DAYS, [1.0, 2.0, 3.0]), {}),
    "missing amounts": (frame([1, 1, 2], DAYS, [1.0, None, 3.0]), {}),
    "numeric dates": (frame([1, 1, 2], [20240101, 20240105, 20240109], [1.0, 2.0, 3.0]), {}),
    "unix seconds": (frame([1, 1, 2], [1704067200, 1704412800, 1704758400], [1.0, 2, 3]), {}),
    "unparseable dates": (frame([1, 1, 2], ["2024-01-01", "2024-13-45", "soon"], [1, 2, 3.0]), {}),
    "sentinel dates": (
        frame([1, 1, 2], pd.to_datetime(DAYS[:2] + ["1970-01-01"]), [1, 2, 3.0]),
        {},
    ),
    "out-of-range text": (frame([1, 1, 2], DAYS[:2] + ["9999-12-31"], [1.0, 2.0, 3.0]), {}),
    "infinite amounts": (frame([1, 1, 2], DAYS, [1.0, np.inf, 3.0]), {}),
    "text amounts": (frame([1, 1, 2], DAYS, ["10", "abc", "3"]), {}),
    "boolean amounts": (frame([1, 1, 2], DAYS, [True, False, True]), {}),
    "boolean dates": (frame([1, 1, 2], [True, False, True], [1.0, 2.0, 3.0]), {}),
    "returns refused": (frame([1, 1, 2], DAYS, [10.0, -4.0, 3.0]), {"returns": "error"}),
    "unix format on text": (frame([1, 1, 2], DAYS, [1.0, 2.0, 3.0]), {"date_format": "unix_s"}),
    "end before data": (frame([1, 1, 2], DAYS, [1.0, 2.0, 3.0]), {"observation_end": "2023-06-30"}),
    "unknown policy": (frame([1, 1, 2], DAYS, [1.0, 2.0, 3.0]), {"returns": "drop"}),
}
#: Cases where the two paths name a column's type differently (pandas' dtype, SQL's type).
TYPE_NAMED = {"unix format on text"}


def errors(call) -> str:
    with pytest.raises(ValueError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore", ReturnsWarning)
        call()
    return str(info.value)


@pytest.mark.parametrize("case", list(BAD_TABLES))
def test_the_same_errors_from_parquet_and_relations(case, tmp_path):
    tx, kwargs = BAD_TABLES[case]
    want = errors(lambda: rfm_summary(tx, **kwargs))
    tx.to_parquet(tmp_path / "tx.parquet")
    con = duckdb.connect()
    con.register("incoming", pa.Table.from_pandas(tx, preserve_index=False))
    relation = con.sql("SELECT * FROM incoming")
    for source in (str(tmp_path / "tx.parquet"), relation):
        got = errors(lambda source=source: rfm_summary(source, **kwargs))
        if case in TYPE_NAMED:
            assert got.split(" holds ")[0] == want.split(" holds ")[0]
        else:
            assert got == want  # column, problem, rows shown (by position) and hint
    if case in TYPE_NAMED or case == "unknown policy":
        return
    # the report lists the same problem, and counts what it can
    want_report = inspect_transactions(tx, **kwargs)
    for source in (str(tmp_path / "tx.parquet"), relation):
        assert inspect_transactions(source, **kwargs) == want_report


def test_errors_show_at_most_ten_rows_by_their_position(tmp_path):
    tx = frame(np.arange(40) % 7, ["2024-01-01", "nope"] * 20, np.ones(40))
    want = errors(lambda: rfm_summary(tx))
    tx.to_parquet(tmp_path / "tx.parquet")
    got = errors(lambda: rfm_summary(tmp_path / "tx.parquet"))
    assert got == want
    assert "in 20 row(s)" in got and "... and 10 more row(s)" in got
    assert "\n19 " in got and "\n21 " not in got  # rows 1, 3, ..., 19 shown


def test_csv_files_are_read_by_the_same_rules(tmp_path):
    def through_csv(tx, **kwargs):
        path = tmp_path / "tx.csv"
        tx.to_csv(path, index=False)
        return errors(lambda: rfm_summary(path, **kwargs))

    numbers = frame([1, 1, 2], [20240101, 20240105, 20240109], [1.0, 2.0, 3.0])
    message = through_csv(numbers)
    assert "column 'date': numbers where dates are expected in 3 row(s)" in message
    assert 'date_format="%Y%m%d"' in message
    rfm = rfm_summary(tmp_path / "tx.csv", date_format="%Y%m%d", time_unit="D")
    pd.testing.assert_frame_equal(rfm, rfm_summary(numbers, date_format="%Y%m%d", time_unit="D"))
    # layouts pandas would guess are refused with the rows: date_format= says how to read them
    day_first = frame([1, 1, 2], ["01/02/2024", "15/02/2024", "01/03/2024"], [1.0, 2.0, 3.0])
    message = through_csv(day_first)
    assert "column 'date': values that cannot be parsed as dates in 3 row(s)" in message
    kwargs = {"date_format": "%d/%m/%Y", "time_unit": "D"}
    got = rfm_summary(tmp_path / "tx.csv", **kwargs)
    pd.testing.assert_frame_equal(got, rfm_summary(day_first, **kwargs))
    assert got.loc[1, "recency"] == 14.0  # February 1 to 15
    assert "in 2 row(s)" in through_csv(frame([1, 2, 3], DAYS, [1.0, np.inf, -np.inf]))


@pytest.mark.parametrize(
    ("values", "date_format"),
    [
        ([20240101, 20240115, 20240201], "%Y%m%d"),
        ([1704067200, 1705276800, 1706745600], "unix_s"),
        ([1704067200000, 1705276800000, 1706745600000], "unix_ms"),
        ([45292.25, 45306.5, 45323.0], "excel"),
    ],
)
def test_numeric_dates_read_with_date_format(values, date_format, tmp_path):
    tx = frame([1, 1, 2], values, [10.0, 20.0, 5.0])
    tx.to_parquet(tmp_path / "tx.parquet")
    kwargs = {"date_format": date_format, "time_unit": "D"}
    got = rfm_summary(tmp_path / "tx.parquet", "2024-02-05", **kwargs)
    pd.testing.assert_frame_equal(got, rfm_summary(tx, "2024-02-05", **kwargs))
    assert got.loc[1, ["frequency", "recency", "T"]].tolist() == [1, 14.0, 35.0]


# --- time zones -------------------------------------------------------------------------------
def berlin_near_midnight() -> pd.DataFrame:
    stamps = pd.to_datetime(
        ["2024-01-01 10:00", "2024-02-01 00:30", "2024-01-15 12:00", "2024-03-31 23:30"]
    ).tz_localize("Europe/Berlin")
    return frame([1, 1, 2, 2], stamps, [1.0, 2.0, 3.0, 4.0])


def test_aware_parquet_dates_count_by_the_zone_the_file_records(tmp_path):
    tx = berlin_near_midnight()
    tx.to_parquet(tmp_path / "tx.parquet")
    path = tmp_path / "tx.parquet"
    for kwargs in ({}, {"tz": "UTC"}, {"tz": "Asia/Tokyo"}):
        want = rfm_summary(tx, "2024-04-01", time_unit="D", **kwargs)
        pd.testing.assert_frame_equal(
            rfm_summary(path, "2024-04-01", time_unit="D", **kwargs), want
        )
    # 00:30 in Berlin on Feb 1 is Jan 31 in UTC: the customer bought on Feb 1
    assert rfm_summary(path, "2024-04-01", time_unit="D").loc[1, "recency"] == 31.0
    report = inspect_transactions(path)
    assert report.time_zone == "Europe/Berlin" == inspect_transactions(tx).time_zone
    # an aware date argument is read in the data's zone, as on the pandas path
    end = pd.Timestamp("2024-03-31 23:00", tz="UTC")  # April 1, 01:00 in Berlin
    pd.testing.assert_frame_equal(rfm_summary(path, end), rfm_summary(tx, end))


def test_a_relation_counts_aware_dates_in_its_connections_zone():
    tx = berlin_near_midnight()
    con = duckdb.connect()
    con.register("incoming", tx)
    relation = con.sql("SELECT * FROM incoming")
    # DuckDB keeps the instant, not the zone: the session's TimeZone is the data's zone
    con.execute("SET TimeZone = 'UTC'")
    in_utc = rfm_summary(relation, "2024-04-01", time_unit="D")
    pd.testing.assert_frame_equal(in_utc, rfm_summary(tx, "2024-04-01", time_unit="D", tz="UTC"))
    assert inspect_transactions(relation).time_zone == "UTC"
    con.execute("SET TimeZone = 'Europe/Berlin'")
    pd.testing.assert_frame_equal(
        rfm_summary(relation, "2024-04-01", time_unit="D"),
        rfm_summary(tx, "2024-04-01", time_unit="D"),
    )


def test_text_with_utc_offsets_keeps_each_rows_wall_clock_day(tmp_path):
    tx = frame(
        [1, 1, 2],
        ["2024-01-10T00:30:00+01:00", "2024-07-10T00:30:00+02:00", "2024-03-01T23:59:00Z"],
        [1.0, 2.0, 3.0],
    )
    tx.to_csv(tmp_path / "tx.csv", index=False)
    for kwargs in ({}, {"tz": "UTC"}):
        want = rfm_summary(tx, "2024-07-10", time_unit="D", **kwargs)
        got = rfm_summary(tmp_path / "tx.csv", "2024-07-10", time_unit="D", **kwargs)
        pd.testing.assert_frame_equal(got, want)


# --- memory ---------------------------------------------------------------------------------------
def test_the_default_memory_limit_is_half_the_machine():
    import os

    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:  # a container's own limit, when it has one below the machine's memory
        total = min(total, int(open("/sys/fs/cgroup/memory.max").read()))
    except (OSError, ValueError):
        pass
    limit = int(engine.default_memory_limit().removesuffix("MiB")) * 2**20
    assert total / 2 - 2**20 < limit <= total / 2
    con = engine.connect()
    shown = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.close()
    number, unit = shown.split()
    assert float(number) * {"MiB": 2**20, "GiB": 2**30}[unit] == pytest.approx(limit, rel=0.01)


@pytest.fixture(scope="module")
def moderate(tmp_path_factory):
    """1,500,000 transactions of 200,000 customers over two years, as a Parquet file."""
    rng = np.random.default_rng(11)
    n, m = 1_500_000, 200_000
    tx = pd.DataFrame(
        {
            "customer_id": rng.integers(0, m, n) * 7 + 1_000,
            "date": pd.Timestamp("2023-01-01")
            + pd.to_timedelta(rng.integers(0, 730 * 86_400, n), unit="s"),
            "amount": rng.gamma(2.0, 20.0, n).round(2),
        }
    )
    path = tmp_path_factory.mktemp("moderate") / "tx.parquet"
    tx.to_parquet(path, row_group_size=100_000)
    return tx, path


#: Far below what these summaries of 1,500,000 rows take in memory: DuckDB must spill.
TINY = {"memory_limit": "64MB", "threads": 2}


def test_a_tiny_memory_limit_spills_to_disk_and_gives_the_same_result(moderate, tmp_path):
    tx, path = moderate
    options = {**TINY, "temp_directory": str(tmp_path / "spill")}
    got = rfm_summary(path, engine_options=options)
    assert_same_frame(got, rfm_summary(tx))
    X, y = make_churn_dataset(path, "2024-06-30", "26W", bgnbd=False, engine_options=options)
    want_X, want_y = make_churn_dataset(tx, "2024-06-30", "26W", bgnbd=False)
    assert_same_frame(X, want_X)
    pd.testing.assert_series_equal(y, want_y)


def test_the_limit_binds_where_nothing_can_spill(moderate):
    _, path = moderate
    # a connection that cannot spill, with a memory limit of its own
    con = duckdb.connect(config={"temp_directory": "", "memory_limit": "3GiB"})
    before = con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    relation = con.read_parquet(str(path))
    with pytest.raises(MemoryError, match=r"(?s)ran out of memory.*memory_limit"):
        rfm_summary(relation, engine_options=TINY)
    # the relation's connection gets its own setting back (as DuckDB shows it: 3.0 GiB)
    assert con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0] == before
    with pytest.raises(ValueError, match="temp_directory applies to files"):
        rfm_summary(relation, engine_options={"temp_directory": "/tmp"})


def test_bad_engine_settings_are_value_errors(tmp_path):
    frame([1], ["2024-01-01"], [1.0]).to_parquet(tmp_path / "tx.parquet")
    with pytest.raises(ValueError, match="memory_limit"):
        rfm_summary(tmp_path / "tx.parquet", engine_options={"memory_limit": "lots"})
    with pytest.raises(ValueError, match="threads=0"):
        rfm_summary(tmp_path / "tx.parquet", engine_options={"threads": 0})


def test_returns_warnings_point_at_the_callers_line(sources):
    with pytest.warns(ReturnsWarning) as record:
        rfm_summary(sources["retail"]["parquet"])  # this line
    assert record[0].filename == __file__


def test_text_late_in_a_numeric_csv_column_is_refused_with_its_row(tmp_path):
    # DuckDB guesses column types from the first rows; a later value that does not fit them
    # is read again as text, and the rules of the transaction door refuse a text column (as
    # pandas reads the same file: numbers stored as text are not converted silently)
    n = 30_000
    amounts = np.full(n, "10", dtype=object)
    amounts[-1] = "abc"
    tx = frame(np.arange(n) % 100, "2024-01-01", amounts)
    tx.to_csv(tmp_path / "tx.csv", index=False)
    want = errors(lambda: rfm_summary(tx))
    assert "column 'amount': text or booleans where numbers are expected in 30000 row(s)" in want
    assert errors(lambda: rfm_summary(tmp_path / "tx.csv")).splitlines()[0] == want.splitlines()[0]
