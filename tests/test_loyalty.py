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
    with pytest.warns(UserWarning, match="2 return row.*1 customer.*returns but no purchase"):
        act = L.customer_activity(tx, "2024-01-31", time_unit="D")
    # customer 1: purchase days Jan 1 and Jan 11 (the Jan 20 return is no purchase); revenue
    # 10 + 5 + 20 = 35 with returns left out; customer 3 (a return only) is no customer.
    assert list(act.index) == [1, 2]
    assert act.loc[1, "purchases"] == 2
    assert act.loc[1, "revenue"] == 35.0
    with pytest.warns(UserWarning, match="netted.*1 of them .total -3.00. have no earlier"):
        net = L.customer_activity(tx, "2024-01-31", time_unit="D", returns="net")
    # the Jan 20 return refunds the Jan 11 purchase: 10 + 5 + (20 - 20) = 15, still 2 purchases
    assert net.loc[1, "revenue"] == 15.0
    assert net["purchases"].tolist() == act["purchases"].tolist()
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


def test_customer_types_recover_regular_buyers_planted_by_the_simulator():
    # The simulator plants regular buyers (truth["regular"]): gamma gaps with shape 16, so a
    # gap CV of 1/sqrt(16) = 0.25, against exponential (CV 1) gaps for everyone else.
    from churnlab.datasets import simulate_retailer

    data = simulate_retailer(1500, seed=0, regular_share=0.3)
    truth = data.truth["regular"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # customers with returns only
        ct = L.customer_types(data.transactions).customers
    planted = ct.index.isin(truth["customer_ids"])
    enough = (ct["purchases"] >= 4).to_numpy()  # the rule needs 4 purchases (3 gaps)
    regular = (ct["customer_type"] == "regular").to_numpy()
    assert (planted & enough).sum() > 200 and (~planted & enough).sum() > 500
    # Planted regular buyers are found: their gap CV sits near 0.25, far under the 0.5 rule.
    assert regular[planted & enough].mean() > 0.95
    assert ct.loc[planted & enough, "cv_gap"].median() == pytest.approx(truth["gap_cv"], abs=0.03)
    # Poisson buyers are rarely called regular: with 3 or more exponential gaps the sample CV
    # falls under 0.5 only by chance (about 6% here; 2.3% with 9 gaps, test above).
    assert regular[~planted & enough].mean() < 0.12
    assert ct.loc[~planted & enough, "cv_gap"].median() > 0.75
    # The bundled sample plants none (default regular_share = 0).
    assert load_retail_sample().truth["regular"]["customer_ids"] == []


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


def test_html_reprs_escape_titles_and_show_the_ladder_rules_as_a_table(retail):
    ladder = L.loyalty_ladder(retail.transactions, cohort_end="2023-12-31")
    out = ladder._repr_html_()
    assert out.count("<table") == 2 and "&lt;table" not in out  # rules table is HTML, not text
    matrix = L.loyalty_matrix(pd.Series({1: 10, 2: 3}), pd.Series({1: 2.0, 2: 1.0}))
    assert "Dick &amp; Basu" in matrix._repr_html_()


def test_concentration_and_complaints_are_re_exported():
    from churnlab import complaints, concentration

    assert L.concentration is concentration.concentration
    assert L.Concentration is concentration.Concentration
    assert L.complaint_iceberg is complaints.complaint_iceberg
    assert L.UNHAPPY_PER_COMPLAINT == complaints.UNHAPPY_PER_COMPLAINT == 10.0


def test_the_whole_last_day_is_observed_whatever_the_time_of_day():
    # observation_end is a day, inclusive, as in rfm_summary: a purchase at 15:30 on that day
    # is observed (3 purchase days; tenure 30 days from 1 to 31 January).
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "date": pd.to_datetime(["2024-01-01 00:00", "2024-01-11 09:00", "2024-01-31 15:30"]),
            "amount": [10.0, 20.0, 30.0],
        }
    )
    activity = L.customer_activity(tx, "2024-01-31", time_unit="D")
    assert activity.loc[1, "purchases"] == 3
    assert activity.loc[1, "tenure"] == 30.0


def test_loyalty_matrix_warns_about_answers_without_repeat_value():
    # customer 6 answered (10) but has no repeat value: left out, with the count said
    att = pd.Series({1: 10, 2: 9, 3: 3, 4: 5, 6: 10})
    rep = pd.Series({1: 8.0, 2: 1.0, 3: 6.0, 4: 0.0, 5: 2.0})
    with pytest.warns(UserWarning, match="1 customer.* attitude answer but no repeat"):
        m = L.loyalty_matrix(att, rep, repeat_threshold=5)
    assert sorted(m.customers.index) == [1, 2, 3, 4] and m.n_unclassified == 1
