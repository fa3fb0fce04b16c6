"""The ``latency`` objective: a cost model calibrated once, recorded per run, reused on resume;
conv and pool layers with coefficients of their own (test_latency_models.py: files, cache)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import evosearch.nn.latency_files as latency_module
from evosearch import Evolver
from evosearch.nn.cost_model import LatencyModel
from evosearch.nn.latency_files import calibrate
from evosearch.objectives import Latency
from evosearch.space import Genome, InnovationCounter
from evosearch.testing._tiny import iris, tiny_space

FIXED = LatencyModel(1e-5, {"dense": 2e-6}, {"dense": 1e-9}, {"dense": 1e-8})


def test_calibration_fits_a_non_negative_model_that_round_trips() -> None:
    model = calibrate(repeats=3)
    values = [model.per_network, *model.per_layer.values(), *model.per_mac.values()]
    assert all(v >= 0 for v in values) and sum(values) > 0
    # Conv and pool layers are timed on networks of their own: coefficients of their own.
    assert set(model.kinds()) == {"dense", "conv2d", "pool", "global_pool"}
    assert set(model.per_copy) == {"conv2d"}
    assert model.measured is not None and model.machine is not None
    assert LatencyModel.from_dict(json.loads(json.dumps(model.to_dict()))) == model
    with pytest.raises(ValueError):
        LatencyModel.from_dict({**model.to_dict(), "per_network": -1.0})


def test_the_estimate_grows_with_the_network(tmp_path) -> None:
    space = tiny_space(tmp_path)
    rng, counter = np.random.default_rng(0), InnovationCounter()
    small = Genome.chain(4, 3, [], {})
    big = Genome.random(space, 4, 3, rng, counter)
    objective = Latency(FIXED)
    assert objective.value(small) < objective.value(big)
    assert objective.value(small) == pytest.approx((1e-5 + 2e-6 + 12e-9 + 3e-8) * 1e6)


def test_a_run_records_its_model_and_resume_reuses_it(tmp_path, monkeypatch) -> None:
    X, y = iris()
    out = tmp_path / "run"
    monkeypatch.setattr(latency_module, "calibrate", lambda: FIXED)
    settings = {"population_size": 4, "n_jobs": 1, "cv": 2, "out": out}
    objectives = ("score", "params", "latency")
    evolver = Evolver(tiny_space(tmp_path), generations=1, objectives=objectives, **settings)
    evolver.fit(X, y)
    assert json.loads((out / "run.json").read_text())["latency_model"] == FIXED.to_dict()
    for entry in evolver.archive_.members:
        assert entry.objectives[2] == Latency(FIXED).value(Genome.from_json(entry.genome))

    def no_measuring() -> LatencyModel:
        raise AssertionError("resume must not calibrate again")

    monkeypatch.setattr(latency_module, "calibrate", no_measuring)
    resumed = Evolver.resume(out, X=X, y=y, generations=2)
    assert json.loads((out / "run.json").read_text())["latency_model"] == FIXED.to_dict()
    for entry in resumed.archive_.members:
        assert entry.objectives[2] == Latency(FIXED).value(Genome.from_json(entry.genome))


@pytest.mark.slow
def test_a_three_objective_run_resumes_exactly_and_exports(tmp_path, monkeypatch) -> None:
    """score, bytes, latency on a compressed space: resume after generation 1 reaches the
    uninterrupted run's archive and history; show, report and export work."""
    from evosearch.cli.main import main
    from evosearch.testing._tiny import TINY_TOML

    path = tmp_path / "compressed.toml"
    path.write_text(TINY_TOML + '\n[compression]\nprecision = ["float32", "int8"]\n', "utf-8")
    X, y = iris()
    monkeypatch.setattr(latency_module, "calibrate", lambda: FIXED)
    objectives = ("score", "bytes", "latency")
    common = {"population_size": 4, "n_jobs": 1, "cv": 2, "objectives": objectives}
    whole = Evolver(path, generations=3, out=tmp_path / "whole", **common).fit(X, y)
    Evolver(path, generations=1, out=tmp_path / "part", **common).fit(X, y)
    resumed = Evolver.resume(tmp_path / "part", X=X, y=y, generations=3)
    assert resumed.archive_.to_dict() == whole.archive_.to_dict()
    assert [r.hypervolume for r in resumed.history_] == [r.hypervolume for r in whole.history_]
    assert main(["show", str(tmp_path / "whole")]) == 0
    assert main(["report", str(tmp_path / "whole")]) == 0
    assert (tmp_path / "whole" / "report" / "objectives.png").is_file()
    from evosearch.runs import load_run, load_run_dataset
    from evosearch.search.refit import export_member

    record = load_run(tmp_path / "whole")
    metadata = export_member(record, load_run_dataset(record, X, y), None, tmp_path / "model")
    assert metadata["payload_bytes"] == metadata["objectives"]["bytes"]
    assert set(metadata["objectives"]) == set(objectives)


