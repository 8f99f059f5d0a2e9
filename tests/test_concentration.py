"""Tests of churnlab.concentration (Lorenz curve, top-customer shares, Gini).

Expected numbers are hand-computed from the stated formulas or come from closed forms (the
Pareto distribution's Gini and top share).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnlab import concentration as C
from churnlab.datasets import load_retail_sample
from churnlab.loyalty import customer_activity


@pytest.fixture(scope="module")
def retail():
    return load_retail_sample()


# --- concentration ----------------------------------------------------------------------------
def test_concentration_hand_case():
    values = pd.Series([4.0, 1.0, 10.0, 3.0, 2.0], index=list("abcde"))
    with pytest.warns(UserWarning, match="key-account risk: customer 'c' holds 50.0%"):
        c = C.concentration(values)
    # top 20% of 5 customers = the largest: 10 / 20
    assert c.top_share == 0.5 and c.top1_share == 0.5
    assert c.top5_share == 1.0
    # Gini = 2 * (1*1 + 2*2 + 3*3 + 4*4 + 5*10) / (5 * 20) - 6/5 = 0.4
    assert c.gini == pytest.approx(0.4)
    # the mean absolute difference over twice the mean gives the same number
    x = values.to_numpy()
    assert c.gini == pytest.approx(np.abs(x[:, None] - x[None, :]).mean() / (2 * x.mean()))
    assert c.lorenz.iloc[0].tolist() == [0.0, 0.0] and c.lorenz.iloc[-1].tolist() == [1.0, 1.0]
    assert c.lorenz["value_share"].tolist() == pytest.approx([0, 0.05, 0.15, 0.3, 0.5, 1.0])
    assert list(c.top_customers.index[:2]) == ["c", "a"]
    # 30% of 5 customers = 1.5: the largest plus half of the second (4): (10 + 2) / 20
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c30 = C.concentration(values, top_fraction=0.3, key_account_threshold=0.6)
    assert c30.top_share == pytest.approx(0.6)


def test_concentration_equal_and_extreme():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        equal = C.concentration(pd.Series(np.full(50, 3.0)))
    assert equal.gini == pytest.approx(0.0, abs=1e-12)
    assert equal.top_share == pytest.approx(0.2)
    with pytest.warns(UserWarning):
        one = C.concentration(pd.Series([0.0, 0.0, 0.0, 8.0]))
    assert one.gini == pytest.approx(0.75)  # (n - 1) / n


def test_concentration_pareto_closed_forms():
    # Pareto(shape a): Gini 1 / (2a - 1); the top 20% hold 0.2 ** (1 - 1/a). With
    # a = log(5) / log(4) = 1.161 that is the 80/20 rule; a = 3 keeps the sample moments tame.
    a = 3.0
    rng = np.random.default_rng(11)
    x = pd.Series(rng.pareto(a, size=200_000) + 1.0)
    c = C.concentration(x, key_account_threshold=1.0)
    assert c.gini == pytest.approx(1 / (2 * a - 1), abs=0.01)
    assert c.top_share == pytest.approx(0.2 ** (1 - 1 / a), abs=0.01)


def test_concentration_rejects_bad_values():
    with pytest.raises(ValueError, match="negative values"):
        C.concentration(pd.Series([3.0, -1.0], name="revenue"))
    with pytest.raises(ValueError, match="NaN"):
        C.concentration(pd.Series([3.0, np.nan]))
    with pytest.raises(ValueError, match="sum to 0"):
        C.concentration(pd.Series([0.0, 0.0]))
    with pytest.raises(TypeError):
        C.concentration([1.0, 2.0])


def test_concentration_on_retailer_has_no_key_account(retail):
    revenue = customer_activity(retail.transactions)["revenue"].clip(lower=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no single customer above 10%
        c = C.concentration(revenue)
    assert 0.5 < c.top_share < 0.9 and c.top1_share < 0.1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=120).filter(
        lambda v: sum(v) > 1e-6
    )
)
def test_concentration_properties(values):
    c = C.concentration(pd.Series(values), key_account_threshold=1.0)
    n = len(values)
    assert 0 <= c.gini <= (n - 1) / n + 1e-9
    lorenz = c.lorenz
    assert np.all(np.diff(lorenz["value_share"]) >= -1e-12)  # non-decreasing
    assert np.all(lorenz["value_share"] <= lorenz["customer_share"] + 1e-9)  # below equality
    assert c.top_share >= c.top_fraction - 1e-9  # the top hold at least their head count
    assert c.top1_share <= c.top5_share <= 1 + 1e-12
