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
from scipy.special import betainc, digamma, expit, gammaln, polygamma

from churnlab._estimator import check_is_fitted
from churnlab.models._base import (
    LikelihoodModel,
    blockwise,
    check_time_unit,
    collapse_rows,
    data_time_unit,
    read_columns,
    read_weights,
    time_argument,
    wsum,
)

#: Largest number of terms of the hypergeometric series summed before handing the remaining
#: (slowly converging) rows to the quadrature ``_expected_if_alive_quadrature``.
SERIES_MAX_TERMS = 2000

#: The series' convergence test runs every few terms (a few extra tiny terms cost less).
SERIES_CHECK_EVERY = 4

#: Rows of the series whose largest term exceeds the result by this factor (more than six
#: of sixteen digits lost to cancellation) are evaluated by quadrature.
CANCELLATION_LIMIT = 1e6

#: Rows where ``q^(a-1)`` falls below ``exp(UNDERFLOW_LOG)`` (50 e-folds above the smallest
#: normal double) leave the series for the quadrature.
UNDERFLOW_LOG = float(np.log(np.finfo(float).tiny)) + 50

#: Gauss-Legendre rule of each panel of the quadrature (16 nodes: exact for polynomials of
#: degree 31).
GL_NODES, GL_WEIGHTS = np.polynomial.legendre.leggauss(16)

#: The quadrature integrates the bulk of the dropout distribution within this many standard
#: deviations of its mode (on the logit scale) when log-concavity bounds the mass beyond by
#: :data:`TAIL_MASS` (relative), and over the whole unit interval otherwise.
TRUNCATE_SIGMAS = 40.0
TAIL_MASS = 1e-30

#: Dropout probabilities below ``EDGE`` / (1 + (r+x+1) s) and above 1 - ``EDGE`` are integrated
#: in closed form (the integrand is constant there to within ``EDGE``).
EDGE = 1e-17

#: Largest number of quadrature nodes evaluated at once (bounds the memory of large inputs).
QUADRATURE_CHUNK = 2_000_000

_EPS = np.finfo(float).eps

#: Published BG/NBD estimates on the CDNOW sample (2,357 customers, 39 calibration weeks,
#: weekly time unit): Fader, Hardie & Lee (2005), "Counting your customers" the easy way,
#: *Marketing Science* 24(2), section 4.
CDNOW_BGNBD_PUBLISHED: dict[str, float] = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}

#: Rows of repeat buyers evaluated together in the likelihood: 32,768 rows keep the dozen
#: temporaries of a block (256 KiB each) in the processor's cache, about twice as fast as
#: whole-column arrays at 300,000 rows.
ROW_BLOCK = 2**15

#: The maximised log-likelihood FHL (2005, section 4) report for those estimates.
CDNOW_BGNBD_PUBLISHED_LOG_LIKELIHOOD = -9582.4


@dataclass(frozen=True)
class _Prepared:
    """Per-row quantities of a fit that do not depend on the parameters.

    Ages take few distinct values (a daily grid over a few years has hundreds): ``ln(alpha +
    T)`` and ``1 / (alpha + T)`` are evaluated on the distinct values and gathered by code, and
    the rows without repeat purchases enter only through the total weight at each age.
    """

    x_values: np.ndarray  # distinct frequencies
    w_by_x: np.ndarray  # total weight of each distinct frequency
    ages: np.ndarray  # distinct values of T and of t_x (rows with x > 0)
    w0_by_age: np.ndarray  # total weight of the x = 0 rows at each age T
    x1: np.ndarray  # x of the rows with x > 0
    t_x1_code: np.ndarray  # position of their t_x and T in ``ages``
    T1_code: np.ndarray
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
    ``q^(a-1)`` underflowing (large ``a``) -- go to ``_expected_if_alive_quadrature``, which
    holds for every positive parameter.
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
    redo = lost | underflow | unfinished | ~np.isfinite(I) | (I < 0)
    if redo.any():
        s = np.expm1(-log_q[redo])  # t / (alpha + T)
        I[redo] = _expected_if_alive_quadrature(r, a, b, x[redo], s)
    return I.reshape(shape)


