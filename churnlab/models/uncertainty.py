"""Intervals for forecasts: parameter uncertainty, and the purchase process's own randomness.

Two intervals answer two questions.

* **How sure are we of the expectation?** (:func:`prediction_interval`, :func:`clv_interval`)
  The maximum-likelihood estimates are uncertain. Their asymptotic distribution is normal in
  the log-parameters, with the covariance every fitted model already holds
  (``log_params_covariance_``, the inverse of minus the Hessian of the log-likelihood).
  :func:`parameter_draws` samples it; each draw goes through the model's own public prediction
  method (P(alive), expected purchases, expected spend, CLV) on a copy of the model whose
  ``params_`` are replaced, and the interval is the central ``level`` share of the results.
  Any fitted model with ``params_`` and ``log_params_covariance_`` works.
* **What total will we actually see?** (:func:`predictive_total_interval`) Even with known
  parameters a cohort's realised purchases differ from their expectation, because each
  customer's purchases are random. The predictive interval simulates every customer's future
  conditional on their history, with parameters drawn as above, so it holds both sources.

For a cohort total the parameter interval is the narrower: the purchase process adds its own
spread on top. The more customers a model is fitted on, the narrower both become.

Memory: the draws of per-customer predictions are held for ``chunk_size`` customers at a time
(``n_draws x chunk_size`` floats), the simulations for ``chunk_size`` simulations at a time
(``chunk_size x n_customers`` floats per array); only the results (three numbers a customer, or
one a draw for a total) are kept. ``benchmarks/bench_intervals.py`` measures the peak.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value curves for
customer base analysis. *Journal of Marketing Research* 42(4), 415-430.

Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
http://brucehardie.com/notes/025/
"""

from __future__ import annotations

import copy
import html
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from churnlab._estimator import check_is_fitted
from churnlab._validation import (
    align_to,
    as_float_array,
    check_level,
    check_number,
    require_columns,
    require_dataframe,
)
from churnlab.models.beta_geo import BetaGeo
from churnlab.models.gamma_gamma import GammaGamma

__all__ = [
    "TotalInterval",
    "clv_interval",
    "parameter_draws",
    "prediction_interval",
    "predictive_total_interval",
]

#: Floats in one block of draws (``n_draws x customers``) or simulations
#: (``simulations x customers``) when ``chunk_size`` is not given: 2**22 floats, 32 MiB.
BLOCK_FLOATS = 2**22

#: The columns :func:`churnlab.customer_lifetime_value` reads.
_CLV_COLUMNS = ("frequency", "recency", "T", "monetary_value")

#: Process simulations hold about this many arrays of the block's size at once (random numbers,
#: rates, counts), so their default block is this many times smaller.
SIMULATION_ARRAYS = 8


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class TotalInterval:
    """An interval for one total over a group of customers.

    Attributes
    ----------
    quantity : str
        What is summed (e.g. ``'expected_purchases'``, ``'clv'``, ``'purchases'``).
    kind : {'parameter', 'predictive'}
        ``'parameter'``: the uncertainty of the expected total from the parameter estimates
        alone; ``'predictive'``: the total that will be observed, adding the randomness of
        each customer's purchases (and spend).
    estimate : float
        The total at the maximum-likelihood estimates (the point forecast).
    std_err : float
        Standard deviation of the drawn (or simulated) totals.
    ci_lower, ci_upper : float
        The central ``level`` interval of the drawn (or simulated) totals.
    level : float
        Coverage the interval aims at (0.95 for 95%).
    n_customers : int
        Customers in the total.
    n_draws : int
        Parameter draws (1 when parameter uncertainty was left out of a simulation).
    n_sims : int or None
        Simulations of the purchase process (``None`` for a parameter interval).
    draws : ndarray
        The drawn (or simulated) totals, one a draw (or simulation).

    Examples
    --------
    >>> from churnlab import BetaGeo
    >>> from churnlab.datasets import load_cdnow_summary
    >>> data = load_cdnow_summary()
    >>> model = BetaGeo().fit(data)
    >>> total = prediction_interval(model, "conditional_expected_purchases", 39, data,
    ...                             total=True, n_draws=200)
    >>> round(total.estimate, 1), total.contains(total.estimate)
    (1653.4, True)
    >>> list(total.table.columns)
    ['estimate', 'std_err', 'ci_lower', 'ci_upper']
    """

    quantity: str
    kind: str
    estimate: float
    std_err: float
    ci_lower: float
    ci_upper: float
    level: float
    n_customers: int
    n_draws: int
    n_sims: int | None
    draws: np.ndarray = field(repr=False)

    @property
    def table(self) -> pd.DataFrame:
        """One row, indexed by ``quantity``: ``estimate, std_err, ci_lower, ci_upper``."""
        return pd.DataFrame(
            {
                "estimate": [self.estimate],
                "std_err": [self.std_err],
                "ci_lower": [self.ci_lower],
                "ci_upper": [self.ci_upper],
            },
            index=pd.Index([self.quantity], name="quantity"),
        )

    def to_frame(self) -> pd.DataFrame:
        """The same as :attr:`table`."""
        return self.table

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in ``[ci_lower, ci_upper]``."""
        return bool(self.ci_lower <= value <= self.ci_upper)

    def _header(self) -> str:
        if self.kind == "predictive":
            source = f"{self.n_sims:,} simulations of the purchase process" + (
                f" over {self.n_draws:,} parameter draws" if self.n_draws > 1 else ""
            )
        else:
            source = f"{self.n_draws:,} parameter draws"
        return (
            f"{self.kind} {self.level:.0%} interval for the total {self.quantity} of "
            f"{self.n_customers:,} customers: {_number(self.estimate)} "
            f"[{_number(self.ci_lower)}, {_number(self.ci_upper)}] ({source})"
        )

    def __repr__(self) -> str:
        return f"TotalInterval({self._header()})"

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self._header())}</p>" + self.table.to_html(float_format=_number)


def _number(value: float) -> str:
    """Whole numbers with thousands separators from 1,000 up, four significant digits below."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


