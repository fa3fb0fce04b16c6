"""How the built-in formats hold a whole ensemble in one model (see :mod:`.ensemble`).

``onnx``: the members' graphs, each as the format writes it alone, composed into one graph
(``onnx.compose.add_prefix_graph``: member ``i``'s names prefixed ``m<i>_``, the inputs shared)
whose outputs are the weighted average of the members' ``probabilities`` (and its ``label``) or
``variable``; composing the exporter's own graphs keeps the ensemble right whatever the
single-model graph becomes. ``python``: each member's ``model.py`` and ``weights.npz`` in
``members/<i>/`` and one ``model.py`` that loads them and averages (numpy only, the same
functions and command line as a single model's).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["compose_onnx", "ensemble_source"]

_META_KEY = "evosearch"


def compose_onnx(models: list[Any], weights: list[float], classes: Any) -> Any:
    """One ONNX model averaging ``models`` (the single-model graphs) with ``weights``;
    ``classes``: the class labels (None: regressors)."""
    import onnx
    from onnx import TensorProto, compose, helper, numpy_helper

    total = float(sum(weights))
    nodes: list[Any] = []
    initializers: list[Any] = []
    sparse: list[Any] = []
    value_info: list[Any] = []
    inputs: dict[str, Any] = {}
    # The predictor's metadata: member 0's, with what maps per input (dates, renamed columns)
    # merged over the members, since a member may take an input the others do not.
    meta: dict[str, Any] = {}
    parts = []
    output = "probabilities" if classes is not None else "variable"
    for index, model in enumerate(models):
        prefix = f"m{index}_"
        graph = compose.add_prefix_graph(model.graph, prefix, rename_inputs=False)
        for spec in graph.input:
            inputs.setdefault(spec.name, spec)
        own = json.loads({p.key: p.value for p in model.metadata_props}[_META_KEY])
        for key, value in own.items():
            if isinstance(value, dict):
                meta[key] = {**value, **meta.get(key, {})}
            elif isinstance(value, list) and key != "classes":
                known = meta.setdefault(key, [])
                known += [item for item in value if item not in known]
            else:
                meta.setdefault(key, value)
        nodes += graph.node
        initializers += graph.initializer
        sparse += graph.sparse_initializer
        value_info += graph.value_info
        weight = f"ens_weight_{index}"
        value = np.asarray(weights[index] / total, dtype=np.float32)
        initializers.append(numpy_helper.from_array(value, weight))
        parts.append(f"ens_part_{index}")
        nodes.append(helper.make_node("Mul", [prefix + output, weight], [parts[-1]]))
    nodes.append(helper.make_node("Sum", parts, [output]))
    first = {o.name: o for o in models[0].graph.output}
    outputs = [first[output]]
    if classes is not None:
        nodes.append(helper.make_node("ArgMax", [output], ["ens_best"], axis=1, keepdims=0))
        # The labels as member 0 holds them (same classes, same label type), where its graph
        # gathers them from a table; else a table of our own.
        table = next(
            (n.input[0] for n in nodes if n.op_type == "Gather" and list(n.output) == ["m0_label"]),
            None,
        )
        if table is None:
            table = "ens_classes"
            labels = np.asarray(classes)
            if labels.dtype.kind in "iub":
                initializers.append(numpy_helper.from_array(labels.astype(np.int64), table))
            else:
                texts: list[Any] = [str(c).encode() for c in labels]
                initializers.append(
                    helper.make_tensor(table, TensorProto.STRING, [len(labels)], texts)
                )
        nodes.append(helper.make_node("Gather", [table, "ens_best"], ["label"], axis=0))
        outputs = [first["label"], first[output]]
    graph = helper.make_graph(
        nodes,
        "evosearch_ensemble",
        list(inputs.values()),
        outputs,
        initializer=initializers,
        sparse_initializer=sparse,
        value_info=value_info,
    )
    composed = helper.make_model(
        graph, opset_imports=list(models[0].opset_import), producer_name="evosearch"
    )
    composed.ir_version = models[0].ir_version
    meta["ensemble"] = {"members": len(models), "weights": [w / total for w in weights]}
    helper.set_model_props(composed, {_META_KEY: json.dumps(meta)})
    onnx.checker.check_model(composed)
    return composed


def write_onnx_ensemble(fmt: Any, model: Any, folder: Path, info: dict[str, Any]) -> list[str]:
    """``fmt`` (the onnx format) writes each member alone; the graphs are composed into
    ``model.onnx``, ``info["onnx"]`` describing it."""
    import onnx

    graphs = []
    described: dict[str, Any] = {}
    inputs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for index, member in enumerate(model.estimators):
            sub = Path(scratch) / str(index)
            sub.mkdir()
            member_info = dict(info)
            (name,) = fmt.write(member, sub, member_info)
            graphs.append(onnx.load(sub / name))
            described = {**member_info.get("onnx", {}), **described}
            for spec in member_info.get("onnx", {}).get("inputs", []):
                inputs.setdefault(spec["name"], spec)
    classes = getattr(model, "classes_", None)
    composed = compose_onnx(graphs, [float(w) for w in model.weights], classes)
    onnx.save(composed, folder / "model.onnx")
    info["onnx"] = {
        **described,
        "inputs": list(inputs.values()),
        "outputs": [o.name for o in composed.graph.output],
        "bytes": (folder / "model.onnx").stat().st_size,
    }
    return ["model.onnx"]


def ensemble_source(weights: list[float]) -> str:
    """The top-level ``model.py`` of a python-format ensemble of ``len(weights)`` members."""
    total = float(sum(weights))
    shares = [w / total for w in weights]
    return f'''"""An evosearch ensemble: the weighted average of the models in members/<i>/ (each a
model.py and weights.npz of its own). Needs numpy only.

    python model.py data.csv [--proba] [--keep COLS]
"""

import importlib.util
import os
import sys

import numpy as np

#: Each member's weight in the average (they sum to one).
WEIGHTS = {shares!r}
_HERE = os.path.dirname(os.path.abspath(__file__))


def _load(index):
    path = os.path.join(_HERE, "members", str(index), "model.py")
    spec = importlib.util.spec_from_file_location(f"{{__name__}}_member_{{index}}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MEMBERS = [_load(index) for index in range(len(WEIGHTS))]
FEATURES = MEMBERS[0].FEATURES
# The members' own functions, kept before the command line lends member 0 the ensemble's.
_PREDICT = [member.predict for member in MEMBERS]
_PROBA = [getattr(member, "predict_proba", None) for member in MEMBERS]
if hasattr(MEMBERS[0], "CLASSES"):
    CLASSES = MEMBERS[0].CLASSES

    def predict_proba(X):
        """The weighted average of the members' class probabilities (CLASSES order)."""
        return sum(w * np.asarray(f(X), dtype=np.float64) for w, f in zip(WEIGHTS, _PROBA))

    def predict(X):
        """The class of the largest average probability."""
        return np.asarray(CLASSES)[np.argmax(predict_proba(X), axis=1)]

else:

    def predict(X):
        """The weighted average of the members' predictions."""
        return sum(w * np.asarray(f(X), dtype=np.float64) for w, f in zip(WEIGHTS, _PREDICT))


if __name__ == "__main__":
    first = MEMBERS[0]
    first.predict = predict
    if hasattr(first, "CLASSES"):
        first.predict_proba = predict_proba
    sys.exit(first.main(sys.argv[1:]))
'''
