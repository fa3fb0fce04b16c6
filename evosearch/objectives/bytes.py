"""The ``bytes`` objective: the size of the model's weight payload, from shapes alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from evosearch.nn.compress import is_compressed, payload_bytes
from evosearch.objectives._scale import check_reference, log_size
from evosearch.objectives.base import Objective, TrainedResult, register_objective

if TYPE_CHECKING:
    from evosearch.space import Genome

__all__ = ["BYTES_PER_PARAMETER", "DEFAULT_BYTE_REFERENCE", "Bytes", "model_bytes"]

#: Bytes of one float32 parameter: the payload of an uncompressed model.
BYTES_PER_PARAMETER = 4

#: Bytes that map to the worst hypervolume coordinate (0): 10⁷ float32 parameters.
DEFAULT_BYTE_REFERENCE = 4e7


def model_bytes(genome: Genome) -> int:
    """Bytes of ``genome``'s weight payload as an export writes it: 4 per parameter (float32
    values), or with compression genes (``prune``, ``precision``) the compressed payload's
    exact size (:func:`evosearch.nn.compress.payload_bytes`)."""
    prune = float(genome.hyperparameters.get("prune", 0.0))
    precision = str(genome.hyperparameters.get("precision", "float32"))
    if not is_compressed(prune, precision):
        return BYTES_PER_PARAMETER * genome.n_params()
    return payload_bytes(genome.parameter_shapes(), prune, precision)


class Bytes(Objective):
    """Size of the weight payload in bytes, minimised; known before training.

    An uncompressed model stores every parameter as a float32: 4 bytes per parameter. With the
    compression genes of a ``[compression]`` section it is the exact size of the compressed
    payload (kept values, per-channel scales, sparsity pattern, biases) that ``export`` writes
    to ``weights.bin``: see :mod:`evosearch.nn.compress`.

    Normalised on a log scale: ``clip(1 - log10(max(b, 1)) / log10(reference), 0, 1)``.

    Parameters
    ----------
    reference : float, default=4e7
        Bytes mapped to 0; a finite number > 1.

    Examples
    --------
    >>> from evosearch.space import Genome
    >>> genome = Genome.chain(4, 3, [{"units": 8, "activation": "relu", "dropout": 0.0}], {})
    >>> Bytes().value(genome)  # 4 x (4 x 8 + 8 + 8 x 3 + 3)
    268.0
    """

    name = "bytes"
    direction = -1
    known_before_training = True
    label = "bytes"

    def __init__(self, reference: float = DEFAULT_BYTE_REFERENCE) -> None:
        self.reference = check_reference("byte reference", reference)

    def value(self, genome: Genome, result: TrainedResult | None = None) -> float:
        return float(model_bytes(genome))

    def normalise(self, values: np.ndarray) -> np.ndarray:
        return log_size(values, self.reference)

    def format(self, value: float) -> str:
        return f"{int(value):,}"


register_objective(Bytes)
