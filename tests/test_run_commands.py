"""show, export and replay on real run folders, through the real command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_wine

from clitools import TINY_TOML, assert_clean, assert_usage_error, evosearch, snapshot
from evosearch.runs.folder import load_run
from evosearch.runs.members import generation_members
from evosearch.search import reevaluate

RUN = ("--data", "wine", "--population", "6", "--n-jobs", "2", "--quiet", "--no-inherit-weights")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("commands")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    result = evosearch(
        "evolve", "--genome", "tiny.toml", *RUN, "--generations", "3", "--out", "run", cwd=folder
    )
    assert result.returncode == 0, result.stderr
    return folder


def test_show_prints_settings_progress_archive_and_best_genome(workdir):
    before = snapshot(workdir / "run")
    result = evosearch("show", "run", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert_clean(result)
    out = result.stdout
    assert "wine (classification, 178 rows x 13 features)" in out
    assert "population 6, 3-fold CV, seed 0" in out
    assert "generation 3 of 3 (finished)" in out
    archive = json.loads((workdir / "run" / "archive.json").read_text())
    assert f"Pareto archive ({len(archive['members'])} members)" in out
    assert "input    13 features" in out and "output   3 units" in out
    assert "training: optimizer=" in out
    assert "exports" not in out and "models/" not in out  # nothing exported yet
    assert snapshot(workdir / "run") == before  # reading never writes


def test_export_loads_in_a_fresh_process_and_predicts(workdir):
    result = evosearch("export", "run", "--best", "--out", "exported", cwd=workdir)
    assert result.returncode == 0, result.stderr
    metadata = json.loads((workdir / "exported" / "model.json").read_text())
    genome = json.loads((workdir / "exported" / "genome.json").read_text())
    assert genome["format_version"] == 1
    archive = json.loads((workdir / "run" / "archive.json").read_text())
    best = max(archive["members"], key=lambda m: (m["objectives"][0], -m["objectives"][1]))
    assert metadata["genome_hash"] == best["genome_hash"]
    assert metadata["cv_score"] == best["objectives"][0]

    # A plain script in a fresh interpreter: raw features in, labels out.
    script = (
        "import joblib, json, sys\n"
        "from sklearn.datasets import load_wine\n"
        "X, y = load_wine(return_X_y=True)\n"
        "model = joblib.load(sys.argv[1])\n"
        "print(json.dumps({'accuracy': float((model.predict(X) == y).mean()),"
        " 'first': model.predict(X[:5]).tolist()}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(workdir / "exported" / "model.joblib")],
        capture_output=True,
        text=True,
        check=True,
    )
    scored = json.loads(done.stdout)
    # Refit on all rows, it does at least about as well on them as it cross-validated.
    assert scored["accuracy"] >= metadata["cv_score"] - 0.05
    _, y = load_wine(return_X_y=True)
    assert set(scored["first"]) <= set(np.unique(y).tolist())


def test_export_member_by_index_and_refuses_bad_requests(workdir):
    result = evosearch("export", "run", "--member", "0", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert (workdir / "run" / "models" / "member-0" / "model.joblib").is_file()
    model = json.loads((workdir / "run" / "models" / "member-0" / "model.json").read_text())
    damaged = workdir / "run" / "models" / "damaged"
    damaged.mkdir()
    (damaged / "model.json").write_text('{"format": "joblib", ', encoding="utf-8")
    shown = evosearch("show", "run", cwd=workdir)
    assert shown.returncode == 0, shown.stderr
    assert_clean(shown)
    assert (
        f"  models/member-0  joblib, member 0, genome {model['genome_hash']}, "
        f"CV accuracy {model['cv_score']:.4f}"
    ) in shown.stdout
    assert "  models/damaged  model.json is unreadable (JSONDecodeError)" in shown.stdout
    assert "Pareto archive (" in shown.stdout  # the rest of show is still there
    for path in damaged.iterdir():
        path.unlink()
    damaged.rmdir()
    assert_usage_error(evosearch("export", "run", "--member", "99", cwd=workdir), "out of range")
    again = evosearch("export", "run", "--member", "0", cwd=workdir)
    assert_usage_error(again, "already exists")
    assert_usage_error(evosearch("export", "nowhere", cwd=workdir), "not found")


def test_replay_reevaluation_reproduces_recorded_objectives(workdir):
    record = load_run(workdir / "run")
    members = generation_members(record, 2)
    fresh = reevaluate(record, [m.trained for m in members], n_jobs=2)
    assert [f.fold_scores for f in fresh] == [m.recorded.fold_scores for m in members]
    assert [(f.score, f.n_params) for f in fresh] == [
        (m.recorded.score, m.recorded.n_params) for m in members
    ]

    result = evosearch("replay", "run", "--generation", "2", "--evaluate", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert f"{len(members)} of {len(members)} members reproduce their recorded score" in (
        result.stdout
    )


@pytest.mark.slow
def test_replay_continue_to_a_new_run_records_its_parent(workdir):
    result = evosearch(
        "replay", "run", "--generation", "1", "--continue-to", "branch",
        "--generations", "2", "--population", "4", "--seed", "7", "--quiet", cwd=workdir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    info = json.loads((workdir / "branch" / "run.json").read_text())
    assert info["parent"] == {"run": str((workdir / "run").resolve()), "generation": 1}
    assert info["settings"]["population_size"] == 4 and info["settings"]["random_state"] == 7
    parents = {m.recorded.genome_hash for m in generation_members(load_run(workdir / "run"), 1)}
    first = json.loads((workdir / "branch" / "generations.jsonl").read_text().splitlines()[0])
    journal = [
        json.loads(x) for x in (workdir / "branch" / "journal.jsonl").read_text().splitlines()
    ]
    started_from = {e["genome_hash"] for e in journal if e["generation"] == 0}
    # Wine keeps its width, so the parent generation's genomes start the branch unchanged.
    assert started_from <= parents and len(started_from) == 4
    assert len(first["population"]) == 4
    # The branch resumes like any run.
    assert evosearch("resume", "branch", cwd=workdir).returncode == 0


def test_replay_of_a_missing_generation_is_one_clear_line(workdir):
    assert_usage_error(
        evosearch("replay", "run", "--generation", "9", cwd=workdir), "--generation 9", "0 to 3"
    )
