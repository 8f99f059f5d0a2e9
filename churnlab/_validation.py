"""One place for input checks.

Every check raises a :class:`ValueError` that names the column (or argument), says what is
wrong, shows up to ``MAX_ROWS_SHOWN`` offending rows and, where there is one, suggests the fix.
Nothing here drops or coerces data silently: booleans and text are never taken for numbers.

Arguments of the public API go through one checker each: :func:`check_number` (a single
number within bounds, ``integer=True`` for counts), :func:`check_level` (a confidence level in
(0, 1)), :func:`check_probability` (a share in [0, 1]), :func:`check_numbers` (a number or an
array of them), :func:`as_float_array` (a numeric column), :func:`check_customer_ids` (no
missing, mixed-type or, where required, repeated ids) and :func:`align_to` (a Series put in
another's customer order, never matched by position).
"""

from __future__ import annotations

import numbers
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
    day = calendar_days(parsed.to_numpy()).view("datetime64[D]")
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


def calendar_days(values: np.ndarray) -> np.ndarray:
    """Calendar day (days since 1970-01-01, int64) of naive datetime64 values.

    The same as ``values.astype("datetime64[D]").view(np.int64)`` (days round towards the
    past, NaT stays NaT), by one floor division of the counts since the epoch instead of
    numpy's several times slower datetime cast.

    >>> calendar_days(np.array(["1969-12-31T23:00", "1970-01-02T01:00"], "datetime64[ns]"))
    array([-1,  1])
    """
    unit, count = np.datetime_data(values.dtype)
    per_day = {"ns": 86_400_000_000_000, "us": 86_400_000_000, "ms": 86_400_000, "s": 86_400}
    if unit not in per_day or count != 1:
        return values.astype("datetime64[D]").view(np.int64)
    counts = values.view(np.int64)
    days = counts // per_day[unit]
    nat = counts == np.iinfo(np.int64).min
    if nat.any():
        days[nat] = np.iinfo(np.int64).min
    return days


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
    """One-dimensional float array from a Series / array / list, rejecting NaN and infinities.

    Text and booleans are refused (a ValueError naming ``name`` and showing those rows), not
    converted.
    """
    array = _to_float(values, name)
    if array.ndim != 1:
        array = array.reshape(-1)
    bad = ~np.isfinite(array)
    if bad.any():
        fail(name, "NaN or infinite values", _as_frame(values, name), bad)
    return array


def _as_frame(values, name: str) -> pd.DataFrame:
    if isinstance(values, pd.Series):
        return values.rename(name).to_frame()
    if isinstance(values, pd.Index):
        return pd.DataFrame({name: values.to_numpy()})
    return pd.DataFrame({name: np.asarray(values, dtype=object).reshape(-1)})


