"""Contract suite for search strategies, parametrised over the strategy registry.

Use it from a test module (after importing any plug-in that registers a strategy)::

    import my_strategy  # registers itself
    from evosearch.testing.strategies import *  # noqa: F403

Every registered strategy, with and without successive halving, must give the same archive
and history for the same seed, and a run stopped after a generation and resumed with
:meth:`~evosearch.Evolver.resume` must end exactly where the uninterrupted run ends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evosearch.search import Evolver
from evosearch.search.strategies import STRATEGIES
from evosearch.testing._tiny import iris, tiny_space

__all__ = ["test_strategy_is_deterministic", "test_strategy_resumes_exactly"]

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
