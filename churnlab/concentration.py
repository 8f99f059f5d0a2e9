"""Concentration of value across customers: Lorenz curve, top-customer shares, Gini.

About 20% of customers usually bring about 80% of turnover, and depending on a few very large
customers is a risk in itself: losing one is a landslide in revenue (the project's domain
notes, "Retention economics"). :func:`concentration` measures both. Re-exported by
:mod:`churnlab.loyalty`.

References
----------
Gini, C. (1912). Variabilita e mutabilita. Lorenz, M. O. (1905). Methods of measuring the
concentration of wealth. Publications of the American Statistical Association 9(70).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnlab._validation import as_float_array, check_customer_ids, check_number, fail
from churnlab.results import Result

__all__ = [
    "KEY_ACCOUNT_THRESHOLD",
    "PARETO_CUSTOMER_SHARE",
    "PARETO_VALUE_SHARE",
    "TABLE_ROWS",
    "Concentration",
    "concentration",
]

#: "About 20% of customers usually bring about 80% of turnover" (docs/domain.md, Retention
#: economics).
PARETO_CUSTOMER_SHARE: float = 0.20
PARETO_VALUE_SHARE: float = 0.80
#: Row labels of :attr:`Concentration.table`, the same whatever the arguments.
TABLE_ROWS: tuple[str, ...] = (
    "share of top fraction",
    "share of top customer",
    "share of top 5 customers",
    "Gini coefficient",
)
#: Share of value held by one customer above which :func:`concentration` warns of key-account
#: risk (a default for the analyst to set; the domain notes give no figure).
KEY_ACCOUNT_THRESHOLD: float = 0.10


@dataclass(frozen=True)
class Concentration(Result):
    """How concentrated value is across customers.

    ``lorenz``: the Lorenz curve (customers sorted from the smallest, ``customer_share`` and
    cumulative ``value_share`` from (0, 0) to (1, 1)); ``top_share``: share of value held by the
    top ``top_fraction`` of customers; ``top1_share`` and ``top5_share``: share held by the
    largest and the five largest customers; ``gini``: the Gini coefficient (0 equal, towards 1
    one customer holds everything).

    ``table`` holds these figures in rows whose labels never change with the arguments:
    ``share of top fraction`` (``top_share``), ``share of top customer``, ``share of top 5
    customers`` and ``Gini coefficient``; columns ``customer_share`` (the share of customers
    the row is about: ``top_fraction``, 1/n, 5/n), ``value`` and ``rule_of_thumb`` (80% for
    the top 20%, the key-account threshold for the top customer).
    """

    lorenz: pd.DataFrame
    top_fraction: float
    top_share: float
    top1_share: float
    top5_share: float
    gini: float
    top_customers: pd.Series
    key_account_threshold: float
    table: pd.DataFrame = field(repr=False)

    def _html_title(self) -> str:
        return f"Concentration (Gini {self.gini:.3f})"


def concentration(
    values: pd.Series,
    *,
    top_fraction: float = PARETO_CUSTOMER_SHARE,
    key_account_threshold: float = KEY_ACCOUNT_THRESHOLD,
) -> Concentration:
    """Lorenz curve, top-customer shares and Gini coefficient of a value per customer.

    Parameters
    ----------
    values : Series
        Non-negative value (e.g. revenue or margin) per customer, indexed by customer id.
    top_fraction : float
        Fraction of customers whose share of value is reported (0.2 for the 80/20 rule: about
        20% of customers bring about 80% of turnover). Fractional customers count in part
        (linear interpolation of the Lorenz curve).
    key_account_threshold : float
        A UserWarning is issued when the largest customer holds more than this share of value:
        losing one such customer is a landslide in revenue.

    Returns
    -------
    Concentration

    Notes
    -----
    With values sorted ascending, ``x_(1) <= ... <= x_(n)``, the Gini coefficient is
    ``G = 2 * sum_i i x_(i) / (n sum_i x_(i)) - (n + 1) / n``, which equals one minus twice the
    area under the (piecewise linear) Lorenz curve.

    Examples
    --------
    Five customers worth 1, 2, 3, 4 and 10 (total 20): the top 20% is the customer worth 10,
    half the value; Gini = 2 (1 + 4 + 9 + 16 + 50) / (5 x 20) - 6 / 5 = 0.4.

    >>> c = concentration(pd.Series([1.0, 2.0, 3.0, 4.0, 10.0]), key_account_threshold=0.6)
    >>> c.top_share, c.top1_share, round(c.gini, 3)
    (0.5, 0.5, 0.4)
    >>> c.table.loc["share of top fraction", ["customer_share", "value"]].tolist()
    [0.2, 0.5]
    """
    if not isinstance(values, pd.Series):
        raise TypeError("values must be a pandas Series indexed by customer id")
    top_fraction = check_number(top_fraction, "top_fraction", low=0, high=1, low_open=True)
    key_account_threshold = check_number(
        key_account_threshold, "key_account_threshold", low=0, high=1, low_open=True
    )
    x = as_float_array(values, values.name or "values")
    if len(x) == 0:
        raise ValueError("values is empty")
    check_customer_ids(values.index, "values", unique=True)
    neg = x < 0
    if neg.any():
        fail(
            values.name or "values",
            "negative values",
            values.to_frame(),
            neg,
            "Concentration needs non-negative values: cap net returns at 0 or leave those "
            "customers out explicitly.",
        )
    total = x.sum()
    if total <= 0:
        raise ValueError("values sum to 0: there is no value to be concentrated")
    order = np.argsort(x, kind="stable")
    xs = x[order]
    n = len(xs)
    cum = np.r_[0.0, np.cumsum(xs)] / total
    share = np.arange(n + 1) / n
    lorenz = pd.DataFrame({"customer_share": share, "value_share": cum})
    top_share = 1.0 - float(np.interp(1.0 - top_fraction, share, cum))
    desc = xs[::-1] / total
    top1, top5 = float(desc[0]), float(desc[:5].sum())
    ranks = np.arange(1, n + 1)
    # Clipped at 0: equal values give 0 exactly, not a rounding error of -2e-16.
    gini = float(max(2.0 * np.sum(ranks * xs) / (n * total) - (n + 1) / n, 0.0))
    top_customers = pd.Series(desc[:5], index=values.index[order[::-1][:5]], name="value_share")
    if top1 > key_account_threshold:
        warnings.warn(
            f"key-account risk: customer {top_customers.index[0]!r} holds {top1:.1%} of value "
            f"(threshold {key_account_threshold:.0%}); the top 5 hold {top5:.1%}.",
            UserWarning,
            stacklevel=2,
        )
    pareto = PARETO_VALUE_SHARE if np.isclose(top_fraction, PARETO_CUSTOMER_SHARE) else np.nan
    table = pd.DataFrame(
        {
            "customer_share": [top_fraction, 1 / n, min(5, n) / n, np.nan],
            "value": [top_share, top1, top5, gini],
            "rule_of_thumb": [pareto, key_account_threshold, np.nan, np.nan],
        },
        index=pd.Index(list(TABLE_ROWS), name="measure"),
    )
    return Concentration(
        lorenz=lorenz,
        top_fraction=float(top_fraction),
        top_share=top_share,
        top1_share=top1,
        top5_share=top5,
        gini=gini,
        top_customers=top_customers,
        key_account_threshold=float(key_account_threshold),
        table=table,
    )
