"""What every maximum-likelihood model of churnlab shares.

* the data contract: an RFM DataFrame or separate arrays, checked by
  :func:`churnlab._validation.check_rfm`, predictions indexed like the input;
* identical input rows collapsed into weights before fitting (``n_customers_``,
  ``n_unique_``);
* the optimizer: :func:`scipy.optimize.minimize` (L-BFGS-B) on the logarithms of the
  parameters, with the model's exact analytic gradient;
* standard errors from the Hessian of the log-likelihood on the log scale (central
  differences of the analytic gradient), carried back to the natural scale by the delta
  method; confidence intervals are the exponential of the log-scale interval, so they stay
  positive and are asymmetric;
* the summary table (``estimate, std_err, ci_lower, ci_upper``) and JSON save/load.

A model subclass declares ``_param_names`` and ``_columns`` and implements ``_prepare``
(per-row quantities that do not depend on the parameters, computed once per fit),
``_loglik`` (log-likelihood and its gradient on the natural scale) and
``_initial_params``.
"""

from __future__ import annotations

import html
import json
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import optimize, stats
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from churnlab._validation import as_float_array, check_rfm, fail, require_columns

#: Bounds of the log-parameters during optimisation: exp(+-30) spans 1e-13 .. 1e13, far
#: beyond any sensible estimate, and keeps every trial point finite.
LOG_PARAM_BOUND = 30.0

#: Relative step of the central differences that give the Hessian from the analytic gradient.
HESSIAN_STEP = 1e-5

#: JSON format version of :meth:`LikelihoodModel.save`.
FORMAT_VERSION = 1


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

    Each column is factorised (hashing, linear time), the codes are combined column by column
    into one integer key, and the key is factorised again: the same grouping as
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
    key = None
    for column in columns:
        codes, uniques = pd.factorize(column)
        codes = codes.astype(np.int64)
        if key is None:
            key = codes
        else:
            # key < n and codes < n_unique <= n: the product fits in int64 for n < 3e9
            key = pd.factorize(key * len(uniques) + codes)[0].astype(np.int64)
    inverse = key
    # codes number rows in order of first appearance: a first occurrence exceeds all before it
    seen = np.maximum.accumulate(inverse)
    first = np.flatnonzero(np.r_[True, inverse[1:] > seen[:-1]])
    summed = np.bincount(inverse, weights=weights, minlength=len(first))
    return [np.asarray(c)[first] for c in columns], summed, inverse


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
    check_rfm(**{k: raw[k] for k in names if k != "monetary_value"})
    arrays = {name: as_float_array(raw[name], name) for name in names}
    lengths = {name: len(values) for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"the columns differ in length: {lengths}")
    if index is None:
        index = pd.RangeIndex(len(arrays[names[0]]))
    return arrays, index


def data_time_unit(data) -> str | None:
    """The time unit recorded in ``data.attrs["time_unit"]`` (by :func:`churnlab.rfm_summary`)."""
    attrs = getattr(data, "attrs", None)
    return attrs.get("time_unit") if isinstance(attrs, dict) else None


def check_time_unit(model, data) -> None:
    """Refuse data whose recorded time unit differs from the one the model was fitted in."""
    fitted, given = getattr(model, "time_unit_", None), data_time_unit(data)
    if fitted is not None and given is not None and fitted != given:
        raise ValueError(
            f"the data are in time_unit={given!r} but {type(model).__name__} was fitted on data "
            f"in time_unit={fitted!r}: recompute the summary in {fitted!r} or refit"
        )


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


