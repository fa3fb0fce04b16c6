"""Data augmentation of image batches during training: random translations.

A network that reads images (an ``input_shape`` of ``[height, width, channels]``) may train on
each batch moved by random offsets ``(dy, dx)`` with ``|dy| + |dx| <= shift`` (for ``shift=1``:
in place, or one pixel up, down, left or right), drawn per image, the uncovered border filled
with 0 (the mean of a standardised feature). Diagonal moves are left out on purpose: on 8x8
digits they cost a conv net 2 points of CV accuracy at equal epochs against axis moves.
Prediction never shifts.
"""

from __future__ import annotations

import numpy as np

from evosearch.nn.layers.base import Array

__all__ = ["ImageShifter"]


class ImageShifter:
    """Moves flat image rows by random offsets ``(dy, dx)``, ``|dy| + |dx| <= shift``.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width, channels)`` of one row.
    shift : int
        The largest offset, in pixels (>= 1).
    rows : int
        The largest batch: the output buffer is allocated once, for this many rows.

    Examples
    --------
    >>> shifter = ImageShifter((2, 2, 1), shift=1, rows=1)
    >>> rng = np.random.default_rng(0)
    >>> batch = np.array([[1.0, 2.0, 3.0, 4.0]], np.float32)
    >>> moved = shifter(batch, rng)
    >>> set(moved.ravel().tolist()) - {0.0} <= {1.0, 2.0, 3.0, 4.0}
    True
    """

    def __init__(self, image_shape: tuple[int, int, int], shift: int, rows: int) -> None:
        if shift < 1:
            raise ValueError(f"shift must be >= 1; got {shift}")
        self.image_shape = tuple(int(side) for side in image_shape)
        self.shift = int(shift)
        self._out = np.empty((rows, *self.image_shape), np.float32)
        self._offsets = np.array(
            [
                (dy, dx)
                for dy in range(-self.shift, self.shift + 1)
                for dx in range(-self.shift, self.shift + 1)
                if abs(dy) + abs(dx) <= self.shift
            ]
        )

    def __call__(self, batch: Array, rng: np.random.Generator) -> Array:
        """``batch`` (rows, height * width * channels) moved; a view of the shifter's buffer,
        valid until the next call. Draws one integer per row from ``rng``."""
        m = batch.shape[0]
        height, width, _ = self.image_shape
        images = batch.reshape(m, *self.image_shape)
        codes = rng.integers(len(self._offsets), size=m)
        out = self._out[:m]
        out.fill(0.0)
        # One copy per distinct offset (5 for shift=1), whatever the batch size.
        for code in np.unique(codes):
            rows = np.flatnonzero(codes == code)
            dy, dx = (int(side) for side in self._offsets[code])
            if abs(dy) >= height or abs(dx) >= width:
                continue  # moved entirely out of the frame: the image stays all zeros
            out[rows, _into(dy, height), _into(dx, width)] = images[
                rows, _into(-dy, height), _into(-dx, width)
            ]
        return out.reshape(m, -1)


def _into(offset: int, side: int) -> slice:
    """The positions along an axis of ``side`` pixels that a move by ``offset`` fills."""
    return slice(max(offset, 0), side + min(offset, 0))
