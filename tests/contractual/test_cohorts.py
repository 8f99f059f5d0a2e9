"""Subscription table -> tenure and cohort survival counts: calendar periods, errors."""

import numpy as np
import pandas as pd
import pytest

from churnlab.contractual import (
    ShiftedBetaGeometric,
    cohort_survival_counts,
    full_periods,
    kaplan_meier,
    subscription_tenure,
    tenure_from_survivors,
)
from churnlab.datasets import simulate_subscriptions


def dates(*values):
    return pd.Series(pd.to_datetime(list(values)))


@pytest.mark.parametrize(
    ("start", "date", "period", "expected"),
    [
        ("2020-01-31", "2020-02-28", "M", 0),  # the renewal falls on the 29th in 2020
        ("2020-01-31", "2020-02-29", "M", 1),
        ("2021-01-31", "2021-02-28", "M", 1),  # clipped to the last day of February
        ("2020-01-31", "2020-03-30", "M", 1),
        ("2020-01-31", "2020-03-31", "M", 2),
        ("2020-02-29", "2021-02-28", "Y", 1),
        ("2020-02-29", "2021-02-27", "Y", 0),
        ("2020-01-15", "2020-04-14", "Q", 0),
        ("2020-01-15", "2020-04-15", "Q", 1),
        ("2020-01-01", "2020-01-14", "W", 1),
        ("2020-01-01", "2020-01-15", "W", 2),
        ("2020-01-01", "2020-01-01", "D", 0),
        ("2020-01-01", "2020-12-31", "D", 365),
        ("2020-05-10", "2020-05-09", "M", -1),
    ],
)
def test_full_periods_follow_the_calendar(start, date, period, expected):
    assert full_periods(dates(start), dates(date), period).tolist() == [expected]


def test_full_periods_agree_with_pandas_date_offsets():
    rng = np.random.default_rng(0)
    start = pd.Series(pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 800, 300), "D"))
    date = start + pd.to_timedelta(rng.integers(0, 1500, 300), "D")
    got = full_periods(start, date, "M")
    # brute force: the largest k with start + k months (pandas clips the day) <= date
    expected = [
        max(k for k in range(0, 60) if s + pd.DateOffset(months=k) <= d)
        for s, d in zip(start, date, strict=True)
    ]
    assert got.tolist() == expected


def test_tenure_counts_renewals_reached_before_the_end():
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "start": ["2023-01-01", "2023-01-01", "2023-01-01", "2023-06-15"],
            # a: ends on its first renewal date (did not renew); b: ends a day after it;
            # c: still active; d: ends the day it starts
            "end": ["2024-01-01", "2024-01-02", None, "2023-06-15"],
        }
    )
    tenure = subscription_tenure(subs, "2025-03-01", period="Y")
    assert tenure.index.tolist() == ["a", "b", "c", "d"]
    assert tenure["periods_survived"].tolist() == [0, 1, 2, 0]
    assert tenure["active"].tolist() == [False, False, True, False]
    assert tenure["periods_observed"].tolist() == [2, 2, 2, 1]
    assert tenure["cohort"].astype(str).tolist() == ["2023", "2023", "2023", "2023"]
    assert tenure.attrs["time_unit"] == "Y"


def test_counts_against_a_per_customer_count():
    subs = simulate_subscriptions(800, 0.9, 2.0, first_start="2022-01-01", n_cohorts=8, seed=11)
    end = "2022-12-15"
    subs = subs[subs["start"] <= end]
    subs = subs.assign(end=subs["end"].where(subs["end"] <= end))
    table = cohort_survival_counts(subs, end, period="M")
    start = subs["start"]
    cohort = start.dt.to_period("M")
    for label in table.index:
        members = subs[cohort == label]
        observed = table.loc[label].dropna()
        # the cohort's horizon: the last renewal date every member has reached
        horizon = min(
            max(k for k in range(30) if s + pd.DateOffset(months=k) <= pd.Timestamp(end))
            for s in members["start"]
        )
        assert observed.index.max() == horizon
        for k, count in observed.items():
            alive = [
                pd.isna(e) or s + pd.DateOffset(months=k) < e
                for s, e in zip(members["start"], members["end"], strict=True)
            ]
            assert count == sum(alive), (label, k)


