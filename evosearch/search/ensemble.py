"""Ensemble selection over out-of-fold predictions (Caruana et al., 2004).

Greedy forward selection with replacement: start from the best single model, then add, round
after round, the model whose addition gives the best CV score of the averaged predictions (a
model may be added again: its weight is how often it was picked), and keep the best ensemble
any round reached. Scores are the run's own: each fold's test rows scored with the run's scorer
(accuracy / R² by default), averaged over folds, as every member's CV score is, so an ensemble's
score compares with its members'. Candidates are tried in a fixed order (best score first, then
the smaller, then by hash) and the first of equal scores wins, so the same predictions give the
same ensemble.

An ensemble has the run's objectives too: its score, and each size objective (parameters,
bytes, FLOPs, latency) summed over its distinct members. :func:`ensemble_front` builds one
ensemble per size limit along the members' front and keeps the non-dominated ones: the
ensemble front, which ``RUN/ensemble.json`` records (:mod:`evosearch.search.ensemble_run`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags, RegressorTags, Tags

from evosearch.objectives import Scoring, get_scorer

__all__ = [
    "DEFAULT_ROUNDS",
    "Candidate",
    "Ensemble",
    "PredictionScorer",
    "ensemble_front",
    "select_ensemble",
]

#: Rounds of greedy selection (Caruana et al. used a few hundred on thousands of models; the
#: pool here is tens of models, where the score settles well before 50).
DEFAULT_ROUNDS = 50
#: Rounds without a better ensemble after which selection stops (it would only repeat).
_PATIENCE = 10
#: Sizes of the members' front tried as limits (each also doubled, besides no limit).
_MAX_LIMITS = 8


@dataclass(frozen=True)
class Candidate:
    """A model ensemble selection may pick: its out-of-fold predictions and objectives.

    Attributes
    ----------
    genome_hash : str
    score : float
        Its CV score.
    objectives : tuple of float
        Its objective vector, in the run's objective order (score first).
    bytes : int
        Its weights' size (what ``max_bytes`` limits).
    oof : ndarray of shape (n_rows, k)
        Its out-of-fold predictions (class probabilities or targets).
    """

    genome_hash: str
    score: float
    objectives: tuple[float, ...]
    bytes: int
    oof: np.ndarray


@dataclass(frozen=True)
class Ensemble:
    """A weighted ensemble: members by hash with how often selection picked each.

    Attributes
    ----------
    members : tuple of (str, int)
        ``(genome_hash, count)`` in the order they were first picked; a member's weight is its
        count over the total.
    score : float
        CV score of the averaged predictions.
    fold_scores : tuple of float
    objectives : tuple of float
        Score, then each size objective summed over the distinct members.
    """

    members: tuple[tuple[str, int], ...]
    score: float
    fold_scores: tuple[float, ...]
    objectives: tuple[float, ...]

    @property
    def weights(self) -> list[float]:
        """Each member's weight (its count over the total), in ``members`` order."""
        total = sum(count for _, count in self.members)
        return [count / total for _, count in self.members]

    def to_dict(self, objective_names: Sequence[str]) -> dict[str, Any]:
        """JSON-ready: ``members`` (hash, weight, count), ``score``, ``fold_scores`` and
        ``objectives`` by name."""
        return {
            "members": [
                {"genome_hash": h, "weight": w, "count": c}
                for (h, c), w in zip(self.members, self.weights, strict=True)
            ],
            "score": self.score,
            "fold_scores": list(self.fold_scores),
            "objectives": dict(zip(objective_names, self.objectives, strict=True)),
        }


class _Fixed(BaseEstimator):
    """Hands a scorer fixed predictions: ``X`` is a column of row numbers into ``values``."""

    def __init__(self, values: np.ndarray, classes: np.ndarray | None, flat: bool) -> None:
        self.values = values
        self.classes = classes
        self.flat = flat
        if classes is not None:
            self.classes_ = classes

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        if self.classes is not None:
            tags.estimator_type, tags.classifier_tags = "classifier", ClassifierTags()
        else:
            tags.estimator_type, tags.regressor_tags = "regressor", RegressorTags()
        return tags

    def _rows(self, X: Any) -> np.ndarray:
        return self.values[np.asarray(X)[:, 0].astype(np.intp)]

    def predict(self, X: Any) -> np.ndarray:
        rows = self._rows(X)
        if self.classes is not None:
            return self.classes[np.argmax(rows, axis=1)]
        return rows.ravel() if self.flat else rows

    def predict_proba(self, X: Any) -> np.ndarray:
        rows = np.asarray(self._rows(X), dtype=np.float64)
        return rows / np.maximum(rows.sum(axis=1, keepdims=True), 1e-12)


