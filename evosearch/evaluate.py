"""Cross-validated scoring of genomes, in parallel, with a results cache.

One call of :meth:`Evaluator.evaluate` trains every pending ``genome x fold`` pair in a single
joblib pool, longest tasks first, so that no core idles at the end of a generation while one
genome's last fold trains. Each task's seed derives from the run seed, the genome's canonical
hash and the fold number (:class:`numpy.random.SeedSequence`), never from worker identity or
completion order, so results are identical for any ``n_jobs``. Workers cap BLAS threads to one
(threadpoolctl) so ``n_jobs`` processes do not oversubscribe the cores.

A genome whose training raises, diverges or produces a non-finite score is not an error of the
run: it gets :data:`FAILURE_SCORE` and its error text is kept in the result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from .genome import Genome
from .network import GraphNetClassifier, GraphNetRegressor

__all__ = ["FAILURE_SCORE", "EvaluationResult", "Evaluator", "build_estimator", "task_seed"]

#: Score given to a genome whose evaluation failed; valid scores are clipped to at least this
#: value for selection (the journal keeps the raw fold scores).
FAILURE_SCORE = -1.0


@dataclass
class EvaluationResult:
    """The outcome of cross-validating one genome.

    Attributes
    ----------
    genome_hash : str
        The genome's canonical hash.
    fold_scores : list of float
        Accuracy (classification) or R² (regression) on each test fold; empty on failure.
    score : float
        Mean of ``fold_scores`` clipped to at least :data:`FAILURE_SCORE`, or
        :data:`FAILURE_SCORE` when the evaluation failed.
    n_params : int
        Parameter count of the decoded network.
    seconds : float
        Training and scoring time summed over folds.
    epochs : list of int
        Epochs trained on each fold.
    error : str or None
        ``"ExceptionType: message"`` of the first failing fold, None on success.
    """

    genome_hash: str
    fold_scores: list[float]
    score: float
    n_params: int
    seconds: float
    epochs: list[int] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationResult:
        return cls(**data)


def build_estimator(genome: Genome, task: str, random_state: int | None = None) -> Pipeline:
    """Decode a genome into an unfitted scikit-learn pipeline (standardise, then GraphNet).

    Standardisation is part of the model so an exported estimator takes raw features.
    """
    net_class = GraphNetClassifier if task == "classification" else GraphNetRegressor
    net = net_class(
        architecture=genome.to_architecture(),
        random_state=random_state,
        **genome.hyperparameters,
    )
    return Pipeline([("scale", StandardScaler()), ("net", net)])


def task_seed(run_seed: int, genome_hash: str, fold: int) -> int:
    """Seed of one fold's training: a function of run seed, genome and fold only."""
    sequence = np.random.SeedSequence([int(run_seed), int(genome_hash, 16), int(fold)])
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def _fit_fold(
    genome: Genome,
    task: str,
    X: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    seed: int,
) -> tuple[float, int, float, str | None]:
    """Train on one fold and score on its test part (runs in a worker)."""
    start = time.perf_counter()
    try:
        with threadpool_limits(limits=1):
            model = build_estimator(genome, task, seed)
            model.fit(X[train], y[train])
            score = float(model.score(X[test], y[test]))
        if not np.isfinite(score):
            raise FloatingPointError(f"non-finite test score {score}")
        epochs = int(getattr(model[-1], "n_epochs_", 0))
        return score, epochs, time.perf_counter() - start, None
    except Exception as exc:  # any failure of a candidate is data, not a crash of the run
        return FAILURE_SCORE, 0, time.perf_counter() - start, f"{type(exc).__name__}: {exc}"


