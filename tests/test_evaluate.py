"""Tests for the Evaluator: cross-validated scoring, the cache, seeds and failures."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.pipeline import Pipeline

from clitools import HYPER
from evosearch.evaluation import (
    FAILURE_SCORE,
    EvaluationResult,
    Evaluator,
    build_estimator,
    task_seed,
)
from evosearch.space.genome import Genome


def dense(units: int, activation: str = "relu") -> dict:
    return {"units": units, "activation": activation, "dropout": 0.0}


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    return load_iris(return_X_y=True)


@pytest.fixture
def small() -> Genome:
    return Genome.chain(4, 3, [dense(8)], HYPER)


@pytest.fixture
def other() -> Genome:
    return Genome.chain(4, 3, [dense(4, "tanh"), dense(6)], {**HYPER, "optimizer": "rmsprop"})


@pytest.fixture
def diverging() -> Genome:
    # Plain SGD with learning rate 10 through wide leaky-ReLU layers overflows in epoch 1.
    hyper = {**HYPER, "optimizer": "sgd", "learning_rate": 10.0, "l2": 0.0, "batch_size": 8}
    return Genome.chain(4, 3, [dense(64, "leaky_relu"), dense(64, "leaky_relu")], hyper)


def other_chain() -> Genome:
    return Genome.chain(4, 3, [dense(3, "tanh")], HYPER)


def relabelled(genome: Genome, offset: int = 100) -> Genome:
    """The same network with different innovation ids on its hidden layers."""
    mapping = {node: node + offset for node in genome.hidden_layers()}
    return Genome(nx.relabel_nodes(genome.graph, mapping), dict(genome.hyperparameters))


def evaluator(iris, n_jobs: int = 1, cv: int = 2, seed: int = 0) -> Evaluator:
    X, y = iris
    return Evaluator(X, y, "classification", cv=cv, n_jobs=n_jobs, seed=seed)


# ------------------------------------------------------------------------------------ results


def test_one_result_per_genome_in_input_order(iris, small, other):
    results = evaluator(iris).evaluate([other, small])
    assert [r.genome_hash for r in results] == [other.canonical_hash(), small.canonical_hash()]
    assert [r.n_params for r in results] == [other.n_params(), small.n_params()]
    for result in results:
        assert isinstance(result, EvaluationResult)
        assert result.ok and result.error is None
        assert len(result.fold_scores) == 2
        assert all(0.0 <= s <= 1.0 for s in result.fold_scores)
        assert result.score == pytest.approx(np.mean(result.fold_scores))
        assert len(result.epochs) == 2 and all(1 <= e <= HYPER["max_epochs"] for e in result.epochs)
        assert result.seconds >= 0.0


def test_empty_batch_gives_no_results(iris):
    ev = evaluator(iris)
    progress = []
    assert ev.evaluate([], on_progress=lambda done, total: progress.append((done, total))) == []
    assert ev.evaluations == 0 and ev.cache_hits == 0
    assert progress == [(0, 0)]


def test_result_round_trips_through_dict(iris, small):
    result = evaluator(iris).evaluate([small])[0]
    assert EvaluationResult.from_dict(result.to_dict()) == result


# ------------------------------------------------------------------------------------ the cache


def test_duplicates_and_relabelled_twins_are_trained_once(iris, small, other):
    twin = relabelled(small)
    assert set(twin.graph.nodes) != set(small.graph.nodes)
    ev = evaluator(iris)
    trained = []
    results = ev.evaluate([small, other, small, twin], on_result=lambda g, r: trained.append(g))
    assert ev.evaluations == 2
    assert ev.cache_hits == 2
    assert len(trained) == 2
    assert results[0] == results[2] == results[3]
    assert results[0].fold_scores == results[3].fold_scores
    assert results[1].genome_hash == other.canonical_hash()


def test_second_call_with_same_genome_is_a_cache_hit(iris, small):
    ev = evaluator(iris)
    first = ev.evaluate([small])[0]
    assert (ev.evaluations, ev.cache_hits) == (1, 0)
    calls = []
    second = ev.evaluate([relabelled(small, 7)], on_result=lambda g, r: calls.append(g))
    assert (ev.evaluations, ev.cache_hits) == (1, 1)
    assert second == [first]
    assert calls == []
    assert ev.lookup(small) == first


def test_different_hyperparameters_are_not_cache_hits(iris, small):
    ev = evaluator(iris)
    changed = Genome(small.graph.copy(), {**small.hyperparameters, "learning_rate": 0.02})
    ev.evaluate([small, changed])
    assert (ev.evaluations, ev.cache_hits) == (2, 0)
    assert ev.lookup(changed) is not None


def test_remember_preloads_the_cache(iris, small):
    ev = evaluator(iris)
    known = EvaluationResult(small.canonical_hash(), [0.5, 0.5], 0.5, small.n_params(), 1.0)
    ev.remember(small, known)
    assert ev.evaluate([small]) == [known]
    assert (ev.evaluations, ev.cache_hits) == (0, 1)


# ------------------------------------------------------------------------------------ seeds


def test_results_identical_for_one_and_two_jobs(iris, small, other):
    genomes = [small, other, Genome.chain(4, 3, [dense(5, "tanh")], HYPER)]
    serial = evaluator(iris, n_jobs=1, cv=3).evaluate(genomes)
    parallel = evaluator(iris, n_jobs=2, cv=3).evaluate(genomes)
    assert [r.fold_scores for r in serial] == [r.fold_scores for r in parallel]
    assert [r.epochs for r in serial] == [r.epochs for r in parallel]
    assert [r.genome_hash for r in serial] == [r.genome_hash for r in parallel]


def test_result_does_not_depend_on_batch_order_or_company(iris, small, other):
    alone = evaluator(iris).evaluate([small])[0]
    together = evaluator(iris).evaluate([other, small])[1]
    assert alone.fold_scores == together.fold_scores


def test_task_seed_depends_only_on_seed_hash_and_fold(small, other):
    h = small.canonical_hash()
    seed = task_seed(0, h, 0)
    assert isinstance(seed, int) and 0 <= seed < 2**32
    assert task_seed(0, h, 0) == seed
    assert task_seed(0, relabelled(small).canonical_hash(), 0) == seed
    assert task_seed(1, h, 0) != seed
    assert task_seed(0, h, 1) != seed
    assert task_seed(0, other.canonical_hash(), 0) != seed


def test_run_seed_changes_the_scores(iris, small):
    a = evaluator(iris, seed=0).evaluate([small])[0]
    b = evaluator(iris, seed=1).evaluate([small])[0]
    assert a.fold_scores != b.fold_scores


# ------------------------------------------------------------------------------------ failures


def test_diverging_genome_gets_failure_score_and_others_go_on(iris, small, diverging):
    ev = evaluator(iris)
    results = ev.evaluate([small, diverging, other_chain()])
    good, bad, last = results
    assert good.ok and last.ok
    assert not bad.ok
    assert bad.score == FAILURE_SCORE
    assert bad.fold_scores == []
    assert bad.genome_hash == diverging.canonical_hash()
    assert bad.n_params == diverging.n_params()
    assert "DivergenceError" in bad.error
    assert "learning_rate" in bad.error
    assert "\n" not in bad.error
    assert ev.evaluations == 3


def test_failed_result_is_cached_too(iris, diverging):
    ev = evaluator(iris)
    first = ev.evaluate([diverging])[0]
    assert ev.evaluate([diverging])[0] == first
    assert (ev.evaluations, ev.cache_hits) == (1, 1)


def test_regression_divergence_is_a_failure_not_a_crash():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) * 1000.0
    hyper = {**HYPER, "optimizer": "sgd", "learning_rate": 10.0, "l2": 0.0}
    genome = Genome.chain(3, 1, [dense(16, "leaky_relu")], hyper)
    result = Evaluator(X, y, "regression", cv=2, n_jobs=1).evaluate([genome])[0]
    assert not result.ok and result.score == FAILURE_SCORE
    assert result.error


# ------------------------------------------------------------------------------------ callbacks


def test_callbacks_report_each_new_genome_and_reach_the_total(iris, small, other, diverging):
    ev = evaluator(iris, cv=3)
    ev.evaluate([small])  # cached from now on
    seen: list[tuple[str, EvaluationResult]] = []
    progress: list[tuple[int, int]] = []
    results = ev.evaluate(
        [small, other, diverging, other],
        on_result=lambda g, r: seen.append((g.canonical_hash(), r)),
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert sorted(h for h, _ in seen) == sorted(
        [other.canonical_hash(), diverging.canonical_hash()]
    )
    assert {h: r for h, r in seen} == {r.genome_hash: r for r in results[1:3]}
    total = 2 * 3  # two new genomes x three folds
    assert progress[0] == (0, total)
    assert progress[-1] == (total, total)
    assert [done for done, _ in progress] == list(range(total + 1))
    assert {t for _, t in progress} == {total}


# ------------------------------------------------------------------------------------ estimator


def test_build_estimator_is_a_pipeline_with_the_genomes_size(iris, other):
    X, y = iris
    model = build_estimator(other, "classification", random_state=3)
    assert isinstance(model, Pipeline)
    assert not hasattr(model[-1], "n_params_")
    model.fit(X, y)
    assert model[-1].n_params_ == other.n_params()
    assert model.predict(X).shape == (150,)
    assert 0.0 <= model.score(X, y) <= 1.0


def test_build_estimator_is_deterministic_per_seed(iris, small):
    X, y = iris
    a = build_estimator(small, "classification", random_state=5).fit(X, y).predict_proba(X)
    b = build_estimator(small, "classification", random_state=5).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_build_estimator_for_regression():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = X.sum(axis=1)
    genome = Genome.chain(3, 1, [dense(4, "tanh")], HYPER)
    model = build_estimator(genome, "regression", random_state=0).fit(X, y)
    assert model[-1].n_params_ == genome.n_params()
    assert model.predict(X).shape == (40,)
