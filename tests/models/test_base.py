"""The shared fitting machinery: collapsing, gradients, Hessian errors, JSON, conventions."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from sklearn.base import clone

from churnlab import BetaGeo, GammaGamma
from churnlab.datasets import load_cdnow_summary
from churnlab.models import (
    CDNOW_BGNBD_PUBLISHED,
    CDNOW_GAMMA_GAMMA_PUBLISHED,
    ConvergenceError,
)
from churnlab.models._base import collapse_rows


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def repeat(cdnow):
    return cdnow[cdnow["frequency"] > 0]


@pytest.fixture(scope="module")
def bg(cdnow):
    return BetaGeo().fit(cdnow)


@pytest.fixture(scope="module")
def gg(repeat):
    return GammaGamma().fit(repeat)


def test_collapse_rows_groups_like_numpy_unique(cdnow):
    cols = [cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T")]
    unique, w, inverse = collapse_rows(cols, np.ones(len(cdnow)))
    expected = np.unique(np.column_stack(cols), axis=0)
    got = np.column_stack(unique)
    assert len(got) == len(expected)
    np.testing.assert_array_equal(got[np.lexsort(got.T[::-1])], expected)
    np.testing.assert_array_equal(got[inverse], np.column_stack(cols))  # rows map back
    assert w.sum() == len(cdnow)


@pytest.mark.parametrize("model_class", [BetaGeo, GammaGamma])
def test_collapsed_fit_equals_the_uncollapsed_fit(model_class, cdnow, repeat):
    data = cdnow if model_class is BetaGeo else repeat
    cols = list(model_class._columns)
    counts = data.groupby(cols).size().rename("n").reset_index()
    full = model_class().fit(data)
    collapsed = model_class().fit(counts[cols], weights=counts["n"])
    assert collapsed.n_customers_ == full.n_customers_ == len(data)
    assert collapsed.n_unique_ == full.n_unique_ == len(counts)
    np.testing.assert_allclose(collapsed.params_, full.params_, rtol=1e-9)
    assert collapsed.log_likelihood_ == pytest.approx(full.log_likelihood_, rel=1e-12)
    np.testing.assert_allclose(collapsed.summary["std_err"], full.summary["std_err"], rtol=1e-6)


def test_integer_weights_equal_repeated_rows(cdnow):
    sub = cdnow.iloc[::7]
    w = np.arange(len(sub)) % 3 + 1
    weighted = BetaGeo().fit(sub, weights=w)
    repeated = BetaGeo().fit(sub.loc[sub.index.repeat(w)])
    np.testing.assert_allclose(weighted.params_, repeated.params_, rtol=1e-7)


@pytest.mark.parametrize(
    ("model_class", "points"),
    [
        (
            BetaGeo,
            [tuple(CDNOW_BGNBD_PUBLISHED.values()), (2.0, 0.5, 5.0, 0.4), (0.05, 80.0, 0.3, 9.0)],
        ),
        (
            GammaGamma,
            [tuple(CDNOW_GAMMA_GAMMA_PUBLISHED.values()), (0.5, 12.0, 200.0), (40.0, 1.2, 0.8)],
        ),
    ],
)
def test_analytic_gradient_matches_finite_differences(model_class, points, cdnow, repeat):
    data = cdnow if model_class is BetaGeo else repeat
    model = model_class()
    cols = {c: data[c].to_numpy(float) for c in model_class._columns}
    prep = model._prepare(cols, np.ones(len(data)))
    for point in points:
        params = np.array(point)
        analytic = model._loglik(params, prep)[1]
        for j in range(len(params)):
            h = 1e-6 * params[j]
            up, down = params.copy(), params.copy()
            up[j] += h
            down[j] -= h
            numeric = (model._loglik(up, prep)[0] - model._loglik(down, prep)[0]) / (2 * h)
            assert analytic[j] == pytest.approx(numeric, rel=1e-5, abs=1e-4), (point, j)
        # the value without gradient is the same number
        assert model._loglik(params, prep, gradient=False)[0] == model._loglik(params, prep)[0]


@pytest.mark.parametrize("which", ["bg", "gg"])
def test_standard_errors_equal_the_inverse_natural_scale_hessian(which, request, cdnow, repeat):
    # At the maximum, the delta method on log-parameters equals the inverse Hessian in the
    # natural parameters (the Jacobian transform is exact there); the Hessian here is
    # computed independently, from second differences of the log-likelihood itself.
    model = request.getfixturevalue(which)
    data = cdnow if which == "bg" else repeat
    cols = {c: data[c].to_numpy(float) for c in model._columns}
    prep = model._prepare(cols, np.ones(len(data)))
    theta = model.params_.to_numpy()
    k = len(theta)
    H = np.empty((k, k))
    h = 1e-4 * theta
    ll = lambda p: model._loglik(p, prep, gradient=False)[0]  # noqa: E731
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            H[i, j] = (
                ll(theta + ei + ej)
                - ll(theta + ei - ej)
                - ll(theta - ei + ej)
                + ll(theta - ei - ej)
            ) / (4 * h[i] * h[j])
    se = np.sqrt(np.diag(np.linalg.inv(-H)))
    np.testing.assert_allclose(model.summary["std_err"].to_numpy(), se, rtol=2e-3)


def test_summary_and_confidence_intervals(bg):
    table = bg.summary
    assert list(table.columns) == ["estimate", "std_err", "ci_lower", "ci_upper"]
    assert list(table.index) == ["r", "alpha", "a", "b"]
    log_se = table["std_err"] / table["estimate"]
    np.testing.assert_allclose(
        table["ci_lower"], table["estimate"] * np.exp(-1.959964 * log_se), rtol=1e-6
    )
    np.testing.assert_allclose(
        table["ci_upper"], table["estimate"] * np.exp(1.959964 * log_se), rtol=1e-6
    )
    narrow = bg.confidence_interval(0.80)
    assert (narrow["ci_lower"] > table["ci_lower"]).all()
    assert (narrow["ci_upper"] < table["ci_upper"]).all()
    assert table.attrs["converged"] and table.attrs["log_likelihood"] == bg.log_likelihood_
    assert "converged" in bg._repr_html_() and "std_err" in bg._repr_html_()
    assert bg.params_.index.name is None  # the summary does not rename the fitted index
    with pytest.raises(ValueError, match="level"):
        bg.confidence_interval(1.5)


@pytest.mark.parametrize("which", ["bg", "gg"])
def test_json_round_trip_gives_identical_predictions(which, request, tmp_path, cdnow):
    model = request.getfixturevalue(which)
    path = tmp_path / "model.json"
    model.save(path)
    json.loads(path.read_text())  # valid JSON
    loaded = type(model).load(path)
    pd.testing.assert_series_equal(loaded.params_, model.params_)
    pd.testing.assert_frame_equal(loaded.summary, model.summary)
    if which == "bg":
        pd.testing.assert_series_equal(
            loaded.conditional_expected_purchases(39, cdnow),
            model.conditional_expected_purchases(39, cdnow),
        )
        pd.testing.assert_series_equal(
            loaded.probability_alive(cdnow), model.probability_alive(cdnow)
        )
    else:
        pd.testing.assert_series_equal(
            loaded.conditional_expected_spend(cdnow), model.conditional_expected_spend(cdnow)
        )
        assert loaded.independence_ == model.independence_


def test_loading_another_models_file_is_refused(bg, tmp_path):
    path = tmp_path / "bg.json"
    bg.save(path)
    with pytest.raises(ValueError, match="holds a 'BetaGeo' model, not a GammaGamma"):
        GammaGamma.load(path)


def test_scikit_learn_conventions(bg):
    model = BetaGeo(max_iter=50, tol=1e-8)
    assert model.get_params() == {"initial_params": None, "max_iter": 50, "tol": 1e-8}
    model.set_params(max_iter=200)
    assert model.max_iter == 200
    copy = clone(bg)
    assert not hasattr(copy, "params_") and copy.get_params() == bg.get_params()
    with pytest.raises(TypeError):
        BetaGeo(100)  # keyword-only
    assert BetaGeo(max_iter=-3).max_iter == -3  # __init__ stores; fit validates
    with pytest.raises(ValueError, match="max_iter"):
        BetaGeo(max_iter=-3).fit(load_cdnow_summary())


def test_failed_optimisation_raises_with_the_optimizer_message(cdnow):
    with pytest.raises(ConvergenceError, match="did not converge after 2 iterations.*LIMIT"):
        BetaGeo(max_iter=2).fit(cdnow)


def test_initial_params_are_used_and_checked(cdnow, bg):
    model = BetaGeo(initial_params={"r": 0.3, "alpha": 5.0}).fit(cdnow)
    np.testing.assert_allclose(model.params_, bg.params_, rtol=1e-4)
    with pytest.raises(ValueError, match="unknown name"):
        BetaGeo(initial_params={"beta": 1.0}).fit(cdnow)
    with pytest.raises(ValueError, match="positive"):
        BetaGeo(initial_params={"r": -1.0}).fit(cdnow)


def test_weights_are_checked(cdnow):
    with pytest.raises(ValueError, match="'weights': negative"):
        BetaGeo().fit(cdnow, weights=-np.ones(len(cdnow)))
    with pytest.raises(ValueError, match="weights has 3 values"):
        BetaGeo().fit(cdnow, weights=[1, 2, 3])


def test_the_optimum_is_a_maximum(bg, cdnow):
    # nudging any parameter lowers the log-likelihood
    prep = bg._prepare({c: cdnow[c].to_numpy(float) for c in bg._columns}, np.ones(len(cdnow)))
    best = bg._loglik(bg.params_.to_numpy(), prep, gradient=False)[0]
    assert best == pytest.approx(bg.log_likelihood_, rel=1e-14)
    for j in range(4):
        for factor in (0.99, 1.01):
            p = bg.params_.to_numpy().copy()
            p[j] *= factor
            assert bg._loglik(p, prep, gradient=False)[0] < best
    res = optimize.minimize(
        lambda t: -bg._loglik(np.exp(t), prep, gradient=False)[0],
        np.log(bg.params_.to_numpy()),
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10},
    )
    assert -res.fun <= best + 1e-6
