"""Loyalty: NPS, the loyalty matrix, the loyalty ladder, customer types, concentration, complaints.

Every figure used as a default or a benchmark below is a practitioner's rule of thumb from the
project's source material (``docs/domain.md``); each is defined once here, named, and can be
overridden by an argument so an analyst can hold their own data against it.

The NPS functions live in :mod:`churnlab.nps`, the Lorenz curve and key-account risk in
:mod:`churnlab.concentration` and the complaint iceberg in :mod:`churnlab.complaints`; all are
re-exported here (:func:`nps`, :func:`nps_by`, :func:`nps_trend`, :func:`nps_band`,
:func:`concentration`, :func:`complaint_iceberg`).

References
----------
Dick, A. S. & Basu, K. (1994). Customer loyalty: toward an integrated conceptual framework.
Journal of the Academy of Marketing Science 22(2), 99-113.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnlab._validation import (
    as_float_array,
    check_customer_ids,
    check_number,
    check_numbers,
    fail,
    parse_dates,
    require_columns,
    require_dataframe,
)
from churnlab.complaints import (
    TOLD_BY_DISSATISFIED,
    TOLD_BY_DISSATISFIED_ALT,
    TOLD_BY_RESOLVED,
    UNHAPPY_PER_COMPLAINT,
    ComplaintIceberg,
    complaint_iceberg,
)
from churnlab.concentration import (
    KEY_ACCOUNT_THRESHOLD,
    PARETO_CUSTOMER_SHARE,
    PARETO_VALUE_SHARE,
    Concentration,
    concentration,
)
from churnlab.nps import (
    DETRACTOR_MAX,
    PROMOTER_MIN,
    NPSResult,
    check_scores,
    nps,
    nps_band,
    nps_by,
    nps_trend,
)
from churnlab.results import Result, html_result
from churnlab.rfm import unit_days
from churnlab.stats import gap_statistics
from churnlab.transactions import DEFAULT_RETURNS, read_occasions

__all__ = [
    "DETRACTOR_MAX",
    "KEY_ACCOUNT_THRESHOLD",
    "PARETO_CUSTOMER_SHARE",
    "PARETO_VALUE_SHARE",
    "PROMOTER_MIN",
    "TOLD_BY_DISSATISFIED",
    "TOLD_BY_DISSATISFIED_ALT",
    "TOLD_BY_RESOLVED",
    "UNHAPPY_PER_COMPLAINT",
    "NPSResult",
    "ComplaintIceberg",
    "Concentration",
    "CustomerTypes",
    "LoyaltyLadder",
    "LoyaltyMatrix",
    "complaint_iceberg",
    "concentration",
    "customer_activity",
    "customer_attitude",
    "customer_types",
    "loyalty_ladder",
    "loyalty_matrix",
    "nps",
    "nps_band",
    "nps_by",
    "nps_trend",
]

# --- rules of thumb (docs/domain.md: "Loyalty") -------------------------------------------------
#: "About 25% of first-time buyers become loyal" (docs/domain.md, Loyalty).
LOYAL_SHARE_BENCHMARK: float = 0.25
#: "Attached customers buy about 50% more often than first-time buyers" (docs/domain.md, Loyalty).
ATTACHED_PURCHASE_RATE_RATIO: float = 1.5

LOYALTY_KINDS: tuple[str, ...] = ("true", "latent", "spurious", "no")
LADDER_STAGES: tuple[str, ...] = ("first purchase", "repeat", "attachment", "loyal")
CUSTOMER_TYPES: tuple[str, ...] = ("one-off", "occasional", "regular")


# --- per-customer building blocks ---------------------------------------------------------
def customer_activity(
    transactions: pd.DataFrame,
    observation_end=None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    time_unit: str = "M",
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
) -> pd.DataFrame:
    """Per-customer purchase history: purchase days, tenure, purchase rate, revenue, regularity.

    A *purchase* is a purchase occasion as defined once in :mod:`churnlab.transactions` and
    used by :func:`churnlab.rfm_summary`: a customer's calendar day with a transaction of
    non-negative amount (several on one day are one purchase; a return is never a purchase).
    So ``purchases`` equals ``frequency + 1`` of the RFM summary for every customer.

    Parameters
    ----------
    transactions : DataFrame
        One row per transaction with customer, date and amount columns.
    observation_end : date-like, optional
        Last day observed (inclusive; transactions after it are ignored, as in
        :func:`churnlab.rfm_summary`); defaults to the last transaction date.
    time_unit : {'D', 'W', 'M'}
        Unit of ``tenure``, ``mean_gap`` and ``purchase_rate``.
    returns, date_format, tz
        As in :func:`churnlab.rfm_summary` (``returns='net'`` nets returns into revenue).

    Returns
    -------
    DataFrame
        Indexed by customer id (customers with at least one purchase): ``purchases``,
        ``first_purchase``, ``last_purchase``, ``tenure`` (first purchase to observation end),
        ``purchase_rate`` (repeat purchases per unit of tenure), ``revenue`` (spend on the
        purchases under the returns policy), ``first_purchase_value`` (spend on the first
        purchase occasion, the "birth" the RFM summary leaves out of monetary value),
        ``mean_gap`` and ``cv_gap`` (mean and coefficient of variation, sample standard
        deviation over mean, of the times between purchases, as
        :func:`churnlab.stats.gap_statistics` defines them; NaN with fewer than 2 and 3
        purchases respectively).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                    "date": ["2024-01-01", "2024-01-11", "2024-01-31", "2024-01-21"],
    ...                    "amount": [10.0, 20.0, 30.0, 5.0]})
    >>> # by hand, customer 1: gaps 10 and 20 days, mean 15, sample standard deviation 7.07,
    >>> # CV 0.471; 2 repeat purchases in 30 days of tenure: 0.067 a day
    >>> customer_activity(tx, time_unit="D")[["purchases", "tenure", "purchase_rate", "mean_gap",
    ...                                       "cv_gap", "revenue"]].round(3)
                 purchases  tenure  purchase_rate  mean_gap  cv_gap  revenue
    customer_id
    1                    3    30.0          0.067      15.0   0.471     60.0
    2                    1    10.0          0.000       NaN     NaN      5.0
    """
    unit = unit_days(time_unit)
    occ = read_occasions(
        transactions,
        observation_end,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        returns=returns,
        date_format=date_format,
        tz=tz,
    )
    codes, ids, day = occ.customer, occ.ids, occ.day
    n, starts = occ.counts(), occ.starts()
    first, last = day[starts], day[starts + n - 1]
    end_day = occ.end_day
    _, mean_gap, _, cv = gap_statistics(codes, day, len(ids))
    with np.errstate(invalid="ignore", divide="ignore"):
        tenure = (end_day - first) / unit
        rate = np.where(tenure > 0, (n - 1) / tenure, np.nan)
    out = pd.DataFrame(
        {
            "purchases": n.astype(np.int64),
            "first_purchase": pd.to_datetime(first.astype("datetime64[D]")),
            "last_purchase": pd.to_datetime(last.astype("datetime64[D]")),
            "tenure": tenure,
            "purchase_rate": rate,
            "revenue": np.bincount(codes, weights=occ.amount, minlength=len(ids)),
            "first_purchase_value": occ.amount[starts],
            "mean_gap": mean_gap / unit,
            "cv_gap": cv,
        },
        index=pd.Index(ids, name=customer_col),
    )
    out.attrs["time_unit"] = time_unit
    return out


def customer_attitude(
    responses: pd.DataFrame,
    *,
    how: str = "last",
    customer_col: str = "customer_id",
    date_col: str = "date",
    score_col: str = "score",
) -> pd.Series:
    """Each customer's attitude: their NPS answer (the latest, mean, lowest or highest).

    Parameters
    ----------
    responses : DataFrame
        One row per answer with customer, date and 0-10 score columns.
    how : {'last', 'mean', 'min', 'max'}
        How several answers of one customer are combined.

    Returns
    -------
    Series ``attitude`` indexed by customer id.

    Examples
    --------
    >>> answers = pd.DataFrame({"customer_id": [1, 1, 2],
    ...                         "date": ["2024-01-01", "2024-03-01", "2024-02-01"],
    ...                         "score": [3, 9, 7]})
    >>> customer_attitude(answers).to_dict()
    {1: 9, 2: 7}
    """
    options = ("last", "mean", "min", "max")
    if how not in options:
        raise ValueError(f"how={how!r} is not supported; use one of {options}")
    require_dataframe(responses, "responses")
    require_columns(responses, [customer_col, date_col, score_col], "responses")
    check_customer_ids(responses[customer_col], customer_col)
    scores = pd.Series(check_scores(responses[score_col], score_col), index=responses.index)
    frame = pd.DataFrame(
        {
            "customer": responses[customer_col],
            "date": parse_dates(responses, date_col),
            "score": scores,
        }
    ).sort_values(["customer", "date"], kind="stable")
    grouped = frame.groupby("customer", sort=True)["score"]
    out = grouped.last() if how == "last" else grouped.agg(how)
    return out.rename("attitude").rename_axis(customer_col)


# --- loyalty matrix (Dick & Basu 1994) ----------------------------------------------------
@dataclass(frozen=True)
class LoyaltyMatrix(Result):
    """Attitude x repeat behaviour: true, latent, spurious and no loyalty (Dick & Basu 1994).

    ``customers`` holds, per classified customer, ``attitude``, ``repeat``, ``value``,
    ``attitude_high``, ``repeat_high`` and ``loyalty``; ``table`` the count, share and value
    per kind; ``n_unclassified`` the customers in ``repeat`` without an attitude answer.
    """

    customers: pd.DataFrame
    table: pd.DataFrame
    attitude_threshold: float
    repeat_threshold: float
    n_unclassified: int

    def _html_title(self) -> str:
        return "Loyalty matrix (Dick & Basu 1994)"

    def _html_notes(self) -> str:
        return (
            f"attitude high: answer >= {self.attitude_threshold:g}; repeat high: >= "
            f"{self.repeat_threshold:.4g}; {self.n_unclassified} customer(s) without an answer"
        )


def loyalty_matrix(
    attitude: pd.Series,
    repeat: pd.Series,
    value: pd.Series | None = None,
    *,
    attitude_threshold: float = PROMOTER_MIN,
    repeat_threshold: float | None = None,
) -> LoyaltyMatrix:
    """Classify customers by attitude and repeat behaviour into four kinds of loyalty.

    After Dick & Basu (1994): *true* loyalty (high attitude, high repeat), *latent* (high
    attitude, low repeat: attached, but does not buy often, often for lack of money),
    *spurious* (low attitude, high repeat: buys out of habit or convenience) and *no* loyalty.

    Parameters
    ----------
    attitude : Series
        Per customer, the answer to the recommendation question (e.g. from
        :func:`customer_attitude`).
    repeat : Series
        Per customer, the repeat behaviour, e.g. ``customer_activity(...)["purchase_rate"]``
        or a purchase count.
    value : Series, optional
        Per customer, the value (e.g. revenue) summed per kind.
    attitude_threshold : float
        Attitude is high at or above it; default 9, a promoter.
    repeat_threshold : float, optional
        Repeat is high at or above it; default the median of ``repeat`` over the classified
        customers.

    Returns
    -------
    LoyaltyMatrix
        Only customers in both ``attitude`` and ``repeat`` are classified; the others are
        counted in ``n_unclassified`` (most customers never answer a survey). Customers with
        an answer but no repeat value are left out with a UserWarning giving their count.

    Examples
    --------
    >>> att = pd.Series({1: 10, 2: 9, 3: 3, 4: 5})
    >>> rep = pd.Series({1: 8.0, 2: 1.0, 3: 6.0, 4: 0.0, 5: 2.0})
    >>> m = loyalty_matrix(att, rep, repeat_threshold=5)
    >>> m.customers["loyalty"].to_dict()
    {1: 'true', 2: 'latent', 3: 'spurious', 4: 'no'}
    >>> m.n_unclassified
    1
    """
    attitude_threshold = check_number(attitude_threshold, "attitude_threshold", low=0, high=10)
    if repeat_threshold is not None:
        repeat_threshold = check_number(repeat_threshold, "repeat_threshold", low=0)
    a = _as_series(attitude, "attitude")
    check_numbers(a, "attitude", low=0, high=10)
    r = _as_series(repeat, "repeat")
    check_numbers(r, "repeat", low=0)
    common = a.index.intersection(r.index)
    if len(common) == 0:
        raise ValueError("attitude and repeat share no customer id: check the two indexes")
    if value is None:
        v = pd.Series(np.nan, index=common)
    else:
        v = _as_series(value, "value").reindex(common)
        if v.isna().any():
            fail("value", "customers without a value", v.to_frame(), v.isna().to_numpy())
    n_unclassified = int(len(r.index.difference(common)))
    n_no_repeat = int(len(a.index.difference(common)))
    if n_no_repeat:
        warnings.warn(
            f"loyalty_matrix: {n_no_repeat} customer(s) with an attitude answer but no repeat "
            "value are left out (give them a repeat value, e.g. 0, to classify them)",
            UserWarning,
            stacklevel=2,
        )
    common = common.sort_values()
    a, r, v = a.reindex(common), r.reindex(common), v.reindex(common)
    r_thr = float(np.median(r)) if repeat_threshold is None else float(repeat_threshold)
    hi_a = (a >= attitude_threshold).to_numpy()
    hi_r = (r >= r_thr).to_numpy()
    kind = np.where(hi_a, np.where(hi_r, "true", "latent"), np.where(hi_r, "spurious", "no"))
    customers = pd.DataFrame(
        {
            "attitude": a,
            "repeat": r,
            "value": v,
            "attitude_high": hi_a,
            "repeat_high": hi_r,
            "loyalty": kind,
        },
        index=common,
    )
    g = customers.groupby("loyalty")
    table = pd.DataFrame(
        {
            "customers": g.size(),
            "value": g["value"].sum(min_count=1),
            "mean_attitude": g["attitude"].mean(),
            "mean_repeat": g["repeat"].mean(),
        }
    ).reindex(list(LOYALTY_KINDS))
    table["customers"] = table["customers"].fillna(0).astype(np.int64)
    table.insert(1, "share", table["customers"] / len(customers))
    table.insert(3, "value_share", table["value"] / table["value"].sum())
    table.insert(4, "mean_value", table["value"] / table["customers"].replace(0, np.nan))
    table.index.name = "loyalty"
    return LoyaltyMatrix(
        customers=customers,
        table=table,
        attitude_threshold=float(attitude_threshold),
        repeat_threshold=r_thr,
        n_unclassified=n_unclassified,
    )


def _as_series(values, name: str) -> pd.Series:
    if not isinstance(values, pd.Series):
        raise TypeError(f"{name} must be a pandas Series indexed by customer id")
    check_customer_ids(values.index, name, unique=True)
    return pd.Series(as_float_array(values, name), index=values.index, name=values.name)


# --- loyalty ladder -------------------------------------------------------------------------
@dataclass(frozen=True)
class LoyaltyLadder(Result):
    """The loyalty ladder: who reached each stage, how many moved on, how often each buys.

    ``table`` is indexed by stage with ``min_purchases`` (the rule), ``customers_now``
    (current stage), ``reached`` and ``share_of_first`` (customers who reached the stage, as a
    share of first-time buyers in the cohort), ``step_conversion`` (share of those on the
    previous stage who reached this one), ``purchases`` and ``exposure`` (next purchases made
    while on the stage and time spent on it, in ``time_unit``), ``purchase_rate`` (their
    ratio) and ``rate_vs_first`` (relative to the first-purchase stage). ``stage`` is each
    customer's current stage.
    """

    table: pd.DataFrame
    stage: pd.Series
    time_unit: str
    cohort_end: pd.Timestamp | None
    benchmark: pd.DataFrame = field(repr=False)

    @property
    def loyal_share(self) -> float:
        """Share of first-time buyers (in the cohort) who became loyal."""
        return float(self.table.loc["loyal", "share_of_first"])

    @property
    def attached_rate_ratio(self) -> float:
        """Purchase rate on the attachment stage over that on the first-purchase stage."""
        return float(self.table.loc["attachment", "rate_vs_first"])

    def _html_title(self) -> str:
        return "Loyalty ladder"

    def _repr_html_(self) -> str:
        return super()._repr_html_() + html_result("Against the rules of thumb", self.benchmark)


def loyalty_ladder(
    transactions: pd.DataFrame,
    observation_end=None,
    *,
    repeat_purchases: int = 2,
    attachment_purchases: int = 4,
    loyal_purchases: int = 8,
    cohort_end=None,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    time_unit: str = "M",
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
) -> LoyaltyLadder:
    """Place customers on the loyalty ladder from their purchases and measure the climb.

    Stage rules, by the number of purchases (purchase occasions, see
    :func:`customer_activity`; ``returns``, ``date_format`` and ``tz`` as in
    :func:`churnlab.rfm_summary`) made so far:

    * *first purchase*: 1 purchase,
    * *repeat*: at least ``repeat_purchases`` (2),
    * *attachment*: at least ``attachment_purchases`` (4),
    * *loyal*: at least ``loyal_purchases`` (8).

    A customer is on a stage from the purchase that reaches it until the purchase that reaches
    the next one (or the end of observation). The purchase rate of a stage is the number of
    purchases made from it divided by the time customers spent on it (occurrences over
    exposure, the maximum-likelihood rate of a Poisson process), so the "first purchase" rate
    is the rate of making a second one. Rates are per ``time_unit``.

    Parameters
    ----------
    transactions : DataFrame
    observation_end : date-like, optional
        Last day observed (inclusive; later transactions are ignored); defaults to the last
        transaction date.
    repeat_purchases, attachment_purchases, loyal_purchases : int
        Purchases at which each stage starts; increasing, the first at least 2.
    cohort_end : date-like, optional
        Transition shares count only customers whose first purchase is on or before it, so that
        every one of them had time to climb (recent first-time buyers had not). Purchase rates
        use every customer.

    Returns
    -------
    LoyaltyLadder
        With ``benchmark``: the loyal share against :data:`LOYAL_SHARE_BENCHMARK` (about 25%
        of first-time buyers become loyal) and the attachment purchase-rate ratio against
        :data:`ATTACHED_PURCHASE_RATE_RATIO` (attached customers buy about 50% more often).

    Examples
    --------
    Customer 1 buys on days 0, 10, 20 and 30 (reaches attachment at the 4th purchase), customer
    2 buys once; observation ends on day 40.

    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 1, 2],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-21",
    ...                                            "2024-01-31", "2024-01-01"]),
    ...                    "amount": 10.0})
    >>> lad = loyalty_ladder(tx, "2024-02-10", time_unit="D")
    >>> lad.table[["reached", "share_of_first", "purchases", "exposure", "purchase_rate"]]
                    reached  share_of_first  purchases  exposure  purchase_rate
    stage
    first purchase        2             1.0          1      50.0           0.02
    repeat                1             0.5          2      20.0           0.10
    attachment            1             0.5          0      10.0           0.00
    loyal                 0             0.0          0       0.0            NaN
    """
    repeat_purchases, attachment_purchases, loyal_purchases = (
        check_number(value, name, low=2, integer=True)
        for name, value in (
            ("repeat_purchases", repeat_purchases),
            ("attachment_purchases", attachment_purchases),
            ("loyal_purchases", loyal_purchases),
        )
    )
    thresholds = np.array([1, repeat_purchases, attachment_purchases, loyal_purchases])
    if thresholds[1] < 2 or np.any(np.diff(thresholds) <= 0):
        raise ValueError(
            "stage rules must increase: 2 <= repeat_purchases < attachment_purchases < "
            f"loyal_purchases, got {repeat_purchases}, {attachment_purchases}, {loyal_purchases}"
        )
    unit = unit_days(time_unit)
    occ = read_occasions(
        transactions,
        observation_end,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        returns=returns,
        date_format=date_format,
        tz=tz,
    )
    codes, ids, day = occ.customer, occ.ids, occ.day
    n, starts = occ.counts(), occ.starts()
    k = np.arange(len(day)) - np.repeat(starts, n) + 1  # purchases made so far (1-based)
    end_day = occ.end_day
    has_next = np.r_[codes[1:] == codes[:-1], False]
    next_day = np.where(has_next, np.r_[day[1:], 0], end_day)
    step = np.searchsorted(thresholds, k, side="right") - 1  # stage while waiting for k + 1
    n_st = len(LADDER_STAGES)
    purchases = np.bincount(step, weights=has_next.astype(float), minlength=n_st)
    exposure = np.bincount(step, weights=(next_day - day) / unit, minlength=n_st)
    current = np.searchsorted(thresholds, n, side="right") - 1
    first = day[starts]
    in_cohort = np.ones(len(ids), bool)
    cohort_stamp = None
    if cohort_end is not None:
        cohort_day = occ.day_of(cohort_end, "cohort_end")
        cohort_stamp = pd.Timestamp(np.datetime64(cohort_day, "D"))
        in_cohort = first <= cohort_day
        if not in_cohort.any():
            raise ValueError(f"cohort_end={cohort_end!r}: no customer first bought by then")
    reached = np.array([(n[in_cohort] >= t).sum() for t in thresholds])  # four stages
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(exposure > 0, purchases / exposure, np.nan)
        table = pd.DataFrame(
            {
                "min_purchases": thresholds,
                "customers_now": np.bincount(current, minlength=n_st),
                "reached": reached,
                "share_of_first": reached / reached[0],
                "step_conversion": reached / np.r_[reached[0], reached[:-1]],
                "purchases": purchases.astype(np.int64),
                "exposure": exposure,
                "purchase_rate": rate,
                "rate_vs_first": rate / rate[0],
            },
            index=pd.Index(LADDER_STAGES, name="stage"),
        )
    stage = pd.Series(
        np.asarray(LADDER_STAGES, dtype=object)[current],
        index=pd.Index(ids, name=customer_col),
        name="stage",
    )
    benchmark = pd.DataFrame(
        {
            "observed": [
                table.loc["loyal", "share_of_first"],
                table.loc["attachment", "rate_vs_first"],
            ],
            "rule_of_thumb": [LOYAL_SHARE_BENCHMARK, ATTACHED_PURCHASE_RATE_RATIO],
        },
        index=["first-time buyers who become loyal", "attached / first-time purchase rate"],
    )
    return LoyaltyLadder(table, stage, time_unit, cohort_stamp, benchmark)


# --- customer types -------------------------------------------------------------------------
@dataclass(frozen=True)
class CustomerTypes(Result):
    """One-off, occasional and regular customers.

    ``customers`` is :func:`customer_activity` with a ``customer_type`` column; ``table``
    counts customers and revenue per type.
    """

    customers: pd.DataFrame
    table: pd.DataFrame
    min_regular_purchases: int
    cv_threshold: float

    def _html_title(self) -> str:
        return "Customer types"

    def _html_notes(self) -> str:
        return (
            f"regular: at least {self.min_regular_purchases} purchases and a coefficient of "
            f"variation of the gaps at most {self.cv_threshold:g}"
        )


def customer_types(
    transactions: pd.DataFrame,
    observation_end=None,
    *,
    min_regular_purchases: int = 4,
    cv_threshold: float = 0.5,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
) -> CustomerTypes:
    """Classify customers as one-off, occasional or regular buyers.

    * *one-off*: one purchase (loyalty work is wasted on rare purchases),
    * *regular*: at least ``min_regular_purchases`` purchases whose inter-purchase times have
      a coefficient of variation (sample standard deviation / mean) at most ``cv_threshold``,
    * *occasional*: the other repeat buyers (few purchases or irregular timing).

    Purchases are read as by :func:`customer_activity` (``returns``, ``date_format`` and
    ``tz`` as in :func:`churnlab.rfm_summary`).

    Random (Poisson) purchase timing has exponential gaps with a coefficient of variation of
    1, a perfectly periodic buyer 0; the default 0.5 calls a customer regular when the spread
    of their gaps is at most half their mean.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 1, 2, 2, 2, 2, 3],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01",
    ...                                            "2024-04-01", "2024-01-01", "2024-01-02",
    ...                                            "2024-01-03", "2024-06-01", "2024-03-01"]),
    ...                    "amount": 10.0})
    >>> customer_types(tx).customers["customer_type"].to_dict()
    {1: 'regular', 2: 'occasional', 3: 'one-off'}
    """
    min_regular_purchases = check_number(
        min_regular_purchases,
        "min_regular_purchases",
        low=3,
        integer=True,
        hint="Regularity needs at least 3 purchases (2 gaps).",
    )
    cv_threshold = check_number(cv_threshold, "cv_threshold", low=0, low_open=True)
    activity = customer_activity(
        transactions,
        observation_end,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        returns=returns,
        date_format=date_format,
        tz=tz,
    )
    n = activity["purchases"].to_numpy()
    regular = (n >= min_regular_purchases) & (activity["cv_gap"].to_numpy() <= cv_threshold)
    kind = np.where(n == 1, "one-off", np.where(regular, "regular", "occasional"))
    customers = activity.assign(customer_type=kind)
    g = customers.groupby("customer_type")
    table = pd.DataFrame(
        {
            "customers": g.size(),
            "revenue": g["revenue"].sum(),
            "mean_purchases": g["purchases"].mean(),
        }
    ).reindex(list(CUSTOMER_TYPES))
    table["customers"] = table["customers"].fillna(0).astype(np.int64)
    table.insert(1, "share", table["customers"] / len(customers))
    table.insert(3, "revenue_share", table["revenue"] / table["revenue"].sum())
    table.index.name = "customer_type"
    return CustomerTypes(customers, table, int(min_regular_purchases), float(cv_threshold))
