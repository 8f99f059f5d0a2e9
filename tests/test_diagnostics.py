"""Diagnostics of the purchase model (churnlab/diagnostics.py).

Expected numbers come from (i) the CDNOW sample with the BG/NBD parameters published by Fader,
Hardie & Lee (2005, section 4; ``CDNOW_BGNBD_PUBLISHED``), (ii) the
reference implementation lifetimes 0.11.3 evaluated at the same parameters (an independent
implementation of equations 8-10), (iii) independent pandas recounts of the raw transactions,
and (iv) small cases computed by hand in the comments.
"""

import numpy as np
import pandas as pd
import pytest

from churnlab import BetaGeo, calibration_holdout_split, rfm_summary
from churnlab.datasets import load_cdnow, load_cdnow_summary
from churnlab.diagnostics import (
    HoldoutValidation,
    PeriodTransactions,
    Tracking,
    _bucket_table,
    calibration_holdout_table,
    frequency_recency_matrix,
    holdout_validation,
    period_transactions,
    probability_alive_matrix,
    tracking,
)
from churnlab.models import CDNOW_BGNBD_PUBLISHED

CALIBRATION_END = "1997-09-30"  # FHL 2005: 39-week calibration period
OBSERVATION_END = "1998-06-30"  # ... and 39-week holdout, 78 weeks in all


def _model(params: dict) -> BetaGeo:
    model = BetaGeo()
    model.params_ = pd.Series(params)[["r", "alpha", "a", "b"]].astype(float)
    return model


def _reference(params: dict):
    """lifetimes 0.11.3 carrying ``params``; the tests that need it skip without lifetimes."""
    lifetimes = pytest.importorskip("lifetimes")
    fitter = lifetimes.BetaGeoFitter()
    fitter.params_ = pd.Series(params)[["r", "alpha", "a", "b"]].astype(float)
    return fitter


@pytest.fixture(scope="module")
def published():
    return _model(CDNOW_BGNBD_PUBLISHED)


@pytest.fixture(scope="module")
def lifetimes_published():
    return _reference(CDNOW_BGNBD_PUBLISHED)


@pytest.fixture(scope="module")
def rfm():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def transactions():
    return load_cdnow("sample")


@pytest.fixture(scope="module")
def split(transactions):
    return calibration_holdout_split(transactions, CALIBRATION_END, OBSERVATION_END)


# --------------------------------------------------------------------------------------------
# period transactions
# --------------------------------------------------------------------------------------------


def test_period_transactions_expected_counts_add_up_to_the_customers(published, rfm):
    result = period_transactions(published, rfm)
    assert isinstance(result, PeriodTransactions)
    assert result.table["expected"].sum() == pytest.approx(len(rfm), rel=1e-12)
    assert result.table.index.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]


def test_period_transactions_actual_counts_recount_the_frequencies(published, rfm):
    result = period_transactions(published, rfm, max_frequency=4)
    counts = rfm["frequency"].clip(upper=4).value_counts().sort_index()
    assert result.table["actual"].tolist() == counts.tolist()
    # CDNOW sample: 1,411 of 2,357 customers made no repeat purchase in 39 weeks (FHL 2005)
    assert result.table.loc["0", "actual"] == 1411


def test_period_transactions_match_the_reference_probabilities(published, lifetimes_published, rfm):
    result = period_transactions(published, rfm, max_frequency=5)
    for n in range(5):
        # lifetimes 0.11.3, eq. (8), one customer at a time
        by_age = {
            T: lifetimes_published.probability_of_n_purchases_up_to_time(T, n)
            for T in np.unique(rfm["T"])
        }
        reference = rfm["T"].map(by_age).sum()
        assert result.table.loc[str(n), "expected"] == pytest.approx(reference, rel=1e-8)