class LikelihoodModel(BaseEstimator):
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

    def _fit_columns(
        self, columns: dict[str, np.ndarray], weights: np.ndarray, time_unit: str | None = None
    ):
        if not isinstance(self.max_iter, int | np.integer) or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        if not np.isfinite(self.tol) or self.tol <= 0:
            raise ValueError(f"tol must be a positive number, got {self.tol!r}")
        names = list(columns)
        unique, w, _ = collapse_rows([columns[c] for c in names], weights)
        keep = w > 0
        prep = self._prepare({c: u[keep] for c, u in zip(names, unique, strict=True)}, w[keep])
        total = float(w.sum())

        def objective(theta):
            params = np.exp(theta)
            ll, grad = self._loglik(params, prep)
            return -ll / total, -(grad * params) / total

        theta0 = np.log(self._start(prep))
        bounds = [(-LOG_PARAM_BOUND, LOG_PARAM_BOUND)] * len(theta0)
        # L-BFGS-B calls BLAS on vectors of a handful of parameters; with several BLAS threads
        # every call pays the threads' start-up and wait (about 3 ms against 0.1 ms each on two
        # cores, half of a 1,000,000-customer fit; benchmarks/README.md), so use one.
        with threadpool_limits(limits=1, user_api="blas"):
            result = optimize.minimize(
                objective,
                theta0,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": self.max_iter, "ftol": self.tol, "gtol": self.tol},
            )
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
        at_bound = np.abs(result.x) >= LOG_PARAM_BOUND - 1e-6
        if at_bound.any():
            stuck = [p for p, b in zip(self._param_names, at_bound, strict=True) if b]
            warnings.warn(
                f"{name}: parameter(s) {stuck} "
                f"reached the bound exp(+-{LOG_PARAM_BOUND:g}); the data do not identify them.",
                UserWarning,
                stacklevel=3,
            )
        theta = result.x
        ll, _ = self._loglik(np.exp(theta), prep, gradient=False)
        self.params_ = pd.Series(np.exp(theta), index=list(self._param_names), name="estimate")
        self.log_likelihood_ = float(ll)
        self.converged_ = True
        self.n_iter_ = int(result.nit)
        self.optimizer_message_ = message
        self.n_customers_ = total
        self.n_unique_ = int(keep.sum())
        self.time_unit_ = time_unit
        with threadpool_limits(limits=1, user_api="blas"):
            self.log_params_covariance_ = self._covariance(theta, prep)
        return self

    def _covariance(self, theta: np.ndarray, prep: Any) -> pd.DataFrame:
        """Inverse of minus the Hessian of the log-likelihood in the log-parameters."""
        k = len(theta)
        hessian = np.empty((k, k))
        for j in range(k):
            step = np.zeros(k)
            step[j] = HESSIAN_STEP
            up = self._loglik(np.exp(theta + step), prep)[1] * np.exp(theta + step)
            down = self._loglik(np.exp(theta - step), prep)[1] * np.exp(theta - step)
            hessian[:, j] = (up - down) / (2 * HESSIAN_STEP)
        hessian = (hessian + hessian.T) / 2
        names = list(self._param_names)
        try:
            np.linalg.cholesky(-hessian)
            cov = np.linalg.inv(-hessian)
        except np.linalg.LinAlgError:
            warnings.warn(
                f"{type(self).__name__}: the Hessian is not negative definite at the estimate; "
                "standard errors are not available (NaN).",
                UserWarning,
                stacklevel=4,
            )
            cov = np.full((k, k), np.nan)
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
        z = stats.norm.ppf(0.5 + level / 2)
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
        try:
            check_is_fitted(self, "params_")
        except Exception:
            return f"<pre>{html.escape(repr(self))}</pre>"
        h = self._header()
        head = (
            f"<p><b>{h['model']}</b>: log-likelihood {h['log_likelihood']:.4f}, "
            f"{'converged' if h['converged'] else 'NOT converged'} in {h['n_iter']} iterations; "
            f"{h['n_customers']:g} customers ({h['n_unique']} unique rows)</p>"
        )
        return head + self.summary.to_html(float_format=lambda v: f"{v:.4g}")

    # -- persistence -----------------------------------------------------------------------
    def _extra_to_dict(self) -> dict[str, Any]:
        return {}

    def _extra_from_dict(self, extra: dict[str, Any]) -> None:
        return None

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as a JSON-serialisable dict (see :meth:`from_dict`)."""
        check_is_fitted(self, "params_")
        return {
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
            "log_params_covariance": [
                [None if np.isnan(v) else float(v) for v in row]
                for row in self.log_params_covariance_.to_numpy()
            ],
            "extra": self._extra_to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        """Rebuild a fitted model from :meth:`to_dict` output; refuses another model's dict."""
        kind = data.get("model")
        if kind != cls.__name__:
            raise ValueError(f"this file holds a {kind!r} model, not a {cls.__name__}")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported format_version {data.get('format_version')!r}")
        model = cls(**data["init_params"])
        names = list(cls._param_names)
        if sorted(data["params"]) != sorted(names):
            raise ValueError(f"params {sorted(data['params'])} do not match {names}")
        model.params_ = pd.Series([data["params"][n] for n in names], index=names, name="estimate")
        model.log_likelihood_ = float(data["log_likelihood"])
        model.converged_ = bool(data["converged"])
        model.n_iter_ = int(data["n_iter"])
        model.optimizer_message_ = str(data["optimizer_message"])
        model.n_customers_ = float(data["n_customers"])
        model.n_unique_ = int(data["n_unique"])
        model.time_unit_ = data.get("time_unit")
        cov = np.array(
            [[np.nan if v is None else v for v in row] for row in data["log_params_covariance"]],
            dtype=float,
        )
        model.log_params_covariance_ = pd.DataFrame(cov, index=names, columns=names)
        model._extra_from_dict(data.get("extra", {}))
        return model

    def save(self, path) -> None:
        """Write the fitted model to ``path`` as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`; refuses a file of another model class."""
        return cls.from_dict(json.loads(Path(path).read_text()))
