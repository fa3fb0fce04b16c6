"""The ``python`` export format: a model.py and weights.npz that predict with numpy alone, as the
estimator does, for every layer kind, preprocessing choice and precision."""

from __future__ import annotations

import ast
import csv
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import toy_layer
from sklearn.datasets import load_digits
from sklearn.pipeline import Pipeline

from evosearch.data import Column, check_dataset, conform_table
from evosearch.data.table import MISSING_TEXT
from evosearch.deploy import read_model, write_model
from evosearch.deploy._python_runtime import is_missing
from evosearch.errors import SettingsError
from evosearch.evaluation import build_estimator
from evosearch.nn import ACTIVATIONS, GraphNetClassifier, GraphNetRegressor, layer_kinds
from evosearch.nn.layers.numpy_code import activate
from evosearch.preprocess import DataProfile, make_scaler
from evosearch.space import Genome
from evosearch.testing._tables import fitted_table_model, mixed_table
from evosearch.testing._tiny import TINY_HYPER
from evosearch.testing.layers import example_layers

FAST = {"max_epochs": 3, "batch_size": 64, "learning_rate": 0.01, "random_state": 0}


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300]


def plain_info(task: str, n_features: int) -> dict[str, Any]:
    features = [f"x{i}" for i in range(n_features)]
    return {"task": task, "features": features, "target": "y", "columns": None, "options": {}}


def export(model: Any, folder: Path, info: dict[str, Any]) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    write_model(model, folder, info, "python")
    return read_model(folder)[0]


def assert_same_classifier(model: Any, exported: Any, X: Any, y_or_table: Any = None) -> None:
    expected = model.predict_proba(X if y_or_table is None else y_or_table)
    got = exported.predict_proba(X)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(exported.predict(X), model.classes_[expected.argmax(axis=1)])
    np.testing.assert_array_equal(exported.classes_, model.classes_)


# ---- layer kinds ------------------------------------------------------------------------------


def _numpy_function(kind: Any) -> Any:
    namespace: dict[str, Any] = {"np": np}
    for snippet in kind.numpy_source():
        exec(snippet, namespace)
    return namespace[f"{kind.name}_layer"]


KINDS = [k for k in layer_kinds().values() if k.numpy_source() is not None]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_a_kinds_numpy_code_computes_its_forward_pass(kind: Any) -> None:
    """For every attribute example of the contract suite, on an odd-sided image (pooling drops a
    row, a stride-2 convolution pads unevenly) or a flat input."""
    function, rng = _numpy_function(kind), np.random.default_rng(0)
    in_shape = (5, 7, 3) if kind.image_input else (6,)
    for example in example_layers(kind):
        attrs = kind.check_attributes(example)
        w_shape, b_shape = kind.parameter_shapes(attrs, in_shape)
        weights, biases = rng.normal(size=w_shape), rng.normal(size=b_shape)
        x = rng.normal(size=(4, *in_shape))
        buffers = kind.workspace(attrs, in_shape, 4, False, np.float64)
        expected = kind.forward(attrs, weights, biases, x, buffers, None)
        got = function(
            x, weights if weights.size else None, biases if biases.size else None, **attrs
        )
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=str(attrs))


@pytest.mark.parametrize("activation", [*ACTIVATIONS, "linear"])
def test_every_activation_has_numpy_code(activation: str) -> None:
    from evosearch.nn.layers.dense import _activate

    a = np.linspace(-800.0, 800.0, 41)  # sigmoid and elu at extremes too
    expected = a.copy()
    _activate(activation, expected, np.empty_like(a))
    np.testing.assert_allclose(activate(a, activation), expected, rtol=1e-15, atol=1e-300)


