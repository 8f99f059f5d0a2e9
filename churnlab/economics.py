"""Retention economics: what churn costs, what retention earns, whether a programme pays.

The rules of thumb quoted by the project's source material (``docs/domain.md``, "Retention
economics" and "Loyalty") are defined once below and used as defaults; every function takes
explicit inputs so an analyst can put their own figures in.

:func:`evaluate_programme` measures a loyalty programme's effect by comparing members with
comparable non-members (matched on segment and pre-join behaviour, difference in differences),
not by the naive member vs non-member difference, which mixes the programme's effect with
self-selection (keen customers join).

References
----------
Reichheld, F. F. & Sasser, W. E. (1990). Zero defections: quality comes to services. Harvard
Business Review 68(5), 105-111.
Iacus, S. M., King, G. & Porro, G. (2012). Causal inference without balance checking:
coarsened exact matching. Political Analysis 20(1), 1-24.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnlab._validation import (
    check_customer_ids,
    check_level,
    check_number,
    check_numbers,
    fail,
    parse_dates,
    require_columns,
    require_dataframe,
)
from churnlab.results import Result
from churnlab.rfm import unit_days
from churnlab.transactions import DEFAULT_RETURNS, read_occasions

__all__ = [
    "ACQUISITION_TO_RETENTION_COST_RATIO",
    "TYPICAL_ANNUAL_CHURN_RATE",
    "ProgrammeBreakEven",
    "ProgrammeEvaluation",
    "RetentionProfitEffect",
    "evaluate_programme",
    "evaluate_programme_by",
    "keep_or_replace",
    "lifetime_revenue",
    "programme_break_even",
    "retention_profit_effect",
    "revenue_lost_to_churn",
]

#: "Winning a new customer costs about four times as much as keeping an existing one"
#: (docs/domain.md, Retention economics).
ACQUISITION_TO_RETENTION_COST_RATIO: float = 4.0
#: "A typical business loses about 20% of its customers each year" (docs/domain.md, Retention
#: economics); the one definition of this figure in the package (see also
#: :data:`churnlab.defection.LEAK_CEILING`, the 10% to stay under).
TYPICAL_ANNUAL_CHURN_RATE: float = 0.20
#: "Raising the number of regular customers by 5% ..." (docs/domain.md; Reichheld & Sasser 1990 put
#: it as a 5-point cut in the defection rate). Used as the default uplift, in points.
RETENTION_UPLIFT_POINTS: float = 0.05


def _nonneg(name: str, value) -> float | np.ndarray:
    return check_numbers(value, name, low=0)


def _scalar_or_array(x: np.ndarray):
    return float(x) if np.ndim(x) == 0 else x


def revenue_lost_to_churn(
    customers, revenue_per_customer, churn_rate=TYPICAL_ANNUAL_CHURN_RATE
) -> float | np.ndarray:
    """Yearly revenue lost with the customers who leave: ``customers * churn_rate * revenue``.

    Parameters
    ----------
    customers : float or array
        Repeat customers at the start of the year.
    revenue_per_customer : float or array
        Average yearly revenue per customer.
    churn_rate : float or array
        Share of customers lost in a year (default 20%, :data:`TYPICAL_ANNUAL_CHURN_RATE`).

    Examples
    --------
    The worked example of the source material: 700 customers spending 300 a year, 20% lost.

    >>> revenue_lost_to_churn(customers=700, revenue_per_customer=300, churn_rate=0.20)
    42000.0
    """
    n = _nonneg("customers", customers)
    v = _nonneg("revenue_per_customer", revenue_per_customer)
    c = check_numbers(churn_rate, "churn_rate", low=0, high=1)
    return _scalar_or_array(np.asarray(n) * np.asarray(c) * np.asarray(v))


def lifetime_revenue(monthly_revenue, months) -> float | np.ndarray:
    """Undiscounted revenue over a customer's lifetime: ``monthly_revenue * months``.

    Examples
    --------
    A customer who stays 5 months at 600 a month against one who stays 36 months:

    >>> lifetime_revenue(600, 5), lifetime_revenue(600, 36)
    (3000.0, 21600.0)
    >>> lifetime_revenue(600, 36) / lifetime_revenue(600, 5)
    7.2
    """
    revenue = _nonneg("monthly_revenue", monthly_revenue)
    return _scalar_or_array(np.asarray(revenue) * np.asarray(_nonneg("months", months)))


def keep_or_replace(
    customers_lost,
    *,
    retention_cost_per_customer: float,
    acquisition_cost_per_customer: float | None = None,
    ratio: float = ACQUISITION_TO_RETENTION_COST_RATIO,
) -> pd.Series:
    """Cost of keeping customers against the cost of winning as many new ones.

    Parameters
    ----------
    customers_lost : float
        Customers who would leave without a retention effort.
    retention_cost_per_customer : float
        What it costs to keep one of them.
    acquisition_cost_per_customer : float, optional
        What it costs to win a new customer; defaults to ``ratio`` times the retention cost
        (about 4x, :data:`ACQUISITION_TO_RETENTION_COST_RATIO`).

    Examples
    --------
    >>> keep_or_replace(140, retention_cost_per_customer=50)
    cost_to_keep        7000.0
    cost_to_replace    28000.0
    saving             21000.0
    dtype: float64
    """
    n = check_number(customers_lost, "customers_lost", low=0)
    keep = check_number(retention_cost_per_customer, "retention_cost_per_customer", low=0)
    if acquisition_cost_per_customer is None:
        acquire = keep * check_number(ratio, "ratio", low=0)
    else:
        acquire = check_number(
            acquisition_cost_per_customer, "acquisition_cost_per_customer", low=0
        )
    return pd.Series(
        {"cost_to_keep": n * keep, "cost_to_replace": n * acquire, "saving": n * (acquire - keep)}
    )


# --- profit effect of a retention uplift ---------------------------------------------------
@dataclass(frozen=True)
class RetentionProfitEffect(Result):
    """Customer value before and after a retention uplift, and the relative profit change."""

    table: pd.DataFrame

    @property
    def profit_change(self) -> float | pd.Series:
        col = self.table["profit_change"]
        return float(col.iloc[0]) if len(col) == 1 else col

    def _html_title(self) -> str:
        return "Profit effect of a retention uplift"


def retention_profit_effect(
    *,
    retention_rate,
    margin,
    uplift=RETENTION_UPLIFT_POINTS,
    acquisition_cost=0.0,
    discount_rate=0.10,
    margin_growth=0.0,
) -> RetentionProfitEffect:
    """Relative change in profit per acquired customer when retention rises by ``uplift``.

    A customer acquired at cost ``AC`` yields a margin ``m`` in their first year, growing by
    ``g`` a year while they stay (longer-standing customers buy more, cost less to serve and
    refer others, Reichheld & Sasser 1990); they stay each further year with probability
    ``r``; cash flows are discounted at ``d`` a year. Their value is

        V(r) = sum_{t>=0} m (1 + g)^t r^t / (1 + d)^t - AC = m / (1 - q) - AC,
        q = r (1 + g) / (1 + d) < 1,

    and the profit effect of an uplift is ``V(r + uplift) / V(r) - 1``. The effect grows with
    the base retention rate (the geometric series lengthens), with the margin growth and with
    the acquisition cost (which the uplift does not change): that is where the quoted range of
    +20% to +85% for five more points of retention comes from. The function computes it from
    the inputs; it never returns the quoted range itself.

    Parameters
    ----------
    retention_rate, margin, uplift, acquisition_cost, discount_rate, margin_growth : float or
        array (broadcast together; arrays give one row per combination)
        ``uplift`` is in points of the retention rate (0.05 = five points).

    Returns
    -------
    RetentionProfitEffect
        ``table`` with the inputs, ``value_before``, ``value_after`` and ``profit_change``.

    Examples
    --------
    A low-retention business with flat margins against a high-retention one whose customers
    grow more valuable over time:

    By hand, first row: q = 0.8 / 1.1, V = 100 / (1 - q) = 366.667; with 0.85, 440.000.

    >>> e = retention_profit_effect(retention_rate=[0.80, 0.90], margin=100,
    ...                             acquisition_cost=[0, 200], margin_growth=[0.0, 0.05])
    >>> e.table[["value_before", "value_after", "profit_change"]].round(3)
       value_before  value_after  profit_change
    0       366.667      440.000          0.200
    1       509.677      873.171          0.713
    """
    checked = {
        "retention_rate": check_numbers(retention_rate, "retention_rate", low=0, high=1),
        "margin": check_numbers(margin, "margin", low=0),
        "uplift": check_numbers(uplift, "uplift", low=0, high=1),
        "acquisition_cost": check_numbers(acquisition_cost, "acquisition_cost", low=0),
        "discount_rate": check_numbers(discount_rate, "discount_rate", low=0),
        "margin_growth": check_numbers(margin_growth, "margin_growth", low=-1, low_open=True),
    }
    try:
        r, m, u, ac, d, g = np.broadcast_arrays(*(np.atleast_1d(x) for x in checked.values()))
    except ValueError:
        shapes = {k: np.shape(x) for k, x in checked.items()}
        raise ValueError(f"the arguments cannot be broadcast together: shapes {shapes}") from None
    if np.any(r + u > 1):
        raise ValueError(f"retention_rate + uplift must stay at most 1, got {r + u}")
    q0 = r * (1 + g) / (1 + d)
    q1 = (r + u) * (1 + g) / (1 + d)
    if np.any(q1 >= 1):
        raise ValueError(
            "retention_rate + uplift is too high for the discount rate and margin growth: "
            "(r + uplift) (1 + margin_growth) / (1 + discount_rate) must stay below 1, or the "
            "customer's value is unbounded"
        )
    before = m / (1 - q0) - ac
    after = m / (1 - q1) - ac
    if np.any(before <= 0):
        raise ValueError(
            "the customer's value before the uplift is not positive (acquisition_cost exceeds "
            "the discounted margins); a relative profit change is not defined"
        )
    table = pd.DataFrame(
        {
            "retention_rate": r,
            "uplift": u,
            "margin": m,
            "margin_growth": g,
            "acquisition_cost": ac,
            "discount_rate": d,
            "value_before": before,
            "value_after": after,
            "profit_change": after / before - 1,
        }
    )
    return RetentionProfitEffect(table)


# --- programme break-even -------------------------------------------------------------------
@dataclass(frozen=True)
class ProgrammeBreakEven(Result):
    """Benefit against cost of a loyalty programme, and what it takes to break even."""

    members: float
    benefit: float
    cost: float
    net: float
    roi: float
    break_even_revenue_per_member: float
    break_even_members: float

    @property
    def pays(self) -> bool:
        """Whether the estimated benefit exceeds the cost."""
        return self.benefit > self.cost

    @property
    def table(self) -> pd.DataFrame:
        fields = [
            "members",
            "benefit",
            "cost",
            "net",
            "roi",
            "break_even_revenue_per_member",
            "break_even_members",
        ]
        return pd.DataFrame({"value": [getattr(self, f) for f in fields]}, index=fields)

    def _html_title(self) -> str:
        return f"Loyalty programme break-even: it {'pays' if self.pays else 'does not pay'}"


def programme_break_even(
    *,
    members: float,
    incremental_revenue_per_member: float,
    margin: float,
    cost_per_member: float = 0.0,
    fixed_cost: float = 0.0,
) -> ProgrammeBreakEven:
    """Does a loyalty programme pay? Its benefit (extra margin) against its cost.

    ``benefit = members * incremental_revenue_per_member * margin`` and ``cost = fixed_cost +
    members * cost_per_member`` (rewards, cards, administration), all over the same period.
    Use the *causal* incremental revenue (e.g. from :func:`evaluate_programme`), not what
    members spend more than non-members.

    Returns
    -------
    ProgrammeBreakEven
        With ``net``, ``roi`` (net / cost), ``break_even_revenue_per_member`` (incremental
        revenue per member at which benefit equals cost) and ``break_even_members`` (members
        needed to cover the fixed cost; infinite when each member costs more than they bring).

    Examples
    --------
    >>> be = programme_break_even(members=1000, incremental_revenue_per_member=120, margin=0.3,
    ...                           cost_per_member=15, fixed_cost=10000)
    >>> be.benefit, be.cost, be.net, be.pays
    (36000.0, 25000.0, 11000.0, True)
    >>> # by hand: (10000 / 1000 + 15) / 0.3 = 83.33; 10000 / (120 x 0.3 - 15) = 476.2
    >>> round(be.break_even_revenue_per_member, 2), round(be.break_even_members, 1)
    (83.33, 476.2)
    """
    n = check_number(members, "members", low=0, low_open=True)
    inc = check_number(incremental_revenue_per_member, "incremental_revenue_per_member")
    mg = check_number(margin, "margin", low=0, high=1, low_open=True, hint="A share of revenue.")
    cpm = check_number(cost_per_member, "cost_per_member", low=0)
    fixed = check_number(fixed_cost, "fixed_cost", low=0)
    benefit = n * inc * mg
    cost = fixed + n * cpm
    per_member_net = inc * mg - cpm
    return ProgrammeBreakEven(
        members=n,
        benefit=benefit,
        cost=cost,
        net=benefit - cost,
        roi=(benefit - cost) / cost if cost > 0 else np.inf,
        break_even_revenue_per_member=(fixed / n + cpm) / mg,
        break_even_members=fixed / per_member_net if per_member_net > 0 else np.inf,
    )


# --- programme evaluation -------------------------------------------------------------------
#: Rows of :attr:`ProgrammeEvaluation.table`: the programme's effect, naive and adjusted.
EFFECTS: tuple[str, ...] = (
    "naive_ratio",
    "adjusted_ratio",
    "naive_difference",
    "adjusted_difference",
)


@dataclass(frozen=True)
class ProgrammeEvaluation(Result):
    """The programme's effect: naive member vs non-member comparison and the adjusted effect.

    ``table`` rows: ``naive_ratio`` and ``adjusted_ratio`` (members' post-join rate over the
    comparison rate), ``naive_difference`` and ``adjusted_difference`` (per member per
    ``time_unit``); columns ``estimate, std_err, ci_lower, ci_upper`` (bootstrap, percentile
    intervals at ``level``). ``replicates``: the bootstrap replicates of the four effects (one
    row per resample), from which :meth:`confidence_interval` computes intervals at any level.
    ``strata``: per stratum counts and exposure-weighted rates; ``sample``: per customer index
    date, windows and outcomes; ``excluded``: customers left out, by reason.
    """

    table: pd.DataFrame
    strata: pd.DataFrame
    sample: pd.DataFrame = field(repr=False)
    replicates: pd.DataFrame = field(repr=False)
    excluded: dict = field(default_factory=dict)
    outcome: str = "purchases"
    time_unit: str = "W"
    level: float = 0.95
    n_boot: int = 500

    @property
    def naive_ratio(self) -> float:
        return float(self.table.loc["naive_ratio", "estimate"])

    @property
    def adjusted_ratio(self) -> float:
        return float(self.table.loc["adjusted_ratio", "estimate"])

    @property
    def adjusted_difference(self) -> float:
        return float(self.table.loc["adjusted_difference", "estimate"])

    def confidence_interval(self, level: float = 0.95) -> pd.DataFrame:
        """Percentile bootstrap intervals of the four effects at ``level``.

        Computed from :attr:`replicates`, so any level is available without refitting; at
        :attr:`level` they are the ``ci_lower`` and ``ci_upper`` columns of :attr:`table`.

        Returns
        -------
        DataFrame
            Indexed like :attr:`table`, columns ``ci_lower`` and ``ci_upper``.
        """
        level = check_level(level)
        summary = _bootstrap_summary(self.table["estimate"], self.replicates, level)
        return summary[["ci_lower", "ci_upper"]]

    def _html_title(self) -> str:
        return f"Programme effect on {self.outcome} per {self.time_unit}"

    def _html_notes(self) -> str:
        n_m = int(self.sample["member"].sum())
        return (
            f"{n_m} members, {len(self.sample) - n_m} comparable non-members, "
            f"{len(self.strata)} strata; {self.level:.0%} bootstrap intervals "
            f"({self.n_boot} resamples); excluded: {self.excluded}"
        )


def _bootstrap_summary(
    estimates: pd.Series, replicates: pd.DataFrame, level: float
) -> pd.DataFrame:
    """Estimate, bootstrap standard error and percentile interval of each column of
    ``replicates`` (replicates where an effect is undefined are left out of its summary)."""
    alpha = (1 - level) / 2
    rows = []
    for name in replicates.columns:
        boot = replicates[name].to_numpy()
        boot = boot[np.isfinite(boot)]
        rows.append([estimates[name], boot.std(ddof=1), *np.quantile(boot, [alpha, 1 - alpha])])
    return pd.DataFrame(
        rows, index=replicates.columns, columns=["estimate", "std_err", "ci_lower", "ci_upper"]
    )


def _member_flags(customers: pd.DataFrame, member_col: str) -> np.ndarray:
    """The True/False membership column as a bool array; anything else is an error."""
    member = customers[member_col]
    if not pd.api.types.is_bool_dtype(member):
        bad = ~member.isin([True, False]).to_numpy()
        if bad.any():
            fail(member_col, "values that are not True/False", customers, bad)
    return member.astype(bool).to_numpy()


def _to_day(values) -> np.ndarray:
    """Dates as integer days since the epoch."""
    return np.asarray(values, dtype="datetime64[D]").astype(np.int64)


def _bins(values: np.ndarray, groups: np.ndarray, n_bins: int) -> np.ndarray:
    """Quantile bins (0..n_bins-1) of ``values`` within each group, ties broken by order."""
    out = np.zeros(len(values), np.int64)
    if n_bins <= 1:
        return out
    for g in pd.unique(groups):  # one pass per stratum, not per customer
        idx = np.flatnonzero(groups == g)
        ranks = pd.Series(values[idx]).rank(method="first").to_numpy() - 1
        out[idx] = np.floor(ranks * n_bins / len(idx)).astype(np.int64)
    return out


def evaluate_programme(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    strata: str | list[str] | None = "segment",
    outcome: str = "purchases",
    programme_start=None,
    observation_end=None,
    min_history: float = 8.0,
    n_rate_bins: int = 5,
    n_history_bins: int = 3,
    time_unit: str = "W",
    n_boot: int = 500,
    level: float = 0.95,
    seed=0,
    customer_col: str = "customer_id",
    member_col: str = "programme_member",
    join_col: str = "programme_join_date",
    date_col: str = "date",
    amount_col: str = "amount",
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
) -> ProgrammeEvaluation:
    """Effect of a loyalty programme on members, against comparable non-members.

    Method (difference in differences after coarsened exact matching, Iacus, King & Porro
    2012):

    1. *Index date* ``J``: a member's join date; for a non-member, their first purchase on or
       after ``programme_start`` (the first time they could have joined; members usually join
       at a purchase, so both groups are observed from a purchase made while active).
    2. *Pre-join window* ``(F, J)`` from the first purchase ``F`` (both ends excluded) and
       *post-join window* ``(J, end]``. Outcome: purchases (purchase days, see
       :func:`churnlab.loyalty.customer_activity`) or net revenue, per ``time_unit``.
       Customers with less than ``min_history`` of pre-join history are left out: without it
       there is no pre-join behaviour to compare.
    3. *Strata*: the ``strata`` columns (e.g. segment) x ``n_rate_bins`` quantile bins of the
       pre-join rate x ``n_history_bins`` bins of the history length, within each ``strata``
       group. Strata without members or without non-members are dropped (counted in
       ``excluded``).
    4. In each stratum ``s`` the members' counterfactual post-join rate is the non-members'
       post-join rate plus the pre-join gap between the groups:
       ``cf_s = C_post,s + (M_pre,s - C_pre,s)`` (rates are exposure-weighted). The adjusted
       ratio is ``sum_s M_post,s E_s / sum_s cf_s E_s`` (``E_s``: members' post-join
       exposure), the adjusted difference ``(sum_s M_post,s E_s - sum_s cf_s E_s) / sum_s E_s``.
    5. The *naive* comparison is the members' post-join rate against the non-members' on the
       same sample, without strata: it mixes the effect with self-selection.
    6. Intervals: percentile bootstrap, resampling customers within each stratum and group.

    Each step is a function below: :func:`_programme_customers` (the checked customer
    table), :func:`_index_windows` (steps 1-2), :func:`_match_strata` (step 3),
    :func:`_cell_sums` (the sums behind steps 4-6, for the data and every resample),
    :func:`_effects` (steps 4-5) and :func:`_strata_table`.

    Parameters
    ----------
    customers : DataFrame
        One row per customer: ``customer_col``, ``member_col`` (bool), ``join_col`` (date; NaT
        for non-members) and the ``strata`` columns.
    transactions : DataFrame
        ``customer_col``, ``date_col``, ``amount_col`` (returns negative), read as by
        :func:`churnlab.rfm_summary`: purchases are purchase occasions and revenue is their
        spend under ``returns`` (``'net'`` for revenue net of returns).
    strata : str, list of str or None
        Columns of ``customers`` to match exactly on.
    outcome : {'purchases', 'revenue'}
    programme_start : date-like, optional
        Defaults to the earliest join date.
    observation_end : date-like, optional
        Defaults to the last transaction date.
    min_history : float
        Minimum pre-join history, in ``time_unit``.
    n_boot, level, seed
        Bootstrap resamples, interval level and random seed.
    returns, date_format, tz
        As in :func:`churnlab.rfm_summary`.

    Returns
    -------
    ProgrammeEvaluation

    Examples
    --------
    The simulated retailer plants a programme effect of 1.25 on members whose purchase rate
    was 1.5 times the others' before they joined (self-selection): the naive ratio mixes the
    two, the adjusted one does not.

    >>> from churnlab.datasets import simulate_retailer
    >>> data = simulate_retailer(3000, seed=3)
    >>> ev = evaluate_programme(data.customers, data.transactions, n_boot=200)
    >>> bool(ev.naive_ratio > ev.table.loc["adjusted_ratio", "ci_upper"])
    True
    """
    if outcome not in ("purchases", "revenue"):
        raise ValueError(f"outcome={outcome!r} must be 'purchases' or 'revenue'")
    level = check_level(level)
    n_boot = check_number(
        n_boot, "n_boot", low=50, integer=True, hint="Use at least 50 bootstrap resamples."
    )
    min_history = check_number(min_history, "min_history", low=0)
    n_rate_bins = check_number(n_rate_bins, "n_rate_bins", low=1, integer=True)
    n_history_bins = check_number(n_history_bins, "n_history_bins", low=1, integer=True)
    if isinstance(seed, (bool, np.bool_, str, bytes, float, np.floating)):
        seed = check_number(seed, "seed", low=0, integer=True)
    unit = unit_days(time_unit)
    keys = [] if strata is None else ([strata] if isinstance(strata, str) else list(strata))
    cust, member, join = _programme_customers(
        customers, keys, customer_col, member_col, join_col, tz
    )
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
    if programme_start is None:
        start_day = join[member].min()
        if pd.isna(start_day):
            raise ValueError("no members: there is no programme to evaluate")
        start_day = int(_to_day(start_day.normalize()))
    else:
        start_day = occ.day_of(programme_start, "programme_start")
    sample, excluded = _index_windows(
        occ,
        cust,
        member,
        join,
        keys=keys,
        customer_col=customer_col,
        start_day=start_day,
        outcome=outcome,
        min_history=min_history,
        unit=unit,
        time_unit=time_unit,
    )
    sample, counts, usable = _match_strata(sample, keys, n_rate_bins, n_history_bins, excluded)
    sums, strata_names = _cell_sums(sample, n_boot, seed)
    use = np.array([s in set(usable) for s in strata_names])
    effects, cf = _effects(sums, use)
    replicates = effects.iloc[1:].reset_index(drop=True)
    return ProgrammeEvaluation(
        table=_bootstrap_summary(effects.iloc[0], replicates, level),
        strata=_strata_table(counts, strata_names, sums[0], cf[0], use),
        sample=sample,
        replicates=replicates,
        excluded=excluded,
        outcome=outcome,
        time_unit=time_unit,
        level=level,
        n_boot=int(n_boot),
    )


def _strata_table(counts, strata_names, s0, cf0, use) -> pd.DataFrame:
    """Per stratum: members and non-members, their exposure-weighted pre- and post-join rates
    (from the data's cell sums ``s0``), the members' counterfactual rate and whether the
    stratum is used (it holds both groups)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {
                "members": counts.reindex(strata_names)[True].to_numpy(),
                "non_members": counts.reindex(strata_names)[False].to_numpy(),
                "member_pre_rate": s0[:, 1, 0] / s0[:, 1, 1],
                "non_member_pre_rate": s0[:, 0, 0] / s0[:, 0, 1],
                "member_post_rate": s0[:, 1, 2] / s0[:, 1, 3],
                "non_member_post_rate": s0[:, 0, 2] / s0[:, 0, 3],
                "counterfactual_rate": cf0,
                "used": use,
            },
            index=pd.Index(strata_names, name="stratum"),
        )


