"""Loading data by name or path: the bundled scikit-learn sets, table files and NPZ archives.

Table files (CSV and TSV text, compressed or not, Parquet, Excel) are read into text cells by
:mod:`evosearch.data.files` and typed here. Each loader reads its source into arrays and hands
them to
:func:`~evosearch.data.dataset.check_dataset`, so a file gets exactly the validation (and the
one-line :class:`~evosearch.errors.DataError` messages) that in-memory data gets.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from evosearch.data._checks import _MAX_POSITIONS, _check_task_name, _dropped_note, _one_line
from evosearch.data._task import check_text_in_numbers
from evosearch.data.dataset import (
    BUNDLED,
    Dataset,
    check_arrays,
    check_dataset,
    table_dataset,
)
from evosearch.data.files import (
    TABLE_FILE_TYPES,
    Table,
    check_decimal,
    check_sep,
    read_csv_cells,
    read_table,
    source_type,
)
from evosearch.data.images import flatten_images
from evosearch.data.table import MISSING_TEXT, NUMERIC, type_text_columns
from evosearch.errors import DataError

__all__ = ["load_dataset", "read_csv_cells"]  # read_csv_cells: from evosearch.data.files


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
    na_values: Sequence[str] = (),
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    groups: str | None = None,
    sample_weight: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    drop: Sequence[str] = (),
) -> Dataset:
    """Load and validate a bundled dataset, a table file or an NPZ file.

    Parameters
    ----------
    source : str, default="digits"
        A name in :data:`BUNDLED` (case-insensitive; a bare word only) or the path of a data
        file: a table (``.csv``, ``.tsv``, either compressed ``.gz``, ``.bz2``, ``.xz`` or
        ``.zip``, ``.parquet``, ``.xlsx``: see :mod:`evosearch.data.files`) or ``.npz``.
        A table needs a header row; its feature columns may be numeric or text (categorical)
        and have missing cells (empty, NA, NaN, N/A, null), see
        :mod:`evosearch.data.table`; rows with a missing target are dropped (a note says how
        many). An NPZ file needs arrays ``X`` (2-D numeric, finite, or images
        ``(n, height, width[, channels])``, channels last, whose rows are flattened) and ``y``
        (1-D), and may hold ``feature_names``.
    target : str or None, default=None
        Tables only: the name of the target column (default: the last column).
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"`` infers it from the target with :func:`infer_task`.
    n_splits : int or None, default=None
        Number of cross-validation folds the data must support (each class needs at least
        that many rows).
    na_values : sequence of str, default=()
        Tables only: more cell texts that mean "missing" (e.g. ``"?"``).
    categorical, numeric : sequence of str, default=()
        Tables only: columns whose kind is given instead of inferred.
    groups, sample_weight : str, optional
        Tables only: a column of group labels (folds never split a group) or of row weights
        (used in the loss and the score); neither is a feature.
    sep : str, optional
        CSV and TSV text only: the separator (one character; ``"tab"`` for a tab). Default:
        sniffed among ``,`` ``;`` tab ``|`` (a ``.tsv`` file: tab).
    decimal : {".", ","}, optional
        CSV and TSV text only: the decimal mark. Default: ``.`` in comma-separated text, else
        ``,`` where most numbers are written with a comma (``1,5``). A separator or decimal
        mark other than the type's default (``,`` and ``.``) is kept in the dataset's
        ``options``, so a resume reads the file the same way.
    drop : sequence of str, default=()
        Tables only: columns left out (an ID, a name); ``evosearch predict`` ignores them in
        a new table too.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        If the source is unknown, the file is missing, of a type that is not read (or needs a
        library that is not installed) or malformed, or the data cannot be learned with the
        requested task and folds.

    Examples
    --------
    >>> ds = load_dataset("iris")
    >>> ds.X.shape, ds.task
    ((150, 4), 'classification')
    >>> load_dataset("diabetes").task
    'regression'
    """
    _check_task_name(task)
    sep, decimal = check_sep(sep), check_decimal(decimal)
    options = {
        "na_values": list(na_values),
        "categorical": list(categorical),
        "numeric": list(numeric),
        "groups": groups,
        "sample_weight": sample_weight,
        "drop": list(drop),
    }
    kind = source_type(source, BUNDLED)
    what = f"the bundled dataset '{source.lower()}'" if kind == "bundled" else source
    if kind not in TABLE_FILE_TYPES:
        for key, value in options.items():
            if value:
                flag = "groups" if key == "groups" else key.replace("_", "-")
                raise DataError(
                    f"--{flag} applies to tables (CSV, Parquet, Excel) only, not {what}"
                )
    if (sep is not None or decimal is not None) and not _is_text(kind):
        flag = "--sep" if sep is not None else "--decimal"
        raise DataError(f"{flag} applies to CSV and TSV text only, not {what}")
    if kind in TABLE_FILE_TYPES:
        table = read_table(source, kind, sep=sep, decimal=decimal)
        # How the text was read, where it is not the type's default: a resume reads it so.
        if table.sep is not None and table.sep != ("\t" if kind.startswith(".tsv") else ","):
            options["sep"] = table.sep
        if table.decimal == ",":
            options["decimal"] = ","
        dataset = _load_table(
            table, source, target=target, task=task, n_splits=n_splits, options=options
        )
        sniffed = _sniffed_note(source, options, sep, decimal)
        return replace(dataset, notes=(*dataset.notes, sniffed)) if sniffed else dataset
    if kind == ".npz":
        _reject_target(target, "an NPZ file (it holds its target as array 'y')")
        return _load_npz(source, task=task, n_splits=n_splits)
    _reject_target(target, what)
    return _load_bundled(source.lower(), task=task, n_splits=n_splits)


def _is_text(kind: str) -> bool:
    return kind in TABLE_FILE_TYPES and kind.split(".")[1] in ("csv", "tsv")


def _sniffed_note(
    source: str, options: dict[str, Any], sep: str | None, decimal: str | None
) -> str | None:
    """A line saying how the text was read, where that was sniffed and is not the default."""
    how = []
    if sep is None and "sep" in options:
        how.append("tab-separated" if options["sep"] == "\t" else f"'{options['sep']}'-separated")
    how.append("text")
    if decimal is None and "decimal" in options:
        how.append("with decimal commas")
    if len(how) == 1:
        return None
    return f"read {source} as {' '.join(how)} (--sep and --decimal say otherwise)"


def _reject_target(target: str | None, what: str) -> None:
    if target is not None:
        raise DataError(
            f"a target column ('{target}') can only be chosen for tables (CSV, Parquet, "
            f"Excel), not {what}"
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
# tables (CSV, TSV, Parquet, Excel files: read into text cells by evosearch.data.files)


def _load_table(
    table: Table,
    path: str,
    *,
    target: str | None,
    task: str,
    n_splits: int | None,
    options: dict[str, Any],
) -> Dataset:
    target_col = _target_column(table.header, target, path)
    groups_col = _role_column(table.header, options.get("groups"), "groups", path)
    weight_col = _role_column(table.header, options.get("sample_weight"), "sample-weight", path)
    named = [c for c in (target_col, groups_col, weight_col) if c is not None]
    if len(set(named)) < len(named):  # one column cannot play two roles
        raise DataError(
            f"{path}: the target, --groups and --sample-weight columns must differ "
            f"({', '.join(repr(table.header[c]) for c in named)} given)"
        )
    roles = set(named)
    dropped_cols = _dropped_columns(table.header, options.get("drop", ()), roles, path)
    feature_cols = [i for i in range(len(table.header)) if i not in roles and i not in dropped_cols]
    if not feature_cols:
        hint = " (one column in its header: --sep names the separator)"
        raise DataError(
            f"{path} has no feature columns besides the target '{table.header[target_col]}'"
            + (hint if len(table.header) == 1 else "")
        )
    na_values = [str(v) for v in options.get("na_values", ())]
    target_texts = table.cells[target_col].tolist()
    dropped = [
        i
        for i, text in enumerate(target_texts)
        if text.lower() in MISSING_TEXT or text in set(na_values)
    ]
    note = None
    if dropped:
        shown = ", ".join(str(table.lines[i]) for i in dropped[:_MAX_POSITIONS])
        more = ", ..." if len(dropped) > _MAX_POSITIONS else ""
        note = _dropped_note(
            len(dropped), table.header[target_col], f"line{'s' if len(dropped) > 1 else ''} "
            f"{shown}{more}",
        )  # fmt: skip
        table = table.take(np.setdiff1d(np.arange(len(target_texts)), dropped))
    if len(table.lines) == 0:
        raise DataError(f"every row's target '{table.header[target_col]}' is missing in {path}")
    y = _parse_target(table.cells[target_col].tolist())
    if y.dtype.kind == "U":  # numbers with a stray "-" or "unknown" would become classes
        texts = table.cells[target_col].tolist()
        check_text_in_numbers(texts, table.lines, table.header[target_col], task)
    cells = table.cells[feature_cols]
    cells.columns = [table.header[i] for i in feature_cols]
    categorical = list(options.get("categorical", ()))
    numeric = list(options.get("numeric", ()))
    frame, columns = type_text_columns(
        cells, table.lines, where=path, na_values=na_values, categorical=categorical,
        numeric=numeric,
    )  # fmt: skip
    groups = None if groups_col is None else table.cells[groups_col].to_numpy(dtype=str)
    weights = None if weight_col is None else _parse_weights(table, weight_col, path)
    kept = {k: v for k, v in options.items() if v}
    plain = not categorical and all(c.kind == NUMERIC and not c.n_missing for c in columns)
    if plain:
        # All numbers, no missing cell: the float matrix of before tables were supported.
        X = np.ascontiguousarray(frame.to_numpy(dtype=np.float64))
        dataset = check_arrays(
            X, y, task=task, n_splits=n_splits, name=path, feature_names=list(frame.columns),
            target_name=table.header[target_col], groups=groups, sample_weight=weights,
            note=note,
        )  # fmt: skip
        return replace(dataset, options=kept)
    return table_dataset(
        frame, columns, y, task=task, n_splits=n_splits, name=path,
        target_name=table.header[target_col], declared=categorical, note=note, groups=groups,
        sample_weight=weights, options=kept,
    )  # fmt: skip


def _target_column(header: list[str], target: str | None, path: str) -> int:
    if target is None:
        return len(header) - 1
    if target not in header:
        columns = ", ".join(f"'{name}'" for name in header)
        raise DataError(f"target column '{target}' not in {path} (columns: {columns})")
    return header.index(target)


def _dropped_columns(
    header: list[str], names: Sequence[str], roles: set[int], path: str
) -> set[int]:
    """The positions of the ``--drop`` columns; one line for a name not in the header or one
    that is the target, groups or weights column."""
    unknown = [n for n in names if n not in header]
    if unknown:
        columns = ", ".join(f"'{name}'" for name in header)
        shown = ", ".join(f"'{n}'" for n in unknown)
        raise DataError(f"--drop column {shown} not in {path} (columns: {columns})")
    taken = [n for n in names if header.index(n) in roles]
    if taken:
        raise DataError(
            f"--drop '{taken[0]}': the target, --groups and --sample-weight columns are not "
            "features (nothing to drop)"
        )
    return {header.index(n) for n in names}


def _role_column(header: list[str], name: str | None, flag: str, path: str) -> int | None:
    if not name:
        return None
    if name not in header:
        columns = ", ".join(f"'{n}'" for n in header)
        raise DataError(f"--{flag} column '{name}' not in {path} (columns: {columns})")
    return header.index(name)


def _parse_weights(table: Table, column: int, path: str) -> np.ndarray:
    texts = table.cells[column].tolist()
    values = [_parse_float(t) for t in texts]
    bad = next((i for i, v in enumerate(values) if v is None), None)
    if bad is not None and texts[bad].strip().lower() in MISSING_TEXT:
        raise DataError(
            f"sample-weight column '{table.header[column]}' of {path} has a missing value "
            f"(line {table.lines[bad]}): give every row a weight"
        )
    if bad is not None:
        raise DataError(
            f"sample-weight column '{table.header[column]}' of {path} has a non-number "
            f"(line {table.lines[bad]}: {texts[bad]!r})"
        )
    return np.array(values, dtype=np.float64)


def _parse_float(text: str) -> float | None:
    """Return the number in ``text``, or None if it is not a number (NaN/inf are numbers)."""
    try:
        return float(text)
    except ValueError:
        return None


def _parse_target(texts: list[str]) -> np.ndarray:
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