# --------------------------------------------------------------------------------------------
# parameter draws
# --------------------------------------------------------------------------------------------


def _log_params_cholesky(model) -> tuple[np.ndarray, np.ndarray]:
    """Log-estimates and the Cholesky factor of their covariance, checked."""
    check_is_fitted(model, ["params_", "log_params_covariance_"])
    names = list(model.params_.index)
    cov = model.log_params_covariance_.reindex(index=names, columns=names).to_numpy(dtype=float)
    if not np.all(np.isfinite(cov)):
        raise ValueError(
            f"{type(model).__name__}.log_params_covariance_ is not available (NaN): the Hessian "
            "was not negative definite at the estimate, so the parameters have no standard "
            "errors and no interval can be drawn. Check the fit (summary, convergence) first."
        )
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"{type(model).__name__}.log_params_covariance_ is not positive definite:\n"
            f"{model.log_params_covariance_}"
        ) from None
    return np.log(model.params_.to_numpy(dtype=float)), chol


def parameter_draws(model, n_draws: int = 1000, seed=0) -> pd.DataFrame:
    """Draws of a fitted model's parameters from their asymptotic distribution.

    The log-parameters are drawn from ``N(log params_, log_params_covariance_)``, the normal
    approximation the fit's standard errors and confidence intervals rest on, and
    exponentiated: every draw is positive, and the draws' quantiles match
    ``model.confidence_interval``.

    Parameters
    ----------
    model : fitted model
        Any model with ``params_`` and ``log_params_covariance_`` (BetaGeo, GammaGamma, ...).
    n_draws : int
        Number of draws.
    seed : int, numpy Generator or None
        Seed of the random numbers (the same seed gives the same draws).

    Returns
    -------
    DataFrame
        ``n_draws`` rows (index ``draw``), one column per parameter.

    Examples
    --------
    >>> from churnlab import BetaGeo
    >>> from churnlab.datasets import load_cdnow_summary
    >>> model = BetaGeo().fit(load_cdnow_summary())
    >>> draws = parameter_draws(model, n_draws=4000, seed=1)
    >>> draws.shape, list(draws.columns)
    ((4000, 4), ['r', 'alpha', 'a', 'b'])
    >>> draws.median().round(2).tolist()  # near the estimates 0.243, 4.414, 0.793, 2.426
    [0.24, 4.41, 0.79, 2.42]
    """
    n_draws = check_number(n_draws, "n_draws", low=1, integer=True)
    mean, chol = _log_params_cholesky(model)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n_draws, len(mean)))
    values = np.exp(mean + z @ chol.T)
    return pd.DataFrame(
        values, columns=list(model.params_.index), index=pd.RangeIndex(n_draws, name="draw")
    )


def _with_params(model, values: np.ndarray):
    """A shallow copy of ``model`` whose ``params_`` are ``values``."""
    clone = copy.copy(model)
    clone.params_ = pd.Series(values, index=model.params_.index, name=model.params_.name)
    return clone


# --------------------------------------------------------------------------------------------
# parameter intervals: any prediction, per customer or in total
# --------------------------------------------------------------------------------------------


def _as_values(result) -> tuple[np.ndarray, pd.Index | None, str | None]:
    """A prediction as a float array, with its index and name when it has them."""
    if isinstance(result, pd.Series):
        return result.to_numpy(dtype=float), result.index, result.name
    if isinstance(result, pd.DataFrame):
        raise TypeError(
            "the prediction returned a DataFrame; intervals are drawn for one number a customer "
            "(a Series): select the column in a function, e.g. lambda m, d: m.method(d)['col']"
        )
    values = np.asarray(result, dtype=float)
    if values.ndim > 1:
        raise TypeError(f"the prediction has shape {values.shape}; one dimension is supported")
    return np.atleast_1d(values), None, None


