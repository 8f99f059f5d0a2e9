"""Simulators of the purchase and spend processes.

Purchases: BG/NBD, MBG/NBD and Pareto/NBD in continuous time, BG/BB at discrete
opportunities; spend: Gamma-Gamma. They draw customers from exactly the processes the models
assume, so tests can check that a fit recovers the parameters that were planted, and
benchmarks can build large inputs.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284. (assumptions i-v)

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value curves for
customer base analysis. *Journal of Marketing Research* 42(4), 415-430. (spend model)

Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your customers: who are
they and what will they do next? *Management Science* 33(1), 1-24. (Pareto/NBD)

Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). Empirical validation and comparison of
models for customer base analysis. *International Journal of Research in Marketing* 24(3),
201-209. (MBG/NBD)

Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). Customer-base analysis in a discrete-time
noncontractual setting. *Marketing Science* 29(6), 1086-1108. (BG/BB)
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _positive(name: str, value: float) -> None:
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def simulate_bgnbd(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T,
    seed=None,
    *,
    return_transactions: bool = False,
):
    """Simulate ``n`` customers from the BG/NBD process.

    Each customer has a purchase rate ``lambda ~ Gamma(shape=r, rate=alpha)`` and a dropout
    probability ``p ~ Beta(a, b)``. While alive, repeat purchases follow a Poisson process with
    rate ``lambda``; right after each repeat purchase the customer drops out with probability
    ``p`` (FHL 2005, assumptions i-v). Everyone is born with a first purchase at time 0 and is
    observed until age ``T``.

    Parameters
    ----------
    n : int
        Number of customers.
    r, alpha, a, b : float
        BG/NBD parameters.
    T : float or array of length n
        Each customer's age at the end of observation, in periods.
    seed : int, Generator or None
    return_transactions : bool
        Also return every purchase time.

    Returns
    -------
    DataFrame, or (DataFrame, DataFrame)
        Summary indexed by ``customer_id`` (0 to n-1): ``frequency``, ``recency``, ``T`` and
        the latent truth ``lambda_``, ``p_`` and ``alive`` (still active at ``T``). With
        ``return_transactions``, also a frame of ``customer_id`` and ``t`` (periods since the
        first purchase; the first purchase is the row with ``t == 0``), sorted by customer
        then time.

    Examples
    --------
    >>> sim = simulate_bgnbd(1000, r=0.24, alpha=4.4, a=0.79, b=2.4, T=39, seed=1)
    >>> list(sim.columns)
    ['frequency', 'recency', 'T', 'lambda_', 'p_', 'alive']
    >>> bool((sim["recency"] <= sim["T"]).all())
    True
    """
    for name, value in {"r": r, "alpha": alpha, "a": a, "b": b}.items():
        _positive(name, value)
    n = int(n)
    if n <= 0:
        raise ValueError(f"n must be a positive integer, got {n}")
    T = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    if not np.all(np.isfinite(T)) or (T <= 0).any():
        raise ValueError("T must be positive and finite for every customer")
    rng = _rng(seed)
    lam = rng.gamma(shape=r, scale=1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    # Repeat purchases the customer makes before dropping out (shifted geometric, >= 1).
    k_max = rng.geometric(np.clip(p, 1e-300, 1.0))
    # Purchases of a never-dying customer in (0, T]; the observed count stops at dropout.
    n_events = rng.poisson(lam * T)
    x = np.minimum(n_events, k_max)
    alive = n_events < k_max
    # Given N events on (0, T], their times are N sorted uniforms. The x-th order statistic is
    # T * Beta(x, N + 1 - x); for the transactions we draw the first x spacings explicitly.
    out_index = pd.RangeIndex(n, name="customer_id")
    if not return_transactions:
        has = x > 0
        recency = np.zeros(n)
        recency[has] = T[has] * rng.beta(x[has], n_events[has] + 1 - x[has])
        return _summary(x, recency, T, lam, p, alive, out_index)
    # Exponential spacings: U_(k) = S_k / S_{N+1}, S_{N+1} = S_x + Gamma(N + 1 - x).
    total = int(x.sum())
    owner = np.repeat(np.arange(n), x)
    spacing = rng.exponential(size=total)
    csum = np.cumsum(spacing)
    starts = np.r_[0, np.cumsum(x)[:-1]]
    offset = np.r_[0.0, csum][starts]
    s_k = csum - np.repeat(offset, x)
    s_x = np.zeros(n)
    has = x > 0
    s_x[has] = s_k[np.cumsum(x)[has] - 1]
    rest = rng.gamma(shape=n_events + 1 - x)
    times = s_k / np.repeat(s_x + rest, x) * np.repeat(T, x)
    recency = np.zeros(n)
    recency[has] = times[np.cumsum(x)[has] - 1]
    summary = _summary(x, recency, T, lam, p, alive, out_index)
    ids = np.concatenate([np.arange(n), owner])
    t = np.concatenate([np.zeros(n), times])
    order = np.lexsort((t, ids))
    transactions = pd.DataFrame({"customer_id": ids[order], "t": t[order]})
    return summary, transactions


def _summary(x, recency, T, lam, p, alive, index) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "frequency": x.astype(np.int64),
            "recency": recency,
            "T": T,
            "lambda_": lam,
            "p_": p,
            "alive": alive,
        },
        index=index,
    )


def simulate_gamma_gamma(
    frequency,
    p: float,
    q: float,
    v: float,
    seed=None,
    *,
    return_transactions: bool = False,
):
    """Simulate spend under the Gamma-Gamma model for customers with given repeat counts.

    Each customer has a spend scale ``nu ~ Gamma(shape=q, rate=v)``; each transaction's value is
    ``z ~ Gamma(shape=p, rate=nu)``, so the mean transaction value is ``p / nu`` (FHL 2005,
    JMR). ``monetary_value`` is the mean of the ``frequency`` repeat transactions, as in an
    RFM summary.

    Parameters
    ----------
    frequency : array-like or Series of int
        Repeat purchase counts; a Series lends its index to the result.
    p, q, v : float
        Gamma-Gamma parameters.
    seed : int, Generator or None
    return_transactions : bool
        Also return every transaction's value, the first purchase included.

    Returns
    -------
    DataFrame, or (DataFrame, DataFrame)
        ``frequency``, ``monetary_value`` (0 when frequency is 0) and the latent ``nu_``. With
        ``return_transactions``, also ``customer_id`` and ``amount`` with ``frequency + 1``
        rows per customer, the first being the first purchase.

    Examples
    --------
    >>> from churnlab.models import CDNOW_GAMMA_GAMMA_PUBLISHED  # the CDNOW estimates
    >>> sim = simulate_gamma_gamma([0, 1, 5], **CDNOW_GAMMA_GAMMA_PUBLISHED, seed=0)
    >>> sim["monetary_value"].iloc[0], bool((sim["monetary_value"].iloc[1:] > 0).all())
    (np.float64(0.0), True)
    """
    for name, value in {"p": p, "q": q, "v": v}.items():
        _positive(name, value)
    index = frequency.index if isinstance(frequency, pd.Series) else None
    x = np.asarray(frequency)
    if x.ndim != 1 or (x < 0).any() or (x != np.round(x)).any():
        raise ValueError("frequency must be a one-dimensional array of non-negative integers")
    x = x.astype(np.int64)
    n = len(x)
    if index is None:
        index = pd.RangeIndex(n, name="customer_id")
    rng = _rng(seed)
    nu = rng.gamma(shape=q, scale=1.0 / v, size=n)
    if not return_transactions:
        # The sum of x Gamma(p, nu) draws is Gamma(p * x, nu).
        has = x > 0
        monetary = np.zeros(n)
        monetary[has] = rng.gamma(shape=p * x[has], scale=1.0 / nu[has]) / x[has]
        return pd.DataFrame({"frequency": x, "monetary_value": monetary, "nu_": nu}, index=index)
    counts = x + 1
    amount = rng.gamma(shape=p, scale=np.repeat(1.0 / nu, counts))
    owner = np.repeat(np.arange(n), counts)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    repeat_total = np.bincount(owner, weights=amount, minlength=n) - amount[starts]
    monetary = np.where(x > 0, repeat_total / np.maximum(x, 1), 0.0)
    summary = pd.DataFrame({"frequency": x, "monetary_value": monetary, "nu_": nu}, index=index)
    transactions = pd.DataFrame({"customer_id": np.asarray(index)[owner], "amount": amount})
    return summary, transactions


def _check_n(n) -> int:
    n = int(n)
    if n <= 0:
        raise ValueError(f"n must be a positive integer, got {n}")
    return n


def _ages(T, n: int) -> np.ndarray:
    T = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    if not np.all(np.isfinite(T)) or (T <= 0).any():
        raise ValueError("T must be positive and finite for every customer")
    return T


def simulate_pareto_nbd(
    n: int, r: float, alpha: float, s: float, beta: float, T, seed=None
) -> pd.DataFrame:
    """Simulate ``n`` customers from the Pareto/NBD process (Schmittlein et al. 1987).

    Each customer has a purchase rate ``lambda ~ Gamma(shape=r, rate=alpha)`` and a dropout
    rate ``mu ~ Gamma(shape=s, rate=beta)``; their lifetime ``omega`` is exponential with rate
    ``mu``. While alive, repeat purchases follow a Poisson process with rate ``lambda``. Given
    ``x`` purchases in ``(0, min(omega, T)]``, their times are uniform there, so the last one
    is ``min(omega, T)`` times the largest of ``x`` uniforms (a ``Beta(x, 1)`` draw).

    Parameters
    ----------
    n : int
        Number of customers.
    r, alpha, s, beta : float
        Pareto/NBD parameters.
    T : float or array of length n
        Each customer's age at the end of observation, in periods.
    seed : int, Generator or None

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (0 to n-1): ``frequency``, ``recency``, ``T`` and the
        latent truth ``lambda_``, ``mu_`` and ``alive`` (lifetime beyond ``T``).

    Examples
    --------
    >>> from churnlab.models import CDNOW_PARETO_NBD_PUBLISHED
    >>> sim = simulate_pareto_nbd(1000, **CDNOW_PARETO_NBD_PUBLISHED, T=39, seed=1)
    >>> list(sim.columns)
    ['frequency', 'recency', 'T', 'lambda_', 'mu_', 'alive']
    >>> bool((sim["recency"] <= sim["T"]).all())
    True
    """
    for name, value in {"r": r, "alpha": alpha, "s": s, "beta": beta}.items():
        _positive(name, value)
    n = _check_n(n)
    T = _ages(T, n)
    rng = _rng(seed)
    lam = rng.gamma(shape=r, scale=1.0 / alpha, size=n)
    mu = rng.gamma(shape=s, scale=1.0 / beta, size=n)
    lifetime = rng.exponential(size=n) / np.maximum(mu, 1e-300)
    active = np.minimum(lifetime, T)
    x = rng.poisson(lam * active)
    recency = np.zeros(n)
    has = x > 0
    recency[has] = active[has] * rng.beta(x[has], 1.0)
    return pd.DataFrame(
        {
            "frequency": x.astype(np.int64),
            "recency": recency,
            "T": T,
            "lambda_": lam,
            "mu_": mu,
            "alive": lifetime > T,
        },
        index=pd.RangeIndex(n, name="customer_id"),
    )


def simulate_modified_bgnbd(
    n: int, r: float, alpha: float, a: float, b: float, T, seed=None
) -> pd.DataFrame:
    """Simulate ``n`` customers from the MBG/NBD process (Batislam et al. 2007).

    As :func:`simulate_bgnbd`, except that the customer may also drop out right after the
    first purchase: with ``p ~ Beta(a, b)``, the number of repeat purchases made before
    dropping out is geometric on 0, 1, 2, ... (``P(K = k) = (1-p)^k p``), so one-off buyers
    may be gone.

    Parameters
    ----------
    n : int
        Number of customers.
    r, alpha, a, b : float
        MBG/NBD parameters.
    T : float or array of length n
        Each customer's age at the end of observation, in periods.
    seed : int, Generator or None

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: ``frequency``, ``recency``, ``T`` and the latent truth
        ``lambda_``, ``p_`` and ``alive``.

    Examples
    --------
    >>> from churnlab.models import CDNOW_MBGNBD_PUBLISHED
    >>> sim = simulate_modified_bgnbd(1000, **CDNOW_MBGNBD_PUBLISHED, T=39, seed=1)
    >>> bool((~sim["alive"] & (sim["frequency"] == 0)).any())  # one-off buyers who left
    True
    """
    for name, value in {"r": r, "alpha": alpha, "a": a, "b": b}.items():
        _positive(name, value)
    n = _check_n(n)
    T = _ages(T, n)
    rng = _rng(seed)
    lam = rng.gamma(shape=r, scale=1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    k_max = rng.geometric(np.clip(p, 1e-300, 1.0)) - 1  # repeat purchases before dropout
    n_events = rng.poisson(lam * T)
    x = np.minimum(n_events, k_max)
    alive = n_events < k_max
    recency = np.zeros(n)
    has = x > 0
    # the x-th of N uniform event times on (0, T] is T * Beta(x, N + 1 - x)
    recency[has] = T[has] * rng.beta(x[has], n_events[has] + 1 - x[has])
    return _summary(x, recency, T, lam, p, alive, pd.RangeIndex(n, name="customer_id"))


def simulate_bgbb(
    n: int, alpha: float, beta: float, gamma: float, delta: float, n_periods, seed=None
) -> pd.DataFrame:
    """Simulate ``n`` customers from the BG/BB process (Fader, Hardie & Shang 2010).

    Each customer has a transaction probability ``p ~ Beta(alpha, beta)`` and a dropout
    probability ``theta ~ Beta(gamma, delta)``. At the start of each of the ``n_periods``
    opportunities an alive customer dies with probability ``theta``; if still alive, they
    transact with probability ``p``. The loop runs over opportunities, vectorised over
    customers.

    Parameters
    ----------
    n : int
        Number of customers.
    alpha, beta, gamma, delta : float
        BG/BB parameters.
    n_periods : int or array of length n
        Each customer's number of opportunities.
    seed : int, Generator or None

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: ``frequency`` (opportunities with a transaction),
        ``recency`` (the last such opportunity, 0 if none), ``n_periods``, and the latent
        ``p_``, ``theta_`` and ``alive`` (still alive after the last opportunity).

    Examples
    --------
    >>> from churnlab.models import DONATIONS_BGBB_PUBLISHED
    >>> sim = simulate_bgbb(1000, **DONATIONS_BGBB_PUBLISHED, n_periods=6, seed=1)
    >>> bool((sim["recency"] >= sim["frequency"]).all() and (sim["recency"] <= 6).all())
    True
    """
    for name, value in {"alpha": alpha, "beta": beta, "gamma": gamma, "delta": delta}.items():
        _positive(name, value)
    n = _check_n(n)
    periods = np.broadcast_to(np.asarray(n_periods), (n,))
    if (periods < 0).any() or (periods != np.round(periods)).any():
        raise ValueError("n_periods must be a non-negative integer for every customer")
    periods = periods.astype(np.int64)
    rng = _rng(seed)
    p = rng.beta(alpha, beta, size=n)
    theta = rng.beta(gamma, delta, size=n)
    alive = np.ones(n, dtype=bool)
    x = np.zeros(n, dtype=np.int64)
    recency = np.zeros(n, dtype=np.int64)
    for t in range(1, int(periods.max()) + 1 if n else 1):
        open_ = periods >= t
        alive &= ~(open_ & (rng.random(n) < theta))
        buy = open_ & alive & (rng.random(n) < p)
        x += buy
        recency[buy] = t
    return pd.DataFrame(
        {
            "frequency": x,
            "recency": recency,
            "n_periods": periods,
            "p_": p,
            "theta_": theta,
            "alive": alive,
        },
        index=pd.RangeIndex(n, name="customer_id"),
    )
