"""The contract of churnlab's result objects: ``table``, ``to_frame()`` and the notebook view.

A function whose answer has several parts (an NPS with its interval, a reason mix against a
benchmark, a programme's effect) returns a small frozen dataclass, a *result*, built on
:class:`Result`. Every result keeps the same contract:

* ``table`` is a pandas DataFrame, never a Series, with fixed row labels and columns: they do
  not change with the function's arguments (an argument's value goes in a column or an
  attribute, not in a label), so ``result.table.loc[row, column]`` keeps working whatever the
  arguments;
* ``to_frame()`` returns a copy of ``table``, free to change, join or export;
* in Jupyter a result shows a bold title, a line or two of notes and ``table``
  (``_repr_html_``, built by :func:`html_result`): every text is HTML-escaped and numbers
  show four significant digits (thousands separated, no exponent for large values);
* a result with sampling uncertainty computes its intervals at any level:
  ``confidence_interval(level=0.95)``.

The other fields of a result are its parts by name (``result.nps``, ``result.p_value``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import pandas as pd

__all__ = ["Result", "format_number", "html_result"]


def format_number(value: float) -> str:
    """A number as a result table shows it: four significant digits, no exponent from 1,000.

    >>> format_number(0.77351), format_number(12345.678), format_number(3e-6)
    ('0.7735', '12,346', '3e-06')
    """
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def html_result(title: str, table: pd.DataFrame, notes: str | Sequence[str] = ()) -> str:
    """HTML of a result: the title in bold, each note as a paragraph, then the table.

    The title and notes are escaped; so are the table's labels and text cells (pandas escapes
    them by default).

    >>> html_result("A & B", pd.DataFrame({"x": [1.5]}), "n < 2")[:44]
    '<p><b>A &amp; B</b></p><p>n &lt; 2</p><table'
    """
    if isinstance(notes, str):
        notes = [notes] if notes else []
    paragraphs = "".join(f"<p>{html.escape(note)}</p>" for note in notes)
    body = table.to_html(float_format=format_number, escape=True)
    return f"<p><b>{html.escape(title)}</b></p>{paragraphs}{body}"


class Result:
    """Base of every result dataclass: ``to_frame()`` and the HTML view from ``table``.

    A subclass is a frozen dataclass that defines ``table`` (a field or a property returning a
    DataFrame), and may override :meth:`_html_title` (default: the class name) and
    :meth:`_html_notes` (default: none).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Share(Result):
    ...     share: float
    ...     @property
    ...     def table(self):
    ...         return pd.DataFrame({"value": [self.share]}, index=["share"])
    >>> Share(0.25).to_frame()
           value
    share   0.25
    >>> Share(0.25)._repr_html_()[:22]
    '<p><b>Share</b></p><ta'
    """

    __slots__ = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        annotations = getattr(cls, "__annotations__", {})
        if not (hasattr(cls, "table") or "table" in annotations):
            raise TypeError(f"{cls.__name__} must define `table` (a field or a property)")

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`table`."""
        table = self.table
        if not isinstance(table, pd.DataFrame):  # the contract, checked where it is used
            raise TypeError(f"{type(self).__name__}.table is a {type(table).__name__}")
        return table.copy()

    def _html_title(self) -> str:
        return type(self).__name__

    def _html_notes(self) -> str | Sequence[str]:
        return ()

    def _repr_html_(self) -> str:
        return html_result(self._html_title(), self.table, self._html_notes())