def _per_customer(value, n: int) -> bool:
    """Whether an argument holds one entry per customer (a column, table or array of length n)."""
    if isinstance(value, pd.DataFrame | pd.Series | np.ndarray):
        return np.ndim(value) >= 1 and len(value) == n
    return isinstance(value, list | tuple) and len(value) == n and n > 1


def _take(value, positions: np.ndarray, n: int):
    """The rows ``positions`` of a per-customer argument, else ``value`` as it is."""
    if not _per_customer(value, n):
        return value
    if isinstance(value, pd.DataFrame | pd.Series):
        out = value.iloc[positions]
        out.attrs = dict(value.attrs)  # the recorded time unit travels with the rows
        return out
    return np.asarray(value)[positions]


def _distinct_customers(arguments: list, n: int) -> tuple[np.ndarray, np.ndarray]:
    """First row of each distinct customer history in the per-customer arguments, and each
    customer's position among them.

    Customers with identical arguments (the same frequency, recency, T, ... ) get identical
    predictions, so the draws are evaluated once for each distinct history: the one-off buyers
    of a cohort share a handful of ages. The codes of each column (``pd.factorize``, in order
    of first appearance) are combined column by column into one key, as in fitting.
    """
    key = np.zeros(n, dtype=np.int64)
    for value in arguments:
        if not _per_customer(value, n):
            continue
        if isinstance(value, pd.DataFrame):
            columns = [value.iloc[:, j].to_numpy() for j in range(value.shape[1])]
        else:
            array = np.asarray(value)
            columns = list(array.reshape(n, -1).T)
        for column in columns:
            codes, uniques = pd.factorize(column, use_na_sentinel=False)
            # key < n and codes < n: the combination fits in int64 for n < 3e9
            key = pd.factorize(key * len(uniques) + codes)[0].astype(np.int64)
    _, first = np.unique(key, return_index=True)
    return first, key


def _read_weights(weights, n: int, index: pd.Index | None) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    if isinstance(weights, pd.Series) and index is not None:
        weights = align_to(weights, index, "weights", "the predictions")
    w = as_float_array(weights, "weights")
    if len(w) != n:
        raise ValueError(f"weights has {len(w)} values for {n} predictions")
    return w


