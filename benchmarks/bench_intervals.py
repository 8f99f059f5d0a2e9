"""Memory and time of forecast intervals: 1,000 parameter draws x 100,000 customers.

Requirement (issue): intervals for 1,000 draws x 100,000 customers must not need a
100-million-entry object; the work is chunked and the peak memory reported. Held here as: the
peak memory of each call stays below :data:`LIMIT_MB`, a quarter of the 800 MB that one dense
float64 array of 1,000 x 100,000 draws would take by itself.

The customers are simulated from the published CDNOW BG/NBD parameters (Fader, Hardie & Lee
2005) with first purchases spread over two years, so that T, and with it almost every
(frequency, recency, T) history, differs between customers: the case where collapsing
identical histories saves nothing. Their spend comes from the published Gamma-Gamma
parameters. Each measurement runs in a fresh child process (``_measure.py``): the inputs and
fitted models are built first, the call is warmed up on 1,000 customers, then timed once.

Calls measured:

* ``per customer``: ``prediction_interval(bg, "conditional_expected_purchases", 39, data)``,
  1,000 draws, an interval for every customer;
* ``total``: the same with ``total=True``;
* ``predictive``: ``predictive_total_interval(bg, data, 39)`` with 1,000 parameter draws and
  1,000 simulations of the purchase process;
* ``clv total``: ``clv_interval(bg, gg, data, horizon=52, step=13, total=True)`` with 200
  draws (every draw costs 4 evaluations of the purchase model on every customer).

Usage: ``python benchmarks/bench_intervals.py [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _measure  # noqa: E402

#: Sizes from the issue.
N_CUSTOMERS = 100_000
N_DRAWS = 1_000
#: Sizes for ``--quick`` (a check of the script, not a benchmark).
QUICK_CUSTOMERS = 5_000
QUICK_DRAWS = 100
#: Required peak memory of each call, MB: a quarter of one dense draws x customers array.
LIMIT_MB = 200.0
DENSE_MB = N_CUSTOMERS * N_DRAWS * 8 / 1e6
#: Draws of the CLV case (each costs several purchase-model evaluations).
CLV_DRAWS = 200
HORIZON = 39.0
SEED = 20240607
CASES = ("per customer", "total", "predictive", "clv total")


def make_data(n_customers: int):
    """Seeded RFM summary (weeks) and the BG/NBD and Gamma-Gamma models fitted on it."""
    from churnlab import BetaGeo, GammaGamma
    from churnlab.datasets import simulate_bgnbd, simulate_gamma_gamma
    from churnlab.models import CDNOW_BGNBD_PUBLISHED, CDNOW_GAMMA_GAMMA_PUBLISHED

    rng = np.random.default_rng(SEED)
    T = rng.uniform(1.0, 104.0, n_customers)
    data = simulate_bgnbd(n_customers, **CDNOW_BGNBD_PUBLISHED, T=T, seed=rng)
    spend = simulate_gamma_gamma(data["frequency"], **CDNOW_GAMMA_GAMMA_PUBLISHED, seed=rng)
    data = data[["frequency", "recency", "T"]].assign(monetary_value=spend["monetary_value"])
    data.attrs["time_unit"] = "W"
    bg = BetaGeo().fit(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the frequency-0 rows are left out, as documented
        gg = GammaGamma().fit(data)
    return data, bg, gg


def child(case: str, n_customers: int, n_draws: int) -> None:
    """Build the inputs, warm up on a slice, time one call, print the record."""
    from churnlab import clv_interval, prediction_interval, predictive_total_interval

    data, bg, gg = make_data(n_customers)

    def call(frame, draws):
        if case == "per customer":
            return prediction_interval(
                bg, "conditional_expected_purchases", HORIZON, frame, n_draws=draws
            )
        if case == "total":
            return prediction_interval(
                bg, "conditional_expected_purchases", HORIZON, frame, n_draws=draws, total=True
            )
        if case == "predictive":
            return predictive_total_interval(bg, frame, HORIZON, n_sims=draws, n_draws=draws)
        return clv_interval(
            bg,
            gg,
            frame,
            time_unit="W",
            horizon=52,
            step=13,
            discount_rate=0.1,
            n_draws=max(2, draws * CLV_DRAWS // N_DRAWS),
            total=True,
        )

    call(data.iloc[:1000], 10)
    result, record = _measure.measure(lambda: call(data, n_draws), repeat=1)
    if hasattr(result, "ci_lower") and not hasattr(result, "columns"):
        summary = f"{result.estimate:,.0f} [{result.ci_lower:,.0f}, {result.ci_upper:,.0f}]"
    else:
        width = (result["ci_upper"] - result["ci_lower"]).median()
        summary = f"median width {width:.3f}"
    record.update(
        case=case,
        n_customers=n_customers,
        n_draws=max(2, n_draws * CLV_DRAWS // N_DRAWS) if case == "clv total" else n_draws,
        distinct=int(len(data.drop_duplicates())),
        result=summary,
    )
    _measure.emit(record)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--n-customers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--n-draws", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.n_customers, args.n_draws)
        return 0
    n, draws = (QUICK_CUSTOMERS, QUICK_DRAWS) if args.quick else (N_CUSTOMERS, N_DRAWS)
    _measure.print_header("forecast intervals: 1,000 draws x 100,000 customers")
    print(
        f"{n:,} customers, {draws:,} draws; a dense draws x customers float64 array would take "
        f"{n * draws * 8 / 1e6:,.0f} MB"
    )
    rows = []
    for case in CASES:
        record = _measure.run_child(
            __file__, ["--child", case, "--n-customers", str(n), "--n-draws", str(draws)]
        )
        record["within_limit"] = record["peak_mb"] < LIMIT_MB
        rows.append(record)
    columns = [
        ("case", "case"),
        ("n_customers", "customers"),
        ("distinct", "distinct rows"),
        ("n_draws", "draws"),
        ("seconds", "wall s"),
        ("cpu_seconds", "cpu s"),
        ("peak_mb", "peak MB"),
        ("within_limit", f"< {LIMIT_MB:.0f} MB"),
        ("result", "result"),
    ]
    print(_measure.format_table(rows, columns))
    print(f"memory: {rows[0]['method']}")
    return 0 if all(row["within_limit"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
