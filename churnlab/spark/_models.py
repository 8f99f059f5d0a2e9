"""Fitting on collapsed rows and scoring in parallel.

A purchase or spend model sees a customer only through a few numbers (``frequency``,
``recency``, ``T``; ``monetary_value``), so a million customers collapse to the distinct rows
of those numbers with a count each. :func:`fit` counts them in Spark, collects the counts to
the driver and fits there with the counts as weights: the likelihood is the same weighted sum
as on the full table (:func:`churnlab.models._base.collapse_rows` does the same in memory).

:func:`score` does the opposite: the fitted models travel to the executors as their JSON
(:meth:`~churnlab.models._base.LikelihoodModel.to_dict`), are rebuilt once per task
(:meth:`~churnlab.models._base.LikelihoodModel.from_dict`) and predict batch by batch with
``mapInPandas``, with the same code as on one machine.
"""

from __future__ import annotations

import importlib
import json
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from churnlab._validation import check_number
from churnlab.rfm import unit_days
from churnlab.spark._read import require_spark_columns, require_spark_frame, show_spark_rows

#: Key of the time unit in the metadata of the ``recency`` and ``T`` columns of a Spark RFM
#: summary (written by :func:`churnlab.spark.rfm_summary` with ``as_spark=True``).
TIME_UNIT_KEY = "churnlab_time_unit"

#: Columns of an RFM summary that carry the time unit.
_TIMED = ("recency", "T", "recency_cal", "T_cal", "tenure", "duration_holdout")


def with_time_unit(column, name: str, time_unit: str):
    """``column`` named ``name`` and tagged with the time unit in its metadata."""
    return column.alias(name, metadata={TIME_UNIT_KEY: time_unit})


def recorded_time_unit(sdf: DataFrame) -> str | None:
    """The time unit recorded in the columns' metadata, None when none is."""
    units = {
        field.metadata.get(TIME_UNIT_KEY)
        for field in sdf.schema.fields
        if field.name in _TIMED and field.metadata.get(TIME_UNIT_KEY)
    }
    if len(units) > 1:
        raise ValueError(f"the columns record different time units {sorted(units)}")
    return units.pop() if units else None


def _resolve_time_unit(sdf: DataFrame, time_unit: str | None) -> str | None:
    recorded = recorded_time_unit(sdf)
    if time_unit is not None:
        unit_days(time_unit)
        if recorded is not None and recorded != time_unit:
            raise ValueError(
                f"time_unit={time_unit!r} but the data record time_unit={recorded!r}: recency, "
                f"T and horizons must be in the data's unit; pass time_unit={recorded!r}"
            )
        return time_unit
    return recorded


