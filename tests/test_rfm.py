"""RFM summaries: the published CDNOW summary, hand-computed cases, time units, input checks."""

import numpy as np
import pandas as pd
import pytest

from churnlab import calibration_holdout_split, rfm_summary
from churnlab.datasets import load_cdnow, load_cdnow_summary
from churnlab.rfm import TIME_UNITS, unit_days

# Fader, Hardie & Lee (2005): the CDNOW sample is summarised at the end of week 39,
# 1997-09-30, in weeks; the published summary rounds recency and T to 0.01 week and zbar to
# the cent, so a faithful summary is within half a unit of the last digit.
CDNOW_CALIBRATION_END = "1997-09-30"
CDNOW_OBSERVATION_END = "1998-06-30"
PUBLISHED_HALF_DIGIT = 0.005 + 1e-9


@pytest.fixture(scope="module")
def transactions():
    return load_cdnow("sample")


@pytest.fixture(scope="module")
def summary(transactions):
    return rfm_summary(transactions, CDNOW_CALIBRATION_END, time_unit="W")


def test_cdnow_summary_reproduces_the_published_one(summary):
    published = load_cdnow_summary()
    assert summary.index.equals(published.index)
    assert (summary["frequency"] == published["frequency"]).all()
    for column in ("recency", "T", "monetary_value"):
        assert (summary[column] - published[column]).abs().max() <= PUBLISHED_HALF_DIGIT, column
    assert summary.attrs["time_unit"] == "W"
    assert summary["frequency"].dtype == np.int64
    # FHL 2005: 2,357 customers, of whom 1,411 made no repeat purchase in the 39 weeks
    assert len(summary) == 2357 and (summary["frequency"] == 0).sum() == 1411


def test_hand_computed_summary():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c"],
            "date": [
                "2024-01-01",
                "2024-01-01",
                "2024-01-08",
                "2024-01-22",
                "2024-01-15",
                "2024-02-01",
            ],
            "amount": [10.0, 5.0, 20.0, 40.0, 7.0, 3.0],
        }
    )
    out = rfm_summary(tx, "2024-01-29", time_unit="D")
    # a: purchase days 1, 8, 22 Jan -> 2 repeats, last at day 21, age 28 days, mean (20+40)/2;
    # b: one purchase day; c: first purchase after the end -> left out
    assert out.index.tolist() == ["a", "b"]
    assert out.loc["a"].tolist() == [2, 21.0, 28.0, 30.0]
    assert out.loc["b"].tolist() == [0, 0.0, 14.0, 0.0]
    weeks = rfm_summary(tx, "2024-01-29", time_unit="W")
    np.testing.assert_allclose(weeks.loc["a", ["recency", "T"]], [3.0, 4.0])
    months = rfm_summary(tx, "2024-01-29", time_unit="M")
    np.testing.assert_allclose(months.loc["a", "T"], 28 / (365.2425 / 12))


def test_time_units_have_no_hidden_30_day_month():
    assert TIME_UNITS == {"D": 1.0, "W": 7.0, "M": 365.2425 / 12}
    assert unit_days("M") == pytest.approx(30.436875)
    with pytest.raises(ValueError, match="time_unit='Q'"):
        unit_days("Q")


def test_default_observation_end_is_the_last_date(transactions):
    out = rfm_summary(transactions)
    last = transactions["date"].max()
    first = transactions.groupby("customer_id")["date"].min()
    np.testing.assert_allclose(out["T"], (last - first).dt.days.to_numpy() / 7)


def test_calibration_holdout_split_counts_the_holdout_independently(transactions, summary):
    split = calibration_holdout_split(
        transactions, CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END, time_unit="W"
    )
    cal = split[["frequency_cal", "recency_cal", "T_cal", "monetary_value_cal"]]
    cal.columns = ["frequency", "recency", "T", "monetary_value"]
    pd.testing.assert_frame_equal(cal, summary, check_like=True)
    # count holdout purchase days with plain pandas
    days = transactions.assign(day=transactions["date"].dt.normalize())
    hold = days[days["day"] > CDNOW_CALIBRATION_END]
    per_day = hold.groupby(["customer_id", "day"])["amount"].sum().reset_index()
    counts = per_day.groupby("customer_id").size().reindex(split.index, fill_value=0)
    spend = per_day.groupby("customer_id")["amount"].mean().reindex(split.index, fill_value=0.0)
    assert (split["frequency_holdout"] == counts).all()
    np.testing.assert_allclose(split["monetary_value_holdout"], spend, rtol=1e-12)
    # 39 weeks of holdout: 1997-10-01 .. 1998-06-30 is 273 days
    assert (split["duration_holdout"] == 273 / 7).all()
    assert split.attrs["time_unit"] == "W"


