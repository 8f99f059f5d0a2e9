"""Why customers leave: exit-survey coding, the benchmark reason mix, value at risk, what-ifs.

The benchmark (:data:`BENCHMARK`) says that of the customers who stop buying, 68% leave
because of the indifferent or unhelpful attitude of staff and management, 14% because they
are dissatisfied with the product or with delivery times, 10% for the competition (price,
service, warranty, reliability, features), 5% because they drifted into relationships with
other suppliers and 3% for no apparent reason. It comes from the practitioner articles on
customer care, loyalty and retention behind this project (restated in its domain notes under
"Why customers leave"); it is a rule of thumb, and the point of this module is to hold a
company's own exit interviews against it:

1. :func:`code_exit_survey` maps closed answers (and, for answers off the list, keywords in
   the comment) to the five categories. Nothing is dropped: answers that map nowhere are
   counted as ``'unmapped'`` and listed.
2. :func:`compare_to_benchmark` gives each category's share with a 95% interval (Goodman's
   simultaneous intervals by default, Wilson's one at a time on request) and the chi-square
   goodness-of-fit test against the benchmark.
3. :func:`value_at_risk` weighs each reason by the value the lost customers took with them;
   :func:`leak_rate` measures the yearly defection rate against the 10% ceiling; and
   :func:`price_reason_cut` prices a cut of X% in one reason's defections.

References
----------
Goodman, L. A. (1965). On simultaneous confidence intervals for multinomial proportions.
*Technometrics* 7(2), 247-254.
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
*JASA* 22(158), 209-212.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from churnlab._validation import (
    as_float_array,
    as_timestamp,
    check_customer_ids,
    check_level,
    check_number,
    check_numbers,
    check_probability,
    fail,
    parse_dates,
    require_columns,
    require_dataframe,
)
from churnlab.results import Result
from churnlab.stats import wilson_interval
from churnlab.transactions import DEFAULT_RETURNS, read_transactions

#: The five defection-reason categories, in the benchmark's order.
CATEGORIES: tuple[str, ...] = (
    "staff_indifference",
    "product_dissatisfaction",
    "competition",
    "other_relationships",
    "no_reason",
)
#: The label of answers that map to no category.
UNMAPPED = "unmapped"

#: Benchmark shares of defection reasons (practitioner articles behind this project, restated
#: in its domain notes, "Why customers leave": 68/14/10/5/3). Published variants split
#: competition 9% + died 1%, or add "moved away" 3%; this five-way split is the benchmark.
BENCHMARK = pd.Series(
    [0.68, 0.14, 0.10, 0.05, 0.03], index=pd.Index(CATEGORIES, name="reason"), name="benchmark"
)

#: Plain-language labels of the categories, for tables and figures.
LABELS = {
    "staff_indifference": "Staff indifference",
    "product_dissatisfaction": "Product or delivery",
    "competition": "Competition",
    "other_relationships": "Other relationships",
    "no_reason": "No reason",
    UNMAPPED: "Unmapped",
}

#: Reasons the company controls: the relationship (staff and management) and the product and
#: its delivery. Competition is lost in fair competition; drifting to other suppliers and
#: leaving for no reason are largely outside its reach (domain notes: about 70% of defection
#: is a relationship problem, 15% is lost in fair competition).
CONTROLLABLE: tuple[str, ...] = ("staff_indifference", "product_dissatisfaction")

#: The yearly defection ("leak") rate should stay under 10% (domain notes, retention economics);
#: a typical business loses about 20% a year
#: (:data:`churnlab.economics.TYPICAL_ANNUAL_CHURN_RATE`).
LEAK_CEILING = 0.10

#: Closed exit-interview answers and their category. The questions follow the domain notes:
#: price or quality? a competitor's better offer? inadequate response? broken promise?
#: unresolved complaint? general dissatisfaction? Inadequate responses, broken promises,
#: unresolved complaints and general dissatisfaction are relationship failures, counted as
#: staff and management indifference.
DEFAULT_MAPPING: dict[str, str] = {
    "inadequate_response": "staff_indifference",
    "broken_promise": "staff_indifference",
    "unresolved_complaint": "staff_indifference",
    "general_dissatisfaction": "staff_indifference",
    "product_quality": "product_dissatisfaction",
    "delivery_times": "product_dissatisfaction",
    "price": "competition",
    "competitor_offer": "competition",
    "other_supplier": "other_relationships",
    "no_particular_reason": "no_reason",
}

#: Keywords (lower case, matched where a word of the comment starts: 'late' counts in 'lately'
#: but not in 'related') that code answers off the list.
DEFAULT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "staff_indifference": (
        "rude",
        "unhelpful",
        "ignored",
        "nobody called",
        "no one called",
        "never called",
        "promised",
        "complaint",
        "did not listen",
        "didn't listen",
    ),
    "product_dissatisfaction": (
        "quality",
        "broke",
        "defective",
        "faulty",
        "late",
        "delivery",
        "damaged",
    ),
    "competition": ("cheaper", "better offer", "competitor", "warranty", "price", "discount"),
    "other_relationships": ("supplier", "friend", "relative", "already work with"),
    "no_reason": ("no particular reason", "just stopped", "no reason"),
}


def _check_mapping(mapping: Mapping[str, str], name: str) -> dict[str, str]:
    bad = {k: v for k, v in mapping.items() if v not in CATEGORIES}
    if bad:
        raise ValueError(f"{name} maps to unknown categories {bad}; use one of {list(CATEGORIES)}")
    return {str(k).strip().lower(): v for k, v in mapping.items()}


# --- coding ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodedSurvey(Result):
    """Exit-survey answers coded to the five categories.

    Attributes
    ----------
    coded : DataFrame
        Indexed by customer id: ``answer``, ``comment``, ``category`` (one of
        :data:`CATEGORIES` or ``'unmapped'``) and ``source`` (``'answer'``, ``'comment'`` or
        ``'unmapped'``).
    counts : Series
        Customers per category, the five categories then ``'unmapped'``.
    unmapped_answers : Series
        How often each answer that mapped nowhere was given.
    """

    coded: pd.DataFrame
    counts: pd.Series
    unmapped_answers: pd.Series

    @property
    def table(self) -> pd.DataFrame:
        """Count and share of all answers per category (unmapped included)."""
        return pd.DataFrame({"count": self.counts, "share": self.counts / self.counts.sum()})

    def _html_title(self) -> str:
        return "Coded exit survey"

    def _html_notes(self) -> str:
        n_un = int(self.counts[UNMAPPED])
        return (
            f"{int(self.counts.sum())} answers, {n_un} unmapped "
            f"({', '.join(f'{k}: {v}' for k, v in self.unmapped_answers.items()) or 'none'})"
        )


def code_exit_survey(
    survey: pd.DataFrame,
    mapping: Mapping[str, str] | None = None,
    keywords: Mapping[str, Iterable[str]] | None = None,
    *,
    customer_col: str = "customer_id",
    answer_col: str = "answer",
    comment_col: str | None = "comment",
) -> CodedSurvey:
    """Map exit-survey answers to the five defection categories.

    Each answer is looked up in ``mapping`` (case and surrounding spaces ignored). Answers not
    in it are coded from the comment: the category whose ``keywords`` occur most often in it
    (case ignored, each matched where a word starts, so 'late' does not count inside
    'related') wins; no hit, or a tie, leaves the answer ``'unmapped'``. Every
    answer is kept and counted.

    Parameters
    ----------
    survey : DataFrame
        One row per customer with the answer code and, optionally, a comment.
    mapping : dict, optional
        Answer -> category; default :data:`DEFAULT_MAPPING`. It replaces the default; extend
        it with ``{**DEFAULT_MAPPING, "moved_away": "no_reason"}``.
    keywords : dict, optional
        Category -> phrases; default :data:`DEFAULT_KEYWORDS`; ``{}`` disables comment coding.
    customer_col, answer_col, comment_col : str
        Column names; ``comment_col=None`` when there are no comments.

    Returns
    -------
    CodedSurvey

    Examples
    --------
    >>> survey = pd.DataFrame({"customer_id": [1, 2, 3, 4],
    ...                        "answer": ["price", "broken_promise", "other", "other"],
    ...                        "comment": ["", "", "The staff were rude.", "Hard to say."]})
    >>> coded = code_exit_survey(survey)
    >>> coded.coded["category"].tolist()
    ['competition', 'staff_indifference', 'staff_indifference', 'unmapped']
    >>> coded.counts.tolist(), coded.unmapped_answers.to_dict()
    ([2, 0, 1, 0, 0, 1], {'other': 1})
    """
    require_dataframe(survey, "survey")
    columns = [customer_col, answer_col] + ([comment_col] if comment_col else [])
    require_columns(survey, columns, "survey")
    check_customer_ids(survey[customer_col], customer_col)
    dup = survey[customer_col].duplicated(keep=False).to_numpy()
    if dup.any():
        fail(
            customer_col,
            "customers with more than one exit-survey answer",
            survey,
            dup,
            "Keep one answer per customer (e.g. the latest) before coding.",
        )
    mapping = _check_mapping(DEFAULT_MAPPING if mapping is None else mapping, "mapping")
    keywords = DEFAULT_KEYWORDS if keywords is None else keywords
    _check_mapping({k: k for k in keywords}, "keywords")

    answer = survey[answer_col].astype("string").str.strip().str.lower()
    category = np.array(answer.map(mapping).astype(object).to_numpy(), dtype=object)
    source = np.where(pd.isna(category), UNMAPPED, "answer").astype(object)
    if comment_col:
        comment = survey[comment_col].astype("string").fillna("").str.lower()
    else:
        comment = pd.Series("", index=survey.index, dtype="string")
    todo = pd.isna(category)
    if todo.any() and keywords:
        cats = list(keywords)
        hits = np.column_stack(
            [
                sum(comment[todo].str.count(_literal(k)).to_numpy(int) for k in keywords[c])
                if len(tuple(keywords[c]))
                else np.zeros(int(todo.sum()), int)
                for c in cats
            ]
        )
        best = hits.max(axis=1)
        unique = (hits == best[:, None]).sum(axis=1) == 1
        chosen = np.where((best > 0) & unique, np.asarray(cats, object)[hits.argmax(axis=1)], None)
        category[todo] = chosen
        source[np.flatnonzero(todo)[chosen != None]] = "comment"  # noqa: E711
    category = np.where(pd.isna(category), UNMAPPED, category)
    index = pd.Index(survey[customer_col].to_numpy(), name="customer_id")
    coded = pd.DataFrame(
        {
            "answer": survey[answer_col].to_numpy(),
            "comment": survey[comment_col].to_numpy() if comment_col else "",
            "category": category.astype(str),
            "source": source.astype(str),
        },
        index=index,
    )
    counts = (
        (coded["category"].value_counts().reindex([*CATEGORIES, UNMAPPED], fill_value=0))
        .astype(np.int64)
        .rename("count")
        .rename_axis("reason")
    )
    unmapped_answers = (
        coded.loc[coded["category"] == UNMAPPED, "answer"].fillna("<missing>").value_counts()
    ).rename("count")
    return CodedSurvey(coded, counts, unmapped_answers)


def _literal(phrase: str) -> str:
    """Regex for a keyword that starts a word (no letter, digit or underscore before it)."""
    return r"(?<!\w)" + re.escape(str(phrase).lower())


# --- benchmark comparison ------------------------------------------------------------------


def multinomial_interval(counts, level: float = 0.95, method: str = "goodman") -> pd.DataFrame:
    """Confidence intervals for multinomial shares.

    ``method="goodman"``: Goodman's (1965) simultaneous intervals, which cover all ``k``
    shares at once with probability at least ``level``: the score interval with
    ``A = chi2_1(1 - (1 - level) / k)``. ``method="wilson"``: Wilson's (1927) score interval
    for each share on its own (``A = chi2_1(level)``). Both solve
    ``(p - n_i/N)^2 = A p (1 - p) / N`` for ``p``:

        (A + 2 n_i +- sqrt(A (A + 4 n_i (N - n_i) / N))) / (2 (N + A)),

    so Goodman's interval is Wilson's (:func:`churnlab.stats.wilson_interval`) at the level
    ``1 - (1 - level) / k``.

    Examples
    --------
    50 of 100: A = 1.959964^2, (A + 100 -+ sqrt(A (A + 100))) / (2 (100 + A)) = 0.5 -+ 0.0962.

    >>> multinomial_interval([50, 50], method="wilson").round(4)
       share  ci_lower  ci_upper
    0    0.5    0.4038    0.5962
    1    0.5    0.4038    0.5962
    """
    if np.ndim(counts) != 1 or len(counts) < 2:
        raise ValueError(f"counts must be two or more counts, got {counts!r}")
    n = check_numbers(counts, "counts", low=0, integer=True)
    if n.sum() <= 0:
        raise ValueError(f"counts must have a positive sum, got {counts!r}")
    level = check_level(level)
    if method == "goodman":
        each = 1 - (1 - level) / len(n)
    elif method == "wilson":
        each = level
    else:
        raise ValueError(f"method={method!r}: use 'goodman' or 'wilson'")
    N = n.sum()
    lower, upper = wilson_interval(n, N, each)
    index = counts.index if isinstance(counts, pd.Series) else None
    return pd.DataFrame({"share": n / N, "ci_lower": lower, "ci_upper": upper}, index=index)


@dataclass(frozen=True)
class BenchmarkComparison(Result):
    """Observed reason mix against the benchmark.

    ``table`` is indexed by reason (the five categories, then ``'unmapped'``) with columns
    ``count``, ``share`` (of the coded answers), ``ci_lower``, ``ci_upper``, ``benchmark``
    (share), ``expected_count`` and ``residual`` (Pearson, ``(O - E) / sqrt(E)``); the
    unmapped row carries its count only and is left out of the shares and the test.
    """

    table: pd.DataFrame
    chi2: float
    dof: int
    p_value: float
    n_coded: int
    n_unmapped: int
    level: float
    method: str

    def _html_title(self) -> str:
        return "Reason mix against the benchmark"

    def _html_notes(self) -> str:
        return (
            f"chi2 = {self.chi2:.1f} on {self.dof} df, p = {self.p_value:.3g}; "
            f"{self.n_coded} coded answers, {self.n_unmapped} unmapped (not in the test); "
            f"{self.level:.0%} {self.method} intervals"
        )


def _counts_of(counts) -> pd.Series:
    if isinstance(counts, CodedSurvey):
        counts = counts.counts
    if isinstance(counts, Mapping):
        counts = pd.Series(counts)
    if not isinstance(counts, pd.Series):
        raise TypeError(
            f"counts must be a Series, dict or CodedSurvey, got {type(counts).__name__}"
        )
    unknown = [k for k in counts.index if k not in (*CATEGORIES, UNMAPPED)]
    if unknown:
        raise ValueError(
            f"counts has unknown reasons {unknown}; code the answers to {list(CATEGORIES)} "
            f"(or '{UNMAPPED}') first, e.g. with code_exit_survey"
        )
    values = pd.Series(as_float_array(counts, "count"), index=counts.index)
    bad = (values.to_numpy() < 0) | (values % 1 != 0).to_numpy()
    if bad.any():
        fail("count", "counts that are not non-negative integers", values.to_frame("count"), bad)
    return values.reindex([*CATEGORIES, UNMAPPED], fill_value=0).astype(np.int64)


def compare_to_benchmark(
    counts,
    benchmark: pd.Series | None = None,
    *,
    level: float = 0.95,
    method: str = "goodman",
) -> BenchmarkComparison:
    """Compare a reason mix with the benchmark: shares with intervals and a chi-square test.

    Parameters
    ----------
    counts : Series, dict or CodedSurvey
        Customers per category (``'unmapped'`` allowed; it is reported, not tested).
    benchmark : Series, optional
        Shares per category summing to 1; default :data:`BENCHMARK` (68/14/10/5/3).
    level : float
        Confidence level of the intervals.
    method : {'goodman', 'wilson'}
        Goodman's simultaneous intervals (default) or Wilson's one-at-a-time intervals; see
        :func:`multinomial_interval`.

    Returns
    -------
    BenchmarkComparison
        Pearson's chi-square goodness-of-fit statistic on ``k - 1`` degrees of freedom. A
        UserWarning is raised when an expected count is below 5 (the chi-square
        approximation is then poor; pool categories or gather more answers).

    Examples
    --------
    >>> result = compare_to_benchmark({"staff_indifference": 300, "product_dissatisfaction": 140,
    ...                                "competition": 30, "other_relationships": 20,
    ...                                "no_reason": 10, "unmapped": 12})
    >>> # by hand: 40**2/340 + 70**2/70 + 20**2/50 + 5**2/25 + 5**2/15 = 85.37
    >>> round(result.chi2, 2), result.dof, result.p_value < 1e-6
    (85.37, 4, True)
    """
    level = check_level(level)
    n = _counts_of(counts)
    bench = BENCHMARK if benchmark is None else benchmark
    if not isinstance(bench, pd.Series) or sorted(map(str, bench.index)) != sorted(CATEGORIES):
        raise ValueError(f"benchmark must be a Series indexed by {list(CATEGORIES)}")
    bench = bench.reindex(list(CATEGORIES))
    bench = pd.Series(as_float_array(bench, "benchmark"), index=bench.index)
    if (bench <= 0).any() or not np.isclose(bench.sum(), 1.0):
        raise ValueError(f"benchmark shares must be positive and sum to 1, got {bench.to_dict()}")
    coded = n[list(CATEGORIES)]
    N = int(coded.sum())
    if N == 0:
        raise ValueError("no coded answers: every answer is unmapped; check the mapping")
    expected = bench * N
    low = expected.index[expected < 5].tolist()
    if low:
        warnings.warn(
            f"expected counts below 5 for {low} (N = {N}): the chi-square approximation is "
            "poor; gather more answers or pool small categories",
            UserWarning,
            stacklevel=2,
        )
    test = stats.chisquare(coded.to_numpy(float), expected.to_numpy())
    ci = multinomial_interval(coded, level=level, method=method)
    table = pd.DataFrame(
        {
            "count": coded,
            "share": ci["share"],
            "ci_lower": ci["ci_lower"],
            "ci_upper": ci["ci_upper"],
            "benchmark": bench,
            "expected_count": expected,
            "residual": (coded - expected) / np.sqrt(expected),
        }
    )
    table.loc[UNMAPPED] = [n[UNMAPPED]] + [np.nan] * 6
    table["count"] = table["count"].astype(np.int64)
    table.index.name = "reason"
    return BenchmarkComparison(
        table=table,
        chi2=float(test.statistic),
        dof=len(CATEGORIES) - 1,
        p_value=float(test.pvalue),
        n_coded=N,
        n_unmapped=int(n[UNMAPPED]),
        level=level,
        method=method,
    )


# --- value at risk ---------------------------------------------------------------------------


def revenue_before(
    transactions: pd.DataFrame,
    dates: pd.Series,
    *,
    days: int = 365,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
) -> pd.Series:
    """Each customer's revenue in the ``days`` days up to and including a date.

    With ``dates`` the defection dates, this is the yearly revenue a defector took away.
    Transactions are read as by :func:`churnlab.rfm_summary`: revenue is the spend on purchase
    occasions under ``returns`` (``'net'`` nets each return against the purchase it refunds).

    Parameters
    ----------
    transactions : DataFrame
        One row per transaction.
    dates : Series of dates
        Indexed by customer id: the end of each customer's window.
    days : int
        Window length in days.
    returns, date_format, tz
        As in :func:`churnlab.rfm_summary`.

    Returns
    -------
    Series ``revenue`` indexed like ``dates`` (0 for customers without transactions).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                    "date": pd.to_datetime(["2022-01-10", "2023-01-05", "2023-03-01",
    ...                                            "2023-02-01"]),
    ...                    "amount": [100.0, 40.0, -10.0, 25.0]})
    >>> end = pd.Series(pd.to_datetime(["2023-03-01", "2023-01-31"]), index=[1, 2])
    >>> revenue_before(tx, end, returns="net").tolist()
    [30.0, 0.0]
    """
    if not isinstance(dates, pd.Series):
        raise TypeError("dates must be a Series of dates indexed by customer id")
    days = check_number(days, "days", low=1, integer=True)
    check_customer_ids(dates.index, "dates", unique=True)
    table = read_transactions(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        tz=tz,
    )
    end = parse_dates(dates.rename("date").to_frame(), "date", tz=table.time_zone)
    end_day = end.to_numpy().astype("datetime64[D]").astype(np.int64)
    bought = table.purchases(returns=returns)
    window_end = pd.Series(end_day, index=dates.index).reindex(table.ids).to_numpy()
    known = ~np.isnan(window_end)
    row_end = window_end[bought.customer]
    in_window = known[bought.customer] & (bought.day <= row_end) & (bought.day > row_end - days)
    total = np.bincount(
        bought.customer[in_window], weights=bought.amount[in_window], minlength=len(table.ids)
    )
    revenue = pd.Series(total, index=table.ids)
    return revenue.reindex(dates.index, fill_value=0.0).astype(float).rename("revenue")


@dataclass(frozen=True)
class ValueAtRisk(Result):
    """Lost customers and lost value per reason.

    ``table`` is indexed by reason (the five categories, then ``'unmapped'``): ``customers``,
    ``customer_share``, ``value``, ``value_share`` and ``mean_value``; shares are of all
    answers, the unmapped included.
    """

    table: pd.DataFrame
    value_name: str

    def pareto(self, measure: str = "value") -> pd.DataFrame:
        """The coded reasons sorted by ``measure`` ('value' or 'customers'), largest first,
        with their share and cumulative share of the coded total (unmapped left out)."""
        if measure not in ("value", "customers"):
            raise ValueError(f"measure={measure!r}: use 'value' or 'customers'")
        coded = self.table.loc[list(CATEGORIES), [measure]]
        coded = coded.sort_values(measure, ascending=False, kind="stable")
        share = coded[measure] / coded[measure].sum()
        return coded.assign(share=share, cumulative_share=share.cumsum())

    def largest(self, measure: str = "value", among: Iterable[str] = CONTROLLABLE) -> str:
        """The reason with the most lost ``measure`` among ``among`` (default: controllable)."""
        order = self.pareto(measure).index
        among = list(among)
        unknown = [r for r in among if r not in CATEGORIES]
        if unknown or not among:
            raise ValueError(f"among={among!r}: give reasons from {list(CATEGORIES)}")
        return str(order[order.isin(among)][0])

    def _html_title(self) -> str:
        return f"Lost customers and lost {self.value_name} by reason"


def value_at_risk(categories, value: pd.Series, *, value_name: str | None = None) -> ValueAtRisk:
    """Shares of lost customers and of lost value per defection reason.

    Parameters
    ----------
    categories : CodedSurvey or Series
        Category per customer (indexed by customer id).
    value : Series
        Value each of those customers took away (yearly revenue, CLV, margin), indexed by
        customer id; every coded customer needs one.
    value_name : str, optional
        What the value is, for display; default the Series' name.

    Returns
    -------
    ValueAtRisk

    Examples
    --------
    >>> cats = pd.Series(["competition", "staff_indifference", "staff_indifference"],
    ...                  index=[1, 2, 3])
    >>> var = value_at_risk(cats, pd.Series([100.0, 50.0, 30.0], index=[1, 2, 3]))
    >>> # by hand: staff indifference lost 50 + 30 = 80 of 180 (0.444), competition 100 of 180
    >>> var.table.loc[["staff_indifference", "competition"], ["customers", "value_share"]].round(3)
                        customers  value_share
    reason
    staff_indifference          2        0.444
    competition                 1        0.556
    """
    if isinstance(categories, CodedSurvey):
        categories = categories.coded["category"]
    if not isinstance(categories, pd.Series) or not isinstance(value, pd.Series):
        raise TypeError("categories and value must be Series indexed by customer id")
    unknown = ~categories.isin([*CATEGORIES, UNMAPPED]).to_numpy()
    if unknown.any():
        fail(
            "category",
            "unknown reasons",
            categories.to_frame("category"),
            unknown,
            f"Use {list(CATEGORIES)} or '{UNMAPPED}'.",
        )
    check_customer_ids(categories.index, "categories", unique=True)
    check_customer_ids(value.index, "value", unique=True)
    missing = ~categories.index.isin(value.index)
    if missing.any():
        fail(
            "value",
            "no value for these customers",
            categories.to_frame("category"),
            missing,
            "Give every coded customer a value (0 if none).",
        )
    v = value.reindex(categories.index)
    v = pd.Series(as_float_array(v, "value"), index=v.index)
    order = [*CATEGORIES, UNMAPPED]
    grouped = v.groupby(categories.to_numpy())
    customers = grouped.size().reindex(order, fill_value=0).astype(np.int64)
    total = grouped.sum().reindex(order, fill_value=0.0)
    table = pd.DataFrame(
        {
            "customers": customers,
            "customer_share": customers / customers.sum(),
            "value": total,
            "value_share": total / total.sum(),
            "mean_value": total / customers.where(customers > 0),
        }
    )
    table.index.name = "reason"
    return ValueAtRisk(table, value_name or str(value.name or "value"))


# --- leak rate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LeakRate(Result):
    """Yearly defection ("leak") rate against the ceiling.

    ``table`` is indexed by calendar year: ``customers_at_start`` (active on 1 January),
    ``defected`` (of those, defected during the year), ``rate``, ``ci_lower``, ``ci_upper``
    (Wilson, at ``level``) and ``above_ceiling``.
    """

    table: pd.DataFrame
    ceiling: float
    level: float

    @property
    def latest(self) -> float:
        """The rate of the last complete year."""
        return float(self.table["rate"].iloc[-1])

    def _html_title(self) -> str:
        return "Yearly leak rate"

    def _html_notes(self) -> str:
        return f"ceiling {self.ceiling:.0%}; {self.level:.0%} Wilson intervals"


def leak_rate(
    customers: pd.DataFrame,
    *,
    end,
    signup_col: str = "signup_date",
    defection_col: str = "defection_date",
    ceiling: float = LEAK_CEILING,
    level: float = 0.95,
) -> LeakRate:
    """The yearly defection rate: of the customers active on 1 January, the share who defect
    during the year, for every complete calendar year up to ``end``.

    Parameters
    ----------
    customers : DataFrame
        One row per customer with the signup date and the defection date (missing while the
        customer stays).
    end : date-like
        End of observation; years ending after it are incomplete and left out.
    ceiling : float
        The rate to stay under; default :data:`LEAK_CEILING` (10%).
    level : float
        Level of the Wilson intervals.

    Examples
    --------
    >>> c = pd.DataFrame({"signup_date": pd.to_datetime(["2021-03-01"] * 4),
    ...                   "defection_date": pd.to_datetime(["2022-05-01", None, None, None])})
    >>> leak_rate(c, end="2022-12-31").table[["customers_at_start", "defected", "rate"]]
          customers_at_start  defected  rate
    year
    2022                   4         1  0.25
    """
    ceiling = check_probability(ceiling, "ceiling")
    level = check_level(level)
    require_dataframe(customers, "customers")
    require_columns(customers, [signup_col, defection_col], "customers")
    end = as_timestamp(end, "end")
    signup = parse_dates(customers, signup_col)
    defection = parse_dates(customers, defection_col, allow_missing=True)
    early = (defection < signup).to_numpy()
    if early.any():
        fail(defection_col, "defection before signup", customers, early)
    first = signup.min().year + 1
    last = (end + pd.Timedelta(days=1)).year - 1
    if last < first:
        raise ValueError(
            f"no complete calendar year between the first signup ({signup.min().date()}) "
            f"and end={end.date()}"
        )
    rows = []
    for year in range(first, last + 1):
        y0, y1 = (
            pd.Timestamp(year=year, month=1, day=1),
            pd.Timestamp(year=year + 1, month=1, day=1),
        )
        active = (signup < y0) & ~(defection < y0)
        lost = active & (defection >= y0) & (defection < y1)
        rows.append((year, int(active.sum()), int(lost.sum())))
    table = pd.DataFrame(rows, columns=["year", "customers_at_start", "defected"]).set_index("year")
    if (table["customers_at_start"] == 0).any():
        raise ValueError(
            "years without active customers at the start: "
            f"{table.index[table['customers_at_start'] == 0].tolist()}"
        )
    at_start, defected = table["customers_at_start"], table["defected"]
    table["rate"] = defected / at_start
    table["ci_lower"], table["ci_upper"] = wilson_interval(defected, at_start, level)
    table["above_ceiling"] = table["rate"] > ceiling
    return LeakRate(table, ceiling, level)


# --- what-if -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonCut(Result):
    """What cutting one reason's defections by a fraction is worth, per year.

    Fields: ``reason``, ``cut``, ``reason_share`` (of coded defections),
    ``defectors_per_year``, ``customers_kept``, ``value_kept`` (customers kept x the reason's
    mean lost value), ``leak_rate_before`` and ``leak_rate_after`` (NaN when no leak rate was
    given). ``table`` is one row indexed by the reason with the other fields as columns, so
    the tables of several cuts stack with ``pd.concat``.
    """

    reason: str
    cut: float
    reason_share: float
    defectors_per_year: float
    customers_kept: float
    value_kept: float
    leak_rate_before: float
    leak_rate_after: float

    @property
    def table(self) -> pd.DataFrame:
        columns = [k for k in self.__dataclass_fields__ if k != "reason"]
        return pd.DataFrame(
            [{k: getattr(self, k) for k in columns}],
            index=pd.Index([self.reason], name="reason"),
        )

    def _html_title(self) -> str:
        return f"Cutting '{self.reason}' defections by {self.cut:.0%}"


def price_reason_cut(
    value_at_risk: ValueAtRisk,
    reason: str,
    cut: float,
    *,
    defectors_per_year: float,
    leak_rate: float | None = None,
) -> ReasonCut:
    """Price a cut of ``cut`` (a fraction) in the defections for one reason, per year.

    The reason's share of defections is taken among the coded answers (the unmapped are
    assumed to split like them). Customers kept per year = ``cut * share *
    defectors_per_year``; value kept = customers kept x the reason's mean lost value; the
    leak rate falls to ``leak_rate * (1 - cut * share)``.

    Examples
    --------
    Staff indifference is 2 of the 3 coded defections, with a mean lost value of 40: halving
    it keeps 0.5 x 2/3 x 300 = 100 customers a year, worth 100 x 40 = 4,000, and the leak rate
    falls to 0.15 x (1 - 0.5 x 2/3) = 0.10.

    >>> cats = pd.Series(["competition", "staff_indifference", "staff_indifference", "unmapped"])
    >>> var = value_at_risk(cats, pd.Series([100.0, 50.0, 30.0, 10.0]))
    >>> w = price_reason_cut(var, "staff_indifference", 0.5, defectors_per_year=300,
    ...                      leak_rate=0.15)
    >>> round(w.customers_kept, 1), round(w.value_kept, 1), round(w.leak_rate_after, 3)
    (100.0, 4000.0, 0.1)
    >>> w.table[["cut", "customers_kept"]]
                        cut  customers_kept
    reason
    staff_indifference  0.5           100.0
    """
    if not isinstance(value_at_risk, ValueAtRisk):
        raise TypeError("value_at_risk must be the result of value_at_risk()")
    if reason not in CATEGORIES:
        raise ValueError(f"reason={reason!r}: use one of {list(CATEGORIES)}")
    cut = check_probability(cut, "cut")
    defectors_per_year = check_number(defectors_per_year, "defectors_per_year", low=0)
    if leak_rate is not None:
        leak_rate = check_probability(leak_rate, "leak_rate")
    t = value_at_risk.table
    coded = t.loc[list(CATEGORIES), "customers"].sum()
    if coded == 0:
        raise ValueError("no coded customers in value_at_risk")
    share = float(t.loc[reason, "customers"] / coded)
    kept = cut * share * float(defectors_per_year)
    mean = t.loc[reason, "mean_value"]
    before = np.nan if leak_rate is None else float(leak_rate)
    return ReasonCut(
        reason=reason,
        cut=float(cut),
        reason_share=share,
        defectors_per_year=float(defectors_per_year),
        customers_kept=kept,
        value_kept=float(kept * (0.0 if pd.isna(mean) else mean)),
        leak_rate_before=before,
        leak_rate_after=before * (1 - cut * share),
    )
