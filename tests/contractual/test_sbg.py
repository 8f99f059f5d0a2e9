"""The shifted-beta-geometric model: published fits, the paper's equations, DERL, errors, JSON."""

import json
import warnings

import mpmath
import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy.special import beta as beta_function
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from churnlab import BetaGeo
from churnlab.contractual import (
    HIGH_END_SBG_PUBLISHED,
    PUBLISHED_CALIBRATION_YEARS,
    REGULAR_SBG_PUBLISHED,
    ShiftedBetaGeometric,
    cohort_survival_counts,
    subscription_tenure,
    tenure_from_survivors,
)
from churnlab.datasets import load_cdnow_summary, load_retention_cohorts, simulate_subscriptions

REGULAR_1_7 = [1000, 631, 468, 382, 326, 289, 262, 241]


@pytest.fixture(scope="module")
def cohorts():
    return load_retention_cohorts("customers")


@pytest.fixture(scope="module")
def regular(cohorts):
    return ShiftedBetaGeometric().fit(cohorts.loc["regular", :PUBLISHED_CALIBRATION_YEARS])


def fitted(alpha, beta, max_periods=7):
    """A fitted model with the given parameters (through the validated JSON route)."""
    return ShiftedBetaGeometric.from_dict(
        {
            "model": "ShiftedBetaGeometric",
            "format_version": 1,
            "init_params": {"initial_params": None, "max_iter": 1000, "tol": 1e-10},
            "params": {"alpha": alpha, "beta": beta},
            "log_likelihood": -1.0,
            "converged": True,
            "n_iter": 1,
            "optimizer_message": "",
            "n_customers": 1.0,
            "n_unique": 1,
            "time_unit": None,
            "log_params_covariance": [[1e-4, 0.0], [0.0, 1e-4]],
            "extra": {"max_periods": max_periods},
        }
    )


# -- published estimates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cohort", "published"),
    [("regular", REGULAR_SBG_PUBLISHED), ("high_end", HIGH_END_SBG_PUBLISHED)],
)
def test_reproduces_fader_hardie_2007_on_years_1_to_7(cohorts, cohort, published):
    # Fader & Hardie (2007), "How to project customer retention", JIM 21(1): 1,000 customers
    # per cohort, fitted on years 1-7: regular alpha 0.704, beta 1.182; high end 0.668, 3.806
    model = ShiftedBetaGeometric().fit(cohorts.loc[cohort, :PUBLISHED_CALIBRATION_YEARS])
    assert model.params_.round(3).to_dict() == published
    assert model.converged_
    assert model.n_customers_ == 1000
    assert model.max_periods_ == 7
    assert model.time_unit_ == "Y"


def test_log_likelihood_is_equation_b3_summed_by_hand(regular):
    a, b = regular.params_
    n = np.array(REGULAR_1_7, dtype=float)
    t = np.arange(1, 8)
    p = beta_function(a + 1, b + t - 1) / beta_function(a, b)
    s7 = beta_function(a, b + 7) / beta_function(a, b)
    expected = np.sum((n[:-1] - n[1:]) * np.log(p)) + n[-1] * np.log(s7)
    assert regular.log_likelihood_ == pytest.approx(expected, rel=1e-12)


def test_the_estimate_maximises_the_likelihood(regular):
    prep = regular._prepare(
        {"periods_survived": np.r_[np.arange(7), 7.0], "active": np.r_[np.zeros(7), 1.0]},
        np.r_[np.diff(-np.array(REGULAR_1_7, float)), REGULAR_1_7[-1]],
    )

    def nll(theta):
        return -regular._loglik(np.exp(theta), prep, gradient=False)[0]

    other = optimize.minimize(nll, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-10})
    np.testing.assert_allclose(np.exp(other.x), regular.params_, rtol=1e-5)


