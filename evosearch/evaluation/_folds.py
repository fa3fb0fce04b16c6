"""A run's cross-validation folds: shuffled with the run's seed, stratified, groups kept whole."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

__all__ = ["make_folds"]


def make_folds(
    X: Any, y: np.ndarray, task: str, cv: int, seed: int, groups: np.ndarray | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``cv`` (train, test) row splits of a run: shuffled with ``seed``, stratified for
    classification, never splitting a group where ``groups`` are given."""
    splitter: Any
    if groups is not None:
        if task == "classification":
            splitter = StratifiedGroupKFold(cv, shuffle=True, random_state=seed)
        else:
            try:
                splitter = GroupKFold(cv, shuffle=True, random_state=seed)
            except TypeError:  # scikit-learn < 1.6: no shuffling, the same folds for any seed
                splitter = GroupKFold(cv)
        return list(splitter.split(np.zeros((len(y), 1)), y, groups))
    splitter = (
        StratifiedKFold(cv, shuffle=True, random_state=seed)
        if task == "classification"
        else KFold(cv, shuffle=True, random_state=seed)
    )
    return list(splitter.split(X, y))
