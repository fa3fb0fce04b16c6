"""Optional training genes: off unless a search space searches them.

A genome leaves such a key out of its hyperparameters while the gene has its "off" value, so it
hashes, trains and is written exactly as genomes did before the gene existed; a space whose
domain is only that value leaves the key out of ``to_dict`` and never draws or mutates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["OPTIONAL_TRAINING", "unsearched", "value_of", "without_off"]

#: Optional training gene -> the value that means off (the estimator's default).
OPTIONAL_TRAINING: dict[str, Any] = {"lr_schedule": "constant", "clip_norm": 0.0}


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
    from evosearch.space.space import Choice

    return {
        key
        for key, off in OPTIONAL_TRAINING.items()
        if key in training_params and training_params[key] == Choice((off,))
    }
