"""Datasets: bundled scikit-learn sets by name, CSV and NPZ files, and their validation.

Every problem a user can fix (a missing file, a non-numeric feature, a class with too few rows
for cross-validation, ...) raises :class:`~evosearch.errors.DataError` with a one-line message
that names the problem and where it is, so the command line can print it without a traceback.

Vocabulary
----------
source
    ``"digits"``, ``"iris"``, ``"wine"``, ``"breast_cancer"``, ``"diabetes"`` (shipped with
    scikit-learn, nothing is downloaded) or a path to a ``.csv`` or ``.npz`` file.
task
    ``"classification"`` or ``"regression"``; ``"auto"`` asks :func:`infer_task`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evosearch.errors import DataError

__all__ = ["BUNDLED", "TASKS", "Dataset", "check_dataset", "infer_task", "load_dataset"]

BUNDLED: tuple[str, ...] = ("digits", "iris", "wine", "breast_cancer", "diabetes")
"""Names of the scikit-learn datasets that :func:`load_dataset` accepts."""

TASKS: tuple[str, ...] = ("classification", "regression")
"""The learning tasks a :class:`Dataset` can have."""

# A float target is taken as class labels only if it looks like one: integral values and
# at most this many of them (diabetes, 214 integral values, stays regression).
MAX_CLASSES_FOR_FLOAT_TARGET = 20

# Cell texts read as "no value" in a CSV file (compared lower-cased, after stripping).
_MISSING_TEXT = frozenset({"", "nan", "na", "n/a", "null"})

# How many offending positions an error message lists before "...".
_MAX_POSITIONS = 5

# Column names used where the bundled loaders give none.
_BUNDLED_TARGET_NAMES = {
    "digits": "digit",
    "iris": "species",
    "wine": "cultivar",
    "breast_cancer": "diagnosis",
    "diabetes": "progression",
}


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated learning problem: a finite float feature matrix and a target.

    Instances come from :func:`load_dataset` or :func:`check_dataset`, which guarantee the
    invariants below. Equality is identity (comparing arrays element-wise has no single truth
    value); compare :meth:`fingerprint` to compare contents.

    Attributes
    ----------
    X : numpy.ndarray
        Features, float64, 2-D ``(n_samples, n_features)``, C-contiguous, all finite.
    y : numpy.ndarray
        Target, 1-D of length ``n_samples``. Class labels of any dtype (e.g. strings) for
        classification, finite float64 for regression.
    name : str
        ``"digits"`` etc. for a bundled set, otherwise the file path given (or the ``name``
        passed to :func:`check_dataset`).
    task : str
        ``"classification"`` or ``"regression"``.
    feature_names : list of str
        One name per column of ``X``.
    target_name : str
        Name of the target column.
    """

    X: np.ndarray
    y: np.ndarray
    name: str
    task: str
    feature_names: list[str]
    target_name: str

    @property
    def n_samples(self) -> int:
        """Number of rows."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of feature columns."""
        return int(self.X.shape[1])

    @property
    def classes(self) -> np.ndarray | None:
        """Sorted distinct class labels, or None for regression."""
        return np.unique(self.y) if self.task == "classification" else None

    def fingerprint(self) -> str:
        """Return a SHA-256 hex digest of the data's content.

        It covers the task, the shape, the bytes of ``X`` and the target values (as text for
        string/object labels, as bytes with their dtype otherwise), not the name or column
        names, so the same data loaded from a CSV or an NPZ file gives the same fingerprint.

        Returns
        -------
        str
            64 hexadecimal characters.
        """
        digest = hashlib.sha256()
        digest.update(f"evosearch-dataset-v1|{self.task}|{self.X.shape}|".encode())
        digest.update(np.ascontiguousarray(self.X, dtype=np.float64).tobytes())
        digest.update(b"|y|")
        if self.y.dtype.kind in "OUS":
            # Object arrays have no stable byte form; fixed-width strings depend on the width.
            digest.update(json.dumps([str(v) for v in self.y.tolist()]).encode())
        else:
            digest.update(self.y.dtype.str.encode())
            digest.update(np.ascontiguousarray(self.y).tobytes())
        return digest.hexdigest()


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
        arrays ``X`` (2-D numeric) and ``y`` (1-D), and may hold ``feature_names``.
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


