"""The generation loop: breeds, evaluates and selects generations of a :class:`SearchRun`.

One generation: the strategy (:mod:`evosearch.search.strategies`) asks for children through
its breeding parts (parent selection, variation) and the evaluation schedule (every fold, or
successive halving; with a fidelity plan, screened on row subsamples first), says who survives,
and the all-time Pareto archive is updated and the generation written to the run folder.
"""

from __future__ import annotations

import time
import warnings
from functools import partial
from typing import Any

import numpy as np

from evosearch.errors import BudgetWarning, EvosearchError
from evosearch.evaluation import Deadline, DeadlineReached
from evosearch.preprocess import DataProfile
from evosearch.search import halving as schedules
from evosearch.search._breeding import SeedUse, breed_function, image_shape, initial_genomes
from evosearch.search._budget import SizeBudget
from evosearch.search._checkpoint import (
    GenerationRecord,
    checkpoint_data,
    finish_generation,
    generation_line,
    offer_to_archive,
)
from evosearch.search._journalled import JournalledEvaluation
from evosearch.search._refit_time import RefitReserve
from evosearch.search.ensemble_run import ensemble_members_now
from evosearch.search.member import Member
from evosearch.search.progress import verbose_reporters
from evosearch.search.run import SearchRun
from evosearch.search.strategies import Breed, BreedingContext, get_strategy
from evosearch.search.warm_start import seed_limit, warm_start_note
from evosearch.space import Genome

__all__ = ["GenerationLoop"]


