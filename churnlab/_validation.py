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


#: Dates outside this range are refused as out of range or as sentinels standing for "no date"
#: (1900-01-01, 9999-12-31, 0001-01-01 and the like in database exports).
EARLIEST_DATE = np.datetime64("1900-01-02", "D")
LATEST_DATE = np.datetime64("2199-12-31", "D")
#: Single days that exports use for "no date": the Unix epoch is also where numbers read as
#: nanoseconds land (``pd.to_datetime(20240101)`` is 1970-01-01 00:00:00.020240101).
SENTINEL_DATES = (np.datetime64("1970-01-01", "D"),)

#: Names accepted by ``date_format=`` for numeric date columns, besides strftime patterns.
NUMERIC_DATE_FORMATS = {
    "unix_s": "seconds since 1970-01-01 (Unix time)",
    "unix_ms": "milliseconds since 1970-01-01",
    "excel": "Excel serial day numbers (days since 1899-12-30)",
}

_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"


def _numeric_date_hint(values: pd.Series) -> str:
    """Say what a numeric date column most likely holds and how to read it."""
    v = pd.to_numeric(values, errors="coerce").dropna()
    low, high = (float(v.min()), float(v.max())) if len(v) else (np.nan, np.nan)
    if 19000101 <= low and high <= 21991231:
        guess = 'they look like YYYYMMDD numbers: pass date_format="%Y%m%d"'
    elif 1e11 <= low and high <= 1e13:
        guess = 'they look like Unix milliseconds: pass date_format="unix_ms"'
    elif 1e8 <= low and high <= 1e10:
        guess = 'they look like Unix seconds: pass date_format="unix_s"'
    elif 1 <= low and high <= 110000:
        guess = 'they look like Excel serial days: pass date_format="excel"'
    else:
        guess = "convert them with pd.to_datetime(..., unit=..., origin=...) first"
    return (
        f"Numbers are not read as dates silently (pandas would take them as nanoseconds since "
        f"1970); {guess}, or convert the column to dates yourself."
    )


def _read_numeric_dates(values: pd.Series, column: str, frame, date_format: str) -> pd.Series:
    if date_format == "unix_s":
        return pd.to_datetime(values, unit="s", errors="coerce")
    if date_format == "unix_ms":
        return pd.to_datetime(values, unit="ms", errors="coerce")
    if date_format == "excel":
        return pd.to_datetime(values, unit="D", origin="1899-12-30", errors="coerce")
    number = pd.to_numeric(values, errors="coerce")
    whole = number.notna() & (number == np.round(number))
    if not whole.all():
        fail(column, f"numbers that do not fit date_format={date_format!r}", frame, ~whole)
    text = number.astype(np.int64).astype(str)
    return pd.to_datetime(text, format=date_format, errors="coerce")


def _is_numeric_object(values: pd.Series) -> np.ndarray:
    """Rows of an object column that hold numbers or booleans rather than text or dates."""
    return np.fromiter(
        (isinstance(v, (bool, int, float, np.number, np.bool_)) for v in values),
        dtype=bool,
        count=len(values),
    )


def parse_dates(
    frame: pd.DataFrame,
    column: str,
    *,
    date_format: str | None = None,
    tz=None,
    allow_missing: bool = False,
) -> pd.Series:
    """Return ``frame[column]`` as naive datetime64 local wall-clock times, refusing bad values.

    The rules every date column in the package follows:

    * numbers (``20240101``, Unix seconds, Excel serials) and booleans are refused with a
      message that says what they look like, unless ``date_format`` says how to read them: a
      strftime pattern such as ``"%Y%m%d"``, or one of :data:`NUMERIC_DATE_FORMATS`;
    * text is parsed (ISO 8601 of mixed precision included); ``date_format`` fixes the format;
    * time-zone-aware dates keep their wall-clock time in the data's own zone (the calendar
      day the customer saw), or are first converted to ``tz`` when it is given; never through
      UTC silently. Text with several UTC offsets (daylight saving) keeps each row's own
      wall-clock time;
    * missing values, values that do not parse and dates outside
      [:data:`EARLIEST_DATE`, :data:`LATEST_DATE`] or on a :data:`SENTINEL_DATES` day are
      errors that name the column and show the rows (``allow_missing`` lets NaT through).

    >>> frame = pd.DataFrame({"d": ["2024-01-31T23:30:00+05:00", "2024-02-01T01:00:00+05:00"]})
    >>> parse_dates(frame, "d").dt.date.astype(str).tolist()
    ['2024-01-31', '2024-02-01']
    >>> parse_dates(frame, "d", tz="UTC").dt.date.astype(str).tolist()
    ['2024-01-31', '2024-01-31']
    """
    values = frame[column]
    missing = values.isna().to_numpy()
    if missing.any() and not allow_missing:
        fail(column, "missing dates", frame, missing)
    kind = values.dtype.kind
    if kind == "b" or (kind == "O" and values.map(lambda v: isinstance(v, (bool, np.bool_))).any()):
        bad = values.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(bool)
        fail(column, "booleans where dates are expected", frame, bad)
    if date_format is not None and date_format in NUMERIC_DATE_FORMATS and kind not in "iuf":
        raise ValueError(
            f"column '{column}': date_format={date_format!r} reads numbers, but the column "
            f"holds {values.dtype} values"
        )
    if kind in "iuf" or (kind == "O" and _is_numeric_object(values[~missing]).any()):
        if date_format is None:
            bad = ~missing if kind in "iuf" else np.zeros(len(values), bool)
            if kind == "O":
                bad[~missing] = _is_numeric_object(values[~missing])
            fail(
                column,
                "numbers where dates are expected",
                frame,
                bad,
                _numeric_date_hint(values[bad]),
            )
        parsed = _read_numeric_dates(values, column, frame, date_format)
    elif kind == "M":
        parsed = values
    else:
        parsed = _parse_text_dates(values, column, date_format, tz)
    bad = parsed.isna().to_numpy() & ~missing
    if bad.any():
        hint = (
            f"They do not match date_format={date_format!r}."
            if date_format
            else "Use ISO dates (YYYY-MM-DD) or pass date_format= (a strftime pattern)."
        )
        fail(column, "values that cannot be parsed as dates", frame, bad, hint)
    parsed = _wall_clock(parsed, tz)
    day = parsed.to_numpy().astype("datetime64[D]")
    out = (day < EARLIEST_DATE) | (day > LATEST_DATE) | np.isin(day, SENTINEL_DATES)
    out &= ~missing
    if out.any():
        fail(
            column,
            f"out-of-range or sentinel dates (outside {EARLIEST_DATE}..{LATEST_DATE}, or "
            f"{', '.join(str(d) for d in SENTINEL_DATES)}, which usually stand for 'no date' "
            "or are numbers read as nanoseconds)",
            frame,
            out,
            "Remove or correct these rows, or convert the column from its real unit first.",
        )
    return parsed.astype("datetime64[ns]")


