"""What an :class:`Evaluator` holds between calls besides its cache.

:class:`_PartialStore`: the folds trained so far of genomes evaluated partially (successive
halving), with their weights for a while. :class:`_ReplayStore`: journalled results of a resumed
run, handed back by ``evaluate`` instead of training. Both match genomes like the cache does:
canonical hash first, then :meth:`~evosearch.space.Genome.equivalent`.
"""

from __future__ import annotations

from dataclasses import dataclass

from evosearch.evaluation.result import FAILURE_SCORE, EvaluationResult
from evosearch.evaluation.tasks import FoldOutcome
from evosearch.space import Genome


@dataclass(eq=False)
class _Partial:
    """The folds trained so far of a genome evaluated partially (``evaluate(folds=...)``)."""

    genome: Genome
    outcomes: dict[int, FoldOutcome]
    used: int = 0  # the evaluate call that last asked for this genome

    @property
    def failed(self) -> bool:
        return any(outcome.error is not None for outcome in self.outcomes.values())

    @property
    def has_weights(self) -> bool:
        return any(outcome.weights is not None for outcome in self.outcomes.values())


class _PartialStore:
    """The :class:`_Partial` entries of one evaluator, by canonical hash."""

    def __init__(self, n_folds: int) -> None:
        self.n_folds = n_folds
        self._entries: dict[str, list[_Partial]] = {}
        self._weighted: list[_Partial] = []  # entries that may hold weights

    def entry(self, genome: Genome, genome_hash: str, create: bool, call: int) -> _Partial | None:
        """The entry of an equivalent genome; a new one (marked used by ``call``) if ``create``."""
        for entry in self._entries.get(genome_hash, ()):
            if entry.genome.equivalent(genome):
                return entry
        if not create:
            return None
        entry = _Partial(genome, {}, call)
        self._entries.setdefault(genome_hash, []).append(entry)
        return entry

    def drop(self, genome: Genome, genome_hash: str) -> None:
        entries = self._entries.get(genome_hash)
        if not entries:
            return
        for entry in [e for e in entries if e.genome.equivalent(genome)]:
            entries.remove(entry)
            entry.outcomes = {}  # frees its weights now, even while _weighted lists it
        if not entries:
            del self._entries[genome_hash]

    def absorb(self, entry: _Partial, result: EvaluationResult) -> None:
        """Add a partial result's folds to those known of its genome (known ones stay).

        A result keeps only totals of some measurements, so the first new fold gets the
        seconds that the known folds do not explain, and the error (a failure is final, so
        which fold carries it does not change any later result).
        """
        assert result.folds is not None
        folds = list(result.folds)
        new = [fold for fold in folds if fold not in entry.outcomes]
        if not new:
            return
        n = len(folds)
        scores = list(result.fold_scores) if len(result.fold_scores) == n else [FAILURE_SCORE] * n
        epochs = list(result.epochs) if len(result.epochs) == n else [0] * n
        weights = result.fold_weights
        if weights is not None and len(weights) != self.n_folds:
            weights = None
        seconds = result.seconds - sum(
            entry.outcomes[fold].seconds for fold in folds if fold in entry.outcomes
        )
        for position, fold in enumerate(folds):
            if fold in new:
                first = fold == new[0]
                entry.outcomes[fold] = FoldOutcome(
                    float(scores[position]),
                    int(epochs[position]),
                    max(seconds, 0.0) if first else 0.0,
                    result.error if first else None,
                    result.peak_memory_mb,
                    weights[fold] if weights is not None else None,
                )
        self.note_weights(entry)

    def note_weights(self, entry: _Partial) -> None:
        if entry.has_weights and all(e is not entry for e in self._weighted):
            self._weighted.append(entry)

    def prune_weights(self, call: int) -> None:
        """Drop the weights of entries that the evaluate call ``call`` did not ask for."""
        kept = []
        for entry in self._weighted:
            if entry.used == call:
                kept.append(entry)
            else:
                entry.outcomes = {f: o._replace(weights=None) for f, o in entry.outcomes.items()}
        self._weighted = kept


class _ReplayStore:
    """Journalled results waiting for the ``evaluate`` call that asks for their genome."""

    def __init__(self) -> None:
        self._complete: dict[str, list[tuple[Genome, EvaluationResult]]] = {}
        self._partial: dict[str, list[tuple[Genome, EvaluationResult]]] = {}

    def add(self, genome: Genome, result: EvaluationResult) -> None:
        store = self._complete if result.folds is None else self._partial
        store.setdefault(result.genome_hash, []).append((genome, result))

    def take(
        self, genome: Genome, genome_hash: str, wanted: list[int] | None = None
    ) -> EvaluationResult | None:
        """The journalled result that answers this request, if any (removed from the store).

        For a partial request: a replayed partial result of exactly those folds, else a
        complete one (a complete result answers any request, as the cache does).
        """
        if wanted is not None:
            partials = self._partial.get(genome_hash, [])
            for position, (known, result) in enumerate(partials):
                if result.folds == wanted and known.equivalent(genome):
                    del partials[position]
                    return result
        for position, (known, result) in enumerate(self._complete.get(genome_hash, ())):
            if known.equivalent(genome):
                del self._complete[genome_hash][position]
                self.take_partials(genome, genome_hash)  # superseded
                return result
        return None

    def take_partials(self, genome: Genome, genome_hash: str) -> list[EvaluationResult]:
        """Every journalled partial result of the genome (removed from the store)."""
        partials = self._partial.get(genome_hash, [])
        taken = [result for known, result in partials if known.equivalent(genome)]
        if taken:
            partials[:] = [(k, r) for k, r in partials if not k.equivalent(genome)]
        return taken
