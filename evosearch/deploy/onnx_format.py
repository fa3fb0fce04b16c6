"""The ``onnx`` export format: the whole fitted pipeline as one ONNX graph (``model.onnx``).

Preprocessing (scalers, imputation, missing indicators, level grouping, one-hot and ordinal
encoding; :mod:`._onnx_preprocess`) runs in the input dtype, float32 by default (``float64``
on request: ``input_dtype``, ``evosearch export --input-dtype float64``, then as
scikit-learn does, to the last bit), then the network (:mod:`._onnx_network`, one emitter per
layer kind: :mod:`.onnx_layers`) in float32. Inputs: ``X`` (``(n, n_features)``) for a model
trained on a plain matrix; for a table one input per raw column, named as the column, ``(n, 1)``
numbers (NaN: missing) or string (``""``: missing); a date column's input is seconds since its
``origin`` day at 00:00 (1970-01-01 in a float64 graph; its wall-clock time; NaN: missing),
which :class:`OnnxPredictor` computes from datetimes or date texts. model.json's ``onnx``
records the ``input_dtype`` and each input (``onnx.inputs``). Outputs:
``label`` and ``probabilities`` for a classifier, ``variable`` for a regressor. A compressed
network's weights are stored as the ``bytes`` objective counts them: int8 values (int4 ones as
int8) times per-output-channel scales, float16 (``Cast``), pruned tensors as sparse
initializers where that is smaller. Runs under onnxruntime without evosearch
or scikit-learn; needs ``pip install 'evosearch[onnx]'`` to write or to load here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags, RegressorTags, Tags

from evosearch.deploy.base import (
    ExportFormat,
    Predictor,
    load_failure,
    register_format,
    target_ndim,
)
from evosearch.errors import SettingsError

__all__ = ["INPUT_DTYPES", "OnnxFormat", "OnnxPredictor"]

_FILE = "model.onnx"
_META_KEY = "evosearch"
#: The numeric input dtypes an ONNX export may take, the default first.
INPUT_DTYPES = ("float32", "float64")


def _steps(model: Any) -> list[Any]:
    """The pipeline's steps (preprocessing, network), or a bare network alone."""
    return [step for _, step in model.steps] if hasattr(model, "steps") else [model]


