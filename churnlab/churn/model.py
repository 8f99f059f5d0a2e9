"""ChurnModel: a calibrated churn classifier that follows scikit-learn's conventions.

Two learners, chosen independently of the calibration:

* ``method="gradient_boosting"`` (default): histogram gradient boosting
  (:class:`sklearn.ensemble.HistGradientBoostingClassifier`), which needs no feature scaling
  and captures interactions such as "few purchases *and* long silence";
* ``method="logistic"``: the baseline, a logistic regression on standardised features after
  an ``arcsinh`` transform (log-like for the heavy-tailed counts and spends, defined for
  negative values too).

Probabilities are calibrated with :class:`sklearn.calibration.CalibratedClassifierCV`
(isotonic or sigmoid). The folds split *customers* of one snapshot, never time: every row of
a churn data set describes the same cutoff date, so no fold sees the future of another.
Folds are not shuffled and every random element is seeded by ``random_state``: the same
data give the same model.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

METHODS = ("gradient_boosting", "logistic")
CALIBRATIONS = ("isotonic", "sigmoid", None)


class ChurnModel(ClassifierMixin, BaseEstimator):
    """Calibrated churn classifier (y = 1: churned).

    Parameters
    ----------
    method : {'gradient_boosting', 'logistic'}
        The learner (see the module notes).
    calibration : {'isotonic', 'sigmoid'} or None
        Probability calibration by cross-validation over customers; None keeps the learner's
        own probabilities.
    cv : int or cross-validation splitter
        Number of (unshuffled, stratified) folds for the calibration, or any splitter /
        iterable of (train, test) indices that :class:`CalibratedClassifierCV` accepts.
    random_state : int
        Seed of the gradient boosting (the logistic fit is deterministic).
    learning_rate, n_estimators, max_leaf_nodes, min_samples_leaf, l2_regularization
        Gradient-boosting settings (ignored by the logistic learner).
    C : float
        Inverse L2 penalty of the logistic regression (ignored by gradient boosting).
    n_threads : int, optional
        OpenMP threads of the gradient boosting; None uses every core. On a small or shared
        machine one thread is often faster (threads that wait for a core spin idle). The
        result does not depend on it.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    estimator_ : fitted scikit-learn classifier (calibrated when ``calibration`` is set)
    scaler_ : StandardScaler or None
        The logistic learner's standardisation of ``arcsinh(X)`` (None for boosting).
    n_features_in_ : int
    feature_names_in_ : ndarray, when X had string column names

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> X, y = make_classification(n_samples=400, n_features=5, random_state=0)
    >>> model = ChurnModel(method="logistic", calibration="sigmoid").fit(X, y)
    >>> model.predict_proba(X[:2]).shape
    (2, 2)
    >>> round(model.score(X, y), 2)
    0.9...
    """

    def __init__(
        self,
        *,
        method: str = "gradient_boosting",
        calibration: str | None = "isotonic",
        cv: int = 5,
        random_state: int = 0,
        learning_rate: float = 0.1,
        n_estimators: int = 100,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        C: float = 1.0,
        n_threads: int | None = None,
    ):
        self.method = method
        self.calibration = calibration
        self.cv = cv
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.n_estimators = n_estimators
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.C = C
        self.n_threads = n_threads

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _check_params(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method={self.method!r}: use one of {METHODS}")
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration={self.calibration!r}: use one of {CALIBRATIONS}")
        if isinstance(self.cv, bool) or (isinstance(self.cv, Integral) and self.cv < 2):
            raise ValueError(f"cv={self.cv!r} must be an integer >= 2 or a CV splitter")
        for name in ("learning_rate", "l2_regularization", "C"):
            value = getattr(self, name)
            if not isinstance(value, Real) or not np.isfinite(value) or value < 0:
                raise ValueError(f"{name}={value!r} must be a non-negative number")
        if self.C == 0 or self.learning_rate == 0:
            raise ValueError("C and learning_rate must be positive")
        for name in ("n_estimators", "max_leaf_nodes", "min_samples_leaf", "n_threads"):
            value = getattr(self, name)
            if name == "n_threads" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")

    def _learner(self):
        if self.method == "gradient_boosting":
            return HistGradientBoostingClassifier(
                learning_rate=self.learning_rate,
                max_iter=self.n_estimators,
                max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf,
                l2_regularization=self.l2_regularization,
                early_stopping=False,
                random_state=self.random_state,
            )
        return LogisticRegression(C=self.C, max_iter=1000)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        """The logistic learner's input: arcsinh, then standardisation (fitted in ``fit``)."""
        if self.scaler_ is None:
            return X
        return self.scaler_.transform(np.arcsinh(X))

    def fit(self, X, y, sample_weight=None):
        """Fit the learner and its calibration.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_customers, n_features)
            Numeric features without missing values.
        y : array-like of shape (n_customers,)
            Binary labels, both classes present (1 = churned).
        sample_weight : array-like, optional

        Returns
        -------
        self
        """
        self._check_params()
        X, y = validate_data(self, X, y)
        target = type_of_target(y, input_name="y", raise_unknown=True)
        if target != "binary":
            raise ValueError(
                "Only binary classification is supported. ChurnModel needs labels 1 = churned "
                f"and 0 = stayed; got a {target} target"
            )
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError(
                f"y holds one class only ({self.classes_[0]!r}): a churn model needs churners "
                "and non-churners. Check the cutoff and horizon."
            )
        # The scaling uses no labels, so fitting it once on all training rows leaks nothing
        # into the calibration folds.
        self.scaler_ = None
        if self.method == "logistic":
            self.scaler_ = StandardScaler().fit(np.arcsinh(X), sample_weight=sample_weight)
        model = self._learner()
        if self.calibration is not None:
            cv = self.cv
            if isinstance(cv, Integral):
                n_min = int(np.bincount(np.searchsorted(self.classes_, y)).min())
                if n_min < cv:
                    raise ValueError(
                        f"the smaller class has {n_min} customers, fewer than cv={cv} folds; "
                        "use calibration=None or fewer folds"
                    )
                cv = StratifiedKFold(cv, shuffle=False)
            model = CalibratedClassifierCV(model, method=self.calibration, cv=cv)
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            model.fit(self._transform(X), y, sample_weight=sample_weight)
        self.estimator_ = model
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities of each class in ``classes_`` order (column 1 = churned)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            return self.estimator_.predict_proba(self._transform(X))

    def predict(self, X) -> np.ndarray:
        """The more probable class of each customer."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]
