"""The one door for raw transaction tables.

Every function in churnlab that takes a transaction table (:func:`churnlab.rfm_summary`,
:func:`churnlab.calibration_holdout_split`, :func:`churnlab.churn.make_churn_dataset`,
:func:`churnlab.loyalty.customer_activity`, :func:`churnlab.loyalty.loyalty_ladder`,
:func:`churnlab.economics.evaluate_programme`, :func:`churnlab.defection.revenue_before`,
:func:`churnlab.diagnostics.tracking`) reads it here, so the package has one definition of a
purchase occasion and one set of rules for bad data:

* **Columns.** The customer, date and amount columns must exist; customer ids must not be
  missing or mix numbers and text (:func:`churnlab._validation.check_customer_ids`); amounts
  must be finite numbers, not booleans or text (numbers stored as text are refused, not
  converted).
* **Dates** follow :func:`churnlab._validation.parse_dates`: numbers are refused unless
  ``date_format=`` says how to read them, time-zone-aware dates count by their wall-clock
  calendar day in the data's own zone (or in ``tz=``), out-of-range and sentinel dates are
  errors with the rows.
* **Purchase occasion.** A customer's calendar day with at least one transaction of
  non-negative amount. Several transactions on one day are one occasion (their amounts add
  up). A zero-amount transaction (a free or fully discounted order) is an occasion with no
  spend, as in the CDNOW data behind the published BG/NBD estimates (Fader, Hardie & Lee 2005).
* **Returns** (negative amounts) never create an occasion, and monetary value is never
  negative. ``returns=`` says what happens to their value (:data:`RETURNS_POLICIES`,
  default :data:`DEFAULT_RETURNS`); whatever is left out or netted is warned about with counts
  and value (:class:`ReturnsWarning`).

:func:`inspect_transactions` reports all of this on a table before any summary is made.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnlab._validation import (
    MAX_ROWS_SHOWN,
    as_timestamp,
    calendar_days,
    check_customer_ids,
    date_zone,
    epoch_day,
    fail,
    not_numbers,
    parse_dates,
    require_columns,
    require_dataframe,
    require_no_nan,
)

__all__ = [
    "DEFAULT_RETURNS",
    "RETURNS_POLICIES",
    "DataQualityReport",
    "ReturnsWarning",
    "inspect_transactions",
]

#: What ``returns=`` can say about rows with a negative amount:
#:
#: * ``"exclude"``: they are left out (a return is not a purchase, and its value does not lower
#:   monetary value); the default, as is usual for repeat-buying models;
#: * ``"net"``: each return is subtracted from the customer's latest purchase occasion on or
#:   before its day (the purchase it most plausibly refunds); an occasion's value is floored at
#:   0, and returns with no earlier occasion in the window are left out;
#: * ``"error"``: any return is an error showing the rows.
RETURNS_POLICIES: tuple[str, ...] = ("exclude", "net", "error")

#: The default returns policy of every function that reads transactions.
DEFAULT_RETURNS = "exclude"


class ReturnsWarning(UserWarning):
    """Returns were left out or netted: the message gives counts and value."""


def check_returns(returns) -> str:
    if not isinstance(returns, str) or returns not in RETURNS_POLICIES:
        raise ValueError(f"returns={returns!r} must be one of {list(RETURNS_POLICIES)}")
    return returns


# --- reading ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TransactionTable:
    """A validated transaction table as arrays, one entry per row, dates as calendar days.

    ``ids`` are the distinct customer ids, sorted; ``customer`` is each row's position in them;
    ``day`` each row's calendar day as days since 1970-01-01; ``amount`` each row's amount
    (None without an amount column); ``extra`` further numeric columns by name.
    """

    ids: pd.Index
    customer: np.ndarray
    day: np.ndarray
    amount: np.ndarray | None
    extra: dict[str, np.ndarray]
    time_zone: str | None
    date_col: str
    amount_col: str | None

    def __len__(self) -> int:
        return len(self.day)

    def day_of(self, value, name: str) -> int:
        """A date argument as a calendar day in the data's own zone (see :func:`as_timestamp`)."""
        return epoch_day(as_timestamp(value, name, tz=self.time_zone))

    def end_day(self, value, name: str = "observation_end") -> int:
        """``value`` as a day, or the last transaction's day when it is None."""
        if value is None:
            if len(self.day) == 0:
                raise ValueError("transactions are empty")
            return int(self.day.max())
        return self.day_of(value, name)

    def date_range(self) -> str:
        first, last = (np.datetime64(int(d), "D") for d in (self.day.min(), self.day.max()))
        return f"{first} to {last}"

    def purchases(
        self,
        *,
        returns: str,
        start: int | None = None,
        end: int | None = None,
        window: str = "",
        stacklevel: int = 3,
    ) -> Purchases:
        """The purchase rows on days ``start..end`` (inclusive) under the returns policy."""
        return _purchases(self, check_returns(returns), start, end, window, stacklevel + 1)


