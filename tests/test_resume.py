"""Resume: a run killed at any moment continues to the result of an uninterrupted run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris

from clitools import (
    TINY_TOML,
    assert_clean,
    assert_usage_error,
    evolve_and_kill,
    evosearch,
    lines,
    outcome,
    snapshot,
)
from evosearch import Evolver
from evosearch.errors import RunFolderError
from evosearch.runs.folder import load_run
from evosearch.runs.lock import LOCK_FILE

RUN = ("--data", "iris", "--population", "8", "--n-jobs", "2", "--seed", "3", "--quiet")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("resume")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def reference(workdir: Path) -> Path:
    """An uninterrupted 5-generation run."""
    result = evosearch(
        "evolve", "--genome", "tiny.toml", *RUN, "--generations", "5", "--out", "full", cwd=workdir
    )
    assert result.returncode == 0, result.stderr
    return workdir / "full"


def start_and_kill(workdir: Path, out: str, generation: int, finished_in_it: int) -> Path:
    """Start a real `evosearch evolve`, SIGKILL it once `generation` has journalled some work."""
    args = ("--genome", "tiny.toml", *RUN, "--generations", "5")
    return evolve_and_kill(args, workdir, out, generation, finished_in_it)


def test_sigkill_mid_generation_then_resume_equals_uninterrupted(workdir, reference):
    killed = start_and_kill(workdir, "killed", generation=3, finished_in_it=2)
    checkpoint = json.loads((killed / "checkpoint.json").read_text())
    assert checkpoint["generation"] < 3  # really killed inside generation 3
    journalled = len((killed / "journal.jsonl").read_text().splitlines())
    # SIGKILL left the write lock's file behind; its lock died with the process.
    holder = json.loads((killed / LOCK_FILE).read_text())

    result = evosearch("resume", "killed", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert_clean(result)
    assert "resuming" in result.stdout
    assert holder["command"] == "evolve" and not (killed / LOCK_FILE).exists()  # taken over

    assert outcome(killed) == outcome(reference)
    # Nothing journalled was trained again: the journal holds each evaluation exactly once,
    # and as many as the uninterrupted run made.
    hashes = [r["genome_hash"] for r in lines(killed / "journal.jsonl")]
    assert len(hashes) == len(set(hashes))
    assert sorted(hashes) == sorted(r["genome_hash"] for r in lines(reference / "journal.jsonl"))
    assert len(hashes) >= journalled
    # The kept weights too: an export continues the same CV network into the same model.
    assert sorted(p.name for p in (killed / "weights").iterdir()) == sorted(
        p.name for p in (reference / "weights").iterdir()
    )
    models = []
    for run in ("killed", "full"):
        result = evosearch("export", run, "--out", f"{run}-model", cwd=workdir)
        assert result.returncode == 0, result.stderr
        model = workdir / f"{run}-model"
        models.append(joblib.load(model / "model.joblib").predict_proba(load_iris().data))
        assert json.loads((model / "model.json").read_text())["refit_start_fold"] in (0, 1, 2)
    np.testing.assert_array_equal(models[0], models[1])


@pytest.mark.slow
def test_resume_trains_only_what_was_not_journalled(workdir, reference):
    killed = start_and_kill(workdir, "counted", generation=2, finished_in_it=3)
    before = {r["genome_hash"] for r in lines(killed / "journal.jsonl")}
    trained: list[str] = []

    class Spy:
        def on_generation_end(self, evolver, record):
            trained.append(record.evaluations)

    evolver = Evolver.resume(killed, callbacks=[Spy()])
    after = [r["genome_hash"] for r in lines(killed / "journal.jsonl")]
    new = after[len(before) :]
    assert not set(new) & before
    assert len(after) == len(lines(reference / "journal.jsonl"))
    assert [r.evaluations for r in evolver.history_] == [
        r["evaluations"] for r in lines(reference / "generations.jsonl")
    ]
    assert trained  # the resumed generations ran


def test_resume_of_a_finished_run_says_so_and_touches_nothing(workdir, reference):
    copy = workdir / "finished"
    shutil.copytree(reference, copy)
    before = snapshot(copy)
    result = evosearch("resume", "finished", cwd=workdir)
    assert result.returncode == 0
    assert "already finished" in result.stdout
    assert snapshot(copy) == before


# Slow (9 s): tests/test_legacy_runs.py and test_stops.py extend finished runs with
# --generations and compare them with a longer fresh run in the fast suite too.
@pytest.mark.slow
def test_resume_extends_a_finished_run_to_what_a_longer_run_reaches(workdir, reference):
    copy = workdir / "finished-extended"
    shutil.copytree(reference, copy)
    longer = evosearch(
        "evolve", "--genome", "tiny.toml", *RUN, "--generations", "6", "--out", "six", cwd=workdir
    )
    assert longer.returncode == 0, longer.stderr
    extended = evosearch("resume", "finished-extended", "--generations", "6", cwd=workdir)
    assert extended.returncode == 0, extended.stderr
    assert outcome(copy) == outcome(workdir / "six")
    assert json.loads((copy / "run.json").read_text())["settings"]["generations"] == 6


def test_truncated_last_journal_line_is_tolerated(workdir, reference):
    copy = workdir / "truncated"
    shutil.copytree(reference, copy)
    journal = copy / "journal.jsonl"
    text = journal.read_text()
    journal.write_text(text + text.splitlines()[0][:40])  # a kill in the middle of a write
    record = load_run(copy)
    assert record.journal_truncated
    assert len(record.journal) == len(text.splitlines())


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda f: (f / "run.json").unlink(), ["run.json", "missing"]),
        (lambda f: (f / "run.json").write_text("{not json"), ["run.json", "not valid JSON"]),
        (
            lambda f: (f / "archive.json").write_text(
                (f / "archive.json")
                .read_text()
                .replace('"format_version": 4', '"format_version": 9')
            ),
            ["archive.json", "format version"],
        ),
        (
            lambda f: (f / "journal.jsonl").write_text(
                "garbage\n" + (f / "journal.jsonl").read_text()
            ),
            ["journal.jsonl:1", "not valid JSON"],
        ),
    ],
)
def test_corrupt_run_folder_is_refused_and_left_untouched(workdir, reference, damage, words):
    copy = workdir / f"corrupt-{words[0]}-{len(words[1])}"
    shutil.copytree(reference, copy)
    damage(copy)
    before = snapshot(copy)
    result = evosearch("resume", copy.name, "--generations", "7", cwd=workdir)
    assert_usage_error(result, *words)
    assert snapshot(copy) == before


def test_journal_from_another_run_is_refused(workdir, reference, tmp_path):
    X, y = load_iris(return_X_y=True)
    other = tmp_path / "other"
    Evolver(genome=workdir / "tiny.toml", population_size=4, generations=1, n_jobs=1,
            out=other).fit(X[:, :3], y)  # fmt: skip
    copy = workdir / "mixed"
    shutil.copytree(reference, copy)
    shutil.copy(other / "journal.jsonl", copy / "journal.jsonl")
    with pytest.raises(RunFolderError, match=r"journal.jsonl:1: .*another run"):
        load_run(copy)


def test_api_resume_of_in_memory_data_needs_the_arrays(workdir, tmp_path):
    X, y = load_iris(return_X_y=True)
    folder = tmp_path / "api"
    settings = dict(genome=workdir / "tiny.toml", population_size=4, n_jobs=1, random_state=1)
    Evolver(**settings, generations=1, out=folder).fit(X, y)
    with pytest.raises(RunFolderError, match="pass X and y"):
        Evolver.resume(folder, generations=2)
    with pytest.raises(RunFolderError, match="differs"):
        Evolver.resume(folder, generations=2, X=X[::-1], y=y[::-1])
    resumed = Evolver.resume(folder, generations=2, X=X, y=y)
    straight = Evolver(**settings, generations=2).fit(X, y)
    assert resumed.archive_.to_dict() == straight.archive_.to_dict()
    assert len(resumed.history_) == 3
    assert resumed.score(X, y) == straight.score(X, y)


def test_same_seed_same_files_for_one_or_two_workers(workdir, reference):
    """archive.json and generations.jsonl match for --n-jobs 1, --n-jobs 2 and after a resume
    (the resume half is test_sigkill_mid_generation_then_resume_equals_uninterrupted)."""
    args = [a if a != "2" else "1" for a in RUN]  # --n-jobs 1, everything else the same
    result = evosearch(
        "evolve", "--genome", "tiny.toml", *args, "--generations", "5", "--out", "serial",
        cwd=workdir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert outcome(workdir / "serial") == outcome(reference)
