"""What every maximum-likelihood model of churnlab shares.

* the data contract: an RFM DataFrame or separate arrays, checked by
  :func:`churnlab._validation.check_rfm`, predictions indexed like the input;
* identical input rows collapsed into weights before fitting (``n_customers_``,
  ``n_unique_``);
* the optimizer: :func:`scipy.optimize.minimize` (L-BFGS-B) on the logarithms of the
  parameters, with the model's exact analytic gradient; a fit on more than
  :data:`LARGE_FIT_ROWS` distinct rows starts from a pilot fit on a sample of them and, for
  a model with an analytic Hessian, goes on by Newton's method (``_newton``);
* standard errors from the Hessian of the log-likelihood on the log scale (central
  differences of the analytic gradient, or for a large fit the model's analytic Hessian
  where it has one: ``_hessian``), carried back to the natural scale by the delta
  method; confidence intervals are the exponential of the log-scale interval, so they stay
  positive and are asymmetric;
* refusals instead of arbitrary estimates: data that lack what the model rests on (each
  model's ``_check_identifiable``), and estimates that are no proper maximum (a parameter at
  the optimizer's bound; a non-finite, singular or indefinite Hessian) raise a ValueError
  saying what is missing; a fit that does not converge raises :class:`ConvergenceError`, so
  ``converged_`` is True on every fitted model;
* one row per customer (:func:`check_unique_ids`) and one check of time units
  (:func:`check_time_unit`) for every prediction, lifetime value and diagnostic;
* the summary table (``estimate, std_err, ci_lower, ci_upper``) and JSON save/load, every
  field of a loaded file checked (:meth:`LikelihoodModel.from_dict`).

A model subclass declares ``_param_names`` and ``_columns`` and implements ``_prepare``
(per-row quantities that do not depend on the parameters, computed once per fit),
``_loglik`` (log-likelihood and its gradient on the natural scale) and
``_initial_params``; optionally ``_check_identifiable`` (refuse uninformative data),
``_identification_hint`` and ``_flat_meaning`` (words for the refusals), and
``_extra_to_dict`` / ``_extra_from_dict(extra, check)`` (further fitted state in the JSON
file, checked with the ``_FieldCheck`` passed in).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import ndtri
from threadpoolctl import threadpool_limits

from churnlab._estimator import EstimatorMixin, check_is_fitted
from churnlab._lazy import LazyModule
from churnlab._validation import as_float_array, check_rfm, fail, require_columns
from churnlab.rfm import TIME_UNITS

#: scipy.optimize (0.1 s to import, with scipy.linalg and scipy.sparse) is loaded by the first fit.
optimize = LazyModule("scipy.optimize")

#: Bounds of the log-parameters during optimisation: exp(+-30) spans 1e-13 .. 1e13, far
#: beyond any sensible estimate, and keeps every trial point finite.
LOG_PARAM_BOUND = 30.0

#: Relative step of the central differences that give the Hessian from the analytic gradient.
HESSIAN_STEP = 1e-5
#: Distinct rows above which a fit is large: it starts from a pilot fit on about
#: :data:`PILOT_ROWS` of them (:meth:`LikelihoodModel._pilot`, tolerance :data:`PILOT_TOL`)
#: and, where the model has an analytic Hessian, goes on by Newton's method
#: (:meth:`LikelihoodModel._newton`) and takes its standard errors from that Hessian. Smaller
#: fits cost milliseconds and keep L-BFGS-B and central differences.
LARGE_FIT_ROWS = 2**16
PILOT_ROWS = 2**14
PILOT_TOL = 1e-7
#: Newton steps of a large fit before L-BFGS-B takes over (:meth:`LikelihoodModel._newton`).
NEWTON_MAX_STEPS = 20

#: Smallest ratio of the smallest to the largest eigenvalue of minus the Hessian (in the
#: log-parameters) of a proper maximum; below it the likelihood is flat in some direction
#: to rounding, and the fit is refused (see :meth:`LikelihoodModel._covariance`).
SINGULAR_RCOND = 1e-13
#: The ridge probe of :meth:`LikelihoodModel._covariance`: how far (in log-parameter units)
#: along the flattest direction the log-likelihood must have fallen by at least
#: :data:`RIDGE_DROP` (the fall at one standard error of a quadratic maximum). Along a ridge
#: (parameters that may run off together, as the BG/NBD's a and b do when dropout hardly
#: varies between customers) the curvature is near zero, and whether rounding makes it
#: slightly negative or slightly positive at the point where the optimizer stops is chance;
#: the probe tells a ridge from a maximum whatever the local curvature says. A fall of less
#: than half a unit over a factor of e^10 (22,000) in the parameters is no estimate.
RIDGE_PROBE = 10.0
RIDGE_DROP = 0.5

#: JSON format version of :meth:`LikelihoodModel.save`.
FORMAT_VERSION = 1


#: Rows evaluated together by :func:`blockwise`: 2 ** 20, so a prediction's temporaries take
#: a few dozen MiB whatever the number of customers.
BLOCK_ROWS = 2**20


def blockwise(function, *columns: np.ndarray, rows: int | None = None) -> np.ndarray:
    """``function(*columns)`` evaluated on blocks of ``rows`` rows (default
    :data:`BLOCK_ROWS`) and joined.

    For row-wise predictions on millions of customers: the dozen temporaries of a formula
    such as P(alive) then take memory for one block, not for every customer.

    Examples
    --------
    >>> blockwise(np.add, np.arange(5.0), np.ones(5), rows=2).tolist()
    [1.0, 2.0, 3.0, 4.0, 5.0]
    """
    rows = rows or BLOCK_ROWS
    n = len(columns[0])
    if n <= rows:
        return np.asarray(function(*columns), dtype=float)
    out = np.empty(n)
    for start in range(0, n, rows):
        block = slice(start, start + rows)
        out[block] = function(*(column[block] for column in columns))
    return out


def _on_log_scale(params: np.ndarray, gradient: np.ndarray, hessian: np.ndarray) -> np.ndarray:
    """The Hessian in the log-parameters from the gradient and Hessian in ``params`` (chain
    rule: ``p_i p_j H_ij + [i = j] p_i g_i``)."""
    return params[:, None] * hessian * params[None, :] + np.diag(params * gradient)


def wsum(weights: np.ndarray, values: np.ndarray) -> float:
    """Weighted sum ``sum(weights * values)``.

    ``np.einsum`` rather than ``@``: a one-dimensional ``@`` goes to the multithreaded BLAS,
    whose thread start-up costs more than the sum itself on busy machines.
    """
    return float(np.einsum("i,i->", weights, values))


class ConvergenceError(RuntimeError):
    """The optimizer stopped without reaching the maximum-likelihood estimate."""


def collapse_rows(
    columns: list[np.ndarray], weights: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Collapse identical rows of the stacked ``columns`` into unique rows with summed weights.

    Each column is factorised (hashing, linear time) and the codes are combined into one
    integer key, which is numbered in order of first appearance: the same grouping as
    ``np.unique(np.column_stack(columns), axis=0)`` without sorting the rows. Returns the
    unique rows (one array per column, in order of first appearance), their weights and, for
    each input row, the position of its unique row.

    Examples
    --------
    >>> cols, w, inverse = collapse_rows([np.array([1.0, 0.0, 1.0]), np.array([2.0, 0.0, 2.0])],
    ...                                  np.ones(3))
    >>> [c.tolist() for c in cols], w.tolist(), inverse.tolist()
    ([[1.0, 0.0], [2.0, 0.0]], [2.0, 1.0], [0, 1, 0])
    """
    n = len(weights)
    key, size, numbered = None, 1, False
    for column in columns:
        codes, uniques = pd.factorize(column)
        codes = codes.astype(np.int64, copy=False)
        if len(uniques) == n:  # every row distinct (e.g. a continuous spend): nothing to collapse
            key, size, numbered = codes, n, True
            break
        if key is None:
            key, size = codes, len(uniques)
        elif size * len(uniques) < 2**62:
            key, size = key * len(uniques) + codes, size * len(uniques)
        else:  # number the keys so far (fewer than the rows) before combining further
            key, distinct = pd.factorize(key)
            key = key.astype(np.int64, copy=False) * len(uniques) + codes
            size = len(distinct) * len(uniques)
    inverse = key if numbered else _first_appearance_codes(key, size)
    # codes number rows in order of first appearance: a first occurrence exceeds all before it
    seen = np.maximum.accumulate(inverse)
    first = np.flatnonzero(np.r_[len(inverse) > 0, inverse[1:] > seen[:-1]])
    summed = np.bincount(inverse, weights=weights, minlength=len(first))
    return [np.asarray(c)[first] for c in columns], summed, inverse


