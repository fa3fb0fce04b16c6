"""The steady-state search: no generation barrier; one child is bred as each result lands.

On a cluster, a generational run waits at every generation for its slowest fold while the
other workers idle. Here a fixed number of evaluations is in flight (``in_flight``; default:
the backend's worker slots) on one open batch (:class:`~evosearch.evaluation.EvaluationStream`):
as each result lands it is journalled, taken into the archive and into the population by the
strategy's :meth:`~evosearch.search.strategies.Strategy.admit` ((μ+1) NSGA-II, aging's
oldest-out), and one new child, bred from the population as it stands, is submitted. The
initial population is drawn as in generational mode and submitted first.

Rungs: with a fidelity plan that screens, and with successive halving, a child passes rungs
before its full evaluation (screening: fold 0 at low fidelity, on the same workers; halving:
fold 0), each an evaluation in flight of its own. As a rung's result lands the child goes on
if it ranks in the better ``1/factor`` of that rung's latest results (asynchronous successive
halving), else it stops there and a new child is submitted.

Every ``population_size`` results taken in make one *block*, recorded like a generation (a
``generations.jsonl`` line, the archive, the checkpoint, the callbacks' ``on_generation_end``),
so ``generations`` counts blocks: a run does ``population_size x (generations + 1)``
evaluations, as many as a generational run of the same settings.

Reproducibility: which result lands first depends on timing, so two steady-state runs of one
seed may differ (with ``n_jobs=1`` folds train in submission order and they do not); each
result's own training does not depend on it. The journal's order is the order in which results
were taken in, and breeding draws from the run's generator only when a result is taken in, so a
resume restores the last checkpoint, takes the journalled results after it in their order
(no training: the population, archive and generator move exactly as they did) and then submits
what was in flight at that point again: the archive after the replayed part equals the
interrupted run's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from typing import NoReturn

from evosearch.errors import EvosearchError, RunFolderError, SettingsError
from evosearch.evaluation import DeadlineReached, EvaluationResult, EvaluationStream
from evosearch.evaluation._batch import combine_outcomes
from evosearch.search._breeding import image_shape
from evosearch.search._checkpoint import SteadyQueue, offer_to_archive
from evosearch.search._journalled import FoldStarts
from evosearch.search._refit_time import RefitReserve
from evosearch.search.ensemble_run import ensemble_members_now
from evosearch.search.halving import HALVING_FACTOR
from evosearch.search.loop import GenerationLoop
from evosearch.search.member import Member
from evosearch.search.selection import select_survivors
from evosearch.search.strategies.breeding import NOVELTY_TRIES
from evosearch.space import Genome

__all__ = ["SteadyStateLoop"]

#: Children repeating ones stopped at a rung, in a row, per evaluation in flight, before the
#: search gives up on a space with nothing new left.
_MAX_REPEATS = 50

#: With halving, a first rung is ranked against the latest this many populations' worth of
#: first-rung results (a generation's batch is two populations'): recent, and bounded.
_RUNG_WINDOW = 4


class _Stop(Exception):
    """A callback asked the run to stop at a block's end: raised out of the open batch."""


class _FlyingHashes:
    """What breeding must not make again besides the evaluated genomes: the genomes in
    flight, and (with halving) those whose first rung was not promoted."""

    def __init__(self, queue: SteadyQueue, partly_known: Callable[[str], bool]) -> None:
        self.queue = queue
        self.partly_known = partly_known

    def __contains__(self, genome_hash: object) -> bool:
        if isinstance(genome_hash, str) and self.partly_known(genome_hash):
            return True
        return any(g.canonical_hash() == genome_hash for g, _ in self.queue.flying)

    def __iter__(self) -> Iterator[str]:
        return (g.canonical_hash() for g, _ in self.queue.flying)

    def __len__(self) -> int:
        return len(self.queue.flying)


