"""BG/BB: the published donations estimates and tables, lifetimes 0.11.3, hand cases, simulation."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from churnlab import BetaGeoBetaBinomial
from churnlab.datasets import load_donations, simulate_bgbb
from churnlab.models.beta_geo_beta_binomial import (
    DONATIONS_BGBB_PUBLISHED,
    DONATIONS_BGBB_PUBLISHED_LOG_LIKELIHOOD,
)

NAMES = ["alpha", "beta", "gamma", "delta"]
DONORS = 11_104

# Fader, Hardie & Shang (2010), table 6: P(alive in 2002) by (frequency, recency) over the six
# opportunities 1996-2001.
FHS_TABLE6 = {(0, 0): 0.11, (2, 4): 0.59, (6, 6): 0.93}
# Hardie's BG/BB spreadsheet (note 010): expected transactions 2002-2006 summed over donors
# ("Conditional Expectations (II)", total of column F) and donors expected to give 0 and 6
# times in 1996-2001 ("In-Sample Fit", cells C18 and C24).
HARDIE_HOLDOUT_TOTAL = 12_884.2
HARDIE_IN_SAMPLE = {0: 3_454.9, 6: 1_253.1}


def _model(params):
    model = BetaGeoBetaBinomial()
    model.params_ = pd.Series(params, index=NAMES, dtype=float)
    return model


@pytest.fixture(scope="module")
def donors():
    return load_donations()


@pytest.fixture(scope="module")
def fitted(donors):
    return BetaGeoBetaBinomial().fit(donors, weights=donors["donors"])


@pytest.fixture(scope="module")
def reference(fitted):
    lifetimes = pytest.importorskip("lifetimes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = lifetimes.BetaGeoBetaBinomFitter()
    ref.params_ = fitted.params_.copy()
    return ref


def test_donations_estimates_match_fhs2010(fitted):
    for name, published in DONATIONS_BGBB_PUBLISHED.items():
        assert round(fitted.params_[name], 3) == published, name
    assert fitted.log_likelihood_ == pytest.approx(
        DONATIONS_BGBB_PUBLISHED_LOG_LIKELIHOOD, abs=0.05
    )
    assert fitted.n_customers_ == DONORS and fitted.n_unique_ == 22
    assert fitted.converged_ and np.isfinite(fitted.summary["std_err"]).all()
    assert fitted.time_unit_ is None


def test_published_tables_are_reproduced(fitted, donors):
    for (x, t_x), published in FHS_TABLE6.items():
        assert fitted.probability_alive(x, t_x, 6).iloc[0] == pytest.approx(published, abs=0.005)
    holdout = fitted.conditional_expected_purchases(5, donors) * donors["donors"]
    assert holdout.sum() == pytest.approx(HARDIE_HOLDOUT_TOTAL, abs=0.5)
    for x, published in HARDIE_IN_SAMPLE.items():
        expected = DONORS * fitted.probability_of_purchases(6, x)
        assert expected == pytest.approx(published, abs=0.5)


def test_one_row_per_donor_gives_the_same_fit(fitted, donors):
    expanded = donors.loc[donors.index.repeat(donors["donors"])].reset_index(drop=True)
    model = BetaGeoBetaBinomial().fit(expanded)
    assert model.n_customers_ == DONORS and model.n_unique_ == 22
    np.testing.assert_allclose(model.params_, fitted.params_, rtol=1e-6)


def test_likelihood_by_hand_for_one_opportunity():
    # n = 1: a transaction means alive and buying; none means alive and not buying, or dead
    a, b, g, d = 1.3, 0.7, 0.6, 2.5
    model = BetaGeoBetaBinomial()
    prep = model._prepare(
        {
            "frequency": np.array([1.0, 0.0]),
            "recency": np.array([1.0, 0.0]),
            "n_periods": np.array([1.0, 1.0]),
        },
        np.array([1.0, 1.0]),
    )
    buy = a / (a + b) * d / (g + d)
    none = b / (a + b) * d / (g + d) + g / (g + d)
    ll, _ = model._loglik(np.array([a, b, g, d]), prep, gradient=False)
    assert ll == pytest.approx(np.log(buy) + np.log(none), rel=1e-14)


def test_log_likelihood_and_predictions_match_lifetimes(fitted, reference, donors):
    x, t_x, n = (donors[c].to_numpy() for c in ("frequency", "recency", "n_periods"))
    theirs = reference._loglikelihood(fitted.params_.to_numpy(), x, t_x, n)
    ours = fitted.log_likelihood_
    # lifetimes adds 1e-15 to the sum of its "dead" terms
    assert ours == pytest.approx(float(np.sum(theirs * donors["donors"])), rel=1e-12)
    for k in (0, 1, 3):
        np.testing.assert_allclose(
            fitted.probability_alive(donors, periods_ahead=k).to_numpy(),
            reference.conditional_probability_alive(k, x, t_x, n),
            rtol=1e-10,
        )
    for t in (1, 5, 10):
        np.testing.assert_allclose(
            fitted.conditional_expected_purchases(t, donors).to_numpy(),
            reference.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, n),
            rtol=1e-10,
        )
    reference.data = pd.DataFrame(
        {"frequency": x, "recency": t_x, "n_periods": n, "weights": donors["donors"].to_numpy()}
    )
    table = reference.expected_number_of_transactions_in_first_n_periods(6)["model"]
    np.testing.assert_allclose(
        DONORS * fitted.probability_of_purchases(6, table.index.to_numpy()), table, rtol=1e-10
    )


def test_probability_of_purchases_is_a_distribution_with_the_model_mean(fitted):
    for n in (1, 6, 50, 400):
        x = np.arange(n + 1)
        pmf = fitted.probability_of_purchases(n, x)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
        assert x @ pmf == pytest.approx(fitted.expected_purchases(n), rel=1e-10)
    assert fitted.probability_of_purchases(3, 5) == 0.0  # more transactions than chances


def test_expected_purchases_is_eq13_for_a_new_customer(fitted):
    n = np.array([1, 6, 11])
    new = fitted.conditional_expected_purchases(n, np.zeros(3), np.zeros(3), np.zeros(3))
    np.testing.assert_allclose(new, fitted.expected_purchases(n), rtol=1e-13)
    # FHS eq. (9) written out
    a, b, g, d = fitted.params_
    from scipy.special import gammaln

    ratio = np.exp(gammaln(g + d) + gammaln(1 + d + n) - gammaln(g + d + n) - gammaln(1 + d))
    np.testing.assert_allclose(
        fitted.expected_purchases(n), a / (a + b) * d / (g - 1) * (1 - ratio), rtol=1e-12
    )


def test_gamma_equal_one_is_the_continuous_limit():
    values = []
    for g in (1 - 1e-7, 1.0, 1 + 1e-7):
        model = _model([1.2, 0.75, g, 2.8])
        values.append(model.conditional_expected_purchases([1, 5, 50], [0, 3, 6], [0, 4, 6], 6))
    np.testing.assert_allclose(values[1], (values[0] + values[2]) / 2, rtol=1e-7)


def test_many_opportunities_stay_finite(fitted):
    # daily opportunities over almost three years: ln L terms far below exp's range
    x = np.array([0, 1, 500, 1000, 1000])
    t_x = np.array([0, 1, 900, 1000, 1000])
    n = np.array([1000, 1000, 1000, 1000, 1000])
    alive = fitted.probability_alive(x, t_x, n)
    expected = fitted.conditional_expected_purchases(365, x, t_x, n)
    assert np.all(np.isfinite(alive)) and np.all((alive >= 0) & (alive <= 1))
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    assert expected.iloc[-1] > expected.iloc[0]


def test_analytic_gradient_matches_finite_differences(donors):
    model = BetaGeoBetaBinomial()
    prep = model._prepare(
        {c: donors[c].to_numpy(float) for c in ("frequency", "recency", "n_periods")},
        donors["donors"].to_numpy(float),
    )
    for point in (np.array([1.2, 0.75, 0.66, 2.8]), np.array([0.3, 4.0, 2.0, 0.5])):
        _, grad = model._loglik(point, prep)
        for j in range(4):
            h = 1e-6 * point[j]
            up, down = point.copy(), point.copy()
            up[j] += h
            down[j] -= h
            numeric = (model._loglik(up, prep, False)[0] - model._loglik(down, prep, False)[0]) / (
                2 * h
            )
            assert grad[j] == pytest.approx(numeric, rel=1e-6), (point, j)


def test_parameter_recovery_on_simulated_donors():
    truth = DONATIONS_BGBB_PUBLISHED
    n_periods = np.random.default_rng(3).integers(1, 12, 100_000)
    data = simulate_bgbb(100_000, **truth, n_periods=n_periods, seed=5)
    model = BetaGeoBetaBinomial().fit(data)
    for name, value in truth.items():
        lo, hi = model.confidence_interval(0.999).loc[name]
        assert lo < value < hi, name
        assert model.params_[name] == pytest.approx(value, rel=0.1), name
    # P(alive after the last opportunity) against the simulated truth, on average
    alive = model.probability_alive(data, periods_ahead=0)
    assert alive.mean() == pytest.approx(data["alive"].mean(), abs=0.01)


@pytest.mark.parametrize(
    ("column", "change", "bad_row", "problem"),
    [
        ("n_periods", {"n_periods": [2, 6, 6]}, "c1", "fewer opportunities than transactions"),
        ("recency", {"recency": [4, 1, 6]}, "c2", "non-zero recency where frequency is 0"),
        ("recency", {"recency": [4, 0, 7]}, "c3", "recency after the last opportunity"),
        ("recency", {"recency": [2, 0, 6]}, "c1", "recency before the frequency-th"),
        ("frequency", {"frequency": [3.5, 0, 2]}, "c1", "non-integer"),
        ("n_periods", {"n_periods": [6, -1, 6]}, "c2", "negative"),
        ("frequency", {"frequency": [3, np.nan, 2]}, "c2", "NaN"),
    ],
)
def test_bad_input_names_the_column_and_shows_the_rows(fitted, column, change, bad_row, problem):
    index = pd.Index(["c1", "c2", "c3"], name="donor")
    data = pd.DataFrame(
        {"frequency": [3, 0, 2], "recency": [4, 0, 6], "n_periods": [6, 6, 6]}, index=index
    )
    bad = data.assign(**change)
    for call in (
        lambda: BetaGeoBetaBinomial().fit(bad),
        lambda: fitted.probability_alive(bad),
        lambda: fitted.conditional_expected_purchases(1, bad),
    ):
        with pytest.raises(ValueError, match=f"column '{column}': .*{problem}.* in 1 row") as err:
            call()
        shown = str(err.value).split("row(s):")[1]
        assert bad_row in shown and not ({"c1", "c2", "c3"} - {bad_row}) & set(shown.split())


def test_other_bad_arguments(fitted, donors):
    with pytest.raises(ValueError, match=r"\['n_periods'\]"):
        BetaGeoBetaBinomial().fit(donors.drop(columns="n_periods"))
    with pytest.raises(ValueError, match="not both"):
        BetaGeoBetaBinomial().fit(donors, donors["recency"])
    with pytest.raises(ValueError, match="duplicated customer ids"):
        fitted.probability_alive(donors.set_axis([0] * 22))
    with pytest.raises(ValueError, match="t must hold non-negative integers"):
        fitted.conditional_expected_purchases(1.5, donors)
    with pytest.raises(ValueError, match="periods_ahead"):
        fitted.probability_alive(donors, periods_ahead=-1)
    with pytest.raises(NotFittedError):
        BetaGeoBetaBinomial().probability_alive(donors)


def test_json_round_trip(fitted, donors, tmp_path):
    path = tmp_path / "bgbb.json"
    fitted.save(path)
    loaded = BetaGeoBetaBinomial.load(path)
    pd.testing.assert_series_equal(
        loaded.conditional_expected_purchases(5, donors),
        fitted.conditional_expected_purchases(5, donors),
    )
