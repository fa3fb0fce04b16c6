"""How long the final refit will take: ``max_time`` covers it, so the search leaves it room.

A run with ``max_time`` ends by refitting its most accurate member on all rows. On a large
table that refit is no longer negligible (tens of seconds on 50,000 rows), and a deadline that
ignored it let the command run that much past the time it was given. The estimate comes from
the member's own journalled evaluation: its training seconds per epoch and fold, times the
epochs a refit may train (its whole budget, since a refit starts from scratch and inherited
weights may have stopped the evaluation early), times the rows a refit sees against a fold's.

The estimate follows the search (:class:`RefitReserve`): before each generation it is made from
the archive as it stands, and when a result that lands during the generation changes the models
the run would refit after it (a new most accurate member, with a longer refit), the deadline the
backends are running to is brought forward, and a generation that can no longer finish in time
is cut there (its finished evaluations are journalled; the refit is then the previous best's,
which the reserve never stopped covering).

With ``bag_folds`` the best member is refit once per fold network. With ``ensemble`` the run
also refits its ensemble's members, all but the best member (whose refit the ensemble reuses).
Before each generation the reserve counts those of the ensemble the run would build if it ended
then (greedy selection over the predictions kept so far, a fraction
of a second; :func:`~evosearch.search.ensemble_run.ensemble_members_now`); where the run gives
no such estimate, every archive member's, a bound on what selection can pick from them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from evosearch.evaluation import Deadline, DeadlineReached, EvaluationResult
from evosearch.objectives import Objective, objective_vector
from evosearch.search.archive import ArchiveEntry, ParetoArchive
from evosearch.space import Genome, value_of

if TYPE_CHECKING:
    from evosearch.search._results import ResultsTable
    from evosearch.search.settings import RunSettings

__all__ = ["RefitReserve", "refit_seconds"]


def _reserve(
    archive: ParetoArchive,
    settings: RunSettings,
    result_of: Callable[[str], EvaluationResult | None],
    ensemble: Mapping[str, Mapping[str, Any]] | None = None,
) -> float:
    """Seconds to refit what the run refits after a search that ends with ``archive``: its most
    accurate member, with a holdout every member too (each is refit to score the held-out
    rows), and with ``ensemble`` the ensemble's members but the best (``ensemble``: their
    hyperparameters by hash, as estimated; None: the archive's members)."""
    if not len(archive):
        return 0.0
    best = archive.best(archive.objective("score"))
    # bag_folds refits the best member once per fold network (at most the folds it scored).
    members = [best] * (settings.n_folds if settings.bag_folds else 1)
    if settings.holdout:
        members += archive.members
    seconds = sum(
        _refit_of(entry.genome["hyperparameters"], result_of(entry.genome_hash), settings)
        for entry in members
    )
    if settings.ensemble:
        if ensemble is None:
            ensemble = {entry.genome_hash: entry.genome["hyperparameters"] for entry in archive}
        seconds += sum(
            _refit_of(hyperparameters, result_of(genome_hash), settings)
            for genome_hash, hyperparameters in ensemble.items()
            if genome_hash != best.genome_hash  # the ensemble reuses the best member's refit
        )
    return seconds


def _refit_of(
    hyperparameters: Mapping[str, Any], result: EvaluationResult | None, settings: RunSettings
) -> float:
    epochs = int(hyperparameters["max_epochs"])
    cap = settings.refit_fidelity
    if cap is not None and cap.max_epochs:
        epochs = min(epochs, int(cap.max_epochs))
    # Pruning fine-tunes after training (nn/compress.py): those epochs are part of a refit too.
    if float(value_of(hyperparameters, "prune")) > 0.0:
        epochs += int(value_of(hyperparameters, "finetune_epochs"))
    return refit_seconds(result, epochs, settings.cv)