CONV = LatencyModel(
    1e-5,
    {"dense": 2e-6, "conv2d": 5e-6, "pool": 3e-6},
    {"dense": 1e-9, "conv2d": 4e-9, "pool": 0.0},
    {"dense": 1e-8, "conv2d": 2e-8, "pool": 7e-8},
    {"conv2d": 1e-6},
)


def _conv_genome() -> Genome:
    conv = {"kind": "conv2d", "filters": 4, "kernel": 3, "stride": 1, "activation": "relu",
            "dropout": 0.0}  # fmt: skip
    layers = [conv, {"kind": "pool", "mode": "max"}]
    return Genome.chain(64, 10, layers, {}, input_shape=(8, 8, 1))


def test_conv_and_pool_layers_use_their_own_coefficients() -> None:
    genome = _conv_genome()
    # conv 3x3, 4 filters on 8x8x1: 2,304 multiply-adds, 256 outputs, 9 patch copies + 1
    # padding copy; pool to 4x4x4: 256 "multiply-adds", 64 outputs; output dense 64 -> 10.
    assert genome.layer_costs() == [("conv2d", 2304, 256, 10), ("pool", 256, 64, 0),
                                    ("dense", 640, 10, 0)]  # fmt: skip
    expected = (
        1e-5
        + (5e-6 + 4e-9 * 2304 + 2e-8 * 256 + 1e-6 * 10)
        + (3e-6 + 7e-8 * 64)
        + (2e-6 + 1e-9 * 640 + 1e-8 * 10)
    )
    assert Latency(CONV).value(genome) == pytest.approx(expected * 1e6)
    # A model from before conv coefficients (every run.json so far) estimates as it did:
    # every kind with dense's coefficients, copies free.
    old = (1e-5 + 3 * 2e-6 + 1e-9 * (2304 + 256 + 640) + 1e-8 * (256 + 64 + 10)) * 1e6
    assert Latency(FIXED).value(genome) == pytest.approx(old)
    assert LatencyModel.from_dict(FIXED.to_dict()) == FIXED and "per_copy" not in FIXED.to_dict()
    assert LatencyModel.from_dict(CONV.to_dict()) == CONV


def test_a_cnn_run_records_conv_coefficients(tmp_path, monkeypatch) -> None:
    """A cnn run with a latency objective estimates its conv genomes with conv coefficients."""
    from sklearn.datasets import load_digits

    monkeypatch.setattr(latency_module, "calibrate", lambda: CONV)
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16.0, y[:200]
    evolver = Evolver("cnn", population_size=4, generations=1, cv=2, n_jobs=1, eval_timeout=None,
                      input_shape="8x8x1", objectives=("score", "latency"),
                      out=tmp_path / "cnn")  # fmt: skip
    evolver.fit(X, y)
    assert json.loads((tmp_path / "cnn" / "run.json").read_text())["latency_model"] == (
        CONV.to_dict()
    )
    genomes = [Genome.from_json(member.genome) for member in evolver.archive_.members]
    assert any(kind == "conv2d" for genome in genomes for kind, *_ in genome.layer_costs())
    for member, genome in zip(evolver.archive_.members, genomes, strict=True):
        assert member.objectives[1] == pytest.approx(Latency(CONV).value(genome))
