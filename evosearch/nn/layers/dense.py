"""The ``dense`` layer kind: ``activation(x @ W + b)`` with inverted dropout, and the
activation functions (the one definition of :data:`ACTIVATIONS`)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from scipy.special import expit

from evosearch.nn.layers.base import Array, LayerAttribute, LayerKind, Shape

__all__ = ["ACTIVATIONS", "LINEAR", "Dense"]

ACTIVATIONS: tuple[str, ...] = ("relu", "tanh", "sigmoid", "elu", "leaky_relu")
"""Activations a hidden dense layer may use."""

LINEAR = "linear"
"""The output layer's activation (logits / regression outputs); not a choice for hidden layers."""

_LEAKY_SLOPE = 0.01

# Fill colours of node boxes in drawings, per activation.
_COLOURS = {
    "relu": "#cfe0f3",
    "leaky_relu": "#d6ecf0",
    "elu": "#e3e9f7",
    "tanh": "#fbe3c8",
    "sigmoid": "#f6d5d5",
}


def _activate(name: str, a: Array, scratch: Array) -> None:
    """Apply an activation in place."""
    if name == "relu":
        np.maximum(a, 0.0, out=a)
    elif name == "tanh":
        np.tanh(a, out=a)
    elif name == "sigmoid":
        expit(a, out=a)
    elif name == "elu":
        np.minimum(a, 0.0, out=scratch)
        np.expm1(scratch, out=scratch)
        np.maximum(a, 0.0, out=a)
        a += scratch
    elif name == "leaky_relu":
        np.multiply(a, _LEAKY_SLOPE, out=scratch)
        np.maximum(a, scratch, out=a)
    # LINEAR: logits / linear outputs stay as they are.


def _apply_dropout(
    buffers: Any, values: Array, dropout: float, rng: np.random.Generator | None
) -> None:
    """Training only: write ``values`` with inverted dropout into ``buffers.dropped``, keeping
    the scaled mask in ``buffers.dropmask`` for the backward pass (dense and conv layers)."""
    if rng is None or dropout <= 0.0:
        return
    mask, keep, dropped = buffers.dropmask, buffers.dropkeep, buffers.dropped
    assert mask is not None and keep is not None and dropped is not None
    rng.random(dtype=mask.dtype.type, out=mask)
    np.greater_equal(mask, dropout, out=keep)
    # Inverted dropout: scale kept units so the expected activation is unchanged.
    # The scale in the mask's own dtype: the same value, 3x faster than a float64 product.
    np.multiply(keep, mask.dtype.type(1.0 / (1.0 - dropout)), out=mask)
    np.multiply(values, mask, out=dropped)


def _activation_grad(name: str, a: Array, g: Array, scratch: Array, flags: Array) -> None:
    """Multiply ``g`` in place by the activation's derivative, expressed via its output ``a``."""
    if name == "relu":
        np.greater(a, 0.0, out=flags)
        np.multiply(g, flags, out=g)
    elif name == "tanh":
        np.multiply(a, a, out=scratch)
        np.subtract(1.0, scratch, out=scratch)
        g *= scratch
    elif name == "sigmoid":
        np.subtract(1.0, a, out=scratch)
        scratch *= a
        g *= scratch
    elif name == "elu":
        # For z <= 0, a = exp(z) - 1 so the derivative exp(z) is a + 1; for z > 0 it is 1.
        np.minimum(a, 0.0, out=scratch)
        scratch += 1.0
        g *= scratch
    elif name == "leaky_relu":
        np.greater(a, 0.0, out=flags)
        np.multiply(flags, 1.0 - _LEAKY_SLOPE, out=scratch)
        scratch += _LEAKY_SLOPE
        g *= scratch


class _Buffers:
    """One batch's arrays: the activation before dropout, a scratch array, and when training
    the dropout mask and output and the flags of the activation's derivative."""

    def __init__(self, units: int, dropout: float, m: int, train: bool, dtype: type) -> None:
        self.pre: Array = np.empty((m, units), dtype)
        self.scratch: Array = np.empty((m, units), dtype)
        self.dropmask: Array | None = None
        self.dropkeep: Array | None = None
        self.dropped: Array | None = None
        self.out = self.pre  # what the layer passes on
        if train and dropout > 0.0:
            self.dropmask = np.empty((m, units), dtype)
            self.dropkeep = np.empty((m, units), np.bool_)
            self.dropped = np.empty((m, units), dtype)
            self.out = self.dropped
        self.flags = np.empty((m, units), np.bool_) if train else None
        self.ones: Array | None = np.ones(m, dtype) if train else None


