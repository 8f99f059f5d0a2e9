"""The bundled donations data: checksum from data/donations/README.md, loader, published counts."""

import hashlib

from churnlab.datasets import load_donations
from churnlab.datasets.cdnow import DATA_DIR

# SHA-256 recorded in data/donations/README.md when the file was added.
CHECKSUM = "82c25f26a201ff047e1cd5fe3d7967a45db92a025ecedee72ff8940e50104544"


def test_checksum_matches_the_readme():
    path = DATA_DIR / "donations" / "donations.csv"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == CHECKSUM
    assert CHECKSUM in (DATA_DIR / "donations" / "README.md").read_text()


def test_loader_gives_the_published_cohort():
    # 11,104 first-time donors of 1995, six opportunities each (Fader, Hardie & Shang 2010)
    donors = load_donations()
    assert list(donors.columns) == ["frequency", "recency", "n_periods", "donors"]
    assert donors.index.name == "pattern" and len(donors) == 22
    assert int(donors["donors"].sum()) == 11_104
    assert (donors["n_periods"] == 6).all()
    assert donors.dtypes.astype(str).tolist() == ["int64"] * 4
    # every possible (frequency, recency) history over six opportunities appears once
    assert len(donors[["frequency", "recency"]].drop_duplicates()) == 22
    # 3,464 never gave again; 1,203 gave in every one of the six years
    lookup = donors.set_index(["frequency", "recency"])["donors"]
    assert lookup[(0, 0)] == 3464 and lookup[(6, 6)] == 1203
