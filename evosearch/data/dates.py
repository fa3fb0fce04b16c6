"""Date and datetime columns: which texts are dates, and dates as seconds since 1970.

A table's date column is kept as one float64 number per cell, the seconds since
1970-01-01T00:00 of its wall-clock time (NaN where a cell is missing; a time zone, where a
DataFrame's column has one, is dropped, not converted), so it is fingerprinted, split and
imputed like a numeric column; :class:`~evosearch.preprocess.DateFeatures` expands it into
year, month, day of week, day of year, hour (where the column has times) and the days since
1970 inside every model. The ONNX export takes these seconds as its input; the ``python``
export parses the texts itself, with the column's format.

Texts read as dates
-------------------
A text column all of whose present cells read in one of :data:`DATE_FORMATS` (the first that
reads them all): ISO ``2021-03-04``, ``2021-03-04 13:00[:05[.25]]`` (also with ``T``),
``2021/03/04``; day first ``04.03.2021``, ``04/03/2021``, ``04-03-2021``; month first
``03/04/2021``, ``03-04-2021`` (each with an optional `` HH:MM[:SS[.ffffff]]``). Day first and
month first are told apart by a day past 12; a column that reads both ways is refused. Plain
numbers are never dates (a year column of ``2019``, ``2020`` stays numeric).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from evosearch.data._hints import option
from evosearch.errors import DataError

__all__ = [
    "DATE_FORMATS",
    "DateGuess",
    "frame_date_format",
    "guess_date_format",
    "has_times",
    "series_seconds",
    "text_date_format",
    "text_seconds",
]

_DAY = 86400.0
_TIMES = ("", " %H:%M", " %H:%M:%S", " %H:%M:%S.%f")
_ISO_TIMES = ("T%H:%M", "T%H:%M:%S", "T%H:%M:%S.%f")
#: The ``strptime`` formats tried on a text column, in order; ``(day first, month first)``
#: pairs of the same separator are told apart by a day past 12.
DATE_FORMATS: tuple[str, ...] = (
    *(f"%Y-%m-%d{t}" for t in (*_TIMES, *_ISO_TIMES)),
    *(f"%Y/%m/%d{t}" for t in _TIMES),
    *(f"%d.%m.%Y{t}" for t in _TIMES),
    *(f"{d}{t}" for d in ("%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%m-%d-%Y") for t in _TIMES),
)
# Cells a format is first tried on.
_SAMPLE = 200
_SWAPPED = {"%d/%m/%Y": "%m/%d/%Y", "%d-%m-%Y": "%m-%d-%Y"}
# What a date text can look like at all (a cheap test before pandas parses anything): a
# four-digit year first or last, so codes such as 1-2-3 or 1.2.3 are never dates.
_SHAPE = re.compile(
    r"(?:\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
# ISO 8601 as both pandas and Python's datetime.fromisoformat read it: a column mixing dates
# with and without times reads in it (format "").
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?")


@dataclass(frozen=True)
class DateGuess:
    """How a text column reads as dates.

    Attributes
    ----------
    format : str or None
        The ``strptime`` format that reads the most cells; ``""`` for ISO 8601 dates with and
        without times; None: none reads any.
    read : int
        How many of the present cells it reads.
    ambiguous : str or None
        Where every cell reads both day first and month first: the other format.
    """

    format: str | None
    read: int = 0
    ambiguous: str | None = None


def _parsed(texts: Sequence[str], fmt: str) -> Any:
    import pandas as pd

    return pd.to_datetime(pd.Series(list(texts), dtype=object), format=fmt, errors="coerce")


def guess_date_format(texts: Sequence[str]) -> DateGuess | None:
    """The format in which the present (non-missing, stripped) cells ``texts`` read as dates.

    None where they do not look like dates at all (fewer than half have a date's shape), else
    the format of :data:`DATE_FORMATS` that reads the most of them, first in the list on a tie.
    """
    if not texts:
        return None
    shaped = sum(1 for t in texts if _SHAPE.fullmatch(t))
    if 2 * shaped <= len(texts):
        return None
    best = DateGuess(None)
    # The formats that read a sample whole, then the whole column: one or two parses of a
    # long date column rather than one per format.
    sample = texts[:_SAMPLE]
    likely = [f for f in DATE_FORMATS if _parsed(sample, f).notna().all()]
    for fmt in (*likely, *(f for f in DATE_FORMATS if f not in likely)):
        read = len(sample) if len(texts) == len(sample) and fmt in likely else None
        read = int(_parsed(texts, fmt).notna().sum()) if read is None else read
        if read > best.read:
            best = DateGuess(fmt, read)
        if read == len(texts):
            break
    if best.read < len(texts) and all(_ISO.fullmatch(t) for t in texts):
        if int(_parsed(texts, "ISO8601").notna().sum()) == len(texts):
            return DateGuess("", len(texts))
    if best.format is None or best.read < len(texts):
        return best
    day = best.format.split(" ")[0]
    if day in _SWAPPED:
        other = best.format.replace(day, _SWAPPED[day], 1)
        if int(_parsed(texts, other).notna().sum()) == len(texts):
            return DateGuess(best.format, best.read, other)
    return best


def _seconds(values: Any) -> np.ndarray:
    """datetime64 values (NaT: missing) as float64 seconds since 1970-01-01T00:00."""
    stamps = np.asarray(values, dtype="datetime64[us]")
    micro = stamps.astype(np.int64).astype(np.float64)
    # The whole microseconds as an exact integer, then one division: the python export's
    # model file computes the very same float from a datetime.
    out = micro / 1e6
    out[np.isnat(stamps)] = np.nan
    return out


def text_seconds(texts: Sequence[Any], fmt: str) -> np.ndarray:
    """Texts in format ``fmt`` ("": ISO 8601) as seconds since 1970 (NaN: does not read)."""
    return _seconds(_parsed(texts, fmt or "ISO8601").to_numpy(dtype="datetime64[us]"))


def series_seconds(values: Any, fmt: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Cells of a date column as seconds since 1970, and where they do not read as dates.

    ``values`` (a pandas Series or a sequence) hold datetime64 values (a time zone dropped:
    the wall-clock time), ``datetime`` / ``date`` objects, texts in format ``fmt`` ("": ISO
    8601), or numbers (seconds since 1970 already); NaN, None, NaT are missing (NaN, not bad).
    Missing-value texts are the caller's to replace by None first.

    Returns
    -------
    (ndarray, ndarray of bool)
        The seconds (NaN where missing or bad) and a mask of the bad cells.
    """
    import pandas as pd

    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_localize(None)
    if series.dtype.kind == "M":
        return _seconds(series.to_numpy(dtype="datetime64[us]")), np.zeros(len(series), bool)
    if series.dtype.kind in "iuf":
        return series.to_numpy(dtype=np.float64, na_value=np.nan), np.zeros(len(series), bool)
    cells = series.tolist()
    out = np.full(len(cells), np.nan)
    bad = np.zeros(len(cells), dtype=bool)
    texts = [i for i, c in enumerate(cells) if isinstance(c, str)]
    if texts:
        read = text_seconds([cells[i].strip() for i in texts], fmt)
        out[texts] = read
        bad[texts] = np.isnan(read)
    for i, cell in enumerate(cells):
        if isinstance(cell, str) or cell is None or cell is pd.NaT or cell is pd.NA:
            continue
        if isinstance(cell, bool | np.bool_):
            bad[i] = True
        elif isinstance(cell, int | float | np.integer | np.floating):
            out[i] = float(cell)  # NaN stays missing
        else:
            try:
                stamp = pd.Timestamp(cell)
            except (TypeError, ValueError):
                bad[i] = True
                continue
            if stamp is not pd.NaT:
                stamp = stamp.tz_localize(None) if stamp.tzinfo is not None else stamp
                out[i] = _seconds(np.array([stamp.to_datetime64()]))[0]
    return out, bad


def _checked(
    name: str,
    present: list[str],
    unread: Any,
    where: str,
    python: bool,
) -> str | None:
    """The date format of a text column whose present cells are ``present`` (None: no dates);
    refused where most read as dates but not all (``unread(format)``: the first cell that does
    not, as ``(place, text)``), or all read both day first and month first."""
    guess = guess_date_format(present)
    if guess is None or guess.format is None or 2 * guess.read <= len(present):
        return None
    if guess.ambiguous is not None:
        raise DataError(
            f"column '{name}' of {where} holds dates that read both day first and month first "
            f"({present[0]!r} as {guess.format!r} or {guess.ambiguous!r}): write them year "
            f"first (2021-03-04), or declare the column {option('categorical', [name], python)}"
            " to keep them as text"
        )
    if guess.read < len(present):
        place, text = unread(guess.format)
        raise DataError(
            f"column '{name}' of {where} holds dates and other text ({place}: {text!r}): name "
            f"missing-value markers with {option('na_values', [text], python)}, or declare the "
            f"column {option('categorical', [name], python)}"
        )
    return guess.format


def text_date_format(
    name: str, texts: list[str], missing: np.ndarray, lines: Any, where: str
) -> str | None:
    """The date format of the text column ``name`` of a file (None: it holds no dates).

    ``texts``: its stripped cells; ``missing``: which are missing; ``lines``: each row's file
    line. Refused in one line naming the options as flags (see :func:`_checked`).
    """
    present = [t for t, m in zip(texts, missing, strict=True) if not m]

    def unread(fmt: str) -> tuple[str, str]:
        row = int(np.argmax(np.isnan(text_seconds(texts, fmt)) & ~missing))
        return f"line {lines[row]}", texts[row]

    return _checked(name, present, unread, where, python=False)


def frame_date_format(name: str, series: Any, missing: np.ndarray, where: str) -> str | None:
    """The date format of a DataFrame's column (None: no dates): ``""`` for datetime64 values
    and datetime objects, a text format where every present cell is a text that reads as a
    date. Refused in one line naming the options as keywords (see :func:`_checked`)."""
    import datetime

    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or dtype.kind == "M":
        return ""
    if dtype.kind != "O" or isinstance(dtype, pd.CategoricalDtype):
        return None
    cells = series[~missing].tolist()
    if all(isinstance(c, datetime.date | np.datetime64) for c in cells):
        return ""
    if not all(isinstance(c, str) for c in cells):
        return None
    present = [c.strip() for c in cells]

    def unread(fmt: str) -> tuple[str, str]:
        bad = series_seconds(series, fmt)[1]
        row = int(np.argmax(bad))
        return f"row {row}", str(series.iloc[row])

    return _checked(name, present, unread, where, python=True)


def has_times(seconds: np.ndarray) -> bool:
    """Whether any present value has a time of day other than midnight."""
    present = seconds[~np.isnan(seconds)]
    return bool(np.any(present - np.floor(present / _DAY) * _DAY != 0.0))
