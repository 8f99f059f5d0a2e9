"""The MBG/NBD purchase model ("modified beta-geometric / NBD", Batislam et al. 2007).

The BG/NBD story with one change: a customer may drop out right after their *first* purchase
too, not only after repeat purchases. While alive, a customer makes repeat purchases as a
Poisson process with rate ``lambda ~ Gamma(r, alpha)``; at time 0 and after every repeat
purchase they drop out for good with probability ``p ~ Beta(a, b)``. So a one-off buyer
(``x = 0``) may be gone, where the BG/NBD model holds them alive for sure, and P(alive) is below
1 for every customer. Histories are summarised by ``x`` (``frequency``), ``t_x`` (``recency``)
and ``T``, as for :class:`churnlab.BetaGeo`.

Given that the customer is alive, the dropout probability's posterior is ``Beta(a, b+x+1)``
(``x + 1`` survived opportunities to drop out) instead of the BG/NBD's ``Beta(a, b+x)``, so the
expectation of future purchases is the BG/NBD one with ``b`` replaced by ``b + 1``; it is
computed by the BG/NBD's log-space evaluation of the hypergeometric term, stable for
frequencies and ages in the tens of thousands.

References
----------
Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). Empirical validation and comparison of
models for customer base analysis. *International Journal of Research in Marketing* 24(3),
201-209.

Wagner, U. & Hoppe, D. (2008). Erratum on the MBG/NBD model. *International Journal of
Research in Marketing* 25(3), 225-226.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betainc, betaln, digamma, expit, gammaln

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
from churnlab.models.beta_geo import _expected_if_alive

#: MBG/NBD estimates on the CDNOW sample (2,357 customers, 39 weeks, weekly time unit)
#: computed with the BTYDplus R package (Platzer, https://github.com/mplatzer/BTYDplus) and
#: quoted by lifetimes 0.11.3's test suite (``test_params_out_is_close_to_BTYDplus``).
CDNOW_MBGNBD_PUBLISHED: dict[str, float] = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}


@dataclass(frozen=True)
class _Prepared:
    """Per-row quantities of a fit that do not depend on the parameters."""

    x_values: np.ndarray  # distinct frequencies
    w_by_x: np.ndarray  # total weight of each distinct frequency
    x: np.ndarray  # x, t_x, T and weight of each distinct row
    t_x: np.ndarray
    T: np.ndarray
    w: np.ndarray
    x_pos: np.ndarray  # position of each row's x in x_values
    mean_T: float


class ModifiedBetaGeo(LikelihoodModel):
    """MBG/NBD model: the BG/NBD model where one-off buyers may have dropped out.

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
        The log-likelihood (see :meth:`_loglik`) summed over customers.
    converged_, n_iter_, optimizer_message_, n_customers_, n_unique_, time_unit_,
    log_params_covariance_, summary
        As for :class:`churnlab.BetaGeo`.

    Examples
    --------
    >>> from churnlab.datasets import load_cdnow_summary
    >>> model = ModifiedBetaGeo().fit(load_cdnow_summary())
    >>> model.params_.round(3).tolist()
    [0.525, 6.183, 0.891, 1.614]
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
        return _Prepared(
            x_values=x_values,
            w_by_x=np.bincount(pos, weights=weights, minlength=len(x_values)),
            x=x,
            t_x=t_x,
            T=T,
            w=weights,
            x_pos=pos,
            mean_T=wsum(weights, T) / weights.sum(),
        )

    def _initial_params(self, prep: _Prepared) -> np.ndarray:
        return np.array([1.0, max(prep.mean_T, 1e-6), 1.0, 1.0])

    def _loglik(self, params, prep: _Prepared, gradient: bool = True):
        """MBG/NBD log-likelihood and its gradient in (r, alpha, a, b).

        A customer with history (x, t_x, T) either is alive at T (with probability
        ``(1-p)^(x+1)``: they survived the first purchase and x repeat purchases) or dropped out
        right after their last purchase (``p (1-p)^x``), so (Batislam et al. 2007)

            L = B(a, b+x+1)/B(a, b) Gamma(r+x) alpha^r / Gamma(r)
                [(alpha+T)^-(r+x) + a/(b+x) (alpha+t_x)^-(r+x)],

        for every x, one-off buyers included (their "last purchase" is the first, t_x = 0).
        In log space, term by term:

            A1 = ln Gamma(r+x) - ln Gamma(r) + r ln(alpha)
            A2 = ln Gamma(a+b) + ln Gamma(b+x+1) - ln Gamma(b) - ln Gamma(a+b+x+1)
            A3 = -(r+x) ln(alpha+T)
            A4 = ln(a) - ln(b+x) - (r+x) ln(alpha+t_x)
            ln L = A1 + A2 + ln(exp(A3) + exp(A4)).
        """
        r, alpha, a, b = params
        xv, wx = prep.x_values, prep.w_by_x
        log_alpha = np.log(alpha)
        A1 = gammaln(r + xv) - gammaln(r) + r * log_alpha
        A2 = gammaln(a + b) + gammaln(b + xv + 1) - gammaln(b) - gammaln(a + b + xv + 1)
        ll = wsum(wx, A1 + A2)
        rx = r + prep.x
        log_aT = np.log(alpha + prep.T)
        log_atx = np.log(alpha + prep.t_x)
        log_bx = np.log(b + xv)[prep.x_pos]
        A3 = -rx * log_aT
        A4 = np.log(a) - log_bx - rx * log_atx
        d = A4 - A3
        e = np.exp(-np.abs(d))
        ll += wsum(prep.w, np.maximum(A3, A4) + np.log1p(e))
        if not gradient:
            return float(ll), None
        p4 = np.where(d > 0, 1.0, e) / (1.0 + e)  # weight of "dropped out after t_x"
        p3 = 1.0 - p4
        w4 = prep.w * p4
        dg_ab, dg_abx = digamma(a + b), digamma(a + b + xv + 1)
        d_r = wsum(wx, digamma(r + xv) - digamma(r) + log_alpha)
        d_r -= wsum(prep.w, p3 * log_aT + p4 * log_atx)
        d_alpha = r * wx.sum() / alpha
        d_alpha -= wsum(prep.w * rx, p3 / (alpha + prep.T) + p4 / (alpha + prep.t_x))
        d_a = wsum(wx, dg_ab - dg_abx) + w4.sum() / a
        d_b = wsum(wx, dg_ab + digamma(b + xv + 1) - digamma(b) - dg_abx)
        d_b -= wsum(w4, np.exp(-log_bx))
        return float(ll), np.array([d_r, d_alpha, d_a, d_b])

    # -- predictions ---------------------------------------------------------------------
    def _history(self, frequency, recency, T):
        check_is_fitted(self, "params_")
        check_time_unit(self, frequency)
        columns, index = read_columns(self._columns, frequency, {"recency": recency, "T": T})
        return columns["frequency"], columns["recency"], columns["T"], index

    def _log_odds_dropped(self, x, t_x, T):
        """``D = ln[a/(b+x)] + (r+x) ln[(alpha+T)/(alpha+t_x)]``: log-odds of having dropped out."""
        r, alpha, a, b = self.params_.to_numpy()
        return np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))

    def probability_alive(self, frequency, recency=None, T=None) -> pd.Series:
        """P(alive | x, t_x, T) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)).

        The ratio of the likelihood's "alive at T" term to the whole (Batislam et al. 2007);
        unlike the BG/NBD's, it is below 1 for one-off buyers too. Evaluated as a logistic
        function of the log-odds.

        Returns
        -------
        Series
            Named ``probability_alive``, indexed like the input.

        Examples
        --------
        >>> from churnlab.datasets import load_cdnow_summary
        >>> data = load_cdnow_summary()
        >>> model = ModifiedBetaGeo().fit(data)
        >>> model.probability_alive(data).head(3).round(3).tolist()
        [0.706, 0.171, 0.39]
        """
        x, t_x, T, index = self._history(frequency, recency, T)
        return pd.Series(self._alive(x, t_x, T), index=index, name="probability_alive")

    def _alive(self, x, t_x, T) -> np.ndarray:
        """P(alive) on checked arrays (:meth:`probability_alive` without its checks)."""
        return blockwise(lambda *c: expit(-self._log_odds_dropped(*c)), x, t_x, T)

    def _if_alive(self, t, x, T) -> np.ndarray:
        """The bracket of the conditional expectation on checked arrays, broadcast."""
        r, alpha, a, b = self.params_.to_numpy()
        return _expected_if_alive(r, alpha, a, b + 1.0, x, T, t)

    def conditional_expected_purchases(self, t, frequency, recency=None, T=None) -> pd.Series:
        """Expected repeat purchases in the next ``t`` periods given the history.

        As corrected by Wagner & Hoppe (2008):

            E[Y(t) | x, t_x, T] = (a+b+x)/(a-1) [1 - q^(r+x) 2F1(r+x, b+x+1; a+b+x; z)]
                                  / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)),

        ``q = (alpha+T)/(alpha+T+t)``, ``z = t/(alpha+T+t)``: the BG/NBD's equation (10) of
        Fader, Hardie & Lee (2005) with ``b`` replaced by ``b + 1`` in the bracket and this
        model's P(alive).

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
        >>> model = ModifiedBetaGeo().fit(load_cdnow_summary())
        >>> model.conditional_expected_purchases(39, 2, 30.43, 38.86).round(3).tolist()
        [1.263]
        """
        return self._conditional_expected(t, frequency, recency, T, given_alive=False)

    def conditional_expected_purchases_if_alive(
        self, t, frequency, recency=None, T=None
    ) -> pd.Series:
        """Expected repeat purchases in the next ``t`` periods of a customer still active.

        The bracket of :meth:`conditional_expected_purchases` without P(alive),
        ``(a+b+x)/(a-1) [1 - q^(r+x) 2F1(r+x, b+x+1; a+b+x; z)]``.

        Returns
        -------
        Series
            Named ``expected_purchases_if_alive``, indexed like the input.
        """
        return self._conditional_expected(t, frequency, recency, T, given_alive=True)

    def _conditional_expected(self, t, frequency, recency, T, *, given_alive: bool) -> pd.Series:
        x, t_x, T, index = self._history(frequency, recency, T)
        t = np.broadcast_to(time_argument(t), x.shape)
        (xu, Tu, tu), _, inverse = collapse_rows([x, T, t], np.ones(len(x)))
        value = self._if_alive(tu, xu, Tu)[inverse]
        if given_alive:
            return pd.Series(value, index=index, name="conditional_expected_purchases_if_alive")
        value = value * self._alive(x, t_x, T)
        return pd.Series(value, index=index, name="conditional_expected_purchases")

    def expected_purchases(self, t):
        """Unconditional expected repeat purchases E[X(t)] of a new customer.

        ``E[X(t)] = b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]``
        (Batislam et al. 2007): the probability ``b/(a+b)`` of surviving the first purchase
        times the expectation of a customer alive at age 0.

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
        >>> model = ModifiedBetaGeo().fit(load_cdnow_summary())
        >>> model.expected_purchases([39.0, 78.0]).round(3).tolist()
        [1.182, 1.804]
        """
        check_is_fitted(self, "params_")
        values = time_argument(t)
        r, alpha, a, b = self.params_.to_numpy()
        out = b / (a + b) * _expected_if_alive(r, alpha, a, b + 1.0, 0.0, 0.0, values)
        return _like(t, out, "expected_purchases")

    def probability_of_purchases(self, t, n):
        """P(X(t) = n): probability of ``n`` repeat purchases in ``(0, t]``.

        Alive at ``t`` after ``n`` purchases (``(1-p)^(n+1)``), or dropped out right after
        the n-th purchase (at time 0 when ``n = 0``) having had the chance to make it
        (``p (1-p)^n``):

            P(X(t) = n) = B(a, b+n+1)/B(a, b) NB(n; t)
                          + B(a+1, b+n)/B(a, b) P(N(t) >= n),

        with ``NB(n; t) = Gamma(r+n)/(Gamma(r) n!) (alpha/(alpha+t))^r (t/(alpha+t))^n`` and
        ``P(N(t) >= n)`` its upper tail, the regularised incomplete beta ``I_z(n, r)``
        (``z = t/(alpha+t)``; 1 for ``n = 0``).

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
        >>> model = ModifiedBetaGeo().fit(load_cdnow_summary())
        >>> model.probability_of_purchases(39.0, [0, 1, 2]).round(3).tolist()
        [0.583, 0.183, 0.087]
        """
        check_is_fitted(self, "params_")
        t_arr = time_argument(t)
        n_arr = np.asarray(n, dtype=float)
        if not np.all(np.isfinite(n_arr)) or np.any(n_arr < 0) or np.any(n_arr != np.round(n_arr)):
            raise ValueError(f"n must hold non-negative integers, got {n!r}")
        r, alpha, a, b = self.params_.to_numpy()
        t_arr, n_arr = np.broadcast_arrays(t_arr, n_arr)
        log_p0 = np.log(alpha) - np.log(alpha + t_arr)
        with np.errstate(divide="ignore"):
            log_z = np.log(t_arr) - np.log(alpha + t_arr)
        log_nb = (
            gammaln(r + n_arr)
            - gammaln(r)
            - gammaln(n_arr + 1)
            + r * log_p0
            + np.where(n_arr > 0, n_arr * np.where(n_arr > 0, log_z, 0.0), 0.0)
        )
        alive = np.exp(betaln(a, b + n_arr + 1) - betaln(a, b) + log_nb)
        z = t_arr / (alpha + t_arr)
        tail = np.where(n_arr > 0, betainc(np.maximum(n_arr, 1), r, z), 1.0)
        dropped = np.exp(betaln(a + 1, b + n_arr) - betaln(a, b)) * tail
        return _like(n if isinstance(n, pd.Series) else t, alive + dropped, "probability")


def _like(template, values: np.ndarray, name: str):
    """Return ``values`` shaped like ``template``: Series, float or ndarray."""
    if isinstance(template, pd.Series):
        return pd.Series(np.broadcast_to(values, len(template)), index=template.index, name=name)
    if np.ndim(values) == 0:
        return float(values)
    return np.asarray(values)
