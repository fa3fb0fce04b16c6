"""Training and compression genes: their rules, their defaults, and the optional ones.

The ``[training]`` and ``[compression]`` sections of a search space hold one gene each key;
genomes keep both sections' genes in their ``hyperparameters``. Optional genes are off unless
a search space searches them: a genome leaves such a key out of its hyperparameters while the
gene has its default ("off") value, so it hashes, trains and is written exactly as genomes did
before the gene existed; a space whose domain is only that value leaves the key out of
``to_dict`` and never draws or mutates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evosearch.nn.compress import PRECISIONS
from evosearch.nn.optim import LR_SCHEDULES, OPTIMIZERS

__all__ = [
    "COMPRESSION_KEYS",
    "IMAGE_ONLY_TRAINING",
    "OPTIONAL_TRAINING",
    "section_of",
    "unsearched",
    "value_of",
    "without_off",
]

#: Optional training gene -> the value that means off (the estimator's default).
OPTIONAL_TRAINING: dict[str, Any] = {
    "lr_schedule": "constant",
    "clip_norm": 0.0,
    "shift": 0,
    "warmup_epochs": 0,
    "early_stopping": True,
    "prune": 0.0,
    "precision": "float32",
    "finetune_epochs": 5,
}


#: Optional training genes that only images can use (``shift`` moves them).
IMAGE_ONLY_TRAINING = ("shift",)


def without_off(hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
    """``hyperparameters`` without the optional genes that are off (how genomes hold them)."""
    return {
        key: value
        for key, value in hyperparameters.items()
        if key not in OPTIONAL_TRAINING or value != OPTIONAL_TRAINING[key]
    }


def value_of(hyperparameters: Mapping[str, Any], key: str) -> Any:
    """A genome's value of training gene ``key`` (an optional gene left out is off)."""
    return hyperparameters[key] if key in hyperparameters else OPTIONAL_TRAINING[key]


def unsearched(training_params: Mapping[str, Any]) -> set[str]:
    """The optional genes whose domain in ``training_params`` is only their "off" value."""
    # A Choice of the one "off" value (a Range has no ``values``); duck-typed so that this
    # module stays below space.py, which builds its rules from it.
    return {
        key
        for key, off in OPTIONAL_TRAINING.items()
        if key in training_params and getattr(training_params[key], "values", None) == (off,)
    }


# Rules per parameter: (kind of value, lowest allowed, highest allowed, allowed strings).
_NUMBER, _INTEGER, _STRING, _BOOL = "number", "integer", "string", "bool"
_TRAINING_RULES: dict[str, tuple[str, float | None, float | None, tuple[str, ...]]] = {
    "optimizer": (_STRING, None, None, OPTIMIZERS),
    "learning_rate": (_NUMBER, 1e-12, 10.0, ()),
    "l1": (_NUMBER, 0.0, 100.0, ()),
    "l2": (_NUMBER, 0.0, 100.0, ()),
    "batch_size": (_INTEGER, 1, 1_000_000, ()),
    "max_epochs": (_INTEGER, 1, 100_000, ()),
    "lr_schedule": (_STRING, None, None, LR_SCHEDULES),
    "clip_norm": (_NUMBER, 0.0, 1e6, ()),
    "shift": (_INTEGER, 0, 64, ()),
    "warmup_epochs": (_INTEGER, 0, 1000, ()),
    "early_stopping": (_BOOL, None, None, ()),
    # The [compression] section (genomes hold these genes with the training ones).
    "prune": (_NUMBER, 0.0, 0.99, ()),
    "precision": (_STRING, None, None, PRECISIONS),
    "finetune_epochs": (_INTEGER, 0, 1000, ()),
}
#: Keys of the ``[compression]`` section (see :mod:`evosearch.nn.compress`).
COMPRESSION_KEYS = ("prune", "precision", "finetune_epochs")
_TRAINING_KEYS = tuple(k for k in _TRAINING_RULES if k not in COMPRESSION_KEYS)


def section_of(key: str) -> str:
    """The search-space section of training gene ``key``."""
    return "compression" if key in COMPRESSION_KEYS else "training"


_DEFAULT_TRAINING: dict[str, Any] = {
    # Not adadelta: spaces that leave the key out search what they searched before it existed.
    "optimizer": [o for o in OPTIMIZERS if o != "adadelta"],
    "learning_rate": {"low": 1e-4, "high": 1e-1, "log": True},
    "l1": {"low": 1e-8, "high": 1e-3, "log": True},
    "l2": {"low": 1e-6, "high": 1e-1, "log": True},
    "batch_size": [32, 64, 128, 256],
    "max_epochs": [50, 100],
    **OPTIONAL_TRAINING,
}
