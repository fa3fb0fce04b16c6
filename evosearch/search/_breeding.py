"""Making genomes: the random initial population, and children of tournament-chosen parents.

Every random draw comes from the run's generator, in a fixed order, so that a seed reproduces
a run and a resume continues it exactly.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from evosearch.data import Dataset, parse_input_shape
from evosearch.errors import DataError, InvalidGenomeError, SettingsError
from evosearch.evaluation import Evaluator
from evosearch.preprocess import DataProfile, encoded_width
from evosearch.search._checkpoint import RunState
from evosearch.search._journalled import JournalledEvaluation
from evosearch.search.fidelity_plan import screened
from evosearch.search.halving import MakeChildren, Schedule
from evosearch.search.member import Member
from evosearch.search.selection import select_parents
from evosearch.search.settings import RunSettings
from evosearch.space import (
    Genome,
    InnovationCounter,
    SearchSpace,
    cx_aligned,
    mut_hyperparameter,
    mutate,
)
from evosearch.space.preprocessing import active_genes, sample_preprocessing

__all__ = ["Breeder", "image_shape"]

# How often a child equal to an evaluated genome is mutated again before it is accepted anyway.
_NOVELTY_TRIES = 10


class Breeder:
    """Makes genomes for one run.

    Parameters
    ----------
    space : SearchSpace
    population_size : int
    crossover_rate : float
    weights : sequence of float
        The objectives' weights (parent tournaments compare objective vectors).
    within_budget : callable
        ``within_budget(genome)``: False for a genome never to train (e.g. over ``max_params``);
        such a child is mutated again, like a duplicate.
    profile : DataProfile, optional
        The data's profile: which preprocessing genes are active, and the input width their
        values give (:func:`~evosearch.preprocess.encoded_width`). None: no genes.
    """

    def __init__(
        self,
        space: SearchSpace,
        population_size: int,
        crossover_rate: float,
        weights: Sequence[float],
        within_budget: Callable[[Genome], bool],
        profile: DataProfile | None = None,
    ) -> None:
        self.space = space
        self.population_size = population_size
        self.crossover_rate = crossover_rate
        self.weights = tuple(weights)
        self.within_budget = within_budget
        self.profile = profile
        self.active = active_genes(space.preprocessing, profile)

    def _fit_input(self, genome: Genome) -> Genome:
        """Set the input width the genome's preprocessing gives on this data (in place)."""
        if self.profile is not None and self.profile.columns is not None:
            genome.graph.nodes[0]["units"] = encoded_width(self.profile, genome.preprocessing)
        return genome

    def _random(
        self,
        n_inputs: int,
        n_outputs: int,
        rng: np.random.Generator,
        innovations: InnovationCounter,
        input_shape: tuple[int, ...] | None = None,
    ) -> Genome:
        """A random genome, its active preprocessing genes drawn after the rest."""
        genome = Genome.random(self.space, n_inputs, n_outputs, rng, innovations, input_shape)
        if self.active:
            genome.preprocessing = sample_preprocessing(self.active, rng)
        return self._fit_input(genome)

    def _adapt(self, genome: Genome, rng: np.random.Generator) -> Genome:
        """A seed genome's preprocessing made the active genes of this data (kept where valid,
        drawn where missing)."""
        kept = {
            key: value
            for key, value in genome.preprocessing.items()
            if key in self.active and self.active[key].contains(value)
        }
        missing = {key: domain for key, domain in self.active.items() if key not in kept}
        genome.preprocessing = {**kept, **sample_preprocessing(missing, rng)}
        genome.preprocessing = {k: genome.preprocessing[k] for k in self.active}
        return self._fit_input(genome)

    def initial(
        self,
        seeds: Sequence[Genome],
        n_features: int,
        n_outputs: int,
        rng: np.random.Generator,
        innovations: InnovationCounter,
        input_shape: tuple[int, int, int] | None = None,
    ) -> list[Genome]:
        """The initial population: the fitting ``seeds`` first, then distinct random genomes.

        Empty when no genome is within the budget. ``input_shape``: the image shape of an
        image space's genomes (see :func:`image_shape`).
        """
        genomes: list[Genome] = []
        seen: set[str] = set()
        for seed_genome in seeds:
            genome = seed_genome.copy()
            genome.graph.nodes[0]["units"] = n_features
            if input_shape is not None:
                genome.graph.nodes[0]["shape"] = list(input_shape)
            genome.graph.nodes[1]["units"] = n_outputs
            self._adapt(genome, rng)  # draws only for active genes the seed lacks
            try:
                genome.validate(self.space)
            except InvalidGenomeError:
                continue  # the new settings changed the space: this genome no longer fits
            innovations.observe(genome)
            if not self.within_budget(genome):
                continue
            if genome.canonical_hash() not in seen and len(genomes) < self.population_size:
                seen.add(genome.canonical_hash())
                genomes.append(genome)
        for _ in range(self.population_size * _NOVELTY_TRIES):
            if len(genomes) == self.population_size:
                break
            genome = self._random(n_features, n_outputs, rng, innovations, input_shape)
            if genome.canonical_hash() not in seen and self.within_budget(genome):
                seen.add(genome.canonical_hash())
                genomes.append(genome)
        return genomes

    def children(
        self,
        population: list[Member],
        n_children: int,
        rng: np.random.Generator,
        innovations: InnovationCounter,
        evaluator: Evaluator,
    ) -> tuple[list[Genome], list[list[str]]]:
        """``n_children`` new children of ``population`` and their parents' hashes.

        Parents are picked by binary tournament on (Pareto rank, crowding distance); a child
        comes from aligned crossover (with ``crossover_rate``) and is always mutated; one equal
        to a genome already evaluated (or in this batch) or over the budget is mutated again.
        """
        # Failed members never parent: with their real (often small) size they would sit on
        # the first front of the tournament next to the smallest working model.
        candidates = [m for m in population if m.result.ok] or population
        objectives = [m.objectives for m in candidates]
        picks = select_parents(objectives, 2 * n_children, self.weights, rng)
        children: list[Genome] = []
        lineage: list[list[str]] = []
        batch: set[str] = set()
        for first, second in zip(picks[::2], picks[1::2], strict=True):
            mother, father = candidates[first], candidates[second]
            if rng.random() < self.crossover_rate and first != second:
                child = cx_aligned(mother.genome, father.genome, self.space, rng)
                parents = [mother.result.genome_hash, father.result.genome_hash]
            else:
                child = mother.genome
                parents = [mother.result.genome_hash]
            child = self._fit_input(mutate(child, self.space, rng, innovations)[0])
            for _ in range(_NOVELTY_TRIES):
                child_hash = child.canonical_hash()
                novel = child_hash not in batch and evaluator.lookup(child, child_hash) is None
                if novel and self.within_budget(child):
                    break
                child = self._fit_input(mutate(child, self.space, rng, innovations)[0])
            if not self.within_budget(child):
                # Still too big: a hyperparameter change of the parent keeps its (legal) size.
                child = mut_hyperparameter(mother.genome, self.space, rng, innovations)
            batch.add(child.canonical_hash())
            children.append(child)
            lineage.append(parents)
        return children, lineage

    def fresh(
        self,
        n_genomes: int,
        like: Genome,
        rng: np.random.Generator,
        innovations: InnovationCounter,
        evaluator: Evaluator,
    ) -> tuple[list[Genome], list[list[str]]]:
        """``n_genomes`` random genomes of the space for random search, without parents.

        They have ``like``'s input and output widths. A draw equal to a genome already
        evaluated (or in this batch) or over the budget is drawn again, up to a few times
        per genome; then one within the budget is taken anyway, as for children.
        """
        genomes: list[Genome] = []
        batch: set[str] = set()
        for _ in range(n_genomes):
            chosen = None
            for _ in range(_NOVELTY_TRIES):
                genome = self._random(
                    like.n_inputs, like.n_outputs, rng, innovations, like.input_shape
                )
                if not self.within_budget(genome):
                    continue
                chosen = genome
                genome_hash = genome.canonical_hash()
                if genome_hash not in batch and evaluator.lookup(genome, genome_hash) is None:
                    break
            if chosen is not None:
                batch.add(chosen.canonical_hash())
                genomes.append(chosen)
        return genomes, [[] for _ in genomes]

    def breed_function(
        self,
        state: RunState,
        evaluation: JournalledEvaluation,
        generation: int,
        deadline: float | None,
        schedule: Schedule,
        from_parents: bool = True,
        screen_factor: int = 1,
    ) -> Callable[[list[Member], int], list[Member]]:
        """The ``breed(population, n)`` a strategy gets: children of ``population`` (or, without
        ``from_parents``, fresh random genomes), evaluated for ``generation`` by ``schedule``
        (every fold, or successive halving); with a screening evaluator (``state.screening``)
        and ``screen_factor`` > 1, ``screen_factor`` times as many children are screened at
        low fidelity first and the most promising handed to ``schedule``
        (:func:`~evosearch.search.fidelity_plan.screened`)."""

        def breed(population: list[Member], n_children: int) -> list[Member]:
            def make(n: int) -> tuple[list[Genome], list[list[str]]]:
                if not from_parents:
                    like = population[0].genome
                    return self.fresh(n, like, state.rng, state.innovations, state.evaluator)
                return self.children(population, n, state.rng, state.innovations, state.evaluator)

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
                children = screened(make, evaluate_low, screen_factor, self.weights)
            return schedule(children, evaluate, n_children, self.weights)

        return breed


