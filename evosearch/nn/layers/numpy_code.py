"""The built-in layer kinds' forward passes as plain numpy functions, for exported models.

``evosearch export --format python`` writes a model file that needs numpy alone: it copies the
source of these functions into the file (:meth:`LayerKind.numpy_source`), so they import
nothing but numpy, use no evosearch name, and are written to be read (and ported to another
language) rather than to be fast. Each ``<kind>_layer(x, weights, biases, **attributes)`` takes
a batch ``x`` of the kind's merged input (float64), the layer's weights and biases as the
network holds them (None where the kind has none) and the layer's attributes as keywords, and
returns the batch of outputs without dropout (prediction time). They compute what the kinds'
``forward`` computes (tests/test_python_export.py checks them against it).
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "activate",
    "conv2d_layer",
    "dense_layer",
    "function_sources",
    "global_pool_layer",
    "pool_layer",
]


def function_sources(*functions: Callable[..., Any]) -> tuple[str, ...]:
    """The source text of each function, dedented (what :meth:`LayerKind.numpy_source` returns)."""
    return tuple(textwrap.dedent(inspect.getsource(function)) for function in functions)


def activate(a: np.ndarray, activation: str) -> np.ndarray:
    """Apply a layer's activation function to the array ``a``."""
    if activation == "relu":
        return np.maximum(a, 0.0)
    if activation == "tanh":
        return np.tanh(a)
    if activation == "sigmoid":
        with np.errstate(over="ignore"):  # exp(-a) overflows to inf for a << 0: the result is 0
            return 1.0 / (1.0 + np.exp(-a))
    if activation == "elu":
        return np.where(a > 0.0, a, np.expm1(np.minimum(a, 0.0)))
    if activation == "leaky_relu":
        return np.maximum(a, 0.01 * a)
    if activation == "linear":
        return a
    raise ValueError(f"unknown activation {activation!r}")


def dense_layer(
    x: np.ndarray,
    weights: np.ndarray,
    biases: np.ndarray,
    units: int,
    activation: str = "relu",
    dropout: float = 0.0,
) -> np.ndarray:
    """A fully connected layer: ``activation(x @ weights + biases)``.

    ``x`` is ``(rows, inputs)``, ``weights`` ``(inputs, units)``, ``biases`` ``(units,)``.
    Dropout only acts in training.
    """
    return activate(x @ weights + biases, activation)


def conv2d_layer(
    x: np.ndarray,
    weights: np.ndarray,
    biases: np.ndarray,
    filters: int,
    kernel: int,
    stride: int = 1,
    activation: str = "relu",
    dropout: float = 0.0,
) -> np.ndarray:
    """A 2-D convolution with "same" padding over channels-last images.

    ``x`` is ``(rows, height, width, channels)``, ``weights`` ``(kernel, kernel, channels,
    filters)``; the output is ``(rows, ceil(height / stride), ceil(width / stride), filters)``.
    The input is padded with ``kernel // 2`` zeros on every side; each output position reads
    the ``kernel x kernel`` window starting at ``stride`` times its index in the padded image.
    """
    rows, height, width, channels = x.shape
    pad = kernel // 2
    out_h, out_w = -(-height // stride), -(-width // stride)
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    # Gather every window into one row of a matrix (im2col), then one matrix product.
    patches = np.empty((rows, out_h, out_w, kernel, kernel, channels), dtype=x.dtype)
    for i in range(kernel):
        for j in range(kernel):
            patches[:, :, :, i, j, :] = padded[
                :, i : i + stride * out_h : stride, j : j + stride * out_w : stride, :
            ]
    patches = patches.reshape(rows * out_h * out_w, kernel * kernel * channels)
    out = patches @ weights.reshape(kernel * kernel * channels, filters) + biases
    return activate(out.reshape(rows, out_h, out_w, filters), activation)


def pool_layer(
    x: np.ndarray, weights: np.ndarray | None, biases: np.ndarray | None, mode: str = "max"
) -> np.ndarray:
    """2x2 pooling with stride 2 over channels-last images (``mode`` ``"max"`` or
    ``"average"``); a last odd row or column is dropped."""
    rows, height, width, channels = x.shape
    out_h, out_w = height // 2, width // 2
    windows = x[:, : 2 * out_h, : 2 * out_w, :].reshape(rows, out_h, 2, out_w, 2, channels)
    if mode == "max":
        return windows.max(axis=(2, 4))
    return windows.mean(axis=(2, 4))


def global_pool_layer(
    x: np.ndarray, weights: np.ndarray | None, biases: np.ndarray | None, mode: str = "average"
) -> np.ndarray:
    """The mean of each channel over the whole image: ``(rows, h, w, c)`` -> ``(rows, c)``."""
    return x.mean(axis=(1, 2))
