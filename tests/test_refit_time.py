"""``max_time`` covers the final refit: the search leaves the best member's estimated refit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sklearn.datasets import load_iris

from evosearch import Evolver
from evosearch.evaluation import EvaluationResult
from evosearch.search._refit_time import refit_seconds
from evosearch.testing._tiny import tiny_toml


def result(seconds: float, epochs: list[int], error: str | None = None) -> EvaluationResult:
    return EvaluationResult("ab", [0.9] * len(epochs), 0.9, 10, seconds, epochs, error)


def test_the_estimate_scales_a_folds_epoch_time_to_all_rows_and_the_whole_budget() -> None:
    # 6 s over 3 folds of 10 epochs: 0.2 s per epoch and fold; 20 epochs on 3/2 the rows.
    assert refit_seconds(result(6.0, [10, 10, 10]), max_epochs=20, cv=3) == pytest.approx(6.0)
    # One fold evaluated (a fidelity plan's): the same per-epoch time.
    assert refit_seconds(result(2.0, [10]), max_epochs=20, cv=3) == pytest.approx(6.0)
    # Early stopping in the evaluation does not shrink the refit's budget.
    assert refit_seconds(result(1.0, [5, 5]), max_epochs=50, cv=2) == pytest.approx(10.0)


@pytest.mark.parametrize(
    "evaluation",
    [None, result(3.0, [10, 10], error="ValueError: boom"), result(0.0, [10]), result(1.0, [0])],
)
def test_nothing_to_go_by_reserves_nothing(evaluation) -> None:
    assert refit_seconds(evaluation, max_epochs=20, cv=3) == 0.0


def tiny_evolver(tmp_path: Path, **settings) -> Evolver:
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_toml(max_epochs=(5,)), encoding="utf-8")
    options = dict(population_size=2, generations=5, cv=2, random_state=0)
    return Evolver(genome=path, **{**options, **settings})


def test_a_refit_longer_than_the_time_left_ends_the_search(tmp_path, monkeypatch) -> None:
    # Deterministic: every refit is estimated at a day, so once generation 0 gave a best
    # member no further generation may start, however fast this machine is.
    import evosearch.search._refit_time as refit_time

    monkeypatch.setattr(refit_time, "refit_seconds", lambda *args: 86_400.0)
    X, y = load_iris(return_X_y=True)
    evolver = tiny_evolver(tmp_path, n_jobs=1, max_time=600).fit(X, y)
    assert evolver.deadline_reached_
    assert len(evolver.history_) == 1  # generation 0 only
    assert evolver.predict(X[:2]).shape == (2,)  # the refit still happens
    # Without max_time there is no deadline to leave room in: all generations run.
    assert len(tiny_evolver(tmp_path, n_jobs=1).fit(X, y).history_) == 6


def test_a_holdout_reserves_every_members_refit(tmp_path, monkeypatch) -> None:
    # Each refit estimated at 350 s of a 600-s run: one fits, the best's plus every member's
    # (the holdout refits them all) cannot, whatever the archive's size.
    import evosearch.search._refit_time as refit_time

    monkeypatch.setattr(refit_time, "refit_seconds", lambda *args: 350.0)
    X, y = load_iris(return_X_y=True)
    common = dict(n_jobs=1, max_time=600, generations=2)
    assert len(tiny_evolver(tmp_path, **common).fit(X, y).history_) == 3
    held = tiny_evolver(tmp_path, **common, holdout=0.3).fit(X, y)
    assert held.deadline_reached_ and len(held.history_) == 1


def test_a_pruned_genomes_refit_counts_its_fine_tuning_epochs(tmp_path, monkeypatch) -> None:
    import evosearch.search._refit_time as refit_time

    asked: list[int] = []
    monkeypatch.setattr(
        refit_time, "refit_seconds", lambda result, epochs, cv: asked.append(epochs) or 0.0
    )
    path = tmp_path / "pruned.toml"
    toml = tiny_toml(max_epochs=(5,)) + "\n[compression]\nprune = [0.5]\nfinetune_epochs = 3\n"
    path.write_text(toml, encoding="utf-8")
    X, y = load_iris(return_X_y=True)
    Evolver(genome=path, population_size=2, generations=1, cv=2, n_jobs=1, max_time=600).fit(X, y)
    assert asked and set(asked) == {5 + 3}


class SlowFolds:
    """A picklable fit_hook: every fold takes ``seconds`` longer (as a big table's would)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, genome_hash: str, fold: int) -> None:
        time.sleep(self.seconds)


@pytest.mark.slow
def test_the_search_stops_early_enough_to_leave_the_refit_its_time(tmp_path: Path) -> None:
    # Each fold takes ~2 s more, so a refit is estimated at ~4 s (all rows: twice a fold's).
    # Generation 0 (2 genomes x 2 folds on 2 workers) ends after ~4 s plus start-up; with
    # max_time 9 a next generation would start if the refit were not counted, and must not.
    X, y = load_iris(return_X_y=True)
    started = time.perf_counter()
    evolver = tiny_evolver(tmp_path, n_jobs=2, max_time=9, fit_hook=SlowFolds(2.0)).fit(X, y)
    assert evolver.deadline_reached_
    assert len(evolver.history_) == 1
    assert time.perf_counter() - started < 12
