"""ONNX emission of the fitted preprocessing in front of the network, in float32 or float64.

The input dtype (``float32`` by default, ``float64`` on request) is the type of the numeric
inputs and of the preprocessing arithmetic:

* ``float64``: the graph repeats scikit-learn's float64 operations in the same order (the
  quantile scaler's interpolation included), so the network sees the same float32 values.
* ``float32``: the same operations in float32, with the constants rounded once; the network's
  input is then within a few float32 roundings of scikit-learn's (see docs/tutorials for the
  tolerances the tests hold). Where float32 would lose the precision that matters, the graph
  keeps it: a date input is seconds since a midnight near the training dates (its ``origin``)
  rather than since 1970, and a value that is large against its spread (the days since 1970
  of a date) is carried as an offset from a constant, which the scaler or imputer after it
  subtracts in float64 at export time (``Prep.offsets``).

* A plain matrix: one input ``X`` (``(n, n_features)``) and its scaler.
* A table: one input per raw column, named as the column (a column called as an output,
  ``label``, ``probabilities`` or ``variable``, as ``<column>_input``, the input's ``column``
  naming it): ``(n, 1)`` numbers for a numeric column (NaN for a missing cell), ``(n, 1)``
  string for a categorical one (the cell as text, ``""`` for a missing cell), ``(n, 1)``
  numbers for a date column: seconds since its ``origin``, 00:00 (:mod:`._onnx_dates`; the
  input's ``format`` says how its texts read). Each part of the ``ColumnTransformer``
  concatenates its columns and runs its steps on all of them at once (one ``Sub``/``Div`` with
  constant vectors, one imputer, one encoding lookup: :mod:`._onnx_categorical`); the parts'
  outputs are concatenated in order.

One converter per fitted scikit-learn type (:data:`_CONVERTERS`); another type is refused
with one line naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from onnx import TensorProto
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import QuantileTransformer, RobustScaler, StandardScaler

from evosearch.deploy._onnx_categorical import ENCODERS, emit_encoding
from evosearch.deploy._onnx_dates import date_origins, emit_dates, origin_text
from evosearch.deploy._onnx_quantile import emit_quantile
from evosearch.errors import SettingsError
from evosearch.preprocess import DateFeatures, LevelMapper, PointMassIndicators

__all__ = ["PLAIN_INPUT", "Prep", "emit_preprocessing", "shared_date_origins"]

#: The name of the single input of a model trained on a plain float matrix.
PLAIN_INPUT = "X"
#: The graph's outputs (scikit-learn's names in skl2onnx; see _onnx_network.emit_head): no
#: input may share one, so a table column of that name is read from another (its ``column``).
OUTPUT_NAMES = ("label", "probabilities", "variable")


@dataclass
class Prep:
    """The graph being built, the preprocessing's float type, and the offsets of tensors that
    hold values minus a constant (``offsets[name]``: one float64 value per column)."""

    graph: Any
    dtype: str = "float32"
    offsets: dict[str, np.ndarray] = field(default_factory=dict)
    #: Per numeric column (name, or index of a plain matrix) that float32 inputs resolve
    #: coarsely: half a float32 step at its centre, relative to its spread (see _coarse).
    coarse: dict[str, float] = field(default_factory=dict)

    @property
    def np_type(self) -> type:
        return np.float32 if self.dtype == "float32" else np.float64

    @property
    def elem(self) -> int:
        return TensorProto.FLOAT if self.dtype == "float32" else TensorProto.DOUBLE

    def const(self, value: Any, hint: str) -> str:
        """A constant in the preprocessing's float type."""
        return str(self.graph.const(np.asarray(value, dtype=np.float64).astype(self.np_type), hint))

    def shifted(self, x: str, value: Any) -> np.ndarray:
        """``value`` (per column, float64) less the offset ``x`` carries: what to compare the
        stored numbers of ``x`` with."""
        value = np.asarray(value, dtype=np.float64)
        return value - self.offsets[x] if x in self.offsets else value

    def settled(self, x: str) -> str:
        """``x`` with its offset added back (where it carries one): the values themselves."""
        if x not in self.offsets:
            return x
        return str(self.graph.op("Add", [x, self.const(self.offsets[x], "offset")], "settled"))


