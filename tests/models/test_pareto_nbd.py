"""Pareto/NBD: published CDNOW estimates, lifetimes 0.11.3 agreement, mpmath, simulation."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

from churnlab import ParetoNBD, rfm_summary
from churnlab.datasets import load_cdnow, load_cdnow_summary, simulate_pareto_nbd
from churnlab.models.pareto_nbd import (
    CDNOW_PARETO_NBD_PUBLISHED,
    CDNOW_PARETO_NBD_PUBLISHED_LOG_LIKELIHOOD,
    _log_J,
)

# The published estimates (Fader, Hardie & Lee 2005, MATLAB note 008), order (r, alpha, s, beta)
CDNOW = tuple(CDNOW_PARETO_NBD_PUBLISHED.values())
NAMES = ["r", "alpha", "s", "beta"]


def _model(params):
    model = ParetoNBD()
    model.params_ = pd.Series(params, index=NAMES, dtype=float)
    return model


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow):
    return ParetoNBD().fit(cdnow)


@pytest.fixture(scope="module")
def reference(fitted):
    """lifetimes 0.11.3 carrying our parameters: the reference for every prediction."""
    lifetimes = pytest.importorskip("lifetimes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = lifetimes.ParetoNBDFitter()
    ref.params_ = fitted.params_.copy()
    return ref


def test_cdnow_estimates_match_the_published_ones(fitted, cdnow):
    # r, alpha and s agree to the published three decimals. The likelihood is nearly flat in
    # beta (standard error 6.2): the maximum is at 11.668 (log-likelihood -9594.97393, higher
    # than -9594.97401 at the published 11.669), so beta is held to the third decimal +- 1.
    for name, published in CDNOW_PARETO_NBD_PUBLISHED.items():
        assert fitted.params_[name] == pytest.approx(published, abs=1.5e-3), name
    for name in ("r", "alpha", "s"):
        assert round(fitted.params_[name], 3) == CDNOW_PARETO_NBD_PUBLISHED[name], name
    assert fitted.log_likelihood_ == pytest.approx(
        CDNOW_PARETO_NBD_PUBLISHED_LOG_LIKELIHOOD, abs=0.05
    )
    published = _model(CDNOW)
    prep = published._prepare(
        {c: cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T")}, np.ones(len(cdnow))
    )
    assert fitted.log_likelihood_ >= published._loglik(np.array(CDNOW), prep, False)[0]
    assert fitted.converged_ and fitted.n_customers_ == 2357
    assert np.isfinite(fitted.summary["std_err"]).all()


def test_rfm_summary_of_the_transactions_gives_the_same_fit(fitted):
    # churnlab.rfm_summary at 1997-09-30 in weeks reproduces the published summary
    rfm = rfm_summary(load_cdnow("sample"), "1997-09-30", time_unit="W")
    model = ParetoNBD().fit(rfm)
    np.testing.assert_allclose(model.params_, fitted.params_, rtol=2e-3)
    assert model.log_likelihood_ == pytest.approx(fitted.log_likelihood_, abs=0.05)
    assert model.time_unit_ == "W"


def test_log_likelihood_matches_lifetimes(fitted, reference, cdnow):
    x, t_x, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    theirs = reference._conditional_log_likelihood(fitted.params_.to_numpy(), x, t_x, T).sum()
    assert fitted.log_likelihood_ == pytest.approx(theirs, rel=1e-12)


def test_predictions_match_lifetimes(fitted, reference, cdnow):
    x, t_x, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    np.testing.assert_allclose(
        fitted.probability_alive(cdnow).to_numpy(),
        reference.conditional_probability_alive(x, t_x, T),
        rtol=1e-10,
    )
    for t in (1.0, 39.0, 78.0, 500.0):
        ours = fitted.conditional_expected_purchases(t, cdnow)
        theirs = reference.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
        np.testing.assert_allclose(ours.to_numpy(), theirs, rtol=1e-10)
        assert ours.index.equals(cdnow.index)
    ts = np.array([0.5, 1.0, 39.0, 78.0, 520.0])
    np.testing.assert_allclose(
        fitted.expected_purchases(ts),
        reference.expected_number_of_purchases_up_to_time(ts),
        rtol=1e-12,
    )


def test_lifetimes_overflows_where_the_log_space_evaluation_does_not(fitted, reference):
    # x = 2000 repeat purchases, the last at T = 10,000: lifetimes' 2F1(r+s+x, r+x; ...)
    # overflows to NaN; the value here matches mpmath (MPMATH below).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = reference.conditional_probability_alive(2000, 10_000.0, 10_000.0)
    assert np.isnan(theirs)
    assert fitted.probability_alive(2000, 10_000.0, 10_000.0).iloc[0] == pytest.approx(1.0)


def test_probability_of_purchases_is_a_distribution_with_the_model_mean(fitted):
    # sum_n P(X(t) = n) = 1 and sum_n n P(X(t) = n) = E[X(t)] (note 009, section 4)
    n = np.arange(0, 3000)
    for t in (0.5, 39.0, 200.0):
        pmf = fitted.probability_of_purchases(t, n)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
        assert n @ pmf == pytest.approx(fitted.expected_purchases(t), rel=1e-9)
    assert fitted.probability_of_purchases(0.0, [0, 1, 3]).tolist() == [1.0, 0.0, 0.0]


def _mpmath_pmf(params, t, n):
    """P(X(t) = n) by 40-digit quadrature over the dropout time (note 012's conditioning)."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    r, alpha, s, beta = (mp.mpf(repr(float(v))) for v in params)
    t = mp.mpf(repr(float(t)))

    def nb(tau):
        return (
            mp.exp(mp.loggamma(r + n) - mp.loggamma(r) - mp.loggamma(n + 1))
            * (alpha / (alpha + tau)) ** r
            * (tau / (alpha + tau)) ** n
        )

    dropped = mp.quad(lambda tau: nb(tau) * s * beta**s * (beta + tau) ** (-(s + 1)), [0, t])
    return nb(t) * (beta / (beta + t)) ** s + dropped


@pytest.mark.parametrize(
    ("params", "t", "n"),
    [
        (CDNOW, 39.0, 0),
        (CDNOW, 39.0, 7),
        (CDNOW, 2.0, 1),
        ((0.5, 2.0, 3.0, 0.7), 52.0, 3),  # alpha > beta: the series in (alpha - beta)/alpha
        ((2.0, 0.3, 1.5, 500.0), 10.0, 40),  # alpha << beta
        ((1.3, 400.0, 1.0, 2.0), 1000.0, 2),
    ],
)
def test_probability_of_purchases_matches_mpmath(params, t, n):
    expected = float(_mpmath_pmf(params, t, n))
    assert _model(params).probability_of_purchases(t, n) == pytest.approx(expected, rel=1e-9)


def _mpmath_pareto(params, t, x, t_x, T):
    """ln L, P(alive), E[Y(t)|x, t_x, T] in 60 digits from note 009's published form.

    ``L = Gamma(r+x) alpha^r beta^s / Gamma(r) [(alpha+T)^-(r+x) (beta+T)^-s + s/(r+s+x) A_0]``
    with ``A_0 = F(t_x) - F(T)``, ``F(tau) = 2F1(r+s+x, b; r+s+x+1; z(tau)) / (M+tau)^(r+s+x)``:
    the hypergeometric form, term for term, independent of the integrals used here.
    """
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 60
    r, alpha, s, beta = (mp.mpf(repr(float(v))) for v in params)
    t, x, t_x, T = (mp.mpf(repr(float(v))) for v in (t, x, t_x, T))
    rsx = r + s + x
    big, small, b = (alpha, beta, s + 1) if alpha >= beta else (beta, alpha, r + x)

    def F(tau):
        z = (big - small) / (big + tau)
        return mp.hyp2f1(rsx, b, rsx + 1, z, maxterms=10**7) / (big + tau) ** rsx

    alive = (alpha + T) ** (-(r + x)) * (beta + T) ** (-s)
    bracket = alive + s / rsx * (F(t_x) - F(T))
    log_l = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(alpha) + s * mp.log(beta)
    p_alive = alive / bracket
    if s == 1:
        grow = mp.log((beta + T + t) / (beta + T))
    else:
        grow = (1 - ((beta + T) / (beta + T + t)) ** (s - 1)) / (s - 1)
    expected = p_alive * (r + x) * (beta + T) / (alpha + T) * grow
    return log_l + mp.log(bracket), p_alive, expected


# ((r, alpha, s, beta), (t, x, t_x, T), (ln L, P(alive), E[Y(t) | x, t_x, T])) from
# ``_mpmath_pareto`` (mpmath 1.4.1, 60 digits), printed to 17 significant digits. Frequencies and
# ages up to 10,000; alpha both above and below beta; s = 1 (the removable singularity).
MPMATH = [
    (
        CDNOW,
        (39.0, 10000, 9999.0, 10000.0),
        (-10017.522834037988, 0.99989605301555605, 38.911007881534516),
    ),
    (CDNOW, (1.0, 10000, 10000.0, 10000.0), (-10017.522937990375, 1.0, 0.99896832656464804)),
    (CDNOW, (10000.0, 10000, 10000.0, 10000.0), (-10017.522937990375, 1.0, 7963.9949281625201)),
    (
        CDNOW,
        (39.0, 10000, 9990.0, 10000.0),
        (-10016.677686598621, 0.42944938460529177, 16.712045555836075),
    ),
    (CDNOW, (52.0, 2000, 10000.0, 10000.0), (-5228.0261517818307, 1.0, 10.375574018878533)),
    (
        CDNOW,
        (39.0, 0, 0.0, 10000.0),
        (-0.67355902704199995, 0.00073974098954405984, 1.5918363785265469e-6),
    ),
    (
        CDNOW,
        (10000.0, 0, 0.0, 1.0),
        (-0.048710350646817122, 0.95021304030321835, 18.765946952556017),
    ),
    (
        CDNOW,
        (39.0, 2, 30.43, 38.86),
        (-9.5542832451504058, 0.86916755915301119, 1.4551231932576024),
    ),
    (CDNOW, (5.0, 3, 4.0, 10.0), (-8.6705784589752917, 0.69760493574421222, 0.56466655907347996)),
    (CDNOW, (100.0, 10000, 1000.0, 1000.0), (12916.333095381276, 1.0, 961.42284622437045)),
    (CDNOW, (3.0, 0, 0.0, 2.0), (-0.091192897469611446, 0.9044414384074089, 0.11217685949638914)),
    (
        CDNOW,
        (39.0, 50, 20.0, 10000.0),
        (-30.424113084956061, 1.9185114973722344e-127, 3.7740265389029971e-128),
    ),
    (
        (0.5, 2.0, 3.0, 0.7),
        (39.0, 10000, 9999.0, 10000.0),
        (-10034.61266772775, 0.99948473139252176, 38.747256096390246),
    ),
    (
        (0.5, 2.0, 3.0, 0.7),
        (1.0, 10000, 10000.0, 10000.0),
        (-10034.613183129154, 1.0, 0.99970008297889509),
    ),
    (
        (0.5, 2.0, 3.0, 0.7),
        (10000.0, 10000, 10000.0, 10000.0),
        (-10034.613183129154, 1.0, 3749.6125816397995),
    ),
    (
        (0.5, 2.0, 3.0, 0.7),
        (39.0, 10000, 9990.0, 10000.0),
        (-10032.578570274357, 0.13073108462050037, 5.0680822392273839),
    ),
    (
        (0.5, 2.0, 3.0, 0.7),
        (52.0, 2000, 10000.0, 10000.0),
        (-5251.8891846426909, 1.0, 10.319960267944402),
    ),
    (
        (0.5, 2.0, 3.0, 0.7),
        (39.0, 0, 0.0, 10000.0),
        (-0.068205486547675818, 5.1915346927946194e-15, 1.0062568270123361e-17),
    ),
    (
        (0.5, 2.0, 3.0, 0.7),
        (10000.0, 0, 0.0, 1.0),
        (-0.062383273293730185, 0.060672855880854113, 0.0085953210014673179),
    ),
    (
        (0.5, 2.0, 3.0, 0.7),
        (39.0, 2, 30.43, 38.86),
        (-20.414224615581748, 0.40424134444586196, 0.36516887960653694),
    ),
    (
        (0.5, 2.0, 3.0, 0.7),
        (5.0, 3, 4.0, 10.0),
        (-11.666115760807017, 0.014456208250643159, 0.012080074219750191),
    ),
    (
        (0.5, 2.0, 3.0, 0.7),
        (100.0, 10000, 1000.0, 1000.0),
        (12981.313779752692, 1.0, 866.16113276419167),
    ),
    (
        (0.5, 2.0, 3.0, 0.7),
        (3.0, 0, 0.0, 2.0),
        (-0.066771820713312763, 0.013173053723828656, 0.0017241739292268809),
    ),
    (
        (0.5, 2.0, 3.0, 0.7),
        (39.0, 50, 20.0, 10000.0),
        (-22.789360247334602, 9.1739126553401838e-142, 1.795928547908923e-142),
    ),
    (
        (2.0, 0.3, 1.5, 500.0),
        (39.0, 10000, 9999.0, 10000.0),
        (-10010.960662586741, 0.99975452799706477, 38.888755273942649),
    ),
    (
        (2.0, 0.3, 1.5, 500.0),
        (1.0, 10000, 10000.0, 10000.0),
        (-10010.960908088877, 1.0, 1.000098559855657),
    ),
    (
        (2.0, 0.3, 1.5, 500.0),
        (10000.0, 10000, 10000.0, 10000.0),
        (-10010.960908088877, 1.0, 5971.7752049536019),
    ),
    (
        (2.0, 0.3, 1.5, 500.0),
        (39.0, 10000, 9990.0, 10000.0),
        (-10009.532736987043, 0.23974699436533023, 9.3257514024122609),
    ),
    (
        (2.0, 0.3, 1.5, 500.0),
        (52.0, 2000, 10000.0, 10000.0),
        (-5232.0104602122824, 1.0, 10.371580543063912),
    ),
    (
        (2.0, 0.3, 1.5, 500.0),
        (39.0, 0, 0.0, 10000.0),
        (-7.0217808892436651, 1.0481132309967362e-8, 8.1523348911527737e-11),
    ),
    (
        (2.0, 0.3, 1.5, 500.0),
        (10000.0, 0, 0.0, 1.0),
        (-2.9227338642358217, 0.98714604949960294, 1189.3402143657174),
    ),
    (
        (2.0, 0.3, 1.5, 500.0),
        (39.0, 2, 30.43, 38.86),
        (-15.360094787617251, 0.96176401006898664, 3.6351652618575256),
    ),
    (
        (2.0, 0.3, 1.5, 500.0),
        (5.0, 3, 4.0, 10.0),
        (-10.699120397090559, 0.80156052242540219, 1.9313457227696535),
    ),
    (
        (2.0, 0.3, 1.5, 500.0),
        (100.0, 10000, 1000.0, 1000.0),
        (13019.713962760343, 1.0, 952.52966952420497),
    ),
    (
        (2.0, 0.3, 1.5, 500.0),
        (3.0, 0, 0.0, 2.0),
        (-4.0346032186781384, 0.95585536640439734, 2.4824149013580794),
    ),
    (
        (2.0, 0.3, 1.5, 500.0),
        (39.0, 50, 20.0, 10000.0),
        (-13.380987015448126, 9.3792896935165004e-140, 1.8967806315155458e-140),
    ),
    (
        (0.1, 50.0, 0.2, 0.3),
        (39.0, 10000, 9999.0, 10000.0),
        (-10057.506486402419, 0.9999657325923335, 38.789918465633682),
    ),
    (
        (0.1, 50.0, 0.2, 0.3),
        (1.0, 10000, 10000.0, 10000.0),
        (-10057.506520670414, 1.0, 0.99502487621885772),
    ),
    (
        (0.1, 50.0, 0.2, 0.3),
        (10000.0, 10000, 10000.0, 10000.0),
        (-10057.506520670414, 1.0, 9217.7845448489015),
    ),
    (
        (0.1, 50.0, 0.2, 0.3),
        (39.0, 10000, 9990.0, 10000.0),
        (-10057.153458573846, 0.70253356709975223, 27.252153647829019),
    ),
    (
        (0.1, 50.0, 0.2, 0.3),
        (52.0, 2000, 10000.0, 10000.0),
        (-5235.8382229534352, 1.0, 10.343406077918011),
    ),
    (
        (0.1, 50.0, 0.2, 0.3),
        (39.0, 0, 0.0, 10000.0),
        (-0.11279001186064634, 0.082051423360800967, 3.182845262648867e-5),
    ),
    (
        (0.1, 50.0, 0.2, 0.3),
        (10000.0, 0, 0.0, 1.0),
        (-0.0016579717801441956, 0.74558233761817967, 3.0502200295255085),
    ),
    (
        (0.1, 50.0, 0.2, 0.3),
        (39.0, 2, 30.43, 38.86),
        (-12.159267262509239, 0.94746860295114091, 0.80916468868149711),
    ),
    (
        (0.1, 50.0, 0.2, 0.3),
        (5.0, 3, 4.0, 10.0),
        (-14.26556494623705, 0.81199442510253769, 0.20115470131987563),
    ),
    (
        (0.1, 50.0, 0.2, 0.3),
        (100.0, 10000, 1000.0, 1000.0),
        (12531.004523960654, 1.0, 943.23047381021239),
    ),
    (
        (0.1, 50.0, 0.2, 0.3),
        (3.0, 0, 0.0, 2.0),
        (-0.0030187072070284295, 0.66479287729144073, 0.0034918236343191178),
    ),
    (
        (0.1, 50.0, 0.2, 0.3),
        (39.0, 50, 20.0, 10000.0),
        (-74.941076321772908, 1.8991713747136229e-107, 3.690891578783452e-108),
    ),
    (
        (1.3, 400.0, 1.0, 2.0),
        (39.0, 10000, 9999.0, 10000.0),
        (-10396.564468708811, 0.99983199237286357, 37.425655785081981),
    ),
    (
        (1.3, 400.0, 1.0, 2.0),
        (1.0, 10000, 10000.0, 10000.0),
        (-10396.564636730553, 1.0, 0.96161539118411907),
    ),
    (
        (1.3, 400.0, 1.0, 2.0),
        (10000.0, 10000, 10000.0, 10000.0),
        (-10396.564636730553, 1.0, 6666.1146072247447),
    ),
    (
        (1.3, 400.0, 1.0, 2.0),
        (39.0, 10000, 9990.0, 10000.0),
        (-10395.620975091311, 0.38920011264554229, 14.56851706937092),
    ),
    (
        (1.3, 400.0, 1.0, 2.0),
        (52.0, 2000, 10000.0, 10000.0),
        (-5302.9621953815961, 1.0, 9.9805781081118582),
    ),
    (
        (1.3, 400.0, 1.0, 2.0),
        (39.0, 0, 0.0, 10000.0),
        (-0.027513672031717108, 2.9745880509748917e-6, 1.4472918502159441e-8),
    ),
    (
        (1.3, 400.0, 1.0, 2.0),
        (10000.0, 0, 0.0, 1.0),
        (-0.0026319359644589639, 0.66625745344720872, 0.052564405631161602),
    ),
    (
        (1.3, 400.0, 1.0, 2.0),
        (39.0, 2, 30.43, 38.86),
        (-13.97233262418703, 0.7879741537238485, 0.16223820472323048),
    ),
    (
        (1.3, 400.0, 1.0, 2.0),
        (5.0, 3, 4.0, 10.0),
        (-16.870305086893844, 0.49025461424684914, 0.021490640352106981),
    ),
    (
        (1.3, 400.0, 1.0, 2.0),
        (100.0, 10000, 1000.0, 1000.0),
        (9661.6787792413055, 1.0, 680.93826392641951),
    ),
    (
        (1.3, 400.0, 1.0, 2.0),
        (3.0, 0, 0.0, 2.0),
        (-0.0044927150679129893, 0.49900544600306157, 0.0036122062050128499),
    ),
    (
        (1.3, 400.0, 1.0, 2.0),
        (39.0, 50, 20.0, 10000.0),
        (-156.17100963319677, 2.988470002543929e-74, 5.7378897753899707e-75),
    ),
]


@pytest.mark.parametrize(("params", "history", "expected"), MPMATH)
def test_likelihood_and_predictions_match_mpmath(params, history, expected):
    t, x, t_x, T = history
    log_l, p_alive, conditional = expected
    model = _model(params)
    prep = model._prepare(
        {"frequency": np.array([x], float), "recency": np.array([t_x]), "T": np.array([T])},
        np.ones(1),
    )
    # ln L to 1e-13 relative; values of order 1e4 carry absolute errors of order 1e-11 into
    # P(alive), the ratio of two such exponentials
    assert model._loglik(np.array(params), prep, False)[0] == pytest.approx(log_l, rel=1e-13)
    assert model.probability_alive(x, t_x, T).iloc[0] == pytest.approx(p_alive, rel=1e-9)
    value = model.conditional_expected_purchases(t, x, t_x, T).iloc[0]
    assert value == pytest.approx(conditional, rel=1e-9)


def test_stored_mpmath_values_are_reproduced():
    for params, history, expected in MPMATH[::9]:
        fresh = _mpmath_pareto(params, *history)
        for value, stored in zip(fresh, expected, strict=True):
            assert float(value) == pytest.approx(stored, rel=1e-14)


def _mpmath_log_J(a, b, alpha, beta, tau):
    mp = pytest.importorskip("mpmath")
    a, b, alpha, beta, tau = (
        v if isinstance(v, mp.mpf) else mp.mpf(repr(float(v))) for v in (a, b, alpha, beta, tau)
    )
    big, small, p, q = (alpha, beta, a, b) if alpha >= beta else (beta, alpha, b, a)
    c = p + q
    z = (big - small) / (big + tau)
    return (1 - c) * mp.log(big + tau) - mp.log(c - 1) + mp.log(mp.hyp2f1(q, c - 1, c, z))


@pytest.mark.parametrize(
    ("a", "b", "alpha", "beta", "tau"),
    [
        (2.6, 1.6, 10.6, 11.7, 30.0),  # CDNOW-like: the series, z ~ 0.01
        (1.6, 2.6, 120.0, 0.5, 0.0),  # z = 0.996: the quadrature
        (5000.0, 1.6, 3.0, 2000.0, 0.0),  # z near 1, the exponent of the small rate large
        (0.7, 0.4, 0.01, 5000.0, 2.0),  # both exponents below 1
        (40.0, 200.0, 1e4, 1e-3, 0.0),  # z = 1 - 1e-7
        (1.2, 0.5, 3.0, 3.0, 5.0),  # alpha = beta: z = 0
    ],
)
def test_integral_and_its_gradient_match_mpmath(a, b, alpha, beta, tau):
    mp = pytest.importorskip("mpmath")
    ours = _log_J(np.array([a]), np.array([b]), alpha, beta, np.array([tau]))
    with mp.workdps(40):
        expected = float(_mpmath_log_J(a, b, alpha, beta, tau))
    assert ours[0][0] == pytest.approx(expected, rel=1e-13)
    args = [a, b, alpha, beta, tau]
    # derivatives in alpha, beta, a, b: mpmath differentiates the 40-digit value
    for k, j in enumerate((2, 3, 0, 1)):

        def f(v, j=j):
            values = list(args)
            values[j] = v
            return _mpmath_log_J(*values)

        with mp.workdps(40):
            expected = float(mp.diff(f, mp.mpf(repr(float(args[j])))))
        assert ours[1 + k][0] == pytest.approx(expected, rel=1e-7, abs=1e-9), k


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
positive = st.floats(min_value=1e-2, max_value=1e2)
scale = st.floats(min_value=1e-2, max_value=1e4)


@st.composite
def customers(draw):
    """(x, t_x, T) rows with x up to 10,000 and ages up to 10,000."""
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        x = draw(st.integers(min_value=0, max_value=10_000))
        T = draw(st.floats(min_value=1e-2, max_value=1e4))
        t_x = draw(st.floats(min_value=0.0, max_value=1.0)) * T if x > 0 else 0.0
        rows.append((x, t_x, T))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"])


@SETTINGS
@given(
    data=customers(),
    r=positive,
    alpha=scale,
    s=positive,
    beta=scale,
    t=st.floats(min_value=0.0, max_value=1e4),
)
def test_likelihood_gradient_and_predictions_stay_finite(data, r, alpha, s, beta, t):
    model = _model([r, alpha, s, beta])
    cols = {c: data[c].to_numpy(float) for c in ("frequency", "recency", "T")}
    ll, grad = model._loglik(
        np.array([r, alpha, s, beta]), model._prepare(cols, np.ones(len(data)))
    )
    assert np.isfinite(ll) and np.all(np.isfinite(grad))
    alive = model.probability_alive(data)
    assert np.all((alive >= 0) & (alive <= 1))
    expected = model.conditional_expected_purchases(t, data)
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)


