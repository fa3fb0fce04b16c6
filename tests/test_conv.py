"""Image data and convolutional genomes: shapes, data loading, training and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from clitools import assert_usage_error, evosearch
from evosearch import Evolver
from evosearch.cli.main import main
from evosearch.data import check_dataset, load_dataset, parse_input_shape
from evosearch.deploy import read_model
from evosearch.errors import DataError, SettingsError
from evosearch.nn import GraphNetClassifier
from evosearch.nn.graph import count_parameters, parse_architecture
from evosearch.space import Genome, SearchSpace

CONV = {"kind": "conv2d", "activation": "relu", "dropout": 0.0}
TINY_CNN = """
name = "tinycnn"
[architecture]
min_layers = 1
max_layers = 3
initial_layers = [1, 2]
[layers.conv2d]
filters = [2, 4]
kernel = [1, 3]
stride = [1, 2]
activation = ["relu"]
dropout = [0.0]
[layers.pool]
mode = ["max", "average"]
[layers.dense]
units = [8]
activation = ["relu"]
dropout = [0.0]
[training]
optimizer = ["adam"]
learning_rate = 0.01
l1 = 0.0
l2 = 1e-4
batch_size = [64]
max_epochs = [4]
"""


def small_digits(n: int = 240) -> tuple[np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    return X[:n], y[:n]


# --------------------------------------------------------------------------- data
def test_digits_are_8x8_images_and_their_fingerprint_is_unchanged() -> None:
    digits = load_dataset("digits")
    assert digits.input_shape == (8, 8, 1)
    X, y = load_digits(return_X_y=True)
    plain = check_dataset(X, y, name="digits")
    assert plain.input_shape is None
    assert digits.fingerprint() == plain.fingerprint()
    assert load_dataset("iris").input_shape is None


@pytest.mark.parametrize("shape", [(6, 4), (6, 4, 1), (3, 2, 4)])
def test_npz_images_are_flattened_channels_last(tmp_path: Path, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, *shape))
    path = tmp_path / "images.npz"
    np.savez(path, X=X, y=np.arange(12) % 2)
    data = load_dataset(str(path))
    assert data.input_shape == (*shape, 1)[:3]
    assert data.X.shape == (12, int(np.prod(shape)))
    np.testing.assert_array_equal(
        data.X[3].reshape(data.input_shape), X[3].reshape(data.input_shape)
    )


def test_input_shapes_are_parsed_and_checked() -> None:
    assert parse_input_shape("28x28") == (28, 28, 1)
    assert parse_input_shape("4X4x3", n_features=48) == (4, 4, 3)
    assert check_dataset(np.zeros((4, 6)), [0, 1, 0, 1], input_shape="2x3").input_shape == (2, 3, 1)
    for bad, words in (("0x8", "positive"), ("-2x8", "positive"), ("8", "HxW"), ("axb", "integer")):
        with pytest.raises(DataError, match=words):
            parse_input_shape(bad)
    with pytest.raises(DataError, match=r"holds 9 values .* 64 features"):
        parse_input_shape("3x3", n_features=64)


# --------------------------------------------------------------------------- shapes and counts
def test_parameters_and_shapes_come_from_the_architecture() -> None:
    architecture = {
        "input_shape": [8, 8, 1],
        "layers": [
            {"id": 2, **CONV, "filters": 4, "kernel": 3, "stride": 1},
            {"id": 3, "kind": "pool", "mode": "max"},
            {"id": 4, **CONV, "filters": 6, "kernel": 5, "stride": 2},
            {"id": 5, "kind": "global_pool"},
        ],
        "edges": [[0, 2], [2, 3], [3, 4], [4, 5], [5, 1], [3, 1]],
    }
    steps = parse_architecture(architecture, 64, 10)
    shapes = {s.node_id: (s.in_shape, s.out_shape) for s in steps}
    assert shapes[2] == ((8, 8, 1), (8, 8, 4))
    assert shapes[3] == ((8, 8, 4), (4, 4, 4))
    assert shapes[4] == ((4, 4, 4), (2, 2, 6))
    assert shapes[5] == ((2, 2, 6), (6,))
    # The output reads the pool's image flattened (64 values) next to the global pool's 6.
    assert shapes[1] == ((70,), (10,))
    expected = (9 * 4 + 4) + (25 * 4 * 6 + 6) + (70 * 10 + 10)
    assert count_parameters(architecture, 64, 10) == expected
    conv = steps[0]
    assert conv.kind.macs(conv.attrs, conv.in_shape) == 8 * 8 * 4 * 9


def test_a_merge_of_different_spatial_sizes_is_refused_clearly() -> None:
    architecture = {
        "input_shape": [8, 8, 1],
        "layers": [
            {"id": 2, **CONV, "filters": 2, "kernel": 3, "stride": 2},
            {"id": 3, **CONV, "filters": 2, "kernel": 3, "stride": 1},
        ],
        "edges": [[0, 2], [2, 3], [0, 3], [3, 1]],
    }
    with pytest.raises(ValueError, match=r"layer 3 \(conv2d\): inputs of shapes .* concatenated"):
        parse_architecture(architecture, 64, 10)
    with pytest.raises(ValueError, match="needs image inputs"):
        parse_architecture({**architecture, "input_shape": None}, 64, 10)


def test_genomes_carry_the_image_shape_only_for_image_spaces() -> None:
    rng = np.random.default_rng(0)
    cnn, mlp = SearchSpace.load("cnn"), SearchSpace.load("mlp")
    assert cnn.needs_image and not mlp.needs_image
    genome = Genome.random(cnn, 64, 10, rng, input_shape=(8, 8, 1))
    genome.validate(cnn)
    assert genome.input_shape == (8, 8, 1)
    assert genome.to_architecture()["input_shape"] == [8, 8, 1]
    assert Genome.from_json(genome.to_json()).canonical_hash() == genome.canonical_hash()
    plain = Genome.random(mlp, 64, 10, rng, input_shape=(8, 8, 1))
    assert "shape" not in plain.graph.nodes[0] and "input_shape" not in plain.to_architecture()
    with pytest.raises(ValueError, match="needs data with an image shape"):
        Genome.random(cnn, 64, 10, rng)


# --------------------------------------------------------------------------- training
def test_a_conv_net_trains_in_float32_and_predicts() -> None:
    X, y = small_digits(400)
    architecture = {
        "input_shape": [8, 8, 1],
        "layers": [
            {"id": 2, **CONV, "filters": 4, "kernel": 3, "stride": 1},
            {"id": 3, "kind": "pool", "mode": "max"},
        ],
        "edges": [[0, 2], [2, 3], [3, 1]],
    }
    net = GraphNetClassifier(
        architecture=architecture,
        optimizer="adam",
        learning_rate=0.01,
        max_epochs=30,
        early_stopping=False,
        random_state=0,
    )
    net.fit(X[:300] / 16.0, y[:300])
    assert net.coefs_[2].shape == (3, 3, 1, 4) and net.coefs_[2].dtype == np.float32
    assert net.score(X[300:] / 16.0, y[300:]) > 0.7
    blocks = net.weight_blocks()
    assert blocks["w:0:2"].shape == (3, 3, 1, 4)
    # Weight inheritance: a network started from these blocks predicts like it at epoch 0.
    again = GraphNetClassifier(
        architecture=architecture, max_epochs=1, learning_rate=1e-9, initial_weights=blocks
    ).fit(X[:300] / 16.0, y[:300])
    np.testing.assert_allclose(again.coefs_[2], net.coefs_[2], atol=1e-6)


def test_evolver_searches_conv_genomes_on_flat_rows_with_an_input_shape(tmp_path: Path) -> None:
    X, y = small_digits()
    space_file = tmp_path / "tinycnn.toml"
    space_file.write_text(TINY_CNN, encoding="utf-8")
    evolver = Evolver(
        genome=space_file,
        population_size=2,
        generations=1,
        n_jobs=1,
        eval_timeout=None,
        input_shape="8x8",
    )
    assert evolver.input_shape == "8x8"  # stored as given, checked by fit
    evolver.fit(X, y)
    assert all(genome.input_shape == (8, 8, 1) for genome in evolver.population_)
    assert evolver.score(X, y) > 0.3
    with pytest.raises(SettingsError, match="no image shape"):
        Evolver(genome=space_file, population_size=2, generations=1, n_jobs=1).fit(X, y)
    with pytest.raises(SettingsError, match="holds 36 values"):
        Evolver(genome=space_file, population_size=2, input_shape=(6, 6)).fit(X, y)


def test_an_evolver_fitted_on_images_predicts_images_and_their_rows(tmp_path: Path) -> None:
    X, y = small_digits()
    space_file = tmp_path / "tinycnn.toml"
    space_file.write_text(TINY_CNN, encoding="utf-8")
    images = X.reshape(-1, 8, 8)
    evolver = Evolver(genome=space_file, population_size=2, generations=1, n_jobs=1, cv=2)
    evolver.fit(images, y)
    assert evolver.n_features_in_ == 64
    np.testing.assert_array_equal(evolver.predict(images[:20]), evolver.predict(X[:20]))
    assert evolver.score(images, y) == evolver.score(X, y)
    with pytest.raises(DataError, match=r"images of shape \(4, 4\)"):
        evolver.predict(images[:5, :4, :4])
    # Every export takes the images too, as the Evolver does, and their flat rows.
    expected = evolver.predict(images[:20])
    for fmt in ("joblib", "python", "onnx"):
        evolver.export(tmp_path / fmt, format=fmt)
        model, info = read_model(tmp_path / fmt)
        assert info["input_shape"] == [8, 8, 1]
        np.testing.assert_array_equal(model.predict(images[:20]), expected, err_msg=fmt)
        np.testing.assert_array_equal(model.predict(X[:20]), expected, err_msg=fmt)
        assert model.predict_proba(images[:3]).shape == (3, 10)


# --------------------------------------------------------------------------- command line
@pytest.mark.slow
def test_cnn_on_data_without_an_image_shape_is_refused_by_the_command(tmp_path: Path) -> None:
    result = evosearch("evolve", "--genome", "cnn", "--data", "iris", cwd=tmp_path)
    assert_usage_error(result, "image", "--input-shape")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--genome", "cnn", "--data", "iris"], "no image shape"),
        (["--data", "digits", "--input-shape=3x3"], "holds 9 values"),
        (["--data", "digits", "--input-shape=0x8"], "positive"),
        (["--data", "digits", "--input-shape=-8x8"], "positive"),
    ],
)
def test_bad_image_settings_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    # In process (the command's own code path); the slow test above runs the real command.
    out = tmp_path / "run"
    assert main(["evolve", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err
    assert not out.exists()


def test_memory_bounded_passes_give_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation and prediction of image networks run in chunks of rows bounded by
    ``PREDICT_BYTES``; a chunk of a single row gives what one pass over all rows gives."""
    import evosearch.nn.graph as graph

    X, y = small_digits(200)
    architecture = {
        "input_shape": [8, 8, 1],
        "layers": [{"id": 2, **CONV, "filters": 2, "kernel": 3, "stride": 2}],
        "edges": [[0, 2], [2, 1]],
    }
    settings = {"optimizer": "adam", "learning_rate": 0.01, "max_epochs": 3, "random_state": 0}
    whole = GraphNetClassifier(architecture=architecture, **settings).fit(X, y)
    monkeypatch.setattr(graph, "PREDICT_BYTES", 1)
    assert graph.predict_chunk(whole._steps, 4) == 1
    chunked = GraphNetClassifier(architecture=architecture, **settings).fit(X, y)
    np.testing.assert_allclose(chunked.validation_scores_, whole.validation_scores_)
    np.testing.assert_allclose(chunked.predict_proba(X), whole.predict_proba(X), atol=1e-6)


