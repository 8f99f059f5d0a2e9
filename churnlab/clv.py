"""Customer lifetime value: computing it, who holds it, and whose value is slipping away.

* :func:`customer_lifetime_value`: discounted expected value per customer from a purchase
  model and a spend model;
* :func:`value_deciles`: the share of total value held by each group of customers;
* :func:`retention_priorities`: customers ranked by the value a timely contact can protect.

The expected purchases of each future period come from the purchase model's conditional
expectation (BG/NBD equation (10)), their value from the spend model's conditional expected
spend (Gamma-Gamma), and each period is discounted at an *annual* rate converted with the
exact length of the data's time unit (:data:`churnlab.rfm.TIME_UNITS`): no hidden 30-day
month, and every horizon stays in the data's own time unit.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value curves for
customer base analysis. *Journal of Marketing Research* 42(4), 415-430.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from churnlab._estimator import check_is_fitted
from churnlab._validation import (
    as_float_array,
    check_number,
    fail,
    require_columns,
    require_dataframe,
)
from churnlab.models import check_time_unit, read_columns
from churnlab.models._base import collapse_rows
from churnlab.rfm import DAYS_PER_YEAR, unit_days

__all__ = ["DAYS_PER_YEAR", "customer_lifetime_value", "retention_priorities", "value_deciles"]

_COLUMNS = ("frequency", "recency", "T", "monetary_value")
_HISTORY = ("frequency", "recency", "T")
#: Entries (distinct (x, T) pairs x horizons) evaluated together: 2 ** 18, so each of the
#: series' dozen temporaries takes 2 MiB.
BLOCK_ENTRIES = 2**18


def customer_lifetime_value(
    purchase_model,
    spend_model,
    data: pd.DataFrame,
    *,
    time_unit: str,
    horizon: float,
    discount_rate: float,
    step: float = 1.0,
    given_alive: bool = False,
    zero_spend: str = "zero",
) -> pd.Series:
    """Discounted expected value of each customer's purchases over the next ``horizon``.

    With ``K = horizon / step`` steps,

        CLV = sum_{k=1..K} spend * (E[X(k step) | history] - E[X((k-1) step) | history])
              / (1 + discount_rate) ^ (k step unit_days / 365.2425)

    where ``E[X(t) | history]`` is ``purchase_model.conditional_expected_purchases`` (the
    purchases expected in the next ``t`` periods), ``spend`` is
    ``spend_model.conditional_expected_spend`` and ``unit_days`` the length of ``time_unit``
    in days (``'M'`` is the mean Gregorian month, 30.436875 days). Each step's purchases are
    discounted to the end of that step.

    With ``given_alive=True`` the purchases are those of a customer known to be still active
    (``purchase_model.conditional_expected_purchases_if_alive``, the bracket of BG/NBD
    equation (10) without the P(alive) factor): the value of a customer won back by a
    retention campaign. For BG/NBD, ``clv(given_alive=True) * P(alive) == clv``.

    Repeat buyers whose mean spend ``monetary_value`` is 0 (every repeat purchase free, or
    cancelled by returns) are outside the Gamma-Gamma model, whose spends are positive. By
    default (``zero_spend="zero"``) their history is taken at its word: they are valued at 0,
    with a UserWarning giving their count; ``zero_spend="raise"`` makes them an error.
    Customers without repeat purchases get the population mean spend whatever their
    ``monetary_value``.

    Parameters
    ----------
    purchase_model : BetaGeo
        A fitted purchase model.
    spend_model : GammaGamma
        A fitted spend model.
    data : DataFrame
        Columns ``frequency``, ``recency``, ``T``, ``monetary_value`` (e.g.
        :func:`churnlab.rfm_summary`), one row per customer.
    time_unit : {'D', 'W', 'M'}
        The unit of ``recency``, ``T``, ``horizon`` and ``step``. Must equal
        ``data.attrs["time_unit"]`` when the data record it, and the purchase model's
        ``time_unit_`` when it was fitted on data that recorded one
        (:func:`churnlab.models._base.check_time_unit`, the one check of time units).
    horizon : float
        Length of the future window, in ``time_unit``; a whole multiple of ``step``.
    discount_rate : float
        ANNUAL discount rate (0.10 = 10% a year).
    step : float
        Length of a discounting step, in ``time_unit``.
    given_alive : bool
        Value the customers as if still active (without the P(alive) factor).
    zero_spend : {'zero', 'raise'}
        What to do with repeat buyers whose ``monetary_value`` is 0 (see above).

    Returns
    -------
    Series
        Named ``clv`` (``clv_if_alive`` when ``given_alive``), indexed like ``data``, in the
        money unit of ``monetary_value``.

    Examples
    --------
    >>> from churnlab import BetaGeo, GammaGamma
    >>> from churnlab.datasets import load_cdnow_summary
    >>> data = load_cdnow_summary()
    >>> bg = BetaGeo().fit(data)
    >>> gg = GammaGamma().fit(data[data["frequency"] > 0])
    >>> clv = customer_lifetime_value(bg, gg, data, time_unit="W", horizon=52,
    ...                               discount_rate=0.10)
    >>> clv.head(3).round(2).tolist()
    [36.75, 4.7, 8.45]
    """
    horizon = check_number(horizon, "horizon", low=0, low_open=True)
    step = check_number(step, "step", low=0, low_open=True)
    discount_rate = check_number(
        discount_rate, "discount_rate", low=-1, low_open=True, hint="An annual rate: 0.10 = 10%."
    )
    require_dataframe(data, "data")
    require_columns(data, _COLUMNS, "data")
    days = unit_days(time_unit)
    check_time_unit(purchase_model, data, time_unit=time_unit)
    n_steps = horizon / step
    K = int(round(n_steps))
    if K < 1 or abs(n_steps - K) > 1e-9 * max(1.0, n_steps):
        raise ValueError(
            f"horizon={horizon!r} is not a whole multiple of step={step!r} ({n_steps:g} steps)"
        )
    if zero_spend not in ("zero", "raise"):
        raise ValueError(f"zero_spend must be 'zero' or 'raise', got {zero_spend!r}")
    frame = data.loc[:, list(_COLUMNS)]
    frame.attrs = dict(data.attrs)
    columns, _ = read_columns(_COLUMNS, frame, {"recency": None, "T": None, "monetary_value": None})
    free = (columns["frequency"] > 0) & (columns["monetary_value"] == 0)
    if free.any():
        if zero_spend == "raise":
            fail(
                "monetary_value",
                "repeat buyers with zero average spend",
                frame,
                free,
                "The Gamma-Gamma model needs positive spend; pass zero_spend='zero' to value "
                "them at 0.",
            )
        warnings.warn(
            f"customer_lifetime_value: {int(free.sum())} repeat buyer(s) with zero average "
            "spend are outside the spend model and valued at 0 (zero_spend='zero').",
            UserWarning,
            stacklevel=2,
        )
    spend = np.zeros(len(frame))
    if not free.all():
        paid = frame.loc[~free, ["frequency", "monetary_value"]]
        spend[~free] = spend_model.conditional_expected_spend(paid).to_numpy()
    _require_finite(spend, "expected_spend", spend_model, frame)
    expected = purchase_model.conditional_expected_purchases
    if given_alive:
        expected = getattr(purchase_model, "conditional_expected_purchases_if_alive", None)
        if expected is None:
            raise TypeError(
                f"given_alive=True needs a purchase model with "
                f"conditional_expected_purchases_if_alive; {type(purchase_model).__name__} "
                "has none"
            )
    times = step * np.arange(1, K + 1)
    discount = (1.0 + discount_rate) ** -(times * days / DAYS_PER_YEAR)
    if hasattr(purchase_model, "_if_alive") and hasattr(purchase_model, "_alive"):
        clv = _discounted_purchases(purchase_model, columns, times, discount, given_alive, frame)
    else:
        clv = _discounted_purchases_by_step(expected, purchase_model, frame, times, discount)
    name = "clv_if_alive" if given_alive else "clv"
    return pd.Series(spend * clv, index=data.index, name=name)


def _discounted_purchases(
    model,
    columns: dict[str, np.ndarray],
    times: np.ndarray,
    discount: np.ndarray,
    given_alive: bool,
    frame: pd.DataFrame,
) -> np.ndarray:
    """``sum_k discount_k (E[X(t_k) | history] - E[X(t_(k-1)) | history])`` per customer.

    For churnlab's purchase models the conditional expectation factorises as ``P(alive | x,
    t_x, T) * E[X(t) | alive at T, x, T]`` (BG/NBD equation (10) and its relatives), and the
    second factor depends on ``(x, T)`` alone. So the discounted sum of its increments is
    evaluated once per distinct ``(x, T)`` pair for all horizons at once (in blocks of
    :data:`BLOCK_ENTRIES` pairs x horizons), and P(alive) once per customer: the work of one
    horizon per pair instead of one per customer and step.
    """
    check_is_fitted(model, "params_")
    x, t_x, T = columns["frequency"], columns["recency"], columns["T"]
    (xu, Tu), _, pair = collapse_rows([x, T], np.ones(len(x)))
    per_pair = np.empty(len(xu))
    bad_pair = np.zeros(len(xu), dtype=bool)
    block = max(1, BLOCK_ENTRIES // len(times))
    for start in range(0, len(xu), block):
        part = slice(start, start + block)
        cumulative = model._if_alive(times[None, :], xu[part, None], Tu[part, None])
        bad_pair[part] = ~np.all(np.isfinite(cumulative) & (cumulative >= 0), axis=1)
        steps = np.diff(cumulative, axis=1, prepend=0.0)
        per_pair[part] = np.einsum("ik,k->i", steps, discount)
    if bad_pair.any():
        _require_finite(np.where(bad_pair[pair], np.nan, 0.0), "expected_purchases", model, frame)
    value = per_pair[pair]
    if not given_alive:
        alive = model._alive(x, t_x, T)
        _require_finite(alive, "probability_alive", model, frame)
        value *= alive
    return value


def _discounted_purchases_by_step(
    expected, model, frame: pd.DataFrame, times: np.ndarray, discount: np.ndarray
) -> np.ndarray:
    """The sum of :func:`_discounted_purchases` for any purchase model, one step at a time.

    Customers with the same history have the same expectations: each distinct (frequency,
    recency, T) is evaluated once per step and the result spread back.
    """
    history = frame[list(_HISTORY)]
    (xu, tu, Tu), _, inverse = collapse_rows(
        [history[c].to_numpy() for c in _HISTORY], np.ones(len(history))
    )
    distinct = pd.DataFrame({"frequency": xu, "recency": tu, "T": Tu})
    distinct.attrs = dict(frame.attrs)
    clv = np.zeros(len(frame))
    previous = np.zeros(len(frame))
    for t, factor in zip(times, discount, strict=True):
        cumulative = np.asarray(expected(t, distinct), dtype=float)[inverse]
        _require_finite(cumulative, "expected_purchases", model, frame)
        clv += (cumulative - previous) * factor
        previous = cumulative
    return clv


def _require_finite(values: np.ndarray, name: str, model, frame: pd.DataFrame) -> None:
    """Refuse a model's negative or non-finite prediction ``name`` instead of summing it."""
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        fail(
            name,
            f"{type(model).__name__} predicts a negative or non-finite value",
            frame.assign(**{name: values}),
            bad,
            "A lifetime value needs finite, non-negative predictions from both models.",
        )


