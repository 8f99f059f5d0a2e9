"""Churn metrics, gains, calibration, bootstrap and out-of-time splits."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from churnlab.churn import (
    ChurnModel,
    bootstrap_metrics,
    calibration_table,
    evaluate,
    gains_curve,
    gains_table,
    make_churn_dataset,
    out_of_time_split,
    permutation_importance,
)
from churnlab.churn.evaluate import ChurnEvaluation, _auc, _average_precision
from churnlab.churn.ranking import group_sums, ranked_groups
from churnlab.datasets import load_cdnow


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(3)
    y = rng.binomial(1, 0.35, 2000)
    logit = -0.6 + 1.2 * y + rng.normal(0, 1, 2000)
    p = np.round(1 / (1 + np.exp(-logit)), 2)  # rounding creates ties
    return y, p


def test_metrics_agree_with_scikit_learn(scored):
    # ROC AUC, average precision, Brier score and log loss are the textbook definitions,
    # as implemented in scikit-learn (ties included).
    y, p = scored
    r = evaluate(y, p)
    assert r.roc_auc == pytest.approx(roc_auc_score(y, p), rel=1e-12)
    assert r.pr_auc == pytest.approx(average_precision_score(y, p), rel=1e-12)
    assert r.brier == pytest.approx(brier_score_loss(y, p), rel=1e-12)
    assert r.log_loss == pytest.approx(log_loss(y, p), rel=1e-9)
    assert r.churn_rate == pytest.approx(y.mean())


def test_evaluate_returns_a_result(scored):
    # The scalar metrics are fields, one row of `table`; `result["name"]` reads a field as the
    # dict evaluate() used to return did.
    y, p = scored
    r = evaluate(y, p)
    assert isinstance(r, ChurnEvaluation)
    assert list(r.table.columns) == [
        "n",
        "churn_rate",
        "roc_auc",
        "pr_auc",
        "top_decile_lift",
        "brier",
        "log_loss",
    ]
    assert r.table.loc["score", "roc_auc"] == r.roc_auc == r["roc_auc"]
    assert r["gains"] is r.gains
    with pytest.raises(KeyError):
        r["auc"]
    pd.testing.assert_frame_equal(r.to_frame(), r.table)
    assert "ROC AUC" in r._repr_html_()


def test_calibration_intervals_are_wilson_intervals(scored):
    # scipy's Wilson interval (stats.binomtest(...).proportion_ci) for each bin's churners.
    from scipy import stats

    y, p = scored
    table = calibration_table(y, p, n_bins=4, level=0.9)
    for _, row in table.iterrows():
        k, n = round(row["observed_rate"] * row["n"]), int(row["n"])
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.9, method="wilson")
        assert row["ci_lower"] == pytest.approx(ci.low, rel=1e-10)
        assert row["ci_upper"] == pytest.approx(ci.high, rel=1e-10)


def test_weighted_metrics_agree_with_scikit_learn(scored):
    # The bootstrap's weighted counts give scikit-learn's weighted AUC and AP.
    y, p = scored
    w = np.random.default_rng(0).integers(0, 4, len(y)).astype(float)
    pos, neg = group_sums(y.astype(float), w, *ranked_groups(p))
    assert _auc(pos, neg) == pytest.approx(roc_auc_score(y, p, sample_weight=w), rel=1e-12)
    assert _average_precision(pos, neg) == pytest.approx(
        average_precision_score(y, p, sample_weight=w), rel=1e-12
    )


def test_top_decile_lift_hand_computed():
    # 20 customers, 5 churners; the two highest scores are one churner and one non-churner:
    # churn rate 0.5 in the top 10% over 0.25 overall = lift 2.
    y = np.zeros(20, dtype=int)
    y[[0, 5, 6, 7, 8]] = 1
    score = np.linspace(1, 0, 20)  # customer 0 first, customer 1 second (non-churner)
    assert evaluate(y, score).top_decile_lift == pytest.approx(2.0)


def test_ties_count_as_random_order():
    # A constant score cannot rank: AUC 0.5, lift 1, gains on the diagonal.
    y = np.r_[np.ones(30), np.zeros(70)]
    r = evaluate(y, np.full(100, 0.3))
    assert r.roc_auc == 0.5 and r.top_decile_lift == pytest.approx(1.0)
    np.testing.assert_allclose(r.gains["gain"], r.gains["fraction_targeted"])
    table = gains_table(y, np.full(100, 0.3))
    np.testing.assert_allclose(table["lift"], 1.0)


def test_gains_table_hand_computed():
    # Scores rank the 4 churners of 10 customers at positions 1, 2, 4, 9.
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0, 1, 0])
    table = gains_table(y, np.arange(10, 0, -1), n_groups=5)
    # pairs (1,2), (3,4), (5,6), (7,8), (9,10) hold 2, 1, 0, 0, 1 churners; rate 0.4 overall
    np.testing.assert_allclose(table["churners"], [2, 1, 0, 0, 1])
    np.testing.assert_allclose(table["cumulative_gain"], [0.5, 0.75, 0.75, 0.75, 1.0])
    np.testing.assert_allclose(table["lift"], [2.5, 1.25, 0, 0, 1.25])
    np.testing.assert_allclose(table["cumulative_lift"].iloc[-1], 1.0)


def test_gains_curve_ends(scored):
    y, p = scored
    curve = gains_curve(y, p)
    assert curve["gain"].iloc[0] == 0 and curve["gain"].iloc[-1] == pytest.approx(1.0)
    assert curve["fraction_targeted"].is_monotonic_increasing


def test_calibration_table(scored):
    y, p = scored
    table = calibration_table(y, p, n_bins=5)
    assert table["n"].sum() == len(y)
    # every bin's observed rate is the mean label of its members: check the pooled mean
    assert (table["observed_rate"] * table["n"]).sum() == pytest.approx(y.sum())
    assert (table["mean_predicted"] * table["n"]).sum() == pytest.approx(p.sum())
    assert (table["ci_lower"] <= table["observed_rate"]).all()
    assert (table["observed_rate"] <= table["ci_upper"]).all()


def test_non_probability_scores_get_ranking_metrics_only(scored):
    y, p = scored
    r = evaluate(y, 10 * p - 3)
    assert r.roc_auc == pytest.approx(roc_auc_score(y, p))
    assert np.isnan(r.brier) and np.isnan(r.log_loss) and r.calibration is None
    with pytest.raises(ValueError, match="within"):
        calibration_table(y, 10 * p)


def test_bootstrap_intervals(scored):
    # Percentile intervals cover the estimate; the bootstrap standard error of the AUC is
    # close to the Hanley & McNeil (1982) approximation; the same seed repeats exactly.
    y, p = scored
    noise = np.random.default_rng(1).random(len(y))
    result = bootstrap_metrics(y, {"model": p, "noise": noise}, n_boot=300, seed=4)
    again = bootstrap_metrics(y, {"model": p, "noise": noise}, n_boot=300, seed=4)
    np.testing.assert_array_equal(result.samples, again.samples)
    table = result.table
    assert (table["ci_lower"] <= table["estimate"]).all()
    assert (table["estimate"] <= table["ci_upper"]).all()
    auc = roc_auc_score(y, p)
    n1, n0 = y.sum(), len(y) - y.sum()
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    hanley = np.sqrt(
        (auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n0 - 1) * (q2 - auc**2)) / (n1 * n0)
    )
    assert table.loc[("model", "roc_auc"), "std_err"] == pytest.approx(hanley, rel=0.15)
    assert table.loc[("model", "roc_auc"), "estimate"] == pytest.approx(auc)
    assert result.reference == "model"
    diff = result.differences
    assert diff.loc[("model", "roc_auc"), "estimate"] == 0
    assert diff.loc[("noise", "roc_auc"), "ci_upper"] < 0
    wide = result.confidence_interval(0.99)
    assert (wide["ci_upper"] >= table["ci_upper"]).all()
    assert "Paired bootstrap" in result._repr_html_()


def test_bootstrap_bad_input(scored):
    y, p = scored
    with pytest.raises(ValueError, match="cannot be bootstrapped"):
        bootstrap_metrics(y, {"a": p}, metrics=("brier",))
    with pytest.raises(ValueError, match="reference="):
        bootstrap_metrics(y, {"a": p}, reference="b")
    with pytest.raises(ValueError, match="has 3 values"):
        bootstrap_metrics(y, {"a": p[:3]})


@pytest.mark.parametrize(
    ("y", "score", "match"),
    [
        (np.ones(5), np.arange(5.0), "y_true holds one class only"),
        ([0, 1, 2], [0.1, 0.2, 0.3], "labels other than 0 and 1"),
        ([0, 1, 1], [0.1, np.nan, 0.3], "NaN or infinite"),
        ([0, 1, 1], [0.1, 0.3], "has 2 values"),
    ],
)
def test_evaluate_bad_input(y, score, match):
    with pytest.raises(ValueError, match=match):
        evaluate(y, score)


def test_permutation_importance_finds_the_signal():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"noise": rng.normal(size=600), "signal": rng.normal(size=600)})
    y = (X["signal"] + rng.normal(0, 0.7, 600) > 0).astype(int)
    model = ChurnModel(method="logistic", calibration=None).fit(X, y)
    table = permutation_importance(model, X, y, n_repeats=3)
    assert table.index[0] == "signal"
    assert table.loc["signal", "importance_mean"] > 0.2
    assert abs(table.loc["noise", "importance_mean"]) < 0.02


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow("sample")


def test_out_of_time_split_is_two_snapshots(cdnow):
    X_tr, y_tr, X_te, y_te = out_of_time_split(
        cdnow, "1997-03-31", "1997-09-30", "26W", bgnbd=False
    )
    X_a, y_a = make_churn_dataset(cdnow, "1997-03-31", "26W", bgnbd=False)
    X_b, y_b = make_churn_dataset(cdnow, "1997-09-30", "26W", bgnbd=False)
    pd.testing.assert_frame_equal(X_tr, X_a)
    pd.testing.assert_series_equal(y_te, y_b)
    assert X_tr.attrs["label_end"] <= X_te.attrs["cutoff"]


def test_out_of_time_split_refuses_overlapping_labels(cdnow):
    # Training labels to 1998-03-30 run past the test cutoff 1997-09-30: an error unless
    # the caller accepts it; the message says how far back train_cutoff must move
    # (1997-09-30 minus 273 days).
    with pytest.raises(ValueError, match="1996-12-31 or earlier"):
        out_of_time_split(cdnow, "1997-06-30", "1997-09-30", "39W", bgnbd=False)
    X_tr, *_ = out_of_time_split(
        cdnow, "1997-06-30", "1997-09-30", "39W", bgnbd=False, label_overlap="allow"
    )
    assert X_tr.attrs["label_end"] == "1998-03-30"
    with pytest.raises(ValueError, match="must be before test_cutoff"):
        out_of_time_split(cdnow, "1997-09-30", "1997-06-30", "13W", bgnbd=False)
    with pytest.raises(ValueError, match="label_overlap="):
        out_of_time_split(cdnow, "1997-03-31", "1997-09-30", "13W", label_overlap="maybe")


def test_cdnow_master_out_of_time_target():
    # The notebook's set-up (notebooks/03): train at 1997-06-30, test at 1997-09-30, 39-week
    # horizon, CDNOW master. The project's target (not a measured value): the model reaches
    # ROC AUC >= 0.77 out of time, and ranks churners better than the time since the last
    # purchase alone, the simplest churn score. Both AUCs are scikit-learn's.
    tx = load_cdnow("master")
    X_tr, y_tr, X_te, y_te = out_of_time_split(
        tx, "1997-06-30", "1997-09-30", "39W", quantity_col="quantity", label_overlap="allow"
    )
    model = ChurnModel(n_threads=1).fit(X_tr, y_tr)
    proba = model.predict_proba(X_te)[:, 1]
    auc = roc_auc_score(y_te, proba)
    assert evaluate(y_te, proba).roc_auc == pytest.approx(auc, rel=1e-12)
    assert auc >= 0.77
    assert auc > roc_auc_score(y_te, X_te["time_since_last_purchase"]) + 0.01


def test_scores_are_matched_to_labels_by_customer_id():
    # labels 1, 0, 1, 0 with scores 0.9, 0.8, 0.7, 0.1: 3 of the 4 churner/stayer pairs are
    # ordered right, ROC AUC 0.75, whatever order the Series come in.
    ids = pd.Index([1, 2, 3, 4], name="customer_id")
    y = pd.Series([1, 0, 1, 0], index=ids)
    score = pd.Series([0.9, 0.8, 0.7, 0.1], index=ids)
    assert evaluate(y, score.loc[[4, 2, 3, 1]]).roc_auc == pytest.approx(0.75)
    with pytest.raises(ValueError, match="score is indexed by other customers"):
        evaluate(y, score.set_axis([1, 2, 3, 9]))