def _programme_customers(
    customers: pd.DataFrame, keys: list, customer_col: str, member_col: str, join_col: str, tz
) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    """The customer columns the evaluation reads, checked: ids, membership, join dates, strata.

    Returns the columns, the membership flags and the parsed join dates (NaT for
    non-members).
    """
    require_dataframe(customers, "customers")
    require_columns(customers, [customer_col, member_col, join_col, *keys], "customers")
    cust = customers[[customer_col, member_col, join_col, *keys]]
    check_customer_ids(cust[customer_col], customer_col, unique=True)
    member = _member_flags(cust, member_col)
    join = parse_dates(cust, join_col, allow_missing=True, tz=tz)
    bad = member & join.isna().to_numpy()
    if bad.any():
        fail(join_col, "members without a (valid) join date", cust, bad)
    bad = ~member & join.notna().to_numpy()
    if bad.any():
        fail(
            join_col,
            "a join date for non-members",
            cust,
            bad,
            f"Set {member_col} to True for them or clear the date.",
        )
    for key in keys:
        if cust[key].isna().any():
            fail(key, "missing stratum values", cust, cust[key].isna().to_numpy())
    return cust, member, join


def _index_windows(
    occ,
    cust: pd.DataFrame,
    member: np.ndarray,
    join: pd.Series,
    *,
    keys: list,
    customer_col: str,
    start_day: int,
    outcome: str,
    min_history: float,
    unit: float,
    time_unit: str,
) -> tuple[pd.DataFrame, dict]:
    """Steps 1-2 of :func:`evaluate_programme`: each customer's index date, pre- and post-join
    windows and outcomes, and the eligible customers.

    Returns the eligible customers (``member``, ``index_date``, ``pre``, ``pre_exposure``,
    ``post``, ``post_exposure`` and the strata columns ``keys``) and the customers left out,
    by reason.
    """
    end_day = occ.end_day
    day = occ.day
    is_buy = np.ones(len(day), dtype=bool)
    value = is_buy.astype(float) if outcome == "purchases" else occ.amount
    occasion_customer = occ.ids[occ.customer]

    pos = pd.Index(cust[customer_col]).get_indexer(occasion_customer)
    unknown = pos < 0
    if unknown.any():
        warnings.warn(
            f"{int(unknown.sum())} purchase day(s) of "
            f"{pd.unique(occasion_customer[unknown]).size} "
            "customer(s) missing from `customers` are left out of the evaluation",
            UserWarning,
            stacklevel=3,
        )
    pos, day, is_buy, value = pos[~unknown], day[~unknown], is_buy[~unknown], value[~unknown]
    n = len(cust)
    big = np.iinfo(np.int64).max
    first = np.full(n, big)
    np.minimum.at(first, pos[is_buy], day[is_buy])
    after = is_buy & (day >= start_day)
    first_after = np.full(n, big)
    np.minimum.at(first_after, pos[after], day[after])
    J = np.where(member, _to_day(join.fillna(pd.Timestamp(0)).to_numpy()), first_after)
    has_index = (J != big) & (first != big) & (J <= end_day)
    pre_exposure = np.where(has_index, (J - first) / unit, np.nan)
    post_exposure = np.where(has_index, (end_day - J) / unit, np.nan)
    eligible = has_index & (pre_exposure >= min_history) & (post_exposure > 0)
    Jr, Fr = J[pos], first[pos]
    in_pre = (day > Fr) & (day < Jr)
    in_post = (day > Jr) & (day <= end_day)
    pre = np.bincount(pos[in_pre], weights=value[in_pre], minlength=n)
    post = np.bincount(pos[in_post], weights=value[in_post], minlength=n)
    excluded = {
        "no purchase on or after the programme start": int((~has_index & ~member).sum()),
        "members without any purchase, or joining after the end": int((~has_index & member).sum()),
        f"less than {min_history:g} {time_unit} of pre-join history": int(
            (has_index & ~eligible).sum()
        ),
    }
    sample = pd.DataFrame(
        {
            "member": member,
            "index_date": pd.to_datetime(np.where(J == big, 0, J).astype("datetime64[D]")),
            "pre": pre,
            "pre_exposure": pre_exposure,
            "post": post,
            "post_exposure": post_exposure,
        },
        index=pd.Index(cust[customer_col].to_numpy(), name=customer_col),
    )
    for key in keys:
        sample[key] = cust[key].to_numpy()
    sample = sample[eligible]
    if sample["member"].sum() == 0 or (~sample["member"]).sum() == 0:
        raise ValueError(
            "after the eligibility rules there are no members or no non-members to compare; "
            f"excluded: {excluded}"
        )
    return sample, excluded