def _customer_codes(ids: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Position of each row's customer among the sorted distinct ids, and those ids.

    Integer ids of moderate range are mapped by direct indexing (no hashing, no sort of the
    rows); other ids are factorized unsorted and only the distinct ids are sorted, which is
    several times faster than sorting every row's id.
    """
    numbered = _numbered_text_ids(ids)
    if numbered is not None:
        return numbered
    values = ids.to_numpy()
    if values.dtype.kind in "iu" and len(values):
        low, high = int(values.min()), int(values.max())
        if high - low <= 4 * len(values) + 1024:
            offset = values - low if values.dtype == np.int64 else (values - low).astype(np.int64)
            present = np.zeros(high - low + 1, dtype=bool)
            present[offset] = True
            rank = np.cumsum(present) - 1
            distinct = np.flatnonzero(present) + low
            # each row's rank, written over its offset (read before it is overwritten)
            codes = np.take(rank, offset, out=offset, mode="clip")
            return codes, pd.Index(distinct.astype(values.dtype), name=ids.name)
    codes, uniques = pd.factorize(ids, sort=False)
    uniques = pd.Index(uniques, name=ids.name)
    order = uniques.argsort()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], uniques[order]


def _numbered_text_ids(ids: pd.Series) -> tuple[np.ndarray, pd.Index] | None:
    """Codes for text ids of the form prefix + number ("C1000123"), without hashing text.

    Exports often number customers behind a fixed prefix. When every id is the same prefix
    followed by a number without leading zeros, the numbers are read in Arrow's compute kernels
    and mapped like integer ids, which is several times faster than hashing millions of
    strings. The ids themselves, and their (text) order, are exactly those of the general path.
    Returns None for any other ids.
    """
    if not isinstance(ids.dtype, pd.StringDtype) or len(ids) == 0:
        return None
    pa_array = getattr(ids.array, "_pa_array", None)
    if pa_array is None:  # Python-backed strings: converting them costs as much as hashing
        return None
    import re

    import pyarrow as pa
    import pyarrow.compute as pc

    first = pa_array[0].as_py() if pa_array.null_count == 0 else None
    match = re.fullmatch(r"(\D*)[1-9]\d{0,17}", first or "")
    if match is None:
        return None
    prefix = match.group(1)
    digits = pc.utf8_slice_codeunits(pa_array, len(prefix))
    ok = pc.and_(pc.starts_with(pa_array, prefix), pc.ascii_is_decimal(digits))
    ok = pc.and_(ok, pc.invert(pc.starts_with(digits, "0")))
    ok = pc.and_(ok, pc.less_equal(pc.utf8_length(digits), 18))
    if not pc.all(ok).as_py():
        return None
    number = pc.cast(digits, pa.int64()).to_numpy()
    codes, distinct = _customer_codes(pd.Series(number, name=ids.name))
    joined = pc.binary_join_element_wise(
        pa.scalar(prefix), pc.cast(pa.array(distinct.to_numpy()), pa.string()), ""
    )
    text = pd.Index(pd.array(joined, dtype=ids.dtype), name=ids.name)
    lengths = pc.min_max(pc.utf8_length(pa_array)).as_py()
    if lengths["min"] != lengths["max"]:  # "C9" sorts after "C10" as text: re-rank
        order = text.argsort()
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        codes, text = rank[codes], text[order]
    return codes, text


#: What the door says of text or booleans in a numeric column (the DuckDB path says the same).
NOT_NUMBERS = "text or booleans where numbers are expected"
NOT_NUMBERS_HINT = (
    "Convert the values to numbers first (e.g. pd.to_numeric for numbers stored as text); "
    "booleans are not numbers here."
)
NOT_FINITE = "NaN or infinite values"


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A numeric column as floats, refusing text, booleans and non-finite values.

    The same rules as :func:`churnlab._validation.as_float_array` (numbers stored as text are
    refused, not converted), with the whole offending rows shown.
    """
    values = frame[column]
    bad = not_numbers(values)
    if bad.any():
        fail(column, NOT_NUMBERS, frame, bad, NOT_NUMBERS_HINT)
    number = values.to_numpy(dtype=float)
    bad = ~np.isfinite(number)
    if bad.any():
        fail(column, NOT_FINITE, frame, bad)
    return number


def read_transactions(
    transactions,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    extra_cols: tuple[str, ...] = (),
    date_format: str | None = None,
    tz=None,
) -> TransactionTable:
    """Validate a transaction table and return it as arrays (see the module's rules)."""
    frame = require_dataframe(transactions, "transactions")
    for name, value in (("customer_col", customer_col), ("date_col", date_col)):
        if not isinstance(value, str):
            raise ValueError(f"{name}={value!r} must be a column name (a string)")
    columns = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
    columns += list(extra_cols)
    require_columns(frame, columns, "transactions")
    require_no_nan(frame, [c for c in columns if c != date_col])
    check_customer_ids(frame[customer_col], customer_col)
    dates = parse_dates(frame, date_col, date_format=date_format, tz=tz)
    zone = str(tz) if tz is not None else date_zone(frame[date_col])
    day = calendar_days(dates.to_numpy())
    del dates
    codes, ids = _customer_codes(frame[customer_col])
    amount = _numbers(frame, amount_col) if amount_col is not None else None
    extra = {c: _numbers(frame, c) for c in extra_cols}
    return TransactionTable(
        ids=ids.rename(customer_col),
        customer=np.asarray(codes, dtype=np.int64),
        day=day,
        amount=amount,
        extra=extra,
        time_zone=zone,
        date_col=date_col,
        amount_col=amount_col,
    )


# --- the purchase definition --------------------------------------------------------------
@dataclass(frozen=True)
class Purchases:
    """Purchase rows (amount >= 0) of a window under a returns policy, one entry per row.

    Each distinct (customer, day) is one purchase occasion. ``amount`` is None when the table
    has no amount column. :meth:`occasions` collapses the rows to occasions.
    """

    ids: pd.Index
    customer: np.ndarray
    day: np.ndarray
    amount: np.ndarray | None
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.day)

    def occasions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One entry per occasion, sorted by customer then day: customer, day, amount, rows."""
        customer, day = self.customer, self.day
        if len(day) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0), empty
        key_sorted, order, span, low = sorted_day_keys(customer, day, len(self.ids))
        starts = run_starts(key_sorted)
        amount = np.zeros(len(day)) if self.amount is None else self.amount
        day_amount = np.add.reduceat(amount[order], starts)
        del order
        rows = np.diff(np.r_[starts, len(key_sorted)])
        first = key_sorted[starts].astype(np.int64)
        return first // span, first % span + low, day_amount, rows


def sorted_day_keys(customer: np.ndarray, day: np.ndarray, n_customers: int):
    """The packed keys ``customer * span + (day - first day)`` sorted, and the stable order.

    Returns ``(key_sorted, order, span, low)``: ``key_sorted = key[order]`` (int32 when it fits,
    else int64) and ``order`` the permutation a stable argsort of the keys gives (rows of
    one key keep their order). Rather than a stable argsort, the row number is packed into
    the low bits of a 64-bit key and the keys are sorted in place: the packed keys are
    distinct, so any sort orders them as a stable argsort would, and numpy sorts 64-bit
    integers several times faster than it argsorts them stably. When key and row number do
    not fit in 63 bits together, a stable argsort of the keys is used.
    """
    low = int(day.min())
    span = int(day.max()) - low + 1
    n = len(day)
    shift = max(n - 1, 1).bit_length()
    key_bits = max(n_customers * span - 1, 1).bit_length()
    small = n_customers * span <= np.iinfo(np.int32).max
    if key_bits + shift > 63:
        key, span, low = _day_keys(customer, day, n_customers)
        order = np.argsort(key, kind="stable")
        return key[order], order, span, low
    packed = np.multiply(customer, span, dtype=np.int64)
    packed -= low
    packed += day
    packed <<= shift
    packed |= np.arange(n, dtype=np.int32 if n <= np.iinfo(np.int32).max else np.int64)
    packed.sort()
    key_sorted = np.empty(n, dtype=np.int32 if small else np.int64)
    np.right_shift(packed, shift, out=key_sorted, casting="unsafe")
    packed &= (1 << shift) - 1
    return key_sorted, packed, span, low


def run_starts(values: np.ndarray) -> np.ndarray:
    """Positions where a run of equal values begins in ``values`` (non-empty)."""
    new = np.empty(len(values), dtype=bool)
    new[0] = True
    np.not_equal(values[1:], values[:-1], out=new[1:])
    return np.flatnonzero(new)


def _day_keys(customer: np.ndarray, day: np.ndarray, n_customers: int):
    """The packed key ``customer * span + (day - first day)``, its span and first day.

    The key is 32-bit when it fits, which sorts about twice as fast as 64-bit.
    """
    low = int(day.min())
    span = int(day.max()) - low + 1
    key = customer * span + (day - low)
    if n_customers * span <= np.iinfo(np.int32).max:
        key = key.astype(np.int32)
    return key, span, low


def distinct_days(customer: np.ndarray, day: np.ndarray, n_customers: int) -> np.ndarray:
    """Number of distinct purchase days (occasions) of each customer (one sort of a key)."""
    if len(day) == 0:
        return np.zeros(n_customers, dtype=np.int64)
    key, span, _ = _day_keys(customer, day, n_customers)
    key = np.sort(key)
    first = np.r_[True, key[1:] != key[:-1]]
    return np.bincount(key[first] // span, minlength=n_customers)


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _purchases(
    table: TransactionTable, returns: str, start, end, window: str, stacklevel: int
) -> Purchases:
    customer, day, amount = table.customer, table.day, table.amount
    extra = table.extra
    keep = None
    if start is not None:
        keep = day >= start
    if end is not None:
        keep = day <= end if keep is None else keep & (day <= end)
    if keep is not None and not keep.all():
        customer, day = customer[keep], day[keep]
        amount = None if amount is None else amount[keep]
        extra = {k: v[keep] for k, v in extra.items()}
    if amount is None:
        return Purchases(table.ids, customer, day, None, extra)
    is_return = amount < 0
    if not is_return.any():
        return Purchases(table.ids, customer, day, amount, extra)
    where = f" in {window}" if window else ""
    n_ret, v_ret = int(is_return.sum()), float(amount[is_return].sum())
    buy = ~is_return
    only_returns = np.setdiff1d(np.unique(customer[is_return]), np.unique(customer[buy]))
    note_only = (
        f" {len(only_returns)} customer(s) have returns but no purchase{where} and are not "
        "customers there."
        if len(only_returns)
        else ""
    )
    if returns == "error":
        rows = np.flatnonzero(is_return)[:MAX_ROWS_SHOWN]
        shown = pd.DataFrame(
            {
                "customer": table.ids[customer[rows]],
                "date": (np.datetime64("1970-01-01", "D") + day[rows]).astype(str),
                table.amount_col: amount[rows],
            },
            index=rows,
        ).to_string()
        more = f"\n... and {n_ret - len(rows)} more row(s)" if n_ret > len(rows) else ""
        raise ValueError(
            f"column '{table.amount_col}': {n_ret} return row(s) (negative amounts, total "
            f"{_money(v_ret)}){where} with returns='error':\n{shown}{more}\n"
            "Pass returns='exclude' to leave them out or returns='net' to net them against "
            "the customer's purchases."
        )
    p_customer, p_day, p_amount = customer[buy], day[buy], amount[buy]
    p_extra = {k: v[buy] for k, v in extra.items()}
    if returns == "exclude":
        warnings.warn(
            f"returns='exclude': {n_ret:,} return row(s) (negative {table.amount_col}, total "
            f"{_money(v_ret)}){where} left out: a return is not a purchase occasion and does "
            f"not lower monetary value.{note_only} Pass returns='net' to net them against "
            "each customer's purchases, or returns='error' to refuse them.",
            ReturnsWarning,
            stacklevel=stacklevel,
        )
        return Purchases(table.ids, p_customer, p_day, p_amount, p_extra)
    return _net_returns(
        table.ids,
        (p_customer, p_day, p_amount, p_extra),
        (customer[is_return], day[is_return], amount[is_return]),
        table.amount_col,
        where,
        note_only,
        stacklevel + 1,
    )


def _net_returns(ids, buys, rets, amount_col, where, note_only, stacklevel) -> Purchases:
    """returns='net': each return lowers the customer's latest occasion on or before its day.

    The occasion's value is floored at 0 (rows scaled in proportion, so that row counts and
    per-row amounts stay meaningful); returns with no earlier occasion are left out.
    """
    b_customer, b_day, b_amount, b_extra = buys
    r_customer, r_day, r_amount = rets
    low = int(min(b_day.min(), r_day.min()))
    span = int(max(b_day.max(), r_day.max())) - low + 1
    b_key = b_customer * span + (b_day - low)
    # only occasions with positive spend can absorb a refund
    paid = b_amount > 0
    occ_key, occ_inverse = np.unique(b_key[paid], return_inverse=True)
    occ_gross = np.bincount(occ_inverse, weights=b_amount[paid], minlength=len(occ_key))
    r_key = r_customer * span + (r_day - low)
    pos = np.searchsorted(occ_key, r_key, side="right") - 1
    matched = pos >= 0
    matched[matched] = occ_key[pos[matched]] // span == r_customer[matched]
    refund = np.bincount(pos[matched], weights=r_amount[matched], minlength=len(occ_key))
    net = occ_gross + refund
    floored = net < 0
    factor = np.maximum(net, 0.0) / occ_gross
    scale = np.ones(len(b_amount))
    scale[np.flatnonzero(paid)] = factor[occ_inverse]
    amount = b_amount * scale
    n_ret, v_ret = len(r_amount), float(r_amount.sum())
    n_un, v_un = int((~matched).sum()), float(r_amount[~matched].sum())
    message = (
        f"returns='net': {n_ret:,} return row(s) (negative {amount_col}, total "
        f"{_money(v_ret)}){where} netted against each customer's latest purchase occasion on "
        "or before the return; returns never create an occasion."
    )
    if n_un:
        message += (
            f" {n_un:,} of them (total {_money(v_un)}) have no earlier purchase{where} and "
            "are left out."
        )
    if floored.any():
        message += (
            f" {int(floored.sum()):,} occasion(s) were refunded more than they cost: their "
            f"value is floored at 0 (excess {_money(float(net[floored].sum()))} left out)."
        )
    warnings.warn(message + note_only, ReturnsWarning, stacklevel=stacklevel)
    return Purchases(ids, b_customer, b_day, amount, b_extra)


@dataclass(frozen=True)
class Occasions:
    """Purchase occasions of the customers who made one, sorted by customer then day.

    ``ids`` are those customers (sorted); ``customer`` is each occasion's position in them;
    ``day`` its calendar day (days since 1970-01-01), ``amount`` its spend under the returns
    policy (never negative), ``rows`` the transactions merged into it. ``end_day`` is the last
    day observed.
    """

    ids: pd.Index
    customer: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    rows: np.ndarray
    end_day: int
    time_zone: str | None

    def day_of(self, value, name: str) -> int:
        """A date argument as a calendar day in the data's own zone."""
        return epoch_day(as_timestamp(value, name, tz=self.time_zone))

    def counts(self) -> np.ndarray:
        """Occasions per customer (aligned with ``ids``)."""
        return np.bincount(self.customer, minlength=len(self.ids))

    def starts(self) -> np.ndarray:
        """Position of each customer's first occasion (aligned with ``ids``)."""
        n = self.counts()
        return np.r_[0, np.cumsum(n)[:-1]]


