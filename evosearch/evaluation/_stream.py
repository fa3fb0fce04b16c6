"""An open batch: genomes submitted one at a time while the earlier ones train.

:class:`EvaluationStream` (``EvaluationStream(evaluator, on_result)``) serves the
steady-state search: it is a :class:`~evosearch.evaluation._batch.FoldBatch` that grows.
``on_result`` (called as a genome's last fold lands) may :meth:`~EvaluationStream.submit` new
genomes (also screening tasks, trained on the evaluator's workers for a screening evaluator,
and first folds, for successive halving); a streaming backend
(:attr:`~evosearch.evaluation.backends.Backend.streaming`) starts their folds as workers free
up, without waiting for the rest, and :meth:`~EvaluationStream.run` returns once nothing is
left in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from evosearch.evaluation._batch import Conclude, FoldBatch
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
    screening : Evaluator, optional
        The screening rung's evaluator (of the fidelity that ``evaluator`` was given as
        ``screen_fidelity``): screening tasks train on ``evaluator``'s workers, and their
        results are counted and cached by ``screening``, as if it had trained them.
    """

    def __init__(
        self,
        evaluator: Evaluator,
        on_result: Callable[[Genome, EvaluationResult], None],
        on_progress: Callable[[int, int], None] | None = None,
        keep_weights: bool = False,
        screening: Evaluator | None = None,
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
        self._wanted: dict[int, list[int] | None] = {}  # per genome index: its folds asked
        self.screening = screening
        self._screened: set[int] = set()  # genome indices of screening tasks

    @property
    def in_flight(self) -> int:
        """Genomes submitted whose result has not landed yet."""
        return len(self._open)

    def submit(
        self,
        genome: Genome,
        initial_weights: FoldStarts = None,
        folds: Sequence[int] | None = None,
        screen: bool = False,
    ) -> None:
        """Queue ``genome``'s folds (started from ``initial_weights`` where given).

        ``folds``: only those (a partial result, ``result.folds``: successive halving's first
        rung); None: a complete result. Folds the evaluator knows of the genome from an earlier
        partial result are not trained again, as in :meth:`Evaluator.evaluate`. ``screen``:
        the screening evaluator's evaluation instead (its one fold, at its fidelity). The caller
        makes sure the genome is not cached (:meth:`Evaluator.lookup`) and that something is
        left to train.
        """
        if initial_weights is not None and len(initial_weights) != self._n_folds:
            raise ValueError(
                f"initial_weights has {len(initial_weights)} folds, the evaluator {self._n_folds}"
            )
        if screen and (self.screening is None or self.evaluator.screen_folds is None):
            raise ValueError("a screening task needs the screening evaluator and its folds")
        genome_hash = genome.canonical_hash()
        wanted = None if folds is None or screen else sorted(folds)
        known = {} if screen else self.known_folds(genome, genome_hash)
        chosen = [0] if screen else range(self._n_folds) if wanted is None else wanted
        need = [fold for fold in chosen if fold not in known]
        if not need:
            raise ValueError(f"every fold asked of genome {genome_hash[:12]} is known already")
        index = len(self.genomes)
        assert isinstance(self.genomes, list) and isinstance(self.starts, list)
        self.genomes.append(genome)
        self.hashes.append(genome_hash)
        self.starts.append(initial_weights)
        self.results.append(None)
        self.pending[index] = [index]
        self.needs[index] = need
        self.known[index] = known
        self._wanted[index] = wanted
        self.outcomes[index] = {}
        if screen:
            self._screened.add(index)
        self.total += len(need)
        self._open.add(index)
        self._new += [(index, fold) for fold in need]

    def known_folds(self, genome: Genome, genome_hash: str) -> dict[int, FoldOutcome]:
        """The folds of ``genome`` trained by earlier partial evaluations."""
        entry = self.evaluator._partials.entry(genome, genome_hash, False, 0)
        return {} if entry is None else dict(entry.outcomes)

    def partly_known(self, genome_hash: str) -> bool:
        """Whether a genome of this hash has folds trained by an earlier partial evaluation,
        or was screened already."""
        screened = self.screening is not None and genome_hash in self.screening._cache
        return screened or bool(self.evaluator._partials._entries.get(genome_hash))

    def forget(self, genome: Genome) -> None:
        """Let go of the trained weights of a partially evaluated genome that will not be
        finished (a first rung not promoted): a long stream must not hold them. Its fold
        results stay known."""
        entry = self.evaluator._partials.entry(genome, genome.canonical_hash(), False, 0)
        if entry is not None:
            entry.outcomes = {f: o._replace(weights=None) for f, o in entry.outcomes.items()}

    def args(self, key: tuple[int, int]) -> tuple[Any, ...]:
        if key[0] not in self._screened:
            return super().args(key)
        genome, genome_hash, fold, seed = super().args(key)[:4]
        start = self.starts[key[0]] if self.starts is not None else None
        # A screening task: never weights back (nothing screened is kept).
        return (genome, genome_hash, fold, seed, start[fold] if start else None, False, True)

    def take_new(self) -> list[tuple[int, int]]:
        new, self._new = self._new, []
        return new

    def finish(self, key: tuple[int, int], outcome: FoldOutcome) -> None:
        index = key[0]
        if not self.note(key, outcome):
            return
        self._open.discard(index)
        # A long stream must not hold every result's weights and predictions.
        outcomes = {**self.known.pop(index, {}), **self.outcomes[index]}
        self.outcomes[index] = {}
        genome = self.genomes[index]
        conclude: Conclude = self.conclude
        keep = self.keep_weights
        if index in self._screened:
            assert self.screening is not None
            self._screened.discard(index)
            conclude, keep = self.screening._conclude, False
        result = conclude(genome, self.hashes[index], outcomes, self._wanted.pop(index), keep)
        if self.on_result is not None:
            self.on_result(genome, result)

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
