"""The ``params`` objective: the decoded network's parameter count (``n_params`` in old runs)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from evosearch.objectives.base import Objective, TrainedResult, register_objective

if TYPE_CHECKING:
    from evosearch.space import Genome

__all__ = ["DEFAULT_PARAM_REFERENCE", "Params"]

#: Parameter count that maps to the worst hypervolume coordinate (0).
DEFAULT_PARAM_REFERENCE = 1e7


class Params(Objective):
    """Parameter count, minimised; known before training (the genome says it).

    Normalised on a log scale: ``clip(1 - log10(max(n, 1)) / log10(reference), 0, 1)``, 1 for a
    single parameter and 0 at ``reference`` parameters or more.

    Parameters
    ----------
    reference : float, default=1e7
        Parameter count mapped to 0; a finite number > 1.
    """

    name = "params"
    direction = -1
    known_before_training = True
    label = "params"

    def __init__(self, reference: float = DEFAULT_PARAM_REFERENCE) -> None:
        if not (math.isfinite(reference) and reference > 1):
            raise ValueError(f"param_reference must be a finite number > 1, got {reference}")
        self.reference = float(reference)

    def value(self, genome: Genome, result: TrainedResult | None = None) -> float:
        # The trained network's own count; equal to the genome's by the genome invariants.
        return float(genome.n_params() if result is None else result.n_params)

    def normalise(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        size = 1.0 - np.log10(np.maximum(values, 1.0)) / math.log10(self.reference)
        return np.clip(size, 0.0, 1.0)

    def format(self, value: float) -> str:
        return f"{int(value):,}"

    def __repr__(self) -> str:
        return f"Params(reference={self.reference:g})"


register_objective(Params)
