"""Leakage-free churn features at a cutoff date, and churn labels over a horizon after it.

A churn data set is a snapshot: everything known about each customer on the ``cutoff`` date
(features), and whether the customer bought again in the ``horizon`` that follows (label).
Features are computed from transactions on or before the cutoff only, so adding, removing or
changing any transaction after the cutoff leaves the features unchanged (tested).

Everything is vectorised: one sort of the pre-cutoff purchase rows by customer then day gives
the purchase occasions, and every feature comes from them or from ``np.bincount`` over the rows.
There is no per-customer Python code.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284. (BG/NBD features)
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import warnings
from numbers import Real

import numpy as np
import pandas as pd

from churnlab._validation import (
    fail,
    require_dataframe,
)
from churnlab.rfm import rfm_columns, unit_days
from churnlab.stats import gap_statistics
from churnlab.transactions import (
    DEFAULT_RETURNS,
    Purchases,
    read_transactions,
    run_starts,
    sorted_day_keys,
)

#: Default look-back windows, in days, for the "purchases / spend in the last N days" features.
DEFAULT_WINDOWS: tuple[int, ...] = (30, 90, 180)

#: Name of the label Series: 1 = churned (no purchase in the horizon), 0 = bought again.
LABEL_NAME = "churned"


#: Plain-English names of the features of :func:`make_churn_dataset`; ``{unit}`` is the time
#: unit in words ("weeks"), ``{n}`` the window in days. Used to label charts
#: (:func:`feature_label`).
FEATURE_LABELS: dict[str, str] = {
    "frequency": "Repeat purchases",
    "recency": "Time from first to last purchase ({unit})",
    "tenure": "Time since first purchase ({unit})",
    "monetary_value": "Average repeat-purchase value",
    "time_since_last_purchase": "{Unit} since last purchase",
    "ipt_mean": "Average gap between purchases ({unit})",
    "ipt_std": "Spread of gaps between purchases ({unit})",
    "ipt_cv": "Irregularity of gaps between purchases",
    "purchases_{n}d": "Purchases in the last {n} days",
    "spend_{n}d": "Spend in the last {n} days",
    "trend_{n}d": "Purchase trend, last {n} days vs the {n} before",
    "n_transactions": "Transactions",
    "total_spend": "Total spend",
    "avg_basket_value": "Average basket value",
    "avg_quantity": "Average items per transaction",
    "p_alive": "Probability still active (BG/NBD)",
    "expected_purchases": "Expected purchases (BG/NBD)",
}
_UNIT_WORDS = {"D": "days", "W": "weeks", "M": "months"}


def feature_label(name: str, time_unit: str | None = None) -> str:
    """The feature ``name`` of :func:`make_churn_dataset` in words, for a chart.

    ``time_unit`` (the one the features were made with) names the unit of time features;
    without it they say "time". Names that are not churnlab features (joined attributes) are
    returned unchanged.

    Examples
    --------
    >>> feature_label("time_since_last_purchase", "W")
    'Weeks since last purchase'
    >>> feature_label("spend_90d")
    'Spend in the last 90 days'
    >>> feature_label("ipt_mean")
    'Average gap between purchases (time)'
    >>> feature_label("region")
    'region'
    """
    unit = _UNIT_WORDS.get(time_unit, "time") if time_unit else "time"
    template = FEATURE_LABELS.get(name)
    n = ""
    if template is None:
        prefix, _, window = name.rpartition("_")
        if window.endswith("d") and window[:-1].isdigit():
            template = FEATURE_LABELS.get(f"{prefix}_{{n}}d")
            n = window[:-1]
    if template is None:
        return name
    return template.format(unit=unit, Unit=unit.capitalize(), n=n)


def _day_to_date(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def horizon_days(horizon, time_unit: str = "W") -> int:
    """Length of a label horizon in whole days.

    Parameters
    ----------
    horizon : Timedelta, str, timedelta or number
        A ``pd.Timedelta`` (or anything it parses, such as ``"39W"`` or ``"90D"``), or a
        number of periods of ``time_unit``.
    time_unit : {'W', 'D', 'M'}
        Unit of a numeric ``horizon``.

    Examples
    --------
    >>> horizon_days("39W"), horizon_days("90D"), horizon_days(2, "W")
    (273, 90, 14)
    """
    if isinstance(horizon, bool):
        raise ValueError(f"horizon={horizon!r} is not a duration")
    if isinstance(horizon, Real):
        days = float(horizon) * unit_days(time_unit)
    else:
        if not isinstance(horizon, (str, pd.Timedelta, _dt.timedelta, np.timedelta64)):
            raise ValueError(
                f"horizon={horizon!r} is not a duration: pass a pd.Timedelta, a string such "
                "as '39W' or '90D', or a number of periods of time_unit"
            )
        try:
            delta = pd.Timedelta(horizon)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"horizon={horizon!r} is not a duration ({err}); use e.g. '39W' or '90D'"
            ) from None
        if pd.isna(delta):
            raise ValueError(f"horizon={horizon!r} is not a duration")
        days = delta / pd.Timedelta(days=1)
    if not np.isfinite(days) or days <= 0:
        raise ValueError(f"horizon={horizon!r} must be positive (got {days} days)")
    if abs(days - round(days)) > 1e-9:
        raise ValueError(
            f"horizon={horizon!r} is {days} days: labels are counted in whole calendar days"
        )
    return int(round(days))


def make_churn_dataset(
    transactions,
    cutoff,
    horizon,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    quantity_col: str | None = None,
    time_unit: str = "W",
    windows: tuple[int, ...] = DEFAULT_WINDOWS,
    trend_window: int = 90,
    bgnbd: bool = True,
    attributes: pd.DataFrame | None = None,
    data_end=None,
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
    engine_options: dict | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Features at ``cutoff`` and churn labels over ``(cutoff, cutoff + horizon]``.

    Every customer with at least one purchase on or before ``cutoff`` gets one row.
    Features use transactions on or before the cutoff only; the label ``y = 1`` (churned)
    means the customer made no purchase in ``(cutoff, cutoff + horizon]``. Transactions are
    read as by :func:`churnlab.rfm_summary` (:mod:`churnlab.transactions`): a return is never
    a purchase, so it neither adds a purchase day to the features nor counts as activity in
    the label window; the returns policy applies to each window on its own.

    Parameters
    ----------
    transactions : DataFrame, Polars or Arrow table, path, DuckDB relation or Spark DataFrame
        One row per transaction: a pandas DataFrame, or any input of :mod:`churnlab.engines`
        (a Polars DataFrame or PyArrow table; a path to a Parquet or CSV file, or a glob of
        them, and a DuckDB relation, summarised by DuckDB out of core; a Spark DataFrame,
        by :mod:`churnlab.spark`). The result is a pandas DataFrame whatever the input.
    cutoff : date-like
        The snapshot date (inclusive). Must lie within the data.
    horizon : Timedelta, str or number
        Length of the label window: ``"39W"``, ``"90D"``, a ``pd.Timedelta``, or a number of
        periods of ``time_unit``. Whole days, positive.
    customer_col, date_col, amount_col : str
        Column names. ``amount_col=None`` for data without amounts: every transaction is a
        purchase and the spend features (``monetary_value``, ``spend_<N>d``, ``total_spend``,
        ``avg_basket_value``) are left out rather than shown as zeros.
    quantity_col : str, optional
        Column of units per transaction; adds ``avg_quantity``.
    time_unit : {'W', 'D', 'M'}
        Unit of the time features (recency, tenure, inter-purchase times) and of the BG/NBD
        horizon.
    windows : tuple of int
        Look-back windows in days for ``purchases_<N>d`` and ``spend_<N>d``.
    trend_window : int
        Days in each half of the trend comparison (see Notes).
    bgnbd : bool
        Add ``p_alive`` and ``expected_purchases`` from a BG/NBD model fitted on the
        pre-cutoff RFM summary (its parameters are kept in ``X.attrs["bgnbd_params"]``).
    attributes : DataFrame, optional
        Per-customer attributes indexed by customer id, joined onto the features. Customers
        without a row get missing values (with a warning).
    data_end : date-like, optional
        Last date of observation. Defaults to the last transaction date; pass it when the
        observation continued after the last transaction.
    returns, date_format, tz
        As in :func:`churnlab.rfm_summary`.
    engine_options : dict, optional
        Settings of the DuckDB engine for files and relations: ``memory_limit`` (a size such
        as ``"4GB"``; default half of the machine's memory), ``temp_directory`` (where DuckDB
        spills beyond it) and ``threads``; see :mod:`churnlab.engines`.

    Returns
    -------
    X : DataFrame
        Indexed by customer id (sorted). Columns (time in ``time_unit``):

        * ``frequency``, ``recency``, ``tenure`` (= ``T``), ``monetary_value``: the RFM
          summary at the cutoff (:func:`churnlab.rfm_summary`; recency is the age at the last
          purchase, as in the BTYD literature);
        * ``time_since_last_purchase``: ``tenure - recency``;
        * ``ipt_mean``, ``ipt_std``, ``ipt_cv``: mean, sample standard deviation and
          coefficient of variation of the times between purchase days
          (:func:`churnlab.stats.gap_statistics`, the regularity measure of
          :func:`churnlab.loyalty.customer_activity`); 0 where undefined (no repeat purchase
          for the mean, fewer than two gaps for the others);
        * ``purchases_<N>d``, ``spend_<N>d``: purchase days and spend in the last N days;
        * ``trend_<W>d``: ``(recent - earlier) / (recent + earlier)`` purchase days in the
          last ``W`` days versus the ``W`` days before (0 when both are 0);
        * ``n_transactions``, ``total_spend``, ``avg_basket_value`` (spend per transaction),
          ``avg_quantity`` (with ``quantity_col``);
        * ``p_alive``, ``expected_purchases`` (BG/NBD, over the horizon), with ``bgnbd``
          (customers first seen on the cutoff day: 1 and the unconditional expectation);
        * the ``attributes`` columns.

        ``X.attrs`` records ``cutoff``, ``label_end``, ``horizon_days`` and ``time_unit``.
    y : Series
        ``churned``: 1 if no transaction in ``(cutoff, cutoff + horizon]``, else 0.

    Notes
    -----
    Purchases are collapsed to calendar days as in :func:`churnlab.rfm_summary`. The label
    window must end on or before ``data_end``: a customer who buys after the end of the data
    would otherwise be labelled churned wrongly, so that is an error.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                    "date": ["2024-01-01", "2024-01-15", "2024-02-26", "2024-01-08"],
    ...                    "amount": [10.0, 20.0, 15.0, 7.0]})
    >>> X, y = make_churn_dataset(tx, "2024-01-29", "4W", bgnbd=False)
    >>> X[["frequency", "recency", "tenure", "time_since_last_purchase", "spend_30d"]]
                 frequency  recency  tenure  time_since_last_purchase  spend_30d
    customer_id
    1                    1      2.0     4.0                       2.0       30.0
    2                    0      0.0     3.0                       3.0        7.0
    >>> y.tolist()
    [0, 1]
    """
    if engine_options is not None or not isinstance(transactions, pd.DataFrame):
        from churnlab.engines import dispatch  # files, relations, Polars, Arrow, Spark

        result = dispatch(make_churn_dataset, locals())
        if amount_col is None:  # the engines' frames carry zero spend columns: leave them out
            return _without_spend(result[0], windows), result[1]
        return result
    unit = unit_days(time_unit)
    h_days = horizon_days(horizon, time_unit)
    windows = _check_windows(windows, trend_window)
    table = read_transactions(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        extra_cols=(quantity_col,) if quantity_col else (),
        date_format=date_format,
        tz=tz,
    )
    if len(table) == 0:
        raise ValueError("transactions are empty")
    cut_day, label_end = _label_window(table, cutoff, horizon, h_days, data_end)
    pre = table.purchases(
        returns=returns, end=cut_day, window=f"the history to {_day_to_date(cut_day)}"
    )
    if len(pre) == 0:
        raise ValueError(f"no purchase on or before cutoff={cutoff!r}: only returns")
    table = _label_rows(table, cut_day, label_end)
    occasions = _occasions_at_cutoff(pre, quantity_col)
    del pre  # the purchase rows: everything else comes from the sorted occasions
    present = occasions["present"]  # customer codes of the rows of the data set
    index = pd.Index(table.ids[present], name=customer_col)
    feats = _transaction_features(occasions, cut_day, unit, windows, trend_window)
    del occasions
    X = pd.DataFrame(feats, index=index, copy=False)  # the arrays are new: no copy
    X.attrs.update(
        cutoff=_day_to_date(cut_day),
        label_end=_day_to_date(label_end),
        horizon_days=h_days,
        time_unit=time_unit,
    )
    if bgnbd:
        rfm = X[["frequency", "recency", "tenure"]].rename(columns={"tenure": "T"})
        rfm.attrs["time_unit"] = time_unit
        _add_bgnbd(X, rfm, h_days / unit)
    y = _labels(table, returns, cut_day, label_end, index, present)
    if attributes is not None:
        X = _join_attributes(X, attributes, customer_col)
    if amount_col is None:
        X = _without_spend(X, windows)
    return X, y


