"""End to end on 100,000,000 transactions of 10,000,000 customers in Parquet, under 3 GB.

Requirement (issue 8): from a Parquet file of 100,000,000 transactions (10,000,000 customers),
compute the per-customer summary, fit BG/NBD and Gamma-Gamma, and value every customer over
one year, with the peak resident memory of the whole process under 3 GB; report the time of
each stage.

The transactions are synthetic and seeded (:func:`write_transactions`), written once to
``--data-dir`` in row groups of about 4,000,000 rows (pyarrow ``ParquetWriter``, one block of
customers at a time, never the whole log in memory) and reused while their manifest (sizes,
seed, generator version) matches. Customers join uniformly over 2023-2024 with a first
purchase at a random time of day and then buy by the BG/NBD process (:data:`BGNBD_TRUTH`,
``alpha`` calibrated so that the log holds the requested number of rows) until the end of
2024; amounts are log-normal around a log-normal mean of each customer, and 3% of the repeat
purchases are returned 1-14 days later (a negative row of 30-100% of the amount). Customer ids
are integers, shuffled over the blocks, so every row group holds customers from the whole id
range; within a row group the rows are in time order.

One fresh child process then runs the pipeline stage by stage:

1. ``churnlab.rfm_summary(path, END, engine_options={"memory_limit": ..., "temp_directory":
   ...})``: DuckDB in-process, spilling to a folder under ``--data-dir`` beyond the limit
   (default ``1GB``), returning the pandas frame of the in-memory path (default returns
   policy, ``"exclude"``);
2. ``churnlab.BetaGeo().fit(summary)`` (identical (frequency, recency, T) rows collapse into
   weights);
3. ``churnlab.GammaGamma().fit(...)`` on the repeat buyers;
4. ``churnlab.customer_lifetime_value(bg, gg, summary, time_unit="W", horizon=52, step=1,
   discount_rate=0.10)``: one year in weekly steps, 10% a year, for every customer;
5. the summary and the CLV written to ``scores.parquet`` beside the data.

Each stage prints wall-clock seconds, CPU seconds of the whole process (all threads, DuckDB's
included), the process's peak resident memory during the stage (``VmHWM``, reset before the
stage through ``/proc/self/clear_refs`` after ``gc.collect()`` and ``malloc_trim(0)``, as in
``_measure``; it includes the interpreter, the imports and everything still held from earlier
stages) and the sizes of its result. The overall peak is the largest of these and of the peak
before the first stage (start-up and imports): the whole child process.

Checks, cheap and after the timed run (in this process, not the child): the summary of
20,000 random customers as the pandas path computes it from their transactions (read from the
file with a DuckDB filter) equals the DuckDB summary (frequency, recency and T exactly, money
within 1e-9 relative); their CLV recomputed on that sample with the saved models equals the
full run's to 1e-9; the BG/NBD fit recovers the simulated parameters within
:data:`TRUTH_TOLERANCE` relative.

Usage: ``python benchmarks/bench_end_to_end.py [--quick] [--data-dir DIR] [--memory-limit
1GB]``. Exits 0 when the peak of the child stays under 3 GB (3,000,000,000 bytes) and the
checks pass, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _measure  # noqa: E402

#: Sizes from the issue, and for ``--quick`` (a check of the script, not a benchmark).
N_TRANSACTIONS = 100_000_000
N_CUSTOMERS = 10_000_000
QUICK_TRANSACTIONS = 1_000_000
QUICK_CUSTOMERS = 100_000
SEED = 20261203
#: Bump when the generator changes: a manifest with another version is not reused.
GENERATOR_VERSION = 1
START = "2023-01-01"
END = "2024-12-31"
#: BG/NBD process of the log, per week; ``alpha`` is recalibrated to the requested size.
BGNBD_TRUTH = {"r": 1.5, "alpha": 6.0, "a": 0.6, "b": 6.0}
#: Share of repeat purchases returned 1-14 days later.
RETURN_SHARE = 0.03
#: Log-normal amounts: each customer's log-mean ~ N(3.0, 0.5), amounts ~ LN(log-mean, 0.6).
SPEND_LOG_MEAN, SPEND_LOG_SPREAD, AMOUNT_LOG_SD = 3.0, 0.5, 0.6
#: Rows per Parquet row group (about): one block of customers each.
ROW_GROUP_ROWS = 4_000_000
#: CLV: one year in weekly steps at 10% a year.
HORIZON_WEEKS, STEP_WEEKS, DISCOUNT_RATE = 52.0, 1.0, 0.10
#: Peak resident memory allowed to the whole child process.
LIMIT_BYTES = 3_000_000_000
SAMPLE_CUSTOMERS = 20_000
#: How far (relative) each fitted BG/NBD parameter may be from the truth.
TRUTH_TOLERANCE = 0.10
ID_OFFSET = 10_000_000


# --- data -------------------------------------------------------------------------------------
def _window_days() -> int:
    return int((np.datetime64(END) - np.datetime64(START)).astype(int)) + 1


def _simulate_block(n: int, truth: dict, rng: np.random.Generator, transactions: bool):
    """One block of customers: birth days and their BG/NBD purchases (in weeks after birth)."""
    from churnlab.datasets import simulate_bgnbd

    n_days = _window_days()
    born = rng.uniform(0, n_days, n)  # the first purchase, in days since START (time of day)
    T = np.maximum((n_days - born) / 7, 1e-9)
    return born, simulate_bgnbd(n, **truth, T=T, seed=rng, return_transactions=transactions)


def calibrate_truth(n_transactions: int, n_customers: int, seed: int) -> dict[str, float]:
    """:data:`BGNBD_TRUTH` with ``alpha`` such that the log holds about ``n_transactions`` rows.

    Rows per customer = 1 first purchase + x repeat purchases + returns (about
    :data:`RETURN_SHARE` of x); the mean of x on a seeded pilot of 1,000,000 customers is
    matched by bisection on log(alpha) (common random numbers: the pilot's seed is fixed).
    """
    target = n_transactions / n_customers - 1.0

    def mean_rows(alpha: float) -> float:
        rng = np.random.default_rng([seed, 0xCA11B])
        truth = dict(BGNBD_TRUTH, alpha=alpha)
        _, sim = _simulate_block(1_000_000, truth, rng, transactions=False)
        return float(sim["frequency"].mean()) * (1 + RETURN_SHARE)

    low, high = np.log(0.01), np.log(1000.0)
    for _ in range(25):
        middle = 0.5 * (low + high)
        if mean_rows(float(np.exp(middle))) > target:
            low = middle  # too many purchases: a larger alpha (slower rate)
        else:
            high = middle
    return dict(BGNBD_TRUTH, alpha=round(float(np.exp(0.5 * (low + high))), 6))


def _block_table(ids: np.ndarray, truth: dict, rng: np.random.Generator):
    """The transactions of one block of customers as an Arrow table, in time order."""
    import pyarrow as pa

    n = len(ids)
    n_days = _window_days()
    born, (_, buys) = _simulate_block(n, truth, rng, transactions=True)
    owner = buys["customer_id"].to_numpy()
    when = born[owner] + buys["t"].to_numpy() * 7.0  # days since START
    log_mean = rng.normal(SPEND_LOG_MEAN, SPEND_LOG_SPREAD, n)
    amount = np.maximum(np.round(rng.lognormal(log_mean[owner], AMOUNT_LOG_SD), 2), 0.01)
    repeat = buys["t"].to_numpy() > 0
    del buys
    returned = np.flatnonzero(repeat & (rng.random(len(when)) < RETURN_SHARE))
    r_when = (
        np.floor(when[returned]) + rng.integers(1, 15, len(returned)) + rng.random(len(returned))
    )
    keep = r_when < n_days
    r_amount = -np.round(amount[returned] * rng.uniform(0.3, 1.0, len(returned)), 2)
    owner = np.concatenate([owner, owner[returned][keep]])
    when = np.concatenate([when, r_when[keep]])
    amount = np.concatenate([amount, np.minimum(r_amount[keep], -0.01)])
    micros = np.datetime64(START, "us").astype(np.int64) + np.floor(when * 86_400e6).astype(
        np.int64
    )
    order = np.argsort(micros, kind="stable")
    return pa.table(
        {
            "customer_id": pa.array(ids[owner[order]], pa.int64()),
            "date": pa.array(micros[order], pa.int64()).cast(pa.timestamp("us")),
            "amount": pa.array(amount[order], pa.float64()),
        }
    )


def write_transactions(path: Path, n_transactions: int, n_customers: int, seed: int) -> dict:
    """Write the seeded log to ``path`` block by block; return its manifest."""
    import pyarrow.parquet as pq

    start = time.perf_counter()
    truth = calibrate_truth(n_transactions, n_customers, seed)
    rng = np.random.default_rng(seed)
    ids = ID_OFFSET + rng.permutation(n_customers).astype(np.int64)
    n_blocks = max(4, -(-n_transactions // ROW_GROUP_ROWS))
    bounds = np.linspace(0, n_customers, n_blocks + 1).astype(np.int64)
    rows = returns = 0
    partial = path.with_suffix(".partial")
    writer = None
    try:
        for block in range(n_blocks):
            table = _block_table(
                ids[bounds[block] : bounds[block + 1]], truth, np.random.default_rng([seed, block])
            )
            if writer is None:
                writer = pq.ParquetWriter(partial, table.schema, compression="snappy")
            writer.write_table(table, row_group_size=len(table))
            rows += len(table)
            returns += int(np.count_nonzero(table.column("amount").to_numpy() < 0))
            print(
                f"  block {block + 1}/{n_blocks}: {len(table):,} rows "
                f"({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    finally:
        if writer is not None:
            writer.close()
    partial.replace(path)
    return {
        "n_transactions": n_transactions,
        "n_customers": n_customers,
        "seed": seed,
        "version": GENERATOR_VERSION,
        "truth": truth,
        "rows": rows,
        "returns": returns,
        "row_groups": n_blocks,
        "bytes": path.stat().st_size,
        "seconds": time.perf_counter() - start,
    }


def ensure_data(folder: Path, n_transactions: int, n_customers: int, seed: int) -> tuple:
    """The Parquet file and its manifest: reused when the manifest matches, else written."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"e2e-{n_transactions}-{n_customers}-{seed}.parquet"
    manifest_path = path.with_suffix(".json")
    wanted = {"n_transactions": n_transactions, "n_customers": n_customers, "seed": seed}
    wanted["version"] = GENERATOR_VERSION
    if manifest_path.exists() and path.exists():
        manifest = json.loads(manifest_path.read_text())
        same = all(manifest.get(k) == v for k, v in wanted.items())
        if same and manifest.get("bytes") == path.stat().st_size:
            print(f"reusing {path} (manifest matches)", flush=True)
            return path, manifest
    print(f"writing {path} ...", flush=True)
    manifest = write_transactions(path, n_transactions, n_customers, seed)
    manifest_path.write_text(json.dumps(manifest, indent=1))
    return path, manifest


# --- the child: the pipeline, stage by stage ----------------------------------------------
def _stage(name: str, call, describe, records: list) -> object:
    """Run one stage; append and print its wall / CPU seconds, peak RSS and result sizes."""
    _measure._release_free_memory()
    reset = _measure._reset_peak()
    rss_before = _measure._status_kib("VmRSS")
    start, cpu = time.perf_counter(), time.process_time()
    result = call()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    record = {
        "stage": name,
        "wall_s": wall,
        "cpu_s": cpu,
        "rss_before_mb": rss_before / 1024,
        "peak_mb": _measure._status_kib("VmHWM") / 1024,
        "rss_after_mb": _measure._status_kib("VmRSS") / 1024,
        "peak_reset": reset,
        "load": os.getloadavg()[0],
    }
    sizes = ", ".join(f"{k} {v}" for k, v in describe(result).items())
    record.update(describe(result), result=sizes)
    records.append(record)
    print(
        f"  {name}: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {record['peak_mb']:,.0f} MiB "
        f"(before {record['rss_before_mb']:,.0f} MiB); {sizes}",
        flush=True,
    )
    return result


def child(args: argparse.Namespace) -> None:
    import warnings

    start, cpu = time.perf_counter(), time.process_time()
    import pandas as pd

    import churnlab
    from churnlab.transactions import ReturnsWarning

    warnings.simplefilter("ignore", ReturnsWarning)  # the returns are excluded, as intended
    path, out = Path(args.path), Path(args.out)
    spill = out.parent / "duckdb-spill"
    spill.mkdir(exist_ok=True)
    records = [
        {
            "stage": "start-up and imports",
            "wall_s": time.perf_counter() - start,
            "cpu_s": time.process_time() - cpu,
            "rss_before_mb": None,
            "peak_mb": _measure._status_kib("VmHWM") / 1024,
            "rss_after_mb": _measure._status_kib("VmRSS") / 1024,
            "load": os.getloadavg()[0],
        }
    ]
    print(f"  churnlab from {churnlab.__file__}", flush=True)
    options = {"memory_limit": args.memory_limit, "temp_directory": str(spill)}
    if args.threads:
        options["threads"] = args.threads

    summary = _stage(
        "1 rfm_summary (DuckDB, Parquet)",
        lambda: churnlab.rfm_summary(str(path), END, engine_options=options),
        lambda s: {"customers": len(s), "repeat_buyers": int((s["frequency"] > 0).sum())},
        records,
    )
    bg = _stage(
        "2 BetaGeo().fit",
        lambda: churnlab.BetaGeo().fit(summary),
        lambda m: {
            "distinct_rows": m.n_unique_,
            "iterations": m.n_iter_,
            "converged": m.converged_,
        },
        records,
    )

    def fit_spend():
        repeat = summary[summary["frequency"] > 0]
        return churnlab.GammaGamma().fit(repeat["frequency"], repeat["monetary_value"])

    gg = _stage(
        "3 GammaGamma().fit (repeat buyers)",
        fit_spend,
        lambda m: {
            "distinct_rows": m.n_unique_,
            "iterations": m.n_iter_,
            "converged": m.converged_,
        },
        records,
    )
    clv = _stage(
        "4 customer_lifetime_value (52 weekly steps)",
        lambda: churnlab.customer_lifetime_value(
            bg,
            gg,
            summary,
            time_unit="W",
            horizon=HORIZON_WEEKS,
            step=STEP_WEEKS,
            discount_rate=DISCOUNT_RATE,
        ),
        lambda c: {"customers": len(c), "total_clv": round(float(c.sum()), 2)},
        records,
    )

    def write_scores():
        summary["clv"] = clv.to_numpy()
        summary.to_parquet(out)
        return out

    _stage(
        "5 scores to Parquet",
        write_scores,
        lambda p: {"file_mb": round(p.stat().st_size / 2**20, 1)},
        records,
    )
    bg.save(out.with_name("beta_geo.json"))
    gg.save(out.with_name("gamma_gamma.json"))
    _measure.emit(
        {
            "stages": records,
            "bg_params": bg.params_.to_dict(),
            "gg_params": gg.params_.to_dict(),
            "pandas": pd.__version__,
        }
    )


def run_child_streaming(argv: list[str]) -> dict:
    """Run the child, echo its output as it comes, return the record it emitted."""
    proc = subprocess.Popen(
        [sys.executable, __file__, *argv], stdout=subprocess.PIPE, text=True, bufsize=1
    )
    record = None
    for line in proc.stdout:
        if line.startswith(_measure.MARKER):
            record = json.loads(line[len(_measure.MARKER) :])
        else:
            print(line, end="", flush=True)
    if proc.wait() != 0 or record is None:
        raise RuntimeError(f"the pipeline child failed (exit {proc.returncode})")
    return record


# --- checks -------------------------------------------------------------------------------
def check_sample(path: Path, scores_path: Path, n_customers: int, seed: int) -> dict:
    """The pandas path on 20,000 random customers' transactions against the DuckDB run."""
    import duckdb
    import pandas as pd
    import pyarrow.parquet as pq

    import churnlab
    from churnlab.transactions import ReturnsWarning

    rng = np.random.default_rng([seed, 5])
    size = min(SAMPLE_CUSTOMERS, n_customers)
    sample = ID_OFFSET + np.sort(rng.choice(n_customers, size, replace=False)).astype(np.int64)
    con = duckdb.connect()
    con.register("sample_ids", pd.DataFrame({"id": sample}))
    tx = con.execute(
        "SELECT * FROM read_parquet(?) WHERE customer_id IN (SELECT id FROM sample_ids)",
        [str(path)],
    ).df()
    con.close()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReturnsWarning)
        expected = churnlab.rfm_summary(tx, END)
    scores = pq.read_table(scores_path, filters=[("customer_id", "in", sample.tolist())])
    got = scores.to_pandas()
    same_ids = got.index.equals(expected.index)
    exact = same_ids and all(
        np.array_equal(got[c].to_numpy(), expected[c].to_numpy())
        for c in ("frequency", "recency", "T")
    )
    money = (
        float(
            np.max(
                np.abs(got["monetary_value"] - expected["monetary_value"])
                / np.maximum(expected["monetary_value"].abs(), 1e-300)
            )
        )
        if same_ids
        else float("inf")
    )
    bg = churnlab.BetaGeo.load(scores_path.with_name("beta_geo.json"))
    gg = churnlab.GammaGamma.load(scores_path.with_name("gamma_gamma.json"))
    clv = churnlab.customer_lifetime_value(
        bg,
        gg,
        expected,
        time_unit="W",
        horizon=HORIZON_WEEKS,
        step=STEP_WEEKS,
        discount_rate=DISCOUNT_RATE,
    )
    clv_diff = (
        float(np.max(np.abs(got["clv"] - clv) / np.maximum(clv.abs(), 1e-300)))
        if same_ids
        else float("inf")
    )
    return {
        "sample": size,
        "sample_rows": len(tx),
        "same_customers": bool(same_ids),
        "frt_exact": bool(exact),
        "money_rel": money,
        "clv_rel": clv_diff,
        "ok": bool(exact and money <= 1e-9 and clv_diff <= 1e-9),
    }