def emit_preprocessing(
    graph: Any,
    prep: Any,
    dtype: str = "float32",
    origins: dict[str, str] | None = None,
    coarse: dict[str, float] | None = None,
) -> tuple[str, list[dict[str, str]]]:
    """Declare the graph's inputs and emit ``prep`` (the pipeline's first step) in ``dtype``;
    return the preprocessed matrix (in ``dtype``) and the inputs as ``[{"name", "kind"}]``
    (kind ``matrix``, ``numeric``, ``categorical`` or ``date``; plus ``column``, the table
    column, where the input is named otherwise; a date input's ``format``, the strptime format
    its column's texts read in, and ``origin``, the day its seconds count from: in ``origins``
    by column where given, as several graphs sharing their inputs need). ``coarse``, where
    given, gets the numeric columns float32 inputs would resolve coarsely (:func:`_coarse`)."""
    p = Prep(graph, dtype, coarse=coarse if coarse is not None else {})
    if isinstance(prep, ColumnTransformer):
        return _emit_table(p, prep, origins or {})
    width = int(getattr(prep, "n_features_in_", 0)) or None
    x = graph.add_input(PLAIN_INPUT, p.elem, ["N", width])
    names = getattr(prep, "feature_names_in_", None)  # else X[:, j] by its index j
    steps = list(prep.steps) if isinstance(prep, Pipeline) else [("scale", prep)]
    _coarse(p, steps, [str(n) for n in (names if names is not None else range(width or 0))])
    return p.settled(_convert(p, prep, x)), [{"name": PLAIN_INPUT, "kind": "matrix"}]


#: Half a float32 step at a column's centre, relative to its spread, above which the column is
#: reported (model.json's ``onnx.float32_coarse``; ``export`` says so).
COARSE = 1e-4


