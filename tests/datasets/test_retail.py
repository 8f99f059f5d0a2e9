"""The synthetic retailer: schema, reproducibility, and recovery of the planted truth.

Expected numbers come from the simulator's stated processes (module docstring of
``churnlab.datasets.retail`` and ``data/retail_sample/README.md``), checked with estimators
written here independently of the simulator's code.
"""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from churnlab.datasets import load_retail_sample, simulate_retailer
from churnlab.datasets.cdnow import DATA_DIR
from churnlab.datasets.retail import (
    NPS_BANDS,
    PROGRAMME_EFFECT,
    REASONS,
    SAMPLE_N_CUSTOMERS,
    SAMPLE_SEED,
    SEGMENTS,
    TOUCH_POINTS,
    RetailData,
    main,
)

SCHEMA = {
    "customers": [
        "customer_id",
        "signup_date",
        "segment",
        "region",
        "programme_member",
        "programme_type",
        "programme_join_date",
        "defected",
        "defection_date",
    ],
    "transactions": ["transaction_id", "customer_id", "date", "quantity", "amount"],
    "nps": ["response_id", "customer_id", "date", "touch_point", "score", "comment"],
    "complaints": [
        "complaint_id",
        "customer_id",
        "date",
        "channel",
        "touch_point",
        "resolved",
        "days_to_resolve",
    ],
    "exit_survey": ["customer_id", "date", "answer", "comment"],
}


@pytest.fixture(scope="module")
def sample() -> RetailData:
    return load_retail_sample()


@pytest.fixture(scope="module")
def big() -> RetailData:
    return simulate_retailer(20_000, seed=11)


def test_regenerates_the_bundled_sample_byte_for_byte(tmp_path):
    main(["--write", str(tmp_path)])
    bundled = DATA_DIR / "retail_sample"
    names = [f"{t}.csv" for t in SCHEMA] + ["truth.json"]
    for name in names:
        assert (tmp_path / name).read_bytes() == (bundled / name).read_bytes(), name


def test_loader_returns_the_simulated_tables_with_their_dtypes(sample):
    fresh = simulate_retailer(SAMPLE_N_CUSTOMERS, SAMPLE_SEED)
    for name in RetailData.TABLES:
        pd.testing.assert_frame_equal(getattr(sample, name), getattr(fresh, name))
    assert sample.truth == json.loads(json.dumps(fresh.truth))
    c = sample.customers
    for column in ["signup_date", "programme_join_date", "defection_date"]:
        assert str(c[column].dtype) == "datetime64[ns]", column
    assert c["programme_member"].dtype == bool and c["defected"].dtype == bool
    assert sample.complaints["resolved"].dtype == bool
    assert sample.nps["score"].dtype == np.int64
    assert sample.transactions["customer_id"].dtype == np.int64


def test_schema_follows_the_contract(sample):
    for name, columns in SCHEMA.items():
        assert list(getattr(sample, name).columns[: len(columns)]) == columns, name
    c = sample.customers
    assert set(c["segment"]) == set(SEGMENTS)
    assert set(c["region"]) == {"north", "south", "east", "west"}
    assert set(c.loc[c["programme_member"], "programme_type"]) == {
        "bonus",
        "discount",
        "cumulative",
    }
    assert c.loc[~c["programme_member"], "programme_type"].isna().all()
    assert (c["programme_member"] == c["programme_join_date"].notna()).all()
    assert (c["defected"] == c["defection_date"].notna()).all()
    assert set(sample.nps["touch_point"]) == set(TOUCH_POINTS)
    assert sample.nps["score"].between(0, 10).all()
    assert set(sample.complaints["channel"]) == {"phone", "email", "chat", "store"}
    assert c["customer_id"].is_unique and sample.exit_survey["customer_id"].is_unique


def test_tables_are_consistent_with_each_other(sample):
    c = sample.customers.set_index("customer_id")
    end = pd.Timestamp(sample.truth["end"])
    for name in ["transactions", "nps", "complaints", "exit_survey"]:
        frame = getattr(sample, name)
        assert frame["customer_id"].isin(c.index).all(), name
        assert (frame["date"] >= c.loc[frame["customer_id"], "signup_date"].to_numpy()).all()
        assert (frame["date"] <= end).all(), name
    members = c[c["programme_member"]]
    assert (
        members["programme_join_date"] >= pd.Timestamp(sample.truth["programme"]["start"])
    ).all()
    assert (members["programme_join_date"] >= members["signup_date"]).all()
    # The defection date is the last purchase.
    tx = sample.transactions
    last = tx[tx["amount"] > 0].groupby("customer_id")["date"].max()
    defectors = c[c["defected"]]
    assert (last.loc[defectors.index] == defectors["defection_date"]).all()
    # Everyone's first purchase is on the signup date.
    first = tx.groupby("customer_id")["date"].min()
    assert (first.loc[c.index] == c["signup_date"]).all()
    # Exit surveys only from defectors, 28-84 days after the defection.
    ex = sample.exit_survey.set_index("customer_id")
    assert c.loc[ex.index, "defected"].all()
    gap = (ex["date"] - c.loc[ex.index, "defection_date"]).dt.days
    assert gap.between(28, 84).all()
    comp = sample.complaints
    assert (comp["days_to_resolve"].isna() == ~comp["resolved"]).all()


