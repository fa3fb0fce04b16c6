"""Tests for the Evolver: settings, loop, callbacks, seeds and run folder."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.metrics import r2_score

from clitools import DIVERGING_TOML, RUN_FILES, TINY_TOML
from evosearch import Evolver, Genome, ParetoArchive, SearchSpace
from evosearch.data.dataset import check_dataset
from evosearch.errors import (
    DataError,
    EvosearchError,
    RunFolderError,
    SearchSpaceError,
    SettingsError,
)
from evosearch.search import GenerationRecord


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("genomes") / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    return load_iris(return_X_y=True)


def make(tiny: Path, **settings) -> Evolver:
    options = {"population_size": 4, "generations": 1, "cv": 2, "n_jobs": 1, "random_state": 0}
    options.update(settings)
    return Evolver(genome=tiny, **options)


def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """(score up, params down)."""
    better_or_equal = a[0] >= b[0] and a[1] <= b[1]
    return better_or_equal and (a[0] > b[0] or a[1] < b[1])


def comparable(history: list[GenerationRecord]) -> list[dict]:
    return [{k: v for k, v in r.to_dict().items() if k != "seconds"} for r in history]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# ------------------------------------------------------------------------------------ fitting


@pytest.fixture(scope="module")
def fitted(tiny, iris) -> Evolver:
    X, y = iris
    evolver = make(tiny, generations=2, random_state=3)
    assert evolver.fit(X, y) is evolver
    return evolver


def test_fit_gives_a_non_dominated_archive(fitted):
    archive = fitted.archive_
    assert isinstance(archive, ParetoArchive)
    assert len(archive) >= 1
    points = [tuple(e.objectives) for e in archive]
    for i, a in enumerate(points):
        assert 0.0 <= a[0] <= 1.0 and a[1] > 0
        for j, b in enumerate(points):
            if i != j:
                assert not dominates(a, b), (a, b)
    assert ParetoArchive.from_dict(json.loads(json.dumps(archive.to_dict()))) is not None


def test_fit_records_one_history_row_per_generation(fitted):
    history = fitted.history_
    assert [r.generation for r in history] == [0, 1, 2]
    assert all(isinstance(r, GenerationRecord) for r in history)
    assert history[0].evaluations == 4
    assert all(r.archive_size >= 1 and r.hypervolume > 0 for r in history)
    assert [r.archive_size for r in history][-1] == len(fitted.archive_)
    # The archive only grows better: best score and hypervolume never drop.
    assert all(a.best_score <= b.best_score for a, b in itertools.pairwise(history))
    assert all(a.hypervolume <= b.hypervolume + 1e-12 for a, b in itertools.pairwise(history))


def test_fit_gives_a_usable_best_estimator(fitted, iris):
    X, y = iris
    assert fitted.best_estimator_.predict(X).shape == (150,)
    assert fitted.predict(X[:7]).shape == (7,)
    score = fitted.score(X, y)
    assert isinstance(score, float) and 0.0 <= score <= 1.0
    best = fitted.archive_.best()
    assert best.objectives[0] == max(e.objectives[0] for e in fitted.archive_)
    assert fitted.best_genome_.canonical_hash() == best.genome_hash
    assert fitted.best_estimator_[-1].n_params_ == best.objectives[1]


def test_fit_gives_the_final_population(fitted):
    population = fitted.population_
    assert len(population) == 4
    assert all(isinstance(g, Genome) for g in population)
    for genome in population:
        genome.validate(fitted.space_)


def test_unfitted_evolver_cannot_predict(tiny, iris):
    with pytest.raises(AttributeError, match="not fitted"):
        make(tiny).predict(iris[0])


def test_fit_leaves_global_random_state_alone(tiny, iris):
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    make(tiny).fit(*iris)
    after = np.random.get_state()  # noqa: NPY002
    assert all(np.array_equal(a, b) for a, b in zip(np_state, after, strict=True))
    assert random.getstate() == py_state


def test_accepts_a_search_space_object(tiny, iris):
    space = SearchSpace.load(tiny)
    evolver = Evolver(space, population_size=4, generations=1, cv=2, n_jobs=1).fit(*iris)
    assert evolver.space_ is space
    assert len(evolver.archive_) >= 1


def test_regression_uses_r2(tiny):
    X, y = make_regression(n_samples=80, n_features=4, noise=5.0, random_state=0)
    evolver = make(tiny, random_state=1).fit(X, y)
    assert evolver.task_ == "regression"
    assert all(e.objectives[0] <= 1.0 for e in evolver.archive_)
    assert evolver.predict(X).shape == (80,)
    assert evolver.score(X, y) == pytest.approx(r2_score(y, evolver.predict(X)))


def test_every_failed_genome_is_a_clear_error(tmp_path, iris):
    toml = tmp_path / "diverging.toml"
    toml.write_text(DIVERGING_TOML, encoding="utf-8")
    evolver = make(toml, out=tmp_path / "run")
    with pytest.raises(EvosearchError, match="failed") as info:
        evolver.fit(*iris)
    assert "DivergenceError" in str(info.value)
    assert all(r.failures == r.evaluations for r in evolver.history_)
    # The run folder is still valid JSON throughout (no NaN where no score exists yet).
    for line in (tmp_path / "run" / "generations.jsonl").read_text().splitlines():
        record = json.loads(line)
        assert record["best_score"] is None and record["archive_size"] == 0


def test_fit_dataset_checks_folds_against_the_data(tiny):
    X = np.arange(20, dtype=float).reshape(10, 2)
    classes = check_dataset(X, [0] * 8 + [1] * 2)
    with pytest.raises(SettingsError, match="cv=3"):
        make(tiny, cv=3).fit_dataset(classes)
    values = check_dataset(X[:2], [0.5, 1.5])
    with pytest.raises(SettingsError, match="cv=3"):
        make(tiny, cv=3).fit_dataset(values)


def test_too_few_rows_per_class_for_cv_is_an_input_error(tiny):
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = np.array([0] * 8 + [1] * 2)
    with pytest.raises(DataError, match="CV folds"):
        make(tiny, cv=3).fit(X, y)


# ------------------------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("population_size", 0),
        ("population_size", 1),
        ("population_size", 2.5),
        ("generations", 0),
        ("generations", True),
        ("cv", 1),
        ("n_jobs", 0),
        ("n_jobs", -2),
        ("random_state", -1),
        ("random_state", "zero"),
        ("crossover_rate", 2),
        ("crossover_rate", -0.1),
        ("crossover_rate", float("nan")),
        ("task", "clustering"),
        ("callbacks", [42]),
    ],
)
def test_bad_settings_fail_at_fit(tiny, setting, value):
    evolver = make(tiny, **{setting: value})  # the constructor only stores (scikit-learn's rule)
    assert evolver.get_params()[setting] is value
    with pytest.raises(SettingsError) as info:
        evolver.fit(np.zeros((2, 1)), [0, 1])  # refused before the (too small) data is looked at
    assert setting.split("_")[0] in str(info.value) or setting == "callbacks"
    assert "\n" not in str(info.value)


def test_unknown_genome_fails_at_fit(iris):
    with pytest.raises(SearchSpaceError, match="unknown genome 'nope'"):
        Evolver(genome="nope").fit(*iris)


def test_missing_genome_file_fails_at_fit(tmp_path, iris):
    with pytest.raises(SearchSpaceError, match="not found"):
        Evolver(genome=tmp_path / "absent.toml").fit(*iris)


def test_valid_settings_are_kept(tiny):
    evolver = make(tiny, n_jobs=-1, crossover_rate=1, task="classification")
    assert (evolver.population_size, evolver.generations, evolver.cv) == (4, 1, 2)
    assert evolver.n_jobs == -1 and evolver.crossover_rate == 1
    assert evolver.task == "classification"


# ------------------------------------------------------------------------------------ callbacks


def test_plain_function_callback_gets_every_record(tiny, iris):
    calls: list[tuple[Evolver, GenerationRecord]] = []
    evolver = make(tiny, generations=2, callbacks=[lambda ev, rec: calls.append((ev, rec))])
    evolver.fit(*iris)
    assert [rec for _, rec in calls] == evolver.history_
    assert all(ev is evolver for ev, _ in calls)


class Recorder:
    def __init__(self, stop_at: int | None = None) -> None:
        self.stop_at = stop_at
        self.events: list[str] = []
        self.progress: list[tuple[int, int]] = []

    def on_run_start(self, evolver: Evolver) -> None:
        self.events.append("start")

    def on_evaluation_progress(self, done: int, total: int) -> None:
        self.progress.append((done, total))

    def on_generation_end(self, evolver: Evolver, record: GenerationRecord) -> bool:
        self.events.append(f"gen{record.generation}")
        return record.generation == self.stop_at

    def on_run_end(self, evolver: Evolver) -> None:
        self.events.append("end")


def test_callback_object_hooks_are_called_in_order(tiny, iris):
    recorder = Recorder()
    make(tiny, generations=2, cv=2, callbacks=[recorder]).fit(*iris)
    assert recorder.events == ["start", "gen0", "gen1", "gen2", "end"]
    assert recorder.progress[-1][0] == recorder.progress[-1][1]
    assert (0, 8) in recorder.progress and (8, 8) in recorder.progress


@pytest.mark.parametrize("stop_at", [0, 1])
def test_callback_returning_true_stops_the_run(tiny, iris, stop_at):
    recorder = Recorder(stop_at=stop_at)
    evolver = make(tiny, generations=3, callbacks=[recorder]).fit(*iris)
    assert len(evolver.history_) == stop_at + 1
    assert recorder.events[-2:] == [f"gen{stop_at}", "end"]
    assert evolver.predict(iris[0][:3]).shape == (3,)


# ------------------------------------------------------------------------------------ seeds


def test_same_seed_same_result_for_any_n_jobs(tiny, iris):
    serial = make(tiny, random_state=5, n_jobs=1).fit(*iris)
    parallel = make(tiny, random_state=5, n_jobs=2).fit(*iris)
    assert serial.archive_.to_dict() == parallel.archive_.to_dict()
    assert comparable(serial.history_) == comparable(parallel.history_)
    assert [g.canonical_hash() for g in serial.population_] == [
        g.canonical_hash() for g in parallel.population_
    ]


def test_different_seeds_differ(tiny, iris):
    a = make(tiny, random_state=5).fit(*iris)
    b = make(tiny, random_state=6).fit(*iris)
    assert a.archive_.to_dict() != b.archive_.to_dict()
    assert comparable(a.history_) != comparable(b.history_)


# ------------------------------------------------------------------------------------ run folder


def test_run_folder_holds_valid_json_files(tiny, iris, tmp_path):
    out = tmp_path / "run"
    evolver = make(tiny, generations=2, out=out).fit(*iris)
    assert {p.name for p in out.iterdir()} == RUN_FILES

    run = json.loads((out / "run.json").read_text())
    assert run["format_version"] == 4
    assert run["settings"]["population_size"] == 4
    assert run["settings"]["random_state"] == 0
    assert run["dataset"]["n_samples"] == 150 and run["dataset"]["task"] == "classification"
    assert SearchSpace.from_dict(run["search_space"]) == evolver.space_

    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    assert len(journal) == sum(r.evaluations for r in evolver.history_)
    for entry in journal:
        assert entry["format_version"] == 4
        assert {"genome", "fold_scores", "error", "genome_hash", "generation"} <= set(entry)
        genome = Genome.from_json(entry["genome"])
        assert genome.canonical_hash() == entry["genome_hash"]
        assert len(entry["fold_scores"]) == 2 and entry["error"] is None
    assert len({e["genome_hash"] for e in journal}) == len(journal)

    generations = [
        json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()
    ]
    assert [g["generation"] for g in generations] == [0, 1, 2]
    for line, record in zip(generations, evolver.history_, strict=True):
        assert line["format_version"] == 4
        assert len(line["population"]) == 4
        assert line["archive_size"] == record.archive_size
    final_hashes = [p["result"]["genome_hash"] for p in generations[-1]["population"]]
    assert final_hashes == [g.canonical_hash() for g in evolver.population_]

    archive = json.loads((out / "archive.json").read_text())
    assert archive["format_version"] == 4
    assert ParetoArchive.from_dict(archive).to_dict() == evolver.archive_.to_dict()

    checkpoint = json.loads((out / "checkpoint.json").read_text())
    assert checkpoint["format_version"] == 4
    assert checkpoint["generation"] == 2
    assert len(checkpoint["population"]) == 4
    assert isinstance(checkpoint["innovation_counter"], int)


def test_run_folder_may_be_an_existing_empty_folder(tiny, iris, tmp_path):
    make(tiny, out=tmp_path).fit(*iris)
    assert RUN_FILES <= {p.name for p in tmp_path.iterdir()}


def test_run_folder_that_cannot_be_created_is_a_run_folder_error(tiny, iris, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(RunFolderError, match="cannot create"):
        make(tiny, out=blocker / "run").fit(*iris)
    with pytest.raises(RunFolderError, match="already exists"):
        make(tiny, out=blocker).fit(*iris)
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_non_empty_run_folder_is_left_alone_for_a_numbered_sibling(tiny, iris, tmp_path):
    out = tmp_path / "run"
    assert make(tiny, out=out).fit(*iris).run_folder_ == out
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    before = snapshot(out)
    (tmp_path / "run-2").mkdir()
    (tmp_path / "run-2" / "other.txt").write_text("also mine", encoding="utf-8")
    evolver = make(tiny, random_state=9, out=out).fit(*iris)
    assert evolver.run_folder_ == tmp_path / "run-3"
    assert {p.name for p in evolver.run_folder_.iterdir()} == RUN_FILES
    assert snapshot(out) == before
    assert [p.name for p in (tmp_path / "run-2").iterdir()] == ["other.txt"]
