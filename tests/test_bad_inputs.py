"""Bad and awkward inputs across the public API, one section per area.

Every case asserts that the ValueError names the argument or column at fault (the ``match``
pattern holds the name), or that a warning gives counts. The inputs are the usual mistakes:
booleans and text where numbers belong, NaN and infinities, negative money or counts,
levels and probabilities outside their range, non-integer counts, empty inputs, answers off
the 0-10 scale, customer ids of mixed types or repeated where they must be unique, and
Series indexed by other customers.

Each area is a table of ``(call, match)`` cases run by one test; add a section (a table and
its test) for a new area.
"""

from __future__ import annotations

import re
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from churnlab import (
    BetaGeo,
    GammaGamma,
    complaints,
    concentration,
    customer_lifetime_value,
    defection,
)
from churnlab import economics as E
from churnlab import loyalty as L
from churnlab import nps as N
from churnlab._validation import (
    align_to,
    as_float_array,
    check_customer_ids,
    check_level,
    check_number,
    check_numbers,
    check_probability,
)
from churnlab.churn import (
    ChurnModel,
    bootstrap_metrics,
    calibration_table,
    empc,
    evaluate,
    expected_gain,
    gains_curve,
    gains_table,
    mpc,
    permutation_importance,
    profit_curve,
    roc_convex_hull,
)
from churnlab.clv import retention_priorities, value_deciles
from churnlab.diagnostics import (
    calibration_holdout_table,
    frequency_recency_matrix,
    holdout_validation,
    period_transactions,
    probability_alive_matrix,
)
from churnlab.models import CDNOW_BGNBD_PUBLISHED, CDNOW_GAMMA_GAMMA_PUBLISHED
from churnlab.plots.btyd import plot_retention_priorities
from churnlab.plots.churn import plot_permutation_importance
from churnlab.plots.style import export


def case(call, match: str, id: str):
    """One bad input: ``call()`` must raise a ValueError whose message matches ``match``."""
    return pytest.param(call, match, id=id)


