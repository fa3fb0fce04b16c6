"""Image data: the shape of one sample, given as text (``28x28``, ``28x28x3``) or found in the
arrays (``(n, height, width)`` or channels-last ``(n, height, width, channels)``).

A dataset keeps its rows flat (``n_samples x n_features``, what every model and the
fingerprint see); the shape says how to read a row as an image, channels last.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from evosearch.errors import DataError

__all__ = ["ImageShape", "flatten_images", "parse_input_shape"]

ImageShape = tuple[int, int, int]
"""``(height, width, channels)`` of one sample."""


def parse_input_shape(value: Any, n_features: int | None = None) -> ImageShape:
    """Read an image shape: ``"28x28"`` (one channel), ``"28x28x3"`` or a sequence of 2 or 3
    ints; with ``n_features``, its size must be that number of features.

    Raises
    ------
    DataError
        With one line naming the problem (not 2 or 3 sides, a side that is not a positive
        integer, a size that does not match the features).

    Examples
    --------
    >>> parse_input_shape("28x28")
    (28, 28, 1)
    >>> parse_input_shape([8, 8, 3], n_features=192)
    (8, 8, 3)
    """
    text = value if isinstance(value, str) else "x".join(str(v) for v in value)
    if isinstance(value, str):
        parts = value.lower().replace(" ", "").split("x")
    else:
        try:
            parts = [str(v) for v in value]
        except TypeError:
            raise DataError(f"input shape must be HxW or HxWxC, got {value!r}") from None
    if len(parts) not in (2, 3):
        raise DataError(f"input shape must be HxW or HxWxC (e.g. 28x28), got {text!r}")
    sides = []
    for part in parts:
        try:
            side = int(part)
        except ValueError:
            raise DataError(f"input shape {text!r}: side {part!r} is not an integer") from None
        if side < 1:
            raise DataError(f"input shape {text!r}: every side must be positive, got {side}")
        sides.append(side)
    if len(sides) == 2:
        sides.append(1)
    shape: ImageShape = (sides[0], sides[1], sides[2])
    if n_features is not None and math.prod(shape) != n_features:
        raise DataError(
            f"input shape {text!r} holds {math.prod(shape)} values per sample, "
            f"but the data have {n_features} features"
        )
    return shape


def flatten_images(X: np.ndarray, where: str = "X") -> tuple[np.ndarray, ImageShape | None]:
    """``X`` with each sample flattened, and the image shape when ``X`` held images
    (``(n, h, w)`` or ``(n, h, w, c)``); 2-D ``X`` is returned as it is, with None."""
    if X.ndim == 3:
        return X.reshape(X.shape[0], -1), (X.shape[1], X.shape[2], 1)
    if X.ndim == 4:
        return X.reshape(X.shape[0], -1), (X.shape[1], X.shape[2], X.shape[3])
    return X, None
