"""Compression of a trained network: magnitude pruning, fine-tuning with the mask held, and
weight precision; the weight payload, its exact size from shapes alone, and its decoding.

The payload is what an exported model's ``weights.bin`` holds: for each layer in execution
order, its weights' sparsity pattern (only when pruned), per-output-channel scales (only for
``int8`` and ``int4``), the kept weight values, then the biases. All numbers are little-endian.

* Sparsity: a layer of ``n`` weights keeps ``k = n - pruned(n)`` of them (``pruned(n)`` is
  ``floor(prune * n)``), either as a bitmap of ``ceil(n / 8)`` bytes (``numpy.packbits`` of the
  kept flags, row-major) or as the ``k`` kept positions (uint16 when ``n <= 65536``, else uint32),
  whichever is smaller (the bitmap on a tie).
* Values: the kept weights in row-major order, as float32, float16, int8, or int4: two
  4-bit two's-complement values a byte, the first in the low nibble (``ceil(k / 2)`` bytes,
  the last high nibble 0 for an odd ``k``).
* Scales (``int8``, ``int4``): one float32 per output channel (the last axis of the weight
  array): ``max |w| / L`` over the channel (1 for a channel of zeros), ``L`` = 127 for int8
  and 7 for int4; a weight is stored as ``clip(rint(w / scale), -L, L)`` and read back as
  ``value * scale`` in float32.
* Biases: float16 for ``float16``, else float32 (not pruned).

So the size depends on shapes, ``prune`` and ``precision`` only (:func:`payload_bytes`); the
``bytes`` objective is known before training and equals ``len(encode(...))`` exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "LEVELS",
    "PRECISIONS",
    "apply",
    "decode",
    "encode",
    "is_compressed",
    "keep_mask",
    "layer_bytes",
    "n_pruned",
    "payload_bytes",
    "prune_finetune_quantise",
    "prune_mask",
    "unpack",
]

Array = NDArray[Any]
Shapes = Sequence[tuple[tuple[int, ...], tuple[int, ...]]]

#: Weight precisions of the payload (``precision``).
PRECISIONS: tuple[str, ...] = ("float32", "float16", "int8", "int4")

#: The largest stored magnitude of each integer precision (symmetric, per-channel scales).
LEVELS = {"int8": 127, "int4": 7}

# Of the values as unpack returns them (int4: one int8 per value).
_VALUE_DTYPE = {"float32": "<f4", "float16": "<f2", "int8": "i1", "int4": "i1"}


def _value_bytes(count: int, precision: str) -> int:
    if precision == "int4":
        return (count + 1) // 2
    return count * {"float32": 4, "float16": 2, "int8": 1}[precision]


def is_compressed(prune: float, precision: str) -> bool:
    """Whether the settings change the float32 network at all."""
    return prune > 0.0 or precision != "float32"


def n_pruned(size: int, prune: float) -> int:
    """Weights pruned of a layer of ``size`` weights: ``floor(prune * size)`` (the ``1e-9``
    absorbs float rounding such as ``0.29 * 100 = 28.999...``)."""
    return min(size, math.floor(prune * size + 1e-9))


def _index_bytes(size: int) -> int:
    return 2 if size <= 65536 else 4


def _sparsity_bytes(size: int, kept: int) -> tuple[str, int]:
    bitmap, indices = (size + 7) // 8, kept * _index_bytes(size)
    return ("bitmap", bitmap) if bitmap <= indices else ("indices", indices)


def _channels(w_shape: tuple[int, ...]) -> int:
    return int(w_shape[-1]) if w_shape else 0


def layer_bytes(
    w_shape: tuple[int, ...], b_shape: tuple[int, ...], prune: float, precision: str
) -> int:
    """Bytes of one layer's part of the payload (see the module docstring)."""
    n, n_b = math.prod(w_shape), math.prod(b_shape)
    kept = n - n_pruned(n, prune)
    total = _value_bytes(kept, precision) + n_b * (2 if precision == "float16" else 4)
    if kept < n:
        total += _sparsity_bytes(n, kept)[1]
    if precision in LEVELS and n:
        total += 4 * _channels(w_shape)
    return total


def payload_bytes(shapes: Shapes, prune: float = 0.0, precision: str = "float32") -> int:
    """Exact size of the payload of layers with ``(weights, biases)`` shapes ``shapes``.

    Examples
    --------
    >>> payload_bytes([((4, 8), (8,)), ((8, 3), (3,))])  # float32: 4 bytes per parameter
    268
    >>> payload_bytes([((4, 8), (8,)), ((8, 3), (3,))], prune=0.5, precision="int8")
    123
    """
    return sum(layer_bytes(w, b, prune, precision) for w, b in shapes)


