"""Generational NSGA-II: parents and children compete, the best ``population_size`` survive."""

from __future__ import annotations

from evosearch.search.member import Member
from evosearch.search.selection import select_survivors
from evosearch.search.strategies.base import Breed, Generation, Strategy

__all__ = ["NSGA2"]


class NSGA2(Strategy):
    """``population_size`` children per generation; survivors by NSGA-II over parents + children.

    Children come from the default breeding parts: parents by binary Pareto tournament
    (:class:`~evosearch.search.strategies.breeding.ParetoTournament`), then aligned crossover and
    mutation (:class:`~evosearch.search.strategies.breeding.CrossoverMutation`).

    Failures take part only to fill places nobody else can: a failed genome keeps its real
    (often small) parameter count, which would put it on the first front next to the smallest
    working model if it took part in the sorting.
    """

    name = "nsga2"

    def next_generation(self, population: list[Member], breed: Breed) -> Generation:
        offspring = breed(population, self.population_size)
        return Generation(self.survivors(population + offspring), offspring)

    def survivors(self, pool: list[Member]) -> list[Member]:
        """NSGA-II over the successful members of ``pool``, then failures to fill up."""
        working = [m for m in pool if m.result.ok]
        failed = [m for m in pool if not m.result.ok]
        k = min(self.population_size, len(working))
        keep = select_survivors([m.objectives for m in working], k, self.weights)
        return [working[i] for i in keep] + failed[: self.population_size - k]
