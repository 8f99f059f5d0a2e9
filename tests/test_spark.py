"""churnlab.spark gives the numbers, errors and warnings of the pandas path.

Every test runs the same data through the pandas function and its Spark counterpart (local[2],
the session of the ``spark`` fixture in conftest.py) and compares: customers, frequency,
recency and T exactly, money to 1e-9 relative, the returns warnings word for word, fitted
parameters to 1e-6 and predictions to 1e-12. Naive pandas datetimes become Spark
``timestamp_ntz`` columns, the Spark type with the same meaning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

import churnlab
from churnlab import BetaGeo, GammaGamma, ParetoNBD, customer_lifetime_value
from churnlab import spark as cs
from churnlab.churn import make_churn_dataset
from churnlab.datasets import load_cdnow, load_retail_sample
from churnlab.transactions import ReturnsWarning

CDNOW_CALIBRATION_END = "1997-09-30"
RETAIL_CUTOFF = "2024-01-01"
#: Relative tolerance of money and other sums (Spark adds in another order).
MONEY_RTOL = 1e-9


def to_spark(spark, frame: pd.DataFrame):
    """A Spark DataFrame of ``frame``; naive datetimes as timestamp_ntz (wall-clock times)."""
    sdf = spark.createDataFrame(frame)
    for name, dtype in frame.dtypes.items():
        if dtype.kind == "M" and getattr(dtype, "tz", None) is None:
            sdf = sdf.withColumn(name, F.col(name).cast("timestamp_ntz"))
    return sdf


def run(call):
    """``call()`` and the messages of the ReturnsWarnings it issued."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        out = call()
    return out, [str(w.message) for w in record if issubclass(w.category, ReturnsWarning)]


