"""Tests for evosearch.search.selection: ranks, crowding, NSGA-II survival, parent tournaments."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evosearch.search.selection import (
    crowding_distances,
    fitness_class,
    nondominated_ranks,
    select_parents,
    select_survivors,
    spread_order,
)

W = (1.0, -1.0)  # maximise score, minimise n_params

# Front 0: (0.9, 100), (0.95, 300), (0.6, 10); front 1: (0.8, 200), (0.85, 400);
# front 2: (0.7, 500).
POP = [(0.9, 100), (0.8, 200), (0.95, 300), (0.6, 10), (0.85, 400), (0.7, 500)]
POP_RANKS = [0, 1, 0, 0, 1, 2]

objective_rows = st.lists(
    st.tuples(
        st.sampled_from([0.1, 0.5, 0.7, 0.9]), st.sampled_from([10.0, 100.0, 1000.0, 5000.0])
    ),
    min_size=1,
    max_size=25,
)


def dominates(a, b, weights=W) -> bool:
    wa = [x * w for x, w in zip(a, weights, strict=True)]
    wb = [x * w for x, w in zip(b, weights, strict=True)]
    return all(x >= y for x, y in zip(wa, wb, strict=True)) and wa != wb


def test_fitness_class_is_cached_deepcopies_and_pickles() -> None:
    cls = fitness_class(W)
    assert fitness_class((1.0, -1.0)) is cls
    assert fitness_class((-1.0,)) is not cls
    fit = cls((0.9, 1000.0))
    clone = copy.deepcopy(fit)
    assert type(clone) is cls and clone.values == (0.9, 1000.0)
    restored = pickle.loads(pickle.dumps(fit))
    assert type(restored) is cls and restored.values == fit.values
    assert fit.dominates(cls((0.8, 1000.0)))
    assert not fit.dominates(cls((0.95, 1000.0)))


def test_ranks_on_hand_made_fronts() -> None:
    assert nondominated_ranks(POP, W) == POP_RANKS


def test_ranks_respect_weight_signs() -> None:
    # Maximising both objectives makes (0.7, 500) and (0.95, 300) and (0.85, 400) the front.
    ranks = nondominated_ranks(POP, (1.0, 1.0))
    assert [i for i, r in enumerate(ranks) if r == 0] == [2, 4, 5]


def test_duplicates_share_rank() -> None:
    objs = [(0.9, 100), (0.9, 100), (0.5, 100), (0.9, 100)]
    assert nondominated_ranks(objs, W) == [0, 0, 1, 0]


def test_empty_inputs() -> None:
    assert nondominated_ranks([], W) == []
    assert crowding_distances([], W) == []
    assert select_survivors([], 0, W) == []
    assert select_parents([], 0, W, np.random.default_rng(0)) == []


def test_crowding_distances_hand_computed() -> None:
    # One front of four points; per objective the extremes get inf and the interior points
    # get (next - prev) / (n_obj * range).
    objs = [(0.6, 10), (0.8, 100), (0.9, 200), (1.0, 400)]
    d = crowding_distances(objs, W)
    assert d[0] == math.inf and d[3] == math.inf
    assert d[1] == pytest.approx((0.9 - 0.6) / (2 * 0.4) + (200 - 10) / (2 * 390))
    assert d[2] == pytest.approx((1.0 - 0.8) / (2 * 0.4) + (400 - 100) / (2 * 390))


def test_crowding_is_within_each_front() -> None:
    d = crowding_distances(POP, W)
    # Fronts of one or two points: every member is an extreme.
    assert d[1] == d[4] == d[5] == math.inf
    assert d[0] == pytest.approx((0.95 - 0.6) / (2 * 0.35) + (300 - 10) / (2 * 290))


def test_crowding_with_infinite_objective_has_no_nan() -> None:
    d = crowding_distances([(0.1, 1.0), (0.5, 10.0), (0.9, math.inf)], W)
    assert not any(math.isnan(x) for x in d)


def test_survivors_keep_the_first_front() -> None:
    chosen = select_survivors(POP, 3, W)
    assert sorted(chosen) == [0, 2, 3]
    chosen = select_survivors(POP, 4, W)
    assert sorted(chosen[:3]) == [0, 2, 3] and chosen[3] in (1, 4)
    assert select_survivors(POP, len(POP), W)[-1] == 5


def test_survivors_cut_last_front_by_crowding() -> None:
    # One front; point 1 sits right next to point 0, so it is the most crowded and is dropped.
    objs = [(0.6, 10), (0.61, 11), (0.8, 200), (1.0, 400)]
    assert select_survivors(objs, 3, W) == [0, 3, 2]


def test_survivors_with_duplicates_are_distinct_and_deterministic() -> None:
    objs = [(0.9, 100)] * 5 + [(0.5, 10)]
    first = select_survivors(objs, 3, W)
    assert first == select_survivors(objs, 3, W)
    assert len(set(first)) == 3


@pytest.mark.parametrize("k", [-1, 7])
def test_survivors_reject_bad_k(k: int) -> None:
    with pytest.raises(ValueError, match="k must be"):
        select_survivors(POP, k, W)


@pytest.mark.parametrize(
    ("objs", "weights", "match"),
    [
        ([(0.9, 100)], (1.0,), "1 weights"),
        ([(0.9, math.nan)], W, "NaN"),
        ([(0.9, 100)], (1.0, 0.0), "non-zero"),
    ],
)
def test_malformed_inputs(objs, weights, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        nondominated_ranks(objs, weights)


def test_parents_deterministic_per_seed() -> None:
    a = select_parents(POP, 50, W, np.random.default_rng(7))
    b = select_parents(POP, 50, W, np.random.default_rng(7))
    c = select_parents(POP, 50, W, np.random.default_rng(8))
    assert a == b
    assert a != c
    assert len(a) == 50 and all(0 <= i < len(POP) for i in a)


def test_parents_prefer_lower_rank() -> None:
    rng = np.random.default_rng(0)
    counts = np.bincount(select_parents(POP, 6000, W, rng), minlength=len(POP))
    # The rank-2 point wins no tournament: it loses to every other point.
    assert counts[5] == 0
    per_rank = {r: counts[[i for i, x in enumerate(POP_RANKS) if x == r]].mean() for r in (0, 1)}
    assert per_rank[0] > per_rank[1] > 0


def test_parents_tie_break_by_crowding_then_coin() -> None:
    # One front: the two extremes (inf crowding) beat the interior point every time they
    # meet it; the extremes tie with each other and are chosen by a coin flip.
    objs = [(0.6, 10), (0.8, 100), (1.0, 400)]
    counts = np.bincount(select_parents(objs, 3000, W, np.random.default_rng(1)), minlength=3)
    assert counts[1] == 0
    assert abs(counts[0] - counts[2]) < 300


def test_parents_single_individual_and_large_k() -> None:
    assert select_parents([(0.5, 10)], 4, W, np.random.default_rng(0)) == [0, 0, 0, 0]
    with pytest.raises(ValueError):
        select_parents(POP, -1, W, np.random.default_rng(0))
    with pytest.raises(ValueError, match="empty"):
        select_parents([], 2, W, np.random.default_rng(0))


@settings(max_examples=60, deadline=None)
@given(objs=objective_rows, data=st.data())
def test_selection_properties(objs, data) -> None:
    ranks = nondominated_ranks(objs, W)
    for i, a in enumerate(objs):
        for j, b in enumerate(objs):
            if dominates(a, b):
                assert ranks[i] < ranks[j]
            if a == b:
                assert ranks[i] == ranks[j]
    k = data.draw(st.integers(0, len(objs)))
    survivors = select_survivors(objs, k, W)
    assert len(survivors) == len(set(survivors)) == k
    assert survivors == select_survivors(objs, k, W)
    if k:
        # Every front except the one that is cut is taken whole.
        cut_rank = max(ranks[i] for i in survivors)
        assert all(i in survivors for i, r in enumerate(ranks) if r < cut_rank)
    seed = data.draw(st.integers(0, 2**32 - 1))
    parents = select_parents(objs, 2 * len(objs) + 1, W, np.random.default_rng(seed))
    assert parents == select_parents(objs, 2 * len(objs) + 1, W, np.random.default_rng(seed))
    assert all(0 <= i < len(objs) for i in parents)


def test_spread_order_takes_the_ends_of_the_front_then_fills_its_gaps() -> None:
    # Front 0 on a line from (1, 0) to (0, 1), crowded at the accurate end; one dominated point
    # and a copy of an end after them.
    front = [(0.95, 0.05), (1.0, 0.0), (0.9, 0.1), (0.5, 0.5), (0.0, 1.0), (0.25, 0.75)]
    objs = [*front, (0.4, 0.4), (1.0, 0.0)]
    order = spread_order(objs, (1.0, 1.0))
    assert order[:2] == [1, 4]  # the best on each objective, in objective order
    assert order[2] == 3  # the point farthest from both ends
    assert set(order[:6]) == set(range(6)) and order[6:] == [6, 7]  # dominated, then the copy
    # Best score first would have spent its first three places on the accurate end.
    assert sorted(order[:3]) == [1, 3, 4]


def test_spread_order_follows_the_weights_and_is_deterministic() -> None:
    assert spread_order(POP, W)[:2] == [2, 3]  # best score, then fewest parameters
    assert spread_order([], W) == []
    with pytest.raises(ValueError, match="NaN"):
        spread_order([(math.nan, 1.0)], W)


@settings(max_examples=60, deadline=None)
@given(objs=objective_rows)
def test_spread_order_is_a_permutation_in_rank_order(objs) -> None:
    logs = [(score, math.log10(params)) for score, params in objs]
    order = spread_order(logs, W)
    assert sorted(order) == list(range(len(objs)))
    assert order == spread_order(logs, W)
    ranks = nondominated_ranks(logs, W)
    distinct = [i for n, i in enumerate(order) if logs[i] not in [logs[j] for j in order[:n]]]
    assert [ranks[i] for i in distinct] == sorted(ranks[i] for i in distinct)
