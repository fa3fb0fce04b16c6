"""Older run folders are read through evosearch.runs.migrations: one step a format version.

Each step turns a file of its version into the next one, filling what the older runs lacked
with the values they had; ``load_run`` hands out current-format data only, never rewrites the
old files, and refuses a version it does not know in one line naming the file.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from clitools import evosearch
from evosearch import load_run
from evosearch.errors import RunFolderError
from evosearch.runs.folder import FORMAT_VERSION
from evosearch.runs.migrations import (
    KINDS,
    OLDEST_VERSION,
    RUN_SETTINGS,
    STEPS,
    migrate,
    migrate_archive,
    migrate_checkpoint,
    migrate_generation,
    migrate_journal_line,
    migrate_run_info,
)

LEGACY = Path(__file__).parent / "data" / "legacy"
FOLDERS = ["iris-0.1.0", "diabetes-0.1.0", "iris-holdout-v1"]

#: run.json of a format-1 run that recorded only what every such run did.
V1_RUN = {
    "format_version": 1,
    "settings": {
        "genome": "tiny.toml",
        "population_size": 4,
        "generations": 2,
        "cv": 3,
        "n_jobs": 1,
        "random_state": 5,
        "crossover_rate": 0.5,
        "task": "auto",
    },
    "objectives": [{"name": "score", "weight": 1.0}, {"name": "n_params", "weight": -1.0}],
    "search_space": {"name": "tiny"},
    "dataset": {
        "name": "iris",
        "source": "iris",
        "task": "classification",
        "n_samples": 150,
        "n_features": 4,
        "target": "species",
        "fingerprint": "3eeaea3b",
    },
}


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_format_version_is_one_past_the_last_step():
    assert FORMAT_VERSION == 4 == OLDEST_VERSION + len(STEPS)
    assert [step.source for step in STEPS] == list(range(OLDEST_VERSION, FORMAT_VERSION))
    for step in STEPS:
        for kind in KINDS:
            assert callable(step.of(kind))


def test_v1_run_info_gets_every_setting_with_the_values_v1_runs_had():
    original = copy.deepcopy(V1_RUN)
    info = migrate_run_info(V1_RUN)
    assert V1_RUN == original  # a new dict: the data read is not changed
    assert info["format_version"] == 4
    settings = info["settings"]
    assert set(RUN_SETTINGS) <= set(settings)
    assert {key: settings[key] for key in RUN_SETTINGS if key not in V1_RUN["settings"]} == {
        "eval_timeout": 300.0,
        "max_memory": None,
        "max_params": None,
        "max_bytes": None,
        "holdout": None,
        "backend": "local",
        "scheduler": None,
        "strategy": "nsga2",
        "halving": False,
        "inherit_weights": False,
        "objectives": ["score", "params"],
        "scoring": None,
        "input_shape": None,
        "fidelity": "off",
        "focus": "front",
        "scale_target": False,
    }
    assert info["objectives"] == [
        {"name": "score", "weight": 1.0},
        {"name": "params", "weight": -1.0},
    ]
    assert "scoring_callable" not in settings


def test_v2_run_info_gets_the_focus_every_run_before_it_searched_with():
    v2 = migrate_run_info(V1_RUN)
    del v2["settings"]["focus"]
    v2["format_version"] = 2
    info = migrate_run_info(v2)
    assert info["format_version"] == 4
    assert info["settings"]["focus"] == "front"
    assert v2["settings"].get("focus") is None  # the data read is not changed
    kept = migrate_run_info({**v2, "settings": {**v2["settings"], "focus": "accuracy"}})
    assert kept["settings"]["focus"] == "accuracy"


@pytest.mark.slow
def test_a_v2_run_folder_resumes_as_the_front_search_it_was(tmp_path):
    out = tmp_path / "run"
    evosearch("evolve", "--genome", "mlp", "--data", "iris", "--population", "4",
              "--generations", "1", "--seed", "2", "--n-jobs", "1", "--out", str(out),
              cwd=tmp_path)  # fmt: skip
    for name in ("run.json", "archive.json", "checkpoint.json"):
        data = json.loads((out / name).read_text())
        data["format_version"] = 2
        if name == "run.json":
            del data["settings"]["focus"]
        (out / name).write_text(json.dumps(data))
    record = load_run(out)
    assert record.info["settings"]["focus"] == "front"
    result = evosearch("resume", str(out), "--generations", "2", "--n-jobs", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    info = json.loads((out / "run.json").read_text())
    assert info["format_version"] == 4 and info["settings"]["focus"] == "front"


def test_v1_run_info_keeps_what_it_recorded():
    v1 = copy.deepcopy(V1_RUN)
    v1["settings"].update(
        eval_timeout=None,
        holdout=0.2,
        halving=True,
        inherit_weights=True,
        strategy="aging",
        max_bytes=4000,
        scoring="my_scorer",
        scoring_callable=True,
        input_shape=[8, 8],
        fidelity="auto",
    )
    v1["objectives"] = [{"name": "score", "weight": 1.0}, {"name": "bytes", "weight": -1.0}]
    v1["fidelity"] = {"rows": 0.1}
    settings = migrate_run_info(v1)["settings"]
    assert {k: settings[k] for k in v1["settings"]} == v1["settings"]
    assert settings["objectives"] == ["score", "bytes"]
    assert migrate_run_info(v1)["fidelity"] == {"rows": 0.1}


def test_current_run_info_is_read_as_it_is_and_must_hold_every_setting():
    current = migrate_run_info(V1_RUN)
    assert migrate_run_info(current) == current
    incomplete = copy.deepcopy(current)
    del incomplete["settings"]["max_bytes"], incomplete["settings"]["fidelity"]
    with pytest.raises(RunFolderError, match=r"^run\.json: settings lack max_bytes, fidelity$"):
        migrate_run_info(incomplete)
    v1_without_objectives = {k: v for k, v in V1_RUN.items() if k != "objectives"}
    with pytest.raises(RunFolderError, match="missing objectives"):
        migrate_run_info(v1_without_objectives)
    without_fingerprint = copy.deepcopy(current)
    del without_fingerprint["dataset"]["fingerprint"]
    with pytest.raises(RunFolderError, match=r"^run\.json: dataset lacks fingerprint$"):
        migrate_run_info(without_fingerprint)


def test_v1_archive_and_checkpoint_name_objectives_by_their_current_names():
    archive = {
        "format_version": 1,
        "weights": [1.0, -1.0],
        "param_reference": 1e7,
        "objectives": ["score", "n_params"],
        "members": [],
    }
    assert migrate_archive(archive) == {
        **archive,
        "format_version": 4,
        "objectives": ["score", "params"],
    }
    unnamed = {k: v for k, v in archive.items() if k != "objectives"}
    assert migrate_archive(unnamed) == {**unnamed, "format_version": 4}
    checkpoint = {"format_version": 1, "generation": 0, "archive": archive, "history": []}
    migrated = migrate_checkpoint(checkpoint)
    assert migrated["format_version"] == 4
    assert migrated["archive"] == migrate_archive(archive)
    assert checkpoint["archive"]["objectives"] == ["score", "n_params"]  # not changed in place


def test_v1_results_get_the_fields_older_journals_lacked():
    result = {"genome_hash": "h", "fold_scores": [0.5], "score": 0.5, "n_params": 35}
    line = {"format_version": 1, "generation": 0, "genome": {}, **result}
    assert migrate_journal_line(line) == {
        **line,
        "format_version": 4,
        "peak_memory_mb": None,
        "folds": None,
    }
    measured = {**line, "peak_memory_mb": 1.5, "folds": [0]}
    assert migrate_journal_line(measured) == {**measured, "format_version": 4}
    generation = {"format_version": 1, "generation": 0, "population": [{"result": result}]}
    filled = {**result, "peak_memory_mb": None, "folds": None}
    assert migrate_generation(generation)["population"] == [{"result": filled}]
    checkpoint = {"format_version": 1, "population": [{"genome": {}, "result": result}]}
    assert migrate_checkpoint(checkpoint)["population"] == [{"genome": {}, "result": filled}]
    assert "peak_memory_mb" not in result  # not changed in place


@pytest.mark.parametrize("version", [0, 5, 99, "x", "2", None, 1.0, True])
@pytest.mark.parametrize("kind", KINDS)
def test_unknown_and_newer_versions_are_refused_in_one_line(kind, version):
    with pytest.raises(RunFolderError) as caught:
        migrate(kind, {"format_version": version}, "RUN/some.json")
    message = str(caught.value)
    assert message.startswith("RUN/some.json: format version") and "\n" not in message
    assert ("newer evosearch" in message) == (version in (5, 99))


@pytest.mark.parametrize("name", FOLDERS)
def test_legacy_folders_load_in_the_current_format_and_stay_as_they_were(name):
    before = _snapshot(LEGACY / name)
    record = load_run(LEGACY / name)
    assert _snapshot(LEGACY / name) == before
    assert json.loads((LEGACY / name / "run.json").read_text())["format_version"] == 1

    assert record.checkpoint is not None and record.archive is not None
    parts = [record.info, record.archive, record.checkpoint, record.checkpoint["archive"]]
    for data in parts + record.journal + record.screening + record.generations:
        assert data["format_version"] == FORMAT_VERSION
    assert set(RUN_SETTINGS) <= set(record.info["settings"])
    names = [o["name"] for o in record.info["objectives"]]
    assert record.info["settings"]["objectives"] == names and "n_params" not in names
    assert record.finished


def test_a_v1_journal_with_appended_current_lines_reads_line_by_line(tmp_path):
    folder = Path(shutil.copytree(LEGACY / "iris-0.1.0", tmp_path / "run"))
    journal = folder / "journal.jsonl"
    lines = journal.read_text().splitlines()
    half = len(lines) // 2
    appended = [json.dumps({**json.loads(line), "format_version": 2}) for line in lines[half:]]
    journal.write_text("\n".join(lines[:half] + appended) + "\n")
    assert load_run(folder).journal == load_run(LEGACY / "iris-0.1.0").journal

    journal.write_text(journal.read_text() + json.dumps({"format_version": 5}) + "\n")
    with pytest.raises(RunFolderError, match=rf"journal\.jsonl:{len(lines) + 1}: format version 5"):
        load_run(folder)


@pytest.mark.parametrize(
    ("file", "version"),
    [("run.json", 5), ("run.json", "x"), ("archive.json", 5), ("checkpoint.json", "x")],
)
def test_show_and_resume_refuse_an_unknown_version_naming_the_file(tmp_path, file, version):
    folder = Path(shutil.copytree(LEGACY / "iris-0.1.0", tmp_path / "run"))
    data = json.loads((folder / file).read_text())
    (folder / file).write_text(json.dumps({**data, "format_version": version}))
    with pytest.raises(RunFolderError, match=f"{file}: format version"):
        load_run(folder)
    before = _snapshot(folder)
    for command in (["show", str(folder)], ["resume", str(folder), "--generations", "3"]):
        result = evosearch(*command, cwd=tmp_path)
        assert result.returncode != 0
        errors = result.stderr.strip().splitlines()
        assert len(errors) == 1 and f"{file}: format version {version!r}" in errors[0], errors
    assert _snapshot(folder) == before
