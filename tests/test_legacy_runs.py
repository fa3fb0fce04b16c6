"""Run folders written by evosearch 0.1.0 (before the plug-in redesign) keep working.

``tests/data/legacy/`` holds two small runs made with the code of commit 52b7b31, the last one
before the package was reorganised: iris (classification, weight inheritance) and diabetes
(regression, successive halving), each 2 generations of 4 genomes from a tiny search space.
``iris-holdout-v1`` is a run of the last format-1 code (holdout, a scorer, three objectives).
They must load, show, replay, report, export, and resume to exactly the archive and history a
fresh run of the current code reaches with the same settings (read back through
:func:`load_run`: the resumed folder keeps its format-1 lines and appends current ones).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import joblib
import pytest
from sklearn.datasets import load_diabetes, load_iris

from clitools import evosearch
from evosearch import Evolver, SearchSpace, load_run
from evosearch.runs.folder import FORMAT_VERSION

LEGACY = Path(__file__).parent / "data" / "legacy"
RUNS = {"iris-0.1.0": load_iris, "diabetes-0.1.0": load_diabetes, "iris-holdout-v1": load_iris}


# The diabetes run is the iris case again for reading back, and resuming it adds regression and
# halving to what test_resume.py covers: in the slow run only (make test-all).
@pytest.fixture(
    params=[
        "iris-0.1.0",
        pytest.param("diabetes-0.1.0", marks=pytest.mark.slow),
        # Migrated by the same steps as iris-0.1.0 from its format on: the slow run covers it.
        pytest.param("iris-holdout-v1", marks=pytest.mark.slow),
    ]
)
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


def _to_rounding(value):
    """``value`` with every float as ``pytest.approx`` (relative 1e-5), for comparing runs
    whose scores came from another numpy: its BLAS sums in another order, so a regression's
    R² differs in the 8th digit (7e-8 with numpy 2.4; up to 1.5e-6 relative once networks
    trained on from those weights), while an accuracy is exact. Genomes must still match."""
    if isinstance(value, dict):
        return {k: _to_rounding(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_rounding(v) for v in value]
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-5, abs=1e-12)
    return value


def _file_versions(path: Path) -> list:
    return [json.loads(line)["format_version"] for line in path.read_text().splitlines()]


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
    # iris-holdout-v1: replay scores the search rows only (the replay of the code that wrote it
    # scored every row, so this needs the settings-table replay).
    replayed = evosearch("replay", str(legacy_run), "--generation", "0", "--evaluate", cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr
    exact = "4 of 4 members reproduce their recorded score exactly" in replayed.stdout
    # Under another numpy than the one that wrote the run, a regression's scores come back to
    # rounding (see _to_rounding); anything larger is a replay that trains differently.
    found = re.search(r"largest difference ([0-9.e+-]+)", replayed.stdout)
    assert exact or (found is not None and float(found.group(1)) < 1e-6), replayed.stdout


def test_legacy_run_resumes_to_what_a_fresh_run_reaches(legacy_run, tmp_path):
    resumed = evosearch(
        "resume", str(legacy_run), "--generations", "3", "--n-jobs", "1", cwd=tmp_path
    )
    assert resumed.returncode == 0, resumed.stderr

    # The old lines stay as they were; the resume appended current-format ones.
    old = len((LEGACY / legacy_run.name / "journal.jsonl").read_text().splitlines())
    versions = _file_versions(legacy_run / "journal.jsonl")
    assert versions[:old] == [1] * old and set(versions[old:]) == {FORMAT_VERSION}
    assert json.loads((legacy_run / "run.json").read_text())["format_version"] == FORMAT_VERSION

    resumed_run = load_run(legacy_run)
    settings = resumed_run.info["settings"]  # every setting, the format-1 ones filled in
    X, y = RUNS[legacy_run.name](return_X_y=True)
    Evolver(
        genome=SearchSpace.from_dict(resumed_run.info["search_space"]),
        population_size=settings["population_size"],
        generations=3,
        cv=settings["cv"],
        n_jobs=1,
        random_state=settings["random_state"],
        halving=settings["halving"],
        inherit_weights=settings["inherit_weights"],
        holdout=settings["holdout"],
        scoring=settings["scoring"],
        objectives=settings["objectives"],
        focus=settings["focus"],  # "front": what runs before the setting searched with
        scale_target=settings["scale_target"],  # False: the raw target, R² clipped at -1
        out=tmp_path / "fresh",
    ).fit(X, y)

    fresh = tmp_path / "fresh"
    for name in ("archive.json", "checkpoint.json"):  # rewritten whole by the resume
        assert _without_timings(json.loads((legacy_run / name).read_text())) == _to_rounding(
            _without_timings(json.loads((fresh / name).read_text()))
        ), name
    fresh_run = load_run(fresh)
    fresh_generations = _to_rounding(_without_timings(fresh_run.generations))
    assert _without_timings(resumed_run.generations) == fresh_generations

    def coarse(value):  # the sort key: floats to 4 digits, so rounding cannot reorder lines
        if isinstance(value, dict):
            return {k: coarse(v) for k, v in value.items()}
        if isinstance(value, list):
            return [coarse(v) for v in value]
        return round(value, 4) if isinstance(value, float) else value

    def by_key(lines: list) -> list:
        lines = _without_timings(lines)
        return sorted(lines, key=lambda line: json.dumps(coarse(line), sort_keys=True))

    assert by_key(resumed_run.journal) == _to_rounding(by_key(fresh_run.journal))
