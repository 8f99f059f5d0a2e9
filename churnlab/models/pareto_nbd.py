"""The Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987).

While alive, a customer makes repeat purchases as a Poisson process with rate ``lambda``; the
time ``omega`` at which they drop out for good is exponential with rate ``mu``. Across
customers ``lambda ~ Gamma(r, alpha)`` and ``mu ~ Gamma(s, beta)`` (shapes ``r, s``, rates
``alpha, beta``), independently. A customer's history is summarised, as for the BG/NBD model,
by ``x`` (repeat purchases, ``frequency``), ``t_x`` (time of the last one, ``recency``) and
``T`` (age at the end of observation), all in one time unit.

The code uses the papers' symbols and names the expression it implements: Fader & Hardie's
note 009 (2005) derives the likelihood (section 3), the mean (section 4), P(alive) (section 5)
and the conditional expectation (section 6); their note 028 (2014) writes the likelihood as a
sum of two positive terms (equations 2 and 3), the form used here.

Numerics. Every hypergeometric term of the likelihood and of P(alive) is an integral

    J(a, b; tau) = int_tau^inf (alpha+u)^-a (beta+u)^-b du,

(``s J(r+x, s+1; t_x)`` is the "died after the last purchase" term, ``(r+x) J(r+x+1, s; T)``
the "alive at T" term of note 028's equation 3). Published formulas evaluate it as
``2F1(r+s+x, r+x; r+s+x+1; z) / (beta+tau)^(r+s+x)`` (for alpha < beta), whose series has
terms growing like ``(r+x)^k z^k / k!``: it overflows double precision once ``x`` reaches a
few hundred. Here ``J`` is evaluated in log space as

    ln J = -P ln(M+tau) + (1-Q) ln(m+tau) - ln(c-1) + ln S,
    S = 2F1(1, P; c; z) = sum_k (P)_k / (c)_k z^k,     z = (M-m)/(M+tau) in [0, 1),

where ``M, m`` are the larger and smaller of alpha and beta, ``P, Q`` the exponents of their
factors and ``c = P + Q``. This is the integral's hypergeometric form after Euler's
transformation ``2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z)``: the terms of ``S`` are
positive and shrink by at least ``z`` each, so nothing overflows or cancels for any ``x`` or
``T``. The parameter derivatives are summed with the series (``d(P)_k/dP = (P)_k (psi(P+k) -
psi(P))``), so the gradient is exact. Where ``z`` is close to 1 (alpha and beta far apart
relative to ``tau``) the series converges slowly; those rows are integrated instead, by
Gauss-Legendre quadrature of ``J`` in a logarithmic variable over the range where its
(log-concave) integrand matters, with the far tail summed as a convergent series (see
``_quadrature``). Both routes are checked against mpmath in ``tests/models/test_pareto_nbd.py``.

References
----------
Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your customers: who are
they and what will they do next? *Management Science* 33(1), 1-24.

Fader, P. S. & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model and related
expressions. http://brucehardie.com/notes/009/

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). A note on implementing the Pareto/NBD model
in MATLAB. http://brucehardie.com/notes/008/

Fader, P. S. & Hardie, B. G. S. (2006). Deriving an expression for P(X(t) = x) under the
Pareto/NBD model. http://brucehardie.com/notes/012/

Fader, P. S. & Hardie, B. G. S. (2014). Deriving the conditional PMF of the Pareto/NBD model.
http://brucehardie.com/notes/028/
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from scipy.special import betainc, betaln, digamma, gammaln, roots_legendre

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

#: Published Pareto/NBD estimates on the CDNOW sample (2,357 customers, 39 calibration weeks,
#: weekly time unit), as reported by Fader, Hardie & Lee (2005), "A note on implementing the
#: Pareto/NBD model in MATLAB" (to two decimals in FHL 2005, *Marketing Science* 24(2)).
CDNOW_PARETO_NBD_PUBLISHED: dict[str, float] = {
    "r": 0.553,
    "alpha": 10.578,
    "s": 0.606,
    "beta": 11.669,
}

#: The maximised log-likelihood reported with those estimates.
CDNOW_PARETO_NBD_PUBLISHED_LOG_LIKELIHOOD = -9595.0

#: Rows whose argument ``z`` exceeds this are integrated by quadrature; below it the series
#: of ``S`` needs at most about 40 / (1 - z) ~ 1,300 terms.
SERIES_MAX_Z = 0.97

#: Safety cap on the number of series terms (rows not converged by then are integrated).
SERIES_MAX_TERMS = 4000

#: The series' convergence test runs every few terms (a few extra tiny terms cost less).
SERIES_CHECK_EVERY = 4

#: Composite Gauss-Legendre rule of ``_quadrature``: panels x nodes per panel.
QUADRATURE_PANELS = 64
QUADRATURE_NODES = 16

#: The quadrature covers the range where the log-integrand is within this of its maximum
#: (e^-45 ~ 3e-20 of the peak).
QUADRATURE_DROP = 45.0

#: Terms of the alternating series of the far tail in ``_tail`` (ratio at most 1/2).
TAIL_TERMS = 70

#: Largest number of terms of the probability series of ``probability_of_purchases``.
PMF_MAX_TERMS = 200_000
PMF_BLOCK = 64

_EPS = np.finfo(float).eps


@cache
def _gauss_legendre() -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the :data:`QUADRATURE_NODES`-point Gauss-Legendre rule on [-1, 1].

    Computed on first use: ``roots_legendre`` imports scipy.linalg (0.05 s), which
    ``import churnlab`` need not load.
    """
    return roots_legendre(QUADRATURE_NODES)


