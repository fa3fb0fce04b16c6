"""Contract suite for search strategies, parametrised over the strategy registry.

Use it from a test module (after importing any plug-in that registers a strategy)::

    import my_strategy  # registers itself
    from evosearch.testing.strategies import *  # noqa: F403

Every registered strategy, with and without successive halving, must give the same archive
and history for the same seed, and a run stopped after a generation and resumed with
:meth:`~evosearch.Evolver.resume` must end exactly where the uninterrupted run ends; one that
can run steady-state (:meth:`~evosearch.search.strategies.Strategy.admit`) must do the same
there, and its ``admit`` must keep a bounded population drawn from what it was given. Its
breeding parts (``parent_selection``, ``variation``; see
:mod:`evosearch.search.strategies.breeding`) must make valid genomes of the space, within the
size budget, with their parents' hashes, and the same ones for the same seed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evosearch.evaluation import EvaluationResult, Evaluator
from evosearch.search import Evolver
from evosearch.search.member import Member
from evosearch.search.strategies import (
    STRATEGIES,
    BreedingContext,
    Children,
    ParentSelection,
    Variation,
    get_strategy,
)
from evosearch.space import InnovationCounter, SearchSpace
from evosearch.testing._tiny import iris, tiny_space

__all__ = [
    "test_strategy_admit_keeps_a_bounded_population",
    "test_strategy_breeding_is_deterministic_and_stateless",
    "test_strategy_breeds_valid_children_within_the_budget",
    "test_strategy_is_deterministic",
    "test_strategy_resumes_exactly",
    "test_strategy_steady_state_is_deterministic_and_resumes_exactly",
]

_GENERATIONS = 2


def _outcome(evolver: Evolver) -> tuple[Any, list[dict[str, Any]]]:
    # Everything but the measured seconds.
    history = [{**r.to_dict(), "seconds": None} for r in evolver.history_]
    return evolver.archive_.to_dict(), history


def _evolver(folder: Path, strategy: str, halving: bool, **kwargs: Any) -> Evolver:
    return Evolver(
        genome=tiny_space(folder),
        population_size=4,
        generations=_GENERATIONS,
        cv=2,
        n_jobs=1,
        random_state=7,
        strategy=strategy,
        halving=halving,
        **kwargs,
    )


@pytest.mark.parametrize("halving", [False, True], ids=["full", "halving"])
@pytest.mark.parametrize("strategy", STRATEGIES.names())
def test_strategy_is_deterministic(strategy: str, halving: bool, tmp_path: Path) -> None:
    X, y = iris()
    one = _evolver(tmp_path, strategy, halving).fit(X, y)
    two = _evolver(tmp_path, strategy, halving).fit(X, y)
    assert _outcome(one) == _outcome(two)
    assert [g.canonical_hash() for g in one.population_] == [
        g.canonical_hash() for g in two.population_
    ]


@pytest.mark.parametrize("halving", [False, True], ids=["full", "halving"])
@pytest.mark.parametrize("strategy", STRATEGIES.names())
def test_strategy_resumes_exactly(strategy: str, halving: bool, tmp_path: Path) -> None:
    X, y = iris()
    whole = _evolver(tmp_path, strategy, halving, out=tmp_path / "whole").fit(X, y)

    def stop_after_first(evolver: Evolver, record: Any) -> bool:
        return record.generation >= 1

    stopped = _evolver(
        tmp_path, strategy, halving, out=tmp_path / "part", callbacks=[stop_after_first]
    ).fit(X, y)
    assert len(stopped.history_) == 2 < len(whole.history_)
    resumed = Evolver.resume(tmp_path / "part", X=X, y=y)
    assert _outcome(resumed) == _outcome(whole)
    assert [g.canonical_hash() for g in resumed.population_] == [
        g.canonical_hash() for g in whole.population_
    ]


def _steady_strategies() -> list[Any]:
    return [
        pytest.param(name, marks=[] if get_strategy(name).supports_steady_state() else [
            pytest.mark.skip(reason=f"strategy {name!r} has no admit(): generational only")
        ])
        for name in STRATEGIES.names()
    ]  # fmt: skip


@pytest.mark.parametrize("strategy", _steady_strategies())
def test_strategy_steady_state_is_deterministic_and_resumes_exactly(
    strategy: str, tmp_path: Path
) -> None:
    # n_jobs=1: results land in submission order, so the run is reproducible outright.
    X, y = iris()
    whole = _evolver(tmp_path, strategy, False, steady_state=True, out=tmp_path / "w").fit(X, y)
    again = _evolver(tmp_path, strategy, False, steady_state=True).fit(X, y)
    assert _outcome(whole) == _outcome(again)

    def stop_after_first(evolver: Evolver, record: Any) -> bool:
        return record.generation >= 1

    stopped = _evolver(
        tmp_path, strategy, False, steady_state=True, out=tmp_path / "p",
        callbacks=[stop_after_first],
    ).fit(X, y)  # fmt: skip
    assert len(stopped.history_) == 2 < len(whole.history_)
    resumed = Evolver.resume(tmp_path / "p", X=X, y=y)
    assert _outcome(resumed) == _outcome(whole)
    assert [g.canonical_hash() for g in resumed.population_] == [
        g.canonical_hash() for g in whole.population_
    ]


@pytest.mark.parametrize("strategy", _steady_strategies())
def test_strategy_admit_keeps_a_bounded_population(strategy: str, tmp_path: Path) -> None:
    context = _context(tiny_space(tmp_path), 5)
    members = _population(context)
    instance = get_strategy(strategy)(_POPULATION - 2, _WEIGHTS)
    population: list[Member] = []
    for member in members:  # one at a time, as results land
        before = list(population)
        population = instance.admit(population, member)
        assert instance.admit(before, member) == population  # deterministic, stateless
        assert len(population) <= _POPULATION - 2
        assert {id(m) for m in population} <= {id(m) for m in [*before, member]}
    assert any(m.result.ok for m in population)


# ------------------------------------------------------------------------ breeding parts
_WEIGHTS = (1.0, -1.0)
_POPULATION = 6


def _context(space: SearchSpace, seed: int) -> BreedingContext:
    X, y = iris()
    return BreedingContext(
        space=space,
        rng=np.random.default_rng(seed),
        innovations=InnovationCounter(),
        evaluator=Evaluator(X, y, "classification", cv=2, n_jobs=1),
        within_budget=lambda genome: True,
        weights=_WEIGHTS,
        crossover_rate=0.5,
        n_inputs=X.shape[1],
        n_outputs=len(np.unique(y)),
    )


class _Budget:
    def __init__(self, max_params: int) -> None:
        self.max_params = max_params

    def __call__(self, genome: Any) -> bool:
        return bool(genome.n_params() <= self.max_params)


def _population(context: BreedingContext) -> list[Member]:
    """Random members with made-up scores (the last one failed), all evaluated as known."""
    members = []
    for i in range(_POPULATION):
        genome = context.random_genome()
        score = float(context.rng.uniform(0.3, 0.9))
        error = "RuntimeError: toy failure" if i == _POPULATION - 1 else None
        result = EvaluationResult(
            genome.canonical_hash(), [score], score, genome.n_params(), 0.0, error=error
        )
        context.evaluator.remember(genome, result)
        members.append(Member(genome, result, [], 0, (score, float(genome.n_params()))))
    return members


def _breed(strategy: str, space: SearchSpace, seed: int, n: int) -> tuple[Children, Any]:
    context = _context(space, seed)
    population = _population(context)
    # Every parent is within the budget, and no larger genome.
    budget = _Budget(max(m.result.n_params for m in population))
    context = dataclasses.replace(context, within_budget=budget)
    made = get_strategy(strategy)(_POPULATION, _WEIGHTS).make_children(population, n, context)
    return made, (population, context)


@pytest.mark.parametrize("strategy", STRATEGIES.names())
def test_strategy_breeds_valid_children_within_the_budget(strategy: str, tmp_path: Path) -> None:
    cls = get_strategy(strategy)
    assert isinstance(cls.parent_selection, ParentSelection)
    assert isinstance(cls.variation, Variation)
    space = tiny_space(tmp_path)
    (genomes, lineage), (population, context) = _breed(strategy, space, 3, 5)
    assert 0 < len(genomes) == len(lineage) <= 5
    known = {m.result.genome_hash for m in population}
    for genome, parents in zip(genomes, lineage, strict=True):
        genome.validate(space)
        assert (genome.n_inputs, genome.n_outputs) == (context.n_inputs, context.n_outputs)
        assert context.within_budget(genome)
        assert set(parents) <= known


@pytest.mark.parametrize("strategy", STRATEGIES.names())
def test_strategy_breeding_is_deterministic_and_stateless(strategy: str, tmp_path: Path) -> None:
    space = tiny_space(tmp_path)
    # The same seed twice, with another one in between: the parts keep no state.
    (one, one_lineage), (_, one_context) = _breed(strategy, space, 11, 4)
    _breed(strategy, space, 12, 4)
    (two, two_lineage), (_, two_context) = _breed(strategy, space, 11, 4)
    assert [g.to_json() for g in one] == [g.to_json() for g in two]
    assert one_lineage == two_lineage
    assert one_context.rng.bit_generator.state == two_context.rng.bit_generator.state
    assert one_context.innovations.next_id == two_context.innovations.next_id
