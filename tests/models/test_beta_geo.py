"""BG/NBD: published CDNOW estimates, lifetimes 0.11.3 agreement, mpmath, simulation."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from churnlab import BetaGeo, rfm_summary
from churnlab.datasets import load_cdnow, load_cdnow_summary, simulate_bgnbd
from churnlab.models.beta_geo import (
    CDNOW_BGNBD_PUBLISHED,
    CDNOW_BGNBD_PUBLISHED_LOG_LIKELIHOOD,
    _expected_if_alive,
    _expected_if_alive_quadrature,
)

# FHL (2005) estimates on the CDNOW sample, in the order (r, alpha, a, b)
CDNOW = tuple(CDNOW_BGNBD_PUBLISHED.values())
# Hardie, "Implementing the BG/NBD model in Excel" (note 004): E[Y(39) | x=2, t_x=30.43,
# T=38.86] = 1.226 for customer 1 of the CDNOW sample.
HARDIE_CUSTOMER_1 = {"t": 39.0, "x": 2, "t_x": 30.43, "T": 38.86, "expected": 1.226}


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow):
    return BetaGeo().fit(cdnow)


@pytest.fixture(scope="module")
def reference(fitted):
    """lifetimes 0.11.3 carrying our parameters: the reference for every prediction."""
    lifetimes = pytest.importorskip("lifetimes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = lifetimes.BetaGeoFitter()
    ref.params_ = fitted.params_.copy()
    return ref


def test_cdnow_estimates_match_fhl2005(fitted):
    for name, published in CDNOW_BGNBD_PUBLISHED.items():
        assert fitted.params_[name] == pytest.approx(published, abs=5e-4), name
    assert fitted.log_likelihood_ == pytest.approx(CDNOW_BGNBD_PUBLISHED_LOG_LIKELIHOOD, abs=0.05)
    assert fitted.converged_ and fitted.n_iter_ > 0
    assert fitted.n_customers_ == 2357
    assert fitted.n_unique_ < 2357  # the published summary repeats many (x, t_x, T) rows


def test_hardie_spreadsheet_conditional_expectation(fitted):
    c = HARDIE_CUSTOMER_1
    value = fitted.conditional_expected_purchases(c["t"], c["x"], c["t_x"], c["T"])
    assert value.iloc[0] == pytest.approx(c["expected"], abs=5e-4)


def test_predictions_match_lifetimes(fitted, reference, cdnow):
    x, t_x, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    for t in (1.0, 39.0, 78.0, 500.0):
        ours = fitted.conditional_expected_purchases(t, cdnow)
        theirs = reference.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
        np.testing.assert_allclose(ours.to_numpy(), np.asarray(theirs), rtol=1e-6, atol=1e-9)
        assert ours.index.equals(cdnow.index)
    np.testing.assert_allclose(
        fitted.probability_alive(cdnow).to_numpy(),
        reference.conditional_probability_alive(x.to_numpy(), t_x.to_numpy(), T.to_numpy()),
        rtol=1e-6,
    )
    ts = np.array([0.5, 1.0, 39.0, 78.0, 520.0])
    np.testing.assert_allclose(
        fitted.expected_purchases(ts),
        reference.expected_number_of_purchases_up_to_time(ts),
        rtol=1e-6,
    )
    for t in (1.0, 39.0, 78.0):
        for n in (0, 1, 2, 5, 20):
            assert fitted.probability_of_purchases(t, n) == pytest.approx(
                reference.probability_of_n_purchases_up_to_time(t, n), rel=1e-6, abs=1e-12
            )


def test_probability_of_purchases_is_a_distribution_with_mean_eq9(fitted):
    # Sum over n of P(X(t) = n) is 1 and its mean is E[X(t)] (eq. 8 against eq. 9).
    n = np.arange(0, 3000)
    for t in (1.0, 39.0, 200.0):
        pmf = fitted.probability_of_purchases(t, n)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
        assert n @ pmf == pytest.approx(fitted.expected_purchases(t), rel=1e-8)


def test_unconditional_is_conditional_for_a_newborn(fitted):
    # Eq. (9) is eq. (10) for x = 0 and T -> 0 (no history, P(alive) = 1).
    t = np.array([1.0, 39.0, 400.0])
    newborn = fitted.conditional_expected_purchases(t, np.zeros(3), np.zeros(3), np.full(3, 1e-12))
    np.testing.assert_allclose(newborn.to_numpy(), fitted.expected_purchases(t), rtol=1e-9)


def _mpmath_conditional(params, t, x, t_x, T):
    """Equation (10) of FHL (2005) in 60-digit arithmetic, term for term (no transformation)."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 60
    r, alpha, a, b = (mpmath.mpf(repr(float(v))) for v in params)
    t, x, t_x, T = (mpmath.mpf(repr(float(v))) for v in (t, x, t_x, T))
    hyp = mpmath.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t), maxterms=10**7)
    bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
    num = (a + b + x - 1) / (a - 1) * bracket
    den = 1 + (a / (b + x - 1)) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 1
    return num / den


