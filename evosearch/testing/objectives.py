"""Contract suite for objectives, parametrised over the objective registry.

Use it from a test module (after importing any plug-in that registers an objective)::

    import my_objective  # registers itself
    from evosearch.testing.objectives import *  # noqa: F403

For every registered objective: its direction is +1 or -1; its value is finite for a
trained genome; an objective known before training gives the same value from the genome alone
as after training; its normalisation maps values into [0, 1], monotone in its direction.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from evosearch.evaluation import Evaluator
from evosearch.objectives import OBJECTIVES
from evosearch.space import Genome, InnovationCounter
from evosearch.testing._tiny import iris, tiny_space

__all__ = [
    "test_objective_direction_is_a_sign",
    "test_objective_known_before_training_needs_no_training",
    "test_objective_normalises_into_the_unit_interval",
    "test_objective_value_is_finite_for_a_trained_genome",
    "trained",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Genome, Any]]:
    """A few random genomes of a tiny space, cross-validated on iris (successful ones)."""
    space = tiny_space(tmp_path_factory.mktemp("objectives"))
    X, y = iris()
    rng, innovations = np.random.default_rng(0), InnovationCounter()
    genomes = [Genome.random(space, X.shape[1], 3, rng, innovations) for _ in range(6)]
    evaluator = Evaluator(X, y, "classification", cv=2, n_jobs=1, seed=0)
    try:
        results = evaluator.evaluate(genomes)
    finally:
        evaluator.close()
    pairs = [(g, r) for g, r in zip(genomes, results, strict=True) if r.ok]
    assert pairs, "no genome of the tiny space trained"
    return pairs


@pytest.mark.parametrize("name", OBJECTIVES.names())
def test_objective_direction_is_a_sign(name: str) -> None:
    objective = OBJECTIVES.get(name)
    assert objective.name == name
    assert objective.direction in (1, -1)
    assert objective.weight == float(objective.direction)
    assert isinstance(objective.label, str) and objective.label


@pytest.mark.parametrize("name", OBJECTIVES.names())
def test_objective_value_is_finite_for_a_trained_genome(
    name: str, trained: list[tuple[Genome, Any]]
) -> None:
    objective = OBJECTIVES.get(name)
    for genome, result in trained:
        value = objective.value(genome, result)
        assert isinstance(value, float) and math.isfinite(value)
        assert objective.value(genome, result) == value  # no hidden randomness
        assert isinstance(objective.format(value), str)


@pytest.mark.parametrize(
    "name", [n for n in OBJECTIVES.names() if OBJECTIVES.get(n).known_before_training]
)
def test_objective_known_before_training_needs_no_training(
    name: str, trained: list[tuple[Genome, Any]]
) -> None:
    objective = OBJECTIVES.get(name)
    for genome, result in trained:
        assert objective.value(genome) == objective.value(genome, result)


@pytest.mark.parametrize("name", OBJECTIVES.names())
def test_objective_normalises_into_the_unit_interval(
    name: str, trained: list[tuple[Genome, Any]]
) -> None:
    objective = OBJECTIVES.get(name)
    values = np.array(sorted(objective.value(g, r) for g, r in trained))
    # Beyond what training gave: far larger and smaller values must map into [0, 1] too.
    spread = max(1.0, float(np.abs(values).max()))
    values = np.concatenate([[-1e3 * spread, 0.0], values, [1e3 * spread]])
    values.sort()
    normalised = objective.normalise(values)
    assert normalised.shape == values.shape
    assert np.all((normalised >= 0.0) & (normalised <= 1.0))
    # Better values never map lower.
    steps = np.diff(normalised) * objective.direction
    assert np.all(steps >= 0.0)