IMAGE_NET = {
    "input_shape": [8, 8, 1],
    "layers": [
        {"id": 2, "kind": "conv2d", "filters": 4, "kernel": 3, "stride": 2, "activation": "elu"},
        {"id": 3, "kind": "conv2d", "filters": 3, "kernel": 1, "activation": "sigmoid"},
        {"id": 4, "kind": "pool", "mode": "average"},
        {"id": 5, "kind": "pool", "mode": "max"},
        {"id": 6, "kind": "global_pool"},
        {"id": 7, "kind": "dense", "units": 6, "activation": "leaky_relu", "dropout": 0.2},
        {"id": 8, "kind": "conv2d", "filters": 2, "kernel": 5, "stride": 2, "activation": "tanh"},
    ],
    # Channels merge (2, 8 -> 3), flat outputs merge (6, 7, and the raw image -> 1).
    "edges": [
        [0, 2],
        [0, 8],
        [2, 3],
        [8, 3],
        [3, 4],
        [0, 5],
        [5, 6],
        [4, 7],
        [6, 1],
        [7, 1],
        [0, 1],
    ],
}


def test_an_image_network_of_every_kind_predicts_as_the_estimator(digits, tmp_path) -> None:
    X, y = digits
    net = GraphNetClassifier(IMAGE_NET, **FAST)
    model = Pipeline([("scale", make_scaler("standard")), ("net", net)]).fit(X, y)
    exported = export(model, tmp_path, plain_info("classification", 64))
    assert_same_classifier(model, exported, X)
    source = (tmp_path / "model.py").read_text()
    for name in ("conv2d_layer", "pool_layer", "global_pool_layer", "dense_layer"):
        assert f"def {name}(" in source
    assert "h0 = x.reshape(-1, 8, 8, 1)" in source


# ---- precision and pruning --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("precision", "prune"),
    [
        ("float32", 0.0),
        ("float16", 0.0),
        ("int8", 0.0),
        ("int8", 0.5),
        ("int4", 0.0),
        ("int4", 0.5),
        ("float32", 0.6),
    ],
)
def test_compressed_models_predict_exactly_as_the_compressed_estimator(
    digits, tmp_path, precision, prune
) -> None:
    X, y = digits
    arch = {"layers": [{"id": 2, "units": 16, "activation": "relu"}], "edges": [[0, 2], [2, 1]]}
    net = GraphNetClassifier(arch, precision=precision, prune=prune, finetune_epochs=1, **FAST)
    model = Pipeline([("scale", make_scaler("standard")), ("net", net)]).fit(X, y)
    exported = export(model, tmp_path, plain_info("classification", 64))
    np.testing.assert_allclose(exported.predict_proba(X), model.predict_proba(X), atol=1e-12)
    np.testing.assert_array_equal(exported.predict(X), model.predict(X))
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as stored:
        assert stored["w2"].dtype == np.dtype("int8" if precision == "int4" else precision)
        assert stored["b2"].dtype == np.dtype("float16" if precision == "float16" else "float32")
        assert ("s2" in stored.files) == (precision in ("int8", "int4"))
        assert np.sum(stored["w2"] == 0) >= int(prune * stored["w2"].size)
    # The npz holds the weights as the payload does, so it is no bigger than the payload plus
    # the zip's and npy headers' overhead (and the scaler's statistics).
    payload = len(net.payload())
    assert (tmp_path / "weights.npz").stat().st_size < payload + 3000


# ---- preprocessing ----------------------------------------------------------------------------


@pytest.mark.parametrize("scale", ["standard", "robust", "quantile", "none"])
def test_each_scaling_of_a_plain_matrix_is_reproduced(digits, tmp_path, scale) -> None:
    X, y = digits
    genome = Genome.chain(64, 10, [{"units": 8, "activation": "tanh", "dropout": 0.0}], TINY_HYPER)
    genome.preprocessing = {"scale": scale}
    profile = DataProfile(None, 64, len(y), "classification")
    model = build_estimator(genome, "classification", 0, profile=profile).fit(X, y)
    exported = export(model, tmp_path, plain_info("classification", 64))
    X_new = X + np.random.default_rng(1).normal(0, 3, X.shape)  # beyond the training range too
    assert_same_classifier(model, exported, X_new)
    # A mapping of columns (a DataFrame) is read by name.
    frame = pd.DataFrame(X_new, columns=[f"x{i}" for i in range(64)]).iloc[:, ::-1]
    np.testing.assert_array_equal(exported.predict_proba(frame), exported.predict_proba(X_new))


