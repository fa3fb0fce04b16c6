"""The Dataset type and the validation every dataset goes through, whatever its source.

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

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from evosearch.data.images import flatten_images, parse_input_shape
from evosearch.errors import DataError

__all__ = ["BUNDLED", "TASKS", "Dataset", "check_dataset", "infer_task"]

BUNDLED: tuple[str, ...] = ("digits", "iris", "wine", "breast_cancer", "diabetes")
"""Names of the scikit-learn datasets that :func:`load_dataset` accepts."""

TASKS: tuple[str, ...] = ("classification", "regression")
"""The learning tasks a :class:`Dataset` can have."""

# A float target is taken as class labels only if it looks like one: integral values and
# at most this many of them (diabetes, 214 integral values, stays regression).
MAX_CLASSES_FOR_FLOAT_TARGET = 20

# How many offending positions an error message lists before "...".
_MAX_POSITIONS = 5


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
    input_shape : tuple of int or None
        ``(height, width, channels)`` when a row is an image (channels last; bundled digits
        are 8x8x1), else None. Not part of the :meth:`fingerprint`.
    """

    X: np.ndarray
    y: np.ndarray
    name: str
    task: str
    feature_names: list[str]
    target_name: str
    input_shape: tuple[int, int, int] | None = None

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
    input_shape: Any = None,
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
    input_shape : str or sequence of int, optional
        How a row reads as an image (``"8x8"``, ``(8, 8, 1)``; stored as
        :attr:`Dataset.input_shape`). An ``X`` of shape ``(n, h, w)`` or ``(n, h, w, c)`` is
        an image set: its rows are flattened and its shape taken from it.

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
    found = None
    if getattr(X, "ndim", 2) in (3, 4):
        X, found = flatten_images(np.asarray(X))
    X_arr = _as_feature_matrix(X)
    image = None
    if input_shape is not None or found is not None:
        image = parse_input_shape(found if input_shape is None else input_shape, X_arr.shape[1])
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
        input_shape=image,
    )


# --------------------------------------------------------------------------------------------
# validation helpers


def _check_task_name(task: str) -> None:
    if task != "auto" and task not in TASKS:
        raise DataError(f"unknown task '{task}': expected auto, classification or regression")


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


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