def value_deciles(values: pd.Series, *, n_groups: int = 10) -> pd.DataFrame:
    """Share of total value held by each group of customers ranked by value.

    Customers are sorted by value, highest first (ties in index order), and cut into
    ``n_groups`` groups as equal in size as possible; group 1 holds the most valuable.

    Parameters
    ----------
    values : Series
        One value per customer (e.g. lifetime value), non-negative.
    n_groups : int
        Number of groups (10 gives deciles).

    Returns
    -------
    DataFrame
        Indexed by ``group`` (1 to ``n_groups``): ``customers``, ``customer_share_cumulative``,
        ``total``, ``mean``, ``min``, ``max``, ``value_share`` and ``value_share_cumulative``.

    Examples
    --------
    >>> values = pd.Series([50.0, 30.0, 10.0, 5.0, 5.0])
    >>> value_deciles(values, n_groups=5)[["customers", "total", "value_share_cumulative"]]
           customers  total  value_share_cumulative
    group
    1              1   50.0                    0.50
    2              1   30.0                    0.80
    3              1   10.0                    0.90
    4              1    5.0                    0.95
    5              1    5.0                    1.00
    """
    if not isinstance(values, pd.Series):
        raise TypeError(f"values must be a pandas Series, got {type(values).__name__}")
    n_groups = check_number(n_groups, "n_groups", low=1, integer=True)
    name = str(values.name or "value")
    array = as_float_array(values, name)
    bad = array < 0
    if bad.any():
        fail(name, "negative values", values.rename(name).to_frame(), bad)
    if len(array) < n_groups:
        raise ValueError(f"{len(array)} customers cannot be cut into n_groups={n_groups} groups")
    ordered = array[np.argsort(-array, kind="stable")]
    group = np.arange(len(ordered)) * n_groups // len(ordered)
    size = np.bincount(group, minlength=n_groups)
    total = np.bincount(group, weights=ordered, minlength=n_groups)
    starts = np.r_[0, np.cumsum(size)[:-1]]
    grand = ordered.sum()
    share = total / grand if grand > 0 else np.full(n_groups, np.nan)
    return pd.DataFrame(
        {
            "customers": size.astype(np.int64),
            "customer_share_cumulative": np.cumsum(size) / len(ordered),
            "total": total,
            "mean": total / size,
            "min": ordered[starts + size - 1],
            "max": ordered[starts],
            "value_share": share,
            "value_share_cumulative": np.cumsum(share),
        },
        index=pd.Index(np.arange(1, n_groups + 1), name="group"),
    )


