"""RFM summary speed and memory: ``churnlab.rfm_summary`` against lifetimes 0.11.3.

Requirement (issue): on 5,000,000 transactions of 500,000 customers over two years,
``churnlab.rfm_summary`` is at least 10x faster than
``lifetimes.utils.summary_data_from_transaction_data`` and needs less peak memory.

Both compute the same thing: purchases collapsed to calendar days, frequency = repeat purchase
days, recency and T in weeks on the daily grid, monetary value = mean spend per repeat purchase
day. lifetimes gets ``freq="D", freq_multiplier=7`` for that (it aggregates to its ``freq``
period first, so ``freq="W"`` would collapse whole weeks), churnlab ``time_unit="W"``. The
outputs are checked for agreement on a subsample of customers before anything is timed.

Usage: ``python benchmarks/bench_rfm.py [--quick] [--n-transactions N] [--n-customers M]``.
"""

from __future__ import annotations

import argparse
import sys
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
#: Required speed-up over lifetimes (issue).
REQUIRED_SPEEDUP = 10.0
#: Two years of transactions; the observation ends on the last day.
START = "2023-01-01"
END = "2024-12-31"
#: Customers in the agreement check, and rows in the warm-up call.
N_AGREE = 20_000
N_WARMUP = 1_000
#: Timed calls per measurement: churnlab's median of three (it takes well under a second and
#: a shared machine is noisy), lifetimes' one (it takes many seconds).
REPEATS = {"churnlab": 3}
SEED = 20240101
#: ``int`` is the issue's case; ``str`` (ids like "C1000123") is reported alongside.
CASES = {
    "int": "integer customer ids",
    "str": "string customer ids",
}


def make_transactions(
    n_transactions: int, n_customers: int, seed: int = SEED, id_kind: str = "int"
) -> pd.DataFrame:
    """Seeded transaction log: customer_id, date (timestamp with time of day), amount.

    Every customer buys at least once; the remaining transactions go to customers with
    Gamma(0.5)-distributed propensities (a few heavy buyers, many light ones), at uniformly
    random seconds over the two years. Rows are in time order, as a till log would be.
    """
    rng = np.random.default_rng(seed)
    propensity = rng.gamma(0.5, size=n_customers)
    weights = propensity / propensity.sum()
    extra = rng.choice(n_customers, size=n_transactions - n_customers, p=weights)
    customer = np.concatenate([np.arange(n_customers), extra])
    start = np.datetime64(START, "s")
    span = int((np.datetime64(END, "s") + np.timedelta64(1, "D") - start).astype(np.int64))
    when = start + rng.integers(0, span, size=n_transactions).astype("timedelta64[s]")
    amount = np.round(rng.lognormal(3.0, 0.8, size=n_transactions), 2)
    order = np.argsort(when, kind="stable")
    ids = 1_000_000 + customer[order]
    if id_kind == "str":
        ids = "C" + pd.Series(ids).astype(str)
    return pd.DataFrame(
        {"customer_id": ids, "date": when[order].astype("datetime64[ns]"), "amount": amount[order]}
    )


def run_churnlab(tx: pd.DataFrame) -> pd.DataFrame:
    import churnlab

    return churnlab.rfm_summary(tx, END, time_unit="W")


def run_lifetimes(tx: pd.DataFrame) -> pd.DataFrame:
    from lifetimes.utils import summary_data_from_transaction_data

    return summary_data_from_transaction_data(
        tx,
        "customer_id",
        "date",
        monetary_value_col="amount",
        observation_period_end=END,
        freq="D",
        freq_multiplier=7,
    )


def agreement(tx: pd.DataFrame, n_customers: int, seed: int = SEED) -> dict:
    """Run both on the transactions of ``n_customers`` random customers; compare the outputs."""
    rng = np.random.default_rng(seed + 1)
    ids = tx["customer_id"].unique()
    chosen = rng.choice(ids, size=min(n_customers, len(ids)), replace=False)
    sub = tx[tx["customer_id"].isin(chosen)]
    ours = run_churnlab(sub)
    theirs = run_lifetimes(sub)
    same = bool(ours.index.sort_values().equals(theirs.index.sort_values()))
    theirs = theirs.reindex(ours.index)
    record = {
        "customers": len(ours),
        "same_customers": same,
        "frequency_equal": bool((ours["frequency"] == theirs["frequency"]).all()),
    }
    for column in ("recency", "T", "monetary_value"):
        diff = np.abs(ours[column].to_numpy() - theirs[column].to_numpy())
        record[f"max_abs_diff_{column}"] = float(np.nanmax(diff))
    record["agree"] = bool(
        record["same_customers"]
        and record["frequency_equal"]
        and all(record[f"max_abs_diff_{c}"] < 1e-9 for c in ("recency", "T"))
        and record["max_abs_diff_monetary_value"] < 1e-6
    )
    return record