def initial_genomes(
    breeder: Breeder,
    seeds: Sequence[Genome],
    dataset: Dataset,
    state: RunState,
    shape: tuple[int, int, int] | None,
    settings: RunSettings,
    screen: Callable[[list[Genome], list[list[str]]], list[Member]],
) -> list[Genome]:
    """Generation 0's genomes: ``seeds`` first, then random ones (:meth:`Breeder.initial`).

    With a fidelity plan that screens (``settings.screen`` > 1) and no seeds, that many times
    the random genomes are drawn and screened at low fidelity by ``screen``, and the most
    promising population goes on (:func:`~evosearch.search.fidelity_plan.screened`).

    Raises
    ------
    SettingsError
        When no genome of the space is within the size budget.
    """
    n_outputs = len(np.unique(dataset.y)) if dataset.task == "classification" else 1
    factor = 1 if seeds else settings.screen

    def make(n: int) -> tuple[list[Genome], list[list[str]]]:
        wide = copy.copy(breeder)
        wide.population_size = n
        drawn = wide.initial(
            seeds, dataset.n_features, n_outputs, state.rng, state.innovations, shape
        )
        return drawn, [[] for _ in drawn]

    if factor > 1:
        genomes = screened(make, screen, factor, breeder.weights)(breeder.population_size)[0]
    else:
        genomes = make(breeder.population_size)[0]
    if not genomes:
        raise SettingsError(
            f"{breeder.within_budget} is below every random genome of this search space on "
            f"{dataset.n_features} features: raise it or allow smaller layers"
        )
    return genomes


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