class PredictionScorer:
    """The CV score of out-of-fold predictions, as the run scores a model's folds.

    Parameters
    ----------
    y : ndarray of shape (n_rows,) or (n_rows, n_targets)
    folds : sequence of (train, test) index arrays
    task : {"classification", "regression"}
    scoring : str or callable, optional
        The run's scorer; None: accuracy / R².
    sample_weight : ndarray, optional
    """

    def __init__(
        self,
        y: np.ndarray,
        folds: Sequence[tuple[np.ndarray, np.ndarray]],
        task: str,
        scoring: Scoring = None,
        sample_weight: np.ndarray | None = None,
    ) -> None:
        self.y = np.asarray(y)
        self.tests = [np.asarray(test) for _, test in folds]
        self.classes = np.unique(self.y) if task == "classification" else None
        self.scorer = get_scorer(scoring)
        self.sample_weight = sample_weight
        if self.classes is not None:
            self.codes = np.searchsorted(self.classes, self.y)

    def fold_scores(self, predictions: np.ndarray) -> list[float]:
        """Each fold's score of ``predictions`` (``(n_rows, k)``) on its test rows."""
        scores = []
        for test in self.tests:
            weight = None if self.sample_weight is None else self.sample_weight[test]
            scores.append(self._score(predictions, test, weight))
        return scores

    def __call__(self, predictions: np.ndarray) -> tuple[float, list[float]]:
        """The mean fold score and the fold scores."""
        scores = self.fold_scores(predictions)
        return float(np.mean(scores)), scores

    def _score(self, predictions: np.ndarray, test: np.ndarray, weight: Any) -> float:
        if self.scorer is None:  # accuracy / R², computed directly: selection calls it often
            if self.classes is not None:
                hits = np.argmax(predictions[test], axis=1) == self.codes[test]
                return float(np.average(hits, weights=weight))
            return _r2(self.y[test], predictions[test], weight)
        holder = _Fixed(predictions, self.classes, self.y.ndim == 1)
        extra = {} if weight is None else {"sample_weight": weight}
        return float(self.scorer(holder, test.reshape(-1, 1), self.y[test], **extra))


def _r2(truth: np.ndarray, values: np.ndarray, weight: Any) -> float:
    """scikit-learn's ``r2_score`` (uniform average over targets; 1 or 0 for a constant
    target, as its ``force_finite``), in numpy: the same value, a hundred times faster here."""
    y = truth.reshape(len(truth), -1).astype(np.float64)
    p = np.asarray(values, dtype=np.float64).reshape(y.shape)
    w = (np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64))[:, None]
    mean = (w * y).sum(axis=0) / w.sum()
    residual = (w * (y - p) ** 2).sum(axis=0)
    total = (w * (y - mean) ** 2).sum(axis=0)
    safe = np.where(total > 0, total, 1.0)
    r2 = np.where(total > 0, 1.0 - residual / safe, np.where(residual > 0, 0.0, 1.0))
    return float(r2.mean())


def select_ensemble(
    candidates: Sequence[Candidate],
    scorer: Callable[[np.ndarray], tuple[float, list[float]]],
    rounds: int = DEFAULT_ROUNDS,
    allowed: Callable[[set[str]], bool] | None = None,
    trace: list[tuple[dict[str, int], float, list[float]]] | None = None,
) -> tuple[dict[str, int], float, list[float]] | None:
    """Greedy forward selection with replacement over ``candidates``' predictions.

    Parameters
    ----------
    candidates : sequence of Candidate
    scorer : callable
        Averaged predictions -> (CV score, fold scores), e.g. a :class:`PredictionScorer`.
    rounds : int
        Picks at most (the first is the best single model allowed).
    allowed : callable, optional
        ``allowed(hashes)``: whether an ensemble of these distinct members is within the limits.
    trace : list, optional
        Gets every round's ensemble (counts, score, fold scores) appended, the first included.

    Returns
    -------
    (dict of str to int, float, list of float) or None
        The best ensemble any round reached (counts by hash, in first-pick order), its score
        and fold scores; None if no single candidate is allowed.
    """
    order = sorted(candidates, key=_rank)
    ok = allowed or (lambda hashes: True)
    first = next((c for c in order if ok({c.genome_hash})), None)
    if first is None:
        return None
    counts = {first.genome_hash: 1}
    total = first.oof.astype(np.float64)
    score, folds = scorer(total)
    best = (dict(counts), score, folds)
    if trace is not None:
        trace.append(best)
    stale = 0
    for _ in range(rounds - 1):
        pick: Candidate | None = None
        pick_result: tuple[float, list[float]] = (-np.inf, [])
        n = sum(counts.values())
        for candidate in order:
            if candidate.genome_hash not in counts and not ok({*counts, candidate.genome_hash}):
                continue
            result = scorer((total + candidate.oof) / (n + 1))
            if result[0] > pick_result[0]:  # strictly better: the first of equals stays
                pick, pick_result = candidate, result
        if pick is None:
            break
        counts[pick.genome_hash] = counts.get(pick.genome_hash, 0) + 1
        total = total + pick.oof
        if trace is not None:
            trace.append((dict(counts), pick_result[0], pick_result[1]))
        if pick_result[0] > best[1]:
            best, stale = (dict(counts), pick_result[0], pick_result[1]), 0
        else:
            stale += 1
            if stale >= _PATIENCE:
                break
    return best


