"""The bundled retention cohorts (checksum, published values, sBG fits) and the subscription
simulator."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from churnlab.contractual import (
    HIGH_END_SBG_PUBLISHED,
    REGULAR_SBG_PUBLISHED,
    ShiftedBetaGeometric,
    full_periods,
)
from churnlab.datasets import load_retention_cohorts, simulate_subscriptions
from churnlab.datasets.cdnow import DATA_DIR

# SHA-256 recorded in data/retention_cohorts/README.md when the file was added.
CHECKSUM = "620aaedd27f00a0d94cc668f2c9e4dd2f8b1d49ab421ca021222a3cf0fd6ddbc"

# Fader & Hardie (2007), "How to project customer retention", JIM 21(1): per cent surviving,
# years 0-12.
REGULAR = [100, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1, 22.3, 20.7, 19.4, 18.3, 17.3]
HIGH_END = [100, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1, 46.8, 44.5, 42.7, 40.9, 39.4]


def test_checksum_matches_the_readme():
    folder = DATA_DIR / "retention_cohorts"
    digest = hashlib.sha256((folder / "survival_percent.csv").read_bytes()).hexdigest()
    assert digest == CHECKSUM
    assert CHECKSUM in (folder / "README.md").read_text()


def test_percentages_are_the_published_ones():
    table = load_retention_cohorts()
    assert table.loc["regular"].tolist() == REGULAR
    assert table.loc["high_end"].tolist() == HIGH_END
    assert table.index.name == "cohort" and table.columns.name == "period"
    assert table.attrs["time_unit"] == "Y"


def test_customers_are_the_papers_1000_customer_cohorts():
    counts = load_retention_cohorts("customers")
    assert counts.dtypes.unique().tolist() == [np.dtype("int64")]
    assert counts.loc["regular"].tolist() == [round(10 * v) for v in REGULAR]
    assert counts.loc["high_end", 7] == 491
    assert counts.attrs["time_unit"] == "Y"


@pytest.mark.parametrize(
    ("cohort", "published"),
    [("regular", REGULAR_SBG_PUBLISHED), ("high_end", HIGH_END_SBG_PUBLISHED)],
)
def test_bundled_years_1_to_7_give_the_published_fit(cohort, published):
    model = ShiftedBetaGeometric().fit(load_retention_cohorts("customers").loc[cohort, :7])
    assert model.params_.round(3).to_dict() == published


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind='share'"):
        load_retention_cohorts("share")


def test_simulated_subscriptions_are_reproducible_and_consistent():
    subs = simulate_subscriptions(2000, 0.7, 1.5, first_start="2022-03-10", n_cohorts=6, seed=3)
    again = simulate_subscriptions(2000, 0.7, 1.5, first_start="2022-03-10", n_cohorts=6, seed=3)
    pd.testing.assert_frame_equal(subs, again)
    assert subs["start"].min() >= pd.Timestamp("2022-03-01")
    assert subs["start"].max() < pd.Timestamp("2022-09-01")
    ended = subs.dropna(subset=["end"])
    assert (ended["end"] > ended["start"]).all()  # at least one period: T >= 1
    assert (ended["end"] <= pd.Timestamp("2022-09-01")).all()
    # every end date is a renewal date: a whole number of months after the start
    months = full_periods(ended["start"], ended["end"], "M")
    back = full_periods(ended["start"], ended["end"] - pd.Timedelta(days=1), "M")
    assert (months == back + 1).all()


def test_simulated_first_period_churn_matches_alpha_over_alpha_plus_beta():
    subs = simulate_subscriptions(
        40_000, 1.0, 3.0, n_cohorts=1, period="Y", seed=5, observation_end="2030-01-01"
    )
    months = full_periods(subs["start"], subs["end"].fillna(pd.Timestamp("2030-01-01")), "Y")
    share = np.mean(months == 1)
    # P(T = 1) = alpha / (alpha + beta) = 0.25; binomial standard error 0.0022
    assert share == pytest.approx(0.25, abs=0.01)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_customers": 0}, "n_customers"),
        ({"alpha": -1.0}, "alpha"),
        ({"period": "fortnight"}, "period"),
        ({"n_cohorts": 0}, "n_cohorts"),
        ({"observation_end": "2019-01-01"}, "observation_end"),
    ],
)
def test_simulator_arguments_are_checked(kwargs, message):
    args = {"n_customers": 10, "alpha": 1.0, "beta": 1.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        simulate_subscriptions(**args)
