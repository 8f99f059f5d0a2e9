"""churnlab past one machine: the same summaries, fits and scores on Apache Spark.

Install with ``pip install "churnlab[spark]"`` (PySpark 4, Java 17 or later). Every function
takes a Spark DataFrame and mirrors a pandas function of churnlab: same arguments, same rules
for bad data, the same purchase definition and returns policy, the same warnings and the same
numbers.

* :func:`rfm_summary`, :func:`calibration_holdout_split`, :func:`make_churn_dataset` and
  :func:`inspect_transactions` compute in Spark SQL; the per-customer result comes back as
  the pandas DataFrame of the pandas function, or stays in Spark with ``as_spark=True``.
* :func:`fit` fits a model on the distinct (frequency, recency, T) rows, counted in Spark and
  collected to the driver (a million customers collapse to a few thousand rows).
* :func:`score` computes P(alive), expected purchases and lifetime value of every customer in
  parallel (``mapInPandas``); the fitted models travel as their JSON.

Dates follow the rules of :mod:`churnlab.transactions` by Spark type: ``DateType`` and
``TimestampNTZType`` count by their own day; ``TimestampType`` holds instants and counts by
its wall-clock day in ``tz=``, or else in the session time zone
(``spark.sql.session.timeZone``); text is read as ISO 8601 (a UTC offset, when present,
converts it to ``tz=``), or with ``date_format=``. Text in other layouts needs
``date_format=`` (pandas would guess the layout from the first value, a guess a cluster
could make differently per partition).

The executors need churnlab installed (``--py-files`` or the cluster's libraries) for
:func:`score` and for the BG/NBD columns of ``make_churn_dataset(..., as_spark=True)``; the
other functions run in the JVM alone.

Examples
--------
>>> from pyspark.sql import SparkSession
>>> from churnlab import BetaGeo, GammaGamma, spark as cs
>>> from churnlab.datasets import load_cdnow
>>> spark = SparkSession.builder.getOrCreate()
>>> tx = spark.createDataFrame(load_cdnow("sample").drop(columns="quantity"))
>>> summary = cs.rfm_summary(tx, "1997-09-30", as_spark=True)
>>> bg = cs.fit(BetaGeo(), summary)
>>> bg.params_.round(3).tolist()
[0.243, 4.414, 0.793, 2.426]
"""

from __future__ import annotations

try:
    import pyspark  # noqa: F401
except ImportError as err:  # pragma: no cover - exercised without the extra only
    raise ImportError(
        "churnlab.spark needs PySpark: pip install 'churnlab[spark]' (and Java 17 or later)"
    ) from err

from churnlab.spark._models import fit, score
from churnlab.spark._summaries import (
    calibration_holdout_split,
    inspect_transactions,
    make_churn_dataset,
    rfm_summary,
)

__all__ = [
    "calibration_holdout_split",
    "fit",
    "inspect_transactions",
    "make_churn_dataset",
    "rfm_summary",
    "score",
]
