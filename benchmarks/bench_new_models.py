"""Fit speed and memory of the Pareto/NBD, MBG/NBD and BG/BB models against lifetimes 0.11.3.

Requirement (issue 9): on 1,000,000 simulated customers each new fit
(``ParetoNBD().fit``, ``ModifiedBetaGeo().fit``, ``BetaGeoBetaBinomial().fit``) is at least
20x faster than the corresponding lifetimes fitter (``ParetoNBDFitter``,
``ModifiedBetaGeoFitter``, ``BetaGeoBetaBinomFitter``) on the same arrays, in the same run.

Inputs, drawn by churnlab's simulators with the published estimates as the truth:

* ``pareto_nbd`` and ``modified_beta_geo``: one cohort observed for 39 weeks (T = 39 for all),
  :func:`churnlab.datasets.simulate_pareto_nbd` / ``simulate_modified_bgnbd`` with the CDNOW
  estimates; the time of the last purchase is rounded up to a whole day (recency in weeks on a
  daily grid, as a summary of dated transactions would give). Unlike ``bench_beta_geo.py`` no
  purchase times are drawn, so two purchases on one day stay two purchases; the fits see the
  same arrays either way.
* ``bgbb``: six annual opportunities per customer (as in the donations data),
  :func:`churnlab.datasets.simulate_bgbb` with the donations estimates.

lifetimes fits every row (it compresses nothing itself); ``lifetimes+w`` is lifetimes given the
distinct rows and their counts as ``weights`` (the compression done by the user, inside the
timed call), for reference only. ``--lifetimes-n`` times plain lifetimes on the first N
customers only (it takes minutes on 1,000,000); the ratio is then against a smaller problem and
understates churnlab's advantage, and the script says so.

Usage: ``python benchmarks/bench_new_models.py [--quick] [--n N] [--models ...]
[--lifetimes-n N] [--blas-threads N]``.
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

from churnlab.models import (  # noqa: E402
    CDNOW_MBGNBD_PUBLISHED,
    CDNOW_PARETO_NBD_PUBLISHED,
    DONATIONS_BGBB_PUBLISHED,
)

#: Customers in the benchmark (issue) and in ``--quick`` (a check of the script only).
N_CUSTOMERS = 1_000_000
QUICK_CUSTOMERS = 20_000
#: Requirement (issue): speed-up over plain lifetimes.
REQUIRED_SPEEDUP = 20.0
#: Observation window of the cohort (weeks) and days per week; opportunities of the BG/BB case.
COHORT_WEEKS = 39
DAYS_PER_WEEK = 7
BGBB_OPPORTUNITIES = 6
N_WARMUP = 2_000
#: Timed calls per measurement: churnlab's median of three, lifetimes' one (see bench_beta_geo).
REPEATS = {"churnlab": 3}
SEED = 20100601

MODELS = {
    "pareto_nbd": {
        "label": "Pareto/NBD",
        "truth": CDNOW_PARETO_NBD_PUBLISHED,
        "columns": ("frequency", "recency", "T"),
        "case": "cohort, T = 39 weeks",
    },
    "modified_beta_geo": {
        "label": "MBG/NBD",
        "truth": CDNOW_MBGNBD_PUBLISHED,
        "columns": ("frequency", "recency", "T"),
        "case": "cohort, T = 39 weeks",
    },
    "bgbb": {
        "label": "BG/BB",
        "truth": DONATIONS_BGBB_PUBLISHED,
        "columns": ("frequency", "recency", "n_periods"),
        "case": "6 opportunities",
    },
}
CHILDREN = ("churnlab", "lifetimes", "lifetimes+w")


def make_inputs(model: str, n: int, seed: int = SEED) -> pd.DataFrame:
    """The three columns the model is fitted on, for ``n`` simulated customers."""
    from churnlab.datasets import simulate_bgbb, simulate_modified_bgnbd, simulate_pareto_nbd

    truth = MODELS[model]["truth"]
    if model == "bgbb":
        sim = simulate_bgbb(n, **truth, n_periods=BGBB_OPPORTUNITIES, seed=seed)
        return sim[["frequency", "recency", "n_periods"]]
    simulate = simulate_pareto_nbd if model == "pareto_nbd" else simulate_modified_bgnbd
    sim = simulate(n, **truth, T=float(COHORT_WEEKS), seed=seed)
    recency = np.minimum(np.ceil(sim["recency"].to_numpy() * DAYS_PER_WEEK), COHORT_WEEKS * 7)
    return pd.DataFrame(
        {
            "frequency": sim["frequency"].to_numpy(),
            "recency": recency / DAYS_PER_WEEK,
            "T": sim["T"].to_numpy(),
        }
    )


def _churnlab_class(model: str):
    from churnlab import BetaGeoBetaBinomial, ModifiedBetaGeo, ParetoNBD

    return {
        "pareto_nbd": ParetoNBD,
        "modified_beta_geo": ModifiedBetaGeo,
        "bgbb": BetaGeoBetaBinomial,
    }[model]


def _lifetimes_class(model: str):
    from lifetimes import BetaGeoBetaBinomFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

    return {
        "pareto_nbd": ParetoNBDFitter,
        "modified_beta_geo": ModifiedBetaGeoFitter,
        "bgbb": BetaGeoBetaBinomFitter,
    }[model]


def fit_churnlab(model: str, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> dict:
    fitted = _churnlab_class(model)().fit(a, b, c)
    return {
        "params": fitted.params_.to_dict(),
        "rows_fitted": fitted.n_unique_,
        "n_iter": fitted.n_iter_,
    }


def fit_lifetimes(model: str, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> dict:
    fitted = _lifetimes_class(model)().fit(a, b, c)
    return {"params": dict(fitted.params_), "rows_fitted": len(a), "n_iter": None}


def fit_lifetimes_weighted(model: str, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> dict:
    rows, counts = np.unique(np.column_stack([a, b, c]), axis=0, return_counts=True)
    fitted = _lifetimes_class(model)().fit(rows[:, 0], rows[:, 1], rows[:, 2], weights=counts)
    return {"params": dict(fitted.params_), "rows_fitted": len(rows), "n_iter": None}


FITS = {"churnlab": fit_churnlab, "lifetimes": fit_lifetimes, "lifetimes+w": fit_lifetimes_weighted}


def child(args: argparse.Namespace) -> None:
    warnings.simplefilter("ignore")
    data = make_inputs(args.model, args.n)
    if args.child == "lifetimes" and args.lifetimes_n:
        data = data.iloc[: args.lifetimes_n]
    a, b, c = (data[col].to_numpy() for col in MODELS[args.model]["columns"])
    fit = FITS[args.child]
    fit(args.model, a[:N_WARMUP], b[:N_WARMUP], c[:N_WARMUP])
    result, record = _measure.measure(lambda: fit(args.model, a, b, c), REPEATS.get(args.child, 1))
    record.update(result)
    record["customers"] = len(data)
    record["distinct_rows"] = int(len(data.drop_duplicates()))
    record["mean_frequency"] = float(a.mean())
    _measure.emit(record)


def main(args: argparse.Namespace) -> int:
    _measure.set_blas_threads(args.blas_threads)
    _measure.print_header(
        f"ParetoNBD / ModifiedBetaGeo / BetaGeoBetaBinomial .fit vs lifetimes: {args.n:,} "
        "simulated customers"
    )
    script = str(Path(__file__).resolve())
    rows, params, ok, method, blas = [], [], True, None, None
    for model in args.models:
        spec = MODELS[model]
        base = ["--n", str(args.n), "--model", model]
        if args.lifetimes_n:
            base += ["--lifetimes-n", str(args.lifetimes_n)]
        results = {name: _measure.run_child(script, ["--child", name, *base]) for name in CHILDREN}
        ours = results["churnlab"]
        method, blas = ours["method"], ours["blas"]
        print(
            f"[{spec['label']}] mean frequency {ours['mean_frequency']:.3f}; distinct rows "
            f"{ours['distinct_rows']:,} of {ours['customers']:,}; churnlab: {ours['n_iter']} "
            f"iterations, fits took {', '.join(f'{v:.3f}' for v in ours['all_seconds'])} s"
        )
        for name in CHILDREN[1:]:
            theirs = results[name]
            ratio = theirs["seconds"] / ours["seconds"]
            required = name == "lifetimes"
            holds = ratio >= REQUIRED_SPEEDUP
            if required:
                ok &= holds
            rows.append(
                {
                    "model": spec["label"],
                    "case": spec["case"],
                    "against": name,
                    "their_customers": theirs["customers"],
                    "ours_s": ours["seconds"],
                    "theirs_s": theirs["seconds"],
                    "ratio": ratio,
                    "cpu_ratio": theirs["cpu_seconds"] / ours["cpu_seconds"],
                    "ours_mb": ours["peak_mb"],
                    "theirs_mb": theirs["peak_mb"],
                    "holds": holds if required else None,
                }
            )
        truth = {"model": spec["label"], "fit": "truth", **spec["truth"], "max_rel_diff": None}
        params.append(truth)
        for name in CHILDREN:
            p = results[name]["params"]
            rel = max(abs(p[k] / ours["params"][k] - 1) for k in spec["truth"])
            params.append(
                {
                    "model": spec["label"],
                    "fit": name,
                    **p,
                    "max_rel_diff": None if name == "churnlab" else rel,
                }
            )
    print(
        _measure.format_table(
            rows,
            [
                ("model", "model"),
                ("case", "case"),
                ("against", "against"),
                ("their_customers", "their customers"),
                ("ours_s", "churnlab s"),
                ("theirs_s", "lifetimes s"),
                ("ratio", "ratio"),
                ("cpu_ratio", "CPU-time ratio"),
                ("ours_mb", "churnlab peak MB"),
                ("theirs_mb", "lifetimes peak MB"),
                ("holds", f">={REQUIRED_SPEEDUP:g}x"),
            ],
        )
    )
    print("fitted parameters (max_rel_diff: largest relative difference from churnlab's):")
    for model in args.models:
        label = MODELS[model]["label"]
        table = pd.DataFrame([p for p in params if p["model"] == label]).set_index(["model", "fit"])
        print(
            table.dropna(axis=1, how="all").to_string(float_format=lambda v: f"{v:.6g}", na_rep="-")
        )
    if args.lifetimes_n:
        print(
            f"plain lifetimes was timed on the first {args.lifetimes_n:,} customers only, "
            f"churnlab on all {args.n:,}: the ratio understates churnlab's advantage"
        )
    print(
        f"peak memory: {method}; after a {N_WARMUP}-customer warm-up, churnlab timed as the "
        "median of 3 fits, lifetimes once; the requirement is judged against plain lifetimes"
    )
    print(f"BLAS in the measuring processes: {blas}")
    return 0 if ok else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small n, to check the script")
    parser.add_argument("--n", type=int, help=f"customers (default {N_CUSTOMERS:,})")
    parser.add_argument(
        "--models", nargs="+", choices=list(MODELS), default=list(MODELS), help="models to time"
    )
    parser.add_argument(
        "--lifetimes-n", type=int, help="time plain lifetimes on the first N customers only"
    )
    parser.add_argument("--blas-threads", type=int, help="limit BLAS/OpenMP threads")
    parser.add_argument("--child", choices=CHILDREN, help=argparse.SUPPRESS)
    parser.add_argument("--model", choices=list(MODELS), help=argparse.SUPPRESS)
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
