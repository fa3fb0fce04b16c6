"""Loading data by name or path: the bundled scikit-learn sets, CSV files and NPZ archives.

Each loader reads its source into arrays and hands them to
:func:`~evosearch.data.dataset.check_dataset`, so a file gets exactly the validation (and the
one-line :class:`~evosearch.errors.DataError` messages) that in-memory data gets.
"""

from __future__ import annotations

import csv
import math
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evosearch.data.dataset import (
    _MAX_POSITIONS,
    BUNDLED,
    Dataset,
    _check_task_name,
    _one_line,
    check_dataset,
)
from evosearch.data.images import flatten_images
from evosearch.errors import DataError

__all__ = ["load_dataset"]

# Cell texts read as "no value" in a CSV file (compared lower-cased, after stripping).
_MISSING_TEXT = frozenset({"", "nan", "na", "n/a", "null"})


# Bundled sets whose rows are images.
_BUNDLED_IMAGES = {"digits": (8, 8, 1)}

# Column names used where the bundled loaders give none.
_BUNDLED_TARGET_NAMES = {
    "digits": "digit",
    "iris": "species",
    "wine": "cultivar",
    "breast_cancer": "diagnosis",
    "diabetes": "progression",
}


def load_dataset(
    source: str = "digits",
    *,
    target: str | None = None,
    task: str = "auto",
    n_splits: int | None = None,
) -> Dataset:
    """Load and validate a bundled dataset or a CSV/NPZ file.

    Parameters
    ----------
    source : str, default="digits"
        A name in :data:`BUNDLED` (case-insensitive) or a path ending in ``.csv`` or ``.npz``.
        A CSV file needs a header row; its feature columns must be numeric. An NPZ file needs
        arrays ``X`` (2-D numeric, or images ``(n, height, width[, channels])``, channels
        last, whose rows are flattened) and ``y`` (1-D), and may hold ``feature_names``.
    target : str or None, default=None
        CSV only: the name of the target column (default: the last column).
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"`` infers it from the target with :func:`infer_task`.
    n_splits : int or None, default=None
        Number of cross-validation folds the data must support (each class needs at least
        that many rows).

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        If the source is unknown, the file is missing or malformed, or the data cannot be
        learned with the requested task and folds.

    Examples
    --------
    >>> ds = load_dataset("iris")
    >>> ds.X.shape, ds.task
    ((150, 4), 'classification')
    >>> load_dataset("diabetes").task
    'regression'
    """
    _check_task_name(task)
    suffix = Path(source).suffix.lower()
    if suffix in (".csv", ".npz"):
        if not os.path.exists(source):
            raise DataError(f"data file not found: {source}")
        if suffix == ".csv":
            return _load_csv(source, target=target, task=task, n_splits=n_splits)
        _reject_target(target, "an NPZ file (it holds its target as array 'y')")
        return _load_npz(source, task=task, n_splits=n_splits)
    if source.lower() in BUNDLED:
        _reject_target(target, f"the bundled dataset '{source.lower()}'")
        return _load_bundled(source.lower(), task=task, n_splits=n_splits)
    raise DataError(
        f"unknown dataset '{source}': expected one of {', '.join(BUNDLED)} "
        "or a path to a .csv/.npz file"
    )


def _reject_target(target: str | None, what: str) -> None:
    if target is not None:
        raise DataError(
            f"a target column ('{target}') can only be chosen for CSV files, not {what}"
        )


# --------------------------------------------------------------------------------------------
# bundled datasets


def _load_bundled(name: str, *, task: str, n_splits: int | None) -> Dataset:
    from sklearn import datasets  # deferred: importing scikit-learn's loaders takes a while

    loader: Callable[[], Any] = getattr(datasets, f"load_{name}")
    bunch = loader()
    return check_dataset(
        bunch.data,
        bunch.target,
        task=task,
        n_splits=n_splits,
        name=name,
        feature_names=[str(n) for n in bunch.feature_names],
        target_name=_BUNDLED_TARGET_NAMES[name],
        input_shape=_BUNDLED_IMAGES.get(name),
    )


