"""A regressor's target standardisation: the mean and scale it learns from its training rows.

The network trains on ``(y - mean) / scale`` per target column and predicts in the target's
units again (``output * scale + mean``). Squared errors of a target around 35,000 are ~10⁹ at
the start of training, and the learning rates, ``tol`` and initialisations tuned for data of
scale 1 then diverge or stall; standardised, every target trains like one of scale 1, and R² is
unchanged by the rescaling.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["target_scaling"]

Array = NDArray[Any]


def target_scaling(y: Array, sample_weight: Array | None = None) -> tuple[Array, Array]:
    """Per-column mean and scale (standard deviation) of the 2-D target ``y``, float64.

    With ``sample_weight`` (non-negative, not all zero) both are weighted, so rows of weight 0
    do not move them, as they do not move the loss. A column of one value (or spread below
    float64 resolution) gets scale 1, as scikit-learn's ``StandardScaler`` does.

    Examples
    --------
    >>> mean, scale = target_scaling(np.array([[30000.0], [40000.0]]))
    >>> mean.tolist(), scale.tolist()
    ([35000.0], [5000.0])
    """
    values = np.asarray(y, dtype=np.float64)
    weights = np.ones(values.shape[0])
    if sample_weight is not None:
        given = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        # Bad weights are the loss's to refuse (loss_weights), in one line: not divided by here.
        if given.size == weights.size and np.all(given >= 0) and given.sum() > 0:
            weights = given
    # One formula with and without weights, so weights of ones train exactly like none.
    total = weights.sum()
    mean = weights @ values / total
    scale = np.sqrt(weights @ (values - mean) ** 2 / total)
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)
    scale = np.where(np.isfinite(scale) & (scale > tiny), scale, 1.0)
    return mean, scale
