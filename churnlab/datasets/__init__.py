"""Bundled data sets and simulators."""

from churnlab.datasets.cdnow import load_cdnow, load_cdnow_summary
from churnlab.datasets.simulate import simulate_bgnbd, simulate_gamma_gamma

__all__ = ["load_cdnow", "load_cdnow_summary", "simulate_bgnbd", "simulate_gamma_gamma"]
