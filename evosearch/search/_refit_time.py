"""How long the final refit will take: ``max_time`` covers it, so the search leaves it room.

A run with ``max_time`` ends by refitting its most accurate member on all rows. On a large
table that refit is no longer negligible (tens of seconds on 50,000 rows), and a deadline that
ignored it let the command run that much past the time it was given. The estimate comes from
the member's own journalled evaluation: its training seconds per epoch and fold, times the
epochs a refit may train (its whole budget, since a refit starts from scratch and inherited
weights may have stopped the evaluation early), times the rows a refit sees against a fold's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evosearch.evaluation import EvaluationResult
from evosearch.space import value_of

if TYPE_CHECKING:
    from evosearch.search._results import ResultsTable
    from evosearch.search.archive import ArchiveEntry, ParetoArchive
    from evosearch.search.settings import RunSettings

__all__ = ["refit_seconds", "search_deadline"]


def search_deadline(
    deadline: float | None, archive: ParetoArchive, results: ResultsTable, settings: RunSettings
) -> float | None:
    """``deadline`` (a ``time.monotonic()`` instant, None: none) less the estimated refits
    after the search: the archive's most accurate member so far, and with a holdout every
    member too (each is refit to score the held-out rows). The search must stop by then.

    The estimate is made before each generation from the archive as it stands; a new best
    found during the generation with a longer refit can overrun the deadline by the difference.
    """
    if deadline is None or not len(archive):
        return deadline
    best = archive.best(archive.objective("score"))
    members = [best, *archive.members] if settings.holdout else [best]
    return deadline - sum(_refit_of(entry, results, settings) for entry in members)


def _refit_of(entry: ArchiveEntry, results: ResultsTable, settings: RunSettings) -> float:
    hyperparameters = entry.genome["hyperparameters"]
    epochs = int(hyperparameters["max_epochs"])
    cap = settings.refit_fidelity
    if cap is not None and cap.max_epochs:
        epochs = min(epochs, int(cap.max_epochs))
    # Pruning fine-tunes after training (nn/compress.py): those epochs are part of a refit too.
    if float(value_of(hyperparameters, "prune")) > 0.0:
        epochs += int(value_of(hyperparameters, "finetune_epochs"))
    return refit_seconds(results.result(entry.genome_hash), epochs, settings.cv)


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
