"""The strategy contract and the registry of strategies by name.

A strategy decides how one generation turns the population into the next: how many children
to breed, in how many steps, who parents them, how they are made, and who survives. It owns its
breeding as two parts it composes (:mod:`evosearch.search.strategies.breeding`): a
:class:`~evosearch.search.strategies.breeding.ParentSelection` and a
:class:`~evosearch.search.strategies.breeding.Variation`. The generation loop hands it one
``breed`` callable that makes children with those parts and evaluates them with the run's
evaluation schedule (every fold or successive halving, screened at low fidelity first with a
fidelity plan), so :meth:`Strategy.next_generation` only transforms lists of
:class:`~evosearch.search.member.Member`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import ClassVar, NamedTuple

from evosearch.errors import SettingsError
from evosearch.registry import Registry
from evosearch.search.member import Member
from evosearch.search.strategies.breeding import (
    BreedingContext,
    Children,
    CrossoverMutation,
    ParentSelection,
    ParetoTournament,
    Variation,
)

__all__ = [
    "STRATEGIES",
    "Breed",
    "Generation",
    "Strategy",
    "get_strategy",
    "register_strategy",
    "strategy_names",
]

#: ``breed(population, n)``: make ``n`` children of ``population`` with the strategy's
#: breeding parts (:meth:`Strategy.make_children`) and return them evaluated (failed ones
#: included, ``result.ok`` False), in breeding order; fewer when no genome is within the budget.
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
    - The constructor takes ``population_size``, the objectives' ``weights`` (one per
      objective, positive maximises, as in :mod:`evosearch.search.selection`) and the run's
      ``focus``, one of the class attribute ``focuses``, whose first is the strategy's default
      (``("front",)`` unless the strategy can favour a part of the front;
      :class:`~evosearch.search.strategies.nsga2.NSGA2` has ``("accuracy", "front")``).
    - ``parent_selection`` (a :class:`~evosearch.search.strategies.breeding.ParentSelection`,
      default :class:`~evosearch.search.strategies.breeding.ParetoTournament`) and
      ``variation`` (a :class:`~evosearch.search.strategies.breeding.Variation`, default
      :class:`~evosearch.search.strategies.breeding.CrossoverMutation`): the breeding parts,
      class attributes. Random search is
      :class:`~evosearch.search.strategies.breeding.NoParents` with
      :class:`~evosearch.search.strategies.breeding.FreshGenomes`; a strategy with its own
      mutation subclasses ``CrossoverMutation`` and overrides ``mutate``. The parts are given the
      run's :class:`~evosearch.search.strategies.breeding.BreedingContext` (space, generator,
      innovation counter, evaluator, size budget, data profile, widths) on every call and keep
      no state of their own.
    - :meth:`make_children` composes them: ``n`` children of a population (the genomes and
      their parents' hashes). ``breed(population, n)`` calls it once, for more than ``n``
      children with halving or screening, then evaluates what it made; a strategy rarely
      overrides it.
    - :meth:`next_generation` is given the population (a list, oldest member first, each with
      its objective vector) and ``breed``; it returns the next population (at most
      ``population_size`` members, oldest first) and the offspring it evaluated. It must be
      deterministic: no randomness of its own (all random draws happen in the breeding parts,
      from the run's generator), the same inputs and the same ``breed`` outcomes giving the
      same result, so that a seed reproduces a run and a resume continues it exactly. It must
      not keep state between generations (a resumed run builds a fresh strategy).
    - Failed members (``member.result.ok`` False) may be returned only where nothing else
      fills the population.

    The evaluation schedule (every fold, or successive halving with ``halving=True``) and the
    fidelity plan's screening are the run's settings, not the strategy's: any strategy gets
    them through ``breed``.
    """

    name: ClassVar[str]
    parent_selection: ClassVar[ParentSelection] = ParetoTournament()
    variation: ClassVar[Variation] = CrossoverMutation()

    #: The run's ``focus`` values this strategy knows, its default (``focus="auto"``) first
    #: (``"front"``: no part of the front in particular).
    focuses: ClassVar[tuple[str, ...]] = ("front",)

    def __init__(
        self, population_size: int, weights: Sequence[float], focus: str | None = None
    ) -> None:
        focus = self.resolve_focus(focus)
        self.population_size = population_size
        self.weights = tuple(float(w) for w in weights)
        self.focus = focus

    @classmethod
    def resolve_focus(cls, focus: str | None) -> str:
        """``focus`` as this strategy runs it: None or ``"auto"`` is its own (the first of
        ``focuses``).

        Raises
        ------
        SettingsError
            For a focus the strategy does not know (one line naming what it knows).
        """
        resolved = cls.focuses[0] if focus is None or focus == "auto" else focus
        if resolved not in cls.focuses:
            raise SettingsError(
                f"focus {resolved!r} is not one strategy {cls.name!r} knows "
                f"(it knows: {', '.join(cls.focuses)})"
            )
        return resolved

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "breeds_from_parents" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__}.breeds_from_parents is gone: a strategy owns its breeding; "
                "random search sets parent_selection = NoParents() and "
                "variation = FreshGenomes() (evosearch.search.strategies.breeding)"
            )

    def make_children(self, population: list[Member], n: int, context: BreedingContext) -> Children:
        """``n`` new children of ``population``: ``parent_selection`` picks their parents,
        ``variation`` makes them (see :mod:`evosearch.search.strategies.breeding`)."""
        parents = self.parent_selection.select(population, n, context)
        return self.variation.vary(parents, context)

    def admit(self, population: list[Member], child: Member) -> list[Member]:
        """The population after one evaluated ``child`` arrives: the steady-state search
        (``steady_state=True``) calls it for every result as it lands, instead of
        :meth:`next_generation`, and breeds each new child from what it returns.

        Same rules as :meth:`next_generation`: at most ``population_size`` members, oldest
        first, deterministic, no state kept. A strategy that does not define it cannot run
        steady-state (:meth:`supports_steady_state`).
        """
        raise NotImplementedError(f"strategy {self.name!r} has no steady-state replacement")

    @classmethod
    def supports_steady_state(cls) -> bool:
        """Whether the strategy defines :meth:`admit` (a population that changes one member
        at a time), so that ``steady_state=True`` can run it."""
        return cls.admit is not Strategy.admit

    @abstractmethod
    def next_generation(self, population: list[Member], breed: Breed) -> Generation:
        """Breed, evaluate and select one generation.

        Parameters
        ----------
        population : list of Member
            The current population, oldest first.
        breed : Breed
            Makes children of a population with this strategy's breeding parts and
            evaluates them (see :data:`Breed`).

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
