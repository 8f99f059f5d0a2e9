"""No public function may modify the DataFrames (or Series) it is given.

Each call below receives the caller's objects; :func:`assert_unchanged` keeps deep copies made
before the call and compares values, dtypes, index, column order and ``attrs`` afterwards. The
inputs are the bundled data (CDNOW sample, synthetic retailer), plus a copy of the CDNOW
transactions with dates as strings, so the date-parsing paths are exercised too.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import churnlab
from churnlab import (
    BetaGeo,
    GammaGamma,
    calibration_holdout_split,
    customer_lifetime_value,
    rfm_summary,
)
from churnlab.clv import retention_priorities, value_deciles
from churnlab.datasets import load_cdnow, load_retail_sample


def _same(before, after, name: str) -> None:
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(after, before, check_exact=True, obj=name)
    else:
        pd.testing.assert_series_equal(after, before, check_exact=True, obj=name)
    assert after.attrs == before.attrs, f"{name}.attrs changed"


def assert_unchanged(func, *args, **kwargs):
    """Call ``func(*args, **kwargs)`` and fail if any pandas argument was modified.

    Returns the function's result, so calls can be chained.
    """
    pandas_args = [(f"arg{i}", a) for i, a in enumerate(args)]
    pandas_args += list(kwargs.items())
    pandas_args = [(n, a) for n, a in pandas_args if isinstance(a, (pd.DataFrame, pd.Series))]
    copies = [(n, a, a.copy(deep=True)) for n, a in pandas_args]  # deep copies attrs too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = func(*args, **kwargs)
    for name, obj, copy in copies:
        _same(copy, obj, f"{getattr(func, '__name__', func)}: {name}")
    return result


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow("sample")


@pytest.fixture(scope="module")
def retail():
    return load_retail_sample()


@pytest.fixture(scope="module")
def fitted(cdnow):
    rfm = rfm_summary(cdnow, "1997-09-30")
    bg = BetaGeo().fit(rfm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        gg = GammaGamma().fit(rfm)
    return rfm, bg, gg


def test_helper_detects_a_mutation():
    # the helper itself must fail when a function writes into its input
    frame = pd.DataFrame({"a": [1.0, 2.0]})

    def mutate(data):
        data["a"] = data["a"] * 2

    with pytest.raises(AssertionError):
        assert_unchanged(mutate, frame)


def test_rfm_functions_leave_transactions_alone(cdnow):
    as_text = cdnow.assign(date=cdnow["date"].dt.strftime("%Y-%m-%d"))
    for tx in (cdnow, as_text):
        assert_unchanged(rfm_summary, tx, "1997-09-30")
        assert_unchanged(calibration_holdout_split, tx, "1997-09-30", "1998-06-30")


def test_models_and_clv_leave_their_data_alone(fitted):
    rfm, bg, gg = fitted
    assert_unchanged(BetaGeo().fit, rfm)
    assert_unchanged(GammaGamma().fit, rfm)
    assert_unchanged(bg.probability_alive, rfm)
    assert_unchanged(bg.conditional_expected_purchases, 10, rfm)
    assert_unchanged(gg.conditional_expected_spend, rfm)
    clv = assert_unchanged(
        customer_lifetime_value, bg, gg, rfm, time_unit="W", horizon=4, discount_rate=0.1
    )
    assert_unchanged(retention_priorities, bg, rfm, clv)
    assert_unchanged(value_deciles, clv)
    assert_unchanged(churnlab.concentration.concentration, clv)


def test_diagnostics_leave_their_data_alone(cdnow, fitted):
    rfm, bg, _ = fitted
    split = calibration_holdout_split(cdnow, "1997-09-30", "1998-06-30")
    cal_model = BetaGeo().fit(
        split.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency"}).rename(
            columns={"T_cal": "T"}
        )[["frequency", "recency", "T"]]
    )
    assert_unchanged(churnlab.diagnostics.period_transactions, bg, rfm)
    assert_unchanged(churnlab.diagnostics.holdout_validation, cal_model, split)
    assert_unchanged(churnlab.diagnostics.calibration_holdout_table, cal_model, split)
    assert_unchanged(
        churnlab.diagnostics.tracking, bg, cdnow, "1998-06-30", calibration_end="1997-09-30"
    )


def test_churn_dataset_leaves_transactions_alone(cdnow):
    as_text = cdnow.assign(date=cdnow["date"].dt.strftime("%Y-%m-%d"))
    for tx in (cdnow, as_text):
        assert_unchanged(
            churnlab.churn.make_churn_dataset, tx, "1997-09-30", "13W", data_end="1998-06-30"
        )


def test_retail_functions_leave_their_data_alone(retail):
    customers, tx = retail.customers, retail.transactions
    end = tx["date"].max()
    assert_unchanged(churnlab.defection.code_exit_survey, retail.exit_survey)
    assert_unchanged(churnlab.defection.leak_rate, customers, end=end)
    defectors = customers[customers["defected"]].set_index("customer_id")["defection_date"]
    assert_unchanged(churnlab.defection.revenue_before, tx, defectors)
    assert_unchanged(churnlab.nps.nps_by, retail.nps, "touch_point")
    assert_unchanged(churnlab.nps.nps_trend, retail.nps)
    assert_unchanged(churnlab.loyalty.customer_activity, tx)
    assert_unchanged(churnlab.loyalty.customer_attitude, retail.nps)
    assert_unchanged(churnlab.loyalty.customer_types, tx)
    assert_unchanged(churnlab.loyalty.loyalty_ladder, tx)
    assert_unchanged(churnlab.complaints.complaint_iceberg, retail.complaints, by="touch_point")
    assert_unchanged(
        churnlab.economics.evaluate_programme, customers, tx, n_boot=50, outcome="purchases"
    )