def _without_spend(X: pd.DataFrame, windows) -> pd.DataFrame:
    """The features without the spend columns, for transactions that carry no amount."""
    spend = ["monetary_value", *(f"spend_{w}d" for w in windows), "total_spend"]
    return X.drop(columns=[c for c in [*spend, "avg_basket_value"] if c in X.columns])


def _label_window(table, cutoff, horizon, h_days: int, data_end) -> tuple[int, int]:
    """The cutoff day and the last day of the label window, checked against the data.

    The cutoff must fall on or after the first transaction and before the end of the data,
    and the label window ``(cutoff, cutoff + horizon]`` must end by the end of the data
    (``data_end``, by default the last transaction): a customer who buys after the end of the
    data would otherwise be labelled churned wrongly.
    """
    cut_day = table.day_of(cutoff, "cutoff")
    first_day, last_day = int(table.day.min()), int(table.day.max())
    end_day = last_day if data_end is None else table.day_of(data_end, "data_end")
    if cut_day < first_day:
        raise ValueError(
            f"cutoff={cutoff!r} is before the first transaction ({_day_to_date(first_day)}): "
            "no customer exists yet. Choose a cutoff within the data."
        )
    if cut_day >= end_day:
        raise ValueError(
            f"cutoff={cutoff!r} is not before the end of the data ({_day_to_date(end_day)}): "
            "there is no label window left. Choose an earlier cutoff."
        )
    label_end = cut_day + h_days
    if label_end > end_day:
        raise ValueError(
            f"cutoff={cutoff!r} with horizon={horizon!r}: the label window "
            f"({_day_to_date(cut_day)}, {_day_to_date(label_end)}] runs past "
            f"the end of the data ({_day_to_date(end_day)}): customers who buy after "
            f"{_day_to_date(end_day)} would be labelled churned wrongly. Use an earlier cutoff "
            "or a shorter horizon, or pass data_end= if observation continued after the last "
            "transaction."
        )
    return cut_day, label_end