def retention_priorities(
    model, data: pd.DataFrame, clv: pd.Series, *, silence: float = 13.0
) -> pd.DataFrame:
    """Rank customers by the lifetime value that slips away if they stay silent.

    Under the BG/NBD model a customer's expected future is zero once they have dropped out,
    so expected lifetime value is P(alive) times the value if alive:
    ``clv_if_alive = clv / p_alive``. Two measures follow:

    * ``value_at_risk`` = ``clv_if_alive * (1 - p_alive)``: value already in doubt;
    * ``value_slipping`` = ``clv_if_alive * (p_alive - p_alive_if_silent)``: value that
      fades if the customer makes no purchase in the next ``silence`` periods, where
      ``p_alive_if_silent`` is P(alive | x, t_x, T + silence). It is the value a retention
      contact made now can still protect; customers are sorted by it, highest first. (It
      counts only the fall in P(alive): the value if alive also shrinks a little with a
      longer silence, so the full loss is somewhat larger.)

    Parameters
    ----------
    model : fitted purchase model
        With ``probability_alive``.
    data : DataFrame
        RFM summary (``frequency``, ``recency``, ``T``) the lifetime values were computed from.
    clv : Series
        Expected lifetime value per customer, indexed like ``data``, computed with this
        purchase model (e.g. :func:`churnlab.customer_lifetime_value`), so that it is
        proportional to P(alive); a value from elsewhere makes ``clv_if_alive`` meaningless.
    silence : float
        Periods without a purchase, in the data's time unit.

    Returns
    -------
    DataFrame
        Indexed like ``data``, sorted by ``value_slipping`` (descending): ``frequency``,
        ``recency``, ``T``, ``clv``, ``p_alive``, ``p_alive_if_silent``, ``clv_if_alive``,
        ``value_at_risk``, ``value_slipping``.

    Examples
    --------
    >>> from churnlab import BetaGeo
    >>> from churnlab.datasets import load_cdnow_summary
    >>> rfm = load_cdnow_summary()
    >>> model = BetaGeo().fit(rfm)
    >>> value = 30.0 * model.conditional_expected_purchases(52, rfm)  # a stand-in for CLV
    >>> top = retention_priorities(model, rfm, value.rename("clv")).head(3)
    >>> columns = ["frequency", "recency", "T", "p_alive", "p_alive_if_silent", "value_slipping"]
    >>> top[columns].round(2)
                 frequency  recency      T  p_alive  p_alive_if_silent  value_slipping
    customer_id
    1516                26    30.86  31.00     0.97               0.01          766.05
    157                 29    37.71  38.00     0.97               0.01          742.16
    1981                17    28.43  28.86     0.95               0.06          492.41
    """
    silence = check_number(silence, "silence", low=0, hint="A number of periods.")
    check_is_fitted(model, "params_")
    require_dataframe(data, "data")
    columns, _ = read_columns(_HISTORY, data, {"recency": None, "T": None})
    x, t_x, T = (columns[name] for name in _HISTORY)
    if not isinstance(clv, pd.Series):
        raise TypeError(f"clv must be a pandas Series, got {type(clv).__name__}")
    if not clv.index.equals(data.index):
        raise ValueError("clv must be indexed like data (same customers in the same order)")
    value = as_float_array(clv, "clv")
    bad = value < 0
    if bad.any():
        fail("clv", "negative lifetime values", clv.rename("clv").to_frame(), bad)
    index = data.index
    frequency = pd.Series(x, index=index, name="frequency")
    recency = pd.Series(t_x, index=index, name="recency")
    p_now = np.asarray(model.probability_alive(frequency, recency, pd.Series(T, index=index)))
    p_later = np.asarray(
        model.probability_alive(frequency, recency, pd.Series(T + silence, index=index))
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        if_alive = np.where(p_now > 0, value / p_now, 0.0)
    out = pd.DataFrame(
        {
            "frequency": data["frequency"].to_numpy(),
            "recency": t_x,
            "T": T,
            "clv": value,
            "p_alive": p_now,
            "p_alive_if_silent": p_later,
            "clv_if_alive": if_alive,
            "value_at_risk": if_alive * (1.0 - p_now),
            "value_slipping": if_alive * (p_now - p_later),
        },
        index=index,
    )
    return out.sort_values("value_slipping", ascending=False, kind="stable")
