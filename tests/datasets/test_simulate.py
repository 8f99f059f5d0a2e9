"""The simulators draw from the processes the models assume.

Checked independently of churnlab's own fitters: the reference implementation (lifetimes
0.11.3) must recover the planted parameters, and closed-form moments must hold.
"""

import numpy as np
import pytest

from churnlab.datasets import simulate_bgnbd, simulate_gamma_gamma
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
