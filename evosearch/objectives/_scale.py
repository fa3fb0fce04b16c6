"""The log-scale normalisation of the size objectives (bytes, flops) for the hypervolume."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_reference", "log_size"]


def check_reference(name: str, reference: float) -> float:
    """``reference`` as a float, or ``ValueError`` unless it is a finite number > 1."""
    if not (math.isfinite(reference) and reference > 1):
        raise ValueError(f"{name} must be a finite number > 1, got {reference}")
    return float(reference)


def log_size(values: np.ndarray, reference: float) -> np.ndarray:
    """``clip(1 - log10(max(v, 1)) / log10(reference), 0, 1)``: 1 for a size of 1 or less, 0 at
    ``reference`` or more, even steps per factor of ten in between (as for ``params``)."""
    values = np.asarray(values, dtype=np.float64)
    size = 1.0 - np.log10(np.maximum(values, 1.0)) / math.log10(reference)
    return np.clip(size, 0.0, 1.0)
