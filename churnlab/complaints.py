"""The complaint iceberg: complaints seen, unhappy customers below the waterline, word of mouth.

Only about one in ten dissatisfied customers bothers to complain; a dissatisfied customer
tells about ten others (another source: eleven), and a customer whose complaint was resolved
stays and tells about five (the project's domain notes, "Complaints"). Each figure is defined
once below and can be overridden. Re-exported by :mod:`churnlab.loyalty`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnlab._validation import (
    check_customer_ids,
    check_number,
    fail,
    require_columns,
    require_dataframe,
    require_no_nan,
)
from churnlab.results import Result

__all__ = [
    "TOLD_BY_DISSATISFIED",
    "TOLD_BY_DISSATISFIED_ALT",
    "TOLD_BY_RESOLVED",
    "UNHAPPY_PER_COMPLAINT",
    "ComplaintIceberg",
    "complaint_iceberg",
]

#: "Only about one in ten dissatisfied customers bothers to complain" (docs/domain.md, Complaints).
UNHAPPY_PER_COMPLAINT: float = 10.0
#: "A dissatisfied customer tells about ten others" (docs/domain.md, Complaints) ...
TOLD_BY_DISSATISFIED: float = 10.0
#: ... "another source: eleven" (docs/domain.md, Complaints).
TOLD_BY_DISSATISFIED_ALT: float = 11.0
#: "A customer whose complaint was resolved stays and tells about five" (docs/domain.md,
#: Complaints).
TOLD_BY_RESOLVED: float = 5.0


@dataclass(frozen=True)
class ComplaintIceberg(Result):
    """Complaints seen, unhappy customers estimated, and word of mouth.

    ``table`` (one row per group, or ``"all"``): ``complaints``, ``complainants`` (distinct
    customers), ``resolved`` / ``unresolved`` complainants (a complainant is resolved when all
    their complaints are), ``estimated_unhappy`` (complainants x ``unhappy_per_complaint``),
    ``silent_unhappy`` (those who never complained), ``negative_reach`` (people told by
    unresolved and silent unhappy customers), ``positive_reach`` (people told by resolved
    complainants), ``negative_reach_if_all_resolved``.
    """

    table: pd.DataFrame
    unhappy_per_complaint: float
    told_by_dissatisfied: float
    told_by_resolved: float

    def _html_title(self) -> str:
        return "Complaint iceberg"

    def _html_notes(self) -> str:
        return (
            f"{self.unhappy_per_complaint:g} unhappy customers per complainant; a dissatisfied "
            f"customer tells {self.told_by_dissatisfied:g}, a resolved one "
            f"{self.told_by_resolved:g}"
        )


def complaint_iceberg(
    complaints: pd.DataFrame,
    *,
    by: str | None = None,
    unhappy_per_complaint: float = UNHAPPY_PER_COMPLAINT,
    told_by_dissatisfied: float = TOLD_BY_DISSATISFIED,
    told_by_resolved: float = TOLD_BY_RESOLVED,
    customer_col: str = "customer_id",
    resolved_col: str = "resolved",
) -> ComplaintIceberg:
    """From complaints seen to the unhappy customers below the waterline and what they say.

    Only about one in ten dissatisfied customers complains, so each complainant stands for
    ``unhappy_per_complaint`` (10) unhappy customers. A dissatisfied customer (an unresolved
    complainant or one who never complained) tells ``told_by_dissatisfied`` (10; another
    source says 11, :data:`TOLD_BY_DISSATISFIED_ALT`) others; a customer whose complaint was
    resolved stays and tells ``told_by_resolved`` (5).

    Parameters
    ----------
    complaints : DataFrame
        One row per complaint with customer and boolean ``resolved`` columns.
    by : str, optional
        Group column, e.g. ``"touch_point"``; a customer may complain about several.

    Examples
    --------
    Three customers complain four times; customer 1 had one complaint left unresolved.

    >>> c = pd.DataFrame({"customer_id": [1, 1, 2, 3], "resolved": [True, False, True, True]})
    >>> t = complaint_iceberg(c).table
    >>> t[["complainants", "resolved", "unresolved", "estimated_unhappy", "silent_unhappy"]]
         complainants  resolved  unresolved  estimated_unhappy  silent_unhappy
    all             3         2           1               30.0            27.0
    >>> # by hand: (1 unresolved + 27 silent) x 10 told = 280; 2 resolved x 5 told = 10
    >>> t[["negative_reach", "positive_reach"]]
         negative_reach  positive_reach
    all           280.0            10.0
    """
    unhappy_per_complaint = check_number(
        unhappy_per_complaint,
        "unhappy_per_complaint",
        low=1,
        hint="Complainants are unhappy customers themselves.",
    )
    told_by_dissatisfied = check_number(told_by_dissatisfied, "told_by_dissatisfied", low=0)
    told_by_resolved = check_number(told_by_resolved, "told_by_resolved", low=0)
    require_dataframe(complaints, "complaints")
    cols = [customer_col, resolved_col] + ([by] if by else [])
    require_columns(complaints, cols, "complaints")
    check_customer_ids(complaints[customer_col], customer_col)
    require_no_nan(complaints, cols)
    res = complaints[resolved_col]
    if not pd.api.types.is_bool_dtype(res):
        bad = ~res.isin([True, False]).to_numpy()
        if bad.any():
            fail(resolved_col, "values that are not True/False", complaints, bad)
    keys = [by] if by else []
    frame = pd.DataFrame({"customer": complaints[customer_col], "resolved": res.astype(bool)})
    frame["group"] = complaints[by].to_numpy() if by else "all"
    per = frame.groupby(["group", "customer"]).agg(
        n=("resolved", "size"), all_resolved=("resolved", "all")
    )
    g = per.groupby(level="group")
    table = pd.DataFrame(
        {
            "complaints": g["n"].sum(),
            "complainants": g.size(),
            "resolved": g["all_resolved"].sum().astype(np.int64),
        }
    )
    table["unresolved"] = table["complainants"] - table["resolved"]
    table["estimated_unhappy"] = table["complainants"] * float(unhappy_per_complaint)
    table["silent_unhappy"] = table["estimated_unhappy"] - table["complainants"]
    dissatisfied = table["unresolved"] + table["silent_unhappy"]
    table["negative_reach"] = dissatisfied * told_by_dissatisfied
    table["positive_reach"] = table["resolved"] * float(told_by_resolved)
    table["negative_reach_if_all_resolved"] = table["silent_unhappy"] * told_by_dissatisfied
    table.index.name = keys[0] if keys else None
    return ComplaintIceberg(
        table, float(unhappy_per_complaint), float(told_by_dissatisfied), float(told_by_resolved)
    )
