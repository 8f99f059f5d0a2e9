"""The shared fitting machinery: collapsing, gradients, Hessian errors, JSON, conventions."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from sklearn.base import clone

from churnlab import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD
from churnlab.datasets import load_cdnow_summary, simulate_bgnbd
from churnlab.models import (
    CDNOW_BGNBD_PUBLISHED,
    CDNOW_GAMMA_GAMMA_PUBLISHED,
    ConvergenceError,
)
from churnlab.models import _base as base
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


@pytest.mark.parametrize("dense_keys", [2**23, 16])
def test_collapse_rows_numbers_rows_by_first_appearance(dense_keys, monkeypatch):
    # ties on a daily grid (the table-indexed numbering) and, with the table limit lowered,
    # the hashed numbering: both number the distinct rows in order of first appearance
    monkeypatch.setattr(base, "DENSE_KEYS", dense_keys)
    rng = np.random.default_rng(3)
    n = 20_000
    cols = [rng.integers(0, 6, n).astype(float), rng.integers(0, 60, n) / 7, rng.integers(0, 9, n)]
    unique, w, inverse = collapse_rows(cols, np.arange(n, dtype=float))
    expected = pd.factorize(pd.MultiIndex.from_arrays(cols))[0]
    np.testing.assert_array_equal(inverse, expected)
    first = [np.flatnonzero(expected == k)[0] for k in range(3)]
    assert [u[:3].tolist() for u in unique] == [c[first].tolist() for c in cols]
    np.testing.assert_array_equal(w, np.bincount(expected, weights=np.arange(n, dtype=float)))


def test_collapse_rows_of_distinct_rows_keeps_them_in_order():
    # a continuous spend makes every row distinct: the rows come back as they are
    rng = np.random.default_rng(7)
    cols = [rng.integers(1, 4, 1000).astype(float), rng.lognormal(3, 1, 1000)]
    unique, w, inverse = collapse_rows(cols, np.full(1000, 2.0))
    np.testing.assert_array_equal(inverse, np.arange(1000))
    assert all(np.array_equal(u, c) for u, c in zip(unique, cols, strict=True))
    assert w.tolist() == [2.0] * 1000


def test_collapse_rows_with_keys_beyond_64_bits():
    # four columns of 70,000 distinct values each: the product of the code ranges exceeds
    # 2**62, so the keys are numbered before the next column is combined
    rng = np.random.default_rng(4)
    base_cols = [rng.permutation(70_000).astype(float) for _ in range(4)]
    cols = [np.concatenate([c, c[:100]]) for c in base_cols]
    unique, w, inverse = collapse_rows(cols, np.ones(70_100))
    assert len(w) == 70_000
    np.testing.assert_array_equal(inverse[70_000:], np.arange(100))
    assert w[:100].tolist() == [2.0] * 100


@pytest.mark.parametrize("model_class", [BetaGeo, ParetoNBD, ModifiedBetaGeo])
def test_predictions_in_blocks_equal_predictions_in_one_piece(model_class, cdnow, monkeypatch):
    model = model_class().fit(cdnow)
    whole = model.probability_alive(cdnow), model.conditional_expected_purchases(10, cdnow)
    monkeypatch.setattr(base, "BLOCK_ROWS", 100)  # 24 blocks of CDNOW's 2,357 customers
    blocks = model.probability_alive(cdnow), model.conditional_expected_purchases(10, cdnow)
    for one, other in zip(whole, blocks, strict=True):
        pd.testing.assert_series_equal(one, other, rtol=0, atol=0)


def test_analytic_hessian_of_the_bgnbd_equals_central_differences(cdnow):
    # the Hessian of equation (6) used for large fits, against central differences of the
    # analytic gradient at the CDNOW estimate and at a point away from it
    model = BetaGeo().fit(cdnow)
    columns = {c: cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T")}
    prep = model._prepare(columns, np.ones(len(cdnow)))
    for theta in (np.log(model.params_.to_numpy()), np.log([1.3, 2.0, 0.2, 7.0])):
        analytic = model._log_hessian(theta, prep, analytic=True)
        numeric = model._log_hessian(theta, prep, analytic=False)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-6 * np.abs(numeric).max())


def test_a_large_fit_recovers_the_truth_and_matches_a_fit_without_the_pilot():
    # 200,000 customers who joined over two years: more than LARGE_FIT_ROWS distinct rows, so
    # the fit starts from a pilot fit and takes its standard errors from the analytic Hessian
    truth = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    T = np.random.default_rng(5).integers(1, 731, 200_000) / 7
    data = simulate_bgnbd(200_000, **truth, T=T, seed=6)
    data["recency"] = np.ceil(data["recency"] * 7) / 7  # a daily grid, as rfm_summary gives
    data["recency"] = np.minimum(data["recency"], data["T"])
    large = BetaGeo().fit(data)
    assert large.n_unique_ > base.LARGE_FIT_ROWS
    # initial_params switch the pilot off; the Hessian of that fit is the analytic one too
    plain = BetaGeo(initial_params={"r": 1.0, "alpha": 50.0, "a": 1.0, "b": 1.0}).fit(data)
    np.testing.assert_allclose(large.params_, plain.params_, rtol=1e-4)
    assert large.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-10)
    z = (np.log(large.params_) - np.log(pd.Series(truth))) / np.sqrt(
        np.diag(large.log_params_covariance_)
    )
    assert np.all(np.abs(z) < 4), z.round(2).to_dict()


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
    # w customers with each history: new ids (one customer id is one row)
    repeated = BetaGeo().fit(sub.loc[sub.index.repeat(w)].reset_index(drop=True))
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


# --------------------------------------------------------------------------------------------
# saved models: numpy scalars are written, every field of a file is checked on load
# --------------------------------------------------------------------------------------------


def test_numpy_scalars_among_the_arguments_save_and_load(cdnow, bg, tmp_path):
    model = BetaGeo(
        max_iter=np.int64(500), tol=np.float64(1e-10), initial_params={"r": np.float64(0.3)}
    ).fit(cdnow)
    path = tmp_path / "numpy.json"
    model.save(path)
    text = json.loads(path.read_text())
    assert text["init_params"] == {"initial_params": {"r": 0.3}, "max_iter": 500, "tol": 1e-10}
    loaded = BetaGeo.load(path)
    assert type(loaded.max_iter) is int and loaded.max_iter == 500
    np.testing.assert_allclose(loaded.params_, bg.params_, rtol=1e-4)
    pd.testing.assert_series_equal(
        loaded.probability_alive(cdnow), model.probability_alive(cdnow), rtol=0
    )


def _edit(record: dict, path: str, value):
    """Set (or with value=_DELETE, remove) the field at dotted ``path`` of a saved model."""
    *parents, last = path.split(".")
    target = record
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value


_DELETE = object()

# (field edited, new value, text the error must contain); each must name the field
BAD_FILES = [
    ("params.r", -1.0, "field 'params.r' must be a positive number"),
    ("params.alpha", 0.0, "field 'params.alpha' must be a positive number"),
    ("params.a", None, "field 'params.a' must be a finite number"),
    ("params.b", "2.4", "field 'params.b' must be a finite number"),
    ("params.r", True, "field 'params.r' must be a finite number"),
    ("params.r", float("nan"), "field 'params.r' must be a finite number"),
    ("params.r", float("inf"), "field 'params.r' must be a finite number"),
    ("params.b", _DELETE, "field 'params' must have the keys"),
    ("params.beta", 1.0, "field 'params' must have the keys"),
    ("params", [0.2, 4.4, 0.8, 2.4], "field 'params' must be an object"),
    ("converged", "false", "field 'converged' must be the boolean true"),
    ("converged", False, "field 'converged' must be the boolean true"),
    ("converged", 1, "field 'converged' must be the boolean true"),
    ("n_iter", _DELETE, "field(s) ['n_iter'] missing"),
    ("params", _DELETE, "field(s) ['params'] missing"),
    ("comment", "hand-edited", "unknown field(s) ['comment']"),
    ("format_version", 2, "field 'format_version' unsupported"),
    ("format_version", "1", "field 'format_version' must be an integer"),
    ("init_params.max_iter", 0, "field 'init_params.max_iter' must be an integer >= 1"),
    ("init_params.max_iter", 2.5, "field 'init_params.max_iter' must be an integer"),
    ("init_params.tol", -1e-10, "field 'init_params.tol' must be a positive number"),
    ("init_params.verbose", True, "field 'init_params' must have the keys"),
    ("init_params.initial_params", {"beta": 1.0}, "field 'init_params.initial_params'"),
    ("init_params.initial_params", {"r": -0.5}, "field 'init_params.initial_params.r'"),
    ("log_likelihood", "-9582.4", "field 'log_likelihood' must be a finite number"),
    ("n_iter", -1, "field 'n_iter' must be an integer >= 0"),
    ("n_unique", 0, "field 'n_unique' must be an integer >= 1"),
    ("n_customers", 0, "field 'n_customers' must be a positive number"),
    ("optimizer_message", 5, "field 'optimizer_message' must be a string"),
    ("time_unit", "Y", "field 'time_unit' must be null or one of"),
    ("log_params_covariance", [[1.0]], "field 'log_params_covariance' must be a 4 x 4 matrix"),
    ("log_params_covariance", None, "field 'log_params_covariance' must be a 4 x 4 matrix"),
    ("extra", {"independence": {}}, "field 'extra' must be empty for this model"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_FILES)
def test_loading_a_bad_file_names_the_file_and_the_field(bg, tmp_path, field, value, message):
    record = bg.to_dict()
    _edit(record, field, value)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        BetaGeo.load(path)
    assert f"model file {str(path)!r}" in str(err.value)


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        (0, 1, None, "field 'log_params_covariance[0][1]' must be a finite number"),
        (0, 1, 5.0, "field 'log_params_covariance' must be symmetric"),
        (0, 0, -1.0, "field 'log_params_covariance' must be positive definite"),
    ],
)
def test_loading_a_bad_covariance_is_refused(bg, tmp_path, row, column, value, message):
    record = bg.to_dict()
    record["log_params_covariance"][row][column] = value
    path = tmp_path / "covariance.json"
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match=re.escape(message)):
        BetaGeo.load(path)


def test_loading_what_is_not_a_model_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"model": "BetaGeo", ')
    with pytest.raises(ValueError, match="broken.json.*not valid JSON"):
        BetaGeo.load(path)
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="broken.json.*expected a JSON object, got list"):
        BetaGeo.load(path)
    path.write_text("{}")
    with pytest.raises(ValueError, match="holds a None model, not a BetaGeo"):
        BetaGeo.load(path)
    with pytest.raises(ValueError, match="model dict: field 'params.r'"):
        BetaGeo.from_dict({**_valid_record(), "params": {"r": -1, "alpha": 1, "a": 1, "b": 1}})


def _valid_record() -> dict:
    model = BetaGeo()
    model.params_ = pd.Series(CDNOW_BGNBD_PUBLISHED)
    return {
        "model": "BetaGeo",
        "format_version": 1,
        "init_params": model.get_params(),
        "params": dict(CDNOW_BGNBD_PUBLISHED),
        "log_likelihood": -9582.4,
        "converged": True,
        "n_iter": 30,
        "optimizer_message": "CONVERGENCE",
        "n_customers": 2357,
        "n_unique": 1200,
        "time_unit": "W",
        "log_params_covariance": np.eye(4).tolist(),
        "extra": {},
    }


def test_a_hand_written_record_with_integer_numbers_loads():
    record = _valid_record()
    record["params"] = {"r": 1, "alpha": 4, "a": 1, "b": 2}  # JSON integers are numbers
    model = BetaGeo.from_dict(record)
    assert model.params_.tolist() == [1.0, 4.0, 1.0, 2.0] and model.time_unit_ == "W"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("extra.independence.pearson", 2.0, "field 'extra.independence.pearson' must lie in"),
        ("extra.independence.n", "946", "field 'extra.independence.n' must be a finite number"),
        ("extra.independence", _DELETE, "field 'extra' must hold exactly the key 'independence'"),
        ("params.q", -3.7, "field 'params.q' must be a positive number"),
    ],
)
def test_loading_a_bad_gamma_gamma_file(gg, tmp_path, field, value, message):
    record = gg.to_dict()
    _edit(record, field, value)
    path = tmp_path / "gg.json"
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        GammaGamma.load(path)
    assert "gg.json" in str(err.value)


# --------------------------------------------------------------------------------------------
# a fitted model is a converged, identified maximum
# --------------------------------------------------------------------------------------------


def test_converged_is_always_true_on_a_fitted_model(bg, cdnow):
    # non-convergence raises (see the test above): no fitted model records converged=False,
    # and a failed fit leaves the estimator unfitted
    assert bg.converged_ is True and bg.summary.attrs["converged"] is True
    assert "converged in" in bg._repr_html_() and "NOT" not in bg._repr_html_()
    model = BetaGeo(max_iter=2)
    with pytest.raises(ConvergenceError):
        model.fit(cdnow)
    assert not hasattr(model, "params_") and not hasattr(model, "converged_")


def _rows(frequency, recency, T):
    return pd.DataFrame({"frequency": frequency, "recency": recency, "T": T})


@pytest.mark.parametrize(
    ("data", "weights", "message"),
    [
        # one customer: nothing shows how customers differ
        (_rows([2], [30.0], [39.0]), None, r"BetaGeo: 1 customer \(frequency 2, recency 30"),
        # many identical histories (here as one row standing for 50 customers)
        (_rows([2], [30.0], [39.0]), [50], "all 50 customers have the same history"),
        (_rows([3] * 4, [10.0] * 4, [20.0] * 4), None, "all 4 customers have the same history"),
        # no repeat purchase at all: the purchase rate is not seen
        (
            _rows([0] * 5, [0.0] * 5, [39.0, 20, 10, 5, 1]),
            None,
            "no repeat buyers: column 'frequency' is 0 for all 5 customers; the purchase rate "
            "cannot be estimated",
        ),
        # every first purchase on the last day: no time observed
        (_rows([0] * 5, [0.0] * 5, [0.0] * 5), None, "column 'T' is 0 for all 5 customers"),
    ],
)
def test_fits_on_data_without_the_needed_information_are_refused(data, weights, message):
    model = BetaGeo()
    with pytest.raises(ValueError, match=message):
        model.fit(data, weights=weights)
    assert not hasattr(model, "params_")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # two customers: on main r = 3337, alpha = 1.3e5, a = 4e-5 with only a warning
        (_rows([2, 0], [30.0, 0.0], [39.0, 39.0]), "do not identify the parameters"),
        # every repeat buyer bought on the last day: no sign of dropout (a -> 0)
        (_rows([2, 3, 1, 0, 5], [39.0] * 3 + [0.0, 39.0], [39.0] * 5), "no proper maximum"),
    ],
)
def test_fits_without_a_proper_maximum_are_refused(data, message):
    model = BetaGeo()
    with pytest.raises(ValueError, match=message) as err:
        model.fit(data)
    assert "estimate (r=" in str(err.value) and "The BG/NBD needs" in str(err.value)
    assert not hasattr(model, "params_")


def test_a_ridge_of_the_likelihood_is_named(cdnow):
    # Simulated BG/NBD customers whose dropout hardly varies: the likelihood rises towards
    # a, b -> infinity along a/(a+b) = const (on main: a = 1.7e4, b = 1.8e6 returned with
    # no standard errors). The error says which ratio the data do identify.
    T = np.random.default_rng(0).uniform(100, 700, 5000)
    data = simulate_bgnbd(5000, r=0.5, alpha=30.0, a=1.0, b=100.0, T=T, seed=0)
    with pytest.raises(ValueError, match=r"a and b are scaled up or down together") as err:
        BetaGeo().fit(data[["frequency", "recency", "T"]])
    assert "mean dropout probability a/(a+b) = 0.009" in str(err.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (pd.DataFrame({"frequency": [2], "monetary_value": [30.0]}), "GammaGamma: 1 repeat buyer"),
        (
            pd.DataFrame({"frequency": [2, 2], "monetary_value": [30.0, 30.0]}),
            "all 2 repeat buyers share one history",
        ),
        (
            pd.DataFrame({"frequency": [1, 2, 5], "monetary_value": [30.0] * 3}),
            "column 'monetary_value' is 30 for all 3 repeat buyers",
        ),
    ],
)
def test_spend_fits_without_varying_spend_are_refused(data, message):
    with pytest.raises(ValueError, match=message):
        GammaGamma().fit(data)


# --------------------------------------------------------------------------------------------
# one row per customer
# --------------------------------------------------------------------------------------------


def _duplicated(cdnow):
    data = cdnow.iloc[:6].copy()
    data.index = pd.Index([11, 12, 13, 12, 14, 11], name="customer_id")
    return data


@pytest.mark.parametrize(
    "call",
    [
        lambda bg, gg, d: BetaGeo().fit(d),
        lambda bg, gg, d: bg.probability_alive(d),
        lambda bg, gg, d: bg.conditional_expected_purchases(10, d),
        lambda bg, gg, d: bg.conditional_expected_purchases_if_alive(10, d),
        lambda bg, gg, d: bg.probability_alive(d["frequency"], d["recency"], d["T"]),
        lambda bg, gg, d: GammaGamma().fit(d[d["frequency"] > 0]),
        lambda bg, gg, d: gg.conditional_expected_spend(d),
    ],
    ids=["fit", "p_alive", "expected", "if_alive", "series", "gg_fit", "spend"],
)
def test_duplicate_customer_ids_are_refused_showing_them(bg, gg, cdnow, call):
    with pytest.raises(ValueError, match="customer ids of the index .*'customer_id'") as err:
        call(bg, gg, _duplicated(cdnow))
    assert "occur more than once: 11 (2 rows)" in str(err.value)  # the ids are shown
