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
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from evosearch.data._checks import (
    _as_feature_matrix,
    _as_target_vector,
    _check_classification_target,
    _check_finite_features,
    _check_regression_target,
    _check_task_name,
    _dropped_note,
    _feature_names,
    _format_rows,
    check_row_extras,
    missing_targets,
)
from evosearch.data._frames import frame_options, type_frame
from evosearch.data._hints import row_id_notes
from evosearch.data._task import check_text_in_numbers, infer_task
from evosearch.data.images import flatten_images, parse_input_shape
from evosearch.data.point_masses import point_masses
from evosearch.data.table import NUMERIC, Column, check_ids, table_fingerprint, take_rows
from evosearch.errors import DataError

__all__ = ["BUNDLED", "TASKS", "Dataset", "check_dataset", "infer_task", "table_dataset"]

BUNDLED: tuple[str, ...] = ("digits", "iris", "wine", "breast_cancer", "diabetes")
"""Names of the scikit-learn datasets that :func:`load_dataset` accepts."""

TASKS: tuple[str, ...] = ("classification", "regression")
"""The learning tasks a :class:`Dataset` can have."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated learning problem: features (a finite float matrix, or a table) and a target.

    Instances come from :func:`load_dataset` or :func:`check_dataset`, which guarantee the
    invariants below. Equality is identity (comparing arrays element-wise has no single truth
    value); compare :meth:`fingerprint` to compare contents.

    Attributes
    ----------
    X : numpy.ndarray or pandas.DataFrame
        Features, float64, 2-D ``(n_samples, n_features)``, C-contiguous, all finite; or, for a
        table with categorical columns or missing cells, its raw columns as a DataFrame (see
        :mod:`evosearch.data.table`), described by ``columns``.
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
    columns : tuple of Column or None
        The table's columns (kinds, missing cells, levels); None for a plain float matrix.
    groups : numpy.ndarray or None
        A group label per row: cross-validation folds never split a group.
    sample_weight : numpy.ndarray or None
        A non-negative weight per row, used in the loss and the score.
    options : dict
        How the data was read (``na_values``, ``categorical``, ``numeric``, ``groups``,
        ``sample_weight`` column names), recorded so a resume reads it the same way.
    notes : tuple of str
        One-line remarks on the reading (e.g. rows dropped for a missing target).
    input_shape : tuple of int or None
        ``(height, width, channels)`` when a row is an image (channels last; bundled digits
        are 8x8x1), else None. Not part of the :meth:`fingerprint`.
    point_masses : tuple of (int, float)
        ``(index among the numeric columns, value)`` of each numeric column where one value
        holds a large share of the rows (:mod:`evosearch.data.point_masses`), found on every
        row read; none for images. Not part of the :meth:`fingerprint` (it follows from X).
    """

    X: Any
    y: np.ndarray
    name: str
    task: str
    feature_names: list[str]
    target_name: str
    columns: tuple[Column, ...] | None = None
    groups: np.ndarray | None = None
    sample_weight: np.ndarray | None = None
    options: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    input_shape: tuple[int, int, int] | None = None
    point_masses: tuple[tuple[int, float], ...] = ()

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

    @property
    def is_table(self) -> bool:
        """Whether the features are a table (categorical columns or missing cells)."""
        return self.columns is not None

    def subset(self, rows: np.ndarray, name: str | None = None) -> Dataset:
        """The rows ``rows`` (positions), with their groups and weights; columns kept."""
        return replace(
            self,
            X=take_rows(self.X, rows),
            y=self.y[rows],
            groups=None if self.groups is None else self.groups[rows],
            sample_weight=None if self.sample_weight is None else self.sample_weight[rows],
            name=self.name if name is None else name,
        )

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
        if self.columns is None:
            digest.update(f"evosearch-dataset-v1|{self.task}|{self.X.shape}|".encode())
            digest.update(np.ascontiguousarray(self.X, dtype=np.float64).tobytes())
        else:
            digest.update(f"evosearch-table-v1|{self.task}|{self.X.shape}|".encode())
            digest.update(table_fingerprint(self.X, self.columns))
        for label, extra in ((b"|groups|", self.groups), (b"|weights|", self.sample_weight)):
            if extra is not None:  # only then: data without them keeps its fingerprint
                digest.update(label + json.dumps([str(v) for v in extra.tolist()]).encode())
        digest.update(b"|y|")
        if self.y.dtype.kind in "OUS":
            # Object arrays have no stable byte form; fixed-width strings depend on the width.
            digest.update(json.dumps([str(v) for v in self.y.tolist()]).encode())
        else:
            digest.update(self.y.dtype.str.encode())
            digest.update(np.ascontiguousarray(self.y).tobytes())
        return digest.hexdigest()


