"""Cross-validated scoring of genomes, in parallel, with a results cache and hard limits.

One call of :meth:`Evaluator.evaluate` trains every pending ``genome x fold`` pair, longest
tasks first, on a backend's workers (:mod:`evosearch.evaluation.backends`: this machine's
killable worker processes, ``local``, or a ``dask.distributed`` cluster, ``dask``), so that no
core idles at the end of a generation while one genome's last fold trains. Each task's seed
derives from the run seed, the genome's canonical hash and the fold number
(:func:`~evosearch.evaluation.tasks.task_seed`), never from worker identity or completion order,
so results are identical for any ``n_jobs`` and any backend.

A candidate is never an error of the run. A genome whose training raises, diverges, produces a
non-finite score, runs past the per-evaluation time limit (``eval_timeout``), allocates more than
its memory budget (``max_memory``) or kills its worker process gets :data:`FAILURE_SCORE`, and
its error text is kept in the result.

The evaluator owns what does not depend on where the folds train: the cache of complete results,
the folds of partially evaluated genomes, journalled results replayed on resume, and the choice
of backend (by name, from the registry). Partial evaluation (``evaluate(..., folds=[0])``, for
successive halving) trains some folds of each genome now and the rest only if a later call asks
for them; the complete result is the one a single call would have given. ``keep_weights`` and
``initial_weights`` move each fold's network weights out of and into the workers (for weight
inheritance); see :class:`Evaluator`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from evosearch.evaluation._arguments import check_fold_indices, check_initial_weights, check_limits
from evosearch.evaluation._batch import FoldBatch, combine_outcomes
from evosearch.evaluation._fidelity import Fidelity
from evosearch.evaluation._folds import make_folds
from evosearch.evaluation._stores import _PartialStore, _ReplayStore
from evosearch.evaluation.backends import Backend, Deadline, check_backend, get_backend
from evosearch.evaluation.result import FAILURE_SCORE, EvaluationResult
from evosearch.evaluation.tasks import FitHook, FoldContext, FoldOutcome
from evosearch.objectives import Scoring
from evosearch.preprocess import DataProfile
from evosearch.space import Genome

__all__ = ["Evaluator", "make_folds"]


class Evaluator:
    """Scores genomes by k-fold cross-validation on one dataset.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), or a table
        A float matrix, or a table's raw columns (a pandas DataFrame, with ``profile``).
    y : ndarray of shape (n_samples,)
    task : {"classification", "regression"}
    cv : int, default=3
        Number of folds (stratified for classification; with ``groups``, no group is split:
        ``StratifiedGroupKFold`` for classification, ``GroupKFold`` for regression).
    n_jobs : int, default=-1
        Worker processes; -1 uses every core. With 1 and no ``eval_timeout`` or
        ``max_memory``, folds train in the calling process instead (see
        :mod:`evosearch.evaluation.backends.local`).
    seed : int, default=0
        Run seed; fold splits and per-task training seeds derive from it.
    eval_timeout : float, optional
        Seconds one fold (one ``genome x fold`` task) may train. A fold that runs longer is
        killed with its process and its genome fails with ``TimeoutError``. None or 0: no limit.
        A limit makes results depend on the machine's speed where it bites.
    max_memory : float, optional
        MiB of memory one fold may allocate on top of what its idle worker already holds
        (an address-space limit, ``RLIMIT_AS``, set in the worker around the fit and lifted
        after). Going over it fails the genome with ``MemoryError`` instead of exhausting the
        machine. Linux only.
    fit_hook : callable, optional
        ``fit_hook(genome_hash, fold)``, called in the worker right before each fold trains,
        under the memory limit and the time limit; what it raises fails the genome like a
        training error. A testing and extension hook (tests use it to sleep, raise, exit or
        allocate); it must pickle (loky uses cloudpickle: lambdas and closures are fine).
    backend : str, default="local"
        Where the folds train, by registered name (:func:`~evosearch.evaluation.backend_names`):
        ``"local"``, worker processes of this machine
        (:mod:`evosearch.evaluation.backends.local`), or ``"dask"``, a ``dask.distributed``
        cluster (:mod:`evosearch.evaluation.backends.dask`). Results do not depend on it.
    scheduler : str, optional
        With ``backend="dask"``: the scheduler's address (``tcp://HOST:PORT``); default: the
        ``EVOSEARCH_DASK_SCHEDULER`` environment variable, else a local cluster of ``n_jobs``
        processes started for this evaluator (stopped by :meth:`close`).
    profile : DataProfile, optional
        The data's columns (:class:`~evosearch.preprocess.DataProfile`): needed for a table,
        whose preprocessing the genomes' genes choose.
    groups : ndarray of shape (n_samples,), optional
        Group labels: a group's rows are all in the same fold.
    sample_weight : ndarray of shape (n_samples,), optional
        Row weights, used in each fold's loss and score.
    scoring : str or callable, optional
        What each test fold is scored with: a scikit-learn scorer name or callable
        (``scorer(estimator, X, y)``); None: accuracy / R². Must pickle for workers.
    fidelity : Fidelity, optional
        Train every fold at this fidelity (:class:`~evosearch.evaluation.Fidelity`: the first
        folds only, a seeded subsample of their training rows, fewer epochs); None: all of it.
    scale_target : bool, default=True
        Regression: each fold's network standardises the target on the fold's training rows
        (``GraphNetRegressor.scale_target``), and mean scores are recorded as they are. False:
        the raw target, and a mean R² clipped to at least :data:`FAILURE_SCORE` (as runs
        before the setting; a scorer's mean is never clipped).
    keep_predictions : bool, default=False
        Folds send back their test rows' predictions (``fold_predictions``; never cached).
    screen_fidelity : Fidelity, optional
        Also hold the folds at this (screening) fidelity, for an open batch's screening tasks.

    Attributes
    ----------
    evaluations : int
        Complete evaluations made (trained, or replayed from a journal): a genome evaluated
        partially first counts here once, when its last fold is done.
    partial_evaluations : int
        Partial evaluations made (``evaluate(..., folds=...)`` that trained at least one fold,
        or handed back a replayed partial result).
    cache_hits : int
        Results served without training: cached results, duplicates within a call, and
        partial requests whose folds were all trained already.

    Notes
    -----
    *Partial evaluation.* ``evaluate(genomes, folds=[0])`` trains only fold 0 (successive
    halving). The folds trained are kept per genome (matched like the cache: canonical hash,
    then :meth:`~evosearch.genome.Genome.equivalent`), outside the cache: :meth:`lookup` never
    returns a partial result. A later request for more folds trains only the missing ones and
    the complete result equals that of a one-shot evaluation (each fold's seed depends on the
    run seed, the genome and the fold only). A failure is final: a genome that failed on a
    fold trains no further fold.

    *Weights.* With ``keep_weights=True`` every trained fold also sends back its network's
    weights (``fold_weights`` of the result). They are kept on the returned results only: the
    cache drops them. The folds of partially evaluated genomes keep theirs until the genome is
    complete, or until another partial ``evaluate`` call with ``keep_weights`` that does not ask
    for that genome, so memory holds at most about one batch of weights.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from evosearch.space.genome import Genome
    >>> X, y = load_iris(return_X_y=True)
    >>> hyper = {"optimizer": "adam", "learning_rate": 0.01, "l1": 0.0, "l2": 1e-4,
    ...          "batch_size": 32, "max_epochs": 5}
    >>> genome = Genome.chain(4, 3, [{"units": 8, "activation": "relu", "dropout": 0.0}], hyper)
    >>> result = Evaluator(X, y, "classification", cv=2, n_jobs=1).evaluate([genome])[0]
    >>> result.ok, len(result.fold_scores)
    (True, 2)
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        task: str,
        cv: int = 3,
        n_jobs: int = -1,
        seed: int = 0,
        eval_timeout: float | None = None,
        max_memory: float | None = None,
        fit_hook: FitHook | None = None,
        backend: str = "local",
        scheduler: str | None = None,
        profile: DataProfile | None = None,
        groups: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
        scoring: Scoring = None,
        fidelity: Fidelity | None = None,
        scale_target: bool = True,
        keep_predictions: bool = False,
        screen_fidelity: Fidelity | None = None,
    ) -> None:
        table = profile is not None and profile.columns is not None
        self.X: Any = X if table else np.ascontiguousarray(X, dtype=np.float32)
        self.y = np.asarray(y)
        self.profile = profile
        self.sample_weight = sample_weight
        self.task = task
        self.cv = cv
        self.n_jobs = n_jobs
        self.seed = seed
        self.eval_timeout, self.max_memory, self.fit_hook = check_limits(
            eval_timeout, max_memory, fit_hook
        )
        self.backend, self.scheduler = check_backend(backend, scheduler)
        self.scoring = scoring
        self.scale_target, self.keep_predictions = scale_target, keep_predictions
        # A mean score is recorded as it is: R² can be far below 0 and still beat a failure.
        # Runs from before scale_target (False) clipped R² to the failure score.
        self._floor = FAILURE_SCORE if scoring is None and not scale_target else -math.inf
        self.fidelity = fidelity
        self.folds = make_folds(self.X, self.y, task, cv, seed, groups)
        self.screen_fidelity = screen_fidelity
        screen = screen_fidelity
        self.screen_folds = screen.apply(self.folds, self.y, task, seed) if screen else None
        if fidelity is not None:
            self.folds = fidelity.apply(self.folds, self.y, task, seed)
        self._cache: dict[str, list[tuple[Genome, EvaluationResult]]] = {}
        self._replay = _ReplayStore()
        self._partials = _PartialStore(len(self.folds))
        self._calls = 0  # evaluate calls so far (marks which partial entries a call used)
        self.cache_hits = 0
        self.evaluations = 0
        self.partial_evaluations = 0
        self._context: FoldContext | None = None
        self._backend: Backend | None = None  # made for the first folds to train

    @property
    def inline(self) -> bool:
        """Whether folds train in this process (n_jobs=1 and no limit that needs a worker)."""
        return get_backend(self.backend).in_process(self.n_jobs, self.eval_timeout, self.max_memory)

    def close(self) -> None:
        """Let go of the backend's connections (a local Dask cluster stops); a later
        ``evaluate`` reconnects.

        Local worker processes are shared between evaluators and stay (see
        :func:`~evosearch.evaluation.shutdown_workers`).
        """
        if self._backend is not None:
            self._backend.close()

    def _get_context(self) -> FoldContext:
        if self._context is None:
            self._context = FoldContext(
                X=self.X,
                y=self.y,
                folds=self.folds,
                task=self.task,
                fit_hook=self.fit_hook,
                max_memory=self.max_memory,
                profile=self.profile,
                sample_weight=self.sample_weight,
                scoring=self.scoring,
                fidelity=self.fidelity,
                scale_target=self.scale_target,
                keep_predictions=self.keep_predictions,
                screen_folds=self.screen_folds,
                screen_fidelity=self.screen_fidelity,
            )
        return self._context

    def _get_backend(self) -> Backend:
        """The backend, made from the registry the first time folds have to train."""
        if self._backend is None:
            self._backend = get_backend(self.backend)(
                self._get_context(),
                n_jobs=self.n_jobs,
                eval_timeout=self.eval_timeout,
                scheduler=self.scheduler,
            )
        return self._backend

    def remember(self, genome: Genome, result: EvaluationResult) -> None:
        """Put a known result into the cache (used when resuming from a journal).

        A partial result (``result.folds`` not None) joins the folds known of that genome
        instead: a later :meth:`evaluate` trains only the folds it lacks. Weights
        (``fold_weights``) of a complete result are not cached; those of a partial one are
        kept like the weights of partially trained folds (see the class notes).
        """
        if result.folds is not None:
            if self.lookup(genome, result.genome_hash) is not None:
                return  # the complete result supersedes it
            entry = self._partials.entry(genome, result.genome_hash, True, self._calls)
            assert entry is not None
            self._partials.absorb(entry, result)
            return
        if result.fold_weights is not None or result.fold_predictions is not None:
            result = replace(result, fold_weights=None, fold_predictions=None)
        self._cache.setdefault(result.genome_hash, []).append((genome, result))
        self._partials.drop(genome, result.genome_hash)

    def replay(self, genome: Genome, result: EvaluationResult) -> None:
        """Hold a journalled result that :meth:`evaluate` hands back instead of training.

        Unlike :meth:`remember`, the result stays invisible to :meth:`lookup` until an
        ``evaluate`` call asks for that genome, and it then counts as an evaluation rather
        than a cache hit: a resumed run sees the same cache and counts as an uninterrupted one.

        A partial result (``result.folds`` not None) is handed back by an ``evaluate`` call that
        asks for exactly those folds of the genome (counted in ``partial_evaluations``); its
        folds then count as trained, so completing the genome trains only the others (unless a
        complete result of it was replayed too: that one is handed back).
        """
        self._replay.add(genome, result)

    def lookup(self, genome: Genome, genome_hash: str | None = None) -> EvaluationResult | None:
        """The cached (complete) result of an equivalent genome, if any.

        Partial results are never returned; cached results have no ``fold_weights``.
        """
        genome_hash = genome_hash or genome.canonical_hash()
        for known, result in self._cache.get(genome_hash, ()):
            if known.equivalent(genome):
                return result
        return None

    def evaluate(
        self,
        genomes: Sequence[Genome],
        on_result: Callable[[Genome, EvaluationResult], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        *,
        deadline: float | Deadline | None = None,
        folds: Sequence[int] | None = None,
        initial_weights: Sequence[Sequence[Mapping[str, np.ndarray] | None] | None] | None = None,
        keep_weights: bool = False,
        cheapest_first: bool = False,
    ) -> list[EvaluationResult]:
        """Cross-validate ``genomes``; cached and duplicate genomes are trained once.

        Parameters
        ----------
        genomes : sequence of Genome
        on_result : callable, optional
            Called in this process as ``on_result(genome, result)`` when a genome's last fold
            finishes (in completion order), e.g. to journal it. Partial results are reported
            too, and so is the complete result of a genome completed from folds trained before.
        on_progress : callable, optional
            Called as ``on_progress(done, total)`` after every finished fold.
        deadline : float or Deadline, optional
            A :func:`time.monotonic` time (a ``Deadline``: ``on_result`` may move it). When it
            passes, no further fold starts, the folds training stop, DeadlineReached is raised.
        folds : sequence of int, optional
            The fold indices to evaluate now (successive halving); None (or every fold): a
            complete evaluation. A genome asked for a strict subset gets a partial result
            (``result.folds``, the sorted indices, with the scores of those folds only). Folds
            trained by earlier calls are not trained again, and a genome whose complete result
            is cached gets that complete result whatever ``folds`` says.
        initial_weights : sequence, optional
            One entry per genome (aligned with ``genomes``): None, or a list of one weight
            mapping per fold (``cv`` entries, each None or the ``weight_blocks()`` format) that
            the fold's training starts from instead of its random initialisation. Used only
            for the folds trained by this call (a duplicate genome takes the first occurrence's
            entry); results are deterministic given the weights.
        keep_weights : bool, default=False
            Send every trained fold's network weights back and set ``fold_weights`` on the
            results this call returns (folds trained by earlier calls contribute theirs if
            they were kept; see the class notes). Off, no weights cross process boundaries.
        cheapest_first : bool, default=False
            Start the folds of the cheapest genomes first (parameter count times epochs),
            instead of the longest first: with a ``deadline`` that may cut the call short,
            more genomes finish. The longest first keeps every worker busy to the end (the
            shorter finishing time when the whole call runs). Results do not depend on it.

        Returns
        -------
        list of EvaluationResult
            One per genome, in input order.

        Raises
        ------
        DeadlineReached
            When ``deadline`` passed before every genome finished.
        ValueError
            For ``folds`` that are not distinct fold indices, or ``initial_weights`` of the
            wrong length.
        """
        wanted = check_fold_indices(folds, len(self.folds))
        starts = check_initial_weights(initial_weights, len(genomes), len(self.folds))
        self._calls += 1
        chosen = list(range(len(self.folds))) if wanted is None else wanted
        hashes = [g.canonical_hash() for g in genomes]
        results: list[EvaluationResult | None] = [None] * len(genomes)
        pending: dict[int, list[int]] = {}  # first index of a new genome -> duplicate indices
        needs: dict[int, list[int]] = {}  # first index -> the folds it trains now
        known: dict[int, dict[int, FoldOutcome]] = {}  # first index -> its folds trained before
        for index, (genome, genome_hash) in enumerate(zip(genomes, hashes, strict=True)):
            cached = self.lookup(genome, genome_hash)
            if cached is not None:
                results[index] = cached
                self.cache_hits += 1
                continue
            twin = next(
                (
                    first
                    for first in pending
                    if hashes[first] == genome_hash and genomes[first].equivalent(genome)
                ),
                None,
            )
            if twin is not None:
                pending[twin].append(index)
                self.cache_hits += 1
                continue
            replayed = self._replay.take(genome, genome_hash, wanted)
            if replayed is not None:
                results[index] = replayed
                if replayed.folds is None:
                    self.evaluations += 1
                else:
                    self.partial_evaluations += 1
                self.remember(genome, replayed)
                entry = self._partials.entry(genome, genome_hash, False, self._calls)
                if entry is not None:
                    entry.used = self._calls
                continue
            entry = self._partials.entry(genome, genome_hash, False, self._calls)
            # Journalled folds that no request matched exactly (a run that went differently
            # from the journal's): known folds all the same, never trained twice.
            for leftover in self._replay.take_partials(genome, genome_hash):
                entry = entry or self._partials.entry(genome, genome_hash, True, self._calls)
                assert entry is not None
                self._partials.absorb(entry, leftover)
            stored = entry.outcomes if entry is not None else {}
            if entry is not None:
                entry.used = self._calls
            failed = entry is not None and entry.failed
            need = [] if failed else [fold for fold in chosen if fold not in stored]
            if need:
                pending[index] = [index]
                needs[index] = need
                known[index] = dict(stored)
            elif wanted is None:  # every fold known (or failed): complete it without training
                result = self._conclude(genome, genome_hash, dict(stored), None, keep_weights)
                results[index] = result
                if on_result is not None:
                    on_result(genome, result)
            else:  # nothing new to train for this partial request
                results[index] = combine_outcomes(
                    genome, genome_hash, stored, len(self.folds), wanted, keep_weights, self._floor
                )
                self.cache_hits += 1

        tasks = [(index, fold) for index in pending for fold in needs[index]]
        # Longest first: parameter count times epochs is a good proxy for training time. The
        # sort is stable, so a genome's folds stay together in fold order either way.
        direction = 1 if cheapest_first else -1
        tasks.sort(
            key=lambda t: (
                direction * genomes[t[0]].n_params() * genomes[t[0]].hyperparameters["max_epochs"]
            )
        )
        batch = FoldBatch(
            self._conclude,
            self.seed,
            len(self.folds),
            genomes,
            hashes,
            pending,
            results,
            len(tasks),
            on_result,
            on_progress,
            wanted=wanted,
            needs=needs,
            known=known,
            starts=starts,
            keep_weights=keep_weights,
        )
        if on_progress is not None:
            on_progress(0, len(tasks))
        if tasks:
            self._get_backend().run_batch(batch, tasks, deadline)
        if wanted is not None and keep_weights:
            self._partials.prune_weights(self._calls)
        return [r for r in results if r is not None]

    def slots(self) -> int:
        """Folds trained at once: the backend's workers (a cluster's threads); 1 in-process."""
        return 1 if self.inline else self._get_backend().slots()

    def _conclude(
        self,
        genome: Genome,
        genome_hash: str,
        outcomes: dict[int, FoldOutcome],
        wanted: list[int] | None,
        keep_weights: bool,
    ) -> EvaluationResult:
        """The result of a genome whose asked-for folds are all done; counted and kept."""
        result = combine_outcomes(
            genome, genome_hash, outcomes, len(self.folds), wanted, keep_weights, self._floor
        )
        if wanted is None:
            self.evaluations += 1
            self.remember(genome, result)
        else:
            self.partial_evaluations += 1
            entry = self._partials.entry(genome, genome_hash, True, self._calls)
            assert entry is not None
            entry.outcomes.update(outcomes)
            entry.used = self._calls
            self._partials.note_weights(entry)
        return result