# --------------------------------------------------------------------------------------------
# J(a, b; tau) = int_tau^inf (alpha+u)^-a (beta+u)^-b du, in log space, with its gradient
# --------------------------------------------------------------------------------------------


def _series(P, Q, z, gradient: bool):
    """``S = sum_k (P)_k/(c)_k z^k`` (c = P+Q) and, if asked, dS/dz, dS/dP, dS/dc.

    Summed for all rows at once, a loop over terms; rows leave when the remaining terms
    (each at most ``z`` times the previous) cannot change the sums. Returns the sums and a
    mask of the rows that converged within :data:`SERIES_MAX_TERMS` terms.
    """
    n = len(z)
    c = P + Q
    S = np.ones(n)
    S_z, S_P, S_c = np.zeros(n), np.zeros(n), np.zeros(n)
    converged = np.zeros(n, dtype=bool)
    idx = np.arange(n)
    zz, PP, cc = z.copy(), P.copy(), c.copy()
    s, sz, sp, sc = S.copy(), S_z.copy(), S_P.copy(), S_c.copy()
    # v_k = (P)_k/(c)_k z^(k-1), so term t_k = v_k z and dS/dz = sum k v_k;
    # DP_k = psi(P+k) - psi(P) - psi(c+k) + psi(c), DC_k = psi(c+k) - psi(c)
    v = PP / cc
    DP = 1 / PP - 1 / cc
    DC = 1 / cc
    k = 1
    t = np.empty_like(v)
    with np.errstate(over="ignore", invalid="ignore"):
        while idx.size:
            for _ in range(SERIES_CHECK_EVERY):
                np.multiply(v, zz, out=t)
                s += t
                if gradient:
                    sz += k * v
                    sp += t * DP
                    sc -= t * DC
                ic = 1.0 / (cc + k)
                # v_(k+1) = v_k (P+k)/(c+k) z; DP and DC gain their k-th terms
                v *= (PP + k) * ic * zz
                DP += 1.0 / (PP + k) - ic
                DC += ic
                k += 1
            # the terms after the last one added are at most t z^j: their sums stay below
            # t z/(1-z), times a bound on k and on the digamma differences for the gradient
            weight = (1 + k + 1 / (1 - zz) + DP + DC) if gradient else 1.0
            done = (t * zz / (1 - zz) * weight <= 0.1 * _EPS * s) | (t == 0)
            stop = k > SERIES_MAX_TERMS
            if stop or done.any():
                S[idx], S_z[idx], S_P[idx], S_c[idx] = s, sz, sp, sc
                converged[idx[done]] = True
                if stop:
                    break
                keep = ~done
                idx, zz, PP, cc = idx[keep], zz[keep], PP[keep], cc[keep]
                v, DP, DC, t = v[keep], DP[keep], DC[keep], t[keep]
                s, sz, sp, sc = s[keep], sz[keep], sp[keep], sc[keep]
    return S, S_z, S_P, S_c, converged


