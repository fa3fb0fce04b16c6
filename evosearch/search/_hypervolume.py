"""Exact hypervolume of 2-D points (the sweep the archive has always used for two objectives).

More objectives use ``moocore.hypervolume`` (exact in any dimension, installed with DEAP).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["hypervolume_2d"]


def hypervolume_2d(points: np.ndarray, reference: Sequence[float]) -> float:
    """Exact hypervolume of 2-D points, both coordinates maximised.

    The area of the union of the rectangles spanned by each point and ``reference``; points
    not strictly better than the reference in both coordinates add nothing. Dominated and
    duplicate points are allowed.

    Parameters
    ----------
    points : numpy.ndarray of shape (n, 2)
        The points (``n`` may be 0). No NaN.
    reference : sequence of 2 floats
        The reference (worst) point.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes are wrong or a value is NaN.

    Examples
    --------
    >>> hypervolume_2d(np.array([[1.0, 2.0], [2.0, 1.0]]), (0.0, 0.0))
    3.0
    """
    pts = np.asarray(points, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    if ref.shape != (2,) or np.isnan(ref).any():
        raise ValueError(f"reference must be 2 numbers, got {reference!r}")
    if pts.size == 0:
        return 0.0
    if pts.ndim != 2 or pts.shape[1] != 2 or np.isnan(pts).any():
        raise ValueError(f"points must be an (n, 2) array without NaN, got shape {pts.shape}")
    pts = pts[(pts[:, 0] > ref[0]) & (pts[:, 1] > ref[1])]
    if pts.shape[0] == 0:
        return 0.0
    # Sweep by x descending: each point adds the strip between the highest y seen so far and
    # its own y, as wide as its x (every point seen before it lies lower).
    order = np.lexsort((-pts[:, 1], -pts[:, 0]))
    x, y = pts[order, 0], pts[order, 1]
    floor = np.concatenate(([ref[1]], np.maximum.accumulate(y)[:-1]))
    return float(np.sum((x - ref[0]) * np.maximum(y - floor, 0.0)))
