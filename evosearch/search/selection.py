"""Multi-objective selection: non-dominated sorting, crowding distance, NSGA-II survival.

This is the only module that imports DEAP. It exposes plain functions over objective vectors
(one sequence of floats per individual) and returns indices, so the rest of evosearch never
handles DEAP individuals.

Vocabulary
----------
objectives
    One row per individual, one column per objective, e.g. ``(accuracy, n_params)``.
weights
    One non-zero number per objective: positive to maximise, negative to minimise, as DEAP's
    ``Fitness.weights``. ``(1.0, -1.0)`` maximises objective 0 and minimises objective 1.
rank
    0 for the first (non-dominated) front, 1 for the front that only the first dominates, ...
    Identical objective vectors always share a rank.

Design notes
------------
DEAP's ``creator.create`` writes classes into a global module (warnings on re-creation, and
spawned workers fail to find them), so :func:`fitness_class` builds one ``base.Fitness``
subclass per weights tuple, cached, with class-level ``weights``: ``copy.deepcopy`` (which calls
``cls()``) and pickling both work. DEAP's tournament selections draw from Python's global
``random``; :func:`select_parents` draws from an explicit ``np.random.Generator`` instead.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from deap import base
from deap.tools import emo

__all__ = [
    "best_on_first",
    "crowding_distances",
    "fitness_class",
    "nondominated_ranks",
    "select_parents",
    "select_survivors",
    "select_survivors_focused",
    "spread_order",
]


# Cached: equal weights must give the same class, or fitnesses would not compare alike.
@functools.cache
def fitness_class(weights: tuple[float, ...]) -> type[base.Fitness]:
    """Return the DEAP fitness class for ``weights``, the same class for equal weights.

    Parameters
    ----------
    weights : tuple of float
        One non-zero weight per objective (positive maximises, negative minimises).

    Returns
    -------
    type
        A subclass of ``deap.base.Fitness`` with class-level ``weights``. Its instances
        survive ``copy.deepcopy`` and ``pickle`` (pickling rebuilds the class from the
        weights, so it works in worker processes that never called this function).

    Examples
    --------
    >>> cls = fitness_class((1.0, -1.0))
    >>> cls((0.9, 1200.0)).dominates(cls((0.8, 1500.0)))
    True
    >>> fitness_class((1.0, -1.0)) is cls
    True
    """
    checked = _check_weights(weights)
    signs = "".join("max" if w > 0 else "min" for w in checked).title()
    namespace = {
        "weights": checked,
        "__reduce__": _reduce_fitness,
        "__module__": __name__,
        "__doc__": f"DEAP fitness with weights {checked}.",
    }
    return type(f"Fitness{signs}", (base.Fitness,), namespace)


def _reduce_fitness(self: base.Fitness) -> tuple[Any, ...]:
    # A class made at run time cannot be pickled by reference; rebuild it from its weights.
    return (_restore_fitness, (self.weights, self.values if self.valid else ()))


def _restore_fitness(weights: tuple[float, ...], values: tuple[float, ...]) -> base.Fitness:
    return fitness_class(weights)(values)


def nondominated_ranks(
    objectives: Sequence[Sequence[float]], weights: Sequence[float]
) -> list[int]:
    """Return each individual's non-domination rank (0 = first front).

    Parameters
    ----------
    objectives : sequence of sequence of float
        One objective vector per individual; no NaN.
    weights : sequence of float
        One non-zero weight per objective (positive maximises, negative minimises).

    Returns
    -------
    list of int
        ``ranks[i]`` is the index of the front holding individual ``i``.

    Examples
    --------
    >>> nondominated_ranks([(0.9, 100), (0.8, 200), (0.95, 300)], (1.0, -1.0))
    [0, 1, 0]
    """
    individuals = _individuals(objectives, weights)
    ranks = [0] * len(individuals)
    for rank, front in enumerate(_fronts(individuals)):
        for ind in front:
            ranks[ind.index] = rank
    return ranks


def crowding_distances(
    objectives: Sequence[Sequence[float]], weights: Sequence[float]
) -> list[float]:
    """Return each individual's NSGA-II crowding distance within its own front.

    The extremes of each front get ``inf``. Identical points share the extremes' treatment
    of DEAP's ``assignCrowdingDist`` (the first and last in sorted order get ``inf``);
    distances that infinite objective values would make NaN are 0.

    Parameters
    ----------
    objectives : sequence of sequence of float
        One objective vector per individual; no NaN.
    weights : sequence of float
        One non-zero weight per objective.

    Returns
    -------
    list of float
        ``distances[i]`` for individual ``i``.

    Examples
    --------
    >>> crowding_distances([(0.9, 100), (0.8, 50), (0.95, 300)], (1.0, -1.0))
    [1.0, inf, inf]
    """
    individuals = _individuals(objectives, weights)
    _assign_crowding(_fronts(individuals))
    return [ind.fitness.crowding_dist for ind in individuals]


def select_survivors(
    objectives: Sequence[Sequence[float]], k: int, weights: Sequence[float]
) -> list[int]:
    """Choose ``k`` survivors by NSGA-II environmental selection.

    Whole fronts are taken in rank order; the front that does not fit entirely is cut by
    descending crowding distance, ties kept in input order. This is DEAP's ``selNSGA2``
    with the crowding distance of :func:`crowding_distances`.

    Parameters
    ----------
    objectives : sequence of sequence of float
        One objective vector per individual; no NaN.
    k : int
        Number of survivors, ``0 <= k <= len(objectives)``.
    weights : sequence of float
        One non-zero weight per objective.

    Returns
    -------
    list of int
        ``k`` distinct indices into ``objectives``, best front first. Deterministic.

    Raises
    ------
    ValueError
        If ``k`` is out of range or the inputs are malformed.

    Examples
    --------
    >>> select_survivors([(0.9, 100), (0.8, 200), (0.95, 300), (0.7, 300)], 3, (1.0, -1.0))
    [0, 2, 1]
    """
    individuals = _individuals(objectives, weights)
    if not 0 <= k <= len(individuals):
        raise ValueError(f"k must be between 0 and {len(individuals)}, got {k}")
    if k == 0:
        return []
    fronts = _fronts(individuals, k)
    _assign_crowding(fronts)
    chosen = [ind.index for front in fronts[:-1] for ind in front]
    # sorted() is stable, also with reverse=True, so ties keep their input order.
    last = sorted(fronts[-1], key=lambda ind: ind.fitness.crowding_dist, reverse=True)
    chosen.extend(ind.index for ind in last[: k - len(chosen)])
    return chosen


def best_on_first(
    objectives: Sequence[Sequence[float]], n: int, weights: Sequence[float]
) -> list[int]:
    """The indices of the ``n`` best individuals on objective 0 alone, best first; equal values
    keep their input order (objective 0's weight says whether higher is better).

    Examples
    --------
    >>> best_on_first([(0.9, 100), (0.8, 20), (0.95, 300)], 2, (1.0, -1.0))
    [2, 0]
    """
    sign = 1.0 if _check_weights(weights)[0] > 0 else -1.0
    # sorted() is stable: equal values keep their input order.
    return sorted(range(len(objectives)), key=lambda i: -sign * float(objectives[i][0]))[:n]


def select_survivors_focused(
    objectives: Sequence[Sequence[float]], k: int, weights: Sequence[float], share: float
) -> list[int]:
    """Choose ``k`` survivors, ``ceil(share * k)`` of them the best on objective 0 alone.

    The accurate end of a front is where a user who wants the most accurate model looks, but
    NSGA-II spreads its survivors evenly along the front, so with a size objective most of a
    generation's children descend from small models. Reserving places for the best on the
    first objective (the score) keeps a line of accurate parents breeding, while the other
    places keep NSGA-II's spread over the whole front (:func:`select_survivors` over the
    rest). ``share`` 0 is :func:`select_survivors` itself.

    Parameters
    ----------
    objectives : sequence of sequence of float
        One objective vector per individual; no NaN.
    k : int
        Number of survivors, ``0 <= k <= len(objectives)``.
    weights : sequence of float
        One non-zero weight per objective; objective 0's sign says whether higher is better.
    share : float
        Share of the places taken by the best on objective 0, ``0 <= share <= 1``.

    Returns
    -------
    list of int
        ``k`` distinct indices: the best on objective 0 first (ties in input order), then
        NSGA-II's choice among the others. Deterministic.

    Examples
    --------
    >>> select_survivors_focused(
    ...     [(0.9, 100), (0.8, 20), (0.95, 300), (0.94, 900)], 2, (1.0, -1.0), 0.5)
    [2, 1]
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    checked = _check_weights(weights)
    n_top = min(k, math.ceil(share * k))
    if n_top == 0:
        return select_survivors(objectives, k, checked)
    top = best_on_first(objectives, n_top, checked)
    taken = set(top)
    rest = [i for i in range(len(objectives)) if i not in taken]
    keep = select_survivors([objectives[i] for i in rest], k - n_top, checked)
    return top + [rest[i] for i in keep]


