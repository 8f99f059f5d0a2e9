"""Time to import churnlab: ``import churnlab`` and the everyday first line, against lifetimes.

Requirement (issue 8): ``import churnlab`` under 0.5 s (it took 1.1 s when scipy.stats,
scikit-learn and matplotlib.pyplot were loaded up front). The everyday first line of an
analysis, ``from churnlab import rfm_summary, BetaGeo, GammaGamma, customer_lifetime_value``,
is timed beside it (it must not pull those libraries in either), and ``import lifetimes``, the
reference implementation, in the same run.

Each measurement is a fresh interpreter that times its import statement alone
(``time.perf_counter`` around it; the interpreter's own start-up, the same for every line, is
left out) and reports which of scikit-learn, scipy.stats, scipy.optimize and matplotlib the
statement loaded. The lines take turns (one round = one process per line), so that a change in
the machine's load hits them alike; the figure is the median over the rounds, with CPU time
(``time.process_time``) beside it as the number that depends least on a shared machine's load.

Compiled byte-code is cached, as for an installed package: the children write and read it in a
temporary ``PYTHONPYCACHEPREFIX`` (filled by one untimed warm-up process per line), so the
checkout stays clean even where ``PYTHONDONTWRITEBYTECODE`` is set. ``--no-bytecode-cache``
times the other case: churnlab compiled from its sources on every import (site-packages keep
their installed byte-code).

The churnlab imported is the one of this checkout (its root is put first on ``PYTHONPATH``).

Usage: ``python benchmarks/bench_import.py [--quick] [--rounds N] [--no-bytecode-cache]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _measure  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: Required median time of ``import churnlab``, seconds (issue 8).
LIMIT_SECONDS = 0.5
#: Fresh processes per line: the median of an odd number of rounds.
ROUNDS = 15
#: Rounds for ``--quick`` (a check of the script, not a benchmark).
QUICK_ROUNDS = 3
#: The lines timed, by label. ``import churnlab`` decides the verdict.
LINES = {
    "import churnlab": "import churnlab",
    "everyday line": (
        "from churnlab import rfm_summary, BetaGeo, GammaGamma, customer_lifetime_value"
    ),
    "import lifetimes": "import lifetimes",
}
#: Libraries whose presence after the line is reported.
HEAVY = ("sklearn", "scipy.stats", "scipy.optimize", "matplotlib")

CHILD = """
import time
_wall, _cpu = time.perf_counter(), time.process_time()
{statement}
_wall, _cpu = time.perf_counter() - _wall, time.process_time() - _cpu
import json, sys
print(json.dumps({{"seconds": _wall, "cpu_seconds": _cpu,
                  "loaded": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def child_environment(cache_dir: str | None) -> dict[str, str]:
    """The children's environment: this checkout first on the path, byte-code as asked."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    if cache_dir is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


def time_line(statement: str, env: dict[str, str]) -> dict:
    """Run ``statement`` in a fresh interpreter; its time and the heavy libraries it loaded."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD.format(statement=statement, heavy=HEAVY)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{statement!r} failed (exit {proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(rounds: int, cache_dir: str | None) -> list[dict]:
    """One row per line: median, range and CPU time over ``rounds`` fresh processes."""
    env = child_environment(cache_dir)
    where = subprocess.run(
        [sys.executable, "-c", "import churnlab; print(churnlab.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        check=True,
    ).stdout.strip()
    print(f"churnlab imported from {where}")
    for statement in LINES.values():  # warm-up: writes the byte-code cache, not timed
        time_line(statement, env)
    runs: dict[str, list[dict]] = {label: [] for label in LINES}
    for _ in range(rounds):
        for label, statement in LINES.items():
            runs[label].append(time_line(statement, env))
    rows = []
    for label, records in runs.items():
        seconds = [r["seconds"] for r in records]
        rows.append(
            {
                "line": label,
                "seconds": statistics.median(seconds),
                "min": min(seconds),
                "max": max(seconds),
                "cpu_seconds": statistics.median(r["cpu_seconds"] for r in records),
                "loaded": ", ".join(sorted({m for r in records for m in r["loaded"]})) or "none",
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds, to check the script")
    parser.add_argument("--rounds", type=int, help=f"fresh processes per line ({ROUNDS})")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="compile churnlab's sources on every import (PYTHONDONTWRITEBYTECODE=1)",
    )
    args = parser.parse_args()
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else ROUNDS)
    _measure.print_header("import time: churnlab against lifetimes")
    cache = "no byte-code cache" if args.no_bytecode_cache else "byte-code cached"
    print(f"{rounds} fresh processes per line, taking turns; {cache}")
    with tempfile.TemporaryDirectory(prefix="churnlab-pycache-") as cache_dir:
        rows = measure(rounds, None if args.no_bytecode_cache else cache_dir)
    reference = next(row["seconds"] for row in rows if row["line"] == "import lifetimes")
    for row in rows:
        row["ratio"] = f"{reference / row['seconds']:.2f}x"
    columns = [
        ("line", "line"),
        ("seconds", "median s"),
        ("min", "min s"),
        ("max", "max s"),
        ("cpu_seconds", "cpu s"),
        ("ratio", "lifetimes / line"),
        ("loaded", "heavy libraries loaded"),
    ]
    print(_measure.format_table(rows, columns))
    print("lines: " + "; ".join(f"{label}: {text}" for label, text in LINES.items()))
    median = next(row["seconds"] for row in rows if row["line"] == "import churnlab")
    met = median < LIMIT_SECONDS
    verdict = "met" if met else "NOT met"
    print(f"requirement import churnlab < {LIMIT_SECONDS} s: {verdict} ({median:.3f} s median)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
