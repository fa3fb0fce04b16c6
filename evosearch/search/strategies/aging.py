"""Aging (regularized) evolution: children join, the oldest members leave, in small cycles."""

from __future__ import annotations

import math

from evosearch.search.member import Member
from evosearch.search.selection import best_on_first
from evosearch.search.strategies.base import Breed, Generation, Strategy
from evosearch.search.strategies.nsga2 import ACCURACY_SHARE

__all__ = ["Aging"]

# A generation's children are made in this many cycles.
_CYCLES = 4


class Aging(Strategy):
    """Each child replaces the oldest member whatever its fitness (Real et al., 2019).

    A generation is ``population_size`` children made in cycles of a quarter of it, each cycle
    bred from the population the previous cycles left (parents still chosen by Pareto
    tournament: the default breeding parts, :class:`ParetoTournament` and
    :class:`CrossoverMutation`); a failed child does not join. With ``focus="accuracy"`` the
    most accurate :data:`~evosearch.search.strategies.nsga2.ACCURACY_SHARE` of the population
    never age out: the oldest of the others leave instead.
    """

    name = "aging"
    focuses = ("front", "accuracy")

    def next_generation(self, population: list[Member], breed: Breed) -> Generation:
        offspring: list[Member] = []
        cycle = max(1, self.population_size // _CYCLES)
        while len(offspring) < self.population_size:
            n_children = min(cycle, self.population_size - len(offspring))
            children = breed(population, n_children)
            offspring += children
            joined = population + [m for m in children if m.result.ok]
            population = self._age(joined)
        return Generation(population, offspring)

    def admit(self, population: list[Member], child: Member) -> list[Member]:
        """A working child joins and the oldest (unprotected) member leaves; a failed child
        does not join."""
        return self._age([*population, child]) if child.result.ok else population

    def _age(self, joined: list[Member]) -> list[Member]:
        """The ``population_size`` youngest of ``joined`` (oldest first), the protected most
        accurate ones kept whatever their age under ``focus="accuracy"``."""
        excess = len(joined) - self.population_size
        if excess <= 0:
            return joined
        protected: set[int] = set()
        if self.focus == "accuracy":
            n_top = math.ceil(ACCURACY_SHARE * self.population_size)
            protected = set(best_on_first([m.objectives for m in joined], n_top, self.weights))
        leaving = [i for i in range(len(joined)) if i not in protected][:excess]
        gone = set(leaving)
        return [m for i, m in enumerate(joined) if i not in gone]