def _block_size(chunk_size, per_row: int, arrays: int) -> int:
    """``chunk_size`` checked, or the default: ``BLOCK_FLOATS / arrays`` floats a block."""
    if chunk_size is None:
        return max(1, BLOCK_FLOATS // (arrays * max(per_row, 1)))
    return check_number(chunk_size, "chunk_size", low=1, integer=True)


def _quantiles(values: np.ndarray, level: float, axis: int = 0) -> np.ndarray:
    tail = (1.0 - level) / 2.0
    return np.quantile(values, [tail, 1.0 - tail], axis=axis)


def _draw_interval(
    models: list,
    evaluate: Callable[..., Any],
    args: tuple,
    kwargs: dict,
    *,
    level,
    n_draws,
    seed,
    total: bool,
    weights,
    chunk_size,
    collapse: bool,
    quantity: str | None = None,
):
    """Push joint parameter draws of ``models`` through ``evaluate(models, *args, **kwargs)``.

    The models' parameters are drawn independently (each is fitted on its own likelihood).
    Per-customer arguments (DataFrames, Series and arrays as long as the prediction) are
    reduced to the distinct customer histories when ``collapse`` and cut into blocks of
    ``chunk_size``; every draw is evaluated on one block at a time. The prediction must be
    computed customer by customer, as every model prediction is.
    """
    level = check_level(level)
    n_draws = check_number(n_draws, "n_draws", low=2, integer=True)
    if not isinstance(total, bool):
        raise ValueError(f"total must be True or False, got {total!r}")
    if weights is not None and not total:
        raise ValueError("weights apply to a total: pass total=True with weights")
    rng = np.random.default_rng(seed)
    draws = [parameter_draws(m, n_draws, rng).to_numpy() for m in models]
    # the point estimate first: it validates the input and shows its warnings once
    point, index, name = _as_values(evaluate(models, *args, **kwargs))
    n = len(point)
    quantity = quantity or name or "prediction"
    w = _read_weights(weights, n, index) if total else None
    if collapse:
        first, row_of = _distinct_customers([*args, *kwargs.values()], n)
    else:
        first = row_of = np.arange(n)
    n_rows = len(first)
    block = _block_size(chunk_size, n_draws, 1)
    clones = [
        [_with_params(m, d[j]) for m, d in zip(models, draws, strict=True)] for j in range(n_draws)
    ]
    if total:
        row_weights = np.bincount(row_of, weights=w, minlength=n_rows)
        totals = np.zeros(n_draws)
    else:
        lower, upper, spread = np.empty(n_rows), np.empty(n_rows), np.empty(n_rows)
    n_bad = 0
    for start in range(0, n_rows, block):
        stop = min(start + block, n_rows)
        rows = first[start:stop]
        sub_args = tuple(_take(a, rows, n) for a in args)
        sub_kwargs = {k: _take(v, rows, n) for k, v in kwargs.items()}
        values = np.empty((n_draws, stop - start))
        # the point estimate has shown the input's warnings; the draws would repeat them
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for j in range(n_draws):
                row, _, _ = _as_values(evaluate(clones[j], *sub_args, **sub_kwargs))
                if len(row) != stop - start:
                    raise ValueError(
                        f"the prediction for {stop - start} customers returned {len(row)} "
                        "values: intervals need a prediction computed customer by customer, "
                        "whose per-customer arguments are as long as its result"
                    )
                values[j] = row
        n_bad += int((~np.isfinite(values)).any(axis=0).sum())
        if total:
            totals += values @ row_weights[start:stop]
        else:
            lower[start:stop], upper[start:stop] = _quantiles(values, level)
            spread[start:stop] = values.std(axis=0, ddof=1)
    if n_bad:
        warnings.warn(
            f"{n_bad} distinct customer(s) get predictions that are not finite for some "
            "parameter draws (e.g. an infinite mean spend when the Gamma-Gamma q falls below "
            "1): their intervals are not finite.",
            UserWarning,
            stacklevel=3,
        )
    if total:
        lo, hi = _quantiles(totals, level)
        return TotalInterval(
            quantity=quantity,
            kind="parameter",
            estimate=float(point @ w),
            std_err=float(totals.std(ddof=1)),
            ci_lower=float(lo),
            ci_upper=float(hi),
            level=level,
            n_customers=n,
            n_draws=n_draws,
            n_sims=None,
            draws=totals,
        )
    table = pd.DataFrame(
        {
            "estimate": point,
            "std_err": spread[row_of],
            "ci_lower": lower[row_of],
            "ci_upper": upper[row_of],
        },
        index=index if index is not None else pd.RangeIndex(n),
    )
    table.attrs.update({"quantity": quantity, "kind": "parameter", "level": level})
    table.attrs["n_draws"] = n_draws
    return table


def prediction_interval(
    model,
    method: str | Callable[..., Any],
    *args,
    level: float = 0.95,
    n_draws: int = 1000,
    seed=0,
    total: bool = False,
    weights=None,
    chunk_size: int | None = None,
    **kwargs,
) -> pd.DataFrame | TotalInterval:
    """Parameter-uncertainty interval of any prediction of fitted models.

    ``n_draws`` parameter sets are drawn by :func:`parameter_draws`; for each, the prediction
    ``model.method(*args, **kwargs)`` is recomputed with the drawn parameters, and the interval
    is the central ``level`` share of the results (a percentile interval). The point estimate
    is the prediction at the maximum-likelihood estimates.

    The interval says how well the data pin down the *expected* value; it leaves out the
    randomness of each customer's own purchases (for a cohort total that includes it, see
    :func:`predictive_total_interval`).

    Parameters
    ----------
    model : fitted model, or tuple of fitted models
        Any model with ``params_`` and ``log_params_covariance_``. Several models (e.g. a
        purchase and a spend model) have their parameters drawn independently, each fitted on
        its own likelihood; ``method`` is then a function of all of them.
    method : str or callable
        The name of a public prediction method of the model (``'probability_alive'``,
        ``'conditional_expected_purchases'``, ``'expected_purchases'``,
        ``'conditional_expected_spend'``, ...), or a function ``f(*models, *args, **kwargs)``
        returning one number a customer (or a single number). Everything in ``f`` that differs
        between customers must come in through its arguments, customer by customer, so that
        they can be evaluated in blocks.
    *args, **kwargs
        Passed to the method, as for a direct call.
    level : float
        Coverage of the interval (0.95 for 95%).
    n_draws : int
        Parameter draws.
    seed : int, numpy Generator or None
        Seed of the draws.
    total : bool
        Interval of the (weighted) sum over customers instead of one per customer.
    weights : array-like or Series, optional
        With ``total=True``: weight of each customer in the sum (default 1); a Series is
        matched to the predictions by customer id.
    chunk_size : int, optional
        Customers evaluated at once; the ``n_draws x chunk_size`` predictions of a block are
        held in memory. By default about 4 million numbers (32 MiB). A model's own method is
        evaluated once for each distinct history (customers with equal arguments share it).

    Returns
    -------
    DataFrame or TotalInterval
        Per customer (indexed like the prediction): ``estimate, std_err`` (standard deviation
        of the draws), ``ci_lower, ci_upper``; with ``total=True``, a :class:`TotalInterval`.

    Examples
    --------
    >>> from churnlab import BetaGeo
    >>> from churnlab.datasets import load_cdnow_summary
    >>> data = load_cdnow_summary()
    >>> model = BetaGeo().fit(data)
    >>> interval = prediction_interval(model, "probability_alive", data.head(3), n_draws=200)
    >>> interval.round(3)
                 estimate  std_err  ci_lower  ci_upper
    customer_id
    1               0.727    0.017     0.696     0.767
    2               0.212    0.022     0.174     0.256
    3               1.000    0.000     1.000     1.000

    A function of two models: the expected spend of the next 39 weeks' purchases.

    >>> from churnlab import GammaGamma
    >>> spend_model = GammaGamma().fit(data[data["frequency"] > 0])
    >>> def revenue(bg, gg, customers):
    ...     purchases = bg.conditional_expected_purchases(39, customers)
    ...     return purchases * gg.conditional_expected_spend(customers)
    >>> total = prediction_interval((model, spend_model), revenue, data, total=True, n_draws=200)
    >>> round(total.estimate), total.ci_lower < total.estimate < total.ci_upper
    (59933, True)
    """
    models = list(model) if isinstance(model, tuple | list) else [model]
    if not models:
        raise ValueError("model: pass a fitted model or a tuple of fitted models")
    for m in models:
        check_is_fitted(m, ["params_", "log_params_covariance_"])
    if isinstance(method, str):
        if len(models) > 1:
            raise ValueError(
                "with several models, method must be a function f(*models, *args), not a name"
            )
        bound = getattr(models[0], method, None)
        if method.startswith("_") or not callable(bound):
            raise ValueError(
                f"method must name a public prediction method of {type(models[0]).__name__} or "
                f"be a function f(model, *args), got {method!r}"
            )
        name = method

        def evaluate(m, *a, **k):
            return getattr(m[0], name)(*a, **k)

    elif callable(method):

        def evaluate(m, *a, **k):
            return method(*m, *a, **k)

    else:
        raise ValueError(f"method must be a method name or a function, got {method!r}")
    return _draw_interval(
        models,
        evaluate,
        args,
        kwargs,
        level=level,
        n_draws=n_draws,
        seed=seed,
        total=total,
        weights=weights,
        chunk_size=chunk_size,
        # a model's own predictions depend on their arguments alone; a function may not
        collapse=isinstance(method, str),
    )


def clv_interval(
    purchase_model,
    spend_model,
    data: pd.DataFrame,
    *,
    time_unit: str,
    horizon: float,
    discount_rate: float,
    step: float = 1.0,
    given_alive: bool = False,
    zero_spend: str = "zero",
    level: float = 0.95,
    n_draws: int = 1000,
    seed=0,
    total: bool = False,
    weights=None,
    chunk_size: int | None = None,
) -> pd.DataFrame | TotalInterval:
    """Parameter-uncertainty interval of customer lifetime value.

    The parameters of the purchase model and of the spend model are drawn independently (they
    are fitted on separate likelihoods), each from its asymptotic normal on the log scale
    (:func:`parameter_draws`), and :func:`churnlab.customer_lifetime_value` is recomputed for
    every pair of draws, once for each distinct customer history. The point estimate is the
    CLV at the estimates.

    Each draw costs ``horizon / step`` evaluations of the purchase model: with 1,000 draws and
    weekly steps over a year, 52,000 (about a minute for 2,000 distinct customers).

    Parameters
    ----------
    purchase_model, spend_model : fitted models
        As for :func:`churnlab.customer_lifetime_value` (e.g. BetaGeo and GammaGamma).
    data : DataFrame
        ``frequency``, ``recency``, ``T``, ``monetary_value``, one row per customer.
    time_unit, horizon, discount_rate, step, given_alive, zero_spend
        As for :func:`churnlab.customer_lifetime_value`.
    level, n_draws, seed, total, weights, chunk_size
        As for :func:`prediction_interval`.

    Returns
    -------
    DataFrame or TotalInterval
        Per customer: ``estimate, std_err, ci_lower, ci_upper`` (money units of
        ``monetary_value``); with ``total=True``, a :class:`TotalInterval` of the sum.

    Examples
    --------
    >>> from churnlab import BetaGeo, GammaGamma
    >>> from churnlab.datasets import load_cdnow_summary
    >>> data = load_cdnow_summary()
    >>> bg = BetaGeo().fit(data)
    >>> gg = GammaGamma().fit(data[data["frequency"] > 0])
    >>> value = clv_interval(bg, gg, data.head(3), time_unit="W", horizon=52, discount_rate=0.1,
    ...                      n_draws=20)
    >>> value["estimate"].round(2).tolist()
    [36.75, 4.7, 8.45]
    >>> bool((value["ci_lower"] <= value["estimate"]).all())
    True
    """
    from churnlab.clv import customer_lifetime_value  # churnlab.clv imports churnlab.models

    require_dataframe(data, "data")
    require_columns(data, _CLV_COLUMNS, "data")
    # only the columns the value depends on, so that customers alike in them are valued once
    frame = data.loc[:, list(_CLV_COLUMNS)]
    frame.attrs = dict(data.attrs)

    def evaluate(models, customers):
        return customer_lifetime_value(
            models[0],
            models[1],
            customers,
            time_unit=time_unit,
            horizon=horizon,
            discount_rate=discount_rate,
            step=step,
            given_alive=given_alive,
            zero_spend=zero_spend,
        )

    return _draw_interval(
        [purchase_model, spend_model],
        evaluate,
        (frame,),
        {},
        level=level,
        n_draws=n_draws,
        seed=seed,
        total=total,
        weights=weights,
        chunk_size=chunk_size,
        quantity="clv_if_alive" if given_alive else "clv",
        collapse=True,
    )


# --------------------------------------------------------------------------------------------
# predictive intervals: simulate each customer's future given their history
# --------------------------------------------------------------------------------------------


def _future_purchases_beta_geo(params, p_alive, x, T, t, rng) -> np.ndarray:
    """Purchases in ``(T, T+t]`` of customers with history ``(x, t_x, T)``, simulated (BG/NBD).

    **The posterior.** The BG/NBD likelihood of a history, equation (3) of Fader, Hardie & Lee
    (2005),

        L(lambda, p | x, t_x, T) = (1-p)^x lambda^x e^(-lambda T)
                                   + [x > 0] p (1-p)^(x-1) lambda^x e^(-lambda t_x),

    has two terms: the customer is still alive at ``T``, or dropped out right after the
    ``x``-th purchase. Times the priors ``lambda ~ Gamma(r, alpha)`` and ``p ~ Beta(a, b)``,
    the posterior is a mixture of the two: with probability P(alive | x, t_x, T) (the model's
    ``probability_alive``) the customer is alive, and then ``lambda ~ Gamma(r+x, alpha+T)``
    and ``p ~ Beta(a, b+x)``, independently; otherwise they make no more purchases.

    **The future of an alive customer.** The Poisson process is memoryless: from ``T`` on,
    purchases arrive at rate ``lambda`` and after each one the customer drops out with
    probability ``p``. Let ``N ~ Poisson(lambda t)`` be the arrivals in the window and
    ``J ~ Geometric(p)`` (on 1, 2, ...) the purchases made before dropping out, the last one
    included; the purchases in the window are ``Y = min(N, J)``, so ``P(Y >= j) =
    P(N >= j) P(J >= j)`` and ``E[Y | lambda, p] = sum_j P(N >= j) (1-p)^(j-1) = (1 -
    exp(-lambda p t)) / p``, equation (7); mixed over the posterior it is equation (10).

    **Sampling without drawing lambda and p.** ``N`` depends on ``lambda`` only and ``J`` on
    ``p`` only, so over the posterior of an alive customer they stay independent, with
    ``N ~ NegBin(r+x, q)``, ``q = (alpha+T)/(alpha+T+t)`` (the gamma mixture of Poissons:
    ``P(N = k) = Gamma(r+x+k)/(Gamma(r+x) k!) q^(r+x) (1-q)^k``) and ``J`` beta-geometric
    (``P(J >= j) = B(a, b+x+j-1)/B(a, b+x)``). Hence

        P(Y >= 1) = P(alive) (1 - q^(r+x)),
        P(Y >= j+1 | Y >= j) = P(N >= j+1)/P(N >= j) * (b+x+j-1)/(a+b+x+j-1),

    and ``Y`` is drawn by one uniform per customer for ``Y >= 1``, then one per further
    purchase: a loop over purchase counts, not customers, whose cost is proportional to the
    purchases simulated (most customers make none). The negative binomial probabilities are
    carried in log space (``q^(r+x)`` underflows for heavy buyers), the tails by subtraction.

    ``params`` holds one row ``(r, alpha, a, b)`` per simulation and ``p_alive`` one row of
    probabilities per simulation; ``x`` and ``T`` are per customer.
    """
    m, n = p_alive.shape
    r, alpha, a, b = (params[:, [j]] for j in range(4))
    log_q = -np.log1p(t / (alpha + T))  # (m, n): ln q
    any_purchase = p_alive * -np.expm1((r + x) * log_q)
    rows, cols = np.nonzero(rng.random((m, n)) < any_purchase)
    out = np.zeros((m, n))
    if rows.size == 0:
        return out
    rx = r[rows, 0] + x[cols]
    B = b[rows, 0] + x[cols]
    A = a[rows, 0]
    lq = log_q[rows, cols]
    log_1mq = np.log(-np.expm1(lq))  # ln(1 - q)
    log_f = rx * lq  # ln P(N = 0)
    tail = -np.expm1(log_f)  # P(N >= 1)
    y = np.ones(rows.size)
    active = np.arange(rows.size)
    j = 1
    while active.size:
        # ln P(N = j) from ln P(N = j-1); P(N >= j+1) = P(N >= j) - P(N = j)
        log_f = log_f + np.log((rx + (j - 1)) / j) + log_1mq
        tail_next = np.maximum(tail - np.exp(log_f), 0.0)
        go_on = tail_next / tail * ((B + (j - 1)) / (A + B + (j - 1)))
        more = rng.random(active.size) < go_on
        active = active[more]
        y[active] += 1.0
        rx, B, A, log_1mq = rx[more], B[more], A[more], log_1mq[more]
        log_f, tail = log_f[more], tail_next[more]
        j += 1
    out[rows, cols] = y
    return out


def _future_spend_gamma_gamma(params, purchases, x, zbar, rng) -> np.ndarray:
    """Total spend of simulated purchases under the Gamma-Gamma model.

    Each transaction's value is ``z ~ Gamma(p, nu)`` (shape ``p``, rate ``nu``), with
    ``nu ~ Gamma(q, v)`` across customers. Given ``x`` repeat purchases with mean value
    ``zbar`` the posterior is ``nu ~ Gamma(p x + q, v + x zbar)`` (Fader & Hardie 2013, whose
    posterior mean of ``p / nu`` is ``GammaGamma.conditional_expected_spend``), and ``Y``
    transactions sum to ``Gamma(p Y, nu)``. Only entries with purchases are drawn.
    """
    p, q, v = (params[:, j] for j in range(3))
    out = np.zeros(purchases.shape)
    rows, cols = np.nonzero(purchases > 0)
    nu = rng.gamma(p[rows] * x[cols] + q[rows]) / (v[rows] + x[cols] * zbar[cols])
    out[rows, cols] = rng.gamma(p[rows] * purchases[rows, cols]) / nu
    return out


#: The purchase models whose process :func:`predictive_total_interval` can simulate.
_PROCESS_SIMULATORS = {BetaGeo: _future_purchases_beta_geo}


def predictive_total_interval(
    model,
    data: pd.DataFrame,
    t: float,
    *,
    spend_model=None,
    level: float = 0.95,
    n_sims: int = 10_000,
    n_draws: int = 1000,
    seed=0,
    parameter_uncertainty: bool = True,
    chunk_size: int | None = None,
) -> TotalInterval:
    """Predictive interval of a cohort's total purchases (or revenue) in the next ``t`` periods.

    Where :func:`prediction_interval` asks how well the expected total is known, this asks
    which total will be *observed*: each customer's future is simulated conditional on their
    history, so the interval holds the randomness of the purchase process (who is still
    alive, how many purchases they make) as well as the uncertainty of the parameters. It is
    the interval to hold the actual outcome against, e.g. a holdout period.

    Each of the ``n_sims`` simulations uses one of ``n_draws`` parameter draws
    (:func:`parameter_draws`; each draw serves ``n_sims / n_draws`` simulations), then, for
    every customer: alive or not with the drawn model's ``probability_alive``; if alive, a
    purchase rate and a dropout probability from their posterior given the history; the
    purchases in the window from the BG/NBD process (see ``_future_purchases_beta_geo`` for the
    derivation from Fader, Hardie & Lee 2005). With ``spend_model`` each simulated purchase
    also gets a value from the Gamma-Gamma posterior, and the total is revenue. The interval
    is the central ``level`` share of the simulated totals; the estimate is the expected total
    at the maximum-likelihood estimates.

    Parameters
    ----------
    model : BetaGeo
        The fitted purchase model.
    data : DataFrame
        ``frequency``, ``recency``, ``T`` (and ``monetary_value`` with ``spend_model``), one
        row per customer.
    t : float
        Length of the window after each customer's ``T``, in the data's time unit.
    spend_model : GammaGamma, optional
        Simulate revenue instead of purchases. Repeat buyers with ``monetary_value`` 0 are
        valued at 0, as by :func:`churnlab.customer_lifetime_value`.
    level : float
        Coverage of the interval (0.95 for 95%).
    n_sims : int
        Simulations of the cohort; a whole multiple of ``n_draws``.
    n_draws : int
        Parameter draws shared by the simulations (ignored when ``parameter_uncertainty`` is
        False).
    seed : int, numpy Generator or None
        Seed of the draws and simulations.
    parameter_uncertainty : bool
        ``False`` simulates with the estimates themselves (process randomness only).
    chunk_size : int, optional
        Simulations generated at once (each array holds ``chunk_size x customers`` numbers);
        by default about half a million numbers an array.

    Returns
    -------
    TotalInterval
        ``kind='predictive'``; ``draws`` holds the simulated totals.

    Examples
    --------
    >>> from churnlab import BetaGeo
    >>> from churnlab.datasets import load_cdnow_summary
    >>> data = load_cdnow_summary()
    >>> model = BetaGeo().fit(data)
    >>> interval = predictive_total_interval(model, data, 39, n_sims=2000, n_draws=200)
    >>> round(interval.estimate, 1)
    1653.4
    >>> interval.ci_lower < interval.estimate < interval.ci_upper
    True
    """
    simulate = _PROCESS_SIMULATORS.get(type(model))
    if simulate is None:
        known = ", ".join(k.__name__ for k in _PROCESS_SIMULATORS)
        raise TypeError(
            f"predictive_total_interval simulates the purchase process of {known}; "
            f"{type(model).__name__} has no simulator. For the parameter interval of its "
            "expected total use prediction_interval(model, 'conditional_expected_purchases', "
            "t, data, total=True)."
        )
    if spend_model is not None and type(spend_model) is not GammaGamma:
        raise TypeError(
            f"spend_model must be a fitted GammaGamma, got {type(spend_model).__name__}"
        )
    level = check_level(level)
    t = check_number(t, "t", low=0, low_open=True)
    n_sims = check_number(n_sims, "n_sims", low=2, integer=True)
    if not isinstance(parameter_uncertainty, bool):
        raise ValueError(
            f"parameter_uncertainty must be True or False, got {parameter_uncertainty!r}"
        )
    n_draws = check_number(n_draws, "n_draws", low=1, integer=True) if parameter_uncertainty else 1
    if n_sims % n_draws:
        suggestion = n_draws * (n_sims // n_draws + 1)
        raise ValueError(
            f"n_sims={n_sims} is not a whole multiple of n_draws={n_draws}: every parameter draw "
            f"serves the same number of simulations (e.g. n_sims={suggestion})"
        )
    require_dataframe(data, "data")
    check_is_fitted(model, ["params_", "log_params_covariance_"])
    # the expected total validates the data (columns, values, time unit)
    expected = model.conditional_expected_purchases(t, data).to_numpy()
    history = data.loc[:, ["frequency", "recency", "T"]]
    x = history["frequency"].to_numpy(dtype=float)
    T = history["T"].to_numpy(dtype=float)
    n = len(x)
    rng = np.random.default_rng(seed)
    if parameter_uncertainty:
        draws = parameter_draws(model, n_draws, rng).to_numpy()
    else:
        draws = model.params_.to_numpy(dtype=float)[None, :]
    quantity = "purchases"
    if spend_model is not None:
        require_columns(data, ["monetary_value"], "data")
        check_is_fitted(spend_model, ["params_", "log_params_covariance_"])
        spend = spend_model.conditional_expected_spend(data).to_numpy()
        zbar = as_float_array(data["monetary_value"], "monetary_value")
        free = (x > 0) & (zbar == 0)
        if free.any():
            warnings.warn(
                f"predictive_total_interval: {int(free.sum())} repeat buyer(s) with zero average "
                "spend are outside the spend model and valued at 0.",
                UserWarning,
                stacklevel=2,
            )
        expected = expected * np.where(free, 0.0, spend)
        if parameter_uncertainty:
            spend_draws = parameter_draws(spend_model, n_draws, rng).to_numpy()
        else:
            spend_draws = spend_model.params_.to_numpy(dtype=float)[None, :]
        quantity = "revenue"
    per_draw = n_sims // n_draws
    block = _block_size(chunk_size, n, SIMULATION_ARRAYS)
    totals = np.empty(n_sims)
    cached: tuple[int, np.ndarray] | None = None
    for start in range(0, n_sims, block):
        stop = min(start + block, n_sims)
        sims = np.arange(start, stop)
        draw = sims // per_draw
        first = int(draw[0])
        alive_rows = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for d in range(first, int(draw[-1]) + 1):
                if cached is not None and cached[0] == d:
                    alive_rows.append(cached[1])
                    continue
                clone = _with_params(model, draws[d]) if parameter_uncertainty else model
                row = clone.probability_alive(history).to_numpy()
                alive_rows.append(row)
                cached = (d, row)
        p_alive = np.asarray(alive_rows)[draw - first]
        purchases = simulate(draws[draw], p_alive, x, T, t, rng)
        if spend_model is not None:
            value = _future_spend_gamma_gamma(spend_draws[draw], purchases, x, zbar, rng)
            value[:, free] = 0.0
            totals[start:stop] = value.sum(axis=1)
        else:
            totals[start:stop] = purchases.sum(axis=1)
    lo, hi = _quantiles(totals, level)
    return TotalInterval(
        quantity=quantity,
        kind="predictive",
        estimate=float(expected.sum()),
        std_err=float(totals.std(ddof=1)),
        ci_lower=float(lo),
        ci_upper=float(hi),
        level=level,
        n_customers=n,
        n_draws=n_draws,
        n_sims=n_sims,
        draws=totals,
    )
