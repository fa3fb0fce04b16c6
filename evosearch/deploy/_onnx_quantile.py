"""ONNX emission of a fitted ``QuantileTransformer`` (its forward transform).

scikit-learn maps each column through ``0.5 * (interp(x, q, r) - interp(-x, -q[::-1],
-r[::-1]))`` (``numpy.interp`` both ways, so that repeated quantiles map to the middle of their
references), sets values beyond the bounds to 0 or 1, and for ``output_distribution="normal"``
applies the normal quantile function, clipped. The graph computes both interpolations from one
ascending table per column with numpy's own choices and operands, so the results are the same
floats:

* ascending (``x``): ``j`` is the last point ``<= x``; an exact hit gives its value, else
  ``slope * (x - x_j) + y_j`` with ``slope = (y_{j+1} - y_j) / (x_{j+1} - x_j)``;
* descending (``-x`` on the negated, reversed points): ``k`` is the first point ``>= x``; a hit
  gives ``-y_k``, else ``slope * (-x - (-x_k)) + (-y_k)`` with the negated neighbours ``k - 1``.

A column of repeated quantiles (a discrete feature: digits' pixels take 17 values) is stored as
its distinct points, each with the reference of its first and of its last repeat (what the
two passes read at a run of repeats), when that is smaller than the full table.

In a float32 graph (the default input dtype) the same operations run in float32 on the
quantiles and references rounded once (and the table of runs is built from the rounded
quantiles, so that points float32 merges are one point); the results are within a few float32
roundings of scikit-learn's. A column carried as an offset from a constant (a date's days, see
:mod:`._onnx_dates`) has its quantiles shifted by the offset in float64 first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import TensorProto
from scipy import stats
from sklearn.preprocessing import QuantileTransformer

__all__ = ["emit_quantile"]

_F64 = np.float64
_BOUNDS_THRESHOLD = 1e-7  # scikit-learn's QuantileTransformer clips this close to 0 and 1


def _runs(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct values of the sorted ``points`` and the first and last index of each."""
    values, first = np.unique(points, return_index=True)
    last = np.append(first[1:] - 1, points.size - 1)
    return values, first, last


class _Table:
    """Per column: the points, and which reference the first and the last repeat of each point
    has (``first`` and ``last`` indices into the references; None: every point its own)."""

    def __init__(self, quantiles: np.ndarray) -> None:
        q, f = quantiles.shape
        runs = [_runs(quantiles[:, j]) for j in range(f)]
        width = max(2, max(len(r[0]) for r in runs))
        index = np.int16 if q < 2**15 else np.int32
        dense_bytes = f * q * 8
        distinct_bytes = f * width * (8 + 2 * np.dtype(index).itemsize)
        self.distinct = distinct_bytes < dense_bytes
        if not self.distinct:
            self.points = np.ascontiguousarray(quantiles.T)
            self.sizes = np.full(f, q, np.int64)
            self.first = self.last = None
            return
        self.points = np.full((f, width), np.inf)
        self.first = np.zeros((f, width), index)
        self.last = np.zeros((f, width), index)
        self.sizes = np.zeros(f, np.int64)
        for j, (values, first, last) in enumerate(runs):
            n = len(values)
            self.points[j, :n], self.first[j, :n], self.last[j, :n] = values, first, last
            self.sizes[j] = n


def _pick(graph: Any, flat: str, index: str) -> str:
    return str(graph.op("Gather", [flat, index], "picked"))


