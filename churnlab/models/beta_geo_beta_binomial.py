"""The BG/BB purchase model for discrete transaction opportunities (Fader, Hardie & Shang 2010).

Some businesses give a customer a fixed set of chances to buy: an annual fund-raising drive,
a yearly conference, a weekly draw. The BG/BB model is the discrete-time sibling of the
BG/NBD: while alive, a customer transacts at each opportunity with probability ``p``; at the
start of each opportunity an alive customer dies (becomes inactive for good) with probability
``theta``. Across customers ``p ~ Beta(alpha, beta)`` and ``theta ~ Beta(gamma, delta)``,
independently. A history over ``n`` opportunities is summarised by ``x`` (opportunities with
a transaction, ``frequency``), ``t_x`` (the opportunity of the last transaction, 0 if none,
``recency``) and ``n`` (``n_periods``); the first transaction (the one that made the customer)
is not counted.

Every expression names its equation in Fader, Hardie & Shang (2010), hereafter FHS.

References
----------
Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). Customer-base analysis in a discrete-time
noncontractual setting. *Marketing Science* 29(6), 1086-1108.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, gammaln

from churnlab._estimator import check_is_fitted
from churnlab._validation import as_float_array, fail
from churnlab.models._base import LikelihoodModel, collapse_rows, read_weights, wsum

#: FHS (2010) estimates on the 11,104 first-time donors of 1995 at a US nonprofit, six annual
#: opportunities 1996-2001 (:func:`churnlab.datasets.load_donations`), their section 4.
DONATIONS_BGBB_PUBLISHED: dict[str, float] = {
    "alpha": 1.204,
    "beta": 0.750,
    "gamma": 0.657,
    "delta": 2.783,
}

#: The maximised log-likelihood FHS report for those estimates.
DONATIONS_BGBB_PUBLISHED_LOG_LIKELIHOOD = -33225.6

_COLUMNS = ("frequency", "recency", "n_periods")

#: Below this |gamma - 1| the expectation of eq. (13) sums its ratio of gamma functions term by
#: term instead of dividing a difference of log-gamma values by gamma - 1.
NEAR_ONE = 1e-4


def read_bgbb_columns(first, rest: dict) -> tuple[dict[str, np.ndarray], pd.Index]:
    """frequency / recency / n_periods as float arrays and the index, checked.

    Columns given as arrays may mix lengths n and 1 (a single value applies to every row).
    The contract: every value a finite non-negative integer; ``frequency <= n_periods``;
    ``recency = 0`` when ``frequency = 0``; otherwise ``frequency <= recency <= n_periods``
    (the last transaction is at an opportunity no earlier than the x-th and no later than the
    last). Each violation is a ValueError naming the column and showing the rows.
    """
    if isinstance(first, pd.DataFrame):
        given = [k for k, v in rest.items() if v is not None]
        if given:
            raise ValueError(
                f"pass either a DataFrame or separate arrays, not both: got a DataFrame and {given}"
            )
        missing = [c for c in _COLUMNS if c not in first.columns]
        if missing:
            raise ValueError(
                f"data is missing column(s) {missing}; it has {list(first.columns)}. The "
                "BG/BB model needs frequency, recency and n_periods (opportunities)."
            )
        raw = {c: first[c] for c in _COLUMNS}
        index = first.index
    else:
        missing = [k for k, v in rest.items() if v is None]
        if missing:
            raise ValueError(
                f"{missing} required: pass a DataFrame with columns {list(_COLUMNS)}, or "
                "every column as an array"
            )
        raw = {"frequency": first, **rest}
        index = first.index if isinstance(first, pd.Series) else None
    arrays = {
        name: as_float_array(
            np.atleast_1d(raw[name]) if np.ndim(raw[name]) == 0 else raw[name], name
        )
        for name in _COLUMNS
    }
    lengths = {name: len(v) for name, v in arrays.items()}
    if len(set(lengths.values()) - {1}) > 1:
        raise ValueError(f"the columns differ in length: {lengths}")
    # a single value (e.g. the same n_periods for everyone) applies to every row
    n_rows = max(lengths.values())
    arrays = {name: np.broadcast_to(v, (n_rows,)) for name, v in arrays.items()}
    if n_rows == 0:
        raise ValueError("no customers: the input is empty")
    if index is None:
        index = pd.RangeIndex(n_rows)
    if not index.is_unique:
        frame = pd.DataFrame(arrays, index=index)
        fail("index", "duplicated customer ids", frame, index.duplicated(keep=False))
    frame = pd.DataFrame(arrays, index=index)
    x, t_x, n = arrays["frequency"], arrays["recency"], arrays["n_periods"]
    for name, values in arrays.items():
        bad = (values < 0) | (values != np.round(values))
        if bad.any():
            fail(name, "negative or non-integer values (counts of opportunities)", frame, bad)
    if (x > n).any():
        fail(
            "n_periods",
            "fewer opportunities than transactions (n_periods < frequency)",
            frame,
            x > n,
            "n_periods counts every opportunity to transact after the first transaction.",
        )
    if ((x == 0) & (t_x != 0)).any():
        fail(
            "recency",
            "non-zero recency where frequency is 0",
            frame,
            (x == 0) & (t_x != 0),
            "Recency is the opportunity of the last transaction: 0 when there is none.",
        )
    if (t_x > n).any():
        fail("recency", "recency after the last opportunity (recency > n_periods)", frame, t_x > n)
    if ((x > 0) & (t_x < x)).any():
        fail(
            "recency",
            "recency before the frequency-th opportunity (recency < frequency)",
            frame,
            (x > 0) & (t_x < x),
            "x transactions need at least x opportunities: the last one is at recency >= x.",
        )
    return arrays, index


@dataclass(frozen=True)
class _Prepared:
    """Per-row quantities of a fit that do not depend on the parameters."""

    x: np.ndarray
    t_x: np.ndarray
    n: np.ndarray
    w: np.ndarray


class BetaGeoBetaBinomial(LikelihoodModel):
    """BG/BB model of transactions at discrete opportunities (Fader, Hardie & Shang 2010).

    Parameters
    ----------
    initial_params : dict, optional
        Starting values for ``alpha, beta, gamma, delta`` (all 1 by default).
    max_iter : int
        Maximum number of optimizer iterations.
    tol : float
        Convergence tolerance (see :class:`churnlab.models._base.LikelihoodModel`).

    Attributes
    ----------
    params_ : Series
        ``alpha, beta`` (transaction probability) and ``gamma, delta`` (dropout probability).
    log_likelihood_ : float
        The log-likelihood of FHS eq. (5) summed over customers
        (:data:`DONATIONS_BGBB_PUBLISHED_LOG_LIKELIHOOD` on the donations data).
    converged_, n_iter_, optimizer_message_, n_customers_, n_unique_,
    log_params_covariance_, summary
        As for :class:`churnlab.BetaGeo` (``time_unit_`` is always None: the unit is the
        opportunity).

    Examples
    --------
    >>> from churnlab.datasets import load_donations
    >>> donors = load_donations()
    >>> model = BetaGeoBetaBinomial().fit(donors, weights=donors["donors"])
    >>> model.params_.round(3).tolist()
    [1.204, 0.75, 0.657, 2.783]
    >>> round(model.log_likelihood_, 1)
    -33225.6
    """

    _param_names = ("alpha", "beta", "gamma", "delta")
    _columns = _COLUMNS

    def fit(self, frequency, recency=None, n_periods=None, *, weights=None):
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency : DataFrame or array-like
            A DataFrame with columns ``frequency``, ``recency`` and ``n_periods``, or the
            numbers of opportunities with a (repeat) transaction ``x``.
        recency, n_periods : array-like, optional
            ``t_x`` and ``n`` when ``frequency`` is not a DataFrame.
        weights : array-like, optional
            Number of customers each row stands for (default 1), e.g. the ``donors`` column
            of :func:`churnlab.datasets.load_donations`.

        Returns
        -------
        self
        """
        columns, _ = read_bgbb_columns(frequency, {"recency": recency, "n_periods": n_periods})
        w = read_weights(weights, len(columns["frequency"]))
        return self._fit_columns(columns, w)

    # -- likelihood ----------------------------------------------------------------------
    def _prepare(self, columns, weights) -> _Prepared:
        return _Prepared(
            x=columns["frequency"], t_x=columns["recency"], n=columns["n_periods"], w=weights
        )

    def _initial_params(self, prep: _Prepared) -> np.ndarray:
        return np.ones(4)

    def _loglik(self, params, prep: _Prepared, gradient: bool = True):
        """Log-likelihood of FHS eq. (5) and its gradient in (alpha, beta, gamma, delta).

        See :func:`_log_likelihood_rows`; the rows' values are summed with their weights.
        """
        ll, grads = _log_likelihood_rows(params, prep.x, prep.t_x, prep.n, gradient)
        total = wsum(prep.w, ll)
        if not gradient:
            return float(total), None
        return float(total), np.array([wsum(prep.w, g) for g in grads])

    # -- predictions ---------------------------------------------------------------------
    def _history(self, frequency, recency, n_periods):
        check_is_fitted(self, "params_")
        columns, index = read_bgbb_columns(frequency, {"recency": recency, "n_periods": n_periods})
        x, t_x, n = columns["frequency"], columns["recency"], columns["n_periods"]
        (xu, tu, nu), _, inverse = collapse_rows([x, t_x, n], np.ones(len(x)))
        return (xu, tu, nu), inverse, index

    def probability_alive(
        self, frequency, recency=None, n_periods=None, *, periods_ahead: int = 1
    ) -> pd.Series:
        """P(alive at opportunity n + periods_ahead | x, t_x, n).

        FHS eq. (11) (``periods_ahead = 1``, alive at the next opportunity):

            P = B(alpha+x, beta+n-x)/B(alpha, beta) B(gamma, delta+n+1)/B(gamma, delta) / L,

        with ``L`` of eq. (5); ``periods_ahead = 0`` gives the probability of having survived
        the n observed opportunities, and larger values replace ``n + 1`` by
        ``n + periods_ahead``.

        Returns
        -------
        Series
            Named ``probability_alive``, indexed like the input.

        Examples
        --------
        >>> from churnlab.datasets import load_donations
        >>> donors = load_donations()
        >>> model = BetaGeoBetaBinomial().fit(donors, weights=donors["donors"])
        >>> model.probability_alive(6, 6, 6).round(3).tolist()
        [0.93]
        """
        k = _non_negative_int(periods_ahead, "periods_ahead")
        (x, t_x, n), inverse, index = self._history(frequency, recency, n_periods)
        a, b, g, d = self.params_.to_numpy()
        log_alive = betaln(a + x, b + n - x) - betaln(a, b) + betaln(g, d + n + k) - betaln(g, d)
        value = np.minimum(
            np.exp(log_alive - _log_likelihood_rows(self.params_.to_numpy(), x, t_x, n)[0]), 1.0
        )
        return pd.Series(value[inverse], index=index, name="probability_alive")

    def conditional_expected_purchases(
        self, t, frequency, recency=None, n_periods=None
    ) -> pd.Series:
        """Expected transactions in the next ``t`` opportunities given the history (eq. 13).

        E[X(n, n+t) | x, t_x, n] = B(alpha+x+1, beta+n-x)/B(alpha, beta) delta/(gamma-1)
            Gamma(gamma+delta)/Gamma(1+delta)
            [Gamma(1+delta+n)/Gamma(gamma+delta+n) - Gamma(1+delta+n+t)/Gamma(gamma+delta+n+t)]
            / L,

        FHS eq. (13), with ``L`` of eq. (5). The bracket over ``gamma - 1`` is taken as
        ``-expm1(D) / (gamma - 1)`` times its first term, ``D`` the log-ratio of its terms, so
        it stays exact near ``gamma = 1``.

        Parameters
        ----------
        t : int or array-like of int
            Number of future opportunities.
        frequency, recency, n_periods
            A DataFrame with those columns, or the columns as arrays / Series.

        Returns
        -------
        Series
            Named ``expected_purchases``, indexed like the input.

        Examples
        --------
        >>> from churnlab.datasets import load_donations
        >>> donors = load_donations()
        >>> model = BetaGeoBetaBinomial().fit(donors, weights=donors["donors"])
        >>> model.conditional_expected_purchases(5, 6, 6, 6).round(3).tolist()
        [3.753]
        """
        (x, t_x, n), inverse, index = self._history(frequency, recency, n_periods)
        t = _opportunities(t)
        t_rows = np.broadcast_to(t, inverse.shape)
        # one evaluation per distinct (row, horizon)
        (xu, tu, nu, hu), _, inv2 = collapse_rows(
            [x[inverse], t_x[inverse], n[inverse], t_rows.astype(float)], np.ones(len(inverse))
        )
        value = self._expected(xu, tu, nu, hu)[inv2]
        return pd.Series(value, index=index, name="conditional_expected_purchases")

    def _expected(self, x, t_x, n, t):
        a, b, g, d = self.params_.to_numpy()
        log_first = (
            betaln(a + x + 1, b + n - x)
            - betaln(a, b)
            + np.log(d)
            + gammaln(g + d)
            - gammaln(1 + d)
            + gammaln(1 + d + n)
            - gammaln(g + d + n)
        )
        growth = _bracket(g, d, n, t)  # [1 - Gamma ratio at n+t / at n] / (gamma - 1)
        return (
            np.exp(log_first - _log_likelihood_rows(self.params_.to_numpy(), x, t_x, n)[0]) * growth
        )

    def expected_purchases(self, t):
        """Expected transactions of a new customer in their first ``t`` opportunities (eq. 9).

        E[X(t)] = alpha/(alpha+beta) delta/(gamma-1)
                  [1 - Gamma(gamma+delta) Gamma(1+delta+t) / (Gamma(gamma+delta+t) Gamma(1+delta))],

        FHS eq. (9): eq. (13) for ``x = t_x = n = 0``.

        Parameters
        ----------
        t : int, array-like of int, or Series
            Number of opportunities.

        Returns
        -------
        float, ndarray or Series (like ``t``)

        Examples
        --------
        >>> from churnlab.datasets import load_donations
        >>> donors = load_donations()
        >>> model = BetaGeoBetaBinomial().fit(donors, weights=donors["donors"])
        >>> round(model.expected_purchases(6), 3)
        2.22
        """
        check_is_fitted(self, "params_")
        values = _opportunities(t)
        zero = np.zeros(values.shape)
        out = self._expected(zero.ravel(), zero.ravel(), zero.ravel(), values.ravel().astype(float))
        return _like(t, out.reshape(values.shape), "expected_purchases")

    def probability_of_purchases(self, t, n):
        """P(X(t) = n): probability of ``n`` transactions in the first ``t`` opportunities.

        FHS eq. (7), with ``x`` for the count:

            P(X(t) = x) = C(t, x) B(alpha+x, beta+t-x)/B(alpha, beta)
                              B(gamma, delta+t)/B(gamma, delta)
                          + sum_{i=x}^{t-1} C(i, x) B(alpha+x, beta+i-x)/B(alpha, beta)
                                            B(gamma+1, delta+i)/B(gamma, delta),

        every term in log space.

        Parameters
        ----------
        t : int or array-like of int
            Number of opportunities.
        n : int or array-like of int
            Number of transactions (broadcast against ``t``); 0 when ``n > t``.

        Returns
        -------
        float, ndarray or Series (like ``n``, else like ``t``)

        Examples
        --------
        >>> from churnlab.datasets import load_donations
        >>> donors = load_donations()
        >>> model = BetaGeoBetaBinomial().fit(donors, weights=donors["donors"])
        >>> (model.probability_of_purchases(6, [0, 6]) * 11104).round(0).tolist()
        [3455.0, 1253.0]
        """
        check_is_fitted(self, "params_")
        t_arr = _opportunities(t, "t")
        n_arr = _opportunities(n, "n")
        t_arr, n_arr = np.broadcast_arrays(t_arr.astype(float), n_arr.astype(float))
        shape = t_arr.shape
        t_arr, n_arr = t_arr.ravel(), n_arr.ravel()
        a, b, g, d = self.params_.to_numpy()
        base = betaln(a, b) + betaln(g, d)
        possible = n_arr <= t_arr
        x = np.where(possible, n_arr, 0.0)
        log_choose = gammaln(t_arr + 1) - gammaln(x + 1) - gammaln(t_arr - x + 1)
        top = log_choose + betaln(a + x, b + t_arr - x) + betaln(g, d + t_arr) - base
        acc = np.ones(top.shape)
        i_max = int(t_arr.max()) if t_arr.size else 0
        for i in range(i_max):
            rows = possible & (i >= x) & (i < t_arr)
            if not rows.any():
                continue
            xr = x[rows]
            term = (
                gammaln(i + 1.0)
                - gammaln(xr + 1)
                - gammaln(i - xr + 1)
                + betaln(a + xr, b + i - xr)
                + betaln(g + 1, d + i)
                - base
            )
            new_top = np.maximum(top[rows], term)
            acc[rows] = acc[rows] * np.exp(top[rows] - new_top) + np.exp(term - new_top)
            top[rows] = new_top
        out = np.where(possible, np.exp(top) * acc, 0.0).reshape(shape)
        return _like(n if isinstance(n, pd.Series) else t, out, "probability")


