"""The bundled CDNOW data: checksums from data/cdnow/README.md, loaders, published counts."""

import hashlib

import numpy as np
import pytest

from churnlab.datasets import load_cdnow, load_cdnow_summary
from churnlab.datasets.cdnow import DATA_DIR

# SHA-256 recorded in data/cdnow/README.md when the files were added.
CHECKSUMS = {
    "CDNOW_master.txt": "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef",
    "CDNOW_sample.txt": "6fae10155c0b0ba363c2c386e30f77990d22328220efd862a5edd1443420d94a",
    "cdnow_customers_summary.csv": (
        "09d92ca80daaabe8be0f997d4c539f9c9606106baa5b199081fe01cbce5fa9f6"
    ),
    "cdnow_customers_summary_with_transactions.csv": (
        "7ddd11b55be3227edfc1d58675154e96971b0de3ad37ddd9280d1dba154b8b2f"
    ),
}


@pytest.mark.parametrize("name", sorted(CHECKSUMS))
def test_checksums_match_the_readme(name):
    digest = hashlib.sha256((DATA_DIR / "cdnow" / name).read_bytes()).hexdigest()
    assert digest == CHECKSUMS[name]
    assert CHECKSUMS[name] in (DATA_DIR / "cdnow" / "README.md").read_text()


def test_master_has_the_published_size():
    # 23,570 customers and 69,659 transactions, January 1997 to June 1998 (FHL 2005).
    tx = load_cdnow("master")
    assert tx.shape == (69659, 4)
    assert tx["customer_id"].nunique() == 23570
    assert str(tx["date"].min().date()) == "1997-01-01"
    assert str(tx["date"].max().date()) == "1998-06-30"
    # every customer's first purchase is in the first quarter of 1997
    first = tx.groupby("customer_id")["date"].min()
    assert first.max() <= np.datetime64("1997-03-31")


def test_sample_ids_match_the_published_summary():
    tx = load_cdnow("sample")
    summary = load_cdnow_summary()
    assert tx.shape == (6919, 4)
    assert sorted(tx["customer_id"].unique()) == list(summary.index)
    assert len(summary) == 2357


def test_bad_kind_is_rejected():
    with pytest.raises(ValueError, match="sample"):
        load_cdnow("full")
