"""ONNX emission of a fitted GraphNetClassifier / GraphNetRegressor and its output head.

The layer graph is walked in the network's own execution order (:func:`parse_architecture`):
each node reads its predecessors' outputs in the shape its kind reads them (a dense layer
flattens an image, channels last), concatenated on the last axis in ascending predecessor id
order when it has several, and its kind's registered emitter (:mod:`.onnx_layers`) writes it.
A classifier ends in ``probabilities`` (the softmax, float32, columns in ``classes_`` order) and
``label`` (the most probable class); a regressor in ``variable`` (float32, one column per
target), the output names skl2onnx gives scikit-learn's models. A regressor fitted on a
standardised target (``y_mean_``, ``y_scale_``) maps its network's output back to the target's
units there (``Mul``, ``Add``), as its ``predict`` does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import TensorProto

from evosearch.deploy.onnx_layers import OnnxLayer, get_onnx_layer
from evosearch.nn import parse_architecture

__all__ = ["check_exportable", "emit_head", "emit_network"]


def _steps(net: Any) -> list[Any]:
    return parse_architecture(net.architecture, int(net.n_features_in_), int(net.n_outputs_))


def check_exportable(net: Any) -> None:
    """Refuse (one line naming it) a network with a layer kind that has no ONNX emitter."""
    for step in _steps(net):
        get_onnx_layer(step.kind.name)


def _viewed(graph: Any, tensor: str, shape: tuple[int, ...], view: tuple[int, ...]) -> str:
    """``tensor`` (one sample of ``shape``) read in the shape ``view``."""
    if not view or view == shape:
        return tensor
    target = graph.const(np.array([-1, *view], dtype=np.int64), "shape")
    return graph.op("Reshape", [tensor, target], "view")


def emit_network(graph: Any, net: Any, x: str) -> str:
    """Emit the network on the float32 input ``x`` of shape ``(n, n_features_in_)``; return
    the output layer's tensor (logits or regression outputs)."""
    steps = _steps(net)
    precision = str(getattr(net, "precision", "float32"))
    tensors: dict[int, tuple[str, tuple[int, ...]]] = {0: (x, (int(net.n_features_in_),))}
    out = x
    for step in steps:
        parts = [
            _viewed(graph, *tensors[pred], view)
            for pred, view in zip(step.pred_ids, step.views, strict=True)
        ]
        merged = parts[0] if len(parts) == 1 else graph.op("Concat", parts, "concat", axis=-1)
        layer = OnnxLayer(
            graph=graph,
            attrs=step.attrs,
            x=merged,
            in_shape=step.in_shape,
            weights=net.coefs_[step.node_id],
            biases=net.intercepts_[step.node_id],
            precision=precision,
            hint=f"n{step.node_id}",
        )
        out = get_onnx_layer(step.kind.name)(layer)
        tensors[step.node_id] = (out, step.out_shape)
    return out


def label_type(classes: np.ndarray) -> tuple[int, np.ndarray]:
    """The ONNX element type of the ``label`` output and the classes as that type's array."""
    if classes.dtype.kind in "iub":
        return TensorProto.INT64, classes.astype(np.int64)
    if classes.dtype.kind == "f":
        return TensorProto.DOUBLE, classes.astype(np.float64)
    return TensorProto.STRING, np.array([str(c) for c in classes], dtype=object)


def emit_head(graph: Any, net: Any, logits: str) -> None:
    """The graph's outputs: ``label`` and ``probabilities`` (classifier) or ``variable``."""
    if hasattr(net, "classes_"):
        graph.op("Softmax", [logits], output="probabilities", axis=-1)
        best = graph.op("ArgMax", [logits], "best", axis=1, keepdims=0)
        elem_type, classes = label_type(np.asarray(net.classes_))
        graph.op("Gather", [graph.const(classes, "classes"), best], output="label", axis=0)
        graph.add_output("label", elem_type, ["N"])
        graph.add_output("probabilities", TensorProto.FLOAT, ["N", len(classes)])
        return
    mean, scale = getattr(net, "y_mean_", None), getattr(net, "y_scale_", None)
    if mean is None or scale is None:  # a raw target (or a model from before target scaling)
        graph.op("Identity", [logits], output="variable")
    else:
        scaled = graph.op("Mul", [logits, graph.const(scale.astype(np.float32), "y_scale")])
        graph.op("Add", [scaled, graph.const(mean.astype(np.float32), "y_mean")], output="variable")
    graph.add_output("variable", TensorProto.FLOAT, ["N", int(net.n_outputs_)])