@register_format
class OnnxFormat(ExportFormat):
    """One ONNX graph (preprocessing and network) in ``model.onnx``, run by onnxruntime."""

    name = "onnx"
    extra = "onnx"
    description = "one ONNX graph of preprocessing and network (onnxruntime; any language)"
    packages = ("onnx", "onnxruntime")
    options: ClassVar[dict[str, tuple[str, ...]]] = {"input_dtype": INPUT_DTYPES}

    def __init__(self, input_dtype: str = INPUT_DTYPES[0]) -> None:
        if input_dtype not in INPUT_DTYPES:
            raise SettingsError(
                f"input dtype {input_dtype!r}: choose from {', '.join(INPUT_DTYPES)}"
            )
        self.input_dtype = input_dtype

    def configure(self, options: Mapping[str, Any]) -> OnnxFormat:
        super().configure(options)  # refuses another option or value in one line
        return OnnxFormat(str(options.get("input_dtype") or INPUT_DTYPES[0]))

    def check_available(self) -> None:
        missing = [m for m in ("onnx", "onnxruntime") if find_spec(m) is None]
        if missing:
            raise SettingsError(
                f"the onnx format needs {' and '.join(missing)}: pip install 'evosearch[onnx]'"
            )

    def check_model(self, model: Any) -> None:
        from evosearch.deploy._onnx_network import check_exportable

        steps = _steps(model)
        if len(steps) > 2:
            raise SettingsError("the onnx format exports a pipeline of preprocessing and network")
        check_exportable(steps[-1])

    def write(self, model: Any, folder: Path, info: dict[str, Any]) -> list[str]:
        import onnx
        from onnx import TensorProto

        from evosearch.deploy._onnx_graph import OPSET, OnnxGraph
        from evosearch.deploy._onnx_network import emit_head, emit_network
        from evosearch.deploy._onnx_preprocess import emit_preprocessing

        self.check_model(model)
        steps = _steps(model)
        net = steps[-1]
        graph = OnnxGraph()
        prep = steps[0] if len(steps) == 2 else "passthrough"
        # A date input's origin, where given: graphs that share their inputs (an ensemble's
        # members) must count a date's seconds from the same day.
        origins = info.get("date_origins")
        coarse: dict[str, float] = {}
        features, inputs = emit_preprocessing(graph, prep, self.input_dtype, origins, coarse)
        x = features
        if self.input_dtype != "float32":
            x = graph.op("Cast", [features], "net_input", to=TensorProto.FLOAT)
        emit_head(graph, net, emit_network(graph, net, x))
        # What the predictor needs beyond the graph's own inputs (their names and types):
        # the date inputs' format and origin, and the columns that inputs are named otherwise.
        meta: dict[str, Any] = {"task": info.get("task")}
        dates = {i["name"]: [i.get("format", ""), i["origin"]] for i in inputs if "origin" in i}
        renamed = {i["name"]: i["column"] for i in inputs if "column" in i}
        meta |= ({"dates": dates} if dates else {}) | ({"columns": renamed} if renamed else {})
        if inputs[0]["kind"] == "matrix":
            meta["matrix"] = True
        if hasattr(net, "classes_"):
            meta["classes"] = [c.item() if hasattr(c, "item") else c for c in net.classes_]
        else:
            meta["y_ndim"] = target_ndim(net)
        doc = f"evosearch model: {info.get('architecture', '')}"
        onnx_model = graph.model(doc, {_META_KEY: json.dumps(meta)})
        onnx.save(onnx_model, folder / _FILE)
        # model.json: what the graph takes and which opset it needs.
        info["onnx"] = {
            "opset": OPSET,
            "input_dtype": self.input_dtype,
            "inputs": inputs,
            "outputs": [o.name for o in onnx_model.graph.output],
            "bytes": (folder / _FILE).stat().st_size,
        }
        if coarse:  # columns whose float32 inputs are coarse against their spread
            info["onnx"]["float32_coarse"] = coarse
        return [_FILE]

    def write_ensemble(self, model: Any, folder: Path, info: dict[str, Any]) -> list[str]:
        # One graph: the members' own graphs composed and averaged (deploy/_ensemble_formats).
        from evosearch.deploy._ensemble_formats import write_onnx_ensemble
        from evosearch.deploy._onnx_preprocess import shared_date_origins

        # The members share their inputs: a date's seconds count from one day for all of them
        # (the first member's origin), passed to each member's write and not kept in model.json.
        given = "date_origins" in info
        if self.input_dtype == "float32" and not given:
            info["date_origins"] = shared_date_origins([_steps(m)[0] for m in model.estimators])
        try:
            return write_onnx_ensemble(self, model, folder, info)
        finally:
            if not given:
                info.pop("date_origins", None)

    def load(self, folder: Path, info: dict[str, Any]) -> Predictor:
        return OnnxPredictor(folder / _FILE)


