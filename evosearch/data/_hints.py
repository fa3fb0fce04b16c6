"""What a message tells the user to do: an option spelled as the caller gives it, and the
warning for a column that looks like a row number.

Data read from a file (:func:`~evosearch.data.load_dataset`, the command line) names options
as flags (``--categorical city``); data given in memory (:func:`~evosearch.data.check_dataset`,
the Evolver) as keywords (``categorical=['city']``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["option", "row_id_notes"]

# Fewer rows than this are too few to call a column a row number.
_MIN_ROWS = 10


def option(name: str, values: Sequence[str] | None, python: bool) -> str:
    """``--na-values '?'`` or ``na_values=['?']`` (no values: the bare option)."""
    if python:
        return f"{name}=[{', '.join(repr(v) for v in values)}]" if values else f"{name}="
    flag = "--" + name.replace("_", "-")
    if not values:
        return flag
    text = ",".join(values)
    return f"{flag} {text if text.replace(',', '').replace('_', '').isalnum() else repr(text)}"


def row_id_notes(names: Sequence[str], X: Any, python: bool, frame: bool = True) -> list[str]:
    """A warning line per numeric column that looks like a row number: integers increasing
    from row to row (``1, 2, 3, ...``, ``1000, 1001, ...``), no cell missing, at least ten rows.

    ``names``: the numeric feature columns; ``X``: their values, one column each, in row order;
    ``frame``: whether they are named columns (else the remedy is to remove one from ``X``).
    """
    x = np.asarray(X, dtype=np.float64).reshape(len(X), len(names))
    if x.shape[0] < _MIN_ROWS:
        return []
    with np.errstate(invalid="ignore"):
        whole = np.all(np.isfinite(x) & (x == np.round(x)), axis=0)
        rising = np.all(np.diff(x, axis=0) > 0, axis=0)
    return [
        f"warning: column '{name}' looks like a row ID (integers increasing with the rows, "
        f"{x[0, j]:.0f} to {x[-1, j]:.0f}); it is used as a feature, which rarely generalises: "
        + (f"{option('drop', [name], python)} leaves it out" if frame else "remove it from X")
        for j, name in enumerate(names)
        if whole[j] and rising[j]
    ]