class Evaluator:
    """Scores genomes by k-fold cross-validation on one dataset.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    task : {"classification", "regression"}
    cv : int, default=3
        Number of folds (stratified for classification).
    n_jobs : int, default=-1
        Worker processes; -1 uses every core.
    seed : int, default=0
        Run seed; fold splits and per-task training seeds derive from it.
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        task: str,
        cv: int = 3,
        n_jobs: int = -1,
        seed: int = 0,
    ) -> None:
        self.X = np.ascontiguousarray(X, dtype=np.float32)
        self.y = np.asarray(y)
        self.task = task
        self.cv = cv
        self.n_jobs = n_jobs
        self.seed = seed
        splitter = (
            StratifiedKFold(cv, shuffle=True, random_state=seed)
            if task == "classification"
            else KFold(cv, shuffle=True, random_state=seed)
        )
        self.folds = list(splitter.split(self.X, self.y))
        self._cache: dict[str, list[tuple[Genome, EvaluationResult]]] = {}
        self._replay: dict[str, list[tuple[Genome, EvaluationResult]]] = {}
        self.cache_hits = 0
        self.evaluations = 0

    def remember(self, genome: Genome, result: EvaluationResult) -> None:
        """Put a known result into the cache (used when resuming from a journal)."""
        self._cache.setdefault(result.genome_hash, []).append((genome, result))

    def replay(self, genome: Genome, result: EvaluationResult) -> None:
        """Hold a journalled result that :meth:`evaluate` hands back instead of training.

        Unlike :meth:`remember`, the result stays invisible to :meth:`lookup` until an
        ``evaluate`` call asks for that genome, and it then counts as an evaluation rather
        than a cache hit: a resumed run sees the same cache and counts as an uninterrupted one.
        """
        self._replay.setdefault(result.genome_hash, []).append((genome, result))

    def _take_replay(self, genome: Genome, genome_hash: str) -> EvaluationResult | None:
        for position, (known, result) in enumerate(self._replay.get(genome_hash, ())):
            if known.equivalent(genome):
                del self._replay[genome_hash][position]
                return result
        return None

    def lookup(self, genome: Genome, genome_hash: str | None = None) -> EvaluationResult | None:
        """The cached result of an equivalent genome, if any."""
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
    ) -> list[EvaluationResult]:
        """Cross-validate ``genomes``; cached and duplicate genomes are trained once.

        Parameters
        ----------
        genomes : sequence of Genome
        on_result : callable, optional
            Called in this process as ``on_result(genome, result)`` when a genome's last fold
            finishes (in completion order), e.g. to journal it.
        on_progress : callable, optional
            Called as ``on_progress(done, total)`` after every finished fold.

        Returns
        -------
        list of EvaluationResult
            One per genome, in input order.
        """
        hashes = [g.canonical_hash() for g in genomes]
        results: list[EvaluationResult | None] = [None] * len(genomes)
        pending: dict[int, list[int]] = {}  # first index of a new genome -> duplicate indices
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
            replayed = self._take_replay(genome, genome_hash) if twin is None else None
            if replayed is not None:
                results[index] = replayed
                self.evaluations += 1
                self.remember(genome, replayed)
            elif twin is None:
                pending[index] = [index]
            else:
                pending[twin].append(index)
                self.cache_hits += 1

        tasks = [(index, fold) for index in pending for fold in range(len(self.folds))]
        # Longest first: parameter count times epochs is a good proxy for training time.
        tasks.sort(
            key=lambda t: -genomes[t[0]].n_params() * genomes[t[0]].hyperparameters["max_epochs"]
        )
        fold_outcomes: dict[int, dict[int, tuple[float, int, float, str | None]]] = {
            i: {} for i in pending
        }
        total = len(tasks)
        if on_progress is not None:
            on_progress(0, total)
        if tasks:
            parallel = Parallel(n_jobs=self.n_jobs, return_as="generator_unordered")
            outputs = parallel(
                delayed(_with_key)(
                    (index, fold),
                    genomes[index],
                    self.task,
                    self.X,
                    self.y,
                    self.folds[fold][0],
                    self.folds[fold][1],
                    task_seed(self.seed, hashes[index], fold),
                )
                for index, fold in tasks
            )
            for done, ((index, fold), outcome) in enumerate(outputs, start=1):
                fold_outcomes[index][fold] = outcome
                if on_progress is not None:
                    on_progress(done, total)
                if len(fold_outcomes[index]) == len(self.folds):
                    result = self._combine(genomes[index], hashes[index], fold_outcomes[index])
                    self.evaluations += 1
                    self.remember(genomes[index], result)
                    for duplicate in pending[index]:
                        results[duplicate] = result
                    if on_result is not None:
                        on_result(genomes[index], result)
        return [r for r in results if r is not None]

    def _combine(
        self,
        genome: Genome,
        genome_hash: str,
        outcomes: dict[int, tuple[float, int, float, str | None]],
    ) -> EvaluationResult:
        ordered = [outcomes[fold] for fold in range(len(self.folds))]
        errors = [error for *_, error in ordered if error is not None]
        fold_scores = [] if errors else [score for score, *_ in ordered]
        score = max(float(np.mean(fold_scores)), FAILURE_SCORE) if fold_scores else FAILURE_SCORE
        return EvaluationResult(
            genome_hash=genome_hash,
            fold_scores=fold_scores,
            score=score,
            n_params=genome.n_params(),
            seconds=float(sum(seconds for _, _, seconds, _ in ordered)),
            epochs=[epochs for _, epochs, _, _ in ordered],
            error=errors[0] if errors else None,
        )


def _with_key(key: tuple[int, int], *args: Any) -> tuple[tuple[int, int], tuple]:
    return key, _fit_fold(*args)