def test_show_and_report_give_each_layer_its_image_shape() -> None:
    from evosearch.cli.console import genome_text
    from evosearch.report.architecture import plot_architecture

    layers = [{**CONV, "filters": 4, "kernel": 3, "stride": 1}, {"kind": "pool", "mode": "max"}]
    genome = Genome.chain(
        64, 10, layers, {"optimizer": "adam", "learning_rate": 0.01}, None, (8, 8, 1)
    )
    text = genome_text(genome)
    assert "input    8x8x1 image (64 features)" in text
    assert "conv 4 filters 3x3 stride 1 relu -> 8x8x4" in text and "max pool 2x2 -> 4x4x4" in text
    figure = plot_architecture(genome)
    labels = [t.get_text() for t in figure.axes[0].texts]
    assert "input\n8x8x1 image" in labels
    assert any(
        label.startswith("conv 3x3 /1\n4 filters") and label.endswith("→ 8x8x4") for label in labels
    )
    assert "max pool\n2x2 /2\n→ 4x4x4" in labels


def test_image_layers_score_each_genome_on_one_fold_from_2000_images(tmp_path: Path) -> None:
    from evosearch.search.fidelity_plan import IMAGE_PLAN, resolve_plan

    # A table keeps its threshold; image layers have theirs, and keys given still apply.
    assert resolve_plan("auto", 5_000) is None
    assert resolve_plan("auto", 1_999, images=True) is None
    assert resolve_plan("auto", 2_000, images=True) == IMAGE_PLAN
    assert (IMAGE_PLAN.folds, IMAGE_PLAN.factor, IMAGE_PLAN.max_epochs) == (1, 1, 0)
    assert resolve_plan({"factor": 2}, 2_000, images=True).factor == 2
    assert resolve_plan({"folds": 0}, 2_000, images=True).n_folds(3) == 3
    assert resolve_plan("off", 10**6, images=True) is None

    digits = load_digits()
    X = np.vstack([digits.data, digits.data[:300]])  # 2,097 images of 8x8
    y = np.concatenate([digits.target, digits.target[:300]])
    space_file = tmp_path / "tinycnn.toml"
    space_file.write_text(TINY_CNN, encoding="utf-8")
    settings = {"population_size": 2, "generations": 1, "n_jobs": 1, "eval_timeout": None}
    evolver = Evolver(genome=space_file, input_shape="8x8", out=tmp_path / "run", **settings)
    evolver.fit(X, y)
    assert evolver.fidelity_plan_ == IMAGE_PLAN
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["fidelity"]["folds"] == 1 and info["fidelity"]["factor"] == 1
    journal = [json.loads(line) for line in (tmp_path / "run" / "journal.jsonl").open()]
    assert len(journal) == 4 and all(len(line["fold_scores"]) == 1 for line in journal)
    assert all("fidelity" not in line for line in journal)  # no screening rung
    # Fewer images: every fold, as before.
    evolver = Evolver(genome=space_file, input_shape="8x8", **settings).fit(X[:1797], y[:1797])
    assert evolver.fidelity_plan_ is None