def _two_way_interp(graph: Any, x: str, table: _Table, refs: np.ndarray, ft: type) -> str:
    """``interp(x, q, r) - interp(-x, -q[::-1], -r[::-1])`` column by column (see above)."""
    f, width = table.points.shape
    points = _stored(graph, table.points, "quantiles", ft)
    axis2 = graph.const(np.array([2], np.int64), "axis")
    flat_shape = graph.const(np.array([-1], np.int64), "flat")
    grid = graph.op("Unsqueeze", [points, graph.const(np.array([0], np.int64), "axis")], "grid")
    x3 = graph.op("Unsqueeze", [x, axis2], "x3")

    def count(op: str) -> str:
        hits = graph.op("Cast", [graph.op(op, [grid, x3], "cmp")], "hits", to=TensorProto.INT64)
        return str(graph.op("ReduceSum", [hits, axis2], "count", keepdims=0))

    le, lt = count("LessOrEqual"), count("Less")
    sizes = graph.const(table.sizes, "sizes")
    offsets = graph.const(np.arange(f, dtype=np.int64) * width, "offsets")
    one = graph.const(np.int64(1), "one")
    flat_points = graph.op("Reshape", [points, flat_shape], "points_flat")
    values = graph.const(np.asarray(refs, ft), "references")

    def ref(at: str, which: np.ndarray | None) -> str:
        """The reference of entry ``at`` (a column-local index): of its first or last repeat."""
        if which is None:
            return _pick(graph, values, at)
        flat = graph.op("Reshape", [graph.const(which, "repeat"), flat_shape], "repeat_flat")
        where = graph.op("Add", [at, offsets], "where")
        picked = _pick(graph, flat, where)
        return _pick(graph, values, graph.op("Cast", [picked], "ref_at", to=TensorProto.INT64))

    def point(at: str) -> str:
        return _pick(graph, flat_points, graph.op("Add", [at, offsets], "where"))

    def clipped(value: str, low: int, high: np.ndarray) -> str:
        value = graph.op("Max", [value, graph.const(np.int64(low), "low")], "clip")
        return str(graph.op("Min", [value, graph.const(high, "high")], "clip"))

    first_ref, last_ref = (
        graph.const(ft(refs[0]), "r_first"),
        graph.const(ft(refs[-1]), "r_last"),
    )
    zero = graph.const(np.int64(0), "zero")

    # Ascending: j, the last point <= x.
    j = clipped(graph.op("Sub", [le, one], "j"), 0, np.maximum(table.sizes - 2, 0))
    j1 = graph.op("Add", [j, one], "j1")
    x0, x1 = point(j), point(j1)
    y0, y1 = ref(j, table.last), ref(j1, table.first)
    slope = graph.op(
        "Div", [graph.op("Sub", [y1, y0], "dy"), graph.op("Sub", [x1, x0], "dx")], "slope"
    )
    up = graph.op(
        "Add", [graph.op("Mul", [slope, graph.op("Sub", [x, x0], "rel")], "step"), y0], "up"
    )
    up = graph.op("Where", [graph.op("Equal", [x, x0], "hit"), y0, up], "up")
    up = graph.op("Where", [graph.op("Equal", [le, sizes], "over"), last_ref, up], "up")
    up = graph.op("Where", [graph.op("Equal", [le, zero], "under"), first_ref, up], "up")

    # Descending, on the negated points: k, the first point >= x, and its neighbour k - 1.
    k = clipped(lt, 1, np.maximum(table.sizes - 1, 1))
    k0 = graph.op("Sub", [k, one], "k0")
    xk, xk0 = (graph.op("Neg", [point(i)], "negpoint") for i in (k, k0))
    yk = graph.op("Neg", [ref(k, table.first)], "yk")
    yk0 = graph.op("Neg", [ref(k0, table.last)], "yk0")
    slope = graph.op(
        "Div", [graph.op("Sub", [yk0, yk], "dy"), graph.op("Sub", [xk0, xk], "dx")], "slope"
    )
    negx = graph.op("Neg", [x], "negx")
    down = graph.op(
        "Add", [graph.op("Mul", [slope, graph.op("Sub", [negx, xk], "rel")], "step"), yk], "down"
    )
    down = graph.op("Where", [graph.op("Equal", [negx, xk], "hit"), yk, down], "down")
    minus_last = graph.const(-ft(refs[-1]), "minus_r_last")
    minus_first = graph.const(-ft(refs[0]), "minus_r_first")
    down = graph.op("Where", [graph.op("Equal", [lt, sizes], "over"), minus_last, down], "down")
    down = graph.op("Where", [graph.op("Equal", [lt, zero], "under"), minus_first, down], "down")
    return str(graph.op("Sub", [up, down], "diff"))