# ((r, alpha, a, b), (t, x, t_x, T), E[Y(t) | x, t_x, T]) from ``_mpmath_conditional`` (mpmath
# 1.3.0, 60 digits), printed to 17 significant digits. Frequencies and ages up to 10,000; the
# second block of rows has z = t/(alpha+T+t) up to 0.9999 (the scipy fallback region).
MPMATH_EQ10 = [
    (CDNOW, (39.0, 10000, 9999.0, 10000.0), 38.915251933579811),
    (CDNOW, (1.0, 10000, 10000.0, 10000.0), 0.99946423202200418),
    (CDNOW, (10000.0, 10000, 10000.0, 10000.0), 7450.7775905342746),
    (CDNOW, (39.0, 10000, 9990.0, 10000.0), 14.164868184350379),
    (CDNOW, (52.0, 2000, 10000.0, 10000.0), 10.371226165893405),
    (CDNOW, (39.0, 0, 0.0, 10000.0), 0.00094671718230942076),
    (CDNOW, (10000.0, 0, 0.0, 1.0), 14.107246925674794),
    (CDNOW, (39.0, 2, 30.43, 38.86), 1.2260281747671444),
    (CDNOW, (5.0, 3, 4.0, 10.0), 0.50963758078621754),
    (CDNOW, (100.0, 10000, 1000.0, 1000.0), 958.44479056486056),
    (CDNOW, (3.0, 0, 0.0, 2.0), 0.10652945714626367),
    ((0.5, 2.0, 3.0, 0.7), (39.0, 10000, 9999.0, 10000.0), 38.735724439911014),
    ((0.5, 2.0, 3.0, 0.7), (1.0, 10000, 10000.0, 10000.0), 0.99940030634619824),
    ((0.5, 2.0, 3.0, 0.7), (10000.0, 10000, 10000.0, 10000.0), 3749.362509016838),
    ((0.5, 2.0, 3.0, 0.7), (39.0, 10000, 9990.0, 10000.0), 5.0800272083532074),
    ((0.5, 2.0, 3.0, 0.7), (52.0, 2000, 10000.0, 10000.0), 10.30459928079007),
    ((0.5, 2.0, 3.0, 0.7), (39.0, 0, 0.0, 10000.0), 0.0019450000109389037),
    ((0.5, 2.0, 3.0, 0.7), (10000.0, 0, 0.0, 1.0), 1.3209582857353314),
    ((0.5, 2.0, 3.0, 0.7), (39.0, 2, 30.43, 38.86), 0.30330786707946701),
    ((0.5, 2.0, 3.0, 0.7), (5.0, 3, 4.0, 10.0), 0.075229411442563472),
    ((0.5, 2.0, 3.0, 0.7), (100.0, 10000, 1000.0, 1000.0), 866.07756151940105),
    ((0.5, 2.0, 3.0, 0.7), (3.0, 0, 0.0, 2.0), 0.2621314424696224),
    ((2.0, 0.3, 1.5, 5.0), (39.0, 10000, 9999.0, 10000.0), 38.877099018206588),
    ((2.0, 0.3, 1.5, 5.0), (1.0, 10000, 10000.0, 10000.0), 0.99994508509319292),
    ((2.0, 0.3, 1.5, 5.0), (10000.0, 10000, 10000.0, 10000.0), 5858.8639647976677),
    ((2.0, 0.3, 1.5, 5.0), (39.0, 10000, 9990.0, 10000.0), 8.9928717061880368),
    ((2.0, 0.3, 1.5, 5.0), (52.0, 2000, 10000.0, 10000.0), 10.361978931961024),
    ((2.0, 0.3, 1.5, 5.0), (39.0, 0, 0.0, 10000.0), 0.0077892548525959844),
    ((2.0, 0.3, 1.5, 5.0), (10000.0, 0, 0.0, 1.0), 10.757709825790792),
    ((2.0, 0.3, 1.5, 5.0), (39.0, 2, 30.43, 38.86), 1.6993857652946422),
    ((2.0, 0.3, 1.5, 5.0), (5.0, 3, 4.0, 10.0), 0.11094252729200645),
    ((2.0, 0.3, 1.5, 5.0), (100.0, 10000, 1000.0, 1000.0), 930.5571881032569),
    ((2.0, 0.3, 1.5, 5.0), (3.0, 0, 0.0, 2.0), 1.8466301009755289),
    ((0.1, 50.0, 0.2, 0.3), (39.0, 10000, 9999.0, 10000.0), 38.789222843175531),
    ((0.1, 50.0, 0.2, 0.3), (1.0, 10000, 10000.0, 10000.0), 0.99500502333310526),
    ((0.1, 50.0, 0.2, 0.3), (10000.0, 10000, 10000.0, 10000.0), 9220.3168748093576),
    ((0.1, 50.0, 0.2, 0.3), (39.0, 10000, 9990.0, 10000.0), 27.292814896577656),
    ((0.1, 50.0, 0.2, 0.3), (52.0, 2000, 10000.0, 10000.0), 10.342396378373255),
    ((0.1, 50.0, 0.2, 0.3), (39.0, 0, 0.0, 10000.0), 0.00038772912081906434),
    ((0.1, 50.0, 0.2, 0.3), (10000.0, 0, 0.0, 1.0), 5.8117301330228499),
    ((0.1, 50.0, 0.2, 0.3), (39.0, 2, 30.43, 38.86), 0.73942402950335018),
    ((0.1, 50.0, 0.2, 0.3), (5.0, 3, 4.0, 10.0), 0.22837291208424971),
    ((0.1, 50.0, 0.2, 0.3), (100.0, 10000, 1000.0, 1000.0), 943.62918442458332),
    ((0.1, 50.0, 0.2, 0.3), (3.0, 0, 0.0, 2.0), 0.0056982824110742477),
]


