"""A toy layer kind for the plug-in tests: ``wave``, an elementwise ``sin(omega * (x * w + b))``.

Registering it (importing this module) is all it takes for search spaces to accept a
``[layers.wave]`` section and for genomes, networks, runs, reports and exports to handle it.
Its output has the shape of its (merged) input, so unlike ``dense`` its width comes from the
graph, not from an attribute.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evosearch.nn.layers import LayerAttribute, LayerKind, Shape, register_layer_kind

Array = NDArray[Any]
Attrs = Mapping[str, Any]


class _Buffers:
    def __init__(self, shape: Shape, m: int, dtype: type) -> None:
        self.z: Array = np.empty((m, *shape), dtype)  # omega * (x * w + b)
        self.out: Array = np.empty((m, *shape), dtype)


class Wave(LayerKind):
    """``y = sin(omega * (x * w + b))`` per feature; ``w`` starts near 1, ``b`` near 0."""

    name = "wave"
    attributes = (LayerAttribute("omega", "number", (0.5, 1.0, 2.0), 0.01, 10.0, default=1.0),)

    def output_shape(self, attrs: Mapping[str, Any], in_shape: Shape) -> Shape:
        return in_shape

    def parameter_shapes(self, attrs: Mapping[str, Any], in_shape: Shape) -> tuple[Shape, Shape]:
        return in_shape, in_shape

    def macs(self, attrs: Mapping[str, Any], in_shape: Shape) -> int:
        return 2 * math.prod(in_shape)

    def initialize(
        self, attrs: Attrs, in_shape: Shape, weights: Array, biases: Array, rng: np.random.Generator
    ) -> None:
        weights[...] = 1.0 + rng.uniform(-0.1, 0.1, in_shape)
        biases[...] = rng.uniform(-0.1, 0.1, in_shape)

    def workspace(
        self, attrs: Attrs, in_shape: Shape, m: int, train: bool, dtype: type
    ) -> _Buffers:
        return _Buffers(in_shape, m, dtype)

    def forward(
        self, attrs: Attrs, weights: Array, biases: Array, x: Array, buffers: _Buffers, rng: Any
    ) -> Array:
        np.multiply(x, weights, out=buffers.z)
        buffers.z += biases
        buffers.z *= attrs["omega"]
        np.sin(buffers.z, out=buffers.out)
        return buffers.out

    def backward(
        self,
        attrs: Attrs,
        weights: Array,
        x: Array,
        g: Array,
        buffers: _Buffers,
        grad_w: Array,
        grad_b: Array,
    ) -> None:
        # dy/d(x * w + b) = omega * cos(z); g becomes the gradient at x * w + b.
        g *= np.cos(buffers.z) * attrs["omega"]
        np.sum(g * x, axis=0, out=grad_w)
        np.sum(g, axis=0, out=grad_b)

    def input_grad(
        self, attrs: Attrs, weights: Array, g: Array, cols: tuple[int, int], out: Array
    ) -> None:
        np.multiply(g[..., cols[0] : cols[1]], weights[cols[0] : cols[1]], out=out)

    def label(self, attrs: Mapping[str, Any]) -> str:
        return f"wave w{attrs['omega']:g}"

    def box_label(self, attrs: Mapping[str, Any]) -> str:
        return f"wave\nomega {attrs['omega']:g}"

    def colour(self, attrs: Mapping[str, Any]) -> str | None:
        return "#fff3b0"


register_layer_kind(Wave)