def _tail(P, Q, E):
    """``ln T`` and ``d ln T / dP``, ``d ln T / dQ`` of ``T = int_E^inf e^-Q (1+e)^-P de``.

    With ``(1+e)^-P = e^-P sum_j (-1)^j (P)_j/j! e^-j`` (convergent for ``e > 1``),
    ``T = E^(1-c) sum_j (-1)^j (P)_j/j! E^-j / (c-1+j)``; for ``E >= 2 max(P, 1)`` the terms
    alternate and shrink by at least half, so the sum is at least half its first term.
    """
    c = P + Q
    coef = np.ones_like(P)  # (-1)^j (P)_j / j! E^-j
    psi = np.zeros_like(P)  # psi(P+j) - psi(P)
    term = coef / (c - 1)
    total = term.copy()
    d_P = term * -(1 / (c - 1))
    d_Q = d_P.copy()
    for j in range(1, TAIL_TERMS):
        coef = coef * (-(P + j - 1) / (j * E))
        psi = psi + 1 / (P + j - 1)
        term = coef / (c - 1 + j)
        total += term
        d_Q -= term / (c - 1 + j)
        d_P += term * (psi - 1 / (c - 1 + j))
    log_E = np.log(E)
    return (1 - c) * log_E + np.log(total), d_P / total - log_E, d_Q / total - log_E


def _quadrature(P, Q, eps0):
    """``ln K`` and its derivatives in ``eps0, P, Q``, ``K = int_eps0^inf e^-Q (1+e)^-P de``.

    ``J = (M-m)^(1-c) K`` with ``eps0 = (m+tau)/(M-m)`` (substitute ``m+u = (M-m) e``). With
    ``e = eps0 exp(y)`` the integrand ``exp(f(y))``, ``f = (1-Q) ln e - P ln(1+e)``, is
    log-concave in ``y`` (``f'' = -P e/(1+e)^2``): it rises or falls exponentially and turns
    over within a few units of ``y``. The range ``[y_L, y_R]`` where ``f`` is within
    :data:`QUADRATURE_DROP` of its maximum is found by bisection and integrated with a composite
    Gauss-Legendre rule; beyond ``e = E = 2 max(P, 1)`` the tail is the series of ``_tail``.
    """
    E = 2 * np.maximum(P, 1.0)
    log_e0 = np.log(eps0)
    Y = np.log(E) - log_e0
    c = P + Q

    def f(y):
        return (1 - Q) * (log_e0 + y) - P * np.log1p(np.exp(log_e0 + y))

    # f'(y) = (1-Q) - P e/(1+e) vanishes at e = (1-Q)/(c-1) when Q < 1; else f falls from y=0
    with np.errstate(invalid="ignore", divide="ignore"):
        peak = np.where(Q < 1, np.log(np.maximum(1 - Q, 1e-300) / (c - 1)) - log_e0, 0.0)
    peak = np.clip(peak, 0.0, Y)
    level = f(peak) - QUADRATURE_DROP

    def crossing(lo, hi, falling):
        for _ in range(60):
            mid = (lo + hi) / 2
            above = f(mid) >= level
            if falling:
                lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
            else:
                lo, hi = np.where(above, lo, mid), np.where(above, mid, hi)
        return (lo + hi) / 2

    zero = np.zeros_like(Y)
    y_R = np.where(f(Y) >= level, Y, crossing(peak.copy(), Y.copy(), True))
    y_L = np.where(f(zero) >= level, 0.0, crossing(zero, peak.copy(), False))
    h = (y_R - y_L) / QUADRATURE_PANELS
    gl_nodes, gl_weights = _gauss_legendre()
    unit = (np.arange(QUADRATURE_PANELS)[:, None] + (1 + gl_nodes[None, :]) / 2).ravel()
    log_w = np.log(np.tile(gl_weights / 2, QUADRATURE_PANELS))
    log_e = log_e0[:, None] + y_L[:, None] + h[:, None] * unit[None, :]
    log_1pe = np.log1p(np.exp(log_e))
    with np.errstate(divide="ignore"):
        L = (1 - Q)[:, None] * log_e - P[:, None] * log_1pe + log_w[None, :] + np.log(h)[:, None]
    log_T, T_P, T_Q = _tail(P, Q, E)
    top = np.maximum(L.max(axis=1), log_T)
    g = np.exp(L - top[:, None])
    g_T = np.exp(log_T - top)
    K = g.sum(axis=1) + g_T
    dP = (-np.einsum("ij,ij->i", log_1pe, g) + g_T * T_P) / K
    dQ = (-np.einsum("ij,ij->i", log_e, g) + g_T * T_Q) / K
    log_K = top + np.log(K)
    d_e0 = -np.exp(-Q * log_e0 - P * np.log1p(eps0) - log_K)
    return log_K, d_e0, dP, dQ


