"""Make a 28x28 grayscale image set from scikit-learn's bundled 8x8 digits (nothing downloaded).

Each image is a digit drawn at random (with replacement), up-sampled to 24x24 (bilinear),
placed at a random offset in a 28x28 frame (shifts of 0-4 pixels each way), scaled by a random
contrast in [0.7, 1.3] and given Gaussian noise (sigma 0.1 on a 0-1 scale); values are clipped to
[0, 1]. The result is an NPZ file whose ``X`` is ``(n, 28, 28)`` float32 (an image set for
``evosearch evolve --data FILE``) and ``y`` the digit labels.

Run: ``.venv/bin/python benchmarks/make_digit_images.py [--n 5000] [--seed 0] [--out FILE]``
(about a second; default file ``benchmarks/digits28.npz``)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.ndimage import zoom
from sklearn.datasets import load_digits

SIDE, DIGIT = 28, 24


def make_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` shifted, noised, up-sampled digits: ``X`` (n, 28, 28) float32 in [0, 1], ``y``."""
    rng = np.random.default_rng(seed)
    digits = load_digits()
    images = digits.images / 16.0
    picks = rng.integers(len(images), size=n)
    big = np.stack([zoom(images[i], DIGIT / 8, order=1) for i in range(len(images))])
    X = np.zeros((n, SIDE, SIDE), np.float32)
    shifts = rng.integers(0, SIDE - DIGIT + 1, size=(n, 2))
    contrast = rng.uniform(0.7, 1.3, size=n)
    for row, (pick, (dy, dx)) in enumerate(zip(picks, shifts, strict=True)):
        X[row, dy : dy + DIGIT, dx : dx + DIGIT] = big[pick] * contrast[row]
    X += rng.normal(0.0, 0.1, X.shape).astype(np.float32)
    np.clip(X, 0.0, 1.0, out=X)
    return X, digits.target[picks]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("digits28.npz"))
    args = parser.parse_args()
    X, y = make_images(args.n, args.seed)
    np.savez_compressed(args.out, X=X, y=y)
    print(f"wrote {args.out}: X {X.shape} {X.dtype}, y {y.shape}, {len(np.unique(y))} classes")


if __name__ == "__main__":
    main()
