"""Latency models saved and reused (issue 35): ``evosearch calibrate``, model files,
``--latency-model`` / ``Evolver(latency_model=...)``, this machine's cache, and what ``show`` and
``report`` say about the model a run used."""

from __future__ import annotations

import json

import pytest

import evosearch.nn.latency_files as cost_module
from evosearch import Evolver
from evosearch.cli.main import main
from evosearch.errors import SettingsError
from evosearch.nn.cost_model import LatencyModel
from evosearch.nn.latency_files import (
    cache_dir,
    cache_path,
    describe_recorded,
    load_latency_model,
    save_latency_model,
)
from evosearch.objectives import Latency
from evosearch.space import Genome
from evosearch.testing._tiny import iris, tiny_space

FIXED = LatencyModel(
    1e-5, {"dense": 2e-6}, {"dense": 1e-9}, {"dense": 1e-8}, measured="2026-12-01T00:00:00+00:00",
    machine="test machine",
)  # fmt: skip
OTHER = LatencyModel(3e-5, {"dense": 9e-6}, {"dense": 4e-9}, {"dense": 2e-8})
OBJECTIVES = ("score", "params", "latency")


def _counting(monkeypatch, model: LatencyModel) -> list[int]:
    """Make calibrate return ``model`` without measuring; the list counts its calls."""
    calls: list[int] = []

    def calibrate(*args, **kwargs) -> LatencyModel:
        calls.append(1)
        return model

    monkeypatch.setattr(cost_module, "calibrate", calibrate)
    return calls


def _fit(tmp_path, name: str, **params) -> Evolver:
    X, y = iris()
    # eval_timeout None: with n_jobs 1, folds train in this process (no worker to start).
    settings = {"population_size": 4, "generations": 1, "cv": 2, "n_jobs": 1, "eval_timeout": None}
    evolver = Evolver(tiny_space(tmp_path), objectives=OBJECTIVES, out=tmp_path / name,
                      **{**settings, **params})  # fmt: skip
    return evolver.fit(X, y)


def _run_json(tmp_path, name: str) -> dict:
    return json.loads((tmp_path / name / "run.json").read_text())


def test_calibrate_writes_a_file_that_loads_back(tmp_path, monkeypatch, capsys) -> None:
    _counting(monkeypatch, FIXED)
    out = tmp_path / "models" / "lab.json"
    assert main(["calibrate", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and "measured 2026-12-01" in printed
    assert "dense: 2.00 µs per layer" in printed
    assert load_latency_model(out) == FIXED
    assert json.loads(out.read_text())["format"] == "evosearch-latency-model"
    assert not cache_path().exists()  # --out writes the file only


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "does not exist"),
        ("{", "is not JSON (line 1"),
        ('{"per_network": 1}', "is not a latency model file"),
        ('{"format": "evosearch-latency-model", "format_version": 1, "model": {}}', "damaged"),
        (
            '{"format": "evosearch-latency-model", "format_version": 1, "model": {"per_network":'
            ' -1, "per_layer": {}, "per_mac": {}, "per_output": {}}}',
            "damaged",
        ),
        ('{"format": "evosearch-latency-model", "format_version": 9, "model": {}}', "version 9"),
    ],
)
def test_a_bad_model_file_is_one_line_and_exit_2(tmp_path, capsys, content, says) -> None:
    path = tmp_path / "model.json"
    if content is not None:
        path.write_text(content)
    status = main(["evolve", "--data", "iris", "--objectives", "score,latency",
                   "--latency-model", str(path), "--out", str(tmp_path / "run")])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and says in err and str(path) in err, err
    assert "Traceback" not in err and not (tmp_path / "run").exists()
    with pytest.raises(SettingsError, match=says.split(" (")[0]):
        Evolver(latency_model=path).fit(*iris())


def test_two_runs_with_one_file_agree(tmp_path, monkeypatch, capsys) -> None:
    """Same file: the same archive, the file recorded; the cache is neither read nor written."""
    _counting(monkeypatch, OTHER)  # what the cache would give: must not be used
    path = save_latency_model(FIXED, tmp_path / "lab.json")
    one = _fit(tmp_path, "one", latency_model=str(path), generations=2)
    two = _fit(tmp_path, "two", latency_model=path, generations=2)
    assert one.archive_.to_dict() == two.archive_.to_dict()
    for name in ("one", "two"):
        info = _run_json(tmp_path, name)
        assert info["latency_model"] == FIXED.to_dict()
        assert info["latency_source"] == {"kind": "file", "path": str(path)}
        assert "latency_model" not in info["settings"]  # the model is recorded, not the path
    for member in one.archive_.members:
        assert member.objectives[2] == Latency(FIXED).value(Genome.from_json(member.genome))
    assert not cache_path().exists()
    capsys.readouterr()
    assert main(["show", str(tmp_path / "one")]) == 0
    shown = capsys.readouterr().out
    assert (
        f"latency   model file {path}, measured 2026-12-01T00:00:00+00:00 on test machine" in shown
    )
    assert "dense: 2.00 µs per layer" in shown
    from evosearch.report.html import _settings
    from evosearch.runs import load_run

    page = _settings(load_run(tmp_path / "one"))  # the report's settings tables
    assert "latency model" in page and f"model file {path}" in page and "2.00 µs per layer" in page


