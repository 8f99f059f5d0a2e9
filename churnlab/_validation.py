"""One place for input checks.

Every check raises a :class:`ValueError` that names the column (or argument), says what is
wrong, shows up to ``MAX_ROWS_SHOWN`` offending rows and, where there is one, suggests the fix.
Nothing here drops or coerces data silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

MAX_ROWS_SHOWN = 10


def show_rows(frame: pd.DataFrame | pd.Series, mask: np.ndarray | pd.Series) -> str:
    """Render the rows of ``frame`` selected by ``mask`` (at most ``MAX_ROWS_SHOWN``)."""
    mask = np.asarray(mask, dtype=bool)
    bad = frame[mask]
    n_bad = int(mask.sum())
    text = bad.head(MAX_ROWS_SHOWN).to_string()
    if n_bad > MAX_ROWS_SHOWN:
        text += f"\n... and {n_bad - MAX_ROWS_SHOWN} more row(s)"
    return text


def fail(column: str, problem: str, frame: pd.DataFrame | pd.Series, mask, hint: str = "") -> None:
    """Raise a ValueError naming ``column`` and showing the rows where ``mask`` holds."""
    n_bad = int(np.asarray(mask, dtype=bool).sum())
    message = f"column '{column}': {problem} in {n_bad} row(s):\n{show_rows(frame, mask)}"
    if hint:
        message += f"\n{hint}"
    raise ValueError(message)


def require_dataframe(data, name: str = "data") -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(data).__name__}")
    return data


def require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str = "data") -> None:
    """Raise if any of ``columns`` is missing from ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s) {missing}; it has {list(frame.columns)}. "
            "Pass the right names through the *_col arguments."
        )


def require_no_nan(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise if any of ``columns`` holds a missing value, showing those rows."""
    for column in columns:
        mask = frame[column].isna().to_numpy()
        if mask.any():
            fail(column, "missing values (NaN/None)", frame, mask, "Fill or remove them first.")


def parse_dates(frame: pd.DataFrame, column: str) -> pd.Series:
    """Return ``frame[column]`` as datetime64, raising on values that do not parse.

    Values that are already datetimes pass through unchanged. Missing values are an error too.
    """
    values = frame[column]
    if values.isna().any():
        fail(column, "missing dates", frame, values.isna().to_numpy())
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is not None:
            raise ValueError(
                f"column '{column}': dates carry a time zone ({values.dt.tz}); "
                "convert them to naive local dates first (e.g. .dt.tz_localize(None))."
            )
        return values.astype("datetime64[ns]")
    parsed = pd.to_datetime(values, errors="coerce")
    if parsed.isna().any():
        # pandas infers one format from the first value; ISO 8601 strings of mixed precision
        # ("2024-01-31" next to "2024-01-31 15:30") are all valid dates
        iso = pd.to_datetime(values, errors="coerce", format="ISO8601")
        if iso.notna().sum() > parsed.notna().sum():
            parsed = iso
    bad = parsed.isna().to_numpy()
    if bad.any():
        fail(
            column,
            "values that cannot be parsed as dates",
            frame,
            bad,
            "Use ISO dates (YYYY-MM-DD) or convert the column with pd.to_datetime(format=...).",
        )
    return parsed.astype("datetime64[ns]")


def as_timestamp(value, name: str) -> pd.Timestamp:
    """Parse a single date argument, raising a clear error when it does not parse."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}={value!r} is not a date: {err}") from None
    if pd.isna(stamp):
        raise ValueError(f"{name} must be a date, got {value!r}")
    return stamp


def epoch_day(stamp: pd.Timestamp) -> int:
    """The calendar day of ``stamp`` (its time of day dropped) as days since 1970-01-01.

    >>> epoch_day(pd.Timestamp("1970-01-02 15:30"))
    1
    """
    return int(np.datetime64(stamp.normalize(), "D").astype(np.int64))


def as_float_array(values, name: str) -> np.ndarray:
    """One-dimensional float array from a Series / array / list, rejecting NaN and infinities."""
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        array = array.reshape(-1)
    bad = ~np.isfinite(array)
    if bad.any():
        fail(name, "NaN or infinite values", _as_frame(values, name), bad)
    return array


def _as_frame(values, name: str) -> pd.DataFrame:
    if isinstance(values, pd.Series):
        return values.rename(name).to_frame()
    return pd.DataFrame({name: np.asarray(values).reshape(-1)})


def check_rfm(frequency, recency=None, T=None, monetary_value=None) -> None:
    """Check the (frequency, recency, T[, monetary_value]) contract of the purchase models.

    ``frequency`` must be a non-negative integer, ``0 <= recency <= T``, ``recency == 0`` when
    ``frequency == 0``, ``T > 0`` for repeat buyers and ``T >= 0`` otherwise, and
    ``monetary_value > 0`` where given. ``T = 0`` with no repeat purchase is a customer whose
    first purchase falls on the end of observation (as :func:`churnlab.rfm_summary` reports
    them): valid, though it carries no information about the purchase process.
    """
    columns = {"frequency": frequency, "recency": recency, "T": T, "monetary_value": monetary_value}
    columns = {k: v for k, v in columns.items() if v is not None}
    arrays = {k: as_float_array(v, k) for k, v in columns.items()}
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"frequency, recency, T and monetary_value differ in length: {lengths}")
    n = lengths["frequency"]
    if n == 0:
        raise ValueError("no customers: the input is empty")
    index = next((v.index for v in columns.values() if isinstance(v, pd.Series)), pd.RangeIndex(n))
    frame = pd.DataFrame(arrays, index=index)
    x = arrays["frequency"]
    if (x < 0).any():
        fail("frequency", "negative frequencies", frame, x < 0)
    if (x != np.round(x)).any():
        fail(
            "frequency", "non-integer frequencies (repeat purchase counts)", frame, x != np.round(x)
        )
    if "recency" in arrays:
        t_x = arrays["recency"]
        if (t_x < 0).any():
            fail("recency", "negative recency", frame, t_x < 0)
        if ((x == 0) & (t_x != 0)).any():
            fail(
                "recency",
                "non-zero recency where frequency is 0",
                frame,
                (x == 0) & (t_x != 0),
                "Recency is the age at the last repeat purchase: 0 when there is none.",
            )
    if "T" in arrays:
        age = arrays["T"]
        bad_age = (age < 0) | ((age == 0) & (x > 0))
        if bad_age.any():
            fail(
                "T",
                "negative customer age T, or T = 0 with repeat purchases",
                frame,
                bad_age,
                "T is the time from the first purchase to the end of observation.",
            )
        if "recency" in arrays and (arrays["recency"] > age).any():
            fail(
                "recency",
                "recency greater than T",
                frame,
                arrays["recency"] > age,
                "Recency and T must be measured from the first purchase in the same unit.",
            )
    if "monetary_value" in arrays:
        m = arrays["monetary_value"]
        if (m <= 0).any():
            fail(
                "monetary_value",
                "non-positive average spend",
                frame,
                m <= 0,
                "Fit spend models on repeat buyers with positive spend only.",
            )
