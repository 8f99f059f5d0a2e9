"""Net Promoter Score: the score, its interval, its band, by group and over time.

The question is "how likely are you to recommend us, 0-10". Answers 0-6 are *detractors*,
7-8 *passives* and 9-10 *promoters* (Reichheld 2003), and

    NPS = 100 * (P - D) / n,

the percentage of promoters minus the percentage of detractors, from -100 to +100. Passives
count in ``n`` only. (A formula seen in practitioner material adds the passives to the
promoters, ``100 * (P + passives - D) / n``; that is wrong and is not used here.)

Interval
--------
With answers drawn independently, (P, passives, D) is multinomial and the variance of
``p_P - p_D`` is exactly ``(p_P + p_D - (p_P - p_D)**2) / n``. ``method="wald"`` plugs the
sample shares into it. ``method="adjusted-wald"`` (the default) first adds 3/4 to the
promoters, 3/4 to the detractors and 3/2 to the passives (3 pseudo-answers in all), which
Rocks (2016) found to give the most accurate coverage among six methods, including at small
``n`` and for scores near +-100. The interval is clipped to [-100, 100].

This module is re-exported by :mod:`churnlab.loyalty`.

References
----------
Reichheld, F. F. (2003). The one number you need to grow. Harvard Business Review 81(12).
Rocks, B. (2016). Interval estimation for the "net promoter score". The American
Statistician 70(4), 365-372.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from churnlab._validation import (
    as_float_array,
    check_level,
    check_numbers,
    fail,
    not_numbers,
    require_columns,
    require_dataframe,
    require_no_nan,
)
from churnlab.results import Result

#: Highest answer that counts as a detractor (0-6), Reichheld (2003).
DETRACTOR_MAX: int = 6
#: Lowest answer that counts as a promoter (9-10), Reichheld (2003).
PROMOTER_MIN: int = 9
#: The answer scale of the recommendation question.
SCORE_MIN, SCORE_MAX = 0, 10

#: NPS bands quoted in the project's source material (docs/domain.md, "Net Promoter Score"):
#: below 0 very weak; 0-30 average; 30-50 good; 50-70 ahead of competitors; 70+ market
#: leader. Each band holds its lower edge. Benchmarks differ by industry.
NPS_BAND_EDGES: tuple[float, ...] = (0.0, 30.0, 50.0, 70.0)
NPS_BAND_LABELS: tuple[str, ...] = (
    "very weak",
    "average",
    "good",
    "ahead of competitors",
    "market leader",
)

#: Pseudo-answers of the adjusted Wald interval (Rocks 2016): 3/4 promoter, 3/4 detractor,
#: 3/2 passive.
ADJUSTED_WALD_PSEUDO: dict[str, float] = {"promoters": 0.75, "detractors": 0.75, "passives": 1.5}

NPS_METHODS = ("adjusted-wald", "wald")

_COLUMNS = [
    "n",
    "promoters",
    "passives",
    "detractors",
    "nps",
    "std_err",
    "ci_lower",
    "ci_upper",
    "band",
]


def nps_band(value) -> str | np.ndarray:
    """Band of an NPS value (or array of values), after the bands in :data:`NPS_BAND_LABELS`.

    NPS values lie within [-100, 100]; anything else (text, booleans, NaN, a value off the
    scale) is a ValueError.

    >>> nps_band(-5), nps_band(0), nps_band(45), nps_band(70)
    ('very weak', 'average', 'good', 'market leader')
    """
    array = np.asarray(check_numbers(value, "value", low=-100, high=100), dtype=float)
    labels = np.asarray(NPS_BAND_LABELS, dtype=object)[
        np.searchsorted(NPS_BAND_EDGES, array, side="right")
    ]
    return str(labels) if array.ndim == 0 else labels


def check_scores(scores, name: str = "score") -> np.ndarray:
    """Integer answers 0-10 as an int array; a ValueError lists every invalid answer.

    Text (even ``"9"``) and booleans are refused, not converted.
    """
    if isinstance(scores, pd.Series):
        series = scores.rename(name)
    else:
        series = pd.Series(np.asarray(scores, dtype=object).reshape(-1), name=name)
    if len(series) == 0:
        raise ValueError(f"{name}: no answers; the NPS needs at least one")
    frame = series.to_frame()
    missing = series.isna().to_numpy()
    if missing.any():
        fail(name, "missing answers", frame, missing, "Drop unanswered questions first.")
    text = not_numbers(series)
    if text.any():
        fail(
            name,
            f"text or booleans instead of whole numbers from {SCORE_MIN} to {SCORE_MAX}",
            frame,
            text,
            "Convert answers stored as text with pd.to_numeric; booleans are not answers.",
        )
    values = as_float_array(series, name)
    bad = ~np.isfinite(values)
    bad |= np.where(bad, True, (values != np.round(values)) | (values < SCORE_MIN))
    bad |= np.where(np.isfinite(values), values > SCORE_MAX, True)
    if bad.any():
        fail(
            name,
            f"answers that are not whole numbers from {SCORE_MIN} to {SCORE_MAX}",
            frame,
            bad,
            "The recommendation question is answered on the 0-10 scale.",
        )
    return values.astype(np.int64)


def _nps_stats(promoters, passives, detractors, *, level: float, method: str) -> dict:
    """Vectorised NPS, standard error and interval from counts (see the module docstring)."""
    level = _check_options(level, method)
    P = np.asarray(promoters, dtype=float)
    N0 = np.asarray(passives, dtype=float)
    D = np.asarray(detractors, dtype=float)
    n = P + N0 + D
    score = 100.0 * (P - D) / n
    if method == "adjusted-wald":
        P_, D_ = P + ADJUSTED_WALD_PSEUDO["promoters"], D + ADJUSTED_WALD_PSEUDO["detractors"]
        n_ = n + sum(ADJUSTED_WALD_PSEUDO.values())
    else:
        P_, D_, n_ = P, D, n
    p_p, p_d = P_ / n_, D_ / n_
    centre = 100.0 * (p_p - p_d)
    std_err = 100.0 * np.sqrt(np.maximum(p_p + p_d - (p_p - p_d) ** 2, 0.0) / n_)
    z = stats.norm.ppf(0.5 + level / 2)
    return {
        "n": n.astype(np.int64),
        "promoters": P.astype(np.int64),
        "passives": N0.astype(np.int64),
        "detractors": D.astype(np.int64),
        "nps": score,
        "std_err": std_err,
        "ci_lower": np.clip(centre - z * std_err, -100.0, 100.0),
        "ci_upper": np.clip(centre + z * std_err, -100.0, 100.0),
    }


def _check_options(level, method) -> float:
    if method not in NPS_METHODS:
        raise ValueError(f"method={method!r} is not supported; use one of {NPS_METHODS}")
    return check_level(level)


@dataclass(frozen=True)
class NPSResult(Result):
    """Net Promoter Score of one set of answers with its interval and band.

    ``nps`` is in points (-100..100), from the raw counts; ``std_err``, ``ci_lower`` and
    ``ci_upper`` come from ``method`` at ``level`` (see :mod:`churnlab.nps`). With the default
    ``"adjusted-wald"`` the standard error is that of the adjusted estimate (3 pseudo-answers
    added), the one the interval is built on; ``method="wald"`` gives the plain multinomial
    standard error of the raw score.
    """

    nps: float
    n: int
    promoters: int
    passives: int
    detractors: int
    std_err: float
    ci_lower: float
    ci_upper: float
    band: str
    level: float = 0.95
    method: str = "adjusted-wald"

    @property
    def table(self) -> pd.DataFrame:
        """One-row DataFrame with the counts, the score, its interval and band."""
        return pd.DataFrame([{c: getattr(self, c) for c in _COLUMNS}], index=["all"])

    def _html_title(self) -> str:
        return (
            f"NPS {self.nps:+.1f} ({self.band}); {self.level:.0%} interval "
            f"[{self.ci_lower:+.1f}, {self.ci_upper:+.1f}], {self.method}, n = {self.n}"
        )


def nps(scores, *, level: float = 0.95, method: str = "adjusted-wald") -> NPSResult:
    """Net Promoter Score of 0-10 answers, with standard error, interval and band.

    Parameters
    ----------
    scores : array-like or Series of int
        Answers to "how likely are you to recommend us", whole numbers 0-10.
    level : float
        Confidence level of the interval.
    method : {'adjusted-wald', 'wald'}
        Interval method, see :mod:`churnlab.nps`.

    Returns
    -------
    NPSResult

    Raises
    ------
    ValueError
        Listing every answer that is missing, not a whole number or outside 0-10.

    Examples
    --------
    Five promoters, three passives and two detractors out of ten: NPS = 50% - 20% = 30.

    >>> r = nps([10, 9, 9, 10, 9, 7, 8, 7, 3, 6])
    >>> r.nps, r.promoters, r.passives, r.detractors, r.band
    (30.0, 5, 3, 2, 'good')

    Adjusted Wald by hand: 5.75 promoters and 2.75 detractors of 13, centre 100 x 3 / 13 =
    23.08, standard error 100 sqrt((8.5 / 13 - (3 / 13)^2) / 13) = 21.49, 23.08 -+ 1.96 x 21.49.

    >>> round(r.ci_lower, 1), round(r.ci_upper, 1)
    (-19.1, 65.2)
    """
    level = _check_options(level, method)
    values = check_scores(scores)
    P = int((values >= PROMOTER_MIN).sum())
    D = int((values <= DETRACTOR_MAX).sum())
    s = _nps_stats(P, len(values) - P - D, D, level=level, method=method)
    return NPSResult(
        nps=float(s["nps"]),
        n=int(s["n"]),
        promoters=P,
        passives=int(s["passives"]),
        detractors=D,
        std_err=float(s["std_err"]),
        ci_lower=float(s["ci_lower"]),
        ci_upper=float(s["ci_upper"]),
        band=nps_band(float(s["nps"])),
        level=level,
        method=method,
    )


def _nps_table(
    frame: pd.DataFrame, keys, score_col: str, *, level: float, method: str
) -> pd.DataFrame:
    values = check_scores(frame[score_col], score_col)
    kind = np.where(values >= PROMOTER_MIN, 2, np.where(values <= DETRACTOR_MAX, 0, 1))
    keys = [keys] if isinstance(keys, str) else list(keys)
    onehot = pd.DataFrame(
        {"detractors": kind == 0, "passives": kind == 1, "promoters": kind == 2},
        index=frame.index,
    ).astype(np.int64)
    for key in keys:
        onehot[key] = frame[key].to_numpy()
    counts = onehot.groupby(keys if len(keys) > 1 else keys[0], observed=True, sort=True).sum()
    s = _nps_stats(
        counts["promoters"], counts["passives"], counts["detractors"], level=level, method=method
    )
    out = pd.DataFrame(s, index=counts.index)
    out["band"] = nps_band(out["nps"].to_numpy())
    out = out[_COLUMNS]
    out.attrs.update(level=level, method=method)  # for charts that state the interval
    return out


def nps_by(
    responses: pd.DataFrame,
    by: str | list[str],
    *,
    score_col: str = "score",
    level: float = 0.95,
    method: str = "adjusted-wald",
) -> pd.DataFrame:
    """NPS with its interval for each group, e.g. each touch point or segment.

    Parameters
    ----------
    responses : DataFrame
        One row per answer, with ``score_col`` and the ``by`` column(s).
    by : str or list of str
        Grouping column(s). Measure each touch point (sales, support, delivery) separately.
    score_col : str
        Column of 0-10 answers.
    level, method
        As in :func:`nps`.

    Returns
    -------
    DataFrame
        Indexed by the group(s), columns ``n, promoters, passives, detractors, nps, std_err,
        ci_lower, ci_upper, band``; ``attrs`` record the interval's ``level`` and ``method``.

    Examples
    --------
    >>> answers = pd.DataFrame({"touch_point": ["sales"] * 4 + ["support"] * 3,
    ...                         "score": [10, 9, 8, 2, 6, 5, 9]})
    >>> nps_by(answers, "touch_point", method="wald")[["n", "nps", "band"]].round(1)
                 n   nps       band
    touch_point
    sales        4  25.0    average
    support      3 -33.3  very weak
    """
    level = _check_options(level, method)
    require_dataframe(responses, "responses")
    keys = [by] if isinstance(by, str) else list(by)
    require_columns(responses, [score_col, *keys], "responses")
    require_no_nan(responses, keys)
    return _nps_table(
        responses, keys if len(keys) > 1 else keys[0], score_col, level=level, method=method
    )


def nps_trend(
    responses: pd.DataFrame,
    freq: str = "QE",
    *,
    by: str | list[str] | None = None,
    date_col: str = "date",
    score_col: str = "score",
    level: float = 0.95,
    method: str = "adjusted-wald",
) -> pd.DataFrame:
    """NPS per calendar period (and group), with intervals, to follow it over time.

    Parameters
    ----------
    responses : DataFrame
        One row per answer with ``date_col`` and ``score_col``.
    freq : str
        A pandas period-end frequency: ``"QE"`` quarters, ``"ME"`` months, ``"YE"`` years.
    by : str or list of str, optional
        Extra grouping column(s), e.g. ``"touch_point"``.

    Returns
    -------
    DataFrame
        Indexed by the period's end date (named ``period``) and the ``by`` columns, with the
        columns of :func:`nps_by` and ``change``, the change in NPS since the group's
        previous period. Periods without answers are absent. ``attrs`` record ``level``,
        ``method`` and ``freq``.

    Examples
    --------
    >>> answers = pd.DataFrame({"date": ["2024-01-10", "2024-02-01", "2024-04-03", "2024-05-09"],
    ...                         "score": [10, 3, 9, 10]})
    >>> nps_trend(answers, "QE")[["n", "nps", "change"]]
                n    nps  change
    period
    2024-03-31  2    0.0     NaN
    2024-06-30  2  100.0   100.0
    """
    from churnlab._validation import parse_dates

    level = _check_options(level, method)
    require_dataframe(responses, "responses")
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    require_columns(responses, [date_col, score_col, *keys], "responses")
    require_no_nan(responses, keys)
    dates = parse_dates(responses, date_col)
    try:
        period = dates.dt.to_period(pd.tseries.frequencies.to_offset(freq)).dt.end_time
    except (ValueError, TypeError, AttributeError) as err:
        raise ValueError(
            f"freq={freq!r} is not a period frequency such as 'QE' or 'ME': {err}"
        ) from None
    frame = responses[[score_col, *keys]].copy()
    frame["period"] = period.dt.normalize().to_numpy()
    out = _nps_table(frame, ["period", *keys], score_col, level=level, method=method)
    if keys:
        out["change"] = out.groupby(level=keys, observed=True)["nps"].diff()
    else:
        out["change"] = out["nps"].diff()
    out.attrs["freq"] = freq
    return out