@pytest.mark.parametrize(("params", "history", "expected"), MPMATH_EQ10)
def test_conditional_expectation_matches_mpmath(params, history, expected):
    model = BetaGeo()
    model.params_ = pd.Series(params, index=["r", "alpha", "a", "b"])
    ours = model.conditional_expected_purchases(*history).iloc[0]
    assert ours == pytest.approx(expected, rel=1e-8)


# E[X(t)] (eq. 9) where scipy.special.hyp2f1 1.17 returns inf (C - A - B an integer, z near 1)
# and the series cancels; references from mpmath 1.3.0 at 40 digits.
MPMATH_EQ9_HARD = [
    ((1.0, 0.5, 95.0, 12.0), 6.0, 1.0306958412053873880),
    ((62.0, 0.5, 73.0, 100.0), 368.0, 2.3888888888888888889),
]


@pytest.mark.parametrize(("params", "t", "expected"), MPMATH_EQ9_HARD)
def test_unconditional_expectation_where_scipy_fails(params, t, expected):
    model = BetaGeo()
    model.params_ = pd.Series(params, index=["r", "alpha", "a", "b"])
    assert model.expected_purchases(t) == pytest.approx(expected, rel=1e-8)


def test_stored_mpmath_values_are_reproduced():
    for params, history, expected in MPMATH_EQ10[::7]:
        assert float(_mpmath_conditional(params, *history)) == pytest.approx(expected, rel=1e-14)


