"""`churnlab report`: the narrative notebooks on an analyst's own file, and its early refusals."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from churnlab.datasets import load_retail_sample
from churnlab.report import ReportError, check_input, load_transactions, main


@pytest.fixture(scope="module")
def export_frame():
    """600 customers of the retail sample, as another system would export them."""
    tx = load_retail_sample().transactions
    keep = tx["customer_id"].isin(np.arange(1, 601))
    tx = tx[keep]
    return pd.DataFrame(
        {
            "client": "K" + tx["customer_id"].astype(str),
            "order_day": tx["date"].dt.strftime("%d/%m/%Y"),
            "net_value": tx["amount"],
        }
    )


def _markdown(path):
    cells = json.loads(path.read_text())["cells"]
    return "\n".join(
        "".join(o["data"]["text/markdown"])
        for c in cells
        for o in c.get("outputs", [])
        if "text/markdown" in o.get("data", {})
    )


def test_report_on_a_csv_with_its_own_columns_and_date_format(export_frame, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    export_frame.to_csv(path, index=False)
    out = tmp_path / "report"
    code = main(
        [
            "report",
            str(path),
            "--customer-col",
            "client",
            "--date-col",
            "order_day",
            "--amount-col",
            "net_value",
            "--date-format",
            "%d/%m/%Y",
            "--observation-end",
            "2024-12-31",
            "--returns",
            "net",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0, capsys.readouterr().err
    for name in ("lifetime_value", "churn"):
        assert (out / f"{name}.html").stat().st_size > 10_000
        executed = json.loads((out / "notebooks" / f"{name}.ipynb").read_text())
        errors = [
            o
            for c in executed["cells"]
            for o in c.get("outputs", [])
            if o.get("output_type") == "error"
        ]
        assert not errors
    # the narrative states this file's own numbers, read with this file's column names
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quality = check_input(
            export_frame,
            customer_col="client",
            date_col="order_day",
            amount_col="net_value",
            date_format="%d/%m/%Y",
            returns="net",
        )[0]
    text = _markdown(out / "notebooks" / "lifetime_value.ipynb")
    assert f"{quality.rows:,} transactions of {quality.customers:,} customers" in text
    assert f"{quality.return_rows:,} rows are returns" in text
    figures = {p.name for p in (out / "figures").iterdir()}
    for stem in ("lifetime_value_tracking", "churn_roc"):
        assert {f"{stem}.png", f"{stem}.svg", f"{stem}.pdf"} <= figures
    assert "will be refused" not in (out / "data_quality.txt").read_text()


def test_report_on_a_parquet_file(export_frame, tmp_path, capsys):
    frame = export_frame.assign(
        order_day=pd.to_datetime(export_frame["order_day"], format="%d/%m/%Y")
    )
    path = tmp_path / "orders.parquet"
    frame.to_parquet(path)
    out = tmp_path / "report"
    code = main(
        [
            "report",
            str(path),
            "--customer-col",
            "client",
            "--date-col",
            "order_day",
            "--amount-col",
            "net_value",
            "--only",
            "churn",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert "out-of-time ROC AUC" in _markdown(out / "notebooks" / "churn.ipynb")


def test_report_fails_early_with_the_librarys_errors(export_frame, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    export_frame.to_csv(path, index=False)
    cases = [
        ([str(tmp_path / "missing.csv")], "no such file"),
        ([str(path)], "has no column(s) ['customer_id', 'date', 'amount']"),
        (
            [
                str(path),
                "--customer-col",
                "client",
                "--date-col",
                "order_day",
                "--amount-col",
                "net_value",
            ],
            "cannot be parsed as dates",
        ),
        (
            [
                str(path),
                "--customer-col",
                "client",
                "--date-col",
                "order_day",
                "--amount-col",
                "net_value",
                "--date-format",
                "%d/%m/%Y",
                "--observation-end",
                "2030-01-01",
            ],
            "days after the last transaction",
        ),
        (
            [
                str(path),
                "--customer-col",
                "client",
                "--date-col",
                "order_day",
                "--amount-col",
                "net_value",
                "--date-format",
                "%d/%m/%Y",
                "--observation-end",
                "2001-01-01",
            ],
            "before every purchase",
        ),
    ]
    for args, message in cases:
        assert main(["report", *args, "--out", str(tmp_path / "r")]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "r" / "notebooks").exists()


def test_no_repeat_buyers_is_refused():
    one_off = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "date": ["2024-01-01", "2024-02-01", "2024-03-01"],
            "amount": [5.0, 6.0, 7.0],
        }
    )
    with pytest.raises(ReportError, match="no repeat buyers: all 3 customers"):
        check_input(one_off, customer_col="customer_id", date_col="date", amount_col="amount")


def test_load_reads_only_the_named_columns_of_a_glob(export_frame, tmp_path):
    half = len(export_frame) // 2
    export_frame.iloc[:half].to_csv(tmp_path / "part1.csv", index=False)
    export_frame.iloc[half:].assign(extra=1).to_csv(tmp_path / "part2.csv", index=False)
    got = load_transactions(
        str(tmp_path / "part*.csv"),
        customer_col="client",
        date_col="order_day",
        amount_col="net_value",
    )
    assert list(got.columns) == ["client", "order_day", "net_value"]
    assert len(got) == len(export_frame)
    assert got["order_day"].tolist() == export_frame["order_day"].tolist()