def read_occasions(
    transactions,
    observation_end=None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
    stacklevel: int = 4,
) -> Occasions:
    """Read a transaction table and collapse it to purchase occasions up to ``observation_end``.

    The shared first step of every per-customer history (activity, loyalty ladder, programme
    evaluation): the same validation, calendar days and returns policy as
    :func:`churnlab.rfm_summary`.
    """
    table = read_transactions(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        tz=tz,
    )
    if len(table) == 0:
        raise ValueError("transactions are empty: no customer can be summarised")
    end_day = table.end_day(observation_end, "observation_end")
    if int(table.day.min()) > end_day:
        raise ValueError(
            f"observation_end={observation_end!r} is before every purchase: the transactions "
            f"run from {table.date_range()}"
        )
    window = f"the window to {np.datetime64(end_day, 'D')}"
    bought = table.purchases(returns=returns, end=end_day, window=window, stacklevel=stacklevel)
    customer, day, amount, rows = bought.occasions()
    present = np.unique(customer)
    if len(present) == 0:
        raise ValueError(f"no purchase occasion in {window}: only returns")
    return Occasions(
        ids=table.ids[present],
        customer=np.searchsorted(present, customer),
        day=day,
        amount=amount,
        rows=rows,
        end_day=end_day,
        time_zone=table.time_zone,
    )