class Dense(LayerKind):
    """A fully connected layer: ``units`` outputs, an ``activation``, inverted ``dropout``.

    A dense layer with input width ``d_in`` owns a ``(d_in, units)`` weight matrix (its rows
    read the predecessors' outputs in ascending predecessor id order) and ``units`` biases,
    initialised Glorot-uniform as scikit-learn's MLP does (factor 2 for sigmoid, else 6).
    """

    name = "dense"
    attributes = (
        LayerAttribute("units", "integer", [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], 1, 100_000),
        LayerAttribute(
            "activation", "string", list(ACTIVATIONS), choices=ACTIVATIONS, default="relu"
        ),
        LayerAttribute("dropout", "number", [0.0, 0.1, 0.2, 0.3, 0.5], 0.0, 0.95, default=0.0),
    )

    def input_view(self, shape: Shape) -> Shape:
        # An image (the output of a convolution, say) is read flattened, channels last.
        return shape if len(shape) == 1 else (math.prod(shape),)

    def output_shape(self, attrs: Mapping[str, Any], in_shape: Shape) -> Shape:
        if len(in_shape) != 1:
            raise ValueError(f"a dense layer needs flat inputs, got shape {in_shape}")
        return (int(attrs["units"]),)

    def parameter_shapes(self, attrs: Mapping[str, Any], in_shape: Shape) -> tuple[Shape, Shape]:
        units = int(attrs["units"])
        return (math.prod(in_shape), units), (units,)

    def macs(self, attrs: Mapping[str, Any], in_shape: Shape) -> int:
        return math.prod(in_shape) * int(attrs["units"])

    def initialize(
        self,
        attrs: Mapping[str, Any],
        in_shape: Shape,
        weights: Array,
        biases: Array,
        rng: np.random.Generator,
    ) -> None:
        fan_in, units = weights.shape
        factor = 2.0 if attrs["activation"] == "sigmoid" else 6.0
        bound = math.sqrt(factor / (fan_in + units))
        weights[...] = rng.uniform(-bound, bound, (fan_in, units))
        biases[...] = rng.uniform(-bound, bound, units)

    def workspace(
        self, attrs: Mapping[str, Any], in_shape: Shape, m: int, train: bool, dtype: type
    ) -> _Buffers:
        return _Buffers(int(attrs["units"]), float(attrs["dropout"]), m, train, dtype)

    def forward(
        self,
        attrs: Mapping[str, Any],
        weights: Array,
        biases: Array,
        x: Array,
        buffers: _Buffers,
        rng: np.random.Generator | None,
    ) -> Array:
        out = buffers.pre
        np.dot(x, weights, out=out)
        out += biases
        _activate(attrs["activation"], out, buffers.scratch)
        _apply_dropout(buffers, out, attrs["dropout"], rng)
        return buffers.out

    def backward(
        self,
        attrs: Mapping[str, Any],
        weights: Array,
        x: Array,
        g: Array,
        buffers: _Buffers,
        grad_w: Array,
        grad_b: Array,
    ) -> None:
        if buffers.dropmask is not None:
            g *= buffers.dropmask
        assert buffers.flags is not None and buffers.ones is not None
        _activation_grad(attrs["activation"], buffers.pre, g, buffers.scratch, buffers.flags)
        np.dot(x.T, g, out=grad_w)
        np.dot(buffers.ones, g, out=grad_b)

    def input_grad(
        self, attrs: Mapping[str, Any], weights: Array, g: Array, cols: tuple[int, int], out: Array
    ) -> None:
        r0, r1 = cols
        block = weights if r1 - r0 == weights.shape[0] else weights[r0:r1]
        np.dot(g, block.T, out=out)

    def weight_blocks(
        self,
        node_id: int,
        pred_ids: Sequence[int],
        cols: Sequence[tuple[int, int]],
        weights: Array,
        biases: Array,
    ) -> Iterator[tuple[str, Array]]:
        # One block per edge: a child that kept an edge (and both widths) reuses its weights.
        for pred, (r0, r1) in zip(pred_ids, cols, strict=True):
            yield f"w:{pred}:{node_id}", weights[r0:r1]
        yield f"b:{node_id}", biases

    def numpy_source(self) -> tuple[str, ...]:
        from evosearch.nn.layers.numpy_code import activate, dense_layer, function_sources

        return function_sources(activate, dense_layer)

    def label(self, attrs: Mapping[str, Any]) -> str:
        text = f"{attrs['units']} {attrs['activation']}"
        if attrs["dropout"]:
            text += f" d{attrs['dropout']:g}"
        return text

    def line_label(self, attrs: Mapping[str, Any]) -> str:
        text = f"{attrs['units']} {attrs['activation']}"
        if attrs["dropout"]:
            text += f", dropout {attrs['dropout']:g}"
        return text

    def box_label(self, attrs: Mapping[str, Any]) -> str:
        dropout = float(attrs.get("dropout", 0.0))
        return f"{attrs['units']} units\n{attrs.get('activation')}\ndropout {dropout:g}"

    def colour(self, attrs: Mapping[str, Any]) -> str | None:
        return _COLOURS.get(str(attrs.get("activation")))
