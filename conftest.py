"""Settings shared by the unit tests and the docstring examples."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

# Docstring examples print DataFrames; a fixed display width keeps their output stable.
pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 20)

# Property tests explore new random examples on every local run; in CI (CI=true) they replay
# a fixed, derived sequence so that a red run is reproducible and never depends on luck.
import os  # noqa: E402

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
