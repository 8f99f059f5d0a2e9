"""Customer lifetime value: lifetimes 0.11.3, hand computations, time units, input checks;
the value distribution (hand-computed cases) and retention priorities (identities of the
BG/NBD at the published CDNOW parameters)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnlab import (
    BetaGeo,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    customer_lifetime_value,
    rfm_summary,
)
from churnlab import clv as clv_module
from churnlab.clv import DAYS_PER_YEAR, retention_priorities, value_deciles
from churnlab.datasets import load_cdnow, load_cdnow_summary
from churnlab.models import CDNOW_BGNBD_PUBLISHED
from churnlab.rfm import unit_days

# lifetimes 0.11.3 (`lifetimes.utils._customer_lifetime_value`) steps in months of 4.345
# weeks when freq="W" and discounts each month at a MONTHLY rate.
LIFETIMES_WEEKS_PER_MONTH = 4.345


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def cdnow_published():
    """A BG/NBD carrying the published CDNOW estimates (FHL 2005, section 4)."""
    model = BetaGeo()
    model.params_ = pd.Series(CDNOW_BGNBD_PUBLISHED)
    return model


@pytest.fixture(scope="module")
def models(cdnow):
    return BetaGeo().fit(cdnow), GammaGamma().fit(cdnow[cdnow["frequency"] > 0])


def test_matches_lifetimes_with_the_step_and_rate_converted(models, cdnow):
    lifetimes = pytest.importorskip("lifetimes")
    bg, gg = models
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_bg, ref_gg = lifetimes.BetaGeoFitter(), lifetimes.GammaGammaFitter()
    ref_bg.params_ = bg.params_.copy()
    ref_bg.predict = ref_bg.conditional_expected_number_of_purchases_up_to_time
    ref_gg.params_ = gg.params_.copy()
    months, monthly_rate = 12, 0.01
    theirs = ref_gg.customer_lifetime_value(
        ref_bg,
        cdnow["frequency"],
        cdnow["recency"],
        cdnow["T"],
        cdnow["monetary_value"],
        time=months,
        discount_rate=monthly_rate,
        freq="W",
    )
    step = LIFETIMES_WEEKS_PER_MONTH
    annual = (1 + monthly_rate) ** (DAYS_PER_YEAR / (step * unit_days("W"))) - 1
    ours = customer_lifetime_value(
        bg, gg, cdnow, time_unit="W", horizon=months * step, step=step, discount_rate=annual
    )
    np.testing.assert_allclose(ours.to_numpy(), np.asarray(theirs), rtol=1e-6, atol=1e-6)
    assert ours.name == "clv" and ours.index.equals(cdnow.index)


def test_one_step_is_spend_times_purchases_discounted_once(models, cdnow):
    bg, gg = models
    horizon, rate = 52.0, 0.08
    clv = customer_lifetime_value(
        bg, gg, cdnow, time_unit="W", horizon=horizon, step=horizon, discount_rate=rate
    )
    expected = (
        gg.conditional_expected_spend(cdnow)
        * bg.conditional_expected_purchases(horizon, cdnow)
        / (1 + rate) ** (horizon * 7 / 365.2425)
    )
    np.testing.assert_allclose(clv.to_numpy(), expected.to_numpy(), rtol=1e-12)


def test_without_discounting_the_step_does_not_matter(models, cdnow):
    bg, gg = models
    kwargs = {"time_unit": "W", "horizon": 26.0, "discount_rate": 0.0}
    coarse = customer_lifetime_value(bg, gg, cdnow, step=26.0, **kwargs)
    fine = customer_lifetime_value(bg, gg, cdnow, step=0.5, **kwargs)
    np.testing.assert_allclose(coarse.to_numpy(), fine.to_numpy(), rtol=1e-10)
    # and discounting lowers every value
    discounted = customer_lifetime_value(
        bg, gg, cdnow, time_unit="W", horizon=26.0, discount_rate=0.2
    )
    assert (discounted <= fine + 1e-12).all() and (discounted < fine).any()


def test_the_same_customers_in_days_have_the_same_value(models, cdnow):
    # The BG/NBD is invariant to the time unit when alpha scales with it: the model in days
    # has alpha * 7. One year as 52 weekly steps equals 364 days in 52 steps of 7 days.
    bg, gg = models
    bg_days = BetaGeo.from_dict(
        {**bg.to_dict(), "params": {**bg.params_.to_dict(), "alpha": bg.params_["alpha"] * 7}}
    )
    in_days = cdnow.assign(recency=cdnow["recency"] * 7, T=cdnow["T"] * 7)
    weeks = customer_lifetime_value(bg, gg, cdnow, time_unit="W", horizon=52, discount_rate=0.1)
    days = customer_lifetime_value(
        bg_days, gg, in_days, time_unit="D", horizon=364, step=7, discount_rate=0.1
    )
    np.testing.assert_allclose(weeks.to_numpy(), days.to_numpy(), rtol=1e-9)


def test_time_unit_must_match_the_data():
    tx = load_cdnow("sample")
    data = rfm_summary(tx, "1997-09-30", time_unit="W")
    bg = BetaGeo().fit(data)
    with pytest.warns(UserWarning, match="frequency 0"):
        gg = GammaGamma().fit(data)
    with pytest.raises(ValueError, match="data.attrs\\['time_unit'\\] is 'W'"):
        customer_lifetime_value(bg, gg, data, time_unit="M", horizon=12, discount_rate=0.1)
    clv = customer_lifetime_value(bg, gg, data, time_unit="W", horizon=52, discount_rate=0.1)
    assert clv.notna().all() and (clv > 0).all()
    # the purchase model remembers the unit of its data, even when the new data do not
    assert bg.time_unit_ == "W"
    bare = data.copy()
    bare.attrs = {}
    with pytest.raises(ValueError, match="BetaGeo was fitted on data in time_unit='W'"):
        customer_lifetime_value(bg, gg, bare, time_unit="D", horizon=364, discount_rate=0.1)


def test_bad_arguments_are_refused(models, cdnow):
    bg, gg = models
    with pytest.raises(ValueError, match="whole multiple"):
        customer_lifetime_value(bg, gg, cdnow, time_unit="W", horizon=10, step=3, discount_rate=0.1)
    with pytest.raises(ValueError, match="horizon"):
        customer_lifetime_value(bg, gg, cdnow, time_unit="W", horizon=0, discount_rate=0.1)
    with pytest.raises(ValueError, match="discount_rate"):
        customer_lifetime_value(bg, gg, cdnow, time_unit="W", horizon=4, discount_rate=-1.5)
    with pytest.raises(ValueError, match="time_unit"):
        customer_lifetime_value(bg, gg, cdnow, time_unit="Y", horizon=4, discount_rate=0.1)
    with pytest.raises(ValueError, match="monetary_value"):
        customer_lifetime_value(
            bg,
            gg,
            cdnow.drop(columns="monetary_value"),
            time_unit="W",
            horizon=4,
            discount_rate=0.1,
        )
    bad = cdnow.iloc[:5].assign(recency=[50.0, 0, 0, 0, 0])  # recency > T
    with pytest.raises(ValueError, match="'recency'"):
        customer_lifetime_value(bg, gg, bad, time_unit="W", horizon=4, discount_rate=0.1)


def test_the_callers_frame_is_not_touched(models, cdnow):
    bg, gg = models
    data = cdnow.iloc[:20].copy()
    data["segment"] = "a"
    before = data.copy()
    clv = customer_lifetime_value(bg, gg, data, time_unit="W", horizon=8, discount_rate=0.1)
    pd.testing.assert_frame_equal(data, before)
    assert clv.index.equals(data.index)


# value distribution and priorities


def test_value_deciles_by_hand():
    values = pd.Series([1.0, 9.0, 0.0, 5.0, 5.0, 80.0], index=list("abcdef"))
    table = value_deciles(values, n_groups=3)
    # ranked: 80, 9 | 5, 5 | 1, 0 -> totals 89, 10, 1 of 100
    assert table["customers"].tolist() == [2, 2, 2]
    np.testing.assert_allclose(table["total"], [89.0, 10.0, 1.0])
    np.testing.assert_allclose(table["value_share_cumulative"], [0.89, 0.99, 1.0])
    np.testing.assert_allclose(table["max"], [80.0, 5.0, 1.0])
    np.testing.assert_allclose(table["min"], [9.0, 5.0, 0.0])
    np.testing.assert_allclose(table["customer_share_cumulative"], [1 / 3, 2 / 3, 1.0])


def test_value_deciles_uneven_groups_and_errors():
    table = value_deciles(pd.Series(np.arange(1.0, 12.0)), n_groups=10)
    assert table["customers"].sum() == 11 and set(table["customers"]) == {1, 2}
    with pytest.raises(ValueError, match="negative"):
        value_deciles(pd.Series([1.0, -1.0]), n_groups=1)
    with pytest.raises(ValueError, match="n_groups"):
        value_deciles(pd.Series([1.0]), n_groups=2)


def test_retention_priorities_identities(cdnow_published, cdnow):
    clv = (25.0 * cdnow_published.conditional_expected_purchases(52, cdnow)).rename("clv")
    table = retention_priorities(cdnow_published, cdnow, clv, silence=8)
    assert table.index.sort_values().equals(cdnow.index)
    assert table["value_slipping"].is_monotonic_decreasing
    joined = table.loc[cdnow.index]
    np.testing.assert_allclose(joined["clv"], clv)
    # value = P(alive) x value if alive, and what is not expected is at risk
    np.testing.assert_allclose(joined["p_alive"] * joined["clv_if_alive"], joined["clv"])
    np.testing.assert_allclose(
        joined["clv"] + joined["value_at_risk"], joined["clv_if_alive"], rtol=1e-10
    )
    # silence lowers P(alive) of repeat buyers and leaves the others at 1 (BG/NBD)
    repeat = joined["frequency"] > 0
    assert (joined.loc[repeat, "p_alive_if_silent"] < joined.loc[repeat, "p_alive"]).all()
    assert (joined.loc[~repeat, "p_alive_if_silent"] == 1.0).all()
    expected = cdnow_published.probability_alive(
        cdnow["frequency"], cdnow["recency"], cdnow["T"] + 8
    )
    np.testing.assert_allclose(joined["p_alive_if_silent"], expected.to_numpy())


def test_retention_priorities_checks_inputs(cdnow_published, cdnow):
    clv = pd.Series(1.0, index=cdnow.index)
    with pytest.raises(ValueError, match="indexed like data"):
        retention_priorities(cdnow_published, cdnow, clv.iloc[::-1])
    with pytest.raises(ValueError, match="clv"):
        retention_priorities(cdnow_published, cdnow, clv * -1)
    with pytest.raises(ValueError, match="silence"):
        retention_priorities(cdnow_published, cdnow, clv, silence=-1)


# finite on extreme valid inputs (hypothesis)

_positive = st.floats(min_value=1e-3, max_value=1e2)


@settings(max_examples=40, deadline=None)
@given(
    x=st.integers(min_value=0, max_value=10_000),
    recency_share=st.floats(min_value=0.0, max_value=1.0),
    T=st.floats(min_value=1e-3, max_value=1e4),
    spend=st.floats(min_value=1e-2, max_value=1e6),
    bg=st.tuples(_positive, st.floats(min_value=1e-3, max_value=1e4), _positive, _positive),
    gg=st.tuples(_positive, st.floats(min_value=1.01, max_value=1e2), _positive),
    rate=st.floats(min_value=0.0, max_value=1.0),
)
def test_value_is_finite_non_negative_and_grows_with_the_horizon(
    x, recency_share, T, spend, bg, gg, rate
):
    purchase, spend_model = BetaGeo(), GammaGamma()
    purchase.params_ = pd.Series(bg, index=["r", "alpha", "a", "b"])
    spend_model.params_ = pd.Series(gg, index=["p", "q", "v"])
    data = pd.DataFrame(
        {
            "frequency": [x],
            "recency": [recency_share * T if x > 0 else 0.0],
            "T": [T],
            "monetary_value": [spend if x > 0 else 0.0],
        }
    )
    values = [
        customer_lifetime_value(
            purchase, spend_model, data, time_unit="W", horizon=h, step=2.0, discount_rate=rate
        ).iloc[0]
        for h in (2.0, 8.0)
    ]
    assert np.all(np.isfinite(values)) and values[0] >= 0
    assert values[1] >= values[0] * (1 - 1e-12)


def test_value_if_alive_times_p_alive_is_the_value(models, cdnow):
    # BG/NBD eq. (10) is P(alive) times the expectation if alive, step by step, so the
    # discounted sums obey the same identity; one-off buyers have P(alive) = 1 exactly.
    bg, gg = models
    kwargs = {"time_unit": "W", "horizon": 52, "discount_rate": 0.10}
    clv = customer_lifetime_value(bg, gg, cdnow, **kwargs)
    if_alive = customer_lifetime_value(bg, gg, cdnow, given_alive=True, **kwargs)
    assert if_alive.name == "clv_if_alive" and if_alive.index.equals(cdnow.index)
    np.testing.assert_allclose(if_alive * bg.probability_alive(cdnow), clv, rtol=1e-12)
    one_off = cdnow["frequency"] == 0
    np.testing.assert_allclose(if_alive[one_off], clv[one_off], rtol=1e-12)
    assert (if_alive[~one_off] >= clv[~one_off]).all()


def test_value_if_alive_stays_finite_where_p_alive_underflows(cdnow_published):
    # 200 repeat purchases in the first week, then 1,000 weeks of silence: the log-odds of
    # having dropped out are about (r + x) ln(1000 / 1) ~ 1400, so P(alive) underflows to 0,
    # yet a customer known to be active is expected to buy at their (high) rate.
    data = pd.DataFrame(
        {"frequency": [200], "recency": [1.0], "T": [1000.0], "monetary_value": [20.0]}
    )
    spend = GammaGamma()
    spend.params_ = pd.Series({"p": 6.25, "q": 3.74, "v": 15.44})  # FHL 2005 JMR CDNOW
    assert cdnow_published.probability_alive(data).iloc[0] == 0.0
    kwargs = {"time_unit": "W", "horizon": 4, "discount_rate": 0.0}
    assert customer_lifetime_value(cdnow_published, spend, data, **kwargs).iloc[0] == 0.0
    value = customer_lifetime_value(cdnow_published, spend, data, given_alive=True, **kwargs)
    purchases = cdnow_published.conditional_expected_purchases_if_alive(4, data).iloc[0]
    expected_spend = spend.conditional_expected_spend(data).iloc[0]
    assert np.isfinite(value.iloc[0]) and value.iloc[0] > 0
    assert value.iloc[0] == pytest.approx(purchases * expected_spend, rel=1e-12)


def test_repeat_buyers_with_zero_spend_are_valued_at_zero_with_a_warning(models, cdnow):
    bg, gg = models
    kwargs = {"time_unit": "W", "horizon": 52, "discount_rate": 0.10}
    reference = customer_lifetime_value(bg, gg, cdnow, **kwargs)
    free_rider = cdnow["frequency"].gt(0).to_numpy().nonzero()[0][:2]
    data = cdnow.copy()
    data.iloc[free_rider, data.columns.get_loc("monetary_value")] = 0.0
    with pytest.warns(UserWarning, match="2 repeat buyer"):
        clv = customer_lifetime_value(bg, gg, data, **kwargs)
    assert (clv.iloc[free_rider] == 0).all()
    others = np.ones(len(data), dtype=bool)
    others[free_rider] = False
    np.testing.assert_allclose(clv[others], reference[others], rtol=1e-12)
    with pytest.raises(ValueError, match="column 'monetary_value'.* in 2 row") as err:
        customer_lifetime_value(bg, gg, data, zero_spend="raise", **kwargs)
    assert str(data.index[free_rider[0]]) in str(err.value)
    with pytest.raises(ValueError, match="zero_spend"):
        customer_lifetime_value(bg, gg, data, zero_spend="drop", **kwargs)
    with pytest.raises(ValueError, match="column 'monetary_value'"):  # negative stays an error
        customer_lifetime_value(bg, gg, data.assign(monetary_value=-1.0), **kwargs)


# refusals (issue 7)


def test_value_is_refused_when_spend_has_no_mean(models, cdnow):
    # Gamma-Gamma with q <= 1: no mean spend per transaction; main returned negative or
    # infinite lifetime values
    bg, _ = models
    heavy = GammaGamma()
    heavy.params_ = pd.Series({"p": 0.3, "q": 0.62, "v": 15.0})
    with pytest.raises(ValueError, match=r"GammaGamma: q = 0\.62 <= 1 .*lifetime value"):
        customer_lifetime_value(bg, heavy, cdnow, time_unit="W", horizon=52, discount_rate=0.1)


class _StubSpend:
    """A spend model from elsewhere whose predictions are invalid for some customers."""

    def conditional_expected_spend(self, data):
        values = np.full(len(data), 20.0)
        values[1] = -5.0
        values[2] = np.inf
        return pd.Series(values, index=data.index, name="expected_spend")


def test_negative_or_infinite_model_predictions_are_refused(models, cdnow):
    bg, _ = models
    data = cdnow.iloc[:5]
    with pytest.raises(ValueError, match="column 'expected_spend': _StubSpend predicts a") as err:
        customer_lifetime_value(bg, _StubSpend(), data, time_unit="W", horizon=4, discount_rate=0)
    assert "in 2 row(s)" in str(err.value)


def test_duplicate_customers_are_refused(models, cdnow):
    bg, gg = models
    twice = pd.concat([cdnow.iloc[:3], cdnow.iloc[[0]]])
    with pytest.raises(ValueError, match=r"customer ids .* must be unique.*occur more than once"):
        customer_lifetime_value(bg, gg, twice, time_unit="W", horizon=4, discount_rate=0.1)
    with pytest.raises(ValueError, match=r"customer ids .* must be unique"):
        retention_priorities(bg, twice, pd.Series(1.0, index=twice.index, name="clv"))


class _PublicOnly:
    """A purchase model seen only through its public methods: the step-by-step path."""

    def __init__(self, model):
        self.model = model
        self.params_ = model.params_

    def conditional_expected_purchases(self, t, data):
        return self.model.conditional_expected_purchases(t, data)

    def conditional_expected_purchases_if_alive(self, t, data):
        return self.model.conditional_expected_purchases_if_alive(t, data)


@pytest.mark.parametrize("model_class", [BetaGeo, ParetoNBD, ModifiedBetaGeo])
@pytest.mark.parametrize("given_alive", [False, True])
def test_all_horizons_at_once_equal_the_step_by_step_sum(
    model_class, given_alive, models, cdnow, monkeypatch
):
    # The value is computed once per distinct (x, T) for all 26 steps together, in blocks
    # (here of 100 entries, so the 1,010 distinct pairs of CDNOW span many blocks); the
    # step-by-step sum of any purchase model's conditional expectations must agree.
    monkeypatch.setattr(clv_module, "BLOCK_ENTRIES", 100)
    _, gg = models
    model = model_class().fit(cdnow)
    kwargs = {"time_unit": "W", "horizon": 52, "step": 2, "discount_rate": 0.15}
    fast = customer_lifetime_value(model, gg, cdnow, given_alive=given_alive, **kwargs)
    slow = customer_lifetime_value(_PublicOnly(model), gg, cdnow, given_alive=given_alive, **kwargs)
    assert fast.name == slow.name and fast.index.equals(cdnow.index)
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)
    assert fast.iloc[0] > 0


class _NegativeIfAlive(BetaGeo):
    """A BG/NBD whose expectation if alive turns negative for customers aged over 38 weeks."""

    def _if_alive(self, t, x, T):
        return np.where(T > 38.0, -1.0, super()._if_alive(t, x, T))


def test_negative_expectations_of_the_all_horizons_path_are_refused(models, cdnow):
    bg, gg = models
    broken = _NegativeIfAlive()
    broken.params_ = bg.params_
    with pytest.raises(ValueError, match="column 'expected_purchases': _NegativeIfAlive") as err:
        customer_lifetime_value(broken, gg, cdnow, time_unit="W", horizon=4, discount_rate=0)
    assert f"in {int((cdnow['T'] > 38).sum())} row(s)" in str(err.value)