def test_analytic_gradient_matches_finite_differences(cdnow):
    model = ParetoNBD()
    prep = model._prepare(
        {c: cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T")}, np.ones(len(cdnow))
    )
    # alpha < beta, alpha > beta and far apart (the quadrature for some rows)
    for point in ([0.55, 10.6, 0.61, 11.7], [0.5, 40.0, 2.0, 5.0], [0.5, 2.0, 1.5, 900.0]):
        point = np.array(point)
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


def test_parameter_recovery_on_simulated_customers():
    # 40,000 customers drawn with the CDNOW estimates as truth, ages 30-80 weeks on a daily grid
    rng = np.random.default_rng(7)
    T = np.round(rng.uniform(30, 80, 40_000) * 7) / 7
    data = simulate_pareto_nbd(40_000, **CDNOW_PARETO_NBD_PUBLISHED, T=T, seed=11)
    model = ParetoNBD().fit(data)
    for name, value in CDNOW_PARETO_NBD_PUBLISHED.items():
        lo, hi = model.confidence_interval(0.999).loc[name]
        assert lo < value < hi, name
    assert model.params_["r"] == pytest.approx(CDNOW_PARETO_NBD_PUBLISHED["r"], rel=0.05)
    assert model.params_["alpha"] == pytest.approx(CDNOW_PARETO_NBD_PUBLISHED["alpha"], rel=0.1)
    # the simulator's alive flag against the model's P(alive), on average
    alive = model.probability_alive(data)
    assert alive.mean() == pytest.approx(data["alive"].mean(), abs=0.01)


def test_conditional_expectation_is_p_alive_times_the_expectation_if_alive(fitted, cdnow):
    if_alive = fitted.conditional_expected_purchases_if_alive(39, cdnow)
    assert if_alive.name == "expected_purchases_if_alive" and if_alive.index.equals(cdnow.index)
    np.testing.assert_allclose(
        if_alive * fitted.probability_alive(cdnow),
        fitted.conditional_expected_purchases(39, cdnow),
        rtol=1e-12,
    )
    # a newborn (x = 0, T -> 0) is alive and expects E[X(t)] (note 009, sections 4 and 6)
    t = np.array([1.0, 39.0, 400.0])
    newborn = fitted.conditional_expected_purchases(t, np.zeros(3), np.zeros(3), np.zeros(3))
    np.testing.assert_allclose(newborn, fitted.expected_purchases(t), rtol=1e-12)


def test_s_equal_one_is_the_continuous_limit():
    values = []
    for s in (1 - 1e-7, 1.0, 1 + 1e-7):
        model = _model([0.5, 3.0, s, 4.0])
        values.append(
            np.r_[
                model.conditional_expected_purchases(20.0, [0, 4], [0.0, 8.0], [5.0, 10.0]),
                model.expected_purchases(20.0),
            ]
        )
    np.testing.assert_allclose(values[1], (values[0] + values[2]) / 2, rtol=1e-7)


@pytest.mark.parametrize(
    ("column", "change", "bad_row"),
    [
        ("frequency", {"frequency": [1.5, 0, 1]}, "c1"),
        ("frequency", {"frequency": [1, 0, -1]}, "c3"),
        ("recency", {"recency": [1.0, 0.0, 9.0]}, "c3"),
        ("recency", {"recency": [1.0, 2.0, 2.0]}, "c2"),
        ("T", {"T": [0.0, 5.0, 5.0]}, "c1"),
        ("T", {"T": [5.0, np.inf, 5.0]}, "c2"),
    ],
)
def test_bad_input_names_the_column_and_shows_the_rows(fitted, column, change, bad_row):
    index = pd.Index(["c1", "c2", "c3"], name="customer_id")
    data = pd.DataFrame(
        {"frequency": [1, 0, 1], "recency": [1.0, 0.0, 2.0], "T": [5.0, 5.0, 5.0]}, index=index
    )
    bad = data.assign(**change)
    for call in (lambda: ParetoNBD().fit(bad), lambda: fitted.probability_alive(bad)):
        with pytest.raises(ValueError, match=f"column '{column}'.* in 1 row") as err:
            call()
        assert bad_row in str(err.value).split("row(s):")[1]
    with pytest.raises(ValueError, match="t must be"):
        fitted.conditional_expected_purchases(-1.0, data)
    with pytest.raises(ValueError, match="n must"):
        fitted.probability_of_purchases(1.0, 0.5)


def test_predicting_before_fit_raises_not_fitted(cdnow):
    model = ParetoNBD()
    for call in (
        lambda: model.probability_alive(cdnow),
        lambda: model.conditional_expected_purchases(1, cdnow),
        lambda: model.expected_purchases(1.0),
        lambda: model.probability_of_purchases(1.0, 1),
    ):
        with pytest.raises(NotFittedError):
            call()


def test_json_round_trip(fitted, cdnow, tmp_path):
    path = tmp_path / "pareto.json"
    fitted.save(path)
    loaded = ParetoNBD.load(path)
    pd.testing.assert_series_equal(loaded.params_, fitted.params_)
    pd.testing.assert_frame_equal(loaded.summary, fitted.summary)
    pd.testing.assert_series_equal(
        loaded.conditional_expected_purchases(39, cdnow),
        fitted.conditional_expected_purchases(39, cdnow),
    )