# --- the data-quality report --------------------------------------------------------------
@dataclass(frozen=True)
class DataQualityReport:
    """What a transaction table holds and what churnlab will do with it.

    ``table`` has one row per check (``value`` and ``note``); ``problems`` lists what will be
    refused (each an error message), empty when the table can be used. :attr:`ok` is True
    when nothing will be refused.
    """

    rows: int
    customers: int
    first_date: pd.Timestamp | None
    last_date: pd.Timestamp | None
    time_zone: str | None
    return_rows: int
    return_value: float
    returns_only_customers: int
    zero_amount_rows: int
    same_day_rows_merged: int
    purchase_occasions: int
    duplicate_rows: int
    rows_after_end: int
    observation_end: pd.Timestamp | None
    returns: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @classmethod
    def unreadable(
        cls,
        *,
        rows: int,
        customers: int,
        duplicate_rows: int,
        observation_end: pd.Timestamp | None,
        returns: str,
        problems,
    ) -> DataQualityReport:
        """The report of a table that cannot be read (or is empty): counts that need no
        valid rows, and what is refused. Every engine builds it the same way."""
        return cls(
            rows=rows,
            customers=customers,
            first_date=None,
            last_date=None,
            time_zone=None,
            return_rows=0,
            return_value=0.0,
            returns_only_customers=0,
            zero_amount_rows=0,
            same_day_rows_merged=0,
            purchase_occasions=0,
            duplicate_rows=duplicate_rows,
            rows_after_end=0,
            observation_end=observation_end,
            returns=returns,
            problems=tuple(problems),
        )

    @property
    def table(self) -> pd.DataFrame:
        def date(value):
            return "" if value is None else str(value.date())

        rows = [
            ("rows", self.rows, "transactions in the table"),
            ("customers", self.customers, "distinct customer ids"),
            ("first date", date(self.first_date), ""),
            ("last date", date(self.last_date), ""),
            (
                "time zone",
                self.time_zone or "none (naive dates)",
                "dates count by their calendar day in this zone",
            ),
            (
                "return rows",
                self.return_rows,
                f"negative amounts, total {_money(self.return_value)}; "
                f"returns='{self.returns}' applies",
            ),
            (
                "customers with only returns",
                self.returns_only_customers,
                "no purchase occasion: not in the summaries",
            ),
            (
                "zero-amount rows",
                self.zero_amount_rows,
                "purchase occasions with no spend (free or fully discounted orders)",
            ),
            (
                "same-day rows merged",
                self.same_day_rows_merged,
                "purchase rows on a day the customer already bought: one occasion per day",
            ),
            ("purchase occasions", self.purchase_occasions, "customer-days with a purchase"),
            (
                "exact duplicate rows",
                self.duplicate_rows,
                "identical in every column: kept (check the export if unexpected)",
            ),
            (
                "rows after observation end",
                self.rows_after_end,
                "ignored"
                if self.observation_end is None
                else f"after {date(self.observation_end)}: ignored",
            ),
            (
                "refused",
                len(self.problems),
                "; ".join(p.splitlines()[0] for p in self.problems) or "nothing",
            ),
        ]
        return pd.DataFrame(rows, columns=["check", "value", "note"]).set_index("check")

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def __str__(self) -> str:
        text = self.table.to_string()
        for problem in self.problems:
            text += f"\n\nRefused:\n{problem}"
        return text

    def _repr_html_(self) -> str:
        from html import escape

        html = f"<h4>Data quality: {'ready' if self.ok else 'will be refused'}</h4>"
        html += self.table.to_html(escape=True)
        for problem in self.problems:
            html += f"<pre>{escape(problem)}</pre>"
        return html