def spread_order(objectives: Sequence[Sequence[float]], weights: Sequence[float]) -> list[int]:
    """Order individuals so that every prefix of the order spreads over the best fronts.

    For seeding a population whose size the order does not know (a warm start's generation 0):
    fronts come in rank order; within a front, first its extremes (the best on each objective,
    in objective order), then again and again the member farthest (Euclidean distance) from
    every one taken so far, as in farthest-point sampling. So a prefix holds each end of the
    first front before a second point near either, which NSGA-II's crowding distance, computed
    once for a given cut, does not promise for every prefix. A member whose vector equals one
    already taken comes after all the others: a second copy adds no point to the front.

    Parameters
    ----------
    objectives : sequence of sequence of float
        One objective vector per individual, finite; distances are taken in these values, so
        give them on comparable scales (e.g. each objective's ``normalise``).
    weights : sequence of float
        One non-zero weight per objective (positive maximises, negative minimises).

    Returns
    -------
    list of int
        A permutation of the indices. Deterministic: ties go to the lower index.

    Examples
    --------
    >>> spread_order([(0.9, 0.2), (0.8, 0.5), (0.85, 0.3), (0.9, 0.2), (0.5, 0.1)],
    ...              (1.0, 1.0))
    [0, 1, 2, 4, 3]
    """
    ranks = nondominated_ranks(objectives, weights)  # also checks the inputs
    signs = np.sign(_check_weights(weights))
    points = np.asarray(objectives, dtype=np.float64).reshape(len(ranks), len(signs))
    order: list[int] = []
    repeats: list[int] = []
    taken = np.empty((0, len(signs)))

    def take(index: int, left: list[int]) -> None:
        nonlocal taken
        left.remove(index)
        if np.any(np.all(taken == points[index], axis=1)):
            repeats.append(index)
        else:
            order.append(index)
            taken = np.vstack([taken, points[index]])

    for rank in range(max(ranks, default=-1) + 1):
        left = [i for i, r in enumerate(ranks) if r == rank]
        for column, sign in enumerate(signs):
            if left:
                take(max(left, key=lambda i: (sign * points[i, column], -i)), left)
        while left:
            gaps = np.sqrt(((points[left, None, :] - taken[None, :, :]) ** 2).sum(axis=2))
            take(left[int(np.argmax(gaps.min(axis=1)))], left)
    return order + repeats


