"""Tests of churnlab.loyalty (and churnlab.nps, which it re-exports).

Expected numbers are hand-computed from the stated formulas, come from closed forms
(Pareto Gini), or are the parameters planted in the synthetic retailer
(``churnlab.datasets.load_retail_sample().truth``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnlab import loyalty as L
from churnlab.datasets import load_retail_sample


@pytest.fixture(scope="module")
def retail():
    return load_retail_sample()


# --- NPS --------------------------------------------------------------------------------------
def test_nps_hand_case_wald_and_adjusted_wald():
    # 5 promoters, 3 passives, 2 detractors of 10: NPS = 50 - 20 = 30.
    scores = [10, 9, 9, 10, 9, 7, 8, 7, 3, 6]
    wald = L.nps(scores, method="wald")
    assert (wald.promoters, wald.passives, wald.detractors, wald.n) == (5, 3, 2, 10)
    assert wald.nps == 30.0
    # multinomial variance of p_P - p_D: (0.5 + 0.2 - 0.3**2) / 10
    se = 100 * math.sqrt((0.5 + 0.2 - 0.3**2) / 10)
    assert wald.std_err == pytest.approx(se)
    assert wald.ci_lower == pytest.approx(30 - 1.959964 * se, abs=1e-4)
    assert wald.ci_upper == pytest.approx(30 + 1.959964 * se, abs=1e-4)
    # adjusted Wald (Rocks 2016): n + 3, promoters + 3/4, detractors + 3/4
    adj = L.nps(scores)
    pp, pd_ = 5.75 / 13, 2.75 / 13
    se_adj = 100 * math.sqrt((pp + pd_ - (pp - pd_) ** 2) / 13)
    centre = 100 * (pp - pd_)
    assert adj.nps == 30.0  # the point estimate is the plain NPS
    assert adj.std_err == pytest.approx(se_adj)
    assert adj.ci_lower == pytest.approx(centre - 1.959964 * se_adj, abs=1e-4)
    assert adj.ci_upper == pytest.approx(centre + 1.959964 * se_adj, abs=1e-4)
    assert adj.band == "good"


def test_nps_does_not_add_passives_to_promoters():
    # One promoter, two passives, one detractor. Correct: (1 - 1) / 4 = 0. The wrong formula in
    # the source material, (promoters + passives - detractors) / n, would give 50.
    scores = [9, 7, 8, 3]
    wrong = 100 * (1 + 2 - 1) / 4
    result = L.nps(scores)
    assert result.nps == 0.0
    assert result.nps != wrong


def test_nps_category_edges():
    # 6 is the highest detractor, 7-8 passives, 9 the lowest promoter (Reichheld 2003).
    r = L.nps([6, 7, 8, 9])
    assert (r.detractors, r.passives, r.promoters) == (1, 2, 1)
    assert L.nps([0, 10]).nps == 0.0


def test_nps_extremes_stay_in_range():
    r = L.nps([10] * 20, method="wald")
    assert (r.nps, r.std_err, r.ci_lower, r.ci_upper) == (100.0, 0.0, 100.0, 100.0)
    r = L.nps([10] * 20)
    assert r.ci_upper <= 100.0 and r.ci_lower < 100.0  # the adjusted interval is not degenerate
    r = L.nps([0] * 5)
    assert r.nps == -100.0 and r.ci_lower >= -100.0


@pytest.mark.parametrize(
    "value, band",
    [
        (-0.1, "very weak"),
        (0.0, "average"),
        (29.9, "average"),
        (30.0, "good"),
        (50.0, "ahead of competitors"),
        (69.9, "ahead of competitors"),
        (70.0, "market leader"),
        (100.0, "market leader"),
    ],
)
def test_nps_band_edges(value, band):
    assert L.nps_band(value) == band


def test_nps_rejects_invalid_scores_and_lists_them():
    with pytest.raises(ValueError) as err:
        L.nps([3, 11, -1, 7.5, 9])
    message = str(err.value)
    assert "11" in message and "-1" in message and "7.5" in message and "3 row(s)" in message
    with pytest.raises(ValueError, match="missing answers"):
        L.nps(pd.Series([9, None, 3]))
    with pytest.raises(ValueError, match="whole numbers"):
        L.nps(["9", "ten"])
    with pytest.raises(ValueError, match="no answers"):
        L.nps([])
    with pytest.raises(ValueError, match="method"):
        L.nps([9], method="exact")


def test_nps_adjusted_wald_coverage_by_simulation():
    # 2,000 samples of n = 40 from a known trinomial (P 0.5, passive 0.3, D 0.2): true NPS 30.
    # Rocks (2016) reports near-nominal coverage for the adjusted Wald; we require 93-97%.
    rng = np.random.default_rng(7)
    reps, n = 2000, 40
    scores = rng.choice([10, 8, 3], p=[0.5, 0.3, 0.2], size=(reps, n))
    frame = pd.DataFrame({"rep": np.repeat(np.arange(reps), n), "score": scores.ravel()})
    table = L.nps_by(frame, "rep")
    covered = ((table["ci_lower"] <= 30) & (table["ci_upper"] >= 30)).mean()
    assert 0.93 <= covered <= 0.97
    assert table["nps"].mean() == pytest.approx(30, abs=0.6)


def test_nps_by_matches_nps_per_group():
    frame = pd.DataFrame({"g": ["a"] * 5 + ["b"] * 4, "score": [10, 9, 0, 7, 5, 9, 9, 9, 8]})
    table = L.nps_by(frame, "g")
    for g, part in frame.groupby("g"):
        single = L.nps(part["score"])
        assert table.loc[g, "nps"] == pytest.approx(single.nps)
        assert table.loc[g, "ci_lower"] == pytest.approx(single.ci_lower)
    assert list(table.columns) == [
        "n",
        "promoters",
        "passives",
        "detractors",
        "nps",
        "std_err",
        "ci_lower",
        "ci_upper",
        "band",
    ]
    with pytest.raises(ValueError, match="missing column"):
        L.nps_by(frame, "segment")


def test_nps_trend_by_group_and_change():
    frame = pd.DataFrame(
        {
            "date": ["2024-01-05", "2024-02-05", "2024-04-05", "2024-04-06", "2024-01-07"],
            "tp": ["sales", "sales", "sales", "sales", "support"],
            "score": [10, 0, 10, 9, 4],
        }
    )
    out = L.nps_trend(frame, "QE", by="tp")
    assert out.loc[(pd.Timestamp("2024-03-31"), "sales"), "nps"] == 0.0
    assert out.loc[(pd.Timestamp("2024-06-30"), "sales"), "nps"] == 100.0
    assert out.loc[(pd.Timestamp("2024-06-30"), "sales"), "change"] == 100.0
    assert out.loc[(pd.Timestamp("2024-03-31"), "support"), "nps"] == -100.0
    monthly = L.nps_trend(frame, "ME")
    assert len(monthly) == 3  # January, February, April; March has no answers
    with pytest.raises(ValueError, match="freq"):
        L.nps_trend(frame, "banana")


def test_nps_recovers_planted_scores_by_segment_and_touch_point(retail):
    # truth['nps']['planted'] = 100 * (promoter share - detractor share) per segment and touch
    # point. Nine groups: each 99% interval must hold the planted value.
    answers = retail.nps.merge(retail.customers[["customer_id", "segment"]], on="customer_id")
    table = L.nps_by(answers, ["segment", "touch_point"], level=0.99)
    planted = retail.truth["nps"]["planted"]
    assert len(table) == 9
    for (segment, tp), row in table.iterrows():
        assert row["ci_lower"] <= planted[segment][tp] <= row["ci_upper"], (segment, tp)


def test_nps_bands_match_planted_defection_by_band(retail):
    # truth['nps']['realised_defection_rate_by_band'] is computed from the same answers with the
    # simulator's own band rule; ours must agree exactly.
    answers = retail.nps.merge(retail.customers[["customer_id", "defected"]], on="customer_id")
    s = answers["score"]
    band = np.where(
        s >= L.PROMOTER_MIN, "promoter", np.where(s <= L.DETRACTOR_MAX, "detractor", "passive")
    )
    observed = answers.groupby(band)["defected"].mean()
    truth = retail.truth["nps"]["realised_defection_rate_by_band"]
    for b, rate in truth.items():
        assert observed[b] == pytest.approx(rate, abs=1e-6)
    assert truth["detractor"] > truth["promoter"]


# --- per-customer activity and attitude ----------------------------------------------------
def test_customer_activity_returns_and_gaps():
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 3],
            "date": [
                "2024-01-01",
                "2024-01-01",
                "2024-01-11",
                "2024-01-20",
                "2024-01-05",
                "2024-01-07",
            ],
            "amount": [10.0, 5.0, 20.0, -20.0, 8.0, -3.0],
        }
    )
    with pytest.warns(UserWarning, match="only returns"):
        act = L.customer_activity(tx, "2024-01-31", time_unit="D")
    # customer 1: purchase days Jan 1 and Jan 11 (the Jan 20 return is no purchase); revenue
    # 10 + 5 + 20 - 20 = 15; customer 3 (a return only) is left out with a warning.
    assert list(act.index) == [1, 2]
    assert act.loc[1, "purchases"] == 2
    assert act.loc[1, "revenue"] == 15.0
    assert act.loc[1, "tenure"] == 30.0
    assert act.loc[1, "purchase_rate"] == pytest.approx(1 / 30)
    assert act.loc[1, "mean_gap"] == 10.0
    assert np.isnan(act.loc[1, "cv_gap"])  # one gap: no spread
    assert tx["amount"].tolist() == [10.0, 5.0, 20.0, -20.0, 8.0, -3.0]  # not mutated


def test_customer_attitude_how():
    answers = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "date": ["2024-03-01", "2024-01-01", "2024-02-01", "2024-01-01"],
            "score": [5, 10, 6, 8],
        }
    )
    assert L.customer_attitude(answers).to_dict() == {1: 5, 2: 8}  # latest by date
    assert L.customer_attitude(answers, how="mean")[1] == pytest.approx(7.0)
    assert L.customer_attitude(answers, how="min")[1] == 5
    with pytest.raises(ValueError, match="how"):
        L.customer_attitude(answers, how="median")


# --- loyalty matrix ---------------------------------------------------------------------------
def test_loyalty_matrix_hand_case_with_default_median_threshold():
    attitude = pd.Series({1: 10, 2: 9, 3: 4, 4: 8, 5: 9, 6: 2})
    repeat = pd.Series({1: 5.0, 2: 1.0, 3: 7.0, 4: 0.5, 5: 4.0, 6: 3.0, 7: 9.0})
    value = pd.Series({1: 100.0, 2: 20.0, 3: 70.0, 4: 5.0, 5: 60.0, 6: 30.0, 7: 90.0})
    m = L.loyalty_matrix(attitude, repeat, value)
    # median repeat of the six classified customers: (3 + 4) / 2 = 3.5
    assert m.repeat_threshold == 3.5
    assert m.customers["loyalty"].to_dict() == {
        1: "true",
        2: "latent",
        3: "spurious",
        4: "no",
        5: "true",
        6: "no",
    }
    assert m.n_unclassified == 1
    assert m.table.loc["true", "customers"] == 2
    assert m.table.loc["true", "value"] == 160.0
    assert m.table.loc["true", "value_share"] == pytest.approx(160 / 285)
    assert m.table["share"].sum() == pytest.approx(1.0)
    assert list(m.table.index) == ["true", "latent", "spurious", "no"]


def test_loyalty_matrix_thresholds_and_errors():
    attitude = pd.Series({1: 8, 2: 7})
    repeat = pd.Series({1: 2.0, 2: 2.0})
    m = L.loyalty_matrix(attitude, repeat, attitude_threshold=8, repeat_threshold=2)
    assert m.customers["loyalty"].to_dict() == {1: "true", 2: "spurious"}
    assert m.table.loc["latent", "customers"] == 0
    with pytest.raises(ValueError, match="duplicate"):
        L.loyalty_matrix(pd.Series([9, 9], index=[1, 1]), repeat)
    with pytest.raises(ValueError, match="share no customer"):
        L.loyalty_matrix(pd.Series({5: 9}), repeat)
    with pytest.raises(TypeError):
        L.loyalty_matrix([9, 8], repeat)


def test_loyalty_matrix_on_retailer_true_loyal_defect_least(retail):
    # The simulator ties low scores to high dropout; repeat rate is higher for customers who
    # stay. So truly loyal customers must defect less than customers with no loyalty.
    activity = L.customer_activity(retail.transactions)
    m = L.loyalty_matrix(
        L.customer_attitude(retail.nps), activity["purchase_rate"], activity["revenue"]
    )
    defected = retail.customers.set_index("customer_id")["defected"]
    rate = m.customers.join(defected)["defected"].groupby(m.customers["loyalty"]).mean()
    assert rate["true"] < rate["latent"] and rate["true"] < rate["no"]
    assert m.n_unclassified + len(m.customers) == len(activity)


# --- loyalty ladder ----------------------------------------------------------------------------
def _poisson_transactions(rates_by_stage, n=3000, horizon=400.0, seed=1):
    """Purchases whose rate (per day) depends on the number made so far (stage rule 1/2/4/8)."""
    rng = np.random.default_rng(seed)
    thresholds = np.array([1, 2, 4, 8])
    times = np.zeros(n)
    count = np.ones(n, int)
    rows_c, rows_t = [np.arange(n)], [np.zeros(n)]
    alive = np.ones(n, bool)
    while alive.any():
        stage = np.searchsorted(thresholds, count, side="right") - 1
        times = times + rng.exponential(1.0 / np.asarray(rates_by_stage)[stage])
        alive &= times <= horizon
        rows_c.append(np.flatnonzero(alive))
        rows_t.append(times[alive])
        count += 1
    c, t = np.concatenate(rows_c), np.concatenate(rows_t)
    return pd.DataFrame(
        {
            "customer_id": c,
            "date": pd.Timestamp("2020-01-01") + pd.to_timedelta(np.floor(t), unit="D"),
            "amount": 1.0,
        }
    ), pd.Timestamp("2020-01-01") + pd.Timedelta(days=horizon)


def test_ladder_recovers_a_constant_purchase_rate():
    # Homogeneous Poisson purchases at 0.05 a day: every stage's occurrence/exposure rate is the
    # maximum-likelihood estimate of 0.05 (purchases on the same calendar day merge, a small
    # downward effect at this rate).
    tx, end = _poisson_transactions([0.05] * 4)
    ladder = L.loyalty_ladder(tx, end, time_unit="D")
    assert ladder.table["purchase_rate"].to_numpy() == pytest.approx([0.05] * 4, rel=0.06)


def test_ladder_recovers_a_rate_step_at_attachment():
    # The rate doubles from the 4th purchase on (attachment): attached / first-time ratio 2.
    tx, end = _poisson_transactions([0.02, 0.02, 0.04, 0.04], seed=2)
    ladder = L.loyalty_ladder(tx, end, time_unit="D")
    assert ladder.attached_rate_ratio == pytest.approx(2.0, rel=0.1)
    assert ladder.table.loc["repeat", "rate_vs_first"] == pytest.approx(1.0, rel=0.1)
    # reached shares are nested and customers_now adds up
    reached = ladder.table["reached"].to_numpy()
    assert np.all(np.diff(reached) <= 0)
    assert ladder.table["customers_now"].sum() == reached[0]
    assert ladder.benchmark.loc["first-time buyers who become loyal", "rule_of_thumb"] == 0.25
    assert ladder.benchmark.loc["attached / first-time purchase rate", "rule_of_thumb"] == 1.5


def test_ladder_cohort_and_rules():
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "date": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-03-01"]),
            "amount": 5.0,
        }
    )
    lad = L.loyalty_ladder(tx, "2024-04-01", cohort_end="2024-02-01", time_unit="D")
    assert lad.table.loc["first purchase", "reached"] == 1  # customer 2 is after the cohort
    assert lad.table.loc["repeat", "share_of_first"] == 1.0
    assert lad.stage.to_dict() == {1: "repeat", 2: "first purchase"}
    with pytest.raises(ValueError, match="must increase"):
        L.loyalty_ladder(tx, repeat_purchases=4, attachment_purchases=3)
    with pytest.raises(ValueError, match="no customer"):
        L.loyalty_ladder(tx, cohort_end="2023-01-01")


# --- customer types ----------------------------------------------------------------------------
def test_customer_types_periodic_vs_poisson_buyers():
    # 200 customers buying every 30 days (+-2 days jitter) and 200 Poisson buyers with the same
    # mean gap: the periodic ones have gap CV ~0.05 and are regular; Poisson gaps have CV ~1.
    rng = np.random.default_rng(3)
    periodic = np.cumsum(30 + rng.integers(-2, 3, size=(200, 10)), axis=1)
    poisson = np.cumsum(np.ceil(rng.exponential(30, size=(200, 10))), axis=1)
    days = np.vstack([periodic, poisson])
    tx = pd.DataFrame(
        {
            "customer_id": np.repeat(np.arange(400), 10),
            "date": pd.Timestamp("2020-01-01") + pd.to_timedelta(days.ravel(), unit="D"),
            "amount": 1.0,
        }
    )
    types = L.customer_types(tx).customers["customer_type"]
    assert (types.iloc[:200] == "regular").all()
    # P(sample CV of 9 exponential gaps <= 0.5) is small (about 2.3% by simulation, 200,000 draws)
    assert (types.iloc[200:] == "regular").mean() < 0.08
    assert (types.iloc[200:] == "occasional").mean() > 0.92


def test_customer_types_table_and_errors():
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 2],
            "date": ["2024-01-01", "2024-01-01", "2024-02-01"],
            "amount": 3.0,
        }
    )
    ct = L.customer_types(tx)
    assert ct.table.loc["one-off", "customers"] == 1
    assert ct.table.loc["occasional", "customers"] == 1  # 2 purchases: too few for regular
    assert ct.table.loc["regular", "customers"] == 0
    assert ct.table["revenue_share"].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 3"):
        L.customer_types(tx, min_regular_purchases=2)


# --- concentration ----------------------------------------------------------------------------
def test_concentration_hand_case():
    values = pd.Series([4.0, 1.0, 10.0, 3.0, 2.0], index=list("abcde"))
    with pytest.warns(UserWarning, match="key-account risk: customer 'c' holds 50.0%"):
        c = L.concentration(values)
    # top 20% of 5 customers = the largest: 10 / 20
    assert c.top_share == 0.5 and c.top1_share == 0.5
    assert c.top5_share == 1.0
    # Gini = 2 * (1*1 + 2*2 + 3*3 + 4*4 + 5*10) / (5 * 20) - 6/5 = 0.4
    assert c.gini == pytest.approx(0.4)
    # the mean absolute difference over twice the mean gives the same number
    x = values.to_numpy()
    assert c.gini == pytest.approx(np.abs(x[:, None] - x[None, :]).mean() / (2 * x.mean()))
    assert c.lorenz.iloc[0].tolist() == [0.0, 0.0] and c.lorenz.iloc[-1].tolist() == [1.0, 1.0]
    assert c.lorenz["value_share"].tolist() == pytest.approx([0, 0.05, 0.15, 0.3, 0.5, 1.0])
    assert list(c.top_customers.index[:2]) == ["c", "a"]
    # 30% of 5 customers = 1.5: the largest plus half of the second (4): (10 + 2) / 20
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c30 = L.concentration(values, top_fraction=0.3, key_account_threshold=0.6)
    assert c30.top_share == pytest.approx(0.6)


def test_concentration_equal_and_extreme():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        equal = L.concentration(pd.Series(np.full(50, 3.0)))
    assert equal.gini == pytest.approx(0.0, abs=1e-12)
    assert equal.top_share == pytest.approx(0.2)
    with pytest.warns(UserWarning):
        one = L.concentration(pd.Series([0.0, 0.0, 0.0, 8.0]))
    assert one.gini == pytest.approx(0.75)  # (n - 1) / n


def test_concentration_pareto_closed_forms():
    # Pareto(shape a): Gini 1 / (2a - 1); the top 20% hold 0.2 ** (1 - 1/a). With
    # a = log(5) / log(4) = 1.161 that is the 80/20 rule; a = 3 keeps the sample moments tame.
    a = 3.0
    rng = np.random.default_rng(11)
    x = pd.Series(rng.pareto(a, size=200_000) + 1.0)
    c = L.concentration(x, key_account_threshold=1.0)
    assert c.gini == pytest.approx(1 / (2 * a - 1), abs=0.01)
    assert c.top_share == pytest.approx(0.2 ** (1 - 1 / a), abs=0.01)


def test_concentration_rejects_bad_values():
    with pytest.raises(ValueError, match="negative values"):
        L.concentration(pd.Series([3.0, -1.0], name="revenue"))
    with pytest.raises(ValueError, match="NaN"):
        L.concentration(pd.Series([3.0, np.nan]))
    with pytest.raises(ValueError, match="sum to 0"):
        L.concentration(pd.Series([0.0, 0.0]))
    with pytest.raises(TypeError):
        L.concentration([1.0, 2.0])


def test_concentration_on_retailer_has_no_key_account(retail):
    revenue = L.customer_activity(retail.transactions)["revenue"].clip(lower=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no single customer above 10%
        c = L.concentration(revenue)
    assert 0.5 < c.top_share < 0.9 and c.top1_share < 0.1


# --- complaint iceberg ------------------------------------------------------------------------
def test_complaint_iceberg_hand_case_by_group():
    c = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 4],
            "touch_point": ["sales", "sales", "sales", "support", "support"],
            "resolved": [True, False, True, True, False],
        }
    )
    t = L.complaint_iceberg(c, by="touch_point").table
    # sales: complainants 1 (one unresolved) and 2 (resolved): 20 unhappy, 18 silent;
    # negative reach (1 + 18) * 10 = 190, positive reach 1 * 5.
    assert t.loc["sales", "complaints"] == 3
    assert t.loc["sales", "complainants"] == 2
    assert (t.loc["sales", "resolved"], t.loc["sales", "unresolved"]) == (1, 1)
    assert t.loc["sales", "estimated_unhappy"] == 20.0
    assert t.loc["sales", "negative_reach"] == 190.0
    assert t.loc["sales", "positive_reach"] == 5.0
    assert t.loc["sales", "negative_reach_if_all_resolved"] == 180.0
    alt = L.complaint_iceberg(c, told_by_dissatisfied=L.TOLD_BY_DISSATISFIED_ALT).table
    # all: 4 complainants, 2 unresolved, 36 silent: (2 + 36) * 11
    assert alt.loc["all", "negative_reach"] == 38 * 11


def test_complaint_iceberg_errors():
    c = pd.DataFrame({"customer_id": [1], "resolved": ["yes"]})
    with pytest.raises(ValueError, match="True/False"):
        L.complaint_iceberg(c)
    with pytest.raises(ValueError, match="at least 1"):
        L.complaint_iceberg(
            pd.DataFrame({"customer_id": [1], "resolved": [True]}), unhappy_per_complaint=0.5
        )


def test_complaint_iceberg_recovers_planted_unhappy_customers(retail):
    # The simulator makes unhappy customers complain with probability complaint_rate (0.1):
    # complainants ~ Binomial(n_unhappy, 0.1), so complainants / 0.1 estimates n_unhappy with a
    # standard error of sqrt(n_unhappy * 0.9 / 0.1).
    truth = retail.truth["complaints"]
    t = L.complaint_iceberg(
        retail.complaints, unhappy_per_complaint=1 / truth["complaint_rate"]
    ).table
    assert t.loc["all", "complainants"] == truth["n_complainants"]
    se = math.sqrt(truth["n_unhappy"] * 0.9 / 0.1)
    assert abs(t.loc["all", "estimated_unhappy"] - truth["n_unhappy"]) < 3 * se


# --- properties ---------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10), min_size=1, max_size=300))
def test_nps_properties(scores):
    r = L.nps(scores)
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    assert r.nps == pytest.approx(100 * (promoters - detractors) / len(scores))
    assert r.promoters + r.passives + r.detractors == r.n == len(scores)
    assert -100 <= r.ci_lower <= r.ci_upper <= 100
    assert r.band == L.nps_band(r.nps)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=120).filter(
        lambda v: sum(v) > 1e-6
    )
)
def test_concentration_properties(values):
    c = L.concentration(pd.Series(values), key_account_threshold=1.0)
    n = len(values)
    assert 0 <= c.gini <= (n - 1) / n + 1e-9
    lorenz = c.lorenz
    assert np.all(np.diff(lorenz["value_share"]) >= -1e-12)  # non-decreasing
    assert np.all(lorenz["value_share"] <= lorenz["customer_share"] + 1e-9)  # below equality
    assert c.top_share >= c.top_fraction - 1e-9  # the top hold at least their head count
    assert c.top1_share <= c.top5_share <= 1 + 1e-12
