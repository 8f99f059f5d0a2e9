"""Speed and memory of ``churnlab.customer_lifetime_value`` on millions of customers.

Requirement (issue "Your transactions, any size", section 5): lifetime value for 5,000,000
customers over 52 weekly steps at least 20x faster than the package measured in the issue
(git revision :data:`BASELINE_REV`, where every step repeated validation, row collapsing and
P(alive) for every customer), with identical results; scoring in bounded memory.

Inputs: customers simulated from the BG/NBD with the CDNOW estimates of Fader, Hardie & Lee
(2005) as in ``bench_beta_geo.py``'s *joined* case (first purchases over two years, daily
grid, weekly unit), mean spends from the Gamma-Gamma model with the CDNOW spend estimates. The
models carry those published parameters (no fit), so every implementation values the same
customers with the same models: 52 weekly steps, 10% a year.

Three children, each in a fresh process (``_measure.py``):

* ``churnlab``: this checkout;
* ``baseline``: the package at :data:`BASELINE_REV` (extracted with ``git archive`` into a
  temporary folder and put first on ``sys.path``);
* ``lifetimes``: ``GammaGammaFitter.customer_lifetime_value`` of lifetimes 0.11.3 on the first
  :data:`LIFETIMES_CUSTOMERS` customers (it takes minutes for millions), with the month of
  4.345 weeks and the monthly rate converted as in ``tests/test_clv.py``; churnlab is timed
  on the same customers and arguments for that ratio.

Usage: ``python benchmarks/bench_clv.py [--quick] [--n N] [--baseline-rev REV]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _measure  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: Customers (issue) and for ``--quick``.
N_CUSTOMERS = 5_000_000
QUICK_CUSTOMERS = 100_000
#: Customers valued by lifetimes (and by churnlab for that ratio).
LIFETIMES_CUSTOMERS = 200_000
QUICK_LIFETIMES_CUSTOMERS = 5_000
#: main when the issue was filed: CLV repeated the fixed work at every step.
BASELINE_REV = "4e0c630"
#: Required speed-up over the baseline (issue).
REQUIRED_SPEEDUP = 20.0
HORIZON_WEEKS = 52
ANNUAL_RATE = 0.10
#: lifetimes steps in months of 4.345 weeks with a monthly rate (tests/test_clv.py).
LIFETIMES_WEEKS_PER_MONTH = 4.345
LIFETIMES_MONTHS = 12
LIFETIMES_MONTHLY_RATE = 0.01
#: Published CDNOW estimates: BG/NBD (FHL 2005, Marketing Science) and Gamma-Gamma (FHL 2005,
#: JMR; Fader & Hardie 2013 note 025), per week and in US dollars.
BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
SEED = 20050101


def make_inputs(n: int) -> pd.DataFrame:
    """frequency, recency, T (weeks on a daily grid) and monetary_value of ``n`` customers."""
    from bench_beta_geo import make_inputs as purchases

    from churnlab.datasets import simulate_gamma_gamma

    data = purchases(n, "joined", seed=SEED)
    spend = simulate_gamma_gamma(data["frequency"].to_numpy(), **GAMMA_GAMMA, seed=SEED)
    data["monetary_value"] = spend["monetary_value"].to_numpy()
    data.attrs["time_unit"] = "W"
    return data


def models():
    """A BG/NBD and a Gamma-Gamma model carrying the published parameters."""
    from churnlab import BetaGeo, GammaGamma

    bg, gg = BetaGeo(), GammaGamma()
    bg.params_ = pd.Series(BGNBD)
    gg.params_ = pd.Series(GAMMA_GAMMA)
    return bg, gg


def churnlab_value(bg, gg, data: pd.DataFrame) -> pd.Series:
    from churnlab import customer_lifetime_value

    return customer_lifetime_value(
        bg, gg, data, time_unit="W", horizon=HORIZON_WEEKS, discount_rate=ANNUAL_RATE
    )


def lifetimes_arguments() -> dict:
    """churnlab's arguments equal to lifetimes' 12 months at 1% a month."""
    step = LIFETIMES_WEEKS_PER_MONTH
    annual = (1 + LIFETIMES_MONTHLY_RATE) ** (365.2425 / (step * 7)) - 1
    return {
        "time_unit": "W",
        "horizon": LIFETIMES_MONTHS * step,
        "step": step,
        "discount_rate": annual,
    }


def child(args: argparse.Namespace) -> None:
    warnings.simplefilter("ignore")
    sys.path.insert(0, args.path)  # this checkout, or the baseline's extracted package
    data = make_inputs(args.n)
    bg, gg = models()
    churnlab_value(bg, gg, data.iloc[:2_000])  # warm-up
    if args.child == "lifetimes":
        import lifetimes

        part = data.iloc[: args.lifetimes_n]
        ref_bg, ref_gg = lifetimes.BetaGeoFitter(), lifetimes.GammaGammaFitter()
        ref_bg.params_ = pd.Series(BGNBD)
        ref_bg.predict = ref_bg.conditional_expected_number_of_purchases_up_to_time
        ref_gg.params_ = pd.Series(GAMMA_GAMMA)

        def call():
            return np.asarray(
                ref_gg.customer_lifetime_value(
                    ref_bg,
                    part["frequency"],
                    part["recency"],
                    part["T"],
                    part["monetary_value"],
                    time=LIFETIMES_MONTHS,
                    discount_rate=LIFETIMES_MONTHLY_RATE,
                    freq="W",
                ),
                dtype=float,
            )

        values, record = _measure.measure(call, 1)
    elif args.child == "churnlab-lifetimes":
        from churnlab import customer_lifetime_value

        part = data.iloc[: args.lifetimes_n]
        values, record = _measure.measure(
            lambda: customer_lifetime_value(bg, gg, part, **lifetimes_arguments()).to_numpy(), 3
        )
    else:  # churnlab or baseline: the case
        values, record = _measure.measure(
            lambda: churnlab_value(bg, gg, data).to_numpy(), 3 if args.child == "churnlab" else 1
        )
    np.save(args.out, values)
    record["customers"] = len(values)
    record["distinct_histories"] = int(len(data[["frequency", "recency", "T"]].drop_duplicates()))
    record["distinct_x_T"] = int(len(data[["frequency", "T"]].drop_duplicates()))
    _measure.emit(record)


def run_child(args: argparse.Namespace, name: str, out: Path, path: str) -> dict:
    argv = ["--child", name, "--n", str(args.n), "--lifetimes-n", str(args.lifetimes_n)]
    return _measure.run_child(__file__, [*argv, "--out", str(out), "--path", path])


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    scale = np.maximum(np.abs(a), np.abs(b))
    return float(np.max(np.where(scale > 0, np.abs(a - b) / np.where(scale > 0, scale, 1), 0)))


def main(args: argparse.Namespace) -> int:
    _measure.print_header(
        f"customer_lifetime_value: {args.n:,} customers x {HORIZON_WEEKS} weekly steps "
        "(BG/NBD and Gamma-Gamma at the published CDNOW estimates)"
    )
    with tempfile.TemporaryDirectory(prefix="churnlab-bench-clv-") as tmp:
        tmp = Path(tmp)
        baseline = tmp / "baseline"
        baseline.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.baseline_rev, "churnlab"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive, check=True)
        records = {}
        for name, path in (
            ("churnlab", str(ROOT)),
            ("baseline", str(baseline)),
            ("churnlab-lifetimes", str(ROOT)),
            ("lifetimes", str(ROOT)),
        ):
            records[name] = run_child(args, name, tmp / f"{name}.npy", path)
        values = {name: np.load(tmp / f"{name}.npy") for name in records}
    same = relative_difference(values["churnlab"], values["baseline"])
    same_lifetimes = relative_difference(values["churnlab-lifetimes"], values["lifetimes"])
    difference = {"churnlab": same, "churnlab-lifetimes": same_lifetimes}
    rows = []
    for name, against, customers in (
        ("churnlab", "baseline", args.n),
        ("churnlab-lifetimes", "lifetimes", args.lifetimes_n),
    ):
        ours, theirs = records[name], records[against]
        rows.append(
            {
                "customers": f"{customers:,}",
                "against": f"{against} ({args.baseline_rev})" if against == "baseline" else against,
                "churnlab s": round(ours["seconds"], 3),
                "other s": round(theirs["seconds"], 2),
                "ratio": round(theirs["seconds"] / ours["seconds"], 1),
                "CPU-time ratio": round(theirs["cpu_seconds"] / ours["cpu_seconds"], 1),
                "churnlab peak MB": round(ours["peak_mb"]),
                "other peak MB": round(theirs["peak_mb"]),
                "largest relative difference": f"{difference[name]:.1e}",
            }
        )
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    print(
        f"distinct (x, t_x, T) histories: {records['churnlab']['distinct_histories']:,}; distinct "
        f"(x, T) pairs: {records['churnlab']['distinct_x_T']:,}; total value "
        f"{values['churnlab'].sum():,.0f}; peak memory: {records['churnlab']['method']}"
    )
    speedup = records["baseline"]["seconds"] / records["churnlab"]["seconds"]
    ok = speedup >= REQUIRED_SPEEDUP and same <= 1e-12
    print(
        f"requirement (>= {REQUIRED_SPEEDUP:g}x the baseline, identical values): "
        f"{'met' if ok else 'NOT met'} ({speedup:.1f}x, largest relative difference {same:.1e})"
    )
    return 0 if ok or args.quick else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the script")
    parser.add_argument("--n", type=int, default=None, help="customers")
    parser.add_argument("--lifetimes-n", type=int, default=None, help="customers for lifetimes")
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--path", default=str(ROOT), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.n is None:
        args.n = QUICK_CUSTOMERS if args.quick else N_CUSTOMERS
    if args.lifetimes_n is None:
        args.lifetimes_n = QUICK_LIFETIMES_CUSTOMERS if args.quick else LIFETIMES_CUSTOMERS
    args.lifetimes_n = min(args.lifetimes_n, args.n)
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.child:
        child(arguments)
    else:
        sys.exit(main(arguments))
