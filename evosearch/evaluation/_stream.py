"""An open batch: genomes submitted one at a time while the earlier ones train.

:class:`EvaluationStream` is what :meth:`Evaluator.stream` returns, for the steady-state search:
it is a :class:`~evosearch.evaluation._batch.FoldBatch` that grows. ``on_result`` (called as a
genome's last fold lands) may :meth:`~EvaluationStream.submit` new genomes; a streaming backend
(:attr:`~evosearch.evaluation.backends.Backend.streaming`) starts their folds as workers free
up, without waiting for the rest, and :meth:`~EvaluationStream.run` returns once nothing is
left in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from evosearch.evaluation._batch import FoldBatch
from evosearch.evaluation.backends import Deadline
from evosearch.evaluation.result import EvaluationResult
from evosearch.evaluation.tasks import FoldOutcome
from evosearch.space import Genome

if TYPE_CHECKING:
    from evosearch.evaluation.evaluator import Evaluator

__all__ = ["EvaluationStream"]

#: A genome's fold starts: None, or one weight mapping (or None) per fold.
FoldStarts = Sequence[Mapping[str, np.ndarray] | None] | None


class EvaluationStream(FoldBatch):
    """Genomes evaluated by complete cross-validation as they are submitted.

    Results are the ones :meth:`Evaluator.evaluate` gives (each fold's seed depends on the run
    seed, the genome and the fold only), counted and cached the same way; only the order in
    which ``on_result`` sees them depends on timing (on the ``local`` backend with ``n_jobs=1``
    it is the submission order).

    Parameters
    ----------
    evaluator : Evaluator
    on_result : callable
        ``on_result(genome, result)`` as each genome's last fold lands; it may call
        :meth:`submit`.
    on_progress : callable, optional
        ``on_progress(done, total)`` after every fold (``total`` grows with submissions).
    keep_weights : bool, default=False
        Send each fold's trained weights back on the result (``fold_weights``).
    """

    def __init__(
        self,
        evaluator: Evaluator,
        on_result: Callable[[Genome, EvaluationResult], None],
        on_progress: Callable[[int, int], None] | None = None,
        keep_weights: bool = False,
    ) -> None:
        n_folds = len(evaluator.folds)
        super().__init__(
            evaluator._conclude,
            evaluator.seed,
            n_folds,
            [],
            [],
            {},
            [],
            0,
            on_result,
            on_progress,
            needs={},
            starts=[],
            keep_weights=keep_weights,
        )
        self.evaluator = evaluator
        self._n_folds = n_folds
        self._new: list[tuple[int, int]] = []
        self._open: set[int] = set()  # genome indices submitted and not yet concluded

    @property
    def in_flight(self) -> int:
        """Genomes submitted whose result has not landed yet."""
        return len(self._open)

    def submit(self, genome: Genome, initial_weights: FoldStarts = None) -> None:
        """Queue every fold of ``genome`` (started from ``initial_weights`` where given).

        The caller makes sure the genome is not cached (:meth:`Evaluator.lookup`): a stream
        trains what it is given.
        """
        if initial_weights is not None and len(initial_weights) != self._n_folds:
            raise ValueError(
                f"initial_weights has {len(initial_weights)} folds, the evaluator {self._n_folds}"
            )
        index = len(self.genomes)
        assert isinstance(self.genomes, list) and isinstance(self.starts, list)
        self.genomes.append(genome)
        self.hashes.append(genome.canonical_hash())
        self.starts.append(initial_weights)
        self.results.append(None)
        self.pending[index] = [index]
        self.needs[index] = list(range(self._n_folds))
        self.outcomes[index] = {}
        self.total += self._n_folds
        self._open.add(index)
        self._new += [(index, fold) for fold in range(self._n_folds)]

    def take_new(self) -> list[tuple[int, int]]:
        new, self._new = self._new, []
        return new

    def finish(self, key: tuple[int, int], outcome: FoldOutcome) -> None:
        index = key[0]
        complete = len(self.outcomes[index]) + 1 == len(self.needs[index])
        if complete:
            self._open.discard(index)
        super().finish(key, outcome)
        if complete:
            # A long stream must not hold every result's weights and predictions.
            self.results[index] = None
            self.outcomes[index] = {}

    def run(self, deadline: float | Deadline | None = None) -> None:
        """Train until nothing submitted is left in flight (``on_result`` may go on
        submitting); a backend that does not stream gets what was added as further batches.

        Raises
        ------
        DeadlineReached
            When ``deadline`` passes first (what landed before it was reported).
        """
        backend = self.evaluator._get_backend()
        if self.on_progress is not None:
            self.on_progress(self.done, self.total)
        if backend.streaming:
            backend.run_batch(self, self.take_new(), deadline)
        while self._new:  # a backend without streaming: one batch per round of submissions
            backend.run_batch(self, self.take_new(), deadline)