def test_period_transactions_chi_square_is_pearsons(published, rfm):
    result = period_transactions(published, rfm)
    a, e = result.table["actual"], result.table["expected"]
    assert result.chi_square == pytest.approx(((a - e) ** 2 / e).sum())
    assert result.degrees_of_freedom == 8 - 1 - 4  # buckets - 1 - parameters
    assert 0.0 < result.p_value < 1.0
    assert "chi-square" in result._repr_html_()


def test_period_transactions_rejects_bad_arguments(published, rfm):
    with pytest.raises(ValueError, match="max_frequency"):
        period_transactions(published, rfm, max_frequency=0)
    with pytest.raises(ValueError, match="not fitted"):
        period_transactions(BetaGeo(), rfm)
    with pytest.raises(ValueError, match="missing column"):
        period_transactions(published, rfm.drop(columns="T"))


# --------------------------------------------------------------------------------------------
# frequency / recency grids
# --------------------------------------------------------------------------------------------


def test_expected_purchases_grid_matches_hardies_spreadsheet(published):
    # x=2, t_x=30.43, T=38.86, t=39: 1.226 in Hardie's BG/NBD spreadsheet note
    grid = frequency_recency_matrix(published, T=38.86, t=39, max_frequency=3, recency_step=30.43)
    assert grid.index.tolist() == [0.0, 30.43, 38.86]  # T itself closes the grid
    assert grid.loc[30.43, 2] == pytest.approx(1.226, abs=5e-4)
    assert grid.attrs == {
        "quantity": "expected purchases",
        "t": 39.0,
        "T": 38.86,
        "time_unit": None,
    }


def test_expected_purchases_grid_matches_the_reference(published, lifetimes_published):
    grid = frequency_recency_matrix(published, T=39, t=10, max_frequency=6, recency_step=3)
    x, t_x = np.meshgrid(grid.columns.to_numpy(float), grid.index.to_numpy())
    reference = lifetimes_published.conditional_expected_number_of_purchases_up_to_time(
        10, x.ravel(), t_x.ravel(), np.full(x.size, 39.0)
    ).reshape(x.shape)
    valid = (x > 0) | (t_x == 0)
    np.testing.assert_allclose(grid.to_numpy()[valid], reference[valid], rtol=1e-8)
    # frequency 0 with positive recency is no customer at all
    assert grid.loc[3.0:, 0].isna().all() and not np.isnan(grid.to_numpy()[valid]).any()


def test_probability_alive_grid_matches_the_reference(published, lifetimes_published):
    grid = probability_alive_matrix(published, T=52, max_frequency=10, recency_step=4)
    x, t_x = np.meshgrid(grid.columns.to_numpy(float), grid.index.to_numpy())
    reference = lifetimes_published.conditional_probability_alive(x, t_x, np.full(x.shape, 52.0))
    valid = (x > 0) | (t_x == 0)
    np.testing.assert_allclose(grid.to_numpy()[valid], reference[valid], rtol=1e-10)
    assert grid.loc[0.0, 0] == 1.0  # no repeat purchase: BG/NBD customers cannot have left
    # at fixed frequency, a more recent last purchase means more likely alive
    assert (grid.loc[:, 1:].diff().iloc[1:] > 0).all().all()


def test_grids_reject_bad_arguments(published):
    with pytest.raises(ValueError, match="T must be"):
        frequency_recency_matrix(published, T=0)
    with pytest.raises(ValueError, match="t must be"):
        frequency_recency_matrix(published, T=10, t=-1)
    with pytest.raises(ValueError, match="recency_step"):
        probability_alive_matrix(published, T=10, recency_step=0)
    with pytest.raises(ValueError, match="max_frequency"):
        probability_alive_matrix(published, T=10, max_frequency=0)
    with pytest.raises(ValueError, match="time_unit"):
        probability_alive_matrix(published, T=10, time_unit="Y")


# --------------------------------------------------------------------------------------------
# calibration vs holdout
# --------------------------------------------------------------------------------------------


