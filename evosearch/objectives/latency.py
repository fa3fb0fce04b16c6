"""The ``latency`` objective: one row's prediction time, estimated by the run's cost model."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from evosearch.nn.cost_model import DEFAULT_LATENCY_MODEL, LatencyModel
from evosearch.objectives._scale import log_size
from evosearch.objectives.base import Objective, TrainedResult, register_objective

if TYPE_CHECKING:
    from evosearch.space import Genome

__all__ = ["LATENCY_REFERENCE_US", "Latency"]

#: Microseconds that map to the worst hypervolume coordinate (0): one second.
LATENCY_REFERENCE_US = 1e6


class Latency(Objective):
    """Estimated time to predict one row, in microseconds, minimised; known before training.

    The estimate is the run's :class:`~evosearch.nn.cost_model.LatencyModel` (a model file, this
    machine's cached model or one calibrated for the run, recorded in ``run.json``, so resume and
    any ``n_jobs`` give the same values) applied to the genome's layer shapes. Normalised on a
    log scale: ``clip(1 - log10(max(us, 1)) / 6, 0, 1)`` (1 µs or less is 1, one second or
    more 0).

    Parameters
    ----------
    model : LatencyModel, optional
        The cost model; default: :data:`~evosearch.nn.cost_model.DEFAULT_LATENCY_MODEL`.
    """

    name = "latency"
    direction = -1
    known_before_training = True
    label = "latency µs"

    def __init__(self, model: LatencyModel | None = None) -> None:
        self.model = model or DEFAULT_LATENCY_MODEL

    def value(self, genome: Genome, result: TrainedResult | None = None) -> float:
        return float(self.model.estimate(genome.layer_costs()) * 1e6)

    def normalise(self, values: np.ndarray) -> np.ndarray:
        return log_size(values, LATENCY_REFERENCE_US)

    def format(self, value: float) -> str:
        return f"{value:.1f}"


register_objective(Latency)