def _log_J(a, b, alpha: float, beta: float, tau, gradient: bool = True):
    """``ln J(a, b; tau)`` and (if asked) its derivatives in ``alpha, beta, a, b``.

    ``J = int_tau^inf (alpha+u)^-a (beta+u)^-b du`` for arrays ``a, b, tau`` (``a + b > 1``)
    and scalar rates; see the module docstring for the two evaluation routes.
    """
    a, b, tau = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (a, b, tau)))
    shape = a.shape
    a, b, tau = a.ravel(), b.ravel(), tau.ravel()
    if alpha >= beta:
        M, m, P, Q = alpha, beta, a, b
    else:
        M, m, P, Q = beta, alpha, b, a
    c = P + Q
    log_J = np.empty(a.shape)
    d_M, d_m, d_P, d_Q = (np.empty(a.shape) for _ in range(4))
    z = (M - m) / (M + tau)
    series = z <= SERIES_MAX_Z
    if series.any():
        Ps, Qs, cs, zs, ts = P[series], Q[series], c[series], z[series], tau[series]
        S, S_z, S_P, S_c, ok = _series(Ps, Qs, zs, gradient)
        log_M, log_m = np.log(M + ts), np.log(m + ts)
        log_J[series] = -Ps * log_M + (1 - Qs) * log_m - np.log(cs - 1) + np.log(S)
        if gradient:
            rz = S_z / S
            d_M[series] = -Ps / (M + ts) + rz * (m + ts) / (M + ts) ** 2
            d_m[series] = (1 - Qs) / (m + ts) - rz / (M + ts)
            d_P[series] = -log_M - 1 / (cs - 1) + S_P / S
            d_Q[series] = -log_m - 1 / (cs - 1) + S_c / S
        series[np.flatnonzero(series)[~ok]] = False
    quad = ~series
    if quad.any():
        d = M - m
        eps0 = (m + tau[quad]) / d
        Pq, Qq, cq = P[quad], Q[quad], c[quad]
        log_K, K_e0, K_P, K_Q = _quadrature(Pq, Qq, eps0)
        log_J[quad] = (1 - cq) * np.log(d) + log_K
        if gradient:
            d_M[quad] = (1 - cq) / d - K_e0 * eps0 / d
            d_m[quad] = -(1 - cq) / d + K_e0 * (1 + eps0) / d
            d_P[quad] = -np.log(d) + K_P
            d_Q[quad] = -np.log(d) + K_Q
    if not gradient:
        return log_J.reshape(shape)
    if alpha >= beta:
        d_alpha, d_beta, d_a, d_b = d_M, d_m, d_P, d_Q
    else:
        d_alpha, d_beta, d_a, d_b = d_m, d_M, d_Q, d_P
    return tuple(v.reshape(shape) for v in (log_J, d_alpha, d_beta, d_a, d_b))


def _log_terms(r, alpha, s, beta, x, t_x, T):
    """``ln`` of note 028's two terms (without the common factor), per customer.

    ``ln G = ln s + ln J(r+x, s+1; t_x)`` (dropped out after the last purchase) and
    ``ln H = ln(r+x) + ln J(r+x+1, s; T)`` (alive at T, plus the part of "dropped out in
    (t_x, T]" that integration by parts moves into it).
    """
    log_G = np.log(s) + _log_J(r + x, s + 1, alpha, beta, t_x, gradient=False)
    log_H = np.log(r + x) + _log_J(r + x + 1, s, alpha, beta, T, gradient=False)
    return log_G, log_H