@pytest.mark.parametrize(("a", "b"), [(0.704, 1.182), (0.05, 30.0), (40.0, 0.3)])
def test_gradient_matches_finite_differences(a, b):
    model = ShiftedBetaGeometric()
    prep = model._prepare(
        {
            "periods_survived": np.array([0.0, 3, 10, 0, 5, 400]),
            "active": np.array([0.0, 0, 0, 1, 1, 1]),
        },
        np.array([5.0, 2, 1, 3, 4, 1]),
    )
    _, grad = model._loglik(np.array([a, b]), prep)
    numeric = optimize.approx_fprime(
        np.array([a, b]), lambda p: model._loglik(p, prep, gradient=False)[0], 1e-7 * max(a, b)
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-4)


def test_standard_errors_invert_the_numerical_hessian_of_the_log_likelihood(regular):
    # independent of the analytic gradient: second differences of the log-likelihood itself
    n = np.array(REGULAR_1_7, dtype=float)
    t = np.arange(1, 8)

    def ll(p):
        a, b = p
        logp = np.log(beta_function(a + 1, b + t - 1) / beta_function(a, b))
        return np.sum((n[:-1] - n[1:]) * logp) + n[-1] * np.log(
            beta_function(a, b + 7) / beta_function(a, b)
        )

    est = regular.params_.to_numpy()
    h = 1e-4 * est
    hess = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h[i], np.eye(2)[j] * h[j]
            hess[i, j] = (
                ll(est + ei + ej) - ll(est + ei - ej) - ll(est - ei + ej) + ll(est - ei - ej)
            ) / (4 * h[i] * h[j])
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    np.testing.assert_allclose(regular.summary["std_err"], se, rtol=1e-3)


def test_summary_has_the_columns_of_betageo_summary(regular):
    bg = BetaGeo().fit(load_cdnow_summary())
    assert list(regular.summary.columns) == list(bg.summary.columns)
    assert regular.summary.index.name == bg.summary.index.name == "parameter"
    ci = regular.summary
    assert (ci["ci_lower"] < ci["estimate"]).all() and (ci["estimate"] < ci["ci_upper"]).all()
    assert regular.summary.attrs["converged"] is True
    assert "log-likelihood" in regular._repr_html_()


# -- the equations of the paper ------------------------------------------------------------


def test_closed_forms_at_alpha_beta_one():
    # alpha = beta = 1: S(t) = 1/(1+t), P(T=t) = 1/(t(t+1)), r_t = t/(t+1),
    # DEL = -ln(1-x)/x and DERL(k=0) = (-ln(1-x) - x)/x^2 with x = 1/(1+d)
    model = fitted(1.0, 1.0)
    t = np.arange(1, 30)
    np.testing.assert_allclose(model.survival_function(t), 1 / (1 + t), rtol=1e-12)
    np.testing.assert_allclose(model.churn_probability(t), 1 / (t * (t + 1)), rtol=1e-12)
    np.testing.assert_allclose(model.retention_rate(t), t / (t + 1), rtol=1e-12)
    x = 1 / 1.1
    assert model.discounted_expected_lifetime(0.1) == pytest.approx(-np.log(1 - x) / x, rel=1e-12)
    assert model.discounted_expected_residual_lifetime(0.1, 0) == pytest.approx(
        (-np.log(1 - x) - x) / x**2, rel=1e-12
    )


@pytest.mark.parametrize(("a", "b"), [(0.704, 1.182), (0.668, 3.806), (3.0, 0.2), (0.01, 50.0)])
def test_recursions_of_equation_7_and_retention_of_equation_8(a, b):
    model = fitted(a, b)
    t = np.arange(1, 60)
    p = [a / (a + b)]
    for period in t[1:]:
        p.append((b + period - 2) / (a + b + period - 1) * p[-1])
    np.testing.assert_allclose(model.churn_probability(t), p, rtol=1e-10)
    s = model.survival_function(np.arange(60)).to_numpy()
    np.testing.assert_allclose(s[:-1] - s[1:], p, rtol=1e-9)
    np.testing.assert_allclose(model.retention_rate(t), s[1:] / s[:-1], rtol=1e-10)
    assert s[0] == 1.0
    assert np.all(np.diff(model.retention_rate(t)) > 0)  # the sorting effect


