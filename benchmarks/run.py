"""Run every ``benchmarks/bench_*.py`` in turn, each in its own process, and print their output.

Usage: ``python benchmarks/run.py [--quick] [--blas-threads N] [--only NAME ...]``

``--quick`` and ``--blas-threads`` are passed on to the scripts that accept them (read from
their ``--help``). Each script exits 0 when its requirements hold, 1 when one does not, and
anything else on an error; this runner prints a one-line verdict per script at the end and
exits 0 only when every script did.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERDICTS = {0: "requirements hold", 1: "a requirement is NOT met"}


def accepted_options(script: Path) -> str:
    """The script's ``--help`` text (empty when it has none)."""
    proc = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, check=False
    )
    return proc.stdout if proc.returncode == 0 else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the scripts")
    parser.add_argument("--blas-threads", type=int, help="limit BLAS/OpenMP threads")
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="run only scripts whose name contains NAME"
    )
    args = parser.parse_args(argv)
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if any(name in s.name for name in args.only)]
    if not scripts:
        print("no benchmark script selected", file=sys.stderr)
        return 2
    outcome = {}
    for script in scripts:
        help_text = accepted_options(script)
        extra = []
        if args.quick and "--quick" in help_text:
            extra.append("--quick")
        if args.blas_threads is not None and "--blas-threads" in help_text:
            extra += ["--blas-threads", str(args.blas_threads)]
        print(f"\n$ python benchmarks/{script.name} {' '.join(extra)}".rstrip(), flush=True)
        start = time.perf_counter()
        code = subprocess.run([sys.executable, str(script), *extra], check=False).returncode
        outcome[script.name] = (code, time.perf_counter() - start)
    print("\nsummary:")
    for name, (code, seconds) in outcome.items():
        verdict = VERDICTS.get(code, f"error (exit {code})")
        print(f"  {name}: {verdict} ({seconds:.0f} s)")
    return 0 if all(code == 0 for code, _ in outcome.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
