"""The loop's evaluation step: cross-validate genomes, journal each result, keep their weights."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from evosearch.evaluation import Deadline, EvaluationResult
from evosearch.objectives import Objective
from evosearch.runs import RunFolder
from evosearch.search._checkpoint import RunState
from evosearch.search._results import ResultsTable
from evosearch.search.inheritance import FoldWeights, WeightStore
from evosearch.search.member import Member
from evosearch.search.oof import OofStore
from evosearch.space import Genome

__all__ = ["JournalledEvaluation"]

#: A child's fold weights to start from (None: fresh weights).
FoldStarts = list[FoldWeights | None] | None


class JournalledEvaluation:
    """Evaluates genomes for the Evolver and records every finished evaluation as it lands.

    Parameters
    ----------
    folder : RunFolder or None
        Where each result is journalled (nothing is written when None).
    weights : WeightStore or None
        With weight inheritance: children start from their first parent's trained weights,
        and every child's trained weights are kept.
    objectives : sequence of Objective
        The members' objective vectors are computed from these.
    on_progress : callable
        ``on_progress(done, total)`` as fold fits finish.
    results : ResultsTable, optional
        Every evaluated member is added to it (the Evolver's ``cv_results_``).
    oof : OofStore, optional
        With ``ensemble``: every full-fidelity result's out-of-fold predictions are kept
        (written before the journal line, like the weights).
    """

    def __init__(
        self,
        folder: RunFolder | None,
        weights: WeightStore | None,
        objectives: Sequence[Objective],
        on_progress: Callable[[int, int], None],
        results: ResultsTable | None = None,
        oof: OofStore | None = None,
    ) -> None:
        self.folder = folder
        self.weights = weights
        self.objectives = tuple(objectives)
        self.on_progress = on_progress
        self.results = results
        self.oof = oof
        #: The (genome, result) pairs of the last :meth:`evaluate` call (at full fidelity) that
        #: finished, in finishing order: what a deadline leaves of a generation.
        self.landed: list[tuple[Genome, EvaluationResult]] = []
        #: Called as ``on_landed(genome, result)`` for each full-fidelity result once it is
        #: journalled (the deadline's refit reserve follows them); it may raise DeadlineReached.
        self.on_landed: Callable[[Genome, EvaluationResult], None] | None = None

    def evaluate(
        self,
        state: RunState,
        genomes: list[Genome],
        lineage: list[list[str]],
        generation: int,
        deadline: float | Deadline | None = None,
        folds: list[int] | None = None,
        screening: bool = False,
    ) -> list[Member]:
        """Cross-validate ``genomes`` (on ``folds`` only, if given) with the run's evaluator.

        With ``screening``, at the screening rung's low fidelity instead (``state.screening``):
        journalled with ``"fidelity": 1``, kept out of ``cv_results_``, the weights they train
        not kept (they start from their parent's where it inherits, like any child).

        Raises
        ------
        DeadlineReached
            When ``deadline`` passes first (finished results are journalled already).
        """
        landed = self.landed = []

        def journal(genome: Genome, result: EvaluationResult) -> None:
            if not screening:
                landed.append((genome, result))
            self.record(genome, result, generation, screening=screening, partial=folds is not None)

        weights = self.weights
        evaluator = state.evaluator
        initial = self.starts(lineage)
        if screening:
            assert state.screening is not None
            # Nothing screened is kept (record() keeps no screening weights either).
            evaluator, weights = state.screening, None
            # The screening rung trains fold 0 only: its start is fold 0's.
            initial = None if initial is None else [w if w is None else w[:1] for w in initial]
        results = evaluator.evaluate(
            genomes,
            on_result=journal,
            on_progress=self.on_progress,
            deadline=deadline,
            folds=folds,
            initial_weights=initial,
            keep_weights=weights is not None,
            # The initial population under a deadline: a budget shorter than its training
            # still finishes as many models as it can (the best of them is returned).
            cheapest_first=generation == 0 and deadline is not None,
        )
        members = [
            Member.evaluated(genome, result, parents, generation, self.objectives)
            for genome, result, parents in zip(genomes, results, lineage, strict=True)
        ]
        if self.results is not None and not screening:
            self.results.add(members)
        return members

    def starts(self, lineage: Sequence[Sequence[str]]) -> list[FoldStarts] | None:
        """Per child (its parents' hashes), the fold weights its training starts from: its
        first parent's where the run inherits weights (None: fresh weights for all)."""
        if self.weights is None:
            return None
        return [self.weights.initial_weights(p[0] if p else None) for p in lineage]

    def record(
        self,
        genome: Genome,
        result: EvaluationResult,
        generation: int,
        *,
        screening: bool = False,
        partial: bool = False,
    ) -> None:
        """Keep one landed result: its trained weights and out-of-fold predictions first,
        then its journal line (a resume that finds the line finds them), then ``on_landed``
        (which may raise DeadlineReached: what it cuts short is journalled).

        ``screening``: a low-fidelity screening result (journalled with ``"fidelity": 1``,
        nothing kept); ``partial``: a result of some folds only (successive halving).
        """
        if self.weights is not None and result.fold_weights is not None and not screening:
            self.weights.add(result.genome_hash, result.fold_weights)
        if self.oof is not None and result.ok and not (screening or partial):
            self.oof.add(result.genome_hash, result.fold_predictions)
        if self.folder is not None:
            line = {"generation": generation, "genome": genome.to_json(), **result.to_dict()}
            self.folder.append_journal({**line, "fidelity": 1} if screening else line)
        if self.on_landed is not None and not screening:
            self.on_landed(genome, result)
