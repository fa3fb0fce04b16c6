"""Random search: every generation samples fresh random genomes of the space, no parents.

The baseline an evolutionary result has to beat on the same space and budget. It is a strategy
like the others whose breeding parts choose no parents (:class:`NoParents`) and draw fresh
genomes (:class:`FreshGenomes`): children are drawn with :meth:`Genome.random` from the run's
generator, through the same screening as bred children (a genome over ``max_params``, or equal
to one already evaluated, is drawn again), so a
random-search run is journalled, archived, resumable and reproducible like any other, and
successive halving applies to it as well. The population it keeps is NSGA-II's best of
everything so far: it breeds nothing, but it makes the generation rows (mean score, median
size) comparable with the other strategies'.
"""

from __future__ import annotations

from typing import ClassVar

from evosearch.search.member import Member
from evosearch.search.strategies.base import Breed, Generation, Strategy
from evosearch.search.strategies.breeding import (
    FreshGenomes,
    NoParents,
    ParentSelection,
    Variation,
)
from evosearch.search.strategies.nsga2 import NSGA2

__all__ = ["RandomSearch"]


class RandomSearch(Strategy):
    """``population_size`` fresh random genomes per generation; NSGA-II keeps the population."""

    name = "random"
    parent_selection: ClassVar[ParentSelection] = NoParents()
    variation: ClassVar[Variation] = FreshGenomes()

    def next_generation(self, population: list[Member], breed: Breed) -> Generation:
        offspring = breed(population, self.population_size)
        keep = NSGA2(self.population_size, self.weights).survivors(population + offspring)
        return Generation(keep, offspring)

    def admit(self, population: list[Member], child: Member) -> list[Member]:
        """NSGA-II's best of the population and the child (nothing is bred from it)."""
        return NSGA2(self.population_size, self.weights).survivors([*population, child])