def _log_likelihood_rows(params, x, t_x, n, gradient: bool = False):
    """Per-row ln L of FHS eq. (5) and (if asked) its derivatives in the four parameters.

    For a customer with history (x, t_x, n)

        L = B(alpha+x, beta+n-x)/B(alpha, beta) B(gamma, delta+n)/B(gamma, delta)
            + sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i)/B(alpha, beta)
                                  B(gamma+1, delta+t_x+i)/B(gamma, delta):

    alive through opportunity n, or alive at opportunity t_x + i and dead at the start of the
    next with no transaction in between. Every term is taken in log space and the sum is a
    streaming log-sum-exp over ``i`` (a loop over opportunities, not customers); each
    derivative is the softmax-weighted mean of the terms' digamma derivatives.
    """
    a, b, g, d = params
    base = betaln(a, b) + betaln(g, d)
    top = betaln(a + x, b + n - x) + betaln(g, d + n) - base  # "alive through n"
    acc = np.ones_like(top)  # sum over terms of exp(term - top)
    if gradient:
        # each term's derivatives without the constants of -ln B(alpha, beta) - ln B(gamma, delta)
        dg_ax = digamma(a + x)
        dg_abn = digamma(a + b + n)
        grads = [
            dg_ax - dg_abn,
            digamma(b + n - x) - dg_abn,
            -digamma(g + d + n),
            digamma(d + n) - digamma(g + d + n),
        ]
    remaining = n - t_x  # number of "dead after t_x + i" terms
    for i in range(int(remaining.max()) if remaining.size else 0):
        rows = np.flatnonzero(remaining > i)
        xr, tr = x[rows], t_x[rows]
        term = betaln(a + xr, b + tr - xr + i) + betaln(g + 1, d + tr + i) - base
        new_top = np.maximum(top[rows], term)
        scale = np.exp(top[rows] - new_top)
        e = np.exp(term - new_top)
        acc[rows] = acc[rows] * scale + e
        top[rows] = new_top
        if gradient:
            dg_abt = digamma(a + b + tr + i)
            dg_gdt = digamma(g + d + tr + i + 1)
            parts = (
                dg_ax[rows] - dg_abt,
                digamma(b + tr - xr + i) - dg_abt,
                1.0 / g - dg_gdt,  # psi(gamma+1) - psi(gamma) = 1/gamma
                digamma(d + tr + i) - dg_gdt,
            )
            for k in range(4):
                grads[k][rows] = grads[k][rows] * scale + e * parts[k]
    ll = top + np.log(acc)
    if not gradient:
        return ll, None
    const = (
        digamma(a + b) - digamma(a),
        digamma(a + b) - digamma(b),
        digamma(g + d),
        digamma(g + d) - digamma(d),
    )
    return ll, [grads[k] / acc + const[k] for k in range(4)]