# --------------------------------------------------------------------------------------------
# NPZ files


def _load_npz(path: str, *, task: str, n_splits: int | None) -> Dataset:
    arrays = _read_npz(path)
    for key in ("X", "y"):
        if key not in arrays:
            present = ", ".join(sorted(arrays)) or "none"
            raise DataError(f"NPZ file {path} has no array '{key}' (arrays present: {present})")
    X, y = arrays["X"], arrays["y"]
    if X.ndim not in (2, 3, 4) or X.dtype.kind not in "biuf":
        raise DataError(
            f"array 'X' in {path} must be numeric, 2-D (rows, features) or images (rows, "
            f"height, width[, channels]), got shape {X.shape} dtype {X.dtype}"
        )
    X, image = flatten_images(X)
    y = y.ravel() if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1:
        raise DataError(f"array 'y' in {path} must be 1-D, got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise DataError(f"arrays in {path} do not match: X has {X.shape[0]} rows, y {y.shape[0]}")
    names = arrays.get("feature_names")
    return check_dataset(
        X,
        y,
        task=task,
        n_splits=n_splits,
        name=path,
        feature_names=None if names is None else [str(n) for n in names.ravel().tolist()],
        input_shape=image,
    )


def _read_npz(path: str) -> dict[str, np.ndarray]:
    # np.load would try an unknown file as a pickle; say plainly that it is not an archive.
    if not zipfile.is_zipfile(path):
        raise DataError(f"cannot read NPZ file {path}: not a zip archive written by numpy.savez")
    # allow_pickle=False: a data file from someone else must never run code when loaded.
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except ValueError as exc:
        if "Object arrays" in str(exc):
            raise DataError(
                f"NPZ file {path} holds object arrays, which are not loaded for safety: "
                "store labels as fixed-width strings (e.g. y.astype(str))"
            ) from None
        raise DataError(f"cannot read NPZ file {path}: {_one_line(exc)}") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"cannot read NPZ file {path}: {_one_line(exc)}") from None


# --------------------------------------------------------------------------------------------
# CSV files


@dataclass(frozen=True)
class _Table:
    """The raw text cells of a CSV file, with the file line on which each record ends."""

    header: list[str]
    rows: list[list[str]]
    lines: list[int]


def _load_csv(path: str, *, target: str | None, task: str, n_splits: int | None) -> Dataset:
    table = _read_csv(path)
    target_col = _target_column(table.header, target, path)
    feature_cols = [i for i in range(len(table.header)) if i != target_col]
    if not feature_cols:
        raise DataError(
            f"{path} has no feature columns besides the target '{table.header[target_col]}' "
            "(is the file comma-separated?)"
        )
    X = _parse_features(table, feature_cols, path)
    y = _parse_target(table, target_col, path)
    return check_dataset(
        X,
        y,
        task=task,
        n_splits=n_splits,
        name=path,
        feature_names=[table.header[i] for i in feature_cols],
        target_name=table.header[target_col],
    )


def _read_csv(path: str) -> _Table:
    # utf-8-sig drops the byte-order mark that spreadsheet programs put before the header.
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            records = [(row, reader.line_num) for row in reader]
    except UnicodeDecodeError as exc:
        raise DataError(f"cannot read {path}: not UTF-8 text ({_one_line(exc)})") from None
    except (OSError, csv.Error) as exc:
        raise DataError(f"cannot read {path}: {_one_line(exc)}") from None
    # Blank lines (e.g. at the end of the file) carry no data.
    records = [(row, line) for row, line in records if any(cell.strip() for cell in row)]
    if not records:
        raise DataError(f"data file is empty: {path}")
    header = [cell.strip() for cell in records[0][0]]
    _check_header(header, path)
    if len(records) == 1:
        raise DataError(f"data file has a header but no data rows: {path}")
    rows, lines = [], []
    for row, line in records[1:]:
        if len(row) != len(header):
            raise DataError(
                f"{path} line {line} has {len(row)} fields, expected {len(header)} (as the header)"
            )
        rows.append([cell.strip() for cell in row])
        lines.append(line)
    return _Table(header=header, rows=rows, lines=lines)


