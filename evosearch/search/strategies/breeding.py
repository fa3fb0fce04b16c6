"""A strategy's breeding parts: who parents the children, and how children are made of them.

A strategy (:class:`~evosearch.search.strategies.Strategy`) composes two parts, as Optuna's
NSGA-II sampler takes its crossover and mutation injected:

* a :class:`ParentSelection`: ``select(population, n, context)`` gives ``n`` groups of
  :data:`Parents`, one per child (:class:`ParetoTournament`, binary tournaments on Pareto rank
  and crowding; :class:`NoParents` for random search);
* a :class:`Variation`: ``vary(parents, context)`` makes the children of those groups and
  their lineage (:class:`CrossoverMutation`, aligned crossover with ``crossover_rate`` then
  mutation; :class:`FreshGenomes`, fresh random genomes of the space).

Everything of the run a part needs comes in the :class:`BreedingContext`: the space, the run's
random generator and innovation counter, the evaluator (which genomes are already known), the
size budget, the data's profile and the genomes' input and output widths. Parts keep no state of
their own and draw every random number from ``context.rng``, so that a seed reproduces a run and
a resume continues it exactly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from evosearch.evaluation import Evaluator
from evosearch.preprocess import DataProfile, encoded_width
from evosearch.search.member import Member
from evosearch.search.selection import select_parents
from evosearch.space import (
    Genome,
    InnovationCounter,
    SearchSpace,
    cx_aligned,
    mut_hyperparameter,
    mutate,
)
from evosearch.space.preprocessing import active_genes, sample_preprocessing

__all__ = [
    "NOVELTY_TRIES",
    "BreedingContext",
    "Children",
    "CrossoverMutation",
    "FreshGenomes",
    "NoParents",
    "ParentSelection",
    "Parents",
    "ParetoTournament",
    "Variation",
]

#: How often a child equal to an evaluated genome (or over the size budget) is made again
#: before it is accepted anyway.
NOVELTY_TRIES = 10

#: The parents of one child: two members (crossover may combine them), one (a member drawn
#: twice, or a one-parent scheme), or none (random search).
Parents = tuple[Member, ...]


class Children(NamedTuple):
    """What a :class:`Variation` makes: the genomes and, for each, its parents' hashes."""

    genomes: list[Genome]
    lineage: list[list[str]]


@dataclass(frozen=True)
class BreedingContext:
    """What a run gives its breeding parts; built by the generation loop.

    Attributes
    ----------
    space : SearchSpace
    rng : numpy.random.Generator
        The run's generator: the only source of randomness.
    innovations : InnovationCounter
        The run's innovation ids for new layers.
    evaluator : Evaluator
        The run's (full-fidelity) evaluator: ``evaluator.lookup`` finds an evaluated genome.
    within_budget : callable
        ``within_budget(genome)``: False for a genome never to train (over ``max_params`` or
        ``max_bytes``).
    weights : tuple of float
        The objectives' weights (positive maximises), as in :mod:`evosearch.search.selection`.
    crossover_rate : float
        The run's ``crossover_rate`` setting.
    n_inputs, n_outputs : int
        The data's features and the genomes' outputs (classes, or 1).
    input_shape : tuple of int, optional
        The image shape of an image space's genomes; None for other spaces.
    profile : DataProfile, optional
        The data's profile: which preprocessing genes are active, and the input width their
        values give (:func:`~evosearch.preprocess.encoded_width`). None: no genes.
    in_flight : collection of str
        Hashes of genomes submitted and not yet evaluated (the steady-state search's): not
        new either.
    """

    space: SearchSpace
    rng: np.random.Generator
    innovations: InnovationCounter
    evaluator: Evaluator
    within_budget: Callable[[Genome], bool]
    weights: tuple[float, ...]
    crossover_rate: float
    n_inputs: int
    n_outputs: int
    input_shape: tuple[int, int, int] | None = None
    profile: DataProfile | None = None
    in_flight: Collection[str] = ()
    #: The preprocessing genes a genome carries on this data (name -> domain).
    active: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "active", active_genes(self.space.preprocessing, self.profile))

    def fit_input(self, genome: Genome) -> Genome:
        """Set the input width ``genome``'s preprocessing gives on this data (in place): a
        table's encoding, and the point-mass flags of a table or a plain matrix."""
        profile = self.profile
        if profile is not None and (profile.columns is not None or profile.point_masses):
            genome.graph.nodes[0]["units"] = encoded_width(profile, genome.preprocessing)
        return genome

    def random_genome(self) -> Genome:
        """A random genome of the space for this data, its active preprocessing genes drawn
        after the rest."""
        genome = Genome.random(
            self.space, self.n_inputs, self.n_outputs, self.rng, self.innovations, self.input_shape
        )
        if self.active:
            genome.preprocessing = sample_preprocessing(self.active, self.rng)
        return self.fit_input(genome)

    def adapt(self, genome: Genome) -> Genome:
        """A seed genome's preprocessing made the active genes of this data (kept where valid,
        drawn where missing), in place."""
        kept = {
            key: value
            for key, value in genome.preprocessing.items()
            if key in self.active and self.active[key].contains(value)
        }
        missing = {key: domain for key, domain in self.active.items() if key not in kept}
        genome.preprocessing = {**kept, **sample_preprocessing(missing, self.rng)}
        genome.preprocessing = {k: genome.preprocessing[k] for k in self.active}
        return self.fit_input(genome)

    def is_new(self, genome: Genome, batch: set[str]) -> bool:
        """Whether ``genome`` is neither in ``batch`` (hashes) nor already evaluated."""
        genome_hash = genome.canonical_hash()
        return (
            genome_hash not in batch
            and genome_hash not in self.in_flight
            and self.evaluator.lookup(genome, genome_hash) is None
        )


