"""Kaplan-Meier by period: a hand-computed case, fully observed cohorts, lifelines if present."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from churnlab.contractual import (
    cohort_survival_counts,
    kaplan_meier,
    subscription_tenure,
    tenure_from_survivors,
)
from churnlab.datasets import load_retention_cohorts, simulate_subscriptions

# Ten customers: (renewals survived, still active). Lost customers cancel in period k + 1.
SMALL = pd.DataFrame(
    {
        "periods_survived": [0, 0, 0, 1, 1, 1, 2, 2, 3, 4],
        "active": [False, False, True, False, True, True, False, True, False, True],
    }
)


def test_hand_computed_small_case():
    # An active customer with k renewals was seen renewing at periods 1..k only.
    # period 1: 9 at risk (all but the active k=0), 2 lost (k=0)       S1 = 7/9
    # period 2: 5 at risk (k>=1 lost, k>=2 active), 1 lost (k=1)       S2 = S1 * 4/5
    # period 3: 3 at risk (k>=2 lost, k>=3 active), 1 lost (k=2)       S3 = S2 * 2/3
    # period 4: 2 at risk (the lost k=3, the active k=4), 1 lost        S4 = S3 * 1/2
    km = kaplan_meier(SMALL).table
    assert km["at_risk"].tolist() == [10, 9, 5, 3, 2]
    assert km["churned"].tolist() == [0, 2, 1, 1, 1]
    assert km["censored"].tolist() == [1, 2, 1, 0, 1]
    s1 = 7 / 9
    np.testing.assert_allclose(
        km["survival"], [1, s1, s1 * 4 / 5, s1 * 4 / 5 * 2 / 3, s1 * 4 / 5 * 2 / 3 / 2]
    )
    # Greenwood: S^2 * sum d / (n (n - d))
    g = np.cumsum([0, 2 / (9 * 7), 1 / (5 * 4), 1 / (3 * 2), 1 / (2 * 1)])
    np.testing.assert_allclose(km["std_err"], km["survival"] * np.sqrt(g))
    # log-log interval: S^exp(+-z sqrt(g) / |log S|)
    z = stats.norm.ppf(0.975)
    s = km["survival"].to_numpy()[1:]
    sigma = np.sqrt(g[1:]) / np.abs(np.log(s))
    np.testing.assert_allclose(km["ci_lower"].iloc[1:], s ** np.exp(z * sigma))
    np.testing.assert_allclose(km["ci_upper"].iloc[1:], s ** np.exp(-z * sigma))
    assert km.loc[0, "ci_lower"] == km.loc[0, "ci_upper"] == 1.0


def test_weights_equal_repeated_rows():
    weights = np.arange(1, 11)
    weighted = kaplan_meier(SMALL, weights=weights).table
    repeated = kaplan_meier(SMALL.loc[SMALL.index.repeat(weights)]).table
    pd.testing.assert_frame_equal(weighted, repeated)


def test_a_fully_observed_cohort_is_its_survival_counts():
    counts = load_retention_cohorts("customers").loc["regular"]
    km = kaplan_meier(counts)
    np.testing.assert_allclose(km.survival, counts / counts[0])
    assert km.time_unit == "Y"
    assert (km.table["ci_lower"] <= km.survival).all()
    assert (km.survival <= km.table["ci_upper"]).all()


def test_pooled_cohorts_equal_the_per_customer_estimate_at_their_common_horizons():
    subs = simulate_subscriptions(4000, 0.8, 1.6, first_start="2023-01-01", n_cohorts=6, seed=4)
    counts = cohort_survival_counts(subs, "2023-12-20", period="M")
    # the same customers, each censored at their cohort's horizon
    tenure = tenure_from_survivors(counts)
    from_counts = kaplan_meier(counts).table
    from_groups = kaplan_meier(tenure, weights=tenure["customers"]).table
    pd.testing.assert_frame_equal(from_counts, from_groups)
    # per customer, early starters are followed beyond the cohort horizon: close, not equal
    per_customer = kaplan_meier(subscription_tenure(subs, "2023-12-20", period="M")).survival
    common = from_counts.index[from_counts["at_risk"] > 500]
    np.testing.assert_allclose(per_customer[common], from_counts.loc[common, "survival"], atol=0.02)


def test_everyone_lost_gives_zero_survival_without_nan():
    km = kaplan_meier([10, 4, 0]).table
    assert km["survival"].tolist() == [1.0, 0.4, 0.0]
    assert km.loc[2, "ci_lower"] == km.loc[2, "ci_upper"] == 0.0
    assert not km.isna().any().any()


@pytest.mark.parametrize("level", [0, 1, 1.5, "95%", True])
def test_level_is_checked(level):
    with pytest.raises(ValueError, match="level"):
        kaplan_meier(SMALL, level=level)


def test_agrees_with_lifelines_when_installed():
    lifelines = pytest.importorskip("lifelines")
    subs = simulate_subscriptions(3000, 0.7, 1.4, first_start="2022-01-01", n_cohorts=12, seed=9)
    tenure = subscription_tenure(subs, "2023-01-01", period="M")
    ours = kaplan_meier(tenure).table
    # lifelines' durations: a lost customer's event in period k + 1, an active one censored at k
    k, active = tenure["periods_survived"], tenure["active"]
    fitter = lifelines.KaplanMeierFitter().fit(np.where(active, k, k + 1), event_observed=~active)
    theirs = fitter.survival_function_.iloc[:, 0].reindex(ours.index, method="ffill")
    np.testing.assert_allclose(ours["survival"], theirs, rtol=1e-12)
    ci = fitter.confidence_interval_.reindex(ours.index, method="ffill")
    np.testing.assert_allclose(ours["ci_lower"].iloc[1:], ci.iloc[1:, 0], rtol=1e-9)
    np.testing.assert_allclose(ours["ci_upper"].iloc[1:], ci.iloc[1:, 1], rtol=1e-9)