def test_returns_are_negative_rows_at_the_planted_share(big):
    # 5% of purchases are returned (README); returns after the window are not recorded, so
    # the recorded share is a little below 5%. Binomial interval around the planted 5%.
    tx = big.transactions
    purchases = int((tx["amount"] > 0).sum())
    returns = tx[tx["amount"] < 0]
    assert (returns["quantity"] < 0).all()
    share = len(returns) / purchases
    se = np.sqrt(0.05 * 0.95 / purchases)
    assert 0.05 - 0.004 - 3 * se < share < 0.05 + 3 * se
    assert big.truth["returns"]["n_returns_in_window"] == len(returns)


def test_planted_nps_per_segment_and_touch_point_is_recovered(big):
    nps = big.nps.merge(big.customers[["customer_id", "segment"]], on="customer_id")
    for (segment, tp), group in nps.groupby(["segment", "touch_point"]):
        s = group["score"].to_numpy()
        pro, det = np.mean(s >= 9), np.mean(s <= 6)
        se = 100 * np.sqrt((pro + det - (pro - det) ** 2) / len(s))  # multinomial variance
        planted = big.truth["nps"]["planted"][segment][tp]
        assert planted == pytest.approx(
            100 * (NPS_BANDS[segment][tp][1] - NPS_BANDS[segment][tp][0])
        )
        assert abs(100 * (pro - det) - planted) < 3.5 * se, (segment, tp)


def test_detractors_defect_more_than_promoters(sample):
    nps = sample.nps.merge(sample.customers[["customer_id", "defected"]], on="customer_id")
    band = pd.cut(nps["score"], [-1, 6, 8, 10], labels=["detractor", "passive", "promoter"])
    rate = nps.groupby(band, observed=True)["defected"].mean()
    assert rate["detractor"] > rate["passive"] > rate["promoter"]
    assert rate["detractor"] > 1.5 * rate["promoter"]
    assert rate.round(6).to_dict() == sample.truth["nps"]["realised_defection_rate_by_band"]


def test_about_one_in_ten_unhappy_customers_complains(big):
    t = big.truth["complaints"]
    complainants = big.complaints["customer_id"].nunique()
    assert complainants == t["n_complainants"]
    # Binomial(n_unhappy, 0.10): the realised rate lies within 3.5 standard errors.
    n = t["n_unhappy"]
    assert abs(complainants / n - 0.10) < 3.5 * np.sqrt(0.09 / n)
    # Complaints of customers who stayed are resolved more often (0.80 vs 0.35 planted).
    comp = big.complaints.merge(big.customers[["customer_id", "defected"]], on="customer_id")
    resolved = comp.groupby("defected")["resolved"].mean()
    assert resolved[False] == pytest.approx(0.80, abs=0.08)
    assert resolved[True] == pytest.approx(0.35, abs=0.08)


def test_true_reason_mix_matches_the_planted_mix(big):
    d = big.truth["defection"]
    counts = np.array([d["reason_counts"][r] for r in REASONS])
    expected = np.array([d["reason_mix"][r] for r in REASONS]) * counts.sum()
    assert stats.chisquare(counts, expected).pvalue > 0.001
    assert d["reason_mix"]["product_dissatisfaction"] > 2 * 0.14  # planted far above benchmark
    # Closed answers follow the reasons: the competition answers are a planted 90% (not
    # off-list) of competition reasons among respondents.
    answers = big.exit_survey["answer"].value_counts()
    n_comp = d["reason_counts_respondents"]["competition"]
    got = answers.get("price", 0) + answers.get("competitor_offer", 0)
    assert abs(got - 0.9 * n_comp) < 3.5 * np.sqrt(n_comp * 0.09)


def test_naive_member_comparison_overstates_the_programme_effect(big):
    c = big.customers
    tx = big.transactions
    launch = pd.Timestamp(big.truth["programme"]["start"])
    end = pd.Timestamp(big.truth["end"])
    post = tx[(tx["amount"] > 0) & (tx["date"] >= launch)].groupby("customer_id").size()
    start = c["signup_date"].clip(lower=launch)
    weeks = (end - start).dt.days / 7
    rate = post.reindex(c["customer_id"], fill_value=0).to_numpy() / weeks.to_numpy()
    member = c["programme_member"].to_numpy()
    naive = rate[member].mean() / rate[~member].mean()
    assert naive > 1.5 * PROGRAMME_EFFECT * 0.95  # self-selection x effect, well above 1.25
    r = big.truth["programme"]["realised"]
    assert r["mean_lambda_members"] / r["mean_lambda_non_members"] == pytest.approx(1.5, rel=0.1)


