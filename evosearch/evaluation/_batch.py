"""The bookkeeping of one :meth:`Evaluator.evaluate` call: fold outcomes in, genome results out.

:class:`FoldBatch` is what a backend sees of the call (:class:`~.backends.base.TaskBatch`);
:func:`combine_outcomes` turns the fold outcomes of one genome into its :class:`EvaluationResult`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from evosearch.evaluation.result import FAILURE_SCORE, EvaluationResult
from evosearch.evaluation.tasks import FoldOutcome, FoldWeights, failed_outcome, task_seed
from evosearch.space import Genome

#: ``conclude(genome, genome_hash, outcomes, wanted, keep_weights)``: the evaluator's
#: :meth:`~Evaluator._conclude` (builds, counts and keeps a genome's result).
Conclude = Callable[[Genome, str, dict[int, FoldOutcome], list[int] | None, bool], EvaluationResult]


class FoldBatch:
    """Bookkeeping of one :meth:`Evaluator.evaluate` call: folds in, genome results out."""

    def __init__(
        self,
        conclude: Conclude,
        seed: int,
        n_folds: int,
        genomes: Sequence[Genome],
        hashes: list[str],
        pending: dict[int, list[int]],
        results: list[EvaluationResult | None],
        total: int,
        on_result: Callable[[Genome, EvaluationResult], None] | None,
        on_progress: Callable[[int, int], None] | None,
        *,
        wanted: list[int] | None = None,
        needs: dict[int, list[int]] | None = None,
        known: dict[int, dict[int, FoldOutcome]] | None = None,
        starts: Sequence[Sequence[Mapping[str, np.ndarray] | None] | None] | None = None,
        keep_weights: bool = False,
    ) -> None:
        self.conclude = conclude
        self.seed = seed
        self.genomes = genomes
        self.hashes = hashes
        self.pending = pending
        self.results = results
        self.total = total
        self.on_result = on_result
        self.on_progress = on_progress
        self.wanted = wanted  # the folds asked for; None: all
        all_folds = list(range(n_folds))
        # Folds each pending genome trains now, and what earlier calls trained of it.
        self.needs = needs if needs is not None else {index: all_folds for index in pending}
        self.known = known if known is not None else {}
        self.starts = starts
        self.keep_weights = keep_weights
        self.outcomes: dict[int, dict[int, FoldOutcome]] = {index: {} for index in pending}
        self.done = 0
        self.lost: set[int] = set()  # genomes that timed out or killed a worker

    def args(self, key: tuple[int, int]) -> tuple[Any, ...]:
        """What ``fit_fold`` needs besides the context, for one ``(genome index, fold)``."""
        index, fold = key
        genome_hash = self.hashes[index]
        base = (
            self.genomes[index],
            genome_hash,
            fold,
            task_seed(self.seed, genome_hash, fold),
        )
        start = self.starts[index] if self.starts is not None else None
        initial = start[fold] if start is not None else None
        if initial is None and not self.keep_weights:
            return base  # the defaults: nothing more to pickle for the worker
        return (*base, initial, self.keep_weights)

    def note(self, key: tuple[int, int], outcome: FoldOutcome) -> bool:
        """Keep one fold's outcome (and report progress); whether its genome's folds are all
        in now."""
        index, fold = key
        self.outcomes[index][fold] = outcome
        self.done += 1
        if self.on_progress is not None:
            self.on_progress(self.done, self.total)
        return len(self.outcomes[index]) == len(self.needs[index])

    def finish(self, key: tuple[int, int], outcome: FoldOutcome) -> None:
        index = key[0]
        if self.note(key, outcome):
            outcomes = {**self.known.get(index, {}), **self.outcomes[index]}
            result = self.conclude(
                self.genomes[index], self.hashes[index], outcomes, self.wanted, self.keep_weights
            )
            for duplicate in self.pending[index]:
                self.results[duplicate] = result
            if self.on_result is not None:
                self.on_result(self.genomes[index], result)

    def take_new(self) -> list[tuple[int, int]]:
        """Tasks added since the backend started (none: every task was given to ``run``)."""
        return []

    def skip_if_lost(self, key: tuple[int, int]) -> bool:
        """Finish a fold of a genome that has already failed hard, without training it."""
        if key[0] not in self.lost:
            return False
        self.finish(key, failed_outcome(0.0, None))
        return True


def combine_outcomes(
    genome: Genome,
    genome_hash: str,
    outcomes: Mapping[int, FoldOutcome],
    n_folds: int,
    wanted: list[int] | None = None,
    keep_weights: bool = False,
    floor: float = -math.inf,
) -> EvaluationResult:
    """One result from fold outcomes: of every fold (``wanted`` None) or of ``wanted``.

    A valid mean is clipped to at least ``floor``: ``-inf``, no clipping, but for accuracy /
    R² in runs from before ``scale_target`` (:data:`FAILURE_SCORE`).
    """
    chosen = range(n_folds) if wanted is None else wanted
    # A failure is final: it decides every result of the genome, and the folds it kept
    # from training count as skipped (0 epochs).
    errors = [outcomes[f].error for f in sorted(outcomes) if outcomes[f].error is not None]
    ordered = [outcomes[fold] if fold in outcomes else failed_outcome(0.0, None) for fold in chosen]
    fold_scores = [] if errors else [outcome.score for outcome in ordered]
    score = max(float(np.mean(fold_scores)), floor) if fold_scores else FAILURE_SCORE
    peaks = [outcome.peak_mb for outcome in ordered if outcome.peak_mb is not None]
    fold_weights: list[FoldWeights | None] | None = None
    if keep_weights:
        fold_weights = [None] * n_folds
        for fold, outcome in zip(chosen, ordered, strict=True):
            fold_weights[fold] = outcome.weights
    fold_predictions: list[np.ndarray | None] | None = None
    if any(outcome.predictions is not None for outcome in ordered):
        fold_predictions = [None] * n_folds
        for fold, outcome in zip(chosen, ordered, strict=True):
            fold_predictions[fold] = outcome.predictions
    return EvaluationResult(
        genome_hash=genome_hash,
        fold_scores=fold_scores,
        score=score,
        n_params=genome.n_params(),
        seconds=float(sum(outcome.seconds for outcome in ordered)),
        epochs=[outcome.epochs for outcome in ordered],
        error=errors[0] if errors else None,
        peak_memory_mb=max(peaks) if peaks else None,
        folds=None if wanted is None else list(wanted),
        fold_weights=fold_weights,
        fold_predictions=fold_predictions,
    )