def main(args: argparse.Namespace) -> int:
    if args.child:
        child(args)
        return 0
    n_tx = args.n_transactions or (QUICK_TRANSACTIONS if args.quick else N_TRANSACTIONS)
    n_cust = args.n_customers or (QUICK_CUSTOMERS if args.quick else N_CUSTOMERS)
    _measure.print_header("End to end from Parquet: summary, BG/NBD, Gamma-Gamma, one-year CLV")
    import duckdb
    import pyarrow

    print(f"duckdb {duckdb.__version__}, pyarrow {pyarrow.__version__}", flush=True)
    folder = Path(args.data_dir)
    path, manifest = ensure_data(folder, n_tx, n_cust, args.seed)
    print(
        f"data: {manifest['rows']:,} rows ({manifest['returns']:,} returns) of {n_cust:,} "
        f"customers, {manifest['row_groups']} row groups, {manifest['bytes'] / 2**20:,.0f} MB; "
        f"BG/NBD truth {manifest['truth']}",
        flush=True,
    )
    work = folder / f"e2e-run-{n_tx}-{n_cust}"
    work.mkdir(exist_ok=True)
    out = work / "scores.parquet"
    print(
        f"pipeline child (memory_limit={args.memory_limit}, spill to {work / 'duckdb-spill'}), "
        f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}:",
        flush=True,
    )
    argv = ["--child", "--path", str(path), "--out", str(out), "--memory-limit", args.memory_limit]
    if args.threads:
        argv += ["--threads", str(args.threads)]
    record = run_child_streaming(argv)
    stages = record["stages"]
    print(
        _measure.format_table(
            stages,
            [
                ("stage", "stage"),
                ("wall_s", "wall s"),
                ("cpu_s", "CPU s"),
                ("rss_before_mb", "RSS before MiB"),
                ("peak_mb", "peak RSS MiB"),
                ("load", "load (1 min)"),
                ("result", "result"),
            ],
        )
    )
    peak = max(s["peak_mb"] for s in stages)
    pipeline = sum(s["wall_s"] for s in stages[1:])
    pipeline_cpu = sum(s["cpu_s"] for s in stages[1:])
    print(f"pipeline (stages 1-5): {pipeline:.1f} s wall, {pipeline_cpu:.1f} s CPU")
    under = peak * 2**20 < LIMIT_BYTES
    print(
        f"peak resident memory of the child: {peak:,.0f} MiB -> "
        f"{'under' if under else 'NOT under'} 3 GB ({LIMIT_BYTES / 2**20:,.0f} MiB)"
    )
    truth = manifest["truth"]
    fitted = record["bg_params"]
    off = {k: fitted[k] / truth[k] - 1 for k in truth}
    recovered = all(abs(v) <= TRUTH_TOLERANCE for v in off.values())
    print(
        "BG/NBD: "
        + ", ".join(f"{k} {fitted[k]:.4g} (truth {truth[k]:.4g}, {off[k]:+.1%})" for k in truth)
        + f" -> {'recovered' if recovered else 'NOT recovered'} within {TRUTH_TOLERANCE:.0%}"
    )
    print("Gamma-Gamma: " + ", ".join(f"{k} {v:.4g}" for k, v in record["gg_params"].items()))
    check = check_sample(path, out, n_cust, args.seed)
    print(
        f"check on {check['sample']:,} customers ({check['sample_rows']:,} rows) through the "
        f"pandas path: same customers {check['same_customers']}, frequency/recency/T exact "
        f"{check['frt_exact']}, monetary value within {check['money_rel']:.2g}, CLV within "
        f"{check['clv_rel']:.2g} -> {'ok' if check['ok'] else 'FAILED'}"
    )
    print("load average at the end (1, 5, 15 min):", " ".join(f"{v:.2f}" for v in os.getloadavg()))
    return 0 if under and recovered and check["ok"] else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1M transactions, 100k customers")
    parser.add_argument(
        "--data-dir",
        default=os.path.join(tempfile.gettempdir(), "churnlab-bench-e2e"),
        help="where the Parquet data (reused), the spill folder and the scores go",
    )
    parser.add_argument("--n-transactions", type=int)
    parser.add_argument("--n-customers", type=int)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB's memory_limit")
    parser.add_argument("--threads", type=int, help="DuckDB's threads (default: its choice)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(parse_args()))
