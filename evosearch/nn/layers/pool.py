"""The ``pool`` layer kind: 2x2 max or average pooling with stride 2 over channels-last images.

The output side is ``floor(side / 2)`` (a last odd row or column is dropped, as PyTorch does);
an input smaller than 2x2 is refused. No parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from evosearch.nn.layers.base import Array, LayerAttribute, LayerKind, Shape
from evosearch.nn.layers.conv2d import check_image

__all__ = ["MODES", "Pool"]

MODES: tuple[str, ...] = ("max", "average")
"""How a 2x2 window is reduced."""

_OFFSETS = ((0, 0), (0, 1), (1, 0), (1, 1))


class _Buffers:
    def __init__(self, out_shape: Shape, m: int, train: bool, mode: str, dtype: type) -> None:
        self.out: Array = np.empty((m, *out_shape), dtype)
        # Max pooling, training: which of the four window positions won (the first of ties).
        self.winners: list[Array] = (
            [np.empty((m, *out_shape), dtype) for _ in _OFFSETS] if train and mode == "max" else []
        )
        self.free: Array | None = (
            np.empty((m, *out_shape), np.bool_) if train and mode == "max" else None
        )
        self.hit: Array | None = (
            np.empty((m, *out_shape), np.bool_) if train and mode == "max" else None
        )


def _window(x: Array, i: int, j: int, ho: int, wo: int) -> Array:
    """The (i, j) element of every 2x2 window: a strided view."""
    return x[:, i : i + 2 * ho : 2, j : j + 2 * wo : 2]


class Pool(LayerKind):
    """2x2 pooling, stride 2: ``mode`` ``"max"`` or ``"average"``."""

    name = "pool"
    image_input = True
    attributes = (LayerAttribute("mode", "string", MODES, choices=MODES, default="max"),)

    def output_shape(self, attrs: Mapping[str, Any], in_shape: Shape) -> Shape:
        h, w, c = check_image(self.name, in_shape)
        if h < 2 or w < 2:
            raise ValueError(f"a 2x2 pool needs an image of at least 2x2, got {h}x{w}")
        return (h // 2, w // 2, c)

    def parameter_shapes(self, attrs: Mapping[str, Any], in_shape: Shape) -> tuple[Shape, Shape]:
        return (0,), (0,)

    def macs(self, attrs: Mapping[str, Any], in_shape: Shape) -> int:
        ho, wo, c = self.output_shape(attrs, in_shape)
        return 4 * ho * wo * c

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
        return _Buffers(self.output_shape(attrs, in_shape), m, train, attrs["mode"], dtype)

    def forward(
        self,
        attrs: Mapping[str, Any],
        weights: Array,
        biases: Array,
        x: Array,
        buffers: _Buffers,
        rng: np.random.Generator | None,
    ) -> Array:
        out = buffers.out
        _, ho, wo, _ = out.shape
        windows = [_window(x, i, j, ho, wo) for i, j in _OFFSETS]
        if attrs["mode"] == "average":
            np.add(windows[0], windows[1], out=out)
            out += windows[2]
            out += windows[3]
            out *= 0.25
            return out
        np.maximum(windows[0], windows[1], out=out)
        np.maximum(out, windows[2], out=out)
        np.maximum(out, windows[3], out=out)
        if buffers.winners:
            free, hit = buffers.free, buffers.hit
            assert free is not None and hit is not None
            free.fill(True)
            for window, winner in zip(windows, buffers.winners, strict=True):
                np.equal(window, out, out=hit)
                hit &= free
                free &= ~hit
                np.copyto(winner, hit)
        return out

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
        pass  # no parameters; the input gradient follows from g alone

    def input_grad_buffered(
        self,
        attrs: Mapping[str, Any],
        weights: Array,
        g: Array,
        buffers: _Buffers,
        cols: tuple[int, int],
        out: Array,
    ) -> None:
        c0, c1 = cols
        _, ho, wo, _ = g.shape
        part = g[..., c0:c1]
        if 2 * ho != out.shape[1] or 2 * wo != out.shape[2]:
            out.fill(0.0)  # a dropped odd row or column gets no gradient
        winners: list[Array | None] = list(buffers.winners) or [None] * 4
        for (i, j), winner in zip(_OFFSETS, winners, strict=True):
            target = _window(out, i, j, ho, wo)
            if winner is None:
                np.multiply(part, 0.25, out=target)
            else:
                np.multiply(part, winner[..., c0:c1], out=target)

    def input_grad(
        self, attrs: Mapping[str, Any], weights: Array, g: Array, cols: tuple[int, int], out: Array
    ) -> None:
        if attrs["mode"] == "max":
            raise RuntimeError("max pooling's input gradient needs the layer's buffers")
        self.input_grad_buffered(
            attrs, weights, g, _Buffers(g.shape[1:], 0, False, "", g.dtype.type), cols, out
        )

    def numpy_source(self) -> tuple[str, ...]:
        from evosearch.nn.layers.numpy_code import function_sources, pool_layer

        return function_sources(pool_layer)

    def label(self, attrs: Mapping[str, Any]) -> str:
        return f"{attrs['mode']}pool2"

    def line_label(self, attrs: Mapping[str, Any]) -> str:
        return f"{attrs['mode']} pool 2x2"

    def box_label(self, attrs: Mapping[str, Any]) -> str:
        return f"{attrs['mode']} pool\n2x2 /2"

    def colour(self, attrs: Mapping[str, Any]) -> str | None:
        return "#e2f0d9"