def check_dataset(
    X: Any,
    y: Any,
    *,
    task: str = "auto",
    n_splits: int | None = None,
    name: str = "data",
    feature_names: Sequence[str] | None = None,
    target_name: str = "y",
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    groups: Any = None,
    sample_weight: Any = None,
    input_shape: Any = None,
    drop: Sequence[str] = (),
    na_values: Sequence[str] = (),
) -> Dataset:
    """Validate in-memory data and wrap it in a :class:`Dataset`.

    Parameters
    ----------
    X : array-like or pandas.DataFrame of shape (n_samples, n_features)
        Numeric features (converted to float64, must be finite), or a DataFrame, which may
        hold text, boolean and ``category`` columns and missing cells (a *table*: see
        :mod:`evosearch.data.table`; rows whose target is missing are dropped). A DataFrame's
        column names become the feature names unless ``feature_names`` is given.
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
    categorical, numeric : sequence of str, default=()
        DataFrame columns whose kind is given instead of inferred from their dtypes.
    groups : array-like of shape (n_samples,), optional
        Group labels: cross-validation folds never split a group.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative row weights, used in the loss and the score.
    input_shape : str or sequence of int, optional
        How a row reads as an image (``"8x8"``, ``(8, 8, 1)``; stored as
        :attr:`Dataset.input_shape`). An ``X`` of shape ``(n, h, w)`` or ``(n, h, w, c)`` is
        an image set: its rows are flattened and its shape taken from it.
    drop : sequence of str, default=()
        DataFrame columns left out (an ID, a name); a later ``predict`` ignores them too.
    na_values : sequence of str, default=()
        Texts of a DataFrame's cells that mean "missing" (e.g. ``"?"``); a text column whose
        other cells are then all numbers is numeric. These four options are recorded in the
        dataset's ``options`` (and so in run.json and an export's model.json).

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        With a one-line message naming the first problem found (options named as keywords,
        ``categorical=['city']``).

    Examples
    --------
    >>> ds = check_dataset([[0.0], [1.0], [2.0], [3.0]], ["a", "b", "a", "b"], n_splits=2)
    >>> ds.task, ds.X.dtype
    ('classification', dtype('float64'))
    """
    _check_task_name(task)
    if n_splits is not None and n_splits < 2:
        raise DataError(f"n_splits must be at least 2 for cross-validation, got {n_splits}")
    X, options = frame_options(
        X, categorical=categorical, numeric=numeric, drop=drop, na_values=na_values
    )
    if _is_table(X, categorical, numeric):
        if input_shape is not None:
            raise DataError("input_shape is for numeric image data, not a table with text columns")
        return _check_frame(
            X, y, task=task, n_splits=n_splits, name=name, target_name=target_name,
            categorical=options.get("categorical", ()), numeric=options.get("numeric", ()),
            groups=groups, sample_weight=sample_weight, options=options,
        )  # fmt: skip
    dataset = check_arrays(
        X, y, task=task, n_splits=n_splits, name=name, feature_names=feature_names,
        target_name=target_name, groups=groups, sample_weight=sample_weight,
        input_shape=input_shape, python=True,
    )  # fmt: skip
    return replace(dataset, options=options) if options else dataset


def check_arrays(
    X: Any,
    y: Any,
    *,
    task: str,
    n_splits: int | None,
    name: str,
    feature_names: Sequence[str] | None,
    target_name: str,
    groups: Any,
    sample_weight: Any,
    note: str | None = None,
    input_shape: Any = None,
    python: bool = False,
) -> Dataset:
    """:func:`check_dataset` for a numeric matrix (``note``: rows dropped for their target;
    ``python``: messages name options as keywords, not as flags)."""
    after = f" after {note}" if note else ""
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
    _check_text_target(y_arr, target_name, task, python)
    resolved = infer_task(y_arr) if task == "auto" else task
    if resolved == "regression":
        y_arr = _check_regression_target(y_arr, target_name, n_splits, after)
    else:
        _check_classification_target(y_arr, target_name, n_splits, after, python)
    group_arr, weight_arr = check_row_extras(groups, sample_weight, y_arr.shape[0], n_splits)
    named = not python or hasattr(X, "columns")  # drop= takes a DataFrame's columns only
    ids = [] if image is not None else row_id_notes(names, X_arr, python, named)
    return Dataset(
        X=X_arr,
        y=y_arr,
        name=name,
        task=resolved,
        feature_names=names,
        target_name=target_name,
        groups=group_arr,
        sample_weight=weight_arr,
        notes=(*([note] if note else []), *ids),
        input_shape=image,
        point_masses=() if image is not None else point_masses(X_arr),
    )


