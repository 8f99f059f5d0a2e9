"""Exit-survey coding, benchmark comparison, value at risk, leak rate and what-ifs.

Expected numbers are hand-computed small cases (stated next to each assertion), closed-form
properties of the intervals, and the truth planted in the synthetic retailer
(``churnlab.datasets.retail``).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from churnlab import defection as d
from churnlab.datasets import load_retail_sample, simulate_retailer
from churnlab.economics import TYPICAL_ANNUAL_CHURN_RATE

# --- benchmark --------------------------------------------------------------------------------


def test_benchmark_is_the_68_14_10_5_3_split():
    assert d.BENCHMARK.to_dict() == {
        "staff_indifference": 0.68,
        "product_dissatisfaction": 0.14,
        "competition": 0.10,
        "other_relationships": 0.05,
        "no_reason": 0.03,
    }
    assert d.BENCHMARK.sum() == pytest.approx(1.0)
    assert d.LEAK_CEILING == 0.10


# --- coding -----------------------------------------------------------------------------------


def _survey(answers, comments=None):
    n = len(answers)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "answer": answers,
            "comment": comments if comments is not None else [""] * n,
        }
    )


def test_answers_map_first_then_comments_then_unmapped():
    survey = _survey(
        ["price", " Broken_Promise ", "other", "other", "other", None, "moved_away"],
        ["Staff were rude", "", "The quality was bad", "cheaper, and rude staff", "", "", ""],
    )
    coded = d.code_exit_survey(survey)
    assert coded.coded["category"].tolist() == [
        "competition",  # answer wins over the comment's keyword
        "staff_indifference",  # case and spaces ignored
        "product_dissatisfaction",  # 'quality'
        "unmapped",  # one competition and one staff keyword: a tie stays unmapped
        "unmapped",
        "unmapped",  # a missing answer is kept and counted
        "unmapped",
    ]
    assert coded.coded["source"].tolist() == ["answer", "answer", "comment"] + ["unmapped"] * 4
    assert coded.counts.sum() == len(survey)  # nothing dropped
    assert coded.counts["unmapped"] == 4
    assert coded.unmapped_answers.to_dict() == {"other": 2, "<missing>": 1, "moved_away": 1}
    assert survey["answer"].tolist()[1] == " Broken_Promise "  # input untouched


def test_mapping_and_keywords_can_be_overridden():
    survey = _survey(["moved_away", "other"], ["", "The staff were rude"])
    coded = d.code_exit_survey(
        survey, mapping={**d.DEFAULT_MAPPING, "moved_away": "no_reason"}, keywords={}
    )
    assert coded.coded["category"].tolist() == ["no_reason", "unmapped"]
    custom = d.code_exit_survey(survey, keywords={"competition": ["rude"]})
    assert custom.coded["category"].tolist() == ["unmapped", "competition"]


def test_coding_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown categories"):
        d.code_exit_survey(_survey(["x"]), mapping={"x": "weather"})
    with pytest.raises(ValueError, match="customer_id"):
        d.code_exit_survey(_survey(["price", "price"]).assign(customer_id=[7, 7]))
    with pytest.raises(ValueError, match="missing column"):
        d.code_exit_survey(_survey(["price"]).drop(columns="answer"))


# --- intervals and the test -------------------------------------------------------------------


def test_wilson_interval_matches_the_closed_form():
    # Wilson (1927) for 50 of 100 at 95%: (0.5 + z^2/200 +- z sqrt(0.0025 + z^2/40000))
    # / (1 + z^2/100) = [0.40383, 0.59617]; for 0 of 10: [0, z^2/(10 + z^2)] = [0, 0.27753].
    ci = d.multinomial_interval([50, 50], method="wilson")
    assert ci.loc[0, "ci_lower"] == pytest.approx(0.403832, abs=1e-6)
    assert ci.loc[0, "ci_upper"] == pytest.approx(0.596168, abs=1e-6)
    ci = d.multinomial_interval([0, 10], method="wilson")
    z2 = stats.norm.ppf(0.975) ** 2
    assert ci.loc[0, "ci_lower"] == 0.0
    assert ci.loc[0, "ci_upper"] == pytest.approx(z2 / (10 + z2))


def test_goodman_is_wilson_with_a_bonferroni_level():
    # Goodman (1965) uses chi2_1 at 1 - alpha / k: for k = 5 and 95%, Wilson at 99%.
    counts = [40, 25, 20, 10, 5]
    goodman = d.multinomial_interval(counts, level=0.95, method="goodman")
    wilson = d.multinomial_interval(counts, level=0.99, method="wilson")
    pd.testing.assert_frame_equal(goodman, wilson)


def test_goodman_intervals_cover_all_shares_at_once():
    rng = np.random.default_rng(3)
    p = d.BENCHMARK.to_numpy()
    draws = rng.multinomial(400, p, size=600)
    covered = 0
    for counts in draws:
        ci = d.multinomial_interval(counts, method="goodman")
        covered += bool(((ci["ci_lower"] <= p) & (p <= ci["ci_upper"])).all())
    # simultaneous coverage at least 95% (minus 3 binomial standard errors)
    assert covered / len(draws) > 0.95 - 3 * np.sqrt(0.05 * 0.95 / len(draws))


@given(st.lists(st.integers(0, 10_000), min_size=2, max_size=8).filter(lambda c: sum(c) > 0))
def test_intervals_hold_the_point_share_and_stay_in_the_unit_interval(counts):
    for method in ("goodman", "wilson"):
        ci = d.multinomial_interval(counts, method=method)
        assert (ci["ci_lower"] <= ci["share"] + 1e-12).all()
        assert (ci["share"] <= ci["ci_upper"] + 1e-12).all()
        assert ((ci["ci_lower"] >= 0) & (ci["ci_upper"] <= 1)).all()
    wide = d.multinomial_interval(counts, method="goodman")
    narrow = d.multinomial_interval(counts, method="wilson")
    assert (wide["ci_upper"] - wide["ci_lower"] >= narrow["ci_upper"] - narrow["ci_lower"]).all()


def test_a_custom_benchmark_and_wilson_intervals():
    variant = pd.Series(
        {
            "staff_indifference": 0.70,
            "product_dissatisfaction": 0.15,
            "competition": 0.10,
            "other_relationships": 0.03,
            "no_reason": 0.02,
        }
    )
    counts = (variant * 1000).round().astype(int)
    result = d.compare_to_benchmark(counts, variant, method="wilson", level=0.9)
    assert result.chi2 == pytest.approx(0.0, abs=1e-9)
    assert result.method == "wilson" and result.level == 0.9
    # Wilson 90% for 700 of 1000 (closed form): z = 1.6449
    z = stats.norm.ppf(0.95)
    centre = (0.7 + z**2 / 2000) / (1 + z**2 / 1000)
    half = z * np.sqrt(0.7 * 0.3 / 1000 + z**2 / 4e6) / (1 + z**2 / 1000)
    assert result.table.loc["staff_indifference", "ci_lower"] == pytest.approx(centre - half)
    with pytest.raises(ValueError, match="sum to 1"):
        d.compare_to_benchmark(counts, variant * 2)


def test_compare_to_benchmark_hand_computed():
    counts = pd.Series(
        {
            "staff_indifference": 300,
            "product_dissatisfaction": 140,
            "competition": 30,
            "other_relationships": 20,
            "no_reason": 10,
            "unmapped": 12,
        }
    )
    result = d.compare_to_benchmark(counts)
    # N = 500 coded; expected 340/70/50/25/15;
    # chi2 = 40^2/340 + 70^2/70 + 20^2/50 + 5^2/25 + 5^2/15 = 85.3725
    assert result.chi2 == pytest.approx(85.372549, rel=1e-6)
    assert result.dof == 4
    assert result.p_value == pytest.approx(stats.chi2.sf(85.372549, 4), rel=1e-5)
    t = result.table
    assert t.loc["product_dissatisfaction", "expected_count"] == pytest.approx(70.0)
    assert t.loc["product_dissatisfaction", "residual"] == pytest.approx(70 / np.sqrt(70))
    assert t.loc["unmapped", "count"] == 12 and np.isnan(t.loc["unmapped", "share"])
    assert result.n_coded == 500 and result.n_unmapped == 12
    assert t["share"].iloc[:5].sum() == pytest.approx(1.0)


def test_benchmark_mix_itself_is_not_rejected():
    counts = (d.BENCHMARK * 1000).round().astype(int)
    result = d.compare_to_benchmark(counts)
    assert result.chi2 == pytest.approx(0.0, abs=1e-9)
    assert result.p_value == pytest.approx(1.0)


def test_small_expected_counts_warn():
    with pytest.warns(UserWarning, match="below 5"):
        d.compare_to_benchmark({"staff_indifference": 30, "no_reason": 2})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d.compare_to_benchmark((d.BENCHMARK * 200).round().astype(int))


def test_compare_rejects_unknown_reasons_and_bad_counts():
    with pytest.raises(ValueError, match="unknown reasons"):
        d.compare_to_benchmark({"weather": 3, "competition": 40})
    with pytest.raises(ValueError, match="count"):
        d.compare_to_benchmark({"competition": -1, "staff_indifference": 40})
    with pytest.raises(ValueError, match="no coded answers"):
        d.compare_to_benchmark({"unmapped": 5})


# --- recovery of the planted reason mix -------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    return load_retail_sample()


def test_sample_coding_keeps_every_answer(sample):
    coded = d.code_exit_survey(sample.exit_survey)
    assert coded.counts.sum() == len(sample.exit_survey)
    # Only the planted off-list answers stay unmapped; only 'other' is coded from comments.
    assert set(coded.unmapped_answers.index) <= {"other", "prefer_not_to_say", "dont_know"}
    by_comment = coded.coded[coded.coded["source"] == "comment"]
    assert (by_comment["answer"] == "other").all() and len(by_comment) > 0
    off_list = sample.exit_survey["answer"].isin(["other", "prefer_not_to_say", "dont_know"])
    share_off = off_list.mean()  # planted 10%, binomial sd about 1.2 points at n = 682
    assert abs(share_off - 0.10) < 0.04


def test_observed_mix_recovers_the_planted_mix_and_rejects_the_benchmark(sample):
    result = d.compare_to_benchmark(d.code_exit_survey(sample.exit_survey))
    truth = pd.Series(sample.truth["defection"]["reason_mix"])[list(d.CATEGORIES)]
    t = result.table.loc[list(d.CATEGORIES)]
    assert ((t["ci_lower"] <= truth) & (truth <= t["ci_upper"])).all()
    assert result.p_value < 1e-20
    # the planted deviation: product dissatisfaction far above 14%, staff far below 68%
    assert t.loc["product_dissatisfaction", "ci_lower"] > 0.14
    assert t.loc["staff_indifference", "ci_upper"] < 0.68


def test_recovery_on_a_large_draw():
    data = simulate_retailer(20_000, seed=5)
    result = d.compare_to_benchmark(d.code_exit_survey(data.exit_survey))
    truth = pd.Series(data.truth["defection"]["reason_mix_respondents"])[list(d.CATEGORIES)]
    t = result.table.loc[list(d.CATEGORIES)]
    assert ((t["ci_lower"] <= truth) & (truth <= t["ci_upper"])).all()
    assert (t["share"] - truth).abs().max() < 0.03


# --- value ------------------------------------------------------------------------------------


def test_revenue_before_hand_computed():
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2],
            "date": pd.to_datetime(
                ["2022-03-01", "2022-03-02", "2023-01-05", "2023-03-01", "2023-02-01"]
            ),
            "amount": [100.0, 7.0, 40.0, -10.0, 25.0],
        }
    )
    end = pd.Series(pd.to_datetime(["2023-03-01", "2023-01-31", "2023-01-01"]), index=[1, 2, 3])
    # customer 1: window (2022-03-01, 2023-03-01] holds purchases 7 + 40 = 47 (2022-03-01 is
    # out; the return is left out by default); customer 2 bought after the window; customer 3
    # never bought.
    with pytest.warns(UserWarning, match="1 return row"):
        got = d.revenue_before(tx, end)
    assert got.tolist() == [47.0, 0.0, 0.0]
    assert got.index.tolist() == [1, 2, 3]
    # netted, the return refunds the 2023-01-05 purchase: 7 + (40 - 10) = 37
    with pytest.warns(UserWarning, match="netted"):
        assert d.revenue_before(tx, end, returns="net").tolist() == [37.0, 0.0, 0.0]
        # a 30-day window holds only the return: revenue is never negative
        assert d.revenue_before(tx, end.loc[[1]], days=30, returns="net").tolist() == [0.0]


def test_value_at_risk_hand_computed():
    cats = pd.Series(
        ["competition", "staff_indifference", "staff_indifference", "unmapped"],
        index=[10, 11, 12, 13],
    )
    value = pd.Series([100.0, 50.0, 30.0, 20.0, 999.0], index=[10, 11, 12, 13, 14])
    t = d.value_at_risk(cats, value).table
    # staff: 2 of 4 customers, 80 of 200 value; competition: 1 of 4, 100 of 200
    assert t.loc["staff_indifference", "customer_share"] == 0.5
    assert t.loc["staff_indifference", "value_share"] == pytest.approx(0.4)
    assert t.loc["competition", "mean_value"] == 100.0
    assert t.loc["unmapped", "customers"] == 1
    assert np.isnan(t.loc["no_reason", "mean_value"])
    var = d.value_at_risk(cats, value)
    pareto = var.pareto()
    assert pareto.index[:2].tolist() == ["competition", "staff_indifference"]
    assert pareto["share"].iloc[0] == pytest.approx(100 / 180)
    assert pareto["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    assert var.largest() == "staff_indifference"  # competition is not controllable
    assert var.largest(among=d.CATEGORIES) == "competition"
    with pytest.raises(ValueError, match="value"):
        d.value_at_risk(cats, value.drop(13))


def test_value_share_differs_from_customer_share_in_the_sample(sample):
    # Premium customers (planted: 55% staff indifference, 5% competition) spend most, so
    # staff indifference weighs more in value than in heads, competition less.
    coded = d.code_exit_survey(sample.exit_survey)
    c = sample.customers.set_index("customer_id")
    value = d.revenue_before(sample.transactions, c.loc[coded.coded.index, "defection_date"])
    t = d.value_at_risk(coded, value).table
    assert (
        t.loc["staff_indifference", "value_share"] > t.loc["staff_indifference", "customer_share"]
    )
    assert t.loc["competition", "value_share"] < t.loc["competition", "customer_share"]


# --- leak rate and what-if --------------------------------------------------------------------


def test_leak_rate_hand_computed():
    c = pd.DataFrame(
        {
            "signup_date": pd.to_datetime(
                ["2020-05-01", "2020-06-01", "2020-07-01", "2021-03-01", "2021-04-01"]
            ),
            "defection_date": pd.to_datetime(["2021-02-01", None, "2022-06-30", None, None]),
        }
    )
    t = d.leak_rate(c, end="2022-12-31").table
    # 2021: 3 active on 1 Jan, 1 left; 2022: 4 active (1 gone), 1 left. 2023 incomplete.
    assert t.index.tolist() == [2021, 2022]
    assert t["customers_at_start"].tolist() == [3, 4]
    assert t["defected"].tolist() == [1, 1]
    assert t["rate"].tolist() == pytest.approx([1 / 3, 0.25])
    assert t["above_ceiling"].all()
    assert d.leak_rate(c, end="2022-12-30").table.index.tolist() == [2021]


def test_sample_leaks_above_the_ceiling(sample):
    leak = d.leak_rate(sample.customers, end=sample.truth["end"])
    assert leak.table.index.tolist() == [2023, 2024]
    assert (leak.table["ci_lower"] > d.LEAK_CEILING).all()
    assert (leak.table["rate"] < TYPICAL_ANNUAL_CHURN_RATE).all()


def test_price_reason_cut_hand_computed():
    cats = pd.Series(["competition", "staff_indifference", "staff_indifference", "unmapped"])
    var = d.value_at_risk(cats, pd.Series([100.0, 50.0, 30.0, 10.0]))
    # staff: 2 of 3 coded; 300 defectors a year; halving them keeps 0.5 * 2/3 * 300 = 100
    # customers worth 40 each; the leak falls from 15% to 15% * (1 - 1/3) = 10%.
    w = d.price_reason_cut(var, "staff_indifference", 0.5, defectors_per_year=300, leak_rate=0.15)
    assert w.reason_share == pytest.approx(2 / 3)
    assert w.customers_kept == pytest.approx(100.0)
    assert w.value_kept == pytest.approx(4000.0)
    assert w.leak_rate_after == pytest.approx(0.10)
    # the table is one row per what-if: several cuts stack into one table
    fifth = d.price_reason_cut(var, "competition", 0.2, defectors_per_year=300)
    table = pd.concat([w.table, fifth.table])
    assert isinstance(w.table, pd.DataFrame) and "reason" not in table.columns
    assert table.index.tolist() == ["staff_indifference", "competition"]
    # competition: 1 of 3 coded, worth 100: 0.2 x 1/3 x 300 = 20 customers, 2,000
    assert table["customers_kept"].tolist() == pytest.approx([100.0, 20.0])
    assert table.loc["competition", "value_kept"] == pytest.approx(2000.0)
    none = d.price_reason_cut(var, "no_reason", 0.9, defectors_per_year=300)
    assert none.customers_kept == 0 and none.value_kept == 0 and np.isnan(none.leak_rate_after)
    with pytest.raises(ValueError, match="cut"):
        d.price_reason_cut(var, "competition", 1.5, defectors_per_year=10)
    with pytest.raises(ValueError, match="reason"):
        d.price_reason_cut(var, "weather", 0.5, defectors_per_year=10)


def test_keywords_match_where_a_word_starts_not_inside_other_words():
    # 'late' (product) must not count inside 'related'; otherwise comment 1 would tie
    # rude (staff) against late (product) and stay unmapped.
    survey = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "answer": ["other"] * 3,
            "comment": [
                "A related issue: the staff were rude.",
                "Delivery was LATE again and again.",
                "Translated manuals only.",  # 'late' inside 'translated': no hit at all
            ],
        }
    )
    coded = d.code_exit_survey(survey).coded["category"].tolist()
    assert coded == ["staff_indifference", "product_dissatisfaction", "unmapped"]
