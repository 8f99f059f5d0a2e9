"""BG/NBD fit speed and memory: ``churnlab.BetaGeo().fit`` against lifetimes 0.11.3.

Requirements: on 1,000,000 simulated customers observed for 39 weeks, with purchase times on a
daily grid, ``churnlab.BetaGeo().fit`` is at least 50x faster than lifetimes'
``BetaGeoFitter().fit`` on the same arrays and needs less than 1 GB of peak memory (first
issue); on 1,000,000 customers who joined over two years, at least 40x (issue "Your
transactions, any size", section 5).

Inputs come from :func:`churnlab.datasets.simulate_bgnbd` with the CDNOW estimates of Fader,
Hardie & Lee (2005) as the true parameters. Every purchase time is floored to a whole day and
purchases on the same day are one purchase occasion, as :func:`churnlab.rfm_summary` does with
real dates; recency and T are in weeks on that daily grid. Cases:

* ``cohort``: everyone's first purchase on one day, observed for 39 weeks (T = 39 for all), so
  many customers share the same (x, t_x, T) and churnlab's row compression pays off fully;
* ``joined``: first purchases spread uniformly over two years (T from 1 to 730 days), so
  (x, t_x, T) rows repeat far less (325,122 distinct rows): held to 40x.

lifetimes fits every row (it compresses nothing itself); ``lifetimes+w`` is lifetimes given the
distinct rows and their counts as ``weights`` (the compression done by the user, inside the
timed call), for reference only.

Usage: ``python benchmarks/bench_beta_geo.py [--quick] [--n N] [--cases cohort joined]``.
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

from churnlab.models import CDNOW_BGNBD_PUBLISHED  # noqa: E402

#: Customers in the benchmark (issue) and in ``--quick`` (a check of the script only).
N_CUSTOMERS = 1_000_000
QUICK_CUSTOMERS = 20_000
#: Requirements (issue): speed-up over lifetimes and churnlab's peak memory.
REQUIRED_SPEEDUP = {"cohort": 50.0, "joined": 40.0}
MAX_PEAK_MB = 1024.0
#: True parameters: the BG/NBD estimates on the CDNOW sample (per week) reported by Fader,
#: Hardie & Lee (2005), Marketing Science 24(2); churnlab and lifetimes both reproduce them.
CDNOW_PARAMS = dict(CDNOW_BGNBD_PUBLISHED)
#: Observation window of the cohort case (weeks), as in CDNOW; days per week.
COHORT_WEEKS = 39
DAYS_PER_WEEK = 7
#: Join window of the ``joined`` case: first purchases over two years (days).
JOIN_DAYS = 730
N_WARMUP = 2_000
#: Timed calls per measurement: churnlab's median of three (it takes well under a second and
#: a shared machine is noisy), lifetimes' one (it takes many seconds).
REPEATS = {"churnlab": 3}
SEED = 20050101
CASES = {
    "cohort": "cohort, T = 39 weeks",
    "joined": "joined over 2 years",
}
CHILDREN = ("churnlab", "lifetimes", "lifetimes+w")


def make_inputs(n: int, case: str, seed: int = SEED) -> pd.DataFrame:
    """frequency, recency, T (weeks, on a daily grid) of ``n`` simulated customers."""
    from churnlab.datasets import simulate_bgnbd

    rng = np.random.default_rng(seed)
    if case == "cohort":
        T_days = np.full(n, COHORT_WEEKS * DAYS_PER_WEEK)
    else:
        T_days = rng.integers(1, JOIN_DAYS + 1, size=n)
    _, tx = simulate_bgnbd(
        n, **CDNOW_PARAMS, T=T_days / DAYS_PER_WEEK, seed=rng, return_transactions=True
    )
    customer = tx["customer_id"].to_numpy()
    day = np.floor(tx["t"].to_numpy() * DAYS_PER_WEEK)
    # Sorted by customer then time, so a new purchase day is a change of customer or of day.
    new_day = np.r_[True, (customer[1:] != customer[:-1]) | (day[1:] != day[:-1])]
    n_days = np.bincount(customer[new_day], minlength=n)
    last_row = np.cumsum(np.bincount(customer, minlength=n)) - 1
    return pd.DataFrame(
        {
            "frequency": n_days - 1,
            "recency": day[last_row] / DAYS_PER_WEEK,
            "T": T_days / DAYS_PER_WEEK,
        }
    )


def fit_churnlab(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> dict:
    from churnlab import BetaGeo

    model = BetaGeo().fit(x, t_x, T)
    return {
        "params": model.params_.to_dict(),
        "rows_fitted": model.n_unique_,
        "n_iter": model.n_iter_,
    }


def fit_lifetimes(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> dict:
    from lifetimes import BetaGeoFitter

    model = BetaGeoFitter().fit(x, t_x, T)
    return {"params": model.params_.to_dict(), "rows_fitted": len(x), "n_iter": None}


def fit_lifetimes_weighted(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> dict:
    from lifetimes import BetaGeoFitter

    rows, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    model = BetaGeoFitter().fit(rows[:, 0], rows[:, 1], rows[:, 2], weights=counts)
    return {"params": model.params_.to_dict(), "rows_fitted": len(rows), "n_iter": None}


FITS = {"churnlab": fit_churnlab, "lifetimes": fit_lifetimes, "lifetimes+w": fit_lifetimes_weighted}


def child(args: argparse.Namespace) -> None:
    warnings.simplefilter("ignore", FutureWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    data = make_inputs(args.n, args.case)
    x = data["frequency"].to_numpy()
    t_x = data["recency"].to_numpy()
    T = data["T"].to_numpy()
    fit = FITS[args.child]
    fit(x[:N_WARMUP], t_x[:N_WARMUP], T[:N_WARMUP])
    result, record = _measure.measure(lambda: fit(x, t_x, T), REPEATS.get(args.child, 1))
    record.update(result)
    record["mean_frequency"] = float(x.mean())
    record["distinct_rows"] = int(len(data.drop_duplicates()))
    _measure.emit(record)


def main(args: argparse.Namespace) -> int:
    _measure.set_blas_threads(args.blas_threads)
    _measure.print_header(
        f"BetaGeo().fit vs lifetimes BetaGeoFitter().fit: {args.n:,} simulated customers "
        f"(true parameters {CDNOW_PARAMS}), daily grid"
    )
    script = str(Path(__file__).resolve())
    rows, params, ok, method, blas = [], [], True, None, None
    for case in args.cases:
        base = ["--n", str(args.n), "--case", case]
        results = {name: _measure.run_child(script, ["--child", name, *base]) for name in CHILDREN}
        ours = results["churnlab"]
        method, blas = ours["method"], ours["blas"]
        print(
            f"[{case}] mean frequency {ours['mean_frequency']:.3f}; distinct (x, t_x, T) rows "
            f"{ours['distinct_rows']:,} of {args.n:,}; churnlab: {ours['n_iter']} iterations, "
            f"fits took {', '.join(f'{v:.3f}' for v in ours['all_seconds'])} s"
        )
        for name in CHILDREN[1:]:
            theirs = results[name]
            ratio = theirs["seconds"] / ours["seconds"]
            cpu_ratio = theirs["cpu_seconds"] / ours["cpu_seconds"]
            required = name == "lifetimes"
            holds = ratio >= REQUIRED_SPEEDUP[case] and ours["peak_mb"] < MAX_PEAK_MB
            if required:
                ok &= holds
            rows.append(
                {
                    "case": CASES[case],
                    "against": name,
                    "ours_s": ours["seconds"],
                    "theirs_s": theirs["seconds"],
                    "ratio": ratio,
                    "cpu_ratio": cpu_ratio,
                    "ours_mb": ours["peak_mb"],
                    "theirs_mb": theirs["peak_mb"],
                    "holds": holds if required else None,
                }
            )
        truth = {"case": CASES[case], "fit": "truth", **CDNOW_PARAMS, "max_rel_diff": None}
        params.append(truth)
        for name in CHILDREN:
            p = results[name]["params"]
            rel = max(abs(p[k] / ours["params"][k] - 1) for k in CDNOW_PARAMS)
            if name == "churnlab":
                rel = None
            params.append({"case": CASES[case], "fit": name, **p, "max_rel_diff": rel})
    print(
        _measure.format_table(
            rows,
            [
                ("case", "case"),
                ("against", "against"),
                ("ours_s", "churnlab s"),
                ("theirs_s", "lifetimes s"),
                ("ratio", "ratio"),
                ("cpu_ratio", "CPU-time ratio"),
                ("ours_mb", "churnlab peak MB"),
                ("theirs_mb", "lifetimes peak MB"),
                ("holds", f">= 50x (cohort) / 40x (joined) & <{MAX_PEAK_MB:g} MB"),
            ],
        )
    )
    print("fitted parameters (max_rel_diff: largest relative difference from churnlab's):")
    print(
        pd.DataFrame(params)
        .set_index(["case", "fit"])
        .to_string(float_format=lambda v: f"{v:.6g}", na_rep="-")
    )
    print(
        f"peak memory: {method}; after a {N_WARMUP}-customer warm-up, "
        "churnlab timed as the median of 3 fits, lifetimes once; "
        "the requirements are judged against plain lifetimes"
    )
    print(f"BLAS in the measuring processes: {blas}")
    return 0 if ok else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small n, to check the script")
    parser.add_argument("--n", type=int, help=f"customers (default {N_CUSTOMERS:,})")
    parser.add_argument(
        "--blas-threads", type=int, help="limit BLAS/OpenMP threads in the measuring processes"
    )
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--case", choices=sorted(CASES), default="cohort", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=CHILDREN, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.n is None:
        args.n = QUICK_CUSTOMERS if args.quick else N_CUSTOMERS
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.child:
        child(arguments)
    else:
        sys.exit(main(arguments))
