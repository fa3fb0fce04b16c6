"""Generational NSGA-II: parents and children compete, the best ``population_size`` survive."""

from __future__ import annotations

from evosearch.search.member import Member
from evosearch.search.selection import select_survivors_focused
from evosearch.search.strategies.base import Breed, Generation, Strategy

__all__ = ["ACCURACY_SHARE", "NSGA2"]

#: With ``focus="accuracy"``: the share of the survivors that are the most accurate ones.
ACCURACY_SHARE = 0.5


class NSGA2(Strategy):
    """``population_size`` children per generation; survivors by NSGA-II over parents + children.

    Children come from the default breeding parts: parents by binary Pareto tournament
    (:class:`~evosearch.search.strategies.breeding.ParetoTournament`), then aligned crossover and
    mutation (:class:`~evosearch.search.strategies.breeding.CrossoverMutation`).

    ``focus="accuracy"`` (its default) keeps the :data:`ACCURACY_SHARE` best-scoring members
    whatever their size and lets NSGA-II choose the rest
    (:func:`~evosearch.search.selection.select_survivors_focused`): the front's accurate end
    breeds as much as a search for accuracy alone would, its small end still spreads.
    ``focus="front"``: plain NSGA-II, survivors spread evenly over the front.

    Failures take part only to fill places nobody else can: a failed genome keeps its real
    (often small) parameter count, which would put it on the first front next to the smallest
    working model if it took part in the sorting.
    """

    name = "nsga2"
    focuses = ("accuracy", "front")

    def next_generation(self, population: list[Member], breed: Breed) -> Generation:
        offspring = breed(population, self.population_size)
        return Generation(self.survivors(population + offspring), offspring)

    def admit(self, population: list[Member], child: Member) -> list[Member]:
        """(μ+1) NSGA-II: the worst of the population and the child by rank and crowding
        leaves (with ``focus="accuracy"``, never one of the most accurate share)."""
        return self.survivors([*population, child])

    def survivors(self, pool: list[Member]) -> list[Member]:
        """NSGA-II over the successful members of ``pool``, then failures to fill up."""
        working = [m for m in pool if m.result.ok]
        failed = [m for m in pool if not m.result.ok]
        k = min(self.population_size, len(working))
        share = ACCURACY_SHARE if self.focus == "accuracy" else 0.0
        keep = select_survivors_focused([m.objectives for m in working], k, self.weights, share)
        return [working[i] for i in keep] + failed[: self.population_size - k]