def prune_mask(weights: Array, prune: float) -> Array:
    """Keep-flags of ``weights`` (same shape, bool): all but the ``n_pruned`` of smallest
    magnitude (ties: the earlier position goes first)."""
    flat = np.abs(np.asarray(weights, dtype=np.float64)).ravel()
    keep = np.ones(flat.size, dtype=bool)
    keep[np.argsort(flat, kind="stable")[: n_pruned(flat.size, prune)]] = False
    return keep.reshape(np.shape(weights))


def _scales(w: Array, levels: int) -> Array:
    columns = w.reshape(-1, _channels(w.shape)).astype(np.float32)
    top = np.abs(columns).max(axis=0) if columns.shape[0] else np.zeros(columns.shape[1])
    scales = (top / np.float32(levels)).astype(np.float32)
    scales[scales == 0] = 1.0
    return scales


def _pack_int4(values: Array) -> bytes:
    """Two's-complement nibbles of ``values`` (int8 in [-7, 7]), two a byte, low nibble first."""
    nibbles = (values.astype(np.int16) & 0x0F).astype(np.uint8)
    if nibbles.size % 2:
        nibbles = np.append(nibbles, np.uint8(0))
    return (nibbles[0::2] | (nibbles[1::2] << 4)).astype(np.uint8).tobytes()


def _unpack_int4(packed: Array, count: int) -> Array:
    """The ``count`` int8 values :func:`_pack_int4` packed into ``packed`` (uint8)."""
    nibbles = np.empty(2 * packed.size, dtype=np.int16)
    nibbles[0::2], nibbles[1::2] = packed & 0x0F, packed >> 4
    return np.where(nibbles > 7, nibbles - 16, nibbles)[:count].astype(np.int8)


