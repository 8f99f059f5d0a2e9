"""The result contract (churnlab/results.py) kept by every result object of the package.

Each result class gets one small, real instance from its own function; the contract is then
checked the same way for all of them: ``table`` is a DataFrame, ``to_frame()`` is an
independent copy of it, and the HTML view holds the escaped title and the table. A result class
without an instance here fails the coverage test, so a new result cannot skip the contract.
"""

import html
import importlib
import pkgutil
import warnings

import numpy as np
import pandas as pd
import pytest

import churnlab
from churnlab import complaints, concentration, defection, diagnostics, economics, loyalty, nps
from churnlab.churn import bootstrap_metrics, empc, evaluate, mpc
from churnlab.contractual import ShiftedBetaGeometric, kaplan_meier
from churnlab.datasets import load_cdnow, load_retention_cohorts, simulate_retailer
from churnlab.models import CDNOW_BGNBD_PUBLISHED, BetaGeo
from churnlab.results import Result, format_number, html_result

Y = np.array([0, 1, 0, 1, 1, 0, 0, 1, 0, 0])
SCORE = np.array([0.1, 0.8, 0.3, 0.6, 0.9, 0.2, 0.4, 0.35, 0.05, 0.5])
TX = pd.DataFrame(
    {
        "customer_id": [1, 1, 1, 1, 2, 2, 3],
        "date": pd.to_datetime(
            ["2024-01-05", "2024-02-05", "2024-03-05", "2024-04-05", "2024-01-10", "2024-03-01",
             "2024-02-01"]
        ),
        "amount": [10.0, 12.0, 9.0, 11.0, 30.0, 5.0, 7.0],
    }
)  # fmt: skip


@pytest.fixture(scope="module")
def retailer():
    return simulate_retailer(1500, seed=3)


@pytest.fixture(scope="module")
def bgnbd_split():
    model = BetaGeo()
    model.params_ = pd.Series(CDNOW_BGNBD_PUBLISHED)[["r", "alpha", "a", "b"]].astype(float)
    split = churnlab.calibration_holdout_split(load_cdnow("sample"), "1997-09-30", "1998-06-30")
    return model, split


def _value_at_risk():
    cats = pd.Series(["competition", "staff_indifference", "staff_indifference", "unmapped"])
    return defection.value_at_risk(cats, pd.Series([100.0, 50.0, 30.0, 10.0]))


def _sbg_projection():
    cohorts = load_retention_cohorts()
    survivors = cohorts.loc["regular"].iloc[:8]
    return ShiftedBetaGeometric().fit(survivors).project(cohorts.loc["regular"])


# name -> function of the fixtures returning one instance
FACTORIES = {
    "NPSResult": lambda f: nps.nps([10, 9, 9, 10, 9, 7, 8, 7, 3, 6]),
    "ComplaintIceberg": lambda f: complaints.complaint_iceberg(
        pd.DataFrame({"customer_id": [1, 1, 2, 3], "resolved": [True, False, True, True]})
    ),
    "Concentration": lambda f: concentration.concentration(
        pd.Series([1.0, 2.0, 3.0, 4.0, 10.0]), key_account_threshold=0.6
    ),
    "CodedSurvey": lambda f: defection.code_exit_survey(
        pd.DataFrame({"customer_id": [1, 2], "answer": ["price", "other"], "comment": ["", ""]})
    ),
    "BenchmarkComparison": lambda f: defection.compare_to_benchmark(
        {
            "staff_indifference": 300,
            "product_dissatisfaction": 140,
            "competition": 30,
            "other_relationships": 20,
            "no_reason": 10,
        }
    ),
    "ValueAtRisk": lambda f: _value_at_risk(),
    "LeakRate": lambda f: defection.leak_rate(
        pd.DataFrame(
            {
                "signup_date": pd.to_datetime(["2021-03-01"] * 4),
                "defection_date": pd.to_datetime(["2022-05-01", None, None, None]),
            }
        ),
        end="2022-12-31",
    ),
    "ReasonCut": lambda f: defection.price_reason_cut(
        _value_at_risk(), "staff_indifference", 0.5, defectors_per_year=300
    ),
    "LoyaltyMatrix": lambda f: loyalty.loyalty_matrix(
        pd.Series({1: 10, 2: 9, 3: 4, 4: 8}), pd.Series({1: 5.0, 2: 1.0, 3: 7.0, 4: 0.5})
    ),
    "LoyaltyLadder": lambda f: loyalty.loyalty_ladder(TX),
    "CustomerTypes": lambda f: loyalty.customer_types(TX),
    "RetentionProfitEffect": lambda f: economics.retention_profit_effect(
        retention_rate=0.8, margin=100
    ),
    "ProgrammeBreakEven": lambda f: economics.programme_break_even(
        members=1000, incremental_revenue_per_member=120, margin=0.3, cost_per_member=15
    ),
    "ProgrammeEvaluation": lambda f: economics.evaluate_programme(
        f["retailer"].customers, f["retailer"].transactions, n_boot=50
    ),
    "ChurnEvaluation": lambda f: evaluate(Y, SCORE),
    "BootstrapResult": lambda f: bootstrap_metrics(Y, {"model": SCORE}, n_boot=20),
    "EMPCResult": lambda f: empc(Y, SCORE),
    "MPCResult": lambda f: mpc(Y, SCORE),
    "PeriodTransactions": lambda f: diagnostics.period_transactions(
        f["bgnbd"][0], churnlab.rfm_summary(load_cdnow("sample"), "1997-09-30")
    ),
    "HoldoutValidation": lambda f: diagnostics.holdout_validation(*f["bgnbd"]),
    "Tracking": lambda f: diagnostics.tracking(
        f["bgnbd"][0], load_cdnow("sample"), "1998-06-30", calibration_end="1997-09-30"
    ),
    "KaplanMeier": lambda f: kaplan_meier(pd.Series([100, 60, 45, 37])),
    "SurvivalProjection": lambda f: _sbg_projection(),
}