def infer_task(y: np.ndarray) -> str:
    """Guess whether a target holds class labels or continuous values.

    String, object, bool and integer dtypes mean classification. A float target means
    classification only if every value is integral and there are at most 20 distinct values;
    otherwise regression. So ``diabetes``, whose float target is integral but has 214 distinct
    values, is regression.

    Parameters
    ----------
    y : numpy.ndarray
        The target values.

    Returns
    -------
    str
        ``"classification"`` or ``"regression"``.

    Examples
    --------
    >>> infer_task(np.array(["cat", "dog"]))
    'classification'
    >>> infer_task(np.array([0.0, 1.0, 1.0]))
    'classification'
    >>> infer_task(np.array([0.5, 1.25]))
    'regression'
    """
    y = np.asarray(y)
    if y.dtype.kind in "OUSbiu":
        return "classification"
    if y.dtype.kind != "f":
        return "regression"
    finite = y[np.isfinite(y)]
    integral = finite.size == y.size and bool(np.all(finite == np.round(finite)))
    if integral and np.unique(finite).size <= MAX_CLASSES_FOR_FLOAT_TARGET:
        return "classification"
    return "regression"


def check_dataset(
    X: Any,
    y: Any,
    *,
    task: str = "auto",
    n_splits: int | None = None,
    name: str = "data",
    feature_names: Sequence[str] | None = None,
    target_name: str = "y",
) -> Dataset:
    """Validate in-memory arrays and wrap them in a :class:`Dataset`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Numeric features; converted to float64. Must be finite. A pandas DataFrame's column
        names become the feature names unless ``feature_names`` is given.
    y : array-like of shape (n_samples,)
        Target values (an ``(n_samples, 1)`` column is flattened).
    task : {"auto", "classification", "regression"}, default="auto"
    n_splits : int or None, default=None
        Number of cross-validation folds the data must support.
    name : str, default="data"
        Stored as :attr:`Dataset.name`.
    feature_names : sequence of str or None, default=None
        Defaults to ``x0, x1, ...``.
    target_name : str, default="y"
        Used in messages and stored as :attr:`Dataset.target_name`.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        With a one-line message naming the first problem found.

    Examples
    --------
    >>> ds = check_dataset([[0.0], [1.0], [2.0], [3.0]], ["a", "b", "a", "b"], n_splits=2)
    >>> ds.task, ds.X.dtype
    ('classification', dtype('float64'))
    """
    _check_task_name(task)
    if n_splits is not None and n_splits < 2:
        raise DataError(f"n_splits must be at least 2 for cross-validation, got {n_splits}")
    X_arr = _as_feature_matrix(X)
    y_arr = _as_target_vector(y)
    if X_arr.shape[0] != y_arr.shape[0]:
        raise DataError(f"X has {X_arr.shape[0]} rows but y has {y_arr.shape[0]} values")
    _check_finite_features(X_arr)
    names = _feature_names(X, X_arr.shape[1], feature_names)
    resolved = infer_task(y_arr) if task == "auto" else task
    if resolved == "regression":
        y_arr = _check_regression_target(y_arr, target_name, n_splits)
    else:
        _check_classification_target(y_arr, target_name, n_splits)
    return Dataset(
        X=X_arr,
        y=y_arr,
        name=name,
        task=resolved,
        feature_names=names,
        target_name=target_name,
    )


# --------------------------------------------------------------------------------------------
# validation helpers


def _check_task_name(task: str) -> None:
    if task != "auto" and task not in TASKS:
        raise DataError(f"unknown task '{task}': expected auto, classification or regression")


def _reject_target(target: str | None, what: str) -> None:
    if target is not None:
        raise DataError(
            f"a target column ('{target}') can only be chosen for CSV files, not {what}"
        )


def _as_feature_matrix(X: Any) -> np.ndarray:
    if hasattr(X, "toarray"):
        raise DataError("sparse X is not supported: pass a dense array")
    try:
        raw = np.asarray(X)
    except ValueError as exc:  # e.g. rows of different lengths
        raise DataError(f"X is not a rectangular array: {_one_line(exc)}") from None
    if raw.dtype.kind not in "biuf":
        try:
            raw = raw.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"X must be numeric, got dtype {raw.dtype} ({exc})") from None
    if raw.ndim != 2:
        raise DataError(f"X must be 2-D (n_samples, n_features), got shape {raw.shape}")
    if raw.shape[0] == 0:
        raise DataError("X has no rows")
    if raw.shape[1] == 0:
        raise DataError("X has no feature columns")
    return np.ascontiguousarray(raw, dtype=np.float64)


