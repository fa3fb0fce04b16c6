"""Which task a target suggests, and why: what ``task="auto"`` decides and the run header says.

A target of integers is class labels only when it looks like some: at most
:data:`MAX_CLASSES` distinct values, or class codes (``0 .. k-1`` or ``1 .. k``) with
:data:`MIN_ROWS_PER_CODE` rows per class on average. More distinct integers than that (51 in
51 rows, a count, a year, a price in whole units) are a quantity: regression. Text and
true/false are classes; numbers with fractions are a quantity.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

import numpy as np

from evosearch.errors import DataError

__all__ = [
    "MAX_CLASSES",
    "MIN_ROWS_PER_CODE",
    "check_text_in_numbers",
    "infer_task",
    "task_reason",
    "task_spelling",
]

#: Integer targets with at most this many distinct values are classes.
MAX_CLASSES = 20

#: More distinct integers than :data:`MAX_CLASSES` are classes only when they are codes
#: (``0 .. k-1``, ``1 .. k``) with at least this many rows per code on average.
MIN_ROWS_PER_CODE = 20

# Shown of the text cells a numeric target holds, before "...".
_MAX_SHOWN = 3


def _describe(y: Any) -> tuple[str, str]:
    """``(task, why)`` for the target values ``y`` (see the module docstring)."""
    y = np.asarray(y)
    if y.dtype.kind == "b":
        return "classification", "true/false values"
    if y.dtype.kind not in "iuf":
        try:
            labels = len(set(y.tolist()))
        except TypeError:  # unhashable cells: the classification checks refuse them
            return "classification", "labels that are not numbers"
        return "classification", f"labels that are not numbers, {labels} distinct"
    values = y.astype(np.float64, copy=False)
    finite = np.isfinite(values)
    if not finite.all() or not np.all(values == np.round(values)):
        return "regression", "numbers with fractions"
    distinct = np.unique(values)
    k, n = distinct.size, values.size
    counted = f"{k} distinct integer values in {n} rows"
    if k <= MAX_CLASSES:
        return "classification", counted
    low = distinct[0]
    codes = low in (0.0, 1.0) and distinct[-1] == low + k - 1
    if codes and n >= MIN_ROWS_PER_CODE * k:
        return "classification", f"{counted}, the codes {low:.0f} to {distinct[-1]:.0f}"
    return "regression", counted


def infer_task(y: Any) -> str:
    """Guess whether a target holds class labels or a quantity.

    Text, true/false and integers with at most 20 distinct values (or more that are class codes
    ``0 .. k-1`` / ``1 .. k`` with 20 rows per class on average) mean classification; numbers
    with fractions and other integers (51 distinct in 51 rows, a count or a year, diabetes'
    214 integral values) regression. Whole numbers count alike as ints or as floats.

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
    >>> infer_task(np.arange(1400, 1451))  # 51 distinct integers in 51 rows
    'regression'
    """
    return _describe(y)[0]


def task_reason(y: Any) -> str:
    """Why :func:`infer_task` decides as it does on ``y``, in a few words for the run header.

    Examples
    --------
    >>> task_reason(np.arange(1400, 1451))
    '51 distinct integer values in 51 rows'
    >>> task_reason(np.array([0.5, 1.25]))
    'numbers with fractions'
    """
    return _describe(y)[1]


def task_spelling(task: str, python: bool) -> str:
    """How the caller says ``task``: ``--task regression`` or ``task="regression"``."""
    return f'task="{task}"' if python else f"--task {task}"


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_text_in_numbers(
    texts: Sequence[str],
    lines: Sequence[int] | np.ndarray,
    target: str,
    task: str,
    python: bool = False,
) -> None:
    """Refuse a target of numbers with a few text cells (``-``, ``unknown``) unless the task
    is ``classification``: such cells usually mean "missing", and as text they would turn the
    target into classes. ``texts`` are a table file's target cells, ``lines`` their line
    numbers in the file; with ``python``, an in-memory ``y``'s cells and their rows (from 0),
    and the remedies as a Python caller spells them.

    Raises
    ------
    DataError
        Naming the text cells and their lines, and the two ways on.
    """
    if task == "classification":
        return
    numeric = [_number(text) for text in texts]
    text_rows = [i for i, ok in enumerate(numeric) if not ok]
    if not text_rows or len(text_rows) * 2 > len(texts):  # mostly text: labels, not numbers
        return
    numbers = np.array([float(t) for t, ok in zip(texts, numeric, strict=True) if ok])
    if task == "auto" and infer_task(numbers) != "regression":
        return  # "1", "2", "other": as many classes
    kinds: dict[str, list[int]] = {}
    for i in text_rows:
        kinds.setdefault(texts[i], []).append(lines[i])
    where = "row" if python else "line"
    shown = [
        f"{text!r} on {where}{'s' if len(at) > 1 else ''} "
        + ", ".join(str(line) for line in at[:_MAX_SHOWN])
        + (", ..." if len(at) > _MAX_SHOWN else "")
        for text, at in list(kinds.items())[:_MAX_SHOWN]
    ]
    more = ", ..." if len(kinds) > _MAX_SHOWN else ""
    count = f"{len(text_rows)} non-numeric cell{'s' if len(text_rows) > 1 else ''}"
    if python:
        raise DataError(
            f"target '{target}' holds numbers and {count} ({'; '.join(shown)}{more}): if they "
            "mean missing, make them NaN (pandas.to_numeric(y, errors='coerce')) and leave "
            'those rows out; task="classification" keeps every value as a class'
        )
    # With "=": a value starting "-" would read as an option of its own.
    na_flag = f"--na-values={shlex.quote(','.join(kinds))}"
    raise DataError(
        f"target '{target}' holds numbers and {len(text_rows)} non-numeric cell"
        f"{'s' if len(text_rows) > 1 else ''} ({'; '.join(shown)}{more}): if they mean "
        f"missing, {na_flag} drops those rows; --task classification keeps every value as a class"
    )
