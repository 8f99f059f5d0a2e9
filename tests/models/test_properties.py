"""Property tests: log-likelihoods, gradients and predictions stay finite and valid on
extreme but valid inputs (frequencies and ages up to 10,000; parameters from 1e-3 to 1e2)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from churnlab import BetaGeo, GammaGamma

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

positive = st.floats(min_value=1e-3, max_value=1e2, allow_nan=False, allow_infinity=False)
scale = st.floats(min_value=1e-3, max_value=1e4, allow_nan=False, allow_infinity=False)
age = st.floats(min_value=1e-3, max_value=1e4, allow_nan=False, allow_infinity=False)
share = st.floats(min_value=0.0, max_value=1.0)
frequency = st.integers(min_value=0, max_value=10_000)


@st.composite
def customers(draw):
    """(x, t_x, T) rows satisfying the data contract: t_x = 0 without repeats, t_x <= T."""
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        x = draw(frequency)
        T = draw(age)
        t_x = draw(share) * T if x > 0 else 0.0
        rows.append((x, t_x, T))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"]).astype({"frequency": np.int64})


def _bg(params):
    model = BetaGeo()
    model.params_ = pd.Series(params, index=["r", "alpha", "a", "b"])
    return model


@SETTINGS
@given(data=customers(), r=positive, alpha=scale, a=positive, b=positive)
def test_bgnbd_loglik_and_gradient_are_finite(data, r, alpha, a, b):
    model = BetaGeo()
    cols = {c: data[c].to_numpy(float) for c in ("frequency", "recency", "T")}
    prep = model._prepare(cols, np.ones(len(data)))
    ll, grad = model._loglik(np.array([r, alpha, a, b]), prep)
    assert np.isfinite(ll)
    assert np.all(np.isfinite(grad))


@SETTINGS
@given(
    data=customers(),
    r=positive,
    alpha=scale,
    a=positive,
    b=positive,
    t=st.floats(min_value=0.0, max_value=1e4),
)
def test_bgnbd_predictions_are_finite_and_valid(data, r, alpha, a, b, t):
    model = _bg([r, alpha, a, b])
    alive = model.probability_alive(data)
    assert np.all((alive >= 0) & (alive <= 1))
    expected = model.conditional_expected_purchases(t, data)
    assert np.all(np.isfinite(expected)) and np.all(expected >= -1e-9)
    # the expected number of purchases cannot fall as the horizon grows
    later = model.conditional_expected_purchases(t + 1.0, data)
    assert np.all(later >= expected * (1 - 1e-7) - 1e-12)
    unconditional = model.expected_purchases(t)
    assert np.isfinite(unconditional) and unconditional >= -1e-9


@SETTINGS
@given(
    r=positive,
    alpha=scale,
    a=positive,
    b=positive,
    t=st.floats(min_value=1e-3, max_value=1e4),
    n=st.integers(min_value=0, max_value=10_000),
)
def test_bgnbd_purchase_probabilities_are_probabilities(r, alpha, a, b, t, n):
    p = _bg([r, alpha, a, b]).probability_of_purchases(t, n)
    assert np.isfinite(p) and -1e-12 <= p <= 1 + 1e-9


@SETTINGS
@given(
    x=st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=6),
    zbar=st.lists(st.floats(min_value=1e-3, max_value=1e6), min_size=6, max_size=6),
    p=positive,
    q=positive,
    v=scale,
)
def test_gamma_gamma_loglik_gradient_and_spend_are_finite(x, zbar, p, q, v):
    x = np.array(x, dtype=float)
    zbar = np.array(zbar[: len(x)])
    model = GammaGamma()
    prep = model._prepare({"frequency": x, "monetary_value": zbar}, np.ones(len(x)))
    ll, grad = model._loglik(np.array([p, q, v]), prep)
    assert np.isfinite(ll) and np.all(np.isfinite(grad))
    model.params_ = pd.Series([p, q, v], index=["p", "q", "v"])
    spend = model.conditional_expected_spend(x, zbar)
    if q > 1:
        # a weighted mean of the population mean and the customer's own mean
        lo = np.minimum(zbar, model.expected_spend())
        hi = np.maximum(zbar, model.expected_spend())
        assert np.all((spend >= lo * (1 - 1e-9)) & (spend <= hi * (1 + 1e-9)))


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