def test_bucket_table_by_hand():
    # buckets 0, 1, 2+: customers {0: a, b}, {1: c}, {2+: d, e}
    table = _bucket_table(
        np.array([0, 0, 1, 8, 9]),
        np.array([0.0, 1.0, 2.0, 5.0, 7.0]),
        np.array([0.1, 0.3, 1.0, 4.0, 6.0]),
        max_frequency=2,
    )
    assert table.index.tolist() == ["0", "1", "2+"]
    assert table["customers"].tolist() == [2, 1, 2]
    np.testing.assert_allclose(table["actual_mean"], [0.5, 2.0, 6.0])  # (0+1)/2, 2, (5+7)/2
    np.testing.assert_allclose(table["predicted_mean"], [0.2, 1.0, 5.0])  # (.1+.3)/2, 1, (4+6)/2
    np.testing.assert_allclose(table["actual_total"], [1.0, 2.0, 12.0])
    np.testing.assert_allclose(table["predicted_total"], [0.4, 1.0, 10.0])


def test_bucket_table_empty_bucket_has_nan_means():
    table = _bucket_table(np.array([0, 2]), np.array([1.0, 2.0]), np.array([1.0, 2.0]), 3)
    assert table.loc["1", "customers"] == 0 and np.isnan(table.loc["1", "actual_mean"])


def test_calibration_holdout_table_on_a_tiny_split(published, lifetimes_published):
    split = pd.DataFrame(
        {
            "frequency_cal": [0, 0, 2, 3],
            "recency_cal": [0.0, 0.0, 20.0, 30.0],
            "T_cal": [30.0, 10.0, 35.0, 38.0],
            "frequency_holdout": [0, 1, 2, 4],
            "duration_holdout": [39.0] * 4,
        },
        index=pd.Index([11, 12, 13, 14], name="customer_id"),
    )
    before = split.copy()
    table = calibration_holdout_table(published, split, max_frequency=2)
    predicted = lifetimes_published.conditional_expected_number_of_purchases_up_to_time(
        39, split["frequency_cal"], split["recency_cal"], split["T_cal"]
    ).to_numpy()
    assert table["customers"].tolist() == [2, 0, 2]
    np.testing.assert_allclose(table["actual_mean"].iloc[[0, 2]], [0.5, 3.0])
    np.testing.assert_allclose(
        table["predicted_mean"].iloc[[0, 2]],
        [predicted[:2].mean(), predicted[2:].mean()],
        rtol=1e-8,
    )
    pd.testing.assert_frame_equal(split, before)  # the caller's frame is untouched


def test_holdout_validation_measures_by_hand(published, lifetimes_published):
    split = pd.DataFrame(
        {
            "frequency_cal": [0, 1, 5],
            "recency_cal": [0.0, 10.0, 30.0],
            "T_cal": [20.0, 30.0, 39.0],
            "frequency_holdout": [0, 2, 3],
            "duration_holdout": [26.0] * 3,
        }
    )
    result = holdout_validation(published, split, max_frequency=3)
    p = lifetimes_published.conditional_expected_number_of_purchases_up_to_time(
        26, split["frequency_cal"], split["recency_cal"], split["T_cal"]
    ).to_numpy()
    a = np.array([0.0, 2.0, 3.0])
    assert isinstance(result, HoldoutValidation)
    assert result.actual_total == 5.0
    assert result.predicted_total == pytest.approx(p.sum(), rel=1e-8)
    assert result.error_percent == pytest.approx(100 * (p.sum() - 5) / 5, rel=1e-8)
    assert result.mae == pytest.approx(np.abs(p - a).mean(), rel=1e-8)
    assert result.rmse == pytest.approx(np.sqrt(((p - a) ** 2).mean()), rel=1e-8)
    assert result.correlation == pytest.approx(np.corrcoef(p, a)[0, 1], rel=1e-8)
    # one customer per bucket: the weighted error is sum |p_i - a_i| / sum a_i
    assert result.bucket_wape == pytest.approx(100 * np.abs(p - a).sum() / 5, rel=1e-8)
    assert result.duration == 26.0
    assert np.isinf(result.table.loc["0", "error_percent"])  # no actual purchases in bucket 0


