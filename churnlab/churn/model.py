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

from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from churnlab._validation import align_to, check_number

METHODS = ("gradient_boosting", "logistic")
CALIBRATIONS = ("isotonic", "sigmoid", None)


class ChurnModel(ClassifierMixin, BaseEstimator):
    """Calibrated churn classifier (y = 1: churned).

    Which label means "churned": with numeric or boolean labels the larger one (1 of 0/1,
    True of False/True) unless ``positive_label`` says otherwise; text labels (e.g.
    ``"churned"`` / ``"stayed"``) need ``positive_label``, since their sorted order says
    nothing about their meaning. ``classes_`` lists the other label first and the churned
    label second, so column 1 of :meth:`predict_proba` is always P(churned).

    When ``X`` is a DataFrame and ``y`` a Series, labels are matched to rows by customer id
    (the index), never by position: both must hold the same customers, and ``y`` is put in
    ``X``'s order (``sample_weight`` too, when it is a Series).

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
    positive_label : label, optional
        The label of churned customers in ``y``; None takes the larger of two numeric or
        boolean labels and refuses text labels.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        ``[other label, churned label]``: the columns of :meth:`predict_proba`.
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

    Text labels, with the churned one named:

    >>> labels = np.where(y == 1, "churned", "stayed")
    >>> model = ChurnModel(method="logistic", positive_label="churned").fit(X, labels)
    >>> model.classes_.tolist()
    ['stayed', 'churned']
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
        positive_label=None,
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
        self.positive_label = positive_label

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _check_params(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method={self.method!r}: use one of {METHODS}")
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration={self.calibration!r}: use one of {CALIBRATIONS}")
        if isinstance(self.cv, (bool, np.bool_, str, Real)):
            check_number(
                self.cv, "cv", low=2, integer=True, hint="Or pass a cross-validation splitter."
            )
        for name in ("learning_rate", "C"):
            check_number(getattr(self, name), name, low=0, low_open=True)
        check_number(self.l2_regularization, "l2_regularization", low=0)
        for name in ("n_estimators", "max_leaf_nodes", "min_samples_leaf", "n_threads"):
            value = getattr(self, name)
            if name == "n_threads" and value is None:
                continue
            check_number(value, name, low=2 if name == "max_leaf_nodes" else 1, integer=True)

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
        y : array-like or Series of shape (n_customers,)
            Binary labels, both classes present (1 = churned, or see ``positive_label``). A
            Series next to a DataFrame ``X`` is matched by customer id.
        sample_weight : array-like or Series, optional

        Returns
        -------
        self
        """
        self._check_params()
        y, sample_weight = _align_by_customer(X, y, sample_weight)
        X, y = validate_data(self, X, y)
        target = type_of_target(y, input_name="y", raise_unknown=True)
        if target != "binary":
            raise ValueError(
                "Only binary classification is supported. ChurnModel needs labels 1 = churned "
                f"and 0 = stayed; got a {target} target"
            )
        labels = np.unique(y)
        if labels.size < 2:
            raise ValueError(
                f"y holds one class only ({labels[0]!r}): a churn model needs churners "
                "and non-churners. Check the cutoff and horizon."
            )
        self.classes_ = self._order_classes(labels)
        y = (y == self.classes_[1]).astype(np.int64)  # 1 = churned, whatever the labels
        # The scaling uses no labels, so fitting it once on all training rows leaks nothing
        # into the calibration folds.
        self.scaler_ = None
        if self.method == "logistic":
            self.scaler_ = StandardScaler().fit(np.arcsinh(X), sample_weight=sample_weight)
        model = self._learner()
        if self.calibration is not None:
            cv = self.cv
            if isinstance(cv, Real):
                cv = int(cv)
                n_min = int(np.bincount(y).min())
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

    def _order_classes(self, labels: np.ndarray) -> np.ndarray:
        """The two labels as ``[other, churned]`` (see the class notes)."""
        if self.positive_label is None:
            if labels.dtype.kind not in "biuf":
                names = labels.tolist()
                raise ValueError(
                    f"y holds the text labels {names}: say which one means churned, e.g. "
                    f"ChurnModel(positive_label={names[0]!r}); column 1 of predict_proba is "
                    "then P(churned)"
                )
            churned = 1
        else:
            found = [i for i, label in enumerate(labels.tolist()) if label == self.positive_label]
            if not found:
                raise ValueError(
                    f"positive_label={self.positive_label!r} is not one of the labels in y: "
                    f"{labels.tolist()}"
                )
            churned = found[0]
        return labels[[1 - churned, churned]]

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


def _align_by_customer(X, y, sample_weight):
    """``y`` (and a Series ``sample_weight``) in the order of ``X``'s customer ids.

    Only when ``X`` is a DataFrame and ``y`` a Series: other inputs are taken in the order
    given.
    """
    if not (isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)):
        return y, sample_weight
    y = align_to(y, X.index, "y", "X")
    if isinstance(sample_weight, pd.Series):
        sample_weight = align_to(sample_weight, X.index, "sample_weight", "X")
    return y, sample_weight