#: Largest key range numbered through a table indexed by key (``_first_appearance_codes``):
#: 2 ** 23 keys, two 64 MiB tables; larger ranges are hashed.
DENSE_KEYS = 2**23


def _first_appearance_codes(key: np.ndarray, size: int) -> np.ndarray:
    """Number the integer keys in ``[0, size)`` by first appearance, as ``pd.factorize`` does.

    A small key range is numbered through tables indexed by key (the first row of each key,
    then its rank among the first rows), which is several times faster than hashing the keys
    when there are hundreds of thousands of distinct ones.
    """
    n = len(key)
    if size > min(DENSE_KEYS, 4 * n + 1024):
        return pd.factorize(key)[0].astype(np.int64, copy=False)
    first_row = np.full(size, n, dtype=np.int64)
    first_row[key[::-1]] = np.arange(n - 1, -1, -1)  # the last write of a key is its first row
    present = np.flatnonzero(first_row < n)
    rank = np.empty(size, dtype=np.int64)
    rank[present[np.argsort(first_row[present], kind="stable")]] = np.arange(len(present))
    return rank[key]


def read_columns(
    names: tuple[str, ...], first, rest: dict[str, Any]
) -> tuple[dict[str, np.ndarray], pd.Index]:
    """Turn an RFM DataFrame, or separate arrays, into checked float columns and an index.

    ``first`` is either a DataFrame holding ``names`` (then every value of ``rest`` must be
    None) or the first column as a Series / array, with the others in ``rest``. The
    frequency / recency / T contract is checked by :func:`churnlab._validation.check_rfm`;
    ``monetary_value`` only for NaN and infinities (each model states its own spend rule).
    """
    if isinstance(first, pd.DataFrame):
        given = [k for k, v in rest.items() if v is not None]
        if given:
            raise ValueError(
                f"pass either an RFM DataFrame or separate arrays, not both: got a DataFrame "
                f"and {given}"
            )
        require_columns(first, names, "data")
        raw = {name: first[name] for name in names}
        index = first.index
    else:
        missing = [k for k, v in rest.items() if v is None]
        if missing:
            raise ValueError(
                f"{missing} required: pass an RFM DataFrame with columns {list(names)}, or "
                "every column as an array"
            )
        raw = {names[0]: first, **rest}
        index = first.index if isinstance(first, pd.Series) else None
    for name, values in raw.items():
        if np.ndim(values) == 0:
            raw[name] = np.atleast_1d(values)
    checked = check_rfm(**{k: raw[k] for k in names if k != "monetary_value"})
    arrays = {name: checked.get(name) for name in names}
    if "monetary_value" in names:
        arrays["monetary_value"] = as_float_array(raw["monetary_value"], "monetary_value")
    lengths = {name: len(values) for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"the columns differ in length: {lengths}")
    if index is None:
        index = pd.RangeIndex(len(arrays[names[0]]))
    check_unique_ids(index)
    return arrays, index