def _label_rows(table, cut_day: int, label_end: int):
    """The rows of ``table`` in the label window ``(cut_day, label_end]``, without the extra
    columns: all the labels need once the features have their rows, and far smaller."""
    day = table.day
    keep = day > cut_day
    keep &= day <= label_end
    amount = None if table.amount is None else table.amount[keep]
    return dataclasses.replace(
        table, customer=table.customer[keep], day=day[keep], amount=amount, extra={}
    )


def _labels(table, returns: str, cut_day: int, label_end: int, index, present) -> pd.Series:
    """``churned``: 1 for the customers of ``index`` (codes ``present``) without a purchase in
    the label window."""
    post = table.purchases(
        returns=returns,
        start=cut_day + 1,
        end=label_end,
        window=f"the label window {_day_to_date(cut_day + 1)} to {_day_to_date(label_end)}",
    )
    bought = np.bincount(post.customer, minlength=len(table.ids))[present] > 0
    return pd.Series((~bought).astype(np.int64), index=index, name=LABEL_NAME)


def _check_windows(windows, trend_window) -> tuple[int, ...]:
    windows = tuple(windows)
    for name, values in (("windows", windows), ("trend_window", (trend_window,))):
        for w in values:
            if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w <= 0:
                raise ValueError(f"{name} must hold positive whole numbers of days, got {w!r}")
    if len(set(windows)) != len(windows):
        raise ValueError(f"windows={windows!r} holds duplicates")
    return tuple(int(w) for w in windows)


