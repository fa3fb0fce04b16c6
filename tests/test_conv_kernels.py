"""The conv2d layer's fast copies give the same numbers, to the bit, as the plain per-offset
loops they replaced (training results of earlier runs must not change), and the same
convolution as a direct sum."""

from __future__ import annotations

import numpy as np
import pytest

from evosearch.nn import get_layer_kind

CONV = get_layer_kind("conv2d")

# (channels, kernel, stride): each path of the unfolding and of the fold-back.
GEOMETRIES = [
    (1, 1, 1), (1, 3, 1), (1, 5, 1), (4, 3, 1), (3, 5, 1),
    (8, 3, 2), (2, 5, 2), (1, 3, 2), (1, 5, 2), (4, 1, 2), (16, 5, 2),
]  # fmt: skip


def _attrs(kernel: int, stride: int, filters: int = 5) -> dict[str, object]:
    return {"filters": filters, "kernel": kernel, "stride": stride, "activation": "tanh",
            "dropout": 0.0}  # fmt: skip


def _padded(x: np.ndarray, p: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))


def _reference_patches(x: np.ndarray, k: int, s: int) -> np.ndarray:
    """The unfolding as it was: one strided copy per kernel offset."""
    m, h, w, c = x.shape
    ho, wo = -(-h // s), -(-w // s)
    source = _padded(x, k // 2)
    patches = np.empty((m, ho, wo, k, k, c), x.dtype)
    for i in range(k):
        for j in range(k):
            patches[:, :, :, i, j, :] = source[:, i : i + s * ho : s, j : j + s * wo : s]
    return patches.reshape(m * ho * wo, k * k * c)


def _reference_input_gradient(g: np.ndarray, weights: np.ndarray, in_shape: tuple, s: int):
    """The fold-back as it was: zeros, then one strided add per offset in (i, j) order."""
    h, w, c = in_shape
    k, f = weights.shape[0], weights.shape[-1]
    m, ho, wo, _ = g.shape
    p = k // 2
    dpatches = np.dot(g.reshape(-1, f), weights.reshape(-1, f).T).reshape(m, ho, wo, k, k, c)
    if k == 1 and s == 1:
        return dpatches.reshape(m, h, w, c)
    dpadded = np.zeros((m, h + 2 * p, w + 2 * p, c), g.dtype)
    for i in range(k):
        for j in range(k):
            dpadded[:, i : i + s * ho : s, j : j + s * wo : s] += dpatches[:, :, :, i, j, :]
    return dpadded[:, p : p + h, p : p + w, :]


def _direct_convolution(x: np.ndarray, weights: np.ndarray, k: int, s: int) -> np.ndarray:
    m, h, w, _ = x.shape
    ho, wo = -(-h // s), -(-w // s)
    source = _padded(x.astype(np.float64), k // 2)
    out = np.zeros((m, ho, wo, weights.shape[-1]))
    for i in range(k):
        for j in range(k):
            window = source[:, i : i + s * ho : s, j : j + s * wo : s]
            out += np.einsum("mhwc,cf->mhwf", window, weights[i, j].astype(np.float64))
    return out


@pytest.mark.parametrize(("c", "k", "s"), GEOMETRIES)
@pytest.mark.parametrize("side", [7, 8])
def test_conv_forward_and_input_gradient_match_the_per_offset_loops(c, k, s, side) -> None:
    rng = np.random.default_rng(c * 100 + k * 10 + s + side)
    in_shape = (side, side, c)
    attrs = _attrs(k, s)
    m = 6
    x = rng.standard_normal((m, *in_shape)).astype(np.float32)
    weights = rng.standard_normal((k, k, c, 5)).astype(np.float32)
    biases = rng.standard_normal(5).astype(np.float32)
    buffers = CONV.workspace(attrs, in_shape, m, True, np.float32)

    assert np.array_equal(
        buffers.patch_matrix(x), _reference_patches(x, k, s).reshape(-1, k * k * c)
    )
    out = CONV.forward(attrs, weights, biases, x, buffers, rng)
    expected = np.tanh(_direct_convolution(x, weights, k, s) + biases)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)

    g = rng.standard_normal(out.shape).astype(np.float32)
    grad_w, grad_b = np.empty_like(weights), np.empty_like(biases)
    CONV.backward(attrs, weights, x, g, buffers, grad_w, grad_b)  # g becomes pre-activation's
    dx = np.empty_like(x)
    CONV.input_grad_buffered(attrs, weights, g, buffers, (0, c), dx)
    reference = _reference_input_gradient(g, weights, in_shape, s)
    if c < 4 or k == 1:  # copies and adds of the one product's columns: equal to the bit
        assert np.array_equal(dx, reference)
    else:
        # From 4 channels each offset's block is a product of its own. Equal to the bit on
        # OpenBLAS here (benchmarks/same_results.py), but that is the library's doing: BLAS
        # does not promise a block of columns the sums of the whole product.
        np.testing.assert_allclose(dx, reference, rtol=1e-5, atol=1e-6)
    # A second batch through the same buffers: nothing of the first one is left over.
    x2 = rng.standard_normal(x.shape).astype(np.float32)
    assert np.array_equal(buffers.patch_matrix(x2), _reference_patches(x2, k, s))
