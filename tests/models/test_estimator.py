"""The models keep scikit-learn's estimator behaviour without deriving from BaseEstimator.

Each model is compared with its *twin*: a :class:`sklearn.base.BaseEstimator` subclass with the
same name and ``__init__``, i.e. what the model was before ``churnlab._estimator`` replaced
BaseEstimator. Parameters, clone, repr (one-line, wrapped and elided) and the not-fitted error
must be the same.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted as sklearn_check_is_fitted

from churnlab import BetaGeo, BetaGeoBetaBinomial, GammaGamma, ModifiedBetaGeo, ParetoNBD
from churnlab._estimator import EstimatorMixin, check_is_fitted
from churnlab._lazy import LazyModule
from churnlab.churn import ChurnModel
from churnlab.contractual import ShiftedBetaGeometric
from churnlab.datasets import load_cdnow_summary
from churnlab.models import LikelihoodModel, spend_frequency_correlation

MODELS = [
    BetaGeo,
    BetaGeoBetaBinomial,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    ShiftedBetaGeometric,
]

NOT_FITTED = (
    "This {} instance is not fitted yet. Call 'fit' with appropriate arguments before using "
    "this estimator."
)

#: Parameter sets: defaults, changed scalars (numpy scalars and NaN among them), short and long
#: initial_params (one line, wrapped, elided past 700 characters), values the printer renders
#: item by item (lists, nested dicts, non-string keys) and an estimator as a value.
PARAMS = [
    {},
    {"max_iter": 50},
    {"max_iter": 1000},
    {"max_iter": 1000.0},
    {"max_iter": np.int64(500), "tol": np.float64(1e-10)},
    {"tol": 1e-6},
    {"tol": float("nan")},
    {"tol": "1e-8"},
    {"initial_params": {}},
    {"initial_params": {"r": 0.5}},
    {"initial_params": {"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.4}},
    {"initial_params": {"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.4}, "max_iter": 500, "tol": 1e-8},
    {"initial_params": {"r": np.float64(0.2425), "alpha": np.float64(4.4135)}},
    {"initial_params": {f"p{i:03d}": float(i) / 7 for i in range(40)}},
    {"initial_params": {f"parameter_{i}": 1.0 + i for i in range(8)}, "tol": 1e-12},
    {"initial_params": {"r": [0.5, 1.0]}},
    {"initial_params": {"r": {"nested": 1.0}}},
    {"initial_params": {1: 0.5, "a": 1.0}},
    {"initial_params": [("r", 0.5)]},
    {"initial_params": BetaGeo(max_iter=3)},
]


def twin_of(cls):
    """``cls`` as it was: a BaseEstimator subclass with its name and ``__init__``."""
    return type(cls.__name__, (BaseEstimator,), {"__init__": cls.__init__})


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow):
    return BetaGeo().fit(cdnow)


def test_the_models_do_not_derive_from_base_estimator_but_churn_model_does():
    for cls in MODELS:
        assert issubclass(cls, LikelihoodModel) and issubclass(cls, EstimatorMixin)
        assert not issubclass(cls, BaseEstimator)
    assert issubclass(ChurnModel, BaseEstimator)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("params", PARAMS, ids=range(len(PARAMS)))
def test_repr_and_params_match_scikit_learn(cls, params):
    model, twin = cls(**params), twin_of(cls)(**params)
    assert repr(model) == repr(twin)
    assert str(model) == str(twin)
    assert model.get_params(deep=False) == twin.get_params(deep=False)
    assert model.get_params(deep=True) == twin.get_params(deep=True)
    assert list(model.get_params()) == list(twin.get_params())  # the same (sorted) order


def test_repr_forms():
    assert repr(BetaGeo()) == "BetaGeo()"
    assert repr(BetaGeo(tol=1e-6, max_iter=50)) == "BetaGeo(max_iter=50, tol=1e-06)"
    start = {"alpha": 1.0, "beta": 1.0, "gamma": 1.0, "delta": 1.0}
    assert repr(BetaGeoBetaBinomial(initial_params=start, max_iter=300)) == (
        "BetaGeoBetaBinomial(initial_params={'alpha': 1.0, 'beta': 1.0, 'delta': 1.0,\n"
        "                                    'gamma': 1.0},\n"
        "                    max_iter=300)"
    )
    elided = repr(BetaGeo(initial_params={f"p{i:03d}": float(i) / 7 for i in range(40)}))
    assert "1.8571428..." in elided  # past 700 non-blank characters
    assert elided.endswith("'p029': 4.142857142857143, ...})")  # 30 items at most


def test_repr_with_a_narrower_limit_matches_scikit_learn():
    params = {"initial_params": {"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.4}}
    model, twin = BetaGeo(**params), twin_of(BetaGeo)(**params)
    assert model.__repr__(N_CHAR_MAX=30) == twin.__repr__(N_CHAR_MAX=30)


def test_set_params(fitted):
    model = BetaGeo(max_iter=50)
    assert model.set_params(max_iter=200, tol=1e-6) is model
    assert (model.max_iter, model.tol) == (200, 1e-6)
    assert model.set_params() is model
    twin = twin_of(BetaGeo)(max_iter=200, tol=1e-6)
    with pytest.raises(ValueError) as ours:
        model.set_params(penalizer_coef=0.1)
    with pytest.raises(ValueError) as theirs:
        twin.set_params(penalizer_coef=0.1)
    assert str(ours.value) == str(theirs.value)
    assert str(ours.value) == (
        "Invalid parameter 'penalizer_coef' for estimator BetaGeo(max_iter=200, tol=1e-06). "
        "Valid parameters are: ['initial_params', 'max_iter', 'tol']."
    )
    # fitted attributes stay until the next fit, as with scikit-learn
    copy = pickle.loads(pickle.dumps(fitted))
    copy.set_params(max_iter=7)
    assert copy.max_iter == 7 and copy.params_.equals(fitted.params_)


def test_nested_parameters_are_read_and_set_through_the_parent():
    outer = BetaGeo(initial_params=BetaGeo(max_iter=3))
    assert outer.get_params()["initial_params__max_iter"] == 3
    outer.set_params(initial_params__max_iter=9)
    assert outer.initial_params.max_iter == 9


def test_clone(fitted):
    copy = clone(fitted)
    assert type(copy) is BetaGeo and copy is not fitted
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "params_")
    start = {"r": 0.3, "alpha": 4.0, "a": 0.8, "b": 2.4}
    model = BetaGeo(initial_params=start, max_iter=300)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert copy.initial_params == start and copy.initial_params is not start  # a deep copy
    assert [type(clone(cls())) for cls in MODELS] == MODELS


def test_clone_of_a_clone_fits_the_same(cdnow, fitted):
    refit = clone(clone(fitted)).fit(cdnow)
    assert refit.params_.equals(fitted.params_)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_not_fitted_error(cls):
    model = cls()
    for use in (lambda m: m.summary, lambda m: m.confidence_interval(), lambda m: m.to_dict()):
        with pytest.raises(NotFittedError) as info:
            use(model)
        assert str(info.value) == NOT_FITTED.format(cls.__name__)
        assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)
    assert not hasattr(model, "summary")  # NotFittedError is an AttributeError
    with pytest.raises(NotFittedError, match=NOT_FITTED.format(cls.__name__).replace(".", r"\.")):
        sklearn_check_is_fitted(model, "params_")


def test_scikit_learn_checks_accept_a_fitted_model(fitted):
    sklearn_check_is_fitted(fitted)  # asks for the model's tags
    sklearn_check_is_fitted(fitted, ["params_", "log_params_covariance_"])
    check_is_fitted(fitted, "params_")
    check_is_fitted(fitted, ("params_", "log_params_covariance_"))
    assert fitted.__sklearn_tags__() == BaseEstimator().__sklearn_tags__()


def test_check_is_fitted_refuses_what_scikit_learn_refuses(fitted):
    with pytest.raises(NotFittedError, match="This BetaGeo instance is not fitted yet"):
        check_is_fitted(BetaGeo(), ["params_"])
    with pytest.raises(NotFittedError):
        check_is_fitted(fitted, ["params_", "no_such_attribute_"])
    with pytest.raises(TypeError, match="is a class, not an instance"):
        check_is_fitted(BetaGeo, "params_")
    with pytest.raises(TypeError, match="is not an estimator instance"):
        check_is_fitted(object(), "params_")


def test_notebook_view_of_an_unfitted_model():
    assert BetaGeo(max_iter=5)._repr_html_() == "<pre>BetaGeo(max_iter=5)</pre>"
    bundle = BetaGeo()._repr_mimebundle_()
    assert bundle == {"text/plain": "BetaGeo()", "text/html": "<pre>BetaGeo()</pre>"}


def test_pickle_round_trip(fitted):
    copy = pickle.loads(pickle.dumps(fitted))
    assert repr(copy) == repr(fitted) and copy.params_.equals(fitted.params_)
    assert vars(copy).keys() == vars(fitted).keys()


def test_confidence_interval_uses_the_normal_quantile(fitted):
    for level in (0.5, 0.8, 0.9, 0.95, 0.99):
        z = stats.norm.ppf(0.5 + level / 2)
        log_se = np.sqrt(np.diag(fitted.log_params_covariance_.to_numpy()))
        expected = np.exp(np.log(fitted.params_.to_numpy()) + z * log_se)
        ci = fitted.confidence_interval(level)
        np.testing.assert_array_equal(ci["ci_upper"].to_numpy(), expected)


def test_correlation_p_values_are_scipy_stats(cdnow):
    repeat = cdnow[cdnow["frequency"] > 0]
    result = spend_frequency_correlation(repeat["frequency"], repeat["monetary_value"])
    pearson = stats.pearsonr(repeat["frequency"], repeat["monetary_value"])
    assert result.pearson_pvalue == pytest.approx(pearson.pvalue, rel=1e-9)
    rho, n = result.pearson, result.n
    t = rho * np.sqrt((n - 2) / (1 - rho**2))
    assert result.pearson_pvalue == float(2 * stats.t.sf(abs(t), n - 2))


def test_lazy_module():
    lazy = LazyModule("scipy.optimize")
    assert repr(lazy) == "<lazily imported module 'scipy.optimize'>"
    from scipy import optimize

    assert lazy.minimize is optimize.minimize
    with pytest.raises(AttributeError):
        lazy.no_such_function  # noqa: B018
