"""The estimators' optional training and compression parameters: their checks and their docs.

Each is off by default (constant learning rate, no clipping, float32 weights unpruned), so an
estimator that does not set them trains exactly as before they existed.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from evosearch.nn.compress import PRECISIONS
from evosearch.nn.optim import LR_SCHEDULES

__all__ = ["OPTIONS_DOC", "check_options"]

OPTIONS_DOC = """    lr_schedule : {"constant", "step", "cosine"}, default="constant"
        Learning rate by epoch (:func:`evosearch.nn.optim.schedule_factor`).
    clip_norm : float, default=0.0
        When > 0, each step's whole gradient is scaled down to at most this Euclidean norm.
    prune, precision, finetune_epochs : float, str, int, default=0.0, "float32", 5
        Compression after training (:mod:`evosearch.nn.compress`): zero the ``prune`` fraction
        of each layer's weights of smallest magnitude, fine-tune ``finetune_epochs`` epochs
        with them held at 0, store the weights as float32, float16 or int8 (per-output-channel
        scales); the fitted weights are the stored ones, read back.
"""


def check_options(estimator: Any) -> None:
    """Raise ``ValueError`` naming the first optional parameter of ``estimator`` that is bad."""
    for name, allowed in (("lr_schedule", LR_SCHEDULES), ("precision", PRECISIONS)):
        value = getattr(estimator, name)
        if value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    for name, low, high in (("clip_norm", 0.0, math.inf), ("prune", 0.0, 1.0)):
        value = getattr(estimator, name)
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not (ok and math.isfinite(value) and low <= value < high):
            rule = f"in [{low:g}, {high:g})"
            raise ValueError(f"{name} must be a finite number {rule}; got {value!r}")
    epochs = estimator.finetune_epochs
    if not isinstance(epochs, numbers.Integral) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"finetune_epochs must be an int >= 0; got {epochs!r}")