def check_rfm(frequency, recency=None, T=None, monetary_value=None) -> dict[str, np.ndarray]:
    """Check the (frequency, recency, T[, monetary_value]) contract of the purchase models.

    ``frequency`` must be a non-negative integer, ``0 <= recency <= T``, ``recency == 0`` when
    ``frequency == 0``, ``T > 0`` for repeat buyers and ``T >= 0`` otherwise, and
    ``monetary_value > 0`` where given. ``T = 0`` with no repeat purchase is a customer whose
    first purchase falls on the end of observation (as :func:`churnlab.rfm_summary` reports
    them): valid, though it carries no information about the purchase process. Returns the
    checked columns as float arrays; the frame that shows offending rows is built only when
    there are some.
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

    def frame() -> pd.DataFrame:
        return pd.DataFrame(arrays, index=index)

    x = arrays["frequency"]
    if (x < 0).any():
        fail("frequency", "negative frequencies", frame(), x < 0)
    if (x != np.round(x)).any():
        fail(
            "frequency",
            "non-integer frequencies (repeat purchase counts)",
            frame(),
            x != np.round(x),
        )
    if "recency" in arrays:
        t_x = arrays["recency"]
        if (t_x < 0).any():
            fail("recency", "negative recency", frame(), t_x < 0)
        if ((x == 0) & (t_x != 0)).any():
            fail(
                "recency",
                "non-zero recency where frequency is 0",
                frame(),
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
                frame(),
                bad_age,
                "T is the time from the first purchase to the end of observation.",
            )
        if "recency" in arrays and (arrays["recency"] > age).any():
            fail(
                "recency",
                "recency greater than T",
                frame(),
                arrays["recency"] > age,
                "Recency and T must be measured from the first purchase in the same unit.",
            )
    if "monetary_value" in arrays:
        m = arrays["monetary_value"]
        if (m <= 0).any():
            fail(
                "monetary_value",
                "non-positive average spend",
                frame(),
                m <= 0,
                "Fit spend models on repeat buyers with positive spend only.",
            )
    return arrays


# --------------------------------------------------------------------------------------------
# Argument checks shared by the whole public API: single numbers, levels, probabilities,
# arrays of numbers and customer ids. Each names the argument; none converts text or booleans.
# --------------------------------------------------------------------------------------------


def _not_a_number(value) -> str | None:
    """Why ``value`` is not a real number (booleans and text are not), or None when it is."""
    if isinstance(value, (bool, np.bool_)):
        return f"the boolean {bool(value)!r} (booleans are not numbers here)"
    if isinstance(value, (str, bytes)):
        return f"the text {value!r}; convert it to a number first"
    if value is None:
        return "None"
    if not isinstance(value, numbers.Real):
        return f"{type(value).__name__} {value!r}"
    return None


def _range_text(low, high, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'above' if low_open else 'at least'} {low:g}"
    if high is not None:
        return f"{'below' if high_open else 'at most'} {high:g}"
    return ""


def _outside_text(low, high, low_open: bool, high_open: bool) -> str:
    """Describe the values the bounds exclude: 'outside [0, 1]', 'below 0', 'at or above 1'."""
    if low is not None and high is not None:
        return f"outside {_range_text(low, high, low_open, high_open)[3:]}"
    if low is not None:
        return f"{'at or below' if low_open else 'below'} {low:g}"
    return f"{'at or above' if high_open else 'above'} {high:g}"


def _outside(x, low, high, low_open: bool, high_open: bool):
    """Where ``x`` (a number or an array) falls outside the given bounds."""
    bad = np.zeros(np.shape(x), dtype=bool)
    if low is not None:
        bad |= (x <= low) if low_open else (x < low)
    if high is not None:
        bad |= (x >= high) if high_open else (x > high)
    return bad


def check_number(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    hint: str = "",
) -> float | int:
    """One finite number within the given bounds, else a ValueError naming ``name``.

    Booleans and text are refused, not converted; ``integer=True`` asks for a whole number
    (a count) and returns an ``int``. The bounds are closed unless ``low_open`` /
    ``high_open``; ``hint`` is appended to the message.

    >>> check_number(3, "n_groups", low=1, integer=True)
    3
    >>> check_number(True, "margin")
    Traceback (most recent call last):
    ...
    ValueError: margin must be a number, got the boolean True (booleans are not numbers here)
    >>> check_number(1.5, "level", low=0, high=1, low_open=True, high_open=True)
    Traceback (most recent call last):
    ...
    ValueError: level must be a number in (0, 1), got level=1.5
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    what = "a whole number" if integer else "a number"
    problem = _not_a_number(value)
    if problem is not None:
        if np.ndim(value) > 0 and not isinstance(value, (str, bytes)):
            problem = f"{type(value).__name__} of {np.size(value)} values"
            what = "a single number"
        raise ValueError(f"{name} must be {what}, got {problem}" + (f". {hint}" if hint else ""))
    span = _range_text(low, high, low_open, high_open)
    requirement = f"{what} {span}".strip()
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {name}={value!r}")
    if integer and value != np.floor(value):
        raise ValueError(f"{name} must be {requirement} (a count), got {name}={value!r}")
    if _outside(value, low, high, low_open, high_open):
        raise ValueError(
            f"{name} must be {requirement}, got {name}={value!r}" + (f". {hint}" if hint else "")
        )
    return int(value) if integer else float(value)


def check_level(level, name: str = "level") -> float:
    """A confidence level strictly between 0 and 1 (0.95 for a 95% interval).

    >>> check_level(0.9)
    0.9
    """
    return check_number(
        level, name, low=0, high=1, low_open=True, high_open=True, hint="For example 0.95."
    )


