"""What kind of transaction table a function was given, and how to read it.

churnlab's functions that read transactions accept, besides a pandas DataFrame:

* a Polars DataFrame or a PyArrow table (in memory: converted to pandas, without copying
  numeric columns where Arrow allows, and read by the pandas path);
* a path to a Parquet (``.parquet``, ``.pq``) or CSV (``.csv``, ``.csv.gz``) file, as a string
  or :class:`pathlib.Path`, or a glob of them (``"exports/2024-*.parquet"``): read by DuckDB;
* a DuckDB relation: read by DuckDB in its own connection;
* a Spark DataFrame: read by Spark (:mod:`churnlab.spark`).

The kind is recognised by the object's type and module name, so Polars, DuckDB and PySpark are
only imported when such an object is passed.
"""

from __future__ import annotations

import glob
import os

import pandas as pd

__all__ = [
    "CSV_SUFFIXES",
    "PARQUET_SUFFIXES",
    "SOURCE_KINDS",
    "file_sources",
    "source_kind",
    "to_pandas",
]

#: The kinds of transaction table churnlab reads, as :func:`source_kind` names them.
SOURCE_KINDS: tuple[str, ...] = ("pandas", "polars", "arrow", "path", "duckdb", "spark")

#: File name endings read as Parquet and as CSV (case-insensitive).
PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")
CSV_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz")

_GLOB_CHARS = "*?["

#: (top-level module, class name) of the objects recognised by duck typing.
_CLASSES = {
    ("polars", "DataFrame"): "polars",
    ("pyarrow", "Table"): "arrow",
    ("pyarrow", "RecordBatch"): "arrow",
    ("duckdb", "DuckDBPyRelation"): "duckdb",
    ("_duckdb", "DuckDBPyRelation"): "duckdb",
    ("pyspark", "DataFrame"): "spark",
}


def source_kind(data) -> str:
    """Name the kind of a transaction table: one of :data:`SOURCE_KINDS`.

    Raises TypeError for anything else, naming what is accepted.

    >>> source_kind(pd.DataFrame({"customer_id": [1]}))
    'pandas'
    >>> source_kind("exports/transactions-*.parquet")
    'path'
    """
    if isinstance(data, pd.DataFrame):
        return "pandas"
    if isinstance(data, (str, os.PathLike)):
        return "path"
    for cls in type(data).__mro__:
        root = (cls.__module__ or "").split(".")[0]
        kind = _CLASSES.get((root, cls.__name__))
        if kind is not None:
            return kind
    hint = ""
    if type(data).__name__ == "LazyFrame":
        hint = " Collect a Polars LazyFrame first (.collect())."
    raise TypeError(
        "transactions must be a pandas or Polars DataFrame, a PyArrow table, a path to a "
        "Parquet or CSV file (or a glob of them), a DuckDB relation or a Spark DataFrame; got "
        f"{type(data).__module__}.{type(data).__name__}.{hint}"
    )


def _file_format(path: str) -> str | None:
    name = path.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    return None


def file_sources(path) -> tuple[str, list[str]]:
    """The format (``"parquet"`` or ``"csv"``) and the files of a path or glob, sorted.

    A glob must match at least one file and all of them must be of one format.
    """
    text = os.fspath(path)
    supported = (
        f"churnlab reads Parquet ({', '.join(PARQUET_SUFFIXES)}) and CSV "
        f"({', '.join(CSV_SUFFIXES)}) files"
    )
    if any(c in text for c in _GLOB_CHARS):
        files = sorted(f for f in glob.glob(text, recursive=True) if os.path.isfile(f))
        if not files:
            raise ValueError(f"transactions={text!r}: no file matches this pattern")
    else:
        if os.path.isdir(text):
            raise ValueError(
                f"transactions={text!r} is a folder: pass a file or a glob of files, such as "
                f"{os.path.join(text, '*.parquet')!r}"
            )
        if not os.path.isfile(text):
            raise ValueError(f"transactions={text!r}: no such file")
        files = [text]
    formats = {f: _file_format(f) for f in files}
    unknown = [f for f, kind in formats.items() if kind is None]
    if unknown:
        raise ValueError(f"transactions={text!r}: {supported}; cannot read {unknown[:3]}")
    kinds = sorted(set(formats.values()))
    if len(kinds) > 1:
        raise ValueError(
            f"transactions={text!r} matches both Parquet and CSV files: read one format at a time"
        )
    return kinds[0], files


def to_pandas(data, columns: list[str] | None = None) -> pd.DataFrame:
    """A Polars DataFrame or Arrow table as a pandas DataFrame, for the pandas path.

    Only ``columns`` are converted when they all exist (the others are not needed); otherwise
    every column is, so that an error can list what the table has. Numeric columns without
    missing values are handed over without a copy where Arrow allows (``split_blocks``), text
    stays Arrow-backed, and date columns become datetime64 (not Python date objects).
    """
    kind = source_kind(data)
    if kind == "pandas":
        return data
    if kind not in ("polars", "arrow"):
        raise TypeError(f"to_pandas converts Polars and Arrow tables, not {kind} inputs")
    names = list(data.columns) if kind == "polars" else list(data.schema.names)
    if columns is not None and all(c in names for c in columns):
        data = data.select(list(dict.fromkeys(columns)))
    if kind == "polars":
        data = data.to_arrow()
    return data.to_pandas(split_blocks=True, date_as_object=False)
