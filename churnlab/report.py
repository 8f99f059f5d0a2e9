"""``churnlab report``: the narrative notebooks, run on the analyst's own transaction file.

The command checks the file up front with the same rules and messages as the library
(:func:`churnlab.inspect_transactions`), then executes the report templates in
``churnlab/templates`` with their ``parameters`` cell set from the command line (papermill),
and writes into ``--out``:

* ``notebooks/<name>.ipynb``: the executed notebooks, code and outputs;
* ``<name>.html``: the same as an HTML report without the code, for readers who want results;
* ``figures/``: every figure as PNG (slides), SVG and PDF (print);
* ``data_quality.txt``: the data-quality report.

Examples
--------
.. code-block:: bash

    churnlab report exports/orders.parquet --customer-col client --date-col order_date \\
        --amount-col net_value --observation-end 2024-12-31 --time-unit W --out report/
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from churnlab.rfm import TIME_UNITS, calibration_holdout_split, rfm_summary
from churnlab.transactions import (
    DEFAULT_RETURNS,
    RETURNS_POLICIES,
    inspect_transactions,
    read_transactions,
)

#: The report templates, in the order they run: lifetime value, then churn.
TEMPLATES: dict[str, str] = {
    "lifetime_value": "How many purchases, for how long, worth what?",
    "churn": "Who is about to leave, and whom should a campaign reach?",
}
TEMPLATE_DIR = Path(__file__).parent / "templates"

#: Share of the observed span used for calibration when no calibration end is given.
CALIBRATION_SHARE = 2 / 3


class ReportError(ValueError):
    """The input cannot give a trustworthy report; the message says why."""


@dataclass(frozen=True)
class ReportSettings:
    """What the templates receive as parameters (all plain values, for papermill)."""

    transactions: str
    customer_col: str
    date_col: str
    amount_col: str
    observation_end: str
    calibration_end: str
    time_unit: str
    returns: str
    date_format: str | None
    tz: str | None
    horizon: str
    figures_dir: str
    title: str

    def parameters(self) -> dict:
        return {key.upper(): value for key, value in vars(self).items()}


def load_transactions(path, *, customer_col: str, date_col: str, amount_col: str) -> pd.DataFrame:
    """Read the three columns a report needs from a Parquet or CSV file (or a glob of them).

    Only those columns are read. CSV values are kept as text where they are not numbers, so
    dates go through churnlab's own date rules (``date_format=``, time zones) unchanged.
    """
    files = _files(path)
    columns = [customer_col, date_col, amount_col]
    frames = []
    for file in files:
        try:
            if file.suffix.lower() in (".parquet", ".pq"):
                import pyarrow.parquet as pq

                names = pq.read_schema(file).names
                _require(columns, names, file)
                frames.append(pd.read_parquet(file, columns=columns))
            else:
                names = list(pd.read_csv(file, nrows=0).columns)
                _require(columns, names, file)
                frames.append(pd.read_csv(file, usecols=columns, dtype={date_col: str}))
        except ReportError:
            raise
        except Exception as err:  # the reader's own words, with the file named
            raise ReportError(f"cannot read {file}: {err}") from None
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _files(path) -> list[Path]:
    text = str(path)
    if any(ch in text for ch in "*?["):
        parent = Path(text).parent
        files = sorted(parent.glob(Path(text).name))
        if not files:
            raise ReportError(f"no file matches {text}")
    else:
        files = [Path(text)]
        if not files[0].is_file():
            raise ReportError(f"{text}: no such file")
    for file in files:
        if file.suffix.lower() not in (".parquet", ".pq", ".csv", ".gz", ".txt", ".tsv"):
            raise ReportError(f"{file}: not a Parquet or CSV file (by its name)")
    return files


def _require(columns, names, file) -> None:
    missing = [c for c in columns if c not in names]
    if missing:
        raise ReportError(
            f"{file} has no column(s) {missing}; it has {names}. Name the columns with "
            "--customer-col, --date-col and --amount-col."
        )


def check_input(
    transactions: pd.DataFrame,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str,
    observation_end=None,
    calibration_end=None,
    time_unit: str = "W",
    returns: str = DEFAULT_RETURNS,
    date_format: str | None = None,
    tz=None,
):
    """Refuse early what would make the report untrustworthy; return the resolved dates.

    Returns the data-quality report and the observation and calibration ends (ISO dates).
    """
    options = dict(
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        tz=tz,
    )
    quality = inspect_transactions(
        transactions, observation_end=observation_end, returns=returns, **options
    )
    if not quality.ok:
        raise ReportError("the transactions cannot be used:\n" + "\n".join(quality.problems))
    first, last = quality.first_date, quality.last_date
    end = last if observation_end is None else quality.observation_end
    if end > last:
        # a quiet spell at the end is plausible only if the data have had one as long before
        distinct = np.unique(read_transactions(transactions, **options).day)
        longest = int(np.diff(distinct).max()) if len(distinct) > 1 else 0
        silent = (end - last).days
        if silent > longest:
            raise ReportError(
                f"observation_end={observation_end} is {silent} days after the last transaction "
                f"({last.date()}), longer than any quiet spell in the data ({longest} days): the "
                "data probably end there, and customers would look silent for days that were "
                "not observed"
            )
    if calibration_end is None:
        cal = first + (end - first) * CALIBRATION_SHARE
        cal = cal.normalize()
    else:
        cal = pd.Timestamp(calibration_end).normalize()
    if not first <= cal < end:
        raise ReportError(
            f"calibration_end={cal.date()} must fall within the data, before the observation end "
            f"({first.date()} to {end.date()})"
        )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the report states the returns once
        rfm = rfm_summary(transactions, end, time_unit=time_unit, returns=returns, **options)
        split = calibration_holdout_split(
            transactions, cal, end, time_unit=time_unit, returns=returns, **options
        )
    repeat = int((rfm["frequency"] > 0).sum())
    if repeat == 0:
        raise ReportError(
            f"no repeat buyers: all {len(rfm):,} customers bought on one day only, so no purchase "
            "rate, dropout or lifetime value can be estimated"
        )
    if int((split["frequency_cal"] > 0).sum()) == 0:
        raise ReportError(
            f"no repeat buyers by calibration_end={cal.date()}: choose a later calibration end"
        )
    return quality, end.strftime("%Y-%m-%d"), cal.strftime("%Y-%m-%d")


def _html(executed: Path, target: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    target.write_text(body, encoding="utf-8")


def run_report(settings: ReportSettings, out: Path, *, templates=None, progress: bool = True):
    """Execute the templates with ``settings`` into ``out``; returns the written paths."""
    import papermill

    out = Path(out)
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    Path(settings.figures_dir).mkdir(parents=True, exist_ok=True)
    written = []
    names = list(templates or TEMPLATES)
    for k, name in enumerate(names, start=1):
        _say(f"[{k}/{len(names)}] {name}: {TEMPLATES[name]}")
        start = time.perf_counter()
        executed = out / "notebooks" / f"{name}.ipynb"
        papermill.execute_notebook(
            str(TEMPLATE_DIR / f"{name}.ipynb"),
            str(executed),
            parameters=settings.parameters(),
            cwd=str(out),
            progress_bar=progress,
            kernel_name="python3",
        )
        _html(executed, out / f"{name}.html")
        written += [executed, out / f"{name}.html"]
        _say(f"      done in {time.perf_counter() - start:.0f} s")
    return written


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="churnlab",
        description="Customer-retention analytics: the narrative report on your own data.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser(
        "report",
        help="run the lifetime-value and churn notebooks on a transaction file",
        description=(
            "Run the narrative lifetime-value and churn notebooks on a transaction file "
            "(Parquet or CSV, or a glob of them) and write executed notebooks, HTML reports "
            "and figures (PNG, SVG, PDF) into --out."
        ),
    )
    report.add_argument("transactions", help="a Parquet or CSV file, or a quoted glob of them")
    report.add_argument("--customer-col", default="customer_id")
    report.add_argument("--date-col", default="date")
    report.add_argument("--amount-col", default="amount")
    report.add_argument(
        "--observation-end", default=None, help="last day observed (default: the last date)"
    )
    report.add_argument(
        "--calibration-end",
        default=None,
        help="end of the calibration period for the holdout check (default: 2/3 of the span)",
    )
    report.add_argument("--time-unit", default="W", choices=sorted(TIME_UNITS))
    report.add_argument("--returns", default=DEFAULT_RETURNS, choices=RETURNS_POLICIES)
    report.add_argument("--date-format", default=None, help='e.g. "%%d/%%m/%%Y" or unix_s, excel')
    report.add_argument("--tz", default=None, help="time zone whose calendar days count")
    report.add_argument("--horizon", default="26W", help="churn label window, e.g. 26W or 90D")
    report.add_argument("--title", default=None, help="report title (default: the file name)")
    report.add_argument("--out", default="churnlab-report", help="output directory")
    report.add_argument(
        "--only", default=None, choices=sorted(TEMPLATES), help="run one notebook only"
    )
    report.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv=None) -> int:
    """Entry point of the ``churnlab`` command."""
    args = _parser().parse_args(argv)
    out = Path(args.out).resolve()
    try:
        _say(f"reading {args.transactions}")
        transactions = load_transactions(
            args.transactions,
            customer_col=args.customer_col,
            date_col=args.date_col,
            amount_col=args.amount_col,
        )
        quality, end, cal = check_input(
            transactions,
            customer_col=args.customer_col,
            date_col=args.date_col,
            amount_col=args.amount_col,
            observation_end=args.observation_end,
            calibration_end=args.calibration_end,
            time_unit=args.time_unit,
            returns=args.returns,
            date_format=args.date_format,
            tz=args.tz,
        )
    except (ReportError, ValueError) as err:
        _say(f"churnlab report: {err}")
        return 2
    out.mkdir(parents=True, exist_ok=True)
    (out / "data_quality.txt").write_text(str(quality) + "\n", encoding="utf-8")
    _say(
        f"{quality.rows:,} rows, {quality.customers:,} customers, {quality.first_date.date()} "
        f"to {quality.last_date.date()}; observation end {end}, calibration end {cal}"
    )
    settings = ReportSettings(
        transactions=str(Path(args.transactions).resolve())
        if not any(ch in args.transactions for ch in "*?[")
        else str(Path(args.transactions).parent.resolve() / Path(args.transactions).name),
        customer_col=args.customer_col,
        date_col=args.date_col,
        amount_col=args.amount_col,
        observation_end=end,
        calibration_end=cal,
        time_unit=args.time_unit,
        returns=args.returns,
        date_format=args.date_format,
        tz=args.tz,
        horizon=args.horizon,
        figures_dir=str(out / "figures"),
        title=args.title or Path(args.transactions).name,
    )
    try:
        run_report(
            settings,
            out,
            templates=[args.only] if args.only else None,
            progress=not args.no_progress,
        )
    except Exception as err:  # a failing cell: papermill names it; keep the partial notebook
        _say(f"churnlab report: a notebook failed: {err}")
        return 1
    n_figures = len(list((out / "figures").glob("*")))
    _say(f"wrote {out}: notebooks/, HTML reports, {n_figures} figure files in figures/")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = [
    "TEMPLATES",
    "ReportError",
    "ReportSettings",
    "check_input",
    "load_transactions",
    "main",
    "run_report",
]
