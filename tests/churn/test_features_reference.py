"""make_churn_dataset against a per-customer reference, and the sort behind it.

The features come from one sort of the purchase rows (:func:`sorted_day_keys`) and nested
windows over the sorted purchase occasions. The reference below takes the same purchase rows
from the door (``read_transactions(...).purchases``: the returns policy is not under test
here) and computes every feature customer by customer with plain pandas, on data made to hit
the edge cases: several rows on one day, customers first seen on the cutoff day, windows longer
than the history, returns netted or left out, fractional quantities.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from churnlab.churn import make_churn_dataset
from churnlab.transactions import ReturnsWarning, read_transactions, sorted_day_keys

UNIT = 7.0  # time_unit="W"


def reference(tx, cutoff, horizon_days, returns, windows, trend_window):
    """Every feature and the label, customer by customer, from the door's purchase rows."""
    table = read_transactions(tx, extra_cols=("quantity",))
    cut = table.day_of(cutoff, "cutoff")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReturnsWarning)
        pre = table.purchases(returns=returns, end=cut)
        post = table.purchases(returns=returns, start=cut + 1, end=cut + horizon_days)
    rows = pd.DataFrame(
        {
            "customer": pre.customer,
            "day": pre.day,
            "amount": pre.amount,
            "quantity": pre.extra["quantity"],
        }
    )
    bought_later = set(post.customer.tolist())
    out = {}
    for code, g in rows.groupby("customer", sort=True):
        days = g.groupby("day")["amount"].sum().sort_index()
        first, last = days.index[0], days.index[-1]
        gaps = np.diff(days.index.to_numpy()) / UNIT
        age = cut - days.index.to_numpy()
        feats = {
            "frequency": len(days) - 1,
            "recency": (last - first) / UNIT,
            "tenure": (cut - first) / UNIT,
            "monetary_value": days.iloc[1:].sum() / (len(days) - 1) if len(days) > 1 else 0.0,
            "time_since_last_purchase": (cut - last) / UNIT,
            "ipt_mean": gaps.mean() if len(gaps) else 0.0,
            "ipt_std": gaps.std(ddof=1) if len(gaps) > 1 else 0.0,
        }
        feats["ipt_cv"] = feats["ipt_std"] / feats["ipt_mean"] if len(gaps) > 1 else 0.0
        for w in windows:
            feats[f"purchases_{w}d"] = int((age < w).sum())
            feats[f"spend_{w}d"] = float(days.to_numpy()[age < w].sum())
        recent = int((age < trend_window).sum())
        earlier = int(((age >= trend_window) & (age < 2 * trend_window)).sum())
        feats[f"trend_{trend_window}d"] = (
            (recent - earlier) / (recent + earlier) if recent + earlier else 0.0
        )
        feats["n_transactions"] = len(g)
        feats["total_spend"] = g["amount"].sum()
        feats["avg_basket_value"] = g["amount"].sum() / len(g)
        feats["avg_quantity"] = g["quantity"].sum() / len(g)
        feats["churned"] = int(code not in bought_later)
        out[table.ids[code]] = feats
    return pd.DataFrame.from_dict(out, orient="index")


def log(seed, n_rows=4000, n_customers=150, n_days=60, return_share=0.1):
    """Few days for many rows: most customers buy several times on one day."""
    rng = np.random.default_rng(seed)
    amount = np.round(rng.lognormal(2.5, 1.0, n_rows), 2)
    amount[rng.random(n_rows) < 0.05] = 0.0
    amount[rng.random(n_rows) < return_share] *= -1
    return pd.DataFrame(
        {
            "customer_id": 7 * rng.integers(0, n_customers, n_rows) + 3,
            "date": pd.Timestamp("2024-03-01")
            + pd.to_timedelta(rng.integers(0, n_days, n_rows), "D"),
            "amount": amount,
            "quantity": rng.random(n_rows) * 4,
        }
    )


@pytest.mark.parametrize("returns", ["exclude", "net"])
@pytest.mark.parametrize(
    "windows, trend_window",
    [((3, 10, 30), 7), ((1, 500), 400), ((45,), 1)],
    ids=["short", "longer-than-history", "one-day-trend"],
)
@pytest.mark.parametrize("seed", [1, 2])
def test_features_and_labels_match_the_reference(seed, returns, windows, trend_window):
    tx = log(seed)
    cutoff, horizon = "2024-04-05", 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReturnsWarning)
        X, y = make_churn_dataset(
            tx,
            cutoff,
            f"{horizon}D",
            returns=returns,
            windows=windows,
            trend_window=trend_window,
            quantity_col="quantity",
            bgnbd=False,
        )
    want = reference(tx, cutoff, horizon, returns, windows, trend_window)
    assert X.index.tolist() == want.index.tolist()
    assert X.index.name == "customer_id"
    assert list(X.columns) == [c for c in want.columns if c != "churned"]
    np.testing.assert_array_equal(y.to_numpy(), want["churned"].to_numpy())
    for column in X.columns:
        got, expected = X[column].to_numpy(), want[column].to_numpy()
        if got.dtype.kind == "i":
            np.testing.assert_array_equal(got, expected, err_msg=column)
        else:
            assert got.dtype == np.float64, column
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=column)


