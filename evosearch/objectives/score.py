"""The ``score`` objective: mean cross-validated accuracy (classification) or R² (regression)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from evosearch.objectives.base import Objective, TrainedResult, register_objective

if TYPE_CHECKING:
    from evosearch.space import Genome

__all__ = ["Score"]


class Score(Objective):
    """Mean CV score, maximised; on the hypervolume scale clipped to ``[0, 1]``.

    A failed genome's score is the evaluator's failure score. A negative R² counts as 0.
    """

    name = "score"
    direction = 1
    known_before_training = False
    label = "score"

    def value(self, genome: Genome, result: TrainedResult | None = None) -> float:
        if result is None:
            raise ValueError("the score is only known after training")
        return result.score

    def normalise(self, values: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)

    def column_label(self, task: str) -> str:
        return "R²" if task == "regression" else "accuracy"


register_objective(Score)
