"""What Spark costs on one machine: ``churnlab.spark`` in local[2] against the pandas path.

Requirement (issue): run the Spark path on 5,000,000 transactions in ``local[2]`` and state its
overhead against the single-machine path honestly. Spark earns its keep on a cluster, where the
data do not fit one machine; on two cores it pays for the JVM, the query planning, the shuffle
and the Parquet scans without a second machine to share the work. This script measures how
much, stage by stage, and checks that both paths give the same numbers.

The transactions are those of ``bench_rfm.py`` (500,000 customers, two years, time of day
included, integer ids), written once to Parquet (several row groups, so two tasks can scan in
parallel). Stages, each timed on both paths in the same process:

1. **rfm_summary**: pandas on the table in memory; Spark from the Parquet file, collected to
   pandas, and with ``as_spark=True`` written to Parquet (the cluster recipe);
2. **fit**: ``BetaGeo().fit`` on the pandas summary; ``churnlab.spark.fit`` on the written
   summary (distinct rows counted in Spark, fitted on the driver);
3. **score**: P(alive), expected purchases (52 weeks) and CLV (Gamma-Gamma, 10% a year) of
   every customer; pandas in memory; Spark with ``mapInPandas`` written to Parquet;
4. **make_churn_dataset** (cutoff 2023-12-31, 26 weeks, BG/NBD columns): pandas; Spark
   collected to pandas.

Times are wall-clock seconds (one warm-up call on a small table first, then ``--repeat``
calls, the median reported) and the CPU seconds of the whole process tree (driver, JVM and
Python workers), which depend less on a shared machine's load. Agreement: frequency, recency
and T equal, money to 1e-9 relative, predictions to 1e-9; the BG/NBD fits to 1e-9 in
log-likelihood and 1e-6 in ``r`` and ``alpha`` (the synthetic log has no dropout, so ``a`` and
``b`` are not identified and only reported).

Usage: ``python benchmarks/bench_spark.py [--quick] [--repeat N] [--partitions N]``. Exits 0
when the paths agree, 1 when they do not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _measure  # noqa: E402
from bench_rfm import END, make_transactions  # noqa: E402

#: Sizes from the issue.
N_TRANSACTIONS = 5_000_000
N_CUSTOMERS = 500_000
#: Sizes for ``--quick`` (a check of the script, not a benchmark).
QUICK_TRANSACTIONS = 200_000
QUICK_CUSTOMERS = 20_000
CUTOFF = "2023-12-31"
HORIZON = "26W"
#: Rows per Parquet row group: 5,000,000 rows make 10 groups, so scans run in parallel.
ROW_GROUP = 500_000
SCORE_HORIZON = 52.0
DISCOUNT_RATE = 0.10


def tree_cpu_seconds() -> float:
    """CPU seconds of this process and all its descendants alive now (JVM, Python workers)."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                # the command name may hold spaces: the fields after it follow the last ')'
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, stack = 0.0, [os.getpid()]
    while stack:
        pid = stack.pop()
        total += cpu.get(pid, 0.0)
        stack += children.get(pid, [])
    return total