def test_survival_stays_finite_for_very_long_tenures():
    model = fitted(0.3, 0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = model.survival_function([10**6, 10**9])
        derl = model.discounted_expected_residual_lifetime(0.01, [10**6, 10**9])
    assert np.all(np.isfinite(s)) and np.all(s > 0)
    assert np.all(np.isfinite(derl)) and np.all(derl <= 101)


def test_outputs_are_shaped_like_the_input(regular):
    assert isinstance(regular.survival_function(3), float)
    series = regular.retention_rate(pd.Series([1, 2], index=["a", "b"]))
    assert list(series.index) == ["a", "b"] and series.name == "retention_rate"
    by_period = regular.survival_function(range(4))
    assert by_period.index.name == "period" and by_period.name == "survival"


@pytest.mark.parametrize("bad", [-1, 1.5, np.nan, [0, -2]])
def test_periods_must_be_whole_numbers(regular, bad):
    with pytest.raises(ValueError, match="whole numbers"):
        regular.survival_function(bad)


def test_churn_probability_starts_at_period_one(regular):
    with pytest.raises(ValueError, match=">= 1"):
        regular.churn_probability(0)


# -- DERL and DEL --------------------------------------------------------------------------


@pytest.mark.parametrize("a", [0.001, 0.5, 1.0, 2.0, 3.0, 50.0])
@pytest.mark.parametrize("d", [0.001, 0.01, 0.1, 2.0])
def test_derl_matches_mpmath_hypergeometric(a, d):
    # equation (6) of Fader & Hardie (2010), evaluated with mpmath at 30 digits
    b = 1.7
    model = fitted(a, b)
    k = np.array([0, 1, 7, 100])
    got = model.discounted_expected_residual_lifetime(d, k)
    mpmath.mp.dps = 30
    x = mpmath.mpf(1) / (1 + mpmath.mpf(d))
    expected = [
        float((b + n) / (a + b + n) * mpmath.hyp2f1(1, b + n + 1, a + b + n + 1, x)) for n in k
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-11)


@pytest.mark.parametrize(
    ("a", "b", "k", "d"),
    [
        (1.0, 0.3, 0, 0.0005),
        (100.0, 300.0, 10, 0.1),
        (3.0, 0.01, 0, 0.0005),
        (0.5, 20.0, 1000, 0.01),
    ],
)
def test_derl_where_scipy_hyp2f1_fails(a, b, k, d):
    # scipy.special.hyp2f1 returns a negative number for the first case and NaN for the second;
    # the series agrees with mpmath at 40 digits
    model = fitted(a, b)
    mpmath.mp.dps = 40
    x = mpmath.mpf(1) / (1 + mpmath.mpf(d))
    expected = float((b + k) / (a + b + k) * mpmath.hyp2f1(1, b + k + 1, a + b + k + 1, x))
    got = model.discounted_expected_residual_lifetime(d, k)
    assert got == pytest.approx(expected, rel=1e-11)


@pytest.mark.parametrize(("a", "b"), [(0.704, 1.182), (0.668, 3.806), (1.0, 1.0), (7.0, 0.5)])
def test_derl_equals_its_defining_sum(a, b):
    # sum_{j>=1} S(k+j)/S(k) x^(j-1), with S from equation (6), truncated far out
    model = fitted(a, b)
    d = 0.15
    x = 1 / (1 + d)
    for k in (0, 3, 20):
        s = model.survival_function(np.arange(k, k + 400)).to_numpy()
        expected = np.sum(s[1:] / s[0] * x ** np.arange(399))
        assert model.discounted_expected_residual_lifetime(d, k) == pytest.approx(expected, 1e-10)


def test_del_is_one_plus_the_discounted_derl_of_a_new_customer(regular):
    d = 0.1
    derl0 = regular.discounted_expected_residual_lifetime(d, 0)
    assert regular.discounted_expected_lifetime(d) == pytest.approx(1 + derl0 / (1 + d), 1e-12)
    # and DEL is the discounted sum of S(t) from t = 0
    s = regular.survival_function(np.arange(600)).to_numpy()
    assert regular.discounted_expected_lifetime(d) == pytest.approx(
        np.sum(s / 1.1 ** np.arange(600)), rel=1e-9
    )


def test_derl_grows_with_tenure_and_keeps_a_series_index(regular):
    tenure = pd.Series([0, 7, 3], index=pd.Index(["x", "y", "z"], name="customer_id"))
    derl = regular.discounted_expected_residual_lifetime(0.1, tenure)
    assert list(derl.index) == ["x", "y", "z"] and derl.name == "derl"
    assert derl["x"] < derl["z"] < derl["y"]


def test_retention_gain_matches_a_brute_force_product(regular):
    d, gain, k = 0.1, 0.01, 7
    x = 1 / (1 + d)
    rates = np.minimum(regular.retention_rate(np.arange(k + 1, k + 2001)).to_numpy() + gain, 1)
    expected = np.sum(np.cumprod(rates) * x ** np.arange(2000))
    got = regular.discounted_expected_residual_lifetime(d, k, retention_gain=gain)
    assert got == pytest.approx(expected, rel=1e-12)
    assert got > regular.discounted_expected_residual_lifetime(d, k)
    lower = regular.discounted_expected_residual_lifetime(d, k, retention_gain=-0.01)
    assert lower < regular.discounted_expected_residual_lifetime(d, k)


def test_full_retention_gives_the_perpetuity(regular):
    # every rate capped at 1: DERL = sum_j x^(j-1) = (1 + d) / d
    got = regular.discounted_expected_residual_lifetime(0.1, 2, retention_gain=1.0)
    assert got == pytest.approx(11.0, rel=1e-12)


@pytest.mark.parametrize("bad", [0, -0.1, np.inf, np.nan, "10%", True])
def test_discount_rate_must_be_positive(regular, bad):
    with pytest.raises(ValueError, match="discount_rate"):
        regular.discounted_expected_residual_lifetime(bad)
    with pytest.raises(ValueError, match="discount_rate"):
        regular.discounted_expected_lifetime(bad)


def test_retention_gain_is_bounded(regular):
    with pytest.raises(ValueError, match="retention_gain"):
        regular.discounted_expected_residual_lifetime(0.1, retention_gain=2.0)


# -- the data the model is fitted on -------------------------------------------------------


def test_survival_counts_equal_their_tenure_table(cohorts):
    counts = cohorts.loc["high_end", :7]
    tenure = tenure_from_survivors(counts)
    from_counts = ShiftedBetaGeometric().fit(counts)
    from_groups = ShiftedBetaGeometric().fit(tenure, weights=tenure["customers"])
    per_customer = tenure.loc[tenure.index.repeat(tenure["customers"].astype(int))]
    from_customers = ShiftedBetaGeometric().fit(per_customer.reset_index(drop=True))
    for other in (from_groups, from_customers):
        np.testing.assert_allclose(other.params_, from_counts.params_, rtol=1e-8)
        assert other.log_likelihood_ == pytest.approx(from_counts.log_likelihood_, rel=1e-12)
    assert from_customers.n_customers_ == 1000
    assert from_customers.n_unique_ == 8


def test_a_cohort_table_adds_the_cohorts_log_likelihoods(cohorts):
    both = cohorts.loc[:, :7]
    joint = ShiftedBetaGeometric().fit(both)
    params = joint.params_.to_numpy()
    total = 0.0
    for cohort in both.index:
        one = ShiftedBetaGeometric().fit(both.loc[cohort])
        prep_rows = tenure_from_survivors(both.loc[cohort])
        prep = one._prepare(
            {
                "periods_survived": prep_rows["periods_survived"].to_numpy(float),
                "active": prep_rows["active"].to_numpy(float),
            },
            prep_rows["customers"].to_numpy(float),
        )
        total += one._loglik(params, prep, gradient=False)[0]
    assert joint.log_likelihood_ == pytest.approx(total, rel=1e-12)
    assert joint.n_customers_ == 2000


def test_cohorts_of_different_ages_are_censored_at_their_own_horizon():
    table = pd.DataFrame(
        [[100, 60, 45, 40], [80, 50, np.nan, np.nan]], columns=pd.RangeIndex(4, name="period")
    )
    tenure = tenure_from_survivors(table)
    assert tenure[tenure["active"]]["periods_survived"].tolist() == [3, 1]
    assert tenure[tenure["active"]]["customers"].tolist() == [40.0, 50.0]
    model = ShiftedBetaGeometric().fit(table)
    assert model.n_customers_ == 180 and model.max_periods_ == 3


def test_recovers_simulated_parameters_from_subscriptions():
    subs = simulate_subscriptions(
        30_000, 0.8, 2.5, first_start="2021-01-01", n_cohorts=24, period="M", seed=7
    )
    counts = cohort_survival_counts(subs, "2023-01-01", period="M")
    tenure = subscription_tenure(subs, "2023-01-01", period="M")
    for data in (counts, tenure):
        model = ShiftedBetaGeometric().fit(data)
        z = (model.params_ - [0.8, 2.5]) / model.summary["std_err"]
        assert np.all(np.abs(z) < 3.5), (model.params_, model.summary)
        assert model.time_unit_ == "M"
    by_customer = ShiftedBetaGeometric().fit(tenure)
    by_counts = ShiftedBetaGeometric().fit(counts)
    # per-customer tenure keeps the months each cohort's early starters were seen beyond the
    # cohort's common horizon: at least as much information
    assert (by_customer.summary["std_err"] <= by_counts.summary["std_err"] * 1.001).all()


def test_survival_counts_that_increase_are_refused():
    with pytest.raises(ValueError, match=r"column '3'.*increase from period 2 to period 3"):
        ShiftedBetaGeometric().fit([100, 80, 60, 70])
    with pytest.raises(ValueError, match="increase"):
        ShiftedBetaGeometric().fit(pd.DataFrame([[100, 90, 95], [50, 40, 30]]))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([100, -1, 0], "negative"),
        ([0, 0, 0], "not positive"),
        ([100, np.nan, 50], "missing counts before"),
        ([100, np.inf], "infinite"),
        (pd.Series([100, 90], index=[1, 2]), "periods 0, 1, 2"),
        (np.ones((2, 2, 2)), "1-D"),
        ([], "empty"),
    ],
)
def test_bad_survival_counts_are_refused(data, message):
    with pytest.raises(ValueError, match=message):
        ShiftedBetaGeometric().fit(data)


