"""Tables: feature columns of mixed types (numeric, categorical, dates) with missing cells.

A table that holds only numbers and no missing cell goes the plain numeric way (a float
matrix, :class:`~evosearch.data.Dataset` with ``columns=None``), exactly as before tables were
supported. Any other table keeps its raw columns in a pandas DataFrame with one normalised
dtype per kind (numeric: float64 with NaN where a cell is missing; categorical: object holding
``str`` levels and NaN; date: float64 seconds since 1970, see :mod:`evosearch.data.dates`),
described by one :class:`Column` each, so preprocessing can be fitted inside every training
fold (:mod:`evosearch.preprocess`).

Typing rules
------------
A column is *numeric* when every present cell is a number, a *date* when every present cell
is a date text of one format (:mod:`evosearch.data.dates`) or a datetime, *categorical* when it
holds other text (most cells not numbers), booleans, or a pandas ``category`` dtype. Overrides
win: ``categorical`` (a date column so declared keeps its texts as levels), ``numeric`` (a
date column so declared is still read as dates, whose days since 1970 are its number). Refused,
one line each: a column with no value at all, a column of numbers (or dates) with some text in
it (likely a missing-value marker: say it with ``na_values``, or declare the column
categorical), infinite numbers, and a categorical column with more distinct values than half
the rows (an ID: it cannot generalise; drop it, or declare it categorical to keep it).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from evosearch.data._checks import _COMMA_NUMBER
from evosearch.data._hints import option
from evosearch.data.dates import has_times, series_seconds, text_date_format, text_seconds
from evosearch.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CATEGORICAL",
    "DATE",
    "NUMERIC",
    "Column",
    "conform_table",
    "describe_columns",
    "table_fingerprint",
    "take_rows",
]

NUMERIC = "numeric"
CATEGORICAL = "categorical"
DATE = "date"

# Cell texts read as "no value" (compared lower-cased, after stripping).
MISSING_TEXT = frozenset({"", "nan", "na", "n/a", "null"})
_BOOLEAN_TEXT = frozenset({"true", "false"})
_MAX_SHOWN = 5


@dataclass(frozen=True)
class Column:
    """One feature column of a table: its name, kind, missing cells and levels.

    Attributes
    ----------
    name : str
    kind : {"numeric", "categorical", "date"}
    n_missing : int
        Missing cells in the table the column was typed on.
    levels : tuple of str
        Categorical only: the distinct present values, most frequent first (ties by name).
    counts : tuple of int
        How often each level occurs.
    times : bool
        Date only: whether a cell has a time of day other than midnight (then the column gives
        an ``hour`` feature).
    format : str
        Date only: the ``strptime`` format its texts were read in (``""``: ISO 8601, and the
        format of a DataFrame's datetime column).
    """

    name: str
    kind: str
    n_missing: int = 0
    levels: tuple[str, ...] = ()
    counts: tuple[int, ...] = ()
    times: bool = False
    format: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON form (``run.json``, ``model.json``)."""
        data: dict[str, Any] = {"name": self.name, "kind": self.kind, "n_missing": self.n_missing}
        if self.kind == CATEGORICAL:
            data["levels"] = list(self.levels)
            data["counts"] = list(self.counts)
        if self.kind == DATE:  # only there: tables without dates keep their JSON
            data["times"] = self.times
            data["format"] = self.format
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Column:
        """Read back :meth:`to_json`."""
        return cls(
            str(data["name"]),
            str(data["kind"]),
            int(data.get("n_missing", 0)),
            tuple(str(v) for v in data.get("levels", ())),
            tuple(int(v) for v in data.get("counts", ())),
            bool(data.get("times", False)),
            str(data.get("format", "")),
        )


def _names(values: Sequence[str]) -> str:
    shown = ", ".join(f"'{v}'" for v in list(values)[:_MAX_SHOWN])
    return shown + (f" and {len(values) - _MAX_SHOWN} more" if len(values) > _MAX_SHOWN else "")


def check_overrides(
    names: Sequence[str],
    categorical: Sequence[str],
    numeric: Sequence[str],
    where: str,
    python: bool = False,
) -> None:
    """Refuse override lists naming unknown columns or a column twice (``python``: name the
    options as keywords, ``categorical=[...]``, not as flags)."""
    for flag, given in (("categorical", categorical), ("numeric", numeric)):
        unknown = [c for c in given if c not in names]
        if unknown and python:
            raise DataError(
                f"{option(flag, unknown, True)}: no such feature column in {where} (columns: "
                f"{_names(list(names))})"
            )
        if unknown:
            raise DataError(
                f"{flag} column{'s' if len(unknown) > 1 else ''} {_names(unknown)} not among "
                f"the feature columns of {where} ({_names(list(names))})"
            )
    both = sorted(set(categorical) & set(numeric))
    if both:
        raise DataError(f"column {_names(both)} declared both categorical and numeric")


def _levels(values: Sequence[Any], missing: np.ndarray) -> np.ndarray:
    """Categorical cells as an object array: ``str`` levels, NaN where missing."""
    return np.array([np.nan if m else str(v) for v, m in zip(values, missing, strict=True)], object)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _summarise(name: str, kind: str, values: pd.Series, fmt: str = "") -> Column:
    missing = values.isna()
    if kind == NUMERIC:
        return Column(name, kind, int(missing.sum()))
    if kind == DATE:
        seconds = values.to_numpy(dtype=np.float64)
        return Column(name, kind, int(missing.sum()), times=has_times(seconds), format=fmt)
    counts = values[~missing].value_counts()
    pairs = sorted(((str(k), int(v)) for k, v in counts.items()), key=lambda p: (-p[1], p[0]))
    return Column(
        name,
        kind,
        int(missing.sum()),
        tuple(p[0] for p in pairs),
        tuple(p[1] for p in pairs),
    )


def type_text_columns(
    cells: pd.DataFrame,
    lines: np.ndarray,
    *,
    where: str,
    na_values: Sequence[str] = (),
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[Column]]:
    """Type the text cells of a CSV file's feature columns.

    Parameters
    ----------
    cells : DataFrame of str
        Stripped cell texts, one column per feature.
    lines : ndarray of int
        The file line of each row (for messages).
    where : str
        The file, for messages.
    na_values : sequence of str
        Extra cell texts that mean "missing" (besides empty, NA, NaN, N/A, null).
    categorical, numeric : sequence of str
        Columns whose kind is given rather than inferred.

    Returns
    -------
    (DataFrame, list of Column)
        The normalised table and its columns.
    """
    import pandas as pd

    check_overrides(list(cells.columns), categorical, numeric, where)
    extra = {v.strip() for v in na_values}
    out: dict[str, Any] = {}
    kinds: dict[str, tuple[str, str]] = {}  # column -> (kind, date format)
    mixed: list[tuple[str, int, str]] = []
    for name in cells.columns:
        texts = cells[name].tolist()
        missing = np.array([t.lower() in MISSING_TEXT or t in extra for t in texts], dtype=bool)
        present = [t for t, m in zip(texts, missing, strict=True) if not m]
        if all(_is_number(t) and not math.isfinite(float(t)) for t in present):
            shown = ", ".join(
                f"line {line} " + (f"{t!r}" if t else "(empty)")
                for t, line in list(zip(texts, lines, strict=True))[:_MAX_SHOWN]
            )
            more = ", ..." if len(texts) > _MAX_SHOWN else ""
            raise DataError(
                f"column '{name}' of {where} is entirely empty: {len(texts)} missing or "
                f"non-finite values ({shown}{more}); remove the column"
            )
        number = [_is_number(t) for t in present]
        kind = CATEGORICAL if name in categorical else NUMERIC if name in numeric else None
        # Numbers written with a decimal comma the reading did not take (refused, not text).
        commas = not all(number) and all(
            n or re.fullmatch(_COMMA_NUMBER, t) for t, n in zip(present, number, strict=True)
        )
        if kind != CATEGORICAL and not commas and not all(number):
            fmt = text_date_format(name, texts, missing, lines, where)
            if fmt is not None:
                values = np.full(len(texts), math.nan)
                values[~missing] = text_seconds(present, fmt)
                out[name], kinds[name] = values, (DATE, fmt)
                continue
        if kind is None and not commas:
            if all(number):
                kind = NUMERIC
            elif {t.lower() for t in present} <= _BOOLEAN_TEXT or sum(number) * 2 < len(number):
                kind = CATEGORICAL
        if kind is None or (kind == NUMERIC and not all(number)):
            first = next(i for i, t in enumerate(texts) if not missing[i] and not _is_number(t))
            mixed.append((name, int(lines[first]), texts[first]))
            continue
        if kind == NUMERIC:
            # Python's float() per cell: the very values the CSV reader always produced.
            values = np.array(
                [math.nan if m else float(t) for t, m in zip(texts, missing, strict=True)]
            )
            if np.isinf(values).any():
                row = int(np.flatnonzero(np.isinf(values))[0])
                count = int(np.isinf(values).sum())
                raise DataError(
                    f"{count} non-finite (infinite) value{'s' if count > 1 else ''} in feature "
                    f"column '{name}' of {where} (line {lines[row]}: {texts[row]!r})"
                )
            out[name], kinds[name] = values, (NUMERIC, "")
        else:
            out[name], kinds[name] = _levels(texts, missing), (CATEGORICAL, "")
    if mixed:
        parts = ", ".join(f"'{n}' (line {line}: {t!r})" for n, line, t in mixed[:_MAX_SHOWN])
        more = f" and {len(mixed) - _MAX_SHOWN} more" if len(mixed) > _MAX_SHOWN else ""
        noun = "column" if len(mixed) == 1 else "columns"
        comma = next((t for _, _, t in mixed if re.fullmatch(_COMMA_NUMBER, t)), None)
        hint = f" (for a decimal comma as in {comma!r}: --decimal ',')" if comma else ""
        raise DataError(
            f"non-numeric values in feature {noun} {parts}{more} of {where}: a column of "
            "numbers with text in it; name missing-value markers with --na-values, or declare "
            f"the column --categorical{hint}"
        )
    frame = pd.DataFrame(out, index=pd.RangeIndex(len(cells)))
    columns = [_summarise(n, kinds[n][0], frame[n], kinds[n][1]) for n in frame.columns]
    return frame, columns


def check_ids(
    columns: Sequence[Column],
    n_rows: int,
    declared: Sequence[str],
    where: str,
    python: bool = False,
) -> None:
    """Refuse a categorical column with more distinct values than half the rows (an ID, or
    numbers with a few texts in them); ``python``: name the options as keywords
    (``drop=['id']``), else as flags."""
    for column in columns:
        if column.kind == CATEGORICAL and column.name not in declared:
            if len(column.levels) > n_rows / 2 and len(column.levels) > 2:
                name = [column.name]
                texts = [level for level in column.levels if _number(level) is None]
                if texts and 2 * len(texts) < len(column.levels):  # a DataFrame's text numbers
                    raise DataError(
                        f"non-numeric values in feature column '{column.name}' of {where} "
                        f"({texts[0]!r} among numbers): a column of numbers with text in it; "
                        f"name missing-value markers with {option('na_values', texts[:3], python)}"
                        f", or declare the column {option('categorical', name, python)}"
                    )
                raise DataError(
                    f"column '{column.name}' of {where} looks like an ID: {len(column.levels)} "
                    f"distinct values in {n_rows} rows (more than half), which cannot "
                    f"generalise; leave it out with {option('drop', name, python)} (or keep it "
                    f"with {option('categorical', name, python)})"
                )


def take_rows(X: Any, rows: np.ndarray) -> Any:
    """Rows ``rows`` of a feature matrix or of a table (positional)."""
    return X.iloc[rows].reset_index(drop=True) if hasattr(X, "iloc") else X[rows]


def table_fingerprint(table: pd.DataFrame, columns: Sequence[Column]) -> bytes:
    """The bytes a table's fingerprint is computed from (kinds, names, values, missing)."""
    digest = hashlib.sha256()
    for column in columns:
        digest.update(f"|{column.kind}|{column.name}|".encode())
        values = table[column.name]
        if column.kind in (NUMERIC, DATE):
            digest.update(np.ascontiguousarray(values.to_numpy(np.float64)).tobytes())
        else:
            cells = [None if isinstance(v, float) else v for v in values.tolist()]
            digest.update(json.dumps(cells).encode())
    return digest.digest()


def describe_columns(columns: Sequence[Column] | None, n_rows: int) -> str | None:
    """One line for the run header: the column kinds, levels and missing cells."""
    if columns is None:
        return None
    numeric = [c.name for c in columns if c.kind == NUMERIC]
    categorical = [f"{c.name} ({len(c.levels)})" for c in columns if c.kind == CATEGORICAL]
    dates = [c.name + (" with hours" if c.times else "") for c in columns if c.kind == DATE]
    parts = []
    if numeric:
        parts.append(f"{len(numeric)} numeric ({', '.join(numeric)})")
    if categorical:
        parts.append(f"{len(categorical)} categorical with levels ({', '.join(categorical)})")
    if dates:
        parts.append(
            f"{len(dates)} date{'s' if len(dates) > 1 else ''} ({', '.join(dates)}) read as year,"
            " month, day of week, day of year, hour where present and days since 1970-01-01"
        )
    missing = sum(c.n_missing for c in columns)
    share = 100.0 * missing / max(1, n_rows * len(columns))
    return f"columns: {'; '.join(parts)}; {missing} missing cells ({share:.1f}%)"


def _number(value: Any) -> float | None:
    """A cell as a float (text parsed like the CSV reader does), None if it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def conform_table(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    where: str,
    na_values: Sequence[str] = (),
    ignore: Sequence[str] = (),
    lines: Sequence[int] | None = None,
) -> pd.DataFrame:
    """A new table's feature columns, typed like the ``columns`` a model was trained on.

    ``na_values``: more texts meaning "missing"; ``ignore``: columns that may be present and
    are not features (the target, groups, weights); ``lines``: the file line of each row, for
    messages (else they name a row by its position, from 0).

    Raises
    ------
    DataError
        Naming the missing or unexpected columns, or a numeric column with text in it.
    """
    import pandas as pd

    names = [str(c) for c in frame.columns if str(c) not in ignore]
    expected = [c.name for c in columns]
    extra = {v.strip() for v in na_values}
    missing = [n for n in expected if n not in names]
    unexpected = [n for n in names if n not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing column{'s' if len(missing) > 1 else ''} {_names(missing)}")
        if unexpected:
            parts.append(
                f"unexpected column{'s' if len(unexpected) > 1 else ''} {_names(unexpected)}"
            )
        raise DataError(f"{where} does not match the model's columns: {'; '.join(parts)}")
    out: dict[str, Any] = {}
    for column in columns:
        series = frame[column.name]
        if series.dtype.kind == "O":
            series = series.map(lambda v: v.strip() if isinstance(v, str) else v)
            series = series.map(
                lambda v: (
                    np.nan
                    if isinstance(v, str) and (v.lower() in MISSING_TEXT or v in extra)
                    else v
                )
            )
        missing_cells = series.isna().to_numpy()
        if column.kind == NUMERIC:
            parsed = [None if m else _number(v) for v, m in zip(series, missing_cells, strict=True)]
            values = np.array([np.nan if v is None else v for v in parsed], dtype=np.float64)
            bad = np.flatnonzero(np.isnan(values) & ~missing_cells)
            if bad.size:
                row = f"line {lines[bad[0]]}" if lines is not None else f"row {bad[0]}"
                raise DataError(
                    f"non-numeric values in numeric column '{column.name}' of {where} "
                    f"({row}: {series.iloc[bad[0]]!r})"
                )
            out[column.name] = values
        elif column.kind == DATE:
            out[column.name], bad_dates = series_seconds(series, column.format)
            if bad_dates.any():
                first = int(np.argmax(bad_dates))
                row = f"line {lines[first]}" if lines is not None else f"row {first}"
                raise DataError(
                    f"values that are no dates in date column '{column.name}' of {where} "
                    f"({row}: {series.iloc[first]!r})"
                )
        else:
            out[column.name] = _levels(series.tolist(), missing_cells)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))