def test_calibration_holdout_split_records_its_ends(transactions):
    split = calibration_holdout_split(transactions, "1997-09-30 18:00", CDNOW_OBSERVATION_END)
    assert split.attrs["calibration_end"] == "1997-09-30"
    assert split.attrs["observation_end"] == str(pd.Timestamp(CDNOW_OBSERVATION_END).date())
    # without observation_end the holdout runs to the last transaction day
    default = calibration_holdout_split(transactions, CDNOW_CALIBRATION_END)
    assert default.attrs["observation_end"] == str(transactions["date"].max().date())


def test_amount_col_none_drops_the_monetary_value(transactions):
    out = rfm_summary(transactions, CDNOW_CALIBRATION_END, amount_col=None)
    assert list(out.columns) == ["frequency", "recency", "T"]


def test_the_callers_frame_is_not_touched(transactions):
    copy = transactions.copy()
    rfm_summary(copy, CDNOW_CALIBRATION_END)
    calibration_holdout_split(copy, CDNOW_CALIBRATION_END)
    pd.testing.assert_frame_equal(copy, transactions)


def test_bad_input_names_the_column():
    good = pd.DataFrame(
        {"customer_id": [1, 2], "date": ["2024-01-01", "2024-01-02"], "amount": [1.0, 2.0]}
    )
    with pytest.raises(ValueError, match="missing column"):
        rfm_summary(good.drop(columns="date"))
    with pytest.raises(ValueError, match="column 'date': values that cannot be parsed"):
        rfm_summary(good.assign(date=["2024-01-01", "not a date"]))
    with pytest.raises(ValueError, match="column 'date': missing dates"):
        rfm_summary(good.assign(date=["2024-01-01", None]))
    with pytest.raises(ValueError, match="column 'amount'"):
        rfm_summary(good.assign(amount=[1.0, np.inf]))
    with pytest.raises(ValueError, match="column 'customer_id'"):
        rfm_summary(good.assign(customer_id=[1, None]))
    with pytest.raises(ValueError, match="observation_end"):
        calibration_holdout_split(good, "2024-01-02", "2024-01-01")
    with pytest.raises(TypeError, match="DataFrame"):
        rfm_summary([1, 2, 3])


def test_iso_dates_of_mixed_precision_parse():
    # pandas infers one format from the first string; ISO 8601 dates with and without a time
    # of day are all valid and must give the same summary as the parsed datetimes.
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "date": ["2024-01-01", "2024-01-15 09:30", "2024-01-29T18:00:00"],
            "amount": [10.0, 20.0, 30.0],
        }
    )
    parsed = tx.assign(date=pd.to_datetime(tx["date"], format="ISO8601"))
    out = rfm_summary(tx, "2024-01-29")
    pd.testing.assert_frame_equal(out, rfm_summary(parsed, "2024-01-29"))
    # 2 repeat days, last at 4 weeks, mean repeat spend (20 + 30) / 2 = 25
    assert out.loc[1].tolist() == [2, 4.0, 4.0, 25.0]
    with pytest.raises(ValueError, match="column 'date'.* in 1 row"):
        rfm_summary(tx.assign(date=["2024-01-01", "2024-01-15", "not a date"]))


@pytest.mark.parametrize("split", [False, True])
def test_an_end_before_every_purchase_is_an_error_not_an_empty_summary(split):
    # A summary with no customers would be silently empty; the message names the argument and
    # gives the data's date range so the analyst sees the mistake.
    tx = pd.DataFrame(
        {"customer_id": [1, 2], "date": ["2024-03-01", "2024-03-05"], "amount": [1.0, 2.0]}
    )
    if split:
        with pytest.raises(ValueError, match=r"calibration_end='2024-01-31'.*2024-03-01"):
            calibration_holdout_split(tx, "2024-01-31", "2024-06-30")
    else:
        with pytest.raises(ValueError, match=r"observation_end='2024-01-31'.*2024-03-05"):
            rfm_summary(tx, "2024-01-31")
