"""compare_models: fit statistics by hand, holdout and tracking from the diagnostics, errors."""

import numpy as np
import pandas as pd
import pytest

from churnlab import (
    BetaGeo,
    BetaGeoBetaBinomial,
    ModifiedBetaGeo,
    ParetoNBD,
    calibration_holdout_split,
    compare_models,
)
from churnlab.compare import TABLE_COLUMNS, ModelComparison
from churnlab.datasets import load_cdnow
from churnlab.diagnostics import holdout_validation, tracking
from churnlab.models import (
    CDNOW_BGNBD_PUBLISHED_LOG_LIKELIHOOD,
    CDNOW_PARETO_NBD_PUBLISHED_LOG_LIKELIHOOD,
    ConvergenceError,
)

CANDIDATES = {"BG/NBD": BetaGeo(), "MBG/NBD": ModifiedBetaGeo(), "Pareto/NBD": ParetoNBD()}


@pytest.fixture(scope="module")
def transactions():
    return load_cdnow("sample")


@pytest.fixture(scope="module")
def split(transactions):
    return calibration_holdout_split(transactions, "1997-09-30", "1998-06-30")


@pytest.fixture(scope="module")
def result(split, transactions):
    return compare_models(CANDIDATES, split, transactions)


def test_one_row_per_model_with_the_fixed_columns(result):
    assert isinstance(result, ModelComparison)
    assert list(result.table.index) == list(CANDIDATES)
    assert result.table.index.name == "model"
    assert tuple(result.table.columns) == TABLE_COLUMNS
    assert list(result.by_frequency.columns) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert result.n_customers == 2357 and result.time_unit == "W"
    assert set(result.models) == set(result.holdout) == set(result.tracking) == set(CANDIDATES)


def test_fit_statistics_by_hand(result, split):
    table = result.table
    # the published log-likelihoods of the CDNOW sample (FHL 2005; the Pareto/NBD MATLAB note)
    assert table.loc["BG/NBD", "log_likelihood"] == pytest.approx(
        CDNOW_BGNBD_PUBLISHED_LOG_LIKELIHOOD, abs=0.05
    )
    assert table.loc["Pareto/NBD", "log_likelihood"] == pytest.approx(
        CDNOW_PARETO_NBD_PUBLISHED_LOG_LIKELIHOOD, abs=0.05
    )
    k, n = 4, len(split)
    ll = table["log_likelihood"]
    assert (table["n_params"] == k).all()
    np.testing.assert_allclose(table["aic"], 2 * k - 2 * ll, rtol=1e-14)
    np.testing.assert_allclose(table["bic"], k * np.log(n) - 2 * ll, rtol=1e-14)


def test_holdout_columns_are_the_diagnostics_of_the_fitted_models(result, split):
    for name, model in result.models.items():
        check = holdout_validation(model, split)
        row = result.table.loc[name]
        assert row["holdout_actual"] == check.actual_total == split["frequency_holdout"].sum()
        assert row["holdout_predicted"] == pytest.approx(check.predicted_total, rel=1e-14)
        assert row["holdout_error_pct"] == pytest.approx(
            100 * (check.predicted_total - check.actual_total) / check.actual_total, rel=1e-12
        )
        assert row["mae"] == pytest.approx(
            np.mean(np.abs(check.customers["predicted"] - check.customers["actual"])), rel=1e-12
        )
        assert row["bucket_wape"] == pytest.approx(check.bucket_wape, rel=1e-14)
        buckets = check.table
        np.testing.assert_allclose(
            result.by_frequency.loc[name],
            100 * (buckets["predicted_total"] - buckets["actual_total"]) / buckets["actual_total"],
            rtol=1e-12,
        )


def test_tracking_error_is_over_the_holdout_weeks(result, transactions):
    for name, model in result.models.items():
        track = tracking(model, transactions, "1998-06-30", calibration_end="1997-09-30")
        table = track.table
        holdout = table[table["start"] > pd.Timestamp("1997-09-30")]
        # 39 whole weeks after the week that straddles the calibration end
        assert len(holdout) == 39
        expected = 100 * (holdout["expected"] - holdout["actual"]).abs().sum()
        expected /= holdout["actual"].sum()
        assert result.table.loc[name, "tracking_error_pct"] == pytest.approx(expected, rel=1e-12)
        pd.testing.assert_frame_equal(result.tracking[name].table, table)


def test_models_passed_in_are_not_fitted_and_a_list_is_named_by_class(split):
    model = BetaGeo()
    result = compare_models([model, ParetoNBD()], split)
    assert not hasattr(model, "params_")
    assert list(result.table.index) == ["BetaGeo", "ParetoNBD"]
    assert result.table["tracking_error_pct"].isna().all() and result.tracking == {}
    with pytest.raises(ValueError, match="two models are named 'BetaGeo'"):
        compare_models([BetaGeo(), BetaGeo(tol=1e-8)], split)


def test_model_settings_are_kept(split):
    result = compare_models({"loose": BetaGeo(tol=1e-6)}, split)
    assert result.models["loose"].get_params() == BetaGeo(tol=1e-6).get_params()
    # a model that does not converge stops the comparison with the optimizer's message
    with pytest.raises(ConvergenceError, match="after 3 iterations"):
        compare_models({"capped": BetaGeo(max_iter=3)}, split)


def test_bad_arguments(split, transactions):
    with pytest.raises(TypeError, match="BetaGeoBetaBinomial"):
        compare_models({"BG/BB": BetaGeoBetaBinomial()}, split)
    with pytest.raises(ValueError, match="models is empty"):
        compare_models({}, split)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['duration_holdout'\]"):
        compare_models(CANDIDATES, split.drop(columns="duration_holdout"))
    bare = split.copy()
    bare.attrs = {"time_unit": "W"}
    with pytest.raises(ValueError, match="calibration_end is needed"):
        compare_models([BetaGeo()], bare, transactions)
    explicit = compare_models(
        [BetaGeo()],
        bare,
        transactions,
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
    )
    assert np.isfinite(explicit.table["tracking_error_pct"]).all()
    bare.attrs = {}
    ends = {"calibration_end": "1997-09-30", "observation_end": "1998-06-30"}
    with pytest.raises(ValueError, match="time_unit is needed"):
        compare_models([BetaGeo()], bare, transactions, **ends)
    assert compare_models([BetaGeo()], bare, transactions, **ends, time_unit="W").time_unit == "W"
    with pytest.raises(ValueError, match="time_unit='D' but the split was made in 'W'"):
        compare_models([BetaGeo()], split, time_unit="D")


def test_html_and_text_show_every_model(result):
    page = result._repr_html_()
    for name in ("BG/NBD", "MBG/NBD", "Pareto/NBD", "tracking_error_pct", "7+"):
        assert name in page
    assert "2,357 customers" in page
    assert repr(result).startswith("ModelComparison(3 models, 2357 customers")