class ParentSelection(ABC):
    """Chooses the parents of the children a generation makes.

    Contract: :meth:`select` returns ``n`` groups of :data:`Parents` (members of
    ``population``), one per child, in breeding order; random draws come from ``context.rng``
    only, and the part keeps no state between calls.
    """

    @abstractmethod
    def select(self, population: list[Member], n: int, context: BreedingContext) -> list[Parents]:
        """The parents of ``n`` children of ``population`` (oldest member first)."""


class ParetoTournament(ParentSelection):
    """Binary tournaments on (Pareto rank, crowding distance), two per child
    (:func:`~evosearch.search.selection.select_parents`).

    Failed members never parent (unless every member failed): with their real, often small,
    size they would sit on the first front next to the smallest working model. A child whose
    two tournaments picked the same member has that one parent.
    """

    def select(self, population: list[Member], n: int, context: BreedingContext) -> list[Parents]:
        candidates = [m for m in population if m.result.ok] or population
        objectives = [m.objectives for m in candidates]
        picks = select_parents(objectives, 2 * n, context.weights, context.rng)
        return [
            (candidates[first],) if first == second else (candidates[first], candidates[second])
            for first, second in zip(picks[::2], picks[1::2], strict=True)
        ]


class NoParents(ParentSelection):
    """No parents at all (random search): ``n`` empty groups, no random draw."""

    def select(self, population: list[Member], n: int, context: BreedingContext) -> list[Parents]:
        return [() for _ in range(n)]


class Variation(ABC):
    """Makes children of groups of parents.

    Contract: :meth:`vary` returns at most one child per group, in order, each a valid genome
    of ``context.space`` for this data (input width fitted, :meth:`BreedingContext.fit_input`)
    and, as far as it can, within ``context.within_budget`` and new (not evaluated before, not
    twice in the batch); its lineage lists its parents' hashes. Random draws come from
    ``context.rng`` only (new layers numbered by ``context.innovations``), and the part keeps
    no state between calls.
    """

    @abstractmethod
    def vary(self, parents: Sequence[Parents], context: BreedingContext) -> Children:
        """The children of ``parents``, one group per child."""


class CrossoverMutation(Variation):
    """NEAT-style aligned crossover (with ``context.crossover_rate``, two parents only), then
    one mutation, always.

    A child equal to a genome already evaluated (or made earlier in the batch) or over the size
    budget is mutated again, up to :data:`NOVELTY_TRIES` times; one still over the budget is
    replaced by :meth:`fallback` of its first parent. A subclass changes one operator by
    overriding :meth:`crossover`, :meth:`mutate` or :meth:`fallback`.
    """

    def crossover(self, mother: Genome, father: Genome, context: BreedingContext) -> Genome:
        """The child of two parents: :func:`~evosearch.space.cx_aligned`."""
        return cx_aligned(mother, father, context.space, context.rng)

    def mutate(self, genome: Genome, context: BreedingContext) -> Genome:
        """A mutated copy of ``genome``: one of :func:`~evosearch.space.mutate`'s operators."""
        return mutate(genome, context.space, context.rng, context.innovations)[0]

    def fallback(self, parent: Genome, context: BreedingContext) -> Genome:
        """The child when none within the budget was found: a hyperparameter change of the
        (legal-sized) parent keeps its size."""
        return mut_hyperparameter(parent, context.space, context.rng, context.innovations)

    def vary(self, parents: Sequence[Parents], context: BreedingContext) -> Children:
        children: list[Genome] = []
        lineage: list[list[str]] = []
        batch: set[str] = set()
        for group in parents:
            mother = group[0]
            # Drawn for every child, so the draws do not depend on who was picked.
            if context.rng.random() < context.crossover_rate and len(group) > 1:
                child = self.crossover(mother.genome, group[1].genome, context)
                hashes = [mother.result.genome_hash, group[1].result.genome_hash]
            else:
                child = mother.genome
                hashes = [mother.result.genome_hash]
            child = context.fit_input(self.mutate(child, context))
            for _ in range(NOVELTY_TRIES):
                if context.is_new(child, batch) and context.within_budget(child):
                    break
                child = context.fit_input(self.mutate(child, context))
            if not context.within_budget(child):
                child = self.fallback(mother.genome, context)
            batch.add(child.canonical_hash())
            children.append(child)
            lineage.append(hashes)
        return Children(children, lineage)


class FreshGenomes(Variation):
    """Fresh random genomes of the space (random search): one per group, parents ignored.

    A draw equal to a genome already evaluated (or in this batch) or over the budget is drawn
    again, up to :data:`NOVELTY_TRIES` times per genome; then the last one within the budget is
    taken anyway, and none when no draw was within it.
    """

    def vary(self, parents: Sequence[Parents], context: BreedingContext) -> Children:
        genomes: list[Genome] = []
        batch: set[str] = set()
        for _ in parents:
            chosen = None
            for _ in range(NOVELTY_TRIES):
                genome = context.random_genome()
                if not context.within_budget(genome):
                    continue
                chosen = genome
                if context.is_new(genome, batch):
                    break
            if chosen is not None:
                batch.add(chosen.canonical_hash())
                genomes.append(chosen)
        return Children(genomes, [[] for _ in genomes])