def child(args: argparse.Namespace) -> None:
    warnings.simplefilter("ignore", FutureWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    tx = make_transactions(args.n_transactions, args.n_customers, id_kind=args.case)
    if args.child == "agree":
        _measure.emit(agreement(tx, N_AGREE))
        return
    call = run_churnlab if args.child == "churnlab" else run_lifetimes
    call(tx.iloc[:N_WARMUP])
    result, record = _measure.measure(lambda: call(tx), REPEATS.get(args.child, 1))
    record["rows_out"] = len(result)
    _measure.emit(record)


def main(args: argparse.Namespace) -> int:
    _measure.set_blas_threads(args.blas_threads)
    _measure.print_header(
        f"rfm_summary vs lifetimes summary_data_from_transaction_data: "
        f"{args.n_transactions:,} transactions, {args.n_customers:,} customers, {START}..{END}"
    )
    script = str(Path(__file__).resolve())
    sizes = ["--n-transactions", str(args.n_transactions), "--n-customers", str(args.n_customers)]
    rows, ok, method, blas = [], True, None, None
    for case in args.cases:
        base = [*sizes, "--case", case]
        agree = _measure.run_child(script, ["--child", "agree", *base])
        print(
            f"[{case}] agreement on {agree['customers']:,} customers: frequency equal "
            f"{agree['frequency_equal']}, max |diff| recency {agree['max_abs_diff_recency']:.2g}, "
            f"T {agree['max_abs_diff_T']:.2g}, monetary {agree['max_abs_diff_monetary_value']:.2g}"
            f" -> {'agree' if agree['agree'] else 'DISAGREE'}"
        )
        ours = _measure.run_child(script, ["--child", "churnlab", *base])
        theirs = _measure.run_child(script, ["--child", "lifetimes", *base])
        method, blas = ours["method"], ours["blas"]
        print(
            f"[{case}] churnlab calls took {', '.join(f'{v:.3f}' for v in ours['all_seconds'])} s"
        )
        ratio = theirs["seconds"] / ours["seconds"]
        cpu_ratio = theirs["cpu_seconds"] / ours["cpu_seconds"]
        holds = (
            ratio >= REQUIRED_SPEEDUP
            and ours["peak_mb"] < theirs["peak_mb"]
            and agree["agree"]
            and ours["rows_out"] == theirs["rows_out"]
        )
        if case == "int":
            ok &= holds
        rows.append(
            {
                "case": CASES[case],
                "ours_s": ours["seconds"],
                "theirs_s": theirs["seconds"],
                "ratio": ratio,
                "cpu_ratio": cpu_ratio,
                "ours_mb": ours["peak_mb"],
                "theirs_mb": theirs["peak_mb"],
                "holds": holds,
            }
        )
    print(
        _measure.format_table(
            rows,
            [
                ("case", "case"),
                ("ours_s", "churnlab s"),
                ("theirs_s", "lifetimes s"),
                ("ratio", "ratio"),
                ("cpu_ratio", "CPU-time ratio"),
                ("ours_mb", "churnlab peak MB"),
                ("theirs_mb", "lifetimes peak MB"),
                ("holds", f">={REQUIRED_SPEEDUP:g}x & less memory"),
            ],
        )
    )
    print(
        f"peak memory: {method}; after a {N_WARMUP}-row warm-up, churnlab "
        "timed as the median of 3 calls, lifetimes once; the exit status is judged on the "
        "integer-id case (the issue's)"
    )
    print(f"BLAS in the measuring processes: {blas}")
    return 0 if ok else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    parser.add_argument("--n-transactions", type=int)
    parser.add_argument("--n-customers", type=int)
    parser.add_argument(
        "--blas-threads", type=int, help="limit BLAS/OpenMP threads in the measuring processes"
    )
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--case", choices=sorted(CASES), default="int", help=argparse.SUPPRESS)
    parser.add_argument(
        "--child", choices=["churnlab", "lifetimes", "agree"], help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.n_transactions is None:
        args.n_transactions = QUICK_TRANSACTIONS if args.quick else N_TRANSACTIONS
    if args.n_customers is None:
        args.n_customers = QUICK_CUSTOMERS if args.quick else N_CUSTOMERS
    if args.n_customers > args.n_transactions:
        parser.error("--n-customers must not exceed --n-transactions")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.child:
        child(arguments)
    else:
        sys.exit(main(arguments))
