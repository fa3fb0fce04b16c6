"""Run folders written by evosearch 0.1.0 (before the plug-in redesign) keep working.

``tests/data/legacy/`` holds two small runs made with the code of commit 52b7b31, the last one
before the package was reorganised: iris (classification, weight inheritance) and diabetes
(regression, successive halving), each 2 generations of 4 genomes from a tiny search space.
They must load, show, replay, report, export, and resume to exactly the archive and history a
fresh run of the current code reaches with the same settings.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import joblib
import pytest
from sklearn.datasets import load_diabetes, load_iris

from clitools import evosearch
from evosearch import Evolver, SearchSpace, load_run

LEGACY = Path(__file__).parent / "data" / "legacy"
RUNS = {"iris-0.1.0": load_iris, "diabetes-0.1.0": load_diabetes}


# The diabetes run is the iris case again for reading back, and resuming it adds regression and
# halving to what test_resume.py covers: in the slow run only (make test-all).
@pytest.fixture(params=["iris-0.1.0", pytest.param("diabetes-0.1.0", marks=pytest.mark.slow)])
def legacy_run(request, tmp_path) -> Path:
    """A writable copy of one legacy run folder."""
    return Path(shutil.copytree(LEGACY / request.param, tmp_path / request.param))


def _without_timings(value):
    if isinstance(value, dict):
        return {
            k: _without_timings(v)
            for k, v in value.items()
            if k not in ("seconds", "started", "peak_memory_mb")
        }
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _lines(path: Path) -> list:
    return [_without_timings(json.loads(line)) for line in path.read_text().splitlines()]


def test_legacy_run_loads_shows_reports_and_exports(legacy_run, tmp_path):
    record = load_run(legacy_run)
    assert record.checkpoint is not None and record.checkpoint["generation"] == 2

    shown = evosearch("show", str(legacy_run), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "archive" in shown.stdout.lower()

    report = evosearch("report", str(legacy_run), "--out", str(tmp_path / "report"), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "report" / "report.html").stat().st_size > 1000
    assert (tmp_path / "report" / "pareto.png").is_file()

    exported = evosearch(
        "export", str(legacy_run), "--best", "--out", str(tmp_path / "model"), cwd=tmp_path
    )
    assert exported.returncode == 0, exported.stderr
    model = joblib.load(tmp_path / "model" / "model.joblib")
    X, _ = RUNS[legacy_run.name](return_X_y=True)
    assert model.predict(X[:5]).shape == (5,)


def test_legacy_run_replays_its_first_generation_exactly(legacy_run, tmp_path):
    replayed = evosearch("replay", str(legacy_run), "--generation", "0", "--evaluate", cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr
    assert "4 of 4 members reproduce their recorded score exactly" in replayed.stdout


def test_legacy_run_resumes_to_what_a_fresh_run_reaches(legacy_run, tmp_path):
    resumed = evosearch(
        "resume", str(legacy_run), "--generations", "3", "--n-jobs", "1", cwd=tmp_path
    )
    assert resumed.returncode == 0, resumed.stderr

    info = json.loads((legacy_run / "run.json").read_text())
    settings = info["settings"]
    X, y = RUNS[legacy_run.name](return_X_y=True)
    Evolver(
        genome=SearchSpace.from_dict(info["search_space"]),
        population_size=settings["population_size"],
        generations=3,
        cv=settings["cv"],
        n_jobs=1,
        random_state=settings["random_state"],
        halving=settings["halving"],
        inherit_weights=settings["inherit_weights"],
        out=tmp_path / "fresh",
    ).fit(X, y)

    fresh = tmp_path / "fresh"
    for name in ("archive.json", "checkpoint.json"):
        assert _without_timings(json.loads((legacy_run / name).read_text())) == _without_timings(
            json.loads((fresh / name).read_text())
        ), name
    assert _lines(legacy_run / "generations.jsonl") == _lines(fresh / "generations.jsonl")
    by_key = sorted(_lines(legacy_run / "journal.jsonl"), key=json.dumps)
    assert by_key == sorted(_lines(fresh / "journal.jsonl"), key=json.dumps)
