"""The shifted-beta-geometric (sBG) model of contract duration.

At the end of every period a customer cancels with probability ``theta`` and renews with
probability ``1 - theta``, the same in every period for a given customer; across customers
``theta ~ Beta(alpha, beta)``. The duration ``T`` (the period in which the customer cancels,
``T = 1, 2, ...``) then has, in the equations of Fader & Hardie (2007),

* ``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``  (equation 5),
* ``S(t) = P(T > t) = B(alpha, beta + t) / B(alpha, beta)``  (equation 6),
* the recursions ``P(T = 1) = alpha / (alpha + beta)``,
  ``P(T = t) = (beta + t - 2) / (alpha + beta + t - 1) P(T = t - 1)``  (equation 7),
* the retention rate ``r_t = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1)``
  (equation 8), which rises with ``t`` although no customer's own renewal probability changes:
  the customers most likely to cancel leave first.

Customers are counted in periods: ``periods_survived = k`` is the number of renewals at which a
customer was still a subscriber. A customer lost after ``k`` renewals has ``T = k + 1``; one
still active after ``k`` renewals contributes ``S(k)`` (censored). With survival counts
``n_0 >= n_1 >= ... >= n_K`` of one cohort the log-likelihood is equation (B3):

    LL(alpha, beta) = sum_{t=1..K} (n_{t-1} - n_t) ln P(T = t) + n_K ln S(K).

References
----------
Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
Interactive Marketing* 21(1), 76-90.

Fader, P. S. & Hardie, B. G. S. (2010). Customer-base valuation in a contractual setting: the
perils of ignoring heterogeneity. *Marketing Science* 29(1), 85-93.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma

from churnlab._estimator import check_is_fitted
from churnlab.contractual.cohorts import (
    PERIODS,
    check_horizon,
    read_tenure,
    survivors_table,
    time_unit_of,
)
from churnlab.models import LikelihoodModel, wsum
from churnlab.results import Result

#: sBG estimates for the "regular" cohort of Fader & Hardie (2007), fitted on years 1-7 of
#: 1,000 customers (the data of Berry & Linoff 2004; ``churnlab.datasets.load_retention_cohorts``).
REGULAR_SBG_PUBLISHED: dict[str, float] = {"alpha": 0.704, "beta": 1.182}

#: sBG estimates for the "high end" cohort of Fader & Hardie (2007), years 1-7, 1,000 customers.
HIGH_END_SBG_PUBLISHED: dict[str, float] = {"alpha": 0.668, "beta": 3.806}

#: Years of survival data Fader & Hardie (2007) fit on; years 8-12 are their holdout.
PUBLISHED_CALIBRATION_YEARS = 7

#: The DERL series stops when the bound on its remaining tail falls below this share of the sum.
SERIES_TOLERANCE = 1e-16

#: Most terms the DERL series may take (reached for discount rates below about 0.00004).
SERIES_MAX_TERMS = 1_000_000

#: Longest block of terms summed at once (bounds the memory of one block).
SERIES_BLOCK = 2048


@dataclass(frozen=True)
class _Prepared:
    """Distinct (periods_survived, lost / active) rows of a fit and their weights."""

    k_lost: np.ndarray  # renewals survived by customers who later cancelled (T = k + 1)
    w_lost: np.ndarray
    k_active: np.ndarray  # renewals survived by customers still active (censored at k)
    w_active: np.ndarray


def _periods(t, name: str, minimum: int) -> tuple[np.ndarray, Any]:
    """Whole periods ``>= minimum`` as an int array, and the input to shape the output on."""
    values = np.asarray(t.to_numpy() if isinstance(t, pd.Series) else t, dtype=float)
    if (
        values.ndim > 1
        or not np.all(np.isfinite(values))
        or np.any(values < minimum)
        or np.any(values != np.round(values))
    ):
        raise ValueError(f"{name} must be whole numbers of periods >= {minimum}, got {t!r}")
    return values.astype(np.int64), t


def _shaped(template, values: np.ndarray, name: str):
    """A float for a scalar input; a Series indexed like a Series input, or by the values."""
    if isinstance(template, pd.Series):
        return pd.Series(values, index=template.index, name=name)
    if np.ndim(template) == 0:
        return float(values)
    return pd.Series(
        values, index=pd.Index(np.asarray(template, dtype=np.int64), name="period"), name=name
    )


def _discount_factor(discount_rate) -> float:
    """``1 / (1 + d)`` for a finite discount rate ``d > 0`` per period."""
    if isinstance(discount_rate, bool) or not isinstance(discount_rate, int | float | np.number):
        raise ValueError(f"discount_rate must be a number > 0, got {discount_rate!r}")
    d = float(discount_rate)
    if not np.isfinite(d) or d <= 0:
        raise ValueError(
            f"discount_rate must be finite and > 0 (a rate per period, e.g. 0.10), got {d!r}"
        )
    return 1.0 / (1.0 + d)


class ShiftedBetaGeometric(LikelihoodModel):
    """Shifted-beta-geometric model of retention in a contractual setting (Fader & Hardie 2007).

    Parameters
    ----------
    initial_params : dict, optional
        Starting values for ``alpha`` and ``beta`` (default 1 and 1).
    max_iter : int
        Maximum number of optimizer iterations.
    tol : float
        Convergence tolerance (see :class:`churnlab.models._base.LikelihoodModel`).

    Attributes
    ----------
    params_ : Series
        ``alpha`` and ``beta`` of the beta distribution of the per-period cancellation
        probability ``theta`` (mean ``alpha / (alpha + beta)``).
    log_likelihood_ : float
        Equation (B3) of Fader & Hardie (2007) at the estimate.
    converged_, n_iter_, optimizer_message_ : bool, int, str
        Convergence record of the optimizer.
    n_customers_, n_unique_ : float, int
        Customers fitted and distinct (periods_survived, active) rows after collapsing.
    max_periods_ : int
        The longest observation in the fitted data (periods since acquisition): projections
        beyond it are out of sample.
    time_unit_ : str or None
        The period of the data (``attrs["time_unit"]``, e.g. ``'Y'``) when recorded.
    log_params_covariance_ : DataFrame
        Covariance of the log-parameters (inverse of minus the Hessian).
    summary : DataFrame
        ``estimate, std_err, ci_lower, ci_upper``.

    Examples
    --------
    Years 0-7 of the regular cohort give the estimates Fader & Hardie (2007) publish
    (:data:`REGULAR_SBG_PUBLISHED`):

    >>> from churnlab.datasets import load_retention_cohorts
    >>> cohorts = load_retention_cohorts("customers")
    >>> model = ShiftedBetaGeometric().fit(cohorts.loc["regular", :7])
    >>> model.params_.round(3).tolist()
    [0.704, 1.182]
    >>> round(model.survival_function(12) * 1000)
    170
    """

    _param_names = ("alpha", "beta")
    _time_units = PERIODS
    _columns = ("periods_survived", "active")

    def fit(self, data, *, weights=None):
        """Fit by maximum likelihood on survival counts or on a tenure table.

        Parameters
        ----------
        data : Series, array-like or DataFrame
            Either survival counts, the number of customers still active at the start of each
            period (period 0 is the cohort size): one cohort as a Series indexed by period
            ``0, 1, ...`` (or a list), or a table of cohorts by periods such as
            :func:`churnlab.contractual.cohort_survival_counts` returns (cohorts may have
            different horizons; cells after a cohort's last period are missing). Or a tenure
            table, a DataFrame with columns ``periods_survived`` and ``active`` such as
            :func:`churnlab.contractual.subscription_tenure` returns, one row per customer.
        weights : array-like, optional
            With a tenure table only: the number of customers each row stands for.

        Returns
        -------
        self
        """
        survived, active, w = read_tenure(data, weights)
        columns = {"periods_survived": survived.astype(float), "active": active.astype(float)}
        self._fit_columns(columns, w, time_unit=time_unit_of(data))
        last = np.where(active, survived, survived + 1)
        self.max_periods_ = int(last.max())
        return self

    # -- likelihood ----------------------------------------------------------------------
    def _prepare(self, columns, weights) -> _Prepared:
        k, active = columns["periods_survived"], columns["active"] > 0
        return _Prepared(k[~active], weights[~active], k[active], weights[active])

    def _initial_params(self, prep: _Prepared) -> np.ndarray:
        return np.array([1.0, 1.0])

    def _loglik(self, params, prep: _Prepared, gradient: bool = True):
        """Equation (B3) of Fader & Hardie (2007) and its gradient in (alpha, beta).

        A customer lost after ``k`` renewals adds ``ln P(T = k + 1) = ln B(alpha + 1, beta + k)
        - ln B(alpha, beta)`` (equation 5); one still active after ``k`` renewals adds
        ``ln S(k) = ln B(alpha, beta + k) - ln B(alpha, beta)`` (equation 6). With
        ``d/da ln B(a, b) = psi(a) - psi(a + b)`` the gradient is a sum of digamma terms.
        """
        a, b = params
        kl, wl, ka, wa = prep.k_lost, prep.w_lost, prep.k_active, prep.w_active
        base = betaln(a, b)
        ll = wsum(wl, betaln(a + 1.0, b + kl) - base) + wsum(wa, betaln(a, b + ka) - base)
        if not gradient:
            return float(ll), None
        psi_ab, psi_b = digamma(a + b), digamma(b)
        psi_lost = digamma(a + b + kl + 1.0)
        psi_active = digamma(a + b + ka)
        # psi(a + 1) - psi(a) = 1 / a
        d_a = wsum(wl, 1.0 / a + psi_ab - psi_lost) + wsum(wa, psi_ab - psi_active)
        d_b = wsum(wl, digamma(b + kl) - psi_b + psi_ab - psi_lost)
        d_b += wsum(wa, digamma(b + ka) - psi_b + psi_ab - psi_active)
        return float(ll), np.array([d_a, d_b])

    # -- the duration distribution -------------------------------------------------------
    def _ab(self) -> tuple[float, float]:
        check_is_fitted(self, "params_")
        a, b = self.params_.to_numpy()
        return float(a), float(b)

    def survival_function(self, t):
        """``S(t) = B(alpha, beta + t) / B(alpha, beta)``: share still active after t renewals.

        Equation (6) of Fader & Hardie (2007), in log space. ``S(0) = 1``.

        Parameters
        ----------
        t : int, array-like or Series
            Periods since acquisition (whole numbers >= 0).

        Returns
        -------
        float for a scalar; a Series named ``survival`` otherwise (indexed like a Series
        input, else by period).

        Examples
        --------
        The regular cohort (alpha 0.704, beta 1.182, Fader & Hardie 2007): S(1) = 1.182 /
        1.886 = 0.627 and S(2) = S(1) x 2.182 / 2.886 = 0.474.

        >>> model = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> model.survival_function([1, 2, 12]).round(3).tolist()
        [0.627, 0.474, 0.17]
        """
        a, b = self._ab()
        t_values, template = _periods(t, "t", 0)
        return _shaped(template, np.exp(betaln(a, b + t_values) - betaln(a, b)), "survival")

    def churn_probability(self, t):
        """``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``: cancelling in period t.

        Equation (5) of Fader & Hardie (2007), in log space; it equals the recursion of their
        equation (7) and ``S(t - 1) - S(t)``.

        Parameters
        ----------
        t : int, array-like or Series
            Periods (whole numbers >= 1).

        Returns
        -------
        float or Series named ``churn_probability``

        Examples
        --------
        The regular cohort (alpha 0.704, beta 1.182): P(T = 1) = 0.704 / 1.886 = 0.373.

        >>> model = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> round(model.churn_probability(1), 3)
        0.373
        """
        a, b = self._ab()
        t_values, template = _periods(t, "t", 1)
        values = np.exp(betaln(a + 1.0, b + t_values - 1.0) - betaln(a, b))
        return _shaped(template, values, "churn_probability")

    def retention_rate(self, t):
        """``r_t = (beta + t - 1) / (alpha + beta + t - 1)``: share of customers renewing at t.

        Equation (8) of Fader & Hardie (2007): ``r_t = S(t) / S(t - 1)``. It rises with ``t``
        towards 1, because the customers most likely to cancel leave first.

        Parameters
        ----------
        t : int, array-like or Series
            Periods (whole numbers >= 1).

        Returns
        -------
        float or Series named ``retention_rate``

        Examples
        --------
        The regular cohort (alpha 0.704, beta 1.182): r_5 = 5.182 / 5.886 = 0.880.

        >>> model = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> model.retention_rate([1, 2, 5, 12]).round(3).tolist()
        [0.627, 0.756, 0.88, 0.945]
        """
        a, b = self._ab()
        t_values, template = _periods(t, "t", 1)
        values = (b + t_values - 1.0) / (a + b + t_values - 1.0)
        return _shaped(template, values, "retention_rate")

    # -- value ---------------------------------------------------------------------------
    def discounted_expected_residual_lifetime(
        self, discount_rate, periods_survived=0, *, retention_gain: float = 0.0
    ):
        """DERL: discounted expected number of further renewals of an active customer.

        For a customer still active after ``k = periods_survived`` renewals (``n - 1 = k`` in
        the notation of Fader & Hardie 2010), valued at their next renewal decision, the
        renewals to come are worth, per unit of margin,

            DERL = sum_{j>=1} S(k + j) / S(k) / (1 + d)^(j - 1)
                 = (beta + k) / (alpha + beta + k) 2F1(1, beta + k + 1; alpha + beta + k + 1;
                   1 / (1 + d)),

        equation (6) of Fader & Hardie (2010), with the Gaussian hypergeometric function
        ``2F1``. The payment at the next renewal counts in full, each later one a period
        further discounted; the customer's residual lifetime value is ``margin * DERL``.

        ``2F1`` is evaluated by its power series, whose ``j``-th term is ``x^j`` times the
        product of the retention rates ``r_{k+1} ... r_{k+j+1}`` (equation 8 of Fader & Hardie
        2007): every term is positive, so nothing cancels, and as each ratio of successive
        terms is below ``x = 1 / (1 + d)`` the remaining tail is bounded by the last term
        times ``x / (1 - x)``; the sum stops when that bound is below ``SERIES_TOLERANCE``
        times the sum. :func:`scipy.special.hyp2f1` is not used: on this family it returns
        NaN for large ``alpha + beta + k`` and wrong values (even negative) near ``x = 1``
        when ``alpha`` is a whole number (``tests/contractual/test_sbg.py`` holds examples).

        Parameters
        ----------
        discount_rate : float
            Discount rate ``d > 0`` per period (per year for annual contracts).
        periods_survived : int, array-like or Series
            Renewals the customer has made (whole numbers >= 0), e.g. the
            ``periods_survived`` of the active customers of a tenure table.
        retention_gain : float
            What-if: raise every future retention rate ``r_t`` by this much (0.01 for one
            percentage point), capped at 1 (floored at 0 for a loss), in the same sum: then
            ``S(k + j) / S(k)`` is the product of the raised rates ``r_{k+1} ... r_{k+j}``.
            0 gives the model's DERL.

        Returns
        -------
        float for a scalar ``periods_survived``; otherwise a Series named ``derl`` (indexed
        like a Series input, else by ``periods_survived``).

        Examples
        --------
        The regular cohort; the values agree with the defining sum and with mpmath's
        hypergeometric function (``tests/contractual/test_sbg.py``).

        >>> model = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> model.discounted_expected_residual_lifetime(0.10, [0, 1, 7]).round(2).tolist()
        [2.96, 4.1, 6.84]
        >>> round(model.discounted_expected_residual_lifetime(0.10, 7, retention_gain=0.01), 2)
        7.49
        """
        x = _discount_factor(discount_rate)
        gain = float(retention_gain)
        if not np.isfinite(gain) or abs(gain) > 1:
            raise ValueError(f"retention_gain must be between -1 and 1, got {retention_gain!r}")
        check_is_fitted(self, "params_")
        k, template = _periods(periods_survived, "periods_survived", 0)
        distinct, inverse = np.unique(k, return_inverse=True)
        values = self._residual_lifetime(distinct.astype(float), x, gain)
        return _shaped(template, values[inverse.reshape(-1)].reshape(k.shape), "derl")

    def _residual_lifetime(self, k: np.ndarray, x: float, gain: float) -> np.ndarray:
        """``sum_{j>=1} x^(j-1) prod_{i=1..j} clip(r_{k+i} + gain, 0, 1)`` for each ``k``.

        Summed in blocks of terms (a loop over terms, vectorised over the distinct ``k``);
        the blocks double in length up to ``SERIES_BLOCK``. Each term is at most ``x`` times
        the one before, so the tail after a term is at most that term times ``x / (1 - x)``.
        """
        a, b = self._ab()
        total = np.zeros(len(k))
        running = np.ones(len(k))  # the product of the last block's last term
        ratio_bound = x / (1.0 - x)
        start, length = 1, 64
        while True:
            j = np.arange(start, start + length, dtype=float)
            t = k[:, None] + j[None, :]  # the periods k + j
            rates = np.clip((b + t - 1.0) / (a + b + t - 1.0) + gain, 0.0, 1.0)
            # term_j = term_(j-1) * r_(k+j) * x, except term_1 = r_(k+1)
            steps = rates * np.r_[1.0 if start == 1 else x, np.full(length - 1, x)]
            terms = running[:, None] * np.cumprod(steps, axis=1)
            total += terms.sum(axis=1)
            running = terms[:, -1]
            start += length
            if np.all(running * ratio_bound <= SERIES_TOLERANCE * total):
                return total
            if start > SERIES_MAX_TERMS:
                raise ValueError(
                    f"the discount rate {1 / x - 1:.3g} is too small: the residual lifetime sum "
                    f"has not converged in {SERIES_MAX_TERMS:,} periods; use a larger "
                    "discount_rate"
                )
            length = min(2 * length, SERIES_BLOCK)

    def discounted_expected_lifetime(self, discount_rate) -> float:
        """DEL: discounted expected lifetime, in periods, of a customer just acquired.

        ``DEL = sum_{t>=0} S(t) / (1 + d)^t = 2F1(1, beta; alpha + beta; 1 / (1 + d))``
        (Fader & Hardie 2010): the first period's payment is made at acquisition and counts in
        full. A new customer's expected lifetime value is ``margin * DEL``. Evaluated as
        ``1 + DERL(periods_survived=0) / (1 + d)``, the same series.

        Parameters
        ----------
        discount_rate : float
            Discount rate ``d > 0`` per period.

        Returns
        -------
        float

        Examples
        --------
        ``1 + DERL(0) / 1.1`` with the DERL of 2.9645 of
        :meth:`discounted_expected_residual_lifetime`:

        >>> model = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> round(model.discounted_expected_lifetime(0.10), 3)
        3.695
        """
        x = _discount_factor(discount_rate)
        check_is_fitted(self, "params_")
        return float(1.0 + x * self._residual_lifetime(np.zeros(1), x, 0.0)[0])

    # -- projection ----------------------------------------------------------------------
    def project(self, survivors, *, horizon: int | None = None, calibration_periods=None):
        """Project one cohort's survival and compare it with the counts observed.

        Expected survivors are ``n_0 S(t)`` (equation 6 of Fader & Hardie 2007) for periods
        ``0 .. horizon``; periods up to ``calibration_periods`` are in sample, later observed
        ones are the holdout.

        Parameters
        ----------
        survivors : Series or array-like
            The cohort's counts by period ``0, 1, ...`` (period 0 the cohort size), including
            any held-out periods.
        horizon : int, optional
            Last period to project (default: the last observed period).
        calibration_periods : int, optional
            Last period the model was fitted on (default :attr:`max_periods_`).

        Returns
        -------
        SurvivalProjection

        Examples
        --------
        >>> from churnlab.datasets import load_retention_cohorts
        >>> regular = load_retention_cohorts("customers").loc["regular"]
        >>> model = ShiftedBetaGeometric().fit(regular.loc[:7])
        >>> projection = model.project(regular)
        >>> round(float(projection.errors().loc["holdout", "mape"]), 2)
        1.49
        """
        check_is_fitted(self, "params_")
        table = survivors_table(survivors)
        if len(table) != 1:
            raise ValueError(f"project takes one cohort, got {len(table)} rows of survivors")
        actual = table.iloc[0]
        observed = int(actual.notna().sum()) - 1
        last = observed if horizon is None else check_horizon(horizon)
        if calibration_periods is None:
            calibration = self.max_periods_
        else:
            calibration = check_horizon(calibration_periods, "calibration_periods")
        periods = np.arange(last + 1)
        actual = actual.reindex(periods).to_numpy(float)
        survival = self.survival_function(periods).to_numpy()
        expected = actual[0] * survival
        retention = np.r_[np.nan, self.retention_rate(periods[1:]).to_numpy()]
        with np.errstate(invalid="ignore", divide="ignore"):
            actual_retention = np.r_[np.nan, actual[1:] / actual[:-1]]
            percent_error = 100 * (expected - actual) / actual
        sample = np.where(
            periods <= calibration,
            "calibration",
            np.where(np.isnan(actual), "projection", "holdout"),
        )
        frame = pd.DataFrame(
            {
                "actual": actual,
                "expected": expected,
                "actual_survival": actual / actual[0],
                "expected_survival": survival,
                "actual_retention": actual_retention,
                "expected_retention": retention,
                "error": expected - actual,
                "percent_error": percent_error,
                "sample": sample,
            },
            index=pd.RangeIndex(last + 1, name="period"),
        )
        return SurvivalProjection(
            table=frame,
            calibration_periods=int(calibration),
            time_unit=self.time_unit_ or time_unit_of(survivors),
        )

    # -- persistence ---------------------------------------------------------------------
    def _extra_to_dict(self) -> dict[str, Any]:
        return {"max_periods": self.max_periods_}

    def _extra_from_dict(self, extra: dict[str, Any], check) -> None:
        self.max_periods_ = check.integer("extra.max_periods", extra.get("max_periods"), minimum=0)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class SurvivalProjection(Result):
    """A cohort's observed survival beside the sBG projection (from ``project``).

    ``table`` is indexed by period and holds ``actual`` and ``expected`` customers, the same as
    shares of the cohort (``actual_survival``, ``expected_survival``), the period-on-period
    retention rates (``actual_retention``, ``expected_retention``), ``error`` (expected minus
    actual customers), ``percent_error`` (of actual) and ``sample``: ``calibration`` (periods
    the model was fitted on), ``holdout`` (observed later) or ``projection`` (not observed).
    """

    table: pd.DataFrame
    calibration_periods: int
    time_unit: str | None = None

    def errors(self) -> pd.DataFrame:
        """Projection error by sample: ``periods``, ``mean_abs_error`` (customers), ``mape``
        (mean absolute percentage error, %) and ``max_abs_error_points`` (largest gap between
        expected and actual survival, in percentage points of the cohort)."""
        table = self.table.loc[self.table.index > 0]  # period 0 is the cohort size itself
        rows = {}
        for sample in ("calibration", "holdout"):
            part = table[table["sample"] == sample]
            rows[sample] = {
                "periods": len(part),
                "mean_abs_error": part["error"].abs().mean(),
                "mape": part["percent_error"].abs().mean(),
                "max_abs_error_points": 100
                * (part["expected_survival"] - part["actual_survival"]).abs().max(),
            }
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("sample")

    def _html_title(self) -> str:
        return "sBG projection"

    def _html_notes(self) -> str:
        unit = PERIODS.get(self.time_unit or "", "periods")
        return (
            f"fitted on periods 0-{self.calibration_periods} ({unit}), projected to period "
            f"{self.table.index[-1]}"
        )
