"""In-memory DataFrames typed into tables: each column numeric, categorical or a date by its
dtype (see :mod:`evosearch.data.table` for the kinds and their normal forms).

The caller is Python code (:func:`~evosearch.data.check_dataset`, the Evolver), so its
messages name the options as keywords (``categorical=['city']``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from evosearch.data._hints import option
from evosearch.data.dates import frame_date_format, series_seconds
from evosearch.data.table import (
    CATEGORICAL,
    DATE,
    MISSING_TEXT,
    NUMERIC,
    Column,
    _levels,
    _number,
    _summarise,
    check_overrides,
)
from evosearch.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["frame_options", "type_frame"]


def type_frame(
    frame: pd.DataFrame,
    *,
    where: str = "X",
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    na_values: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[Column]]:
    """Type an in-memory DataFrame's columns by their dtypes (see the module docstring).

    Numbers (int, float) are numeric; datetime64 columns, and text or datetime objects that
    all read as dates, are dates; bool, ``category``, other strings and objects are
    categorical (levels are their ``str``); ``categorical`` / ``numeric`` override. A text
    cell that is one of ``na_values`` (stripped) is missing, and a text column whose other
    cells are then all numbers is numeric. Messages name the options as keywords.
    """
    import pandas as pd

    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        raise DataError(f"{where} has duplicate column names")
    check_overrides(names, categorical, numeric, where, python=True)
    extra = {str(v).strip() for v in na_values}
    out: dict[str, Any] = {}
    kinds: dict[str, tuple[str, str]] = {}  # column -> (kind, date format)
    for name, (_, series) in zip(names, frame.items(), strict=True):
        marked = np.zeros(len(series), dtype=bool)
        if extra and series.dtype.kind == "O":
            marked = np.array([isinstance(v, str) and v.strip() in extra for v in series])
            series = series.astype(object).mask(marked)
        missing = series.isna().to_numpy()
        if missing.all():
            raise DataError(
                f"column '{name}' of {where} is entirely empty ({missing.size} missing values); "
                "remove the column"
            )
        numeric_dtype = series.dtype.kind in "iuf" and not isinstance(
            series.dtype, pd.CategoricalDtype
        )
        # Dates: their empty and NA texts are missing, as predict reads them.
        dated = series.mask(_blank(series)) if series.dtype.kind == "O" else series
        fmt = None if name in categorical else frame_date_format(name, dated, dated.isna(), where)
        if fmt is not None:
            out[name], kinds[name] = series_seconds(dated, fmt)[0], (DATE, fmt)
        elif name in numeric or (numeric_dtype and name not in categorical) or (
            marked.any() and name not in categorical
            and all(_number(v) is not None for v in series[~missing])
        ):  # fmt: skip
            values = pd.to_numeric(series, errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
            bad = np.flatnonzero(np.isnan(values) & ~missing)
            if bad.size:
                cell = series.iloc[bad[0]]
                raise DataError(
                    f"non-numeric values in feature column '{name}' of {where} "
                    f"(row {bad[0]}: {cell!r}): name missing-value markers with "
                    f"{option('na_values', [str(cell)], True)}, or declare the column "
                    f"{option('categorical', [name], True)}"
                )
            if np.isinf(values).any():
                raise DataError(f"infinite values in feature column '{name}' of {where}")
            out[name], kinds[name] = values, (NUMERIC, "")
        else:
            out[name], kinds[name] = _levels(series.tolist(), missing), (CATEGORICAL, "")
    table = pd.DataFrame(out, index=pd.RangeIndex(len(frame)))
    columns = [_summarise(n, kinds[n][0], table[n], kinds[n][1]) for n in table.columns]
    return table, columns


def _blank(series: pd.Series) -> np.ndarray:
    """Which cells are texts that mean "missing" (empty, NA, ...; see ``MISSING_TEXT``)."""
    return np.array([isinstance(v, str) and v.strip().lower() in MISSING_TEXT for v in series])


def frame_options(
    X: Any,
    *,
    categorical: Sequence[str],
    numeric: Sequence[str],
    drop: Sequence[str],
    na_values: Sequence[str],
) -> tuple[Any, dict[str, list[str]]]:
    """``X`` without its ``drop`` columns, and the options given, as ``Dataset.options``
    records them (only those given).

    Raises
    ------
    DataError
        When options that name columns are given with an ``X`` that is no DataFrame, or
        ``drop`` names a column ``X`` lacks.
    """
    given = {"na_values": na_values, "categorical": categorical, "numeric": numeric}
    options = {
        key: [value] if isinstance(value, str) else [str(v) for v in value]
        for key, value in {**given, "drop": drop}.items()
    }
    options = {key: value for key, value in options.items() if value}
    if not options:
        return X, options
    if not (hasattr(X, "columns") and hasattr(X, "dtypes")):
        key = next(k for k in ("categorical", "numeric", "drop", "na_values") if k in options)
        raise DataError(
            f"{option(key, options[key], True)} applies to the columns of a pandas DataFrame; "
            f"X is a {type(X).__name__}"
        )
    names = [str(c) for c in X.columns]
    unknown = [c for c in options.get("drop", ()) if c not in names]
    if unknown:
        shown = ", ".join(f"'{n}'" for n in names[:8]) + (", ..." if len(names) > 8 else "")
        raise DataError(f"{option('drop', unknown, True)}: no such column in X (columns: {shown})")
    if drop:
        X = X.loc[:, [n not in options["drop"] for n in names]]
        if X.shape[1] == 0:
            raise DataError(f"{option('drop', options['drop'], True)} leaves X no feature column")
    return X, options