def _match_strata(
    sample: pd.DataFrame, keys: list, n_rate_bins: int, n_history_bins: int, excluded: dict
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Index]:
    """Step 3 of :func:`evaluate_programme`: each customer's stratum, and the usable strata.

    Adds ``stratum`` and ``matched`` to ``sample``, and to ``excluded`` the members and
    non-members whose stratum lacks the other group. Returns the sample, the members and
    non-members per stratum (columns True / False) and the strata that hold both.
    """
    group = (
        sample[keys].astype(str).agg("|".join, axis=1).to_numpy()
        if keys
        else np.zeros(len(sample), dtype=object)
    )
    rate_bin = _bins((sample["pre"] / sample["pre_exposure"]).to_numpy(), group, n_rate_bins)
    hist_bin = _bins(sample["pre_exposure"].to_numpy(), group, n_history_bins)
    sample["stratum"] = [
        f"{g}|rate{r}|history{h}" for g, r, h in zip(group, rate_bin, hist_bin, strict=True)
    ]
    is_m = sample["member"].to_numpy()
    counts = pd.crosstab(sample["stratum"], sample["member"])
    counts = counts.reindex(columns=[False, True], fill_value=0)
    usable = counts.index[(counts[True] > 0) & (counts[False] > 0)]
    matched = sample["stratum"].isin(usable).to_numpy()
    excluded["members in strata without non-members"] = int((is_m & ~matched).sum())
    excluded["non-members in strata without members"] = int((~is_m & ~matched).sum())
    sample["matched"] = matched
    return sample, counts, usable


