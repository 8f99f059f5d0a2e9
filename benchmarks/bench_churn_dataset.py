"""Speed and memory of ``churnlab.churn.make_churn_dataset`` on large transaction logs.

Requirements (issue 8, section 5): on 20,000,000 transactions (2,000,000 customers),
``make_churn_dataset`` at least 2x faster than before the change and at most 70 bytes of peak
memory per input row; the earlier requirement, 5,000,000 transactions of 500,000 customers in
under 30 seconds on the project's 2-core machine, is checked too.

The log is synthetic (seeded, built with vectorised numpy): every customer buys on a first
purchase day in the first year and keeps buying for a lifetime that varies between customers,
the other transactions go to customers with Gamma(0.5)-distributed propensities, on uniformly
random days of each customer's active span, with lognormal amounts and 1-5 units. The cutoff
is one year in, the horizon 26 weeks. Two configurations are measured: the full feature set
including the BG/NBD fit on the RFM summary, and the transaction features alone
(``bgnbd=False``). Each is measured in a fresh child process (see ``_measure.py`` for how time
and memory are taken), for the working tree's churnlab and for the baseline: the package as it
was at ``--baseline-rev`` (default :data:`BASELINE_REV`, the commit before the change),
exported with ``git archive`` into a temporary directory put first on the child's
``PYTHONPATH``. Bytes per row are the peak memory of the call divided by the input rows.

Usage: ``python benchmarks/bench_churn_dataset.py [--quick] [--baseline-rev REV|none]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _measure  # noqa: E402

#: (transactions, customers) measured; the requirements are checked at the largest.
SIZES = ((5_000_000, 500_000), (20_000_000, 2_000_000))
#: Sizes for ``--quick`` (a check of the script, not a benchmark).
QUICK_SIZES = ((200_000, 20_000),)
#: Required wall-clock time at 5,000,000 transactions (the first issue).
LIMIT_SECONDS = 30.0
#: At the largest size: required speed-up over the baseline, and peak bytes per input row.
MIN_SPEEDUP = 2.0
MAX_BYTES_PER_ROW = 70.0
#: The commit before the single-sort churn features: the baseline of the speed-up.
BASELINE_REV = "f850e43"
REPO = Path(__file__).resolve().parent.parent
START = "2023-01-01"
N_DAYS = 731  # 2023-01-01 .. 2024-12-31
CUTOFF = "2023-12-31"
HORIZON = "26W"
SEED = 20240607
#: First purchases fall in the first this many days; mean time a customer keeps buying (days).
FIRST_PURCHASE_DAYS = 365
MEAN_LIFETIME_DAYS = 365
CONFIGS = {
    "full": {"bgnbd": True},
    "no_bgnbd": {"bgnbd": False},
}


def make_transactions(n_transactions: int, n_customers: int, seed: int = SEED) -> pd.DataFrame:
    """Seeded log with columns customer_id, date, quantity, amount (in time order).

    Each customer is active from a first purchase day (uniform over the first year) for an
    exponential lifetime whose mean varies between customers (Gamma(0.7), mean
    :data:`MEAN_LIFETIME_DAYS`), cut at the end of the data, and
    buys on that first day and on uniformly random days of the active span; purchases go to
    customers with Gamma(0.5)-distributed propensities. Customers who stop buying make the
    BG/NBD identifiable at every size.
    """
    rng = np.random.default_rng(seed)
    propensity = rng.gamma(0.5, size=n_customers)
    extra = rng.choice(
        n_customers, size=n_transactions - n_customers, p=propensity / propensity.sum()
    )
    birth = rng.integers(0, FIRST_PURCHASE_DAYS, size=n_customers)
    mean_lifetime = rng.gamma(0.7, MEAN_LIFETIME_DAYS / 0.7, size=n_customers)
    lifetime = rng.exponential(mean_lifetime).astype(np.int64)
    active = np.minimum(lifetime, N_DAYS - 1 - birth) + 1  # days in the active span
    day = np.concatenate(
        [birth, birth[extra] + (rng.random(len(extra)) * active[extra]).astype(np.int64)]
    )
    customer = np.concatenate([np.arange(n_customers), extra])
    del extra
    order = np.argsort(day, kind="stable")
    dates = np.datetime64(START, "D") + day[order].astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "customer_id": 1_000_000 + customer[order],
            "date": dates.astype("datetime64[ns]"),
            "quantity": rng.integers(1, 6, size=n_transactions),
            "amount": np.round(rng.lognormal(3.0, 0.8, size=n_transactions), 2),
        }
    )


def child(config: str, n_transactions: int, n_customers: int) -> None:
    """Build the log, warm up on 1% of the customers, time one call, print the record."""
    import churnlab
    from churnlab.churn import make_churn_dataset

    tx = make_transactions(n_transactions, n_customers)
    options = dict(CONFIGS[config], quantity_col="quantity")
    warm = tx[tx["customer_id"] < 1_000_000 + max(n_customers // 100, 1_000)]
    make_churn_dataset(warm, CUTOFF, HORIZON, data_end="2024-12-31", **options)
    del warm
    (X, y), record = _measure.measure(
        lambda: make_churn_dataset(tx, CUTOFF, HORIZON, **options), repeat=1
    )
    record.update(
        config=config,
        n_transactions=n_transactions,
        n_customers=int(len(X)),
        n_features=int(X.shape[1]),
        churn_rate=float(y.mean()),
        bytes_per_row=record["peak_mb"] * 2**20 / n_transactions,
        churnlab=str(Path(churnlab.__file__).parent),
    )
    _measure.emit(record)


def export_baseline(rev: str) -> Path:
    """``churnlab/`` as it was at ``rev``, in a new temporary directory (returned)."""
    target = Path(tempfile.mkdtemp(prefix="bench-churn-baseline-"))
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "churnlab"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    parser.add_argument(
        "--baseline-rev",
        default=BASELINE_REV,
        help=f"git revision measured as the baseline (default {BASELINE_REV}; 'none' to skip)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--n-transactions", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--n-customers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.n_transactions, args.n_customers)
        return 0
    sizes = QUICK_SIZES if args.quick else SIZES
    baseline = None if args.baseline_rev == "none" else args.baseline_rev
    _measure.print_header("make_churn_dataset: 5M and 20M transactions, against the baseline")
    print(f"cutoff {CUTOFF}, horizon {HORIZON}; baseline: {baseline or 'not measured'}")
    implementations = {"new": str(REPO)}
    tmp = export_baseline(baseline) if baseline else None
    if tmp is not None:
        implementations = {"baseline": str(tmp), **implementations}
    rows = []
    try:
        for n_tx, n_cust in sizes:
            for config in CONFIGS:
                pair = {}
                for name, path in implementations.items():
                    env = dict(os.environ, PYTHONPATH=path)
                    argv = ["--child", config, "--n-transactions", str(n_tx)]
                    argv += ["--n-customers", str(n_cust)]
                    record = _measure.run_child(__file__, argv, env=env)
                    record["implementation"] = name
                    pair[name] = record
                    rows.append(record)
                if "baseline" in pair:
                    new, old = pair["new"], pair["baseline"]
                    new["speedup"] = old["seconds"] / new["seconds"]
                    new["cpu_speedup"] = old["cpu_seconds"] / new["cpu_seconds"]
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    columns = [
        ("n_transactions", "transactions"),
        ("config", "configuration"),
        ("implementation", "churnlab"),
        ("n_customers", "customers"),
        ("n_features", "features"),
        ("seconds", "wall s"),
        ("cpu_seconds", "cpu s"),
        ("peak_mb", "peak MB"),
        ("bytes_per_row", "B/row"),
        ("speedup", "wall speed-up"),
        ("cpu_speedup", "cpu speed-up"),
    ]
    print(_measure.format_table(rows, columns))
    print(f"memory: {rows[0]['method']}")
    for name, path in {row["implementation"]: row["churnlab"] for row in rows}.items():
        print(f"{name}: churnlab imported from {path}")
    # exit status 1 when a requirement fails, as the other benchmark scripts do
    largest = max(n for n, _ in sizes)
    ok = True
    for row in rows:
        if row["implementation"] != "new":
            continue
        if row["n_transactions"] == 5_000_000 and row["seconds"] >= LIMIT_SECONDS:
            print(f"NOT MET: {row['config']} at 5M takes {row['seconds']:.1f} s")
            ok = False
        if row["n_transactions"] == largest and not args.quick:
            if row["bytes_per_row"] > MAX_BYTES_PER_ROW:
                print(f"NOT MET: {row['config']} needs {row['bytes_per_row']:.1f} B/row")
                ok = False
            if row.get("speedup", 0.0) < MIN_SPEEDUP:
                print(f"NOT MET: {row['config']} speed-up {row.get('speedup')} < {MIN_SPEEDUP}")
                ok = False
    print("requirements hold" if ok else "a requirement is NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
