"""Evaluation schedules: every child on every fold, or successive halving over folds.

A schedule is how ``breed`` (see :data:`~evosearch.search.strategies.Breed`) evaluates the
children it makes, so any strategy can use either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from evosearch.search.member import Member
from evosearch.search.selection import select_survivors
from evosearch.space import Genome

__all__ = ["HALVING_FACTOR", "Schedule", "evaluate_all", "successive_halving"]

#: Successive halving trains this many times the children on one fold and finishes the best.
HALVING_FACTOR = 2

#: ``make(n)``: ``n`` new children and their parents' hashes (draws from the run's generator).
MakeChildren = Callable[[int], tuple[list[Genome], list[list[str]]]]
#: ``evaluate(genomes, lineage, folds)``: the members, on ``folds`` only (None: every fold).
Evaluate = Callable[[list[Genome], list[list[str]], list[int] | None], list[Member]]
#: ``schedule(make, evaluate, n_children, weights)``: ``n_children`` evaluated children.
Schedule = Callable[[MakeChildren, Evaluate, int, Sequence[float]], list[Member]]


def evaluate_all(
    make: MakeChildren, evaluate: Evaluate, n_children: int, weights: Sequence[float]
) -> list[Member]:
    """Make ``n_children`` children and cross-validate each on every fold."""
    children, lineage = make(n_children)
    return evaluate(children, lineage, None)


def successive_halving(
    make: MakeChildren, evaluate: Evaluate, n_children: int, weights: Sequence[float]
) -> list[Member]:
    """Train ``HALVING_FACTOR * n_children`` children on fold 0, finish the best ``n_children``.

    The first rung is ranked by Pareto dominance on the objective vectors of the first-fold
    results (non-dominated rank, then crowding), like survivors are: a small model with a fair
    score goes on as readily as a large accurate one. Failures are final and not finished; when
    every child failed, the first ``n_children`` of them are returned.
    """
    children, lineage = make(HALVING_FACTOR * n_children)
    first_rung = evaluate(children, lineage, [0])
    working = [i for i, m in enumerate(first_rung) if m.result.ok]
    keep = select_survivors(
        [first_rung[i].objectives for i in working], min(n_children, len(working)), weights
    )
    promoted = sorted(working[k] for k in keep)
    if not promoted:
        return first_rung[:n_children]
    return evaluate([children[i] for i in promoted], [lineage[i] for i in promoted], None)