def distinct_rows(sdf: DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """The distinct rows of ``columns`` with their number of customers (``weight``), sorted."""
    counts = sdf.groupBy(*columns).agg(F.count(F.lit(1)).alias("weight"))
    frame = counts.toPandas()
    return frame.sort_values(list(columns), kind="stable").reset_index(drop=True)


def fit(model, data, *, time_unit: str | None = None, **summary_args):
    """Fit a churnlab model on a Spark RFM summary (or transactions) via its distinct rows.

    The model's columns (``model._columns``: ``frequency, recency, T`` for
    :class:`~churnlab.BetaGeo`, ``frequency, monetary_value`` for :class:`~churnlab.GammaGamma`)
    are grouped in Spark; the distinct rows and their counts (a few thousand rows for millions
    of customers) are collected and the model is fitted on them with the counts as weights.
    The estimates are those of fitting on every customer (the log-likelihood is the same
    weighted sum); ``n_customers_`` counts customers, ``n_unique_`` the distinct rows.

    Parameters
    ----------
    model : LikelihoodModel
        An unfitted churnlab model (it is fitted in place and returned).
    data : pyspark.sql.DataFrame
        An RFM summary with the model's columns (from :func:`churnlab.spark.rfm_summary` with
        ``as_spark=True``, or any table with those columns), or a transaction table: then it
        is summarised first with :func:`churnlab.spark.rfm_summary` and ``summary_args``
        (``observation_end``, ``customer_col``, ``time_unit`` ...).
    time_unit : {'D', 'W', 'M'}, optional
        Unit of ``recency`` and ``T``. Read from the columns' metadata when the summary was
        made by :func:`churnlab.spark.rfm_summary`; recorded in ``model.time_unit_`` so
        that predictions refuse data in another unit.

    Returns
    -------
    model
        The fitted model.

    Examples
    --------
    >>> from pyspark.sql import SparkSession
    >>> from churnlab import BetaGeo
    >>> from churnlab.datasets import load_cdnow_summary
    >>> spark = SparkSession.builder.getOrCreate()
    >>> summary = spark.createDataFrame(load_cdnow_summary().reset_index())
    >>> model = fit(BetaGeo(), summary, time_unit="W")
    >>> model.params_.round(3).tolist(), int(model.n_customers_)
    ([0.243, 4.414, 0.793, 2.426], 2357)
    """
    data = require_spark_frame(data, "data")
    if "frequency" not in data.columns:
        from churnlab.spark._summaries import rfm_summary

        if time_unit is not None:
            summary_args["time_unit"] = time_unit
        data = rfm_summary(data, as_spark=True, **summary_args)
    elif summary_args:
        raise TypeError(
            f"fit() got {sorted(summary_args)}: those arguments summarise transactions, but "
            "data is already an RFM summary (it has a 'frequency' column)"
        )
    columns = tuple(getattr(model, "_columns", ()))
    if not columns:
        raise TypeError(f"{type(model).__name__} is not a churnlab likelihood model")
    require_spark_columns(data, columns, "data")
    unit = _resolve_time_unit(data, time_unit)
    rows = distinct_rows(data, columns)
    if rows.empty:
        raise ValueError("no customers: the input is empty")
    frame = rows[list(columns)]
    frame.attrs["time_unit"] = unit
    return model.fit(frame, weights=rows["weight"].to_numpy(float))


# -- scoring -------------------------------------------------------------------------------
def model_payload(model) -> tuple[str, str, str]:
    """What an executor needs to rebuild a fitted model: its module, class and JSON."""
    to_dict = getattr(model, "to_dict", None)
    if to_dict is None:
        raise TypeError(f"{type(model).__name__} cannot be saved as JSON (no to_dict)")
    cls = type(model)
    return cls.__module__, cls.__qualname__, json.dumps(to_dict())


def rebuild(payload: tuple[str, str, str]):
    module, qualname, text = payload
    cls = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    return cls.from_dict(json.loads(text))


def _check_scoring_args(horizon, step, discount_rate, zero_spend, with_spend: bool) -> None:
    """The argument rules of :func:`churnlab.customer_lifetime_value`, checked on the driver."""
    horizon = check_number(horizon, "horizon", low=0, low_open=True)
    step = check_number(step, "step", low=0, low_open=True)
    if not with_spend:
        return
    if discount_rate is None:
        raise ValueError("discount_rate (an annual rate, 0.10 = 10%) is needed for the CLV")
    check_number(
        discount_rate, "discount_rate", low=-1, low_open=True, hint="An annual rate: 0.10 = 10%."
    )
    n_steps = horizon / step
    K = int(round(n_steps))
    if K < 1 or abs(n_steps - K) > 1e-9 * max(1.0, n_steps):
        raise ValueError(
            f"horizon={horizon!r} is not a whole multiple of step={step!r} ({n_steps:g} steps)"
        )
    if zero_spend not in ("zero", "raise"):
        raise ValueError(f"zero_spend must be 'zero' or 'raise', got {zero_spend!r}")


def _score_batches(
    batches: Iterator[pd.DataFrame],
    purchase: tuple[str, str, str],
    spend: tuple[str, str, str] | None,
    options: dict,
) -> Iterator[pd.DataFrame]:
    """Executor side of :func:`score`: rebuild the models once, predict every batch."""
    from churnlab.clv import customer_lifetime_value

    purchase_model = rebuild(purchase)
    spend_model = None if spend is None else rebuild(spend)
    horizon, time_unit = options["horizon"], options["time_unit"]
    names = ["probability_alive", "expected_purchases"] + (["clv"] if spend else [])
    for batch in batches:
        out = batch.copy()
        if batch.empty:
            for name in names:
                out[name] = np.zeros(0)
            yield out
            continue
        history = batch[["frequency", "recency", "T"]].copy()
        history.attrs["time_unit"] = time_unit
        out["probability_alive"] = purchase_model.probability_alive(history).to_numpy()
        out["expected_purchases"] = purchase_model.conditional_expected_purchases(
            horizon, history
        ).to_numpy()
        if spend_model is not None:
            data = batch[["frequency", "recency", "T", "monetary_value"]].copy()
            data.attrs["time_unit"] = time_unit
            with warnings.catch_warnings():
                # counted once for the whole table on the driver
                warnings.filterwarnings("ignore", message="customer_lifetime_value: .* zero")
                out["clv"] = customer_lifetime_value(
                    purchase_model,
                    spend_model,
                    data,
                    time_unit=time_unit,
                    horizon=horizon,
                    discount_rate=options["discount_rate"],
                    step=options["step"],
                    zero_spend="zero",
                ).to_numpy()
        yield out


def score(
    data,
    purchase_model,
    spend_model=None,
    *,
    horizon: float,
    time_unit: str,
    discount_rate: float | None = None,
    step: float = 1.0,
    zero_spend: str = "zero",
) -> DataFrame:
    """P(alive), expected purchases and lifetime value of every customer, in parallel.

    The fitted models are sent to the executors as JSON and rebuilt there; each batch of
    customers is scored by the models' own methods (``mapInPandas``), so the numbers are
    those of the pandas path: ``probability_alive`` (``purchase_model.probability_alive``),
    ``expected_purchases`` (``purchase_model.conditional_expected_purchases(horizon)``) and,
    with a spend model, ``clv`` (:func:`churnlab.customer_lifetime_value` with the same
    ``horizon``, ``discount_rate`` and ``step``).

    Parameters
    ----------
    data : pyspark.sql.DataFrame
        One row per customer with ``frequency``, ``recency``, ``T`` (and ``monetary_value``
        for the CLV), e.g. :func:`churnlab.spark.rfm_summary` with ``as_spark=True``. Every
        column is kept in the output.
    purchase_model : BetaGeo
        A fitted purchase model.
    spend_model : GammaGamma, optional
        A fitted spend model; adds ``clv``.
    horizon : float
        Future window in ``time_unit`` (of ``expected_purchases`` and of the CLV).
    time_unit : {'D', 'W', 'M'}
        Unit of ``recency``, ``T`` and ``horizon``; must match the data's recorded unit and
        the unit the purchase model was fitted in.
    discount_rate : float
        ANNUAL discount rate of the CLV (needed with ``spend_model``).
    step : float
        Discounting step of the CLV, in ``time_unit``.
    zero_spend : {'zero', 'raise'}
        Repeat buyers with zero mean spend: valued at 0 with a warning, or an error (as in
        :func:`churnlab.customer_lifetime_value`). They are counted on the driver (one pass).

    Returns
    -------
    pyspark.sql.DataFrame
        ``data``'s columns plus ``probability_alive``, ``expected_purchases`` (and ``clv``),
        computed when an action runs.

    Examples
    --------
    >>> from pyspark.sql import SparkSession
    >>> from churnlab import BetaGeo
    >>> from churnlab.datasets import load_cdnow_summary
    >>> spark = SparkSession.builder.getOrCreate()
    >>> rfm = load_cdnow_summary()
    >>> model = BetaGeo().fit(rfm)
    >>> scores = score(spark.createDataFrame(rfm.reset_index()), model, horizon=39,
    ...                time_unit="W")
    >>> first = scores.orderBy("customer_id").limit(1).toPandas()
    >>> first[["customer_id", "probability_alive", "expected_purchases"]].round(3)
       customer_id  probability_alive  expected_purchases
    0            1              0.727               1.226
    """
    data = require_spark_frame(data, "data")
    needed = ["frequency", "recency", "T"] + (["monetary_value"] if spend_model else [])
    require_spark_columns(data, needed, "data")
    unit_days(time_unit)
    _resolve_time_unit(data, time_unit)
    fitted = getattr(purchase_model, "time_unit_", None)
    if fitted is not None and fitted != time_unit:
        raise ValueError(
            f"time_unit={time_unit!r} but the purchase model was fitted on data in {fitted!r}"
        )
    _check_scoring_args(horizon, step, discount_rate, zero_spend, spend_model is not None)
    purchase = model_payload(purchase_model)
    spend = None if spend_model is None else model_payload(spend_model)
    if spend_model is not None:
        free = (F.col("frequency") > 0) & (F.col("monetary_value") == 0)
        n_free = data.filter(free).count()
        if n_free and zero_spend == "raise":
            raise ValueError(
                f"column 'monetary_value': repeat buyers with zero average spend in {n_free} "
                f"row(s):\n{show_spark_rows(data, free, n_free)}\nThe Gamma-Gamma model needs "
                "positive spend; pass zero_spend='zero' to value them at 0."
            )
        if n_free:
            warnings.warn(
                f"customer_lifetime_value: {n_free} repeat buyer(s) with zero average spend "
                "are outside the spend model and valued at 0 (zero_spend='zero').",
                UserWarning,
                stacklevel=2,
            )
    options = {
        "horizon": float(horizon),
        "time_unit": time_unit,
        "discount_rate": None if discount_rate is None else float(discount_rate),
        "step": float(step),
    }
    names = ["probability_alive", "expected_purchases"] + (["clv"] if spend else [])
    schema = T.StructType(
        data.schema.fields + [T.StructField(name, T.DoubleType(), True) for name in names]
    )

    def run(batches):
        return _score_batches(batches, purchase, spend, options)

    return data.mapInPandas(run, schema)


# -- BG/NBD features of the churn data set --------------------------------------------------
def _bgnbd_batches(batches, payload, t: float, time_unit: str):
    """``p_alive`` and ``expected_purchases`` as :func:`churnlab.churn.features._add_bgnbd`.

    Customers first seen on the cutoff day (``tenure`` 0) are new: alive, and expected to
    buy the unconditional E[X(t)] (FHL 2005, eq. 9).
    """
    model = rebuild(payload)
    unconditional = float(model.expected_purchases(t))
    for batch in batches:
        out = batch.copy()
        p_alive = np.ones(len(batch))
        expected = np.full(len(batch), unconditional)
        born = batch["tenure"].to_numpy() > 0
        if born.any():
            rfm = pd.DataFrame(
                {
                    "frequency": batch["frequency"].to_numpy()[born],
                    "recency": batch["recency"].to_numpy()[born],
                    "T": batch["tenure"].to_numpy()[born],
                }
            )
            rfm.attrs["time_unit"] = time_unit
            p_alive[born] = model.probability_alive(rfm).to_numpy()
            expected[born] = model.conditional_expected_purchases(t, rfm).to_numpy()
        out["p_alive"] = p_alive
        out["expected_purchases"] = expected
        yield out


def add_bgnbd(features: DataFrame, t: float, time_unit: str) -> tuple[DataFrame, dict]:
    """Fit BG/NBD on the customers with ``tenure > 0`` and add its columns (lazily)."""
    from churnlab.models import BetaGeo, ConvergenceError

    history = features.filter(F.col("tenure") > 0).select(
        "frequency", "recency", F.col("tenure").alias("T")
    )
    try:
        model = fit(BetaGeo(), history, time_unit=time_unit)
    except (ValueError, ConvergenceError) as err:  # as the pandas path says it
        raise ValueError(
            f"bgnbd=True: the BG/NBD features cannot be computed at this cutoff: {err}\n"
            "Pass bgnbd=False to build the data set without p_alive and expected_purchases."
        ) from err
    payload = model_payload(model)
    schema = T.StructType(
        features.schema.fields
        + [T.StructField(n, T.DoubleType(), True) for n in ("p_alive", "expected_purchases")]
    )

    def run(batches):
        return _bgnbd_batches(batches, payload, t, time_unit)

    params = {k: float(v) for k, v in model.params_.items()}
    return features.mapInPandas(run, schema), params