def test_regressors_predict_within_1e_5_relative(tmp_path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    y = X @ [1.0, -2.0, 0.5, 0.0, 3.0] + 10.0
    arch = {"layers": [{"id": 2, "units": 8, "activation": "tanh"}], "edges": [[0, 2], [2, 1]]}
    for target, folder in ((y, "one"), (np.column_stack([y, -y]), "two")):
        net = GraphNetRegressor(arch, **FAST)
        model = Pipeline([("scale", make_scaler("quantile", 120)), ("net", net)]).fit(X, target)
        exported = export(model, tmp_path / folder, plain_info("regression", 5))
        got, expected = exported.predict(X), model.predict(X)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-5)
        assert not hasattr(exported, "predict_proba") and not hasattr(exported, "classes_")


TABLE_GENES = [
    {"impute": "mean", "encode": "onehot", "scale": "standard"},
    {"impute": "median_indicator", "encode": "ordinal", "scale": "quantile"},
    {"impute": "mean_indicator", "encode": "onehot", "scale": "robust"},
    {"impute": "median", "encode": "ordinal", "scale": "none"},
]


def table_model(genes: dict[str, str], missing: float = 0.05) -> tuple[Any, dict[str, Any]]:
    X, y = mixed_table(80, missing=missing)
    model, info = fitted_table_model(check_dataset(X, y, n_splits=3), genes)
    info["options"]["na_values"] = ["?"]  # as `--na-values ?` records it
    return model, info


def raw_rows() -> dict[str, list[Any]]:
    """New rows as a user hands them over: text numbers, every kind of missing cell, an unseen
    level, the rare level, booleans as values and as text."""
    return {
        "size": [0.5, "1.5", None, "", "NA", " -2 ", float("nan"), "?", 3.0, -0.1],
        "weight": [1.0, 2.0, 3.0, "null", 0.5, None, "4", "N/A", -1.0, 0.0],
        "color": ["red", " blue", "purple", None, "", "violet", "nan", "green", "?", "Red"],
        "shiny": [True, False, "True", None, "False", True, "", False, True, "maybe"],
    }


@pytest.mark.parametrize("genes", TABLE_GENES, ids=lambda g: "-".join(g.values()))
def test_each_table_preprocessing_is_reproduced_on_raw_cells(tmp_path, genes) -> None:
    model, info = table_model(genes)
    exported = export(model, tmp_path, info)
    raw = raw_rows()
    columns = [Column.from_json(c) for c in info["columns"]]
    # What `evosearch predict` hands the joblib model for the same cells.
    conformed = conform_table(pd.DataFrame(raw, dtype=object), columns, "rows", ["?"])
    assert_same_classifier(model, exported, raw, conformed)
    assert_same_classifier(model, exported, conformed)
    rows = np.array([raw[name] for name in info["features"]], dtype=object).T
    np.testing.assert_array_equal(exported.predict_proba(rows), exported.predict_proba(raw))


@pytest.mark.slow
@pytest.mark.parametrize("impute", ["mean", "median", "mean_indicator", "median_indicator"])
@pytest.mark.parametrize("encode", ["onehot", "ordinal"])
@pytest.mark.parametrize("scale", ["standard", "robust", "quantile", "none"])
def test_every_table_preprocessing_combination_is_reproduced(tmp_path, impute, encode, scale):
    genes = {"impute": impute, "encode": encode, "scale": scale}
    model, info = table_model(genes, missing=0.1)
    exported = export(model, tmp_path, info)
    columns = [Column.from_json(c) for c in info["columns"]]
    conformed = conform_table(pd.DataFrame(raw_rows(), dtype=object), columns, "rows", ["?"])
    assert_same_classifier(model, exported, raw_rows(), conformed)


