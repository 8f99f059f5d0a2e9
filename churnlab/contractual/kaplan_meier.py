"""The Kaplan-Meier estimate of survival by period, with Greenwood intervals.

The model-free counterpart of the sBG curve. Renewals happen at whole periods, so the estimate
is a product over periods: of the customers at risk of cancelling before period ``t`` (alive
at period ``t - 1`` and observed long enough to know whether they renewed at ``t``), a share
``churned_t / at_risk_t`` left, and

    S(t) = prod_{j<=t} (1 - churned_j / at_risk_j)                  (Kaplan & Meier 1958).

A customer lost after ``k`` renewals cancels in period ``k + 1``; one still active after ``k``
renewals is at risk up to period ``k`` and censored after it. Greenwood's formula gives the
variance, ``Var S(t) = S(t)^2 sum_{j<=t} churned_j / (at_risk_j (at_risk_j - churned_j))``, and
the interval is built on ``log(-log S(t))`` so that it stays within (0, 1): the bounds are
``S(t)^exp(+-z sigma_t)`` with ``sigma_t = sqrt(sum ...) / |log S(t)|`` (Kalbfleisch &
Prentice 2002, section 1.4).

For one cohort whose survival counts are fully observed the estimate is simply
``n_t / n_0``; censoring matters when cohorts of different ages are pooled.

References
----------
Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations.
*Journal of the American Statistical Association* 53(282), 457-481.

Kalbfleisch, J. D. & Prentice, R. L. (2002). *The Statistical Analysis of Failure Time Data*,
2nd ed. Wiley.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri

from churnlab.contractual.cohorts import PERIODS, read_tenure, time_unit_of
from churnlab.results import Result


@dataclass(frozen=True)
class KaplanMeier(Result):
    """Kaplan-Meier survival by period (:func:`kaplan_meier`).

    ``table`` is indexed by period ``0, 1, ...`` with ``at_risk`` (customers whose renewal at
    that period was observed), ``churned`` (of them, those who cancelled), ``censored``
    (customers still active whose observation ends at that period), ``survival``, ``std_err``
    (Greenwood) and ``ci_lower``, ``ci_upper`` (log-log interval at ``level``).
    """

    table: pd.DataFrame
    level: float
    time_unit: str | None = None

    @property
    def survival(self) -> pd.Series:
        """The estimated survival curve, indexed by period."""
        return self.table["survival"].copy()

    def _html_title(self) -> str:
        return f"Kaplan-Meier survival by period ({PERIODS.get(self.time_unit or '', 'periods')})"

    def _html_notes(self) -> str:
        return f"{self.level:.0%} log-log intervals; {self.table['at_risk'].iloc[0]:g} customers"


def kaplan_meier(data, *, weights=None, level: float = 0.95) -> KaplanMeier:
    """Kaplan-Meier estimate of the share of customers still active after each period.

    Parameters
    ----------
    data : Series, array-like or DataFrame
        Survival counts (one cohort by period, or cohorts by periods with missing cells after
        each cohort's horizon, as :func:`churnlab.contractual.cohort_survival_counts` returns)
        or a tenure table with columns ``periods_survived`` and ``active`` (as
        :func:`churnlab.contractual.subscription_tenure` returns).
    weights : array-like, optional
        With a tenure table: the number of customers each row stands for.
    level : float
        Confidence level of the interval (between 0 and 1).

    Returns
    -------
    KaplanMeier

    Examples
    --------
    Five customers; at period 1 one of 5 cancels (S = 4/5), at period 2 one of the 3 still at
    risk (S = 4/5 x 2/3), at period 3 one of 2 (S = 4/5 x 2/3 x 1/2):

    >>> km = kaplan_meier(pd.DataFrame({"periods_survived": [0, 1, 1, 2, 3],
    ...                                 "active": [False, False, True, False, True]}))
    >>> km.table[["at_risk", "churned", "censored", "survival"]]
            at_risk  churned  censored  survival
    period
    0           5.0      0.0       0.0  1.000000
    1           5.0      1.0       1.0  0.800000
    2           3.0      1.0       0.0  0.533333
    3           2.0      1.0       1.0  0.266667
    """
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    survived, active, w = read_tenure(data, weights)
    # churned customers leave in period k + 1; active ones are observed alive up to period k
    last = int(max(np.max(survived + ~active), 1))
    churned = np.bincount(survived[~active] + 1, weights=w[~active], minlength=last + 1)
    censored = np.bincount(survived[active], weights=w[active], minlength=last + 1)
    # at risk in period t: alive at t - 1 and not censored before t
    leaving = churned + censored  # customers whose observation ends at period t
    leaving_before = np.r_[0.0, np.cumsum(leaving)[:-1]]
    total = w.sum()
    at_risk = total - leaving_before
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, churned / at_risk, 0.0)
        survival = np.cumprod(1.0 - hazard)
        greenwood_terms = np.where(
            (at_risk > churned) & (churned > 0), churned / (at_risk * (at_risk - churned)), 0.0
        )
        greenwood = np.cumsum(greenwood_terms)
        std_err = survival * np.sqrt(greenwood)
        z = ndtri(0.5 + level / 2)  # the normal quantile, as scipy.stats.norm.ppf computes it
        log_s = np.log(survival)
        sigma = np.sqrt(greenwood) / np.abs(log_s)
        lower = np.exp(log_s * np.exp(-z * sigma))  # S^exp(+z sigma), written to avoid 0 * inf
        upper = np.exp(log_s * np.exp(z * sigma))
    lower, upper = np.minimum(lower, upper), np.maximum(lower, upper)
    # no cancellation yet: S = 1 exactly; all gone: S = 0 exactly
    settled = (survival == 1.0) | (survival == 0.0)
    lower = np.where(settled, survival, lower)
    upper = np.where(settled, survival, upper)
    std_err = np.where(survival == 0.0, 0.0, std_err)
    table = pd.DataFrame(
        {
            "at_risk": at_risk,
            "churned": churned,
            "censored": censored,
            "survival": survival,
            "std_err": std_err,
            "ci_lower": lower,
            "ci_upper": upper,
        },
        index=pd.RangeIndex(last + 1, name="period"),
    )
    return KaplanMeier(table=table, level=float(level), time_unit=time_unit_of(data))