def test_removable_singularity_at_a_equal_one():
    # (a+b+x-1)/(a-1) [1 - ...] has a finite limit at a = 1; the value there is continuous.
    model = BetaGeo()
    values = []
    for a in (1.0 - 1e-7, 1.0, 1.0 + 1e-7):
        model.params_ = pd.Series([0.5, 3.0, a, 2.0], index=["r", "alpha", "a", "b"])
        values.append(model.conditional_expected_purchases(20.0, [0, 4], [0.0, 8.0], [5.0, 10.0]))
    np.testing.assert_allclose(values[1], (values[0] + values[2]) / 2, rtol=1e-6)
    assert np.all(np.isfinite(values[1]))


def test_expected_if_alive_is_vectorised_over_mixed_rows():
    # rows that converge at once and rows that need many terms, evaluated together and apart
    x = np.array([0.0, 5.0, 10_000.0, 0.0])
    T = np.array([1.0, 20.0, 10_000.0, 0.0])
    t = np.array([5_000.0, 10.0, 39.0, 0.0])
    together = _expected_if_alive(0.3, 4.0, 0.8, 2.5, x, T, t)
    apart = [_expected_if_alive(0.3, 4.0, 0.8, 2.5, x[i], T[i], t[i]) for i in range(4)]
    np.testing.assert_allclose(together, apart, rtol=1e-14)
    assert together[-1] == 0.0  # t = 0: nothing expected


def test_probability_alive_is_one_without_repeat_purchases(fitted):
    p = fitted.probability_alive(
        pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [1.0, 1_000.0]})
    )
    assert p.tolist() == [1.0, 1.0]


def test_input_forms_give_the_same_predictions_and_keep_the_index(fitted, cdnow):
    frame = cdnow.iloc[:50].copy()
    frame.index = [f"c{i}" for i in range(50)]
    before = frame.copy()
    from_frame = fitted.conditional_expected_purchases(10, frame)
    from_series = fitted.conditional_expected_purchases(
        10, frame["frequency"], frame["recency"], frame["T"]
    )
    from_arrays = fitted.conditional_expected_purchases(
        10, frame["frequency"].to_numpy(), frame["recency"].to_numpy(), frame["T"].to_numpy()
    )
    pd.testing.assert_series_equal(from_frame, from_series)
    np.testing.assert_array_equal(from_frame.to_numpy(), from_arrays.to_numpy())
    assert list(from_frame.index) == list(frame.index)
    assert isinstance(from_arrays.index, pd.RangeIndex)
    pd.testing.assert_frame_equal(frame, before)  # the caller's data are not touched
    series_t = pd.Series([1.0, 39.0], index=["a", "b"])
    assert fitted.expected_purchases(series_t).index.tolist() == ["a", "b"]
    assert isinstance(fitted.expected_purchases(39.0), float)


def test_parameter_recovery_on_100000_simulated_customers():
    # Planted truth = the CDNOW estimates; ages spread over 30-80 periods.
    truth = CDNOW_BGNBD_PUBLISHED
    T = np.random.default_rng(7).uniform(30, 80, 100_000)
    data = simulate_bgnbd(100_000, **truth, T=T, seed=11)
    model = BetaGeo().fit(data)
    for name, value in truth.items():
        assert model.params_[name] == pytest.approx(value, rel=0.05), name
        lo, hi = model.confidence_interval(0.999).loc[name]
        assert lo < value < hi, name


