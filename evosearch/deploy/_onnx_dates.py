"""ONNX emission of :class:`~evosearch.preprocess.DateFeatures`: calendar features of dates.

ONNX reads no date texts, so a date column's input is a number: float64 seconds since
1970-01-01T00:00 (the wall-clock time; NaN where missing), ``(n, 1)``, kind ``date`` in
model.json's ``onnx.inputs``. The graph computes the features exactly as
:func:`~evosearch.preprocess.dates.date_features` does, with the same float64 ``Div``,
``Floor``, ``Mul``, ``Add`` and ``Sub`` in the same order (integers all, so exact), and a
missing date gives NaN features for the imputer after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from evosearch.preprocess import DateFeatures

__all__ = ["emit_dates"]


def emit_dates(graph: Any, est: DateFeatures, x: str) -> str:
    """The features of the date columns of ``x`` ((n, k) float64 seconds), as
    :func:`~evosearch.preprocess.dates.date_features` orders them."""
    parts: list[str] = []

    def c(value: float) -> str:
        return str(graph.const(np.float64(value), "k"))

    def div(a: str, b: float) -> str:
        return str(graph.op("Div", [a, c(b)], "q"))

    def floor(a: str) -> str:
        return str(graph.op("Floor", [a], "floor"))

    def op(kind: str) -> Callable[[str, str], str]:
        return lambda a, b: str(graph.op(kind, [a, b], kind.lower()))

    add, sub, mul = op("Add"), op("Sub"), op("Mul")
    for j, hours in enumerate(est.times):
        if len(est.times) == 1:
            s = x
        else:
            index = graph.const(np.array([j], np.int64), "col")
            s = graph.op("Gather", [x, index], "date", axis=1)
        day = floor(div(s, 86400.0))
        z = add(day, c(719468.0))
        era = floor(div(z, 146097.0))
        doe = sub(z, mul(era, c(146097.0)))
        inner = add(
            sub(doe, floor(div(doe, 1460.0))),
            floor(div(doe, 36524.0)),
        )
        yoe = floor(div(sub(inner, floor(div(doe, 146096.0))), 365.0))
        doy = sub(doe, sub(add(mul(c(365.0), yoe), floor(div(yoe, 4.0))), floor(div(yoe, 100.0))))
        mp = floor(div(add(mul(c(5.0), doy), c(2.0)), 153.0))
        early = floor(div(mp, 10.0))
        month = sub(add(mp, c(3.0)), mul(c(12.0), early))
        year = add(add(yoe, mul(era, c(400.0))), early)
        before = sub(year, c(1.0))
        era1 = floor(div(before, 400.0))
        yoe1 = sub(before, mul(era1, c(400.0)))
        january = sub(
            add(
                sub(
                    add(add(mul(era1, c(146097.0)), mul(yoe1, c(365.0))), floor(div(yoe1, 4.0))),
                    floor(div(yoe1, 100.0)),
                ),
                c(306.0),
            ),
            c(719468.0),
        )
        yearday = add(sub(day, january), c(1.0))
        shifted = add(day, c(3.0))
        weekday = sub(shifted, mul(floor(div(shifted, 7.0)), c(7.0)))
        parts += [year, month, weekday, yearday]
        if hours:
            parts.append(floor(div(sub(s, mul(day, c(86400.0))), 3600.0)))
        parts.append(div(s, 86400.0))
    return str(graph.op("Concat", parts, "dates", axis=1))
