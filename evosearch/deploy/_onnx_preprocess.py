"""ONNX emission of the fitted preprocessing in front of the network, in float64.

The network's input is what scikit-learn's float64 preprocessing makes of the raw features,
rounded to float32; the graph reproduces it with the same float64 operations in the same order
(the quantile scaler's interpolation included), so the network sees the same float32 values.

* A plain matrix: one input ``X`` (float64, ``(n, n_features)``) and its scaler.
* A table: one input per raw column, named as the column (a column called as an output,
  ``label``, ``probabilities`` or ``variable``, as ``<column>_input``, the input's ``column``
  naming it): ``(n, 1)`` float64 for a numeric
  column (NaN for a missing cell), ``(n, 1)`` string for a categorical one (the cell as text,
  ``""`` for a missing cell), ``(n, 1)`` float64 for a date column: seconds since
  1970-01-01T00:00 (:mod:`._onnx_dates`; the input's ``format`` says how its texts read). Each
  part of the ``ColumnTransformer`` concatenates its columns and runs its steps; the parts'
  outputs are concatenated in order.

One converter per fitted scikit-learn type (:data:`_CONVERTERS`); another type is refused
with one line naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from onnx import TensorProto
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

from evosearch.deploy._onnx_dates import emit_dates
from evosearch.deploy._onnx_graph import ML_DOMAIN
from evosearch.deploy._onnx_quantile import emit_quantile
from evosearch.errors import SettingsError
from evosearch.preprocess import MISSING_LEVEL, OTHER_LEVEL, DateFeatures, LevelMapper

__all__ = ["PLAIN_INPUT", "emit_preprocessing"]

#: The name of the single input of a model trained on a plain float matrix.
PLAIN_INPUT = "X"
#: The graph's outputs (scikit-learn's names in skl2onnx; see _onnx_network.emit_head): no
#: input may share one, so a table column of that name is read from another (its ``column``).
OUTPUT_NAMES = ("label", "probabilities", "variable")
_F64 = np.float64


def emit_preprocessing(graph: Any, prep: Any) -> tuple[str, list[dict[str, str]]]:
    """Declare the graph's inputs and emit ``prep`` (the pipeline's first step); return the
    float64 preprocessed matrix and the inputs as ``[{"name", "kind"}]`` (kind ``numeric``,
    ``categorical`` or ``date``; plus ``column``, the table column, where the input is named
    otherwise; a date input's ``format`` the strptime format its column's texts read in)."""
    if isinstance(prep, ColumnTransformer):
        return _emit_table(graph, prep)
    width = int(getattr(prep, "n_features_in_", 0)) or None
    x = graph.add_input(PLAIN_INPUT, TensorProto.DOUBLE, ["N", width])
    return _convert(graph, prep, x), [{"name": PLAIN_INPUT, "kind": "matrix"}]


def _emit_table(graph: Any, ct: ColumnTransformer) -> tuple[str, list[dict[str, str]]]:
    kinds = {
        str(c): "categorical" if isinstance(trans.steps[0][1], LevelMapper) else "date"
        for _, trans, cols in ct.transformers_
        if isinstance(trans, Pipeline) and isinstance(trans.steps[0][1], LevelMapper | DateFeatures)
        for c in cols
    }
    formats = {
        str(c): str(f)
        for _, trans, cols in ct.transformers_
        if isinstance(trans, Pipeline) and isinstance(trans.steps[0][1], DateFeatures)
        for c, f in zip(cols, trans.steps[0][1].formats, strict=True)
    }
    inputs: list[dict[str, str]] = []
    input_of = _input_names([str(raw) for raw in ct.feature_names_in_])
    for column, name in input_of.items():
        kind = kinds.get(column, "numeric")
        elem = TensorProto.STRING if kind == "categorical" else TensorProto.DOUBLE
        graph.add_input(name, elem, ["N", 1])
        inputs.append(
            {"name": name, "kind": kind, **({"column": column} if name != column else {})}
            | ({"format": formats[column]} if column in formats else {})
        )
    parts = []
    for _, trans, cols in ct.transformers_:
        if isinstance(trans, str) and trans == "drop":
            continue
        names = [input_of[str(c)] for c in cols]
        if not names:
            continue
        x = names[0] if len(names) == 1 else graph.op("Concat", names, "cols", axis=1)
        parts.append(_convert(graph, trans, x))
    if not parts:
        raise SettingsError("the model's preprocessing passes no column to the network")
    out = parts[0] if len(parts) == 1 else graph.op("Concat", parts, "features", axis=1)
    return out, inputs


def _input_names(columns: list[str]) -> dict[str, str]:
    """Each column's input name: the column's own, but for a column called as an output of the
    graph, which gets ``<column>_input`` (numbered where a column holds that name too)."""
    taken = {*columns, *OUTPUT_NAMES}
    names = {}
    for column in columns:
        name, n = column, 1
        if column in OUTPUT_NAMES:
            name = f"{column}_input"
            while name in taken:
                n += 1
                name = f"{column}_input_{n}"
            taken.add(name)
        names[column] = name
    return names


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


_CONVERTERS: dict[type, Callable[[Any, Any, str], str]] = {
    Pipeline: _pipeline,
    StandardScaler: _standard,
    RobustScaler: _robust,
    QuantileTransformer: emit_quantile,
    SimpleImputer: _imputer,
    MissingIndicator: _indicator,
    LevelMapper: _level_mapper,
    DateFeatures: emit_dates,
    OneHotEncoder: _onehot,
    OrdinalEncoder: _ordinal,
}
