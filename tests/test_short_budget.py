"""Every budget returns a model: a ``max_time`` shorter than the initial population's training
gives the best of the models that finished, with a warning, and the run folder still resumes
exactly."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

from evosearch import Evolver, Genome
from evosearch.errors import BudgetWarning, EvosearchError
from evosearch.search import ArchiveEntry, ParetoArchive
from evosearch.testing._tiny import tiny_toml

X, Y = load_iris(return_X_y=True)


class HangAfter:
    """A picklable fit_hook: the first ``fast`` fold fits of the run train as usual, every
    later one hangs, so only the genomes dispatched first can finish before a deadline."""

    def __init__(self, log: Path, fast: int) -> None:
        self.log, self.fast = log, fast

    def __call__(self, genome_hash: str, fold: int) -> None:
        with open(self.log, "a", encoding="utf-8") as log:  # one line a fit, from any worker
            log.write(f"{genome_hash} {fold}\n")
        if len(self.log.read_text(encoding="utf-8").splitlines()) > self.fast:
            time.sleep(120)


def _evolver(tmp_path: Path, **settings) -> Evolver:
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_toml(max_epochs=(5,)), encoding="utf-8")
    options = dict(population_size=8, generations=1, cv=2, n_jobs=2, random_state=0)
    return Evolver(genome=path, **{**options, **settings})


def test_a_budget_shorter_than_the_initial_population_returns_the_best_finished(tmp_path):
    # Folds go out genome by genome (cheapest first): the first four fits are two genomes'.
    evolver = _evolver(tmp_path, max_time=6, fit_hook=HangAfter(tmp_path / "fits", 4))
    with pytest.warns(BudgetWarning, match="ran out during the initial population"):
        evolver.fit(X, Y)
    assert evolver.deadline_reached_ and evolver.history_ == []
    finished = evolver.population_
    assert 0 < len(finished) < 8
    assert len(evolver.cv_results_["genome_hash"]) == len(finished)
    best = max(evolver.archive_, key=lambda entry: entry.objectives[0])
    assert evolver.best_genome_.canonical_hash() == best.genome_hash
    assert evolver.predict(X[:5]).shape == (5,)
    assert np.isfinite(evolver.score(X, Y))
    # What the command line prints after such a run (evolve and resume).
    from rich.console import Console

    from evosearch.cli._output import deadline_note

    console = Console(file=io.StringIO(), width=300)
    deadline_note(console, evolver, Path("runs/x"))
    note = console.file.getvalue()
    assert "during the initial population" in note and "evosearch resume runs/x" in note


def test_a_generation_cut_by_the_deadline_keeps_the_models_it_finished(tmp_path):
    """Generation 0 trains (16 fits), then generation 1's first genome (2 more), then every
    fit hangs: the deadline cuts generation 1, whose finished model is offered to the archive
    and listed in cv_results_; the checkpoint stays generation 0's and a resume ends where an
    uninterrupted run does."""
    log = tmp_path / "fits"
    folder = tmp_path / "run"
    options = dict(generations=2, n_jobs=1, out=folder)
    evolver = _evolver(tmp_path, **options, max_time=8, fit_hook=HangAfter(log, 18))
    evolver.fit(X, Y)
    assert evolver.deadline_reached_ and len(evolver.history_) == 1
    results = evolver.cv_results_
    cut = [h for h, g in zip(results["genome_hash"], results["generation"], strict=True) if g == 1]
    trained = {line.split()[0] for line in log.read_text().splitlines()}
    assert len(cut) == 1 and set(cut) <= trained
    (model,) = cut
    row = list(results["genome_hash"]).index(model)
    vector = tuple(results[f"objective_{name}"][row] for name in evolver.objectives_)
    archive = evolver.archive_
    # Offered to the archive: offering it again changes nothing (in it, or dominated).
    again = ParetoArchive.from_dict(archive.to_dict())
    assert again.update([ArchiveEntry({}, model, vector)]) == 0
    assert (
        json.loads((folder / "archive.json").read_text())["members"] == archive.to_dict()["members"]
    )
    assert json.loads((folder / "checkpoint.json").read_text())["generation"] == 0
    resumed = Evolver.resume(folder, X=X, y=Y)
    straight = _evolver(tmp_path, generations=2, n_jobs=1).fit(X, Y)
    assert resumed.archive_.to_dict() == straight.archive_.to_dict()


# 10 s of a timed CLI run: in the slow run (make test-all).
@pytest.mark.slow
def test_the_initial_population_trains_its_cheapest_genomes_first(tmp_path):
    log = tmp_path / "fits"
    evolver = _evolver(tmp_path, max_time=6, n_jobs=1, fit_hook=HangAfter(log, 6))
    with pytest.warns(BudgetWarning):
        evolver.fit(X, Y)
    genomes = [Genome.from_json(g) for g in _initial_population(tmp_path)]
    cost = {g.canonical_hash(): g.n_params() * g.hyperparameters["max_epochs"] for g in genomes}
    trained = {line.split()[0] for line in log.read_text().splitlines()}
    finished = {g.canonical_hash() for g in evolver.population_}
    assert len(finished) == 3 and finished <= trained
    # Whatever the order in which they were drawn, none left out was cheaper.
    assert max(cost[h] for h in finished) <= min(cost[h] for h in cost if h not in finished)


def _initial_population(tmp_path: Path) -> list[dict]:
    """The initial population of the run ``_evolver`` makes, drawn by a run that finishes."""
    _evolver(tmp_path, generations=1, out=tmp_path / "whole").fit(X, Y)
    lines = (tmp_path / "whole" / "journal.jsonl").read_text().splitlines()
    return [json.loads(line)["genome"] for line in lines if json.loads(line)["generation"] == 0]


def test_no_model_in_time_is_one_line_without_a_folder_to_resume(tmp_path):
    evolver = _evolver(tmp_path, max_time=4, fit_hook=HangAfter(tmp_path / "fits", 0))
    with pytest.raises(EvosearchError, match=r"no model yet \(give a larger max_time\)"):
        evolver.fit(X, Y)


@pytest.mark.slow
def test_a_run_stopped_in_generation_0_resumes_to_the_uninterrupted_archive(tmp_path):
    with pytest.warns(BudgetWarning, match="resume"):
        hook = HangAfter(tmp_path / "fits", 4)
        _evolver(tmp_path, max_time=10, fit_hook=hook, out=tmp_path / "cut").fit(X, Y)
    resumed = Evolver.resume(tmp_path / "cut", X=X, y=Y)
    whole = _evolver(tmp_path).fit(X, Y)
    assert resumed.archive_.to_dict() == whole.archive_.to_dict()
