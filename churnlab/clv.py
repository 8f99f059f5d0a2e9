"""Discounted customer lifetime value from a purchase model and a spend model.

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

import numpy as np
import pandas as pd

from churnlab._validation import require_columns, require_dataframe
from churnlab.rfm import unit_days

#: Days in a mean Gregorian year; converts the annual discount rate to the data's time unit.
DAYS_PER_YEAR = 365.2425

_COLUMNS = ("frequency", "recency", "T", "monetary_value")


def customer_lifetime_value(
    purchase_model,
    spend_model,
    data: pd.DataFrame,
    *,
    time_unit: str,
    horizon: float,
    discount_rate: float,
    step: float = 1.0,
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
        ``time_unit_`` when it was fitted on data that recorded one.
    horizon : float
        Length of the future window, in ``time_unit``; a whole multiple of ``step``.
    discount_rate : float
        ANNUAL discount rate (0.10 = 10% a year).
    step : float
        Length of a discounting step, in ``time_unit``.

    Returns
    -------
    Series
        Named ``clv``, indexed like ``data``, in the money unit of ``monetary_value``.

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
    require_dataframe(data, "data")
    require_columns(data, _COLUMNS, "data")
    days = unit_days(time_unit)
    recorded = data.attrs.get("time_unit")
    if recorded is not None and recorded != time_unit:
        raise ValueError(
            f"time_unit={time_unit!r} but data.attrs['time_unit'] is {recorded!r}: recency, T, "
            f"horizon and step must be in the data's unit; pass time_unit={recorded!r}"
        )
    fitted = getattr(purchase_model, "time_unit_", None)
    if fitted is not None and fitted != time_unit:
        raise ValueError(
            f"time_unit={time_unit!r} but the purchase model was fitted on data in {fitted!r}"
        )
    for name, value in (("horizon", horizon), ("step", step)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive number of periods, got {value!r}")
    if not np.isfinite(discount_rate) or discount_rate <= -1:
        raise ValueError(f"discount_rate must be an annual rate above -1, got {discount_rate!r}")
    n_steps = horizon / step
    K = int(round(n_steps))
    if K < 1 or abs(n_steps - K) > 1e-9 * max(1.0, n_steps):
        raise ValueError(
            f"horizon={horizon!r} is not a whole multiple of step={step!r} ({n_steps:g} steps)"
        )
    frame = data.loc[:, list(_COLUMNS)]
    spend = spend_model.conditional_expected_spend(frame[["frequency", "monetary_value"]])
    history = frame[["frequency", "recency", "T"]]
    clv = np.zeros(len(frame))
    previous = np.zeros(len(frame))
    for k in range(1, K + 1):
        cumulative = purchase_model.conditional_expected_purchases(k * step, history).to_numpy()
        years = k * step * days / DAYS_PER_YEAR
        clv += (cumulative - previous) / (1.0 + discount_rate) ** years
        previous = cumulative
    return pd.Series(spend.to_numpy() * clv, index=data.index, name="clv")