def test_holdout_validation_on_cdnow(published, lifetimes_published, split):
    result = holdout_validation(published, split)
    # recount of the raw transactions: purchase days of each customer in the 39-week holdout
    tx = load_cdnow("sample")
    days = tx.drop_duplicates(["customer_id", "date"])
    holdout = days[(days["date"] > CALIBRATION_END) & (days["date"] <= OBSERVATION_END)]
    assert result.actual_total == len(holdout) == 1882
    reference = lifetimes_published.conditional_expected_number_of_purchases_up_to_time(
        39, split["frequency_cal"], split["recency_cal"], split["T_cal"]
    )
    assert result.predicted_total == pytest.approx(reference.sum(), rel=1e-8)
    assert result.table["customers"].sum() == 2357
    assert result.table["actual_total"].sum() == pytest.approx(result.actual_total)
    assert result.table["predicted_total"].sum() == pytest.approx(result.predicted_total)
    # the model under-forecasts this holdout by about 12% (BG/NBD with the published
    # parameters predicts 1,653 repeat purchase days against 1,882 observed)
    assert result.error_percent == pytest.approx(-12.1, abs=0.3)
    assert 0.5 < result.correlation < 0.8
    frame = result.measures
    assert frame.loc["actual repeat transactions", "value"] == 1882
    pd.testing.assert_frame_equal(result.to_frame(), result.table)
    assert "Holdout validation" in result._repr_html_()


def test_holdout_inputs_are_checked(published, split):
    with pytest.raises(ValueError, match="missing column"):
        holdout_validation(published, split.drop(columns="duration_holdout"))
    bad = split.copy()
    bad.iloc[0, bad.columns.get_loc("frequency_holdout")] = -1
    with pytest.raises(ValueError, match="frequency_holdout"):
        calibration_holdout_table(published, bad)


# --------------------------------------------------------------------------------------------
# tracking
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def weekly(published, transactions):
    return tracking(published, transactions, OBSERVATION_END, calibration_end=CALIBRATION_END)


def test_tracking_periods_and_dates(weekly):
    assert isinstance(weekly, Tracking)
    table = weekly.table
    assert len(table) == 78  # 1997-01-01 to 1998-06-30 is 546 days: 78 whole weeks
    assert table["start"].iloc[0] == pd.Timestamp("1997-01-01")
    assert table["end"].iloc[-1] == pd.Timestamp("1998-06-30")
    assert weekly.calibration_periods == 39.0
    assert weekly.calibration_end == pd.Timestamp(CALIBRATION_END)


def test_tracking_actual_counts_recount_the_transactions(weekly, transactions):
    # independent recount: purchase days, minus each customer's first, by week since 1997-01-01
    days = transactions.drop_duplicates(["customer_id", "date"]).sort_values("date")
    repeat = days[days.duplicated("customer_id")]
    week = (repeat["date"] - pd.Timestamp("1997-01-01")).dt.days // 7 + 1
    counts = week.value_counts().reindex(range(1, 79), fill_value=0)
    np.testing.assert_array_equal(weekly.table["actual"].to_numpy(), counts.to_numpy())
    # the calibration total is the sum of the published frequencies (2,457)
    assert weekly.table.loc[39, "actual_cumulative"] == load_cdnow_summary()["frequency"].sum()


def test_tracking_expected_is_the_sum_over_customers_of_eq9(
    weekly, transactions, lifetimes_published
):
    # per customer, the slow way: E[X(age)] with age from the first purchase to the period end
    birth = transactions.groupby("customer_id")["date"].min()
    for period in (1, 10, 39, 78):
        end = weekly.table.loc[period, "end"]
        age = (end - birth).dt.days.to_numpy() / 7.0
        age = age[age > 0]
        reference = lifetimes_published.expected_number_of_purchases_up_to_time(age).sum()
        assert weekly.table.loc[period, "expected_cumulative"] == pytest.approx(reference, rel=1e-8)
    np.testing.assert_allclose(
        weekly.table["expected"].cumsum(), weekly.table["expected_cumulative"], rtol=1e-12
    )


