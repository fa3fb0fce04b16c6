"""The ``flops`` objective: floating-point operations of one prediction, from shapes alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from evosearch.objectives._scale import check_reference, log_size
from evosearch.objectives.base import Objective, TrainedResult, register_objective

if TYPE_CHECKING:
    from evosearch.space import Genome

__all__ = ["DEFAULT_FLOP_REFERENCE", "Flops"]

#: FLOPs that map to the worst hypervolume coordinate (0).
DEFAULT_FLOP_REFERENCE = 1e11


class Flops(Objective):
    """FLOPs of one sample's forward pass, minimised; known before training.

    Two per multiply-add (:meth:`~evosearch.nn.LayerKind.macs` of each layer, summed over the
    graph: ``Genome.n_macs``); activations, biases and merges are not counted. A dense network
    makes about two FLOPs per weight.

    Normalised on a log scale: ``clip(1 - log10(max(f, 1)) / log10(reference), 0, 1)``.

    Parameters
    ----------
    reference : float, default=1e11
        FLOPs mapped to 0; a finite number > 1.

    Examples
    --------
    >>> from evosearch.space import Genome
    >>> genome = Genome.chain(4, 3, [{"units": 8, "activation": "relu", "dropout": 0.0}], {})
    >>> Flops().value(genome)  # 2 x (4 x 8 + 8 x 3)
    112.0
    """

    name = "flops"
    direction = -1
    known_before_training = True
    label = "FLOPs"

    def __init__(self, reference: float = DEFAULT_FLOP_REFERENCE) -> None:
        self.reference = check_reference("flop reference", reference)

    def value(self, genome: Genome, result: TrainedResult | None = None) -> float:
        return float(2 * genome.n_macs())

    def normalise(self, values: np.ndarray) -> np.ndarray:
        return log_size(values, self.reference)

    def format(self, value: float) -> str:
        return f"{int(value):,}"


register_objective(Flops)
