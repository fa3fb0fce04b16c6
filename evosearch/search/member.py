"""A member of the population: a genome, its evaluation, its lineage and objective vector."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evosearch.evaluation import EvaluationResult
from evosearch.objectives import Objective, objective_vector
from evosearch.space import Genome

__all__ = ["Member"]


@dataclass
class Member:
    """One evaluated genome of the population.

    Attributes
    ----------
    genome : Genome
    result : EvaluationResult
        Its cross-validation result (partial on a first halving rung).
    parents : list of str
        Hashes of its parents (empty in the initial population).
    generation : int
        The generation that evaluated it.
    objectives : tuple of float
        Its objective vector, in the run's objective order (not written to checkpoints:
        recomputed from genome and result when they are read back).
    """

    genome: Genome
    result: EvaluationResult
    parents: list[str]
    generation: int
    objectives: tuple[float, ...]

    @classmethod
    def evaluated(
        cls,
        genome: Genome,
        result: EvaluationResult,
        parents: list[str],
        generation: int,
        objectives: Sequence[Objective],
    ) -> Member:
        """A member whose objective vector ``objectives`` compute from genome and result."""
        vector = objective_vector(objectives, genome, result)
        return cls(genome, result, parents, generation, vector)

    def to_dict(self) -> dict[str, Any]:
        return {
            "genome": self.genome.to_json(),
            "result": self.result.to_dict(),
            "parents": list(self.parents),
            "generation": self.generation,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], objectives: Sequence[Objective]) -> Member:
        return cls.evaluated(
            Genome.from_json(data["genome"]),
            EvaluationResult.from_dict(data["result"]),
            list(data["parents"]),
            int(data["generation"]),
            objectives,
        )
