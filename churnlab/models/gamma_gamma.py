"""The Gamma-Gamma model of the average spend per transaction.

Each transaction of a customer is worth ``z ~ Gamma(p, nu)`` (shape ``p``, rate ``nu``);
across customers ``nu ~ Gamma(q, v)`` (shape ``q``, rate ``v``). A customer's spend history is
summarised by ``x`` (number of repeat transactions, ``frequency``) and ``zbar`` (their mean
value, ``monetary_value``). The model assumes spend is independent of the purchase process;
:func:`spend_frequency_correlation` checks the usual symptom of a violation.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value curves for
customer base analysis. *Journal of Marketing Research* 42(4), 415-430.

Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
http://brucehardie.com/notes/025/

Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed.
(|rho| = 0.3 as a "medium" correlation).
"""

from __future__ import annotations

import html
import warnings
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln, stdtr

from churnlab._estimator import check_is_fitted
from churnlab._validation import as_float_array, fail
from churnlab.models._base import (
    LikelihoodModel,
    collapse_rows,
    read_columns,
    read_weights,
    wsum,
)

#: Correlation between frequency and average spend among repeat buyers above which the
#: independence assumption of the Gamma-Gamma model is called into question: Cohen's (1988)
#: "medium" effect size, the rule of thumb used in practice.
INDEPENDENCE_THRESHOLD = 0.3

#: Published Gamma-Gamma estimates on the 946 repeat buyers of the CDNOW sample (39
#: calibration weeks, dollars): Fader, Hardie & Lee (2005), JMR 42(4), and Fader & Hardie
#: (2013), note 025, p. 4.
CDNOW_GAMMA_GAMMA_PUBLISHED: dict[str, float] = {"p": 6.25, "q": 3.74, "v": 15.44}


@dataclass(frozen=True)
class SpendFrequencyCorrelation:
    """Correlation of frequency and average spend among repeat buyers.

    Pearson's r (on the values) and Spearman's rho (on the ranks, mid-ranks for ties), each
    with the two-sided p-value of the t test of zero correlation on ``n - 2`` degrees of
    freedom. ``material`` is True when either magnitude exceeds ``threshold``.
    """

    pearson: float
    pearson_pvalue: float
    spearman: float
    spearman_pvalue: float
    n: float
    threshold: float = INDEPENDENCE_THRESHOLD

    @property
    def material(self) -> bool:
        return bool(max(abs(self.pearson), abs(self.spearman)) > self.threshold)

    @property
    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "correlation": [self.pearson, self.spearman],
                "p_value": [self.pearson_pvalue, self.spearman_pvalue],
            },
            index=pd.Index(["pearson", "spearman"], name="method"),
        )

    def _repr_html_(self) -> str:
        verdict = "material" if self.material else "not material"
        return (
            f"<p><b>Frequency vs average spend</b> among {self.n:g} repeat buyers: "
            f"{html.escape(verdict)} (threshold |rho| &gt; {self.threshold:g})</p>"
            + self.table.to_html(float_format=lambda v: f"{v:.4g}")
        )