def encode(
    weights: Sequence[Array], biases: Sequence[Array], prune: float, precision: str
) -> bytes:
    """The payload of the layers' ``weights`` and ``biases`` (see the module docstring).

    With ``prune`` the kept weights are the ``k`` largest in magnitude: after fine-tuning with
    the mask held the pruned ones are exactly 0, so the kept set is the mask's (or, where a kept
    weight is itself 0, one that decodes to the same arrays).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    parts: list[bytes] = []
    for w, b in zip(weights, biases, strict=True):
        w = np.asarray(w, dtype=np.float32)
        n = w.size
        keep = prune_mask(w, prune).ravel()
        kept = int(keep.sum())
        if kept < n:
            how, _ = _sparsity_bytes(n, kept)
            if how == "bitmap":
                parts.append(np.packbits(keep).tobytes())
            else:
                dtype = "<u2" if _index_bytes(n) == 2 else "<u4"
                parts.append(np.flatnonzero(keep).astype(dtype).tobytes())
        values = w.ravel()
        if precision in LEVELS and n:
            levels = LEVELS[precision]
            scales = _scales(w, levels)
            parts.append(scales.astype("<f4").tobytes())
            q = np.rint(w.reshape(-1, scales.size) / scales)
            values = np.clip(q, -levels, levels).ravel()
        kept_values = values[keep].astype(_VALUE_DTYPE[precision])
        parts.append(_pack_int4(kept_values) if precision == "int4" else kept_values.tobytes())
        bias_dtype = "<f2" if precision == "float16" else "<f4"
        parts.append(np.asarray(b, dtype=np.float32).astype(bias_dtype).tobytes())
    return b"".join(parts)


def unpack(
    shapes: Shapes, payload: bytes, prune: float, precision: str
) -> list[tuple[Array, Array | None, Array]]:
    """The arrays the payload stores, per layer: the weights as stored (``float32``,
    ``float16`` or ``int8`` values in the weights' shape, int4 ones as int8, 0 where pruned),
    the integer precisions' scales (float32, one per output channel; None for a float
    precision or an empty layer) and the
    biases as stored (float16 or float32). :func:`decode` reads the payload through it.

    Raises
    ------
    ValueError
        If the payload's size does not match the shapes and settings.
    """
    if len(payload) != payload_bytes(shapes, prune, precision):
        raise ValueError(
            f"payload of {len(payload)} bytes does not match these layers "
            f"({payload_bytes(shapes, prune, precision)} bytes)"
        )
    at = 0

    def take(count: int, dtype: str) -> Array:
        nonlocal at
        size = count * np.dtype(dtype).itemsize
        array = np.frombuffer(payload, dtype=dtype, count=count, offset=at)
        at += size
        return array

    layers: list[tuple[Array, Array | None, Array]] = []
    for w_shape, b_shape in shapes:
        n = math.prod(w_shape)
        kept = n - n_pruned(n, prune)
        keep = np.ones(n, dtype=bool)
        if kept < n:
            how, size = _sparsity_bytes(n, kept)
            if how == "bitmap":
                keep = np.unpackbits(take(size, "u1"), count=n).astype(bool)
            else:
                keep = np.zeros(n, dtype=bool)
                keep[take(kept, "<u2" if _index_bytes(n) == 2 else "<u4")] = True
        scales = take(_channels(w_shape), "<f4") if precision in LEVELS and n else None
        values = np.zeros(n, dtype=_VALUE_DTYPE[precision])
        if precision == "int4":
            values[keep] = _unpack_int4(take(_value_bytes(kept, "int4"), "u1"), kept)
        else:
            values[keep] = take(kept, _VALUE_DTYPE[precision])
        bias_dtype = "<f2" if precision == "float16" else "<f4"
        biases = take(math.prod(b_shape), bias_dtype).reshape(b_shape)
        layers.append((values.reshape(w_shape), scales, biases))
    return layers


def decode(
    shapes: Shapes, payload: bytes, prune: float, precision: str
) -> tuple[list[Array], list[Array]]:
    """The float32 weights and biases that :func:`encode` wrote into ``payload``.

    Raises
    ------
    ValueError
        If the payload's size does not match the shapes and settings.
    """
    weights, biases = [], []
    for (w_shape, _), (values, scales, stored_biases) in zip(
        shapes, unpack(shapes, payload, prune, precision), strict=True
    ):
        w = values.astype(np.float32)
        if scales is not None:
            w = (w.reshape(-1, scales.size) * scales).reshape(w_shape)
        weights.append(w.astype(np.float32))
        biases.append(stored_biases.astype(np.float32))
    return weights, biases


def apply(weights: Sequence[Array], biases: Sequence[Array], prune: float, precision: str) -> bytes:
    """Compress a network's (float32) ``weights`` and ``biases`` in place to what their
    payload decodes to; return the payload."""
    payload = encode(weights, biases, prune, precision)
    shapes = [(w.shape, b.shape) for w, b in zip(weights, biases, strict=True)]
    new_weights, new_biases = decode(shapes, payload, prune, precision)
    for array, new in zip([*weights, *biases], [*new_weights, *new_biases], strict=True):
        array[...] = new
    return payload


def keep_mask(weights: Sequence[Array], prune: float) -> Array:
    """The float32 keep-mask (1 kept, 0 pruned) of every layer's weights, concatenated in the
    order of the flat parameter vector's weights part (see :mod:`evosearch.nn.train`)."""
    masks = [prune_mask(w, prune).ravel() for w in weights]
    return np.concatenate(masks).astype(np.float32) if masks else np.zeros(0, np.float32)


def prune_finetune_quantise(
    settings: Any,
    loss_and_delta: Any,
    net: Any,
    flat: Array,
    grad: Array,
    grad_w: list[Array],
    grad_b: list[Array],
    n_weights: int,
    data: tuple[Array, Array, Array | None],
    rng: np.random.Generator,
    prune: float,
    precision: str,
    finetune_epochs: int,
    row_weights: tuple[Array, Array | None] | None = None,
) -> tuple[bytes, list[float]]:
    """Compress a trained network in place: prune (zero the smallest ``prune`` fraction of each
    layer's weights), fine-tune ``finetune_epochs`` epochs on ``data`` with the mask held
    (constant learning rate after any warmup, no early stopping), then store the weights at
    ``precision``.

    ``row_weights``: the training rows' weights, as for :func:`~evosearch.nn.train.train`.

    Returns the payload and the fine-tuning epochs' losses.
    """
    from dataclasses import replace

    from evosearch.nn.train import train

    losses: list[float] = []
    if prune > 0.0 and finetune_epochs > 0:
        mask = keep_mask(net.weights, prune)
        flat[:n_weights] *= mask
        tune = replace(
            settings, max_epochs=finetune_epochs, early_stopping=False, lr_schedule="constant"
        )
        x, t, c = data
        losses = train(
            tune, loss_and_delta, net, flat, grad, grad_w, grad_b, n_weights, x, t, c, None, rng,
            row_weights=row_weights, mask=mask,
        )[0]  # fmt: skip
    return apply(net.weights, net.biases, prune, precision), losses