def assert_same_frame(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same customers, columns and dtypes; counts and times exact, money to 1e-9 relative."""
    assert got.index.equals(expected.index)
    assert got.index.name == expected.index.name
    assert list(got.columns) == list(expected.columns)
    assert got.dtypes.equals(expected.dtypes)
    exact = {"frequency", "recency", "T", "tenure", "time_since_last_purchase"}
    for column in got.columns:
        a, b = got[column].to_numpy(), expected[column].to_numpy()
        if column in exact or column.endswith(("_cal", "_holdout")) and "monetary" not in column:
            np.testing.assert_array_equal(a, b, err_msg=column)
        elif a.dtype.kind in "iu":
            np.testing.assert_array_equal(a, b, err_msg=column)
        else:
            np.testing.assert_allclose(a, b, rtol=MONEY_RTOL, atol=1e-12, err_msg=column)


@pytest.fixture(scope="module")
def cdnow_sample():
    return load_cdnow("sample")


@pytest.fixture(scope="module")
def cdnow_master():
    return load_cdnow("master")


@pytest.fixture(scope="module")
def retail():
    return load_retail_sample().transactions


@pytest.fixture(scope="module")
def tables(spark, cdnow_sample, cdnow_master, retail):
    """The three tables as pandas and as Spark DataFrames."""
    return {
        name: (frame, to_spark(spark, frame))
        for name, frame in (
            ("cdnow-sample", cdnow_sample),
            ("cdnow-master", cdnow_master),
            ("retail", retail),
        )
    }


# (table, returns policy): CDNOW has no returns, the retail sample has 1,685
CASES = [("cdnow-sample", "exclude"), ("cdnow-master", "exclude"), ("retail", "exclude"),
         ("retail", "net")]  # fmt: skip


# --- the four functions against the pandas path -------------------------------------------------
@pytest.mark.parametrize(("name", "returns"), CASES)
def test_rfm_summary_equals_the_pandas_path(tables, name, returns):
    frame, sdf = tables[name]
    end = CDNOW_CALIBRATION_END if name.startswith("cdnow") else None
    expected, expected_warnings = run(lambda: churnlab.rfm_summary(frame, end, returns=returns))
    got, got_warnings = run(lambda: cs.rfm_summary(sdf, end, returns=returns))
    assert_same_frame(got, expected)
    assert got.attrs == expected.attrs == {"time_unit": "W"}
    assert got_warnings == expected_warnings
    assert len(expected_warnings) == (name == "retail")


@pytest.mark.parametrize(("name", "returns"), CASES)
def test_calibration_holdout_split_equals_the_pandas_path(tables, name, returns):
    frame, sdf = tables[name]
    cal_end, obs_end = (
        ("1997-09-30", "1998-06-30") if name.startswith("cdnow") else ("2024-01-01", None)
    )
    expected, expected_warnings = run(
        lambda: churnlab.calibration_holdout_split(frame, cal_end, obs_end, returns=returns)
    )
    got, got_warnings = run(
        lambda: cs.calibration_holdout_split(sdf, cal_end, obs_end, returns=returns)
    )
    assert_same_frame(got, expected)
    assert got.attrs == expected.attrs
    assert got_warnings == expected_warnings
    # the holdout of the retail sample holds customers with returns and no purchase there
    if name == "retail":
        assert "2 customer(s) have returns but no purchase in the holdout" in got_warnings[1]


@pytest.mark.parametrize(("name", "returns"), CASES)
def test_make_churn_dataset_equals_the_pandas_path(tables, name, returns):
    frame, sdf = tables[name]
    cutoff, horizon = ("1997-09-30", "39W") if name.startswith("cdnow") else (RETAIL_CUTOFF, "26W")
    args = dict(quantity_col="quantity", returns=returns)
    if name == "cdnow-sample":  # attributes are joined on the driver, as on one machine
        ids = frame["customer_id"].unique()
        args["attributes"] = pd.DataFrame(
            {"region_code": (ids % 5).astype(float)}, index=pd.Index(ids, name="customer_id")
        )
    (X0, y0), expected_warnings = run(lambda: make_churn_dataset(frame, cutoff, horizon, **args))
    (X1, y1), got_warnings = run(lambda: cs.make_churn_dataset(sdf, cutoff, horizon, **args))
    assert_same_frame(X1, X0)
    pd.testing.assert_series_equal(y1, y0)
    assert got_warnings == expected_warnings
    params0, params1 = X0.attrs.pop("bgnbd_params"), X1.attrs.pop("bgnbd_params")
    assert X1.attrs == X0.attrs
    assert params1 == pytest.approx(params0, rel=1e-12)
    assert {"p_alive", "avg_quantity", "ipt_cv", "trend_90d", "spend_180d"} <= set(X1.columns)


def test_churn_dataset_refuses_a_label_window_past_the_data(tables):
    frame, sdf = tables["retail"]
    with pytest.raises(ValueError) as expected:
        make_churn_dataset(frame, "2024-10-01", "26W")
    with pytest.raises(ValueError) as got:
        cs.make_churn_dataset(sdf, "2024-10-01", "26W")
    assert str(got.value) == str(expected.value)
    assert "runs past the end of the data (2024-12-31)" in str(got.value)


@pytest.mark.parametrize(("name", "returns"), CASES + [("retail", "error")])
def test_inspect_transactions_equals_the_pandas_path(tables, name, returns):
    frame, sdf = tables[name]
    end = CDNOW_CALIBRATION_END if name == "cdnow-sample" else None
    expected = churnlab.inspect_transactions(frame, observation_end=end, returns=returns)
    got = cs.inspect_transactions(sdf, observation_end=end, returns=returns)
    assert got.return_value == pytest.approx(expected.return_value, rel=MONEY_RTOL)
    # the same problems; the rows shown carry no row numbers on Spark (rows have none)
    assert [(p.splitlines()[0], p.splitlines()[-1]) for p in got.problems] == [
        (p.splitlines()[0], p.splitlines()[-1]) for p in expected.problems
    ]
    assert got.table.drop("return rows").equals(expected.table.drop("return rows"))
    if name == "cdnow-sample":  # 6,919 transactions of 2,357 customers (FHL 2005)
        assert (got.rows, got.customers, got.rows_after_end) == (6919, 2357, 1959)
    if returns == "error":
        assert got.problems[0].startswith("column 'amount': 1685 return row(s)")


def test_the_top_level_functions_hand_spark_frames_to_churnlab_spark(tables):
    frame, sdf = tables["cdnow-sample"]
    got = churnlab.rfm_summary(sdf, CDNOW_CALIBRATION_END, time_unit="D")
    assert_same_frame(got, churnlab.rfm_summary(frame, CDNOW_CALIBRATION_END, time_unit="D"))
    report = churnlab.inspect_transactions(sdf, observation_end=CDNOW_CALIBRATION_END)
    assert (report.rows, report.customers, report.rows_after_end) == (6919, 2357, 1959)


def test_results_can_stay_in_spark(tables):
    frame, sdf = tables["retail"]
    with pytest.warns(ReturnsWarning):
        expected = churnlab.rfm_summary(frame, returns="net")
    with pytest.warns(ReturnsWarning) as record:
        summary = cs.rfm_summary(sdf, returns="net", as_spark=True)
    assert len(record) == 1  # the counts are computed at once, not when the result is
    meta = {f.name: f.metadata for f in summary.schema.fields}
    assert meta["T"] == meta["recency"] == {"churnlab_time_unit": "W"}
    got = summary.toPandas().set_index("customer_id").sort_index()
    got.attrs["time_unit"] = "W"
    assert_same_frame(got, expected)


def test_churn_dataset_can_stay_in_spark_with_bgnbd_scored_in_parallel(tables):
    frame, sdf = tables["cdnow-sample"]
    X0, y0 = make_churn_dataset(frame, "1997-09-30", "39W")
    X, y = cs.make_churn_dataset(sdf, "1997-09-30", "39W", as_spark=True)
    got = X.toPandas().set_index("customer_id").sort_index()
    assert_same_frame(got, X0)
    labels = y.toPandas().set_index("customer_id").sort_index()["churned"]
    pd.testing.assert_series_equal(labels, y0)


# --- fitting on collapsed rows, scoring in parallel ----------------------------------------------
@pytest.fixture(scope="module")
def cdnow_summaries(tables):
    frame, sdf = tables["cdnow-sample"]
    pandas_summary = churnlab.rfm_summary(frame, CDNOW_CALIBRATION_END)
    spark_summary = cs.rfm_summary(sdf, CDNOW_CALIBRATION_END, as_spark=True)
    return pandas_summary, spark_summary


def test_fit_on_distinct_rows_equals_fitting_every_customer(cdnow_summaries):
    pandas_summary, spark_summary = cdnow_summaries
    expected = BetaGeo().fit(pandas_summary)
    got = cs.fit(BetaGeo(), spark_summary)
    np.testing.assert_allclose(got.params_, expected.params_, rtol=1e-6)
    assert got.log_likelihood_ == pytest.approx(expected.log_likelihood_, rel=1e-10)
    assert (got.n_customers_, got.n_unique_) == (2357, expected.n_unique_)
    assert got.time_unit_ == "W"  # read from the columns' metadata
    # and they are the published estimates (Fader, Hardie & Lee 2005, section 4)
    assert got.params_.round(3).tolist() == [0.243, 4.414, 0.793, 2.426]

    # any model of the shared machinery: the same distinct rows, the same estimates
    pareto = cs.fit(ParetoNBD(), spark_summary)
    np.testing.assert_allclose(pareto.params_, ParetoNBD().fit(pandas_summary).params_, rtol=1e-6)

    repeat = pandas_summary[pandas_summary["frequency"] > 0]
    spend = cs.fit(GammaGamma(), spark_summary.filter("frequency > 0"))
    np.testing.assert_allclose(spend.params_, GammaGamma().fit(repeat).params_, rtol=1e-6)
    assert spend.params_.round(2).tolist() == [6.25, 3.74, 15.44]  # Fader & Hardie (2013)


def test_fit_summarises_transactions_first(tables, cdnow_summaries):
    _, sdf = tables["cdnow-sample"]
    model = cs.fit(BetaGeo(), sdf, observation_end=CDNOW_CALIBRATION_END, time_unit="W")
    expected = BetaGeo().fit(cdnow_summaries[0])
    np.testing.assert_allclose(model.params_, expected.params_, rtol=1e-6)
    with pytest.raises(TypeError, match="already an RFM summary"):
        cs.fit(BetaGeo(), cdnow_summaries[1], observation_end=CDNOW_CALIBRATION_END)
    with pytest.raises(ValueError, match="time_unit='D' but the data record time_unit='W'"):
        cs.fit(BetaGeo(), cdnow_summaries[1], time_unit="D")


def test_score_equals_the_pandas_predictions(cdnow_summaries):
    pandas_summary, spark_summary = cdnow_summaries
    bg = BetaGeo().fit(pandas_summary)
    gg = GammaGamma().fit(pandas_summary[pandas_summary["frequency"] > 0])
    scored = cs.score(spark_summary, bg, gg, horizon=52, time_unit="W", discount_rate=0.1)
    got = scored.toPandas().set_index("customer_id").sort_index()
    assert list(got.columns[-3:]) == ["probability_alive", "expected_purchases", "clv"]
    np.testing.assert_allclose(
        got["probability_alive"], bg.probability_alive(pandas_summary), rtol=1e-12
    )
    np.testing.assert_allclose(
        got["expected_purchases"],
        bg.conditional_expected_purchases(52, pandas_summary),
        rtol=1e-12,
    )
    clv = customer_lifetime_value(
        bg, gg, pandas_summary, time_unit="W", horizon=52, discount_rate=0.1
    )
    np.testing.assert_allclose(got["clv"], clv, rtol=1e-12)
    # customer 1 of the CDNOW sample: P(alive) 0.727 (Hardie's BG/NBD spreadsheet)
    assert round(got.loc[1, "probability_alive"], 3) == 0.727

    # another purchase model travels the same way
    pareto = ParetoNBD().fit(pandas_summary)
    got = cs.score(spark_summary, pareto, horizon=39, time_unit="W").toPandas()
    got = got.set_index("customer_id").sort_index()
    np.testing.assert_allclose(
        got["probability_alive"], pareto.probability_alive(pandas_summary), rtol=1e-12
    )
    np.testing.assert_allclose(
        got["expected_purchases"],
        pareto.conditional_expected_purchases(39, pandas_summary),
        rtol=1e-12,
    )


def test_score_checks_its_arguments_and_zero_spend(spark, cdnow_summaries):
    pandas_summary, spark_summary = cdnow_summaries
    bg = BetaGeo().fit(pandas_summary)
    gg = GammaGamma().fit(pandas_summary[pandas_summary["frequency"] > 0])
    with pytest.raises(ValueError, match="time_unit='D' but the data record time_unit='W'"):
        cs.score(spark_summary, bg, horizon=52, time_unit="D")
    untagged = spark_summary.select([F.col(c).alias(c, metadata={}) for c in spark_summary.columns])
    with pytest.raises(ValueError, match="fitted on data in 'W'"):
        cs.score(untagged, bg, horizon=52, time_unit="D")
    with pytest.raises(ValueError, match="discount_rate"):
        cs.score(spark_summary, bg, gg, horizon=52, time_unit="W")
    with pytest.raises(ValueError, match="not a whole multiple of step"):
        cs.score(spark_summary, bg, gg, horizon=5.5, time_unit="W", discount_rate=0.1)
    free = to_spark(
        spark,
        pd.DataFrame(
            {
                "customer_id": [1, 2],
                "frequency": [2, 1],
                "recency": [3.0, 2.0],
                "T": [5.0, 4.0],
                "monetary_value": [0.0, 12.0],
            }  # fmt: skip
        ),
    )
    with pytest.warns(UserWarning, match="1 repeat buyer"):
        scored = cs.score(free, bg, gg, horizon=52, time_unit="W", discount_rate=0.1)
    clv = scored.orderBy("customer_id").toPandas()["clv"]
    assert clv[0] == 0.0 and clv[1] > 0
    with pytest.raises(ValueError, match="(?s)zero average spend in 1 row.*customer_id"):
        cs.score(free, bg, gg, horizon=52, time_unit="W", discount_rate=0.1, zero_spend="raise")


# --- the transaction door: rules for bad data and dates ------------------------------------------
def frame(ids, dates, amounts):
    return pd.DataFrame({"customer_id": ids, "date": dates, "amount": amounts})


def same_or_same_error(spark, tx, **args):
    """rfm_summary of ``tx`` on both paths: equal results, or ValueErrors of the same kind."""
    try:
        expected, expected_warnings = run(lambda: churnlab.rfm_summary(tx, **args))
    except ValueError as err:
        with pytest.raises(ValueError) as caught:
            cs.rfm_summary(to_spark(spark, tx), **args)
        # the same first line: column, problem and number of rows
        assert str(caught.value).splitlines()[0] == str(err).splitlines()[0]
        return str(caught.value)
    got, got_warnings = run(lambda: cs.rfm_summary(to_spark(spark, tx), **args))
    assert_same_frame(got, expected)
    assert got_warnings == expected_warnings
    return got


def test_the_returns_rules_on_a_hand_made_table(spark):
    # customer 1: the case (100, -100, 0 on three days); 2: refunds of the latest
    # purchase on or before them, a same-day return and a return before any purchase (3);
    # 4: refunded more than it cost; 5: only returns; 10: a free order only. Text ids: "c10"
    # sorts between "c1" and "c2"
    tx = frame(
        [f"c{i}" for i in [1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 4, 4, 4, 5, 10]],
        ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-01", "2024-01-10", "2024-01-12",
         "2024-01-20", "2024-01-20", "2024-01-05", "2024-01-06", "2024-01-01", "2024-01-05",
         "2024-01-06", "2024-01-09", "2024-01-30"],
        [100.0, -100.0, 0.0, 50.0, 40.0, -15.0, 30.0, -10.0, -5.0, 12.0, 10.0, 20.0, -35.0,
         -3.0, 0.0],
    )  # fmt: skip
    for returns in ("exclude", "net"):
        got = same_or_same_error(
            spark, tx, observation_end="2024-01-31", time_unit="D", returns=returns
        )
        assert got.index.tolist() == ["c1", "c10", "c2", "c3", "c4"]  # c5: only returns
        assert got.loc["c10"].tolist() == [0, 0.0, 1.0, 0.0]
    assert got.loc["c2", "monetary_value"] == pytest.approx((25.0 + 20.0) / 2)  # net
    message = same_or_same_error(spark, tx, returns="error")
    assert "6 return row(s)" in message and "-168.00" in message


@pytest.mark.parametrize(
    ("dates", "args"),
    [
        ([20240101, 20240115, 20240201], {}),  # numbers: refused, with the way to read them
        ([20240101, 20240115, 20240201], {"date_format": "%Y%m%d"}),
        ([1704067200, 1705276800, 1706745600], {"date_format": "unix_s"}),
        ([1704067200000, 1705276800000, 1706745600000], {"date_format": "unix_ms"}),
        ([45292.0, 45306.5, 45323.0], {"date_format": "excel"}),
        (["1/2/2024", "15/02/2024", "20/2/2024"], {"date_format": "%d/%m/%Y"}),
        (["2024-01-01", "2024-13-45", "2024-01-03"], {}),  # does not parse
        (["2024-01-01", "9999-12-31", "1970-01-01"], {}),  # sentinels
        (["2024-01-01", None, "2024-01-03"], {}),  # missing
        ([True, False, True], {}),
        # ISO text with offsets: each row's own wall-clock day, or its day in tz
        (["2024-01-10T00:30:00+01:00", "2024-07-10T00:30:00+02:00", "2024-03-01"], {}),
        (
            ["2024-01-10T00:30:00+01:00", "2024-07-10T00:30:00+02:00", "2024-03-01T23:00:00-02:00"],
            {"tz": "UTC"},
        ),
    ],
)
def test_dates_are_read_as_on_one_machine(spark, dates, args):
    tx = frame([1, 1, 2], dates, [10.0, 20.0, 5.0])
    out = same_or_same_error(spark, tx, time_unit="D", **args)
    if isinstance(out, str) and not args:
        assert "row(s):" in out  # the offending rows are shown
    if args.get("date_format") == "%Y%m%d":
        assert out.loc[1, ["frequency", "recency", "T"]].tolist() == [1, 14.0, 31.0]
    if args == {}:
        assert isinstance(out, str) or out.loc[1, "recency"] == 182.0


def test_instants_count_by_the_session_zone_or_tz(spark):
    stamps = pd.to_datetime(["2024-01-01 10:00", "2024-02-01 00:30", "2024-01-15 12:00"])
    aware = frame([1, 1, 2], stamps.tz_localize("Europe/Berlin"), [1.0, 2.0, 3.0])
    sdf = spark.createDataFrame(aware)  # TimestampType: instants, shown in the session zone
    assert dict(sdf.dtypes)["date"] == "timestamp"
    for tz in ("Europe/Berlin", "UTC"):
        expected = churnlab.rfm_summary(aware, "2024-02-01", time_unit="D", tz=tz)
        got = cs.rfm_summary(sdf, "2024-02-01", time_unit="D", tz=tz)
        assert_same_frame(got, expected)
    # 00:30 in Berlin on Feb 1 is Jan 31 in UTC, the session's zone
    in_session = cs.rfm_summary(sdf, "2024-02-01", time_unit="D")
    assert in_session.loc[1, ["recency", "T"]].tolist() == [30.0, 31.0]
    assert cs.inspect_transactions(sdf).time_zone == "UTC"


@pytest.mark.parametrize(
    ("amounts", "problem"),
    [
        (["10", "abc", "3"], "text or booleans where numbers are expected in 3 row"),
        ([True, False, True], "text or booleans where numbers are expected in 3 row"),
        ([1.0, np.inf, 2.0], "NaN or infinite values in 1 row"),
        ([1.0, None, 2.0], "missing values"),
    ],
)
def test_bad_amounts_name_the_column(spark, amounts, problem):
    tx = frame([1, 1, 2], ["2024-01-01", "2024-01-02", "2024-01-03"], amounts)
    message = same_or_same_error(spark, tx)
    assert message.startswith(f"column 'amount': {problem}")


def test_inspect_lists_what_will_be_refused_without_raising(spark):
    tx = frame([1, 1, 2, 2], [20240101, 20240115, 20240201, 20240201], [10.0, 20.0, 5.0, 5.0])
    expected = churnlab.inspect_transactions(tx)
    got = cs.inspect_transactions(to_spark(spark, tx))
    assert not got.ok
    assert got.problems[0].splitlines()[0] == expected.problems[0].splitlines()[0]
    assert (got.rows, got.customers, got.duplicate_rows) == (4, 2, 1)
    assert (expected.rows, expected.customers, expected.duplicate_rows) == (4, 2, 1)


def test_errors_show_at_most_ten_rows_and_name_missing_columns(spark):
    tx = frame([None] * 12 + [1], ["2024-01-01"] * 13, [1.0] * 13)
    message = same_or_same_error(spark, tx)
    assert "... and 2 more row(s)" in message
    with pytest.raises(ValueError, match=r"missing column\(s\) \['when'\]"):
        cs.rfm_summary(to_spark(spark, frame([1], ["2024-01-01"], [1.0])), date_col="when")
    with pytest.raises(TypeError, match="must be a Spark DataFrame"):
        cs.rfm_summary(frame([1], ["2024-01-01"], [1.0]))
