"""Aging (regularized) evolution: children join, the oldest members leave, in small cycles."""

from __future__ import annotations

from evosearch.search.member import Member
from evosearch.search.strategies.base import Breed, Generation, Strategy

__all__ = ["Aging"]

# A generation's children are made in this many cycles.
_CYCLES = 4


class Aging(Strategy):
    """Each child replaces the oldest member whatever its fitness (Real et al., 2019).

    A generation is ``population_size`` children made in cycles of a quarter of it, each cycle
    bred from the population the previous cycles left (parents still chosen by Pareto
    tournament: the default breeding parts, :class:`ParetoTournament` and
    :class:`CrossoverMutation`); a failed child does not join.
    """

    name = "aging"

    def next_generation(self, population: list[Member], breed: Breed) -> Generation:
        offspring: list[Member] = []
        cycle = max(1, self.population_size // _CYCLES)
        while len(offspring) < self.population_size:
            n_children = min(cycle, self.population_size - len(offspring))
            children = breed(population, n_children)
            offspring += children
            joined = population + [m for m in children if m.result.ok]
            # Oldest first, so aging drops from the front.
            population = joined[max(0, len(joined) - self.population_size) :]
        return Generation(population, offspring)