def _raises(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


# Small valid inputs that each case spoils in one place.
MIXED_IDS = [101, 102, "103", 104]
Y = [0, 1, 0, 1, 1, 0]
SCORE = [0.1, 0.8, 0.3, 0.6, 0.9, 0.2]
Y_IDS = pd.Series(Y, index=[11, 12, 13, 14, 15, 16])
SCORE_IDS = pd.Series(SCORE, index=Y_IDS.index)
RFM = pd.DataFrame(
    {"frequency": [2, 0, 5], "recency": [10.0, 0.0, 30.0], "T": [40.0, 40.0, 40.0]},
    index=pd.Index([1, 2, 3], name="customer_id"),
).assign(monetary_value=[20.0, 0.0, 35.0])


def _published_bgnbd() -> BetaGeo:
    model = BetaGeo()
    model.params_ = pd.Series(CDNOW_BGNBD_PUBLISHED)[["r", "alpha", "a", "b"]].astype(float)
    return model


BGNBD = _published_bgnbd()
SPLIT = pd.DataFrame(
    {
        "frequency_cal": [2, 0, 1],
        "recency_cal": [10.0, 0.0, 5.0],
        "T_cal": [30.0, 30.0, 20.0],
        "frequency_holdout": [1, 0, 2],
        "duration_holdout": [39.0, 39.0, 39.0],
    }
)


# --------------------------------------------------------------------------------------------
# the shared checkers (churnlab._validation)
# --------------------------------------------------------------------------------------------
CHECKERS = [
    case(lambda: check_number(True, "margin"), r"margin must be a number, got the boolean", "bool"),
    case(lambda: check_number(np.bool_(False), "margin"), r"margin .* boolean", "numpy-bool"),
    case(lambda: check_number("0.3", "margin"), r"margin must be a number, got the text", "text"),
    case(lambda: check_number(None, "margin"), r"margin must be a number, got None", "none"),
    case(lambda: check_number([1, 2], "margin"), r"margin must be a single number", "list"),
    case(lambda: check_number(np.nan, "margin"), r"margin must be a finite number", "nan"),
    case(lambda: check_number(np.inf, "margin"), r"margin must be a finite number", "inf"),
    case(lambda: check_number(-1, "cost", low=0), r"cost must be a number at least 0", "neg"),
    case(lambda: check_number(2.5, "n", integer=True), r"n must be a whole number", "frac"),
    case(lambda: check_number(1, "x", high=1, high_open=True), r"x must be a number below 1", "hi"),
    case(lambda: check_level(0), r"level must be a number in \(0, 1\)", "level-0"),
    case(lambda: check_level(1), r"level must be a number in \(0, 1\)", "level-1"),
    case(lambda: check_level(1.5), r"level .*got level=1\.5", "level-1.5"),
    case(lambda: check_level(-0.1), r"level .*got level=-0\.1", "level-neg"),
    case(lambda: check_level(95), r"level .*For example 0\.95", "level-percent"),
    case(lambda: check_probability(1.2, "p"), r"p must be a number in \[0, 1\]", "prob-high"),
    case(lambda: check_probability(-0.01, "p"), r"p must be a number in \[0, 1\]", "prob-neg"),
    case(lambda: as_float_array(["1", 2], "amount"), r"column 'amount': text", "array-text"),
    case(
        lambda: as_float_array([True, 2.0], "amount"), r"column 'amount': text or bool", "mixbool"
    ),
    case(lambda: as_float_array(np.array([True]), "amount"), r"column 'amount': booleans", "bool"),
    case(lambda: as_float_array([1.0, np.nan], "amount"), r"column 'amount': NaN", "array-nan"),
    case(
        lambda: as_float_array(pd.Series(pd.to_datetime(["2024-01-01"])), "amount"),
        r"amount must hold numbers, got values of dtype datetime64",
        "array-dates",
    ),
    case(lambda: check_numbers([], "rate"), r"rate is empty", "empty"),
    case(
        lambda: check_numbers([0.5, 1.5], "rate", high=1),
        r"column 'rate': values above 1 in 1 row",
        "range",
    ),
    case(lambda: check_numbers([1, 2.5], "k", integer=True), r"column 'k': .*whole", "whole"),
    case(
        lambda: check_customer_ids(pd.Series(MIXED_IDS), "customer_id"),
        r"column 'customer_id': customer ids of mixed types \(3 numeric, 1 text\) in 1 row",
        "ids-mixed",
    ),
    case(
        lambda: check_customer_ids(pd.Series([1, None, 3], dtype=object), "customer_id"),
        r"column 'customer_id': missing customer ids",
        "ids-nan",
    ),
    case(
        lambda: check_customer_ids(pd.Index([1, 2, 2]), "customer_id", unique=True),
        r"column 'customer_id': duplicate customer ids in 2 row",
        "ids-duplicate",
    ),
    case(
        lambda: align_to(pd.Series([1, 2], index=[1, 3]), pd.Index([1, 2]), "y", "X"),
        r"y is indexed by other customers than X: ids in X but not in y: 1 id\(s\): \[2\]",
        "align",
    ),
]


@pytest.mark.parametrize(("call", "match"), CHECKERS)
def test_checkers(call, match):
    _raises(call, match)


def test_mixed_ids_suggest_a_conversion_and_show_the_rows():
    with pytest.raises(ValueError) as err:
        check_customer_ids(pd.Series(MIXED_IDS, index=list("abcd")), "customer_id")
    message = str(err.value)
    assert "ids.astype(str)" in message
    assert re.search(r"^c\s+103$", message, flags=re.M)  # the offending row, by its label


def test_valid_input_passes_unchanged():
    assert check_number(7.0, "max_frequency", low=1, integer=True) == 7
    assert isinstance(check_number(np.int64(3), "n", integer=True), int)
    assert check_level(0.9) == 0.9
    np.testing.assert_array_equal(as_float_array(pd.Series([1, 2], dtype="Int64"), "x"), [1, 2])
    ids = pd.Series(["a", "b"])
    assert check_customer_ids(ids, "customer_id", unique=True) is ids


def test_awkward_but_valid_inputs_are_accepted():
    # strict about text and booleans, not about how numbers are stored
    booleans = pd.Series([True, False, True, False], dtype="boolean")  # labels may be booleans
    assert evaluate(booleans, [0.9, 0.1, 0.8, 0.2])["roc_auc"] == 1.0
    text_ids = pd.Series([1, 0, 1, 0], index=["a", "b", "c", "d"])
    shuffled = pd.Series([0.2, 0.8, 0.1, 0.9], index=["d", "c", "b", "a"])  # matched by id
    assert evaluate(text_ids, shuffled)["roc_auc"] == 1.0
    # 2 promoters, 1 detractor of 3: NPS 100/3, whatever the storage
    for answers in (pd.Series([10, 9, 3], dtype="Int64"), np.array([10.0, 9.0, 3.0]), (10, 9, 3)):
        assert N.nps(answers).nps == pytest.approx(100 / 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert concentration.concentration(pd.Series([1, 3], dtype=object)).top1_share == 0.75
    shares = value_deciles(pd.Series([50, 30, 20]), n_groups=3.0)["value_share"]
    assert shares.tolist() == [0.5, 0.3, 0.2]
    assert E.revenue_lost_to_churn(np.int64(700), 300, np.float64(0.2)) == pytest.approx(42_000)


# --------------------------------------------------------------------------------------------
# NPS (churnlab.nps)
# --------------------------------------------------------------------------------------------
ANSWERS = pd.DataFrame(
    {
        "touch_point": ["sales", "sales", "support", "support"],
        "date": ["2024-01-10", "2024-02-01", "2024-04-03", "2024-05-09"],
        "score": [10, 3, 9, 6],
    }
)

NPS_CASES = [
    case(lambda: N.nps([True, False]), r"column 'score': text or booleans", "booleans"),
    case(lambda: N.nps(pd.Series([True, False, True])), r"column 'score': text or bool", "bool"),
    case(lambda: N.nps([9, True, 3]), r"column 'score': text or booleans .* 1 row", "one-bool"),
    case(lambda: N.nps(["9", "10"]), r"column 'score': text or booleans", "text"),
    case(lambda: N.nps(pd.Series(["9", "3"])), r"column 'score': text", "text-series"),
    case(lambda: N.nps([9, np.nan]), r"column 'score': missing answers", "nan"),
    case(lambda: N.nps([9, np.inf]), r"column 'score': NaN or infinite", "inf"),
    case(lambda: N.nps([9, 11]), r"column 'score': answers that are not whole numbers", "11"),
    case(lambda: N.nps([9, -1]), r"column 'score': answers that are not whole", "negative"),
    case(lambda: N.nps([9, 7.5]), r"column 'score': answers that are not whole", "fraction"),
    case(lambda: N.nps([]), r"score: no answers", "empty"),
    case(lambda: N.nps([9, 3], level=0), r"level must be a number in \(0, 1\)", "level-0"),
    case(lambda: N.nps([9, 3], level=1), r"level must be", "level-1"),
    case(lambda: N.nps([9, 3], level=1.5), r"level must be", "level-1.5"),
    case(lambda: N.nps([9, 3], level=-0.1), r"level must be", "level-neg"),
    case(lambda: N.nps([9, 3], level="95%"), r"level must be a number, got the text", "level-text"),
    case(lambda: N.nps([9, 3], level=True), r"level must be a number, got the boolean", "level-b"),
    case(lambda: N.nps([9, 3], method="exact"), r"method='exact'", "method"),
    case(lambda: N.nps_by(ANSWERS, "touch_point", level=1), r"level must be", "by-level"),
    case(
        lambda: N.nps_by(ANSWERS.assign(score=[True, False, True, True]), "touch_point"),
        r"column 'score': text or booleans",
        "by-bool",
    ),
    case(
        lambda: N.nps_by(ANSWERS.assign(answer=ANSWERS["score"] + 1), "touch_point", score_col="x"),
        r"missing column\(s\) \['x'\]",
        "by-missing-column",
    ),
    case(
        lambda: N.nps_by(ANSWERS.assign(touch_point=[None, "a", "b", "b"]), "touch_point"),
        r"column 'touch_point': missing values",
        "by-nan-group",
    ),
    case(lambda: N.nps_by(ANSWERS.iloc[:0], "touch_point"), r"score: no answers", "by-empty"),
    case(lambda: N.nps_trend(ANSWERS, "QE", level=0), r"level must be", "trend-level"),
    case(
        lambda: N.nps_trend(ANSWERS.assign(score=[10, 3, 12, 6]), "QE"),
        r"column 'score': answers that are not whole numbers from 0 to 10 in 1 row",
        "trend-off-scale",
    ),
    case(lambda: N.nps_band(150), r"value must be a number in \[-100, 100\]", "band-150"),
    case(lambda: N.nps_band("good"), r"value must be a number, got the text", "band-text"),
    case(lambda: N.nps_band(True), r"value must be a number, got the boolean", "band-bool"),
    case(lambda: N.nps_band([10, np.nan]), r"column 'value': NaN", "band-nan"),
]


@pytest.mark.parametrize(("call", "match"), NPS_CASES)
def test_nps(call, match):
    _raises(call, match)


def test_issue_example_booleans_are_not_scores():
    # measured on main before the fix: nps([True, False]) was -100
    with pytest.raises(ValueError, match=r"in 2 row\(s\)"):
        N.nps([True, False])


# --------------------------------------------------------------------------------------------
# retention economics (churnlab.economics)
# --------------------------------------------------------------------------------------------
PROGRAMME_CUSTOMERS = pd.DataFrame(
    {
        "customer_id": [1, 2, 3, 4],
        "programme_member": [True, False, True, False],
        "programme_join_date": pd.to_datetime(["2024-01-05", None, "2024-02-01", None]),
        "segment": ["a", "a", "b", "b"],
    }
)
NO_TRANSACTIONS = pd.DataFrame({"customer_id": [], "date": [], "amount": []})


def _evaluate(customers=PROGRAMME_CUSTOMERS, **kwargs):
    return E.evaluate_programme(customers, NO_TRANSACTIONS, **kwargs)


ECONOMICS_CASES = [
    case(lambda: E.revenue_lost_to_churn(True, 300), r"customers must be a number, got the b", "b"),
    case(
        lambda: E.revenue_lost_to_churn("700", 300), r"customers must be a number, got the t", "t"
    ),
    case(lambda: E.revenue_lost_to_churn(-1, 300), r"customers must be a number at least 0", "n<0"),
    case(lambda: E.revenue_lost_to_churn(np.nan, 300), r"customers must be a finite", "n-nan"),
    case(lambda: E.revenue_lost_to_churn(700, -300), r"revenue_per_customer must be", "money<0"),
    case(
        lambda: E.revenue_lost_to_churn(700, np.inf), r"revenue_per_customer must be a fin", "inf"
    ),
    case(
        lambda: E.revenue_lost_to_churn(700, 300, 1.2),
        r"churn_rate must be a number in \[0, 1\]",
        "rate>1",
    ),
    case(lambda: E.revenue_lost_to_churn(700, 300, -0.1), r"churn_rate must be", "rate<0"),
    case(
        lambda: E.revenue_lost_to_churn(700, 300, "20%"), r"churn_rate must be a number", "rate-t"
    ),
    case(
        lambda: E.revenue_lost_to_churn([700, "800"], 300),
        r"column 'customers': text or booleans .* 1 row",
        "array-text",
    ),
    case(
        lambda: E.revenue_lost_to_churn(700, 300, [0.2, 1.5]),
        r"column 'churn_rate': values outside \[0, 1\] in 1 row",
        "array-rate",
    ),
    case(lambda: E.revenue_lost_to_churn([], 300), r"customers is empty", "empty"),
    case(lambda: E.lifetime_revenue(600, np.nan), r"months must be a finite", "months-nan"),
    case(lambda: E.lifetime_revenue(600, -5), r"months must be a number at least 0", "months<0"),
    case(lambda: E.lifetime_revenue(False, 5), r"monthly_revenue must be a number, got the b", "b"),
    case(
        lambda: E.keep_or_replace(140, retention_cost_per_customer=-50),
        r"retention_cost_per_customer must be a number at least 0",
        "keep-cost<0",
    ),
    case(
        lambda: E.keep_or_replace("140", retention_cost_per_customer=50),
        r"customers_lost must be a number, got the text",
        "keep-text",
    ),
    case(
        lambda: E.keep_or_replace(140, retention_cost_per_customer=50, ratio=True),
        r"ratio must be a number, got the boolean",
        "keep-ratio",
    ),
    case(
        lambda: E.keep_or_replace(
            140, retention_cost_per_customer=50, acquisition_cost_per_customer=np.nan
        ),
        r"acquisition_cost_per_customer must be a finite",
        "keep-acq-nan",
    ),
    case(
        lambda: E.retention_profit_effect(retention_rate=1.5, margin=100),
        r"retention_rate must be a number in \[0, 1\]",
        "profit-rate",
    ),
    case(
        lambda: E.retention_profit_effect(retention_rate=[0.8, "0.9"], margin=100),
        r"column 'retention_rate': text",
        "profit-rate-text",
    ),
    case(
        lambda: E.retention_profit_effect(retention_rate=0.8, margin=-100),
        r"margin must be a number at least 0",
        "profit-margin",
    ),
    case(
        lambda: E.retention_profit_effect(retention_rate=0.8, margin=100, uplift=-0.05),
        r"uplift must be a number in \[0, 1\]",
        "profit-uplift",
    ),
    case(
        lambda: E.retention_profit_effect(retention_rate=0.8, margin=100, margin_growth=-1),
        r"margin_growth must be a number above -1",
        "profit-growth",
    ),
    case(
        lambda: E.retention_profit_effect(retention_rate=0.8, margin=100, discount_rate=True),
        r"discount_rate must be a number, got the boolean",
        "profit-discount",
    ),
    case(
        lambda: E.retention_profit_effect(retention_rate=[0.8, 0.9], margin=[1, 2, 3]),
        r"cannot be broadcast together: shapes \{'retention_rate': \(2,\), 'margin': \(3,\)",
        "profit-shapes",
    ),
    case(
        lambda: E.programme_break_even(members=0, incremental_revenue_per_member=1, margin=0.3),
        r"members must be a number above 0",
        "be-members",
    ),
    case(
        lambda: E.programme_break_even(members=10, incremental_revenue_per_member=1, margin=30),
        r"margin must be a number in \(0, 1\]",
        "be-margin-percent",
    ),
    case(
        lambda: E.programme_break_even(members=10, incremental_revenue_per_member="1", margin=0.3),
        r"incremental_revenue_per_member must be a number, got the text",
        "be-text",
    ),
    case(
        lambda: E.programme_break_even(
            members=10, incremental_revenue_per_member=1, margin=0.3, fixed_cost=-1
        ),
        r"fixed_cost must be a number at least 0",
        "be-fixed",
    ),
    case(lambda: _evaluate(level=1), r"level must be a number in \(0, 1\)", "eval-level"),
    case(lambda: _evaluate(n_boot=49), r"n_boot must be a whole number at least 50", "eval-boot"),
    case(lambda: _evaluate(n_boot=99.5), r"n_boot must be a whole number", "eval-boot-frac"),
    case(lambda: _evaluate(n_boot=True), r"n_boot must be a whole number, got the b", "eval-b"),
    case(lambda: _evaluate(min_history=-1), r"min_history must be a number at least 0", "hist"),
    case(
        lambda: _evaluate(n_rate_bins=0), r"n_rate_bins must be a whole number at least 1", "bins"
    ),
    case(lambda: _evaluate(n_history_bins=2.5), r"n_history_bins must be a whole", "hbins"),
    case(lambda: _evaluate(seed="0"), r"seed must be a whole number, got the text", "seed"),
    case(
        lambda: _evaluate(PROGRAMME_CUSTOMERS.assign(customer_id=[1, 2, 2, 4])),
        r"column 'customer_id': duplicate customer ids in 2 row",
        "eval-duplicate-ids",
    ),
    case(
        lambda: _evaluate(PROGRAMME_CUSTOMERS.assign(customer_id=MIXED_IDS)),
        r"column 'customer_id': customer ids of mixed types",
        "eval-mixed-ids",
    ),
    case(
        lambda: _evaluate(PROGRAMME_CUSTOMERS.assign(programme_member=["yes", "no", "yes", "no"])),
        r"column 'programme_member': values that are not True/False in 4 row",
        "eval-member-text",
    ),
    case(
        lambda: E.evaluate_programme_by(
            PROGRAMME_CUSTOMERS.assign(
                programme_member=[1, 0, "no", 0], programme_type=["a", None, "b", None]
            ),
            NO_TRANSACTIONS,
        ),
        r"column 'programme_member': values that are not True/False in 1 row",
        "by-member-text",
    ),
]


@pytest.mark.parametrize(("call", "match"), ECONOMICS_CASES)
def test_economics(call, match):
    _raises(call, match)


# --------------------------------------------------------------------------------------------
# defection reasons (churnlab.defection)
# --------------------------------------------------------------------------------------------
SURVEY = pd.DataFrame({"customer_id": [1, 2, 3, 4], "answer": ["price"] * 4, "comment": [""] * 4})
CATEGORIES = pd.Series(
    ["competition", "staff_indifference", "staff_indifference", "no_reason"], index=[1, 2, 3, 4]
)
LOST = pd.Series([100.0, 50.0, 30.0, 10.0], index=[1, 2, 3, 4])
COUNTS = {"staff_indifference": 30, "product_dissatisfaction": 14, "competition": 10}
TX = pd.DataFrame(
    {"customer_id": [1, 2], "date": pd.to_datetime(["2023-01-05", "2023-02-01"]), "amount": 5.0}
)
END = pd.Series(pd.to_datetime(["2023-03-01", "2023-03-01"]), index=[1, 2])
LEAVERS = pd.DataFrame(
    {
        "signup_date": pd.to_datetime(["2021-03-01"] * 4),
        "defection_date": pd.to_datetime(["2022-05-01", None, None, None]),
    }
)


def _var():
    return defection.value_at_risk(CATEGORIES, LOST)


DEFECTION_CASES = [
    case(
        lambda: defection.code_exit_survey(SURVEY.assign(customer_id=MIXED_IDS)),
        r"column 'customer_id': customer ids of mixed types",
        "survey-mixed-ids",
    ),
    case(
        lambda: defection.code_exit_survey(SURVEY.assign(customer_id=[1, np.nan, 3, 4])),
        r"column 'customer_id': missing customer ids",
        "survey-nan-ids",
    ),
    case(
        lambda: defection.code_exit_survey(SURVEY.assign(customer_id=[1, 1, 3, 4])),
        r"column 'customer_id': customers with more than one exit-survey answer",
        "survey-duplicates",
    ),
    case(
        lambda: defection.multinomial_interval([2.5, 3]),
        r"column 'counts': values that are not whole numbers",
        "mi-fraction",
    ),
    case(
        lambda: defection.multinomial_interval([True, False]),
        r"column 'counts': text or booleans",
        "mi-bool",
    ),
    case(lambda: defection.multinomial_interval(["3", "4"]), r"column 'counts': text", "mi-text"),
    case(
        lambda: defection.multinomial_interval([-1, 3]),
        r"column 'counts': values below 0",
        "mi-neg",
    ),
    case(lambda: defection.multinomial_interval([0, 0]), r"counts must have a positive", "mi-0"),
    case(lambda: defection.multinomial_interval([5]), r"counts must be two or more", "mi-one"),
    case(lambda: defection.multinomial_interval([5, 5], level=0), r"level must be", "mi-level0"),
    case(lambda: defection.multinomial_interval([5, 5], level=1), r"level must be", "mi-level1"),
    case(lambda: defection.multinomial_interval([5, 5], level=1.5), r"level must be", "mi-1.5"),
    case(lambda: defection.multinomial_interval([5, 5], level=-0.1), r"level must be", "mi-neg-l"),
    case(
        lambda: defection.compare_to_benchmark({**COUNTS, "no_reason": True}),
        r"column 'count': text or booleans",
        "bench-bool",
    ),
    case(
        lambda: defection.compare_to_benchmark({**COUNTS, "no_reason": "3"}),
        r"column 'count': text",
        "bench-text",
    ),
    case(
        lambda: defection.compare_to_benchmark({**COUNTS, "no_reason": 2.5}),
        r"column 'count': counts that are not non-negative integers",
        "bench-fraction",
    ),
    case(
        lambda: defection.compare_to_benchmark({**COUNTS, "no_reason": np.nan}),
        r"column 'count': NaN",
        "bench-nan",
    ),
    case(lambda: defection.compare_to_benchmark(COUNTS, level=1.5), r"level must be", "b-level"),
    case(
        lambda: defection.compare_to_benchmark(COUNTS, benchmark=defection.BENCHMARK.astype(str)),
        r"column 'benchmark': text",
        "bench-shares-text",
    ),
    case(
        lambda: defection.revenue_before(TX, END, days=0), r"days must be a whole number at l", "d0"
    ),
    case(lambda: defection.revenue_before(TX, END, days=2.5), r"days must be a whole", "d-frac"),
    case(lambda: defection.revenue_before(TX, END, days=True), r"days must be .*boolean", "d-b"),
    case(lambda: defection.revenue_before(TX, END, days="365"), r"days must be .*text", "d-text"),
    case(
        lambda: defection.revenue_before(TX, END.set_axis([1, 1])),
        r"column 'dates': duplicate customer ids",
        "dates-duplicates",
    ),
    case(
        lambda: defection.revenue_before(TX, END.set_axis([1, "2"])),
        r"column 'dates': customer ids of mixed types",
        "dates-mixed",
    ),
    case(
        lambda: defection.value_at_risk(CATEGORIES, LOST.astype(str)),
        r"column 'value': text",
        "var-text",
    ),
    case(
        lambda: defection.value_at_risk(CATEGORIES, LOST.mask(LOST > 60)),
        r"column 'value': NaN or infinite values in 1 row",
        "var-nan",
    ),
    case(
        lambda: defection.value_at_risk(CATEGORIES, LOST > 40),
        r"column 'value': booleans",
        "var-bool",
    ),
    case(
        lambda: defection.value_at_risk(CATEGORIES, pd.concat([LOST, LOST.iloc[:1]])),
        r"column 'value': duplicate customer ids",
        "var-duplicate-value-ids",
    ),
    case(
        lambda: defection.value_at_risk(CATEGORIES.set_axis(MIXED_IDS), LOST.set_axis(MIXED_IDS)),
        r"column 'categories': customer ids of mixed types",
        "var-mixed-ids",
    ),
    case(
        lambda: defection.value_at_risk(CATEGORIES, LOST.iloc[:3]),
        r"column 'value': no value for these customers in 1 row",
        "var-missing-customer",
    ),
    case(
        lambda: defection.leak_rate(LEAVERS, end="2022-12-31", ceiling=1.5),
        r"ceiling must be a number in \[0, 1\]",
        "leak-ceiling",
    ),
    case(
        lambda: defection.leak_rate(LEAVERS, end="2022-12-31", level=0),
        r"level must be",
        "leak-level",
    ),
    case(
        lambda: defection.price_reason_cut(_var(), "competition", 1.5, defectors_per_year=10),
        r"cut must be a number in \[0, 1\]",
        "cut>1",
    ),
    case(
        lambda: defection.price_reason_cut(_var(), "competition", -0.1, defectors_per_year=10),
        r"cut must be",
        "cut<0",
    ),
    case(
        lambda: defection.price_reason_cut(_var(), "competition", "50%", defectors_per_year=10),
        r"cut must be a number, got the text",
        "cut-text",
    ),
    case(
        lambda: defection.price_reason_cut(_var(), "competition", True, defectors_per_year=10),
        r"cut must be .*boolean",
        "cut-bool",
    ),
    case(
        lambda: defection.price_reason_cut(_var(), "competition", 0.5, defectors_per_year=-10),
        r"defectors_per_year must be a number at least 0",
        "defectors<0",
    ),
    case(
        lambda: defection.price_reason_cut(_var(), "competition", 0.5, defectors_per_year=np.nan),
        r"defectors_per_year must be a finite",
        "defectors-nan",
    ),
    case(
        lambda: defection.price_reason_cut(
            _var(), "competition", 0.5, defectors_per_year=10, leak_rate=12
        ),
        r"leak_rate must be a number in \[0, 1\]",
        "leak-percent",
    ),
]


@pytest.mark.parametrize(("call", "match"), DEFECTION_CASES)
def test_defection(call, match):
    _raises(call, match)


# --------------------------------------------------------------------------------------------
# complaints and concentration (churnlab.complaints, churnlab.concentration)
# --------------------------------------------------------------------------------------------
COMPLAINTS = pd.DataFrame({"customer_id": [1, 1, 2, 3], "resolved": [True, False, True, True]})
REVENUE = pd.Series([1.0, 2.0, 3.0, 4.0, 10.0], index=[1, 2, 3, 4, 5], name="revenue")


def _iceberg(**kwargs):
    return complaints.complaint_iceberg(COMPLAINTS, **kwargs)


def _concentration(values=REVENUE, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # key-account warnings are not the point
        return concentration.concentration(values, **kwargs)


COMPLAINT_AND_CONCENTRATION_CASES = [
    case(
        lambda: _iceberg(unhappy_per_complaint=0.5),
        r"unhappy_per_complaint must be a number at least 1",
        "unhappy<1",
    ),
    case(
        lambda: _iceberg(unhappy_per_complaint=True),
        r"unhappy_per_complaint .*boolean",
        "unhappy-b",
    ),
    case(
        lambda: _iceberg(unhappy_per_complaint="10"), r"unhappy_per_complaint .*text", "unhappy-t"
    ),
    case(
        lambda: _iceberg(told_by_dissatisfied=-10),
        r"told_by_dissatisfied must be a number at least 0",
        "told<0",
    ),
    case(
        lambda: _iceberg(told_by_resolved=np.nan), r"told_by_resolved must be a finite", "told-nan"
    ),
    case(
        lambda: _iceberg(told_by_resolved=np.inf), r"told_by_resolved must be a finite", "told-inf"
    ),
    case(
        lambda: complaints.complaint_iceberg(COMPLAINTS.assign(customer_id=MIXED_IDS)),
        r"column 'customer_id': customer ids of mixed types",
        "iceberg-mixed-ids",
    ),
    case(
        lambda: complaints.complaint_iceberg(COMPLAINTS.assign(customer_id=[1, None, 2, 3])),
        r"column 'customer_id': missing customer ids",
        "iceberg-nan-ids",
    ),
    case(
        lambda: complaints.complaint_iceberg(COMPLAINTS.assign(resolved=["yes", "no", "yes", "y"])),
        r"column 'resolved': values that are not True/False",
        "iceberg-resolved-text",
    ),
    case(lambda: _concentration(REVENUE.astype(str)), r"column 'revenue': text", "conc-text"),
    case(lambda: _concentration(REVENUE > 2), r"column 'revenue': booleans", "conc-bool"),
    case(
        lambda: _concentration(REVENUE.replace(3.0, np.inf)), r"column 'revenue': NaN or inf", "inf"
    ),
    case(
        lambda: _concentration(REVENUE.replace(3.0, -3.0)),
        r"column 'revenue': negative values",
        "neg",
    ),
    case(lambda: _concentration(REVENUE.iloc[:0]), r"values is empty", "conc-empty"),
    case(
        lambda: _concentration(REVENUE.set_axis([1, 2, 3, 3, 5])),
        r"column 'values': duplicate customer ids in 2 row",
        "conc-duplicate-ids",
    ),
    case(
        lambda: _concentration(REVENUE.set_axis([1, 2, 3, "4", 5])),
        r"column 'values': customer ids of mixed types",
        "conc-mixed-ids",
    ),
    case(
        lambda: _concentration(top_fraction=0), r"top_fraction must be a number in \(0, 1\]", "top0"
    ),
    case(lambda: _concentration(top_fraction=1.5), r"top_fraction must be", "top1.5"),
    case(lambda: _concentration(top_fraction=True), r"top_fraction .*boolean", "top-bool"),
    case(lambda: _concentration(key_account_threshold="0.1"), r"key_account_threshold .*text", "k"),
    case(
        lambda: _concentration(key_account_threshold=-0.1), r"key_account_threshold must be", "k<0"
    ),
]


@pytest.mark.parametrize(("call", "match"), COMPLAINT_AND_CONCENTRATION_CASES)
def test_complaints_and_concentration(call, match):
    _raises(call, match)


# --------------------------------------------------------------------------------------------
# churn evaluation and campaign profit (churnlab.churn.evaluate, churnlab.churn.profit)
# --------------------------------------------------------------------------------------------
X_SMALL = pd.DataFrame({"signal": np.linspace(-1, 1, 40), "noise": np.cos(np.arange(40))})
Y_SMALL = pd.Series((X_SMALL["signal"] + 0.3 * X_SMALL["noise"] > 0).astype(int))


def _fitted_logistic():
    return ChurnModel(method="logistic", calibration=None).fit(X_SMALL, Y_SMALL)


CHURN_EVALUATION_CASES = [
    case(
        lambda: evaluate(["0", "1", "0", "1", "1", "0"], SCORE), r"column 'y_true': text", "y-text"
    ),
    case(lambda: evaluate(["stay", "churn"] * 3, SCORE), r"column 'y_true': text", "y-words"),
    case(
        lambda: evaluate([0, 1, 0, 1, 1, np.nan], SCORE), r"column 'y_true': labels other", "y-nan"
    ),
    case(lambda: evaluate([0, 1, 0, 1, 1, 2], SCORE), r"column 'y_true': labels other", "y-2"),
    case(lambda: evaluate([1] * 6, SCORE), r"y_true holds one class only", "y-one-class"),
    case(lambda: evaluate([], []), r"y_true is empty", "y-empty"),
    case(lambda: evaluate(Y, ["0.1", 0.8, 0.3, 0.6, 0.9, 0.2]), r"column 'score': text", "s-text"),
    case(lambda: evaluate(Y, [True, False] * 3), r"column 'score': text or booleans", "s-bool"),
    case(lambda: evaluate(Y, np.array([True, False] * 3)), r"column 'score': booleans", "s-bool-a"),
    case(lambda: evaluate(Y, [0.1, np.nan, 0.3, 0.6, 0.9, 0.2]), r"column 'score': NaN", "s-nan"),
    case(
        lambda: evaluate(Y, [0.1, np.inf, 0.3, 0.6, 0.9, 0.2]), r"column 'score': NaN or inf", "inf"
    ),
    case(lambda: evaluate(Y, SCORE[:5]), r"score has 5 values but y_true has 6", "s-length"),
    case(lambda: evaluate(Y, 0.5), r"score must hold one score per customer", "s-scalar"),
    case(
        lambda: evaluate(Y_IDS, SCORE_IDS.set_axis([11, 12, 13, 14, 15, 99])),
        r"score is indexed by other customers than y_true: ids in y_true but not in score: "
        r"1 id\(s\): \[16\]; ids in score but not in y_true: 1 id\(s\): \[99\]",
        "s-other-customers",
    ),
    case(
        lambda: evaluate(Y_IDS, SCORE_IDS.set_axis([11, 12, 13, 14, 16, 16])),
        r"column 'score index': duplicate customer ids in 2 row",
        "s-repeated-ids",
    ),
    case(
        lambda: evaluate(Y_IDS.set_axis([11, 12, 13, 14, 15, "16"]), SCORE_IDS),
        r"column 'y_true index': customer ids of mixed types",
        "mixed-ids",
    ),
    case(
        lambda: evaluate(Y, SCORE, n_bins=0), r"n_bins must be a whole number at least 1", "bins0"
    ),
    case(lambda: evaluate(Y, SCORE, n_bins=2.5), r"n_bins must be a whole number", "bins-frac"),
    case(lambda: evaluate(Y, SCORE, n_bins=True), r"n_bins must be .*boolean", "bins-bool"),
    case(
        lambda: calibration_table(Y, [0.1, 0.8, 1.3, 0.6, 0.9, 0.2]),
        r"column 'proba': probabilities that do not lie within \[0, 1\] in 1 row",
        "cal-proba",
    ),
    case(lambda: calibration_table(Y, SCORE, level=1), r"level must be", "cal-level-1"),
    case(lambda: calibration_table(Y, SCORE, level=0), r"level must be", "cal-level-0"),
    case(lambda: calibration_table(Y, SCORE, n_bins="10"), r"n_bins must be .*text", "cal-bins"),
    case(lambda: gains_table(Y, SCORE, n_groups=0), r"n_groups must be a whole number", "g0"),
    case(lambda: gains_table(Y, SCORE, n_groups=2.5), r"n_groups must be a whole number", "g-f"),
    case(lambda: gains_curve(Y, ["a"] * 6), r"column 'score': text", "gains-text"),
    case(lambda: roc_convex_hull(Y, [None] * 6), r"column 'score': NaN", "hull-none"),
    case(
        lambda: bootstrap_metrics(Y, {"m": SCORE}, n_boot=1),
        r"n_boot must be a whole number at least 2",
        "b1",
    ),
    case(lambda: bootstrap_metrics(Y, {"m": SCORE}, n_boot=10.5), r"n_boot must be a whole", "bf"),
    case(lambda: bootstrap_metrics(Y, {"m": SCORE}, n_boot=True), r"n_boot .*boolean", "bb"),
    case(
        lambda: bootstrap_metrics(Y, {"m": SCORE}, seed=-1),
        r"seed must be a whole number at least 0",
        "seed",
    ),
    case(lambda: bootstrap_metrics(Y, {"m": SCORE}, level=1.5), r"level must be", "boot-level"),
    case(
        lambda: bootstrap_metrics(Y, {"m": ["x"] * 6}),
        r"column 'scores_by_model\['m'\]': text",
        "boot-text",
    ),
    case(
        lambda: bootstrap_metrics(Y, {"m": SCORE}, n_boot=5).confidence_interval(level=-0.1),
        r"level must be",
        "ci-level",
    ),
    case(
        lambda: permutation_importance(_fitted_logistic(), X_SMALL, Y_SMALL, n_repeats=0),
        r"n_repeats must be a whole number at least 1",
        "pi-repeats",
    ),
    case(
        lambda: permutation_importance(_fitted_logistic(), X_SMALL, Y_SMALL, max_samples=1.5),
        r"max_samples must be a number in \(0, 1\]",
        "pi-share",
    ),
    case(
        lambda: permutation_importance(_fitted_logistic(), X_SMALL, Y_SMALL, max_samples=0),
        r"max_samples must be a whole number at least 1",
        "pi-count",
    ),
    case(
        lambda: permutation_importance(
            _fitted_logistic(), X_SMALL, Y_SMALL.set_axis(X_SMALL.index + 1)
        ),
        r"y is indexed by other customers than X",
        "pi-other-customers",
    ),
]


@pytest.mark.parametrize(("call", "match"), CHURN_EVALUATION_CASES)
def test_churn_evaluation(call, match):
    _raises(call, match)


PROFIT_CASES = [
    case(lambda: empc(Y, SCORE, clv=True), r"clv must be a number, got the boolean", "clv-bool"),
    case(lambda: empc(Y, SCORE, clv="200"), r"clv must be a number, got the text", "clv-text"),
    case(lambda: empc(Y, SCORE, clv=np.nan), r"clv must be a finite", "clv-nan"),
    case(lambda: empc(Y, SCORE, clv=-200), r"clv must be a number at least 0", "clv-neg"),
    case(lambda: empc(Y, SCORE, clv=5.0), r"clv=5.0 must exceed the incentive", "clv<incentive"),
    case(lambda: empc(Y, SCORE, incentive=-1), r"incentive must be a number at least 0", "inc<0"),
    case(lambda: empc(Y, SCORE, contact="1"), r"contact must be a number, got the text", "contact"),
    case(lambda: empc(Y, SCORE, alpha=0), r"alpha must be a number above 0", "alpha0"),
    case(lambda: empc(Y, SCORE, beta=-14), r"beta must be a number above 0", "beta<0"),
    case(lambda: empc(Y, SCORE, clv=[200.0] * 6), r"clv must be a single number here", "empc-arr"),
    case(
        lambda: profit_curve(Y, SCORE, accept_rate=1.5),
        r"accept_rate must be a number in \[0, 1\]",
        "ar>1",
    ),
    case(lambda: profit_curve(Y, SCORE, accept_rate=-0.1), r"accept_rate must be", "ar<0"),
    case(lambda: profit_curve(Y, SCORE, accept_rate=True), r"accept_rate .*boolean", "ar-bool"),
    case(
        lambda: profit_curve(Y, SCORE, clv=[100, 200, "300", 100, 100, 100]),
        r"column 'clv': text or booleans .* 1 row",
        "clv-array-text",
    ),
    case(
        lambda: profit_curve(Y, SCORE, clv=[100, 200, -300, 100, 100, 100]),
        r"column 'clv': negative lifetime values in 1 row",
        "clv-array-neg",
    ),
    case(
        lambda: profit_curve(Y, SCORE, clv=[100, np.nan, 300, 100, 100, 100]),
        r"column 'clv': NaN or infinite",
        "clv-array-nan",
    ),
    case(
        lambda: profit_curve(Y, SCORE, clv=[1.0, 2.0]),
        r"clv has 2 values for 6 customers",
        "clv-len",
    ),
    case(
        lambda: mpc(Y_IDS, SCORE_IDS, clv=SCORE_IDS.set_axis([11, 12, 13, 14, 15, 17]) * 100),
        r"clv is indexed by other customers than y_true",
        "clv-other-customers",
    ),
    case(lambda: mpc(Y, SCORE, incentive=np.inf), r"incentive must be a finite", "mpc-inc"),
    case(
        lambda: expected_gain([0.5, 1.2], clv=100.0),
        r"column 'churn_probability': values outside \[0, 1\]",
        "gain-prob",
    ),
    case(lambda: expected_gain(["0.5"], clv=100.0), r"column 'churn_probability': text", "gain-t"),
    case(
        lambda: expected_gain([True], clv=100.0), r"column 'churn_probability': text or b", "gain-b"
    ),
    case(lambda: expected_gain([0.5], clv=100.0, accept_rate=2), r"accept_rate must be", "gain-ar"),
    case(
        lambda: expected_gain(SCORE_IDS, clv=(SCORE_IDS * 100).set_axis(range(6))),
        r"clv is indexed by other customers than churn_probability",
        "gain-other-customers",
    ),
]


@pytest.mark.parametrize(("call", "match"), PROFIT_CASES)
def test_profit(call, match):
    _raises(call, match)


# --------------------------------------------------------------------------------------------
# the churn model (churnlab.churn.ChurnModel)
# --------------------------------------------------------------------------------------------
CHURN_MODEL_CASES = [
    case(
        lambda: ChurnModel(learning_rate=True).fit(X_SMALL, Y_SMALL),
        r"learning_rate must be a number, got the boolean",
        "lr-bool",
    ),
    case(
        lambda: ChurnModel(learning_rate=0).fit(X_SMALL, Y_SMALL),
        r"learning_rate must be a number above 0",
        "lr0",
    ),
    case(
        lambda: ChurnModel(C="1").fit(X_SMALL, Y_SMALL),
        r"C must be a number, got the text",
        "C-text",
    ),
    case(lambda: ChurnModel(C=np.inf).fit(X_SMALL, Y_SMALL), r"C must be a finite", "C-inf"),
    case(
        lambda: ChurnModel(n_estimators=2.5).fit(X_SMALL, Y_SMALL),
        r"n_estimators must be a whole number",
        "n-frac",
    ),
    case(
        lambda: ChurnModel(cv=True).fit(X_SMALL, Y_SMALL),
        r"cv must be a whole number, got the boolean",
        "cv-bool",
    ),
    case(
        lambda: ChurnModel(cv=1).fit(X_SMALL, Y_SMALL),
        r"cv must be a whole number at least 2",
        "cv1",
    ),
    case(
        lambda: ChurnModel(l2_regularization=np.nan).fit(X_SMALL, Y_SMALL),
        r"l2_regularization must be a finite",
        "l2",
    ),
    case(
        lambda: ChurnModel(min_samples_leaf=-3).fit(X_SMALL, Y_SMALL),
        r"min_samples_leaf must be a whole number at least 1",
        "leaf",
    ),
    case(
        lambda: ChurnModel(max_leaf_nodes=1).fit(X_SMALL, Y_SMALL),
        r"max_leaf_nodes must be a whole number at least 2",
        "nodes",
    ),
    case(
        lambda: ChurnModel(n_threads=0).fit(X_SMALL, Y_SMALL),
        r"n_threads must be a whole number at least 1",
        "threads",
    ),
    case(
        lambda: ChurnModel(calibration=None).fit(X_SMALL, Y_SMALL.set_axis(X_SMALL.index + 5)),
        r"y is indexed by other customers than X: ids in X but not in y: 5 id\(s\): "
        r"\[0, 1, 2, 3, 4\]",
        "y-other-customers",
    ),
    case(
        lambda: ChurnModel(calibration=None).fit(
            X_SMALL, Y_SMALL.set_axis([0, *range(39)]).iloc[::-1]
        ),
        r"column 'y index': duplicate customer ids",
        "y-repeated-ids",
    ),
    case(
        lambda: ChurnModel(calibration=None).fit(
            X_SMALL.set_axis([*range(39), "39"]), Y_SMALL.iloc[::-1]
        ),
        r"column 'y index'|column 'X index': customer ids of mixed types",
        "X-mixed-ids",
    ),
    case(
        lambda: ChurnModel(calibration=None).fit(X_SMALL, Y_SMALL.map({0: "stay", 1: "churn"})),
        r"y holds the text labels \['churn', 'stay'\]: say which one means churned, e.g. "
        r"ChurnModel\(positive_label='churn'\)",
        "text-labels",
    ),
    case(
        lambda: ChurnModel(calibration=None, positive_label=2).fit(X_SMALL, Y_SMALL),
        r"positive_label=2 is not one of the labels in y: \[0, 1\]",
        "positive-label-missing",
    ),
]


@pytest.mark.parametrize(("call", "match"), CHURN_MODEL_CASES)
def test_churn_model(call, match):
    _raises(call, match)


# --------------------------------------------------------------------------------------------
# lifetime value and purchase-model diagnostics (churnlab.clv, churnlab.diagnostics)
# --------------------------------------------------------------------------------------------
def _clv(**kwargs):
    arguments = {"time_unit": "W", "horizon": 52, "discount_rate": 0.1, **kwargs}
    return customer_lifetime_value(None, None, RFM, **arguments)


CLV_CASES = [
    case(lambda: _clv(horizon=0), r"horizon must be a number above 0", "horizon0"),
    case(lambda: _clv(horizon=-52), r"horizon must be a number above 0", "horizon<0"),
    case(lambda: _clv(horizon=True), r"horizon must be a number, got the boolean", "horizon-b"),
    case(lambda: _clv(horizon="52"), r"horizon must be a number, got the text", "horizon-t"),
    case(lambda: _clv(horizon=np.inf), r"horizon must be a finite", "horizon-inf"),
    case(lambda: _clv(step=0), r"step must be a number above 0", "step0"),
    case(lambda: _clv(discount_rate=-1), r"discount_rate must be a number above -1", "dr-1"),
    case(
        lambda: _clv(discount_rate="10%"), r"discount_rate must be a number, got the text", "dr-t"
    ),
    case(lambda: _clv(discount_rate=np.nan), r"discount_rate must be a finite", "dr-nan"),
    case(lambda: value_deciles(pd.Series(["1", "2"])), r"column 'value': text", "dec-text"),
    case(lambda: value_deciles(pd.Series([True, False])), r"column 'value': booleans", "dec-b"),
    case(
        lambda: value_deciles(pd.Series([1.0, np.nan], name="clv")), r"column 'clv': NaN", "dec-nan"
    ),
    case(
        lambda: value_deciles(pd.Series([1.0, -1.0]), n_groups=1),
        r"column 'value': negative",
        "neg",
    ),
    case(
        lambda: value_deciles(pd.Series([1.0, 2.0]), n_groups=0), r"n_groups must be a whole", "g0"
    ),
    case(
        lambda: value_deciles(pd.Series([1.0, 2.0]), n_groups=1.5),
        r"n_groups must be a whole",
        "gf",
    ),
    case(lambda: value_deciles(pd.Series([1.0, 2.0]), n_groups=True), r"n_groups .*boolean", "gb"),
    case(lambda: value_deciles(pd.Series([1.0]), n_groups=2), r"n_groups=2 groups", "too-few"),
    case(
        lambda: retention_priorities(BGNBD, RFM, pd.Series(1.0, index=RFM.index), silence=-1),
        r"silence must be a number at least 0",
        "silence<0",
    ),
    case(
        lambda: retention_priorities(BGNBD, RFM, pd.Series(1.0, index=RFM.index), silence="13"),
        r"silence must be a number, got the text",
        "silence-text",
    ),
    case(
        lambda: retention_priorities(BGNBD, RFM, pd.Series(["1", "2", "3"], index=RFM.index)),
        r"column 'clv': text",
        "priorities-clv-text",
    ),
    case(
        lambda: retention_priorities(BGNBD, RFM, pd.Series([1.0, -2.0, 3.0], index=RFM.index)),
        r"column 'clv': negative lifetime values in 1 row",
        "priorities-clv-neg",
    ),
]


@pytest.mark.parametrize(("call", "match"), CLV_CASES)
def test_clv(call, match):
    _raises(call, match)


DIAGNOSTICS_CASES = [
    case(lambda: frequency_recency_matrix(BGNBD, T=0), r"T must be a number above 0", "T0"),
    case(
        lambda: frequency_recency_matrix(BGNBD, T=True),
        r"T must be a number, got the boolean",
        "Tb",
    ),
    case(
        lambda: frequency_recency_matrix(BGNBD, T="39"), r"T must be a number, got the text", "Tt"
    ),
    case(lambda: frequency_recency_matrix(BGNBD, T=np.nan), r"T must be a finite", "T-nan"),
    case(lambda: frequency_recency_matrix(BGNBD, T=39, t=0), r"t must be a number above 0", "t0"),
    case(
        lambda: frequency_recency_matrix(BGNBD, T=39, t="1"),
        r"t must be a number, got the text",
        "tt",
    ),
    case(
        lambda: frequency_recency_matrix(BGNBD, T=39, max_frequency=2.5),
        r"max_frequency must be a whole number",
        "mf",
    ),
    case(
        lambda: probability_alive_matrix(BGNBD, T=39, max_frequency=True),
        r"max_frequency .*boolean",
        "mfb",
    ),
    case(
        lambda: probability_alive_matrix(BGNBD, T=39, recency_step=0),
        r"recency_step must be a number above 0",
        "rs0",
    ),
    case(lambda: probability_alive_matrix(BGNBD, T=-1), r"T must be a number above 0", "T<0"),
    case(
        lambda: period_transactions(BGNBD, RFM, max_frequency=0),
        r"max_frequency must be a whole number at least 1",
        "pt0",
    ),
    case(
        lambda: period_transactions(BGNBD, RFM, max_frequency="7"), r"max_frequency .*text", "pt-t"
    ),
    case(
        lambda: calibration_holdout_table(BGNBD, SPLIT.assign(frequency_holdout=["1", "0", "2"])),
        r"column 'frequency_holdout': text",
        "split-text",
    ),
    case(
        lambda: holdout_validation(BGNBD, SPLIT.assign(frequency_holdout=[1, 0.5, 2])),
        r"column 'frequency_holdout': holdout counts that are not whole numbers >= 0 in 1 row",
        "split-fraction",
    ),
    case(
        lambda: holdout_validation(BGNBD, SPLIT.assign(duration_holdout=[39.0, 39.0, -1.0])),
        r"column 'duration_holdout': non-positive holdout length in 1 row",
        "split-duration",
    ),
    case(
        lambda: holdout_validation(BGNBD, SPLIT.assign(duration_holdout=[39.0, np.nan, 39.0])),
        r"column 'duration_holdout': NaN",
        "split-duration-nan",
    ),
    case(
        lambda: holdout_validation(BGNBD, SPLIT, max_frequency=3.5),
        r"max_frequency must be a whole number",
        "hv-max-frequency",
    ),
]


@pytest.mark.parametrize(("call", "match"), DIAGNOSTICS_CASES)
def test_diagnostics(call, match):
    _raises(call, match)


# --------------------------------------------------------------------------------------------
# loyalty (churnlab.loyalty: attitude, loyalty matrix, ladder, customer types)
# --------------------------------------------------------------------------------------------
ATTITUDE = pd.Series({1: 10, 2: 9, 3: 3, 4: 5}, name="attitude")
REPEAT = pd.Series({1: 8.0, 2: 1.0, 3: 6.0, 4: 0.0}, name="repeat")
RESPONSES = pd.DataFrame(
    {
        "customer_id": [1, 1, 2],
        "date": ["2024-01-01", "2024-03-01", "2024-02-01"],
        "score": [3, 9, 7],
    }
)
PURCHASES = pd.DataFrame(
    {
        "customer_id": [1, 1, 1, 2],
        "date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-01-15"]),
        "amount": 10.0,
    }
)

LOYALTY_CASES = [
    case(
        lambda: L.customer_attitude(RESPONSES.assign(customer_id=[1, "1", 2])),
        r"column 'customer_id': customer ids of mixed types",
        "attitude-mixed-ids",
    ),
    case(
        lambda: L.customer_attitude(RESPONSES.assign(customer_id=[1, None, 2])),
        r"column 'customer_id': missing customer ids",
        "attitude-nan-ids",
    ),
    case(
        lambda: L.customer_attitude(RESPONSES.assign(score=[3, True, 7])),
        r"column 'score': text or booleans",
        "attitude-bool",
    ),
    case(
        lambda: L.customer_attitude(RESPONSES.assign(score=[3, 9, 70])),
        r"column 'score': answers that are not whole numbers from 0 to 10",
        "attitude-scale",
    ),
    case(
        lambda: L.loyalty_matrix(ATTITUDE.replace(5, 11), REPEAT),
        r"column 'attitude': values outside \[0, 10\]",
        "att-11",
    ),
    case(
        lambda: L.loyalty_matrix(ATTITUDE.replace(5, -1), REPEAT),
        r"column 'attitude': values outside",
        "att-neg",
    ),
    case(
        lambda: L.loyalty_matrix(ATTITUDE.astype(str), REPEAT),
        r"column 'attitude': text",
        "att-text",
    ),
    case(
        lambda: L.loyalty_matrix(ATTITUDE > 5, REPEAT), r"column 'attitude': booleans", "att-bool"
    ),
    case(
        lambda: L.loyalty_matrix(ATTITUDE.replace(5, np.nan), REPEAT),
        r"column 'attitude': NaN",
        "att-nan",
    ),
    case(
        lambda: L.loyalty_matrix(ATTITUDE, REPEAT.replace(0.0, -1.0)),
        r"column 'repeat': values below 0",
        "rep-neg",
    ),
    case(
        lambda: L.loyalty_matrix(ATTITUDE, REPEAT.replace(0.0, np.inf)),
        r"column 'repeat': NaN or inf",
        "rep-inf",
    ),
    case(
        lambda: L.loyalty_matrix(ATTITUDE.set_axis([1, 2, 2, 4]), REPEAT),
        r"column 'attitude': duplicate customer ids",
        "att-duplicates",
    ),
    case(
        lambda: L.loyalty_matrix(ATTITUDE.set_axis([1, 2, "3", 4]), REPEAT),
        r"column 'attitude': customer ids of mixed types",
        "att-mixed-ids",
    ),
    case(
        lambda: L.loyalty_matrix(ATTITUDE, REPEAT, REPEAT.astype(str)),
        r"column 'value': text",
        "value-text",
    ),
    case(
        lambda: L.loyalty_matrix(ATTITUDE, REPEAT, attitude_threshold=90),
        r"attitude_threshold must be a number in \[0, 10\]",
        "thr",
    ),
    case(
        lambda: L.loyalty_matrix(ATTITUDE, REPEAT, attitude_threshold="9"),
        r"attitude_threshold .*text",
        "thr-t",
    ),
    case(
        lambda: L.loyalty_matrix(ATTITUDE, REPEAT, repeat_threshold=-1),
        r"repeat_threshold must be a number at least 0",
        "rthr",
    ),
    case(
        lambda: L.loyalty_matrix(ATTITUDE, REPEAT, repeat_threshold=True),
        r"repeat_threshold .*boolean",
        "rthr-b",
    ),
    case(
        lambda: L.loyalty_ladder(PURCHASES, repeat_purchases=2.5),
        r"repeat_purchases must be a whole number",
        "rp-f",
    ),
    case(
        lambda: L.loyalty_ladder(PURCHASES, repeat_purchases=1),
        r"repeat_purchases must be a whole number at least 2",
        "rp1",
    ),
    case(
        lambda: L.loyalty_ladder(PURCHASES, attachment_purchases=True),
        r"attachment_purchases .*boolean",
        "ap-b",
    ),
    case(
        lambda: L.loyalty_ladder(PURCHASES, loyal_purchases="8"), r"loyal_purchases .*text", "lp-t"
    ),
    case(
        lambda: L.loyalty_ladder(PURCHASES, loyal_purchases=3),
        r"stage rules must increase",
        "order",
    ),
    case(
        lambda: L.customer_types(PURCHASES, min_regular_purchases=2),
        r"min_regular_purchases must be a whole number at least 3",
        "mrp2",
    ),
    case(
        lambda: L.customer_types(PURCHASES, min_regular_purchases=3.5),
        r"min_regular_purchases must be a whole",
        "mrp-f",
    ),
    case(
        lambda: L.customer_types(PURCHASES, cv_threshold=0),
        r"cv_threshold must be a number above 0",
        "cv0",
    ),
    case(lambda: L.customer_types(PURCHASES, cv_threshold="0.5"), r"cv_threshold .*text", "cv-t"),
]


@pytest.mark.parametrize(("call", "match"), LOYALTY_CASES)
def test_loyalty(call, match):
    _raises(call, match)


# --------------------------------------------------------------------------------------------
# plots (churnlab.plots): the numeric arguments
# --------------------------------------------------------------------------------------------
IMPORTANCE = pd.DataFrame({"importance_mean": [0.2, 0.05], "importance_std": [0.01, 0.02]})


@pytest.fixture
def figure():
    fig, _ = plt.subplots()
    yield fig
    plt.close(fig)


PLOT_CASES = [
    case(
        lambda fig: plot_retention_priorities(pd.DataFrame(), top=0),
        r"top must be a whole number at least 1",
        "prio-top0",
    ),
    case(
        lambda fig: plot_retention_priorities(pd.DataFrame(), top=2.5),
        r"top must be a whole",
        "prio-frac",
    ),
    case(
        lambda fig: plot_retention_priorities(pd.DataFrame(), top=True),
        r"top .*boolean",
        "prio-bool",
    ),
    case(
        lambda fig: plot_permutation_importance(IMPORTANCE, top=-1),
        r"top must be a whole number at least 1",
        "imp-neg",
    ),
    case(lambda fig: plot_permutation_importance(IMPORTANCE, top="5"), r"top .*text", "imp-text"),
    case(
        lambda fig: export(fig, "x", formats=(), alt_text="A test figure.", dpi=0),
        r"dpi must be a whole number at least 1",
        "dpi0",
    ),
    case(
        lambda fig: export(fig, "x", formats=(), alt_text="A test figure.", dpi="200"),
        r"dpi .*text",
        "dpi-text",
    ),
    case(
        lambda fig: export(fig, "x", formats=(), alt_text="A test figure.", dpi=72.5),
        r"dpi must be a whole",
        "dpi-frac",
    ),
]


@pytest.mark.parametrize(("call", "match"), PLOT_CASES)
def test_plots(call, match, figure, tmp_path):
    with pytest.raises(ValueError, match=match):
        call(figure)
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------------------------
# warnings that give counts
# --------------------------------------------------------------------------------------------
def test_loyalty_matrix_warns_with_the_count_left_out():
    with pytest.warns(UserWarning, match=r"2 customer\(s\) with an attitude answer but no repeat"):
        L.loyalty_matrix(ATTITUDE, REPEAT.iloc[:2])


def test_benchmark_comparison_warns_with_the_small_expected_counts():
    with pytest.warns(UserWarning, match=r"expected counts below 5 .*\(N = 54\)"):
        defection.compare_to_benchmark(COUNTS)


def test_lifetime_value_warns_with_the_count_of_free_repeat_buyers():
    spend_model = GammaGamma()
    spend_model.params_ = pd.Series(CDNOW_GAMMA_GAMMA_PUBLISHED)[["p", "q", "v"]].astype(float)
    free = RFM.assign(monetary_value=[0.0, 0.0, 35.0])  # customer 1 repeat-bought for nothing
    with pytest.warns(UserWarning, match=r"1 repeat buyer\(s\) with zero average spend"):
        clv = customer_lifetime_value(
            BGNBD, spend_model, free, time_unit="W", horizon=52, discount_rate=0.1
        )
    assert clv.loc[1] == 0.0 and clv.loc[3] > 0
