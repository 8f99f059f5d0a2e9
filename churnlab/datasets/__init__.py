"""Bundled data sets and simulators."""

from churnlab.datasets.cdnow import load_cdnow, load_cdnow_summary

__all__ = ["load_cdnow", "load_cdnow_summary"]
