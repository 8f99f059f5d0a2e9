"""The BG/NBD purchase model ("beta-geometric / negative binomial distribution").

While alive, a customer makes repeat purchases as a Poisson process with rate ``lambda``;
after every repeat purchase they drop out for good with probability ``p``. Across customers
``lambda ~ Gamma(r, alpha)`` (shape ``r``, rate ``alpha``) and ``p ~ Beta(a, b)``. A customer's
history is summarised by ``x`` (repeat purchases, ``frequency``), ``t_x`` (time of the last
one, ``recency``) and ``T`` (age at the end of observation), all in one time unit.

The code uses the paper's symbols; every formula names its equation in Fader, Hardie & Lee
(2005) or in Hardie's technical notes.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2008). Computing P(alive) using the BG/NBD model.
http://brucehardie.com/notes/021/

Hardie, B. G. S. Implementing the BG/NBD model for customer base analysis in Excel.
http://brucehardie.com/notes/004/
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betainc, betaln, digamma, expit, gammaln, hyp2f1, roots_jacobi
from sklearn.utils.validation import check_is_fitted

from churnlab.models._base import (
    LikelihoodModel,
    check_time_unit,
    collapse_rows,
    data_time_unit,
    read_columns,
    read_weights,
    time_argument,
    wsum,
)

#: Largest number of terms of the hypergeometric series summed before handing the remaining
#: (slowly converging) rows to :func:`scipy.special.hyp2f1`.
SERIES_MAX_TERMS = 2000

#: The series' convergence test runs every few terms (a few extra tiny terms cost less).
SERIES_CHECK_EVERY = 4

#: Rows of the series whose largest term exceeds the result by this factor (more than six
#: of sixteen digits lost to cancellation) are evaluated with :func:`scipy.special.hyp2f1`.
CANCELLATION_LIMIT = 1e6

#: Rows where ``q^(a-1)`` falls below ``exp(UNDERFLOW_LOG)`` (50 e-folds above the smallest
#: normal double) leave the series for :func:`scipy.special.hyp2f1`.
UNDERFLOW_LOG = float(np.log(np.finfo(float).tiny)) + 50

#: Below this |a - 1| the scipy forms, which divide by a - 1, give way to quadrature.
NEAR_ONE = 1e-4

#: Relative shift of the hypergeometric ``C`` around scipy's degenerate points.
DEGENERATE_STEP = 1e-6

#: Gauss-Jacobi nodes of the last-resort quadrature (``_expected_if_alive_quadrature``).
QUADRATURE_NODES = 400

_EPS = np.finfo(float).eps

#: Published BG/NBD estimates on the CDNOW sample (2,357 customers, 39 calibration weeks,
#: weekly time unit): Fader, Hardie & Lee (2005), "Counting your customers" the easy way,
#: *Marketing Science* 24(2), section 4.
CDNOW_BGNBD_PUBLISHED: dict[str, float] = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}

#: The maximised log-likelihood FHL (2005, section 4) report for those estimates.
CDNOW_BGNBD_PUBLISHED_LOG_LIKELIHOOD = -9582.4


@dataclass(frozen=True)
class _Prepared:
    """Per-row quantities of a fit that do not depend on the parameters."""

    x_values: np.ndarray  # distinct frequencies
    w_by_x: np.ndarray  # total weight of each distinct frequency
    T0: np.ndarray  # T of the rows with x = 0
    w0: np.ndarray
    x1: np.ndarray  # x, t_x, T of the rows with x > 0
    t_x1: np.ndarray
    T1: np.ndarray
    w1: np.ndarray
    x1_pos: np.ndarray  # position of each x > 0 row in x_values
    mean_T: float
    mean_x: float


def _expected_if_alive(r, alpha, a, b, x, T, t):
    """Expected purchases in ``(T, T+t]`` of a customer alive at ``T`` with ``x`` repeats.

    Equation (10) of FHL (2005) is ``E[Y(t) | x, t_x, T] = P(alive) * I`` with

        I = (a+b+x-1)/(a-1) [1 - q^(r+x) 2F1(r+x, b+x; C; z)],   C = a+b+x-1,

    ``q = (alpha+T)/(alpha+T+t)`` and ``z = t/(alpha+T+t) = 1 - q``; equation (9) is the case
    ``x = T = 0``. Euler's transformation ``2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C;
    z)`` turns ``q^(r+x) 2F1(r+x, b+x; C; z)`` into ``q^(a-1) 2F1(a+b-1-r, a-1; C; z)``: its
    parameters no longer grow with ``x`` and its terms shrink like ``1/(C)_k``, so nothing
    overflows for large ``x`` or ``T``. Writing ``(a-1)_k = (a-1) (a)_(k-1)`` removes the
    division by ``a - 1``, and ``(C)_k = C (C+1)_(k-1)`` the one by ``C``:

        I = C (-expm1((a-1) ln q) / (a-1))
            - q^(a-1) sum_{k>=1} (A)_k (a)_(k-1) z^k / ((C+1)_(k-1) k!),   A = a+b-1-r.

    The series is summed for all rows at once (a loop over terms, not customers). Rows it
    does not serve -- no convergence within :data:`SERIES_MAX_TERMS` terms (``z`` near 1,
    small ``C``), more than six digits lost to cancellation (``r`` far above ``a + b``), or
    ``q^(a-1)`` underflowing (large ``a``) -- go to ``_expected_if_alive_scipy``.
    """
    x, T, t = np.broadcast_arrays(np.asarray(x, float), np.asarray(T, float), np.asarray(t, float))
    shape = x.shape
    x, T, t = x.ravel(), T.ravel(), t.ravel()
    log_q = -np.log1p(t / (alpha + T))
    z = t / (alpha + T + t)
    C = a + b + x - 1
    A = a + b - 1 - r
    am1 = a - 1.0
    # -expm1((a-1) L)/(a-1) -> -L as a -> 1
    u = am1 * log_q
    if abs(am1) > 1e-12:
        first = -np.expm1(u) / am1
    else:
        first = -log_q * (1 + u / 2)
    first = C * first
    q_am1 = np.exp(u)

    total = A * z  # k = 1
    peak = np.abs(total)  # largest term: measures the cancellation when terms alternate
    # where q^(a-1) underflows (large a, t >> alpha + T) the series is not usable
    underflow = u < UNDERFLOW_LOG
    idx = np.flatnonzero((z > 0) & ~underflow)
    # compact copies of the rows still summing; written back when a row is done
    za, Ca, term = z[idx], C[idx], total[idx]
    tot, pk = term.copy(), peak[idx]
    reference = np.abs(first[idx]) / q_am1[idx]
    unfinished = np.zeros(z.shape, dtype=bool)
    k = 1
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        while idx.size:
            for _ in range(SERIES_CHECK_EVERY):
                # term_{k+1} / term_k = (A+k) (a+k-1) z / ((C+k) (k+1))
                ratio = ((A + k) * (a + k - 1) / (k + 1)) * za / (Ca + k)
                term *= ratio
                tot += term
                np.maximum(pk, np.abs(term), out=pk)
                k += 1
            rho = np.maximum(np.abs(ratio), za)
            # remaining tail <= |term| rho / (1 - rho) once the term ratio settles below 1
            tail = np.abs(term) * rho / np.maximum(1 - rho, _EPS)
            done = ((rho < 1) & (tail <= _EPS * (np.abs(tot) + reference))) | (term == 0)
            stop = k >= SERIES_MAX_TERMS or not np.all(np.isfinite(term))
            if stop or done.any():
                total[idx], peak[idx] = tot, pk
                if stop:
                    unfinished[idx[~done]] = True
                    break
                keep = ~done
                idx, za, Ca, term = idx[keep], za[keep], Ca[keep], term[keep]
                tot, pk, reference = tot[keep], pk[keep], reference[keep]
        I = first - q_am1 * total
        # A = a+b-1-r far below zero makes the first terms alternate in sign and cancel
        lost = np.maximum(np.abs(first), q_am1 * peak) > CANCELLATION_LIMIT * np.abs(I)
    redo = lost | underflow | unfinished | ~np.isfinite(I)
    if redo.any():
        I[redo] = _expected_if_alive_scipy(r, a, b, x[redo], log_q[redo], z[redo])
    return I.reshape(shape)


def _expected_if_alive_scipy(r, a, b, x, log_q, z):
    """``I`` of ``_expected_if_alive`` from :func:`scipy.special.hyp2f1`.

    For the few rows the series does not serve: ``z`` near 1 with small ``x`` (slow
    convergence), ``r`` far above ``a + b`` (cancellation) or large ``a`` (underflow). The
    original form ``1 - q^(r+x) 2F1(r+x, b+x; C; z)`` is used where it is finite (its terms
    are positive), the transformed form ``1 - q^(a-1) 2F1(a+b-1-r, a-1; C; z)`` elsewhere.
    scipy's ``hyp2f1`` can return infinity when ``C - A - B`` is an integer and ``z`` is
    near 1 (its transformation to ``1 - z`` has poles there); as ``2F1`` is analytic in
    ``C``, those rows use the mean of the values at ``C (1 +- DEGENERATE_STEP)``, exact to
    second order in the step.
    """
    C = a + b + x - 1
    am1 = a - 1.0
    if abs(am1) < NEAR_ONE:
        # both forms are 0/0 at a = 1: integrate instead
        return _expected_if_alive_quadrature(r, a, b, x, log_q)

    def original(c):
        return (1 - np.exp((r + x) * log_q) * hyp2f1(r + x, b + x, c, z)) / am1

    def transformed(c):
        return (1 - np.exp(am1 * log_q) * hyp2f1(a + b - 1 - r, am1, c, z)) / am1

    with np.errstate(over="ignore", invalid="ignore"):
        G = original(C)
        for candidate in (
            lambda: transformed(C),
            lambda: (original(C * (1 + DEGENERATE_STEP)) + original(C * (1 - DEGENERATE_STEP))) / 2,
            lambda: (
                (transformed(C * (1 + DEGENERATE_STEP)) + transformed(C * (1 - DEGENERATE_STEP)))
                / 2
            ),
        ):
            bad = ~np.isfinite(G)
            if not bad.any():
                break
            G = np.where(bad, candidate(), G)
        I = C * G
    bad = ~np.isfinite(I)
    if bad.any():
        I[bad] = _expected_if_alive_quadrature(r, a, b, x[bad], log_q[bad])
    return I


def _expected_if_alive_quadrature(r, a, b, x, log_q):
    """``I`` of ``_expected_if_alive`` as an integral over the dropout probability ``p``.

    Given that the customer is alive, ``lambda ~ Gamma(r+x, alpha+T)`` and ``p ~ Beta(a, b+x)``
    independently, and ``E[Y(t) | lambda, p] = (1 - exp(-lambda p t)) / p`` (FHL 2005, eq. 7),
    so the expectation of eq. (10) divided by P(alive) is

        I = E_p[(1 - (1 + p s)^-(r+x)) / p],   s = t / (alpha+T) = 1/q - 1,

    computed by Gauss-Jacobi quadrature with the Beta(a, b+x) weight (one rule per distinct
    ``x``). The last resort of ``_expected_if_alive_scipy`` for parameters where scipy fails.
    """
    s = np.expm1(-log_q)
    I = np.empty_like(s)
    for value in np.unique(x):
        rows = x == value
        # nodes u on [-1, 1] with weight (1-u)^(b+x-1) (1+u)^(a-1); p = (1 + u) / 2
        u, w = roots_jacobi(QUADRATURE_NODES, b + value - 1, a - 1)
        p = (1 + u) / 2
        ps = np.outer(s[rows], p)
        h = -np.expm1(-(r + value) * np.log1p(ps)) / p
        I[rows] = (h @ w) / w.sum()
    return I


class BetaGeo(LikelihoodModel):
    """BG/NBD model of repeat purchasing and dropout (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    initial_params : dict, optional
        Starting values for ``r, alpha, a, b``; defaults ``r = a = b = 1`` and ``alpha`` =
        the mean customer age.
    max_iter : int
        Maximum number of optimizer iterations.
    tol : float
        Convergence tolerance (see :class:`churnlab.models._base.LikelihoodModel`).

    Attributes
    ----------
    params_ : Series
        ``r, alpha, a, b`` (``alpha`` in the time unit of the data).
    log_likelihood_ : float
        The full log-likelihood of equation (6) summed over customers (FHL report
        :data:`CDNOW_BGNBD_PUBLISHED_LOG_LIKELIHOOD` on the CDNOW sample).
    converged_, n_iter_, optimizer_message_ : bool, int, str
        Convergence record of the optimizer.
    n_customers_, n_unique_ : float, int
        Customers fitted (sum of weights) and distinct (x, t_x, T) rows after collapsing.
    time_unit_ : str or None
        ``attrs["time_unit"]`` of the fitted data when recorded (as by
        :func:`churnlab.rfm_summary`); predictions refuse data recorded in another unit.
    log_params_covariance_ : DataFrame
        Covariance of the log-parameters (inverse of minus the Hessian).
    summary : DataFrame
        ``estimate, std_err, ci_lower, ci_upper``.

    Examples
    --------
    >>> from churnlab.datasets import load_cdnow_summary
    >>> model = BetaGeo().fit(load_cdnow_summary())
    >>> model.params_.round(3).tolist()
    [0.243, 4.414, 0.793, 2.426]
    >>> round(model.log_likelihood_, 1)
    -9582.4
    """

    _param_names = ("r", "alpha", "a", "b")
    _columns = ("frequency", "recency", "T")

    def fit(self, frequency, recency=None, T=None, *, weights=None):
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency : DataFrame or array-like
            An RFM DataFrame with columns ``frequency``, ``recency``, ``T`` (e.g. from
            :func:`churnlab.rfm_summary`), or the repeat-purchase counts ``x``.
        recency, T : array-like, optional
            ``t_x`` and ``T`` when ``frequency`` is not a DataFrame.
        weights : array-like, optional
            Number of customers each row stands for (default 1).

        Returns
        -------
        self
        """
        columns, _ = read_columns(self._columns, frequency, {"recency": recency, "T": T})
        w = read_weights(weights, len(columns["frequency"]))
        return self._fit_columns(columns, w, time_unit=data_time_unit(frequency))

    # -- likelihood ----------------------------------------------------------------------
    def _prepare(self, columns, weights) -> _Prepared:
        x, t_x, T = columns["frequency"], columns["recency"], columns["T"]
        x_values, pos = np.unique(x, return_inverse=True)
        w_by_x = np.bincount(pos, weights=weights, minlength=len(x_values))
        zero = x == 0
        total = weights.sum()
        return _Prepared(
            x_values=x_values,
            w_by_x=w_by_x,
            T0=T[zero],
            w0=weights[zero],
            x1=x[~zero],
            t_x1=t_x[~zero],
            T1=T[~zero],
            w1=weights[~zero],
            x1_pos=pos[~zero],
            mean_T=wsum(weights, T) / total,
            mean_x=wsum(weights, x) / total,
        )

    def _initial_params(self, prep: _Prepared) -> np.ndarray:
        return np.array([1.0, max(prep.mean_T, 1e-6), 1.0, 1.0])

    def _loglik(self, params, prep: _Prepared, gradient: bool = True):
        """Log-likelihood of equation (6) of FHL (2005) and its gradient in (r, alpha, a, b).

        For a customer with history (x, t_x, T)

            A1 = ln G(r+x) - ln G(r) + r ln(alpha)
            A2 = ln G(a+b) + ln G(b+x) - ln G(b) - ln G(a+b+x)
            A3 = -(r+x) ln(alpha+T)
            A4 = ln(a) - ln(b+x-1) - (r+x) ln(alpha+t_x)        (only when x > 0)
            ln L = A1 + A2 + ln(exp(A3) + [x > 0] exp(A4))

        (Hardie's note 004, section 7). A1 and A2 depend on x alone and are evaluated once per
        distinct frequency; A3 and A4 per row.
        """
        r, alpha, a, b = params
        xv, wx = prep.x_values, prep.w_by_x
        log_alpha = np.log(alpha)
        # A1 + A2 on the distinct frequencies (constants computed once)
        gl_r, gl_ab, gl_b = gammaln(r), gammaln(a + b), gammaln(b)
        A1 = gammaln(r + xv) - gl_r + r * log_alpha
        A2 = gl_ab + gammaln(b + xv) - gl_b - gammaln(a + b + xv)
        ll = wsum(wx, A1 + A2)
        # x = 0: ln L = A1 + A2 + A3
        log_aT0 = np.log(alpha + prep.T0)
        ll -= r * wsum(prep.w0, log_aT0)
        # x > 0: ln L = A1 + A2 + logaddexp(A3, A4)
        rx = r + prep.x1
        log_aT1 = np.log(alpha + prep.T1)
        log_atx1 = np.log(alpha + prep.t_x1)
        log_bx1 = np.log(b + np.maximum(xv, 1) - 1)[prep.x1_pos]
        A3 = -rx * log_aT1
        A4 = np.log(a) - log_bx1 - rx * log_atx1
        # logaddexp(A3, A4) = max(A3, A4) + log1p(exp(-|A4 - A3|)), sharing exp(-|d|) with the
        # weight p4 = exp(A4) / (exp(A3) + exp(A4)) of the "dropped out at t_x" branch.
        d = A4 - A3
        e = np.exp(-np.abs(d))
        s = np.maximum(A3, A4) + np.log1p(e)
        ll += wsum(prep.w1, s)
        if not gradient:
            return float(ll), None
        p4 = np.where(d > 0, 1.0, e) / (1.0 + e)
        p3 = 1.0 - p4
        w1p4 = prep.w1 * p4
        dg_ab = digamma(a + b)
        d_r = wsum(wx, digamma(r + xv) - digamma(r) + log_alpha)
        d_r -= wsum(prep.w0, log_aT0) + wsum(prep.w1, p3 * log_aT1 + p4 * log_atx1)
        d_alpha = r * wx.sum() / alpha
        d_alpha -= r * wsum(prep.w0, 1.0 / (alpha + prep.T0))
        d_alpha -= wsum(prep.w1 * rx, p3 / (alpha + prep.T1) + p4 / (alpha + prep.t_x1))
        dg_abx = digamma(a + b + xv)
        d_a = wsum(wx, dg_ab - dg_abx) + w1p4.sum() / a
        d_b = wsum(wx, dg_ab + digamma(b + xv) - digamma(b) - dg_abx)
        d_b -= wsum(w1p4, np.exp(-log_bx1))
        return float(ll), np.array([d_r, d_alpha, d_a, d_b])

    # -- predictions ---------------------------------------------------------------------
    def _history(self, frequency, recency, T):
        check_is_fitted(self, "params_")
        check_time_unit(self, frequency)
        columns, index = read_columns(self._columns, frequency, {"recency": recency, "T": T})
        return columns["frequency"], columns["recency"], columns["T"], index

    def _log_odds_dropped(self, x, t_x, T):
        """``D = ln[a/(b+x-1)] + (r+x) ln[(alpha+T)/(alpha+t_x)]``, minus infinity when x = 0."""
        r, alpha, a, b = self.params_.to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            D = (
                np.log(a)
                - np.log(b + np.maximum(x, 1) - 1)
                + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
            )
        return np.where(x > 0, D, -np.inf)

    def probability_alive(self, frequency, recency=None, T=None) -> pd.Series:
        """P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

        Fader, Hardie & Lee (2008), "Computing P(alive) using the BG/NBD model"; its inverse is
        the denominator of equation (10) of FHL (2005). Evaluated as a logistic function of the
        log-odds, so it neither overflows nor loses precision.

        Returns
        -------
        Series
            Named ``probability_alive``, indexed like the input.

        Examples
        --------
        >>> from churnlab.datasets import load_cdnow_summary
        >>> data = load_cdnow_summary()
        >>> model = BetaGeo().fit(data)
        >>> model.probability_alive(data).head(3).round(3).tolist()
        [0.727, 0.212, 1.0]
        """
        x, t_x, T, index = self._history(frequency, recency, T)
        return pd.Series(
            expit(-self._log_odds_dropped(x, t_x, T)), index=index, name="probability_alive"
        )

    def conditional_expected_purchases(self, t, frequency, recency=None, T=None) -> pd.Series:
        """Expected repeat purchases in the next ``t`` periods given the history (eq. 10).

        E[Y(t) | x, t_x, T] = (a+b+x-1)/(a-1) [1 - q^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]
        / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)),

        with ``q = (alpha+T)/(alpha+T+t)`` and ``z = t/(alpha+T+t)``; equation (10) of FHL
        (2005). The hypergeometric bracket is evaluated stably (see ``_expected_if_alive``), so
        the result stays accurate for frequencies and ages in the tens of thousands.

        Parameters
        ----------
        t : float or array-like
            Horizon in the time unit of the data (an array broadcasts against customers).
        frequency, recency, T
            An RFM DataFrame, or the columns as arrays / Series.

        Returns
        -------
        Series
            Named ``expected_purchases``, indexed like the input.

        Examples
        --------
        >>> from churnlab.datasets import load_cdnow_summary
        >>> model = BetaGeo().fit(load_cdnow_summary())
        >>> model.conditional_expected_purchases(39, 2, 30.43, 38.86).round(3).tolist()
        [1.226]
        """
        return self._conditional_expected(t, frequency, recency, T, given_alive=False)

    def conditional_expected_purchases_if_alive(
        self, t, frequency, recency=None, T=None
    ) -> pd.Series:
        """Expected repeat purchases in the next ``t`` periods of a customer still active.

        The bracket of equation (10) of FHL (2005) without the P(alive) factor:

            E[Y(t) | alive at T, x, T] = (a+b+x-1)/(a-1) [1 - q^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]

        so that ``conditional_expected_purchases = probability_alive *`` this. It is what a
        customer won back (known to be active again) is expected to buy; it depends on ``x``
        and ``T`` only (recency is still checked). Computed directly, not as a ratio, so it
        stays finite where P(alive) underflows to 0.

        Returns
        -------
        Series
            Named ``expected_purchases_if_alive``, indexed like the input.

        Examples
        --------
        >>> from churnlab.datasets import load_cdnow_summary
        >>> model = BetaGeo().fit(load_cdnow_summary())
        >>> if_alive = model.conditional_expected_purchases_if_alive(39, 2, 30.43, 38.86)
        >>> alive = model.probability_alive(2, 30.43, 38.86)
        >>> round(float(if_alive.iloc[0] * alive.iloc[0]), 3)
        1.226
        """
        return self._conditional_expected(t, frequency, recency, T, given_alive=True)

    def _conditional_expected(self, t, frequency, recency, T, *, given_alive: bool) -> pd.Series:
        x, t_x, T, index = self._history(frequency, recency, T)
        t = time_argument(t)
        r, alpha, a, b = self.params_.to_numpy()
        t = np.broadcast_to(t, x.shape)
        # the expectation if alive depends on (x, T, t) only: evaluate each distinct triple once
        (xu, Tu, tu), _, inverse = collapse_rows([x, T, t], np.ones(len(x)))
        value = _expected_if_alive(r, alpha, a, b, xu, Tu, tu)[inverse]
        if given_alive:
            return pd.Series(value, index=index, name="expected_purchases_if_alive")
        value = value * expit(-self._log_odds_dropped(x, t_x, T))
        return pd.Series(value, index=index, name="expected_purchases")

    def expected_purchases(self, t):
        """Unconditional expected repeat purchases E[X(t)] of a new customer (eq. 9).

        E[X(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))],
        equation (9) of FHL (2005), evaluated like equation (10) with x = T = 0.

        Parameters
        ----------
        t : float, array-like or Series
            Time since the first purchase, in the data's time unit.

        Returns
        -------
        float, ndarray or Series (like ``t``)

        Examples
        --------
        >>> from churnlab.datasets import load_cdnow_summary
        >>> model = BetaGeo().fit(load_cdnow_summary())
        >>> model.expected_purchases([39.0, 78.0]).round(3).tolist()
        [1.195, 1.858]
        """
        check_is_fitted(self, "params_")
        values = time_argument(t)
        r, alpha, a, b = self.params_.to_numpy()
        out = _expected_if_alive(r, alpha, a, b, 0.0, 0.0, values)
        return _like(t, out, "expected_purchases")

    def probability_of_purchases(self, t, n):
        """P(X(t) = n): probability of ``n`` repeat purchases in ``(0, t]`` (eq. 8).

        P(X(t) = n) = B(a, b+n)/B(a, b) Gamma(r+n)/(Gamma(r) n!) (alpha/(alpha+t))^r
        (t/(alpha+t))^n + [n > 0] B(a+1, b+n-1)/B(a, b) [1 - (alpha/(alpha+t))^r
        sum_{j<n} Gamma(r+j)/(Gamma(r) j!) (t/(alpha+t))^j],

        equation (8) of FHL (2005). The first term is computed in log space; the bracket of
        the second is the upper tail of a negative binomial, evaluated as the regularised
        incomplete beta function ``I_z(n, r)`` with ``z = t/(alpha+t)``.

        Parameters
        ----------
        t : float or array-like
            Length of the period in the data's time unit.
        n : int or array-like of int
            Number of repeat purchases (broadcast against ``t``).

        Returns
        -------
        float, ndarray or Series (like ``n``, else like ``t``)

        Examples
        --------
        >>> from churnlab.datasets import load_cdnow_summary
        >>> model = BetaGeo().fit(load_cdnow_summary())
        >>> model.probability_of_purchases(39.0, [0, 1, 2]).round(3).tolist()
        [0.574, 0.199, 0.085]
        """
        check_is_fitted(self, "params_")
        t_arr = time_argument(t)
        n_arr = np.asarray(n, dtype=float)
        if not np.all(np.isfinite(n_arr)) or np.any(n_arr < 0) or np.any(n_arr != np.round(n_arr)):
            raise ValueError(f"n must hold non-negative integers, got {n!r}")
        r, alpha, a, b = self.params_.to_numpy()
        t_arr, n_arr = np.broadcast_arrays(t_arr, n_arr)
        log_p0 = np.log(alpha) - np.log(alpha + t_arr)  # ln(alpha/(alpha+t))
        with np.errstate(divide="ignore"):
            log_z = np.log(t_arr) - np.log(alpha + t_arr)  # -inf at t = 0, used when n > 0
        log_first = (
            betaln(a, b + n_arr)
            - betaln(a, b)
            + gammaln(r + n_arr)
            - gammaln(r)
            - gammaln(n_arr + 1)
            + r * log_p0
            + np.where(n_arr > 0, n_arr * np.where(n_arr > 0, log_z, 0.0), 0.0)
        )
        z = t_arr / (alpha + t_arr)
        tail = betainc(np.maximum(n_arr, 1), r, z)
        second = np.where(
            n_arr > 0,
            np.exp(betaln(a + 1, b + np.maximum(n_arr, 1) - 1) - betaln(a, b)) * tail,
            0.0,
        )
        out = np.exp(log_first) + second
        return _like(n if isinstance(n, pd.Series) else t, out, "probability")


def _like(template, values: np.ndarray, name: str):
    """Return ``values`` shaped like ``template``: Series, float or ndarray."""
    if isinstance(template, pd.Series):
        return pd.Series(np.broadcast_to(values, len(template)), index=template.index, name=name)
    if np.ndim(values) == 0:
        return float(values)
    return np.asarray(values)
