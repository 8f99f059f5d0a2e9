"""From a subscription table to tenure and cohort survival counts.

In a contractual business a customer is either a subscriber or not, and can leave only at a
renewal: the end of a billing period. Two summaries feed the retention models:

* **tenure** (:func:`subscription_tenure`), one row per customer: ``periods_survived``, the
  renewals the customer was still a subscriber at, and ``active``, whether they still are at
  the end of observation (an active customer's tenure is censored);
* **cohort survival counts** (:func:`cohort_survival_counts`), one row per cohort of customers
  who started in the same calendar period: the number still subscribed at the start of each
  period since they joined, ``n_0 >= n_1 >= ...``, the data of Fader & Hardie (2007).

Periods are calendar periods (:data:`PERIODS`): a monthly subscription started on 31 January
renews on the last day of February, then on 31 March. They are billing cycles, not lengths of
time, which is why they are defined here and not by :data:`churnlab.TIME_UNITS` (a month of
30.44 days would drift away from the billing date). The renewal dates of a customer who started
on day ``s`` are ``s + k`` periods, ``k = 1, 2, ...``; the customer is counted alive at the
start of period ``k + 1`` when their subscription ended after that date.

References
----------
Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
Interactive Marketing* 21(1), 76-90.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab._validation import (
    as_timestamp,
    fail,
    parse_dates,
    require_columns,
    require_dataframe,
    require_no_nan,
    show_rows,
)

#: Supported billing periods: pandas period codes and their names (plural) for labels.
PERIODS: dict[str, str] = {
    "D": "days",
    "W": "weeks",
    "M": "months",
    "Q": "quarters",
    "Y": "years",
}

#: Columns of a tenure table (one row per customer, or per group of customers with weights).
TENURE_COLUMNS: tuple[str, str] = ("periods_survived", "active")

#: Calendar months in each period that is a whole number of months.
_MONTHS = {"M": 1, "Q": 3, "Y": 12}


def check_period(period: str) -> str:
    """Return ``period`` if it is one of :data:`PERIODS`, else raise a ValueError naming it."""
    if not isinstance(period, str) or period not in PERIODS:
        raise ValueError(f"period={period!r} is not supported; use one of {list(PERIODS)}")
    return period


def check_horizon(horizon, name: str = "horizon") -> int:
    """A positive whole number of periods, else a ValueError naming the argument."""
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"{name} must be a positive whole number of periods, got {horizon!r}")
    return int(horizon)


def full_periods(start: pd.Series, date: pd.Series, period: str) -> np.ndarray:
    """Number of whole calendar periods from ``start`` to ``date`` (renewal dates on or before it).

    The ``k``-th renewal of a subscription started on ``start`` falls ``k`` periods later, on
    the same day of the month (the last day of a shorter month). Returns the largest ``k`` with
    that date ``<= date`` (0 when ``date`` falls before the first renewal; negative when
    ``date`` is before ``start``). Both arguments are day-precision datetimes.

    Examples
    --------
    >>> start = pd.Series(pd.to_datetime(["2020-01-31", "2020-01-31", "2020-01-15"]))
    >>> date = pd.Series(pd.to_datetime(["2020-02-29", "2020-03-30", "2021-01-14"]))
    >>> full_periods(start, date, "M").tolist()
    [1, 1, 11]
    >>> full_periods(start, date, "Y").tolist()
    [0, 0, 0]
    """
    check_period(period)
    if period in ("D", "W"):
        days = (date.to_numpy("datetime64[D]") - start.to_numpy("datetime64[D]")).astype(np.int64)
        return days // (7 if period == "W" else 1)
    months = (
        12 * (date.dt.year.to_numpy() - start.dt.year.to_numpy())
        + date.dt.month.to_numpy()
        - start.dt.month.to_numpy()
    ).astype(np.int64)
    # the anniversary in date's month is start's day of the month, or the month's last day
    anniversary = np.minimum(start.dt.day.to_numpy(), date.dt.days_in_month.to_numpy())
    months -= date.dt.day.to_numpy() < anniversary
    return months // _MONTHS[period]


def _subscription_dates(
    subscriptions: pd.DataFrame,
    observation_end,
    customer_col: str,
    start_col: str,
    end_col: str,
) -> tuple[pd.Series, pd.Series, np.ndarray, pd.Timestamp]:
    """Checked start and end dates (calendar days), the active mask and the observation end."""
    require_dataframe(subscriptions, "subscriptions")
    require_columns(subscriptions, [customer_col, start_col, end_col], "subscriptions")
    if len(subscriptions) == 0:
        raise ValueError("subscriptions is empty: there are no customers to summarise")
    require_no_nan(subscriptions, [customer_col])
    duplicated = subscriptions[customer_col].duplicated(keep=False).to_numpy()
    if duplicated.any():
        fail(
            customer_col,
            "customers with more than one subscription",
            subscriptions,
            duplicated,
            "Keep one row per customer (e.g. each customer's first subscription), or give a "
            "re-subscription its own id.",
        )
    end_of_observation = as_timestamp(observation_end, "observation_end").normalize()
    start = parse_dates(subscriptions, start_col).dt.normalize()
    active = subscriptions[end_col].isna().to_numpy()
    end = pd.Series(pd.NaT, index=subscriptions.index, dtype="datetime64[ns]")
    if (~active).any():
        ended = subscriptions.loc[~active]
        end.loc[~active] = parse_dates(ended, end_col).dt.normalize()
    late_start = (start > end_of_observation).to_numpy()
    if late_start.any():
        fail(
            start_col,
            f"subscriptions that start after observation_end ({end_of_observation.date()})",
            subscriptions,
            late_start,
            "Leave out customers acquired after the end of observation, or move observation_end.",
        )
    before = ~active & (end < start).to_numpy()
    if before.any():
        fail(end_col, "end before start", subscriptions, before, "Check the two date columns.")
    late_end = ~active & (end > end_of_observation).to_numpy()
    if late_end.any():
        fail(
            end_col,
            f"end after observation_end ({end_of_observation.date()}): a tenure longer than "
            "the observation window",
            subscriptions,
            late_end,
            "An end date not yet reached cannot be known: leave it empty (still active) or "
            "move observation_end to the date the data were extracted.",
        )
    return start, end, active, end_of_observation


def subscription_tenure(
    subscriptions: pd.DataFrame,
    observation_end,
    *,
    period: str = "M",
    customer_col: str = "customer_id",
    start_col: str = "start",
    end_col: str = "end",
) -> pd.DataFrame:
    """Each customer's tenure in whole billing periods, and whether they are still active.

    Parameters
    ----------
    subscriptions : DataFrame
        One row per customer: an id, the start date and the end date of the subscription
        (missing, i.e. NaT / None / NaN, while the customer is still a subscriber).
    observation_end : date-like
        The day the data were extracted. End dates after it are an error.
    period : {'D', 'W', 'M', 'Q', 'Y'}
        The billing period (:data:`PERIODS`): calendar days, weeks, months, quarters, years.
    customer_col, start_col, end_col : str
        Column names.

    Returns
    -------
    DataFrame
        Indexed by customer id (in input order): ``cohort`` (the calendar period of the start,
        a pandas Period), ``periods_survived`` (renewal dates at which the customer was still
        a subscriber: those before the end date, or on or before ``observation_end`` for an
        active customer), ``active`` (bool) and ``periods_observed`` (renewal dates on or
        before ``observation_end``). ``attrs["time_unit"]`` records ``period``.

    Examples
    --------
    >>> subs = pd.DataFrame({"customer_id": [1, 2, 3],
    ...                      "start": ["2024-01-31", "2024-01-10", "2024-03-05"],
    ...                      "end": ["2024-04-15", None, "2024-04-05"]})
    >>> subscription_tenure(subs, "2024-06-30")
                  cohort  periods_survived  active  periods_observed
    customer_id
    1            2024-01                 2   False                 5
    2            2024-01                 5    True                 5
    3            2024-03                 0   False                 3
    """
    check_period(period)
    start, end, active, obs_end = _subscription_dates(
        subscriptions, observation_end, customer_col, start_col, end_col
    )
    observed = full_periods(start, pd.Series(obs_end, index=start.index), period)
    # a renewal date strictly before the end date was reached as a subscriber
    last_day = (end - pd.Timedelta(days=1)).fillna(start)
    survived = np.where(active, observed, np.maximum(full_periods(start, last_day, period), 0))
    out = pd.DataFrame(
        {
            "cohort": start.dt.to_period(period).to_numpy(),
            "periods_survived": survived.astype(np.int64),
            "active": active,
            "periods_observed": observed.astype(np.int64),
        },
        index=pd.Index(subscriptions[customer_col].to_numpy(), name=customer_col),
    )
    out.attrs["time_unit"] = period
    return out


def cohort_survival_counts(
    subscriptions: pd.DataFrame,
    observation_end,
    *,
    period: str = "M",
    horizon: int | None = None,
    customer_col: str = "customer_id",
    start_col: str = "start",
    end_col: str = "end",
) -> pd.DataFrame:
    """Customers still subscribed at the start of each period, by cohort of start period.

    Customers who started in the same calendar ``period`` form a cohort. Its count in column
    ``k`` is the number of its customers still subscribed ``k`` periods after their own start
    (column 0 is the cohort size). A cohort is counted up to the last period that every one of
    its customers has reached by ``observation_end`` (the window of its latest starter); later
    cells are missing (``<NA>``), so the table is the usual triangle.

    Parameters
    ----------
    subscriptions, observation_end, period, customer_col, start_col, end_col
        As in :func:`subscription_tenure`.
    horizon : int, optional
        Keep periods ``0 .. horizon`` only (a positive whole number).

    Returns
    -------
    DataFrame
        Indexed by ``cohort`` (pandas Periods, sorted), one column per period ``0, 1, ...``
        (column index named ``period``), nullable integer counts.
        ``attrs["time_unit"]`` records ``period``.

    Examples
    --------
    >>> subs = pd.DataFrame({"customer_id": [1, 2, 3, 4],
    ...                      "start": ["2024-01-05", "2024-01-20", "2024-02-03", "2024-02-11"],
    ...                      "end": ["2024-03-01", None, "2024-02-20", None]})
    >>> cohort_survival_counts(subs, "2024-04-10")
    period   0  1     2
    cohort
    2024-01  2  2     1
    2024-02  2  1  <NA>
    """
    if horizon is not None:
        horizon = check_horizon(horizon)
    tenure = subscription_tenure(
        subscriptions,
        observation_end,
        period=period,
        customer_col=customer_col,
        start_col=start_col,
        end_col=end_col,
    )
    codes, cohorts = pd.factorize(tenure["cohort"], sort=True)
    observed = tenure["periods_observed"].to_numpy()
    # every customer of a cohort is observed up to its latest starter's window
    window = np.full(len(cohorts), np.iinfo(np.int64).max)
    np.minimum.at(window, codes, observed)
    if horizon is not None:
        window = np.minimum(window, horizon)
    width = int(window.max()) + 1
    last_alive = np.minimum(tenure["periods_survived"].to_numpy(), window[codes])
    # a customer alive through period j adds one to columns 0..j: count by last period alive,
    # then cumulate from the right
    by_last = np.zeros((len(cohorts), width), dtype=np.int64)
    np.add.at(by_last, (codes, last_alive), 1)
    counts = by_last[:, ::-1].cumsum(axis=1)[:, ::-1]
    table = pd.DataFrame(
        counts,
        index=pd.Index(cohorts, name="cohort"),
        columns=pd.RangeIndex(width, name="period"),
    ).astype("Int64")
    beyond = np.arange(width)[None, :] > window[:, None]
    table = table.mask(beyond)
    table.attrs["time_unit"] = period
    return table


# -- reading survival data -----------------------------------------------------------------


def _periods_of(labels, name: str) -> np.ndarray:
    """Check that ``labels`` are the periods 0, 1, 2, ... in order."""
    try:
        values = np.asarray(labels, dtype=float)
    except (TypeError, ValueError):
        values = None
    if values is None or not np.array_equal(values, np.arange(len(values))):
        raise ValueError(
            f"{name} must be labelled by the periods 0, 1, 2, ... in order (period 0 holds the "
            f"cohort size), got {list(labels)[:8]}"
        )
    return values.astype(np.int64)


def survivors_table(survivors) -> pd.DataFrame:
    """Checked survival counts as a float table: one row per cohort, one column per period.

    ``survivors`` is one cohort's counts (a Series indexed by period 0, 1, ... or a list /
    array) or a table of cohorts (rows) by periods (columns 0, 1, ...) such as
    :func:`cohort_survival_counts` returns, missing after each cohort's last observed period.
    Counts must be finite, non-negative, start positive at period 0 and never increase.
    """
    if isinstance(survivors, pd.DataFrame):
        table = survivors
        name = "survivors"
    else:
        if isinstance(survivors, pd.Series):
            series = survivors
        else:
            array = np.asarray(survivors)
            if array.ndim != 1:
                raise ValueError(
                    "survivors must be one cohort's counts (1-D) or a DataFrame of cohorts by "
                    f"periods, got an array of shape {array.shape}"
                )
            series = pd.Series(array)
        name = f"survivors ({series.name})" if series.name is not None else "survivors"
        table = series.to_frame().T
        table.index = pd.Index([series.name if series.name is not None else 0], name="cohort")
    if table.shape[0] == 0 or table.shape[1] == 0:
        raise ValueError(f"{name} is empty: pass at least the cohort size at period 0")
    _periods_of(table.columns, f"the columns of {name}")
    try:
        values = table.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold numbers (customers alive at each period)") from None
    frame = pd.DataFrame(values, index=table.index, columns=table.columns)
    missing = np.isnan(values)
    if np.isinf(values).any():
        fail(name, "infinite counts", frame, np.isinf(values).any(axis=1))
    # missing cells only after a cohort's last observed period
    gap = (missing[:, :-1] & ~missing[:, 1:]).any(axis=1) | missing[:, 0]
    if gap.any():
        fail(
            name,
            "missing counts before observed ones (or a missing cohort size at period 0)",
            frame,
            gap,
            "Counts may be missing only after a cohort's last observed period.",
        )
    negative = (values < 0).any(axis=1)
    if negative.any():
        fail(name, "negative counts", frame, negative)
    if (values[:, 0] <= 0).any():
        fail(name, "a cohort size (period 0) that is not positive", frame, values[:, 0] <= 0)
    with np.errstate(invalid="ignore"):
        rising = values[:, 1:] > values[:, :-1]
    if rising.any():
        first = int(np.flatnonzero(rising.any(axis=0))[0]) + 1
        column = table.columns[first]
        raise ValueError(
            f"column '{column}' of {name}: survival counts that increase from period "
            f"{first - 1} to period {first} in {int(rising[:, first - 1].sum())} cohort(s):\n"
            f"{show_rows(frame, rising.any(axis=1))}\n"
            "Survival counts are the customers still active at the start of each period: they "
            "can only fall. Pass counts of one cohort, not new sign-ups or active totals."
        )
    return frame


def tenure_from_survivors(survivors) -> pd.DataFrame:
    """Turn survival counts into a weighted tenure table (lost and still-active groups).

    Of a cohort observed to period ``K``, ``n_{t-1} - n_t`` customers left between periods
    ``t - 1`` and ``t`` (``periods_survived = t - 1``, not active) and ``n_K`` are still active
    after ``K`` renewals (``periods_survived = K``, active): the data of the log-likelihood in
    appendix B of Fader & Hardie (2007).

    Parameters
    ----------
    survivors : Series, array-like or DataFrame
        One cohort's counts by period, or cohorts by periods (see :func:`survivors_table`).

    Returns
    -------
    DataFrame
        Columns ``cohort``, ``periods_survived`` (int), ``active`` (bool) and ``customers``
        (the number of customers the row stands for), one row per cohort and group.

    Examples
    --------
    >>> tenure_from_survivors(pd.Series([100, 60, 45]))
       cohort  periods_survived  active  customers
    0       0                 0   False       40.0
    1       0                 1   False       15.0
    2       0                 2    True       45.0
    """
    table = survivors_table(survivors)
    values = table.to_numpy()
    observed = (~np.isnan(values)).sum(axis=1) - 1  # last observed period of each cohort
    rows = []
    for i, cohort in enumerate(table.index):  # one pass per cohort, not per customer
        n = values[i, : observed[i] + 1]
        k = int(observed[i])
        rows.append(
            pd.DataFrame(
                {
                    "cohort": cohort,
                    "periods_survived": np.arange(k + 1, dtype=np.int64),
                    "active": np.r_[np.zeros(k, dtype=bool), True],
                    "customers": np.r_[n[:-1] - n[1:], n[-1]],
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def read_tenure(data, weights=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``periods_survived``, ``active`` and weights from survival counts or a tenure table.

    ``data`` is a tenure table (a DataFrame with columns :data:`TENURE_COLUMNS`, one row per
    customer or, with ``weights``, per group of customers) or survival counts (anything
    :func:`survivors_table` accepts; then ``weights`` must be None).
    """
    if isinstance(data, pd.DataFrame) and set(TENURE_COLUMNS) <= set(data.columns):
        frame = data
        if len(frame) == 0:
            raise ValueError("the tenure table is empty: there are no customers")
        survived = frame["periods_survived"]
        values = pd.to_numeric(survived, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
        if bad.any():
            fail(
                "periods_survived",
                "values that are not whole numbers of periods >= 0",
                frame,
                bad,
                "periods_survived counts the renewals a customer was still a subscriber at.",
            )
        active = frame["active"]
        if active.dtype == bool:
            flags = active.to_numpy()
        else:
            bad = ~active.isin([True, False, 0, 1]).to_numpy() | active.isna().to_numpy()
            if bad.any():
                fail(
                    "active",
                    "values that are not True/False (or 1/0)",
                    frame,
                    bad,
                    "active is True for a customer still subscribed at the end of observation.",
                )
            flags = active.astype(bool).to_numpy()
        if weights is None:
            w = np.ones(len(frame))
        else:
            w = np.asarray(weights, dtype=float)
            if w.shape != (len(frame),):
                raise ValueError(f"weights has shape {w.shape} for {len(frame)} rows")
            bad = ~np.isfinite(w) | (w < 0)
            if bad.any():
                fail(
                    "weights",
                    "NaN, infinite or negative weights",
                    pd.DataFrame({"weights": w}),
                    bad,
                )
            if w.sum() <= 0:
                raise ValueError("weights sum to zero: there is nothing to fit")
        return values.astype(np.int64), flags, w
    if weights is not None:
        raise ValueError(
            "weights apply to a tenure table (columns periods_survived, active); survival "
            "counts already say how many customers each period stands for"
        )
    tenure = tenure_from_survivors(data)
    return (
        tenure["periods_survived"].to_numpy(),
        tenure["active"].to_numpy(),
        tenure["customers"].to_numpy(float),
    )


def time_unit_of(data) -> str | None:
    """The period recorded in ``data.attrs["time_unit"]``, if any."""
    attrs = getattr(data, "attrs", None)
    return attrs.get("time_unit") if isinstance(attrs, dict) else None