def _occasions_at_cutoff(pre: Purchases, quantity_col: str | None) -> dict:
    """The purchase occasions before the cutoff and the per-customer sums of the rows.

    One sort of the purchase rows by customer then day (stable:
    :func:`churnlab.transactions.sorted_day_keys`) gives the occasions, sorted by customer then
    day, with the spend of each (the rows of a day summed in their order, as
    :meth:`churnlab.transactions.Purchases.occasions` does), each customer's rows and the
    spend of each customer's first purchase day (the rows of that day summed in their order,
    as :func:`churnlab.rfm.summarise_purchases` does). Total spend and quantity are summed
    over the rows in their order. ``present`` holds the customer codes with a purchase, in
    order; per-customer arrays follow it and occasions carry their customer's position in it
    (``code``). ``pre`` must hold at least one row.
    """
    customer, day = pre.customer, pre.day
    amount = np.zeros(len(day)) if pre.amount is None else pre.amount
    n_ids = len(pre.ids)
    key, order, span, low = sorted_day_keys(customer, day, n_ids)
    sorted_amount = amount[order]
    del order
    starts = run_starts(key)
    occ_amount = np.add.reduceat(sorted_amount, starts)
    rows = np.empty(len(starts), dtype=np.int64 if len(key) > np.iinfo(np.int32).max else np.int32)
    np.subtract(starts[1:], starts[:-1], out=rows[:-1])
    rows[-1] = len(key) - starts[-1]
    occ_day = key[starts]  # the occasion's key, then its day (same integer type as the keys)
    del key
    occ_customer = occ_day // span
    np.remainder(occ_day, span, out=occ_day)
    occ_day += low
    first = np.empty(len(occ_customer), dtype=bool)  # the customer's first occasion
    first[0] = True
    np.not_equal(occ_customer[1:], occ_customer[:-1], out=first[1:])
    first_occ = np.flatnonzero(first)  # one per customer with a purchase, in code order
    present = occ_customer[first_occ].astype(np.int64)
    del occ_customer
    n = len(present)
    n_tx = np.diff(starts[first_occ], append=len(sorted_amount))  # rows of each customer
    del starts
    # spend on the first purchase day: the rows of each customer's first occasion, in order
    in_first = np.repeat(first, rows)
    first_amount = np.bincount(
        np.repeat(np.arange(n), rows[first_occ]), weights=sorted_amount[in_first], minlength=n
    )
    del in_first, sorted_amount, rows
    code = np.cumsum(first, dtype=np.int64)  # int64: np.bincount would convert int32
    code -= 1
    del first
    total = np.bincount(customer, weights=amount, minlength=n_ids)[present]
    quantity = None
    if quantity_col:
        quantity = np.bincount(customer, weights=pre.extra[quantity_col], minlength=n_ids)
        quantity = quantity[present]
    return {
        "present": present,
        "code": code,
        "day": occ_day,
        "amount": occ_amount,
        "first_occ": first_occ,
        "n_tx": n_tx,
        "total": total,
        "first_amount": first_amount,
        "quantity": quantity,
    }