def check_unique_ids(index: pd.Index, name: str = "data") -> None:
    """Refuse an index of customer ids that holds an id more than once.

    A model's input has one row per customer and its predictions are indexed like it: a
    repeated id would be fitted twice and predicted twice. Collapsed rows of identical
    histories are passed with ``weights`` instead.
    """
    if index.is_unique:
        return
    repeated = index[index.duplicated(keep=False)]
    counts = pd.Series(repeated).value_counts(sort=False)
    shown = ", ".join(f"{k!r} ({v} rows)" for k, v in counts.head(10).items())
    more = f" and {len(counts) - 10} more" if len(counts) > 10 else ""
    label = f" ({index.name!r})" if index.name is not None else ""
    raise ValueError(
        f"{name}: the customer ids of the index{label} must be unique; {len(counts)} id(s) "
        f"occur more than once: {shown}{more}. Keep one row per customer (identical "
        "histories can be passed once with weights)."
    )


def data_time_unit(data) -> str | None:
    """The time unit recorded in ``data.attrs["time_unit"]`` (by :func:`churnlab.rfm_summary`)."""
    attrs = getattr(data, "attrs", None)
    return attrs.get("time_unit") if isinstance(attrs, dict) else None


def check_time_unit(model, data=None, *, time_unit: str | None = None) -> str | None:
    """Refuse a time unit that differs from another one in the same computation.

    The one check of time units: the unit the model was fitted in (``model.time_unit_``,
    recorded when the fitted data carried ``attrs["time_unit"]``), the unit recorded in
    ``data.attrs["time_unit"]`` and an explicit ``time_unit`` argument must agree wherever
    two of them are known. Every prediction method, :func:`churnlab.customer_lifetime_value`
    and the diagnostics of :mod:`churnlab.diagnostics` call it.

    Returns
    -------
    str or None
        The unit in force (the argument, else the data's, else the model's), None if none is
        recorded.

    Examples
    --------
    >>> class Fitted:
    ...     time_unit_ = "W"
    >>> check_time_unit(Fitted(), time_unit="W")
    'W'
    >>> check_time_unit(Fitted(), time_unit="D")
    Traceback (most recent call last):
    ...
    ValueError: time_unit='D' but Fitted was fitted on data in time_unit='W': ...
    """
    fitted = getattr(model, "time_unit_", None)
    given = data_time_unit(data) if data is not None else None
    name = type(model).__name__
    if fitted is not None and given is not None and fitted != given:
        raise ValueError(
            f"the data are in time_unit={given!r} but {name} was fitted on data in "
            f"time_unit={fitted!r}: recompute the summary in {fitted!r} or refit"
        )
    if time_unit is not None:
        if given is not None and time_unit != given:
            raise ValueError(
                f"time_unit={time_unit!r} but data.attrs['time_unit'] is {given!r}: the "
                f"data's recency and T are in {given!r}; pass time_unit={given!r}"
            )
        if fitted is not None and time_unit != fitted:
            raise ValueError(
                f"time_unit={time_unit!r} but {name} was fitted on data in "
                f"time_unit={fitted!r}: horizons and ages must be in the model's unit; pass "
                f"time_unit={fitted!r} or refit"
            )
    return time_unit or given or fitted


def _flat_direction(vector: np.ndarray, names: list[str]) -> str:
    """Describe a direction of the log-parameters in words (for identification errors)."""
    big = np.abs(vector) >= 0.3 * np.max(np.abs(vector))
    involved = [n for n, b in zip(names, big, strict=True) if b]
    if len(involved) == 1:
        return f"it barely changes as {involved[0]} moves"
    signs = np.sign(vector[big])
    listed = ", ".join(involved[:-1]) + f" and {involved[-1]}"
    if np.all(signs == signs[0]):
        return f"it barely changes as {listed} are scaled up or down together"
    return f"it barely changes as {listed} are traded against each other"