def _bracket(g, d, n, t):
    """``[1 - Gamma(1+d+n+t) Gamma(g+d+n) / (Gamma(g+d+n+t) Gamma(1+d+n))] / (g - 1)``.

    ``D = ln[Gamma(1+d+n+t)/Gamma(1+d+n)] - ln[Gamma(g+d+n+t)/Gamma(g+d+n)]`` and the result
    is ``-expm1(D)/(g-1)``. Near ``g = 1`` both vanish; there ``D`` is summed term by term,
    ``D = sum_{j<t} ln1p((1-g)/(g+d+n+j))`` (``t`` is an integer), and divided by ``g - 1``
    analytically in the limit.
    """
    if abs(g - 1.0) >= NEAR_ONE:
        D = (gammaln(1 + d + n + t) - gammaln(1 + d + n)) - (
            gammaln(g + d + n + t) - gammaln(g + d + n)
        )
        return -np.expm1(D) / (g - 1.0)
    out = np.empty(np.shape(n))
    for value in np.unique(t):
        rows = t == value
        j = np.arange(int(value), dtype=float)[None, :]
        base = (g + d + n[rows])[:, None] + j
        if abs(g - 1.0) > 0:
            D = np.log1p((1 - g) / base).sum(axis=1)
            out[rows] = -np.expm1(D) / (g - 1.0)
        else:
            out[rows] = (1.0 / base).sum(axis=1)  # the limit: sum_j 1/(1+d+n+j)
    return out


def _opportunities(values, name: str = "t") -> np.ndarray:
    """Non-negative integer counts of opportunities as an int array."""
    array = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(array)) or np.any(array < 0) or np.any(array != np.round(array)):
        raise ValueError(f"{name} must hold non-negative integers (opportunities), got {values!r}")
    return array.astype(np.int64)


def _non_negative_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def _like(template, values: np.ndarray, name: str):
    """Return ``values`` shaped like ``template``: Series, float or ndarray."""
    if isinstance(template, pd.Series):
        return pd.Series(np.broadcast_to(values, len(template)), index=template.index, name=name)
    if np.ndim(values) == 0:
        return float(values)
    return np.asarray(values)