def _weighted_ranks(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mid-ranks of ``values`` when each row stands for ``weights`` observations."""
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    group_w = np.add.reduceat(w, starts)
    below = np.r_[0.0, np.cumsum(group_w)[:-1]]
    mid = below + (group_w + 1) / 2
    ranks = np.empty_like(values)
    ranks[order] = np.repeat(mid, np.diff(np.r_[starts, len(v)]))
    return ranks


def _weighted_pearson(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> float:
    mu, mv = wsum(w, u) / w.sum(), wsum(w, v) / w.sum()
    du, dv = u - mu, v - mv
    denom = np.sqrt(wsum(w, du**2) * wsum(w, dv**2))
    return float(np.clip(wsum(w, du * dv) / denom, -1, 1)) if denom > 0 else np.nan


def _t_test_pvalue(rho: float, n: float) -> float:
    if not np.isfinite(rho) or n <= 2:
        return np.nan
    if abs(rho) == 1:
        return 0.0
    t = rho * np.sqrt((n - 2) / (1 - rho**2))
    # Student's t survival function, as scipy.stats.t.sf computes it for finite t and n > 2
    return float(2 * stdtr(n - 2, -abs(t)))


def spend_frequency_correlation(
    frequency, monetary_value, *, weights=None
) -> SpendFrequencyCorrelation:
    """Pearson and Spearman correlation of frequency and average spend among repeat buyers.

    The Gamma-Gamma model assumes the average spend does not depend on how often a customer
    buys (Fader, Hardie & Lee 2005, JMR). Rows with frequency 0 carry no spend and are left
    out. With unit weights the numbers equal :func:`scipy.stats.pearsonr` and
    :func:`scipy.stats.spearmanr`.

    Parameters
    ----------
    frequency, monetary_value : array-like
        Repeat purchases and mean spend per repeat purchase.
    weights : array-like, optional
        Number of customers each row stands for.

    Examples
    --------
    >>> res = spend_frequency_correlation([1, 2, 3, 4], [10.0, 12.0, 11.0, 15.0])
    >>> round(res.pearson, 3), res.spearman, res.material
    (0.837, 0.8, True)
    """
    x = as_float_array(frequency, "frequency")
    m = as_float_array(monetary_value, "monetary_value")
    if len(x) != len(m):
        raise ValueError(f"frequency has {len(x)} values, monetary_value {len(m)}")
    w = read_weights(weights, len(x))
    keep = (x > 0) & (w > 0)
    x, m, w = x[keep], m[keep], w[keep]
    n = float(w.sum())
    pearson = _weighted_pearson(x, m, w) if len(x) > 1 else np.nan
    spearman = (
        _weighted_pearson(_weighted_ranks(x, w), _weighted_ranks(m, w), w) if len(x) > 1 else np.nan
    )
    return SpendFrequencyCorrelation(
        pearson=pearson,
        pearson_pvalue=_t_test_pvalue(pearson, n),
        spearman=spearman,
        spearman_pvalue=_t_test_pvalue(spearman, n),
        n=n,
    )


def _spend_columns(frequency, monetary_value):
    """Checked ``x`` and ``zbar`` arrays and the index of the input.

    Read like the purchase-model columns (:func:`churnlab.models._base.read_columns`); in
    addition ``zbar`` must be positive for repeat buyers and never negative.
    """
    columns, index = read_columns(
        GammaGamma._columns, frequency, {"monetary_value": monetary_value}
    )
    x, m = columns["frequency"], columns["monetary_value"]
    bad = (x > 0) & (m <= 0)
    if bad.any():
        fail(
            "monetary_value",
            "non-positive average spend of repeat buyers",
            _spend_frame(x, m, index),
            bad,
        )
    if (m < 0).any():
        fail("monetary_value", "negative average spend", _spend_frame(x, m, index), m < 0)
    return x, m, index


def _spend_frame(x: np.ndarray, m: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """The checked columns as a frame, to show offending rows in an error."""
    return pd.DataFrame({"frequency": x, "monetary_value": m}, index=index)


class GammaGamma(LikelihoodModel):
    """Gamma-Gamma model of average spend per transaction (Fader, Hardie & Lee 2005, JMR).

    Parameters
    ----------
    initial_params : dict, optional
        Starting values for ``p, q, v``; default ``p = q = 2`` and ``v`` matched to the mean
        spend.
    max_iter : int
        Maximum number of optimizer iterations.
    tol : float
        Convergence tolerance (see :class:`churnlab.models._base.LikelihoodModel`).

    Attributes
    ----------
    params_ : Series
        ``p, q, v`` (``v`` in money units).
    log_likelihood_ : float
        The full log-likelihood of the observed mean spends (the density of ``zbar``).
    independence_ : SpendFrequencyCorrelation
        Correlation of frequency and spend among the repeat buyers used in the fit.
    n_customers_, n_unique_, converged_, n_iter_, summary
        As for every model (see :class:`churnlab.models.BetaGeo`).

    Notes
    -----
    The mean spend per transaction ``p v / (q - 1)`` exists only when ``q > 1``. A fit with
    ``q <= 1`` (spend so heavy-tailed that a few huge values dominate) succeeds with a
    UserWarning, and :meth:`expected_spend` and :meth:`conditional_expected_spend` (hence
    :func:`churnlab.customer_lifetime_value`) then raise a ValueError naming ``q`` rather than
    return negative or infinite spend.

    A fit needs spend that varies: customers with different mean spends (at least two
    distinct ``(frequency, monetary_value)`` rows, and not one mean spend for everybody).

    Examples
    --------
    >>> from churnlab.datasets import load_cdnow_summary
    >>> data = load_cdnow_summary()
    >>> repeat = data[data["frequency"] > 0]
    >>> model = GammaGamma().fit(repeat)
    >>> model.params_.round(2).tolist()
    [6.25, 3.74, 15.44]
    """

    _param_names = ("p", "q", "v")
    _columns = ("frequency", "monetary_value")

    def fit(self, frequency, monetary_value=None, *, weights=None):
        """Fit by maximum likelihood on the repeat buyers.

        Rows with frequency 0 carry no spend information: they are left out with a
        UserWarning giving their count. A UserWarning also flags a material correlation
        between frequency and spend (see :data:`INDEPENDENCE_THRESHOLD`).

        Parameters
        ----------
        frequency : DataFrame or array-like
            An RFM DataFrame with ``frequency`` and ``monetary_value``, or the repeat counts.
        monetary_value : array-like, optional
            Mean spend per repeat transaction when ``frequency`` is not a DataFrame.
        weights : array-like, optional
            Number of customers each row stands for.

        Returns
        -------
        self
        """
        x, m, index = _spend_columns(frequency, monetary_value)
        w = read_weights(weights, len(x))
        repeat = x > 0
        n_zero = int((~repeat).sum())
        if not repeat.any():
            fail(
                "frequency",
                "no repeat buyers: frequency is 0",
                _spend_frame(x, m, index),
                ~repeat,
                "The Gamma-Gamma model is fitted on customers with at least one repeat purchase.",
            )
        if n_zero:
            warnings.warn(
                f"GammaGamma: {n_zero} row(s) with frequency 0 carry no spend information and "
                f"are left out of the fit ({int(repeat.sum())} repeat-buyer rows remain).",
                UserWarning,
                stacklevel=2,
            )
        # the repeat buyers collapsed to distinct (x, zbar) rows once, for the fit and for the
        # (weighted) independence check alike
        (x, m), w, _ = collapse_rows([x[repeat], m[repeat]], w[repeat])
        self._fit_columns({"frequency": x, "monetary_value": m}, w, collapsed=True)
        q = self.params_["q"]
        if q <= 1:
            warnings.warn(
                f"GammaGamma: q = {q:.4g} <= 1: under the fitted model the mean spend per "
                "transaction p v / (q - 1) does not exist (the spend is too heavy-tailed); "
                "expected spend and lifetime value will be refused. Check the largest "
                "spends (outliers, data errors) before relying on this model.",
                UserWarning,
                stacklevel=2,
            )
        self.independence_ = spend_frequency_correlation(x, m, weights=w)
        if self.independence_.material:
            res = self.independence_
            warnings.warn(
                f"GammaGamma: frequency and average spend are correlated among repeat buyers "
                f"(Pearson {res.pearson:.2f}, Spearman {res.spearman:.2f}; threshold "
                f"|rho| > {res.threshold:g}): the model's independence assumption is doubtful.",
                UserWarning,
                stacklevel=2,
            )
        return self

    _identification_hint = (
        "The Gamma-Gamma model needs repeat buyers whose mean spends differ, and enough of "
        "them to show how spend varies between and within customers."
    )

    def _check_identifiable(self, columns, weights) -> None:
        """At least two distinct spend histories, and not one mean spend for everybody."""
        x, zbar = columns["frequency"], columns["monetary_value"]
        n = float(weights.sum())
        if len(x) == 1:
            who = "1 repeat buyer" if n == 1 else f"all {n:g} repeat buyers share one history"
            raise ValueError(
                f"GammaGamma: {who} (frequency {x[0]:g}, monetary_value {zbar[0]:g}): the "
                "model's p, q and v describe how spend varies between customers, which one "
                "history cannot show. " + self._identification_hint
            )
        if np.all(zbar == zbar[0]):
            raise ValueError(
                f"GammaGamma: column 'monetary_value' is {zbar[0]:g} for all {n:g} repeat "
                "buyers: spend does not vary, so its spread between and within customers "
                "(p, q) cannot be estimated. " + self._identification_hint
            )

    # -- likelihood ----------------------------------------------------------------------
    def _prepare(self, columns, weights):
        x, zbar = columns["frequency"], columns["monetary_value"]
        x_values, pos = np.unique(x, return_inverse=True)
        return {
            "x": x,
            "zbar": zbar,
            "w": weights,
            "x_zbar": x * zbar,
            "wx": weights * x,
            "x_values": x_values,
            "w_by_x": np.bincount(pos, weights=weights, minlength=len(x_values)),
            "wx_by_x": np.bincount(pos, weights=weights * x, minlength=len(x_values)),
            # sum of w * x * (ln zbar + ln x) and of w * ln zbar: parameter-free parts
            "wx_log_xz": wsum(weights * x, np.log(zbar) + np.log(x)),
            "w_log_z": wsum(weights, np.log(zbar)),
            "mean_zbar": wsum(weights, zbar) / weights.sum(),
        }

    def _initial_params(self, prep) -> np.ndarray:
        # p = q = 2 and the population mean p v / (q - 1) equal to the mean spend
        return np.array([2.0, 2.0, max(prep["mean_zbar"], 1e-6) / 2.0])

    def _loglik(self, params, prep, gradient: bool = True):
        """Log-likelihood of the mean spends and its gradient in (p, q, v).

        The marginal density of the mean spend ``zbar`` given ``x`` (``zbar | nu ~ Gamma(px,
        nu x)`` mixed over ``nu ~ Gamma(q, v)``; Fader & Hardie 2013; FHL 2005 JMR):

            ln f = ln G(px+q) - ln G(px) - ln G(q) + q ln v + (px-1) ln zbar + px ln x
                   - (px+q) ln(v + x zbar)

        The gamma functions depend on ``x`` alone and are evaluated once per distinct
        frequency.
        """
        p, q, v = params
        w, xv, wx, wxx = prep["w"], prep["x_values"], prep["w_by_x"], prep["wx_by_x"]
        total_w = wx.sum()
        log_vxz = np.log(v + prep["x_zbar"])
        gl_pxq = gammaln(p * xv + q)
        gl_px = gammaln(p * xv)
        px = p * prep["x"]
        ll = (
            wsum(wx, gl_pxq - gl_px)
            - total_w * gammaln(q)
            + total_w * q * np.log(v)
            + p * prep["wx_log_xz"]
            - prep["w_log_z"]
            - wsum(w, (px + q) * log_vxz)
        )
        if not gradient:
            return float(ll), None
        dg_pxq = digamma(p * xv + q)
        d_p = wsum(wxx, dg_pxq - digamma(p * xv)) + prep["wx_log_xz"] - wsum(prep["wx"], log_vxz)
        d_q = wsum(wx, dg_pxq) - total_w * (digamma(q) - np.log(v)) - wsum(w, log_vxz)
        d_v = total_w * q / v - wsum(w, (px + q) / (v + prep["x_zbar"]))
        return float(ll), np.array([d_p, d_q, d_v])

    # -- predictions ---------------------------------------------------------------------
    def conditional_expected_spend(self, frequency, monetary_value=None) -> pd.Series:
        """Expected average spend per transaction given ``x`` and ``zbar``.

        E[Z | p, q, v, x, zbar] = p (v + x zbar) / (p x + q - 1)
        = w * p v / (q - 1) + (1 - w) * zbar,  with w = (q - 1) / (p x + q - 1),

        a weighted mean of the population mean and the customer's own mean (the posterior mean
        of ``p / nu``; FHL 2005 JMR; Fader & Hardie 2013). Customers with frequency 0 get the
        population mean :meth:`expected_spend` (their ``monetary_value`` is ignored and may be
        0).

        Returns
        -------
        Series
            Named ``expected_spend``, indexed like the input.

        Examples
        --------
        >>> from churnlab.datasets import load_cdnow_summary
        >>> data = load_cdnow_summary()
        >>> model = GammaGamma().fit(data[data["frequency"] > 0])
        >>> model.conditional_expected_spend(data).head(3).round(2).tolist()
        [24.66, 18.91, 35.17]
        """
        check_is_fitted(self, "params_")
        x, m, index = _spend_columns(frequency, monetary_value)
        p, q, v = self.params_.to_numpy()
        self._require_mean_spend(p * x + q <= 1)
        value = p * (v + x * m) / (p * x + q - 1)
        return pd.Series(value, index=index, name="expected_spend")

    def expected_spend(self) -> float:
        """Population mean spend per transaction, E[Z] = p v / (q - 1).

        Raises
        ------
        ValueError
            When ``q <= 1``: the mean does not exist (see the class notes).
        """
        check_is_fitted(self, "params_")
        p, q, v = self.params_.to_numpy()
        self._require_mean_spend()
        return float(p * v / (q - 1))

    def _require_mean_spend(self, undefined: np.ndarray | None = None) -> None:
        """Refuse expected spend when ``q <= 1`` (no mean spend per transaction)."""
        p, q, v = self.params_.to_numpy()
        if q > 1:
            return
        rows = ""
        if undefined is not None:
            rows = (
                f"; a customer's expected spend p (v + x zbar) / (p x + q - 1) is undefined "
                f"(p x + q <= 1) for {int(np.sum(undefined))} of {len(undefined)} rows here, "
                "and for the others it rests on the extreme tail"
            )
        raise ValueError(
            f"GammaGamma: q = {q:.4g} <= 1 (p = {p:.4g}, v = {v:.4g}): the fitted spend "
            "distribution is so heavy-tailed that the mean spend per transaction p v / (q - 1) "
            f"does not exist{rows}. No expected spend or lifetime value can be given; check the "
            "largest spends (outliers, data errors), cap or remove them, and refit."
        )

    def _repr_html_(self) -> str:
        html_text = super()._repr_html_()
        if hasattr(self, "independence_"):
            html_text += self.independence_._repr_html_()
        return html_text

    def _extra_to_dict(self):
        record = asdict(self.independence_)
        return {"independence": {k: None if np.isnan(v) else v for k, v in record.items()}}

    def _extra_from_dict(self, extra, check):
        if set(extra) != {"independence"}:
            check.fail("extra", "must hold exactly the key 'independence'", sorted(extra))
        names = [f.name for f in fields(SpendFrequencyCorrelation)]
        given = check.mapping("extra.independence", extra["independence"], set(names))
        values = {}
        for name in names:
            field, value = f"extra.independence.{name}", given[name]
            if name in ("n", "threshold"):
                values[name] = check.positive(field, value)
            elif value is None:  # an undefined correlation (too few repeat buyers) is null
                values[name] = np.nan
            else:
                values[name] = check.real(field, value)
                low = -1.0 if name in ("pearson", "spearman") else 0.0
                if not low <= values[name] <= 1:
                    check.fail(field, f"must lie in [{low:g}, 1]", value)
        self.independence_ = SpendFrequencyCorrelation(**values)