def read_weights(weights, n: int) -> np.ndarray:
    """Check optional per-row weights (numbers of customers a row stands for)."""
    if weights is None:
        return np.ones(n)
    w = as_float_array(weights, "weights")
    if len(w) != n:
        raise ValueError(f"weights has {len(w)} values for {n} rows")
    if (w < 0).any():
        fail("weights", "negative weights", pd.DataFrame({"weights": w}), w < 0)
    if w.sum() <= 0:
        raise ValueError("weights sum to zero: there is nothing to fit")
    return w


def time_argument(t, name: str = "t") -> np.ndarray:
    """A non-negative, finite time (scalar or array) as a float array."""
    values = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{name} must be finite and non-negative, got {t!r}")
    return values


class LikelihoodModel(EstimatorMixin):
    """Shared machinery of the maximum-likelihood models (see the module docstring).

    Parameters
    ----------
    initial_params : dict, optional
        Starting values by parameter name; the model's defaults otherwise.
    max_iter : int
        Maximum number of L-BFGS-B iterations.
    tol : float
        Convergence tolerance: L-BFGS-B stops when the relative change of the mean
        log-likelihood (``ftol``) or the largest projected gradient component (``gtol``) falls
        below it.
    """

    _param_names: ClassVar[tuple[str, ...]] = ()
    #: The time units a saved model of this class may record (contractual models add
    #: calendar periods such as quarters and years).
    _time_units: ClassVar = TIME_UNITS
    _columns: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, initial_params: dict | None = None, max_iter: int = 1000, tol=1e-10):
        self.initial_params = initial_params
        self.max_iter = max_iter
        self.tol = tol

    # -- to be provided by each model ------------------------------------------------------
    def _prepare(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> Any:
        raise NotImplementedError

    def _loglik(self, params: np.ndarray, prep: Any, gradient: bool = True):
        """Total log-likelihood and (if asked) its gradient in the natural parameters."""
        raise NotImplementedError

    def _initial_params(self, prep: Any) -> np.ndarray:
        raise NotImplementedError

    # -- fitting ---------------------------------------------------------------------------
    def _start(self, prep: Any) -> np.ndarray:
        start = np.asarray(self._initial_params(prep), dtype=float)
        if self.initial_params is not None:
            unknown = set(self.initial_params) - set(self._param_names)
            if unknown:
                raise ValueError(
                    f"initial_params has unknown name(s) {sorted(unknown)}; "
                    f"use {list(self._param_names)}"
                )
            for j, name in enumerate(self._param_names):
                if name in self.initial_params:
                    value = float(self.initial_params[name])
                    if not np.isfinite(value) or value <= 0:
                        raise ValueError(f"initial_params[{name!r}] must be positive, got {value}")
                    start[j] = value
        return start

    def _check_identifiable(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> None:
        """Refuse data that cannot identify the model (distinct rows, positive weights)."""

    def _flat_meaning(self, direction: np.ndarray, params: np.ndarray) -> str:
        """What a flat direction of the log-likelihood means for this model ("" if nothing)."""
        return ""

    #: What the model needs from the data, appended to the errors of unidentified fits.
    _identification_hint: ClassVar[str] = ""

    def _fit_columns(
        self,
        columns: dict[str, np.ndarray],
        weights: np.ndarray,
        time_unit: str | None = None,
        *,
        collapsed: bool = False,
    ):
        """Fit on checked columns; ``collapsed`` says the rows are distinct already."""
        integer = isinstance(self.max_iter, int | np.integer) and not isinstance(
            self.max_iter, bool
        )
        if not integer or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        if isinstance(self.tol, bool) or not np.isfinite(self.tol) or self.tol <= 0:
            raise ValueError(f"tol must be a positive number, got {self.tol!r}")
        names = list(columns)
        if collapsed:
            unique, w = [columns[c] for c in names], weights
        else:
            unique, w, _ = collapse_rows([columns[c] for c in names], weights)
        keep = w > 0
        distinct = {c: u[keep] for c, u in zip(names, unique, strict=True)}
        self._check_identifiable(distinct, w[keep])
        prep = self._prepare(distinct, w[keep])
        total = float(w.sum())
        theta0 = np.log(self._start(prep))
        bounds = [(-LOG_PARAM_BOUND, LOG_PARAM_BOUND)] * len(theta0)
        # L-BFGS-B calls BLAS on vectors of a handful of parameters; with several BLAS threads
        # every call pays the threads' start-up and wait (about 3 ms against 0.1 ms each on two
        # cores, half of a 1,000,000-customer fit; benchmarks/README.md), so use one.
        large = keep.sum() > LARGE_FIT_ROWS
        result = None
        with threadpool_limits(limits=1, user_api="blas"):
            if self.initial_params is None and large:
                theta0 = self._pilot(distinct, w[keep], theta0, bounds)
                result = self._newton(prep, total, theta0)
            if result is None:
                result = self._maximise(prep, total, theta0, bounds, self.tol)
        name = type(self).__name__
        grad_norm = float(np.max(np.abs(result.jac)))
        message = str(result.message)
        # L-BFGS-B may end in a failed line search once the mean log-likelihood is flat to
        # rounding; that is convergence when the gradient is negligible.
        converged = bool(result.success) or (result.nit < self.max_iter and grad_norm < 1e-6)
        if not converged or not np.all(np.isfinite(result.x)):
            raise ConvergenceError(
                f"{name}: the optimizer did not converge after {result.nit} iterations "
                f"(largest gradient component {grad_norm:.3g}): {message}. Try a larger "
                "max_iter, other initial_params, or check the data."
            )
        theta = result.x
        estimate = ", ".join(
            f"{p}={v:.4g}" for p, v in zip(self._param_names, np.exp(theta), strict=True)
        )
        at_bound = np.abs(theta) >= LOG_PARAM_BOUND - 1e-6
        if at_bound.any():
            stuck = [p for p, b in zip(self._param_names, at_bound, strict=True) if b]
            raise ValueError(
                f"{name}: the data do not identify the parameters: {stuck} ran to the bound "
                f"exp(+-{LOG_PARAM_BOUND:g}) of the optimizer ({estimate}); the likelihood has "
                f"no maximum at finite values. {self._identification_hint}".rstrip()
            )
        ll, _ = self._loglik(np.exp(theta), prep, gradient=False)
        with threadpool_limits(limits=1, user_api="blas"):
            covariance = self._covariance(
                theta,
                prep,
                ll,
                analytic=large,
                hessian=getattr(result, "log_hessian", None),
            )
        self.params_ = pd.Series(np.exp(theta), index=list(self._param_names), name="estimate")
        self.log_likelihood_ = float(ll)
        # always True on a fitted model: a fit that does not converge raises ConvergenceError
        self.converged_ = True
        self.n_iter_ = int(result.nit)
        self.optimizer_message_ = message
        self.n_customers_ = total
        self.n_unique_ = int(keep.sum())
        self.time_unit_ = time_unit
        self.log_params_covariance_ = covariance
        return self

    def _maximise(self, prep: Any, total: float, theta0: np.ndarray, bounds, tol: float):
        """L-BFGS-B on the mean log-likelihood in the log-parameters, from ``theta0``."""

        def objective(theta):
            params = np.exp(theta)
            ll, grad = self._loglik(params, prep)
            return -ll / total, -(grad * params) / total

        return optimize.minimize(
            objective,
            theta0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": self.max_iter, "ftol": tol, "gtol": tol},
        )

    def _newton(self, prep: Any, total: float, theta0: np.ndarray):
        """Newton's method on the log-likelihood in the log-parameters, from a pilot estimate.

        Near the maximum each step with the analytic Hessian (:meth:`_hessian`) gains as many
        digits as it had (quadratic convergence), so a start from :meth:`_pilot` reaches the
        tolerance in three to five steps, against about a dozen L-BFGS-B iterations each as
        dear as a gradient. Steps are halved until the log-likelihood rises by at least a
        ten-thousandth of the predicted gain (Armijo). It stops when half the Newton decrement
        ``g' (-H)^-1 g``, the gain still to be had, is below ``tol`` relative to the
        log-likelihood. Returns an :class:`~scipy.optimize.OptimizeResult` carrying the
        Hessian at the estimate (``log_hessian``), or None where a step fails (a Hessian
        that is not negative definite, no ascent, a bound reached): L-BFGS-B then fits.
        """

        def evaluate(theta):
            params = np.exp(theta)
            hessian = self._hessian(params, prep)
            if hessian is None:
                return None
            ll, grad = self._loglik(params, prep)
            return ll, grad * params, _on_log_scale(params, grad, hessian)

        theta = np.asarray(theta0, dtype=float)
        with np.errstate(all="ignore"):
            first = evaluate(theta)
            if first is None:  # no analytic Hessian: L-BFGS-B fits
                return None
            ll, grad, hessian = first
            for step_number in range(1, NEWTON_MAX_STEPS + 1):
                if not (np.isfinite(ll) and np.all(np.isfinite(hessian))):
                    return None
                try:
                    np.linalg.cholesky(-hessian)
                except np.linalg.LinAlgError:
                    return None
                step = np.linalg.solve(-hessian, grad)
                gain = float(grad @ step)
                if gain / 2 <= self.tol * max(abs(ll), 1.0):
                    return optimize.OptimizeResult(
                        x=theta,
                        fun=-ll / total,
                        jac=-grad / total,
                        nit=step_number - 1,
                        success=True,
                        message="Newton's method from a pilot fit: the remaining gain "
                        f"{gain / 2:.3g} is below the tolerance",
                        log_hessian=hessian,
                    )
                size = 1.0
                while True:
                    trial = theta + size * step
                    if np.any(np.abs(trial) >= LOG_PARAM_BOUND):
                        return None
                    new = evaluate(trial)
                    if np.isfinite(new[0]) and new[0] >= ll + 1e-4 * size * gain:
                        break
                    size /= 2
                    if size < 1e-8:
                        return None
                theta = trial
                ll, grad, hessian = new
        return None

    def _pilot(self, columns: dict[str, np.ndarray], weights: np.ndarray, theta0, bounds):
        """A start for the full fit: the estimate on every k-th of the distinct rows.

        Hundreds of thousands of distinct rows (customers who joined over years) make each
        likelihood evaluation cost milliseconds; a pilot fit on about :data:`PILOT_ROWS` rows
        costs a fraction of one, and the full fit started from its estimate needs about half
        the iterations. The full fit decides the estimate and its convergence; the pilot only
        moves the start, and is ignored where it fails or runs to a bound.
        """
        rows = slice(0, None, len(weights) // PILOT_ROWS)
        sample = {c: v[rows] for c, v in columns.items()}
        try:
            self._check_identifiable(sample, weights[rows])
            prep = self._prepare(sample, weights[rows])
            result = self._maximise(prep, float(weights[rows].sum()), theta0, bounds, PILOT_TOL)
        except (ValueError, FloatingPointError):
            return theta0
        inside = np.all(np.abs(result.x) < LOG_PARAM_BOUND - 1e-6)
        return result.x if np.all(np.isfinite(result.x)) and inside else theta0

    def _hessian(self, params: np.ndarray, prep: Any) -> np.ndarray | None:
        """The analytic Hessian of the log-likelihood in the parameters, where a model has one.

        None (the default) makes :meth:`_log_hessian` difference the analytic gradient.
        """
        return None

    def _log_hessian(self, theta: np.ndarray, prep: Any, analytic: bool = True) -> np.ndarray:
        """Hessian of the log-likelihood in the log-parameters ``theta``.

        With ``analytic`` and a model that has :meth:`_hessian`, from the analytic Hessian
        ``H`` and gradient ``g`` in the parameters ``p = exp(theta)`` (chain rule: ``p_i p_j
        H_ij + [i = j] p_i g_i``); otherwise by central differences of the gradient with
        step :data:`HESSIAN_STEP`.
        """
        params = np.exp(theta)
        hessian = self._hessian(params, prep) if analytic else None
        if hessian is not None:
            gradient = self._loglik(params, prep)[1]
            return _on_log_scale(params, gradient, hessian)
        k = len(theta)
        hessian = np.empty((k, k))
        for j in range(k):
            step = np.zeros(k)
            step[j] = HESSIAN_STEP
            up = self._loglik(np.exp(theta + step), prep)[1] * np.exp(theta + step)
            down = self._loglik(np.exp(theta - step), prep)[1] * np.exp(theta - step)
            hessian[:, j] = (up - down) / (2 * HESSIAN_STEP)
        return (hessian + hessian.T) / 2

    def _on_a_ridge(self, theta: np.ndarray, prep: Any, top: float, direction: np.ndarray) -> bool:
        """Whether the log-likelihood stays within :data:`RIDGE_DROP` of ``top``, its value at
        ``theta``, :data:`RIDGE_PROBE` log-units away along ``direction``, either way (two
        evaluations).
        """
        for sign in (1.0, -1.0):
            probe = np.clip(
                theta + sign * RIDGE_PROBE * direction, -LOG_PARAM_BOUND, LOG_PARAM_BOUND
            )
            with np.errstate(all="ignore"):
                value, _ = self._loglik(np.exp(probe), prep, gradient=False)
            if np.isfinite(value) and value > top - RIDGE_DROP:
                return True
        return False

    def _covariance(
        self,
        theta: np.ndarray,
        prep: Any,
        log_likelihood: float,
        analytic: bool = False,
        hessian=None,
    ) -> pd.DataFrame:
        """Inverse of minus the Hessian of the log-likelihood in the log-parameters.

        The estimate is a proper maximum only where the Hessian is negative definite; a
        non-finite, singular or indefinite Hessian means the likelihood is flat (or not a
        maximum) in some direction: the data do not identify the parameters, and the fit is
        refused with the direction named, rather than returning arbitrary estimates.
        """
        if hessian is None:  # else the Hessian at theta, already computed by the optimizer
            hessian = self._log_hessian(theta, prep, analytic)
        names = list(self._param_names)
        problem = None
        if not np.all(np.isfinite(hessian)):
            problem = "its Hessian is not finite"
        else:
            values, vectors = np.linalg.eigh(-hessian)
            if values[0] <= SINGULAR_RCOND * max(values[-1], 0.0):
                kind = "not negative definite" if values[0] <= 0 else "numerically singular"
                problem = (
                    f"the log-likelihood has no proper maximum (Hessian {kind}): "
                    f"{_flat_direction(vectors[:, 0], names)}"
                    f"{self._flat_meaning(vectors[:, 0], np.exp(theta))}"
                )
            elif self._on_a_ridge(theta, prep, log_likelihood, vectors[:, 0]):
                problem = (
                    "the log-likelihood has no proper maximum (it falls by less than "
                    f"{RIDGE_DROP:g} over a factor of e^{RIDGE_PROBE:g} along its flattest "
                    f"direction): {_flat_direction(vectors[:, 0], names)}"
                    f"{self._flat_meaning(vectors[:, 0], np.exp(theta))}"
                )
            else:
                cov = np.linalg.inv(-hessian)
        if problem is not None:
            estimate = ", ".join(f"{p}={v:.4g}" for p, v in zip(names, np.exp(theta), strict=True))
            raise ValueError(
                f"{type(self).__name__}: the data do not identify the parameters: at the "
                f"estimate ({estimate}) {problem}. The estimate is arbitrary along that direction "
                f"and has no standard errors. {self._identification_hint}".rstrip()
            )
        return pd.DataFrame(cov, index=names, columns=names)

    # -- results ---------------------------------------------------------------------------
    def confidence_interval(self, level: float = 0.95) -> pd.DataFrame:
        """Confidence intervals of the parameters at ``level``.

        The interval is computed for the log-parameter (normal approximation with the Hessian
        standard error) and exponentiated, so it is positive and asymmetric.

        Returns
        -------
        DataFrame
            Indexed by parameter, columns ``ci_lower`` and ``ci_upper``.
        """
        check_is_fitted(self, "params_")
        if not 0 < level < 1:
            raise ValueError(f"level must be between 0 and 1, got {level!r}")
        z = ndtri(0.5 + level / 2)  # the normal quantile, as scipy.stats.norm.ppf computes it
        log_se = np.sqrt(np.diag(self.log_params_covariance_.to_numpy()))
        log_est = np.log(self.params_.to_numpy())
        return pd.DataFrame(
            {"ci_lower": np.exp(log_est - z * log_se), "ci_upper": np.exp(log_est + z * log_se)},
            index=self.params_.index,
        )

    @property
    def summary(self) -> pd.DataFrame:
        """Estimates, delta-method standard errors and 95% intervals (see the class notes).

        ``std_err`` is ``estimate * se(log estimate)``; the interval is the exponential of the
        log-scale interval. ``attrs`` holds the log-likelihood and the convergence record.
        """
        check_is_fitted(self, "params_")
        log_se = np.sqrt(np.diag(self.log_params_covariance_.to_numpy()))
        table = pd.DataFrame(
            {"estimate": self.params_.to_numpy(), "std_err": self.params_.to_numpy() * log_se},
            index=self.params_.index,
        ).join(self.confidence_interval(0.95))
        table = table.rename_axis("parameter")
        table.attrs.update(self._header())
        return table

    def _header(self) -> dict[str, Any]:
        return {
            "model": type(self).__name__,
            "log_likelihood": self.log_likelihood_,
            "converged": self.converged_,
            "n_iter": self.n_iter_,
            "n_customers": self.n_customers_,
            "n_unique": self.n_unique_,
            "time_unit": self.time_unit_,
            "optimizer_message": self.optimizer_message_,
        }

    def _repr_mimebundle_(self, **kwargs) -> dict[str, str]:
        # Jupyter prefers this to _repr_html_; show the fitted summary, not the sklearn diagram
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    def _repr_html_(self) -> str:
        if not hasattr(self, "params_"):  # not fitted: no NotFittedError, no scikit-learn import
            return f"<pre>{html.escape(repr(self))}</pre>"
        h = self._header()
        head = (
            f"<p><b>{h['model']}</b>: log-likelihood {h['log_likelihood']:.4f}, "
            f"converged in {h['n_iter']} iterations; "
            f"{h['n_customers']:g} customers ({h['n_unique']} unique rows)</p>"
        )
        return head + self.summary.to_html(float_format=lambda v: f"{v:.4g}")

    # -- persistence -----------------------------------------------------------------------
    def _extra_to_dict(self) -> dict[str, Any]:
        return {}

    def _extra_from_dict(self, extra: dict[str, Any], check: _FieldCheck) -> None:
        if extra:
            check.fail("extra", "must be empty for this model", extra)

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as a JSON-serialisable dict (see :meth:`from_dict`).

        numpy scalars among the constructor arguments (e.g. ``max_iter=np.int64(500)``) are
        written as plain JSON numbers.
        """
        check_is_fitted(self, "params_")
        return _json_native(
            {
                "model": type(self).__name__,
                "format_version": FORMAT_VERSION,
                "init_params": self.get_params(),
                "params": {k: float(v) for k, v in self.params_.items()},
                "log_likelihood": self.log_likelihood_,
                "converged": self.converged_,
                "n_iter": self.n_iter_,
                "optimizer_message": self.optimizer_message_,
                "n_customers": self.n_customers_,
                "n_unique": self.n_unique_,
                "time_unit": self.time_unit_,
                "log_params_covariance": self.log_params_covariance_.to_numpy().tolist(),
                "extra": self._extra_to_dict(),
            }
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "model dict"):
        """Rebuild a fitted model from :meth:`to_dict` output.

        Every field is checked before anything is built: the model kind and format version,
        the constructor arguments, each parameter (a finite positive number), the convergence
        record (``converged`` must be the JSON boolean ``true``: a fit that does not converge
        raises instead of being saved), the counts, the time unit and the covariance matrix
        (finite, symmetric, positive definite). A ValueError names ``source`` and the field.
        """
        check = _FieldCheck(source)
        if not isinstance(data, dict):
            raise ValueError(f"{source}: expected a JSON object, got {type(data).__name__}")
        kind = data.get("model")
        if kind != cls.__name__:
            raise ValueError(f"{source}: this file holds a {kind!r} model, not a {cls.__name__}")
        expected = set(_TOP_LEVEL_FIELDS)
        missing = sorted(expected - set(data))
        if missing:
            raise ValueError(
                f"{source}: field(s) {missing} missing; a saved model has {sorted(expected)}"
            )
        unknown = sorted(set(data) - expected)
        if unknown:
            raise ValueError(
                f"{source}: unknown field(s) {unknown}; a saved model has {sorted(expected)}"
            )
        if check.integer("format_version", data["format_version"]) != FORMAT_VERSION:
            check.fail(
                "format_version",
                f"unsupported (this version reads {FORMAT_VERSION})",
                data["format_version"],
            )
        names = list(cls._param_names)
        init = check.mapping("init_params", data["init_params"], set(cls().get_params()))
        initial = init["initial_params"]
        if initial is not None:
            initial = check.mapping("init_params.initial_params", initial, set(names), subset=True)
            initial = {
                k: check.positive(f"init_params.initial_params.{k}", v) for k, v in initial.items()
            }
        max_iter = check.integer("init_params.max_iter", init["max_iter"], minimum=1)
        tol = check.positive("init_params.tol", init["tol"])
        params = check.mapping("params", data["params"], set(names))
        values = [check.positive(f"params.{n}", params[n]) for n in names]
        converged = data["converged"]
        if converged is not True:
            check.fail(
                "converged",
                "must be the boolean true (a fit that does not converge raises, it is not saved)",
                converged,
            )
        log_likelihood = check.real("log_likelihood", data["log_likelihood"])
        n_iter = check.integer("n_iter", data["n_iter"], minimum=0)
        message = data["optimizer_message"]
        if not isinstance(message, str):
            check.fail("optimizer_message", "must be a string", message)
        n_customers = check.positive("n_customers", data["n_customers"])
        n_unique = check.integer("n_unique", data["n_unique"], minimum=1)
        time_unit = data["time_unit"]
        if time_unit is not None and time_unit not in cls._time_units:
            check.fail("time_unit", f"must be null or one of {sorted(cls._time_units)}", time_unit)
        cov = check.covariance("log_params_covariance", data["log_params_covariance"], len(names))
        extra = data["extra"]
        if not isinstance(extra, dict):
            check.fail("extra", "must be an object", extra)

        model = cls(**{**init, "initial_params": initial, "max_iter": max_iter, "tol": tol})
        model.params_ = pd.Series(values, index=names, name="estimate")
        model.log_likelihood_ = log_likelihood
        model.converged_ = True
        model.n_iter_ = n_iter
        model.optimizer_message_ = message
        model.n_customers_ = n_customers
        model.n_unique_ = n_unique
        model.time_unit_ = time_unit
        model.log_params_covariance_ = pd.DataFrame(cov, index=names, columns=names)
        model._extra_from_dict(extra, check)
        return model

    def save(self, path) -> None:
        """Write the fitted model to ``path`` as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False))

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`, checking every field (see :meth:`from_dict`).

        A file of another model class, a missing or unknown field, or a field of the wrong
        type or range is a ValueError naming the file and the field.
        """
        text = Path(path).read_text()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"model file {str(path)!r}: not valid JSON ({err})") from None
        return cls.from_dict(data, source=f"model file {str(path)!r}")


#: The fields of a saved model (:meth:`LikelihoodModel.to_dict`).
_TOP_LEVEL_FIELDS = (
    "model",
    "format_version",
    "init_params",
    "params",
    "log_likelihood",
    "converged",
    "n_iter",
    "optimizer_message",
    "n_customers",
    "n_unique",
    "time_unit",
    "log_params_covariance",
    "extra",
)


def _json_native(value):
    """``value`` with numpy scalars and arrays turned into plain Python numbers and lists."""
    if isinstance(value, dict):
        return {str(k): _json_native(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_native(v) for v in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


class _FieldCheck:
    """Type and range checks of the fields of a saved model, naming the source and field."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, field: str, problem: str, value) -> None:
        raise ValueError(f"{self.source}: field {field!r} {problem}, got {value!r}")

    def real(self, field: str, value) -> float:
        is_number = isinstance(value, int | float | np.integer | np.floating)
        if isinstance(value, bool | np.bool_) or not is_number or not np.isfinite(value):
            self.fail(field, "must be a finite number", value)
        return float(value)

    def positive(self, field: str, value) -> float:
        number = self.real(field, value)
        if number <= 0:
            self.fail(field, "must be a positive number", value)
        return number

    def integer(self, field: str, value, minimum: int | None = None) -> int:
        if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
            self.fail(field, "must be an integer", value)
        if minimum is not None and value < minimum:
            self.fail(field, f"must be an integer >= {minimum}", value)
        return int(value)

    def mapping(self, field: str, value, keys: set[str], subset: bool = False) -> dict:
        if not isinstance(value, dict):
            self.fail(field, "must be an object", value)
        missing, unknown = sorted(keys - set(value)), sorted(set(value) - keys)
        if unknown or (missing and not subset):
            self.fail(field, f"must have the keys {sorted(keys)}", sorted(value))
        return value

    def covariance(self, field: str, value, k: int) -> np.ndarray:
        rows_ok = isinstance(value, list) and len(value) == k
        if not rows_ok or not all(isinstance(row, list) and len(row) == k for row in value):
            self.fail(field, f"must be a {k} x {k} matrix (a list of {k} lists)", value)
        cov = np.array(
            [
                [self.real(f"{field}[{i}][{j}]", v) for j, v in enumerate(row)]
                for i, row in enumerate(value)
            ]
        )
        scale = np.max(np.abs(cov))
        if np.max(np.abs(cov - cov.T)) > 1e-9 * scale:
            self.fail(field, "must be symmetric", value)
        try:
            np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            self.fail(field, "must be positive definite (a fitted model's covariance)", value)
        return cov