@pytest.mark.parametrize(
    ("frame", "column"),
    [
        (pd.DataFrame({"periods_survived": [1, -1], "active": [True, False]}), "periods_survived"),
        (pd.DataFrame({"periods_survived": [1, 2.5], "active": [True, False]}), "periods_survived"),
        (
            pd.DataFrame({"periods_survived": [1, np.nan], "active": [True, False]}),
            "periods_survived",
        ),
        (pd.DataFrame({"periods_survived": [1, 2], "active": ["yes", False]}), "active"),
        (pd.DataFrame({"periods_survived": [1, 2], "active": [None, False]}), "active"),
    ],
)
def test_bad_tenure_tables_name_the_column(frame, column):
    with pytest.raises(ValueError, match=f"column '{column}'"):
        ShiftedBetaGeometric().fit(frame)


def test_weights_only_with_a_tenure_table():
    with pytest.raises(ValueError, match="weights apply to a tenure table"):
        ShiftedBetaGeometric().fit([100, 50], weights=[1, 1])
    table = pd.DataFrame({"periods_survived": [0, 1], "active": [False, True]})
    with pytest.raises(ValueError, match="column 'weights'"):
        ShiftedBetaGeometric().fit(table, weights=[1, -1])


# -- projection ----------------------------------------------------------------------------