class OnnxPredictor(BaseEstimator):
    """An exported ``model.onnx`` under onnxruntime, with scikit-learn's prediction methods.

    Parameters
    ----------
    path : path-like
        The ``model.onnx`` file.
    threads : int or None, default=None
        onnxruntime's intra-op threads (None: its default, every core).

    Attributes
    ----------
    classes_ : ndarray
        The class labels (classifiers only).
    session : onnxruntime.InferenceSession
    """

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.path = path
        self.threads = threads

        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = int(threads)
            options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime's errors derive from Exception alone
            # A truncated or foreign file: one line, as every refusal of `evosearch predict`.
            raise load_failure(path, exc) from None
        meta = self.session.get_modelmeta().custom_metadata_map
        try:
            self._meta = json.loads(meta[_META_KEY])
            self._inputs: list[dict[str, str]] = _declared_inputs(self.session, self._meta)
        except (KeyError, ValueError, TypeError, AttributeError):
            raise SettingsError(f"{path} is not an evosearch ONNX model") from None
        if "classes" in self._meta:
            self.classes_ = np.asarray(self._meta["classes"])

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def __sklearn_tags__(self) -> Tags:
        # A classifier or a regressor as the exported model was, so scikit-learn's scorers
        # (the run's --scoring in `evosearch predict`) take it like the estimator.
        tags = super().__sklearn_tags__()
        if hasattr(self, "classes_"):
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
        else:
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
        return tags

    def _feeds(self, X: Any) -> dict[str, np.ndarray]:
        import pandas as pd

        if len(self._inputs) == 1 and self._inputs[0]["kind"] == "matrix":
            values = X.to_numpy(dtype=np.float64) if hasattr(X, "to_numpy") else X
            values = np.asarray(values, dtype=np.float64)
            if values.ndim > 2:  # images (n, H, W[, C]), as the model was fitted on them
                values = values.reshape(len(values), -1)
            # The dtype the graph declares (float32 by default; float64 on request).
            return {self._inputs[0]["name"]: values.astype(self._inputs[0]["dtype"])}
        # An input is named as its column, but where the column has an output's name.
        names = [i.get("column", i["name"]) for i in self._inputs]
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(np.asarray(X, dtype=object), columns=names)
        feeds = {}
        for spec, name in zip(self._inputs, names, strict=True):
            column = pd.Series(X[name].to_numpy(), dtype=object)
            missing = column.isna().to_numpy()
            if spec["kind"] == "categorical":
                # As LevelMapper reads a cell: its text; a missing cell is "".
                text = column.map(str).to_numpy(dtype=object)
                text[missing] = ""
                feeds[spec["name"]] = text.reshape(-1, 1)
            elif spec["kind"] == "date":
                # ONNX reads no dates: seconds since 1970, as the table holds them.
                seconds = _date_input(X[name], name, spec.get("format", ""))
                # Seconds since the origin day, computed in float64, then in the input's type.
                origin = np.datetime64(spec.get("origin", "1970-01-01"), "D").astype(np.int64)
                feeds[spec["name"]] = (seconds - float(origin) * 86400.0).astype(spec["dtype"])
            else:
                numbers = np.full(len(column), np.nan)
                numbers[~missing] = column[~missing].astype(np.float64).to_numpy()
                feeds[spec["name"]] = numbers.reshape(-1, 1).astype(spec["dtype"])
        return feeds

    def _run(self, outputs: list[str], X: Any) -> list[Any]:
        result: list[Any] = self.session.run(outputs, self._feeds(X))
        return result

    def predict(self, X: Any) -> np.ndarray:
        """The predicted class labels, or targets (1-D for a model fitted on a 1-D ``y``)."""
        if hasattr(self, "classes_"):
            (label,) = self._run(["label"], X)
            return np.asarray(label).astype(self.classes_.dtype)
        (values,) = self._run(["variable"], X)
        values = np.asarray(values, dtype=np.float64)
        return values.ravel() if self._meta.get("y_ndim") == 1 else values

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order (float64 of the float32 graph)."""
        if not hasattr(self, "classes_"):
            raise AttributeError("predict_proba: this model is a regressor")
        (proba,) = self._run(["probabilities"], X)
        proba = np.asarray(proba, dtype=np.float64)
        # Rows of the float32 softmax sum to one within ~1e-7; renormalised in float64 as the
        # estimator's are, so scikit-learn's log_loss takes them without a warning.
        return proba / proba.sum(axis=1, keepdims=True)


_TYPES = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(string)": "object"}


def _declared_inputs(session: Any, meta: dict[str, Any]) -> list[dict[str, str]]:
    """The graph's inputs as ``{"name", "kind", "dtype"}`` (and a date's ``format`` and
    ``origin``, a renamed column's ``column``), from the graph's declarations and the
    metadata; a model written before the metadata was compacted lists them in ``inputs``."""
    declared = {i.name: _TYPES.get(i.type, "float64") for i in session.get_inputs()}
    if "inputs" in meta:  # an older export: kinds listed, every number float64
        return [dict(i) | {"dtype": declared[i["name"]]} for i in meta["inputs"]]
    dates, renamed = meta.get("dates", {}), meta.get("columns", {})
    inputs = []
    for name, dtype in declared.items():
        spec = {"name": name, "dtype": dtype, "kind": "numeric"}
        if meta.get("matrix"):
            spec["kind"] = "matrix"
        elif dtype == "object":
            spec["kind"] = "categorical"
        elif name in dates:
            spec |= {"kind": "date", "format": dates[name][0], "origin": dates[name][1]}
        if name in renamed:
            spec["column"] = renamed[name]
        inputs.append(spec)
    return inputs


def _date_input(column: Any, name: str, fmt: str) -> np.ndarray:
    """A date column's cells (seconds since 1970, datetimes, or texts in format ``fmt``) as
    float64 seconds since 1970-01-01T00:00, NaN where missing."""
    import pandas as pd

    from evosearch.data.dates import series_seconds
    from evosearch.data.table import MISSING_TEXT
    from evosearch.errors import DataError

    column = pd.Series(list(column), dtype=object) if column.dtype.kind == "O" else column
    blank = [isinstance(v, str) and v.strip().lower() in MISSING_TEXT for v in column]
    seconds, bad = series_seconds(column.mask(blank) if any(blank) else column, fmt)
    if bad.any():
        row = int(np.argmax(bad))
        cell = list(column)[row]
        raise DataError(f"row {row} of date column {name!r} holds {cell!r}, not a date")
    return seconds.reshape(-1, 1)
