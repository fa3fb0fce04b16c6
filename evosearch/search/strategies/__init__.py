"""Search strategies, one module each, in a registry by name: ``nsga2``, ``aging``, ``random``.

A new strategy subclasses :class:`Strategy`, composes its breeding parts
(:mod:`evosearch.search.strategies.breeding`: a :class:`ParentSelection` and a
:class:`Variation`) and is registered with :func:`register_strategy`; ``Evolver(strategy=name)``
then uses it and the contract suite (:mod:`evosearch.testing.strategies`) tests it, its parts
included.
"""

from evosearch.search.strategies.aging import Aging
from evosearch.search.strategies.base import (
    STRATEGIES,
    Breed,
    Generation,
    Strategy,
    get_strategy,
    register_strategy,
    strategy_names,
)
from evosearch.search.strategies.breeding import (
    BreedingContext,
    Children,
    CrossoverMutation,
    FreshGenomes,
    NoParents,
    Parents,
    ParentSelection,
    ParetoTournament,
    Variation,
)
from evosearch.search.strategies.nsga2 import NSGA2
from evosearch.search.strategies.random import RandomSearch

# The built-ins, registered here in this order (error messages list them so); a plug-in
# registers itself in its own module.
register_strategy(NSGA2)
register_strategy(Aging)
register_strategy(RandomSearch)

__all__ = [
    "NSGA2",
    "STRATEGIES",
    "Aging",
    "Breed",
    "BreedingContext",
    "Children",
    "CrossoverMutation",
    "FreshGenomes",
    "Generation",
    "NoParents",
    "ParentSelection",
    "Parents",
    "ParetoTournament",
    "RandomSearch",
    "Strategy",
    "Variation",
    "get_strategy",
    "register_strategy",
    "strategy_names",
]
