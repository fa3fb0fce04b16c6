"""What evaluating one genome gives: :class:`EvaluationResult` and :data:`FAILURE_SCORE`."""

from __future__ import annotations

import copy
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

import numpy as np

__all__ = ["FAILURE_SCORE", "EvaluationResult"]

#: The recorded score of a genome whose evaluation failed (its ``error`` says so; selection
#: ranks it below every valid score). Runs from before ``scale_target`` clipped valid accuracy /
#: R² means to at least this value (the journal keeps the raw fold scores).
FAILURE_SCORE = -1.0


@dataclass
class EvaluationResult:
    """The outcome of cross-validating one genome (on every fold, or on some of them).

    Attributes
    ----------
    genome_hash : str
        The genome's canonical hash.
    fold_scores : list of float
        Accuracy (classification) or R² (regression), or the run's scorer's score, on each
        test fold (each fold of ``folds`` for a partial result); empty on failure.
    score : float
        Mean of ``fold_scores`` (clipped to at least :data:`FAILURE_SCORE` in runs from before
        ``scale_target``), or :data:`FAILURE_SCORE` when the evaluation failed.
    n_params : int
        Parameter count of the decoded network.
    seconds : float
        Training and scoring time summed over folds (over ``folds`` for a partial result,
        including folds trained by earlier calls).
    epochs : list of int
        Epochs trained on each fold (each fold of ``folds``); 0 for a fold that was never
        trained because the genome had already failed.
    error : str or None
        ``"ExceptionType: message"`` (one line) of the first failing fold, None on success.
        Besides the exceptions of training itself: ``TimeoutError`` (the fold ran past
        ``eval_timeout``), ``MemoryError`` (past ``max_memory``) and ``WorkerDied`` (the
        process training it died). A failure is final: once one fold of a genome failed, every
        later result of that genome (partial or complete) is that failure.
    peak_memory_mb : float or None
        The largest resident-memory growth of one fold while it trained: the process's peak
        resident set size during the fold minus its resident size when the fold started, in
        MiB (what the evaluation itself needed, without the worker's baseline). None where it
        cannot be measured (it needs Linux's ``/proc/self/clear_refs``) and in journals written
        before it existed. A measurement, like ``seconds``: it may vary between runs.
    folds : list of int or None
        None for a complete evaluation (every fold); for a partial one (``evaluate(...,
        folds=...)``) the sorted indices of the folds that ``fold_scores`` and ``epochs``
        describe. Journals written before it existed read as None.
    fold_weights : list of (dict of str to ndarray or None) or None
        With ``evaluate(..., keep_weights=True)``: the fitted network's
        :meth:`~evosearch.nn.GraphNetClassifier.weight_blocks` of every fold, indexed by
        fold number (always ``cv`` entries, also for a partial result), None for a fold that
        was not trained, failed, or whose weights this evaluator no longer holds. None when
        weights were not asked for, and on results served from the cache or replayed from a
        journal (the cache does not keep weights, to bound its memory). Not part of
        :meth:`to_dict` (journals stay JSON), of ``==`` or of ``repr``.
    fold_predictions : list of (ndarray or None) or None
        With an evaluator that keeps predictions (``keep_predictions=True``): each fold's
        predictions of its test rows (float32; class probabilities in the order of the sorted
        classes, or targets as a column per target), indexed by fold number, None for a fold
        without them. None otherwise, and on cached or replayed results. Like
        ``fold_weights``, not part of :meth:`to_dict`, ``==`` or ``repr``.
    """

    genome_hash: str
    fold_scores: list[float]
    score: float
    n_params: int
    seconds: float
    epochs: list[int] = field(default_factory=list)
    error: str | None = None
    peak_memory_mb: float | None = None
    folds: list[int] | None = None
    fold_weights: list[dict[str, np.ndarray] | None] | None = field(
        default=None, compare=False, repr=False
    )
    fold_predictions: list[np.ndarray | None] | None = field(
        default=None, compare=False, repr=False
    )

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def partial(self) -> bool:
        """Whether this result covers only some folds (``folds`` is not None)."""
        return self.folds is not None

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data, without ``fold_weights`` and ``fold_predictions``."""
        # Not asdict(): that would deep-copy every weight array only to drop it.
        return {
            spec.name: copy.deepcopy(getattr(self, spec.name))
            for spec in fields(self)
            if spec.name not in ("fold_weights", "fold_predictions")
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationResult:
        """Rebuild a result from :meth:`to_dict` output (e.g. a journal line).

        Keys that are not fields (a journal line's ``generation``, ``genome``, ...) are ignored
        and fields added since the data was written take their defaults, so older journals load.

        Raises
        ------
        KeyError
            Naming the first required field that is missing.
        """
        known = fields(cls)
        for spec in known:
            if spec.name not in data and spec.default is MISSING:
                if spec.default_factory is MISSING:
                    raise KeyError(spec.name)
        return cls(**{spec.name: data[spec.name] for spec in known if spec.name in data})
