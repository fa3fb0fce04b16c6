"""ONNX emission of the network's layer kinds: a registry keyed by layer-kind name.

Each layer kind that the ``onnx`` export format can write has an emitter here, registered with
:func:`register_onnx_layer` under the kind's name; a plug-in kind registers its own the same way
(the network refuses, with one line naming the kind, a graph holding a kind without one).

An emitter gets an :class:`OnnxLayer` (the builder, the kind's attributes, its merged input
tensor and shape, its fitted weights and biases and the network's weight precision) and returns
the name of its output tensor. Tensors are laid out as the numpy network holds them: a batch of
vectors ``(n, features)`` or of channels-last images ``(n, height, width, channels)``; the
emitters of image kinds transpose to ONNX's channels-first convolution and back.

Examples
--------
>>> "dense" in onnx_layer_kinds() and "conv2d" in onnx_layer_kinds()
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from evosearch.errors import SettingsError
from evosearch.registry import Registry

__all__ = [
    "ONNX_LAYERS",
    "OnnxLayer",
    "activation",
    "get_onnx_layer",
    "onnx_layer_kinds",
    "register_onnx_layer",
]

_NHWC_TO_NCHW = [0, 3, 1, 2]
_NCHW_TO_NHWC = [0, 2, 3, 1]


@dataclass(frozen=True)
class OnnxLayer:
    """One layer to emit.

    Attributes
    ----------
    graph : evosearch.deploy._onnx_graph.OnnxGraph
        The builder (``op``, ``const``, ``weight``).
    attrs : mapping
        The layer's attributes (as its kind declares them).
    x : str
        The merged input tensor (float32).
    in_shape : tuple of int
        One sample's merged input shape.
    weights, biases : ndarray
        The fitted float32 parameters, shaped as the kind's ``parameter_shapes``.
    precision : str
        ``float32``, ``float16``, ``int8`` or ``int4``: how the network's weights were stored.
    hint : str
        A prefix for the layer's tensor names (e.g. ``n3`` for node 3).
    """

    graph: Any
    attrs: Mapping[str, Any]
    x: str
    in_shape: tuple[int, ...]
    weights: Any
    biases: Any
    precision: str
    hint: str


Emitter = Callable[[OnnxLayer], str]


def _check_emitter(kind_name: str, emitter: Any) -> None:
    if not callable(emitter):
        raise TypeError(f"the ONNX emitter of {kind_name!r} must be callable, got {emitter!r}")


#: The ONNX emitters by layer-kind name (the built-in kinds first).
ONNX_LAYERS: Registry[Emitter] = Registry(
    "ONNX layer emitter", error=SettingsError, validate=_check_emitter
)


def register_onnx_layer(kind_name: str, emitter: Emitter) -> Emitter:
    """Register ``emitter`` as the ONNX form of the layer kind ``kind_name`` (again: replaces).

    Returns the emitter.
    """
    return ONNX_LAYERS.register(emitter, name=kind_name)


def onnx_layer_kinds() -> list[str]:
    """Names of the layer kinds that have an ONNX emitter, in registration order."""
    return ONNX_LAYERS.names()


def get_onnx_layer(kind_name: str) -> Emitter:
    """The emitter of ``kind_name`` (plug-ins loaded if it has none yet).

    Raises
    ------
    SettingsError
        One line naming the kind, if it has none: a layer kind without an ONNX form is no
        misspelling, so the line says how to give it one rather than what else there is.
    """
    emitter = ONNX_LAYERS.find(kind_name)
    if emitter is None:
        raise SettingsError(
            f"layer kind {kind_name!r} has no ONNX export (it can register one with "
            "evosearch.deploy.register_onnx_layer); export this model as joblib"
        )
    return emitter


def activation(graph: Any, name: str, x: str, hint: str) -> str:
    """The tensor ``x`` through the activation called ``name`` (``linear``: unchanged)."""
    if name == "relu":
        return graph.op("Relu", [x], hint)
    if name == "tanh":
        return graph.op("Tanh", [x], hint)
    if name == "sigmoid":
        return graph.op("Sigmoid", [x], hint)
    if name == "elu":
        return graph.op("Elu", [x], hint, alpha=1.0)
    if name == "leaky_relu":
        return graph.op("LeakyRelu", [x], hint, alpha=0.01)
    if name == "linear":
        return x
    raise SettingsError(f"activation {name!r} has no ONNX export")


def _dense(layer: OnnxLayer) -> str:
    g, hint = layer.graph, layer.hint
    w = g.weight(layer.weights, layer.precision, f"{hint}_W", axis=1)
    b = g.weight(layer.biases, _bias_precision(layer.precision), f"{hint}_b")
    pre = g.op("Add", [g.op("MatMul", [layer.x, w], f"{hint}_xw"), b], f"{hint}_pre")
    return activation(g, str(layer.attrs["activation"]), pre, f"{hint}_out")


def _conv2d(layer: OnnxLayer) -> str:
    g, hint, attrs = layer.graph, layer.hint, layer.attrs
    k, s = int(attrs["kernel"]), int(attrs["stride"])
    p = k // 2
    # Our kernels are (k, k, c_in, filters); ONNX's are (filters, c_in, k, k).
    kernels = np.ascontiguousarray(np.transpose(layer.weights, (3, 2, 0, 1)))
    w = g.weight(kernels, layer.precision, f"{hint}_W", axis=0)
    b = g.weight(layer.biases, _bias_precision(layer.precision), f"{hint}_b")
    nchw = g.op("Transpose", [layer.x], f"{hint}_nchw", perm=_NHWC_TO_NCHW)
    conv = g.op(
        "Conv",
        [nchw, w, b],
        f"{hint}_conv",
        kernel_shape=[k, k],
        strides=[s, s],
        pads=[p, p, p, p],
    )
    act = activation(g, str(attrs["activation"]), conv, f"{hint}_act")
    return g.op("Transpose", [act], f"{hint}_out", perm=_NCHW_TO_NHWC)


def _pool(layer: OnnxLayer) -> str:
    g, hint = layer.graph, layer.hint
    op_type = "MaxPool" if layer.attrs["mode"] == "max" else "AveragePool"
    nchw = g.op("Transpose", [layer.x], f"{hint}_nchw", perm=_NHWC_TO_NCHW)
    pooled = g.op(op_type, [nchw], f"{hint}_pool", kernel_shape=[2, 2], strides=[2, 2])
    return g.op("Transpose", [pooled], f"{hint}_out", perm=_NCHW_TO_NHWC)


def _global_pool(layer: OnnxLayer) -> str:
    return layer.graph.op("ReduceMean", [layer.x], f"{layer.hint}_out", axes=[1, 2], keepdims=0)


def _bias_precision(precision: str) -> str:
    # The payload keeps biases in float16 for float16 networks, else in float32.
    return "float16" if precision == "float16" else "float32"


register_onnx_layer("dense", _dense)
register_onnx_layer("conv2d", _conv2d)
register_onnx_layer("pool", _pool)
register_onnx_layer("global_pool", _global_pool)
