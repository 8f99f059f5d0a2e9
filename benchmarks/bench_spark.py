"""What Spark costs on one machine: ``churnlab.spark`` in local[2] against the pandas path.

Requirement (issue): run the Spark path on 5,000,000 transactions in ``local[2]`` and state its
overhead against the single-machine path honestly. Spark earns its keep on a cluster, where the
data do not fit one machine; on two cores it pays for the JVM, the query planning, the shuffle
and the Parquet scans without a second machine to share the work. This script measures how
much, stage by stage, and checks that both paths give the same numbers.

The transactions are synthetic and seeded (:func:`make_transactions`): 500,000 customers who
join during 2023 and buy by the BG/NBD process until the end of 2024, about 10 transactions
each with the time of day, log-normal amounts, and 3% of the repeat purchases returned 1-14
days later; every call nets the returns (``returns="net"``, the heavier path on both sides).
The log is written once to Parquet (10 row groups, so two tasks can scan in parallel).
Stages, each timed on every path in the same process:

1. **rfm_summary**: pandas on the table in memory; DuckDB (``churnlab.rfm_summary`` of the
   Parquet file's path, :mod:`churnlab.engines.duckdb`); Spark from the Parquet file,
   collected to pandas, and with ``as_spark=True`` written to Parquet (the cluster recipe);
2. **fit**: ``BetaGeo().fit`` and ``GammaGamma().fit`` on the pandas summary;
   ``churnlab.spark.fit`` on the written summary (distinct rows counted in Spark, fitted on
   the driver);
3. **score**: P(alive), expected purchases (52 weeks) and CLV (Gamma-Gamma, 10% a year) of
   every customer; pandas in memory; Spark with ``mapInPandas`` written to Parquet;
4. **make_churn_dataset** (cutoff 2023-12-31, 26 weeks, BG/NBD columns): pandas; DuckDB
   from the Parquet file; Spark collected to pandas.

Times are wall-clock seconds (one warm-up call on a small table first, then ``--repeat``
calls, the median reported) and the CPU seconds of the whole process tree (driver, JVM and
Python workers), which depend less on a shared machine's load. Agreement: frequency, recency
and T equal, money to 1e-9 relative, predictions to 1e-9; the fits reach the same maximum
(log-likelihood to 1e-12) and parameters within 1e-4 (the optimizer's tolerance along a flat
ridge: the distinct rows arrive in another order).

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

#: Sizes from the issue.
N_TRANSACTIONS = 5_000_000
N_CUSTOMERS = 500_000
#: Sizes for ``--quick`` (a check of the script, not a benchmark).
QUICK_TRANSACTIONS = 200_000
QUICK_CUSTOMERS = 20_000
START = "2023-01-01"
END = "2024-12-31"
#: BG/NBD purchase process (weeks) of the synthetic log: about 10 transactions a customer.
BGNBD_TRUTH = {"r": 1.4, "alpha": 6.0, "a": 0.7, "b": 5.0}
#: Share of repeat purchases returned 1-14 days later (a part or all of their value).
RETURN_SHARE = 0.03
SEED = 20261202
CUTOFF = "2023-12-31"
HORIZON = "26W"
#: The returns policy of every call: netting is the heavier path on both sides.
RETURNS = "net"
#: Rows per Parquet row group: 5,000,000 rows make 10 groups, so scans run in parallel.
ROW_GROUP = 500_000
SCORE_HORIZON = 52.0
DISCOUNT_RATE = 0.10


def bgnbd_truth(n_transactions: int, n_customers: int) -> dict[str, float]:
    """:data:`BGNBD_TRUTH` with the rate scaled to about ``n_transactions / n_customers``
    transactions a customer (the truth gives about 10)."""
    truth = dict(BGNBD_TRUTH)
    truth["alpha"] *= 10.0 * n_customers / n_transactions
    return truth


def make_transactions(n_transactions: int, n_customers: int, seed: int = SEED) -> pd.DataFrame:
    """A seeded log of about ``n_transactions`` rows with returns, from the BG/NBD process.

    Customers join uniformly over 2023 and are observed to the end of 2024; their purchases
    follow BG/NBD with :data:`BGNBD_TRUTH` (``churnlab.datasets.simulate_bgnbd``), at a random
    time of day, with log-normal amounts. A share :data:`RETURN_SHARE` of the repeat purchases
    is returned 1-14 days later (a negative row of 30-100% of the amount) when that falls in
    the window. The rate is scaled so that the log holds about ``n_transactions`` rows.
    """
    from churnlab.datasets import simulate_bgnbd

    rng = np.random.default_rng(seed)
    n_days = int((np.datetime64(END) - np.datetime64(START)).astype(int)) + 1
    born = rng.uniform(0, 365, n_customers)  # day of the first purchase
    truth = bgnbd_truth(n_transactions, n_customers)
    _, buys = simulate_bgnbd(
        n_customers, **truth, T=(n_days - born) / 7, seed=rng, return_transactions=True
    )
    customer = buys["customer_id"].to_numpy()
    when = born[customer] + buys["t"].to_numpy() * 7  # days since START
    # the first purchase keeps its day; every purchase gets a random time of day
    day = np.floor(when)
    seconds = rng.integers(0, 86_400, len(day))
    amount = np.round(rng.lognormal(3.0, 0.7, len(day)), 2)
    repeat = buys["t"].to_numpy() > 0
    returned = repeat & (rng.random(len(day)) < RETURN_SHARE)
    r_day = day[returned] + rng.integers(1, 15, int(returned.sum()))
    keep = r_day < n_days
    r_amount = -np.round(amount[returned] * rng.uniform(0.3, 1.0, int(returned.sum())), 2)
    customer = np.r_[customer, customer[returned][keep]]
    day = np.r_[day, r_day[keep]]
    seconds = np.r_[seconds, rng.integers(0, 86_400, int(keep.sum()))]
    amount = np.r_[amount, r_amount[keep]]
    start = np.datetime64(START, "s")
    stamps = start + (day.astype(np.int64) * 86_400 + seconds).astype("timedelta64[s]")
    order = np.argsort(stamps, kind="stable")  # a till log, in time order
    return pd.DataFrame(
        {
            "customer_id": 1_000_000 + customer[order],
            "date": stamps[order].astype("datetime64[ns]"),
            "amount": amount[order],
        }
    )


def tree_cpu_seconds() -> float:
    """CPU seconds of this process and its descendants (JVM, Python workers), ended ones
    included once reaped."""
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
        # user and system time, and that of its children it has reaped (Spark's Python
        # workers end and are reaped by their daemon, the daemon by the JVM)
        cpu[pid] = sum(int(v) for v in fields[11:15]) / tick
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
    # the returns warnings (and the zero-spend note of the CLV) are the same on both paths
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
    ids = tx["customer_id"].drop_duplicates().sample(2_000, random_state=0)
    small = tx[tx["customer_id"].isin(ids)]  # whole histories, so the warm-up fits are proper
    small_sdf = spark.createDataFrame(small)
    cs.fit(BetaGeo(), cs.rfm_summary(small_sdf, END, returns=RETURNS, as_spark=True))
    cs.make_churn_dataset(small_sdf, CUTOFF, HORIZON, returns=RETURNS)
    small_path = workdir / "small.parquet"
    small.to_parquet(small_path, coerce_timestamps="us", index=False)
    churnlab.rfm_summary(str(small_path), END, returns=RETURNS)
    make_churn_dataset(str(small_path), CUTOFF, HORIZON, returns=RETURNS)
    warm_rfm = churnlab.rfm_summary(small, END, returns=RETURNS)
    warm_bg = BetaGeo().fit(warm_rfm)
    cs.score(
        spark.createDataFrame(warm_rfm.reset_index()), warm_bg, horizon=1.0, time_unit="W"
    ).count()

    rows, checks = [], []

    def stage(name, pandas_call, spark_call, note="", pandas_time=None, duckdb_call=None):
        """Time the paths; ``pandas_time`` reuses the pandas figures of an earlier stage."""
        if pandas_time is None:
            p_out, p_s, p_cpu = timed(pandas_call, args.repeat)
        else:
            p_out, (p_s, p_cpu) = None, pandas_time
        d_out, d_s, d_cpu = (None, None, None)
        if duckdb_call is not None:
            d_out, d_s, d_cpu = timed(duckdb_call, args.repeat)
            duckdb_results[name] = d_out
        s_out, s_s, s_cpu = timed(spark_call, args.repeat)
        rows.append(
            {
                "stage": name,
                "pandas_s": p_s,
                "duckdb_s": d_s if d_s is not None else "-",
                "spark_s": s_s,
                "ratio": s_s / p_s,
                "duckdb_ratio": s_s / d_s if d_s else "-",
                "pandas_cpu": p_cpu,
                "duckdb_cpu": d_cpu if d_cpu is not None else "-",
                "spark_cpu": s_cpu,
                "note": note,
            }
        )
        duck = f", DuckDB {d_s:.2f} s" if d_s is not None else ""
        print(f"  {name}: pandas {p_s:.2f} s{duck}, Spark {s_s:.2f} s", flush=True)
        return p_out, s_out

    duckdb_results: dict = {}

    # 1. RFM summary
    rfm_pd, rfm_sp = stage(
        "rfm_summary -> pandas",
        lambda: churnlab.rfm_summary(tx, END, returns=RETURNS),
        lambda: cs.rfm_summary(sdf, END, returns=RETURNS),
        "Spark and DuckDB read the Parquet file",
        duckdb_call=lambda: churnlab.rfm_summary(str(source), END, returns=RETURNS),
    )
    checks.append(
        (
            "rfm_summary (DuckDB)",
            compare_frames(
                duckdb_results["rfm_summary -> pandas"], rfm_pd, ("frequency", "recency", "T")
            ),
        )
    )
    checks.append(("rfm_summary", compare_frames(rfm_sp, rfm_pd, ("frequency", "recency", "T"))))
    summary_path = workdir / "summary.parquet"

    def write_summary():
        cs.rfm_summary(sdf, END, returns=RETURNS, as_spark=True).write.mode("overwrite").parquet(
            str(summary_path)
        )

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
    checks.append(("BetaGeo params", max_rel_diff(bg_sp.params_, bg_pd.params_)))
    checks.append(
        ("BetaGeo log-likelihood", max_rel_diff(bg_sp.log_likelihood_, bg_pd.log_likelihood_))
    )
    print(
        "  BetaGeo: "
        + ", ".join(f"{k} {v:.4g}" for k, v in bg_pd.params_.items())
        + " (truth "
        + ", ".join(f"{k} {v:.4g}" for k, v in bgnbd_truth(n_tx, n_cust).items())
        + f"); distinct (frequency, recency, T) rows: {bg_sp.n_unique_:,} of "
        f"{int(bg_sp.n_customers_):,} customers"
    )
    # the spend model: repeat buyers whose purchases were not all refunded
    spenders = rfm_pd[(rfm_pd["frequency"] > 0) & (rfm_pd["monetary_value"] > 0)]
    gg_pd, gg_sp = stage(
        "fit GammaGamma",
        lambda: GammaGamma().fit(spenders),
        lambda: cs.fit(GammaGamma(), summary_sdf.filter("frequency > 0 AND monetary_value > 0")),
        "Spark: distinct rows counted, collected, fitted",
    )
    checks.append(("GammaGamma params", max_rel_diff(gg_sp.params_, gg_pd.params_)))
    checks.append(
        (
            "GammaGamma log-likelihood",
            max_rel_diff(gg_sp.log_likelihood_, gg_pd.log_likelihood_),
        )
    )
    gg = gg_pd

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
        lambda: make_churn_dataset(tx, CUTOFF, HORIZON, returns=RETURNS),
        lambda: cs.make_churn_dataset(sdf, CUTOFF, HORIZON, returns=RETURNS),
        "with the BG/NBD columns",
        duckdb_call=lambda: make_churn_dataset(str(source), CUTOFF, HORIZON, returns=RETURNS),
    )
    checks.append(
        (
            "make_churn_dataset (DuckDB)",
            compare_frames(
                duckdb_results["make_churn_dataset -> pandas"][0],
                churn_pd[0],
                ("frequency", "recency", "tenure"),
            ),
        )
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
                ("duckdb_s", "DuckDB s"),
                ("spark_s", "Spark local[2] s"),
                ("ratio", "Spark / pandas"),
                ("duckdb_ratio", "Spark / DuckDB"),
                ("pandas_cpu", "pandas CPU s"),
                ("duckdb_cpu", "DuckDB CPU s"),
                ("spark_cpu", "Spark CPU s"),
                ("note", "note"),
            ],
        )
    )
    # the distinct rows reach the optimizer in another order (sorted, not first seen), so it
    # stops at another point of the same flat top: the log-likelihoods agree to rounding,
    # parameters along a flat ridge (Gamma-Gamma's q and v) to the optimizer's tolerance
    limits = {"BetaGeo params": 1e-4, "GammaGamma params": 1e-4}
    limits |= {"BetaGeo log-likelihood": 1e-12, "GammaGamma log-likelihood": 1e-12}
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
