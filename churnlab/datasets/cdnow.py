"""The CDNOW data set bundled in ``data/cdnow/`` (see its README for provenance and schema)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def _find_data_dir() -> Path:
    """The folder of the bundled data sets, in an installed wheel or in a source checkout.

    The data sets live in the repository's top-level ``data/`` folder. A wheel carries a copy
    of it inside the package, ``churnlab/_data`` (made at build time by setup.py); a source
    checkout, editable install included, has only ``data/`` next to the package.
    """
    package = Path(__file__).resolve().parents[1]
    installed = package / "_data"
    if installed.is_dir():
        return installed
    return package.parent / "data"


#: Folder of the bundled data sets: ``data/`` at the top of the repository, or its copy
#: ``churnlab/_data`` in an installed wheel.
DATA_DIR = _find_data_dir()

_FILES = {"master": "CDNOW_master.txt", "sample": "CDNOW_sample.txt"}


def data_path(*parts: str) -> Path:
    """Path of a bundled data file, raising a clear error when it is not there."""
    path = DATA_DIR.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: churnlab's data sets live in the repository's data/ folder, "
            "copied into the package (churnlab/_data) when a wheel is built; install churnlab "
            "from a checkout (pip install -e .) or from a wheel built from one."
        )
    return path


def load_cdnow(kind: str = "sample") -> pd.DataFrame:
    """Load the CDNOW transactions as a tidy DataFrame.

    Parameters
    ----------
    kind : {'sample', 'master'}
        ``'master'``: the full log, 23,570 customers who first bought in the first quarter of
        1997 and 69,659 transactions to the end of June 1998. ``'sample'``: the 1/10 sample
        of 2,357 customers (6,919 transactions) used by Fader, Hardie & Lee (2005), with the
        customer ids of that sample (1 to 2,357).

    Returns
    -------
    DataFrame
        Columns ``customer_id`` (int), ``date`` (datetime64), ``quantity`` (CDs bought, int)
        and ``amount`` (dollars), one row per transaction in file order.

    Examples
    --------
    >>> tx = load_cdnow("sample")
    >>> tx.shape, tx["customer_id"].nunique()
    ((6919, 4), 2357)
    >>> tx.dtypes.astype(str).tolist()
    ['int64', 'datetime64[ns]', 'int64', 'float64']
    """
    if kind not in _FILES:
        raise ValueError(f"kind={kind!r}: use 'sample' or 'master'")
    path = data_path("cdnow", _FILES[kind])
    if kind == "master":
        names = ["customer_id", "date", "quantity", "amount"]
        raw = pd.read_csv(path, sep=r"\s+", header=0, names=names, dtype={"date": str})
    else:
        # columns: id in the master log, id in the sample, date, CDs, dollars
        names = ["master_id", "customer_id", "date", "quantity", "amount"]
        raw = pd.read_csv(path, sep=r"\s+", header=None, names=names, dtype={"date": str})
    out = pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype("int64"),
            "date": pd.to_datetime(raw["date"], format="%Y%m%d").astype("datetime64[ns]"),
            "quantity": raw["quantity"].astype("int64"),
            "amount": raw["amount"].astype("float64"),
        }
    )
    return out


def load_cdnow_summary() -> pd.DataFrame:
    """The published RFM summary of the CDNOW sample (weeks, observation end 1997-09-30).

    Columns ``frequency``, ``recency``, ``T`` and ``monetary_value`` (the published mean
    repeat-transaction value, "zbar"), indexed by ``customer_id``. It is the reference that
    :func:`churnlab.rfm_summary` reproduces from the raw transactions.

    Examples
    --------
    >>> load_cdnow_summary().loc[1].tolist()
    [2.0, 30.43, 38.86, 22.35]
    """
    raw = pd.read_csv(data_path("cdnow", "cdnow_customers_summary_with_transactions.csv"))
    out = pd.DataFrame(
        {
            "frequency": raw["x"].astype("int64").to_numpy(),
            "recency": raw["t_x"].to_numpy(float),
            "T": raw["T"].to_numpy(float),
            "monetary_value": raw["zbar"].to_numpy(float),
        },
        index=pd.Index(raw["ID"].astype("int64").to_numpy(), name="customer_id"),
    )
    return out
