"""Small statistics that several modules share, each defined once.

* :func:`wilson_interval`: Wilson's score interval for a proportion, used for churn rates in
  calibration bins (:func:`churnlab.churn.calibration_table`), yearly leak rates and reason
  shares (:mod:`churnlab.defection`; Goodman's simultaneous intervals are Wilson's at a
  Bonferroni-adjusted level).
* :func:`gap_statistics`: the mean, standard deviation and coefficient of variation of the
  times between a customer's purchase days, the regularity measure of the churn features
  (``ipt_*`` in :func:`churnlab.churn.make_churn_dataset`) and of
  :func:`churnlab.loyalty.customer_activity` (``mean_gap``, ``cv_gap``).

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
*JASA* 22(158), 209-212.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

__all__ = ["gap_statistics", "wilson_interval"]


def wilson_interval(successes, trials, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's score interval for the proportion ``successes / trials``.

    The interval holds every ``p`` with ``(p - k/n)^2 <= z^2 p (1 - p) / n``, ``z`` the normal
    quantile at ``(1 + level) / 2`` (Wilson 1927):

        (k + z^2 / 2 -+ z sqrt(k (n - k) / n + z^2 / 4)) / (n + z^2).

    Unlike the Wald interval it stays within [0, 1] and is not empty at ``k = 0`` or ``n``.

    Parameters
    ----------
    successes, trials : array-like
        Counts ``k`` and ``n`` (``0 <= k <= n``, ``n > 0``), broadcast together.
    level : float
        Confidence level, in (0, 1); the caller checks it.

    Returns
    -------
    (lower, upper) : arrays

    Examples
    --------
    50 of 100: z = 1.959964, half-width z sqrt(25 + z^2 / 4) / (100 + z^2) = 0.09620.

    >>> lower, upper = wilson_interval(50, 100)
    >>> round(float(lower), 4), round(float(upper), 4)
    (0.4038, 0.5962)
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z2 = norm.ppf(0.5 + level / 2) ** 2
    centre = (k + z2 / 2) / (n + z2)
    half = np.sqrt(z2 * (k * (n - k) / n + z2 / 4)) / (n + z2)
    share = k / n
    # The interval always holds k / n; the clipping only removes rounding below 0 / above 1.
    lower = np.clip(np.minimum(centre - half, share), 0.0, 1.0)
    upper = np.clip(np.maximum(centre + half, share), 0.0, 1.0)
    return lower, upper


def gap_statistics(customer: np.ndarray, day: np.ndarray, n_customers: int):
    """Number, mean, standard deviation and coefficient of variation of each customer's gaps.

    A gap is the time between two consecutive purchase days of a customer. The standard
    deviation is the sample one (``ddof=1``: the gaps are a sample of the customer's buying
    rhythm), so it and the coefficient of variation ``std / mean`` need two gaps (three
    purchase days); the mean needs one. Undefined values are NaN. A Poisson buyer's gaps are
    exponential, with a coefficient of variation of 1; a perfectly periodic buyer's is 0.

    Parameters
    ----------
    customer : int array
        Customer position (0 .. ``n_customers`` - 1) of each purchase day, sorted by customer
        then day, one entry per purchase day.
    day : array
        The purchase days, in any unit (the gaps are in the same unit).
    n_customers : int

    Returns
    -------
    (count, mean, std, cv) : arrays of length ``n_customers``

    Examples
    --------
    Customer 0 buys on days 0, 10 and 30 (gaps 10 and 20: mean 15, sample standard deviation
    7.071, CV 0.4714); customer 1 buys once.

    >>> count, mean, std, cv = gap_statistics(np.array([0, 0, 0, 1]), np.array([0, 10, 30, 5]), 2)
    >>> count.tolist(), mean.tolist(), np.round(std, 3).tolist(), np.round(cv, 4).tolist()
    ([2, 0], [15.0, nan], [7.071, nan], [0.4714, nan])
    """
    customer = np.asarray(customer)
    day = np.asarray(day)
    # every pair of consecutive entries, in place; the pairs that straddle two customers
    # (``cut``) weigh 0, which leaves each customer's sums exactly as over its own gaps
    owner = customer[1:]
    cut = np.flatnonzero(owner != customer[:-1])
    gap = np.subtract(day[1:], day[:-1], dtype=float)
    gap[cut] = 0.0
    count = np.bincount(owner, minlength=n_customers)
    count -= np.bincount(owner[cut], minlength=n_customers)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(owner, weights=gap, minlength=n_customers) / count
        deviation = mean[owner]
        np.subtract(gap, deviation, out=deviation)
        np.square(deviation, out=deviation)
        deviation[cut] = 0.0
        squares = np.bincount(owner, weights=deviation, minlength=n_customers)
        del deviation, gap
        std = np.where(count >= 2, np.sqrt(squares / (count - 1)), np.nan)
        cv = std / mean
    mean = np.where(count >= 1, mean, np.nan)
    return count, mean, std, cv
