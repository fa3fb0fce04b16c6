"""Validation helpers of :func:`~evosearch.data.check_dataset`: one-line DataErrors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from evosearch.data._task import task_spelling
from evosearch.errors import DataError

# How many offending positions an error message lists before "...".
_MAX_POSITIONS = 5

# A cell that is a number written with a decimal comma (1,5) or a decimal point (1.5).
_COMMA_NUMBER = r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?"
_POINT_NUMBER = r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?"


def _check_task_name(task: str) -> None:
    if task not in ("auto", "classification", "regression"):
        raise DataError(f"unknown task '{task}': expected auto, classification or regression")


class _NotNumeric(DataError, TypeError):
    """Features that cannot be numbers (a DataError that is also a TypeError)."""


def _as_feature_matrix(X: Any) -> np.ndarray:
    if hasattr(X, "toarray"):
        raise DataError("sparse X is not supported: pass a dense array")
    try:
        raw = np.asarray(X)
    except ValueError as exc:  # e.g. rows of different lengths
        raise DataError(f"X is not a rectangular array: {_one_line(exc)}") from None
    if raw.dtype.kind == "c":  # a cast would silently drop the imaginary parts
        raise DataError("X must be real: Complex data not supported")
    if raw.dtype.kind not in "biuf":
        try:
            raw = raw.astype(np.float64)
        except (TypeError, ValueError) as exc:
            # A TypeError too (e.g. a dict in an object array), as scikit-learn raises one.
            kind = _NotNumeric if isinstance(exc, TypeError) else DataError
            raise kind(f"X must be numeric, got dtype {raw.dtype} ({exc})") from None
    if raw.ndim != 2:
        raise DataError(f"X must be 2-D (n_samples, n_features), got shape {raw.shape}")
    if raw.shape[0] == 0:
        raise DataError("X has no rows")
    if raw.shape[1] == 0:
        raise DataError(
            f"X has no feature columns: 0 feature(s) (shape={raw.shape}) while a minimum of 1 "
            "is required."
        )
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
        raise DataError("y must not be complex: Complex data not supported")
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
            f"0-based: {_format_positions(rows, cols)} (a pandas DataFrame may have missing "
            "cells: they are imputed)"
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


def _check_regression_target(
    y: np.ndarray, target_name: str, n_splits: int | None, after: str = ""
) -> np.ndarray:
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
        raise DataError(
            f"target '{target_name}' is constant ({values[0]:g}){after}: nothing to learn"
        )
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


def _check_classification_target(
    y: np.ndarray, target_name: str, n_splits: int | None, after: str = "", python: bool = False
) -> None:
    """Class labels that cross-validation can use (``python``: a hint names the option as a
    keyword, ``task="regression"``, else as a flag)."""
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
            f"target '{target_name}' has a single class ({_label(classes[0])}){after}: "
            "nothing to learn"
        )
    if n_splits is not None:
        smallest = int(np.argmin(counts))
        if counts[smallest] < n_splits:
            # Numbers with a class too small for the folds: often a quantity taken as labels.
            hint = ""
            if y.dtype.kind in "iuf":
                how = task_spelling("regression", python)
                hint = f" (if '{target_name}' is a quantity, not class labels: {how})"
            raise DataError(
                f"class {_label(classes[smallest])} has {counts[smallest]} rows, "
                f"fewer than the {n_splits} CV folds{hint}"
            )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def check_row_extras(
    groups: Any, sample_weight: Any, n_rows: int, n_splits: int | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Validate group labels (enough groups for the folds) and sample weights."""
    group_arr = weight_arr = None
    if groups is not None:
        group_arr = np.asarray(groups)
        if group_arr.shape != (n_rows,):
            raise DataError(f"groups must have one label per row ({n_rows}), got {group_arr.shape}")
        if missing_targets(group_arr).size:
            raise DataError("groups has missing values: every row needs a group")
        n_groups = np.unique(group_arr.astype(str)).size
        if n_splits is not None and n_groups < n_splits:
            raise DataError(
                f"groups has {n_groups} distinct group{'s' if n_groups != 1 else ''}, fewer "
                f"than the {n_splits} CV folds (each fold needs groups of its own)"
            )
    if sample_weight is not None:
        try:
            weight_arr = np.asarray(sample_weight, dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError("sample_weight must be numbers") from None
        if weight_arr.shape != (n_rows,):
            raise DataError(
                f"sample_weight must have one value per row ({n_rows}), got {weight_arr.shape}"
            )
        if not np.all(np.isfinite(weight_arr)) or (weight_arr < 0).any():
            raise DataError("sample_weight must be finite and non-negative (no missing values)")
        if weight_arr.sum() <= 0:
            raise DataError("sample_weight sums to zero: no row counts")
    return group_arr, weight_arr


def missing_targets(y: np.ndarray) -> np.ndarray:
    """Positions of the missing values of a target (None, NaN; empty text)."""
    if y.dtype.kind == "f":
        return np.flatnonzero(np.isnan(y))
    if y.dtype.kind in "OU":
        return np.flatnonzero(
            [v is None or (isinstance(v, float) and v != v) or v == "" for v in y.tolist()]
        )
    return np.array([], dtype=np.intp)


def _dropped_note(count: int, target_name: str, where: str) -> str:
    return f"dropped {count} row{'s' if count > 1 else ''} with missing values in target " + (
        f"column '{target_name}' ({where})"
    )
