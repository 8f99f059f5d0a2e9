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


def _expected_failures(estimator):
    # ChurnModel refuses text labels unless positive_label names the churned one: their
    # sorted order says nothing about which is "churned" (test_text_labels_need_positive_label
    # covers it, and test_minus_one_plus_one_labels the numeric part of this check).
    return {"check_classifiers_classes": "text labels need positive_label"}


@parametrize_with_checks(
    [
        ChurnModel(n_estimators=10, cv=3),
        ChurnModel(method="logistic", calibration="sigmoid", cv=3),
    ],
    expected_failed_checks=_expected_failures,
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


# --------------------------------------------------------------------------- customer ids
@pytest.fixture(scope="module")
def by_customer(data):
    # the same data indexed by (non-consecutive) customer ids
    X, y = data
    ids = pd.Index(np.arange(len(X)) * 7 + 1000, name="customer_id")
    return X.set_axis(ids), y.set_axis(ids)


def test_labels_are_matched_by_customer_id_not_position(by_customer):
    # y in another order is put back in X's order: the fit is identical to the aligned one,
    # and different from pairing the shuffled labels by position.
    X, y = by_customer
    shuffled = y.sample(frac=1.0, random_state=3)
    assert not shuffled.index.equals(X.index)
    kwargs = {"method": "logistic", "calibration": None}
    aligned = ChurnModel(**kwargs).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(ChurnModel(**kwargs).fit(X, shuffled).predict_proba(X), aligned)
    by_position = ChurnModel(**kwargs).fit(X, shuffled.to_numpy()).predict_proba(X)
    assert np.abs(by_position - aligned).max() > 0.1


def test_boosting_with_shuffled_labels_and_weights_is_identical(by_customer):
    X, y = by_customer
    weights = pd.Series(np.where(y == 1, 2.0, 1.0), index=y.index)
    order = np.random.default_rng(0).permutation(len(y))
    kwargs = {"n_estimators": 10, "cv": 2, "n_threads": 1}
    aligned = ChurnModel(**kwargs).fit(X, y, sample_weight=weights).predict_proba(X)
    shuffled = ChurnModel(**kwargs).fit(X, y.iloc[order], sample_weight=weights.iloc[order[::-1]])
    np.testing.assert_array_equal(shuffled.predict_proba(X), aligned)


def test_other_customers_in_y_are_an_error_listing_them(by_customer):
    X, y = by_customer
    other = y.rename(index={1000: 999, 1007: 998})
    with pytest.raises(ValueError, match="y is indexed by other customers than X") as err:
        ChurnModel().fit(X, other)
    message = str(err.value)
    assert "[1000, 1007]" in message and "[999, 998]" in message
    with pytest.raises(ValueError, match="ids in X but not in y: 1 id"):
        ChurnModel().fit(X, y.iloc[1:])


def test_repeated_ids_cannot_be_aligned(by_customer):
    X, y = by_customer
    repeated = y.rename(index={1007: 1000}).iloc[::-1]
    with pytest.raises(ValueError, match=r"column 'y index': duplicate customer ids in 2 row"):
        ChurnModel().fit(X, repeated)
    weights = pd.Series(1.0, index=X.index[::-1].delete(0))
    with pytest.raises(ValueError, match="sample_weight is indexed by other customers than X"):
        ChurnModel().fit(X, y, sample_weight=weights)


# --------------------------------------------------------------------------- labels
def test_text_labels_with_positive_label(data):
    # "churned" sorts before "stayed": column 1 must still be P(churned), the very model
    # fitted on the 0/1 labels.
    X, y = data
    kwargs = {"method": "logistic", "calibration": "sigmoid", "cv": 3}
    text = pd.Series(np.where(y == 1, "churned", "stayed"), index=y.index)
    model = ChurnModel(positive_label="churned", **kwargs).fit(X, text)
    assert model.classes_.tolist() == ["stayed", "churned"]
    reference = ChurnModel(**kwargs).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(model.predict_proba(X), reference)
    expected = np.where(reference[:, 1] > 0.5, "churned", "stayed")
    np.testing.assert_array_equal(model.predict(X), expected)


def test_text_labels_need_positive_label(data):
    X, y = data
    text = np.where(y == 1, "churned", "stayed")
    with pytest.raises(ValueError, match=r"positive_label='churned'.*P\(churned\)"):
        ChurnModel().fit(X, text)
    with pytest.raises(ValueError, match=r"positive_label='gone' is not one of the labels"):
        ChurnModel(positive_label="gone").fit(X, text)


def test_positive_label_chooses_the_churned_column(data):
    # positive_label=0 on 0/1 labels is the same model as the default on 1 - y; classes_
    # then reads [1, 0].
    X, y = data
    kwargs = {"n_estimators": 10, "cv": 2, "n_threads": 1}
    flipped = ChurnModel(positive_label=0, **kwargs).fit(X, y)
    assert flipped.classes_.tolist() == [1, 0]
    reference = ChurnModel(**kwargs).fit(X, 1 - y)
    np.testing.assert_array_equal(flipped.predict_proba(X), reference.predict_proba(X))
    np.testing.assert_array_equal(flipped.predict(X), 1 - reference.predict(X))


@pytest.mark.parametrize(
    ("labels", "classes"),
    [((-1, 1), [-1, 1]), ((False, True), [False, True]), ((0.0, 1.0), [0.0, 1.0])],
)
def test_numeric_and_boolean_labels_take_the_larger_as_churned(data, labels, classes):
    X, y = data
    kwargs = {"method": "logistic", "calibration": None}
    model = ChurnModel(**kwargs).fit(X, np.where(y == 1, labels[1], labels[0]))
    assert model.classes_.tolist() == classes
    reference = ChurnModel(**kwargs).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(model.predict_proba(X), reference)
