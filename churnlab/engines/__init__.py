"""The same summaries wherever the transactions live.

:func:`churnlab.rfm_summary`, :func:`churnlab.calibration_holdout_split`,
:func:`churnlab.churn.make_churn_dataset` and :func:`churnlab.inspect_transactions` accept a
transaction table in any of these forms (:func:`~churnlab.engines.sources.source_kind`):

==========================================  ===============================================
input                                       engine
==========================================  ===============================================
pandas DataFrame                            the pandas path (:mod:`churnlab.transactions`)
Polars DataFrame, PyArrow table             converted to pandas, then the pandas path
Parquet / CSV file path, or a glob of them  DuckDB (:mod:`churnlab.engines.duckdb`), out of
                                            core: spills to disk within a memory limit
DuckDB relation                             DuckDB, in the relation's own connection
Spark DataFrame                             Spark (:mod:`churnlab.spark`)
==========================================  ===============================================

In memory the pandas path is the fastest (see ``benchmarks/README.md``), so data frames use
it; files and relations are summarised where they are, and only the per-customer result comes
back as pandas. Every path applies the same rules (:mod:`churnlab.transactions`): the DuckDB
engine states them once more as SQL, and the tests hold the two to identical output.

``engine_options=`` (a dict) passes settings to the DuckDB engine: ``memory_limit`` (default
half of the machine's memory), ``temp_directory`` (where DuckDB spills; default a fresh
temporary folder removed afterwards) and ``threads``. Other inputs refuse it, so that a setting
is never silently ignored.
"""

from __future__ import annotations

import inspect

from churnlab.engines.sources import SOURCE_KINDS, file_sources, source_kind, to_pandas

__all__ = ["ENGINE_OPTIONS", "SOURCE_KINDS", "dispatch", "file_sources", "source_kind", "to_pandas"]

#: The keys ``engine_options=`` accepts (settings of the DuckDB engine).
ENGINE_OPTIONS: tuple[str, ...] = ("memory_limit", "temp_directory", "threads")

#: Columns a function reads, by its arguments (the rest of a table need not be converted).
_COLUMN_ARGUMENTS = ("customer_col", "date_col", "amount_col", "quantity_col")


def _check_options(options, kind: str) -> dict:
    if options is None:
        return {}
    if kind not in ("path", "duckdb"):
        raise ValueError(
            f"engine_options apply to the DuckDB engine (files and DuckDB relations), not to "
            f"{kind} inputs; got {options!r}"
        )
    if not isinstance(options, dict):
        raise ValueError(f"engine_options must be a dict, got {type(options).__name__}")
    unknown = sorted(set(options) - set(ENGINE_OPTIONS))
    if unknown:
        raise ValueError(f"engine_options: unknown key(s) {unknown}; use {list(ENGINE_OPTIONS)}")
    return dict(options)


def dispatch(function, arguments: dict):
    """Run a public function on a transaction table that is not a pandas DataFrame.

    ``function`` is the public function (its name picks the engine's function of the same
    name) and ``arguments`` its arguments by name, ``transactions`` and ``engine_options``
    included (``locals()`` at the top of the function: names that are not parameters of
    ``function`` are dropped).
    """
    parameters = inspect.signature(function).parameters
    arguments = {
        name: arguments.get(name, parameter.default)
        for name, parameter in parameters.items()
        if name in arguments or parameter.default is not inspect.Parameter.empty
    }
    data = arguments.pop("transactions")
    kind = source_kind(data)
    options = _check_options(arguments.pop("engine_options", None), kind)
    name = function.__name__
    if kind == "pandas":
        return function(data, **arguments)
    if kind in ("polars", "arrow"):
        columns = None
        if name != "inspect_transactions":  # the report counts duplicates over every column
            columns = [arguments[a] for a in _COLUMN_ARGUMENTS if arguments.get(a) is not None]
            columns = columns or None
        return function(to_pandas(data, columns), **arguments)
    if kind == "spark":
        from churnlab import spark

        return getattr(spark, name)(data, **arguments)
    from churnlab.engines import duckdb as engine

    return getattr(engine, name)(data, **arguments, **options)