def select_parents(
    objectives: Sequence[Sequence[float]],
    k: int,
    weights: Sequence[float],
    rng: np.random.Generator,
) -> list[int]:
    """Choose ``k`` parents by binary tournaments (crowded-comparison operator).

    Each tournament draws two distinct individuals uniformly (the same one twice only when
    there is a single individual). The lower rank wins; on equal rank the larger crowding
    distance wins; on a tie too, a coin flip decides. The random draws per call are a fixed
    amount for a given ``k``, so the generator's later state does not depend on the outcomes.

    Parameters
    ----------
    objectives : sequence of sequence of float
        One objective vector per individual; no NaN.
    k : int
        Number of parents, ``k >= 0``; may exceed ``len(objectives)`` (repeats are allowed).
    weights : sequence of float
        One non-zero weight per objective.
    rng : numpy.random.Generator
        The only source of randomness.

    Returns
    -------
    list of int
        ``k`` indices into ``objectives``.

    Raises
    ------
    ValueError
        If ``k < 0``, or ``k > 0`` with no individuals, or the inputs are malformed.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> parents = select_parents([(0.9, 100), (0.5, 900)], 4, (1.0, -1.0), rng)
    >>> parents
    [0, 0, 0, 0]
    """
    if k < 0:
        raise ValueError(f"k must be non-negative, got {k}")
    n = len(objectives)
    if n == 0:
        if k:
            raise ValueError("cannot select parents from an empty population")
        return []
    ranks = np.asarray(nondominated_ranks(objectives, weights))
    crowding = np.asarray(crowding_distances(objectives, weights))
    first, second = _distinct_pairs(n, k, rng)
    coin = rng.random(k) < 0.5
    better_rank = ranks[first] < ranks[second]
    same_rank = ranks[first] == ranks[second]
    better_crowding = same_rank & (crowding[first] > crowding[second])
    tie = same_rank & (crowding[first] == crowding[second])
    first_wins = better_rank | better_crowding | (tie & coin)
    return [int(i) for i in np.where(first_wins, first, second)]