def _stored(graph: Any, values: np.ndarray, hint: str, ft: type) -> str:
    """A float64 constant, stored as float32 (then cast) where that is exact (quantiles of
    integer-valued features, say); infinite padding stays infinite. In a float32 graph
    (``ft``), float32."""
    single = values.astype(np.float32)
    if ft is np.float32:
        return str(graph.const(single, hint))
    if np.array_equal(single.astype(_F64), values):
        return str(graph.op("Cast", [graph.const(single, hint)], hint, to=TensorProto.DOUBLE))
    return str(graph.const(values, hint, _F64))


def emit_quantile(
    graph: Any,
    est: QuantileTransformer,
    x: str,
    dtype: str = "float64",
    offset: np.ndarray | None = None,
) -> str:
    """scikit-learn's forward transform of the matrix ``x`` (``dtype``: float64 or float32;
    ``offset``: per column, what ``x`` holds less than the values themselves)."""
    ft: type = np.float32 if dtype == "float32" else _F64
    quantiles = np.asarray(est.quantiles_, _F64)
    if offset is not None:
        quantiles = quantiles - offset
    # Points are compared with the graph's own floats: merged where that type merges them.
    quantiles = quantiles.astype(ft).astype(_F64)
    table = _Table(quantiles)
    diff = _two_way_interp(graph, x, table, np.asarray(est.references_, _F64), ft)
    u = graph.op("Mul", [graph.const(ft(0.5), "half"), diff], "uniform")
    if est.output_distribution == "normal" and ft is np.float32:
        # x + 1e-7 > high, as float64 has it: float32 would round the sum back to x. The
        # same test is x > high - 1e-7, i.e. x above the last float32 at or below that.
        below = (quantiles[-1] - _BOUNDS_THRESHOLD).astype(np.float32)
        below = np.where(below > quantiles[-1] - _BOUNDS_THRESHOLD,
                         np.nextafter(below, np.float32(-np.inf)), below)  # fmt: skip
        above = (quantiles[0] + _BOUNDS_THRESHOLD).astype(np.float32)
        above = np.where(above < quantiles[0] + _BOUNDS_THRESHOLD,
                         np.nextafter(above, np.float32(np.inf)), above)  # fmt: skip
        is_low = graph.op("Less", [x, graph.const(above, "qlow", ft)], "is_low")
        is_high = graph.op("Greater", [x, graph.const(below, "qhigh", ft)], "is_high")
    elif est.output_distribution == "normal":
        low = graph.const(quantiles[0], "qmin", ft)
        high = graph.const(quantiles[-1], "qmax", ft)
        threshold = graph.const(ft(_BOUNDS_THRESHOLD), "threshold")
        is_low = graph.op("Less", [graph.op("Sub", [x, threshold], "xl"), low], "is_low")
        is_high = graph.op("Greater", [graph.op("Add", [x, threshold], "xh"), high], "is_high")
    else:
        is_low = graph.op("Equal", [x, graph.const(quantiles[0], "qmin", ft)], "is_low")
        is_high = graph.op("Equal", [x, graph.const(quantiles[-1], "qmax", ft)], "is_high")
    u = graph.op("Where", [is_high, graph.const(ft(1.0), "one_f"), u], "u")
    u = graph.op("Where", [is_low, graph.const(ft(0.0), "zero_f"), u], "u")
    if est.output_distribution != "normal":
        return str(u)
    clip_min = graph.const(ft(stats.norm.ppf(_BOUNDS_THRESHOLD - np.spacing(1))), "zmin")
    clip_max = graph.const(ft(stats.norm.ppf(1 - (_BOUNDS_THRESHOLD - np.spacing(1)))), "zmax")
    ppf = _normal_ppf(graph, u, ft) if ft is _F64 else _normal_ppf32(graph, u)
    z = graph.op("Clip", [ppf, clip_min, clip_max], "z")
    p0 = graph.op("LessOrEqual", [u, graph.const(ft(0.0), "zero_f")], "p0")
    p1 = graph.op("GreaterOrEqual", [u, graph.const(ft(1.0), "one_f")], "p1")
    z = graph.op("Where", [p0, clip_min, z], "z")
    return str(graph.op("Where", [p1, clip_max, z], "normal"))