def _log_density_drop(d, a, beta, log_pstar, log_qstar, pstar):
    """``f(u* + d) - f(u*)`` for the density ``f`` of ``u = logit(p)``, ``p ~ Beta(a, beta)``.

    ``f(u) = a u - (a+beta) ln(1 + e^u) + const`` is concave with its mode at ``u* =
    ln(a/beta)``; with ``p* = a/(a+beta)`` the drop is ``a d - (a+beta) ln(1 + p*(e^d - 1))``,
    written so that nothing cancels for large ``a + beta``: ``log1p`` while ``p*(e^d - 1)`` is
    above -1/2, ``ln(q* + p* e^d)`` (``q* = 1 - p*``) below.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        m = pstar * np.expm1(d)
        near = m > -0.5
        log_ratio = np.where(
            near, np.log1p(np.where(near, m, 0.0)), np.logaddexp(log_qstar, log_pstar + d)
        )
        drop = a * d - (a + beta) * log_ratio
    return np.where(np.isnan(drop), -np.inf, drop)


def _edge_series(a, beta, eps, terms: int = 8):
    """``2F1(a, 1-beta; a+1; eps) = sum_k a/(a+k) C(beta-1, k) (-eps)^k`` for ``beta eps <= 1e-3``.

    ``eps^a / a`` times it is the incomplete beta integral ``int_0^eps p^(a-1) (1-p)^(beta-1)
    dp``; eight terms reach double precision when ``(beta + 1) eps <= 1e-3``.
    """
    total = np.ones_like(eps)
    term = np.ones_like(eps)
    for k in range(1, terms):
        term = term * (beta - k) / k * (-eps)
        total = total + a / (a + k) * term
    return total


def _expected_if_alive_quadrature(r, a, b, x, s):
    """``I`` of ``_expected_if_alive`` as an integral over the dropout probability ``p``.

    Given that the customer is alive, ``lambda ~ Gamma(r+x, alpha+T)`` and ``p ~ Beta(a, b+x)``
    independently, and ``E[Y(t) | lambda, p] = (1 - exp(-lambda p t)) / p`` (FHL 2005, eq. 7),
    so the bracket of eq. (10) is

        I = E_p[g(p)],   g(p) = (1 - (1 + p s)^-(r+x)) / p,   s = t / (alpha + T),

    an expectation of a bounded function (``0 < g <= (r+x) s``) that is finite for every
    positive parameter. It is integrated on the logit scale ``u = ln(p/(1-p))``, where the
    Beta density is log-concave with its mode at ``ln(a/(b+x))``:

    * near ``p = 0`` (below ``eps`` = :data:`EDGE` / (1 + (r+x+1) s)) ``g`` equals ``(r+x) s``
      to within :data:`EDGE`, near ``p = 1`` it equals ``g(1)``; those two edges are
      integrated in closed form (incomplete beta functions, ``_edge_series``), which is what
      keeps tiny ``a`` or ``b`` (nearly all mass at an edge) exact;
    * the rest is cut into panels at geometric distances from the mode (in standard
      deviations and in absolute units) and around the points where ``g`` turns (``p s``
      and ``(r+x) p s`` near 1), each integrated by 16-point Gauss-Legendre;
    * the density is used relative to its mode and normalised by its own integral, so no
      beta function of large arguments (whose logarithm loses digits) enters.

    Vectorised over rows (the panels of all rows are evaluated together, in chunks of
    :data:`QUADRATURE_CHUNK` nodes). The rows of ``_expected_if_alive`` that its series does
    not serve come here (large ``a`` or ``b``, ``z`` near 1, cancellation); results agree
    with 30-digit mpmath integration to about 1e-11 over ``a, b`` in [1e-3, 1e6], ``r`` in
    [1e-3, 1e4], ``x`` up to 10,000 (tests/models/test_properties.py).
    """
    x = np.asarray(x, dtype=float)
    s = np.asarray(s, dtype=float)
    n, beta = r + x, b + x
    log_a, log_beta = np.log(a), np.log(beta)
    # ln p* = -ln(1 + beta/a) and ln q* = -ln(1 + a/beta), without the cancellation of
    # ln a - ln(a + beta) (beta ln q* must stay exact when beta is large)
    log_pstar = -np.logaddexp(0.0, log_beta - log_a)
    log_qstar = -np.logaddexp(0.0, log_a - log_beta)
    pstar = np.exp(log_pstar)
    mode = log_a - log_beta
    sigma = np.sqrt(1.0 / a + 1.0 / beta)  # minus the inverse curvature at the mode
    log_peak = a * log_pstar + beta * log_qstar  # ln of p^a (1-p)^beta at the mode
    ns = n * s
    # the two edges in closed form, relative to the density at the mode
    eps_lo = np.minimum(EDGE / (1.0 + (n + 1.0) * s), 1e-3 / (beta + 1.0))
    eps_hi = np.minimum(EDGE, 1e-3 / (a + 1.0))
    with np.errstate(over="ignore"):
        mass_lo = np.exp(
            a * np.log(eps_lo) - log_a + np.log(_edge_series(a, beta, eps_lo)) - log_peak
        )
        mass_hi = np.exp(
            beta * np.log(eps_hi) - log_beta + np.log(_edge_series(beta, a, eps_hi)) - log_peak
        )
    lo = np.log(eps_lo) - np.log1p(-eps_lo)
    hi = np.log1p(-eps_hi) - np.log(eps_hi) + np.zeros_like(lo)
    # where log-concavity bounds the mass beyond TRUNCATE_SIGMAS standard deviations (density
    # there over the slope), the bulk ends there
    curvature = np.exp(log_a + log_qstar)  # a beta / (a + beta)
    for side in (-1.0, 1.0):
        d = side * TRUNCATE_SIGMAS * sigma
        drop = _log_density_drop(d, a, beta, log_pstar, log_qstar, pstar)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            slope = curvature * np.abs(np.expm1(d)) / (np.exp(log_qstar) + pstar * np.exp(d))
            negligible = (drop < -200) & (
                np.exp(drop) / slope <= TAIL_MASS * np.minimum(sigma, 1.0)
            )
        if side < 0:
            lo = np.where(negligible, np.maximum(lo, mode + d), lo)
        else:
            hi = np.where(negligible, np.minimum(hi, mode + d), hi)
    # panel boundaries: geometric around the mode (in sigmas and in absolute units) and around
    # the turns of g at p s = 1 and (r+x) p s = 1
    rows = len(x)
    reach = int(np.clip(np.ceil(np.log2(np.max((hi - lo) / sigma))), -2, 60))
    by_sigma = sigma[:, None] * 2.0 ** np.arange(-2, reach + 1)
    absolute = np.broadcast_to(2.0 ** np.arange(-1, 8), (rows, 9))
    points = [lo[:, None], hi[:, None]]
    for step in (by_sigma, absolute):
        points += [mode[:, None] + step, mode[:, None] - step]
    around = 2.0 ** np.arange(-1, 6)
    with np.errstate(divide="ignore"):
        for turn in (-np.log(ns), -np.log(s)):
            turn = np.where(np.isfinite(turn), turn, lo)[:, None]
            points += [turn, turn + around, turn - around]
    bounds = np.concatenate([np.broadcast_to(p, (rows, p.shape[1])) for p in points], axis=1)
    bounds = np.sort(np.clip(bounds, lo[:, None], hi[:, None]), axis=1)
    width = np.diff(bounds, axis=1)
    row, panel = np.nonzero(width > 0)
    left, width = bounds[row, panel], width[row, panel]
    mass = np.zeros(rows)
    total = np.zeros(rows)
    per_chunk = max(1, QUADRATURE_CHUNK // len(GL_NODES))
    for start in range(0, len(row), per_chunk):
        part = slice(start, start + per_chunk)
        i = row[part]
        u = left[part, None] + width[part, None] * (GL_NODES + 1) / 2
        drop = _log_density_drop(
            u - mode[i, None],
            a,
            beta[i, None],
            log_pstar[i, None],
            log_qstar[i, None],
            pstar[i, None],
        )
        weight = width[part, None] / 2 * GL_WEIGHTS * np.exp(drop)
        p = expit(u)
        g = -np.expm1(-n[i, None] * np.log1p(p * s[i, None])) / p
        mass += np.bincount(i, weights=weight.sum(axis=1), minlength=rows)
        total += np.bincount(i, weights=(weight * g).sum(axis=1), minlength=rows)
    g_one = -np.expm1(-n * np.log1p(s))
    return (ns * mass_lo + total + g_one * mass_hi) / (mass_lo + mass + mass_hi)


def _repeat_buyer_branches(r, a, prep, block, log_age, log_bxv):
    """The two branches of the repeat buyers in ``block``, shared by the likelihood and Hessian.

    For each row, ``A3 = -(r+x) ln(alpha+T)`` (alive at T) and ``A4 = ln a - ln(b+x-1) -
    (r+x) ln(alpha+t_x)`` (dropped out after the last purchase) enter as ``ln(e^A3 + e^A4)``.
    Returns the block's weights, codes of T and t_x in the table of ages, ``r+x``,
    ``ln(alpha+T)``, ``gap = ln(alpha+T) - ln(alpha+t_x) >= 0``, ``d = A4 - A3``,
    ``e = exp(-|d|)`` and ``p4 = e^A4 / (e^A3 + e^A4)``: ``1/(1+e)`` where A4 is the larger
    term and ``e/(1+e)`` where A3 is.
    """
    w1 = prep.w1[block]
    T_code, t_x_code = prep.T1_code[block], prep.t_x1_code[block]
    rx = r + prep.x1[block]
    log_aT = log_age.take(T_code)
    gap = log_aT - log_age.take(t_x_code)
    d = (np.log(a) - log_bxv.take(prep.x1_pos[block])) + rx * gap
    e = np.exp(-np.abs(d))
    larger = 1.0 / (1.0 + e)
    smaller = e * larger
    p4 = smaller + (d > 0) * (larger - smaller)
    return w1, T_code, t_x_code, rx, log_aT, gap, d, e, p4


def _repeat_buyer_terms(r, a, prep, block, log_age, inv_age, log_bxv, *, gradient):
    """Sums over the repeat buyers in ``block`` for :meth:`BetaGeo._loglik`.

    Returns ``[sum w ln(e^A3 + e^A4), sum w d/dr, sum w d/dalpha, sum w p4, sum w p4/(b+x-1)]``
    of the ``logaddexp(A3, A4)`` terms (zeros for the gradient's parts when ``gradient`` is
    False), with the branches of :func:`_repeat_buyer_branches`.
    """
    w1, T_code, t_x_code, rx, log_aT, gap, d, e, p4 = _repeat_buyer_branches(
        r, a, prep, block, log_age, log_bxv
    )
    out = np.zeros(5)
    # logaddexp(A3, A4) = A3 + max(d, 0) + log1p(exp(-|d|))
    out[0] = wsum(w1, -rx * log_aT + np.maximum(d, 0.0) + np.log1p(e))
    if not gradient:
        return out
    w1p4 = w1 * p4
    inv_aT = inv_age.take(T_code)
    out[1] = wsum(w1, log_aT) - wsum(w1p4, gap)  # -d/dr: ln(alpha+T) - p4 gap
    out[2] = wsum(w1 * rx, inv_aT) + wsum(w1p4 * rx, inv_age.take(t_x_code) - inv_aT)
    out[3] = w1p4.sum()
    out[4] = wsum(w1p4, np.exp(-log_bxv).take(prep.x1_pos[block]))
    return out


def _repeat_buyer_hessian(r, a, prep, block, log_age, inv_age, log_bxv) -> np.ndarray:
    """The repeat buyers' part of :meth:`BetaGeo._hessian` over the rows in ``block``.

    With ``s = ln(e^A3 + e^A4)``, ``p4 = e^A4 / (e^A3 + e^A4)`` and ``p3 = 1 - p4``, the
    Hessian of ``s`` is ``p3 H(A3) + p4 H(A4) + p3 p4 D D'``, ``D`` the difference of the
    gradients of ``A4`` and ``A3`` in ``(r, alpha, a, b)``:

        D = (ln(alpha+T) - ln(alpha+t_x), (r+x) (1/(alpha+T) - 1/(alpha+t_x)), 1/a, -1/(b+x-1)).

    Returns the weighted sum over the rows as a 4 x 4 matrix.
    """
    w1, T_code, t_x_code, rx, _, gap, _, _, p4 = _repeat_buyer_branches(
        r, a, prep, block, log_age, log_bxv
    )
    inv_aT, inv_atx = inv_age.take(T_code), inv_age.take(t_x_code)
    p3 = 1.0 - p4
    inv_bx = np.exp(-log_bxv).take(prep.x1_pos[block])
    H = np.zeros((4, 4))
    # p3 H(A3) + p4 H(A4)
    H[0, 1] = H[1, 0] = -wsum(w1, p3 * inv_aT + p4 * inv_atx)
    H[1, 1] = wsum(w1 * rx, p3 * inv_aT**2 + p4 * inv_atx**2)
    w1p4 = w1 * p4
    H[2, 2] = -w1p4.sum() / a**2
    H[3, 3] = wsum(w1p4, inv_bx**2)
    # p3 p4 D D'
    D = np.stack([gap, rx * (inv_aT - inv_atx), np.full(len(rx), 1.0 / a), -inv_bx])
    H += np.einsum("ik,k,jk->ij", D, w1 * p3 * p4, D)
    return H


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
        Convergence record of the optimizer. ``converged_`` is always True on a fitted model:
        a fit that does not converge raises :class:`~churnlab.models.ConvergenceError`, and
        one whose estimate is no proper maximum (parameters running to the optimizer's
        bounds, a Hessian that is not negative definite) raises a ValueError saying what the
        data lack.
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

    _identification_hint = (
        "The BG/NBD needs customers who differ: repeat buyers and customers without repeat "
        "purchases, observed for some time (T > 0), some of them silent since their last "
        "purchase (recency < T)."
    )

    def _flat_meaning(self, direction, params) -> str:
        """Name the ratio that is identified when a pair of parameters grows together."""
        r, alpha, a, b = params
        share = direction**2
        together = {
            ("r", "alpha"): f"; the mean purchase rate r/alpha = {r / alpha:.4g} is identified, "
            "its spread between customers is not",
            ("a", "b"): f"; the mean dropout probability a/(a+b) = {a / (a + b):.4g} is "
            "identified, its spread between customers is not",
        }
        for (i, j), meaning in zip(((0, 1), (2, 3)), together.values(), strict=True):
            if share[i] + share[j] > 0.9 and direction[i] * direction[j] > 0:
                return meaning
        return ""

    def _check_identifiable(self, columns, weights) -> None:
        """Refuse data without the information the four parameters rest on.

        The purchase rate (``r``, ``alpha``) is seen only in time observed (``T > 0``) and in
        repeat purchases (``x > 0``); the heterogeneity that the four parameters describe
        needs more than one distinct history. What such data lack is said in the error; a
        fit on data that pass these checks but still leave the likelihood without a proper
        maximum is refused after the optimisation (see
        :meth:`~churnlab.models._base.LikelihoodModel._covariance`).
        """
        x, T = columns["frequency"], columns["T"]
        n = float(weights.sum())
        if np.all(T == 0):
            raise ValueError(
                f"BetaGeo: column 'T' is 0 for all {n:g} customers (each first purchase falls on "
                "the end of observation): no time has been observed, so the purchase rate "
                "cannot be estimated. " + self._identification_hint
            )
        if np.all(x == 0):
            raise ValueError(
                f"BetaGeo: no repeat buyers: column 'frequency' is 0 for all {n:g} customers; "
                "the purchase rate cannot be estimated. " + self._identification_hint
            )
        if len(x) == 1:
            who = "1 customer" if n == 1 else f"all {n:g} customers have the same history"
            raise ValueError(
                f"BetaGeo: {who} (frequency {x[0]:g}, recency {columns['recency'][0]:g}, T "
                f"{T[0]:g}): the model's r, alpha, a and b describe how customers differ, which "
                "one history cannot show. " + self._identification_hint
            )

    # -- likelihood ----------------------------------------------------------------------
    def _prepare(self, columns, weights) -> _Prepared:
        x, t_x, T = columns["frequency"], columns["recency"], columns["T"]
        pos, x_values = pd.factorize(x, sort=True)  # distinct frequencies, sorted, by hashing
        w_by_x = np.bincount(pos, weights=weights, minlength=len(x_values))
        zero = x == 0
        codes, ages = pd.factorize(np.concatenate([T, t_x[~zero]]))
        T_code, t_x1_code = codes[: len(T)], codes[len(T) :]
        total = weights.sum()
        return _Prepared(
            x_values=x_values,
            w_by_x=w_by_x,
            ages=np.asarray(ages, dtype=float),
            w0_by_age=np.bincount(T_code[zero], weights=weights[zero], minlength=len(ages)),
            x1=x[~zero],
            t_x1_code=t_x1_code,
            T1_code=T_code[~zero],
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
        # ln(alpha + age) and 1/(alpha + age) on the distinct ages, gathered by row
        log_age = np.log(alpha + prep.ages)
        inv_age = 1.0 / (alpha + prep.ages)
        # x = 0: ln L = A1 + A2 + A3, summed by age
        ll -= r * wsum(prep.w0_by_age, log_age)
        # x > 0: ln L = A1 + A2 + logaddexp(A3, A4), summed over blocks of rows whose
        # temporaries stay in the processor's cache
        log_bxv = np.log(b + np.maximum(xv, 1) - 1)
        sums = np.zeros(5)
        for start in range(0, len(prep.x1), ROW_BLOCK):
            block = slice(start, start + ROW_BLOCK)
            sums += _repeat_buyer_terms(
                r, a, prep, block, log_age, inv_age, log_bxv, gradient=gradient
            )
        ll += sums[0]
        if not gradient:
            return float(ll), None
        dg_ab = digamma(a + b)
        d_r = wsum(wx, digamma(r + xv) - digamma(r) + log_alpha)
        d_r -= wsum(prep.w0_by_age, log_age) + sums[1]
        d_alpha = r * wx.sum() / alpha
        d_alpha -= r * wsum(prep.w0_by_age, inv_age) + sums[2]
        dg_abx = digamma(a + b + xv)
        d_a = wsum(wx, dg_ab - dg_abx) + sums[3] / a
        d_b = wsum(wx, dg_ab + digamma(b + xv) - digamma(b) - dg_abx) - sums[4]
        return float(ll), np.array([d_r, d_alpha, d_a, d_b])

    def _hessian(self, params, prep: _Prepared) -> np.ndarray:
        """Hessian of equation (6) of FHL (2005) in (r, alpha, a, b), analytic.

        ``A1 + A2`` give trigamma terms on the distinct frequencies (``psi'(r+x) - psi'(r)``,
        ``1/alpha``, ``-r/alpha^2``; ``psi'(a+b) - psi'(a+b+x)`` and ``+ psi'(b+x) - psi'(b)``
        for ``b``); the customers without repeat purchases add ``-r ln(alpha+T)``; the repeat
        buyers ``ln(e^A3 + e^A4)`` (``_repeat_buyer_hessian``). One pass over the rows, in
        place of eight gradients for central differences.
        """
        r, alpha, a, b = params
        xv, wx = prep.x_values, prep.w_by_x
        n = wx.sum()
        t_ab, t_abx = polygamma(1, a + b), polygamma(1, a + b + xv)
        H = np.zeros((4, 4))
        H[0, 0] = wsum(wx, polygamma(1, r + xv) - polygamma(1, r))
        H[0, 1] = H[1, 0] = n / alpha
        H[1, 1] = -r * n / alpha**2
        H[2, 2] = H[2, 3] = H[3, 2] = wsum(wx, t_ab - t_abx)
        H[3, 3] = wsum(wx, t_ab + polygamma(1, b + xv) - polygamma(1, b) - t_abx)
        log_age = np.log(alpha + prep.ages)
        inv_age = 1.0 / (alpha + prep.ages)
        H[0, 1] -= wsum(prep.w0_by_age, inv_age)
        H[1, 0] = H[0, 1]
        H[1, 1] += r * wsum(prep.w0_by_age, inv_age**2)
        log_bxv = np.log(b + np.maximum(xv, 1) - 1)
        for start in range(0, len(prep.x1), ROW_BLOCK):
            block = slice(start, start + ROW_BLOCK)
            H += _repeat_buyer_hessian(r, a, prep, block, log_age, inv_age, log_bxv)
        return H

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
        return pd.Series(self._alive(x, t_x, T), index=index, name="probability_alive")

    def _alive(self, x, t_x, T) -> np.ndarray:
        """P(alive) on checked arrays (:meth:`probability_alive` without its checks)."""
        return blockwise(lambda *c: expit(-self._log_odds_dropped(*c)), x, t_x, T)

    def _if_alive(self, t, x, T) -> np.ndarray:
        """The bracket of equation (10) on checked arrays, broadcast over ``t``, ``x``, ``T``."""
        r, alpha, a, b = self.params_.to_numpy()
        return _expected_if_alive(r, alpha, a, b, x, T, t)

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
        t = np.broadcast_to(time_argument(t), x.shape)
        # the expectation if alive depends on (x, T, t) only: evaluate each distinct triple once
        (xu, Tu, tu), _, inverse = collapse_rows([x, T, t], np.ones(len(x)))
        value = self._if_alive(tu, xu, Tu)[inverse]
        if given_alive:
            return pd.Series(value, index=index, name="conditional_expected_purchases_if_alive")
        value = value * self._alive(x, t_x, T)
        return pd.Series(value, index=index, name="conditional_expected_purchases")

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
        log_p0 = -np.log1p(t_arr / alpha)  # ln(alpha/(alpha+t))
        with np.errstate(divide="ignore"):
            log_z = -np.log1p(alpha / t_arr)  # ln(t/(alpha+t)), -inf at t = 0 (used when n > 0)
        # B(a, b+n)/B(a, b) = (b)_n/(a+b)_n and Gamma(r+n)/Gamma(r) = (r)_n: rising factorials,
        # not differences of betaln/gammaln, which lose digits for tiny b or large arguments
        log_first = (
            _log_rising(b, n_arr)
            - _log_rising(a + b, n_arr)
            + _log_rising(r, n_arr)
            - gammaln(n_arr + 1)
            + r * log_p0
            + np.where(n_arr > 0, n_arr * np.where(n_arr > 0, log_z, 0.0), 0.0)
        )
        z = t_arr / (alpha + t_arr)
        m = np.maximum(n_arr, 1)
        tail = betainc(m, r, z)
        # B(a+1, b+n-1)/B(a, b) = a/(a+b+n-1) (b)_(n-1)/(a+b)_(n-1)
        log_drop = (
            np.log(a) - np.log(a + b + m - 1) + _log_rising(b, m - 1) - _log_rising(a + b, m - 1)
        )
        second = np.where(n_arr > 0, np.exp(log_drop) * tail, 0.0)
        out = np.exp(log_first) + second
        return _like(n if isinstance(n, pd.Series) else t, out, "probability")


#: Above this argument ``_log_rising`` uses Stirling's series (its error below 1e-20 there).
STIRLING_FROM = 1e3


def _log_rising(x, m):
    """``ln((x)_m) = ln Gamma(x+m) - ln Gamma(x)``, the rising factorial, for ``x > 0, m >= 0``.

    For large ``x`` the difference of two large ``gammaln`` values loses digits; there
    Stirling's series gives it as ``(x - 1/2) ln(1 + m/x) + m ln(x+m) - m`` plus the
    difference of the correction terms ``1/(12y) - 1/(360y^3) + 1/(1260y^5)``.

    Examples
    --------
    >>> float(np.exp(_log_rising(3.0, 4)))  # 3 * 4 * 5 * 6
    360.0
    """
    x, m = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(m, dtype=float))
    big = x >= STIRLING_FROM
    xs = np.where(big, x, STIRLING_FROM)
    y = xs + m

    def correction(v):
        return 1 / (12 * v) - 1 / (360 * v**3) + 1 / (1260 * v**5)

    stirling = (xs - 0.5) * np.log1p(m / xs) + m * np.log(y) - m + correction(y) - correction(xs)
    direct = gammaln(np.where(big, 1.0, x) + m) - gammaln(np.where(big, 1.0, x))
    return np.where(m == 0, 0.0, np.where(big, stirling, direct))


def _like(template, values: np.ndarray, name: str):
    """Return ``values`` shaped like ``template``: Series, float or ndarray."""
    if isinstance(template, pd.Series):
        return pd.Series(np.broadcast_to(values, len(template)), index=template.index, name=name)
    if np.ndim(values) == 0:
        return float(values)
    return np.asarray(values)
