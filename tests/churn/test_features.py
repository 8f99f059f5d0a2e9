"""make_churn_dataset: hand-computed features, no leakage, agreement with the RFM layer."""

import numpy as np
import pandas as pd
import pytest

from churnlab import rfm_summary
from churnlab.churn import horizon_days, make_churn_dataset
from churnlab.datasets import load_cdnow
from churnlab.loyalty import customer_activity
from churnlab.models import CDNOW_BGNBD_PUBLISHED, BetaGeo


@pytest.fixture(scope="module")
def small():
    # Customer 1: 2024-01-01 (2 rows, same day), 01-15, 02-12; customer 2: 01-29 only;
    # customer 3: first purchase after the cutoff (left out); customer 1 buys again 03-04.
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 3, 1],
            "date": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-01",
                    "2024-01-15",
                    "2024-02-12",
                    "2024-01-29",
                    "2024-02-20",
                    "2024-03-04",
                ]
            ),
            "amount": [10.0, 5.0, 20.0, 30.0, 8.0, 9.0, 4.0],
            "quantity": [1, 2, 1, 3, 1, 1, 1],
        }
    )


def test_hand_computed_features(small):
    # Cutoff 2024-02-12 (a Monday), horizon 3 weeks -> label window (02-12, 03-04].
    X, y = make_churn_dataset(
        small, "2024-02-12", "3W", quantity_col="quantity", bgnbd=False, trend_window=30
    )
    assert X.index.tolist() == [1, 2]
    c1, c2 = X.loc[1], X.loc[2]
    # customer 1: purchase days 01-01, 01-15, 02-12 -> gaps of 2 and 4 weeks: mean 3, sample
    # standard deviation sqrt((1 + 1) / 1) = sqrt(2), coefficient of variation sqrt(2) / 3
    assert c1["frequency"] == 2 and c1["recency"] == 6.0 and c1["tenure"] == 6.0
    assert c1["time_since_last_purchase"] == 0.0
    assert c1["ipt_mean"] == 3.0 and c1["ipt_std"] == pytest.approx(np.sqrt(2))
    assert c1["ipt_cv"] == pytest.approx(np.sqrt(2) / 3)
    assert c1["monetary_value"] == 25.0  # (20 + 30) / 2 repeat days
    # last 30 days = (01-13, 02-12]: purchase days 01-15 and 02-12, spend 50
    assert c1["purchases_30d"] == 2 and c1["spend_30d"] == 50.0
    assert c1["purchases_90d"] == 3 and c1["spend_90d"] == 65.0
    # trend over 30 days: recent 2 (01-15, 02-12), earlier (12-14, 01-13]: 1 -> (2-1)/3
    assert c1["trend_30d"] == pytest.approx(1 / 3)
    assert c1["n_transactions"] == 4 and c1["total_spend"] == 65.0
    assert c1["avg_basket_value"] == 65.0 / 4 and c1["avg_quantity"] == 7 / 4
    # customer 2: one purchase 2 weeks before the cutoff
    assert c2["frequency"] == 0 and c2["tenure"] == 2.0 and c2["time_since_last_purchase"] == 2.0
    assert c2["ipt_mean"] == 0.0 and c2["ipt_cv"] == 0.0 and c2["trend_30d"] == 1.0
    # labels: customer 1 buys on 03-04 (last day of the window), customer 2 never again
    assert y.to_dict() == {1: 0, 2: 1}
    assert y.name == "churned"
    assert X.attrs["label_end"] == "2024-03-04" and X.attrs["horizon_days"] == 21


def test_window_boundaries_are_half_open(small):
    # A purchase exactly on cutoff + horizon counts as "bought again"; one day later doesn't.
    _, y = make_churn_dataset(small, "2024-02-12", "21D", bgnbd=False)
    assert y[1] == 0
    _, y = make_churn_dataset(small, "2024-02-12", "20D", bgnbd=False)
    assert y[1] == 1


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow("sample")


def test_rfm_part_is_rfm_summary(cdnow):
    X, _ = make_churn_dataset(cdnow, "1997-09-30", "26W", bgnbd=False)
    rfm = rfm_summary(cdnow, "1997-09-30")
    np.testing.assert_array_equal(X.index, rfm.index)
    np.testing.assert_array_equal(X["frequency"], rfm["frequency"])
    np.testing.assert_allclose(X["recency"], rfm["recency"])
    np.testing.assert_allclose(X["tenure"], rfm["T"])
    np.testing.assert_allclose(X["monetary_value"], rfm["monetary_value"])


