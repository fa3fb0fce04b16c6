"""Making genomes for the generation loop: the initial population, and ``breed``.

Generation 0 is the seeds and random genomes of the space (:func:`initial_population`); later
generations' children are made by the strategy's own breeding parts
(:meth:`~evosearch.search.strategies.Strategy.make_children`) and evaluated by the run's
schedule (:func:`breed_function`). Every random draw comes from the run's generator, in a fixed
order, so that a seed reproduces a run and a resume continues it exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from evosearch.data import Dataset, parse_input_shape
from evosearch.errors import DataError, InvalidGenomeError, SettingsError
from evosearch.search._checkpoint import RunState
from evosearch.search._journalled import JournalledEvaluation
from evosearch.search.fidelity_plan import screened
from evosearch.search.halving import MakeChildren, Schedule
from evosearch.search.member import Member
from evosearch.search.strategies import Breed, BreedingContext, Children, Strategy
from evosearch.search.strategies.breeding import NOVELTY_TRIES
from evosearch.space import Genome, SearchSpace

__all__ = ["breed_function", "image_shape", "initial_genomes", "initial_population"]


def initial_population(
    context: BreedingContext, seeds: Sequence[Genome], n_genomes: int
) -> list[Genome]:
    """``n_genomes`` genomes: the fitting ``seeds`` first, then distinct random genomes.

    Seeds get this data's widths (``context.n_inputs``, ``n_outputs``, ``input_shape``) and
    preprocessing genes; one that no longer fits the space or the budget is left out. Fewer
    (none) when too few random genomes are within the budget.
    """
    genomes: list[Genome] = []
    seen: set[str] = set()
    for seed_genome in seeds:
        genome = seed_genome.copy()
        genome.graph.nodes[0]["units"] = context.n_inputs
        if context.input_shape is not None:
            genome.graph.nodes[0]["shape"] = list(context.input_shape)
        genome.graph.nodes[1]["units"] = context.n_outputs
        context.adapt(genome)  # draws only for active genes the seed lacks
        try:
            genome.validate(context.space)
        except InvalidGenomeError:
            continue  # the new settings changed the space: this genome no longer fits
        context.innovations.observe(genome)
        if not context.within_budget(genome):
            continue
        if genome.canonical_hash() not in seen and len(genomes) < n_genomes:
            seen.add(genome.canonical_hash())
            genomes.append(genome)
    for _ in range(n_genomes * NOVELTY_TRIES):
        if len(genomes) == n_genomes:
            break
        genome = context.random_genome()
        if genome.canonical_hash() not in seen and context.within_budget(genome):
            seen.add(genome.canonical_hash())
            genomes.append(genome)
    return genomes


def initial_genomes(
    context: BreedingContext,
    seeds: Sequence[Genome],
    population_size: int,
    screen_factor: int,
    screen: Callable[[list[Genome], list[list[str]]], list[Member]],
) -> list[Genome]:
    """Generation 0's genomes: ``seeds`` first, then random ones (:func:`initial_population`).

    With a fidelity plan that screens (``screen_factor`` > 1) and no seeds, that many times
    the random genomes are drawn and screened at low fidelity by ``screen``, and the most
    promising population goes on (:func:`~evosearch.search.fidelity_plan.screened`).

    Raises
    ------
    SettingsError
        When no genome of the space is within the size budget.
    """
    factor = 1 if seeds else screen_factor

    def make(n: int) -> Children:
        drawn = initial_population(context, seeds, n)
        return Children(drawn, [[] for _ in drawn])

    if factor > 1:
        genomes = screened(make, screen, factor, context.weights)(population_size)[0]
    else:
        genomes = make(population_size)[0]
    if not genomes:
        raise SettingsError(
            f"{context.within_budget} is below every random genome of this search space on "
            f"{context.n_inputs} features: raise it or allow smaller layers"
        )
    return genomes


def breed_function(
    strategy: Strategy,
    context: BreedingContext,
    state: RunState,
    evaluation: JournalledEvaluation,
    generation: int,
    deadline: float | None,
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