def test_programme_effect_is_recovered_from_members_own_pre_period(big):
    """Conditional-binomial estimate of the rate multiplier m for surviving members.

    For a member alive at the end, pre-opening purchases in (0, L) are Poisson(lambda L) and
    post-join purchases in (tau, T) are Poisson(m lambda (T - tau)); survival depends only on
    the total count, so given the total the post share is binomial with probability
    m (T - tau) / (L + m (T - tau)) and lambda cancels.
    """
    c = big.customers
    launch = pd.Timestamp(big.truth["programme"]["start"])
    end = pd.Timestamp(big.truth["end"])
    m_ = c[
        c["programme_member"] & ~c["defected"] & (c["signup_date"] < launch - pd.Timedelta(days=90))
    ]
    m_ = m_.set_index("customer_id")
    tx = big.transactions
    tx = tx[(tx["amount"] > 0) & tx["customer_id"].isin(m_.index)]
    cust = m_.loc[tx["customer_id"]]
    t = tx["date"].to_numpy()
    pre = (t > cust["signup_date"].to_numpy()) & (t < launch)
    post = t > cust["programme_join_date"].to_numpy()
    n_pre = pd.Series(pre).groupby(tx["customer_id"].to_numpy()).sum().reindex(m_.index).to_numpy()
    n_post = (
        pd.Series(post).groupby(tx["customer_id"].to_numpy()).sum().reindex(m_.index).to_numpy()
    )
    L = (launch - m_["signup_date"]).dt.days.to_numpy() - 1.0
    D = (end - m_["programme_join_date"]).dt.days.to_numpy().astype(float)

    def nll(log_m):
        w = np.exp(log_m) * D
        return -np.sum(n_post * np.log(w) - (n_pre + n_post) * np.log(L + w))

    fit = optimize.minimize_scalar(nll, bounds=(-2, 2), method="bounded")
    h = 1e-4
    info = (nll(fit.x + h) - 2 * nll(fit.x) + nll(fit.x - h)) / h**2
    se = 1 / np.sqrt(info)
    assert abs(fit.x - np.log(PROGRAMME_EFFECT)) < 3 * se
    assert se < 0.06


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="programme_start"):
        simulate_retailer(10, programme_start="2030-01-01")
    with pytest.raises(ValueError, match="reason_mix"):
        simulate_retailer(10, reason_mix={"budget": {"competition": 1.0}})
    with pytest.raises(ValueError, match="n_customers"):
        simulate_retailer(0)


def test_switches_turn_the_planted_effects_off():
    # No programme effect: members' post-join purchases equal their counterfactual ones on
    # the same draw; no returns; no complaints.
    data = simulate_retailer(500, seed=3, programme_effect=1.0, return_share=0.0, complaint_rate=0)
    realised = data.truth["programme"]["realised"]
    assert realised["post_join_purchases"] == realised["post_join_purchases_without_programme"]
    assert (data.transactions["amount"] > 0).all()
    assert data.complaints.empty


@pytest.mark.parametrize("n", [1, 2, 5])
def test_tiny_populations_work(n):
    data = simulate_retailer(n, seed=n)
    assert len(data.customers) == n
    json.dumps(data.truth)  # still JSON-serialisable when groups are empty


def test_regular_buyers_are_planted_at_the_stated_share_with_periodic_gaps():
    from churnlab.datasets.retail import REGULAR_GAP_SHAPE

    data = simulate_retailer(2000, seed=5, regular_share=0.25)
    ids = np.array(data.truth["regular"]["customer_ids"])
    # Binomial(2000, 0.25): the planted count lies within 4 standard errors of 500.
    assert abs(len(ids) - 500) < 4 * np.sqrt(2000 * 0.25 * 0.75)
    assert data.truth["regular"]["gap_cv"] == pytest.approx(1 / np.sqrt(REGULAR_GAP_SHAPE))
    # Gaps between purchase days (an independent estimator written here): the planted buyers'
    # pooled gap CV is near 1/sqrt(16) = 0.25 once each customer's own mean is divided out;
    # the others' is near 1, the exponential's.
    tx = data.transactions[data.transactions["amount"] > 0]
    days = tx.groupby(["customer_id", tx["date"].dt.normalize()]).size().reset_index()
    gaps = days.groupby("customer_id")["date"].diff().dt.days.dropna()
    ratio = gaps / gaps.groupby(days.loc[gaps.index, "customer_id"]).transform("mean")
    reg = days.loc[gaps.index, "customer_id"].isin(ids).to_numpy()
    assert ratio[reg].std() == pytest.approx(0.25, abs=0.05)
    assert ratio[~reg].std() > 0.6  # below 1: dividing by each customer's own mean shrinks it
    with pytest.raises(ValueError, match="regular_share"):
        simulate_retailer(10, seed=0, regular_share=1.5)