# Acklam's rational approximation of the normal quantile function (relative error < 1.2e-9).
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01, 1.0)  # fmt: skip
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00, 1.0)  # fmt: skip
_P_LOW = 0.02425


def _poly(graph: Any, coefficients: tuple[float, ...], t: str, ft: type) -> str:
    value = graph.const(ft(coefficients[0]), "coef")
    for c in coefficients[1:]:
        step = graph.op("Mul", [value, t], "poly")
        value = graph.op("Add", [step, graph.const(ft(c), "coef")], "poly")
    return str(value)


def _normal_ppf(graph: Any, p: str, ft: type) -> str:
    centred = graph.op("Sub", [p, graph.const(ft(0.5), "half")], "centred")
    r = graph.op("Mul", [centred, centred], "r")
    numerator = graph.op("Mul", [_poly(graph, _A, r, ft), centred], "num")
    central = graph.op("Div", [numerator, _poly(graph, _B, r, ft)], "central")

    def tail(prob: str) -> str:
        m2log = graph.op(
            "Mul", [graph.const(ft(-2.0), "minus_two"), graph.op("Log", [prob], "log")], "m2log"
        )
        t = graph.op("Sqrt", [m2log], "t")
        return str(graph.op("Div", [_poly(graph, _C, t, ft), _poly(graph, _D, t, ft)], "tail"))

    lower = tail(p)
    complement = graph.op("Sub", [graph.const(ft(1.0), "one_f"), p], "complement")
    upper = graph.op("Neg", [tail(complement)], "upper")
    is_lower = graph.op("Less", [p, graph.const(ft(_P_LOW), "plow")], "is_lower")
    is_upper = graph.op("Greater", [p, graph.const(ft(1 - _P_LOW), "phigh")], "is_upper")
    value = graph.op("Where", [is_upper, upper, central], "ppf")
    return str(graph.op("Where", [is_lower, lower, value], "ppf"))


# M. Giles' single-precision erfinv ("Approximating the erfinv function", GPU Computing Gems,
# 2011): relative error of the normal quantile about 3e-7 in float32, where Acklam's rational
# function loses up to 2e-4 to cancellation.
_G_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
              -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)  # fmt: skip
_G_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
           -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)  # fmt: skip


def _normal_ppf32(graph: Any, p: str) -> str:
    """The normal quantile of the float32 ``p``: sqrt(2) * erfinv(2p - 1), with
    ``w = -log(4 p (1 - p))`` (``(1 - x)(1 + x)`` without losing ``1 - p`` near 1)."""
    f = np.float32
    complement = graph.op("Sub", [graph.const(f(1.0), "one_f"), p], "complement")
    spread = graph.op("Mul", [graph.op("Mul", [graph.const(f(4.0), "four"), p], "p4"),
                              complement], "spread")  # fmt: skip
    w = graph.op("Neg", [graph.op("Log", [spread], "log")], "w")
    central = _poly(graph, _G_CENTRAL, graph.op("Sub", [w, graph.const(f(2.5), "w0")], "wc"), f)
    root = graph.op("Sub", [graph.op("Sqrt", [w], "root"), graph.const(f(3.0), "w1")], "wt")
    tail = _poly(graph, _G_TAIL, root, f)
    near = graph.op("Less", [w, graph.const(f(5.0), "five")], "near")
    x = graph.op("Sub", [graph.op("Mul", [graph.const(f(2.0), "two_f"), p], "p2"),
                         graph.const(f(1.0), "one_f")], "x")  # fmt: skip
    erfinv = graph.op("Mul", [graph.op("Where", [near, central, tail], "poly"), x], "erfinv")
    return str(graph.op("Mul", [erfinv, graph.const(f(np.sqrt(2.0)), "root2")], "ppf"))
