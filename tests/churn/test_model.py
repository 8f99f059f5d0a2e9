"""ChurnModel: scikit-learn conventions, reproducibility, calibration and errors."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from churnlab.churn import ChurnModel


@pytest.fixture(autouse=True)
def _one_thread():
    # Boosting's OpenMP threads spin-wait on a busy shared machine; one thread is ~10x faster
    # for the tiny data sets of these checks and gives identical results.
    with threadpool_limits(limits=1):
        yield


@parametrize_with_checks(
    [
        ChurnModel(n_estimators=10, cv=3),
        ChurnModel(method="logistic", calibration="sigmoid", cv=3),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=1500, n_features=6, n_informative=4, weights=[0.4], random_state=1
    )
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]), pd.Series(y)


def test_reproducible(data):
    # The same data and seed give bit-identical probabilities (no unseeded randomness).
    X, y = data
    a = ChurnModel(n_estimators=50).fit(X, y).predict_proba(X)
    b = clone(ChurnModel(n_estimators=50)).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_logistic_without_calibration_is_the_plain_pipeline(data):
    # method="logistic", calibration=None is exactly arcsinh -> standardise -> logistic
    # regression; the reference is built from scikit-learn's parts by hand.
    X, y = data
    ours = ChurnModel(method="logistic", calibration=None).fit(X, y).predict_proba(X)[:, 1]
    ref = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    ref.fit(np.arcsinh(X.to_numpy()), y)
    expected = ref.predict_proba(np.arcsinh(X.to_numpy()))[:, 1]
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


def test_boosting_beats_chance_and_calibration_is_honest(data):
    # Held-out AUC well above 0.5, and calibrated probabilities average to the churn rate of
    # held-out customers within 3 points (isotonic calibration preserves the mean).
    X, y = data
    train, test = slice(0, 1000), slice(1000, None)
    model = ChurnModel(n_estimators=100).fit(X.iloc[train], y.iloc[train])
    p = model.predict_proba(X.iloc[test])[:, 1]
    assert roc_auc_score(y.iloc[test], p) > 0.85
    assert abs(p.mean() - y.iloc[test].mean()) < 0.03


def test_usable_in_pipeline_and_cross_validation(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), ChurnModel(method="logistic", cv=3))
    scores = cross_val_score(pipe, X, y, cv=3, scoring="roc_auc")
    assert scores.min() > 0.8


def test_feature_names_are_remembered(data):
    X, y = data
    model = ChurnModel(method="logistic").fit(X, y)
    assert list(model.feature_names_in_) == list(X.columns)
    with pytest.raises(ValueError, match="feature names"):
        model.predict_proba(X[X.columns[::-1]])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"method": "forest"}, "method="),
        ({"calibration": "beta"}, "calibration="),
        ({"cv": 1}, "cv="),
        ({"n_estimators": 0}, "n_estimators="),
        ({"C": -1.0}, "C="),
    ],
)
def test_bad_parameters(data, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        ChurnModel(**params).fit(X, y)


def test_single_class_label_is_an_error(data):
    X, _ = data
    with pytest.raises(ValueError, match="y holds one class only"):
        ChurnModel().fit(X, np.ones(len(X), dtype=int))


def test_multiclass_label_is_an_error(data):
    X, _ = data
    with pytest.raises(ValueError, match="binary"):
        ChurnModel().fit(X, np.arange(len(X)) % 3)


def test_too_few_churners_for_the_folds(data):
    X, _ = data
    y = np.zeros(len(X), dtype=int)
    y[:3] = 1
    with pytest.raises(ValueError, match="fewer than cv=5"):
        ChurnModel().fit(X, y)


def test_thread_count_does_not_change_the_model(data):
    # n_threads only changes speed: one and two OpenMP threads give identical probabilities.
    X, y = data
    kwargs = {"n_estimators": 10, "calibration": None}
    one = ChurnModel(n_threads=1, **kwargs).fit(X, y).predict_proba(X)
    two = ChurnModel(n_threads=2, **kwargs).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(one, two)
    with pytest.raises(ValueError, match="n_threads="):
        ChurnModel(n_threads=0).fit(X, y)
