"""ONNX emission of :class:`~evosearch.preprocess.DateFeatures`: calendar features of dates.

ONNX reads no date texts, so a date column's input is a number: seconds since its
``origin`` (a day, from 00:00 wall-clock time; NaN where missing), ``(n, 1)``, kind ``date``
with its ``origin`` in model.json's ``onnx.inputs``. A float64 graph counts from 1970-01-01,
as the table does. A float32 graph counts from a day near the column's training dates (the
centre its imputer or scaler learnt, :func:`date_origins`): float32 holds whole seconds exactly
up to 2**24 s (194 days) from there and midnights up to 2**24 * 128 s (68 years), where seconds
since 1970 would be rounded to 128 s; then the day count ``origin + floor(s / 86400)`` and every
step of the calendar are integers below 2**24, exact in float32 too.

The graph computes the features as :func:`~evosearch.preprocess.dates.date_features` does,
with the same ``Div``, ``Floor``, ``Mul``, ``Add`` and ``Sub`` in the same order, on every date
column at once; a missing date gives NaN features for the imputer after it. The ``days`` feature
(days since 1970) leaves a float32 graph as days since the origin, its offset recorded for the
imputer and scaler after it (see :class:`._onnx_preprocess.Prep`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from evosearch.preprocess.dates import DateFeatures, date_width

__all__ = ["date_origins", "emit_dates", "origin_text"]

_CENTRES = ("statistics_", "mean_", "center_")


def origin_text(day: int) -> str:
    """The day ``day`` days after 1970-01-01 as ``YYYY-MM-DD``."""
    return str(np.datetime64(int(day), "D"))


def date_origins(pipeline: Any) -> np.ndarray:
    """Per date column of ``pipeline`` (DateFeatures, then its imputer and scaler): the whole
    day nearest the centre of its training dates that the steps after it learnt (an imputer's
    mean or median, a scaler's mean, centre or median quantile of the ``days`` feature); 0
    (1970-01-01) where none did."""
    expand = pipeline.steps[0][1]
    ends = np.cumsum([date_width(bool(t)) for t in expand.times]) - 1  # the days features
    origins = np.zeros(len(ends), np.int64)
    for _, step in pipeline.steps[1:]:
        centre = next((getattr(step, a) for a in _CENTRES if getattr(step, a, None) is not None),
                      None)  # fmt: skip
        if centre is None and getattr(step, "quantiles_", None) is not None:
            centre = step.quantiles_[len(step.quantiles_) // 2]
        if centre is not None:
            days = np.asarray(centre, np.float64)[ends]
            origins = np.where(np.isfinite(days), np.floor(np.nan_to_num(days)), 0).astype(np.int64)
            break
    return origins


def emit_dates(prep: Any, est: DateFeatures, x: str, origins: np.ndarray) -> str:
    """The features of the date columns of ``x`` (``(n, k)`` seconds since each column's
    origin, ``origins`` days after 1970), as
    :func:`~evosearch.preprocess.dates.date_features` orders them; the ``days`` features
    carry the origins as their offset (``prep.offsets``)."""
    graph = prep.graph

    def c(value: float) -> str:
        return prep.const(value, "k")

    def div(a: str, b: float) -> str:
        return str(graph.op("Div", [a, c(b)], "q"))

    def floor(a: str) -> str:
        return str(graph.op("Floor", [a], "floor"))

    def op(kind: str) -> Callable[[str, str], str]:
        return lambda a, b: str(graph.op(kind, [a, b], kind.lower()))

    add, sub, mul = op("Add"), op("Sub"), op("Mul")
    s = x
    day = floor(div(s, 86400.0))
    shifted_days = bool(np.any(origins))
    # Whole days: the origin plus whole days since it, integers and exact in float32.
    absolute = add(day, prep.const(origins, "origin")) if shifted_days else day
    z = add(absolute, c(719468.0))
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
    yearday = add(sub(absolute, january), c(1.0))
    shifted = add(absolute, c(3.0))
    weekday = sub(shifted, mul(floor(div(shifted, 7.0)), c(7.0)))
    hour = floor(div(sub(s, mul(day, c(86400.0))), 3600.0))
    days = div(s, 86400.0)
    # All columns' features side by side, then one Gather into date_features' order: per
    # column year, month, weekday, yearday, (hour), days.
    k = len(est.times)
    planes = [year, month, weekday, yearday, hour, days]
    order, offsets = [], []
    for j, times in enumerate(est.times):
        for f in range(len(planes)):
            if f != 4 or times:
                order.append(f * k + j)
                offsets.append(float(origins[j]) if f == 5 else 0.0)
    stacked = graph.op("Concat", planes, "date_planes", axis=1)
    index = graph.const(np.asarray(order, np.int64), "date_order")
    out = str(graph.op("Gather", [stacked, index], "dates", axis=1))
    if shifted_days:
        prep.offsets[out] = np.asarray(offsets, np.float64)
    return out