class RefitReserve:
    """The search's deadline: ``max_time``'s end less the final refits, kept up to date.

    :meth:`begin` gives each generation a :class:`~evosearch.evaluation.Deadline` that leaves
    the archive's refits room; :meth:`landed` (the evaluations' ``on_result``, after the result
    is journalled) offers each full-fidelity result to a copy of the archive, and when that
    changes what would be refit after the generation, moves the deadline to leave room for
    both outcomes: the generation finishing (the copy's refits) or being cut (the archive's:
    generation 0's finished models are offered to it, a later generation's dropped). When
    the time left no longer covers them, :class:`~evosearch.evaluation.DeadlineReached` is
    raised there and then, which cuts the generation.

    Parameters
    ----------
    end : float or None
        The :func:`time.monotonic` instant ``max_time`` ends (None: no limit; nothing moves).
    archive : ParetoArchive
        The run's archive (read, never changed).
    results : ResultsTable
        The run's evaluations (for the archive members' training times).
    settings : RunSettings
    objectives : sequence of Objective
        The run's objectives (a landed result's objective vector).
    ensemble : callable, optional
        With ``ensemble``: the hashes of the models the run's ensemble would be of if it
        ended now (:func:`~evosearch.search.ensemble_run.ensemble_members_now`), asked at
        each :meth:`begin`; None: the archive's members are counted.
    """

    def __init__(
        self,
        end: float | None,
        archive: ParetoArchive,
        results: ResultsTable,
        settings: RunSettings,
        objectives: Sequence[Objective],
        ensemble: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        self.end = end
        self.archive, self.results, self.settings = archive, results, settings
        self.objectives = tuple(objectives)
        self.ensemble = ensemble
        self._ensemble: dict[str, Mapping[str, Any]] | None = None
        self.deadline = None if end is None else Deadline(end)
        self._shadow: ParetoArchive | None = None
        self._kept = 0.0  # the archive's own reserve, fixed for the generation
        self._landed: dict[str, EvaluationResult] = {}
        #: The model whose landing cut the generation (its refit did not fit), else None: the
        #: one finished model of a cut generation the archive must not take.
        self.refused: str | None = None

    def begin(self) -> Deadline | None:
        """The deadline of the next generation (None without ``max_time``), from the archive."""
        if self.deadline is None or self.end is None:
            return None
        archive = self.archive
        shadow = ParetoArchive(archive.weights, archive.param_reference, archive.objective_names,
                               archive.scoring)  # fmt: skip
        shadow.update(archive.members)
        self._shadow, self._landed, self.refused = shadow, {}, None
        self._ensemble = self._ensemble_members()
        self._kept = _reserve(archive, self.settings, self._result_of, self._ensemble)
        self.deadline.at = self.end - self._kept
        return self.deadline

    def landed(self, genome: Genome, result: EvaluationResult) -> None:
        """Follow one result that landed (journalled) during the generation.

        Raises
        ------
        DeadlineReached
            When the refits after this generation no longer fit in the time left.
        """
        shadow = self._shadow
        if shadow is None or self.deadline is None or self.end is None:
            return
        if not result.ok or result.folds is not None:
            return  # a failure or a first halving rung: never refit
        entry = ArchiveEntry(
            # The copy only ever reads the hyperparameters (the refit's epochs).
            genome={"hyperparameters": dict(genome.hyperparameters)},
            genome_hash=result.genome_hash,
            objectives=objective_vector(self.objectives, genome, result),
        )
        if not shadow.update([entry]):
            return  # dominated: what would be refit is unchanged
        self._landed[result.genome_hash] = result
        after = _reserve(shadow, self.settings, self._result_of, self._ensemble)
        self.deadline.at = self.end - max(self._kept, after)
        if time.monotonic() >= self.deadline.at:
            self.refused = result.genome_hash
            raise DeadlineReached(
                "a better model found during the generation needs a longer refit than the time left"
            )

    def _ensemble_members(self) -> dict[str, Mapping[str, Any]] | None:
        """Hyperparameters by hash of the estimated ensemble's members (None: no estimate)."""
        if not self.settings.ensemble or self.ensemble is None:
            return None
        found: dict[str, Mapping[str, Any]] = {}
        for genome_hash in self.ensemble():
            member = self.results.member(genome_hash)
            if member is not None:
                found[genome_hash] = member.genome.hyperparameters
        return found

    def _result_of(self, genome_hash: str) -> EvaluationResult | None:
        landed = self._landed.get(genome_hash)
        return landed if landed is not None else self.results.result(genome_hash)


def refit_seconds(result: EvaluationResult | None, max_epochs: int, cv: int) -> float:
    """Estimated seconds to refit the genome of ``result`` on all rows.

    Parameters
    ----------
    result : EvaluationResult or None
        The genome's (full-fidelity) evaluation; None or a failed one: 0 (nothing to go by).
    max_epochs : int
        The epochs a refit may train (the genome's gene, or a fidelity plan's cap).
    cv : int
        The run's folds: a fold trains on ``(cv - 1) / cv`` of the rows.

    Examples
    --------
    >>> from evosearch.evaluation import EvaluationResult
    >>> done = EvaluationResult("ab", [0.9, 0.9], 0.9, 10, seconds=4.0, epochs=[10, 10])
    >>> refit_seconds(done, max_epochs=20, cv=2)  # 0.2 s per epoch and fold, 20 epochs, 2x rows
    8.0
    """
    if result is None or result.error is not None:
        return 0.0
    epochs = sum(e for e in result.epochs if e > 0)
    if epochs == 0 or not result.seconds > 0:
        return 0.0
    rows_factor = cv / (cv - 1) if cv > 1 else 1.0
    return result.seconds / epochs * max_epochs * rows_factor