@pytest.mark.slow
def test_one_file_gives_one_archive_for_n_jobs_1_and_2(tmp_path) -> None:
    """The command line, two fresh runs with one model file: --n-jobs 1 and 2 agree."""
    from clitools import evosearch

    path = save_latency_model(FIXED, tmp_path / "lab.json")
    tiny_space(tmp_path)
    archives = []
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        done = evosearch("evolve", "--data", "iris", "--genome", "tiny.toml", "--objectives",
                         "score,params,latency", "--population", "6", "--generations", "2",
                         "--cv", "2", "--n-jobs", jobs, "--latency-model", str(path), "--out",
                         str(out), "--quiet", cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stderr
        archives.append(json.loads((out / "archive.json").read_text()))
        assert _run_json(tmp_path, out.name)["latency_model"] == FIXED.to_dict()
    assert archives[0] == archives[1]
    assert len(archives[0]["members"]) > 1


def test_fresh_runs_share_the_machine_cache_until_it_is_cleared(tmp_path, monkeypatch) -> None:
    calls = _counting(monkeypatch, FIXED)
    first = _fit(tmp_path, "first")
    assert len(calls) == 1 and load_latency_model(cache_path()) == FIXED
    source = _run_json(tmp_path, "first")["latency_source"]
    assert source == {"kind": "cache", "path": str(cache_path()), "measured_now": True}
    _counting(monkeypatch, OTHER)  # a second measurement would differ: the cache is read
    second = _fit(tmp_path, "second")
    assert first.archive_.to_dict() == second.archive_.to_dict()
    assert _run_json(tmp_path, "second")["latency_model"] == FIXED.to_dict()
    assert _run_json(tmp_path, "second")["latency_source"]["measured_now"] is False
    # A resume uses what the run recorded, never the cache (which now holds another model).
    save_latency_model(OTHER, cache_path())
    resumed = Evolver.resume(tmp_path / "first", X=iris()[0], y=iris()[1], generations=2)
    assert _run_json(tmp_path, "first")["latency_model"] == FIXED.to_dict()
    for member in resumed.archive_.members:
        assert member.objectives[2] == Latency(FIXED).value(Genome.from_json(member.genome))
    assert main(["calibrate", "--clear"]) == 0
    assert not list(cache_dir().glob("latency-*.json"))
    calls = _counting(monkeypatch, OTHER)
    _fit(tmp_path, "third")
    assert len(calls) == 1 and _run_json(tmp_path, "third")["latency_model"] == OTHER.to_dict()


def test_calibrate_for_this_run_leaves_the_cache_alone(tmp_path, monkeypatch, capsys) -> None:
    calls = _counting(monkeypatch, FIXED)
    _fit(tmp_path, "own", latency_model="calibrate")
    assert len(calls) == 1 and not cache_path().exists()
    assert _run_json(tmp_path, "own")["latency_source"] == {"kind": "run"}
    assert main(["calibrate", "--cache"]) == 0
    assert load_latency_model(cache_path()) == FIXED
    assert main(["calibrate", "--show"]) == 0
    assert str(cache_path()) in capsys.readouterr().out


def test_a_damaged_cache_is_measured_again(monkeypatch) -> None:
    from evosearch.nn.latency_files import cached_latency_model

    cache_path().parent.mkdir(parents=True, exist_ok=True)
    cache_path().write_text("{ not json")
    calls = _counting(monkeypatch, FIXED)
    assert cached_latency_model() == (FIXED, cache_path(), True)
    assert len(calls) == 1 and load_latency_model(cache_path()) == FIXED


def test_the_cache_follows_xdg_cache_home(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("EVOSEARCH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "evosearch"
    assert cache_path().name.startswith("latency-") and cache_path().suffix == ".json"


def test_old_runs_say_they_calibrated_their_own() -> None:
    old = {"per_network": 1e-5, "per_layer": {"dense": 2e-6}, "per_mac": {"dense": 1e-9},
           "per_output": {"dense": 1e-8}}  # fmt: skip
    lines = describe_recorded(old, None)
    assert lines[0] == "calibrated for this run"
    assert lines[1:] == ["network: 10.0 µs per prediction",
                         "dense: 2.00 µs per layer, 1.000 ns per multiply-add, 10.00 ns per "
                         "output value"]  # fmt: skip