def check_probability(value, name: str) -> float:
    """A probability or share within [0, 1].

    >>> check_probability(0.3, "accept_rate")
    0.3
    """
    return check_number(value, name, low=0, high=1)


_NUMERIC_OBJECTS = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "empty"})


def not_numbers(values) -> np.ndarray:
    """Mask of the entries of ``values`` that are text, booleans or other non-numbers.

    Missing values (None, NaN, pd.NA) are not flagged: they are a separate error.

    >>> not_numbers(pd.Series([1, "2", True, None])).tolist()
    [False, True, True, False]
    """
    dtype = getattr(values, "dtype", None)
    if dtype is None:
        values = np.asarray(values, dtype=object)
        dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return np.ones(np.size(values), dtype=bool)
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return np.zeros(np.size(values), dtype=bool)
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy(dtype=object)
    flat = np.asarray(values, dtype=object).reshape(-1)
    if pd.api.types.infer_dtype(flat, skipna=True) in _NUMERIC_OBJECTS:
        return np.zeros(len(flat), dtype=bool)
    return _text_or_bool_rows(flat)


def _text_or_bool_rows(flat: np.ndarray) -> np.ndarray:
    """Entries of an object array that are neither real numbers nor missing values."""
    return np.fromiter(
        (
            not (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)))
            and _not_a_number(v) is not None
            for v in flat
        ),
        dtype=bool,
        count=len(flat),
    )


def _refuse(values, name: str, bad: np.ndarray, what: str) -> None:
    fail(
        name,
        f"{what} where numbers are expected",
        _as_frame(values, name),
        bad,
        "Convert the values to numbers first (e.g. pd.to_numeric for numbers stored as text); "
        "booleans are not numbers here.",
    )


def _to_float(values, name: str) -> np.ndarray:
    """Float array of ``values`` (NaN for missing); text, booleans and dates are refused."""
    if isinstance(values, (pd.Series, pd.Index)):
        dtype = values.dtype
        if pd.api.types.is_bool_dtype(dtype):
            _refuse(values, name, np.ones(len(values), bool), "booleans")
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
            return values.to_numpy(dtype=float, na_value=np.nan)
        if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            array = values.to_numpy(dtype=object)
        else:
            raise ValueError(
                f"{name} must hold numbers, got values of dtype {dtype}; convert them first"
            )
    else:
        # a list keeps each element as given: numpy would turn [True, 2.5] into [1.0, 2.5]
        array = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
        if array.dtype.kind in "iuf":
            return np.asarray(array, dtype=float)
        if array.dtype.kind == "b":
            _refuse(values, name, np.ones(array.size, bool), "booleans")
        if array.dtype.kind not in "OUS":
            raise ValueError(
                f"{name} must hold numbers, got values of dtype {array.dtype}; convert them first"
            )
        array = array.astype(object)
    flat = array.reshape(-1)
    if pd.api.types.infer_dtype(flat, skipna=True) not in _NUMERIC_OBJECTS:
        bad = _text_or_bool_rows(flat)
        if bad.any():
            plain = all(isinstance(v, (str, bytes, bool, np.bool_)) for v in flat[bad])
            what = "text or booleans" if plain else "values that are not numbers"
            _refuse(values, name, bad, what)
    numeric = pd.to_numeric(pd.Series(flat, dtype=object)).to_numpy(dtype=float, na_value=np.nan)
    return numeric.reshape(array.shape)


