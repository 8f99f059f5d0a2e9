"""Property tests: log-likelihoods, gradients and predictions stay finite and valid on
extreme but valid inputs, and agree with mpmath at stored extreme points.

Ranges: frequencies and ages up to 10,000 periods; BG/NBD ``a, b`` from 1e-3 to 1e6 and
``r, alpha`` from 1e-3 to 1e4 (the optimizer itself may return any value in exp(+-30), and
``tests/models/test_beta_geo.py`` checks the fitter's own extreme estimates); Gamma-Gamma
``p, q`` from 1e-3 to 1e4 and ``v`` up to 1e6. In CI (``CI=true``) hypothesis replays a
derandomised sequence (conftest.py).
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from churnlab import BetaGeo, GammaGamma, customer_lifetime_value

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# predictions that may take the quadrature path cost a few milliseconds an example
FEWER = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _log_uniform(low: float, high: float):
    """Floats spread evenly over the decades from ``low`` to ``high`` (and the bounds)."""
    exponents = st.floats(min_value=np.log10(low), max_value=np.log10(high))
    return st.one_of(st.sampled_from([low, high]), exponents.map(lambda e: float(10.0**e)))


positive = st.floats(min_value=1e-3, max_value=1e2, allow_nan=False, allow_infinity=False)
scale = st.floats(min_value=1e-3, max_value=1e4, allow_nan=False, allow_infinity=False)
age = st.floats(min_value=1e-3, max_value=1e4, allow_nan=False, allow_infinity=False)
share = st.floats(min_value=0.0, max_value=1.0)
frequency = st.integers(min_value=0, max_value=10_000)

# BG/NBD parameters at the extremes required by issue 7
rate_param = _log_uniform(1e-3, 1e4)  # r and alpha
dropout_param = _log_uniform(1e-3, 1e6)  # a and b
horizon = st.one_of(st.just(0.0), _log_uniform(1e-3, 1e4))


@st.composite
def customers(draw, max_rows: int = 6):
    """(x, t_x, T) rows satisfying the data contract: t_x = 0 without repeats, t_x <= T."""
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=max_rows))):
        x = draw(frequency)
        T = draw(age)
        t_x = draw(share) * T if x > 0 else 0.0
        rows.append((x, t_x, T))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"]).astype({"frequency": np.int64})


def _bg(params):
    model = BetaGeo()
    model.params_ = pd.Series(params, index=["r", "alpha", "a", "b"], dtype=float)
    return model


def _gg(params):
    model = GammaGamma()
    model.params_ = pd.Series(params, index=["p", "q", "v"], dtype=float)
    return model


@SETTINGS
@given(data=customers(), r=rate_param, alpha=rate_param, a=dropout_param, b=dropout_param)
def test_bgnbd_loglik_and_gradient_are_finite(data, r, alpha, a, b):
    model = BetaGeo()
    cols = {c: data[c].to_numpy(float) for c in ("frequency", "recency", "T")}
    prep = model._prepare(cols, np.ones(len(data)))
    ll, grad = model._loglik(np.array([r, alpha, a, b]), prep)
    assert np.isfinite(ll)
    assert np.all(np.isfinite(grad))


@FEWER
@given(
    data=customers(),
    r=rate_param,
    alpha=rate_param,
    a=dropout_param,
    b=dropout_param,
    t=horizon,
)
def test_bgnbd_predictions_are_finite_and_valid(data, r, alpha, a, b, t):
    model = _bg([r, alpha, a, b])
    alive = model.probability_alive(data)
    assert np.all(np.isfinite(alive)) and np.all((alive >= 0) & (alive <= 1))
    expected = model.conditional_expected_purchases(t, data)
    if_alive = model.conditional_expected_purchases_if_alive(t, data)
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    assert np.all(np.isfinite(if_alive)) and np.all(if_alive >= 0)
    # eq. (10) is P(alive) times the expectation if alive
    np.testing.assert_allclose(expected, alive * if_alive, rtol=1e-12, atol=0)
    # while alive, purchases come at rate lambda with E[lambda | x, T] = (r+x)/(alpha+T) and
    # dropping out only removes purchases: E[Y(t) | alive] <= t (r+x)/(alpha+T)
    ceiling = t * (r + data["frequency"]) / (alpha + data["T"])
    assert np.all(if_alive <= ceiling * (1 + 1e-9))
    # the expected number of purchases cannot fall as the horizon grows
    later = model.conditional_expected_purchases_if_alive(2 * t + 1.0, data)
    assert np.all(later >= if_alive * (1 - 1e-9))
    # a longer silence (larger T, same x and t_x) lowers P(alive) and the expectation if alive
    older = data.assign(T=data["T"] * 2 + 1)
    assert np.all(model.probability_alive(older) <= alive * (1 + 1e-12))
    assert np.all(model.conditional_expected_purchases_if_alive(t, older) <= if_alive * (1 + 1e-9))


@FEWER
@given(r=rate_param, alpha=rate_param, a=dropout_param, b=dropout_param, t=horizon)
def test_bgnbd_unconditional_expectation_is_finite_and_grows_with_t(r, alpha, a, b, t):
    model = _bg([r, alpha, a, b])
    values = model.expected_purchases(np.array([t, 2 * t + 1.0]))
    assert np.all(np.isfinite(values)) and np.all(values >= 0)
    assert values[1] >= values[0] * (1 - 1e-9)
    # no more than the purchases of a customer who never drops out, E[lambda] t = r t / alpha
    assert values[0] <= r * t / alpha * (1 + 1e-9)
    # eq. (9) is eq. (10) for a customer without history (x = 0, T = 0)
    newborn = model.conditional_expected_purchases(t, 0, 0.0, 0.0).iloc[0]
    assert newborn == pytest.approx(values[0], rel=1e-12, abs=0)


@SETTINGS
@given(
    r=rate_param,
    alpha=rate_param,
    a=dropout_param,
    b=dropout_param,
    t=_log_uniform(1e-3, 1e4),
    n=st.integers(min_value=0, max_value=10_000),
)
def test_bgnbd_purchase_probabilities_are_probabilities(r, alpha, a, b, t, n):
    model = _bg([r, alpha, a, b])
    p = model.probability_of_purchases(t, [n, n + 1, n + 2])
    assert np.all(np.isfinite(p)) and np.all(p >= 0) and p.sum() <= 1 + 1e-9
    # X(t) = 0 becomes less likely as time passes (eq. 8 with n = 0)
    zero = model.probability_of_purchases(np.array([t, 2 * t]), 0)
    assert zero[1] <= zero[0] * (1 + 1e-12)


@SETTINGS
@given(
    x=st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=6),
    zbar=st.lists(st.floats(min_value=1e-3, max_value=1e6), min_size=6, max_size=6),
    p=_log_uniform(1e-3, 1e4),
    q=_log_uniform(1e-3, 1e4),
    v=_log_uniform(1e-3, 1e6),
)
def test_gamma_gamma_loglik_gradient_and_spend(x, zbar, p, q, v):
    x = np.array(x, dtype=float)
    zbar = np.array(zbar[: len(x)])
    model = GammaGamma()
    prep = model._prepare({"frequency": x, "monetary_value": zbar}, np.ones(len(x)))
    ll, grad = model._loglik(np.array([p, q, v]), prep)
    assert np.isfinite(ll) and np.all(np.isfinite(grad))
    model = _gg([p, q, v])
    if q <= 1:
        # no mean spend exists: refused, never negative or infinite
        with pytest.raises(ValueError, match="q = .* <= 1"):
            model.conditional_expected_spend(x, zbar)
        with pytest.raises(ValueError, match="q = .* <= 1"):
            model.expected_spend()
        return
    spend = model.conditional_expected_spend(x, zbar)
    mean = model.expected_spend()
    assert np.isfinite(mean) and mean > 0
    assert np.all(np.isfinite(spend)) and np.all(spend > 0)
    # a weighted mean of the population mean and the customer's own mean (FHL 2005, JMR)
    lo, hi = np.minimum(zbar, mean), np.maximum(zbar, mean)
    assert np.all((spend >= lo * (1 - 1e-9)) & (spend <= hi * (1 + 1e-9)))


@FEWER
@given(
    data=customers(max_rows=3),
    spend=st.lists(st.floats(min_value=1e-2, max_value=1e6), min_size=3, max_size=3),
    bg=st.tuples(rate_param, rate_param, dropout_param, dropout_param),
    gg=st.tuples(_log_uniform(1e-3, 1e4), _log_uniform(1.001, 1e4), _log_uniform(1e-3, 1e6)),
    rate=st.floats(min_value=0.0, max_value=1.0),
)
def test_lifetime_value_is_finite_non_negative_and_grows_with_the_horizon(
    data, spend, bg, gg, rate
):
    data = data.assign(monetary_value=np.where(data["frequency"] > 0, spend[: len(data)], 0.0))
    values = [
        customer_lifetime_value(
            _bg(bg), _gg(gg), data, time_unit="W", horizon=h, step=2.0, discount_rate=rate
        )
        for h in (2.0, 8.0)
    ]
    assert all(np.all(np.isfinite(v)) and np.all(v >= 0) for v in values)
    assert np.all(values[1] >= values[0] * (1 - 1e-9))


@settings(max_examples=20, deadline=None)
@given(data=customers(max_rows=2), q=_log_uniform(1e-3, 1.0))
def test_lifetime_value_is_refused_without_a_mean_spend(data, q):
    data = data.assign(monetary_value=np.where(data["frequency"] > 0, 20.0, 0.0))
    with pytest.raises(ValueError, match="q = .* <= 1"):
        customer_lifetime_value(
            _bg([0.24, 4.4, 0.79, 2.4]),
            _gg([6.0, q, 15.0]),
            data,
            time_unit="W",
            horizon=4,
            discount_rate=0.1,
        )


@SETTINGS
@given(r=positive, alpha=scale, a=positive, b=positive, t=st.floats(min_value=1e-3, max_value=1e4))
def test_expected_purchases_is_the_mean_of_the_purchase_distribution(r, alpha, a, b, t):
    # Eq. (9) (hypergeometric) against the mean of eq. (8) (incomplete beta functions): two
    # independent evaluations of E[X(t)], wherever the distribution's tail is negligible.
    model = _bg([r, alpha, a, b])
    n = np.arange(0, 20_000)
    pmf = model.probability_of_purchases(t, n)
    assume(abs(pmf.sum() - 1) < 1e-12 and pmf[-1000:].max() < 1e-18)
    assert model.expected_purchases(t) == pytest.approx(n @ pmf, rel=1e-7, abs=1e-12)


# --------------------------------------------------------------------------------------------
# stored points at the extremes, from mpmath 1.3.0 (35-40 digits): E[Y(t) | x, t_x, T] (eq.
# 10) and E[X(t)] (eq. 9) as the integral E_p[(1 - (1+ps)^-(r+x))/p] over p ~ Beta(a, b+x)
# with mpmath.quad on the logit scale (checked against mpmath.hyp2f1 where its series
# converges), P(alive) in closed form, P(X(t) = n) (eq. 8) with mpmath.beta and
# mpmath.betainc. The integral is recomputed for two of them below.
# --------------------------------------------------------------------------------------------

# (r, alpha, a, b), (t, x, t_x, T), E[Y(t) | x, t_x, T], P(alive | x, t_x, T)
MPMATH_CONDITIONAL = [
    ((1e-3, 1e4, 1e-3, 1e6), (1.0, 0, 0.0, 1e4), 4.999999999999874875e-8, 1.0),
    (
        (0.3, 1e4, 1e6, 1e-3),
        (1e4, 10_000, 9999.0, 1e4),
        0.0060882568567963561374,
        0.006027977020285685749,
    ),
    (
        (1e4, 1e4, 2.0, 1e6),
        (1e3, 50, 40.0, 100.0),
        4.9024281459008924479e-18,
        4.9317209962127876907e-21,
    ),
    ((2.0, 1e-3, 1e6, 3.0), (0.5, 7, 1e4, 1e4), 4.0489508503631765138e-9, 8.9999190007289934391e-6),
]

# (r, alpha, a, b), t, E[X(t)]
MPMATH_UNCONDITIONAL = [
    ((1e4, 1e-3, 1e6, 1e6), 1e4, 2.000001000001000001),
    ((1e-3, 1e4, 1e-3, 1e6), 1.0, 9.9999999999994995e-8),
    ((5e3, 2.0, 1e-3, 1e-3), 10.0, 12379.828828292336607),
    ((0.3, 1e4, 1e6, 1e-3), 1e4, 0.18774760370967424785),
    ((1e4, 1e4, 2.0, 1e6), 1e3, 999.00090129562339971),
    ((2.0, 1e-3, 1e6, 3.0), 0.5, 0.9999990159193187874),
]

# (r, alpha, a, b), t, n, P(X(t) = n)
MPMATH_PURCHASES = [
    ((1e4, 1e-3, 1e6, 1e6), 1e4, 1, 0.5),
    ((1e4, 1e-3, 1e6, 1e6), 1e4, 100, 7.9073737372054540437e-31),
    ((1e-3, 1e4, 1e-3, 1e6), 1.0, 0, 0.99999990000500466619),
    ((1e-3, 1e4, 1e-3, 1e6), 1.0, 1, 9.9989991001405330919e-8),
    ((5e3, 2.0, 1e-3, 1e-3), 10.0, 100, 5.0243858086280476107e-6),
    ((5e3, 2.0, 1e-3, 1e-3), 10.0, 10_000, 4.9518080664599629687e-8),
    ((0.3, 1e4, 1e6, 1e-3), 1e4, 0, 0.81225239635623552261),
    ((0.3, 1e4, 1e6, 1e-3), 1e4, 1, 0.18774760357785473327),
    ((1e4, 1e4, 2.0, 1e6), 1e3, 1, 1.999996000007999984e-6),
    ((1e4, 1e4, 2.0, 1e6), 1e3, 100, 1.9994021193821219819e-6),
    ((2.0, 1e-3, 1e6, 3.0), 0.5, 0, 3.9840478723192337879e-6),
    ((2.0, 1e-3, 1e6, 3.0), 0.5, 1, 0.99999301599693626404),
]


@pytest.mark.parametrize(("params", "history", "expected", "alive"), MPMATH_CONDITIONAL)
def test_conditional_predictions_match_mpmath_at_the_extremes(params, history, expected, alive):
    model = _bg(params)
    t, x, t_x, T = history
    assert model.probability_alive(x, t_x, T).iloc[0] == pytest.approx(alive, rel=1e-10)
    value = model.conditional_expected_purchases(t, x, t_x, T).iloc[0]
    assert value == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(("params", "t", "expected"), MPMATH_UNCONDITIONAL)
def test_unconditional_expectation_matches_mpmath_at_the_extremes(params, t, expected):
    assert _bg(params).expected_purchases(t) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(("params", "t", "n", "expected"), MPMATH_PURCHASES)
def test_purchase_probabilities_match_mpmath_at_the_extremes(params, t, n, expected):
    assert _bg(params).probability_of_purchases(t, n) == pytest.approx(expected, rel=1e-9)


def _mpmath_bracket(r, a, b, x, s):
    """E_p[(1 - (1+ps)^-(r+x))/p], p ~ Beta(a, b+x), by mpmath.quad on the logit scale."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 30
    r, a, b, x, s = (mpmath.mpf(repr(float(v))) for v in (r, a, b, x, s))
    n, beta = r + x, b + x
    log_beta_fn = mpmath.log(mpmath.beta(a, beta))

    def integrand(u):
        log_p, log_q = -mpmath.log1p(mpmath.exp(-u)), -mpmath.log1p(mpmath.exp(u))
        p = mpmath.exp(log_p)
        density = mpmath.exp(a * log_p + beta * log_q - log_beta_fn)
        return density * -mpmath.expm1(-n * mpmath.log1p(p * s)) / p

    mode, sigma = mpmath.log(a / beta), mpmath.sqrt(1 / a + 1 / beta)
    points = sorted({mode + k * sigma for k in (-40, -10, -3, -1, 0, 1, 3, 10, 40)})
    points += [-mpmath.log(n * s) + k for k in (-3, 0, 3)]
    return mpmath.quad(integrand, [-mpmath.inf, *sorted(points), mpmath.inf], maxdegree=10)


@pytest.mark.parametrize(
    ("params", "t", "expected"), [MPMATH_UNCONDITIONAL[0], MPMATH_UNCONDITIONAL[2]]
)
def test_stored_extreme_values_are_reproduced_by_mpmath(params, t, expected):
    r, alpha, a, b = params
    assert float(_mpmath_bracket(r, a, b, 0, t / alpha)) == pytest.approx(expected, rel=1e-14)