def test_tracking_follows_the_published_fit(weekly):
    # FHL 2005, figure 3: the BG/NBD cumulative forecast follows the actual curve closely
    # through the calibration period and the 39-week holdout. Here: +1.5% at week 39
    # (2,494 vs 2,457) and -4.1% at week 78 (4,161 vs 4,339).
    table = weekly.table
    at_39 = table.loc[39, "expected_cumulative"] / table.loc[39, "actual_cumulative"] - 1
    assert abs(at_39) < 0.02
    assert table.loc[78, "actual_cumulative"] == 4339
    assert -0.05 < weekly.error_percent / 100 < -0.03
    assert "Tracking" in weekly._repr_html_()


def test_tracking_is_the_same_in_days(transactions, split):
    # a model fitted in days has alpha 7 times the weekly one; E[X(t)] is then identical
    model_w = BetaGeo().fit(split["frequency_cal"], split["recency_cal"], split["T_cal"])
    params_d = model_w.params_.to_dict() | {"alpha": 7 * model_w.params_["alpha"]}
    daily = tracking(
        _model(params_d),
        transactions,
        OBSERVATION_END,
        calibration_end=CALIBRATION_END,
        time_unit="D",
    )
    weekly = tracking(model_w, transactions, OBSERVATION_END, calibration_end=CALIBRATION_END)
    assert len(daily.table) == 546
    assert daily.calibration_periods == 273.0
    np.testing.assert_allclose(
        daily.table["expected_cumulative"].iloc[6::7].to_numpy(),
        weekly.table["expected_cumulative"].to_numpy(),
        rtol=1e-10,
    )
    np.testing.assert_array_equal(
        daily.table["actual_cumulative"].iloc[6::7].to_numpy(),
        weekly.table["actual_cumulative"].to_numpy(),
    )


def test_tracking_keeps_only_customers_born_by_the_calibration_end(published):
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3],
            "date": pd.to_datetime(
                ["2024-01-01", "2024-01-10", "2024-01-03", "2024-01-20", "2024-01-16"]
            ),
        }
    )
    result = tracking(published, tx, "2024-01-28", calibration_end="2024-01-14", amount_col=None)
    # customer 3 is born after the calibration end: only 1 and 2 are tracked
    assert result.table["actual"].tolist() == [0.0, 1.0, 1.0, 0.0]  # 01-10 week 2, 01-20 week 3
    age_end = {1: (27 - 0) / 7, 2: (27 - 2) / 7}  # both ages at 2024-01-28, the last day
    expected = sum(published.expected_purchases(a) for a in age_end.values())
    assert result.table["expected_cumulative"].iloc[-1] == pytest.approx(expected)
    with pytest.raises(ValueError, match="calibration_end"):
        tracking(published, tx, "2024-01-28", calibration_end="2024-02-01", amount_col=None)


def test_tracking_rejects_empty_or_unfitted_input(published, transactions):
    with pytest.raises(ValueError, match="empty"):
        tracking(published, transactions.iloc[:0], OBSERVATION_END)
    with pytest.raises(ValueError, match="not fitted"):
        tracking(BetaGeo(), transactions, OBSERVATION_END)
    with pytest.raises(ValueError, match="nothing to track"):
        tracking(published, transactions, "1996-12-31")


def test_tracking_partial_last_period(published):
    tx = pd.DataFrame({"customer_id": [1, 1], "date": ["2024-01-01", "2024-01-09"]})
    result = tracking(published, tx, "2024-01-10", amount_col=None)  # 10 days: one week and 3 days
    assert len(result.table) == 2
    assert result.table["end"].iloc[-1] == pd.Timestamp("2024-01-10")
    assert result.table["expected_cumulative"].iloc[-1] == pytest.approx(
        published.expected_purchases(9 / 7)
    )
    assert result.calibration_end is None and result.calibration_periods is None


