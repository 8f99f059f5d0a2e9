"""The one door for transaction tables: dates, returns, ids, the purchase definition, the report."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import churnlab
from churnlab import calibration_holdout_split, inspect_transactions, rfm_summary
from churnlab.churn import make_churn_dataset
from churnlab.datasets import load_retail_sample
from churnlab.loyalty import customer_activity, loyalty_ladder
from churnlab.nps import nps_trend
from churnlab.transactions import ReturnsWarning


def frame(ids, dates, amounts):
    return pd.DataFrame({"customer_id": ids, "date": dates, "amount": amounts})


@pytest.fixture(scope="module")
def retail():
    return load_retail_sample()


# --- dates -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "hint"),
    [
        ([20240101, 20240115, 20240201], "%Y%m%d"),
        ([1704067200, 1705276800, 1706745600], "unix_s"),
        ([1704067200000, 1705276800000, 1706745600000], "unix_ms"),
        ([45292, 45306, 45323], "excel"),
        ([45292.0, 45306.0, 45323.0], "excel"),
    ],
)
def test_numeric_dates_are_refused_with_the_way_to_read_them(values, hint):
    tx = frame([1, 1, 2], values, [10.0, 20.0, 5.0])
    with pytest.raises(ValueError, match=rf"(?s)column 'date': numbers where dates.*{hint}"):
        rfm_summary(tx)


@pytest.mark.parametrize(
    ("values", "date_format"),
    [
        ([20240101, 20240115, 20240201], "%Y%m%d"),
        ([1704067200, 1705276800, 1706745600], "unix_s"),
        ([1704067200000, 1705276800000, 1706745600000], "unix_ms"),
        ([45292, 45306, 45323], "excel"),
    ],
)
def test_numeric_dates_read_with_date_format(values, date_format):
    # 2024-01-01, 2024-01-15 (customer 1) and 2024-02-01 (customer 2)
    tx = frame([1, 1, 2], values, [10.0, 20.0, 5.0])
    rfm = rfm_summary(tx, "2024-02-05", date_format=date_format, time_unit="D")
    assert rfm.loc[1, ["frequency", "recency", "T"]].tolist() == [1, 14.0, 35.0]
    assert rfm.loc[2, "T"] == 4.0


def test_text_dates_with_a_format():
    tx = frame([1, 1], ["01/02/2024", "15/02/2024"], [1.0, 2.0])
    rfm = rfm_summary(tx, date_format="%d/%m/%Y", time_unit="D")
    assert rfm.loc[1, "recency"] == 14.0
    with pytest.raises(ValueError, match="(?s)column 'date'.*cannot be parsed.*date_format"):
        rfm_summary(frame([1], ["2024-13-45"], [1.0]), date_format="%Y-%m-%d")


def test_numeric_dates_are_refused_everywhere_dates_are_read():
    tx = frame([1, 1, 2], [20240101, 20240115, 20240201], [10.0, 20.0, 5.0])
    for call in (
        lambda: calibration_holdout_split(tx, "2024-01-10"),
        lambda: make_churn_dataset(tx, "2024-01-10", "7D", bgnbd=False),
        lambda: customer_activity(tx),
        lambda: loyalty_ladder(tx),
    ):
        with pytest.raises(ValueError, match="(?s)column 'date': numbers where dates"):
            call()
    answers = pd.DataFrame({"date": [20240101, 20240301], "score": [9, 3]})
    with pytest.raises(ValueError, match="(?s)column 'date': numbers where dates"):
        nps_trend(answers)


@pytest.mark.parametrize("value", [20240131, 1.5e9, True])
def test_numeric_date_arguments_are_refused(value):
    tx = frame([1, 1], ["2024-01-01", "2024-01-15"], [1.0, 2.0])
    with pytest.raises(ValueError, match="(?s)observation_end=.*not a date"):
        rfm_summary(tx, value)


@pytest.mark.parametrize(
    "bad", ["9999-12-31", "1900-01-01", "1899-12-30", "2250-06-01", "1970-01-01"]
)
def test_out_of_range_and_sentinel_dates_are_errors_with_the_rows(bad):
    tx = frame([1, 1, 2], ["2024-01-01", bad, "2024-01-05"], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"(?s)column 'date': out-of-range or sentinel.* in 1 row"):
        rfm_summary(tx)


def test_nanosecond_epoch_dates_from_integers_are_caught_after_conversion():
    # pd.to_datetime(20240101) is 1970-01-01 00:00:00.020240101: the epoch sentinel
    tx = frame([1, 2], pd.to_datetime(pd.Series([20240101, 20240102])), [1.0, 2.0])
    with pytest.raises(ValueError, match="(?s)sentinel"):
        rfm_summary(tx)


def test_aware_observation_end_counts_by_its_own_calendar_day():
    tx = frame([1, 1, 2], ["2024-01-01", "2024-01-31", "2024-01-10"], [1.0, 2.0, 3.0])
    naive = rfm_summary(tx, "2024-01-31", time_unit="D")
    # 23:00 in New York is 04:00 UTC the next day: still January 31 for the data
    aware = rfm_summary(tx, pd.Timestamp("2024-01-31 23:00", tz="America/New_York"), time_unit="D")
    pd.testing.assert_frame_equal(aware, naive)
    assert aware.loc[1, "frequency"] == 1  # the purchase on the last day is kept
    # 01:00 in Tokyo on Feb 1 is January 31 in UTC, but February 1 where it was said
    later = rfm_summary(tx, pd.Timestamp("2024-02-01 01:00", tz="Asia/Tokyo"), time_unit="D")
    assert later.loc[1, "T"] == 31.0


def test_aware_dates_count_by_the_data_zone_or_a_named_zone():
    stamps = pd.to_datetime(
        ["2024-01-01 10:00", "2024-02-01 00:30", "2024-01-15 12:00"]
    ).tz_localize("Europe/Berlin")
    tx = frame([1, 1, 2], stamps, [1.0, 2.0, 3.0])
    rfm = rfm_summary(tx, "2024-02-01", time_unit="D")
    # 00:30 in Berlin on Feb 1 is Jan 31 in UTC; the customer bought on Feb 1
    assert rfm.loc[1, ["recency", "T"]].tolist() == [31.0, 31.0]
    in_utc = rfm_summary(tx, "2024-02-01", time_unit="D", tz="UTC")
    assert in_utc.loc[1, ["recency", "T"]].tolist() == [30.0, 31.0]
    report = inspect_transactions(tx)
    assert report.time_zone == "Europe/Berlin"


def test_text_with_several_utc_offsets_keeps_each_rows_wall_clock_day():
    # daylight saving: +01:00 in winter, +02:00 in summer, both 00:30 local time
    tx = frame(
        [1, 1],
        ["2024-01-10T00:30:00+01:00", "2024-07-10T00:30:00+02:00"],
        [1.0, 2.0],
    )
    rfm = rfm_summary(tx, "2024-07-10", time_unit="D")
    assert rfm.loc[1, "recency"] == 182.0  # Jan 10 to Jul 10, not Jan 9 to Jul 9 in UTC
    in_utc = rfm_summary(tx, "2024-07-10", time_unit="D", tz="UTC")
    assert in_utc.loc[1, "T"] == 183.0  # first purchase on Jan 9 in UTC


# --- ids and amounts ----------------------------------------------------------------------------
def test_mixed_id_types_are_an_error_that_suggests_the_fix():
    tx = frame(pd.Series([1, "A7", 2], dtype=object), ["2024-01-01"] * 3, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"(?s)column 'customer_id': .*mixed.*astype\(str\)"):
        rfm_summary(tx)


@pytest.mark.parametrize(
    ("amounts", "problem"),
    [
        (["10", "abc", "3"], "text or booleans"),
        ([True, False, True], "text or booleans"),
        ([1.0, np.inf, 2.0], "NaN or infinite"),
        ([1.0, None, 2.0], "missing values"),
    ],
)
def test_bad_amounts_name_the_column(amounts, problem):
    tx = frame([1, 1, 2], ["2024-01-01", "2024-01-02", "2024-01-03"], amounts)
    with pytest.raises(ValueError, match=f"(?s)column 'amount'.*{problem}"):
        rfm_summary(tx)


def test_numbers_stored_as_text_are_refused_not_converted():
    tx = frame([1, 1], ["2024-01-01", "2024-01-08"], ["10.5", "20"])
    with pytest.raises(ValueError, match="(?s)column 'amount': text.*pd.to_numeric"):
        rfm_summary(tx)
    tx["amount"] = pd.to_numeric(tx["amount"])
    assert rfm_summary(tx).loc[1, "monetary_value"] == 20.0


# --- the purchase definition and returns ---------------------------------------------------------
def test_a_return_never_creates_a_purchase_and_value_is_never_negative():
    # the case of the issue: 100, -100, 0 on three days
    tx = frame([1, 1, 1], ["2024-01-01", "2024-01-08", "2024-01-15"], [100.0, -100.0, 0.0])
    with pytest.warns(ReturnsWarning, match=r"(?s)1 return row.*total -100\.00"):
        excluded = rfm_summary(tx, time_unit="D")
    # the zero-amount day is a purchase occasion with no spend (a free order), the return not
    assert excluded.loc[1].tolist() == [1, 14.0, 14.0, 0.0]
    with pytest.warns(ReturnsWarning, match="(?s)netted"):
        net = rfm_summary(tx, time_unit="D", returns="net")
    assert net.loc[1].tolist() == [1, 14.0, 14.0, 0.0]
    with pytest.raises(ValueError, match=r"(?s)column 'amount': 1 return row.*returns='error'"):
        rfm_summary(tx, returns="error")


def test_net_returns_refund_the_latest_purchase_on_or_before_them():
    tx = frame(
        [1, 1, 1, 1, 1, 2, 2],
        [
            "2024-01-01",  # first purchase, 50
            "2024-01-10",  # repeat, 40
            "2024-01-12",  # return of 15 -> refunds Jan 10: 25
            "2024-01-20",  # repeat, 30 and a same-day return of 10 -> 20
            "2024-01-20",
            "2024-01-05",  # customer 2 returns before any purchase: left out
            "2024-01-06",
        ],
        [50.0, 40.0, -15.0, 30.0, -10.0, -5.0, 12.0],
    )
    with pytest.warns(ReturnsWarning) as record:
        net = rfm_summary(tx, "2024-01-31", time_unit="D", returns="net")
    message = str(record[0].message)
    assert "3 return row(s)" in message and "total -30.00" in message
    assert "1 of them (total -5.00) have no earlier purchase" in message
    assert net.loc[1, "frequency"] == 2
    assert net.loc[1, "monetary_value"] == pytest.approx((25.0 + 20.0) / 2)
    with pytest.warns(ReturnsWarning, match="(?s)3 return row"):
        excluded = rfm_summary(tx, "2024-01-31", time_unit="D")
    assert excluded.loc[1, "monetary_value"] == pytest.approx((40.0 + 30.0) / 2)
    pd.testing.assert_frame_equal(
        net[["frequency", "recency", "T"]], excluded[["frequency", "recency", "T"]]
    )


def test_net_refunds_larger_than_the_purchase_floor_at_zero():
    tx = frame([1, 1, 1], ["2024-01-01", "2024-01-05", "2024-01-06"], [10.0, 20.0, -35.0])
    with pytest.warns(ReturnsWarning, match=r"(?s)1 occasion\(s\) were refunded more.*-15\.00"):
        net = rfm_summary(tx, time_unit="D", returns="net")
    assert net.loc[1, ["frequency", "monetary_value"]].tolist() == [1, 0.0]


def test_unknown_returns_policy_is_refused():
    tx = frame([1], ["2024-01-01"], [1.0])
    with pytest.raises(ValueError, match="(?s)returns='drop' must be one of"):
        rfm_summary(tx, returns="drop")


def test_holdout_returns_do_not_touch_the_calibration_summary():
    tx = frame(
        [1, 1, 1, 1],
        ["2024-01-01", "2024-01-08", "2024-02-05", "2024-02-06"],
        [10.0, 20.0, 30.0, -20.0],
    )
    with pytest.warns(ReturnsWarning, match="(?s)holdout"):
        split = calibration_holdout_split(tx, "2024-01-31", "2024-02-29", returns="net")
    assert split.loc[1, "monetary_value_cal"] == 20.0  # the Feb return refunds Feb 5 only
    assert split.loc[1, "frequency_holdout"] == 1
    assert split.loc[1, "monetary_value_holdout"] == 10.0


def test_a_return_in_the_label_window_is_not_activity():
    tx = frame(
        [1, 1, 2, 2, 1],
        ["2024-01-01", "2024-01-20", "2024-01-05", "2024-02-10", "2024-02-12"],
        [10.0, 20.0, 5.0, 8.0, -20.0],
    )
    with pytest.warns(ReturnsWarning, match="(?s)label window"):
        X, y = make_churn_dataset(tx, "2024-01-31", "2W", bgnbd=False, data_end="2024-02-14")
    # customer 1 only returned something after the cutoff: churned; customer 2 bought again
    assert y.to_dict() == {1: 1, 2: 0}
    assert X.loc[1, "frequency"] == 1


def test_retail_sample_has_one_purchase_definition(retail):
    tx = retail.transactions
    for returns in ("exclude", "net"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ReturnsWarning)
            rfm = rfm_summary(tx, returns=returns)
            activity = customer_activity(tx, returns=returns)
            X, _ = make_churn_dataset(tx, "2024-06-30", "26W", bgnbd=False, returns=returns)
        assert rfm.index.equals(activity.index)
        np.testing.assert_array_equal(rfm["frequency"] + 1, activity["purchases"])
        assert (rfm["monetary_value"] >= 0).all()
        assert (activity["revenue"] >= 0).all()
        assert (X["monetary_value"] >= 0).all() and (X["spend_90d"] >= 0).all()
    # the sample has returns: netting lowers revenue but never below 0, and moves no purchase
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReturnsWarning)
        gross = customer_activity(tx)["revenue"]
        net = customer_activity(tx, returns="net")["revenue"]
    assert (net <= gross + 1e-9).all() and net.sum() < gross.sum()


def test_returns_warning_counts_on_the_retail_sample(retail):
    tx = retail.transactions
    returns = tx["amount"] < 0
    with pytest.warns(ReturnsWarning) as record:
        rfm_summary(tx)
    message = str(record[0].message)
    assert f"{int(returns.sum()):,} return row(s)" in message
    assert f"total {tx.loc[returns, 'amount'].sum():,.2f}" in message


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 4),
            st.integers(0, 40),
            st.one_of(st.just(0.0), st.floats(-50, 80, allow_nan=False).map(lambda v: round(v, 2))),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_returns_move_no_purchase_and_make_no_value_negative(rows):
    ids, offsets, amounts = zip(*rows, strict=True)
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(list(offsets), unit="D")
    tx = frame(list(ids), dates, list(amounts))
    if not (tx["amount"] >= 0).any():
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReturnsWarning)
        ex = rfm_summary(tx, "2024-02-15", time_unit="D")
        net = rfm_summary(tx, "2024-02-15", time_unit="D", returns="net")
    purchases = tx[tx["amount"] >= 0]
    expected_freq = purchases.groupby("customer_id")["date"].nunique() - 1
    assert ex["frequency"].to_dict() == expected_freq.to_dict()
    pd.testing.assert_frame_equal(
        ex[["frequency", "recency", "T"]], net[["frequency", "recency", "T"]]
    )
    assert (net["monetary_value"] >= 0).all()
    assert (net["monetary_value"] <= ex["monetary_value"] + 1e-9).all()


# --- the data-quality report ----------------------------------------------------------------------
def test_inspect_counts_a_hand_made_table():
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 2, 3, 3],
            "date": [
                "2024-01-01",
                "2024-01-01",
                "2024-01-01",
                "2024-01-09",
                "2024-01-03",
                "2024-01-05",
                "2024-01-04",
                "2024-03-01",
            ],
            "amount": [10.0, 10.0, 5.0, -5.0, 0.0, 20.0, -7.0, 9.0],
        }
    )
    report = inspect_transactions(tx, observation_end="2024-01-31")
    t = report.table["value"]
    assert t["rows"] == 8 and t["customers"] == 3
    assert t["return rows"] == 2 and report.return_value == -12.0
    assert t["customers with only returns"] == 1  # customer 3 before the end
    assert t["zero-amount rows"] == 1
    assert t["same-day rows merged"] == 2  # three purchase rows of customer 1 on Jan 1
    assert t["purchase occasions"] == 3  # 1: Jan 1; 2: Jan 3 and Jan 5
    assert t["exact duplicate rows"] == 1
    assert t["rows after observation end"] == 1
    assert report.ok and report.first_date == pd.Timestamp("2024-01-01")
    assert "Data quality" in report._repr_html_()
    assert isinstance(report, churnlab.DataQualityReport)


def test_inspect_lists_what_will_be_refused_without_raising():
    tx = frame([1, 2], [20240101, 20240102], [1.0, 2.0])
    report = inspect_transactions(tx)
    assert not report.ok
    assert "numbers where dates are expected" in report.problems[0]
    assert "numbers where dates" in report.table.loc["refused", "note"]
    bad_end = inspect_transactions(frame([1], ["2024-01-05"], [1.0]), observation_end="2023-01-01")
    assert "before every purchase" in bad_end.problems[0]
    strict = inspect_transactions(
        frame([1, 1], ["2024-01-05", "2024-01-06"], [1.0, -1.0]), returns="error"
    )
    assert "returns='error'" in strict.problems[0]
    with pytest.raises(ValueError, match="(?s)missing column"):
        rfm_summary(tx.drop(columns="amount"))
    assert "missing column" in inspect_transactions(tx.drop(columns="amount")).problems[0]


def test_inspect_on_cdnow_finds_a_clean_table():
    from churnlab.datasets import load_cdnow

    report = inspect_transactions(load_cdnow("sample"), observation_end="1998-06-30")
    assert report.ok
    assert (report.rows, report.customers, report.return_rows) == (6919, 2357, 0)
    assert report.zero_amount_rows == 8  # free orders: purchase occasions, as in the papers


# --- customer ids ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ids",
    [
        ["C10", "C9", "C100", "C9", "C11", "C10"],  # numbers of several lengths: text order
        ["C1000123", "C1000007", "C1000123", "C1000050"],
        ["17", "4", "17", "250"],  # no prefix
        ["C01", "C1", "C2"],  # a leading zero: not read as a number
        ["CUST-7", "CUST-12", "C-7"],  # two prefixes
        ["A5", "A5", None],
    ],
)
def test_text_ids_are_coded_like_the_general_path(ids):
    from churnlab.transactions import _customer_codes

    series = pd.Series(ids, dtype="str", name="customer_id").dropna()
    codes, distinct = _customer_codes(series)
    expected = sorted(set(series))
    assert list(distinct) == expected
    assert [distinct[c] for c in codes] == list(series)


def test_numbered_text_ids_give_the_same_summary_as_integers():
    rng = np.random.default_rng(3)
    n = 2_000
    number = rng.integers(1, 5_000, n)
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    amounts = rng.gamma(2.0, 10.0, n).round(2)
    as_int = rfm_summary(frame(number, dates, amounts))
    as_text = rfm_summary(frame(pd.Series("C" + pd.Series(number).astype(str)), dates, amounts))
    assert list(as_text.index) == sorted(as_text.index)
    back = as_text.rename(index=lambda s: int(s[1:])).sort_index()
    pd.testing.assert_frame_equal(back, as_int, check_index_type=False, check_names=False)


def test_first_purchase_value_is_the_birth_day_spend():
    tx = frame(
        [1, 1, 1, 2],
        ["2024-01-01", "2024-01-01", "2024-01-05", "2024-01-03"],
        [10.0, 5.0, 7.0, 3.0],
    )
    activity = customer_activity(tx, time_unit="D")
    assert activity["first_purchase_value"].tolist() == [15.0, 3.0]
    rfm = rfm_summary(tx, time_unit="D")
    # revenue = first purchase + repeat purchases, as the RFM summary splits it
    expected = activity["first_purchase_value"] + rfm["frequency"] * rfm["monetary_value"]
    np.testing.assert_allclose(activity["revenue"], expected)
