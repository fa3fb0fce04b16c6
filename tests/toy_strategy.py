"""A toy strategy plug-in, one file: ``hyperparameters``, NSGA-II whose children keep their
parent's architecture and only change a training hyperparameter.

A strategy owns its breeding: it keeps NSGA-II's parent selection and survivors and replaces
the mutation operator of the default variation. Registering it is all it takes to search with
it: ``Evolver(strategy="hyperparameters")`` in Python, or ``EVOSEARCH_PLUGINS=toy_strategy
evosearch evolve --strategy hyperparameters`` on the command line; the contract suite
(``evosearch.testing.strategies``) then tests it, its breeding parts included.
"""

from __future__ import annotations

from typing import ClassVar

from evosearch.search.strategies import (
    NSGA2,
    BreedingContext,
    CrossoverMutation,
    Variation,
    register_strategy,
)
from evosearch.space import Genome, mut_hyperparameter


class HyperparameterMutation(CrossoverMutation):
    """Aligned crossover as usual (with ``crossover_rate``), then a hyperparameter mutation."""

    def mutate(self, genome: Genome, context: BreedingContext) -> Genome:
        return mut_hyperparameter(genome, context.space, context.rng, context.innovations)


@register_strategy
class HyperparameterSearch(NSGA2):
    """NSGA-II that tunes the training of the architectures it has (and crosses them)."""

    name = "hyperparameters"
    variation: ClassVar[Variation] = HyperparameterMutation()