def _coarse(p: Prep, steps: list[tuple[str, Any]], names: list[str]) -> None:
    """Note in ``p.coarse`` the raw numeric columns ``names`` (scaled by the first scaler among
    ``steps``) whose float32 input would be coarse against their spread: the standard or
    robust scaler's scale, or the mean gap between the quantile scaler's quantiles."""
    if p.dtype != "float32":
        return
    names = list(names)
    for _, step in steps:
        if isinstance(step, PointMassIndicators):  # its 0/1 columns are scaled too
            names += [f"{names[c]}=={v:g}" for c, v in zip(step.columns, step.values, strict=True)]
            continue
        if isinstance(step, StandardScaler | RobustScaler):
            centre = getattr(step, "mean_", None) if isinstance(step, StandardScaler) else (
                step.center_)  # fmt: skip
            spread = step.scale_
        elif isinstance(step, QuantileTransformer):
            q = np.asarray(step.quantiles_, np.float64)
            centre, spread = q[len(q) // 2], (q[-1] - q[0]) / max(len(q) - 1, 1)
        else:
            continue
        if centre is None or spread is None:
            return
        step32 = np.spacing(np.abs(np.asarray(centre, np.float64)).astype(np.float32))
        loss = step32.astype(np.float64) / 2 / np.where(np.asarray(spread) > 0, spread, np.inf)
        for name, value in zip(names, loss, strict=True):
            if value > COARSE:
                p.coarse[name] = float(f"{value:.2g}")
        return


def shared_date_origins(preps: list[Any]) -> dict[str, str]:
    """One origin per date column for graphs that share their inputs (an ensemble's members'
    preprocessing ``preps``): the first one's that has the column (a float32 graph's own)."""
    found: dict[str, str] = {}
    for prep in preps:
        for _, trans, cols in getattr(prep, "transformers_", []):
            if _is_date(trans):
                days = date_origins(trans)
                for c, day in zip(cols, days, strict=True):
                    found.setdefault(str(c), origin_text(int(day)))
    return found


def _is_date(trans: Any) -> bool:
    return isinstance(trans, Pipeline) and isinstance(trans.steps[0][1], DateFeatures)


def _emit_table(
    p: Prep, ct: ColumnTransformer, given: dict[str, str]
) -> tuple[str, list[dict[str, str]]]:
    kinds = {
        str(c): "categorical" if isinstance(trans.steps[0][1], LevelMapper) else "date"
        for _, trans, cols in ct.transformers_
        if isinstance(trans, Pipeline) and isinstance(trans.steps[0][1], LevelMapper | DateFeatures)
        for c in cols
    }
    dates: dict[str, dict[str, str]] = {}
    origins: dict[str, np.ndarray] = {}
    for part, trans, cols in ct.transformers_:
        if _is_date(trans):
            # float64 keeps seconds since 1970; float32 counts from a day near the dates.
            days = date_origins(trans) if p.dtype == "float32" else np.zeros(len(cols), np.int64)
            for j, c in enumerate(cols):
                if str(c) in given:
                    days[j] = np.datetime64(given[str(c)], "D").astype(np.int64)
            origins[part] = days
            for c, f, day in zip(cols, trans.steps[0][1].formats, days, strict=True):
                dates[str(c)] = {"format": str(f), "origin": origin_text(int(day))}
    inputs: list[dict[str, str]] = []
    input_of = _input_names([str(raw) for raw in ct.feature_names_in_])
    for column, name in input_of.items():
        kind = kinds.get(column, "numeric")
        p.graph.add_input(name, TensorProto.STRING if kind == "categorical" else p.elem, ["N", 1])
        inputs.append(
            {"name": name, "kind": kind, **({"column": column} if name != column else {})}
            | dates.get(column, {})
        )
    parts = []
    for part, trans, cols in ct.transformers_:
        if isinstance(trans, str) and trans == "drop":
            continue
        names = [input_of[str(c)] for c in cols]
        if not names:
            continue
        x = names[0] if len(names) == 1 else p.graph.op("Concat", names, "cols", axis=1)
        if _is_date(trans):
            x = emit_dates(p, trans.steps[0][1], x, origins[part])
            x = _steps(p, trans.steps[1:], x)
        else:
            if isinstance(trans, Pipeline) and not isinstance(trans.steps[0][1], LevelMapper):
                _coarse(p, list(trans.steps), [str(c) for c in cols])
            x = _convert(p, trans, x)
        parts.append(p.settled(x))
    if not parts:
        raise SettingsError("the model's preprocessing passes no column to the network")
    out = parts[0] if len(parts) == 1 else p.graph.op("Concat", parts, "features", axis=1)
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


def _convert(p: Prep, est: Any, x: str) -> str:
    if isinstance(est, str) and est == "passthrough":
        return x
    for kind, convert in _CONVERTERS.items():
        if type(est) is kind:
            return convert(p, est, x)
    if isinstance(est, ENCODERS):  # an encoder reading the levels themselves
        return emit_encoding(p.graph, None, est, x, p.elem)
    raise SettingsError(f"the onnx format cannot export the preprocessing step {est!r}")


def _steps(p: Prep, steps: list[tuple[str, Any]], x: str) -> str:
    at = 0
    while at < len(steps):
        step = steps[at][1]
        follows = steps[at + 1][1] if at + 1 < len(steps) else None
        if isinstance(step, LevelMapper) and isinstance(follows, ENCODERS):
            # Levels and encoding are one lookup in the graph (see _onnx_categorical).
            x, at = emit_encoding(p.graph, step, follows, x, p.elem), at + 2
            continue
        x, at = _convert(p, step, x), at + 1
    return x


def _pipeline(p: Prep, est: Pipeline, x: str) -> str:
    return _steps(p, list(est.steps), x)


def _centred(p: Prep, x: str, center: Any, scale: Any) -> str:
    """``(x - center) / scale`` (either None: left out), an offset of ``x`` subtracted with the
    center at export time (so a large value close to its center keeps its precision)."""
    if center is None:
        x = p.settled(x)
    else:
        center = p.shifted(x, center)
        x = p.graph.op("Sub", [x, p.const(center, "center")], "centred")
        # In float32 a center such as a year's mean (2024.3) is rounded by up to 6e-5, a
        # large error after dividing by a small scale; its remainder, subtracted second (the
        # first difference is exact for values near the center), keeps it.
        rest = center - center.astype(p.np_type).astype(np.float64)
        spread = np.abs(np.asarray(scale, np.float64)) if scale is not None else 1.0
        if np.any(np.abs(rest) > 2.0**-24 * spread):
            x = p.graph.op("Sub", [x, p.const(rest, "center_rest")], "centred")
    if scale is not None:
        x = p.graph.op("Div", [x, p.const(scale, "scale")], "scaled")
    return str(x)


def _standard(p: Prep, est: StandardScaler, x: str) -> str:
    return _centred(p, x, est.mean_ if est.with_mean else None,
                    est.scale_ if est.with_std else None)  # fmt: skip


def _robust(p: Prep, est: RobustScaler, x: str) -> str:
    return _centred(p, x, est.center_, est.scale_)


def _quantile(p: Prep, est: QuantileTransformer, x: str) -> str:
    offset = p.offsets.get(x)
    return emit_quantile(p.graph, est, x, p.dtype, offset)


def _imputer(p: Prep, est: SimpleImputer, x: str) -> str:
    fill = p.const(p.shifted(x, est.statistics_), "fill")
    out = str(p.graph.op("Where", [p.graph.op("IsNaN", [x], "isnan"), fill, x], "imputed"))
    if x in p.offsets:  # the fill is stored minus the offset too: the output keeps it
        p.offsets[out] = p.offsets[x]
    return out


def _indicator(p: Prep, est: MissingIndicator, x: str) -> str:
    missing = p.graph.op("IsNaN", [x], "isnan")
    if len(est.features_) != est.n_features_in_:
        index = p.graph.const(np.asarray(est.features_, np.int64), "features")
        missing = p.graph.op("Gather", [missing, index], "missing", axis=1)
    return str(p.graph.op("Cast", [missing], "indicator", to=p.elem))


def _point_mass(p: Prep, est: PointMassIndicators, x: str) -> str:
    """``x`` and, after it, ``x[:, column] == value`` as 0/1 for each point mass."""
    index = p.graph.const(np.asarray(est.columns, np.int64), "point_mass_columns")
    picked = p.graph.op("Gather", [x, index], "point_mass_cells", axis=1)
    values = np.asarray(est.values, np.float64)
    if x in p.offsets:  # compared with the stored numbers: values less their columns' offsets
        values = values - p.offsets[x][np.asarray(est.columns, np.intp)]
    masses = p.const(values, "point_mass_values")
    flags = p.graph.op("Cast", [p.graph.op("Equal", [picked, masses], "is_mass")], "flags",
                       to=p.elem)  # fmt: skip
    out = str(p.graph.op("Concat", [x, flags], "with_masses", axis=1))
    if x in p.offsets:  # the flags carry no offset
        p.offsets[out] = np.concatenate([p.offsets[x], np.zeros(len(est.columns))])
    return out


def _dates(p: Prep, est: DateFeatures, x: str) -> str:
    # A DateFeatures outside a table's date part: seconds since 1970 in the input's type.
    return emit_dates(p, est, x, np.zeros(len(est.times), np.int64))


_CONVERTERS: dict[type, Callable[[Prep, Any, str], str]] = {
    Pipeline: _pipeline,
    StandardScaler: _standard,
    RobustScaler: _robust,
    QuantileTransformer: _quantile,
    SimpleImputer: _imputer,
    MissingIndicator: _indicator,
    PointMassIndicators: _point_mass,
    DateFeatures: _dates,
}