def _transaction_features(
    occasions: dict,
    cut_day: int,
    unit: float,
    windows: tuple[int, ...],
    trend_window: int,
) -> dict[str, np.ndarray]:
    """Per-customer features from the pre-cutoff purchase occasions.

    ``occasions`` comes from :func:`_occasions_at_cutoff`: the occasions sorted by customer
    then day, and per-customer sums of the rows. The RFM part is
    :func:`churnlab.rfm.rfm_columns`, the arithmetic of :func:`churnlab.rfm_summary`.
    Windows are nested (every window's occasions are a suffix of each customer's), so each
    window counts and sums the occasions of the next larger one that fall inside it.
    """
    code, d_day, d_amount = occasions["code"], occasions["day"], occasions["amount"]
    first_occ = occasions["first_occ"]
    n = len(first_occ)
    n_days = np.diff(np.r_[first_occ, len(code)])
    first_day = d_day[first_occ]
    last_day = d_day[first_occ + n_days - 1]
    rfm = rfm_columns(
        n_days, first_day, last_day, occasions["total"], occasions["first_amount"], cut_day, unit
    )
    out: dict[str, np.ndarray] = {
        "frequency": rfm["frequency"].astype(np.int64),
        "recency": rfm["recency"],
        "tenure": rfm["T"],
        "monetary_value": rfm["monetary_value"],
    }
    out["time_since_last_purchase"] = (cut_day - last_day) / unit

    # Inter-purchase times between consecutive purchase days of the same customer, as
    # churnlab.stats.gap_statistics defines them (sample standard deviation); 0 where undefined.
    _, mean, std, cv = gap_statistics(code, d_day, n)
    out["ipt_mean"] = np.nan_to_num(mean / unit, nan=0.0)
    out["ipt_std"] = np.nan_to_num(std / unit, nan=0.0)
    out["ipt_cv"] = np.nan_to_num(cv, nan=0.0)

    # occasions less than t days before the cutoff (age = cut_day - day < t), largest t first
    counts, spends = {}, {}
    thresholds = sorted({*windows, trend_window, 2 * trend_window}, reverse=True)
    for i, t in enumerate(thresholds):
        inside = d_day > cut_day - t
        if not inside.all():
            code, d_amount = code[inside], d_amount[inside]
            d_day = d_day[inside] if i + 1 < len(thresholds) else d_day[:0]
        counts[t] = np.bincount(code, minlength=n)
        if t in windows:
            spends[t] = np.bincount(code, weights=d_amount, minlength=n)
    del code, d_day, d_amount
    for w in windows:
        out[f"purchases_{w}d"] = counts[w].astype(np.int64)
        out[f"spend_{w}d"] = spends[w]
    recent = counts[trend_window]
    earlier = counts[2 * trend_window] - recent
    total = recent + earlier
    out[f"trend_{trend_window}d"] = np.where(
        total > 0, (recent - earlier) / np.maximum(total, 1), 0.0
    )

    spend, n_tx = occasions["total"], occasions["n_tx"]
    out["n_transactions"] = n_tx
    out["total_spend"] = spend
    out["avg_basket_value"] = spend / n_tx
    if occasions["quantity"] is not None:
        out["avg_quantity"] = occasions["quantity"] / n_tx
    return out


