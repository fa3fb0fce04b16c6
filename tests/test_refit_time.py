"""``max_time`` covers the final refit: the search leaves the best member's estimated refit."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
from sklearn.datasets import load_iris

from evosearch import Evolver
from evosearch.errors import BudgetWarning
from evosearch.evaluation import DeadlineReached, EvaluationResult
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
    # Deterministic: every refit is estimated at a day, so the first model that finishes
    # needs more than the time left: generation 0 stops there, however fast this machine is,
    # and that model is refit and returned.
    import evosearch.search._refit_time as refit_time

    monkeypatch.setattr(refit_time, "refit_seconds", lambda *args: 86_400.0)
    X, y = load_iris(return_X_y=True)
    with pytest.warns(BudgetWarning, match="the best of the 1 models trained"):
        evolver = tiny_evolver(tmp_path, n_jobs=1, max_time=600).fit(X, y)
    assert evolver.deadline_reached_
    assert not evolver.history_  # no generation finished
    assert evolver.predict(X[:2]).shape == (2,)  # the refit still happens
    # Without max_time there is no deadline to leave room in: all generations run.
    assert len(tiny_evolver(tmp_path, n_jobs=1).fit(X, y).history_) == 6


def test_a_better_model_with_a_longer_refit_cuts_its_generation(tmp_path, monkeypatch) -> None:
    # Generation 0's models refit in no time; any model found later takes a day. The first
    # of them that enters the archive (the models the run would refit) cuts its generation
    # at once, so the run ends with generation 0's archive, whose refit fits.
    import evosearch.search._refit_time as refit_time

    first: set[str] | None = None  # generation 0's models, once it finished

    def estimate(result, epochs, cv) -> float:
        return 0.0 if first is None or result.genome_hash in first else 86_400.0

    def note_generation_0(evolver, record) -> None:
        nonlocal first
        if record.generation == 0:
            first = {entry.genome_hash for entry in evolver.archive_}

    monkeypatch.setattr(refit_time, "refit_seconds", estimate)
    X, y = load_iris(return_X_y=True)
    out = tmp_path / "run"
    evolver = tiny_evolver(
        tmp_path, n_jobs=1, max_time=600, generations=8, callbacks=[note_generation_0], out=out
    ).fit(X, y)
    assert evolver.deadline_reached_
    assert {entry.generation for entry in evolver.archive_} == {0}
    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    cut = len(evolver.history_)  # the generation that was running
    assert cut < 9 and max(line["generation"] for line in journal) == cut
    # The generation was dropped: the checkpoint is the last finished one's.
    assert json.loads((out / "checkpoint.json").read_text())["generation"] == cut - 1


def test_the_reserve_follows_a_new_best_within_a_generation() -> None:
    # One archive member refits in 1 s; a better model landing with a 40-s refit moves the
    # deadline 40 s before the end, a dominated one changes nothing, and one whose refit no
    # longer fits in the time left raises DeadlineReached.
    from evosearch.objectives import get_objective
    from evosearch.search._refit_time import RefitReserve
    from evosearch.search.archive import ArchiveEntry, ParetoArchive
    from evosearch.space import Genome
    from evosearch.testing._tiny import TINY_HYPER

    def model(units: int, score: float, seconds: float) -> tuple[Genome, EvaluationResult]:
        layer = {"kind": "dense", "units": units, "activation": "relu", "dropout": 0.0}
        genome = Genome.chain(4, 3, [layer], {**TINY_HYPER, "max_epochs": 10})
        evaluation = EvaluationResult(
            genome.canonical_hash(), [score] * 2, score, genome.n_params(), seconds, [10, 10]
        )
        return genome, evaluation

    known, known_result = model(4, 0.8, 1.0)  # 1 s over 2 x 10 epochs: a 1-s refit
    archive = ParetoArchive()
    archive.update(
        [ArchiveEntry(known.to_json(), known_result.genome_hash, (0.8, known.n_params()))]
    )
    results = SimpleNamespace(result={known_result.genome_hash: known_result}.get)
    settings = SimpleNamespace(
        holdout=None, refit_fidelity=None, cv=2, ensemble=False, bag_folds=False
    )
    end = time.monotonic() + 100.0
    objectives = [get_objective("score"), get_objective("params")]
    reserve = RefitReserve(end, archive, results, settings, objectives)  # type: ignore[arg-type]
    deadline = reserve.begin()
    assert deadline is not None and deadline.at == pytest.approx(end - 1.0)
    reserve.landed(*model(8, 0.9, 40.0))
    assert deadline.at == pytest.approx(end - 40.0)
    reserve.landed(*model(16, 0.7, 400.0))  # larger and worse than a member: not refit
    assert deadline.at == pytest.approx(end - 40.0)
    with pytest.raises(DeadlineReached, match="longer refit"):
        reserve.landed(*model(32, 0.95, 400.0))
    assert len(archive) == 1  # the run's archive is only read
    # The next generation starts from the archive as it is then.
    assert reserve.begin() is deadline and deadline.at == pytest.approx(end - 1.0)
    unlimited = RefitReserve(None, archive, results, settings, objectives)  # type: ignore[arg-type]
    assert unlimited.begin() is None


def test_an_ensemble_reserves_its_members_refits_but_not_the_best_twice() -> None:
    # Three archive members refit in 1, 2 and 4 s (the best: the 4-s one) and a pool model
    # outside the archive in 8 s. Without ensemble only the best's refit is left room; with it
    # the ensemble's members' too, the best once (the ensemble reuses its refit): those of the
    # ensemble the run would build now where the run says, else every archive member's.
    from evosearch.objectives import get_objective
    from evosearch.search._refit_time import RefitReserve
    from evosearch.search.archive import ArchiveEntry, ParetoArchive
    from evosearch.search.member import Member
    from evosearch.space import Genome
    from evosearch.testing._tiny import TINY_HYPER

    objectives = [get_objective("score"), get_objective("params")]

    def model(units: int, score: float, seconds: float) -> Member:
        layer = {"kind": "dense", "units": units, "activation": "relu", "dropout": 0.0}
        genome = Genome.chain(4, 3, [layer], {**TINY_HYPER, "max_epochs": 10})
        evaluation = EvaluationResult(  # seconds over 2 x 10 epochs: a refit of as many
            genome.canonical_hash(), [score] * 2, score, genome.n_params(), seconds, [10, 10]
        )
        return Member.evaluated(genome, evaluation, [], 0, objectives)

    small, middle, best = model(2, 0.7, 1.0), model(4, 0.8, 2.0), model(8, 0.9, 4.0)
    pool = model(16, 0.85, 8.0)  # larger and less accurate than the best: not in the archive
    archive = ParetoArchive()
    archive.update(
        [
            ArchiveEntry(m.genome.to_json(), m.result.genome_hash, tuple(m.objectives))
            for m in (small, middle, best)
        ]
    )
    assert len(archive) == 3
    rows = {m.result.genome_hash: m for m in (small, middle, best, pool)}
    results = SimpleNamespace(
        result=lambda h: rows[h].result if h in rows else None, member=rows.get
    )
    end = time.monotonic() + 100.0

    def reserved(ensemble: bool, *members: Member, bag: bool = False) -> float:
        settings = SimpleNamespace(holdout=None, refit_fidelity=None, cv=2, ensemble=ensemble,
                                   bag_folds=bag, n_folds=2)  # fmt: skip
        estimate = (lambda: [m.result.genome_hash for m in members]) if members else None
        reserve = RefitReserve(end, archive, results, settings, objectives, estimate)  # type: ignore[arg-type]
        deadline = reserve.begin()
        assert deadline is not None
        return end - deadline.at

    assert reserved(False) == pytest.approx(4.0)
    assert reserved(False, best, pool) == pytest.approx(4.0)  # no ensemble: nothing more
    assert reserved(True) == pytest.approx(4.0 + 2.0 + 1.0)  # every archive member's
    assert reserved(True, best) == pytest.approx(4.0)  # an ensemble of the best alone
    assert reserved(True, best, pool, small) == pytest.approx(4.0 + 8.0 + 1.0)
    # bag_folds refits the best once per fold (two here).
    assert reserved(False, bag=True) == pytest.approx(2 * 4.0)


def test_a_holdout_reserves_every_members_refit(tmp_path, monkeypatch) -> None:
    # Each refit estimated at 350 s of a 600-s run: one fits, the best's plus every member's
    # (the holdout refits them all) cannot, whatever the archive's size: the first model
    # finished stops the search.
    import evosearch.search._refit_time as refit_time

    monkeypatch.setattr(refit_time, "refit_seconds", lambda *args: 350.0)
    X, y = load_iris(return_X_y=True)
    common = dict(n_jobs=1, max_time=600, generations=2)
    assert len(tiny_evolver(tmp_path, **common).fit(X, y).history_) == 3
    with pytest.warns(BudgetWarning):
        held = tiny_evolver(tmp_path, **common, holdout=0.3).fit(X, y)
    assert held.deadline_reached_ and not held.history_


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
    # On a slow start-up (a loaded machine) the first model's refit no longer fits once it
    # lands, and generation 0 itself stops there.
    X, y = load_iris(return_X_y=True)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BudgetWarning)
        evolver = tiny_evolver(tmp_path, n_jobs=2, max_time=9, fit_hook=SlowFolds(2.0)).fit(X, y)
    assert evolver.deadline_reached_
    assert len(evolver.history_) <= 1
    assert time.perf_counter() - started < 12
