"""The RFM summary by engine: pandas in memory, DuckDB from Parquet, and Polars, on 5M and 50M rows.

The same transactions (``bench_rfm.make_transactions``: timestamps with time of day, ten
transactions per customer on average, two years) are written once to a Parquet file; each
engine then runs in a fresh process:

* ``pandas``: ``churnlab.rfm_summary`` on a DataFrame read from the file (reading not timed);
* ``duckdb``: ``churnlab.rfm_summary`` on the file path (DuckDB, default memory limit);
* ``duckdb-1GB``: the same with ``engine_options={"memory_limit": "1GB"}`` (spilling to disk);
* ``polars``: a Polars group-by written to compute the same summary, on a DataFrame read from
  the file (reading not timed);
* ``polars-stream``: the same query on ``pl.scan_parquet`` with Polars' streaming engine.

Each process times its first call (cold: thread pools, file metadata) and then two warm calls
(median), with peak memory as in ``_measure`` (the resident-set high-water mark during the call
minus the resident size before it; for the in-memory engines the input frame is already
resident and not counted). Every engine's result is checked against the pandas path's:
identical customers and frequency; recency, T and monetary value within 1e-9 relative (and
whether recency and T are equal bit for bit).

Usage: ``python benchmarks/bench_engines.py [--quick] [--sizes 5000000 50000000]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _measure  # noqa: E402
from bench_rfm import END, make_transactions  # noqa: E402

#: Sizes from the issue, and for ``--quick`` (a check of the script, not a benchmark).
SIZES = (5_000_000, 50_000_000)
QUICK_SIZES = (200_000,)
#: Transactions per customer on average (as in bench_rfm: 5M rows of 500k customers).
ROWS_PER_CUSTOMER = 10
ENGINES = ("pandas", "duckdb", "duckdb-1GB", "polars", "polars-stream")
#: Warm calls after the first (their median is reported).
WARM = 2
#: Summaries end on the last day of the data, in weeks.
UNIT_DAYS = 7.0


def polars_summary(frame, end: str):
    """frequency / recency / T / monetary value per customer, as churnlab defines them.

    Purchases (amount >= 0) collapse to calendar days; frequency = purchase days - 1; recency
    and T from the first day, in weeks; monetary value = (total - first-day spend) / frequency.
    """
    import polars as pl

    end_day = pl.lit(pd.Timestamp(end).date())
    return (
        frame.filter(pl.col("amount") >= 0)
        .with_columns(pl.col("date").dt.date().alias("day"))
        .group_by("customer_id", "day")
        .agg(pl.col("amount").sum())
        .group_by("customer_id")
        .agg(
            pl.len().alias("days"),
            pl.col("day").min().alias("first"),
            pl.col("day").max().alias("last"),
            pl.col("amount").sum().alias("total"),
            pl.col("amount").get(pl.col("day").arg_min()).alias("first_amount"),
        )
        .select(
            "customer_id",
            (pl.col("days") - 1).alias("frequency"),
            ((pl.col("last") - pl.col("first")).dt.total_days() / UNIT_DAYS).alias("recency"),
            ((end_day - pl.col("first")).dt.total_days() / UNIT_DAYS).alias("T"),
            pl.when(pl.col("days") > 1)
            .then(
                (pl.col("total") - pl.col("first_amount")).clip(lower_bound=0)
                / (pl.col("days") - 1)
            )
            .otherwise(0.0)
            .alias("monetary_value"),
        )
        .sort("customer_id")
    )


def child(engine: str, path: str, out: str) -> None:
    """Time one engine on the Parquet file; write its summary to ``out`` for the check."""
    import churnlab

    if engine == "pandas":
        frame = pd.read_parquet(path)

        def call():
            return churnlab.rfm_summary(frame, END)
    elif engine.startswith("duckdb"):
        options = {"memory_limit": "1GB"} if engine == "duckdb-1GB" else None

        def call():
            return churnlab.rfm_summary(path, END, engine_options=options)
    else:
        import polars as pl

        if engine == "polars":
            frame = pl.read_parquet(path)

            def call():
                return polars_summary(frame.lazy(), END).collect()
        else:

            def call():
                return polars_summary(pl.scan_parquet(path), END).collect(engine="streaming")

    _, first = _measure.measure(call, repeat=1)
    result, warm = _measure.measure(call, repeat=WARM)
    if engine.startswith("polars"):
        result = result.to_pandas().set_index("customer_id")
    result.to_parquet(out)
    _measure.emit(
        {
            "engine": engine,
            "first_s": first["seconds"],
            "first_peak_mb": first["peak_mb"],
            "warm_s": warm["seconds"],
            "warm_cpu_s": warm["cpu_seconds"],
            "warm_peak_mb": warm["peak_mb"],
            "method": warm["method"],
        }
    )


def agree(result: pd.DataFrame, reference: pd.DataFrame) -> tuple[bool, bool]:
    """(same result, recency and T bit for bit) against the pandas path.

    Same result: identical customers and frequency; recency, T and monetary value within 1e-9
    relative. Polars divides by multiplying with the reciprocal, so its recency and T may
    differ from a division in the last bit; churnlab's engines agree exactly.
    """
    if not result.index.equals(reference.index):
        return False, False
    same = np.array_equal(result["frequency"], reference["frequency"]) and all(
        np.allclose(result[c], reference[c], rtol=1e-9, atol=0)
        for c in ("recency", "T", "monetary_value")
    )
    exact = all(
        np.array_equal(result[c].to_numpy(float), reference[c].to_numpy(float))
        for c in ("recency", "T")
    )
    return same, exact


def run_size(n_rows: int, folder: Path) -> list[dict]:
    n_customers = n_rows // ROWS_PER_CUSTOMER
    path = folder / f"tx-{n_rows}.parquet"
    frame = make_transactions(n_rows, n_customers)
    frame.to_parquet(path, row_group_size=1_000_000)
    size_mb = path.stat().st_size / 2**20
    del frame
    rows, results = [], {}
    for engine in ENGINES:
        out = folder / f"result-{engine}-{n_rows}.parquet"
        record = _measure.run_child(
            __file__, ["--child", engine, "--path", str(path), "--out", str(out)]
        )
        results[engine] = pd.read_parquet(out)
        record.update(rows=f"{n_rows:,}", customers=f"{len(results[engine]):,}")
        record["parquet_mb"] = size_mb
        rows.append(record)
        print(f"  {engine}: done", flush=True)
    for record in rows:
        record["agrees"], record["exact"] = agree(results[record["engine"]], results["pandas"])
    path.unlink()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="+")
    parser.add_argument("--child")
    parser.add_argument("--path")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.path, args.out)
        return 0
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    _measure.print_header("RFM summary by engine: pandas, DuckDB (Parquet), Polars")
    import duckdb
    import polars

    print(f"duckdb {duckdb.__version__}, polars {polars.__version__}")
    folder = Path(tempfile.mkdtemp(prefix="churnlab-bench-engines-"))
    try:
        rows = []
        for n in sizes:
            print(f"{n:,} transactions:", flush=True)
            rows += run_size(n, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    columns = [
        ("rows", "rows"),
        ("engine", "engine"),
        ("first_s", "first call s"),
        ("warm_s", "warm s"),
        ("warm_cpu_s", "warm CPU s"),
        ("first_peak_mb", "first peak MB"),
        ("warm_peak_mb", "warm peak MB"),
        ("agrees", "same result"),
        ("exact", "R, T exact"),
    ]
    print(_measure.format_table(rows, columns))
    print(
        f"memory: {rows[0]['method']}; Parquet sizes (MB): "
        + ", ".join(f"{r['rows']}: {r['parquet_mb']:.0f}" for r in rows[:: len(ENGINES)])
    )
    print("load average at the end (1, 5, 15 min):", " ".join(f"{v:.2f}" for v in os.getloadavg()))
    return 0 if all(r["agrees"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
