"""Search spaces (TOML -> :class:`SearchSpace`), genomes and the operators that vary them."""

from evosearch.space._training import value_of
from evosearch.space.genome import INPUT, OUTPUT, Genome, InnovationCounter
from evosearch.space.operators import cx_aligned, mut_hyperparameter, mutate
from evosearch.space.space import SearchSpace, list_presets

__all__ = [
    "INPUT",
    "OUTPUT",
    "Genome",
    "InnovationCounter",
    "SearchSpace",
    "cx_aligned",
    "list_presets",
    "mut_hyperparameter",
    "mutate",
    "value_of",
]
