"""A plug-in layer kind needs its registration only: the toy ``wave`` kind (tests/toy_layer.py)
is searched, trained (also in worker processes), journalled, reported and exported."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest
import toy_layer
from sklearn.datasets import load_iris

from clitools import assert_clean, assert_usage_error, evosearch
from evosearch import Evolver, Genome, SearchSpace, load_run
from evosearch.nn import count_parameters, get_layer_kind
from evosearch.report import plot_architecture, write_report
from evosearch.runs import load_run_dataset
from evosearch.search.archive import ParetoArchive
from evosearch.search.refit import export_member

WAVES_TOML = """
name = "waves"
[architecture]
max_layers = 3
initial_layers = [1, 2]
[layers.dense]
units = [4, 8]
activation = ["tanh", "relu"]
dropout = [0.0, 0.2]
[layers.wave]
omega = [0.5, 1.0, 2.0]
[training]
optimizer = ["adam", "rmsprop"]
learning_rate = 0.01
batch_size = [32]
max_epochs = [4]
"""


@pytest.fixture(scope="module")
def waves(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("genomes") / "waves.toml"
    path.write_text(WAVES_TOML, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    return load_iris(return_X_y=True)


def evolve(waves: Path, out: Path, iris, **settings) -> Evolver:
    options = {"population_size": 4, "generations": 2, "cv": 2, "n_jobs": 1, "random_state": 1}
    return Evolver(genome=waves, out=out, **{**options, **settings}).fit(*iris)


def kinds(genome_json: dict) -> set[str]:
    return {node["kind"] for node in genome_json["graph"]["nodes"]}


@pytest.fixture(scope="module")
def run(waves, iris, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "waves"
    evolve(waves, out, iris)
    return out


def test_the_space_takes_the_toy_section(waves):
    space = SearchSpace.load(waves)
    assert list(space.layers) == ["dense", "wave"]
    assert SearchSpace.from_dict(space.to_dict()) == space
    # With two kinds a new layer draws its kind: both appear.
    rng = np.random.default_rng(0)
    assert {space.sample_layer(rng)["kind"] for _ in range(20)} == {"dense", "wave"}


def test_the_toy_kind_is_searched_trained_and_journalled(run):
    record = load_run(run)
    journal = record.journal
    assert any("wave" in kinds(entry["genome"]) for entry in journal)
    # The children of generation 1 hold toy layers too (made by crossover and mutation).
    assert any("wave" in kinds(e["genome"]) for e in journal if e["generation"] >= 1)
    for entry in journal:
        assert entry["error"] is None, entry["error"]
        genome = Genome.from_json(entry["genome"])
        assert entry["n_params"] == genome.n_params()
        assert genome.n_params() == count_parameters(genome.to_architecture(), 4, 3)
    assert record.info["search_space"]["layers"]["wave"] == {"omega": [0.5, 1.0, 2.0]}


def test_worker_processes_find_the_registered_kind(run, waves, iris, tmp_path):
    # Workers are fresh processes: they get the kind with the genomes they unpickle.
    evolve(waves, tmp_path / "parallel", iris, n_jobs=2, generations=1)
    parallel = load_run(tmp_path / "parallel").journal
    assert all(e["error"] is None for e in parallel)
    assert any("wave" in kinds(e["genome"]) for e in parallel)

    # Same seeds, same results, wherever the folds ran.
    def scores(journal: list[dict], generation: int) -> dict[str, list[float]]:
        return {
            e["genome_hash"]: e["fold_scores"] for e in journal if e["generation"] == generation
        }

    assert scores(parallel, 0) == scores(load_run(run).journal, 0)


def test_the_report_draws_toy_layers_with_their_label(run):
    report = write_report(run)
    assert report.html.is_file() and report.images
    record = load_run(run)
    entry = next(e for e in record.journal if "wave" in kinds(e["genome"]))
    genome = Genome.from_json(entry["genome"])
    figure = plot_architecture(genome)
    texts = [text.get_text() for ax in figure.axes for text in ax.texts]
    wave_nodes = [n for n in genome.hidden_layers() if genome.graph.nodes[n]["kind"] == "wave"]
    for node in wave_nodes:
        label = get_layer_kind("wave").box_label(genome.graph.nodes[node])
        assert label in texts
    assert "wave w" in genome.describe()


def test_export_refits_a_toy_member(run, tmp_path, iris):
    record = load_run(run)
    archive = ParetoArchive.from_dict(record.archive)
    index = next((i for i, m in enumerate(archive.members) if "wave" in kinds(m.genome)), None)
    assert index is not None, "no archive member holds a toy layer: pick another seed"
    metadata = export_member(record, load_run_dataset(record, *iris), index, tmp_path / "model")
    assert "wave" in metadata["architecture"]
    model = joblib.load(tmp_path / "model" / "model.joblib")
    assert model.predict(iris[0][:5]).shape == (5,)
    assert toy_layer.Wave in {type(step.kind) for step in model[-1]._steps}


# 11 s through the real command; the contract suite checks the kind in the default run.
@pytest.mark.slow
def test_the_command_line_finds_the_kind_through_evosearch_plugins(waves, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    monkeypatch.setenv("EVOSEARCH_PLUGINS", "toy_layer")
    common = ("--genome", str(waves), "--data", "iris", "--population", "4", "--seed", "1")
    done = evosearch(
        "evolve", *common, "--n-jobs", "2", "--generations", "1", "--out", "run", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert_clean(done)
    journal = [
        json.loads(line) for line in (tmp_path / "run" / "journal.jsonl").read_text().splitlines()
    ]
    assert any("wave" in kinds(entry["genome"]) for entry in journal)
    # A fresh process (resume) needs the plug-in again, and finds it the same way.
    resumed = evosearch("resume", "run", "--generations", "2", "--n-jobs", "1", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr

    monkeypatch.setenv("EVOSEARCH_PLUGINS", "no_such_plugin_module")
    assert_usage_error(
        evosearch("show", "run", cwd=tmp_path),
        "cannot import plug-in module 'no_such_plugin_module'",
    )