def test_counts_table_shape_horizon_and_units():
    subs = simulate_subscriptions(500, 1.0, 1.0, first_start="2023-01-01", n_cohorts=4, seed=2)
    table = cohort_survival_counts(subs, "2023-12-31", period="M")
    assert table.columns.tolist() == list(range(len(table.columns)))
    assert str(table.dtypes.iloc[0]) == "Int64"
    assert table.attrs["time_unit"] == "M"
    assert table[0].sum() == 500
    short = cohort_survival_counts(subs, "2023-12-31", period="M", horizon=3)
    assert short.columns.tolist() == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(short, table.loc[:, :3], check_names=True)


@pytest.mark.parametrize("horizon", [0, -2, 2.5, True])
def test_non_positive_horizon_is_refused(horizon):
    subs = pd.DataFrame({"customer_id": [1], "start": ["2024-01-01"], "end": [None]})
    with pytest.raises(ValueError, match="horizon must be a positive whole number"):
        cohort_survival_counts(subs, "2024-06-01", horizon=horizon)


BASE = {
    "customer_id": [1, 2, 3],
    "start": ["2024-01-05", "2024-02-01", "2024-02-10"],
    "end": ["2024-03-05", None, "2024-04-10"],
}


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        ({"end": ["2024-01-01", None, "2024-04-10"]}, r"column 'end': end before start"),
        ({"end": ["2024-03-05", None, "2024-09-10"]}, r"column 'end': end after observation_end"),
        ({"start": ["2024-01-05", "2024-08-01", "2024-02-10"]}, r"column 'start'.*start after"),
        ({"customer_id": [1, np.nan, 3]}, r"column 'customer_id': missing values"),
        ({"customer_id": [1, 1, 3]}, r"column 'customer_id': customers with more than one"),
        (
            {"start": ["2024-01-05", "not a date", "2024-02-10"]},
            r"column 'start'.*cannot be parsed",
        ),
        ({"end": ["2024-03-05", None, "31/31/2024"]}, r"column 'end'.*cannot be parsed"),
        ({"start": ["2024-01-05", None, "2024-02-10"]}, r"column 'start': missing dates"),
    ],
)
def test_bad_subscriptions_name_the_column(change, pattern):
    subs = pd.DataFrame({**BASE, **change})
    with pytest.raises(ValueError, match=pattern):
        cohort_survival_counts(subs, "2024-06-30")


def test_errors_show_the_offending_rows():
    subs = pd.DataFrame({**BASE, "end": ["2024-01-01", None, "2024-04-10"]})
    with pytest.raises(ValueError) as info:
        subscription_tenure(subs, "2024-06-30")
    assert "2024-01-01" in str(info.value) and "1 row(s)" in str(info.value)


def test_arguments_are_checked():
    subs = pd.DataFrame(BASE)
    with pytest.raises(ValueError, match="period='fortnight'"):
        subscription_tenure(subs, "2024-06-30", period="fortnight")
    with pytest.raises(ValueError, match="observation_end"):
        subscription_tenure(subs, "someday")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['begin'\]"):
        subscription_tenure(subs, "2024-06-30", start_col="begin")
    with pytest.raises(TypeError, match="DataFrame"):
        subscription_tenure(subs.to_numpy(), "2024-06-30")
    with pytest.raises(ValueError, match="empty"):
        subscription_tenure(subs.iloc[:0], "2024-06-30")


def test_inputs_are_not_modified():
    # enough customers for the sBG to be identified (three would leave alpha and beta on a
    # ridge, which the fit refuses)
    subs = simulate_subscriptions(2000, 0.7, 1.3, seed=0)
    before = subs.copy()
    counts = cohort_survival_counts(subs, "2021-01-01")
    tenure = subscription_tenure(subs, "2021-01-01")
    pd.testing.assert_frame_equal(subs, before)
    kept = [(obj, obj.copy(deep=True)) for obj in (counts, tenure)]
    for data in (counts, tenure):
        model = ShiftedBetaGeometric().fit(data)
        kaplan_meier(data)
    model.project(counts.iloc[0])
    for obj, copy in kept:
        pd.testing.assert_frame_equal(obj, copy)
        assert obj.attrs == copy.attrs


def test_tenure_from_survivors_keeps_every_customer():
    table = pd.DataFrame([[1000, 600, 450], [500, 300, np.nan]])
    tenure = tenure_from_survivors(table)
    assert tenure.groupby("cohort")["customers"].sum().tolist() == [1000, 500]
    assert tenure["active"].sum() == 2
