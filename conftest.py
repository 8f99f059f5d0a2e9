"""Settings shared by the unit tests and the docstring examples."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

# Docstring examples print DataFrames; a fixed display width keeps their output stable.
pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 20)
