"""Timing and peak-memory helpers shared by the benchmark scripts.

Every measurement runs in a fresh child process that builds the inputs (seeded, identical for
both libraries), warms the measured function up on a small slice, and then times it: the median
of ``repeat`` calls. The benchmarks call churnlab, which takes well under a second, three times
to damp the noise of a shared machine, and lifetimes, which takes many seconds, once.

Peak memory is the high-water mark of the child's resident set size (``VmHWM`` in
``/proc/self/status``) during a call, minus the resident size just before it (the largest over
the calls). The high-water mark is reset right before each call by writing ``5`` to
``/proc/self/clear_refs`` (Linux >= 4.0), after ``gc.collect()`` and ``malloc_trim(0)`` have
handed freed memory back to the operating system. The figure is therefore the extra memory
the call needed on top of the inputs both libraries share (its result included), and it
counts every allocation: numpy, pandas, Python objects and C libraries alike. Where
``clear_refs`` cannot be written, the fallback is ``ru_maxrss`` after the call minus
``ru_maxrss`` before it, a lower bound (it misses a peak that stays below the one reached
while building the inputs); the method used is printed with every table.

Wall-clock time is what a user waits; CPU time (``time.process_time``, all threads of the
process) is reported beside it because it hardly depends on how busy a shared machine is.

A child reports one JSON line starting with :data:`MARKER` on its standard output.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

MARKER = "BENCH-RESULT "
METHOD_HWM = "VmHWM reset via /proc/self/clear_refs, minus RSS before the call"
#: Environment variables that change BLAS kernels or threads; printed with every run.
ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
METHOD_MAXRSS = "ru_maxrss after minus before the call (lower bound)"


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as handle:
            text = handle.read()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def _release_free_memory() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def measure(call: Callable[[], Any], repeat: int = 1) -> tuple[Any, dict[str, Any]]:
    """Run ``call()`` ``repeat`` times; return the last result and the measurements.

    The record holds ``seconds`` (median wall-clock time over the calls), ``all_seconds``,
    ``cpu_seconds`` (median CPU time of the process, all its threads), ``peak_mb`` (the largest
    over the calls), ``method`` (how memory was measured) and ``blas``.
    """
    times, cpu_times, peaks, method, result = [], [], [], METHOD_HWM, None
    for _ in range(repeat):
        result = None
        _release_free_memory()
        reset = _reset_peak()
        rss_before = _status_kib("VmRSS")
        maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start, cpu_start = time.perf_counter(), time.process_time()
        result = call()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
        if reset and rss_before is not None:
            peaks.append(_status_kib("VmHWM") - rss_before)
        else:
            peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss_before)
            method = METHOD_MAXRSS
    return result, {
        "seconds": statistics.median(times),
        "all_seconds": times,
        "cpu_seconds": statistics.median(cpu_times),
        "peak_mb": max(peaks) / 1024,
        "method": method,
        "blas": blas_info(),
    }


def emit(record: dict[str, Any]) -> None:
    """Print a child's result as one marked JSON line."""
    print(MARKER + json.dumps(record), flush=True)


def run_child(
    script: str, argv: Sequence[str], timeout: float = 3600, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run ``python script *argv`` in a fresh process and return the record it emitted.

    ``env`` replaces the child's environment (e.g. a ``PYTHONPATH`` that selects another
    churnlab); by default it inherits this process's.
    """
    proc = subprocess.run(
        [sys.executable, script, *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    raise RuntimeError(
        f"child {script} {' '.join(argv)} failed (exit {proc.returncode}):\n"
        f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    )


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """Render ``rows`` as a fixed-width text table; ``columns`` are ``(key, header)`` pairs."""
    cells = [[_cell(row.get(key)) for key, _ in columns] for row in rows]
    headers = [header for _, header in columns]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = [_line(headers, widths), "  ".join("-" * w for w in widths)]
    lines += [_line(r, widths) for r in cells]
    return "\n".join(lines)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    """First cell left-aligned, the others right-aligned."""
    return "  ".join(
        c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if value < 0.1 else f"{value:.2f}"
    return str(value)


def machine_info() -> dict[str, str]:
    """Machine, interpreter and library versions, and the BLAS environment, for the record."""
    import numpy
    import pandas
    import scipy

    info = {
        "date (UTC)": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "cpu": _cpu_model(),
        "nproc": str(os.cpu_count()),
        "load average (1, 5, 15 min)": " ".join(f"{v:.2f}" for v in os.getloadavg()),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "scipy": scipy.__version__,
    }
    try:
        import lifetimes

        info["lifetimes"] = lifetimes.__version__
    except ImportError:
        info["lifetimes"] = "not installed"
    for name in ENV_VARS:
        info[name] = os.environ.get(name, "unset")
    return info


def blas_info() -> str:
    """The BLAS libraries loaded in this process, their kernel and thread count (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    return "; ".join(
        f"{p['internal_api']} {p['version']} {p.get('architecture', '?')} "
        f"{p['num_threads']} threads"
        for p in threadpool_info()
        if p["user_api"] == "blas"
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_header(title: str) -> None:
    """Print a benchmark's title and the machine it runs on."""
    print(f"== {title} ==")
    print(", ".join(f"{k}: {v}" for k, v in machine_info().items()))


def set_blas_threads(threads: int | None) -> None:
    """Limit BLAS/OpenMP threads of the child processes (inherited environment) to ``threads``."""
    if threads is not None:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = str(threads)
