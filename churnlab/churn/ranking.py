"""Churn labels and scores, checked and ranked: the common ground of evaluation and profit.

A churn score is any number that is larger for customers more likely to churn (y = 1).
Every metric of :mod:`churnlab.churn.evaluate` and every profit measure of
:mod:`churnlab.churn.profit` starts from the same steps, defined here once:

1. :func:`check_labels` and :func:`check_score` read 0/1 labels and finite scores, lining a
   score Series up with a label Series by customer id (:func:`align_by_customer`);
2. :func:`ranked_groups` orders customers by descending score and finds the blocks of tied
   scores; :func:`group_sums` counts (weighted) churners and non-churners per block.

Ties are handled as if tied customers were ordered at random, in expectation: curves move
diagonally through a block of tied scores. :func:`ranked_counts` runs all of it at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab._validation import align_to, as_float_array, fail, not_numbers

__all__ = [
    "align_by_customer",
    "check_labels",
    "check_score",
    "group_sums",
    "is_probability",
    "ranked_counts",
    "ranked_groups",
]


def check_labels(y_true, name: str = "y_true") -> np.ndarray:
    """0/1 labels (booleans count as labels: True = churned) as a float array.

    Text, missing values and labels other than 0 and 1 are a ValueError listing the rows; so
    are an empty input and a single class (ranking needs churners and non-churners).

    Examples
    --------
    >>> check_labels([True, False, 1, 0])
    array([1., 0., 1., 0.])
    """
    if isinstance(y_true, pd.Series) and pd.api.types.is_bool_dtype(y_true.dtype):
        y_true = y_true.to_numpy(dtype=float, na_value=np.nan)  # nullable booleans too
    values = np.asarray(y_true)
    if values.dtype.kind in "US" and not isinstance(y_true, np.ndarray):
        values = np.asarray(y_true, dtype=object)  # a list of numbers and text: keep each
    if values.ndim != 1:
        values = values.reshape(-1)
    if values.dtype.kind != "b":
        text = not_numbers(values)
        if text.any():
            fail(
                name,
                "text instead of 0/1 labels (1 = churned)",
                pd.DataFrame({name: values}),
                text,
                "Encode the labels as 0/1 (or True/False), e.g. (y == 'churned').astype(int).",
            )
    if values.dtype.kind in "biuf":
        numeric = values.astype(float)
    else:
        numeric = pd.to_numeric(pd.Series(values, dtype=object)).to_numpy(float, na_value=np.nan)
    bad = ~np.isin(numeric, (0.0, 1.0))
    if bad.any():
        fail(name, "labels other than 0 and 1 (1 = churned)", pd.DataFrame({name: values}), bad)
    if numeric.size == 0:
        raise ValueError(f"{name} is empty")
    if numeric.min() == numeric.max():
        raise ValueError(
            f"{name} holds one class only (all {int(numeric[0])}): ranking metrics need "
            "churners and non-churners. Check the cutoff and horizon."
        )
    return numeric


def align_by_customer(values, like, name: str, like_name: str = "y_true"):
    """``values`` lined up with ``like`` by customer id when both are Series.

    Series are matched by index, never by position: the same customers in another order are
    reordered to ``like``'s order; different customers are an error. Anything else (arrays,
    lists, or a Series next to an array) is taken in the order given.

    Examples
    --------
    >>> y = pd.Series([1, 0], index=["a", "b"])
    >>> align_by_customer(pd.Series([0.2, 0.9], index=["b", "a"]), y, "score").tolist()
    [0.9, 0.2]
    """
    if not (isinstance(values, pd.Series) and isinstance(like, pd.Series)):
        return values
    return align_to(values, like.index, name, like_name)


def check_score(score, n: int, name: str = "score", like=None) -> np.ndarray:
    """Finite scores, one per customer, lined up with ``like`` (see :func:`align_by_customer`).

    Text, booleans, NaN and infinities are a ValueError listing the rows; so is a length
    other than ``n``.

    Examples
    --------
    >>> check_score([0.3, 2, 5.5], 3)
    array([0.3, 2. , 5.5])
    """
    score = align_by_customer(score, like, name)
    if np.ndim(score) == 0:
        raise ValueError(f"{name} must hold one score per customer, got the single value {score!r}")
    values = as_float_array(score, name)
    if values.size != n:
        raise ValueError(f"{name} has {values.size} values but y_true has {n}")
    return values


def is_probability(score: np.ndarray) -> bool:
    """Whether every score lies within [0, 1] (probability metrics need that).

    >>> is_probability(np.array([0.0, 0.4, 1.0])), is_probability(np.array([0.5, 3.0]))
    (True, False)
    """
    return bool(score.min() >= 0.0 and score.max() <= 1.0)


def ranked_groups(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order by descending score and the start of each block of tied scores.

    Returns
    -------
    order : int array
        Positions of the customers from the highest score to the lowest (stable).
    starts : int array
        Where each block of equal scores starts in ``order``.

    Examples
    --------
    >>> order, starts = ranked_groups(np.array([0.2, 0.9, 0.2, 0.5]))
    >>> order.tolist(), starts.tolist()
    ([1, 3, 0, 2], [0, 1, 2])
    """
    order = np.argsort(-score, kind="stable")
    s = score[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    return order, starts


def group_sums(
    y: np.ndarray, weights: np.ndarray, order: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted churners and non-churners per tie block of :func:`ranked_groups`.

    ``weights`` is ``(n,)`` or ``(B, n)``: one row of customer weights per bootstrap resample,
    which gives ``(B, blocks)`` sums.

    Examples
    --------
    Scores 0.9, 0.5, 0.2, 0.2 with labels 1, 0, 1, 0: the tied block at 0.2 holds one churner
    and one non-churner.

    >>> y, score = np.array([1.0, 0.0, 1.0, 0.0]), np.array([0.9, 0.5, 0.2, 0.2])
    >>> pos, neg = group_sums(y, np.ones(4), *ranked_groups(score))
    >>> pos.tolist(), neg.tolist()
    ([1.0, 0.0, 1.0], [0.0, 1.0, 1.0])
    """
    w = weights[..., order]
    yo = y[order]
    pos = np.add.reduceat(w * yo, starts, axis=-1)
    neg = np.add.reduceat(w * (1.0 - yo), starts, axis=-1)
    return pos, neg


def ranked_counts(y_true, score) -> tuple[np.ndarray, ...]:
    """Checked labels and scores, their ranking and the churners / non-churners per tie block.

    Returns
    -------
    y, score, order, starts, pos, neg
        :func:`check_labels`, :func:`check_score`, :func:`ranked_groups` and
        :func:`group_sums` with unit weights, in one call.
    """
    y = check_labels(y_true)
    s = check_score(score, len(y), like=y_true)
    order, starts = ranked_groups(s)
    pos, neg = group_sums(y, np.ones_like(y), order, starts)
    return y, s, order, starts, pos, neg
