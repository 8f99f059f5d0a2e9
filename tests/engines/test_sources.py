"""Recognising the kind of a transaction table, and routing it to its engine."""

import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import churnlab
from churnlab import calibration_holdout_split, inspect_transactions, rfm_summary
from churnlab.churn import make_churn_dataset
from churnlab.engines import dispatch, file_sources, source_kind, to_pandas

pl = pytest.importorskip("polars")
duckdb = pytest.importorskip("duckdb")


@pytest.fixture
def tx():
    return pd.DataFrame(
        {
            "customer_id": [3, 1, 1, 2, 1],
            "date": pd.to_datetime(
                ["2024-01-03", "2024-01-01", "2024-01-01", "2024-01-05", "2024-02-01"]
            ),
            "amount": [5.0, 10.0, 2.5, 0.0, 7.0],
            "note": ["a", "b", "c", "d", "e"],
        }
    )


def test_each_kind_is_recognised(tx, tmp_path):
    con = duckdb.connect()
    assert source_kind(tx) == "pandas"
    assert source_kind(pl.from_pandas(tx)) == "polars"
    table = pa.Table.from_pandas(tx, preserve_index=False)
    assert source_kind(table) == "arrow"
    assert source_kind(table.to_batches()[0]) == "arrow"
    assert source_kind("transactions.parquet") == "path"
    assert source_kind(tmp_path / "transactions.csv") == "path"
    assert source_kind(con.sql("SELECT 1 AS customer_id")) == "duckdb"
    spark_like = type("DataFrame", (), {"__module__": "pyspark.sql.dataframe"})()
    assert source_kind(spark_like) == "spark"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"customer_id": [1]}, "got builtins.dict"),
        (np.zeros(3), "got numpy.ndarray"),
        (pl.DataFrame({"customer_id": [1]}).lazy(), r"\.collect\(\)"),
    ],
)
def test_anything_else_is_a_type_error_naming_what_is_accepted(data, match):
    with pytest.raises(TypeError, match=f"(?s)Polars DataFrame, a PyArrow table.*{match}"):
        source_kind(data)
    with pytest.raises(TypeError, match="DuckDB relation or a Spark DataFrame"):
        rfm_summary(data)


def test_files_and_globs(tmp_path):
    for name in ("b.parquet", "a.PQ", "c.csv", "d.csv.gz", "notes.txt"):
        (tmp_path / name).write_text("")
    assert file_sources(tmp_path / "b.parquet") == ("parquet", [str(tmp_path / "b.parquet")])
    assert file_sources(str(tmp_path / "d.csv.gz"))[0] == "csv"
    kind, files = file_sources(str(tmp_path / "[ab].*"))
    assert kind == "parquet" and [Path(f).name for f in files] == ["a.PQ", "b.parquet"]
    with pytest.raises(ValueError, match="both Parquet and CSV"):
        file_sources(str(tmp_path / "[bc].*"))
    with pytest.raises(ValueError, match="no file matches"):
        file_sources(str(tmp_path / "*.feather"))
    with pytest.raises(ValueError, match="no such file"):
        file_sources(tmp_path / "missing.parquet")
    with pytest.raises(ValueError, match=r"is a folder.*\*\.parquet"):
        file_sources(tmp_path)
    with pytest.raises(ValueError, match=r"reads Parquet \(\.parquet, \.pq\) and CSV"):
        file_sources(tmp_path / "notes.txt")


def test_polars_and_arrow_convert_to_the_same_pandas_frame(tx):
    for data in (pl.from_pandas(tx), pa.Table.from_pandas(tx, preserve_index=False)):
        back = to_pandas(data)
        pd.testing.assert_frame_equal(back, tx, check_dtype=False)
        assert back["customer_id"].dtype == np.int64
        assert back["date"].dtype.kind == "M" and back["amount"].dtype == np.float64
        # only the columns a function reads are converted, when they all exist
        assert list(to_pandas(data, ["customer_id", "date"]).columns) == ["customer_id", "date"]
        assert len(to_pandas(data, ["customer_id", "missing"]).columns) == 4


def test_arrow_dates_become_datetimes_not_objects():
    table = pa.table({"customer_id": [1, 1], "date": pa.array([19723, 19730], pa.date32())})
    frame = to_pandas(table)
    assert frame["date"].dtype.kind == "M"
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-08"]
    rfm = rfm_summary(table, amount_col=None, time_unit="D")
    assert rfm.loc[1, ["frequency", "recency"]].tolist() == [1, 7.0]