def _cell_sums(sample: pd.DataFrame, n_boot: int, seed) -> tuple[np.ndarray, list]:
    """Sums per (stratum, group) cell of ``pre``, ``pre_exposure``, ``post`` and
    ``post_exposure``, for the data (row 0) and ``n_boot`` bootstrap replicates that resample
    customers within each cell (one multinomial draw per cell).

    Returns the sums, shape ``(n_boot + 1, strata, 2, 4)`` (group 0: non-members, 1:
    members), and the strata in order.
    """
    rng = np.random.default_rng(seed)
    cells = sample.groupby(["stratum", "member"], sort=True).indices
    strata_names = sorted(sample["stratum"].unique())
    s_pos = {s: i for i, s in enumerate(strata_names)}
    values_cols = sample[["pre", "pre_exposure", "post", "post_exposure"]].to_numpy(float)
    B = int(n_boot)
    sums = np.zeros((B + 1, len(strata_names), 2, 4))
    for (s, m), idx in cells.items():  # one pass per cell, not per customer
        vals = values_cols[idx]
        sums[0, s_pos[s], int(m)] = vals.sum(axis=0)
        weights = rng.multinomial(len(idx), np.full(len(idx), 1.0 / len(idx)), size=B)
        sums[1:, s_pos[s], int(m)] = weights @ vals
    return sums, strata_names


