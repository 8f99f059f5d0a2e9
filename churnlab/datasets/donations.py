"""The donations data set bundled in ``data/donations/`` (see its README for provenance)."""

from __future__ import annotations

import pandas as pd

from churnlab.datasets.cdnow import data_path


def load_donations() -> pd.DataFrame:
    """Repeat donations of the 11,104 first-time supporters of a nonprofit in 1995.

    The calibration data of Fader, Hardie & Shang (2010): each donor had six annual
    opportunities to give again (1996-2001). Donors with the same history are one row, with
    their number in ``donors``; pass it to a model's ``weights``.

    Returns
    -------
    DataFrame
        22 rows indexed by ``pattern`` (0-21), with ``frequency`` (years with a repeat
        donation), ``recency`` (the last such year, 1-6; 0 without any), ``n_periods``
        (opportunities, 6 for everyone) and ``donors`` (how many donors share the history).

    Examples
    --------
    >>> donors = load_donations()
    >>> donors.shape, int(donors["donors"].sum())
    ((22, 4), 11104)
    >>> donors.iloc[0].tolist()
    [0, 0, 6, 3464]
    """
    raw = pd.read_csv(data_path("donations", "donations.csv"))
    return pd.DataFrame(
        {
            "frequency": raw["frequency"].astype("int64").to_numpy(),
            "recency": raw["recency"].astype("int64").to_numpy(),
            "n_periods": raw["periods"].astype("int64").to_numpy(),
            "donors": raw["weights"].astype("int64").to_numpy(),
        },
        index=pd.RangeIndex(len(raw), name="pattern"),
    )
