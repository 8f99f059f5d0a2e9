"""Tests of churnlab.complaints (the complaint iceberg).

Expected numbers are hand-computed from the stated rules of thumb (ten unhappy customers per
complainant, ten told by a dissatisfied customer, five by a resolved one) or recover the
complaint process planted in the synthetic retailer.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from churnlab import complaints as K
from churnlab.datasets import load_retail_sample


@pytest.fixture(scope="module")
def retail():
    return load_retail_sample()


# --- complaint iceberg ------------------------------------------------------------------------
def test_complaint_iceberg_hand_case_by_group():
    c = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 4],
            "touch_point": ["sales", "sales", "sales", "support", "support"],
            "resolved": [True, False, True, True, False],
        }
    )
    t = K.complaint_iceberg(c, by="touch_point").table
    # sales: complainants 1 (one unresolved) and 2 (resolved): 20 unhappy, 18 silent;
    # negative reach (1 + 18) * 10 = 190, positive reach 1 * 5.
    assert t.loc["sales", "complaints"] == 3
    assert t.loc["sales", "complainants"] == 2
    assert (t.loc["sales", "resolved"], t.loc["sales", "unresolved"]) == (1, 1)
    assert t.loc["sales", "estimated_unhappy"] == 20.0
    assert t.loc["sales", "negative_reach"] == 190.0
    assert t.loc["sales", "positive_reach"] == 5.0
    assert t.loc["sales", "negative_reach_if_all_resolved"] == 180.0
    alt = K.complaint_iceberg(c, told_by_dissatisfied=K.TOLD_BY_DISSATISFIED_ALT).table
    # all: 4 complainants, 2 unresolved, 36 silent: (2 + 36) * 11
    assert alt.loc["all", "negative_reach"] == 38 * 11


def test_complaint_iceberg_errors():
    c = pd.DataFrame({"customer_id": [1], "resolved": ["yes"]})
    with pytest.raises(ValueError, match="True/False"):
        K.complaint_iceberg(c)
    with pytest.raises(ValueError, match="at least 1"):
        K.complaint_iceberg(
            pd.DataFrame({"customer_id": [1], "resolved": [True]}), unhappy_per_complaint=0.5
        )


def test_complaint_iceberg_recovers_planted_unhappy_customers(retail):
    # The simulator makes unhappy customers complain with probability complaint_rate (0.1):
    # complainants ~ Binomial(n_unhappy, 0.1), so complainants / 0.1 estimates n_unhappy with a
    # standard error of sqrt(n_unhappy * 0.9 / 0.1).
    truth = retail.truth["complaints"]
    t = K.complaint_iceberg(
        retail.complaints, unhappy_per_complaint=1 / truth["complaint_rate"]
    ).table
    assert t.loc["all", "complainants"] == truth["n_complainants"]
    se = math.sqrt(truth["n_unhappy"] * 0.9 / 0.1)
    assert abs(t.loc["all", "estimated_unhappy"] - truth["n_unhappy"]) < 3 * se
