"""EMPC, MPC and profit curves (Verbraken, Verbeke & Baesens 2013)."""

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.stats import beta as beta_dist

from churnlab.churn import empc, expected_gain, mpc, profit_curve, roc_convex_hull

CLV, D, F, ALPHA, BETA = 200.0, 10.0, 1.0, 6.0, 14.0  # the paper's default campaign


def _roc_points(y, s):
    """Every ROC point (F_1, F_0) of a score, by brute force over distinct thresholds."""
    y = np.asarray(y, float)
    s = np.asarray(s, float)
    thresholds = np.r_[np.inf, np.sort(np.unique(s))[::-1]]
    r1 = np.array([((s >= t) & (y == 0)).sum() / (y == 0).sum() for t in thresholds])
    r0 = np.array([((s >= t) & (y == 1)).sum() / (y == 1).sum() for t in thresholds])
    return r1, r0


def _paper_profit(gamma, r1, r0, pi0):
    """P(t; gamma) of the paper for every ROC point, per customer."""
    delta, phi = D / CLV, F / CLV
    return CLV * (gamma * (1 - delta) - phi) * pi0 * r0 - CLV * (delta + phi) * (1 - pi0) * r1


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(7)
    y = rng.binomial(1, 0.3, 400)
    s = np.round(y * 0.8 + rng.normal(0, 1, 400), 1)  # rounding creates ties
    return y, s


def test_perfect_score_hand_computed():
    # Perfect ranking, half churners: contact the churners only, profit per customer
    # CLV x pi_0 x (E[gamma] (1 - delta) - phi) = 200 x 0.5 x (0.3 x 0.95 - 0.005) = 28.0,
    # up to the Beta(6, 14) mass below phi / (1 - delta) = 0.00526 (< 1e-9).
    r = empc([1, 0], [0.9, 0.1])
    assert r.empc == pytest.approx(28.0, abs=1e-6)
    assert r.fraction == pytest.approx(0.5, abs=1e-9)


def test_small_case_hand_computed():
    # y = [1, 0, 1, 0] scored [.9, .8, .7, .1]: hull vertices (F_1, F_0) = (0,0), (0,.5),
    # (.5,1), (1,1); pi_0 = .5, delta = .05, phi = .005. Vertex 1 wins above
    # gamma_0 = phi / (1 - delta) = 0.005263; vertex 2 above
    # gamma_1 = (.5 x .055 x .5) / (.5 x .95 x .5) + 0.005263 = 0.063158; vertex 3 never
    # (horizontal segment). EMPC = 200 [ .25 (.95 E[g; g0<g<g1] - .005 P(g0<g<g1))
    #                                  + (.5 (.95 E[g; g>g1] - .005 P(g>g1)) - .055 x .25 P(g>g1)) ]
    g0, g1 = 0.005 / 0.95, (0.5 * 0.055 * 0.5) / (0.5 * 0.95 * 0.5) + 0.005 / 0.95
    m = ALPHA / (ALPHA + BETA)
    mass01 = beta_dist.cdf(g1, ALPHA, BETA) - beta_dist.cdf(g0, ALPHA, BETA)
    first01 = m * (beta_dist.cdf(g1, ALPHA + 1, BETA) - beta_dist.cdf(g0, ALPHA + 1, BETA))
    mass1 = beta_dist.sf(g1, ALPHA, BETA)
    first1 = m * beta_dist.sf(g1, ALPHA + 1, BETA)
    expected = 200 * (
        0.25 * (0.95 * first01 - 0.005 * mass01)
        + 0.5 * (0.95 * first1 - 0.005 * mass1)
        - 0.055 * 0.25 * mass1
    )
    r = empc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])
    assert r.empc == pytest.approx(expected, rel=1e-12)
    assert r.fraction == pytest.approx(0.25 * mass01 + 0.75 * mass1, rel=1e-12)
    hull = roc_convex_hull([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])
    np.testing.assert_allclose(
        hull[["fpr", "tpr"]].to_numpy(), [[0, 0], [0, 0.5], [0.5, 1], [1, 1]]
    )


