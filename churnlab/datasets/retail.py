"""A SYNTHETIC retailer: linked customer, transaction, NPS, complaint and exit-survey tables.

Every table is drawn from a stated process, so an analysis can be checked against the truth
that was planted (returned as ``RetailData.truth``):

* **Purchases** follow the BG/NBD process (:func:`~churnlab.datasets.simulate.simulate_bgnbd`)
  in weeks, with parameters per segment; **spend** per purchase follows the Gamma-Gamma model
  (:func:`~churnlab.datasets.simulate.simulate_gamma_gamma`). A stated share of purchases is
  returned later (a row with negative quantity and amount). Purchase times are Poisson (gap
  coefficient of variation 1); ``regular_share`` (default 0) plants a share of near-periodic
  buyers instead, with the same rate and dropout but Gamma gaps (``REGULAR_GAP_SHAPE``; gap
  coefficient of variation 0.25), listed in ``truth['regular']``.
* **Loyalty programme.** It opens on ``programme_start``. Customers inclined to join
  (``JOIN_PROBABILITY`` per segment) have a purchase rate ``SELF_SELECTION_RATIO`` times
  higher from the start (self-selection), and join at their first purchase on or after the
  opening. From joining on, their purchase rate is multiplied by ``programme_effect`` (the
  causal effect). A naive member vs non-member comparison therefore shows about
  ``SELF_SELECTION_RATIO * programme_effect``; comparing members with comparable non-members,
  or with their own pre-programme behaviour, recovers ``programme_effect``. The rate change is
  simulated by a change of clock: a BG/NBD customer whose rate is multiplied by ``m`` after
  ``tau`` is a BG/NBD customer in operational time ``s = tau + m (t - tau)`` (dropout happens at
  purchases, so it is unaffected). The same draw read on the unchanged clock is the
  counterfactual without the programme; ``truth['programme']['realised']`` reports both.
* **Defection** is the BG/NBD dropout: ``defected`` is true for customers no longer alive at
  ``end``, ``defection_date`` is their last purchase. Each defector has one reason from
  ``REASON_MIX`` (per segment; product dissatisfaction far above the 14% benchmark).
* **NPS** (one answer per customer and touch point, with probability ``NPS_RESPONSE_RATE``):
  scores have exactly the planted distribution per segment and touch point (``NPS_BANDS``) and
  are tied to the customer's dropout probability by a Gaussian copula with correlation
  ``-NPS_DROPOUT_CORRELATION``, so detractors defect more.
* **Complaints**: unhappy customers (defectors for staff or product reasons and a share
  ``UNHAPPY_STAYER_SHARE`` of the others) complain with probability ``complaint_rate``, about
  one in ten (domain notes: every complaint stands for about ten unhappy customers).
* **Exit survey**: defectors are surveyed 4 to 12 weeks after their last purchase (when that
  falls before ``end``) and answer with probability ``EXIT_RESPONSE_RATE``. The closed answer
  follows the reason; a share ``EXIT_OFF_LIST_SHARE`` answers off the list ('other',
  'prefer_not_to_say', 'dont_know'), and comments are templated sentences with keywords.

``python -m churnlab.datasets.retail --write data/retail_sample`` regenerates the bundled
sample byte for byte (``SAMPLE_N_CUSTOMERS`` customers, seed ``SAMPLE_SEED``).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from churnlab._validation import as_timestamp
from churnlab.datasets.cdnow import data_path
from churnlab.datasets.simulate import simulate_bgnbd, simulate_gamma_gamma
from churnlab.results import html_result
from churnlab.rfm import unit_days

#: The bundled sample: ``python -m churnlab.datasets.retail --write data/retail_sample``.
SAMPLE_N_CUSTOMERS = 4000
SAMPLE_SEED = 2022
SAMPLE_DIR = "retail_sample"

#: The purchase process runs in weeks.
TIME_UNIT = "W"
_PERIOD = unit_days(TIME_UNIT)  # days per week

SEGMENTS = ("budget", "mainstream", "premium")
SEGMENT_SHARES = {"budget": 0.45, "mainstream": 0.40, "premium": 0.15}
REGIONS = ("north", "south", "east", "west")
REGION_SHARES = {"north": 0.30, "south": 0.25, "east": 0.25, "west": 0.20}

#: BG/NBD parameters per segment (weeks): lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b).
PURCHASE_PARAMS = {
    "budget": {"r": 0.9, "alpha": 12.0, "a": 0.7, "b": 8.0},
    "mainstream": {"r": 1.2, "alpha": 12.0, "a": 0.6, "b": 10.0},
    "premium": {"r": 1.5, "alpha": 10.0, "a": 0.5, "b": 12.0},
}
#: Gamma-Gamma parameters per segment; mean spend per purchase is p v / (q - 1).
SPEND_PARAMS = {
    "budget": {"p": 3.0, "q": 4.0, "v": 30.0},
    "mainstream": {"p": 4.0, "q": 5.0, "v": 60.0},
    "premium": {"p": 5.0, "q": 6.0, "v": 150.0},
}
#: Mean price of one item per segment; quantity = 1 + Poisson(amount / price - 1, floored at 0).
ITEM_PRICE = {"budget": 15.0, "mainstream": 25.0, "premium": 50.0}

#: Share of customers inclined to join the programme, per segment.
JOIN_PROBABILITY = {"budget": 0.25, "mainstream": 0.35, "premium": 0.50}
#: Programme type of those who join.
PROGRAMME_TYPES = ("bonus", "discount", "cumulative")
PROGRAMME_TYPE_SHARES = {"bonus": 0.40, "discount": 0.35, "cumulative": 0.25}
#: Self-selection: the purchase rate of those inclined to join, relative to the others.
SELF_SELECTION_RATIO = 1.5
#: Causal effect of membership: multiplier of the purchase rate from the join date on.
PROGRAMME_EFFECT = 1.25

#: Regular (near-periodic) buyers: by default none, so purchases are Poisson as in the BG/NBD.
#: With ``regular_share > 0`` that share of customers buys on a renewal process whose gaps are
#: Gamma(``REGULAR_GAP_SHAPE``, rate ``shape * lambda``): the same mean rate ``lambda``, but a
#: coefficient of variation of the gaps of ``1 / sqrt(shape)`` (0.25) instead of 1.
REGULAR_SHARE = 0.0
REGULAR_GAP_SHAPE = 16.0

#: Share of purchases returned (each returned in full 1 to ~3 weeks later).
RETURN_SHARE = 0.05

REASONS = (
    "staff_indifference",
    "product_dissatisfaction",
    "competition",
    "other_relationships",
    "no_reason",
)
#: Defection-reason mix per segment (benchmark: 68/14/10/5/3; product dissatisfaction planted
#: at about twice the benchmark and more, staff indifference lower, competition higher).
REASON_MIX = {
    "budget": {
        "staff_indifference": 0.30,
        "product_dissatisfaction": 0.30,
        "competition": 0.25,
        "other_relationships": 0.10,
        "no_reason": 0.05,
    },
    "mainstream": {
        "staff_indifference": 0.40,
        "product_dissatisfaction": 0.35,
        "competition": 0.12,
        "other_relationships": 0.08,
        "no_reason": 0.05,
    },
    "premium": {
        "staff_indifference": 0.55,
        "product_dissatisfaction": 0.30,
        "competition": 0.05,
        "other_relationships": 0.07,
        "no_reason": 0.03,
    },
}

TOUCH_POINTS = ("sales", "support", "delivery")
#: Planted NPS answer bands per segment and touch point: (detractor share, promoter share).
NPS_BANDS = {
    "budget": {"sales": (0.30, 0.40), "support": (0.45, 0.25), "delivery": (0.35, 0.35)},
    "mainstream": {"sales": (0.20, 0.50), "support": (0.40, 0.30), "delivery": (0.25, 0.45)},
    "premium": {"sales": (0.10, 0.65), "support": (0.30, 0.40), "delivery": (0.15, 0.60)},
}
#: Relative weights of the scores within each band (0-6, 7-8, 9-10).
_WITHIN_BAND = {
    "detractor": np.array([1, 1, 1, 2, 3, 5, 7], float),
    "passive": np.array([1, 1], float),
    "promoter": np.array([3, 2], float),
}
#: Probability that a customer answers the NPS survey at each touch point.
NPS_RESPONSE_RATE = {"sales": 0.35, "support": 0.20, "delivery": 0.30}
#: Gaussian-copula correlation between a low score and a high dropout probability.
NPS_DROPOUT_CORRELATION = 0.5

#: Share of unhappy customers who complain (domain notes: about one in ten).
COMPLAINT_RATE = 0.10
#: Share of customers who stay although unhappy once.
UNHAPPY_STAYER_SHARE = 0.15
#: Probability that a complaint is resolved, for customers who later defect / stay.
RESOLVED_PROBABILITY = {"defected": 0.35, "stayed": 0.80}
CHANNELS = ("phone", "email", "chat", "store")
CHANNEL_SHARES = {"phone": 0.35, "email": 0.30, "chat": 0.20, "store": 0.15}

#: Exit survey: response rate, share of off-list answers, weeks from last purchase to survey.
EXIT_RESPONSE_RATE = 0.60
EXIT_OFF_LIST_SHARE = 0.10
EXIT_DELAY_DAYS = (28, 84)

#: Closed answers given for each reason, with their probabilities.
EXIT_ANSWERS = {
    "staff_indifference": {
        "inadequate_response": 0.40,
        "broken_promise": 0.30,
        "general_dissatisfaction": 0.30,
    },
    "product_dissatisfaction": {"product_quality": 0.55, "delivery_times": 0.45},
    "competition": {"price": 0.50, "competitor_offer": 0.50},
    "other_relationships": {"other_supplier": 1.0},
    "no_reason": {"no_particular_reason": 1.0},
}
#: Off-list answers (not in the closed list); 'other' carries a reason in its comment 70% of
#: the time.
OFF_LIST_ANSWERS = {"other": 0.60, "prefer_not_to_say": 0.25, "dont_know": 0.15}
OTHER_WITH_REASON = 0.70

#: Comment templates; each carries keywords of its reason.
_REASON_COMMENTS = {
    "staff_indifference": (
        "Nobody called me back about my problem.",
        "The staff were rude and unhelpful when I asked for help.",
        "I felt ignored every time I came in.",
    ),
    "product_dissatisfaction": (
        "The quality dropped and two items broke within a month.",
        "Orders always arrived late.",
        "The last products I bought were defective.",
    ),
    "competition": (
        "I found the same things cheaper elsewhere.",
        "A competitor made me a better offer.",
        "Another shop gives a longer warranty for the same money.",
    ),
    "other_relationships": (
        "I now buy from a supplier a friend of mine works for.",
        "We moved all purchasing to a supplier we already work with.",
    ),
    "no_reason": ("No particular reason.", "I just stopped shopping there."),
}
_ANSWER_COMMENTS = {
    "inadequate_response": ("Nobody called me back about my problem.",),
    "broken_promise": ("You promised a refund and I am still waiting.",),
    "unresolved_complaint": ("My complaint was never resolved.",),
    "general_dissatisfaction": (
        "The staff were rude and unhelpful when I asked for help.",
        "I felt ignored every time I came in.",
    ),
    "product_quality": (
        "The quality dropped and two items broke within a month.",
        "The last products I bought were defective.",
    ),
    "delivery_times": ("Orders always arrived late.",),
    "price": ("I found the same things cheaper elsewhere.",),
    "competitor_offer": (
        "A competitor made me a better offer.",
        "Another shop gives a longer warranty for the same money.",
    ),
    "other_supplier": _REASON_COMMENTS["other_relationships"],
    "no_particular_reason": _REASON_COMMENTS["no_reason"],
}
_GENERIC_COMMENTS = ("Rather not say.", "Hard to say.", "No comment.")

_NPS_COMMENTS = {
    ("detractor", "sales"): ("Staff who actually listen.", "Fair prices and honest advice."),
    ("detractor", "support"): ("Answer my emails at all.", "Fix problems the first time."),
    ("detractor", "delivery"): ("Deliver on the promised day.", "Undamaged parcels."),
    ("passive", "sales"): ("A wider range.", "Shorter queues at the till."),
    ("passive", "support"): ("Faster answers.", "Longer opening hours."),
    ("passive", "delivery"): ("Cheaper delivery.", "Tracking that works."),
    ("promoter", "sales"): ("Nothing, keep it up.", "Keep the friendly staff."),
    ("promoter", "support"): ("Nothing, great help.", "Already a 10."),
    ("promoter", "delivery"): ("Nothing, always on time.", "Already a 10."),
}


@dataclass(frozen=True)
class RetailData:
    """The synthetic retailer's linked tables (all keyed by ``customer_id``) and its truth.

    See ``data/retail_sample/README.md`` for every column.
    """

    customers: pd.DataFrame
    transactions: pd.DataFrame
    nps: pd.DataFrame
    complaints: pd.DataFrame
    exit_survey: pd.DataFrame
    truth: dict = field(repr=False)

    TABLES = ("customers", "transactions", "nps", "complaints", "exit_survey")

    @property
    def overview(self) -> pd.DataFrame:
        """Rows and columns of each table."""
        return pd.DataFrame(
            {
                "rows": [len(getattr(self, name)) for name in self.TABLES],
                "columns": [
                    ", ".join(map(str, getattr(self, name).columns)) for name in self.TABLES
                ],
            },
            index=pd.Index(self.TABLES, name="table"),
        )

    def _repr_html_(self) -> str:
        return html_result("RetailData (SYNTHETIC)", self.overview)


def _choice(rng: np.random.Generator, options, shares: dict, size: int) -> np.ndarray:
    probs = np.array([shares[o] for o in options], float)
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=size, p=probs)]


def _pick(rng: np.random.Generator, keys: np.ndarray, table: dict) -> np.ndarray:
    """For each row, one element drawn uniformly from ``table[key]`` (a tuple of options)."""
    u = rng.random(len(keys))
    out = np.empty(len(keys), dtype=object)
    for key in np.unique(keys):
        rows = np.flatnonzero(keys == key)
        options = np.asarray(table[key], dtype=object)
        out[rows] = options[(u[rows] * len(options)).astype(np.int64)]
    return out


def _draw_from(rng: np.random.Generator, table: dict, keys: np.ndarray) -> np.ndarray:
    """For each key draw one option from ``table[key]`` (a dict option -> probability)."""
    out = np.empty(len(keys), dtype=object)
    for key in np.unique(keys):
        rows = np.flatnonzero(keys == key)
        out[rows] = _choice(rng, tuple(table[key]), table[key], len(rows))
    return out


def _score_distribution(detractors: float, promoters: float) -> np.ndarray:
    """Probabilities of the scores 0..10 given the band shares."""
    passives = 1.0 - detractors - promoters
    parts = [
        detractors * _WITHIN_BAND["detractor"] / _WITHIN_BAND["detractor"].sum(),
        passives * _WITHIN_BAND["passive"] / _WITHIN_BAND["passive"].sum(),
        promoters * _WITHIN_BAND["promoter"] / _WITHIN_BAND["promoter"].sum(),
    ]
    return np.concatenate(parts)


def _band(scores: np.ndarray) -> np.ndarray:
    return np.where(scores <= 6, "detractor", np.where(scores <= 8, "passive", "promoter"))


def simulate_retailer(
    n_customers: int = 5000,
    seed=0,
    *,
    start="2022-01-01",
    end="2024-12-31",
    programme_start="2023-01-01",
    programme_effect: float = PROGRAMME_EFFECT,
    self_selection: float = SELF_SELECTION_RATIO,
    return_share: float = RETURN_SHARE,
    complaint_rate: float = COMPLAINT_RATE,
    reason_mix: dict | None = None,
    regular_share: float = REGULAR_SHARE,
) -> RetailData:
    """Simulate a SYNTHETIC retailer with a planted truth (see the module docstring).

    Parameters
    ----------
    n_customers : int
        Number of customers (each makes a first purchase on their signup date).
    seed : int, Generator or None
        Seed of the random generator; the same integer seed gives the same tables.
    start, end : date-like
        Observation window. Signups are spread over ``start`` to 26 weeks before ``end``.
    programme_start : date-like
        Opening of the loyalty programme, inside the window.
    programme_effect : float
        Multiplier of a member's purchase rate from the join date on (> 0).
    self_selection : float
        Purchase rate of customers inclined to join relative to the others (> 0).
    return_share : float
        Share of purchases returned, in [0, 1).
    complaint_rate : float
        Share of unhappy customers who complain, in [0, 1].
    reason_mix : dict, optional
        Defection-reason mix per segment, ``{segment: {reason: share}}``; default
        ``REASON_MIX``.
    regular_share : float
        Share of customers, in [0, 1], who buy at near-regular intervals (gamma-distributed
        gaps with coefficient of variation ``1 / sqrt(REGULAR_GAP_SHAPE)``) instead of at
        Poisson times; their rate and dropout are drawn as for everyone else. Their ids are in
        ``truth['regular']['customer_ids']``. Default 0: the bundled sample has none.

    Returns
    -------
    RetailData
        ``customers``, ``transactions``, ``nps``, ``complaints``, ``exit_survey`` and the
        JSON-serialisable ``truth``.

    Examples
    --------
    >>> data = simulate_retailer(300, seed=1)
    >>> data.customers["segment"].isin(SEGMENTS).all()
    np.True_
    >>> sorted(data.truth["defection"]["reason_mix"]) == sorted(REASONS)
    True
    """
    # The steps draw from one generator in a fixed order (customers, purchase times, spend and
    # returns, defection reasons, complaints, exit survey, NPS): the same seed gives the same
    # tables byte for byte, and the bundled sample is regenerated by this function.
    n, start, end, launch, reason_mix = _check_retailer_arguments(
        n_customers,
        start,
        end,
        programme_start,
        programme_effect,
        self_selection,
        return_share,
        complaint_rate,
        reason_mix,
        regular_share,
    )
    n_days = (end - start).days
    m = float(programme_effect)
    rng = np.random.default_rng(seed)  # every step below draws from it, in this order
    base = _draw_customers(rng, n, start, end, launch, m)
    bought = _draw_purchase_times(rng, base, self_selection, regular_share)
    joined = _join_programme(base, bought, m)
    keep = joined["keep"]
    row_k, t_k = bought["row"][keep], joined["t_real"][keep]
    day = base["signup_offset"][row_k] + np.floor(t_k * _PERIOD).astype(np.int64)
    n_purchases = np.bincount(row_k, minlength=n)
    last_t = pd.Series(t_k).groupby(row_k).max().reindex(range(n)).to_numpy()
    transactions, n_returns = _draw_transactions(
        rng, base, row_k, day, n_purchases, return_share, start, n_days
    )
    defected = ~joined["alive"]
    defection_offset = base["signup_offset"] + np.floor(np.nan_to_num(last_t) * _PERIOD).astype(
        np.int64
    )
    reason = _draw_reasons(rng, base["segment"], defected, reason_mix)
    customers = _customers_table(base, joined, defected, defection_offset, start)
    complaints, unhappy, complains, unresolved_complainer = _draw_complaints(
        rng, base, defected, defection_offset, reason, complaint_rate, start, n_days
    )
    exit_survey, e_rows = _draw_exit_survey(
        rng, base, defected, defection_offset, reason, unresolved_complainer, start, n_days
    )
    nps = _draw_nps(rng, base, bought["p_drop"], n_purchases, day, start)
    truth = _truth(
        seed=seed,
        n=n,
        start=start,
        end=end,
        launch=launch,
        m=m,
        self_selection=self_selection,
        return_share=return_share,
        complaint_rate=complaint_rate,
        reason_mix=reason_mix,
        segment=base["segment"],
        member=joined["member"],
        inclined=base["inclined"],
        lam=bought["lam"],
        tau=joined["tau"],
        T=base["T"],
        actual_post=joined["actual_post"],
        cf_post=joined["cf_post"],
        defected=defected,
        reason=reason,
        e_rows=e_rows,
        unhappy=unhappy,
        complains=complains,
        n_returns=n_returns,
        n_purchases=int(n_purchases.sum()),
        nps=nps,
        customers=customers,
        regular_share=regular_share,
        regular=bought["regular"],
        ids=base["ids"],
    )
    return RetailData(customers, transactions, nps, complaints, exit_survey, truth)


def _check_retailer_arguments(
    n_customers,
    start,
    end,
    programme_start,
    programme_effect,
    self_selection,
    return_share,
    complaint_rate,
    reason_mix,
    regular_share,
):
    """The arguments of :func:`simulate_retailer`, checked: (n, start, end, launch, mix)."""
    n = int(n_customers)
    if n <= 0:
        raise ValueError(f"n_customers must be a positive integer, got {n_customers!r}")
    start, end = as_timestamp(start, "start"), as_timestamp(end, "end")
    launch = as_timestamp(programme_start, "programme_start")
    if not start < launch < end:
        raise ValueError(f"programme_start={launch.date()} must lie between start and end")
    if (end - start).days < 2 * 182:
        raise ValueError("the window from start to end must span at least a year")
    for name, value in {
        "programme_effect": programme_effect,
        "self_selection": self_selection,
    }.items():
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not 0 <= return_share < 1:
        raise ValueError(f"return_share must be in [0, 1), got {return_share!r}")
    if not 0 <= complaint_rate <= 1:
        raise ValueError(f"complaint_rate must be in [0, 1], got {complaint_rate!r}")
    if not 0 <= regular_share <= 1:
        raise ValueError(f"regular_share must be in [0, 1], got {regular_share!r}")
    reason_mix = REASON_MIX if reason_mix is None else reason_mix
    for segment in SEGMENTS:
        mix = reason_mix.get(segment)
        if mix is None or sorted(mix) != sorted(REASONS) or not np.isclose(sum(mix.values()), 1):
            raise ValueError(
                f"reason_mix[{segment!r}] must give a share to each of {list(REASONS)} "
                f"summing to 1, got {mix!r}"
            )
    return n, start, end, launch, reason_mix


def _draw_customers(rng, n: int, start, end, launch, m: float) -> dict:
    """Segment, region, signup day and programme inclination of each customer.

    Times are in weeks from each customer's signup: ``T`` is their age at ``end``, ``L`` the
    programme's opening (0 if they signed up after it) and ``T_op`` the end of their
    operational clock (faster by ``m`` after ``L`` for those inclined to join; see the module
    docstring).
    """
    n_days = (end - start).days
    segment = _choice(rng, SEGMENTS, SEGMENT_SHARES, n)
    region = _choice(rng, REGIONS, REGION_SHARES, n)
    signup_offset = rng.integers(0, n_days - 182 + 1, size=n)
    signup = start + pd.to_timedelta(signup_offset, unit="D")
    T = (end - signup).days.to_numpy() / _PERIOD
    L = np.clip((launch - signup).days.to_numpy() / _PERIOD, 0.0, None)
    join_p = np.array([JOIN_PROBABILITY[s] for s in segment])
    inclined = rng.random(n) < join_p
    ptype = _choice(rng, PROGRAMME_TYPES, PROGRAMME_TYPE_SHARES, n)
    return {
        "ids": np.arange(1, n + 1),
        "segment": segment,
        "region": region,
        "signup_offset": signup_offset,
        "signup": signup,
        "T": T,
        "L": L,
        "inclined": inclined,
        "ptype": ptype,
        "T_op": np.where(inclined, L + m * (T - L), T),
    }


def _draw_purchase_times(rng, base: dict, self_selection: float, regular_share: float) -> dict:
    """Purchase times on the operational clock: BG/NBD per segment x inclination, then the
    regular buyers' renewal process in place of the Poisson one.

    Returns each customer's ``lam``, ``p_drop``, ``alive_op`` (alive at ``T_op``) and
    ``regular``, and the purchases sorted by customer and time: ``row`` (customer position),
    ``s`` (operational time) and ``last_s`` (each customer's last).
    """
    segment, inclined, T_op = base["segment"], base["inclined"], base["T_op"]
    n = len(segment)
    lam = np.empty(n)
    p_drop = np.empty(n)
    alive_op = np.empty(n, bool)
    parts = []
    for seg in SEGMENTS:
        par = PURCHASE_PARAMS[seg]
        for incl in (False, True):
            rows = np.flatnonzero((segment == seg) & (inclined == incl))
            if len(rows) == 0:
                continue
            alpha = par["alpha"] / (self_selection if incl else 1.0)
            summ, tx = simulate_bgnbd(
                len(rows),
                par["r"],
                alpha,
                par["a"],
                par["b"],
                T_op[rows],
                seed=rng,
                return_transactions=True,
            )
            lam[rows] = summ["lambda_"].to_numpy()
            p_drop[rows] = summ["p_"].to_numpy()
            alive_op[rows] = summ["alive"].to_numpy()
            parts.append(pd.DataFrame({"row": rows[tx["customer_id"].to_numpy()], "s": tx["t"]}))
    # Regular buyers (only drawn when asked for, so the default stream is unchanged): the same
    # lambda and p, but near-periodic gaps in place of the Poisson ones.
    regular = np.zeros(n, bool)
    if regular_share > 0:
        regular = rng.random(n) < regular_share
        rows = np.flatnonzero(regular)
        reg_row, reg_s, reg_alive = _renewal_events(
            rng, lam[rows], p_drop[rows], T_op[rows], REGULAR_GAP_SHAPE
        )
        alive_op[rows] = reg_alive
        parts = [part[~regular[part["row"].to_numpy()]] for part in parts]
        parts.append(pd.DataFrame({"row": rows[reg_row], "s": reg_s}))
    events = pd.concat(parts, ignore_index=True).sort_values(["row", "s"], kind="stable")
    row = events["row"].to_numpy()
    s = events["s"].to_numpy()
    return {
        "lam": lam,
        "p_drop": p_drop,
        "alive_op": alive_op,
        "regular": regular,
        "row": row,
        "s": s,
        "last_s": pd.Series(s).groupby(row).max().reindex(range(n)).to_numpy(),
    }


def _join_programme(base: dict, bought: dict, m: float) -> dict:
    """Who joins, when, and each purchase's real time (no random draws).

    Those inclined join at their first purchase at or after the opening (operational = real
    time before joining); after joining, operational time runs ``m`` times faster. Returns
    ``member``, ``tau`` (join time, inf for non-members), ``tau0`` (0 for non-members),
    ``keep`` (purchases observed by ``end``), ``t_real`` (each purchase's real time),
    ``cf_post`` and ``actual_post`` (post-join purchases without and with the programme) and
    ``alive`` (at ``end``).
    """
    T, L, inclined = base["T"], base["L"], base["inclined"]
    row, s = bought["row"], bought["s"]
    eligible = inclined[row] & (s >= L[row]) & (s <= T[row])
    tau = np.full(len(T), np.inf)
    first = pd.Series(s[eligible]).groupby(row[eligible]).min()
    tau[first.index.to_numpy()] = first.to_numpy()
    member = np.isfinite(tau)
    tau0 = np.where(member, tau, 0.0)
    s_end = np.where(member, tau0 + m * (T - tau0), T)
    keep = s <= s_end[row]
    post = member[row] & (s > tau0[row])
    return {
        "member": member,
        "tau": tau,
        "tau0": tau0,
        "keep": keep,
        "t_real": np.where(post, tau0[row] + (s - tau0[row]) / m, s),
        # Counterfactual without the programme: the same draw read on the unchanged clock.
        "cf_post": post & (s <= T[row]),
        "actual_post": post & keep,
        "alive": bought["alive_op"] | (bought["last_s"] > s_end),
    }


def _draw_transactions(
    rng, base: dict, row_k, day, n_purchases, return_share: float, start, n_days: int
) -> tuple[pd.DataFrame, int]:
    """Spend (Gamma-Gamma per segment), quantities and returns of the observed purchases.

    Returns the transaction table and the number of returns inside the window.
    """
    segment, ids = base["segment"], base["ids"]
    amount = np.empty(len(row_k))
    for seg in SEGMENTS:
        rows = np.flatnonzero(segment == seg)
        if len(rows) == 0:
            continue
        par = SPEND_PARAMS[seg]
        _, gg = simulate_gamma_gamma(
            n_purchases[rows] - 1, par["p"], par["q"], par["v"], seed=rng, return_transactions=True
        )
        sel = np.isin(row_k, rows)  # row_k is sorted by customer, like gg
        amount[sel] = gg["amount"].to_numpy()
    amount = np.maximum(np.round(amount, 2), 0.01)
    price = np.array([ITEM_PRICE[g] for g in segment])[row_k]
    quantity = 1 + rng.poisson(np.maximum(amount / price - 1.0, 0.0))

    returned = rng.random(len(row_k)) < return_share
    r_day = day[returned] + 7 + rng.poisson(7.0, size=int(returned.sum()))
    in_window = r_day <= n_days
    r_rows = np.flatnonzero(returned)[in_window]
    tx = pd.DataFrame(
        {
            "customer_id": np.r_[ids[row_k], ids[row_k[r_rows]]],
            "day": np.r_[day, r_day[in_window]],
            "kind": np.r_[np.zeros(len(day), int), np.ones(len(r_rows), int)],
            "quantity": np.r_[quantity, -quantity[r_rows]].astype(np.int64),
            "amount": np.r_[amount, -amount[r_rows]],
        }
    ).sort_values(["customer_id", "day", "kind"], kind="stable")
    transactions = pd.DataFrame(
        {
            "transaction_id": np.arange(1, len(tx) + 1, dtype=np.int64),
            "customer_id": tx["customer_id"].to_numpy(np.int64),
            "date": (start + pd.to_timedelta(tx["day"].to_numpy(), unit="D")).astype(
                "datetime64[ns]"
            ),
            "quantity": tx["quantity"].to_numpy(np.int64),
            "amount": tx["amount"].to_numpy(float),
        }
    )
    return transactions, len(r_rows)


def _draw_reasons(rng, segment, defected, reason_mix: dict) -> np.ndarray:
    """One defection reason per defector, from their segment's mix (None for the others)."""
    reason = np.full(len(segment), None, dtype=object)
    for seg in SEGMENTS:
        rows = np.flatnonzero(defected & (segment == seg))
        reason[rows] = _choice(rng, REASONS, reason_mix[seg], len(rows))
    return reason


def _customers_table(base: dict, joined: dict, defected, defection_offset, start) -> pd.DataFrame:
    member = joined["member"]
    join_offset = base["signup_offset"] + np.floor(joined["tau0"] * _PERIOD).astype(np.int64)
    return pd.DataFrame(
        {
            "customer_id": base["ids"].astype(np.int64),
            "signup_date": base["signup"].astype("datetime64[ns]"),
            "segment": _text(base["segment"]),
            "region": _text(base["region"]),
            "programme_member": member,
            "programme_type": _text(base["ptype"], keep=member),
            "programme_join_date": _dates(start, join_offset, member),
            "defected": defected,
            "defection_date": _dates(start, defection_offset, defected),
        }
    )


def _draw_complaints(
    rng, base: dict, defected, defection_offset, reason, complaint_rate: float, start, n_days
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Unhappy customers, those who complain, and the complaint table.

    Returns the complaints and, per customer, whether they are unhappy, complain, and have a
    complaint left unresolved.
    """
    n, ids, signup_offset = len(defected), base["ids"], base["signup_offset"]
    unhappy = (defected & np.isin(reason, REASONS[:2])) | (
        ~defected & (rng.random(n) < UNHAPPY_STAYER_SHARE)
    )
    complains = unhappy & (rng.random(n) < complaint_rate)
    c_rows = np.flatnonzero(complains)
    c_def = defected[c_rows]
    before = rng.integers(0, 91, size=len(c_rows))
    anywhere = signup_offset[c_rows] + np.floor(
        rng.random(len(c_rows)) * (n_days - signup_offset[c_rows] + 1)
    ).astype(np.int64)
    c_day = np.where(
        c_def, np.maximum(defection_offset[c_rows] - before, signup_offset[c_rows]), anywhere
    )
    tp_table = {
        "staff_indifference": {"sales": 0.4, "support": 0.6, "delivery": 0.0},
        "product_dissatisfaction": {"sales": 0.3, "support": 0.0, "delivery": 0.7},
        "stayed": {"sales": 1 / 3, "support": 1 / 3, "delivery": 1 / 3},
    }
    c_key = np.where(c_def, reason[c_rows], "stayed").astype(object)
    c_tp = _draw_from(
        rng, {k: {t: v for t, v in d.items() if v > 0} for k, d in tp_table.items()}, c_key
    )
    resolved = rng.random(len(c_rows)) < np.where(
        c_def, RESOLVED_PROBABILITY["defected"], RESOLVED_PROBABILITY["stayed"]
    )
    days_to_resolve = np.where(resolved, np.ceil(rng.gamma(2.0, 2.5, size=len(c_rows))), np.nan)
    complaints = pd.DataFrame(
        {
            "customer_id": ids[c_rows].astype(np.int64),
            "date": (start + pd.to_timedelta(c_day, unit="D")).astype("datetime64[ns]"),
            "channel": _text(_choice(rng, CHANNELS, CHANNEL_SHARES, len(c_rows))),
            "touch_point": _text(c_tp),
            "resolved": resolved,
            "days_to_resolve": days_to_resolve,
        }
    )
    complaints = complaints.sort_values(["date", "customer_id"], kind="stable")
    complaints.insert(0, "complaint_id", np.arange(1, len(complaints) + 1, dtype=np.int64))
    unresolved = np.zeros(n, bool)
    unresolved[c_rows[~resolved]] = True
    return complaints.reset_index(drop=True), unhappy, complains, unresolved


def _draw_exit_survey(
    rng, base: dict, defected, defection_offset, reason, unresolved_complainer, start, n_days
) -> tuple[pd.DataFrame, np.ndarray]:
    """The exit survey of defectors surveyed before ``end`` who answer; and their positions."""
    n, ids = len(defected), base["ids"]
    delay = rng.integers(EXIT_DELAY_DAYS[0], EXIT_DELAY_DAYS[1] + 1, size=n)
    responds = rng.random(n) < EXIT_RESPONSE_RATE
    e_rows = np.flatnonzero(defected & (defection_offset + delay <= n_days) & responds)
    e_reason = reason[e_rows]
    answer = _draw_from(rng, EXIT_ANSWERS, e_reason)
    answer[(e_reason == "staff_indifference") & unresolved_complainer[e_rows]] = (
        "unresolved_complaint"
    )
    off = rng.random(len(e_rows)) < EXIT_OFF_LIST_SHARE
    answer[off] = _choice(rng, tuple(OFF_LIST_ANSWERS), OFF_LIST_ANSWERS, int(off.sum()))
    key = np.where(np.isin(answer, tuple(_ANSWER_COMMENTS)), answer, "generic").astype(object)
    with_reason = (answer == "other") & (rng.random(len(e_rows)) < OTHER_WITH_REASON)
    key[with_reason] = "reason:" + e_reason[with_reason].astype(str)
    comment_table = {
        **_ANSWER_COMMENTS,
        "generic": _GENERIC_COMMENTS,
        **{f"reason:{r}": c for r, c in _REASON_COMMENTS.items()},
    }
    comment = _pick(rng, key.astype(str), comment_table)
    exit_survey = pd.DataFrame(
        {
            "customer_id": ids[e_rows].astype(np.int64),
            "date": (
                start + pd.to_timedelta(defection_offset[e_rows] + delay[e_rows], unit="D")
            ).astype("datetime64[ns]"),
            "answer": _text(answer),
            "comment": _text(comment),
        }
    )
    return exit_survey, e_rows


def _draw_nps(rng, base: dict, p_drop, n_purchases, day, start) -> pd.DataFrame:
    """NPS answers per touch point, at a random purchase of each respondent, with scores tied
    to the dropout probability by the Gaussian copula (see the module docstring)."""
    segment, ids = base["segment"], base["ids"]
    n = len(segment)
    a_par = np.array([PURCHASE_PARAMS[g]["a"] for g in segment])
    b_par = np.array([PURCHASE_PARAMS[g]["b"] for g in segment])
    z_drop = special.ndtri(np.clip(special.betainc(a_par, b_par, p_drop), 1e-12, 1 - 1e-12))
    purchase_start = np.r_[0, np.cumsum(n_purchases)[:-1]]
    nps_parts = []
    for tp in TOUCH_POINTS:
        rows = np.flatnonzero(rng.random(n) < NPS_RESPONSE_RATE[tp])
        which = np.floor(rng.random(len(rows)) * n_purchases[rows]).astype(np.int64)
        eps = rng.standard_normal(len(rows))
        rho = NPS_DROPOUT_CORRELATION
        u = special.ndtr(-rho * z_drop[rows] + np.sqrt(1 - rho**2) * eps)
        score = np.empty(len(rows), np.int64)
        for seg in SEGMENTS:
            sel = segment[rows] == seg
            cdf = np.cumsum(_score_distribution(*NPS_BANDS[seg][tp]))
            score[sel] = np.minimum(np.searchsorted(cdf, u[sel], side="right"), 10)
        band = _band(score)
        nps_parts.append(
            pd.DataFrame(
                {
                    "customer_id": ids[rows].astype(np.int64),
                    "day": day[purchase_start[rows] + which],
                    "touch_point": tp,
                    "score": score,
                    "comment": _pick(
                        rng, band, {b: _NPS_COMMENTS[(b, tp)] for b, _ in _NPS_COMMENTS}
                    ),
                }
            )
        )
    nps_raw = pd.concat(nps_parts, ignore_index=True).sort_values(
        ["day", "customer_id", "touch_point"], kind="stable"
    )
    return pd.DataFrame(
        {
            "response_id": np.arange(1, len(nps_raw) + 1, dtype=np.int64),
            "customer_id": nps_raw["customer_id"].to_numpy(np.int64),
            "date": (start + pd.to_timedelta(nps_raw["day"].to_numpy(), unit="D")).astype(
                "datetime64[ns]"
            ),
            "touch_point": _text(nps_raw["touch_point"].to_numpy(object)),
            "score": nps_raw["score"].to_numpy(np.int64),
            "comment": _text(nps_raw["comment"].to_numpy(object)),
        }
    )


def _renewal_events(
    rng: np.random.Generator, lam: np.ndarray, p: np.ndarray, T: np.ndarray, shape: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BG/NBD-style buyers with Gamma(shape, rate shape * lam) gaps instead of exponential ones.

    The first purchase is at 0; after each repeat purchase the customer drops out with
    probability ``p``; purchases after ``T`` are not observed. Returns the customer position
    and time of every purchase, and whether each customer is still alive. The loop runs over
    purchase numbers, vectorised across customers.
    """
    n = len(lam)
    rows, times = [np.arange(n)], [np.zeros(n)]
    t = np.zeros(n)
    waiting = np.ones(n, bool)  # alive and not yet past T
    alive = np.ones(n, bool)
    while waiting.any():
        idx = np.flatnonzero(waiting)
        t_next = t[idx] + rng.gamma(shape, 1.0 / (shape * lam[idx]))
        seen = t_next <= T[idx]
        waiting[idx[~seen]] = False
        idx = idx[seen]
        t[idx] = t_next[seen]
        rows.append(idx)
        times.append(t[idx])
        drop = rng.random(len(idx)) < p[idx]
        alive[idx[drop]] = False
        waiting[idx[drop]] = False
    return np.concatenate(rows), np.concatenate(times), alive


def _dates(start: pd.Timestamp, offsets: np.ndarray, mask: np.ndarray) -> pd.Series:
    dates = start + pd.to_timedelta(np.where(mask, offsets, 0), unit="D")
    return pd.Series(dates, dtype="datetime64[ns]").where(mask)


def _r(x: float) -> float:
    return round(float(x), 6)


def _mean(x: np.ndarray) -> float | None:
    """Rounded mean, or None (JSON null) for an empty selection."""
    return _r(np.mean(x)) if len(x) else None


def _truth(**k) -> dict:
    segment, member, lam, defected, reason = (
        k["segment"],
        k["member"],
        k["lam"],
        k["defected"],
        k["reason"],
    )
    n_def = int(defected.sum())
    def_seg = {g: int((defected & (segment == g)).sum()) for g in SEGMENTS}
    mix = k["reason_mix"]
    expected_mix = {
        r: _r(sum(def_seg[g] * mix[g][r] for g in SEGMENTS) / max(n_def, 1)) for r in REASONS
    }
    e_seg = segment[k["e_rows"]]
    expected_mix_resp = {
        r: _r(sum((e_seg == g).sum() * mix[g][r] for g in SEGMENTS) / max(len(e_seg), 1))
        for r in REASONS
    }
    counts = {r: int((reason == r).sum()) for r in REASONS}
    counts_resp = {r: int((reason[k["e_rows"]] == r).sum()) for r in REASONS}
    actual_post, cf_post = k["actual_post"], k["cf_post"]
    actual = int(actual_post.sum())
    cf = int(cf_post.sum())
    nps_planted = {
        g: {tp: _r(100 * (NPS_BANDS[g][tp][1] - NPS_BANDS[g][tp][0])) for tp in TOUCH_POINTS}
        for g in SEGMENTS
    }
    nps = k["nps"].merge(k["customers"][["customer_id", "defected"]], on="customer_id")
    band = _band(nps["score"].to_numpy())
    defection_by_band = {
        b: _mean(nps["defected"].to_numpy()[band == b])
        for b in ("detractor", "passive", "promoter")
    }
    n_unhappy = int(k["unhappy"].sum())
    regular = k["regular"]
    return {
        "synthetic": True,
        "seed": int(k["seed"]) if isinstance(k["seed"], (int, np.integer)) else None,
        "n_customers": k["n"],
        "start": str(k["start"].date()),
        "end": str(k["end"].date()),
        "time_unit": TIME_UNIT,
        "segment_shares": SEGMENT_SHARES,
        "region_shares": REGION_SHARES,
        "purchase_params": PURCHASE_PARAMS,
        "spend_params": SPEND_PARAMS,
        "mean_spend_per_purchase": {
            g: _r(p["p"] * p["v"] / (p["q"] - 1)) for g, p in SPEND_PARAMS.items()
        },
        "regular": {
            "share": _r(k["regular_share"]),
            "gap_shape": REGULAR_GAP_SHAPE,
            "gap_cv": _r(1 / np.sqrt(REGULAR_GAP_SHAPE)),
            "customer_ids": [int(i) for i in k["ids"][regular]],
        },
        "returns": {
            "share": k["return_share"],
            "n_purchases": k["n_purchases"],
            "n_returns_in_window": k["n_returns"],
        },
        "programme": {
            "start": str(k["launch"].date()),
            "join_probability": JOIN_PROBABILITY,
            "type_shares": PROGRAMME_TYPE_SHARES,
            "self_selection_rate_ratio": _r(k["self_selection"]),
            "purchase_rate_multiplier": _r(k["m"]),
            "purchase_rate_multiplier_by_type": {t: _r(k["m"]) for t in PROGRAMME_TYPES},
            "naive_rate_ratio_expected": _r(k["self_selection"] * k["m"]),
            "realised": {
                "n_members": int(member.sum()),
                "n_inclined_not_joined": int((k["inclined"] & ~member).sum()),
                "mean_lambda_members": _mean(lam[member]),
                "mean_lambda_non_members": _mean(lam[~member]),
                "post_join_purchases": actual,
                "post_join_purchases_without_programme": cf,
                "post_join_purchase_ratio": _r(actual / max(cf, 1)),
            },
        },
        "nps": {
            "planted": nps_planted,
            "band_shares": {
                g: {tp: {"detractor": d, "promoter": p_} for tp, (d, p_) in NPS_BANDS[g].items()}
                for g, _ in NPS_BANDS.items()
            },
            "response_rate": NPS_RESPONSE_RATE,
            "dropout_correlation": NPS_DROPOUT_CORRELATION,
            "realised_defection_rate_by_band": defection_by_band,
        },
        "complaints": {
            "complaint_rate": k["complaint_rate"],
            "unhappy_stayer_share": UNHAPPY_STAYER_SHARE,
            "resolved_probability": RESOLVED_PROBABILITY,
            "n_unhappy": n_unhappy,
            "n_complainants": int(k["complains"].sum()),
            "realised_complaint_rate": _r(k["complains"].sum() / max(n_unhappy, 1)),
        },
        "defection": {
            "benchmark": {
                "staff_indifference": 0.68,
                "product_dissatisfaction": 0.14,
                "competition": 0.10,
                "other_relationships": 0.05,
                "no_reason": 0.03,
            },
            "reason_mix_by_segment": mix,
            "reason_mix": expected_mix,
            "reason_mix_respondents": expected_mix_resp,
            "n_defected": n_def,
            "n_defected_by_segment": def_seg,
            "reason_counts": counts,
            "reason_counts_respondents": counts_resp,
            "exit_survey": {
                "response_rate": EXIT_RESPONSE_RATE,
                "off_list_share": EXIT_OFF_LIST_SHARE,
                "off_list_answers": OFF_LIST_ANSWERS,
                "other_with_reason": OTHER_WITH_REASON,
                "delay_days": list(EXIT_DELAY_DAYS),
                "n_respondents": int(len(k["e_rows"])),
            },
        },
    }


# --- the bundled sample ----------------------------------------------------------------------

_DATE_COLUMNS = {
    "customers": ["signup_date", "programme_join_date", "defection_date"],
    "transactions": ["date"],
    "nps": ["date"],
    "complaints": ["date"],
    "exit_survey": ["date"],
}
_STR_COLUMNS = {
    "customers": ["segment", "region", "programme_type"],
    "nps": ["touch_point", "comment"],
    "complaints": ["channel", "touch_point"],
    "exit_survey": ["answer", "comment"],
}
_BOOL_COLUMNS = {"customers": ["programme_member", "defected"], "complaints": ["resolved"]}


def _text(values, keep=None):
    """A text column that reads back from CSV unchanged under pandas 2 and 3.

    pandas 3 stores it as its ``str`` dtype, pandas 2 as ``object``; entries where ``keep`` is
    False are missing (NaN), written to CSV as an empty field. (``pd.array(..., dtype="str")``
    would turn a None into the text "None" under pandas 2.)
    """
    column = pd.Series(np.asarray(values, dtype=object), dtype="str")
    if keep is not None:
        column = column.where(np.asarray(keep, dtype=bool))
    return column.array


def write_retail(data: RetailData, directory: str | Path) -> list[Path]:
    """Write each table as ``<name>.csv`` and the truth as ``truth.json``; return the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in RetailData.TABLES:
        path = directory / f"{name}.csv"
        getattr(data, name).to_csv(path, index=False, date_format="%Y-%m-%d", lineterminator="\n")
        paths.append(path)
    path = directory / "truth.json"
    path.write_text(json.dumps(data.truth, indent=2, sort_keys=True) + "\n")
    paths.append(path)
    return paths


def read_retail(directory: str | Path) -> RetailData:
    """Read tables written by :func:`write_retail` with their dtypes (dates, bools, ints)."""
    directory = Path(directory)
    tables = {}
    for name in RetailData.TABLES:
        frame = pd.read_csv(
            directory / f"{name}.csv",
            keep_default_na=False,
            na_values={
                c: [""] for c in _DATE_COLUMNS[name] + ["programme_type", "days_to_resolve"]
            },
            dtype={c: "str" for c in _STR_COLUMNS.get(name, [])},
        )
        for column in _DATE_COLUMNS[name]:
            frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d").astype(
                "datetime64[ns]"
            )
        for column in _BOOL_COLUMNS.get(name, []):
            values = frame[column].astype(str)
            if not values.isin(["True", "False"]).all():
                raise ValueError(f"{name}.csv column '{column}': values other than True/False")
            frame[column] = values == "True"
        tables[name] = frame
    truth = json.loads((directory / "truth.json").read_text())
    return RetailData(truth=truth, **tables)


def load_retail_sample() -> RetailData:
    """Load the bundled SYNTHETIC retailer (``data/retail_sample/``; see its README).

    It is ``simulate_retailer(SAMPLE_N_CUSTOMERS, SAMPLE_SEED)`` written to CSV.

    Examples
    --------
    >>> data = load_retail_sample()
    >>> len(data.customers), data.truth["synthetic"]
    (4000, True)
    >>> data.customers.dtypes[["signup_date", "programme_member"]].astype(str).tolist()
    ['datetime64[ns]', 'bool']
    """
    return read_retail(data_path(SAMPLE_DIR))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the SYNTHETIC retail sample as CSV.")
    parser.add_argument("--write", required=True, help="output folder, e.g. data/retail_sample")
    parser.add_argument("--n", type=int, default=SAMPLE_N_CUSTOMERS, help="number of customers")
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED, help="random seed")
    args = parser.parse_args(argv)
    for path in write_retail(simulate_retailer(args.n, args.seed), args.write):
        print(path)


if __name__ == "__main__":
    main()