def test_features_match_brute_force(cdnow):
    # Per-customer pandas computation, written independently of the vectorised code.
    cutoff = pd.Timestamp("1997-06-30")
    X, y = make_churn_dataset(cdnow, cutoff, "13W", bgnbd=False, quantity_col="quantity")
    pre = cdnow[cdnow["date"] <= cutoff]
    days = pre.groupby(["customer_id", "date"])["amount"].sum().reset_index()
    for cid, g in list(days.groupby("customer_id"))[:300]:
        gaps = g["date"].diff().dt.days.dropna().to_numpy() / 7
        row = X.loc[cid]
        assert row["ipt_mean"] == pytest.approx(gaps.mean() if len(gaps) else 0.0)
        # sample standard deviation (pandas' default ddof=1); 0 with fewer than two gaps
        assert row["ipt_std"] == pytest.approx(pd.Series(gaps).std() if len(gaps) > 1 else 0.0)
        age = (cutoff - g["date"]).dt.days
        assert row["purchases_90d"] == (age < 90).sum()
        assert row["spend_180d"] == pytest.approx(g.loc[age < 180, "amount"].sum())
        raw = pre[pre["customer_id"] == cid]
        assert row["avg_quantity"] == pytest.approx(raw["quantity"].mean())
    later = cdnow[(cdnow["date"] > cutoff) & (cdnow["date"] <= cutoff + pd.Timedelta("13W"))]
    expected = (~X.index.isin(later["customer_id"])).astype(int)
    np.testing.assert_array_equal(y.to_numpy(), expected)


def test_gap_regularity_is_the_loyalty_definition(cdnow):
    # One coefficient of variation of the gaps between purchase days in the package: the churn
    # feature ipt_cv is customer_activity's cv_gap wherever that is defined (3+ purchase days).
    cutoff = "1997-09-30"
    X, _ = make_churn_dataset(cdnow, cutoff, "26W", bgnbd=False)
    activity = customer_activity(cdnow, cutoff, time_unit="W").reindex(X.index)
    defined = activity["cv_gap"].notna()
    assert defined.sum() > 100
    np.testing.assert_allclose(X.loc[defined, "ipt_cv"], activity.loc[defined, "cv_gap"])
    np.testing.assert_allclose(X.loc[defined, "ipt_mean"], activity.loc[defined, "mean_gap"])
    assert (X.loc[~defined, "ipt_cv"] == 0).all()


def test_bgnbd_features_are_the_model_predictions(cdnow):
    X, _ = make_churn_dataset(cdnow, "1997-09-30", "39W")
    rfm = rfm_summary(cdnow, "1997-09-30")
    model = BetaGeo().fit(rfm)
    np.testing.assert_allclose(X["p_alive"], model.probability_alive(rfm), rtol=1e-6)
    np.testing.assert_allclose(
        X["expected_purchases"], model.conditional_expected_purchases(39, rfm), rtol=1e-6
    )
    # FHL (2005) published their estimates on this sample at this cutoff
    params = X.attrs["bgnbd_params"]
    for name, published in CDNOW_BGNBD_PUBLISHED.items():
        assert params[name] == pytest.approx(published, abs=1e-3), name


def test_no_leakage(cdnow):
    # Adding, changing and removing transactions after the cutoff leaves X untouched
    # (BG/NBD features included); only the labels may change.
    cutoff = pd.Timestamp("1997-09-30")
    X, y = make_churn_dataset(cdnow, cutoff, "26W", data_end="1998-06-30")
    after = cdnow["date"] > cutoff
    changed = cdnow.copy()
    changed.loc[after, "amount"] *= 3
    changed.loc[after, "date"] = changed.loc[after, "date"] + pd.Timedelta(days=1)
    extra = pd.DataFrame(
        {
            "customer_id": [1, 2, 99999],
            "date": pd.to_datetime(["1997-10-01", "1998-01-01", "1997-12-01"]),
            "quantity": [1, 1, 1],
            "amount": [50.0, 60.0, 10.0],
        }
    )
    for variant in (
        pd.concat([cdnow, extra], ignore_index=True),
        changed,
        cdnow[~after | (cdnow["customer_id"] % 2 == 0)],
    ):
        X2, _ = make_churn_dataset(variant, cutoff, "26W", data_end="1998-06-30")
        pd.testing.assert_frame_equal(X, X2)
    X3, y3 = make_churn_dataset(pd.concat([cdnow, extra]), cutoff, "26W", data_end="1998-06-30")
    # the labels do see the window: customer 2 bought on 1998-01-01 in the extra rows
    assert y[2] == 1 and y3[2] == 0 and 99999 not in X3.index


def test_input_is_not_mutated(small):
    copy = small.copy()
    make_churn_dataset(small, "2024-02-12", "3W", bgnbd=False)
    pd.testing.assert_frame_equal(small, copy)


def test_attributes_join(small):
    attrs = pd.DataFrame({"segment": ["a", "b"]}, index=pd.Index([1, 2], name="customer_id"))
    X, _ = make_churn_dataset(small, "2024-02-12", "3W", bgnbd=False, attributes=attrs)
    assert X["segment"].tolist() == ["a", "b"]
    with pytest.warns(UserWarning, match="1 of 2 customers have no row"):
        X, _ = make_churn_dataset(small, "2024-02-12", "3W", bgnbd=False, attributes=attrs[:1])
    assert X["segment"].isna().tolist() == [False, True]
    with pytest.raises(ValueError, match="clash"):
        make_churn_dataset(
            small,
            "2024-02-12",
            "3W",
            bgnbd=False,
            attributes=attrs.rename(columns={"segment": "tenure"}),
        )


