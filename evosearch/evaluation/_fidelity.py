"""How faithfully an evaluator trains: which folds, how many of their rows, how many epochs.

:class:`Fidelity` is what an :class:`~evosearch.evaluation.Evaluator` applies to every fold it
trains (multi-fidelity search, see :mod:`evosearch.search.fidelity_plan`): only the first ``folds``
of the run's cross-validation folds, a seeded stratified subsample of ``rows`` of each fold's
training rows (the test rows stay whole, so scores stay comparable), and the genome's
``max_epochs`` capped at ``max_epochs`` and then scaled by ``epochs``. The subsample depends
on the run seed, the fold and the rung only, so it is the same for any ``n_jobs``, backend or
resume, and every candidate of a rung is ranked on the same rows (a fair comparison).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Fidelity"]


@dataclass(frozen=True)
class Fidelity:
    """One fidelity level of an evaluator.

    Parameters
    ----------
    rows : float, default=1.0
        Fraction of each training fold's rows trained on, in (0, 1].
    epochs : float, default=1.0
        Fraction of the (capped) ``max_epochs`` trained, in (0, 1]; at least one epoch.
    max_epochs : int, optional
        Cap on every genome's ``max_epochs``.
    folds : int, optional
        Train and score only the first ``folds`` CV folds (None: all).
    rung : int, default=0
        Which level this is (0: full fidelity); part of the subsample's seed.

    Examples
    --------
    >>> Fidelity(epochs=0.5, max_epochs=20).epochs_for(100)
    10
    >>> Fidelity().epochs_for(50)
    50
    """

    rows: float = 1.0
    epochs: float = 1.0
    max_epochs: int | None = None
    folds: int | None = None
    rung: int = 0

    def epochs_for(self, max_epochs: int) -> int:
        """The epochs a genome whose gene says ``max_epochs`` trains at this fidelity."""
        capped = max_epochs if self.max_epochs is None else min(max_epochs, self.max_epochs)
        return max(1, math.ceil(capped * self.epochs - 1e-9))

    def hyperparameters(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        """A genome's training hyperparameters at this fidelity."""
        epochs = self.epochs_for(int(hyperparameters["max_epochs"]))
        if epochs == hyperparameters["max_epochs"]:
            return hyperparameters
        return {**hyperparameters, "max_epochs": epochs}

    def apply(
        self, folds: list[tuple[np.ndarray, np.ndarray]], y: np.ndarray, task: str, seed: int
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The folds at this fidelity: the first ``folds`` of them, training rows subsampled."""
        chosen = folds if self.folds is None else folds[: self.folds]
        if self.rows >= 1.0:
            return list(chosen)
        return [
            (self._subsample(train, y, task, seed, fold), test)
            for fold, (train, test) in enumerate(chosen)
        ]

    def _subsample(
        self, train: np.ndarray, y: np.ndarray, task: str, seed: int, fold: int
    ) -> np.ndarray:
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), fold, self.rung, 1]))
        if task != "classification":
            n = max(1, math.ceil(self.rows * train.size))
            return np.sort(rng.choice(train, n, replace=False))
        # Stratified: every class keeps its share and at least two rows (early stopping's
        # validation slice and every class's output column need them).
        labels = y[train]
        kept = []
        for label in np.unique(labels):
            rows = train[labels == label]
            n = min(rows.size, max(2, math.ceil(self.rows * rows.size)))
            kept.append(rng.choice(rows, n, replace=False))
        return np.sort(np.concatenate(kept))