def _as_target_vector(y: Any) -> np.ndarray:
    try:
        arr = np.asarray(y)
    except ValueError as exc:
        raise DataError(f"y is not a 1-D array: {_one_line(exc)}") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise DataError(f"y must be 1-D (n_samples,), got shape {arr.shape}")
    if arr.dtype.kind == "c":
        raise DataError("y must not be complex")
    return arr


def _format_positions(rows: np.ndarray, cols: np.ndarray) -> str:
    shown = ", ".join(
        f"({r}, {c})" for r, c in zip(rows[:_MAX_POSITIONS], cols[:_MAX_POSITIONS], strict=True)
    )
    return shown + (", ..." if rows.size > _MAX_POSITIONS else "")


def _check_finite_features(X: np.ndarray) -> None:
    rows, cols = np.nonzero(~np.isfinite(X))
    if rows.size:
        raise DataError(
            f"X has {rows.size} missing or non-finite values (NaN/inf) at (row, column), "
            f"0-based: {_format_positions(rows, cols)}"
        )


def _feature_names(X: Any, n_features: int, given: Sequence[str] | None) -> list[str]:
    if given is None and hasattr(X, "columns"):  # a pandas DataFrame names its columns
        given = [str(c) for c in X.columns]
    if given is None:
        return [f"x{i}" for i in range(n_features)]
    names = [str(n) for n in given]
    if len(names) != n_features:
        raise DataError(f"{len(names)} feature names given for {n_features} feature columns")
    return names


def _label(value: Any) -> str:
    """Show a class label as in the messages: strings quoted, numbers bare."""
    value = value.item() if isinstance(value, np.generic) else value
    return f"'{value}'" if isinstance(value, str) else str(value)


def _check_regression_target(y: np.ndarray, target_name: str, n_splits: int | None) -> np.ndarray:
    try:
        # Also accepts numbers held as text (e.g. an array of "1.5" strings).
        values = y.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(
            f"regression needs a numeric target, but target '{target_name}' has "
            f"non-numeric values (e.g. {_first_non_numeric(y)!r})"
        ) from None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DataError(
            f"target '{target_name}' has {bad.size} missing or non-finite values "
            f"(rows, 0-based: {_format_rows(bad)})"
        )
    if np.all(values == values[0]):
        raise DataError(f"target '{target_name}' is constant ({values[0]:g}): nothing to learn")
    if n_splits is not None and values.size < n_splits:
        raise DataError(f"only {values.size} rows, fewer than the {n_splits} CV folds")
    return values


def _first_non_numeric(y: np.ndarray) -> Any:
    for value in y.tolist():
        try:
            float(value)
        except (TypeError, ValueError):
            return value
    return None  # unreachable when astype(float) failed; keeps the type checker content


def _format_rows(rows: np.ndarray) -> str:
    shown = ", ".join(str(r) for r in rows[:_MAX_POSITIONS])
    return shown + (", ..." if rows.size > _MAX_POSITIONS else "")


def _check_classification_target(y: np.ndarray, target_name: str, n_splits: int | None) -> None:
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            raise DataError(
                f"target '{target_name}' has {bad.size} missing or non-finite values "
                f"(rows, 0-based: {_format_rows(bad)})"
            )
    try:
        classes, counts = np.unique(y, return_counts=True)
    except TypeError:  # an object array mixing e.g. str and int cannot be sorted
        raise DataError(
            f"target '{target_name}' mixes label types that cannot be compared"
        ) from None
    if classes.size < 2:
        raise DataError(
            f"target '{target_name}' has a single class ({_label(classes[0])}): nothing to learn"
        )
    if n_splits is not None:
        smallest = int(np.argmin(counts))
        if counts[smallest] < n_splits:
            raise DataError(
                f"class {_label(classes[smallest])} has {counts[smallest]} rows, "
                f"fewer than the {n_splits} CV folds"
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
    if X.ndim != 2 or X.dtype.kind not in "biuf":
        raise DataError(
            f"array 'X' in {path} must be 2-D numeric, got shape {X.shape} dtype {X.dtype}"
        )
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


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


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