def _distinct_pairs(n: int, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    first = rng.integers(0, n, size=k)
    if n == 1:
        return first, first.copy()
    # Draw from the n - 1 others and skip over `first`: uniform over distinct pairs.
    second = rng.integers(0, n - 1, size=k)
    second += second >= first
    return first, second


# --------------------------------------------------------------------------------------------
# DEAP plumbing


class _Individual:
    """The minimum DEAP's emo tools need: a ``fitness``, plus our position in the input."""

    __slots__ = ("fitness", "index")

    def __init__(self, fitness: base.Fitness, index: int) -> None:
        self.fitness = fitness
        self.index = index


def _check_weights(weights: Sequence[float]) -> tuple[float, ...]:
    checked = tuple(float(w) for w in weights)
    if not checked:
        raise ValueError("weights must name at least one objective")
    if any(w == 0 or not math.isfinite(w) for w in checked):
        # DEAP divides by the weights to recover the values: zero is not usable.
        raise ValueError(f"weights must be finite and non-zero, got {checked}")
    return checked


def _individuals(
    objectives: Sequence[Sequence[float]], weights: Sequence[float]
) -> list[_Individual]:
    cls = fitness_class(_check_weights(weights))
    n_obj = len(cls.weights)
    individuals = []
    for index, row in enumerate(objectives):
        values = tuple(float(v) for v in row)
        if len(values) != n_obj:
            raise ValueError(
                f"objectives[{index}] has {len(values)} values but there are {n_obj} weights"
            )
        if any(math.isnan(v) for v in values):
            raise ValueError(f"objectives[{index}] contains NaN: {values}")
        individuals.append(_Individual(cls(values), index))
    return individuals


def _fronts(individuals: list[_Individual], k: int | None = None) -> list[list[_Individual]]:
    if not individuals:
        return []
    return emo.sortNondominated(individuals, len(individuals) if k is None else k)


def _assign_crowding(fronts: list[list[_Individual]]) -> None:
    for front in fronts:
        emo.assignCrowdingDist(front)
        for ind in front:
            # inf - inf in DEAP's formula gives NaN, which would break the sorting; a point
            # between infinite neighbours has no measurable crowding, so it gets 0.
            if math.isnan(ind.fitness.crowding_dist):
                ind.fitness.crowding_dist = 0.0