def _rank(candidate: Candidate) -> tuple[Any, ...]:
    """Best score first; of equals the smaller (first size objective), then by hash."""
    return (-candidate.score, candidate.objectives[1:2], candidate.genome_hash)


def _size_limits(values: Sequence[float]) -> list[float]:
    """At most :data:`_MAX_LIMITS` sizes spread over the distinct ``values``, each also
    doubled (room for a second model beside one of that size), then no limit."""
    distinct = sorted(set(values))
    if len(distinct) > _MAX_LIMITS:
        picks = np.linspace(0, len(distinct) - 1, _MAX_LIMITS).round().astype(int)
        distinct = [distinct[i] for i in sorted(set(picks.tolist()))]
    return [*sorted(set(distinct) | {2 * v for v in distinct}), float("inf")]


def ensemble_front(
    candidates: Sequence[Candidate],
    scorer: Callable[[np.ndarray], tuple[float, list[float]]],
    weights: Sequence[float],
    *,
    front: Sequence[str] = (),
    rounds: int = DEFAULT_ROUNDS,
    max_members: int | None = None,
    max_bytes: int | None = None,
) -> list[Ensemble]:
    """The ensemble front: one ensemble per size limit, the non-dominated ones kept.

    Parameters
    ----------
    candidates : sequence of Candidate
    scorer : callable
        See :func:`select_ensemble`.
    weights : sequence of float
        The run's objective weights (+1 maximised, -1 minimised), score first.
    front : sequence of str
        Hashes of the members' front (the archive): the first size objective's values there
        are the size limits (plus none). Empty: only the unlimited ensemble.
    rounds : int
    max_members : int, optional
        At most this many distinct members in any ensemble.
    max_bytes : int, optional
        At most this many bytes of weights summed over an ensemble's members.

    Returns
    -------
    list of Ensemble
        Non-dominated, smallest first (by the first size objective); empty if no candidate
        fits the limits.
    """
    by_hash = {c.genome_hash: c for c in candidates}
    limits = [float("inf")]
    if len(weights) > 1:
        limits = _size_limits([by_hash[h].objectives[1] for h in front if h in by_hash])

    def within(limit: float) -> Callable[[set[str]], bool]:
        def allowed(hashes: set[str]) -> bool:
            if max_members is not None and len(hashes) > max_members:
                return False
            if max_bytes is not None and sum(by_hash[h].bytes for h in hashes) > max_bytes:
                return False
            return len(weights) < 2 or sum(by_hash[h].objectives[1] for h in hashes) <= limit

        return allowed

    found: dict[tuple[tuple[str, int], ...], Ensemble] = {}
    for limit in limits:
        # Every round's ensemble is a point the front may keep, not only the best one.
        trace: list[tuple[dict[str, int], float, list[float]]] = []
        select_ensemble(candidates, scorer, rounds, within(limit), trace)
        for counts, score, fold_scores in trace:
            members = tuple(counts.items())
            sizes = [sum(by_hash[h].objectives[i] for h in counts) for i in range(1, len(weights))]
            found.setdefault(members, Ensemble(members, score, tuple(fold_scores), (score, *sizes)))
    ensembles = list(found.values())
    kept: list[Ensemble] = []
    for e in ensembles:
        # Of ensembles with equal objectives the first found (the fewest picks) stays.
        if not any(_dominates(o, e, weights) for o in ensembles) and all(
            k.objectives != e.objectives for k in kept
        ):
            kept.append(e)
    return sorted(kept, key=lambda e: (e.objectives[1:], -e.score, e.members))


def _dominates(a: Ensemble, b: Ensemble, weights: Sequence[float]) -> bool:
    x = [w * v for w, v in zip(weights, a.objectives, strict=True)]
    y = [w * v for w, v in zip(weights, b.objectives, strict=True)]
    return all(p >= q for p, q in zip(x, y, strict=True)) and x != y
