"""The Evolver: owns a run's random generator and its generation loop.

One generation: pick parents by binary tournament on (Pareto rank, crowding distance), make
children by aligned crossover and mutation, re-mutate any child equivalent to a genome already
evaluated (so the budget goes to new candidates), cross-validate the children, then keep the best
``population_size`` of parents and children by NSGA-II and update the all-time Pareto archive.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from evosearch import __version__
from evosearch.data import Dataset, check_dataset
from evosearch.errors import EvosearchError, InvalidGenomeError, RunFolderError, SettingsError
from evosearch.evaluation import (
    DEFAULT_EVAL_TIMEOUT,
    DeadlineReached,
    EvaluationResult,
    Evaluator,
    FitHook,
    check_backend,
    check_limits,
)
from evosearch.runs import RunFolder, RunRecord, load_run_dataset
from evosearch.search.archive import ArchiveEntry, ParetoArchive
from evosearch.search.export import refit
from evosearch.search.inheritance import WeightStore
from evosearch.search.selection import select_parents, select_survivors
from evosearch.space import (
    Genome,
    InnovationCounter,
    SearchSpace,
    cx_aligned,
    mut_hyperparameter,
    mutate,
)

__all__ = ["Callback", "Evolver", "GenerationRecord"]

#: The objectives, in order: mean CV score (accuracy, or R² for regression) up, parameters down.
OBJECTIVES = (("score", 1.0), ("n_params", -1.0))
WEIGHTS = tuple(weight for _, weight in OBJECTIVES)

#: Survivor-selection strategies: generational NSGA-II, or aging (regularized) evolution.
STRATEGIES = ("nsga2", "aging")

#: Subfolder of a run folder holding the population's trained weights (``inherit_weights``).
WEIGHTS_FOLDER = "weights"

# Successive halving trains this many times the children on one fold and finishes the best.
_HALVING_FACTOR = 2
# Aging evolution makes a generation's children in this many cycles.
_AGING_CYCLES = 4

# How often a child equal to an evaluated genome is mutated again before it is accepted anyway.
_NOVELTY_TRIES = 10


@dataclass
class GenerationRecord:
    """Statistics of one finished generation (one row of ``Evolver.history_``)."""

    generation: int
    best_score: float
    archive_size: int
    hypervolume: float
    evaluations: int
    cache_hits: int
    failures: int
    seconds: float
    mean_score: float
    median_params: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Callback(Protocol):
    """What the Evolver calls during a run; implement any subset of these methods.

    A plain function ``f(evolver, record)`` is accepted too and called at each generation's end.
    Returning True from ``on_generation_end`` stops the run after that generation.
    """

    def on_generation_end(self, evolver: Evolver, record: GenerationRecord) -> bool | None: ...


@dataclass
class _Member:
    genome: Genome
    result: EvaluationResult
    parents: list[str]
    generation: int

    @property
    def objectives(self) -> tuple[float, float]:
        return (self.result.score, float(self.result.n_params))

    def to_dict(self) -> dict[str, Any]:
        return {
            "genome": self.genome.to_json(),
            "result": self.result.to_dict(),
            "parents": list(self.parents),
            "generation": self.generation,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Member:
        return cls(
            genome=Genome.from_json(data["genome"]),
            result=EvaluationResult.from_dict(data["result"]),
            parents=list(data["parents"]),
            generation=int(data["generation"]),
        )


@dataclass
class _RunState:
    """What the generation loop carries from one generation to the next."""

    rng: np.random.Generator
    innovations: InnovationCounter
    evaluator: Evaluator
    population: list[_Member] | None = None
    generation: int = -1

    @property
    def members(self) -> list[_Member]:
        assert self.population is not None
        return self.population


def _json_record(record: GenerationRecord) -> dict[str, Any]:
    # NaN (no successful genome yet) is not JSON: write null instead.
    return {
        key: None if isinstance(value, float) and not np.isfinite(value) else value
        for key, value in record.to_dict().items()
    }


def _record_from_json(data: dict[str, Any]) -> GenerationRecord:
    fields = {name: data[name] for name in GenerationRecord.__dataclass_fields__}
    for name in ("best_score", "mean_score", "median_params"):
        if fields[name] is None:
            fields[name] = float("nan")
    return GenerationRecord(**fields)


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise SettingsError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


class Evolver:
    """Evolve neural-network layer graphs on the Pareto front of accuracy and size.

    Parameters
    ----------
    genome : str, path or SearchSpace, default="mlp"
        A preset name (see ``evosearch genomes``), a path to a genome TOML file, or a space.
    population_size : int, default=16
        Genomes kept from one generation to the next (and children made per generation).
    generations : int, default=20
        Generations of children after the initial random population.
    cv : int, default=3
        Cross-validation folds (stratified for classification).
    n_jobs : int, default=-1
        Worker processes for evaluation; -1 uses every core. Results do not depend on it.
    random_state : int, default=0
        Seed of the run; the same seed gives the same results.
    crossover_rate : float, default=0.5
        Probability that a child comes from crossover (it is always mutated afterwards).
    task : {"auto", "classification", "regression"}, default="auto"
        ``auto`` infers it from the target.
    callbacks : sequence, optional
        Objects with ``on_generation_end(evolver, record)`` (and optionally
        ``on_run_start(evolver)``, ``on_evaluation_progress(done, total)``,
        ``on_run_end(evolver)``) or plain functions ``f(evolver, record)``.
    out : path, optional
        Run folder to write (run.json, journal.jsonl, generations.jsonl, archive.json,
        checkpoint.json); nothing is written when None.
    eval_timeout : float or None, default=300
        Seconds one evaluation (one genome x fold) may train; a fold that runs longer is killed
        with its worker process and its genome fails with ``TimeoutError``. None or 0: no limit.
        Where the limit bites, results depend on the machine's speed.
    max_time : float, optional
        Seconds the whole run may take. At the deadline the folds still training are stopped,
        the unfinished generation is dropped (its finished evaluations stay in the journal, so
        :meth:`resume` continues it exactly) and ``fit`` returns with the archive so far;
        ``deadline_reached_`` tells it happened. Not stored in the run folder.
    max_memory : float, optional
        MiB one evaluation may allocate on top of what its idle worker holds; going over fails
        the genome with ``MemoryError`` (Linux only). See :class:`~evosearch.evaluate.Evaluator`.
    fit_hook : callable, optional
        ``fit_hook(genome_hash, fold)``, called in the worker before each fold trains: a
        testing and extension hook (see :class:`~evosearch.evaluate.Evaluator`). Not stored
        in the run folder.
    max_params : int, optional
        Size budget. The parameter count is known before training, so a genome over the
        budget is never trained: a child over it is mutated again, like a duplicate.
    holdout : float, optional
        Fraction of the rows (stratified for classification, drawn with ``random_state``) kept
        out of the whole search. At the end every archive member is refit on the search rows
        and scored on the held-out ones (``holdout_score``), a guard against overfitting the
        CV score; ``best_estimator_`` is then fit on the search rows only.
    backend : {"local", "dask"}, default="local"
        Where evaluations run: worker processes of this machine, or a ``dask.distributed``
        cluster (needs ``pip install 'evosearch[dask]'``). Results do not depend on it.
    scheduler : str, optional
        With ``backend="dask"``: the scheduler address (``tcp://HOST:PORT``); default: the
        ``EVOSEARCH_DASK_SCHEDULER`` environment variable, else a local cluster of ``n_jobs``
        processes started for the run. See :mod:`evosearch.evaluation.backends.dask`.
    strategy : {"nsga2", "aging"}, default="nsga2"
        ``nsga2``: parents and children compete and NSGA-II keeps the best
        ``population_size``. ``aging``: regularized evolution, where each child replaces the
        oldest member whatever its fitness (parents still chosen by Pareto tournament).
    halving : bool, default=False
        Successive halving over folds: twice as many children are trained on the first fold
        only, ranked by Pareto dominance (non-dominated rank, then crowding) on (fold score,
        parameter count), and only the better half is trained on the remaining folds.
    inherit_weights : bool, default=True
        A child starts training from its (first) parent's trained weights wherever a layer
        and its inputs match (same innovation ids and widths), fold by fold, so no fold's test
        rows are ever seen in training.

    Attributes
    ----------
    archive_ : ParetoArchive
        The all-time non-dominated set of (score, parameter count).
    best_estimator_ : sklearn.pipeline.Pipeline
        The archive's most accurate member, refit on all the data.
    history_ : list of GenerationRecord
        One record per generation (generation 0 is the random population).
    population_ : list of Genome
        The final population.
    deadline_reached_ : bool
        Whether ``max_time`` stopped the run before its last generation.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> evolver = Evolver(population_size=4, generations=1, n_jobs=1).fit(X, y)
    >>> len(evolver.history_)
    2
    """

    def __init__(
        self,
        genome: str | Path | SearchSpace = "mlp",
        population_size: int = 16,
        generations: int = 20,
        cv: int = 3,
        n_jobs: int = -1,
        random_state: int = 0,
        crossover_rate: float = 0.5,
        task: str = "auto",
        callbacks: Sequence[Callback | Callable[..., Any]] = (),
        out: str | Path | None = None,
        eval_timeout: float | None = DEFAULT_EVAL_TIMEOUT,
        max_time: float | None = None,
        max_memory: float | None = None,
        fit_hook: FitHook | None = None,
        max_params: int | None = None,
        holdout: float | None = None,
        backend: str = "local",
        scheduler: str | None = None,
        strategy: str = "nsga2",
        halving: bool = False,
        inherit_weights: bool = True,
    ) -> None:
        self.space = genome if isinstance(genome, SearchSpace) else SearchSpace.load(genome)
        self.genome = genome
        self.population_size = _check_int("population_size", population_size, 2)
        self.generations = _check_int("generations", generations, 1)
        self.cv = _check_int("cv", cv, 2)
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
            raise SettingsError(f"n_jobs must be a positive integer or -1, got {n_jobs!r}")
        self.n_jobs = n_jobs
        self.random_state = _check_int("random_state", random_state, 0)
        if not isinstance(crossover_rate, (int, float)) or not 0.0 <= crossover_rate <= 1.0:
            raise SettingsError(f"crossover_rate must be in [0, 1], got {crossover_rate!r}")
        self.crossover_rate = float(crossover_rate)
        if task not in ("auto", "classification", "regression"):
            raise SettingsError(f"task must be auto, classification or regression, got {task!r}")
        self.task = task
        for callback in callbacks:
            if not callable(callback) and not hasattr(callback, "on_generation_end"):
                raise SettingsError(f"callback {callback!r} is neither callable nor a Callback")
        self.callbacks = list(callbacks)
        self.out = Path(out) if out is not None else None
        self.eval_timeout, self.max_memory, self.fit_hook = check_limits(
            eval_timeout, max_memory, fit_hook
        )
        self.backend, self.scheduler = check_backend(backend, scheduler)
        if max_time is not None and (
            isinstance(max_time, bool)
            or not isinstance(max_time, (int, float))
            or not 0 < max_time < float("inf")
        ):
            raise SettingsError(f"max_time must be a positive number of seconds, got {max_time!r}")
        self.max_time = None if max_time is None else float(max_time)
        self.max_params = None if max_params is None else _check_int("max_params", max_params, 1)
        if holdout is not None and (
            isinstance(holdout, bool)
            or not isinstance(holdout, (int, float))
            or not 0.0 < holdout <= 0.5
        ):
            raise SettingsError(f"holdout must be a fraction in (0, 0.5], got {holdout!r}")
        self.holdout = None if holdout is None else float(holdout)
        if strategy not in STRATEGIES:
            raise SettingsError(
                f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}"
            )
        self.strategy = strategy
        for name, flag in (("halving", halving), ("inherit_weights", inherit_weights)):
            if not isinstance(flag, (bool, np.bool_)):
                raise SettingsError(f"{name} must be True or False, got {flag!r}")
        self.halving = bool(halving)
        self.inherit_weights = bool(inherit_weights)

    # ------------------------------------------------------------------ public API
    def fit(self, X: Any, y: Any) -> Evolver:
        """Run the search on ``X, y`` and refit the most accurate archive member on all of it.

        Returns
        -------
        self
        """
        dataset = check_dataset(X, y, task=self.task, n_splits=self.cv)
        return self.fit_dataset(dataset)

    def fit_dataset(
        self,
        dataset: Dataset,
        *,
        initial_population: Sequence[Genome] | None = None,
        parent: dict[str, Any] | None = None,
    ) -> Evolver:
        """Like :meth:`fit` for an already validated :class:`~evosearch.data.Dataset`.

        Parameters
        ----------
        dataset : Dataset
        initial_population : sequence of Genome, optional
            Genomes to start from instead of random ones (e.g. a generation of an earlier
            run); they are adapted to the data's width, genomes outside this Evolver's search
            space are dropped, and random genomes fill the population up.
        parent : dict, optional
            Where ``initial_population`` came from, recorded in ``run.json``.
        """
        info = self._run_info(dataset)
        dataset = self._search_part(dataset)
        self._check_folds(dataset)
        self._seed_genomes = list(initial_population or ())
        state = _RunState(
            rng=np.random.default_rng(np.random.SeedSequence(self.random_state)),
            innovations=InnovationCounter(),
            evaluator=self._make_evaluator(dataset),
        )
        if parent is not None:
            info["parent"] = parent
        if self._seed_genomes:
            # Kept so that a resume of this run, killed in generation 0, starts from them too.
            info["initial_population"] = [g.to_json() for g in self._seed_genomes]
        self._folder = RunFolder.create(self.out, info) if self.out else None
        self._weights = self._weight_store(self._folder)
        self.archive_ = ParetoArchive(weights=WEIGHTS)
        self.history_: list[GenerationRecord] = []
        try:
            return self._run(dataset, state)
        finally:
            state.evaluator.close()  # a Dask cluster started for the run stops with it
            if self._folder is not None:
                self._folder.close()  # the write lock

    @classmethod
    def resume(
        cls,
        path: str | Path,
        *,
        generations: int | None = None,
        n_jobs: int | None = None,
        callbacks: Sequence[Callback | Callable[..., Any]] = (),
        X: Any = None,
        y: Any = None,
        max_time: float | None = None,
        fit_hook: FitHook | None = None,
        backend: str | None = None,
        scheduler: str | None = None,
    ) -> Evolver:
        """Continue the run in folder ``path`` from what it journalled.

        Every evaluation in the journal is re-used, not retrained, and the run reaches exactly
        the archive and history an uninterrupted run with the same seed reaches. A finished
        run is only loaded (and its best member refit) unless ``generations`` extends it.

        Parameters
        ----------
        path : path-like
            The run folder.
        generations : int, optional
            New total number of generations (to extend a run); default: the run's own.
        n_jobs : int, optional
            Workers for the rest of the run (results do not depend on it).
        callbacks : sequence, optional
            As for the constructor.
        X, y : array-like, optional
            The data, for runs fitted on in-memory arrays; runs started from the command line
            reload their dataset by name or path. Either way its fingerprint must match.
        max_time : float, optional
            Seconds this continuation may take (see the constructor).
        fit_hook : callable, optional
            As for the constructor.
        backend, scheduler : str, optional
            Where the rest of the run evaluates (results do not depend on it); default: the
            run's own settings (a scheduler recorded for the Dask backend is dropped when
            ``backend`` changes it to ``local``).

        Returns
        -------
        Evolver
            Fitted, like after :meth:`fit`.
        """
        # Locked before anything is read: what another writer wrote meanwhile is seen whole.
        folder = RunFolder.open(path)
        try:
            return cls._resume_locked(
                folder, generations, n_jobs, callbacks, X, y, max_time, fit_hook, backend, scheduler
            )
        finally:
            folder.close()

    @classmethod
    def _resume_locked(
        cls,
        folder: RunFolder,
        generations: int | None,
        n_jobs: int | None,
        callbacks: Sequence[Callback | Callable[..., Any]],
        X: Any,
        y: Any,
        max_time: float | None,
        fit_hook: FitHook | None,
        backend: str | None,
        scheduler: str | None,
    ) -> Evolver:
        from evosearch.runs import load_run

        path = folder.path
        record = load_run(path)
        info = record.info
        settings = dict(info["settings"])
        if generations is not None:
            settings["generations"] = generations
        # Runs written before these settings existed evaluated locally.
        recorded_backend = settings.get("backend", "local")
        if backend is None:
            backend = recorded_backend
        if scheduler is None and backend == recorded_backend:
            scheduler = settings.get("scheduler")
        try:
            space = SearchSpace.from_dict(info["search_space"], source=f"{path}/run.json")
            evolver = cls(
                genome=space,
                population_size=settings["population_size"],
                generations=settings["generations"],
                cv=settings["cv"],
                n_jobs=settings["n_jobs"] if n_jobs is None else n_jobs,
                random_state=settings["random_state"],
                crossover_rate=settings["crossover_rate"],
                task=settings["task"],
                callbacks=callbacks,
                # Runs written before these settings existed had the default limits.
                eval_timeout=settings.get("eval_timeout", DEFAULT_EVAL_TIMEOUT),
                max_memory=settings.get("max_memory"),
                max_time=max_time,
                fit_hook=fit_hook,
                max_params=settings.get("max_params"),
                holdout=settings.get("holdout"),
                backend=backend,
                scheduler=scheduler,
                # Runs written before these settings existed used the plain generational loop.
                strategy=settings.get("strategy", "nsga2"),
                halving=settings.get("halving", False),
                inherit_weights=settings.get("inherit_weights", False),
            )
        except KeyError as exc:
            raise RunFolderError(f"{path}/run.json: settings lack {exc}") from None
        evolver.genome = settings.get("genome", space.name)
        evolver.out = Path(path)
        dataset = evolver._search_part(load_run_dataset(record, X, y))
        evolver._check_folds(dataset)
        try:
            evolver._seed_genomes = [
                Genome.from_json(g) for g in info.get("initial_population", [])
            ]
        except ValueError as exc:
            raise RunFolderError(f"{path}/run.json: bad initial population: {exc}") from None
        state = evolver._restore(record, dataset, folder)
        # Only once everything was read back: a damaged folder is refused untouched.
        if generations is not None and generations != info["settings"]["generations"]:
            folder.update_run_info(
                {**info, "settings": {**info["settings"], "generations": generations}}
            )
        evolver._folder = folder
        try:
            return evolver._run(dataset, state)
        finally:
            state.evaluator.close()

    # ------------------------------------------------------------------ the loop
    def _run(self, dataset: Dataset, state: _RunState) -> Evolver:
        self.dataset_ = dataset
        self.task_ = dataset.task
        self.deadline_reached_ = False
        deadline = None if self.max_time is None else time.monotonic() + self.max_time
        self._notify("on_run_start", self)
        stop = False
        try:
            if state.population is None:
                genomes = self._initial_genomes(dataset, state)
                lineage: list[list[str]] = [[] for _ in genomes]
                self._start_generation(state)
                first = self._evaluate(state, genomes, lineage, 0, deadline)
                state.population, state.generation = first, 0
                stop = self._end_generation(state, state.population)
            while not stop and state.generation < self.generations:
                if deadline is not None and time.monotonic() >= deadline:
                    raise DeadlineReached("the deadline passed between two generations")
                generation = state.generation + 1
                self._start_generation(state)
                if self.strategy == "aging":
                    offspring = self._aging_generation(state, generation, deadline)
                else:
                    offspring = self._breed(state, self.population_size, generation, deadline)
                    state.population = self._survivors(state.population + offspring)
                state.generation = generation
                stop = self._end_generation(state, offspring)
        except DeadlineReached:
            # The unfinished generation is dropped: its finished evaluations are journalled and
            # the checkpoint is the last finished generation's, so a resume continues exactly.
            self.deadline_reached_ = True
            if state.population is None:
                raise EvosearchError(
                    f"max_time ({self.max_time:g} s) ran out before the initial population was "
                    "evaluated: no model yet (resume the run folder with more time to continue)"
                ) from None

        self.population_ = [m.genome for m in state.population]
        if not len(self.archive_):
            first_error = next((m.result.error for m in state.population if m.result.error), None)
            raise EvosearchError(
                f"all {state.evaluator.evaluations} evaluated genomes failed (e.g. {first_error}):"
                " no model to refit; check the search space (e.g. a smaller learning_rate)"
            )
        best = self.archive_.best()
        best_genome = Genome.from_json(best.genome)
        self.best_estimator_ = refit(
            best_genome, best.genome_hash, dataset, self.random_state, self.cv
        )
        self.best_genome_ = best_genome
        if self._holdout_part is not None:
            self._score_holdout(dataset, self._holdout_part)
        self._notify("on_run_end", self)
        return self

    def _initial_genomes(self, dataset: Dataset, state: _RunState) -> list[Genome]:
        n_outputs = len(np.unique(dataset.y)) if dataset.task == "classification" else 1
        genomes: list[Genome] = []
        seen: set[str] = set()
        for seed_genome in getattr(self, "_seed_genomes", ()):
            genome = seed_genome.copy()
            genome.graph.nodes[0]["units"] = dataset.n_features
            genome.graph.nodes[1]["units"] = n_outputs
            try:
                genome.validate(self.space)
            except InvalidGenomeError:
                continue  # the new settings changed the space: this genome no longer fits
            state.innovations.observe(genome)
            if not self._within_budget(genome):
                continue
            if genome.canonical_hash() not in seen and len(genomes) < self.population_size:
                seen.add(genome.canonical_hash())
                genomes.append(genome)
        for _ in range(self.population_size * _NOVELTY_TRIES):
            if len(genomes) == self.population_size:
                break
            genome = Genome.random(
                self.space, dataset.n_features, n_outputs, state.rng, state.innovations
            )
            if genome.canonical_hash() not in seen and self._within_budget(genome):
                seen.add(genome.canonical_hash())
                genomes.append(genome)
        if not genomes:
            raise SettingsError(
                f"max_params={self.max_params} is below every random genome of this search space "
                f"on {dataset.n_features} features: raise it or allow smaller layers"
            )
        return genomes

    def _within_budget(self, genome: Genome) -> bool:
        return self.max_params is None or genome.n_params() <= self.max_params

    def predict(self, X: Any) -> np.ndarray:
        """Predict with :attr:`best_estimator_`."""
        return self._fitted().predict(X)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (classification) or R² (regression) of :attr:`best_estimator_`."""
        return float(self._fitted().score(X, y))

    def _make_children(
        self, state: _RunState, n_children: int
    ) -> tuple[list[Genome], list[list[str]]]:
        population, evaluator, rng = state.members, state.evaluator, state.rng
        innovations = state.innovations
        # Failed members never parent: with their real (often small) size they would sit on
        # the first front of the tournament next to the smallest working model.
        candidates = [m for m in population if m.result.ok] or population
        objectives = [m.objectives for m in candidates]
        picks = select_parents(objectives, 2 * n_children, WEIGHTS, rng)
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
            child, _ = mutate(child, self.space, rng, innovations)
            for _ in range(_NOVELTY_TRIES):
                child_hash = child.canonical_hash()
                novel = child_hash not in batch and evaluator.lookup(child, child_hash) is None
                if novel and self._within_budget(child):
                    break
                child, _ = mutate(child, self.space, rng, innovations)
            if not self._within_budget(child):
                # Still too big: a hyperparameter change of the parent keeps its (legal) size.
                child = mut_hyperparameter(mother.genome, self.space, rng, innovations)
            batch.add(child.canonical_hash())
            children.append(child)
            lineage.append(parents)
        return children, lineage

    def _breed(
        self, state: _RunState, n_children: int, generation: int, deadline: float | None
    ) -> list[_Member]:
        """Make and evaluate ``n_children`` children (with halving: the best of twice as many)."""
        if not self.halving:
            children, lineage = self._make_children(state, n_children)
            return self._evaluate(state, children, lineage, generation, deadline)
        children, lineage = self._make_children(state, _HALVING_FACTOR * n_children)
        first_rung = self._evaluate(state, children, lineage, generation, deadline, folds=[0])
        # Ranked by Pareto dominance on (first-fold score, size), like survivors are: a small
        # model with a fair score goes on as readily as a large accurate one.
        working = [i for i, m in enumerate(first_rung) if m.result.ok]
        keep = select_survivors(
            [first_rung[i].objectives for i in working], min(n_children, len(working)), WEIGHTS
        )
        promoted = sorted(working[k] for k in keep)
        if not promoted:
            return first_rung[:n_children]  # all failed: failures are final, nothing to finish
        return self._evaluate(
            state,
            [children[i] for i in promoted],
            [lineage[i] for i in promoted],
            generation,
            deadline,
        )

    def _aging_generation(
        self, state: _RunState, generation: int, deadline: float | None
    ) -> list[_Member]:
        """Regularized evolution: children join, the oldest members leave, in small cycles.

        A generation is ``population_size`` children made in cycles of a quarter of it, each
        cycle bred from the population the previous cycles left; a failed child does not join.
        """
        offspring: list[_Member] = []
        cycle = max(1, self.population_size // _AGING_CYCLES)
        while len(offspring) < self.population_size:
            n_children = min(cycle, self.population_size - len(offspring))
            children = self._breed(state, n_children, generation, deadline)
            offspring += children
            joined = [m for m in children if m.result.ok]
            # The population list is kept oldest first, so aging drops from its front.
            population = state.members + joined
            state.population = population[max(0, len(population) - self.population_size) :]
        return offspring

    def _evaluate(
        self,
        state: _RunState,
        genomes: list[Genome],
        lineage: list[list[str]],
        generation: int,
        deadline: float | None = None,
        folds: list[int] | None = None,
    ) -> list[_Member]:
        weights = self._weights

        def journal(genome: Genome, result: EvaluationResult) -> None:
            if weights is not None and result.fold_weights is not None:
                # Before the journal line: a resume that finds the line finds the weights.
                weights.add(result.genome_hash, result.fold_weights)
            if self._folder is not None:
                self._folder.append_journal(
                    {"generation": generation, "genome": genome.to_json(), **result.to_dict()}
                )

        def progress(done: int, total: int) -> None:
            self._notify("on_evaluation_progress", done, total)

        initial = None
        if weights is not None:
            initial = [weights.initial_weights(p[0] if p else None) for p in lineage]
        results = state.evaluator.evaluate(
            genomes,
            on_result=journal,
            on_progress=progress,
            deadline=deadline,
            folds=folds,
            initial_weights=initial,
            keep_weights=weights is not None,
        )
        return [
            _Member(genome, result, parents, generation)
            for genome, result, parents in zip(genomes, results, lineage, strict=True)
        ]

    def _start_generation(self, state: _RunState) -> None:
        self._generation_start = time.perf_counter()
        self._counts_before = (state.evaluator.evaluations, state.evaluator.cache_hits)

    def _end_generation(self, state: _RunState, offspring: list[_Member]) -> bool:
        generation, population = state.generation, state.members
        self.archive_.update(
            ArchiveEntry(
                genome=m.genome.to_json(),
                genome_hash=m.result.genome_hash,
                objectives=m.objectives,
                fold_scores=list(m.result.fold_scores),
                generation=m.generation,
                parents=list(m.parents),
            )
            for m in offspring
            if m.result.ok
        )
        scores = [m.result.score for m in population if m.result.ok]
        evaluations = state.evaluator.evaluations - self._counts_before[0]
        cache_hits = state.evaluator.cache_hits - self._counts_before[1]
        if self._weights is not None:
            self._weights.keep_only(m.result.genome_hash for m in population)
        record = GenerationRecord(
            generation=generation,
            best_score=max((e.objectives[0] for e in self.archive_), default=float("nan")),
            archive_size=len(self.archive_),
            hypervolume=self.archive_.hypervolume() if len(self.archive_) else 0.0,
            evaluations=evaluations,
            cache_hits=cache_hits,
            failures=sum(not m.result.ok for m in offspring),
            seconds=time.perf_counter() - self._generation_start,
            mean_score=float(np.mean(scores)) if scores else float("nan"),
            median_params=float(np.median([m.result.n_params for m in population])),
        )
        self.history_.append(record)
        if self._folder is not None:
            self._folder.append_generation(
                {
                    **_json_record(record),
                    "population": [m.to_dict() for m in population],
                    "rng_state": state.rng.bit_generator.state,
                    "innovation_counter": state.innovations.next_id,
                }
            )
            self._folder.write_archive(self.archive_.to_dict())
            # The checkpoint alone is enough to continue: archive and history live in it too,
            # so a kill between two of these writes cannot leave them out of step.
            self._folder.write_checkpoint(
                {
                    "generation": generation,
                    "rng_state": state.rng.bit_generator.state,
                    "innovation_counter": state.innovations.next_id,
                    "population": [m.to_dict() for m in population],
                    "archive": self.archive_.to_dict(),
                    "history": [_json_record(r) for r in self.history_],
                }
            )
        stop = False
        for callback in self.callbacks:
            handler = getattr(callback, "on_generation_end", None)
            outcome = handler(self, record) if handler else callback(self, record)  # type: ignore[operator]
            stop = stop or bool(outcome)
        return stop

    def _survivors(self, pool: list[_Member]) -> list[_Member]:
        """NSGA-II over the successful members; failures only fill places nobody else can.

        A failed genome keeps its real (often small) parameter count, which would put it on
        the first front next to the smallest working model if it took part in the sorting.
        """
        working = [m for m in pool if m.result.ok]
        failed = [m for m in pool if not m.result.ok]
        k = min(self.population_size, len(working))
        keep = select_survivors([m.objectives for m in working], k, WEIGHTS)
        return [working[i] for i in keep] + failed[: self.population_size - k]

    # ------------------------------------------------------------------ set-up and resume
    def _search_part(self, dataset: Dataset) -> Dataset:
        """The rows the search sees; with ``holdout`` the rest is kept for the final check."""
        self._holdout_part: Dataset | None = None
        if self.holdout is None:
            return dataset
        from dataclasses import replace

        from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

        splitter = (StratifiedShuffleSplit if dataset.task == "classification" else ShuffleSplit)(
            n_splits=1, test_size=self.holdout, random_state=self.random_state
        )
        try:
            search_rows, held_rows = next(splitter.split(dataset.X, dataset.y))
        except ValueError as exc:
            raise SettingsError(f"holdout={self.holdout} cannot split this data: {exc}") from None
        self._holdout_part = replace(
            dataset, X=dataset.X[held_rows], y=dataset.y[held_rows], name=f"{dataset.name} holdout"
        )
        return replace(dataset, X=dataset.X[search_rows], y=dataset.y[search_rows])

    def _score_holdout(self, search: Dataset, held: Dataset) -> None:
        """Refit every archive member on the search rows and score it on the held-out rows."""
        for entry in self.archive_:
            model = refit(
                Genome.from_json(entry.genome),
                entry.genome_hash,
                search,
                self.random_state,
                self.cv,
            )
            entry.holdout_score = float(model.score(held.X, held.y))
        if self._folder is not None:
            self._folder.write_archive(self.archive_.to_dict())

    def _check_folds(self, dataset: Dataset) -> None:
        if dataset.task == "classification":
            counts = np.unique(dataset.y, return_counts=True)[1]
            if counts.min() < self.cv:
                raise SettingsError(
                    f"cv={self.cv} needs at least {self.cv} rows per class; the smallest has "
                    f"{counts.min()}"
                )
        elif dataset.n_samples < self.cv:
            raise SettingsError(f"cv={self.cv} needs at least {self.cv} rows")

    def _make_evaluator(self, dataset: Dataset) -> Evaluator:
        return Evaluator(
            dataset.X,
            dataset.y,
            dataset.task,
            cv=self.cv,
            n_jobs=self.n_jobs,
            seed=self.random_state,
            eval_timeout=self.eval_timeout,
            max_memory=self.max_memory,
            fit_hook=self.fit_hook,
            backend=self.backend,
            scheduler=self.scheduler,
        )

    def _restore(self, record: RunRecord, dataset: Dataset, folder: RunFolder) -> _RunState:
        """Rebuild the loop state from the checkpoint and the evaluation cache from the journal."""
        checkpoint = record.checkpoint
        state = _RunState(
            rng=np.random.default_rng(np.random.SeedSequence(self.random_state)),
            innovations=InnovationCounter(),
            evaluator=self._make_evaluator(dataset),
        )
        self.archive_ = ParetoArchive(weights=WEIGHTS)
        self.history_ = []
        where = record.path / RunFolder.CHECKPOINT_FILE
        if checkpoint is not None:
            try:
                state.rng.bit_generator.state = checkpoint["rng_state"]
                state.innovations = InnovationCounter(checkpoint["innovation_counter"])
                state.population = [_Member.from_dict(m) for m in checkpoint["population"]]
                state.generation = int(checkpoint["generation"])
                self.archive_ = ParetoArchive.from_dict(checkpoint["archive"])
                self.history_ = [_record_from_json(r) for r in checkpoint["history"]]
            except (KeyError, TypeError, ValueError) as exc:
                raise RunFolderError(f"{where}: damaged checkpoint ({exc!r})") from None
        for number, entry in enumerate(record.journal, start=1):
            try:
                genome = Genome.from_json(entry["genome"])
                # from_dict ignores the line's other keys and fills fields newer than it.
                result = EvaluationResult.from_dict(entry)
            except (KeyError, TypeError, ValueError) as exc:
                raise RunFolderError(f"{folder.journal_path}:{number}: {exc}") from None
            if genome.canonical_hash() != result.genome_hash:
                raise RunFolderError(
                    f"{folder.journal_path}:{number}: the genome does not match its hash"
                )
            if entry["generation"] <= state.generation:
                state.evaluator.remember(genome, result)
            else:
                # Finished in the generation the kill interrupted: handed back, not retrained,
                # when that generation asks for it again.
                state.evaluator.replay(genome, result)
        self._weights = self._weight_store(folder)
        if self._weights is not None:
            try:
                self._weights.load()
            except ValueError as exc:
                raise RunFolderError(str(exc)) from None
        folder.repair(record, state.generation)
        return state

    def _weight_store(self, folder: RunFolder | None) -> WeightStore | None:
        if not self.inherit_weights:
            return None
        return WeightStore(self.cv, folder.path / WEIGHTS_FOLDER if folder is not None else None)

    # ------------------------------------------------------------------ helpers
    def _notify(self, event: str, *args: Any) -> None:
        for callback in self.callbacks:
            handler = getattr(callback, event, None)
            if handler is not None:
                handler(*args)

    def _fitted(self) -> Any:
        if not hasattr(self, "best_estimator_"):
            raise AttributeError("this Evolver is not fitted yet: call fit(X, y) first")
        return self.best_estimator_

    def _run_info(self, dataset: Dataset) -> dict[str, Any]:
        import deap
        import networkx
        import sklearn

        return {
            "settings": {
                "genome": str(self.genome)
                if not isinstance(self.genome, SearchSpace)
                else self.space.name,
                "population_size": self.population_size,
                "generations": self.generations,
                "cv": self.cv,
                "n_jobs": self.n_jobs,
                "random_state": self.random_state,
                "crossover_rate": self.crossover_rate,
                "task": self.task,
                # They decide which genomes fail, so a resume keeps them.
                "eval_timeout": self.eval_timeout,
                "max_memory": self.max_memory,
                "max_params": self.max_params,
                "holdout": self.holdout,
                # Where evaluations ran; a resume goes on there unless told otherwise.
                "backend": self.backend,
                "scheduler": self.scheduler,
                "strategy": self.strategy,
                "halving": self.halving,
                "inherit_weights": self.inherit_weights,
            },
            "objectives": [{"name": n, "weight": w} for n, w in OBJECTIVES],
            "search_space": self.space.to_dict(),
            "dataset": {
                "name": dataset.name,
                # How resume finds the data again: a bundled name or an absolute file path;
                # None for in-memory arrays (resume then needs X and y).
                "source": _dataset_source(dataset),
                "task": dataset.task,
                "n_samples": dataset.n_samples,
                "n_features": dataset.n_features,
                "target": dataset.target_name,
                "fingerprint": dataset.fingerprint(),
            },
            "versions": {
                "evosearch": __version__,
                "python": platform.python_version(),
                "numpy": np.__version__,
                "scikit-learn": sklearn.__version__,
                "deap": deap.__version__,
                "networkx": networkx.__version__,
            },
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }


def _dataset_source(dataset: Dataset) -> str | None:
    from evosearch.data import BUNDLED

    if dataset.name in BUNDLED:
        return dataset.name
    path = Path(dataset.name)
    return str(path.resolve()) if path.suffix in (".csv", ".npz") and path.is_file() else None
