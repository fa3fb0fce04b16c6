"""Making genomes for the generation loop: the initial population, and ``breed``.

Generation 0 is the seeds and random genomes of the space (:func:`initial_population`); later
generations' children are made by the strategy's own breeding parts
(:meth:`~evosearch.search.strategies.Strategy.make_children`) and evaluated by the run's
schedule (:func:`breed_function`). Every random draw comes from the run's generator, in a fixed
order, so that a seed reproduces a run and a resume continues it exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from evosearch.data import Dataset, parse_input_shape
from evosearch.errors import DataError, InvalidGenomeError, SettingsError
from evosearch.evaluation import Deadline
from evosearch.search._checkpoint import RunState
from evosearch.search._journalled import JournalledEvaluation
from evosearch.search.fidelity_plan import screened
from evosearch.search.halving import MakeChildren, Schedule
from evosearch.search.member import Member
from evosearch.search.strategies import Breed, BreedingContext, Children, Strategy
from evosearch.search.strategies.breeding import NOVELTY_TRIES
from evosearch.space import Genome, SearchSpace

__all__ = [
    "SeedUse",
    "breed_function",
    "image_shape",
    "initial_genomes",
    "initial_population",
]


@dataclass
class SeedUse:
    """What :func:`initial_population` made of its seeds.

    Attributes
    ----------
    origins : list of int
        Per genome made, the index of the seed it came from (-1: a random genome).
    unfit : int
        Seeds left out because they no longer fit the space or the size budget.
    duplicates : int
        Seeds left out because an equal genome was already in.
    surplus : int
        Seeds left out because the population, or the share of it that seeds may fill, was
        full.
    """

    origins: list[int] = field(default_factory=list)
    unfit: int = 0
    duplicates: int = 0
    surplus: int = 0

    @property
    def used(self) -> int:
        """Seeds in the population."""
        return sum(origin >= 0 for origin in self.origins)


def initial_population(
    context: BreedingContext,
    seeds: Sequence[Genome],
    n_genomes: int,
    use: SeedUse | None = None,
    max_seeds: int | None = None,
) -> list[Genome]:
    """``n_genomes`` genomes: the fitting ``seeds`` first, then distinct random genomes.

    Seeds get this data's widths (``context.n_inputs``, ``n_outputs``, ``input_shape``) and
    preprocessing genes; one that no longer fits the space or the budget is left out, and
    those beyond ``max_seeds`` (None: ``n_genomes``) too. Fewer (none) when too few random
    genomes are within the budget. ``use``, if given, is told where each genome came from and
    why seeds were left out.
    """
    use = SeedUse() if use is None else use
    room = n_genomes if max_seeds is None else min(n_genomes, max_seeds)
    genomes: list[Genome] = []
    seen: set[str] = set()
    for index, seed_genome in enumerate(seeds):
        genome = seed_genome.copy()
        genome.graph.nodes[0]["units"] = context.n_inputs
        if context.input_shape is not None:
            genome.graph.nodes[0]["shape"] = list(context.input_shape)
        genome.graph.nodes[1]["units"] = context.n_outputs
        context.adapt(genome)  # draws only for active genes the seed lacks
        try:
            genome.validate(context.space)
        except InvalidGenomeError:
            use.unfit += 1  # the new settings or data changed the space: it no longer fits
            continue
        context.innovations.observe(genome)
        if not context.within_budget(genome):
            use.unfit += 1
            continue
        if genome.canonical_hash() in seen:
            use.duplicates += 1
        elif len(genomes) == room:
            use.surplus += 1
        else:
            seen.add(genome.canonical_hash())
            genomes.append(genome)
            use.origins.append(index)
    for _ in range(n_genomes * NOVELTY_TRIES):
        if len(genomes) == n_genomes:
            break
        genome = context.random_genome()
        if genome.canonical_hash() not in seen and context.within_budget(genome):
            seen.add(genome.canonical_hash())
            genomes.append(genome)
            use.origins.append(-1)
    return genomes


def initial_genomes(
    context: BreedingContext,
    seeds: Sequence[Genome],
    population_size: int,
    screen_factor: int,
    screen: Callable[[list[Genome], list[list[str]]], list[Member]],
    seed_parents: Sequence[str | None] = (),
    use: SeedUse | None = None,
    max_seeds: int | None = None,
) -> Children:
    """Generation 0's genomes: ``seeds`` first, then random ones (:func:`initial_population`),
    with their lineage: a seed with a ``seed_parents`` entry (a warm start's earlier network)
    starts its folds from that entry of the weight store; the rest from fresh weights. At most
    ``max_seeds`` seeds are taken (None: as many as fit).

    With a fidelity plan that screens (``screen_factor`` > 1) and no seeds, that many times
    the random genomes are drawn and screened at low fidelity by ``screen``, and the most
    promising population goes on (:func:`~evosearch.search.fidelity_plan.screened`).

    Raises
    ------
    SettingsError
        When no genome of the space is within the size budget.
    """
    factor = 1 if seeds else screen_factor

    padded = [*seed_parents, *[None] * (len(seeds) - len(seed_parents))]

    def make(n: int) -> Children:
        seed_use = SeedUse()
        drawn = initial_population(context, seeds, n, seed_use, max_seeds)
        if use is not None:  # the last draw's (one draw: seeds turn screening off)
            use.__dict__.update(seed_use.__dict__)
        parents = [padded[origin] if origin >= 0 else None for origin in seed_use.origins]
        return Children(drawn, [[parent] if parent else [] for parent in parents])

    if factor > 1:
        children = screened(make, screen, factor, context.weights)(population_size)
    else:
        children = make(population_size)
    genomes, lineage = children
    if not genomes:
        raise SettingsError(
            f"{context.within_budget} is below every random genome of this search space on "
            f"{context.n_inputs} features: raise it or allow smaller layers"
        )
    return Children(genomes, lineage)


def breed_function(
    strategy: Strategy,
    context: BreedingContext,
    state: RunState,
    evaluation: JournalledEvaluation,
    generation: int,
    deadline: float | Deadline | None,
    schedule: Schedule,
    screen_factor: int = 1,
) -> Breed:
    """The ``breed(population, n)`` a strategy gets: children of ``population`` made by the
    strategy's breeding parts (:meth:`~evosearch.search.strategies.Strategy.make_children`),
    evaluated for ``generation`` by ``schedule`` (every fold, or successive halving); with a
    screening evaluator (``state.screening``) and ``screen_factor`` > 1, ``screen_factor`` times
    as many children are screened at low fidelity first and the most promising handed to
    ``schedule`` (:func:`~evosearch.search.fidelity_plan.screened`)."""

    def breed(population: list[Member], n_children: int) -> list[Member]:
        def make(n: int) -> Children:
            return strategy.make_children(population, n, context)

        def evaluate(
            genomes: list[Genome], lineage: list[list[str]], folds: list[int] | None
        ) -> list[Member]:
            return evaluation.evaluate(state, genomes, lineage, generation, deadline, folds)

        def evaluate_low(genomes: list[Genome], lineage: list[list[str]]) -> list[Member]:
            return evaluation.evaluate(
                state, genomes, lineage, generation, deadline, screening=True
            )

        children: MakeChildren = make
        if state.screening is not None and screen_factor > 1:
            children = screened(make, evaluate_low, screen_factor, context.weights)
        return schedule(children, evaluate, n_children, context.weights)

    return breed


def image_shape(
    space: SearchSpace, dataset: Dataset, input_shape: Any
) -> tuple[int, int, int] | None:
    """The image shape the genomes of ``space`` read: ``input_shape`` (the Evolver's setting,
    checked against the data) or the data's own; None for a space without image layers.

    Raises
    ------
    SettingsError
        If ``input_shape`` is malformed or does not match the features, or if an image space
        gets data without an image shape.
    """
    shape = dataset.input_shape
    if input_shape is not None:
        try:
            shape = parse_input_shape(input_shape, dataset.n_features)
        except DataError as exc:
            raise SettingsError(str(exc)) from None
    if not space.needs_image:
        return None
    if shape is None:
        raise SettingsError(
            f"genome {space.name!r} has image layers but the data ({dataset.n_features} "
            "features) have no image shape: give one with --input-shape HxW or HxWxC "
            "(input_shape= in Evolver)"
        )
    return shape