def _all_result_classes() -> set[str]:
    """Every Result subclass defined in churnlab (all modules imported)."""
    for module in pkgutil.walk_packages(churnlab.__path__, "churnlab."):
        if module.name.startswith(("churnlab.templates", "churnlab.spark")):
            continue
        importlib.import_module(module.name)
    found, todo = set(), list(Result.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("churnlab."):
            found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return found


def test_every_result_class_is_covered_here():
    assert _all_result_classes() == set(FACTORIES)


@pytest.fixture(scope="module")
def fixtures(retailer, bgnbd_split):
    return {"retailer": retailer, "bgnbd": bgnbd_split}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_result_contract(name, fixtures):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # returns and small-count warnings of the inputs
        result = FACTORIES[name](fixtures)
    assert type(result).__name__ == name and isinstance(result, Result)
    table = result.table
    assert isinstance(table, pd.DataFrame) and len(table) > 0
    frame = result.to_frame()
    pd.testing.assert_frame_equal(frame, table)
    frame["changed"] = 1  # the copy is the caller's to change
    assert "changed" not in result.table.columns
    page = result._repr_html_()
    assert page.startswith(f"<p><b>{html.escape(result._html_title())}</b></p>")
    assert "<table" in page and page.count("</table>") >= 1


def test_html_escapes_titles_notes_and_cells():
    page = html_result(
        "<b>A & B</b>", pd.DataFrame({"x": ["<script>"]}, index=["r&d"]), ["n < 2", "k > 1"]
    )
    assert page.startswith("<p><b>&lt;b&gt;A &amp; B&lt;/b&gt;</b></p><p>n &lt; 2</p>")
    assert "<p>k &gt; 1</p>" in page and "&lt;script&gt;" in page and "r&amp;d" in page
    assert "<script>" not in page


def test_a_title_from_user_input_is_escaped():
    cats = pd.Series(["competition", "no_reason"], index=[1, 2])
    var = defection.value_at_risk(cats, pd.Series([1.0, 2.0], index=[1, 2], name="<margin>"))
    assert "Lost customers and lost &lt;margin&gt; by reason" in var._repr_html_()


def test_numbers_show_four_significant_digits_without_exponents_from_1000():
    assert [format_number(v) for v in (0.123456, 12.3456, 999.94, 1234.5, 2.5e6)] == [
        "0.1235",
        "12.35",
        "999.9",
        "1,234",
        "2,500,000",
    ]
    assert format_number(1.5e-5) == "1.5e-05" and format_number(np.nan) == "nan"


def test_a_result_without_a_table_is_refused():
    with pytest.raises(TypeError, match="must define `table`"):

        class NoTable(Result):
            pass


def test_concentration_rows_do_not_change_with_the_argument():
    values = pd.Series(np.arange(1.0, 101.0))
    tables = {f: concentration.concentration(values, top_fraction=f).table for f in (0.1, 0.2)}
    assert (
        tables[0.1].index.tolist() == tables[0.2].index.tolist() == list(concentration.TABLE_ROWS)
    )
    # values 1..100 (total 5,050): the top 10 hold 955 = 0.189, the top 20 hold 1,810 = 0.358
    assert tables[0.1].loc["share of top fraction", "value"] == pytest.approx(955 / 5050)
    assert tables[0.2].loc["share of top fraction", "value"] == pytest.approx(1810 / 5050)
    assert tables[0.1].loc["share of top fraction", "customer_share"] == 0.1
    # the 80/20 rule of thumb applies to the top 20% only
    assert np.isnan(tables[0.1].loc["share of top fraction", "rule_of_thumb"])
    assert tables[0.2].loc["share of top fraction", "rule_of_thumb"] == 0.8
    assert tables[0.2].loc["share of top 5 customers", "customer_share"] == 0.05


def test_programme_intervals_at_any_level_match_a_run_at_that_level(retailer):
    # Same seed, same replicates: intervals recomputed at 90% from a 95% evaluation are the
    # 90% evaluation's own intervals (computed when it was built).
    kw = {"n_boot": 60, "seed": 7}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        at95 = economics.evaluate_programme(retailer.customers, retailer.transactions, **kw)
        at90 = economics.evaluate_programme(
            retailer.customers, retailer.transactions, level=0.9, **kw
        )
    pd.testing.assert_frame_equal(
        at95.confidence_interval(0.9), at90.table[["ci_lower", "ci_upper"]]
    )
    pd.testing.assert_frame_equal(at95.confidence_interval(), at95.table[["ci_lower", "ci_upper"]])
    narrow = at95.confidence_interval(0.5)
    assert (narrow["ci_lower"] >= at95.table["ci_lower"]).all()
    assert (narrow["ci_upper"] <= at95.table["ci_upper"]).all()
    assert at95.replicates.shape == (60, 4)
    with pytest.raises(ValueError, match="level"):
        at95.confidence_interval(1.5)


def test_churn_plots_take_evaluation_results_not_dicts():
    from churnlab.plots.churn import plot_roc

    result = evaluate(Y, SCORE)
    assert plot_roc({"model": result}).get_legend_handles_labels()[1][0].startswith("model")
    as_dict = {field: result[field] for field in result.__dataclass_fields__}
    with pytest.raises(ValueError, match="evaluate"):
        plot_roc(as_dict)
