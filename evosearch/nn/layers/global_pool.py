"""The ``global_pool`` layer kind: the average of each channel over the whole image, turning an
image ``(height, width, channels)`` into a vector ``(channels,)``. No parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from evosearch.nn.layers.base import Array, LayerAttribute, LayerKind, Shape
from evosearch.nn.layers.conv2d import check_image

__all__ = ["GlobalPool"]


class _Buffers:
    def __init__(self, channels: int, m: int, dtype: type) -> None:
        self.out: Array = np.empty((m, channels), dtype)


class GlobalPool(LayerKind):
    """Global average pooling: one value per channel, the mean over height and width."""

    name = "global_pool"
    image_input = True
    attributes = (
        LayerAttribute("mode", "string", ("average",), choices=("average",), default="average"),
    )

    def output_shape(self, attrs: Mapping[str, Any], in_shape: Shape) -> Shape:
        return (check_image(self.name, in_shape)[2],)

    def parameter_shapes(self, attrs: Mapping[str, Any], in_shape: Shape) -> tuple[Shape, Shape]:
        return (0,), (0,)

    def macs(self, attrs: Mapping[str, Any], in_shape: Shape) -> int:
        h, w, c = check_image(self.name, in_shape)
        return h * w * c

    def initialize(
        self,
        attrs: Mapping[str, Any],
        in_shape: Shape,
        weights: Array,
        biases: Array,
        rng: np.random.Generator,
    ) -> None:
        pass  # nothing to learn

    def workspace(
        self, attrs: Mapping[str, Any], in_shape: Shape, m: int, train: bool, dtype: type
    ) -> _Buffers:
        return _Buffers(check_image(self.name, in_shape)[2], m, dtype)

    def forward(
        self,
        attrs: Mapping[str, Any],
        weights: Array,
        biases: Array,
        x: Array,
        buffers: _Buffers,
        rng: np.random.Generator | None,
    ) -> Array:
        np.mean(x, axis=(1, 2), out=buffers.out)
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
        pass  # no parameters

    def input_grad(
        self, attrs: Mapping[str, Any], weights: Array, g: Array, cols: tuple[int, int], out: Array
    ) -> None:
        _, h, w, _ = out.shape
        # Every position of a channel gets an equal share of the channel's gradient.
        np.multiply(g[:, None, None, cols[0] : cols[1]], 1.0 / (h * w), out=out)

    def numpy_source(self) -> tuple[str, ...]:
        from evosearch.nn.layers.numpy_code import function_sources, global_pool_layer

        return function_sources(global_pool_layer)

    def label(self, attrs: Mapping[str, Any]) -> str:
        return "gap"

    def line_label(self, attrs: Mapping[str, Any]) -> str:
        return "global average pool"

    def box_label(self, attrs: Mapping[str, Any]) -> str:
        return "global\naverage pool"

    def colour(self, attrs: Mapping[str, Any]) -> str | None:
        return "#efe3f5"