def test_horizon_parsing():
    # 39 weeks = 273 days; numbers are periods of time_unit.
    assert horizon_days("39W") == 273
    assert horizon_days(pd.Timedelta(days=90)) == 90
    assert horizon_days(3, "D") == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cutoff": "2023-12-31"}, "cutoff='2023-12-31' is before the first transaction"),
        ({"cutoff": "2024-03-04"}, "cutoff='2024-03-04' is not before the end of the data"),
        ({"cutoff": "2024-04-01"}, "not before the end of the data"),
        ({"horizon": "0D"}, "horizon='0D' must be positive"),
        ({"horizon": -2}, "horizon=-2 must be positive"),
        ({"horizon": "12h"}, "whole calendar days"),
        ({"horizon": "soon"}, "not a duration"),
        ({"horizon": "4W"}, r"horizon='4W': the label window .* runs past the end of the data"),
        ({"cutoff": "not a date"}, "cutoff="),
        ({"windows": (30, 0)}, "windows"),
        ({"amount_col": "revenue"}, r"missing column\(s\) \['revenue'\]"),
        ({"quantity_col": "units"}, r"missing column\(s\) \['units'\]"),
        ({"time_unit": "Y"}, "time_unit"),
    ],
)
def test_bad_input(small, kwargs, match):
    args = {"cutoff": "2024-02-12", "horizon": "3W", "bgnbd": False} | kwargs
    with pytest.raises(ValueError, match=match):
        make_churn_dataset(small, **args)


def test_data_end_extends_the_label_window(small):
    # The data stop on 03-04, but the caller knows observation ran to 03-31.
    _, y = make_churn_dataset(small, "2024-02-12", "6W", bgnbd=False, data_end="2024-03-31")
    assert y.to_dict() == {1: 0, 2: 1}


def test_missing_values_are_reported(small):
    bad = small.copy()
    bad.loc[2, "customer_id"] = np.nan
    with pytest.raises(ValueError, match="column 'customer_id'"):
        make_churn_dataset(bad, "2024-02-12", "3W", bgnbd=False)
    bad = small.copy()
    bad.loc[3, "amount"] = np.inf
    with pytest.raises(ValueError, match="column 'amount'"):
        make_churn_dataset(bad, "2024-02-12", "3W", bgnbd=False)


def test_customer_first_seen_on_the_cutoff(cdnow):
    # T = 0 carries no information: the customer is alive and expected to buy the
    # unconditional E[X(t)] of the BG/NBD fitted on everyone else (FHL 2005, eq. 9).
    newborn = pd.DataFrame(
        {
            "customer_id": [99999],
            "date": pd.to_datetime(["1997-09-30"]),
            "quantity": [1],
            "amount": [12.0],
        }
    )
    tx = pd.concat([cdnow, newborn], ignore_index=True)
    X, _ = make_churn_dataset(tx, "1997-09-30", "26W", data_end="1998-06-30")
    model = BetaGeo().fit(rfm_summary(cdnow, "1997-09-30"))
    assert X.loc[99999, "p_alive"] == 1.0
    assert X.loc[99999, "expected_purchases"] == pytest.approx(model.expected_purchases(26))
    assert X.loc[99999, "tenure"] == 0.0


def test_bgnbd_features_refused_with_the_way_out_when_the_model_is_not_identified():
    # every customer buys on the same weekly rhythm: the purchase rates do not differ, so the
    # BG/NBD cannot be fitted; the error says so and how to build the data set without it
    rows = [
        (c, pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=w))
        for c in range(50)
        for w in range(0, 20, 2)
    ]
    tx = pd.DataFrame(rows, columns=["customer_id", "date"]).assign(amount=10.0)
    with pytest.raises(ValueError, match=r"(?s)bgnbd=True: the BG/NBD features.*bgnbd=False"):
        make_churn_dataset(tx, "2024-03-31", "4W")
    X, _ = make_churn_dataset(tx, "2024-03-31", "4W", bgnbd=False)
    assert "p_alive" not in X and len(X) == 50


@pytest.mark.parametrize("as_file", [False, True])
def test_without_amounts_the_spend_features_are_left_out(cdnow, as_file, tmp_path):
    # purchases only (no amount column): every other feature and the labels are those of
    # the same transactions with amounts; spend features are absent, not zeros
    kwargs = {"cutoff": "1997-09-30", "horizon": "26W", "bgnbd": False}
    X, y = make_churn_dataset(cdnow, **kwargs)
    bare = cdnow.drop(columns="amount")
    if as_file:  # the DuckDB path
        bare.to_parquet(tmp_path / "tx.parquet")
        bare = str(tmp_path / "tx.parquet")
    X0, y0 = make_churn_dataset(bare, amount_col=None, **kwargs)
    spend = {"monetary_value", "spend_30d", "spend_90d", "spend_180d", "total_spend"}
    assert set(X.columns) - set(X0.columns) == spend | {"avg_basket_value"}
    pd.testing.assert_frame_equal(X0, X[X0.columns])
    pd.testing.assert_series_equal(y0, y)
    assert X0.attrs == X.attrs