def _grow(a: float, log_ratio):
    """``(1 - exp(-a L)) / a`` with ``L = log_ratio``; ``L`` at ``a = 0`` (no cancellation)."""
    u = a * log_ratio
    if abs(a) > 1e-12:
        return -np.expm1(-u) / a
    return log_ratio * (1 - u / 2)


# --------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    """Per-row quantities of a fit that do not depend on the parameters."""

    x_values: np.ndarray  # distinct frequencies and their total weight
    w_by_x: np.ndarray
    xG: np.ndarray  # distinct (x, t_x): the "dropped out after t_x" term
    tG: np.ndarray
    xH: np.ndarray  # distinct (x, T): the "alive at T" term
    tH: np.ndarray
    w: np.ndarray  # weight of each distinct (x, t_x, T) row
    g_pos: np.ndarray  # position of each row's (x, t_x) and (x, T)
    h_pos: np.ndarray
    mean_T: float


class ParetoNBD(LikelihoodModel):
    """Pareto/NBD model of repeat purchasing and dropout (Schmittlein et al. 1987).

    Parameters
    ----------
    initial_params : dict, optional
        Starting values for ``r, alpha, s, beta``; defaults ``r = s = 1`` and ``alpha = beta``
        = the mean customer age.
    max_iter : int
        Maximum number of optimizer iterations.
    tol : float
        Convergence tolerance (see :class:`churnlab.models._base.LikelihoodModel`).

    Attributes
    ----------
    params_ : Series
        ``r, alpha, s, beta`` (``alpha`` and ``beta`` in the time unit of the data).
    log_likelihood_ : float
        The log-likelihood of note 009 (section 3) summed over customers (reported as
        :data:`CDNOW_PARETO_NBD_PUBLISHED_LOG_LIKELIHOOD` on the CDNOW sample).
    converged_, n_iter_, optimizer_message_, n_customers_, n_unique_, time_unit_,
    log_params_covariance_, summary
        As for :class:`churnlab.BetaGeo`.

    Examples
    --------
    >>> from churnlab.datasets import load_cdnow_summary
    >>> model = ParetoNBD().fit(load_cdnow_summary())
    >>> model.params_.round(3).tolist()
    [0.553, 10.578, 0.606, 11.668]
    >>> round(model.log_likelihood_, 1)
    -9595.0
    """

    _param_names = ("r", "alpha", "s", "beta")
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
        ones = np.ones(len(x))
        (xG, tG), _, g_pos = collapse_rows([x, t_x], ones)
        (xH, tH), _, h_pos = collapse_rows([x, T], ones)
        return _Prepared(
            x_values=x_values,
            w_by_x=np.bincount(pos, weights=weights, minlength=len(x_values)),
            xG=xG,
            tG=tG,
            xH=xH,
            tH=tH,
            w=weights,
            g_pos=g_pos,
            h_pos=h_pos,
            mean_T=wsum(weights, T) / weights.sum(),
        )

    def _initial_params(self, prep: _Prepared) -> np.ndarray:
        scale = max(prep.mean_T, 1e-6)
        return np.array([1.0, scale, 1.0, scale])

    def _loglik(self, params, prep: _Prepared, gradient: bool = True):
        """Log-likelihood of note 028's equation (3) and its gradient in (r, alpha, s, beta).

        For a customer with history (x, t_x, T)

            L = Gamma(r+x) alpha^r beta^s / Gamma(r) x [G + H],
            G = s int_t_x^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du
              = s/(r+s+x) A_1,
            H = (r+x) int_T^inf (alpha+u)^-(r+x+1) (beta+u)^-s du
              = (r+x)/(r+s+x) A_2,

        with ``A_1, A_2`` the hypergeometric terms of note 028 (equal, by integration by parts,
        to note 009's ``(alpha+T)^-(r+x) (beta+T)^-s + s/(r+s+x) A_0``). ``ln L = A + ln(G +
        H)`` is combined with ``logaddexp``; the first factor depends on x alone and is
        evaluated once per distinct frequency, ``G`` once per distinct (x, t_x) and ``H``
        once per distinct (x, T).
        """
        r, alpha, s, beta = params
        xv, wx = prep.x_values, prep.w_by_x
        log_alpha, log_beta = np.log(alpha), np.log(beta)
        A = gammaln(r + xv) - gammaln(r) + r * log_alpha + s * log_beta
        ll = wsum(wx, A)
        if gradient:
            JG = _log_J(r + prep.xG, s + 1, alpha, beta, prep.tG)
            JH = _log_J(r + prep.xH + 1, s, alpha, beta, prep.tH)
            log_G, log_H = np.log(s) + JG[0], np.log(r + prep.xH) + JH[0]
        else:
            log_G = np.log(s) + _log_J(r + prep.xG, s + 1, alpha, beta, prep.tG, False)
            log_H = np.log(r + prep.xH) + _log_J(r + prep.xH + 1, s, alpha, beta, prep.tH, False)
        lG, lH = log_G[prep.g_pos], log_H[prep.h_pos]
        d = lG - lH
        e = np.exp(-np.abs(d))
        ll += wsum(prep.w, np.maximum(lG, lH) + np.log1p(e))
        if not gradient:
            return float(ll), None
        # weights of the two terms, p_G = G / (G + H)
        pG = np.where(d > 0, 1.0, e) / (1.0 + e)
        wG = np.bincount(prep.g_pos, weights=prep.w * pG, minlength=len(prep.xG))
        wH = np.bincount(prep.h_pos, weights=prep.w * (1 - pG), minlength=len(prep.xH))
        total = wx.sum()
        _, G_alpha, G_beta, G_a, G_b = JG
        _, H_alpha, H_beta, H_a, H_b = JH
        d_r = wsum(wx, digamma(r + xv) - digamma(r) + log_alpha)
        d_r += wsum(wG, G_a) + wsum(wH, H_a + 1 / (r + prep.xH))
        d_alpha = r * total / alpha + wsum(wG, G_alpha) + wsum(wH, H_alpha)
        d_s = total * log_beta + wsum(wG, G_b + 1 / s) + wsum(wH, H_b)
        d_beta = s * total / beta + wsum(wG, G_beta) + wsum(wH, H_beta)
        return float(ll), np.array([d_r, d_alpha, d_s, d_beta])

    # -- predictions ---------------------------------------------------------------------
    def _history(self, frequency, recency, T):
        check_is_fitted(self, "params_")
        check_time_unit(self, frequency)
        columns, index = read_columns(self._columns, frequency, {"recency": recency, "T": T})
        return columns["frequency"], columns["recency"], columns["T"], index

    def _log_probability_alive(self, x, t_x, T):
        """``ln P(alive at T)`` of note 028's equation (9) for unique rows."""
        r, alpha, s, beta = self.params_.to_numpy()
        (xu, tu, Tu), _, inverse = collapse_rows([x, t_x, T], np.ones(len(x)))
        log_G, log_H = _log_terms(r, alpha, s, beta, xu, tu, Tu)
        log_alive = -(r + xu) * np.log(alpha + Tu) - s * np.log(beta + Tu)
        return np.minimum(log_alive - np.logaddexp(log_G, log_H), 0.0)[inverse]

    def probability_alive(self, frequency, recency=None, T=None) -> pd.Series:
        """P(alive | x, t_x, T): the probability that the customer has not dropped out by T.

        Note 028's equation (9) (note 009, section 5):

            P(alive) = Gamma(r+x) alpha^r beta^s / (Gamma(r) (alpha+T)^(r+x) (beta+T)^s) / L,

        with the likelihood ``L`` of :meth:`_loglik`, all in log space; it stays finite and in
        [0, 1] for frequencies and ages in the tens of thousands.

        Returns
        -------
        Series
            Named ``probability_alive``, indexed like the input.

        Examples
        --------
        >>> from churnlab.datasets import load_cdnow_summary
        >>> data = load_cdnow_summary()
        >>> model = ParetoNBD().fit(data)
        >>> model.probability_alive(data).head(3).round(3).tolist()
        [0.869, 0.168, 0.295]
        """
        x, t_x, T, index = self._history(frequency, recency, T)
        return pd.Series(self._alive(x, t_x, T), index=index, name="probability_alive")

    def _alive(self, x, t_x, T) -> np.ndarray:
        """P(alive) on checked arrays (:meth:`probability_alive` without its checks)."""
        return blockwise(lambda *c: np.exp(self._log_probability_alive(*c)), x, t_x, T)

    def conditional_expected_purchases(self, t, frequency, recency=None, T=None) -> pd.Series:
        """Expected repeat purchases in the next ``t`` periods given the history.

        Note 009, section 6 (SMC 1987):

            E[Y(t) | x, t_x, T] = P(alive) (r+x)(beta+T) / ((alpha+T)(s-1))
                                  [1 - ((beta+T)/(beta+T+t))^(s-1)],

        the bracket over ``s - 1`` evaluated as ``-expm1(-(s-1) ln(1 + t/(beta+T)))/(s-1)``,
        which is finite and exact through ``s = 1`` (where it is ``ln(1 + t/(beta+T))``).

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
        >>> model = ParetoNBD().fit(load_cdnow_summary())
        >>> model.conditional_expected_purchases(39, 2, 30.43, 38.86).round(3).tolist()
        [1.455]
        """
        x, t_x, T, index = self._history(frequency, recency, T)
        value = self._if_alive(time_argument(t), x, T)
        value = value * self._alive(x, t_x, T)
        return pd.Series(value, index=index, name="conditional_expected_purchases")

    def conditional_expected_purchases_if_alive(
        self, t, frequency, recency=None, T=None
    ) -> pd.Series:
        """Expected repeat purchases in the next ``t`` periods of a customer still active.

        The factor of note 009's conditional expectation after P(alive):

            E[Y(t) | alive at T, x, T] = (r+x)(beta+T) / ((alpha+T)(s-1))
                                         [1 - ((beta+T)/(beta+T+t))^(s-1)].

        Returns
        -------
        Series
            Named ``expected_purchases_if_alive``, indexed like the input.

        Examples
        --------
        >>> from churnlab.datasets import load_cdnow_summary
        >>> model = ParetoNBD().fit(load_cdnow_summary())
        >>> model.conditional_expected_purchases_if_alive(39, 2, 30.43, 38.86).round(3).tolist()
        [1.674]
        """
        x, _, T, index = self._history(frequency, recency, T)
        value = self._if_alive(time_argument(t), x, T)
        return pd.Series(value, index=index, name="conditional_expected_purchases_if_alive")

    def _if_alive(self, t, x, T) -> np.ndarray:
        """The factor after P(alive) on checked arrays, broadcast over ``t``, ``x``, ``T``."""
        r, alpha, s, beta = self.params_.to_numpy()
        t, x, T = np.broadcast_arrays(t, x, T)
        rate = (r + x) / (alpha + T)  # posterior mean of lambda given alive
        return rate * (beta + T) * _grow(s - 1.0, np.log1p(t / (beta + T)))

    def expected_purchases(self, t):
        """Unconditional expected repeat purchases E[X(t)] of a new customer.

        Note 009, section 4: ``E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]``,
        evaluated as in :meth:`conditional_expected_purchases`.

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
        >>> model = ParetoNBD().fit(load_cdnow_summary())
        >>> model.expected_purchases([39.0, 78.0]).round(3).tolist()
        [1.213, 1.91]
        """
        check_is_fitted(self, "params_")
        values = time_argument(t)
        r, alpha, s, beta = self.params_.to_numpy()
        out = r / alpha * beta * _grow(s - 1.0, np.log1p(values / beta))
        return _like(t, out, "expected_purchases")

    def probability_of_purchases(self, t, n):
        """P(X(t) = n): probability of ``n`` repeat purchases in ``(0, t]``.

        Conditioning on the dropout time ``omega`` (note 012): a customer still alive at ``t``
        made ``n`` purchases with the NBD probability, and one who dropped out at ``tau < t``
        with the NBD probability over ``tau``,

            P(X(t) = n) = NB(n; t) (beta/(beta+t))^s
                          + int_0^t NB(n; tau) s beta^s (beta+tau)^-(s+1) dtau,
            NB(n; tau) = Gamma(r+n)/(Gamma(r) n!) (alpha/(alpha+tau))^r (tau/(alpha+tau))^n.

        With ``p = tau/(alpha+tau)`` the integral is
        ``s alpha beta^s int_0^p_t p^n (1-p)^(r+s-1) (beta + (alpha-beta) p)^-(s+1) dp``;
        expanding the last factor binomially in ``zeta = |alpha - beta| / max(alpha, beta)``
        gives a series of positive terms, each an incomplete beta function,

            alpha >= beta: s (beta/alpha)^s sum_m (s+1)_m/m! zeta^m B(n+1, r+s+m)
                           I_p_t(n+1, r+s+m),
            alpha <  beta: s (alpha/beta) sum_m (s+1)_m/m! zeta^m B(n+1+m, r+s)
                           I_p_t(n+1+m, r+s),

        (times ``Gamma(r+n)/(Gamma(r) n!)``), summed in blocks until the terms are negligible.

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
        >>> model = ParetoNBD().fit(load_cdnow_summary())
        >>> model.probability_of_purchases(39.0, [0, 1, 2]).round(3).tolist()
        [0.594, 0.166, 0.083]
        """
        check_is_fitted(self, "params_")
        t_arr = time_argument(t)
        n_arr = np.asarray(n, dtype=float)
        if not np.all(np.isfinite(n_arr)) or np.any(n_arr < 0) or np.any(n_arr != np.round(n_arr)):
            raise ValueError(f"n must hold non-negative integers, got {n!r}")
        t_arr, n_arr = np.broadcast_arrays(t_arr, n_arr)
        shape = t_arr.shape
        (tu, nu), _, inverse = collapse_rows([t_arr.ravel(), n_arr.ravel()], np.ones(t_arr.size))
        out = _pmf(*self.params_.to_numpy(), tu, nu)[inverse].reshape(shape)
        return _like(n if isinstance(n, pd.Series) else t, out, "probability")


