"""Churn prediction: who is about to leave, how sure we are, and whom to contact.

transactions -> :func:`make_churn_dataset` (leakage-free features at a cutoff, labels over a
horizon) -> :class:`ChurnModel` -> :func:`evaluate` (out of time) -> :func:`empc` /
:func:`profit_curve` (whom a retention campaign should reach).
"""

from churnlab.churn.evaluate import (
    BootstrapResult,
    ChurnEvaluation,
    bootstrap_metrics,
    calibration_table,
    evaluate,
    gains_curve,
    gains_table,
    metrics_table,
    out_of_time_split,
    permutation_importance,
)
from churnlab.churn.features import horizon_days, make_churn_dataset
from churnlab.churn.model import ChurnModel
from churnlab.churn.profit import (
    EMPCResult,
    MPCResult,
    empc,
    expected_gain,
    mpc,
    profit_curve,
    roc_convex_hull,
)

__all__ = [
    "BootstrapResult",
    "ChurnEvaluation",
    "ChurnModel",
    "EMPCResult",
    "MPCResult",
    "bootstrap_metrics",
    "calibration_table",
    "empc",
    "evaluate",
    "expected_gain",
    "gains_curve",
    "gains_table",
    "horizon_days",
    "make_churn_dataset",
    "metrics_table",
    "mpc",
    "out_of_time_split",
    "permutation_importance",
    "profit_curve",
    "roc_convex_hull",
]