def check_numbers(
    values,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> float | int | np.ndarray:
    """A number, or an array of numbers, within bounds (as :func:`check_number`).

    A single number comes back as a float (int with ``integer=True``); an array-like as a
    float array of the same shape. Text, booleans, NaN and infinities are refused, and the
    offending rows are shown.

    >>> check_numbers([0.2, 0.5], "churn_rate", low=0, high=1)
    array([0.2, 0.5])
    >>> check_numbers([0.2, 1.5], "churn_rate", low=0, high=1)
    Traceback (most recent call last):
    ...
    ValueError: column 'churn_rate': values outside [0, 1] in 1 row(s):
       churn_rate
    1         1.5
    """
    if np.ndim(values) == 0 and not isinstance(values, (pd.Series, pd.Index)):
        return check_number(
            values,
            name,
            low=low,
            high=high,
            low_open=low_open,
            high_open=high_open,
            integer=integer,
        )
    array = _to_float(values, name)
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    flat = array.reshape(-1)
    frame = _as_frame(values, name)
    bad = ~np.isfinite(flat)
    if bad.any():
        fail(name, "NaN or infinite values", frame, bad)
    if integer and (flat != np.floor(flat)).any():
        fail(name, "values that are not whole numbers (counts)", frame, flat != np.floor(flat))
    bad = _outside(flat, low, high, low_open, high_open)
    if bad.any():
        fail(name, f"values {_outside_text(low, high, low_open, high_open)}", frame, bad)
    return array


def _id_family(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, numbers.Number):
        return "numeric"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def check_customer_ids(ids, column: str, *, unique: bool = False):
    """Refuse missing customer ids, ids of mixed types and (with ``unique``) repeated ids.

    ``ids`` is an id column (Series) or an index. Ids of mixed types, such as the number 1
    and the text ``'2'`` in one column, usually come from reading files differently: the
    same customer may then appear twice (``1`` and ``'1'``) and ids cannot be sorted. The
    error shows the rows of the less common type. Returns ``ids`` unchanged.

    >>> check_customer_ids(pd.Series([1, 2, "3"]), "customer_id")
    Traceback (most recent call last):
    ...
    ValueError: column 'customer_id': customer ids of mixed types (2 numeric, 1 text) in 1 row(s):
      customer_id
    2           3
    All ids must have one type: convert the column, e.g. ids.astype(str) ...
    """
    if isinstance(ids, pd.Index):
        frame = pd.DataFrame({column: ids.to_numpy()})
    elif isinstance(ids, pd.Series):
        frame = ids.rename(column).to_frame()
    else:
        raise TypeError(f"{column}: customer ids must be a Series or an Index")
    missing = np.asarray(pd.isna(ids), dtype=bool)
    if missing.any():
        fail(column, "missing customer ids (NaN/None)", frame, missing, "Every row needs an id.")
    if pd.api.types.is_object_dtype(ids.dtype):
        values = ids.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(values, skipna=True) in ("mixed-integer", "mixed"):
            families = np.array([_id_family(v) for v in values], dtype=object)
            kinds, counts = np.unique(families.astype(str), return_counts=True)
            if len(kinds) > 1:
                main = kinds[np.argmax(counts)]
                found = ", ".join(f"{c} {k}" for k, c in zip(kinds, counts, strict=True))
                fail(
                    column,
                    f"customer ids of mixed types ({found})",
                    frame,
                    families != main,
                    "All ids must have one type: convert the column, e.g. ids.astype(str) "
                    "(or pd.to_numeric(ids) if every id is a number).",
                )
    if unique:
        duplicated = np.asarray(ids.duplicated(keep=False), dtype=bool)
        if duplicated.any():
            fail(
                column,
                "duplicate customer ids",
                frame,
                duplicated,
                "Each customer must appear once: aggregate or de-duplicate first.",
            )
    return ids


def _first_ids(index: pd.Index, k: int = MAX_ROWS_SHOWN) -> str:
    shown = index[:k].tolist()
    more = f" and {len(index) - k} more" if len(index) > k else ""
    return f"{len(index)} id(s): {shown}{more}"


def align_to(values: pd.Series, like: pd.Index, name: str, like_name: str) -> pd.Series:
    """``values`` reordered to the customer ids ``like`` (an index), never matched by position.

    Both must hold the same customers, each once; the error lists the ids found on one side
    only.

    >>> align_to(pd.Series([1, 0], index=["b", "a"]), pd.Index(["a", "b"]), "y", "X").tolist()
    [0, 1]
    """
    if values.index.equals(like):
        return values
    check_customer_ids(values.index, f"{name} index", unique=True)
    check_customer_ids(like, f"{like_name} index", unique=True)
    missing = like[~like.isin(values.index)]
    extra = values.index[~values.index.isin(like)]
    if len(missing) or len(extra):
        raise ValueError(
            f"{name} is indexed by other customers than {like_name}: ids in {like_name} but "
            f"not in {name}: {_first_ids(missing)}; ids in {name} but not in {like_name}: "
            f"{_first_ids(extra)}. Pass both with the same customer ids, e.g. "
            f"{name}.reindex({like_name}.index) after checking why they differ."
        )
    return values.reindex(like)