@pytest.mark.parametrize("params", [{}, {"clv": 50.0, "incentive": 5.0, "alpha": 2, "beta": 3}])
def test_empc_equals_numeric_integration(scored, params):
    # Independent route: integrate max over *all* ROC points of P(t; gamma) against the
    # Beta(alpha, beta) density with scipy.integrate.quad; the closed form on the hull must
    # agree to integration accuracy.
    y, s = scored
    clv = params.get("clv", CLV)
    d = params.get("incentive", D)
    a, b = params.get("alpha", ALPHA), params.get("beta", BETA)
    r1, r0 = _roc_points(y, s)
    pi0 = y.mean()
    delta, phi = d / clv, F / clv

    def profit(g):
        p = clv * (g * (1 - delta) - phi) * pi0 * r0 - clv * (delta + phi) * (1 - pi0) * r1
        return p.max()

    def fraction(g):
        p = clv * (g * (1 - delta) - phi) * pi0 * r0 - clv * (delta + phi) * (1 - pi0) * r1
        k = np.argmax(p)
        return pi0 * r0[k] + (1 - pi0) * r1[k]

    # Kinks of the upper envelope: where any two points' (linear in gamma) profits cross.
    slope_, level_ = (
        clv * (1 - delta) * pi0 * r0,
        -clv * (phi * pi0 * r0 + (delta + phi) * (1 - pi0) * r1),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = (level_[None, :] - level_[:, None]) / (slope_[:, None] - slope_[None, :])
    candidates = np.unique(cross[np.isfinite(cross) & (cross > 0) & (cross < 1)])
    # keep the crossings that lie on the envelope (brute force, no hull involved)
    on_top = [g for g in candidates if np.sum(np.isclose(slope_ * g + level_, profit(g))) >= 2]
    kinks = np.array(on_top)
    opts = {"limit": 5000, "epsabs": 1e-12, "epsrel": 1e-12, "points": kinks}
    expected = quad(lambda g: profit(g) * beta_dist.pdf(g, a, b), 0, 1, **opts)[0]
    expected_fraction = quad(lambda g: fraction(g) * beta_dist.pdf(g, a, b), 0, 1, **opts)[0]
    r = empc(y, s, clv=clv, incentive=d, contact=F, alpha=a, beta=b)
    assert r.empc == pytest.approx(expected, rel=1e-7)
    assert r.fraction == pytest.approx(expected_fraction, abs=1e-6)


def test_mpc_is_the_paper_profit_maximised_over_thresholds(scored):
    # MPC at gamma = 0.3 equals max over ROC points of the paper's P(t; gamma), and the
    # fraction targeted is pi_0 F_0 + pi_1 F_1 at the best point.
    y, s = scored
    r1, r0 = _roc_points(y, s)
    p = _paper_profit(0.3, r1, r0, y.mean())
    r = mpc(y, s, clv=CLV, incentive=D, contact=F, accept_rate=0.3)
    assert r.mpc == pytest.approx(p.max(), rel=1e-12)
    k = np.argmax(p)
    assert r.fraction == pytest.approx(y.mean() * r0[k] + (1 - y.mean()) * r1[k])
    assert r.profit == pytest.approx(p.max() * len(y))


def test_empc_is_at_most_the_perfect_model_and_beats_random(scored):
    y, s = scored
    rng = np.random.default_rng(0)
    assert empc(y, y).empc > empc(y, s).empc > empc(y, rng.random(len(y))).empc


def test_profit_curve_hand_computed_per_customer_clv():
    # Churner gain = accept_rate (clv_i - d) - f; non-churner gain = -(d + f).
    # Scores put customers in order c1 (churner, clv 300), c2 (non-churner), c3 (churner,
    # clv 50): gains 0.5 x 290 - 1 = 144, -11, 0.5 x 40 - 1 = 19.
    curve = profit_curve([1, 0, 1], [0.9, 0.5, 0.2], clv=[300.0, 80.0, 50.0], accept_rate=0.5)
    np.testing.assert_allclose(curve["profit"], [0, 144, 133, 152])
    np.testing.assert_allclose(curve["clv_targeted"], [0, 300, 300, 350])
    np.testing.assert_allclose(curve["churners_targeted"], [0, 1, 1, 2])
    best = mpc([1, 0, 1], [0.9, 0.5, 0.2], clv=[300.0, 80.0, 50.0], accept_rate=0.5)
    assert best.profit == 152 and best.fraction == 1.0


def test_constant_clv_array_equals_scalar(scored):
    y, s = scored
    a = profit_curve(y, s, clv=120.0)
    b = profit_curve(y, s, clv=np.full(len(y), 120.0))
    pd.testing.assert_frame_equal(a, b)


def test_ties_share_one_point(scored):
    # A constant score offers two choices only: nobody or everybody.
    y, _ = scored
    curve = profit_curve(y, np.zeros(len(y)))
    assert curve["n_targeted"].tolist() == [0, len(y)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"clv": 5.0}, "must exceed the incentive"),
        ({"incentive": -1.0}, "incentive="),
        ({"alpha": 0.0}, "alpha="),
    ],
)
def test_empc_bad_campaign(scored, kwargs, match):
    y, s = scored
    with pytest.raises(ValueError, match=match):
        empc(y, s, **kwargs)


