"""Out-of-time evaluation of churn scores: metrics, curves, lift, calibration, bootstrap.

A churn score is any number that is larger for customers more likely to churn (y = 1): a
model's probability, the time since the last purchase, ``1 - P(alive)``, minus the expected
number of purchases. Ranking metrics (ROC AUC, precision-recall AUC, gains, lift) accept any
score; probability metrics (Brier score, log loss, calibration) only scores within [0, 1].

Ties are handled as if tied customers were ordered at random, in expectation: curves move
diagonally through a block of tied scores, exactly as the ROC curve does (see
:mod:`churnlab.churn.ranking`). That matters for scores such as P(alive), which is exactly 1
for every customer without a repeat purchase.

Out-of-time evaluation (:func:`out_of_time_split`) builds the training set at one cutoff and
the test set at a later one, never shuffling customers across time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnlab._validation import (
    align_to,
    as_timestamp,
    check_level,
    check_number,
    fail,
)
from churnlab.churn.features import horizon_days, make_churn_dataset
from churnlab.churn.ranking import (
    check_labels,
    check_score,
    group_sums,
    is_probability,
    ranked_counts,
    ranked_groups,
)
from churnlab.results import Result
from churnlab.stats import wilson_interval

#: Metrics the bootstrap can resample, in the order reported.
BOOTSTRAP_METRICS = ("roc_auc", "pr_auc", "top_decile_lift")

#: Share of customers in the "top decile" of :func:`evaluate`.
TOP_DECILE = 0.10

_LOG_LOSS_EPS = 1e-15


def _auc(pos, neg):
    """Mann-Whitney AUC from tie blocks in descending score order (ties count one half)."""
    P, N = pos.sum(-1), neg.sum(-1)
    neg_below = N[..., None] - np.cumsum(neg, -1)
    return ((pos * neg_below).sum(-1) + 0.5 * (pos * neg).sum(-1)) / (P * N)


def _average_precision(pos, neg):
    """Average precision: sum over thresholds of (recall step) x (precision)."""
    tp, fp = np.cumsum(pos, -1), np.cumsum(neg, -1)
    return (pos * tp / (tp + fp)).sum(-1) / pos.sum(-1)


def _captured(pos, neg, fraction: float):
    """Expected churners among the top ``fraction`` of customers (ties broken at random)."""
    size = pos + neg
    cum_size, cum_pos = np.cumsum(size, -1), np.cumsum(pos, -1)
    target = fraction * cum_size[..., -1]
    k = np.argmax(cum_size >= target[..., None] - 1e-9 * cum_size[..., -1:], axis=-1)
    k = k[..., None]
    before = np.take_along_axis(cum_size, k, -1)[..., 0] - np.take_along_axis(size, k, -1)[..., 0]
    pos_before = np.take_along_axis(cum_pos, k, -1)[..., 0] - np.take_along_axis(pos, k, -1)[..., 0]
    size_k = np.take_along_axis(size, k, -1)[..., 0]
    pos_k = np.take_along_axis(pos, k, -1)[..., 0]
    share = np.where(size_k > 0, (target - before) / np.where(size_k > 0, size_k, 1), 0.0)
    return pos_before + share * pos_k, target


def _lift(pos, neg, fraction: float):
    captured, target = _captured(pos, neg, fraction)
    rate = pos.sum(-1) / (pos + neg).sum(-1)
    return captured / target / rate


# --------------------------------------------------------------------------- metrics
#: The scalar metrics of :class:`ChurnEvaluation`, in the order of its ``table``.
METRICS = ("n", "churn_rate", "roc_auc", "pr_auc", "top_decile_lift", "brier", "log_loss")
#: The metrics :func:`metrics_table` compares.
COMPARED_METRICS = ("roc_auc", "pr_auc", "top_decile_lift", "brier", "log_loss")


@dataclass(frozen=True, repr=False)
class ChurnEvaluation(Result):
    """Discrimination, calibration and lift of one churn score on one test set (:func:`evaluate`).

    Attributes
    ----------
    n : int
        Customers scored.
    churn_rate : float
        Share of churners.
    roc_auc, pr_auc : float
        Area under the ROC curve; average precision (area under the precision-recall curve).
    top_decile_lift : float
        Churn rate among the 10% highest scores over the overall churn rate.
    brier, log_loss : float
        Probability metrics; NaN when the score is not a probability.
    calibration : DataFrame or None
        :func:`calibration_table`; None when the score is not a probability.
    roc : DataFrame
        ``fpr``, ``tpr`` from (0, 0) to (1, 1).
    pr : DataFrame
        ``recall``, ``precision``.
    gains : DataFrame
        :func:`gains_curve`.

    ``table`` holds the scalar metrics as one row. ``result["roc_auc"]`` reads a field by name
    (kept for code written when :func:`evaluate` returned a dict).
    """

    n: int
    churn_rate: float
    roc_auc: float
    pr_auc: float
    top_decile_lift: float
    brier: float
    log_loss: float
    calibration: pd.DataFrame | None
    roc: pd.DataFrame
    pr: pd.DataFrame
    gains: pd.DataFrame

    @property
    def table(self) -> pd.DataFrame:
        """The scalar metrics, one row (``n, churn_rate, roc_auc, pr_auc, top_decile_lift,
        brier, log_loss``)."""
        return pd.DataFrame([{m: getattr(self, m) for m in METRICS}], index=["score"])

    def __getitem__(self, name: str):
        if name not in self.__dataclass_fields__:
            raise KeyError(name)
        return getattr(self, name)

    def __repr__(self) -> str:
        metrics = ", ".join(f"{m}={getattr(self, m):.4g}" for m in METRICS)
        return f"ChurnEvaluation({metrics})"

    def _html_title(self) -> str:
        return f"Churn score: ROC AUC {self.roc_auc:.4f} on {self.n:,} customers"


def evaluate(y_true, score, *, n_bins: int = 10) -> ChurnEvaluation:
    """Discrimination, calibration and lift of one churn score on one test set.

    Parameters
    ----------
    y_true : array-like of 0/1
        1 = churned. Both classes must be present.
    score : array-like
        Larger = more likely to churn. Probability metrics need values in [0, 1].
    n_bins : int
        Bins of the calibration table.

    Returns
    -------
    ChurnEvaluation
        ``n``, ``churn_rate``; ``roc_auc``, ``pr_auc`` (average precision), ``brier``,
        ``log_loss`` (NaN when the score is not a probability), ``top_decile_lift`` (churn
        rate among the 10% highest scores over the overall churn rate); the DataFrames
        ``calibration`` (:func:`calibration_table`, None for non-probabilities), ``roc``
        (``fpr``, ``tpr``), ``pr`` (``recall``, ``precision``) and ``gains``
        (:func:`gains_curve`).

    Examples
    --------
    Churners scored 0.35 and 0.8, stayers 0.1 and 0.4: 3 of the 4 churner-stayer pairs are
    ordered right (AUC 0.75); Brier (0.01 + 0.16 + 0.4225 + 0.04) / 4 = 0.1581; the top 10%
    (0.4 customers, all from the 0.8 churner) are churners, twice the churn rate of 0.5.

    >>> r = evaluate([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> r.roc_auc, round(r.brier, 4), r.top_decile_lift
    (0.75, 0.1581, 2.0)
    """
    n_bins = check_number(n_bins, "n_bins", low=1, integer=True)
    y, s, _, _, pos, neg = ranked_counts(y_true, score)
    probability = is_probability(s)
    if probability:
        p = np.clip(s, _LOG_LOSS_EPS, 1 - _LOG_LOSS_EPS)
        brier = float(np.mean((s - y) ** 2))
        log_loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))
    else:
        brier = log_loss = float("nan")
    tp, fp = np.cumsum(pos), np.cumsum(neg)
    roc = pd.DataFrame({"fpr": np.r_[0.0, fp / fp[-1]], "tpr": np.r_[0.0, tp / tp[-1]]})
    pr = pd.DataFrame({"recall": tp / tp[-1], "precision": tp / (tp + fp)})
    return ChurnEvaluation(
        n=int(len(y)),
        churn_rate=float(y.mean()),
        roc_auc=float(_auc(pos, neg)),
        pr_auc=float(_average_precision(pos, neg)),
        brier=brier,
        log_loss=log_loss,
        top_decile_lift=float(_lift(pos, neg, TOP_DECILE)),
        calibration=calibration_table(y, s, n_bins=n_bins) if probability else None,
        roc=roc,
        pr=pr,
        gains=_gains_from_groups(pos, neg),
    )


def metrics_table(results: Mapping[str, ChurnEvaluation]) -> pd.DataFrame:
    """The scalar metrics of several :func:`evaluate` results, one row per model.

    Examples
    --------
    Average precision of the example of :func:`evaluate`: the churners come first and third
    in score order, precision 1/1 and 2/3 at their recall steps, (1 + 2/3) / 2 = 0.8333.

    >>> y = [0, 0, 1, 1]
    >>> metrics_table({"a": evaluate(y, [0.1, 0.4, 0.35, 0.8])})[["roc_auc", "pr_auc"]]
       roc_auc    pr_auc
    a     0.75  0.833333
    """
    names = list(COMPARED_METRICS)
    return pd.DataFrame({k: {m: getattr(r, m) for m in names} for k, r in results.items()}).T[names]


def calibration_table(y_true, proba, *, n_bins: int = 10, level: float = 0.95) -> pd.DataFrame:
    """Predicted versus observed churn rate in bins of equal size (quantiles of ``proba``).

    Returns
    -------
    DataFrame
        One row per bin: ``n``, ``mean_predicted``, ``observed_rate`` and its Wilson score
        interval ``ci_lower``, ``ci_upper`` at ``level``. Tied probabilities share a bin.

    Examples
    --------
    Each bin holds 1 churner of 2: Wilson's 95% interval for 1 of 2 is 0.5 -+ 0.4055.

    >>> calibration_table([0, 1, 0, 1], [0.2, 0.2, 0.6, 0.6], n_bins=2)
         n  mean_predicted  observed_rate  ci_lower  ci_upper
    bin
    1    2             0.2            0.5  0.094531  0.905469
    2    2             0.6            0.5  0.094531  0.905469
    """
    n_bins = check_number(n_bins, "n_bins", low=1, integer=True)
    level = check_level(level)
    y = check_labels(y_true)
    p = check_score(proba, len(y), "proba", like=y_true)
    outside = (p < 0) | (p > 1)
    if outside.any():
        fail(
            "proba",
            "probabilities that do not lie within [0, 1]",
            pd.DataFrame({"proba": p}),
            outside,
            "A calibration table compares probabilities with churn rates.",
        )
    edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)[1:-1]))
    bins = np.searchsorted(edges, p, side="right")
    n = np.bincount(bins, minlength=len(edges) + 1)
    keep = n > 0
    pred = np.bincount(bins, weights=p, minlength=len(n))[keep] / n[keep]
    k = np.bincount(bins, weights=y, minlength=len(n))[keep]
    n = n[keep]
    lower, upper = wilson_interval(k, n, level)
    return pd.DataFrame(
        {
            "n": n,
            "mean_predicted": pred,
            "observed_rate": k / n,
            "ci_lower": lower,
            "ci_upper": upper,
        },
        index=pd.RangeIndex(1, len(n) + 1, name="bin"),
    )


def _gains_from_groups(pos, neg) -> pd.DataFrame:
    size = pos + neg
    frac = np.r_[0.0, np.cumsum(size) / size.sum()]
    gain = np.r_[0.0, np.cumsum(pos) / pos.sum()]
    with np.errstate(invalid="ignore", divide="ignore"):
        lift = np.where(frac > 0, gain / np.where(frac > 0, frac, 1), np.nan)
    return pd.DataFrame({"fraction_targeted": frac, "gain": gain, "lift": lift})


def gains_curve(y_true, score) -> pd.DataFrame:
    """Cumulative gains: the share of all churners among the top-scored customers.

    One row per block of tied scores (plus the origin): ``fraction_targeted``, ``gain``
    (share of churners reached) and ``lift`` (``gain / fraction_targeted``). Between rows the
    curve is a straight line (ties broken at random, in expectation).

    Examples
    --------
    >>> gains_curve([1, 0, 1, 0], [0.9, 0.8, 0.5, 0.1])
       fraction_targeted  gain  lift
    0               0.00   0.0   NaN
    1               0.25   0.5   2.0
    2               0.50   0.5   1.0
    3               0.75   1.0   1.333333
    4               1.00   1.0   1.0
    """
    *_, pos, neg = ranked_counts(y_true, score)
    return _gains_from_groups(pos, neg)


def gains_table(y_true, score, *, n_groups: int = 10) -> pd.DataFrame:
    """Gains and lift by group of equal size (deciles by default), highest scores first.

    Returns
    -------
    DataFrame
        Indexed by ``group`` (1 = highest scores): ``fraction_targeted`` (cumulative),
        ``customers``, ``churners`` (expected, ties shared at random), ``churn_rate``,
        ``lift`` (group churn rate over the overall rate), ``cumulative_churners``,
        ``cumulative_gain`` (share of all churners reached) and ``cumulative_lift``.

    Examples
    --------
    >>> gains_table([1, 0, 1, 0], [0.9, 0.8, 0.5, 0.1], n_groups=2)[["churners", "lift"]]
           churners  lift
    group
    1           1.0   1.0
    2           1.0   1.0
    """
    n_groups = check_number(n_groups, "n_groups", low=1, integer=True)
    y, _, _, _, pos, neg = ranked_counts(y_true, score)
    fractions = np.arange(1, n_groups + 1) / n_groups
    cum = np.array([float(_captured(pos, neg, f)[0]) for f in fractions])
    cum[-1] = pos.sum()
    customers = np.diff(np.r_[0.0, fractions * len(y)])
    churners = np.diff(np.r_[0.0, cum])
    rate = y.mean()
    return pd.DataFrame(
        {
            "fraction_targeted": fractions,
            "customers": customers,
            "churners": churners,
            "churn_rate": churners / customers,
            "lift": churners / customers / rate,
            "cumulative_churners": cum,
            "cumulative_gain": cum / pos.sum(),
            "cumulative_lift": cum / (fractions * len(y)) / rate,
        },
        index=pd.RangeIndex(1, n_groups + 1, name="group"),
    )


# --------------------------------------------------------------------------- bootstrap
@dataclass(frozen=True)
class BootstrapResult(Result):
    """Paired bootstrap of churn metrics for several scores on the same customers.

    Every replicate resamples customers once and scores every model on that resample, so
    the differences between models are paired.

    Attributes
    ----------
    estimates : DataFrame
        Metric (columns) of each model (rows) on the full test set.
    samples : ndarray of shape (n_boot, n_models, n_metrics)
        The bootstrap replicates.
    models, metrics : tuple of str
    reference : str
        Model the differences are taken against (the highest ROC AUC unless chosen).
    n_boot, seed : int
    level : float
        Level of the percentile intervals in :attr:`table` and :attr:`differences`.
    """

    estimates: pd.DataFrame
    samples: np.ndarray = field(repr=False)
    models: tuple[str, ...]
    metrics: tuple[str, ...]
    reference: str
    n_boot: int
    seed: int
    level: float = 0.95

    def confidence_interval(self, level: float = 0.95) -> pd.DataFrame:
        """Estimate, bootstrap standard error and percentile interval of each metric."""
        return self._summarise(self.samples, self.estimates, level)

    def difference_interval(self, level: float = 0.95) -> pd.DataFrame:
        """Each model minus :attr:`reference`, paired, with percentile intervals.

        An interval that excludes 0 marks a difference the test set can tell apart.
        """
        j = self.models.index(self.reference)
        diff = self.samples - self.samples[:, j : j + 1, :]
        est = self.estimates - self.estimates.loc[self.reference]
        return self._summarise(diff, est, level)

    @property
    def table(self) -> pd.DataFrame:
        """:meth:`confidence_interval` at :attr:`level`, indexed by (model, metric)."""
        return self.confidence_interval(self.level)

    @property
    def differences(self) -> pd.DataFrame:
        """:meth:`difference_interval` at :attr:`level`."""
        return self.difference_interval(self.level)

    def _summarise(self, samples, estimates, level) -> pd.DataFrame:
        level = check_level(level)
        lo, hi = np.nanquantile(samples, [(1 - level) / 2, (1 + level) / 2], axis=0)
        se = np.nanstd(samples, axis=0, ddof=1)
        index = pd.MultiIndex.from_product([self.models, self.metrics], names=["model", "metric"])
        return pd.DataFrame(
            {
                "estimate": estimates.loc[list(self.models), list(self.metrics)]
                .to_numpy()
                .reshape(-1),
                "std_err": se.reshape(-1),
                "ci_lower": lo.reshape(-1),
                "ci_upper": hi.reshape(-1),
            },
            index=index,
        )

    def _html_title(self) -> str:
        return "Paired bootstrap"

    def _html_notes(self) -> str:
        return (
            f"{self.n_boot} resamples, seed {self.seed}, {self.level:.0%} percentile intervals; "
            f"differences against {self.reference}"
        )


def bootstrap_metrics(
    y_true,
    scores_by_model: Mapping[str, object] | pd.DataFrame,
    n_boot: int = 500,
    seed: int = 0,
    *,
    metrics: tuple[str, ...] = BOOTSTRAP_METRICS,
    level: float = 0.95,
    reference: str | None = None,
) -> BootstrapResult:
    """Paired bootstrap intervals of ranking metrics for several churn scores.

    Parameters
    ----------
    y_true : array-like of 0/1
    scores_by_model : mapping of name -> scores, or DataFrame (one column per model)
        Every score aligned with ``y_true``.
    n_boot : int
        Bootstrap resamples of customers (with replacement).
    seed : int
        Seed of the resampling; the same seed gives the same intervals.
    metrics : tuple of {'roc_auc', 'pr_auc', 'top_decile_lift'}
    level : float
        Level of the percentile intervals.
    reference : str, optional
        Model to compare the others against; defaults to the highest ROC AUC.

    Returns
    -------
    BootstrapResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 300)
    >>> scores = {"good": y + rng.normal(0, 1, 300), "noise": rng.normal(0, 1, 300)}
    >>> result = bootstrap_metrics(y, scores, n_boot=200, seed=1)
    >>> result.reference
    'good'
    >>> bool(result.differences.loc[("noise", "roc_auc"), "ci_upper"] < 0)
    True
    """
    n_boot = check_number(n_boot, "n_boot", low=2, integer=True)
    seed = check_number(seed, "seed", low=0, integer=True)
    level = check_level(level)
    y = check_labels(y_true)
    if isinstance(scores_by_model, pd.DataFrame):
        scores_by_model = {c: scores_by_model[c] for c in scores_by_model.columns}
    if not scores_by_model:
        raise ValueError("scores_by_model is empty")
    unknown = [m for m in metrics if m not in BOOTSTRAP_METRICS]
    if unknown:
        raise ValueError(f"metrics {unknown} cannot be bootstrapped; use {BOOTSTRAP_METRICS}")
    models = tuple(str(k) for k in scores_by_model)
    scores = [
        check_score(v, len(y), f"scores_by_model[{k!r}]", like=y_true)
        for k, v in scores_by_model.items()
    ]
    ranked = [ranked_groups(s) for s in scores]
    estimates = pd.DataFrame(
        [[_metric(m, *group_sums(y, np.ones_like(y), *r)) for m in metrics] for r in ranked],
        index=list(models),
        columns=list(metrics),
    )
    if reference is None:
        reference = (
            models[int(np.argmax(estimates["roc_auc"].to_numpy()))]
            if ("roc_auc" in metrics)
            else models[0]
        )
    elif reference not in models:
        raise ValueError(f"reference={reference!r} is not one of {list(models)}")

    rng = np.random.default_rng(seed)
    n = len(y)
    samples = np.empty((n_boot, len(models), len(metrics)))
    chunk = max(1, min(n_boot, 2_000_000 // max(n, 1)))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        draws = rng.integers(0, n, size=(b, n))
        weights = (
            np.bincount((draws + n * np.arange(b)[:, None]).ravel(), minlength=b * n)
            .reshape(b, n)
            .astype(float)
        )
        for j, r in enumerate(ranked):
            pos, neg = group_sums(y, weights, *r)
            with np.errstate(invalid="ignore", divide="ignore"):
                for k, m in enumerate(metrics):
                    samples[start : start + b, j, k] = _metric(m, pos, neg)
    return BootstrapResult(
        estimates=estimates,
        samples=samples,
        models=models,
        metrics=tuple(metrics),
        reference=reference,
        n_boot=int(n_boot),
        seed=int(seed),
        level=float(level),
    )


def _metric(name: str, pos, neg):
    if name == "roc_auc":
        return _auc(pos, neg)
    if name == "pr_auc":
        return _average_precision(pos, neg)
    return _lift(pos, neg, TOP_DECILE)


# --------------------------------------------------------------------------- importance
def permutation_importance(
    model,
    X: pd.DataFrame,
    y,
    *,
    n_repeats: int = 5,
    random_state: int = 0,
    scoring: str = "roc_auc",
    max_samples: float | int = 1.0,
) -> pd.DataFrame:
    """Drop in ``scoring`` when each feature is shuffled (on a held-out set).

    A thin wrapper of :func:`sklearn.inspection.permutation_importance` that returns a
    table. ``max_samples`` (a share or a number of rows) scores each repeat on a seeded
    subsample, which makes it cheaper for models that are slow to predict.

    Returns
    -------
    DataFrame
        Indexed by feature, sorted by decreasing ``importance_mean``, with
        ``importance_std`` over the ``n_repeats`` shuffles.

    Examples
    --------
    >>> from churnlab.churn import ChurnModel
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"signal": rng.normal(size=400), "noise": rng.normal(size=400)})
    >>> y = (X["signal"] + rng.normal(0, 0.5, 400) > 0).astype(int)
    >>> model = ChurnModel(method="logistic", calibration=None).fit(X, y)
    >>> permutation_importance(model, X, y).index.tolist()
    ['signal', 'noise']
    """
    from sklearn.inspection import permutation_importance as _sk_permutation_importance

    if not isinstance(X, pd.DataFrame):
        raise ValueError("X must be a DataFrame so that importances carry feature names")
    n_repeats = check_number(n_repeats, "n_repeats", low=1, integer=True)
    if isinstance(max_samples, (float, np.floating)):
        max_samples = check_number(max_samples, "max_samples", low=0, high=1, low_open=True)
    else:
        max_samples = check_number(
            max_samples, "max_samples", low=1, integer=True, hint="A share in (0, 1] or a count."
        )
    check_labels(y, "y")
    if isinstance(y, pd.Series):
        y = align_to(y, X.index, "y", "X")
    result = _sk_permutation_importance(
        model,
        X,
        np.asarray(y),
        scoring=scoring,
        n_repeats=n_repeats,
        random_state=random_state,
        max_samples=max_samples,
    )
    table = pd.DataFrame(
        {"importance_mean": result.importances_mean, "importance_std": result.importances_std},
        index=pd.Index(X.columns, name="feature"),
    )
    return table.sort_values("importance_mean", ascending=False, kind="stable")


# --------------------------------------------------------------------------- out of time
def out_of_time_split(
    transactions: pd.DataFrame,
    train_cutoff,
    test_cutoff,
    horizon,
    *,
    label_overlap: str = "error",
    **dataset_options,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    """Training set at ``train_cutoff``, test set at the later ``test_cutoff``.

    Both sets come from :func:`make_churn_dataset` with the same ``horizon`` and options, so
    a model trained on the first is judged on customers' behaviour in a later period, as it
    would be in use. Nothing is shuffled across time.

    Parameters
    ----------
    transactions : DataFrame
    train_cutoff, test_cutoff : date-like
        ``train_cutoff < test_cutoff``.
    horizon : Timedelta, str or number
        Label window of both sets.
    label_overlap : {'error', 'allow'}
        What to do when the training labels are not known yet at the test cutoff, i.e.
        ``train_cutoff + horizon > test_cutoff`` (see Notes).
    **dataset_options
        Passed to :func:`make_churn_dataset` (column names, ``time_unit``, ``data_end``, ...).

    Returns
    -------
    X_train, y_train, X_test, y_test

    Notes
    -----
    A model used on ``test_cutoff`` can only have learned from labels complete by then. When
    ``train_cutoff + horizon > test_cutoff`` the training labels depend on purchases in
    ``(test_cutoff, train_cutoff + horizon]``, which is also inside the test label window:
    for a customer in both sets, the training label already tells part of the test outcome,
    and the model learns the churn level of the test period. The evaluation is then more
    optimistic than deployment would be. This is an error by default;
    ``label_overlap='allow'`` accepts it knowingly (short histories such as CDNOW's leave no
    other choice), and the caller should say so when reporting the results. Features never
    leak: each set's features use only transactions up to its own cutoff.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3, 3],
    ...                    "date": ["2024-01-01", "2024-03-01", "2024-01-05", "2024-02-10",
    ...                             "2024-02-01", "2024-04-20"],
    ...                    "amount": [10.0, 20.0, 15.0, 7.0, 3.0, 9.0]})
    >>> X_tr, y_tr, X_te, y_te = out_of_time_split(tx, "2024-01-31", "2024-03-01", "4W",
    ...                                            bgnbd=False)
    >>> y_tr.to_dict(), y_te.to_dict()
    ({1: 1, 2: 0}, {1: 1, 2: 1, 3: 1})
    """
    train = as_timestamp(train_cutoff, "train_cutoff").normalize()
    test = as_timestamp(test_cutoff, "test_cutoff").normalize()
    if train >= test:
        raise ValueError(
            f"train_cutoff ({train.date()}) must be before test_cutoff ({test.date()}): an "
            "out-of-time test looks at a later period than the training set"
        )
    if label_overlap not in ("error", "allow"):
        raise ValueError(f"label_overlap={label_overlap!r}: use 'error' or 'allow'")
    time_unit = dataset_options.get("time_unit", "W")
    train_label_end = train + pd.Timedelta(days=horizon_days(horizon, time_unit))
    if train_label_end > test and label_overlap == "error":
        raise ValueError(
            f"the training labels run to {train_label_end.date()}, after test_cutoff "
            f"({test.date()}): they would use purchases made inside the test label window, "
            "which a model deployed at the test cutoff could not have seen. Move train_cutoff "
            f"to {(test - (train_label_end - train)).date()} or earlier, shorten the horizon, "
            "or pass label_overlap='allow' to accept the optimistic bias knowingly."
        )
    X_train, y_train = make_churn_dataset(transactions, train, horizon, **dataset_options)
    X_test, y_test = make_churn_dataset(transactions, test, horizon, **dataset_options)
    return X_train, y_train, X_test, y_test
