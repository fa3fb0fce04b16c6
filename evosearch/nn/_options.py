"""The estimators' optional training and compression parameters: their checks and their docs.

Each is off by default (constant learning rate, no clipping, float32 weights unpruned), so an
estimator that does not set them trains exactly as before they existed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from evosearch.nn.compress import PRECISIONS
from evosearch.nn.optim import LR_SCHEDULES, OPTIMIZERS

__all__ = ["OPTIONS_DOC", "check_options", "check_params"]

OPTIONS_DOC = """    lr_schedule : {"constant", "step", "cosine"}, default="constant"
        Learning rate by epoch (:func:`evosearch.nn.optim.schedule_factor`).
    clip_norm : float, default=0.0
        When > 0, each step's whole gradient is scaled down to at most this Euclidean norm.
    shift : int, default=0
        When > 0 (image input only), each training batch is moved by random offsets of up to
        this many pixels per axis, zero-filled (:mod:`evosearch.nn.augment`); 0 is off.
    warmup_epochs : int, default=0
        When > 0, the learning rate ramps up linearly over the steps of the first
        ``warmup_epochs`` epochs (at most all of them; also in the fine-tuning after pruning)
        to reach its full value on the ramp's last step; 0 is off.
    prune, precision, finetune_epochs : float, str, int, default=0.0, "float32", 5
        Compression after training (:mod:`evosearch.nn.compress`): zero the ``prune`` fraction
        of each layer's weights of smallest magnitude, fine-tune ``finetune_epochs`` epochs
        with them held at 0, store the weights as float32, float16, int8 or int4
        (per-output-channel scales); the fitted weights are the stored ones, read back.
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
    if not isinstance(estimator.early_stopping, (bool, np.bool_)):
        raise ValueError(f"early_stopping must be True or False; got {estimator.early_stopping!r}")
    for name in ("finetune_epochs", "shift", "warmup_epochs"):
        value = getattr(estimator, name)
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be an int >= 0; got {value!r}")


def check_params(estimator: Any) -> None:
    """Raise ``ValueError`` naming the first bad parameter of a GraphNet ``estimator``."""
    if estimator.initial_weights is not None and not isinstance(estimator.initial_weights, Mapping):
        raise ValueError(
            "initial_weights must be None or a mapping of block keys ('w:{pred}:{node}', "
            f"'b:{{node}}') to arrays; got {type(estimator.initial_weights).__name__}"
        )
    if estimator.optimizer not in OPTIMIZERS:
        raise ValueError(
            f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {estimator.optimizer!r}"
        )
    check_options(estimator)
    checks = [
        ("learning_rate", estimator.learning_rate, lambda v: v > 0, "> 0"),
        ("l1", estimator.l1, lambda v: v >= 0, ">= 0"),
        ("l2", estimator.l2, lambda v: v >= 0, ">= 0"),
        ("tol", estimator.tol, lambda v: v >= 0, ">= 0"),
        ("validation_fraction", estimator.validation_fraction, lambda v: 0 < v < 1, "in (0, 1)"),
    ]
    for name, value, ok, rule in checks:
        if (
            not isinstance(value, numbers.Real)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or not ok(value)
        ):
            raise ValueError(f"{name} must be a finite number {rule}; got {value!r}")
    for name, value in (
        ("batch_size", estimator.batch_size),
        ("max_epochs", estimator.max_epochs),
        ("patience", estimator.patience),
    ):
        if not _is_int(value) or value < 1:
            raise ValueError(f"{name} must be an int >= 1; got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
