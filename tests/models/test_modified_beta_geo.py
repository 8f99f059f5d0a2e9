"""MBG/NBD: BTYDplus estimates on CDNOW, lifetimes 0.11.3 agreement, mpmath, simulation."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from churnlab import BetaGeo, ModifiedBetaGeo
from churnlab.datasets import load_cdnow_summary, simulate_modified_bgnbd
from churnlab.models.modified_beta_geo import CDNOW_MBGNBD_PUBLISHED

NAMES = ["r", "alpha", "a", "b"]
CDNOW = tuple(CDNOW_MBGNBD_PUBLISHED.values())


def _model(params):
    model = ModifiedBetaGeo()
    model.params_ = pd.Series(params, index=NAMES, dtype=float)
    return model


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow):
    return ModifiedBetaGeo().fit(cdnow)


@pytest.fixture(scope="module")
def reference(fitted):
    """lifetimes 0.11.3 carrying our parameters: the reference for every prediction."""
    lifetimes = pytest.importorskip("lifetimes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = lifetimes.ModifiedBetaGeoFitter()
    ref.params_ = fitted.params_.copy()
    return ref


def test_cdnow_estimates_match_btydplus(fitted):
    # BTYDplus (Platzer) on the CDNOW sample, as quoted by lifetimes 0.11.3's tests
    for name, published in CDNOW_MBGNBD_PUBLISHED.items():
        assert round(fitted.params_[name], 3) == published, name
    assert fitted.converged_ and fitted.n_customers_ == 2357
    assert np.isfinite(fitted.summary["std_err"]).all()


def test_log_likelihood_matches_lifetimes(fitted, reference, cdnow):
    x, t_x, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    # lifetimes returns minus the mean log-likelihood over customers
    theirs = -reference._negative_log_likelihood(
        np.log(fitted.params_.to_numpy()), x, t_x, T, np.ones(len(x)), 0.0
    ) * len(x)
    assert fitted.log_likelihood_ == pytest.approx(theirs, rel=1e-12)


def test_predictions_match_lifetimes(fitted, reference, cdnow):
    x, t_x, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    np.testing.assert_allclose(
        fitted.probability_alive(cdnow).to_numpy(),
        reference.conditional_probability_alive(x, t_x, T),
        rtol=1e-12,
    )
    for t in (1.0, 39.0, 78.0, 500.0):
        ours = fitted.conditional_expected_purchases(t, cdnow)
        theirs = reference.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
        np.testing.assert_allclose(ours.to_numpy(), theirs, rtol=1e-9)
    ts = np.array([0.5, 1.0, 39.0, 78.0, 520.0])
    np.testing.assert_allclose(
        fitted.expected_purchases(ts),
        reference.expected_number_of_purchases_up_to_time(ts),
        rtol=1e-9,
    )
    for t in (1.0, 39.0, 78.0):
        for n in (0, 1, 2, 5, 20):
            assert fitted.probability_of_purchases(t, n) == pytest.approx(
                reference.probability_of_n_purchases_up_to_time(t, n), rel=1e-9, abs=1e-14
            )


def test_one_off_buyers_may_be_gone(fitted, cdnow):
    # The difference from the BG/NBD: P(alive) < 1 for x = 0 (1 under the BG/NBD), and it is
    # b/(a+b), the chance of surviving the first purchase, for a customer born just now.
    r, alpha, a, b = fitted.params_
    newborn = fitted.probability_alive(0, 0.0, 0.0).iloc[0]
    assert newborn == pytest.approx(b / (a + b), rel=1e-12)
    one_off = cdnow[cdnow["frequency"] == 0]
    assert (fitted.probability_alive(one_off) < 1).all()
    assert (BetaGeo().fit(cdnow).probability_alive(one_off) == 1).all()


def test_probability_of_purchases_is_a_distribution_with_the_model_mean(fitted):
    n = np.arange(0, 3000)
    for t in (1.0, 39.0, 200.0):
        pmf = fitted.probability_of_purchases(t, n)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
        assert n @ pmf == pytest.approx(fitted.expected_purchases(t), rel=1e-8)
    # nothing happens in no time, but the customer may already be gone
    np.testing.assert_allclose(fitted.probability_of_purchases(0.0, [0, 1]), [1.0, 0.0], atol=1e-15)


def _mpmath_conditional(params, t, x, t_x, T):
    """E[Y(t) | x, t_x, T] of the MBG/NBD in 50 digits, from its defining integral.

    Given alive at T, ``lambda ~ Gamma(r+x, alpha+T)`` and ``p ~ Beta(a, b+x+1)``, and
    ``E[Y(t) | lambda, p] = (1 - exp(-lambda p t)) / p``; integrating lambda out leaves
    ``E_p[(1 - (1 + p t/(alpha+T))^-(r+x)) / p]``, integrated over p by mpmath.
    """
    mp = pytest.importorskip("mpmath")
    with mp.workdps(50):
        r, alpha, a, b = (mp.mpf(repr(float(v))) for v in params)
        t, x, t_x, T = (mp.mpf(repr(float(v))) for v in (t, x, t_x, T))
        s = t / (alpha + T)
        log_beta = mp.log(mp.beta(a, b + x + 1))

        def integrand(p):
            weight = mp.exp((a - 1) * mp.log(p) + (b + x) * mp.log(1 - p) - log_beta)
            return weight * (1 - (1 + p * s) ** (-(r + x))) / p

        if_alive = mp.quad(integrand, [0, mp.mpf("1e-6"), mp.mpf("0.01"), 0.5, 1])
        odds = a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x)
        return if_alive / (1 + odds)


@pytest.mark.parametrize(
    ("params", "history"),
    [
        (CDNOW, (39.0, 2, 30.43, 38.86)),
        (CDNOW, (39.0, 0, 0.0, 39.0)),
        (CDNOW, (39.0, 10_000, 9_999.0, 10_000.0)),
        (CDNOW, (100.0, 10_000, 1_000.0, 1_000.0)),
        ((0.5, 2.0, 3.0, 0.7), (52.0, 200, 150.0, 200.0)),
        ((2.0, 0.3, 1.5, 5.0), (10.0, 3, 4.0, 10.0)),
    ],
)
def test_conditional_expectation_matches_mpmath(params, history):
    expected = float(_mpmath_conditional(params, *history))
    ours = _model(params).conditional_expected_purchases(*history).iloc[0]
    assert ours == pytest.approx(expected, rel=1e-8)


def test_expectation_if_alive_and_unconditional(fitted, cdnow):
    if_alive = fitted.conditional_expected_purchases_if_alive(39, cdnow)
    np.testing.assert_allclose(
        if_alive * fitted.probability_alive(cdnow),
        fitted.conditional_expected_purchases(39, cdnow),
        rtol=1e-12,
    )
    # E[X(t)] = P(survive the first purchase) x the expectation of a newborn who did
    r, alpha, a, b = fitted.params_
    t = np.array([1.0, 39.0, 400.0])
    newborn = fitted.conditional_expected_purchases_if_alive(
        t, np.zeros(3), np.zeros(3), np.zeros(3)
    )
    np.testing.assert_allclose(b / (a + b) * newborn, fitted.expected_purchases(t), rtol=1e-12)


def test_analytic_gradient_matches_finite_differences(cdnow):
    model = ModifiedBetaGeo()
    prep = model._prepare(
        {c: cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T")}, np.ones(len(cdnow))
    )
    for point in (np.array(CDNOW), np.array([1.5, 3.0, 0.3, 6.0])):
        _, grad = model._loglik(point, prep)
        for j in range(4):
            h = 1e-6 * point[j]
            up, down = point.copy(), point.copy()
            up[j] += h
            down[j] -= h
            numeric = (model._loglik(up, prep, False)[0] - model._loglik(down, prep, False)[0]) / (
                2 * h
            )
            assert grad[j] == pytest.approx(numeric, rel=1e-5, abs=1e-4), (point, j)


def test_parameter_recovery_on_100000_simulated_customers():
    truth = CDNOW_MBGNBD_PUBLISHED
    T = np.random.default_rng(7).uniform(30, 80, 100_000)
    data = simulate_modified_bgnbd(100_000, **truth, T=T, seed=11)
    model = ModifiedBetaGeo().fit(data)
    for name, value in truth.items():
        assert model.params_[name] == pytest.approx(value, rel=0.05), name
        lo, hi = model.confidence_interval(0.999).loc[name]
        assert lo < value < hi, name
    assert model.probability_alive(data).mean() == pytest.approx(data["alive"].mean(), abs=0.01)


@pytest.mark.parametrize(
    ("column", "change", "bad_row"),
    [
        ("frequency", {"frequency": [1.5, 0, 1]}, "c1"),
        ("recency", {"recency": [1.0, 0.0, 9.0]}, "c3"),
        ("recency", {"recency": [1.0, 2.0, 2.0]}, "c2"),
        ("T", {"T": [0.0, 5.0, 5.0]}, "c1"),
    ],
)
def test_bad_input_names_the_column_and_shows_the_rows(fitted, column, change, bad_row):
    index = pd.Index(["c1", "c2", "c3"], name="customer_id")
    data = pd.DataFrame(
        {"frequency": [1, 0, 1], "recency": [1.0, 0.0, 2.0], "T": [5.0, 5.0, 5.0]}, index=index
    )
    bad = data.assign(**change)
    for call in (lambda: ModifiedBetaGeo().fit(bad), lambda: fitted.probability_alive(bad)):
        with pytest.raises(ValueError, match=f"column '{column}'.* in 1 row") as err:
            call()
        assert bad_row in str(err.value).split("row(s):")[1]


def test_predicting_before_fit_raises_not_fitted(cdnow):
    model = ModifiedBetaGeo()
    for call in (
        lambda: model.probability_alive(cdnow),
        lambda: model.conditional_expected_purchases(1, cdnow),
        lambda: model.expected_purchases(1.0),
        lambda: model.probability_of_purchases(1.0, 1),
    ):
        with pytest.raises(NotFittedError):
            call()


def test_json_round_trip(fitted, cdnow, tmp_path):
    path = tmp_path / "mbg.json"
    fitted.save(path)
    loaded = ModifiedBetaGeo.load(path)
    pd.testing.assert_series_equal(
        loaded.conditional_expected_purchases(39, cdnow),
        fitted.conditional_expected_purchases(39, cdnow),
    )
    with pytest.raises(ValueError, match="ModifiedBetaGeo"):
        BetaGeo.load(path)