@pytest.mark.parametrize(
    ("column", "change", "bad_row"),
    [
        ("frequency", {"frequency": [1.5, 0, 1]}, "c1"),  # non-integer
        ("frequency", {"frequency": [1, 0, -1]}, "c3"),  # negative
        ("frequency", {"frequency": [1, np.nan, 1]}, "c2"),  # NaN
        ("recency", {"recency": [1.0, 0.0, 9.0]}, "c3"),  # recency > T
        ("recency", {"recency": [-1.0, 0.0, 1.0]}, "c1"),  # negative
        ("recency", {"recency": [np.nan, 0.0, 1.0]}, "c1"),  # NaN
        ("recency", {"recency": [1.0, 2.0, 2.0]}, "c2"),  # recency > 0 without repeats
        ("T", {"T": [0.0, 5.0, 5.0]}, "c1"),  # age not positive
        ("T", {"T": [5.0, np.inf, 5.0]}, "c2"),  # infinite
    ],
)
def test_bad_input_names_the_column_and_shows_the_rows(column, change, bad_row):
    index = pd.Index(["c1", "c2", "c3"], name="customer_id")
    data = pd.DataFrame(
        {"frequency": [1, 0, 1], "recency": [1.0, 0.0, 2.0], "T": [5.0, 5.0, 5.0]}, index=index
    )
    bad = data.assign(**change)
    for call in (lambda: BetaGeo().fit(bad), lambda: _FITTED_TINY.probability_alive(bad)):
        with pytest.raises(ValueError, match=f"column '{column}'.* in 1 row") as err:
            call()
        shown = str(err.value).split("row(s):")[1]
        assert bad_row in shown and not ({"c1", "c2", "c3"} - {bad_row}) & set(shown.split())


_FITTED_TINY = BetaGeo()  # predictions check their input like fit does
_FITTED_TINY.params_ = pd.Series(CDNOW_BGNBD_PUBLISHED)


def test_missing_column_and_mixed_arguments_are_refused(fitted, cdnow):
    with pytest.raises(ValueError, match=r"\['T'\]"):
        BetaGeo().fit(cdnow.drop(columns="T"))
    with pytest.raises(ValueError, match="not both"):
        BetaGeo().fit(cdnow, cdnow["recency"])
    with pytest.raises(ValueError, match="required"):
        BetaGeo().fit(cdnow["frequency"])
    with pytest.raises(ValueError, match="t must be"):
        fitted.conditional_expected_purchases(-1.0, cdnow)
    with pytest.raises(ValueError, match="n must"):
        fitted.probability_of_purchases(1.0, 1.5)


def test_predicting_before_fit_raises_not_fitted(cdnow):
    model = BetaGeo()
    for call in (
        lambda: model.probability_alive(cdnow),
        lambda: model.conditional_expected_purchases(1, cdnow),
        lambda: model.expected_purchases(1.0),
        lambda: model.probability_of_purchases(1.0, 1),
        lambda: model.summary,
    ):
        with pytest.raises(NotFittedError):
            call()


def test_predictions_refuse_data_in_another_time_unit():
    tx = load_cdnow("sample")
    weeks = rfm_summary(tx, "1997-09-30", time_unit="W")
    days = rfm_summary(tx, "1997-09-30", time_unit="D")
    model = BetaGeo().fit(weeks)
    assert model.time_unit_ == "W" and model.summary.attrs["time_unit"] == "W"
    with pytest.raises(ValueError, match="time_unit='D'.*fitted on data in time_unit='W'"):
        model.probability_alive(days)
    assert BetaGeo.from_dict(model.to_dict()).time_unit_ == "W"
    assert BetaGeo().fit(load_cdnow_summary()).time_unit_ is None  # not recorded there


def test_nothing_happens_in_no_time(fitted, cdnow):
    # t = 0: X(0) = 0 surely (eq. 8), and no purchase is expected (eqs. 9 and 10)
    assert fitted.probability_of_purchases(0.0, [0, 1, 5]).tolist() == [1.0, 0.0, 0.0]
    assert fitted.expected_purchases(0.0) == 0.0
    assert (fitted.conditional_expected_purchases(0.0, cdnow) == 0.0).all()