def _check_text_target(y: np.ndarray, target_name: str, task: str, python: bool) -> None:
    """Numbers with a stray ``-`` or ``unknown`` in an in-memory ``y`` (text or object) are
    refused as in a file's target, rather than made classes."""
    if python and y.dtype.kind in "OU" and y.ndim == 1:
        # A missing cell (None, NaN) is no text: it stays what the checks after say it is.
        texts = ["nan" if v is None or v != v else str(v).strip() for v in y.tolist()]
        check_text_in_numbers(texts, np.arange(y.size), target_name, task, python=True)


def _is_table(X: Any, categorical: Sequence[str], numeric: Sequence[str]) -> bool:
    """A DataFrame with a column that is not a number, or a missing cell, or typing overrides."""
    if not (hasattr(X, "dtypes") and hasattr(X, "isna")):
        return False
    if categorical or numeric:
        return True
    if any(dtype.kind not in "biuf" for dtype in X.dtypes):
        return True
    return bool(X.isna().to_numpy().any())


def _check_frame(
    X: Any,
    y: Any,
    *,
    task: str,
    n_splits: int | None,
    name: str,
    target_name: str,
    categorical: Sequence[str],
    numeric: Sequence[str],
    groups: Any,
    sample_weight: Any,
    options: dict[str, Any],
) -> Dataset:
    y_arr = _as_target_vector(y)
    if X.shape[0] != y_arr.shape[0]:
        raise DataError(f"X has {X.shape[0]} rows but y has {y_arr.shape[0]} values")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError("X has no rows" if X.shape[0] == 0 else "X has no feature columns")
    dropped = missing_targets(y_arr)
    keep = np.setdiff1d(np.arange(y_arr.size), dropped)
    note = None
    if dropped.size:
        note = _dropped_note(dropped.size, target_name, f"rows, 0-based: {_format_rows(dropped)}")
        y_arr = y_arr[keep]
        if y_arr.dtype.kind == "O":
            y_arr = np.array(y_arr.tolist())  # the labels left may all be str, or all numbers
        X = X.iloc[keep]
    na_values = options.get("na_values", ())
    table, columns = type_frame(
        X, where=name, categorical=categorical, numeric=numeric, na_values=na_values
    )
    extras = [None if a is None else np.asarray(a)[keep] for a in (groups, sample_weight)]
    return table_dataset(
        table, columns, y_arr, task=task, n_splits=n_splits, name=name,
        target_name=target_name, declared=categorical, note=note, groups=extras[0],
        sample_weight=extras[1], options=options, python=True,
    )  # fmt: skip


def table_dataset(
    table: Any,
    columns: Sequence[Column],
    y: np.ndarray,
    *,
    task: str,
    n_splits: int | None,
    name: str,
    target_name: str,
    declared: Sequence[str],
    note: str | None,
    groups: Any,
    sample_weight: Any,
    options: dict[str, Any],
    python: bool = False,
) -> Dataset:
    """A table :class:`Dataset` from typed columns (rows with a missing target dropped;
    ``python``: messages name options as keywords, not as flags)."""
    if y.size == 0:
        raise DataError(f"every row's target '{target_name}' is missing in {name}")
    check_ids(columns, len(table), declared, name, python)
    numeric = [c.name for c in columns if c.kind == NUMERIC]
    numbers = table[numeric].to_numpy(dtype=np.float64)
    ids = row_id_notes(numeric, numbers, python)
    _check_text_target(y, target_name, task, python)
    resolved = infer_task(y) if task == "auto" else task
    after = f" after {note}" if note else ""
    if resolved == "regression":
        y = _check_regression_target(y, target_name, n_splits, after)
    else:
        _check_classification_target(y, target_name, n_splits, after, python)
    group_arr, weight_arr = check_row_extras(groups, sample_weight, y.shape[0], n_splits)
    return Dataset(
        X=table,
        y=y,
        name=name,
        task=resolved,
        feature_names=[c.name for c in columns],
        target_name=target_name,
        columns=tuple(columns),
        groups=group_arr,
        sample_weight=weight_arr,
        options=options,
        notes=(*([note] if note else []), *ids),
        point_masses=point_masses(numbers),
    )