def test_bad_tables_are_refused_with_one_line(tmp_path) -> None:
    model, info = table_model(TABLE_GENES[0])
    exported = export(model, tmp_path / "a", info)
    raw = raw_rows()
    with pytest.raises(ValueError, match="no column 'size'"):
        exported.predict({k: v for k, v in raw.items() if k != "size"})
    with pytest.raises(ValueError, match="numeric column 'weight' holds 'heavy'"):
        exported.predict({**raw, "weight": ["heavy"] * 10})
    complete, info = table_model(TABLE_GENES[0], missing=0.0)
    refused = export(complete, tmp_path / "b", info)
    with pytest.raises(ValueError, match="column 'size' has missing cells"):
        refused.predict(raw)


def test_missing_text_is_the_data_readers() -> None:
    for text in MISSING_TEXT:
        assert is_missing(text.upper(), ()) and is_missing(f" {text} ", ())
    assert is_missing("?", ("?",)) and not is_missing("x", ("X",)) and not is_missing("0", ())


# ---- numpy alone ------------------------------------------------------------------------------


def _numpy_only_site(folder: Path) -> Path:
    """A folder holding numpy (and its bundled libraries) and nothing else."""
    site = folder / "site"
    site.mkdir()
    numpy_dir = Path(np.__file__).parent
    for sibling in numpy_dir.parent.iterdir():
        if sibling.name == "numpy" or sibling.name.startswith("numpy.libs"):
            (site / sibling.name).symlink_to(sibling)
    return site


NUMPY_ONLY = """
import runpy, sys
stdlib = sys.stdlib_module_names | {"numpy"}

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] not in stdlib:
            raise ImportError(f"{name} is not numpy or the standard library")

sys.meta_path.insert(0, Refuse())
sys.path.insert(0, sys.argv[1])
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_the_model_file_needs_numpy_alone(tmp_path) -> None:
    model, info = table_model(TABLE_GENES[1])
    exported = export(model, tmp_path / "model", info)
    source = (tmp_path / "model" / "model.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.partition(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"numpy"}
    pd.DataFrame(raw_rows()).assign(label="yes").to_csv(tmp_path / "new.csv", index=False)
    # -I -S: no user site, no site-packages, no PYTHONPATH; only numpy is put on the path.
    command = [sys.executable, "-I", "-S", "-c", NUMPY_ONLY, str(_numpy_only_site(tmp_path))]
    model_py = str(tmp_path / "model" / "model.py")
    env = {"PATH": os.environ.get("PATH", ""), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(
        [*command, model_py, str(tmp_path / "new.csv"), "--proba"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["label", "proba_no", "proba_yes"]
    expected = exported.predict_proba(raw_rows())
    np.testing.assert_allclose(np.array(rows[1:])[:, 1:].astype(float), expected, rtol=1e-15)
    assert [r[0] for r in rows[1:]] == list(exported.predict(raw_rows()))
    usage = subprocess.run([*command, model_py], capture_output=True, text=True, env=env,
                           timeout=120, check=False)  # fmt: skip
    assert usage.returncode == 2 and "usage: python model.py data.csv [--proba]" in usage.stderr


# ---- plug-in layer kinds ----------------------------------------------------------------------

WAVE_NET = {
    "layers": [{"id": 2, "kind": "wave", "omega": 2.0}, {"id": 3, "units": 4}],
    "edges": [[0, 2], [2, 3], [3, 1]],
}

WAVE_SOURCE = '''
def wave_layer(x, weights, biases, omega=1.0):
    """sin(omega * (x * weights + biases)), per feature."""
    return np.sin(omega * (x * weights + biases))
'''


def test_a_kind_without_numpy_code_is_refused_in_one_line_and_one_with_it_exports(
    digits, tmp_path, monkeypatch
) -> None:
    X, y = digits
    model = Pipeline([("scale", make_scaler("standard")), ("net", GraphNetClassifier(WAVE_NET,
                     **FAST))]).fit(X, y)  # fmt: skip
    with pytest.raises(SettingsError, match="layer kind 'wave' has no numpy code") as refused:
        write_model(model, tmp_path, plain_info("classification", 64), "python")
    assert "\n" not in str(refused.value) and not any(tmp_path.iterdir())
    monkeypatch.setattr(toy_layer.Wave, "numpy_source", lambda self: (WAVE_SOURCE,))
    assert_same_classifier(model, export(model, tmp_path, plain_info("classification", 64)), X)


# ---- the command line -------------------------------------------------------------------------


LEGACY_IRIS = Path(__file__).parent / "data" / "legacy" / "iris-0.1.0"


def test_export_format_python_then_predict_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`evosearch export RUN --format python`, then `evosearch predict` on it: the predictions
    of the joblib export of the same member (in-process commands; the slow test below runs the
    real command on a table)."""
    import json

    from evosearch.cli.main import main

    monkeypatch.chdir(tmp_path)
    run = str(LEGACY_IRIS)
    assert main(["export", run, "--out", "numpy", "--format", "python"]) == 0
    assert "(python: model.py, weights.npz)" in capsys.readouterr().out
    assert main(["export", run, "--out", "pickle"]) == 0
    info = json.loads(Path("numpy/model.json").read_text())
    assert info["format"] == "python" and info["files"] == ["model.py", "weights.npz"]
    X = np.random.default_rng(0).normal(5.0, 2.0, (30, 4))
    pd.DataFrame(X, columns=info["features"]).to_csv("new.csv", index=False)
    for folder in ("numpy", "pickle"):
        assert main(["predict", folder, "new.csv", "--proba", "--out", f"{folder}.csv"]) == 0
    got, expected = pd.read_csv("numpy.csv"), pd.read_csv("pickle.csv")
    assert list(got.columns) == list(expected.columns) and len(got) == 30
    assert (got.iloc[:, 0] == expected.iloc[:, 0]).all()
    np.testing.assert_allclose(got.iloc[:, 1:], expected.iloc[:, 1:], rtol=0, atol=1e-5)