def test_tracking_counts_no_return_as_a_purchase(published):
    # customer 1 buys on 01-01 and 01-10 and returns on 01-20: one repeat purchase, not two
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "date": ["2024-01-01", "2024-01-10", "2024-01-20"],
            "amount": [30.0, 20.0, -20.0],
        }
    )
    with pytest.warns(UserWarning, match="1 return row"):
        result = tracking(published, tx, "2024-01-28")
    assert result.table["actual"].tolist() == [0.0, 1.0, 0.0, 0.0]


# --------------------------------------------------------------------------------------------
# the model's time unit (issue 7): refused, not silently misread
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def weekly_model(split):
    # fitted on the weekly calibration columns: the model records time_unit_ = 'W'
    model = BetaGeo().fit(split["frequency_cal"], split["recency_cal"], split["T_cal"])
    assert model.time_unit_ == "W"
    return model


@pytest.fixture(scope="module")
def daily_split(transactions):
    return calibration_holdout_split(transactions, CALIBRATION_END, OBSERVATION_END, time_unit="D")


# On main, the weekly model read daily data as weeks: chi-square 553 instead of 4.8, and a
# tracking error of +165% instead of -4%.
def test_period_transactions_refuse_data_in_another_time_unit(weekly_model, transactions):
    daily = rfm_summary(transactions, CALIBRATION_END, time_unit="D")
    with pytest.raises(
        ValueError, match="time_unit='D' but BetaGeo was fitted on data in time_unit='W'"
    ):
        period_transactions(weekly_model, daily)
    weekly = rfm_summary(transactions, CALIBRATION_END, time_unit="W")
    assert period_transactions(weekly_model, weekly).chi_square == pytest.approx(4.8, abs=0.5)


@pytest.mark.parametrize("diagnostic", [holdout_validation, calibration_holdout_table])
def test_holdout_diagnostics_refuse_a_split_in_another_time_unit(
    weekly_model, daily_split, diagnostic
):
    with pytest.raises(
        ValueError, match="time_unit='D' but BetaGeo was fitted on data in time_unit='W'"
    ):
        diagnostic(weekly_model, daily_split)


def test_tracking_refuses_another_time_unit(weekly_model, transactions):
    with pytest.raises(ValueError, match=r"time_unit='D' but BetaGeo was fitted on data in.*'W'"):
        tracking(
            weekly_model,
            transactions,
            OBSERVATION_END,
            calibration_end=CALIBRATION_END,
            time_unit="D",
        )
    weekly = tracking(weekly_model, transactions, OBSERVATION_END, calibration_end=CALIBRATION_END)
    assert -5 < weekly.error_percent < -2


@pytest.mark.parametrize("grid", [frequency_recency_matrix, probability_alive_matrix])
def test_grids_refuse_a_time_unit_label_other_than_the_models(weekly_model, grid):
    with pytest.raises(ValueError, match="time_unit='M' but BetaGeo was fitted"):
        grid(weekly_model, T=39, max_frequency=2, recency_step=13, time_unit="M")
    assert (
        grid(weekly_model, T=39, max_frequency=2, recency_step=13, time_unit="W").attrs["time_unit"]
        == "W"
    )


def test_diagnostics_refuse_duplicate_customer_ids(published, rfm, split):
    twice = pd.concat([rfm.iloc[:3], rfm.iloc[:1]])
    with pytest.raises(ValueError, match=r"customer ids .* must be unique.*occur more than once"):
        period_transactions(published, twice)
    with pytest.raises(ValueError, match=r"customer ids .* must be unique"):
        holdout_validation(published, pd.concat([split.iloc[:3], split.iloc[:1]]))
