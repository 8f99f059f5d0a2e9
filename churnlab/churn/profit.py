"""What a retention campaign earns: expected maximum profit (EMPC), MPC and profit curves.

A campaign contacts the customers with the highest churn scores (y = 1 is a churner) and
offers them an incentive. Following Verbraken, Verbeke & Baesens (2013), each contacted
customer costs ``contact`` (f); a contacted churner accepts the offer with probability
``gamma`` and is then retained, worth ``clv`` minus the ``incentive`` (d); a contacted
non-churner accepts the incentive and stays anyway (cost d + f). With ``delta = d / CLV`` and
``phi = f / CLV`` the profit per customer of targeting the fraction reached by threshold t is

    P(t; gamma) = CLV (gamma (1 - delta) - phi) pi_0 F_0(t) - CLV (delta + phi) pi_1 F_1(t),

where ``pi_0`` is the churn rate, ``F_0(t)`` the share of churners targeted (true positive
rate) and ``F_1(t)`` the share of non-churners targeted (false positive rate); the paper's
class 0 is our churner class (y = 1).

* :func:`mpc`: the maximum of P over thresholds for a known acceptance rate gamma;
* :func:`empc`: its expectation when gamma ~ Beta(alpha, beta), computed exactly on the
  convex hull of the ROC curve (the optimal threshold only ever sits on a hull vertex);
* :func:`profit_curve`: the campaign profit at every targeted fraction, optionally with a
  different CLV for each customer (e.g. from :func:`churnlab.customer_lifetime_value`).

References
----------
Verbraken, T., Verbeke, W. & Baesens, B. (2013). A novel profit maximizing metric for
measuring classification performance of customer churn prediction models. *IEEE Transactions
on Knowledge and Data Engineering* 25(5), 961-973.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import beta as beta_dist

from churnlab._validation import as_float_array, check_number, check_probability, fail
from churnlab.churn.ranking import (
    align_by_customer,
    check_labels,
    check_score,
    ranked_counts,
    ranked_groups,
)
from churnlab.results import Result

#: Default campaign of Verbraken, Verbeke & Baesens (2013), section 5: CLV 200, incentive
#: 10, contact cost 1, acceptance rate gamma ~ Beta(6, 14) (mean 0.3).
PAPER_CLV = 200.0
PAPER_INCENTIVE = 10.0
PAPER_CONTACT = 1.0
PAPER_ALPHA = 6.0
PAPER_BETA = 14.0
#: Mean of Beta(6, 14): the deterministic acceptance rate used by default in :func:`mpc`.
PAPER_ACCEPT_RATE = PAPER_ALPHA / (PAPER_ALPHA + PAPER_BETA)


@dataclass(frozen=True)
class EMPCResult(Result):
    """Expected maximum profit of a churn score, per customer of the scored base.

    Attributes
    ----------
    empc : float
        Expected maximum profit per customer (currency of ``clv``).
    fraction : float
        Expected share of customers to target (the paper's eta_empc).
    clv, incentive, contact, alpha, beta : float
        The campaign assumptions.
    """

    empc: float
    fraction: float
    clv: float
    incentive: float
    contact: float
    alpha: float
    beta: float

    @property
    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"value": [self.empc, self.fraction]}, index=["empc", "fraction"])

    def _html_title(self) -> str:
        return "Expected maximum profit (EMPC)"

    def _html_notes(self) -> str:
        return (
            f"CLV {self.clv:g}, incentive {self.incentive:g}, contact {self.contact:g}, "
            f"acceptance ~ Beta({self.alpha:g}, {self.beta:g})"
        )


@dataclass(frozen=True)
class MPCResult(Result):
    """Maximum profit of a churn score for a known acceptance rate.

    Attributes
    ----------
    mpc : float
        Maximum profit per customer of the scored base.
    fraction : float
        Share of customers to target to reach it.
    threshold : float
        Lowest score targeted (customers with a score >= threshold are contacted; tied
        customers at the threshold are all included).
    profit : float
        Total profit of that campaign (``mpc`` times the number of customers).
    """

    mpc: float
    fraction: float
    threshold: float
    profit: float

    @property
    def table(self) -> pd.DataFrame:
        names = ["mpc", "fraction", "threshold", "profit"]
        return pd.DataFrame({"value": [getattr(self, n) for n in names]}, index=names)

    def _html_title(self) -> str:
        return "Maximum profit (MPC)"


def _check_campaign(
    clv, incentive, contact, n: int | None = None, like=None, like_name: str = "y_true"
):
    """The campaign's costs and value: (clv, incentive, contact), checked."""
    incentive = check_number(incentive, "incentive", low=0, hint="A cost is not negative.")
    contact = check_number(contact, "contact", low=0, hint="A cost is not negative.")
    if np.ndim(clv) == 0:
        clv = check_number(clv, "clv", low=0)
        if clv <= incentive:
            raise ValueError(
                f"clv={clv!r} must exceed the incentive ({incentive!r}): otherwise retaining a "
                "churner never pays"
            )
        return clv, incentive, contact
    if n is None:
        raise ValueError("clv must be a single number here")
    clv = align_by_customer(clv, like, "clv", like_name)
    values = as_float_array(clv, "clv")
    if values.size != n:
        raise ValueError(f"clv has {values.size} values for {n} customers: pass one per customer")
    bad = values < 0
    if bad.any():
        fail("clv", "negative lifetime values", pd.DataFrame({"clv": values}), bad)
    return values, incentive, contact


def roc_convex_hull(y_true, score) -> pd.DataFrame:
    """Vertices of the ROC convex hull, from (0, 0) to (1, 1).

    Returns
    -------
    DataFrame
        ``fpr`` (F_1, share of non-churners targeted), ``tpr`` (F_0, share of churners
        targeted) and ``threshold`` (lowest score targeted at the vertex; +inf at the origin).

    Examples
    --------
    >>> roc_convex_hull([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])
        fpr  tpr  threshold
    0  0.0  0.0        inf
    1  0.0  0.5        0.9
    2  0.5  1.0        0.7
    3  1.0  1.0        0.1
    """
    _, s, order, starts, pos, neg = ranked_counts(y_true, score)
    fpr = np.r_[0.0, np.cumsum(neg) / neg.sum()]
    tpr = np.r_[0.0, np.cumsum(pos) / pos.sum()]
    thresholds = np.r_[np.inf, s[order][starts]]
    hull: list[int] = []
    for i in range(len(fpr)):  # monotone chain, upper hull; points already sorted by fpr
        while len(hull) >= 2:
            o, a = hull[-2], hull[-1]
            cross = (fpr[a] - fpr[o]) * (tpr[i] - tpr[o]) - (tpr[a] - tpr[o]) * (fpr[i] - fpr[o])
            if cross >= 0:
                hull.pop()
            else:
                break
        hull.append(i)
    return pd.DataFrame(
        {"fpr": fpr[hull], "tpr": tpr[hull], "threshold": thresholds[hull]}
    ).reset_index(drop=True)


def empc(
    y_true,
    score,
    clv: float = PAPER_CLV,
    incentive: float = PAPER_INCENTIVE,
    contact: float = PAPER_CONTACT,
    alpha: float = PAPER_ALPHA,
    beta: float = PAPER_BETA,
) -> EMPCResult:
    """Expected maximum profit measure for customer churn (EMPC).

    The acceptance rate gamma of contacted churners follows Beta(alpha, beta); for every
    gamma the campaign targets the profit-maximising fraction. On the ROC convex hull with
    vertices (r_1i, r_0i) = (F_1, F_0), vertex i+1 beats vertex i when gamma exceeds

        gamma_i = pi_1 (delta + phi) (r_1,i+1 - r_1i) / (pi_0 (1 - delta) (r_0,i+1 - r_0i))
                  + phi / (1 - delta),

    so EMPC = CLV sum_i integral over (gamma_i-1, gamma_i] of
    [(gamma (1 - delta) - phi) pi_0 r_0i - (delta + phi) pi_1 r_1i] h(gamma) dgamma, evaluated
    with Beta distribution functions (Verbraken, Verbeke & Baesens 2013, section 4).

    Parameters
    ----------
    y_true : array-like of 0/1
        1 = churner.
    score : array-like
        Larger = more likely to churn.
    clv : float
        Value of a retained churner (one number, as in the paper; see :func:`profit_curve`
        for per-customer values).
    incentive, contact : float
        Cost of the incentive (d) and of a contact (f).
    alpha, beta : float
        Parameters of the Beta distribution of the acceptance rate.

    Returns
    -------
    EMPCResult
        ``empc`` (per customer) and ``fraction`` (expected share to target).

    Examples
    --------
    A perfect score on a base with half churners: contact exactly the churners, each worth
    ``CLV (gamma (1 - delta) - phi)``, with E[gamma] = 0.3: 200 x 0.5 x (0.95 x 0.3 - 0.005).

    >>> r = empc([1, 0], [0.9, 0.1])
    >>> round(r.empc, 6), round(r.fraction, 6)
    (28.0, 0.5)
    """
    clv, incentive, contact = _check_campaign(clv, incentive, contact)
    alpha = check_number(alpha, "alpha", low=0, low_open=True)
    beta = check_number(beta, "beta", low=0, low_open=True)
    y = check_labels(y_true)
    s = check_score(score, len(y), like=y_true)
    delta, phi = incentive / clv, contact / clv
    pi0 = y.mean()
    pi1 = 1.0 - pi0
    hull = roc_convex_hull(y, s)
    r1, r0 = hull["fpr"].to_numpy(), hull["tpr"].to_numpy()
    d1, d0 = np.diff(r1), np.diff(r0)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(d0 > 0, d1 / np.where(d0 > 0, d0, 1.0), np.inf)
    gamma = pi1 * (delta + phi) * slope / (pi0 * (1 - delta)) + phi / (1 - delta)
    lower = np.clip(np.r_[-np.inf, gamma], 0.0, 1.0)
    upper = np.clip(np.r_[gamma, np.inf], 0.0, 1.0)
    mass = beta_dist.cdf(upper, alpha, beta) - beta_dist.cdf(lower, alpha, beta)
    # integral of gamma h(gamma) = alpha / (alpha + beta) x Beta(alpha + 1, beta) mass
    first_moment = (alpha / (alpha + beta)) * (
        beta_dist.cdf(upper, alpha + 1, beta) - beta_dist.cdf(lower, alpha + 1, beta)
    )
    profit = clv * (
        ((1 - delta) * first_moment - phi * mass) * pi0 * r0 - (delta + phi) * pi1 * r1 * mass
    )
    fraction = (pi0 * r0 + pi1 * r1) * mass
    return EMPCResult(
        empc=float(profit.sum()),
        fraction=float(fraction.sum()),
        clv=clv,
        incentive=float(incentive),
        contact=float(contact),
        alpha=float(alpha),
        beta=float(beta),
    )


def profit_curve(
    y_true,
    score,
    clv=PAPER_CLV,
    incentive: float = PAPER_INCENTIVE,
    contact: float = PAPER_CONTACT,
    accept_rate: float = PAPER_ACCEPT_RATE,
) -> pd.DataFrame:
    """Campaign profit when the top-scored customers are contacted, at every fraction.

    Customer i, if contacted, earns ``y_i (accept_rate (clv_i - incentive) - contact) -
    (1 - y_i) (incentive + contact)``: a churner accepts with probability ``accept_rate``
    and is retained; a non-churner takes the incentive and would have stayed anyway.

    Parameters
    ----------
    y_true : array-like of 0/1
        1 = churner.
    score : array-like
        Larger = more likely to churn.
    clv : float or array-like aligned with ``y_true``
        Value of retaining each customer: one number, or one per customer (e.g. from
        :func:`churnlab.customer_lifetime_value`).
    incentive, contact : float
        Cost of the incentive and of a contact.
    accept_rate : float
        Share of contacted churners who accept and stay.

    Returns
    -------
    DataFrame
        One row per block of tied scores plus the origin: ``fraction_targeted``,
        ``n_targeted``, ``threshold`` (lowest score contacted), ``churners_targeted``,
        ``clv_targeted`` (lifetime value of the contacted churners: the value at risk the
        campaign reaches), ``profit`` (total) and ``profit_per_customer`` (over the whole
        base).

    Examples
    --------
    A contacted churner earns 0.5 x (100 - 10) - 1 = 44, a contacted stayer costs 10 + 1 = 11:
    the running totals are 44, 33, 77 and 66.

    >>> curve = profit_curve([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1], clv=100, accept_rate=0.5)
    >>> curve[["fraction_targeted", "threshold", "clv_targeted", "profit"]]
       fraction_targeted  threshold  clv_targeted  profit
    0               0.00        inf           0.0     0.0
    1               0.25        0.9         100.0    44.0
    2               0.50        0.8         100.0    33.0
    3               0.75        0.7         200.0    77.0
    4               1.00        0.1         200.0    66.0
    """
    accept_rate = check_probability(accept_rate, "accept_rate")
    y = check_labels(y_true)
    s = check_score(score, len(y), like=y_true)
    values, incentive, contact = _check_campaign(clv, incentive, contact, len(y), like=y_true)
    clv_i = np.broadcast_to(np.asarray(values, dtype=float), y.shape)
    gain = y * (accept_rate * (clv_i - incentive) - contact) - (1 - y) * (incentive + contact)
    order, starts = ranked_groups(s)
    size = np.diff(np.r_[starts, len(y)])
    n_targeted = np.r_[0, np.cumsum(size)]
    profit = np.r_[0.0, np.cumsum(np.add.reduceat(gain[order], starts))]
    churners = np.r_[0.0, np.cumsum(np.add.reduceat(y[order], starts))]
    at_risk = np.r_[0.0, np.cumsum(np.add.reduceat((y * clv_i)[order], starts))]
    return pd.DataFrame(
        {
            "fraction_targeted": n_targeted / len(y),
            "n_targeted": n_targeted,
            "threshold": np.r_[np.inf, s[order][starts]],
            "churners_targeted": churners,
            "clv_targeted": at_risk,
            "profit": profit,
            "profit_per_customer": profit / len(y),
        }
    )


def mpc(
    y_true,
    score,
    clv=PAPER_CLV,
    incentive: float = PAPER_INCENTIVE,
    contact: float = PAPER_CONTACT,
    accept_rate: float = PAPER_ACCEPT_RATE,
) -> MPCResult:
    """Maximum profit measure for customer churn (MPC) at a known acceptance rate.

    The highest point of :func:`profit_curve` (targeting nobody, profit 0, included).
    With one CLV for everyone it is the paper's MPC, max_t P(t; gamma); ``clv`` may also be
    one value per customer.

    Examples
    --------
    The best point of the :func:`profit_curve` example: 77 for 4 customers, at 3 of 4.

    >>> r = mpc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1], clv=100, accept_rate=0.5)
    >>> r.mpc, r.fraction, r.threshold
    (19.25, 0.75, 0.7)
    """
    curve = profit_curve(y_true, score, clv, incentive, contact, accept_rate)
    best = int(np.argmax(curve["profit"].to_numpy()))
    row = curve.iloc[best]
    return MPCResult(
        mpc=float(row["profit_per_customer"]),
        fraction=float(row["fraction_targeted"]),
        threshold=float(row["threshold"]),
        profit=float(row["profit"]),
    )


def expected_gain(
    churn_probability,
    clv=PAPER_CLV,
    incentive: float = PAPER_INCENTIVE,
    contact: float = PAPER_CONTACT,
    accept_rate: float = PAPER_ACCEPT_RATE,
):
    """Expected profit of contacting each customer, from predicted churn probabilities.

    The gain of :func:`profit_curve` for customer i, with the unknown outcome y_i replaced
    by the predicted probability p_i:

        E[gain_i] = p_i (accept_rate (clv_i - incentive) - contact)
                    - (1 - p_i) (incentive + contact).

    It needs no labels, so it decides *before* a campaign whom to contact: everyone with a
    positive expected gain, which maximises the expected profit when the probabilities are
    calibrated. Ordering customers by it gives the list of :func:`profit_curve`.

    Parameters
    ----------
    churn_probability : array-like or Series
        Calibrated P(churn) of each customer.
    clv : float or array-like aligned with ``churn_probability``
        Value of retaining each customer.
    incentive, contact, accept_rate : float
        The campaign, as in :func:`profit_curve`.

    Returns
    -------
    Series ``expected_gain`` (indexed like ``churn_probability`` when it is a Series).

    Examples
    --------
    A sure churner worth 100 earns 0.3 x 90 - 1 = 26; a sure stayer costs 11; at
    p = 0.5 the gain is (26 - 11) / 2 = 7.5.

    >>> expected_gain([1.0, 0.0, 0.5], clv=100).tolist()
    [26.0, -11.0, 7.5]
    """
    accept_rate = check_probability(accept_rate, "accept_rate")
    index = churn_probability.index if isinstance(churn_probability, pd.Series) else None
    p = check_score(churn_probability, np.size(churn_probability), "churn_probability")
    bad = (p < 0) | (p > 1)
    if bad.any():
        fail(
            "churn_probability",
            "values outside [0, 1]",
            pd.DataFrame({"churn_probability": p}),
            bad,
            "Pass calibrated probabilities, e.g. ChurnModel.predict_proba(X)[:, 1].",
        )
    values, incentive, contact = _check_campaign(
        clv, incentive, contact, len(p), like=churn_probability, like_name="churn_probability"
    )
    gain = p * (accept_rate * (np.asarray(values) - incentive) - contact) - (1 - p) * (
        incentive + contact
    )
    return pd.Series(gain, index=index, name="expected_gain")
