"""``Evolver.cv_results_``: one row per evaluated model, in the shape of GridSearchCV's table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from evosearch.evaluation import EvaluationResult
from evosearch.objectives import Objective
from evosearch.search.member import Member
from evosearch.space import Genome

__all__ = ["ResultsTable"]


class ResultsTable:
    """Collects every evaluated genome of a run, the last result of each (a halving child is
    first evaluated on one fold, then on the rest).

    Parameters
    ----------
    cv : int
        The run's number of folds (one ``splitK_test_score`` column each).
    objectives : sequence of Objective
        The run's objectives (one ``objective_<name>`` column each).
    """

    def __init__(self, cv: int, objectives: Sequence[Objective]) -> None:
        self.cv = cv
        self.objectives = tuple(objectives)
        self._rows: dict[str, Member] = {}
        self._first_generation: dict[str, int] = {}

    def add(self, members: Iterable[Member]) -> None:
        for member in members:
            key = member.result.genome_hash
            self._first_generation.setdefault(key, member.generation)
            self._rows[key] = member

    def add_journal(self, entries: Iterable[dict[str, Any]]) -> None:
        """Rows from a run folder's journal lines (a resumed run's earlier evaluations)."""
        for entry in entries:
            genome = Genome.from_json(entry["genome"])
            result = EvaluationResult.from_dict(entry)
            generation = int(entry["generation"])
            self.add([Member.evaluated(genome, result, [], generation, self.objectives)])

    def result(self, genome_hash: str) -> EvaluationResult | None:
        """The last result of the genome with ``genome_hash``; None if it was not evaluated."""
        member = self._rows.get(genome_hash)
        return None if member is None else member.result

    def member(self, genome_hash: str) -> Member | None:
        """The last member evaluated with ``genome_hash``; None if it was not evaluated."""
        return self._rows.get(genome_hash)

    def __len__(self) -> int:
        return len(self._rows)

    def as_dict(self) -> dict[str, np.ndarray]:
        """The table: a dict of equally long arrays (``pandas.DataFrame(table)`` reads it).

        Columns: ``genome_hash``, ``genome`` (a description), ``generation`` (the first that
        evaluated it), ``splitK_test_score`` (NaN for a fold not trained, e.g. by halving, or
        failed), ``mean_test_score`` and ``std_test_score`` over the trained folds (NaN when
        none), ``rank_test_score`` (1 the best; failures last), ``objective_<name>`` for each
        objective (as selection sees it: a failure scores ``-inf``), ``n_folds``, ``failed``
        and ``error``
        (empty when it did not fail). Rows are ordered by generation, then genome hash.
        """
        # Ordered by generation, then hash: the same table however the evaluations were
        # scheduled, and after a resume (whose earlier rows come from the journal).
        first = self._first_generation
        members = sorted(
            self._rows.values(), key=lambda m: (first[m.result.genome_hash], m.result.genome_hash)
        )
        n = len(members)
        splits = np.full((n, self.cv), np.nan)
        for row, member in enumerate(members):
            result = member.result
            if result.error is None:
                folds = result.folds if result.folds is not None else range(len(result.fold_scores))
                for fold, score in zip(folds, result.fold_scores, strict=True):
                    splits[row, fold] = score
        trained = ~np.isnan(splits)
        counts = trained.sum(axis=1)
        filled = np.where(trained, splits, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(counts > 0, filled.sum(axis=1) / np.maximum(counts, 1), np.nan)
            spread = np.where(trained, (splits - mean[:, None]) ** 2, 0.0)
            std = np.where(counts > 0, np.sqrt(spread.sum(axis=1) / np.maximum(counts, 1)), np.nan)
        # Ranked like GridSearchCV: equal means share the lowest rank; no score ranks last.
        order_key = np.where(np.isnan(mean), -np.inf, mean)
        rank = np.array([1 + int(np.sum(order_key > value)) for value in order_key], dtype=int)
        table: dict[str, np.ndarray] = {
            "genome_hash": np.array([m.result.genome_hash for m in members], dtype=object),
            "genome": np.array([m.genome.describe() for m in members], dtype=object),
            "generation": np.array([first[m.result.genome_hash] for m in members], dtype=int),
        }
        for fold in range(self.cv):
            table[f"split{fold}_test_score"] = splits[:, fold]
        table["mean_test_score"] = mean
        table["std_test_score"] = std
        table["rank_test_score"] = rank
        for index, objective in enumerate(self.objectives):
            table[f"objective_{objective.name}"] = np.array(
                [m.objectives[index] for m in members], dtype=float
            )
        table["n_folds"] = counts.astype(int)
        table["failed"] = np.array([m.result.error is not None for m in members], dtype=bool)
        table["error"] = np.array([m.result.error or "" for m in members], dtype=object)
        return table