class GenerationLoop:
    """Runs the generations of ``run`` up to its ``generations`` setting.

    Parameters
    ----------
    run : SearchRun
    owner : object
        What the callbacks are given (the Evolver).
    """

    def __init__(self, run: SearchRun, owner: Any) -> None:
        self.run = run
        self.owner = owner
        settings = run.settings
        self.strategy = get_strategy(settings.strategy)(
            settings.population_size, settings.weights, settings.focus
        )
        self.evaluation = JournalledEvaluation(
            run.folder,
            run.weights,
            settings.objective_set,
            lambda done, total: self.notify("on_evaluation_progress", done, total),
            run.results,
            run.oof,
        )
        self.profile = DataProfile.of(run.dataset)
        #: The run's callbacks, then what ``verbose`` prints (a session's, never recorded).
        self.callbacks = (*settings.callbacks, *verbose_reporters(settings.verbose))
        self.deadline_reached = False
        #: Generation 0's finished members when the deadline stopped it (else empty).
        self.partial: list[Member] = []
        #: The models a generation after the first finished before the deadline cut it.
        self.cut: list[Member] = []

    def notify(self, event: str, *args: Any) -> None:
        """Call ``event`` on every callback that has it."""
        for callback in self.callbacks:
            handler = getattr(callback, event, None)
            if handler is not None:
                handler(*args)

    def run_generations(self) -> None:
        """Evaluate generation 0 (unless restored) and the generations after it.

        At ``max_time``'s deadline the unfinished generation is cut: its finished evaluations
        are journalled, the checkpoint stays the last finished generation's (so a resume
        continues exactly) and ``deadline_reached`` is set. The models it finished are offered
        to the archive all the same (``partial`` holds generation 0's, ``cut`` a later one's;
        nothing more is written to the checkpoint): a budget shorter than the initial
        population still gives the best model found, and on a slow table, where one
        generation is a large share of the budget, the models a cut generation trained are
        not thrown away. Their refits fit in the time left: the refit reserve followed each
        of them as it landed, and the one whose refit no longer fitted (the reserve's
        ``refused``) is left out. Not with ``ensemble``: its members' refits are reserved for
        the ensemble estimated when the generation began, which the cut one's models are not
        part of, so a later generation's cut drops them as before.
        """
        run, state, settings = self.run, self.run.state, self.run.settings
        end = None if settings.max_time is None else time.monotonic() + settings.max_time
        # max_time covers the final refit: the search leaves the refit of the member that would
        # be refitted room, and follows a better one that lands during a generation.
        # With ensemble, its members' refits too: those of the ensemble it would build now.
        ensemble = None if run.oof is None else partial(ensemble_members_now, run)
        reserve = RefitReserve(
            end, state.archive, run.results, settings, settings.objective_set, ensemble
        )
        self.evaluation.on_landed = None if end is None else reserve.landed
        stop = False
        try:
            if state.population is None:
                deadline = reserve.begin()
                genomes, lineage = self._initial_genomes(deadline)
                started = self._counts()
                first = self.evaluation.evaluate(state, genomes, lineage, 0, deadline)
                state.population, state.generation = first, 0
                stop = self._end_generation(state.population, started)
            while not stop and state.generation < settings.generations:
                until = reserve.begin()
                if until is not None and time.monotonic() >= until.at:
                    raise DeadlineReached("the deadline passed between two generations")
                generation = state.generation + 1
                started = self._counts()
                population, offspring = self.strategy.next_generation(
                    state.members, self._breeding(generation, until)
                )
                state.population, state.generation = population, generation
                stop = self._end_generation(offspring, started)
        except DeadlineReached:
            self.deadline_reached = True
            if state.population is None:
                self.partial = [
                    Member.evaluated(genome, result, [], 0, settings.objective_set)
                    for genome, result in self.evaluation.landed
                ]
                offer_to_archive(state.archive, self.partial)
                run.results.add(self.partial)  # cv_results_ shows what was trained
            elif not settings.ensemble:
                cut = state.generation + 1
                self.cut = [
                    Member.evaluated(genome, result, [], cut, settings.objective_set)
                    for genome, result in self.evaluation.landed
                    # Not a first halving rung's few folds, nor the model whose refit cut it.
                    if not result.partial and result.genome_hash != reserve.refused
                ]
                offer_to_archive(state.archive, self.cut)
                run.results.add(self.cut)

    # ------------------------------------------------------------------ breeding
    def breeding_context(self, input_shape: tuple[int, int, int] | None) -> BreedingContext:
        """What the breeding parts get of this run: its space, generator, innovation counter,
        evaluator, size budget, data profile and the genomes' widths (``input_shape``: an
        image space's, else None)."""
        run, settings = self.run, self.run.settings
        dataset = run.dataset
        n_outputs = len(np.unique(dataset.y)) if dataset.task == "classification" else 1
        return BreedingContext(
            space=settings.space,
            rng=run.state.rng,
            innovations=run.state.innovations,
            evaluator=run.state.evaluator,
            within_budget=SizeBudget(settings.max_params, settings.max_bytes),
            weights=tuple(settings.weights),
            crossover_rate=settings.crossover_rate,
            n_inputs=dataset.n_features,
            n_outputs=n_outputs,
            input_shape=input_shape,
            profile=self.profile,
        )

    def _initial_genomes(
        self, deadline: Deadline | None, screen_factor: int | None = None
    ) -> tuple[list[Genome], list[list[str]]]:
        """Generation 0's genomes and their lineage (screened with the run's factor unless
        ``screen_factor`` says otherwise); a warm start's use of its genomes is told to the
        callbacks' ``on_note``."""
        run = self.run

        def screen(genomes: list[Genome], lineage: list[list[str]]) -> list[Member]:
            return self.evaluation.evaluate(
                run.state, genomes, lineage, 0, deadline, screening=True
            )

        settings = run.settings
        shape = image_shape(settings.space, run.dataset, settings.input_shape)
        use = SeedUse()
        children = initial_genomes(
            self.breeding_context(shape),
            run.seed_genomes,
            settings.population_size,
            settings.screen if screen_factor is None else screen_factor,
            screen,
            run.seed_parents,
            use,
            # A warm start leaves generation 0 room for random genomes (search/warm_start.py).
            seed_limit(settings.population_size) if "warm_start" in run.info else None,
        )
        if "warm_start" in run.info:
            self.notify("on_note", warm_start_note(run.info["warm_start"], use, len(children[0])))
        return children.genomes, children.lineage

    def _breeding(self, generation: int, deadline: Deadline | None) -> Breed:
        """The ``breed`` callable the strategy gets for ``generation``: children made by the
        strategy's breeding parts, evaluated by the run's schedule."""
        settings = self.run.settings
        schedule = schedules.successive_halving if settings.halving else schedules.evaluate_all
        # The image shape generation 0 gave the genomes (None: not an image space).
        shape = self.run.state.members[0].genome.graph.nodes[0].get("shape")
        return breed_function(
            self.strategy,
            self.breeding_context(None if shape is None else tuple(shape)),
            self.run.state,
            self.evaluation,
            generation,
            deadline,
            schedule,
            settings.screen,
        )

    # ------------------------------------------------------------------ bookkeeping
    def _counts(self) -> tuple[float, int, int]:
        evaluator = self.run.state.evaluator
        return time.perf_counter(), evaluator.evaluations, evaluator.cache_hits

    def _end_generation(self, offspring: list[Member], started: tuple[float, int, int]) -> bool:
        run, state = self.run, self.run.state
        record: GenerationRecord = finish_generation(
            state,
            offspring,
            evaluations=state.evaluator.evaluations - started[1],
            cache_hits=state.evaluator.cache_hits - started[2],
            seconds=time.perf_counter() - started[0],
        )
        archived = {e.genome_hash for e in state.archive}
        ensemble_pool: set[str] = set()
        if run.oof is not None:
            run.oof.end_generation(offspring, archived)
            # An ensemble's members refit from their CV networks, as archive members do.
            ensemble_pool = run.oof.kept()
        if run.weights is not None:
            kept = {m.result.genome_hash for m in state.members}
            run.weights.keep_only(kept | archived | ensemble_pool | self.pinned_weights())
        if run.folder is not None:
            run.folder.append_generation(generation_line(state, record))
            run.folder.write_archive(state.archive.to_dict())
            run.folder.write_checkpoint(checkpoint_data(state))
        stop = False
        for callback in self.callbacks:
            handler = getattr(callback, "on_generation_end", None)
            outcome = handler(self.owner, record) if handler else callback(self.owner, record)
            stop = stop or bool(outcome)
        return stop

    def pinned_weights(self) -> set[str]:
        """Weight-store keys kept besides the population's, the archive's and the ensemble
        pool's (children waiting to train start from them; none between two generations)."""
        return set()

    def warn_short_budget(self) -> None:
        """Warn that ``max_time`` stopped generation 0 and the best of its finished models is
        returned; refuse (EvosearchError) when none finished. Called by the Evolver's run
        (the warning's ``stacklevel`` points at the user's fit, fit_dataset or resume)."""
        settings, folder = self.run.settings, self.run.folder
        trained = sum(m.result.ok for m in self.partial)
        if not trained:
            remedy = "give a larger max_time" if folder is None else (
                f"resume {folder.path} with more time to continue it"
            )  # fmt: skip
            raise EvosearchError(
                f"max_time ({settings.max_time:g} s) ran out before any model of the initial "
                f"population finished training: no model yet ({remedy})"
            )
        remedy = "a larger max_time finds better ones" if folder is None else (
            f"resume {folder.path} with more time to continue the search"
        )  # fmt: skip
        warnings.warn(
            f"max_time ({settings.max_time:g} s) ran out during the initial population: the "
            f"best of the {trained} models trained (of {settings.population_size}) is "
            f"returned; {remedy}",
            BudgetWarning,
            stacklevel=5,  # the user's fit, fit_dataset or resume call
        )