class SteadyStateLoop(GenerationLoop):
    """Runs ``run`` as an asynchronous steady-state search (see the module docstring).

    Parameters
    ----------
    run : SearchRun
    owner : object
        What the callbacks are given (the Evolver).
    """

    def run_generations(self) -> None:
        """Evaluate until ``population_size x (generations + 1)`` results are taken in.

        At ``max_time``'s deadline what is in flight is dropped (every result taken in is
        journalled; a resume continues exactly) and ``deadline_reached`` is set; if no block
        had finished, ``partial`` holds the members taken in and the population is unset, as a
        generational run's generation 0.
        """
        run, state, settings = self.run, self.run.state, self.run.settings
        if state.generation >= settings.generations:
            return
        size = settings.population_size
        self.target = size * (settings.generations + 1)
        end = None if settings.max_time is None else time.monotonic() + settings.max_time
        # With ensemble, the refits of the ensemble it would build now are left room too.
        ensemble = None if run.oof is None else partial(ensemble_members_now, run)
        self.reserve = RefitReserve(end, state.archive, run.results, settings,
                                    settings.objective_set, ensemble)  # fmt: skip
        self.follow = None if end is None else self.reserve.landed
        self.deadline = self.reserve.begin()
        self.population: list[Member] = list(state.population or [])
        self.block: list[Member] = []
        self.started = self._counts()
        self._repeats = 0  # children in a row that repeated one stopped at a rung
        try:
            if state.steady is None:  # a new run, or one killed before its first block ended
                state.steady = self._new_queue()
            queue = state.steady
            self.stream = EvaluationStream(state.evaluator, self._landed, None,
                                           run.weights is not None, state.screening)  # fmt: skip
            shape = image_shape(settings.space, run.dataset, settings.input_shape)
            known = _FlyingHashes(queue, self.stream.partly_known)
            self.context = replace(self.breeding_context(shape), in_flight=known)
            self.replaying = True
            self._top_up()
            for genome, result, screened in run.later:
                self._replay(genome, result, screened)
            run.later = []
            self.replaying = False
            self.deadline = self.reserve.begin()  # the replayed results are the archive's now
            for genome, lineage in queue.flying:
                self._submit(genome, lineage)
            self.stream.run(self.deadline)
        except DeadlineReached:
            self.deadline_reached = True
            if state.generation < 0:  # as a generational run's generation 0: what finished
                self.partial, state.population = list(self.population), None
            else:
                state.population = self.population
        except _Stop:
            pass

    # ------------------------------------------------------------------ the queue
    def _new_queue(self) -> SteadyQueue:
        """The queue of a run that has taken nothing in yet: ``in_flight`` resolved (and
        recorded in run.json, so that a resume on other workers replays the same order), the
        initial population waiting."""
        run, settings = self.run, self.run.settings
        recorded = (run.info.get("steady_state") or {}).get("in_flight")
        in_flight = settings.in_flight or recorded or run.state.evaluator.slots()
        if recorded != in_flight:
            run.info = {**run.info, "steady_state": {"in_flight": in_flight}}
            if run.folder is not None:
                run.folder.update_run_info(run.info)
        self.notify("on_note", f"steady-state search: {in_flight} in flight")
        # Screened in the open batch like every child, not all at once.
        genomes, lineage = self._initial_genomes(self.deadline, screen_factor=1)
        return SteadyQueue(in_flight, waiting=list(zip(genomes, lineage, strict=True)))

    def _top_up(self) -> None:
        """Submit children until ``in_flight`` are in flight (or every evaluation of the run
        is made): the initial population's first, then children of the population; a child
        the cache knows is taken in at once, untrained."""
        state = self.run.state
        queue = state.steady
        assert queue is not None
        # With rungs, how many children finish is not known in advance: children are made
        # until the last block ends (what is in flight then is dropped; a resume with more
        # generations submits it again). Without them exactly the run's evaluations are made.
        staged = bool(self.rungs)
        while len(queue.flying) < queue.in_flight and (staged or queue.submitted < self.target):
            genome, lineage = self._next_child()
            queue.submitted += 1
            cached = state.evaluator.lookup(genome)
            if cached is not None:
                state.evaluator.cache_hits += 1
                self._take_in(genome, lineage, cached)
                continue
            genome_hash = genome.canonical_hash()
            in_flight = any(g.canonical_hash() == genome_hash for g, _ in queue.flying)
            earlier = None if in_flight else self._stopped_at_rung(genome)
            if in_flight or earlier is not None:
                # A child in flight already, or one that stopped at a rung before: not trained
                # again (breeding makes one only when it finds nothing new).
                state.evaluator.cache_hits += 1
                if earlier is not None and not earlier.ok:  # a failure is final, as generations'
                    self._take_in(genome, lineage, earlier, table=False)
                else:
                    self._repeats += 1
                    if self._repeats > _MAX_REPEATS * queue.in_flight:
                        raise EvosearchError(
                            f"the steady-state search bred {self._repeats} children in a row "
                            "that it had already: this search space has nothing new left to "
                            "try (give it more room, or fewer generations)"
                        )
                continue
            self._repeats = 0
            queue.flying.append((genome, lineage))
            if not self.replaying:
                self._submit(genome, lineage)

    @property
    def rungs(self) -> list[tuple[str, int]]:
        """The rungs a child passes before its full evaluation, with the share promoted (one
        in ``factor``): the fidelity plan's screening, then halving's first fold."""
        settings = self.run.settings
        rungs = [("screen", settings.screen)] if settings.screen > 1 else []
        # Halving's first fold is a rung only where a full evaluation has more than one.
        first = settings.halving and settings.n_folds > 1
        return rungs + ([("first", HALVING_FACTOR)] if first else [])

    def _stage(self, genome_hash: str) -> str:
        """The rung a genome in flight is at (``"full"``: its full evaluation)."""
        queue = self.run.state.steady
        assert queue is not None
        rungs, stage = self.rungs, queue.stages.get(genome_hash, 0)
        return rungs[stage][0] if stage < len(rungs) else "full"

    def _submit(self, genome: Genome, lineage: list[str]) -> None:
        """Into the open batch at the genome's rung: screened (fold 0 at low fidelity), its
        first fold (halving), or every fold it lacks."""
        stage = self._stage(genome.canonical_hash())
        folds = None if stage == "full" else [0]
        self.stream.submit(genome, self._starts(lineage), folds, screen=stage == "screen")

    def _stopped_at_rung(self, genome: Genome) -> EvaluationResult | None:
        """The result with which ``genome`` stopped at a rung earlier (screened out, or not
        promoted past its first fold), or None."""
        state = self.run.state
        if state.screening is not None and (known := state.screening.lookup(genome)):
            return known
        genome_hash = genome.canonical_hash()
        folds = self.stream.known_folds(genome, genome_hash)
        if not folds:
            return None
        n_folds = len(state.evaluator.folds)
        return combine_outcomes(genome, genome_hash, folds, n_folds, sorted(folds))

    def _next_child(self) -> tuple[Genome, list[str]]:
        queue = self.run.state.steady
        assert queue is not None
        if queue.waiting:
            return queue.waiting.pop(0)
        if self.population:  # failed members parent only when nothing works, as generations'
            children = self.strategy.make_children(self.population, 1, self.context)
            if children.genomes:
                return children.genomes[0], children.lineage[0]
        # Nothing landed yet to breed from: a random genome of the space, as generation 0's
        # (one already known if the space has no new one: the cache answers it).
        context, fallback = self.context, None
        for _ in range(NOVELTY_TRIES * 10):
            genome = context.random_genome()
            if context.within_budget(genome):
                if context.is_new(genome, set()):
                    return genome, []
                fallback = fallback or genome
        if fallback is None:
            raise SettingsError(
                f"{context.within_budget} is below every random genome of this search space: "
                "raise it or allow smaller layers"
            )
        return fallback, []

    def _starts(self, lineage: list[str]) -> FoldStarts:
        starts = self.evaluation.starts([lineage])
        return None if starts is None else starts[0]

    def _flying(self, genome: Genome, genome_hash: str) -> list[str] | None:
        """Take ``genome`` out of the genomes in flight; its lineage (None: not in flight)."""
        queue = self.run.state.steady
        assert queue is not None
        for position, (known, lineage) in enumerate(queue.flying):
            if known.canonical_hash() == genome_hash and known.equivalent(genome):
                del queue.flying[position]
                return lineage
        return None

    # ------------------------------------------------------------------ results
    def _landed(self, genome: Genome, result: EvaluationResult) -> None:
        """The open batch's ``on_result``: journal, take in, submit the next child."""
        queue = self.run.state.steady
        assert queue is not None
        generation = queue.consumed // self.run.settings.population_size
        stage = self._stage(result.genome_hash)
        # Journalled before it is taken in: a checkpoint that counts it finds its line.
        self.evaluation.record(genome, result, generation, screening=stage == "screen",
                               partial=stage == "first")  # fmt: skip
        if stage != "full":
            self._rung_landed(genome, result)
            return
        lineage = self._flying(genome, result.genome_hash) or []
        self._take_in(genome, lineage, result)
        if self.follow is not None:
            self.follow(genome, result)  # may raise DeadlineReached: it is journalled
        self._top_up()

    def _rung_landed(self, genome: Genome, result: EvaluationResult) -> None:
        """A rung's result landed: promote the genome to the next rung if it ranks in the
        better ``1/factor`` of that rung's latest results (by Pareto rank and crowding on its
        objectives, as a generation's rung is ranked), else drop it and submit a new child.
        Screening results stay out of ``cv_results_``, as in generational runs."""
        run, settings = self.run, self.run.settings
        queue = run.state.steady
        assert queue is not None
        genome_hash = result.genome_hash
        stage = queue.stages.get(genome_hash, 0)
        name, factor = self.rungs[stage]
        lineage = next((p for g, p in queue.flying if g.canonical_hash() == genome_hash), [])
        generation = queue.consumed // settings.population_size
        member = Member.evaluated(genome, result, lineage, generation, settings.objective_set)
        if name == "first":
            run.results.add([member])
        promoted = False
        if result.ok:
            window = [*queue.windows.get(name, []), list(member.objectives)]
            window = queue.windows[name] = window[-_RUNG_WINDOW * settings.population_size :]
            k = len(window) // factor
            ranked = select_survivors([tuple(v) for v in window], k, settings.weights) if k else []
            promoted = len(window) - 1 in ranked
        if promoted:
            queue.stages[genome_hash] = stage + 1
            if not self.replaying:
                self._submit(genome, lineage)
            return
        queue.stages.pop(genome_hash, None)
        self._flying(genome, genome_hash)
        self.stream.forget(genome)  # its weights will not be needed
        if not result.ok:
            # A failure is final: taken in as a failed member, as a generational rung's
            # failures are, so that a space where everything fails still ends its blocks.
            self._take_in(genome, lineage, result, table=name == "first")
        self._top_up()

    def _replay(self, genome: Genome, result: EvaluationResult, screened: bool) -> None:
        """Take in one result journalled after the checkpoint, as the interrupted run did."""
        state = self.run.state
        queue = state.steady
        assert queue is not None
        genome_hash = result.genome_hash
        stage = self._stage(genome_hash)
        flying = any(g.canonical_hash() == genome_hash for g, _ in queue.flying)
        expected = "screen" if screened else "first" if result.folds is not None else "full"
        if not flying or stage != expected:
            self._not_in_flight(result)
        if stage == "screen":
            assert state.screening is not None
            state.screening.remember(genome, result)
            state.screening.evaluations += 1
        else:
            state.evaluator.remember(genome, result)
            if stage == "first":
                state.evaluator.partial_evaluations += 1
            else:
                state.evaluator.evaluations += 1  # a resumed run counts as an uninterrupted one
        if stage != "full":
            self._rung_landed(genome, result)
            return
        lineage = self._flying(genome, genome_hash)
        assert lineage is not None
        self._take_in(genome, lineage, result)
        self._top_up()

    def _not_in_flight(self, result: EvaluationResult) -> NoReturn:
        folder = self.run.folder
        where = folder.journal_path if folder is not None else "the journal"
        raise RunFolderError(
            f"{where}: genome {result.genome_hash[:12]} was journalled but this run never "
            "submitted it at that point: the steady-state replay cannot go on exactly"
        )

    def _take_in(
        self, genome: Genome, lineage: list[str], result: EvaluationResult, table: bool = True
    ) -> None:
        """One result into the table (unless ``table`` is False: a failed screening), the
        archive and the population; a block ends every ``population_size`` of them."""
        run, state, settings = self.run, self.run.state, self.run.settings
        queue = state.steady
        assert queue is not None
        size = settings.population_size
        member = Member.evaluated(
            genome, result, lineage, queue.consumed // size, settings.objective_set
        )
        queue.consumed += 1
        if table:
            run.results.add([member])
        offer_to_archive(state.archive, [member])
        self.population = self.strategy.admit(self.population, member)
        self.block.append(member)
        self.notify("on_evaluation_progress", len(self.block), size)
        queue.stages.pop(result.genome_hash, None)
        if queue.consumed % size == 0:
            self._end_block()

    def _end_block(self) -> None:
        state = self.run.state
        assert state.steady is not None
        state.population = self.population
        state.generation = state.steady.consumed // self.run.settings.population_size - 1
        stop = self._end_generation(self.block, self.started)
        self.block, self.started = [], self._counts()
        if not self.replaying:
            self.reserve.begin()  # moves the stream's deadline for the archive as it is now
        if stop or state.generation >= self.run.settings.generations:
            raise _Stop  # what is still in flight is dropped (with halving: first rungs)

    def pinned_weights(self) -> set[str]:
        """The parents of the children in flight and waiting: a resume submits them again."""
        queue = self.run.state.steady
        if queue is None:
            return set()
        return {lineage[0] for _, lineage in queue.flying + queue.waiting if lineage}