def inspect_transactions(
    transactions,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    observation_end=None,
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
    engine_options: dict | None = None,
) -> DataQualityReport:
    """Report what a transaction table holds before any summary is made from it.

    It never raises on bad data: what the other functions would refuse is listed in
    ``problems`` (the same messages they raise), the rest is counted.

    Parameters
    ----------
    transactions : DataFrame, Polars or Arrow table, path, DuckDB relation or Spark DataFrame
        One row per transaction: a pandas DataFrame, or any input of :mod:`churnlab.engines`
        (a Polars DataFrame or PyArrow table; a path to a Parquet or CSV file, or a glob of
        them, and a DuckDB relation, summarised by DuckDB out of core; a Spark DataFrame,
        by :mod:`churnlab.spark`). The report is the same whatever the input.
    customer_col, date_col, amount_col : str
        Column names (``amount_col=None`` when there is no amount).
    observation_end : date-like, optional
        End of observation; rows after it are counted.
    returns : {'exclude', 'net', 'error'}
        The returns policy the summaries will apply (:data:`RETURNS_POLICIES`).
    date_format, tz
        As in :func:`churnlab.rfm_summary`.
    engine_options : dict, optional
        Settings of the DuckDB engine for files and relations: ``memory_limit`` (a size such
        as ``"4GB"``; default half of the machine's memory), ``temp_directory`` (where DuckDB
        spills beyond it) and ``threads``; see :mod:`churnlab.engines`.

    Returns
    -------
    DataQualityReport

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2],
    ...                    "date": ["2024-01-01", "2024-01-01", "2024-01-09", "2024-01-03",
    ...                             "2024-01-05"],
    ...                    "amount": [10.0, 5.0, -5.0, 0.0, 20.0]})
    >>> report = inspect_transactions(tx)
    >>> report.table.loc[["rows", "return rows", "zero-amount rows", "same-day rows merged",
    ...                   "purchase occasions"], "value"].tolist()
    [5, 1, 1, 1, 3]
    >>> report.ok
    True
    """
    if engine_options is not None or not isinstance(transactions, pd.DataFrame):
        from churnlab.engines import dispatch  # files, relations, Polars, Arrow, Spark

        return dispatch(inspect_transactions, locals())
    check_returns(returns)
    problems: list[str] = []
    require_dataframe(transactions, "transactions")
    n_rows = len(transactions)
    try:
        table = read_transactions(
            transactions,
            customer_col=customer_col,
            date_col=date_col,
            amount_col=amount_col,
            date_format=date_format,
            tz=tz,
        )
    except ValueError as err:
        problems.append(str(err))
        table = None
    end_stamp = None
    if observation_end is not None:
        try:
            zone = None if table is None else table.time_zone
            end_stamp = as_timestamp(observation_end, "observation_end", tz=zone).normalize()
        except ValueError as err:
            problems.append(str(err))
    duplicates = int(transactions.duplicated().sum()) if n_rows else 0
    if table is None or len(table) == 0:
        if table is not None:
            problems.append("transactions are empty: no customer can be summarised")
        n_customers = (
            int(transactions[customer_col].nunique()) if customer_col in transactions else 0
        )
        return DataQualityReport.unreadable(
            rows=n_rows,
            customers=n_customers,
            duplicate_rows=duplicates,
            observation_end=end_stamp,
            returns=returns,
            problems=problems,
        )
    epoch = np.datetime64("1970-01-01", "D")
    first, last = int(table.day.min()), int(table.day.max())
    end_day = last if end_stamp is None else epoch_day(end_stamp)
    after = table.day > end_day
    if end_stamp is not None and end_day < first:
        problems.append(
            f"observation_end={observation_end!r} is before every purchase: the transactions "
            f"run from {table.date_range()}"
        )
    amount = table.amount if table.amount is not None else np.zeros(len(table))
    window = ~after
    is_return = window & (amount < 0)
    buy = window & ~is_return
    occasions = int(distinct_days(table.customer[buy], table.day[buy], len(table.ids)).sum())
    only_returns = np.setdiff1d(
        np.unique(table.customer[is_return]), np.unique(table.customer[buy])
    )
    if returns == "error" and is_return.any():
        try:
            table.purchases(returns="error", end=end_day)
        except ValueError as err:
            problems.append(str(err))
    if not buy.any() and not problems:
        problems.append("no purchase occasion on or before the observation end")
    return DataQualityReport(
        rows=n_rows,
        customers=len(table.ids),
        first_date=pd.Timestamp(epoch + first),
        last_date=pd.Timestamp(epoch + last),
        time_zone=table.time_zone,
        return_rows=int(is_return.sum()),
        return_value=float(amount[is_return].sum()),
        returns_only_customers=len(only_returns),
        zero_amount_rows=int((window & (amount == 0)).sum()) if table.amount is not None else 0,
        same_day_rows_merged=int(buy.sum()) - occasions,
        purchase_occasions=occasions,
        duplicate_rows=duplicates,
        rows_after_end=int(after.sum()),
        observation_end=end_stamp,
        returns=returns,
        problems=tuple(problems),
    )