def _effects(sums: np.ndarray, use: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Steps 4-5 of :func:`evaluate_programme` on every row of :func:`_cell_sums`.

    Returns the four effects (columns :data:`EFFECTS`, one row per row of ``sums``) and the
    members' counterfactual post-join rate per stratum, shape ``(rows, strata)``.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        pre_r = sums[..., 0] / sums[..., 1]  # rates, shape (B + 1, strata, group)
        post_r = sums[..., 2] / sums[..., 3]
        cf = post_r[..., 0] + (pre_r[..., 1] - pre_r[..., 0])
        E = sums[..., 1, 3]
        obs = (post_r[..., 1] * E)[:, use].sum(axis=1)
        cf_total = (cf * E)[:, use].sum(axis=1)
        E_total = E[:, use].sum(axis=1)
        tot = sums.sum(axis=1)  # over strata: (B+1, group, 4)
        m_rate, c_rate = tot[:, 1, 2] / tot[:, 1, 3], tot[:, 0, 2] / tot[:, 0, 3]
        effects = pd.DataFrame(
            {
                "naive_ratio": m_rate / c_rate,
                "adjusted_ratio": obs / cf_total,
                "naive_difference": m_rate - c_rate,
                "adjusted_difference": (obs - cf_total) / E_total,
            }
        )
    return effects[list(EFFECTS)], cf


def evaluate_programme_by(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    by: str = "programme_type",
    *,
    customer_col: str = "customer_id",
    member_col: str = "programme_member",
    **kwargs,
) -> pd.DataFrame:
    """:func:`evaluate_programme` for each kind of programme (bonus, discount, cumulative...).

    The members of each kind in turn are compared with all non-members; the rows are the
    kinds, the columns the naive and adjusted ratios with their intervals and the numbers of
    members compared.

    Parameters
    ----------
    customers, transactions
        As in :func:`evaluate_programme`.
    by : str
        Column of ``customers`` naming each member's kind of programme (missing for
        non-members).
    **kwargs
        Passed to :func:`evaluate_programme`.

    Examples
    --------
    >>> from churnlab.datasets import simulate_retailer
    >>> data = simulate_retailer(3000, seed=3)
    >>> table = evaluate_programme_by(data.customers, data.transactions, n_boot=100)
    >>> list(table.index)
    ['bonus', 'cumulative', 'discount']
    """
    require_dataframe(customers, "customers")
    require_columns(customers, [customer_col, by, member_col], "customers")
    require_columns(transactions, [customer_col], "transactions")
    member = pd.Series(_member_flags(customers, member_col), index=customers.index)
    missing = member & customers[by].isna()
    if missing.any():
        fail(by, "members without a programme kind", customers, missing.to_numpy())
    rows = {}
    for kind in sorted(customers.loc[member, by].unique()):  # one pass per kind
        keep = ((~member) | (customers[by] == kind)).to_numpy()
        ids = customers.loc[keep, customer_col]
        ev = evaluate_programme(
            customers[keep],
            transactions[transactions[customer_col].isin(ids).to_numpy()],
            member_col=member_col,
            customer_col=customer_col,
            **kwargs,
        )
        t = ev.table
        rows[kind] = {
            "members": int(ev.sample["member"].sum()),
            "naive_ratio": t.loc["naive_ratio", "estimate"],
            "adjusted_ratio": t.loc["adjusted_ratio", "estimate"],
            "ci_lower": t.loc["adjusted_ratio", "ci_lower"],
            "ci_upper": t.loc["adjusted_ratio", "ci_upper"],
            "adjusted_difference": t.loc["adjusted_difference", "estimate"],
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = by
    return out