def _pmf(r, alpha, s, beta, t, n):
    """P(X(t) = n) of :meth:`ParetoNBD.probability_of_purchases` for arrays ``t, n``."""
    log_C = gammaln(r + n) - gammaln(r) - gammaln(n + 1)
    with np.errstate(divide="ignore"):
        log_p = np.log(t) - np.log(alpha + t)  # -inf at t = 0
    log_q = np.log(alpha) - np.log(alpha + t)
    first = np.exp(
        log_C
        + r * log_q
        + np.where(n > 0, n * np.where(n > 0, log_p, 0.0), 0.0)
        + s * (np.log(beta) - np.log(beta + t))
    )
    p_t = t / (alpha + t)
    if alpha >= beta:
        zeta, log_lead = (alpha - beta) / alpha, np.log(s) + s * (np.log(beta) - np.log(alpha))
    else:
        zeta, log_lead = (beta - alpha) / beta, np.log(s) + np.log(alpha) - np.log(beta)
    log_zeta = np.log(zeta) if zeta > 0 else -np.inf
    total = np.zeros(len(t))
    active = np.flatnonzero(t > 0)
    start = 0
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        while active.size and start < PMF_MAX_TERMS:
            m = np.arange(start, start + PMF_BLOCK, dtype=float)[None, :]
            na, pa = n[active, None], p_t[active, None]
            if alpha >= beta:
                A, B = na + 1, r + s + m
            else:
                A, B = na + 1 + m, np.full_like(m, r + s)
            log_coef = gammaln(s + 1 + m) - gammaln(s + 1) - gammaln(m + 1)
            log_zm = np.where(m > 0, m * log_zeta, 0.0)
            log_term = log_coef + log_zm + betaln(A, B) + np.log(betainc(A, B, pa))
            block = np.exp(log_term + (log_C[active] + log_lead)[:, None])
            block = np.where(np.isfinite(block), block, 0.0)
            total[active] += block.sum(axis=1)
            last = block[:, -1]
            # past the largest term the terms shrink geometrically (ratio -> zeta)
            shrinking = block[:, -1] <= block[:, -2]
            bound = last * zeta / max(1.0 - zeta, _EPS) * (1 + PMF_BLOCK)
            done = (zeta == 0) | (shrinking & (bound <= _EPS * total[active])) | (last == 0)
            active = active[~done]
            start += PMF_BLOCK
    return np.clip(first + total, 0.0, 1.0)


def _like(template, values: np.ndarray, name: str):
    """Return ``values`` shaped like ``template``: Series, float or ndarray."""
    if isinstance(template, pd.Series):
        return pd.Series(np.broadcast_to(values, len(template)), index=template.index, name=name)
    if np.ndim(values) == 0:
        return float(values)
    return np.asarray(values)
