"""Contractual retention data: the published cohorts in ``data/retention_cohorts/`` and a
simulator of subscriptions drawn from the shifted-beta-geometric process.

References
----------
Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
Interactive Marketing* 21(1), 76-90.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab._validation import as_timestamp
from churnlab.contractual.cohorts import check_period, full_periods
from churnlab.datasets.cdnow import data_path

#: Customers in each published cohort: Fader & Hardie (2007) fit on cohorts of 1,000.
PUBLISHED_COHORT_SIZE = 1000

_KINDS = ("percent", "customers")


def load_retention_cohorts(kind: str = "percent") -> pd.DataFrame:
    """The "regular" and "high end" survival curves of Fader & Hardie (2007), years 0-12.

    Parameters
    ----------
    kind : {'percent', 'customers'}
        ``'percent'``: the published percentages still a customer (one decimal).
        ``'customers'``: the counts of the paper's 1,000-customer cohorts (percent x 10,
        exact integers), the survival counts the sBG model is fitted on.

    Returns
    -------
    DataFrame
        One row per cohort (``regular``, ``high_end``; index named ``cohort``), one column per
        year since acquisition ``0 .. 12`` (named ``period``). ``attrs["time_unit"]`` is
        ``'Y'``. See ``data/retention_cohorts/README.md`` for provenance.

    Examples
    --------
    >>> load_retention_cohorts().loc[:, :3]
    period        0     1     2     3
    cohort
    regular   100.0  63.1  46.8  38.2
    high_end  100.0  86.9  74.3  65.3
    >>> load_retention_cohorts("customers").loc["regular", :3].tolist()
    [1000, 631, 468, 382]
    """
    if kind not in _KINDS:
        raise ValueError(f"kind={kind!r}: use one of {list(_KINDS)}")
    raw = pd.read_csv(data_path("retention_cohorts", "survival_percent.csv"))
    table = raw.set_index("year")[["regular", "high_end"]].T
    table.index = pd.Index(["regular", "high_end"], name="cohort")
    table.columns = pd.RangeIndex(len(raw), name="period")
    if kind == "customers":
        counts = table * (PUBLISHED_COHORT_SIZE / 100)
        rounded = counts.round()
        if not np.allclose(counts.to_numpy(), rounded.to_numpy(), rtol=0, atol=1e-9):
            raise ValueError("the bundled percentages do not give whole customers")
        table = rounded.astype("int64")
    table.attrs["time_unit"] = "Y"
    return table


def simulate_subscriptions(
    n_customers: int,
    alpha: float,
    beta: float,
    *,
    first_start="2020-01-01",
    n_cohorts: int = 12,
    period: str = "M",
    observation_end=None,
    seed=0,
) -> pd.DataFrame:
    """Subscriptions drawn from the sBG process, started over several consecutive periods.

    Each customer joins in one of ``n_cohorts`` consecutive calendar periods from
    ``first_start`` (uniformly), on a uniformly drawn day of it; draws a cancellation
    probability ``theta ~ Beta(alpha, beta)``; renews at each period with probability
    ``1 - theta`` and so cancels after ``T ~ Geometric(theta)`` periods (``T >= 1``), ending on
    their ``T``-th renewal date. Subscriptions not ended by ``observation_end`` are active.

    Parameters
    ----------
    n_customers : int
    alpha, beta : float
        Parameters of the beta distribution of ``theta`` (positive).
    first_start : date-like
        A day in the first cohort's period.
    n_cohorts : int
        Number of consecutive start periods.
    period : {'D', 'W', 'M', 'Q', 'Y'}
        The billing period (see :data:`churnlab.contractual.PERIODS`).
    observation_end : date-like, optional
        Day the data are extracted (default: the first day after the last cohort's period).
    seed : int or numpy Generator

    Returns
    -------
    DataFrame
        ``customer_id`` (1 ..), ``start``, ``end`` (NaT while active), ready for
        :func:`churnlab.contractual.cohort_survival_counts`.

    Examples
    --------
    >>> subs = simulate_subscriptions(5, 1.0, 2.0, n_cohorts=2, seed=1)
    >>> list(subs.columns), len(subs)
    (['customer_id', 'start', 'end'], 5)
    """
    check_period(period)
    if isinstance(n_customers, bool) or not isinstance(n_customers, int | np.integer):
        raise ValueError(f"n_customers must be a positive integer, got {n_customers!r}")
    if n_customers < 1:
        raise ValueError(f"n_customers must be a positive integer, got {n_customers!r}")
    if isinstance(n_cohorts, bool) or not isinstance(n_cohorts, int | np.integer) or n_cohorts < 1:
        raise ValueError(f"n_cohorts must be a positive integer, got {n_cohorts!r}")
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    first = pd.Period(as_timestamp(first_start, "first_start"), freq=period)
    if observation_end is None:
        end_of_observation = (first + n_cohorts).start_time
    else:
        end_of_observation = as_timestamp(observation_end, "observation_end").normalize()
    cohort = rng.integers(0, n_cohorts, size=n_customers)
    period_start = np.array([(first + c).start_time for c in range(n_cohorts)], "datetime64[D]")
    period_days = np.array(
        [((first + c + 1).start_time - (first + c).start_time).days for c in range(n_cohorts)]
    )
    day = np.floor(rng.random(n_customers) * period_days[cohort]).astype(np.int64)
    start = pd.Series(period_start[cohort] + day.astype("timedelta64[D]")).astype("datetime64[ns]")
    if (start > end_of_observation).any():
        raise ValueError(
            f"observation_end={end_of_observation.date()} falls before some start dates; "
            "choose a later observation_end"
        )
    theta = rng.beta(alpha, beta, size=n_customers)
    lifetime = rng.geometric(np.clip(theta, 1e-300, 1.0))
    # lifetimes beyond the observation window only need to exceed it (and keep dates in range)
    window = full_periods(start, pd.Series(end_of_observation, index=start.index), period)
    lifetime = np.minimum(lifetime, window + 1)
    end = _add_periods(start, lifetime, period)
    end = end.where(end <= end_of_observation)
    return pd.DataFrame(
        {"customer_id": np.arange(1, n_customers + 1), "start": start, "end": end},
    )


def _add_periods(start: pd.Series, k: np.ndarray, period: str) -> pd.Series:
    """``start`` plus ``k`` calendar periods (the day clipped to the end of a shorter month)."""
    if period in ("D", "W"):
        step = 7 if period == "W" else 1
        return start + pd.to_timedelta(k * step, unit="D")
    months = k * {"M": 1, "Q": 3, "Y": 12}[period]
    total = start.dt.month.to_numpy() - 1 + months
    year = start.dt.year.to_numpy() + total // 12
    month = total % 12 + 1
    first_of_month = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}))
    day = np.minimum(start.dt.day.to_numpy(), first_of_month.dt.days_in_month.to_numpy())
    return (first_of_month + pd.to_timedelta(day - 1, unit="D")).astype("datetime64[ns]")