def test_profit_curve_bad_inputs(scored):
    y, s = scored
    with pytest.raises(ValueError, match="clv has 3 values"):
        profit_curve(y, s, clv=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="column 'clv'"):
        profit_curve(y, s, clv=np.r_[np.nan, np.ones(len(y) - 1)])
    with pytest.raises(ValueError, match="accept_rate"):
        profit_curve(y, s, accept_rate=1.5)
    with pytest.raises(ValueError, match="one class"):
        empc(np.ones(5), np.arange(5))


def test_expected_gain_hand_computed_and_consistent_with_the_profit_curve():
    # p = 0.8, clv 300: 0.8 (0.3 x 290 - 1) - 0.2 x 11 = 0.8 x 86 - 2.2 = 66.6;
    # p = 0.1, clv 20: 0.1 (0.3 x 10 - 1) - 0.9 x 11 = 0.2 - 9.9 = -9.7.
    p = pd.Series([0.8, 0.1], index=pd.Index([7, 9], name="customer_id"))
    gain = expected_gain(p, clv=[300.0, 20.0], accept_rate=0.3)
    np.testing.assert_allclose(gain, [66.6, -9.7])
    assert gain.index.tolist() == [7, 9] and gain.name == "expected_gain"
    # With the outcomes themselves as probabilities, the gains add up to the profit curve's
    # total profit of contacting everybody.
    y = np.array([1, 0, 1, 1, 0])
    clv = np.array([300.0, 80.0, 50.0, 12.0, 500.0])
    total = profit_curve(y, np.arange(5.0), clv=clv)["profit"].iloc[-1]
    assert expected_gain(y.astype(float), clv=clv).sum() == pytest.approx(total)


def test_expected_gain_bad_input():
    with pytest.raises(ValueError, match="column 'churn_probability'"):
        expected_gain([0.5, 1.2], clv=100.0)
    with pytest.raises(ValueError, match="clv has 1 values"):
        expected_gain([0.5, 0.2], clv=[100.0])


def test_series_are_matched_by_customer_id_not_by_position():
    # The same customers in another order must give the same answers as aligned input; a
    # positional match would pair customer 1's label with customer 4's score.
    ids = pd.Index([1, 2, 3, 4], name="customer_id")
    y = pd.Series([1, 0, 1, 0], index=ids)
    score = pd.Series([0.9, 0.8, 0.7, 0.1], index=ids)
    clv = pd.Series([100.0, 50.0, 300.0, 20.0], index=ids)
    shuffled = [3, 1, 4, 2]
    aligned = profit_curve(y, score, clv=clv)
    pd.testing.assert_frame_equal(
        profit_curve(y, score.loc[shuffled], clv=clv.loc[shuffled]), aligned
    )
    assert aligned["clv_targeted"].iloc[-1] == 400.0  # churners 1 and 3: 100 + 300
    gain = expected_gain(score, clv=clv.loc[shuffled])
    # customer 3: 0.7 x (0.3 x (300 - 10) - 1) - 0.3 x 11 = 60.2 - 3.3 = 56.9
    assert gain.loc[3] == pytest.approx(56.9)
    other = score.set_axis([1, 2, 3, 5])
    with pytest.raises(ValueError, match="score is indexed by other customers"):
        profit_curve(y, other, clv=100)
    with pytest.raises(ValueError, match="clv is indexed by other customers"):
        mpc(y, score, clv=clv.set_axis([1, 2, 3, 5]))
