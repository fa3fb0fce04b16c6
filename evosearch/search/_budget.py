"""Size budgets known before training (``max_params``, ``max_bytes``): which genomes may train."""

from __future__ import annotations

from evosearch.objectives import model_bytes
from evosearch.space import Genome

__all__ = ["SizeBudget"]


class SizeBudget:
    """A genome is within the budget when it has at most ``max_params`` parameters and a
    weight payload of at most ``max_bytes`` bytes (each None: no limit)."""

    def __init__(self, max_params: int | None, max_bytes: int | None) -> None:
        self.max_params, self.max_bytes = max_params, max_bytes

    def __call__(self, genome: Genome) -> bool:
        if self.max_params is not None and genome.n_params() > self.max_params:
            return False
        return self.max_bytes is None or model_bytes(genome) <= self.max_bytes

    def __str__(self) -> str:
        limits = [("max_params", self.max_params), ("max_bytes", self.max_bytes)]
        return " and ".join(f"{name}={value}" for name, value in limits if value is not None)
