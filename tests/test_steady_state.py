"""The steady-state search: results taken in as they land, the journal's order replayed exactly.

Completion order depends on timing, so an asynchronous run is checked against its own journal:
taking the journalled results in again, in their order, from nothing (no checkpoint, no
archive) must give the same archive, populations and generator states. With ``n_jobs=1`` folds
train in submission order and the run is reproducible outright.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
from sklearn.datasets import load_iris

from clitools import (
    DIVERGING_TOML,
    TINY_TOML,
    evolve_and_kill,
    evolve_and_signal,
    evosearch,
    from_journal,
    journalled_once,
    lines,
    outcome,
)
from evosearch import Evolver
from evosearch.errors import SettingsError
from evosearch.search import check_settings

X, Y = load_iris(return_X_y=True)
SEARCH = {"population_size": 6, "generations": 3, "random_state": 4, "cv": 2}
RUN = ("--data", "iris", "--population", "6", "--generations", "3", "--seed", "4", "--cv", "2",
       "--quiet", "--steady-state")  # fmt: skip


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("steady")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    return folder


def scrambled(genome_hash: str, fold: int) -> None:
    """A fit_hook that makes training times differ by genome, so results land out of order."""
    import time

    time.sleep(int(genome_hash[:2], 16) / 255 * 0.3)


def test_in_process_run_is_reproducible_and_does_a_generational_runs_evaluations(workdir):
    first, second = workdir / "inline-1", workdir / "inline-2"
    for out in (first, second):
        evolver = Evolver(workdir / "tiny.toml", steady_state=True, n_jobs=1, out=out, **SEARCH)
        evolver.fit(X, Y)
    assert outcome(first) == outcome(second)
    hashes = journalled_once(first)
    # population x (generations + 1) evaluations, less those the cache served.
    made = sum(r.evaluations + r.cache_hits for r in evolver.history_)
    assert made == 6 * 4 and len(hashes) == sum(r.evaluations for r in evolver.history_)
    assert [r.generation for r in evolver.history_] == [0, 1, 2, 3]
    assert json.loads((first / "run.json").read_text())["steady_state"] == {"in_flight": 1}
    assert from_journal(first, workdir / "inline-replayed", X, Y) == outcome(first)
    # Children were bred from what had landed: generation >= 1 members have parents.
    archive = json.loads((first / "archive.json").read_text())
    assert len(evolver.population_) == 6 and archive["members"]


def test_asynchronous_run_is_exactly_its_journal_order(workdir):
    out = workdir / "async"
    Evolver(
        workdir / "tiny.toml", steady_state=True, n_jobs=2, fit_hook=scrambled, out=out, **SEARCH
    ).fit(X, Y)
    assert json.loads((out / "run.json").read_text())["steady_state"] == {"in_flight": 2}
    hashes = journalled_once(out)
    assert len(hashes) >= 20
    assert from_journal(out, workdir / "async-replayed", X, Y) == outcome(out)


@pytest.mark.slow  # the Dask variant (test_steady_state_dask.py) runs by default
def test_sigkill_then_resume_continues_from_the_journalled_order(workdir):
    args = ("--genome", "tiny.toml", *RUN, "--n-jobs", "2")
    killed = evolve_and_kill(args, workdir, "killed", generation=2, done=2)
    before = (killed / "journal.jsonl").read_text().splitlines()[:-1]  # last may be cut off
    generations_before = (killed / "generations.jsonl").read_text().splitlines()
    result = evosearch("resume", "killed", "--quiet", cwd=workdir)
    assert result.returncode == 0, result.stderr
    after = (killed / "journal.jsonl").read_text().splitlines()
    assert after[: len(before)] == before  # replayed, not trained again
    journalled_once(killed)
    assert len(lines(killed / "generations.jsonl")) == 4
    # The blocks written before the kill stand as they were.
    assert (killed / "generations.jsonl").read_text().splitlines()[: len(generations_before)] == (
        generations_before
    )
    assert from_journal(killed, workdir / "killed-replayed", X, Y) == outcome(killed)
    shown = evosearch("show", "killed", cwd=workdir).stdout
    assert "steady-state, 2 evaluations in flight" in shown


@pytest.mark.slow
def test_in_process_kill_and_resume_equals_the_uninterrupted_run(workdir):
    """With n_jobs=1 the order is the submission order: a resumed run is the same run."""
    args = ("--genome", "tiny.toml", *RUN, "--n-jobs", "1")
    result = evosearch("evolve", *args, "--out", "whole", cwd=workdir)
    assert result.returncode == 0, result.stderr
    killed = evolve_and_kill(args, workdir, "killed-inline", generation=1, done=3)
    result = evosearch("resume", "killed-inline", "--quiet", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert outcome(killed) == outcome(workdir / "whole")
    assert journalled_once(killed) == journalled_once(workdir / "whole")


@pytest.mark.slow
def test_sigterm_stops_cleanly_and_resume_finishes(workdir):
    args = ("--genome", "tiny.toml", *RUN, "--n-jobs", "2")
    stopped = evolve_and_signal(args, workdir, "stopped", 1, 2, signal.SIGTERM)
    assert stopped.returncode != 0
    assert "resume" in stopped.stderr
    result = evosearch("resume", "stopped", "--quiet", cwd=workdir)
    assert result.returncode == 0, result.stderr
    journalled_once(workdir / "stopped")
    assert from_journal(workdir / "stopped", workdir / "stopped-replayed", X, Y) == outcome(
        workdir / "stopped"
    )


def test_a_callback_stops_the_run_at_a_block_end(workdir):
    class StopAfterFirst:
        def on_generation_end(self, evolver: Any, record: Any) -> bool:
            return record.generation >= 1

    evolver = Evolver(
        workdir / "tiny.toml", steady_state=True, n_jobs=2, callbacks=[StopAfterFirst()], **SEARCH
    ).fit(X, Y)
    assert [r.generation for r in evolver.history_] == [0, 1]
    assert evolver.predict(X[:3]).shape == (3,)


def test_max_time_returns_the_best_model_found(workdir):
    evolver = Evolver(
        workdir / "tiny.toml", steady_state=True, n_jobs=2, max_time=4, population_size=6,
        generations=500, cv=2, random_state=1,
    ).fit(X, Y)  # fmt: skip
    assert evolver.deadline_reached_
    assert evolver.score(X, Y) > 0.3


def test_every_strategy_with_admit_runs_steady_state(workdir):
    for strategy in ("aging", "random"):
        evolver = Evolver(workdir / "tiny.toml", steady_state=True, n_jobs=1, strategy=strategy,
                          **SEARCH).fit(X, Y)  # fmt: skip
        assert len(evolver.history_) == 4 and len(evolver.population_) <= 6


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"in_flight": 4}, ("in_flight", "steady_state")),
        ({"steady_state": True, "in_flight": 0}, ("in_flight", ">= 1")),
    ],
)
def test_impossible_steady_state_settings_are_refused(params, words):
    with pytest.raises(SettingsError) as error:
        check_settings(params)
    for word in words:
        assert word in str(error.value)


def test_a_strategy_without_admit_is_refused():
    from evosearch.search.strategies import STRATEGIES, Generation, Strategy

    class Generational(Strategy):
        name = "generational-only-test"

        def next_generation(self, population: Any, breed: Any) -> Generation:
            return Generation(population, [])

    STRATEGIES.register(Generational)
    try:
        with pytest.raises(SettingsError, match="cannot run steady-state"):
            check_settings({"steady_state": True, "strategy": "generational-only-test"})
    finally:
        STRATEGIES.unregister("generational-only-test")


def test_screening_runs_as_a_rung_and_replays_its_journal(workdir):
    """A fidelity plan that screens: each child is screened (fold 0 at low fidelity) on the
    same workers and goes on to its full evaluation if it ranks in the better half."""
    args = ("--genome", "tiny.toml", *RUN, "--n-jobs", "2",
            "--fidelity", "rows=0.5,factor=2,min_rows=50")  # fmt: skip
    result = evosearch("evolve", *args, "--out", "screened", cwd=workdir)
    assert result.returncode == 0, result.stderr
    entries = lines(workdir / "screened" / "journal.jsonl")
    screened = [e["genome_hash"] for e in entries if e.get("fidelity") == 1]
    full = [e["genome_hash"] for e in entries if e.get("fidelity") is None]
    assert len(screened) == len(set(screened)) and len(full) == len(set(full))
    assert set(full) <= set(screened) and len(full) < len(screened)
    # Four blocks of six results taken in; a duplicate of a child failed at a rung is taken in
    # again without training (no line), as generational runs take in cache hits.
    assert len(lines(workdir / "screened" / "generations.jsonl")) == 4
    assert 0 < len(full) <= 6 * 4
    replayed = from_journal(workdir / "screened", workdir / "screened-replayed", X, Y)
    assert replayed == outcome(workdir / "screened")


def slow_for_some(genome_hash: str, fold: int) -> None:
    """A fit_hook that holds a quarter of the genomes past the time limit."""
    import time

    if int(genome_hash[:2], 16) < 64:
        time.sleep(30)


def test_limits_objectives_and_ensembles_work_as_in_generational_mode(workdir):
    out = workdir / "limits"
    evolver = Evolver(
        workdir / "tiny.toml", steady_state=True, n_jobs=2, eval_timeout=1, fit_hook=slow_for_some,
        objectives=("score", "params", "bytes"), ensemble=True, out=out,
        **{**SEARCH, "population_size": 5, "generations": 1},
    ).fit(X, Y)  # fmt: skip
    entries = lines(out / "journal.jsonl")
    timed_out = [e for e in entries if (e["error"] or "").startswith("TimeoutError")]
    assert timed_out and len(timed_out) < len(entries)
    assert all(int(e["genome_hash"][:2], 16) < 64 for e in timed_out)
    assert len(evolver.archive_.members[0].objectives) == 3
    assert evolver.ensemble_ is not None and (out / "ensemble.json").exists()
    journalled_once(out)


def test_halving_promotes_first_rungs_as_they_land_and_replays_its_journal(workdir):
    out = workdir / "halving"
    evolver = Evolver(
        workdir / "tiny.toml", steady_state=True, halving=True, n_jobs=2, fit_hook=scrambled,
        out=out, **{**SEARCH, "cv": 3},
    ).fit(X, Y)  # fmt: skip
    entries = lines(out / "journal.jsonl")
    first = [e["genome_hash"] for e in entries if e.get("folds") == [0]]
    complete = [e["genome_hash"] for e in entries if e.get("folds") is None]
    assert len(first) == len(set(first)) and len(complete) == len(set(complete))
    assert set(complete) <= set(first)  # every finished genome went through the first rung
    assert len(complete) < len(first)  # and some stopped there
    assert len(complete) == sum(r.evaluations for r in evolver.history_) <= 6 * 4
    assert len(evolver.history_) == 4  # four blocks of six results taken in
    assert from_journal(out, workdir / "halving-replayed", X, Y) == outcome(out)


def test_halving_in_process_resumes_to_the_uninterrupted_run(workdir):
    settings = {**SEARCH, "cv": 3, "steady_state": True, "halving": True, "n_jobs": 1}
    whole = Evolver(workdir / "tiny.toml", out=workdir / "halving-whole", **settings).fit(X, Y)

    def stop_after_first(evolver: Any, record: Any) -> bool:
        return record.generation >= 1

    Evolver(workdir / "tiny.toml", out=workdir / "halving-part", callbacks=[stop_after_first],
            **settings).fit(X, Y)  # fmt: skip
    resumed = Evolver.resume(workdir / "halving-part", X=X, y=Y)
    assert outcome(workdir / "halving-part") == outcome(workdir / "halving-whole")
    assert len(resumed.history_) == len(whole.history_) == 4


def test_screening_and_halving_in_process_resume_to_the_uninterrupted_run(workdir):
    settings = {**SEARCH, "cv": 3, "steady_state": True, "halving": True, "n_jobs": 1,
                "fidelity": "rows=0.5,factor=2,min_rows=50,folds=0"}  # fmt: skip
    Evolver(workdir / "tiny.toml", out=workdir / "rungs-whole", **settings).fit(X, Y)

    def stop_after_first(evolver: Any, record: Any) -> bool:
        return record.generation >= 1

    Evolver(workdir / "tiny.toml", out=workdir / "rungs-part", callbacks=[stop_after_first],
            **settings).fit(X, Y)  # fmt: skip
    Evolver.resume(workdir / "rungs-part", X=X, y=Y)
    assert outcome(workdir / "rungs-part") == outcome(workdir / "rungs-whole")
    kinds = {(e.get("fidelity"), tuple(e.get("folds") or ())) for e in
             lines(workdir / "rungs-whole" / "journal.jsonl")}  # fmt: skip
    assert kinds == {(1, ()), (None, (0,)), (None, ())}  # screened, first fold, full


def test_a_space_where_everything_fails_ends_with_one_line_even_with_rungs(workdir):
    (workdir / "diverging.toml").write_text(DIVERGING_TOML, encoding="utf-8")
    result = evosearch(
        "evolve", "--genome", "diverging.toml", "--data", "iris", "--population", "4",
        "--generations", "1", "--cv", "2", "--steady-state", "--halving", "--n-jobs", "1",
        "--fidelity", "rows=0.5,factor=2,min_rows=50,folds=0", "--quiet", "--out", "failing",
        cwd=workdir,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "failed" in result.stderr
    assert len(lines(workdir / "failing" / "generations.jsonl")) == 2  # both blocks ended