@pytest.mark.parametrize("kind", ["polars", "arrow"])
def test_in_memory_tables_give_the_pandas_result(tx, kind):
    data = pl.from_pandas(tx) if kind == "polars" else pa.Table.from_pandas(tx)
    pd.testing.assert_frame_equal(rfm_summary(data), rfm_summary(tx))
    assert inspect_transactions(data) == inspect_transactions(tx)


def test_engine_options_are_refused_where_they_do_nothing(tx):
    with pytest.raises(ValueError, match="not to pandas inputs"):
        rfm_summary(tx, engine_options={"threads": 1})
    with pytest.raises(ValueError, match="not to pandas inputs"):
        inspect_transactions(tx, engine_options={"threads": 1})
    with pytest.raises(ValueError, match="engine_options apply to the DuckDB engine"):
        rfm_summary(pl.from_pandas(tx), engine_options={"memory_limit": "1GB"})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['memory'\]"):
        rfm_summary("transactions.parquet", engine_options={"memory": "1GB"})
    with pytest.raises(ValueError, match="must be a dict"):
        rfm_summary("transactions.parquet", engine_options="1GB")


def test_spark_dataframes_go_to_churnlab_spark_with_the_same_arguments(monkeypatch):
    calls = []

    def recorder(name):
        def function(data, **kwargs):
            calls.append((name, data, kwargs))
            return name

        return function

    names = ("rfm_summary", "calibration_holdout_split", "make_churn_dataset")
    names += ("inspect_transactions",)
    fake = types.ModuleType("churnlab.spark")
    for name in names:
        setattr(fake, name, recorder(name))
    monkeypatch.setitem(sys.modules, "churnlab.spark", fake)
    monkeypatch.setattr(churnlab, "spark", fake, raising=False)
    sdf = type("DataFrame", (), {"__module__": "pyspark.sql.connect.dataframe"})()

    assert rfm_summary(sdf, "2024-06-30", time_unit="D", returns="net") == "rfm_summary"
    assert calibration_holdout_split(sdf, "2024-03-31", tz="UTC") == "calibration_holdout_split"
    assert make_churn_dataset(sdf, "2024-03-31", "8W", bgnbd=False) == "make_churn_dataset"
    assert inspect_transactions(sdf, observation_end="2024-06-30") == "inspect_transactions"
    assert [c[0] for c in calls] == list(names) and all(c[1] is sdf for c in calls)
    rfm_kwargs = calls[0][2]
    assert rfm_kwargs["observation_end"] == "2024-06-30"
    assert rfm_kwargs["time_unit"] == "D" and rfm_kwargs["returns"] == "net"
    assert "engine_options" not in rfm_kwargs and "transactions" not in rfm_kwargs
    assert calls[1][2]["calibration_end"] == "2024-03-31" and calls[1][2]["tz"] == "UTC"
    assert calls[2][2]["horizon"] == "8W" and calls[2][2]["bgnbd"] is False
    with pytest.raises(ValueError, match="not to spark inputs"):
        rfm_summary(sdf, engine_options={"threads": 1})


def test_dispatch_drops_names_that_are_not_arguments(tx):
    arguments = {"transactions": pl.from_pandas(tx), "dispatch": dispatch, "time_unit": "D"}
    pd.testing.assert_frame_equal(dispatch(rfm_summary, arguments), rfm_summary(tx, time_unit="D"))


def test_polars_reaches_every_function_with_the_columns_it_needs():
    from churnlab.datasets import load_retail_sample

    tx = load_retail_sample().transactions
    data = pl.from_pandas(tx)
    kwargs = {"quantity_col": "quantity", "bgnbd": False}
    with pytest.warns(churnlab.transactions.ReturnsWarning):
        X, y = make_churn_dataset(data, "2024-06-30", "26W", **kwargs)
    with pytest.warns(churnlab.transactions.ReturnsWarning):
        want_X, want_y = make_churn_dataset(tx, "2024-06-30", "26W", **kwargs)
    pd.testing.assert_frame_equal(X, want_X)
    pd.testing.assert_series_equal(y, want_y)
    with pytest.warns(churnlab.transactions.ReturnsWarning):
        split = calibration_holdout_split(data, "2023-12-31")
    with pytest.warns(churnlab.transactions.ReturnsWarning):
        pd.testing.assert_frame_equal(split, calibration_holdout_split(tx, "2023-12-31"))