def test_projection_against_the_held_out_years(cohorts, regular):
    projection = regular.project(cohorts.loc["regular"])
    table = projection.table
    assert projection.calibration_periods == 7 and projection.time_unit == "Y"
    np.testing.assert_allclose(table["expected"], 1000 * regular.survival_function(range(13)))
    assert table["sample"].tolist() == ["calibration"] * 8 + ["holdout"] * 5
    holdout = table.loc[8:]
    errors = projection.errors()
    assert errors.loc["holdout", "periods"] == 5
    assert errors.loc["holdout", "mape"] == pytest.approx(
        np.mean(np.abs(holdout["expected"] - holdout["actual"]) / holdout["actual"]) * 100
    )
    # the paper's point: years 8-12 are projected within a fraction of a point of survival
    assert errors.loc["holdout", "max_abs_error_points"] < 0.5
    np.testing.assert_allclose(
        table["expected_retention"].iloc[1:], regular.retention_rate(range(1, 13))
    )


def test_projection_beyond_the_data_is_labelled(regular):
    projection = regular.project(REGULAR_1_7, horizon=10)
    assert projection.table["sample"].iloc[-3:].tolist() == ["projection"] * 3
    assert projection.table["actual"].iloc[-3:].isna().all()
    with pytest.raises(ValueError, match="horizon"):
        regular.project(REGULAR_1_7, horizon=0)
    with pytest.raises(ValueError, match="one cohort"):
        regular.project(load_retention_cohorts("customers"))


