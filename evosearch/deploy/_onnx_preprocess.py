"""ONNX emission of the fitted preprocessing in front of the network, in float64.

The network's input is what scikit-learn's float64 preprocessing makes of the raw features,
rounded to float32; the graph reproduces it with the same float64 operations in the same order
(the quantile scaler's interpolation included), so the network sees the same float32 values.

* A plain matrix: one input ``X`` (float64, ``(n, n_features)``) and its scaler.
* A table: one input per raw column, named as the column: ``(n, 1)`` float64 for a numeric
  column (NaN for a missing cell), ``(n, 1)`` string for a categorical one (the cell as text,
  ``""`` for a missing cell). Each part of the ``ColumnTransformer`` concatenates its columns
  and runs its steps; the parts' outputs are concatenated in order.

One converter per fitted scikit-learn type (:data:`_CONVERTERS`); another type is refused
with one line naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from onnx import TensorProto
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    OneHotEncoder,
    OrdinalEncoder,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)

from evosearch.deploy._onnx_graph import ML_DOMAIN
from evosearch.errors import SettingsError
from evosearch.preprocess import MISSING_LEVEL, OTHER_LEVEL, LevelMapper

__all__ = ["PLAIN_INPUT", "emit_preprocessing"]

#: The name of the single input of a model trained on a plain float matrix.
PLAIN_INPUT = "X"
_F64 = np.float64
_BOUNDS_THRESHOLD = 1e-7  # scikit-learn's QuantileTransformer clips this close to 0 and 1


def emit_preprocessing(graph: Any, prep: Any) -> tuple[str, list[dict[str, str]]]:
    """Declare the graph's inputs and emit ``prep`` (the pipeline's first step); return the
    float64 preprocessed matrix and the inputs as ``[{"name", "kind"}]`` (kind ``numeric`` or
    ``categorical``)."""
    if isinstance(prep, ColumnTransformer):
        return _emit_table(graph, prep)
    width = int(getattr(prep, "n_features_in_", 0)) or None
    x = graph.add_input(PLAIN_INPUT, TensorProto.DOUBLE, ["N", width])
    return _convert(graph, prep, x), [{"name": PLAIN_INPUT, "kind": "matrix"}]


def _emit_table(graph: Any, ct: ColumnTransformer) -> tuple[str, list[dict[str, str]]]:
    categorical = {
        str(c)
        for _, trans, cols in ct.transformers_
        if isinstance(trans, Pipeline) and isinstance(trans.steps[0][1], LevelMapper)
        for c in cols
    }
    inputs = []
    for raw in ct.feature_names_in_:
        name = str(raw)
        kind = "categorical" if name in categorical else "numeric"
        elem = TensorProto.STRING if kind == "categorical" else TensorProto.DOUBLE
        graph.add_input(name, elem, ["N", 1])
        inputs.append({"name": name, "kind": kind})
    parts = []
    for _, trans, cols in ct.transformers_:
        if isinstance(trans, str) and trans == "drop":
            continue
        names = [str(c) for c in cols]
        if not names:
            continue
        x = names[0] if len(names) == 1 else graph.op("Concat", names, "cols", axis=1)
        parts.append(_convert(graph, trans, x))
    if not parts:
        raise SettingsError("the model's preprocessing passes no column to the network")
    out = parts[0] if len(parts) == 1 else graph.op("Concat", parts, "features", axis=1)
    return out, inputs


def _convert(graph: Any, est: Any, x: str) -> str:
    if isinstance(est, str) and est == "passthrough":
        return x
    for kind, convert in _CONVERTERS.items():
        if type(est) is kind:
            return convert(graph, est, x)
    raise SettingsError(f"the onnx format cannot export the preprocessing step {est!r}")


def _pipeline(graph: Any, est: Pipeline, x: str) -> str:
    for _, step in est.steps:
        x = _convert(graph, step, x)
    return x


def _standard(graph: Any, est: StandardScaler, x: str) -> str:
    if est.with_mean:
        x = graph.op("Sub", [x, graph.const(est.mean_, "mean", _F64)], "centred")
    if est.with_std:
        x = graph.op("Div", [x, graph.const(est.scale_, "scale", _F64)], "scaled")
    return x


def _robust(graph: Any, est: RobustScaler, x: str) -> str:
    if est.center_ is not None:
        x = graph.op("Sub", [x, graph.const(est.center_, "center", _F64)], "centred")
    if est.scale_ is not None:
        x = graph.op("Div", [x, graph.const(est.scale_, "scale", _F64)], "scaled")
    return x


def _imputer(graph: Any, est: SimpleImputer, x: str) -> str:
    fill = graph.const(np.asarray(est.statistics_, _F64), "fill")
    return graph.op("Where", [graph.op("IsNaN", [x], "isnan"), fill, x], "imputed")


def _indicator(graph: Any, est: MissingIndicator, x: str) -> str:
    missing = graph.op("IsNaN", [x], "isnan")
    if len(est.features_) != est.n_features_in_:
        index = graph.const(np.asarray(est.features_, np.int64), "features")
        missing = graph.op("Gather", [missing, index], "missing", axis=1)
    return graph.op("Cast", [missing], "indicator", to=TensorProto.DOUBLE)


def _level_mapper(graph: Any, est: LevelMapper, x: str) -> str:
    """Per column: a known level stays, ``""`` (missing) becomes ``(missing)``, another level
    ``(other)`` (where the column has no ``(other)`` level the encoders ignore it either way)."""
    columns = []
    for j, raw in enumerate(est.levels):
        levels = [str(v) for v in raw]
        missing = MISSING_LEVEL if MISSING_LEVEL in levels else OTHER_LEVEL
        keys = [*levels, ""] if "" not in levels else levels
        values = [*levels, missing] if "" not in levels else levels
        column = _column(graph, x, j, len(est.levels))
        columns.append(
            graph.op(
                "LabelEncoder",
                [column],
                "levels",
                domain=ML_DOMAIN,
                keys_strings=keys,
                values_strings=values,
                default_string=OTHER_LEVEL,
            )
        )
    return columns[0] if len(columns) == 1 else graph.op("Concat", columns, "levels", axis=1)


def _column(graph: Any, x: str, j: int, width: int) -> str:
    if width == 1:
        return x
    index = graph.const(np.array([j], np.int64), "col")
    return graph.op("Gather", [x, index], "column", axis=1)


def _codes(graph: Any, x: str, j: int, width: int, levels: list[Any]) -> str:
    """Column ``j`` of the string matrix ``x`` as the int64 index of its level (-1: none)."""
    return graph.op(
        "LabelEncoder",
        [_column(graph, x, j, width)],
        "code",
        domain=ML_DOMAIN,
        keys_strings=[str(v) for v in levels],
        values_int64s=list(range(len(levels))),
        default_int64=-1,
    )


def _onehot(graph: Any, est: OneHotEncoder, x: str) -> str:
    if est.drop_idx_ is not None:
        raise SettingsError("the onnx format cannot export a OneHotEncoder that drops levels")
    parts = []
    for j, levels in enumerate(est.categories_):
        codes = _codes(graph, x, j, len(est.categories_), list(levels))
        positions = graph.const(np.arange(len(levels), dtype=np.int64), "positions")
        hit = graph.op("Equal", [codes, positions], "hit")
        parts.append(graph.op("Cast", [hit], "onehot", to=TensorProto.DOUBLE))
    return parts[0] if len(parts) == 1 else graph.op("Concat", parts, "onehot", axis=1)


def _ordinal(graph: Any, est: OrdinalEncoder, x: str) -> str:
    parts = []
    for j, levels in enumerate(est.categories_):
        codes = _codes(graph, x, j, len(est.categories_), list(levels))
        parts.append(graph.op("Cast", [codes], "ordinal", to=TensorProto.DOUBLE))
    return parts[0] if len(parts) == 1 else graph.op("Concat", parts, "ordinal", axis=1)


def _interp(graph: Any, x: str, xp: str, shape: tuple[int, int], fp: np.ndarray) -> str:
    """``numpy.interp`` of every column of ``x`` (float64 ``(n, f)``) on its own sorted
    points, row ``j`` of the tensor ``xp`` (float64 ``(f, q)``; repeats allowed), and the values
    ``fp`` (``(q,)``), with numpy's choices: the last point ``<= x`` starts the segment, an
    exact hit takes its value, outside the points the end values."""
    f, q = shape
    axis2 = graph.const(np.array([2], np.int64), "axis")
    points = graph.op("Unsqueeze", [xp, graph.const(np.array([0], np.int64), "axis")], "xp3")
    x3 = graph.op("Unsqueeze", [x, axis2], "x3")
    at_or_below = graph.op(
        "Cast", [graph.op("LessOrEqual", [points, x3], "le")], "ones", to=TensorProto.INT64
    )
    count = graph.op("ReduceSum", [at_or_below, axis2], "count", keepdims=0)
    one = graph.const(np.int64(1), "one")
    start = graph.op(
        "Clip",
        [
            graph.op("Sub", [count, one], "j"),
            graph.const(np.int64(0), "lo"),
            graph.const(np.int64(q - 2), "hi"),
        ],
        "start",
    )
    index = graph.op(
        "Add", [start, graph.const(np.arange(f, dtype=np.int64) * q, "offsets")], "index"
    )
    flat_x = graph.op("Reshape", [xp, graph.const(np.array([-1], np.int64), "flat")], "xp_flat")
    values = graph.const(np.asarray(fp, _F64), "fp")
    x0, x1 = (
        graph.op("Gather", [flat_x, i], "xj")
        for i in (index, graph.op("Add", [index, one], "index1"))
    )
    y0, y1 = (
        graph.op("Gather", [values, i], "yj")
        for i in (start, graph.op("Add", [start, one], "start1"))
    )
    slope = graph.op(
        "Div", [graph.op("Sub", [y1, y0], "dy"), graph.op("Sub", [x1, x0], "dx")], "slope"
    )
    inner = graph.op(
        "Add", [graph.op("Mul", [slope, graph.op("Sub", [x, x0], "rel")], "step"), y0], "inner"
    )
    inner = graph.op("Where", [graph.op("Equal", [x, x0], "hit"), y0, inner], "inner")
    first = graph.const(np.float64(fp[0]), "first")
    last = graph.const(np.float64(fp[-1]), "last")
    below = graph.op("Equal", [count, graph.const(np.int64(0), "zero")], "under")
    above = graph.op("Equal", [count, graph.const(np.int64(q), "q")], "over")
    inner = graph.op("Where", [above, last, inner], "inner")
    return graph.op("Where", [below, first, inner], "interp")


def _table(graph: Any, values: np.ndarray, hint: str) -> str:
    """A float64 constant, stored as float32 (then cast) where that is exact: quantiles of
    integer-valued features, say."""
    single = values.astype(np.float32)
    if np.array_equal(single.astype(_F64), values):
        return graph.op("Cast", [graph.const(single, hint)], hint, to=TensorProto.DOUBLE)
    return graph.const(values, hint, _F64)


def _quantile(graph: Any, est: QuantileTransformer, x: str) -> str:
    """scikit-learn's forward transform: the mean of an ascending and a descending
    interpolation (repeated quantiles), the bounds, then (``normal``) the normal quantile
    function, clipped."""
    quantiles = np.asarray(est.quantiles_, _F64)
    refs = np.asarray(est.references_, _F64)
    q, f = quantiles.shape
    # One (features, quantiles) table; the descending pass reads it negated and reversed.
    table = _table(graph, np.ascontiguousarray(quantiles.T), "quantiles")
    up = _interp(graph, x, table, (f, q), refs)
    flipped = graph.op(
        "Neg",
        [
            graph.op(
                "Slice",
                [
                    table,
                    graph.const(np.array([-1], np.int64), "begin"),
                    graph.const(np.array([np.iinfo(np.int64).min], np.int64), "end"),
                    graph.const(np.array([1], np.int64), "axis"),
                    graph.const(np.array([-1], np.int64), "step"),
                ],
                "reversed",
            )
        ],
        "flipped",
    )
    down = _interp(graph, graph.op("Neg", [x], "negx"), flipped, (f, q), -refs[::-1])
    half = graph.const(np.float64(0.5), "half")
    u = graph.op("Mul", [half, graph.op("Sub", [up, down], "diff")], "uniform")
    threshold = graph.const(np.float64(_BOUNDS_THRESHOLD), "threshold")
    low = graph.const(quantiles[0], "qmin", _F64)
    high = graph.const(quantiles[-1], "qmax", _F64)
    if est.output_distribution == "normal":
        is_low = graph.op("Less", [graph.op("Sub", [x, threshold], "xl"), low], "is_low")
        is_high = graph.op("Greater", [graph.op("Add", [x, threshold], "xh"), high], "is_high")
    else:
        is_low = graph.op("Equal", [x, low], "is_low")
        is_high = graph.op("Equal", [x, high], "is_high")
    u = graph.op("Where", [is_high, graph.const(np.float64(1.0), "one"), u], "u")
    u = graph.op("Where", [is_low, graph.const(np.float64(0.0), "zero"), u], "u")
    if est.output_distribution != "normal":
        return u
    clip_min = float(stats.norm.ppf(_BOUNDS_THRESHOLD - np.spacing(1)))
    clip_max = float(stats.norm.ppf(1 - (_BOUNDS_THRESHOLD - np.spacing(1))))
    z = _normal_ppf(graph, u)
    z = graph.op(
        "Clip",
        [z, graph.const(np.float64(clip_min), "zmin"), graph.const(np.float64(clip_max), "zmax")],
        "z",
    )
    z = graph.op(
        "Where",
        [
            graph.op("LessOrEqual", [u, graph.const(0.0, "zero", _F64)], "p0"),
            graph.const(np.float64(clip_min), "zmin"),
            z,
        ],
        "z",
    )
    return graph.op(
        "Where",
        [
            graph.op("GreaterOrEqual", [u, graph.const(1.0, "one", _F64)], "p1"),
            graph.const(np.float64(clip_max), "zmax"),
            z,
        ],
        "normal",
    )


# Acklam's rational approximation of the normal quantile function (relative error < 1.2e-9).
_A = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_B = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
    1.0,
)
_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00, 1.0)
_P_LOW = 0.02425


def _poly(graph: Any, coefficients: tuple[float, ...], t: str) -> str:
    value = graph.const(np.float64(coefficients[0]), "coef")
    for c in coefficients[1:]:
        value = graph.op(
            "Add", [graph.op("Mul", [value, t], "poly"), graph.const(np.float64(c), "coef")], "poly"
        )
    return value


def _normal_ppf(graph: Any, p: str) -> str:
    centred = graph.op("Sub", [p, graph.const(np.float64(0.5), "half")], "centred")
    r = graph.op("Mul", [centred, centred], "r")
    central = graph.op(
        "Div",
        [graph.op("Mul", [_poly(graph, _A, r), centred], "num"), _poly(graph, _B, r)],
        "central",
    )

    def tail(prob: str) -> str:
        two = graph.const(np.float64(-2.0), "minus_two")
        t = graph.op("Sqrt", [graph.op("Mul", [two, graph.op("Log", [prob], "log")], "m2log")], "t")
        return graph.op("Div", [_poly(graph, _C, t), _poly(graph, _D, t)], "tail")

    lower = tail(p)
    upper = graph.op(
        "Neg", [tail(graph.op("Sub", [graph.const(1.0, "one", _F64), p], "q"))], "upper"
    )
    is_lower = graph.op("Less", [p, graph.const(np.float64(_P_LOW), "plow")], "is_lower")
    is_upper = graph.op("Greater", [p, graph.const(np.float64(1 - _P_LOW), "phigh")], "is_upper")
    value = graph.op("Where", [is_upper, upper, central], "ppf")
    return graph.op("Where", [is_lower, lower, value], "ppf")


_CONVERTERS: dict[type, Callable[[Any, Any, str], str]] = {
    Pipeline: _pipeline,
    StandardScaler: _standard,
    RobustScaler: _robust,
    QuantileTransformer: _quantile,
    SimpleImputer: _imputer,
    MissingIndicator: _indicator,
    LevelMapper: _level_mapper,
    OneHotEncoder: _onehot,
    OrdinalEncoder: _ordinal,
}