def _parse_text_dates(values: pd.Series, column: str, date_format, tz) -> pd.Series:
    try:
        if date_format is not None:
            return pd.to_datetime(values, format=date_format, errors="coerce")
        parsed = pd.to_datetime(values, errors="coerce")
        if parsed.isna().sum() > values.isna().sum():
            # pandas infers one format from the first value; ISO 8601 strings of mixed
            # precision ("2024-01-31" next to "2024-01-31 15:30") are all valid dates
            iso = pd.to_datetime(values, errors="coerce", format="ISO8601")
            if iso.notna().sum() > parsed.notna().sum():
                parsed = iso
        return parsed
    except ValueError as err:
        if "timezone" not in str(err).lower() and "offset" not in str(err).lower():
            raise ValueError(f"column '{column}': dates cannot be parsed ({err})") from None
    # several UTC offsets in one column (daylight saving time, or several zones)
    if tz is not None:
        return pd.to_datetime(values, errors="coerce", utc=True, format=date_format)
    wall = values.astype(str).str.replace(_OFFSET, "", regex=True)
    return pd.to_datetime(wall, errors="coerce", format=date_format or "ISO8601")


def _wall_clock(parsed: pd.Series, tz) -> pd.Series:
    """Naive local times: aware values converted to ``tz`` (if given), then the zone dropped."""
    zone = getattr(parsed.dt, "tz", None)
    if zone is None:
        return parsed
    if tz is not None:
        parsed = parsed.dt.tz_convert(tz)
    return parsed.dt.tz_localize(None)


def date_zone(values: pd.Series) -> str | None:
    """The time zone of an aware datetime Series (None for naive or non-datetime values)."""
    zone = getattr(getattr(values, "dt", None), "tz", None) if values.dtype.kind == "M" else None
    return None if zone is None else str(zone)


def as_timestamp(value, name: str, *, tz=None) -> pd.Timestamp:
    """Parse a single date argument into a naive local timestamp, with a clear error.

    Numbers and booleans are refused (``20240101`` is not read as nanoseconds); an aware value
    keeps its own wall-clock time, or is converted to ``tz`` first when given (the data's own
    zone, say), never through UTC silently.

    >>> as_timestamp("2024-01-31T23:30-05:00", "observation_end")
    Timestamp('2024-01-31 23:30:00')
    >>> as_timestamp("2024-01-31T23:30-05:00", "observation_end", tz="Europe/Berlin")
    Timestamp('2024-02-01 05:30:00')
    """
    if isinstance(value, (bool, np.bool_, int, float, np.number)):
        raise ValueError(
            f"{name}={value!r} is a number, not a date: pass a date such as '2024-01-31' "
            "or a pd.Timestamp"
        )
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}={value!r} is not a date: {err}") from None
    if pd.isna(stamp):
        raise ValueError(f"{name} must be a date, got {value!r}")
    if stamp.tzinfo is not None:
        if tz is not None:
            stamp = stamp.tz_convert(tz)
        stamp = stamp.tz_localize(None)
    day = np.datetime64(stamp.normalize(), "D")
    if day < EARLIEST_DATE or day > LATEST_DATE:
        raise ValueError(
            f"{name}={value!r} is outside {EARLIEST_DATE}..{LATEST_DATE}: not a usable date"
        )
    return stamp


def epoch_day(stamp: pd.Timestamp) -> int:
    """The calendar day of ``stamp`` (its time of day dropped) as days since 1970-01-01.

    An aware timestamp counts by its own wall-clock day, not by its UTC day.

    >>> epoch_day(pd.Timestamp("1970-01-02 15:30"))
    1
    >>> epoch_day(pd.Timestamp("1970-01-02 23:30", tz="America/New_York"))
    1
    """
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
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
