"""How a ``--format python`` model file reads a date column: its cells as seconds since 1970.

The model file copies :func:`date_seconds` (and :func:`~evosearch.preprocess.dates.
date_features`, which makes the calendar features of the seconds), so it imports nothing but
numpy and the standard library and reads no global but the model file's own ``is_missing``.
It computes the very float the estimator's reading computes (:mod:`evosearch.data.dates`):
the whole microseconds since 1970 divided by a million.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from evosearch.deploy._python_runtime import is_missing

__all__ = ["date_seconds"]


def date_seconds(
    cells: dict[str, list[Any]],
    names: Sequence[str],
    formats: Sequence[str],
    na_values: Sequence[str],
) -> np.ndarray:
    """The date columns ``names`` as float64 seconds since 1970-01-01T00:00 (NaN: missing).

    A cell is a text in its column's format (``formats[j]``, as ``datetime.strptime`` reads
    it; ``""``: ISO 8601), a ``datetime`` or ``date`` (its wall-clock time: a time zone is
    dropped), a numpy datetime64, or a number (seconds since 1970 already).
    """
    from datetime import date, datetime

    epoch = datetime(1970, 1, 1)
    out = np.empty((len(cells[names[0]]) if names else 0, len(names)))
    for j, name in enumerate(names):
        for i, cell in enumerate(cells[name]):
            if is_missing(cell, na_values) or (isinstance(cell, np.datetime64) and np.isnat(cell)):
                out[i, j] = math.nan
                continue
            if isinstance(cell, np.datetime64):
                out[i, j] = cell.astype("datetime64[us]").astype(np.int64) / 1e6
                continue
            if isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(
                cell, (bool, np.bool_)
            ):
                out[i, j] = float(cell)
                continue
            value = cell
            try:
                if isinstance(value, str):
                    text = value.strip()
                    value = datetime.strptime(text, formats[j]) if formats[j] else (
                        datetime.fromisoformat(text)
                    )  # fmt: skip
                if isinstance(value, datetime):
                    delta = value.replace(tzinfo=None) - epoch
                elif isinstance(value, date):
                    delta = datetime(value.year, value.month, value.day) - epoch
                else:
                    raise ValueError(value)
            except ValueError:
                raise ValueError(f"row {i} of date column {name!r} holds {cell!r}") from None
            micro = (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds
            out[i, j] = micro / 1e6
    return out
