"""A toy objective plug-in (tests/toy_objective.py, ``depth``) is searched with no other change.

Registering it is the only step: the Evolver takes it by name, the archive holds 3-vectors, the
run journals, resumes, reports and exports, from Python and from the real command line (which
imports the plug-in named in ``EVOSEARCH_PLUGINS``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomllib
import toy_objective
from sklearn.datasets import load_iris

from clitools import TINY_TOML, assert_clean, assert_usage_error, evosearch, lines
from evosearch import Evolver, Genome, ParetoArchive, SearchSpace
from evosearch.errors import SettingsError
from evosearch.search import check_settings

OBJECTIVES = ("score", "params", "depth")
TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def iris_xy():
    return load_iris(return_X_y=True)


def evolver(out: Path, **settings) -> Evolver:
    return Evolver(
        genome=SearchSpace.from_dict(tomllib.loads(TINY_TOML)),
        population_size=4,
        generations=2,
        n_jobs=1,
        random_state=3,
        objectives=OBJECTIVES,
        out=out,
        **settings,
    )


def test_the_evolver_searches_with_a_registered_objective(tmp_path, iris_xy) -> None:
    X, y = iris_xy
    whole = evolver(tmp_path / "whole").fit(X, y)
    assert whole.archive_.objective_names == OBJECTIVES
    for entry in whole.archive_:
        genome = Genome.from_json(entry.genome)
        assert entry.objectives[1:] == (float(genome.n_params()), float(genome.depth))
    assert 0.0 < whole.history_[-1].hypervolume <= 1.0
    info = json.loads((tmp_path / "whole" / "run.json").read_text())
    assert [o["name"] for o in info["objectives"]] == list(OBJECTIVES)
    assert info["objectives"][2]["weight"] == -1.0
    archive = json.loads((tmp_path / "whole" / "archive.json").read_text())
    assert archive["objectives"] == list(OBJECTIVES)
    assert all(len(m["objectives"]) == 3 for m in archive["members"])
    assert lines(tmp_path / "whole" / "journal.jsonl")

    # Stopped after generation 1, then resumed: the same archive as the uninterrupted run.
    evolver(tmp_path / "part", callbacks=[lambda e, r: r.generation >= 1]).fit(X, y)
    resumed = Evolver.resume(tmp_path / "part", X=X, y=y)
    assert resumed.objectives == OBJECTIVES
    assert resumed.archive_.to_dict() == whole.archive_.to_dict()


def test_objectives_are_checked(iris_xy) -> None:
    with pytest.raises(
        SettingsError, match=r"^unknown objective 'bogus': choose from score, .*depth"
    ):
        Evolver(objectives=("score", "bogus")).fit(*iris_xy)
    with pytest.raises(SettingsError, match="first objective must be 'score'"):
        Evolver(objectives=("params", "score")).fit(*iris_xy)
    with pytest.raises(SettingsError, match="distinct"):
        Evolver(objectives=("score", "params", "n_params")).fit(*iris_xy)
    resolved = check_settings(Evolver(objectives=("score", "n_params")).get_params()).objectives
    assert resolved == ("score", "params")
    assert toy_objective.Depth().value(Genome.from_json(_any_genome(iris_xy))) >= 1.0


def _any_genome(iris_xy) -> dict:
    import numpy as np

    from evosearch.space import InnovationCounter

    space = SearchSpace.from_dict(tomllib.loads(TINY_TOML))
    genome = Genome.random(space, 4, 3, np.random.default_rng(0), InnovationCounter())
    return genome.to_json()


@pytest.fixture
def plugin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    monkeypatch.setenv("EVOSEARCH_PLUGINS", "toy_objective")


@pytest.mark.slow  # 23 s; the toy layer's command-line test runs a plug-in in the fast run
def test_the_command_line_searches_reports_and_exports_with_a_plugin(
    tmp_path, plugin_env, monkeypatch
) -> None:
    (tmp_path / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    common = ("--genome", "tiny.toml", "--data", "iris", "--population", "4", "--n-jobs", "1")
    done = evosearch(
        "evolve", *common, "--generations", "1", "--objectives", "score,params,depth",
        "--out", "run", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert_clean(done)
    assert "depth" in done.stdout and "parameters, depth " in done.stdout
    archive = ParetoArchive.from_dict(json.loads((tmp_path / "run" / "archive.json").read_text()))
    assert archive.objective_names == OBJECTIVES

    resumed = evosearch("resume", "run", "--generations", "2", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert [g["generation"] for g in lines(tmp_path / "run" / "generations.jsonl")] == [0, 1, 2]

    for command in (("show", "run"), ("report", "run"), ("export", "run")):
        result = evosearch(*command, cwd=tmp_path)
        assert result.returncode == 0, (command, result.stderr)
        assert_clean(result)
    (model_json,) = (tmp_path / "run" / "models").glob("member-*/model.json")
    model = json.loads(model_json.read_text())
    assert set(model["objectives"]) == set(OBJECTIVES)
    html = (tmp_path / "run" / "report" / "report.html").read_text(encoding="utf-8")
    assert "<th>depth</th>" in html

    # Without the plug-in the report still reads the run (the objective shows by name).
    monkeypatch.delenv("EVOSEARCH_PLUGINS")
    again = evosearch("report", "run", "--out", "again", cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_the_command_line_refuses_an_unknown_objective(tmp_path) -> None:
    done = evosearch("evolve", "--objectives", "score,bogus", "--out", "run", cwd=tmp_path)
    assert_usage_error(done, "unknown objective 'bogus': choose from ", "params", "score")
    assert not (tmp_path / "run").exists()