# -- estimator conventions and persistence -------------------------------------------------


def test_estimator_conventions():
    model = ShiftedBetaGeometric(max_iter=50)
    assert model.get_params() == {"initial_params": None, "max_iter": 50, "tol": 1e-10}
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.survival_function(1)
    assert model.fit(REGULAR_1_7) is model
    start = ShiftedBetaGeometric(initial_params={"alpha": 3.0, "beta": 0.5}).fit(REGULAR_1_7)
    np.testing.assert_allclose(start.params_, model.params_, rtol=1e-6)


def test_json_round_trip(tmp_path, regular):
    path = tmp_path / "sbg.json"
    regular.save(path)
    loaded = ShiftedBetaGeometric.load(path)
    pd.testing.assert_frame_equal(loaded.summary, regular.summary)
    assert loaded.max_periods_ == 7 and loaded.time_unit_ == "Y"
    assert loaded.discounted_expected_residual_lifetime(0.1, 3) == pytest.approx(
        regular.discounted_expected_residual_lifetime(0.1, 3), rel=1e-15
    )
    assert json.loads(path.read_text())["model"] == "ShiftedBetaGeometric"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(model="BetaGeo"), "not a ShiftedBetaGeometric"),
        (lambda d: d.pop("params"), r"field\(s\) \[.params.\] missing"),
        (lambda d: d["params"].update(alpha=-1.0), "positive number"),
        (lambda d: d["params"].update(alpha="1"), "must be a finite number"),
        (lambda d: d["params"].pop("beta"), "field 'params'"),
        (lambda d: d.update(log_params_covariance=[[1.0]]), "2 x 2"),
        (lambda d: d.update(log_likelihood=float("nan")), "log_likelihood"),
        (lambda d: d.update(n_customers=-3), "n_customers"),
        (lambda d: d.update(extra={}), "max_periods"),
        (lambda d: d.update(time_unit="fortnight"), "time_unit"),
        (lambda d: d.update(format_version=99), "format_version"),
    ],
)
def test_damaged_files_are_refused_naming_the_field(regular, change, message):
    data = json.loads(json.dumps(regular.to_dict()))
    change(data)
    with pytest.raises(ValueError, match=message):
        ShiftedBetaGeometric.from_dict(data)
