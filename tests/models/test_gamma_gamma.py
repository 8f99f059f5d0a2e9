"""Gamma-Gamma: published CDNOW estimates, lifetimes 0.11.3, independence check, simulation."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.exceptions import NotFittedError

from churnlab import GammaGamma
from churnlab.datasets import load_cdnow_summary, simulate_gamma_gamma
from churnlab.models.gamma_gamma import (
    CDNOW_GAMMA_GAMMA_PUBLISHED,
    INDEPENDENCE_THRESHOLD,
    spend_frequency_correlation,
)

# The 946 repeat buyers of the CDNOW sample the published estimates are fitted on
CDNOW_REPEAT_BUYERS = 946
CDNOW_CUSTOMERS = 2357


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow):
    return GammaGamma().fit(cdnow[cdnow["frequency"] > 0])


def test_cdnow_estimates_match_fader_hardie(fitted):
    for name, published in CDNOW_GAMMA_GAMMA_PUBLISHED.items():
        # published to two decimals from unrounded spends; the bundled zbar is rounded to
        # cents (lifetimes 0.11.3 also finds v = 15.4477 on it)
        assert fitted.params_[name] == pytest.approx(published, abs=0.01), name
    assert fitted.n_customers_ == CDNOW_REPEAT_BUYERS
    assert fitted.converged_


def test_zero_frequency_rows_are_left_out_with_a_warning(cdnow, fitted):
    n_zero = CDNOW_CUSTOMERS - CDNOW_REPEAT_BUYERS
    with pytest.warns(UserWarning, match=f"{n_zero} row\\(s\\) with frequency 0"):
        model = GammaGamma().fit(cdnow)
    pd.testing.assert_series_equal(model.params_, fitted.params_)
    assert model.n_customers_ == CDNOW_REPEAT_BUYERS


def test_no_repeat_buyers_is_an_error_showing_the_rows():
    data = pd.DataFrame({"frequency": [0, 0], "monetary_value": [0.0, 0.0]}, index=[11, 12])
    with pytest.raises(ValueError, match="column 'frequency': no repeat buyers.* in 2 row") as err:
        GammaGamma().fit(data)
    shown = str(err.value).split("row(s):")[1].split()
    assert "11" in shown and "12" in shown


def test_predictions_match_lifetimes(fitted, cdnow):
    lifetimes = pytest.importorskip("lifetimes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = lifetimes.GammaGammaFitter()
    ref.params_ = fitted.params_.copy()
    theirs = ref.conditional_expected_average_profit(cdnow["frequency"], cdnow["monetary_value"])
    ours = fitted.conditional_expected_spend(cdnow)
    np.testing.assert_allclose(ours.to_numpy(), np.asarray(theirs), rtol=1e-6)
    assert ours.index.equals(cdnow.index)
    p, q, v = fitted.params_
    assert fitted.expected_spend() == pytest.approx(p * v / (q - 1), rel=1e-12)


def test_conditional_spend_is_the_paper_weighted_mean(fitted):
    # FHL 2005 (JMR) eq. 3: a weighted mean of the population mean and the customer's mean.
    p, q, v = fitted.params_
    x, zbar = 3, 40.0
    weight = (q - 1) / (p * x + q - 1)
    expected = weight * p * v / (q - 1) + (1 - weight) * zbar
    assert fitted.conditional_expected_spend(x, zbar).iloc[0] == pytest.approx(expected, rel=1e-12)
    # no repeat purchase: the population mean, whatever monetary_value says
    assert fitted.conditional_expected_spend(0, 0.0).iloc[0] == pytest.approx(
        fitted.expected_spend(), rel=1e-12
    )


def test_independence_check_matches_scipy(fitted, cdnow):
    repeat = cdnow[cdnow["frequency"] > 0]
    pearson = stats.pearsonr(repeat["frequency"], repeat["monetary_value"])
    spearman = stats.spearmanr(repeat["frequency"], repeat["monetary_value"])
    res = fitted.independence_
    assert res.pearson == pytest.approx(pearson.statistic, rel=1e-10)
    assert res.pearson_pvalue == pytest.approx(pearson.pvalue, rel=1e-6)
    assert res.spearman == pytest.approx(spearman.statistic, rel=1e-10)
    assert res.spearman_pvalue == pytest.approx(spearman.pvalue, rel=1e-6)
    assert res.n == CDNOW_REPEAT_BUYERS
    # CDNOW: weak positive correlation (Fader & Hardie 2013 report 0.11), below the threshold
    assert res.pearson == pytest.approx(0.11, abs=0.01)
    assert not res.material
    assert list(res.table.columns) == ["correlation", "p_value"]
    assert "not material" in res._repr_html_()
    assert "Frequency vs average spend" in fitted._repr_html_()


def test_weighted_correlation_equals_repeated_rows():
    x = np.array([1, 2, 2, 5, 3, 1, 4])
    m = np.array([10.0, 12.0, 9.0, 30.0, 12.0, 8.0, 20.0])
    w = np.array([3, 1, 2, 1, 4, 1, 2])
    weighted = spend_frequency_correlation(x, m, weights=w)
    repeated = spend_frequency_correlation(np.repeat(x, w), np.repeat(m, w))
    assert weighted == repeated or all(
        getattr(weighted, f) == pytest.approx(getattr(repeated, f), rel=1e-12)
        for f in ("pearson", "pearson_pvalue", "spearman", "spearman_pvalue", "n")
    )


def test_correlated_spend_warns():
    # heterogeneous spend that rises with frequency: the independence assumption fails
    rng = np.random.default_rng(5)
    x = rng.integers(1, 20, 2000)
    m = rng.gamma(4.0, 5.0, 2000) * x**0.7
    with pytest.warns(UserWarning, match=f"threshold \\|rho\\| > {INDEPENDENCE_THRESHOLD:g}"):
        model = GammaGamma().fit(x, m)
    assert model.independence_.material and model.independence_.spearman > 0.6


def test_parameter_recovery_on_100000_simulated_customers():
    # Planted truth = the CDNOW estimates. One to three repeat purchases a customer: small
    # frequencies carry most of the information on p (for large x, zbar only reveals p / nu).
    truth = CDNOW_GAMMA_GAMMA_PUBLISHED
    x = pd.Series(np.random.default_rng(7).integers(1, 4, 100_000))
    data = simulate_gamma_gamma(x, **truth, seed=11)
    model = GammaGamma().fit(data)
    for name, value in truth.items():
        assert model.params_[name] == pytest.approx(value, rel=0.05), name
        lo, hi = model.confidence_interval(0.999).loc[name]
        assert lo < value < hi, name


@pytest.mark.parametrize(
    ("column", "frequency", "spend", "bad_row"),
    [
        ("monetary_value", [1, 2, 3], [10.0, -1.0, 5.0], 21),  # negative
        ("monetary_value", [1, 2, 3], [10.0, 0.0, 5.0], 21),  # zero for a repeat buyer
        ("monetary_value", [1, 2, 3], [10.0, 4.0, np.nan], 22),  # NaN
        ("frequency", [1, 2.5, 3], [10.0, 1.0, 5.0], 21),  # non-integer
        ("frequency", [1, -2, 3], [10.0, 1.0, 5.0], 21),  # negative
        ("frequency", [np.nan, 2, 3], [10.0, 1.0, 5.0], 20),  # NaN
    ],
)
def test_bad_spend_names_the_column_and_shows_the_rows(column, frequency, spend, bad_row):
    data = pd.DataFrame({"frequency": frequency, "monetary_value": spend}, index=[20, 21, 22])
    with pytest.raises(ValueError, match=f"column '{column}'.* in 1 row") as err:
        GammaGamma().fit(data)
    shown = str(err.value).split("row(s):")[1].split()
    assert str(bad_row) in shown and not ({"20", "21", "22"} - {str(bad_row)}) & set(shown)


def test_missing_spend_column_is_refused():
    with pytest.raises(ValueError, match="missing column"):
        GammaGamma().fit(pd.DataFrame({"frequency": [1, 2]}))


def test_predicting_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        GammaGamma().conditional_expected_spend([1], [10.0])
    with pytest.raises(NotFittedError):
        GammaGamma().expected_spend()


# --------------------------------------------------------------------------------------------
# heavy-tailed spend: q <= 1 (issue 7)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def heavy_tailed():
    """5,000 customers whose spend scale has q = 0.6 < 1: the mean spend does not exist.

    Fitted on main, the expected spend was negative for most customers (p x + q - 1 < 0) and
    the lifetime value negative or infinite; here the fit warns and predictions refuse.
    """
    x = pd.Series(np.random.default_rng(7).integers(1, 6, 5000))
    data = simulate_gamma_gamma(x, p=0.3, q=0.6, v=15.0, seed=3)
    with pytest.warns(UserWarning, match=r"q = 0\.\d+ <= 1: under the fitted model the mean"):
        model = GammaGamma().fit(data)
    return model, data


def test_heavy_tailed_spend_fits_with_a_warning(heavy_tailed):
    model, _ = heavy_tailed
    assert model.params_["q"] < 1
    # the planted q is recovered: the estimate is no numerical accident
    assert model.params_["q"] == pytest.approx(0.6, rel=0.15)


def test_heavy_tailed_spend_refuses_expected_spend_naming_q(heavy_tailed):
    model, data = heavy_tailed
    q = model.params_["q"]
    undefined = int((model.params_["p"] * data["frequency"] + q <= 1).sum())
    assert undefined > 0  # main returned negative spend for these
    with pytest.raises(ValueError, match=f"q = {q:.4g} <= 1") as err:
        model.conditional_expected_spend(data)
    assert f"undefined (p x + q <= 1) for {undefined} of 5000 rows" in str(err.value)
    with pytest.raises(ValueError, match=r"mean spend per transaction p v / \(q - 1\)"):
        model.expected_spend()


def test_a_loaded_heavy_tailed_model_refuses_too(heavy_tailed, tmp_path):
    model, data = heavy_tailed
    path = tmp_path / "heavy.json"
    model.save(path)
    loaded = GammaGamma.load(path)  # a valid fit: it loads, and refuses what it cannot answer
    with pytest.raises(ValueError, match="q = .* <= 1"):
        loaded.conditional_expected_spend(data.iloc[:3])