@pytest.mark.slow
def test_a_table_run_exported_as_python_predicts_through_the_real_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The python export of a table run: `evosearch predict` (the real command) on raw cells,
    with the run's scoring in its note, equals the joblib export's predictions."""
    from clitools import assert_clean, evosearch
    from evosearch.cli.main import main
    from evosearch.testing._tiny import tiny_toml

    X, y = mixed_table(60)
    X.assign(label=y).to_csv(tmp_path / "t.csv", index=False)
    labels = ["yes", "no"] * 5
    pd.DataFrame(raw_rows()).assign(label=labels).to_csv(tmp_path / "new.csv", index=False)
    (tmp_path / "tiny.toml").write_text(tiny_toml(max_epochs=(3,)), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    evolve = ["evolve", "--data", "t.csv", "--target", "label", "--genome", "tiny.toml",
              "--population", "2", "--generations", "1", "--cv", "2", "--n-jobs", "1",
              "--quiet", "--scoring", "balanced_accuracy", "--na-values", "?",
              "--out", "run"]  # fmt: skip
    assert main(evolve) == 0
    assert main(["export", "run", "--out", "numpy", "--format", "python"]) == 0
    assert main(["export", "run", "--out", "pickle"]) == 0
    assert main(["predict", "pickle", "new.csv", "--proba", "--out", "expected.csv"]) == 0
    done = evosearch("predict", "numpy", "new.csv", "--proba", "--out", "got.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert_clean(done)
    assert "balanced_accuracy" in done.stdout
    assert "on the 10 rows with a known 'label'" in done.stdout
    got, expected = pd.read_csv("got.csv"), pd.read_csv("expected.csv")
    assert list(got.columns) == ["label", "proba_no", "proba_yes"]
    assert (got["label"] == expected["label"]).all()
    np.testing.assert_allclose(got.iloc[:, 1:], expected.iloc[:, 1:], rtol=0, atol=1e-5)