def test_customers_born_at_the_end_of_observation(fitted, cdnow):
    # rfm_summary gives T = 0 to a customer whose first purchase is on observation_end. With
    # x = 0 and T = 0 the likelihood term (alpha / (alpha + T))^r is exactly 1 (eq. 6), so
    # adding such customers changes nothing in the fit; their P(alive) is 1 and their
    # conditional expectation is the unconditional eq. (9).
    newborn = pd.DataFrame(
        {"frequency": [0] * 3, "recency": [0.0] * 3, "T": [0.0] * 3},
        index=pd.Index([-1, -2, -3], name=cdnow.index.name),
    )
    with_newborn = pd.concat([cdnow[["frequency", "recency", "T"]], newborn])
    refit = BetaGeo().fit(with_newborn)
    assert refit.log_likelihood_ == pytest.approx(fitted.log_likelihood_, abs=1e-6)
    np.testing.assert_allclose(refit.params_, fitted.params_, rtol=1e-5)
    assert (fitted.probability_alive(newborn) == 1.0).all()
    np.testing.assert_allclose(
        fitted.conditional_expected_purchases(39, newborn), fitted.expected_purchases(39)
    )
    for bad in ({"T": [-1.0, 0.0, 0.0]}, {"frequency": [1, 0, 0], "recency": [0.0] * 3}):
        with pytest.raises(ValueError, match="column 'T'.* in 1 row"):
            BetaGeo().fit(newborn.assign(**bad))


def test_expectation_if_alive_is_eq10_without_p_alive(fitted, cdnow):
    # eq. (10) = P(alive) x the bracket; Hardie's spreadsheet: 1.226 for x=2, t_x=30.43,
    # T=38.86, t=39 at the CDNOW estimates.
    if_alive = fitted.conditional_expected_purchases_if_alive(39, cdnow)
    assert if_alive.name == "expected_purchases_if_alive" and if_alive.index.equals(cdnow.index)
    np.testing.assert_allclose(
        if_alive * fitted.probability_alive(cdnow),
        fitted.conditional_expected_purchases(39, cdnow),
        rtol=1e-12,
    )
    one = fitted.conditional_expected_purchases_if_alive(39, 2, 30.43, 38.86).iloc[0]
    assert one * fitted.probability_alive(2, 30.43, 38.86).iloc[0] == pytest.approx(1.226, abs=5e-4)


# --------------------------------------------------------------------------------------------
# parameters where main returned NaN (issue 7)
# --------------------------------------------------------------------------------------------

# Estimates the fitter returns on BG/NBD customers simulated in days with little dropout
# heterogeneity (a and b large, a/(a+b) ~ 0.9%), with r and alpha of a daily purchase rate.
LARGE_AB = (0.5, 30.0, 8462.0, 916952.0)

# ((t, x, t_x, T), E[Y(t) | x, t_x, T]) at LARGE_AB from mpmath 1.3.0: the bracket of eq. (10)
# as E_p[(1 - (1+ps)^-(r+x))/p] by mpmath.quad at 35 digits (the first two also by
# mpmath.hyp2f1, agreeing to 1e-20), times P(alive) at 40 digits. main returned NaN for each
# of the first three (repeat buyers with x > ~250 in days).
MPMATH_LARGE_AB = [
    ((1000.0, 3000, 990.0, 1000.0), 2.3085210369772679471e-9),
    ((1000.0, 1000, 700.0, 730.0), 3.7605301363690787278e-14),
    ((1000.0, 400, 85.0, 90.0), 0.00046941639497549783766),
    ((1000.0, 1000, 729.0, 730.0), 105.84858200480916443),
    ((1000.0, 0, 0.0, 30.0), 7.4876200110374068163),
]


@pytest.mark.parametrize(("history", "expected"), MPMATH_LARGE_AB)
def test_conditional_expectation_at_large_a_and_b_matches_mpmath(history, expected):
    model = BetaGeo()
    model.params_ = pd.Series(LARGE_AB, index=["r", "alpha", "a", "b"])
    assert model.conditional_expected_purchases(*history).iloc[0] == pytest.approx(
        expected, rel=1e-10
    )


