"""The simulators draw from the processes the models assume.

Checked independently of churnlab's own fitters: the reference implementation (lifetimes
0.11.3) must recover the planted parameters, and closed-form moments must hold.
"""

import numpy as np
import pytest

from churnlab.datasets import (
    simulate_bgbb,
    simulate_bgnbd,
    simulate_gamma_gamma,
    simulate_modified_bgnbd,
    simulate_pareto_nbd,
)
from churnlab.models import CDNOW_GAMMA_GAMMA_PUBLISHED

TRUE_BGNBD = {"r": 0.5, "alpha": 6.0, "a": 1.2, "b": 3.0}


def test_bgnbd_parameters_are_recovered_by_the_reference_fitter():
    T = np.random.default_rng(0).uniform(5, 100, 100_000)
    sim = simulate_bgnbd(100_000, **TRUE_BGNBD, T=T, seed=5)
    lifetimes = pytest.importorskip("lifetimes")
    fit = lifetimes.BetaGeoFitter().fit(sim["frequency"].to_numpy(), sim["recency"].to_numpy(), T)
    for name, truth in TRUE_BGNBD.items():
        assert fit.params_[name] == pytest.approx(truth, rel=0.05), name


def test_bgnbd_transactions_agree_with_the_summary():
    summary, tx = simulate_bgnbd(
        5_000, 0.3, 4.0, 0.8, 2.5, T=52.0, seed=2, return_transactions=True
    )
    counts = tx.groupby("customer_id").size() - 1
    assert counts.equals(summary["frequency"].rename(None).rename_axis("customer_id"))
    last = tx.groupby("customer_id")["t"].max()
    np.testing.assert_allclose(last.to_numpy(), summary["recency"].to_numpy())
    assert (tx.groupby("customer_id")["t"].min() == 0).all()
    assert bool(
        np.all(np.diff(tx["t"].to_numpy())[np.diff(tx["customer_id"].to_numpy()) == 0] >= 0)
    )


def test_bgnbd_mean_frequency_matches_expectation_for_immortal_customers():
    # With p close to 0 nobody drops out: E[X(T)] = r T / alpha (Poisson-gamma mixture).
    sim = simulate_bgnbd(200_000, r=2.0, alpha=4.0, a=1e-3, b=1e4, T=10.0, seed=3)
    assert sim["frequency"].mean() == pytest.approx(2.0 * 10.0 / 4.0, rel=0.01)
    assert sim["alive"].mean() > 0.999


def test_gamma_gamma_parameters_are_recovered_by_the_reference_fitter():
    freq = np.random.default_rng(1).integers(1, 10, 50_000)
    truth = CDNOW_GAMMA_GAMMA_PUBLISHED  # the CDNOW estimates as the planted truth
    sim = simulate_gamma_gamma(freq, **truth, seed=4)
    lifetimes = pytest.importorskip("lifetimes")
    fit = lifetimes.GammaGammaFitter().fit(sim["frequency"], sim["monetary_value"])
    for name, value in truth.items():
        assert fit.params_[name] == pytest.approx(value, rel=0.05), name


def test_gamma_gamma_transactions_average_to_monetary_value():
    summary, tx = simulate_gamma_gamma(
        [0, 2, 3], p=6.0, q=4.0, v=15.0, seed=0, return_transactions=True
    )
    assert tx.groupby("customer_id").size().tolist() == [1, 3, 4]
    repeat_mean = tx.groupby("customer_id")["amount"].apply(lambda a: a.iloc[1:].mean())
    np.testing.assert_allclose(summary["monetary_value"].iloc[1:], repeat_mean.iloc[1:])
    assert summary["monetary_value"].iloc[0] == 0


@pytest.mark.parametrize("bad", [{"r": -1.0}, {"alpha": 0.0}, {"a": np.nan}])
def test_bad_parameters_are_rejected(bad):
    params = dict(TRUE_BGNBD, **bad)
    with pytest.raises(ValueError, match=next(iter(bad))):
        simulate_bgnbd(10, **params, T=10, seed=0)


