"""A toy objective plug-in: ``depth``, the number of hidden layers, minimised.

Registering it is all it takes to search with it: ``Evolver(objectives=("score", "params",
"depth"))`` in Python, or ``EVOSEARCH_PLUGINS=toy_objective evosearch evolve --objectives
score,params,depth`` on the command line.
"""

from __future__ import annotations

import numpy as np

from evosearch.objectives import Objective, register_objective


class Depth(Objective):
    """Hidden layers of the genome; known before training; 10 or more layers normalise to 0."""

    name = "depth"
    direction = -1
    known_before_training = True
    label = "depth"

    def value(self, genome, result=None) -> float:  # type: ignore[no-untyped-def]
        return float(genome.depth)

    def normalise(self, values: np.ndarray) -> np.ndarray:
        return np.clip(1.0 - np.asarray(values, dtype=np.float64) / 10.0, 0.0, 1.0)

    def format(self, value: float) -> str:
        return str(int(value))


register_objective(Depth)