def _add_bgnbd(X: pd.DataFrame, rfm: pd.DataFrame, t: float) -> None:
    """Add BG/NBD ``p_alive`` and ``expected_purchases`` over ``t`` periods (in place).

    Customers whose first purchase falls on the cutoff (T = 0) carry no information for the
    fit; they are new customers: alive (dropout only follows a repeat purchase) and expected
    to buy the unconditional E[X(t)] (FHL 2005, eq. 9).
    """
    from churnlab.models import BetaGeo, ConvergenceError

    born = rfm["T"].to_numpy() > 0
    try:
        model = BetaGeo().fit(rfm[born])
    except (ValueError, ConvergenceError) as err:
        raise ValueError(
            f"bgnbd=True: the BG/NBD features cannot be computed at this cutoff: {err}\n"
            "Pass bgnbd=False to build the data set without p_alive and expected_purchases."
        ) from err
    p_alive = np.ones(len(rfm))
    expected = np.full(len(rfm), float(model.expected_purchases(t)))
    p_alive[born] = model.probability_alive(rfm[born]).to_numpy()
    expected[born] = model.conditional_expected_purchases(t, rfm[born]).to_numpy()
    X["p_alive"] = p_alive
    X["expected_purchases"] = expected
    X.attrs["bgnbd_params"] = {k: float(v) for k, v in model.params_.items()}


def _join_attributes(X: pd.DataFrame, attributes: pd.DataFrame, customer_col: str):
    require_dataframe(attributes, "attributes")
    clash = [c for c in attributes.columns if c in X.columns]
    if clash:
        raise ValueError(f"attributes columns {clash} clash with feature names; rename them first")
    duplicated = attributes.index.duplicated(keep=False)
    if duplicated.any():
        fail(
            customer_col,
            "customer ids repeated in attributes (index)",
            attributes,
            duplicated,
            "Attributes need one row per customer.",
        )
    missing = ~X.index.isin(attributes.index)
    if missing.any():
        warnings.warn(
            f"{int(missing.sum())} of {len(X)} customers have no row in attributes; their "
            "attribute columns are missing (NaN)",
            UserWarning,
            stacklevel=3,
        )
    joined = attributes.reindex(X.index)
    out = pd.concat([X, joined], axis=1)
    out.attrs = dict(X.attrs)
    return out