def timed(call, repeat: int):
    """Median wall-clock and process-tree CPU seconds of ``repeat`` calls, and the result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        cpu0, start = tree_cpu_seconds(), time.perf_counter()
        result = call()
        walls.append(time.perf_counter() - start)
        cpus.append(tree_cpu_seconds() - cpu0)
    return result, statistics.median(walls), statistics.median(cpus)


def start_spark(partitions: int):
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("churnlab-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "8g")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.sql.files.maxPartitionBytes", str(16 * 1024 * 1024))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def max_rel_diff(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300), initial=0.0))


def compare_frames(got: pd.DataFrame, expected: pd.DataFrame, exact: tuple[str, ...]) -> float:
    """Largest relative difference of the inexact columns; raises when the exact ones differ."""
    if not got.index.equals(expected.index) or list(got.columns) != list(expected.columns):
        raise AssertionError("different customers or columns")
    worst = 0.0
    for column in got.columns:
        if column in exact or got[column].dtype.kind in "iu":
            if not np.array_equal(got[column].to_numpy(), expected[column].to_numpy()):
                raise AssertionError(f"{column} differs")
        else:
            worst = max(worst, max_rel_diff(got[column], expected[column]))
    return worst


def main(args: argparse.Namespace) -> int:
    warnings.simplefilter("ignore", FutureWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    # the synthetic log is not drawn from BG/NBD: Hessian notes of the fits are not the subject
    warnings.simplefilter("ignore", UserWarning)
    n_tx, n_cust = (
        (QUICK_TRANSACTIONS, QUICK_CUSTOMERS)
        if args.quick
        else (args.n_transactions, args.n_customers)
    )
    _measure.print_header(
        f"churnlab.spark in local[2] against the pandas path: {n_tx:,} transactions, "
        f"{n_cust:,} customers"
    )
    import churnlab
    from churnlab import BetaGeo, GammaGamma, customer_lifetime_value
    from churnlab import spark as cs
    from churnlab.churn import make_churn_dataset

    tx = make_transactions(n_tx, n_cust)
    workdir = Path(tempfile.mkdtemp(prefix="churnlab-bench-spark-"))
    source = workdir / "transactions.parquet"
    tx.to_parquet(source, row_group_size=ROW_GROUP, coerce_timestamps="us", index=False)
    _, read_s, _ = timed(lambda: pd.read_parquet(source), 1)

    cpu0, start = tree_cpu_seconds(), time.perf_counter()
    spark = start_spark(args.partitions)
    spark.range(1).count()
    start_s, start_cpu = time.perf_counter() - start, tree_cpu_seconds() - cpu0
    import pyspark

    java = spark.sparkContext._jvm.System.getProperty("java.version")
    print(
        f"pyspark {pyspark.__version__}, Java {java}, shuffle partitions {args.partitions}, "
        f"repeat {args.repeat}"
    )
    sdf = spark.read.parquet(str(source))
    print(f"Spark reads the date column as {dict(sdf.dtypes)['date']}")

    # warm-up of every path on a small table (JIT, code generation, Python workers)
    small = tx.sample(20_000, random_state=0).sort_index()
    small_sdf = spark.createDataFrame(small)
    cs.fit(BetaGeo(), cs.rfm_summary(small_sdf, END, as_spark=True))
    cs.make_churn_dataset(small_sdf, CUTOFF, HORIZON)
    warm_rfm = churnlab.rfm_summary(small, END)
    warm_bg = BetaGeo().fit(warm_rfm)
    cs.score(
        spark.createDataFrame(warm_rfm.reset_index()), warm_bg, horizon=1.0, time_unit="W"
    ).count()

    rows, checks = [], []

    def stage(name, pandas_call, spark_call, note="", pandas_time=None):
        """Time both paths; ``pandas_time`` reuses the pandas figures of an earlier stage."""
        if pandas_time is None:
            p_out, p_s, p_cpu = timed(pandas_call, args.repeat)
        else:
            p_out, (p_s, p_cpu) = None, pandas_time
        s_out, s_s, s_cpu = timed(spark_call, args.repeat)
        rows.append(
            {
                "stage": name,
                "pandas_s": p_s,
                "spark_s": s_s,
                "ratio": s_s / p_s,
                "pandas_cpu": p_cpu,
                "spark_cpu": s_cpu,
                "note": note,
            }
        )
        print(f"  {name}: pandas {p_s:.2f} s, Spark {s_s:.2f} s", flush=True)
        return p_out, s_out

    # 1. RFM summary
    rfm_pd, rfm_sp = stage(
        "rfm_summary -> pandas",
        lambda: churnlab.rfm_summary(tx, END),
        lambda: cs.rfm_summary(sdf, END),
        "Spark scans the Parquet file",
    )
    checks.append(("rfm_summary", compare_frames(rfm_sp, rfm_pd, ("frequency", "recency", "T"))))
    summary_path = workdir / "summary.parquet"

    def write_summary():
        cs.rfm_summary(sdf, END, as_spark=True).write.mode("overwrite").parquet(str(summary_path))

    stage(
        "rfm_summary -> Parquet (as_spark)",
        None,
        write_summary,
        "against the pandas call above",
        pandas_time=(rows[0]["pandas_s"], rows[0]["pandas_cpu"]),
    )
    summary_sdf = spark.read.parquet(str(summary_path))

    # 2. fit on distinct rows
    bg_pd, bg_sp = stage(
        "fit BetaGeo",
        lambda: BetaGeo().fit(rfm_pd),
        lambda: cs.fit(BetaGeo(), summary_sdf, time_unit="W"),
        "Spark: distinct rows counted, collected, fitted",
    )
    # the synthetic log has no dropout, so a and b are not identified (a -> 0): compare the
    # maximised log-likelihood and the identified r, alpha
    checks.append(
        ("BetaGeo log-likelihood", max_rel_diff(bg_sp.log_likelihood_, bg_pd.log_likelihood_))
    )
    identified = ["r", "alpha"]
    checks.append(
        ("BetaGeo r, alpha", max_rel_diff(bg_sp.params_[identified], bg_pd.params_[identified]))
    )
    print(
        "  BetaGeo on the pandas summary: "
        + ", ".join(f"{k} {v:.6g}" for k, v in bg_pd.params_.items())
        + f"; a and b of the Spark fit differ by "
        f"{max_rel_diff(bg_sp.params_[['a', 'b']], bg_pd.params_[['a', 'b']]):.2g} (relative)"
    )
    repeat_buyers = rfm_pd[rfm_pd["frequency"] > 0]
    gg = GammaGamma().fit(repeat_buyers)
    print(
        f"  distinct (frequency, recency, T) rows: {bg_sp.n_unique_:,} of "
        f"{int(bg_sp.n_customers_):,} customers"
    )

    # 3. scoring
    def score_pandas():
        out = rfm_pd.copy()
        out["probability_alive"] = bg_pd.probability_alive(rfm_pd)
        out["expected_purchases"] = bg_pd.conditional_expected_purchases(SCORE_HORIZON, rfm_pd)
        out["clv"] = customer_lifetime_value(
            bg_pd,
            gg,
            rfm_pd,
            time_unit="W",
            horizon=SCORE_HORIZON,
            discount_rate=DISCOUNT_RATE,
        )
        return out

    scores_path = workdir / "scores.parquet"

    def score_spark():
        scored = cs.score(
            summary_sdf,
            bg_pd,
            gg,
            horizon=SCORE_HORIZON,
            time_unit="W",
            discount_rate=DISCOUNT_RATE,
        )
        scored.write.mode("overwrite").parquet(str(scores_path))

    scores_pd, _ = stage(
        "score (P(alive), E[purchases], CLV)",
        score_pandas,
        score_spark,
        "Spark: mapInPandas, written to Parquet",
    )
    scores_sp = pd.read_parquet(scores_path).set_index("customer_id").sort_index()
    for column in ("probability_alive", "expected_purchases", "clv"):
        checks.append((column, max_rel_diff(scores_sp[column], scores_pd[column])))

    # 4. churn data set
    churn_pd, churn_sp = stage(
        "make_churn_dataset -> pandas",
        lambda: make_churn_dataset(tx, CUTOFF, HORIZON),
        lambda: cs.make_churn_dataset(sdf, CUTOFF, HORIZON),
        "with the BG/NBD columns",
    )
    checks.append(
        (
            "make_churn_dataset",
            compare_frames(churn_sp[0], churn_pd[0], ("frequency", "recency", "tenure")),
        )
    )
    if not churn_sp[1].equals(churn_pd[1]):
        raise AssertionError("churn labels differ")

    print(
        f"\nSpark session start (JVM): {start_s:.1f} s wall, {start_cpu:.1f} s CPU; "
        f"pandas reads the Parquet file in {read_s:.2f} s (not in the pandas times below)"
    )
    print(
        _measure.format_table(
            rows,
            [
                ("stage", "stage"),
                ("pandas_s", "pandas s"),
                ("spark_s", "Spark local[2] s"),
                ("ratio", "Spark / pandas"),
                ("pandas_cpu", "pandas CPU s"),
                ("spark_cpu", "Spark CPU s"),
                ("note", "note"),
            ],
        )
    )
    limits = {"BetaGeo r, alpha": 1e-6}
    agree = True
    for name, diff in checks:
        ok = diff <= limits.get(name, 1e-9)
        agree &= ok
        print(f"agreement {name}: max relative difference {diff:.2g} -> {'ok' if ok else 'NO'}")
    print(f"Load average after the run: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    spark.stop()
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if agree else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    parser.add_argument("--n-transactions", type=int, default=N_TRANSACTIONS)
    parser.add_argument("--n-customers", type=int, default=N_CUSTOMERS)
    parser.add_argument("--repeat", type=int, default=1, help="timed calls per stage")
    parser.add_argument("--partitions", type=int, default=8, help="spark.sql.shuffle.partitions")
    parser.add_argument("--keep", action="store_true", help="keep the Parquet files")
    sys.exit(main(parser.parse_args()))