def test_pareto_nbd_moments_match_the_closed_forms():
    # Schmittlein et al. (1987): E[X(T)] = r beta / (alpha (s-1)) [1 - (beta/(beta+T))^(s-1)]
    # and P(alive at T) = (beta/(beta+T))^s (Fader & Hardie 2005, note 009, sections 4-5).
    r, alpha, s, beta, T = 0.8, 5.0, 1.7, 12.0, 40.0
    sim = simulate_pareto_nbd(400_000, r, alpha, s, beta, T=T, seed=6)
    mean = r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + T)) ** (s - 1))
    assert sim["frequency"].mean() == pytest.approx(mean, rel=0.01)
    assert sim["alive"].mean() == pytest.approx((beta / (beta + T)) ** s, abs=0.003)
    buyers = sim[sim["frequency"] > 0]
    assert ((buyers["recency"] > 0) & (buyers["recency"] <= T)).all()
    assert (sim.loc[sim["frequency"] == 0, "recency"] == 0).all()


def test_modified_bgnbd_matches_the_reference_expectation():
    # the mean frequency is lifetimes' MBG/NBD E[X(T)] (Batislam et al. 2007), and a share
    # a/(a+b) of customers drops out right after the first purchase
    import pandas as pd
    from lifetimes import ModifiedBetaGeoFitter

    truth = {"r": 0.5, "alpha": 6.0, "a": 1.2, "b": 3.0}
    T = 52.0
    sim = simulate_modified_bgnbd(300_000, **truth, T=T, seed=8)
    ref = ModifiedBetaGeoFitter()
    ref.params_ = pd.Series(truth)
    assert sim["frequency"].mean() == pytest.approx(
        float(ref.expected_number_of_purchases_up_to_time(T)), rel=0.01
    )
    gone_at_once = sim[(sim["frequency"] == 0) & ~sim["alive"]]
    share = truth["a"] / (truth["a"] + truth["b"])
    assert len(gone_at_once) / len(sim) == pytest.approx(share, abs=0.005)


def test_bgbb_moments_match_the_closed_forms():
    # FHS (2010): E[X(n)] = alpha/(alpha+beta) delta/(gamma-1) [1 - Gamma(gamma+delta)
    # Gamma(1+delta+n) / (Gamma(gamma+delta+n) Gamma(1+delta))] and P(alive after n
    # opportunities) = B(gamma, delta+n)/B(gamma, delta)
    from scipy.special import betaln, gammaln

    a, b, g, d, n = 1.2, 0.75, 0.66, 2.8, 6
    sim = simulate_bgbb(300_000, a, b, g, d, n_periods=n, seed=9)
    ratio = np.exp(gammaln(g + d) + gammaln(1 + d + n) - gammaln(g + d + n) - gammaln(1 + d))
    assert sim["frequency"].mean() == pytest.approx(
        a / (a + b) * d / (g - 1) * (1 - ratio), rel=0.01
    )
    alive = np.exp(betaln(g, d + n) - betaln(g, d))
    assert sim["alive"].mean() == pytest.approx(alive, abs=0.003)
    buyers = sim[sim["frequency"] > 0]
    assert ((buyers["recency"] >= buyers["frequency"]) & (buyers["recency"] <= n)).all()


@pytest.mark.parametrize(
    ("simulator", "params"),
    [
        (simulate_pareto_nbd, {"r": 1.0, "alpha": 1.0, "s": -1.0, "beta": 1.0, "T": 5}),
        (simulate_modified_bgnbd, {"r": 1.0, "alpha": np.nan, "a": 1.0, "b": 1.0, "T": 5}),
        (simulate_bgbb, {"alpha": 1.0, "beta": 1.0, "gamma": 0.0, "delta": 1.0, "n_periods": 5}),
    ],
)
def test_new_simulators_reject_bad_parameters(simulator, params):
    bad = next(k for k, v in params.items() if not (np.isfinite(v) and v > 0))
    with pytest.raises(ValueError, match=bad):
        simulator(10, **params, seed=0)