def test_several_rows_a_day_and_a_customer_first_seen_on_the_cutoff_day():
    # Customer 5: three rows on 06-01 (the first day: spend 1 + 2 + 4), one on 06-08, one on
    # 06-29 (the cutoff). Customer 9: one row on the cutoff day only. Customer 2: a return on
    # 06-08 netted against its 06-01 purchase, which it refunds in part.
    tx = pd.DataFrame(
        {
            "customer_id": [5, 9, 5, 2, 5, 5, 2, 5, 2],
            "date": pd.to_datetime(
                [
                    "2024-06-01",
                    "2024-06-29",
                    "2024-06-01",
                    "2024-06-01",
                    "2024-06-01",
                    "2024-06-08",
                    "2024-06-08",
                    "2024-06-29",
                    "2024-07-03",
                ]
            ),
            "amount": [1.0, 3.0, 2.0, 10.0, 4.0, 8.0, -4.0, 16.0, 1.0],
        }
    )
    with pytest.warns(ReturnsWarning, match="returns='net'"):
        X, y = make_churn_dataset(
            tx,
            "2024-06-29",
            "4D",
            returns="net",
            windows=(1, 22, 365),
            trend_window=14,
            bgnbd=False,
        )
    assert X.index.tolist() == [2, 5, 9]
    c2, c5, c9 = X.loc[2], X.loc[5], X.loc[9]
    assert c5["frequency"] == 2 and c5["recency"] == 4.0 and c5["tenure"] == 4.0
    assert c5["monetary_value"] == 12.0  # (8 + 16) / 2: the three first-day rows are left out
    assert c5["n_transactions"] == 5 and c5["total_spend"] == 31.0
    assert c5["ipt_mean"] == 2.0 and c5["ipt_std"] == pytest.approx(np.sqrt(2))
    # 1 day: the cutoff day only; 22 days: 06-08 and 06-29 (06-01 is 28 days back)
    assert (c5["purchases_1d"], c5["spend_1d"]) == (1, 16.0)
    assert (c5["purchases_22d"], c5["spend_22d"]) == (2, 24.0)
    assert (c5["purchases_365d"], c5["spend_365d"]) == (3, 31.0)
    # trend: last 14 days 1 day (06-29), the 14 before 1 day (06-08) -> 0
    assert c5["trend_14d"] == 0.0
    # customer 9, first seen on the cutoff day: no time, no gaps, everything recent
    assert c9["frequency"] == 0 and c9["tenure"] == 0.0 and c9["time_since_last_purchase"] == 0
    assert c9["ipt_mean"] == 0.0 and c9["ipt_cv"] == 0.0 and c9["trend_14d"] == 1.0
    assert (c9["purchases_1d"], c9["spend_1d"]) == (1, 3.0)
    # customer 2: 10 bought, 4 refunded on the latest occasion on or before the return
    assert c2["total_spend"] == 6.0 and c2["n_transactions"] == 1
    assert c2["purchases_22d"] == 0 and c2["spend_365d"] == 6.0
    assert y.to_dict() == {2: 0, 5: 1, 9: 1}


@pytest.mark.parametrize("n_customers", [40, 2**40, 2**60], ids=["int32", "int64", "argsort"])
def test_sorted_day_keys_is_a_stable_argsort(n_customers):
    # int32 keys, int64 keys, and keys too wide to share 63 bits with the row number (the
    # stable argsort the packed sort stands in for)
    rng = np.random.default_rng(3)
    customer = rng.integers(0, 40, 5000)
    day = rng.integers(19_000, 19_030, 5000)
    key_sorted, order, span, low = sorted_day_keys(customer, day, n_customers)
    assert (span, low) == (day.max() - day.min() + 1, day.min())
    key = customer.astype(np.int64) * span + (day - low)
    want = np.argsort(key, kind="stable")
    np.testing.assert_array_equal(order, want)
    np.testing.assert_array_equal(key_sorted, key[want])
    assert key_sorted.dtype == (np.int32 if n_customers == 40 else np.int64)
