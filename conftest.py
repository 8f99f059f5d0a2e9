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


# --- Spark ---------------------------------------------------------------------------------------
# One local Spark session for the whole run (starting a JVM takes seconds): the tests of
# churnlab.spark and its docstring examples share it. Python workers (mapInPandas) must run the
# interpreter of the test run, which has churnlab and pyarrow.
import shutil  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)


def _java_home() -> str | None:
    """JAVA_HOME, or the installation the `java` on PATH belongs to; None without Java."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    if java is None:
        return None
    return str(Path(java).resolve().parent.parent)


@pytest.fixture(scope="session")
def spark():
    """A SparkSession in local[2] mode, small shuffles, no UI, dates in UTC."""
    home = _java_home()
    if home is None:
        pytest.skip("Java is not installed: Spark needs a JVM (Java 17 or later)")
    os.environ["JAVA_HOME"] = home
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("churnlab-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "1g")
        # a short-lived JVM: the quick JIT tier only and the serial collector halve the CPU
        # time of the first queries (measured on 2 cores)
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(autouse=True)
def _spark_for_spark_doctests(request):
    """Docstring examples of churnlab.spark run on the shared session (started on demand)."""
    path = str(getattr(request.node, "path", ""))
    if type(request.node).__name__ == "DoctestItem" and f"{os.sep}spark{os.sep}" in path:
        request.getfixturevalue("spark")