def _check_header(header: list[str], path: str) -> None:
    if all(_parse_float(cell) is not None for cell in header):
        raise DataError(
            f"the first line of {path} looks like data: a header row naming the columns is required"
        )
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataError(f"{path} has duplicate column name '{name}' in its header")
        seen.add(name)


def _target_column(header: list[str], target: str | None, path: str) -> int:
    if target is None:
        return len(header) - 1
    if target not in header:
        columns = ", ".join(f"'{name}'" for name in header)
        raise DataError(f"target column '{target}' not in {path} (columns: {columns})")
    return header.index(target)


def _parse_float(text: str) -> float | None:
    """Return the number in ``text``, or None if it is not a number (NaN/inf are numbers)."""
    try:
        return float(text)
    except ValueError:
        return None


def _is_missing(text: str) -> bool:
    return text.lower() in _MISSING_TEXT


def _parse_features(table: _Table, columns: list[int], path: str) -> np.ndarray:
    X = np.empty((len(table.rows), len(columns)), dtype=np.float64)
    non_numeric: dict[int, tuple[int, str]] = {}  # column -> first (line, text)
    missing: list[tuple[int, int, str]] = []  # (line, column, text)
    for r, (row, line) in enumerate(zip(table.rows, table.lines, strict=True)):
        for c, col in enumerate(columns):
            text = row[col]
            value = math.nan if _is_missing(text) else _parse_float(text)
            if value is None:
                non_numeric.setdefault(col, (line, text))
                value = math.nan
            elif not math.isfinite(value):
                missing.append((line, col, text))
            X[r, c] = value
    if non_numeric:
        raise DataError(_non_numeric_message(non_numeric, table.header, path))
    if missing:
        raise DataError(_missing_message(missing, table.header, path))
    return X


def _non_numeric_message(found: dict[int, tuple[int, str]], header: list[str], path: str) -> str:
    parts = [
        f"'{header[col]}' (line {line}: {text!r})" for col, (line, text) in list(found.items())[:5]
    ]
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    noun = "column" if len(found) == 1 else "columns"
    return (
        f"non-numeric values in feature {noun} {', '.join(parts)}{more} of {path}: "
        "features must be numbers (only the target column may hold labels)"
    )


def _missing_message(found: list[tuple[int, int, str]], header: list[str], path: str) -> str:
    shown = ", ".join(
        f"line {line} column '{header[col]}'" + (f" {text!r}" if text else " (empty)")
        for line, col, text in found[:_MAX_POSITIONS]
    )
    more = ", ..." if len(found) > _MAX_POSITIONS else ""
    return (
        f"{len(found)} missing or non-finite feature values in {path} "
        f"(empty, nan or inf): {shown}{more}"
    )


def _parse_target(table: _Table, column: int, path: str) -> np.ndarray:
    texts = [row[column] for row in table.rows]
    missing = [line for text, line in zip(texts, table.lines, strict=True) if _is_missing(text)]
    if missing:
        shown = ", ".join(str(line) for line in missing[:_MAX_POSITIONS])
        more = ", ..." if len(missing) > _MAX_POSITIONS else ""
        raise DataError(
            f"{len(missing)} missing values in target column '{table.header[column]}' "
            f"of {path} (line{'s' if len(missing) > 1 else ''} {shown}{more})"
        )
    ints = _parse_all(texts, int)
    if ints is not None:
        return np.array(ints, dtype=np.int64)
    floats = _parse_all(texts, float)
    if floats is not None:
        return np.array(floats, dtype=np.float64)
    return np.array(texts, dtype=str)


def _parse_all(texts: list[str], kind: Callable[[str], Any]) -> list[Any] | None:
    try:
        values = [kind(text) for text in texts]
    except (ValueError, OverflowError):
        return None
    if kind is int and any(abs(v) >= 2**63 for v in values):
        return None  # beyond int64: keep as text labels rather than overflow
    return values
