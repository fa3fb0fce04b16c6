"""The ``conv2d`` layer kind: a 2-D convolution with "same" padding over channels-last images,
as one matrix product per batch (im2col).

The input batch ``(m, h, w, c)`` is unfolded into a reused buffer of ``(m * h_out * w_out,
k * k * c)`` patches (one copy of a sliding-window view, channels contiguous), multiplied by the
``(k * k * c, filters)`` weights in one BLAS call, then the bias, the activation and inverted
dropout are applied in place. Backward is more products: the weight gradient from the kept
patches; the patch gradient, only when a layer before needs it, folded back onto the padded
input kernel offset by kernel offset from contiguous blocks (from 4 input channels one product
per offset). Every buffer belongs to one batch size, so memory is bounded by the batch, and the
arrays keep the dtype they are given (float32 in training).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from evosearch.nn.layers.base import Array, LayerAttribute, LayerKind, Shape
from evosearch.nn.layers.dense import (
    _COLOURS,
    ACTIVATIONS,
    _activate,
    _activation_grad,
    _apply_dropout,
)

__all__ = ["Conv2D", "check_image", "same_padding_output"]


def check_image(kind: str, in_shape: Shape) -> tuple[int, int, int]:
    """``(height, width, channels)`` of an image input, or ``ValueError`` naming the kind."""
    if len(in_shape) != 3:
        raise ValueError(
            f"a {kind} layer needs image inputs (height, width, channels), got shape {in_shape}"
        )
    return in_shape[0], in_shape[1], in_shape[2]


def same_padding_output(side: int, stride: int) -> int:
    """Output side of a "same"-padded convolution: ``ceil(side / stride)``.

    Examples
    --------
    >>> same_padding_output(8, 2), same_padding_output(7, 2), same_padding_output(7, 1)
    (4, 4, 7)
    """
    return -(-side // stride)


#: From this many input channels the fold-back makes each kernel offset's patch gradient with a
#: product of its own rather than gathering it from the one product's columns (a gather of
#: 16-byte and larger items is what cost most there).
_OFFSET_PRODUCTS_FROM = 4


class _Buffers:
    """One batch's arrays: padded input, patches, pre-activation output and, when training,
    dropout, activation-derivative and input-gradient arrays."""

    def __init__(
        self, in_shape: Shape, attrs: Mapping[str, Any], m: int, train: bool, dtype: type
    ) -> None:
        h, w, c = in_shape
        k, s, f = int(attrs["kernel"]), int(attrs["stride"]), int(attrs["filters"])
        p = k // 2
        ho, wo = same_padding_output(h, s), same_padding_output(w, s)
        self.geometry = (h, w, c, k, s, p, ho, wo, f)
        # Zero borders once: forward only ever writes the interior.
        self.padded: Array | None = np.zeros((m, h + 2 * p, w + 2 * p, c), dtype) if p else None
        direct = k == 1 and s == 1  # a 1x1 convolution reads the input as its patches
        self.patches: Array | None = None if direct else np.empty((m, ho, wo, k, k, c), dtype)
        # One channel and a 3x3 kernel: nine plain strided copies beat the window view.
        self.one_copy = not (c == 1 and k <= 3)
        self.pre: Array = np.empty((m, ho, wo, f), dtype)
        self.scratch: Array = np.empty((m, ho, wo, f), dtype)
        self.out = self.pre
        self.dropmask: Array | None = None
        self.dropkeep: Array | None = None
        self.dropped: Array | None = None
        dropout = float(attrs["dropout"])
        if train and dropout > 0.0:
            self.dropmask = np.empty((m, ho, wo, f), dtype)
            self.dropkeep = np.empty((m, ho, wo, f), np.bool_)
            self.dropped = np.empty((m, ho, wo, f), dtype)
            self.out = self.dropped
        self.flags = np.empty((m, ho, wo, f), np.bool_) if train else None
        self.ones: Array | None = np.ones(m * ho * wo, dtype) if train else None
        # The input gradient: patch gradients, folded back onto a padded input (train only).
        # They take the patches' place: backward has used the patches by then, and the next
        # forward pass unfolds its batch afresh.
        self.dpatches: Array | None = None
        if train:
            self.dpatches = np.empty((m, ho, wo, k, k, c), dtype) if direct else self.patches
        self.dpadded: Array | None = (
            np.empty((m, h + 2 * p, w + 2 * p, c), dtype) if train and not direct else None
        )
        self.dx: Array | None = None  # the current backward pass's input gradient, once made
        # The fold-back's own buffers (from 2 channels or a 5x5 kernel up, where reading the
        # patch layout a few channels at a time is what it costs): one kernel row's patch
        # gradients, offset-major; with stride 2 the padded input's phase planes.
        self.offset_rows: Array | None = None
        self.phases: Array | None = None
        if train and not direct and (c > 1 or k >= 5):
            self.offset_rows = np.empty((k, m, ho, wo, c), dtype)
            if s > 1:
                hp, wp = -(-(h + 2 * p) // s), -(-(w + 2 * p) // s)
                self.phases = np.empty((s, s, m, hp, wp, c), dtype)

    def patch_matrix(self, x: Array) -> Array:
        """The ``(m * h_out * w_out, k * k * c)`` patches of ``x`` (a view of ``x`` for 1x1)."""
        h, w, c, k, s, p, ho, wo, _ = self.geometry
        m = x.shape[0]
        if self.patches is None:
            return x.reshape(m * ho * wo, c)
        source = x
        if self.padded is not None:
            self.padded[:, p : p + h, p : p + w, :] = x
            source = self.padded
        if self.one_copy:
            # Every window at once: numpy merges a window row's (offset, channel) run into one
            # contiguous copy, where a copy per offset moves ``c`` values at a time (5-8x
            # slower from 4 channels up). Same values, same layout: results are unchanged.
            windows = sliding_window_view(source, (k, k), axis=(1, 2))
            windows = windows[:, : s * ho : s, : s * wo : s]
            np.copyto(self.patches, windows.transpose(0, 1, 2, 4, 5, 3))
        else:
            for i in range(k):
                for j in range(k):
                    self.patches[:, :, :, i, j, :] = source[
                        :, i : i + s * ho : s, j : j + s * wo : s
                    ]
        return self.patches.reshape(m * ho * wo, k * k * c)


class Conv2D(LayerKind):
    """A convolution: ``filters`` output channels, a square ``kernel`` (1, 3 or 5), ``stride``
    1 or 2, "same" padding (output side ``ceil(side / stride)``), an ``activation`` and
    inverted ``dropout``.

    Its weights are a ``(kernel, kernel, channels_in, filters)`` array (channels of several
    inputs in ascending predecessor id order) and ``filters`` biases, initialised
    Glorot-uniform over the receptive field as ``dense`` does over its inputs.
    """

    name = "conv2d"
    image_input = True
    attributes = (
        LayerAttribute("filters", "integer", (4, 8, 16, 32, 64), 1, 4096),
        LayerAttribute("kernel", "integer", (1, 3, 5), 1, 5),
        LayerAttribute("stride", "integer", (1, 2), 1, 2, default=1),
        LayerAttribute(
            "activation", "string", tuple(ACTIVATIONS), choices=ACTIVATIONS, default="relu"
        ),
        LayerAttribute("dropout", "number", (0.0, 0.1, 0.2), 0.0, 0.95, default=0.0),
    )

    def check_attributes(self, spec: Mapping[str, Any], complete: bool = False) -> dict[str, Any]:
        values = super().check_attributes(spec, complete)
        if values["kernel"] % 2 == 0:
            raise ValueError(f"bad kernel {values['kernel']!r} (need an odd size: 1, 3 or 5)")
        return values

    def output_shape(self, attrs: Mapping[str, Any], in_shape: Shape) -> Shape:
        h, w, _ = check_image(self.name, in_shape)
        stride = int(attrs["stride"])
        return (
            same_padding_output(h, stride),
            same_padding_output(w, stride),
            int(attrs["filters"]),
        )

    def parameter_shapes(self, attrs: Mapping[str, Any], in_shape: Shape) -> tuple[Shape, Shape]:
        _, _, c = check_image(self.name, in_shape)
        k, f = int(attrs["kernel"]), int(attrs["filters"])
        return (k, k, c, f), (f,)

    def macs(self, attrs: Mapping[str, Any], in_shape: Shape) -> int:
        ho, wo, f = self.output_shape(attrs, in_shape)
        k = int(attrs["kernel"])
        return ho * wo * f * k * k * in_shape[2]

    def initialize(
        self,
        attrs: Mapping[str, Any],
        in_shape: Shape,
        weights: Array,
        biases: Array,
        rng: np.random.Generator,
    ) -> None:
        k, _, c, f = weights.shape
        factor = 2.0 if attrs["activation"] == "sigmoid" else 6.0
        bound = math.sqrt(factor / (k * k * c + f))
        weights[...] = rng.uniform(-bound, bound, weights.shape)
        biases[...] = rng.uniform(-bound, bound, f)

    def workspace(
        self, attrs: Mapping[str, Any], in_shape: Shape, m: int, train: bool, dtype: type
    ) -> _Buffers:
        return _Buffers(in_shape, attrs, m, train, dtype)

    def forward(
        self,
        attrs: Mapping[str, Any],
        weights: Array,
        biases: Array,
        x: Array,
        buffers: _Buffers,
        rng: np.random.Generator | None,
    ) -> Array:
        f = buffers.geometry[-1]
        patches = buffers.patch_matrix(x)
        pre = buffers.pre
        np.dot(patches, weights.reshape(-1, f), out=pre.reshape(-1, f))
        pre += biases
        _activate(attrs["activation"], pre, buffers.scratch)
        _apply_dropout(buffers, pre, attrs["dropout"], rng)
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
        f = buffers.geometry[-1]
        g2 = g.reshape(-1, f)
        # The patches of this forward pass are still in the buffer (or are x itself for 1x1).
        patches = x.reshape(-1, x.shape[-1]) if buffers.patches is None else buffers.patches
        np.dot(patches.reshape(g2.shape[0], -1).T, g2, out=grad_w.reshape(-1, f))
        np.dot(buffers.ones, g2, out=grad_b)
        buffers.dx = None

    def _input_gradient(self, weights: Array, g: Array, buffers: _Buffers) -> Array:
        """The whole (merged) input's gradient from the pre-activation gradient ``g``."""
        h, w, c, k, s, p, ho, wo, f = buffers.geometry
        m = g.shape[0]
        dpatches = buffers.dpatches
        rows = buffers.offset_rows
        g2 = g.reshape(-1, f)
        if rows is None or c < _OFFSET_PRODUCTS_FROM:
            assert dpatches is not None
            np.dot(g2, weights.reshape(-1, f).T, out=dpatches.reshape(m * ho * wo, -1))
        if buffers.dpadded is None:  # 1x1, stride 1: the patch gradient is the input's
            assert dpatches is not None
            return dpatches.reshape(m, h, w, c)
        dpadded = buffers.dpadded
        if rows is None:
            assert dpatches is not None
            dpadded.fill(0.0)
            for i in range(k):
                for j in range(k):
                    dpadded[:, i : i + s * ho : s, j : j + s * wo : s] += dpatches[:, :, :, i, j, :]
            return dpadded[:, p : p + h, p : p + w, :]
        # Kernel row i's gradients are laid out offset-major first, so that every add reads
        # contiguous memory: from 4 channels on each offset's (rows x channels) block is its
        # own product (a block of the patch gradient's columns, the same sums as the one
        # product gives them: checked against it on OpenBLAS); below, the one product's
        # columns are gathered (each pixel's channels moved as one item). With stride 2 the
        # adds go to the four phase planes of the padded input (even/odd rows x columns),
        # where neighbouring outputs land side by side, interleaved back at the end. 2-4x
        # faster than adding from the patch layout; the adds keep their (i, j) order, so the
        # sums are the same to the bit.
        own_products = c >= _OFFSET_PRODUCTS_FROM
        if not own_products:
            assert dpatches is not None
            item = np.dtype((np.void, c * g.itemsize))
            by_offset = dpatches.view(item).reshape(m, ho, wo, k, k)
            gathered = rows.view(item).reshape(k, m, ho, wo)
        phases = buffers.phases
        (dpadded if phases is None else phases).fill(0.0)
        for i in range(k):
            if own_products:
                for j in range(k):
                    np.dot(g2, weights[i, j].T, out=rows[j].reshape(-1, c))
            else:
                np.copyto(gathered, by_offset[:, :, :, i].transpose(3, 0, 1, 2))
            for j in range(k):
                if phases is None:
                    target = dpadded[:, i : i + ho, j : j + wo]
                else:
                    plane = phases[i % s, j % s]
                    target = plane[:, i // s : i // s + ho, j // s : j // s + wo]
                target += rows[j]
        if phases is not None:
            for a in range(s):
                for b in range(s):
                    into = dpadded[:, a::s, b::s]
                    into[...] = phases[a, b][:, : into.shape[1], : into.shape[2]]
        return dpadded[:, p : p + h, p : p + w, :]

    def input_grad_buffered(
        self,
        attrs: Mapping[str, Any],
        weights: Array,
        g: Array,
        buffers: _Buffers,
        cols: tuple[int, int],
        out: Array,
    ) -> None:
        if buffers.dx is None:
            buffers.dx = self._input_gradient(weights, g, buffers)
        out[...] = buffers.dx[..., cols[0] : cols[1]]

    def input_grad(
        self, attrs: Mapping[str, Any], weights: Array, g: Array, cols: tuple[int, int], out: Array
    ) -> None:
        # Without the layer's buffers (the network always passes them): rebuild the geometry.
        shape = (out.shape[1], out.shape[2], weights.shape[2])
        buffers = _Buffers(shape, attrs, g.shape[0], True, g.dtype.type)
        out[...] = self._input_gradient(weights, g, buffers)[..., cols[0] : cols[1]]

    def weight_blocks(
        self,
        node_id: int,
        pred_ids: Sequence[int],
        cols: Sequence[tuple[int, int]],
        weights: Array,
        biases: Array,
    ) -> Iterator[tuple[str, Array]]:
        # One block per edge (its input channels): a child that kept an edge reuses its kernels.
        for pred, (c0, c1) in zip(pred_ids, cols, strict=True):
            yield f"w:{pred}:{node_id}", weights[:, :, c0:c1, :]
        yield f"b:{node_id}", biases

    def numpy_source(self) -> tuple[str, ...]:
        from evosearch.nn.layers.numpy_code import activate, conv2d_layer, function_sources

        return function_sources(activate, conv2d_layer)

    def label(self, attrs: Mapping[str, Any]) -> str:
        text = f"conv{attrs['kernel']}x{attrs['kernel']}/{attrs['stride']} {attrs['filters']}"
        text += f" {attrs['activation']}"
        if attrs["dropout"]:
            text += f" d{attrs['dropout']:g}"
        return text

    def line_label(self, attrs: Mapping[str, Any]) -> str:
        text = (
            f"conv {attrs['filters']} filters {attrs['kernel']}x{attrs['kernel']} "
            f"stride {attrs['stride']} {attrs['activation']}"
        )
        if attrs["dropout"]:
            text += f", dropout {attrs['dropout']:g}"
        return text

    def box_label(self, attrs: Mapping[str, Any]) -> str:
        return (
            f"conv {attrs['kernel']}x{attrs['kernel']} /{attrs['stride']}\n"
            f"{attrs['filters']} filters\n{attrs['activation']}"
            + (f"\ndropout {float(attrs['dropout']):g}" if attrs.get("dropout") else "")
        )

    def colour(self, attrs: Mapping[str, Any]) -> str | None:
        return _COLOURS.get(str(attrs.get("activation")))
