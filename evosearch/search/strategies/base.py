"""The strategy contract and the registry of strategies by name.

A strategy decides how one generation turns the population into the next: how many children
to breed, in how many steps, and who survives. Breeding (parent selection, crossover, mutation)
and evaluation (including a successive-halving schedule) are handed to it as one callable, so a
strategy only transforms lists of :class:`~evosearch.search.member.Member`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import ClassVar, NamedTuple

from evosearch.errors import SettingsError
from evosearch.registry import Registry
from evosearch.search.member import Member

__all__ = [
    "STRATEGIES",
    "Breed",
    "Generation",
    "Strategy",
    "get_strategy",
    "register_strategy",
    "strategy_names",
]

#: ``breed(population, n)``: make ``n`` children with parents drawn from ``population`` and
#: return them evaluated (failed ones included, ``result.ok`` False), in breeding order.
Breed = Callable[[list[Member], int], list[Member]]


class Generation(NamedTuple):
    """What a strategy returns: the next population and every child evaluated on the way."""

    population: list[Member]
    offspring: list[Member]


class Strategy(ABC):
    """How one generation of the search is made.

    Contract
    --------
    - ``name`` (class attribute): the registry key, recorded in ``run.json``.
    - The constructor takes ``population_size`` and the objectives' ``weights`` (one per
      objective, positive maximises, as in :mod:`evosearch.search.selection`).
    - :meth:`next_generation` is given the population (a list, oldest member first, each with
      its objective vector) and ``breed``; it returns the next population (at most
      ``population_size`` members, oldest first) and the offspring it evaluated. It must be
      deterministic: no randomness of its own (all random draws happen in ``breed``, from the
      run's generator), the same inputs and the same ``breed`` outcomes giving the same result,
      so that a seed reproduces a run and a resume continues it exactly. It must not keep state
      between generations (a resumed run builds a fresh strategy).
    - Failed members (``member.result.ok`` False) may be returned only where nothing else
      fills the population.
    - ``breeds_from_parents`` (class attribute, default True): False makes ``breed`` return
      fresh random genomes of the space instead of children of ``population`` (random
      search), screened and evaluated the same way.
    """

    name: ClassVar[str]
    breeds_from_parents: ClassVar[bool] = True

    def __init__(self, population_size: int, weights: Sequence[float]) -> None:
        self.population_size = population_size
        self.weights = tuple(float(w) for w in weights)

    @abstractmethod
    def next_generation(self, population: list[Member], breed: Breed) -> Generation:
        """Breed, evaluate and select one generation.

        Parameters
        ----------
        population : list of Member
            The current population, oldest first.
        breed : Breed
            Makes and evaluates children of given parents (see :data:`Breed`).

        Returns
        -------
        Generation
        """


#: The strategy classes by name (``nsga2``, ``aging``, ``random`` first); a miss is a
#: SettingsError.
STRATEGIES: Registry[type[Strategy]] = Registry("strategy", error=SettingsError, base=Strategy)


def register_strategy(strategy: type[Strategy]) -> type[Strategy]:
    """Register a strategy class under its ``name``; usable as a class decorator.

    Raises
    ------
    TypeError
        If ``strategy`` is not a :class:`Strategy` subclass with a name.
    """
    return STRATEGIES.register(strategy)


def strategy_names() -> list[str]:
    """The registered strategies' names, in registration order (the built-ins first)."""
    return STRATEGIES.names()


def get_strategy(name: str) -> type[Strategy]:
    """The strategy class registered as ``name``.

    Raises
    ------
    SettingsError
        If there is none (one line: the choices and the closest names).
    """
    return STRATEGIES.get(name)