def test_predictions_at_large_a_and_b_are_finite_for_every_customer():
    # 5,000 daily customers with heavy buyers (main: NaN for every customer with x > ~250)
    rng = np.random.default_rng(3)
    T = rng.uniform(1, 1000, 5000)
    x = np.floor(rng.uniform(0, 1, 5000) * T * 3)
    data = pd.DataFrame(
        {"frequency": x, "recency": np.where(x > 0, T * rng.uniform(0.5, 1, 5000), 0.0), "T": T}
    )
    model = BetaGeo()
    model.params_ = pd.Series(LARGE_AB, index=["r", "alpha", "a", "b"])
    for t in (1.0, 100.0, 1000.0):
        expected = model.conditional_expected_purchases(t, data)
        assert np.isfinite(expected).all() and (expected >= 0).all()
    assert np.isfinite(model.probability_alive(data)).all()
    assert np.isfinite(model.expected_purchases(np.array([1.0, 1000.0]))).all()


# r = 1000 purchases a period (alpha = 1) and a dropout probability around 1/2 (a = b = 1000):
# within a few periods every customer has had the chance to drop out many times, so E[X(t)]
# is E[(1-p)/p + 1] = E[1/p] = (a+b-1)/(a-1) = 1999/999 (mpmath: 2.001001001001001001 at
# t = 6; main: NaN). P(X(t) = n) tends to E[(1-p)^(n-1) p], e.g. 1/2 for n = 1.
def test_unconditional_expectation_at_r_a_b_1000():
    model = BetaGeo()
    model.params_ = pd.Series([1000.0, 1.0, 1000.0, 1000.0], index=["r", "alpha", "a", "b"])
    assert model.expected_purchases(6.0) == pytest.approx(1999 / 999, rel=1e-14)
    # mpmath at t = 0.01 (10 expected opportunities): 1.9872302842417804852
    assert model.expected_purchases(0.01) == pytest.approx(1.9872302842417804852, rel=1e-10)
    # mpmath eq. (8): P(X(6) = n) for n = 1, 2, 10
    np.testing.assert_allclose(
        model.probability_of_purchases(6.0, [1, 2, 10]),
        [0.5, 0.24987506246876561719, 0.00098977012881148514061],
        rtol=1e-10,
    )


def test_purchase_probability_with_tiny_b_is_a_probability():
    # b = 1e-13 (the optimizer's lower bound): main gave P(X(t) = 1) = 1.0008 from betaln
    # differences; mpmath eq. (8): 0.99990000999890011999 and 4.9995000000092476254e-14
    model = BetaGeo()
    model.params_ = pd.Series([1.0, 1.0, 1.0, 1e-13], index=["r", "alpha", "a", "b"])
    np.testing.assert_allclose(
        model.probability_of_purchases(1e4, [1, 2]),
        [0.99990000999890011999, 4.9995000000092476254e-14],
        rtol=1e-10,
    )


def test_quadrature_agrees_with_the_series_where_both_apply(cdnow):
    # The two evaluations of the bracket of eq. (10) are independent (a series in z after
    # Euler's transformation; an integral over the dropout probability): on the CDNOW
    # customers at the published estimates, where the series serves every row, they agree.
    r, alpha, a, b = CDNOW
    sample = cdnow.iloc[::4]  # a quarter of the customers keeps the (slower) quadrature quick
    x, T = sample["frequency"].to_numpy(float), sample["T"].to_numpy(float)
    for t in (1.0, 39.0, 520.0):
        series = _expected_if_alive(r, alpha, a, b, x, T, np.full(len(x), t))
        quadrature = _expected_if_alive_quadrature(r, a, b, x, t / (alpha + T))
        np.testing.assert_allclose(quadrature, series, rtol=1e-11)


def test_stored_large_a_and_b_value_is_reproduced_by_mpmath_hyp2f1():
    (t, x, t_x, T), expected = MPMATH_LARGE_AB[0]
    reference = _mpmath_conditional(LARGE_AB, t, x, t_x, T)
    assert float(reference) == pytest.approx(expected, rel=1e-14)
