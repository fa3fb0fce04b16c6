"""The onnx export format: every layer kind, activation, preprocessing choice and precision
exports to a graph whose onnxruntime predictions are the estimator's."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.pipeline import Pipeline

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx
import toy_layer  # noqa: F401  (registers the plug-in kind 'wave')

from evosearch.data import check_dataset
from evosearch.deploy import (
    onnx_layers,
    read_model,
    register_onnx_layer,
    write_model,
)
from evosearch.errors import SettingsError
from evosearch.nn import GraphNetClassifier, GraphNetRegressor
from evosearch.preprocess import DataProfile, build_preprocessor, make_scaler
from evosearch.testing._tables import mixed_table
from evosearch.testing._tiny import iris

FIT: dict[str, Any] = {"max_epochs": 3, "random_state": 0, "learning_rate": 0.01}

# Every layer kind and activation, both pool modes, strides 1 and 2, kernels 1, 3 and 5, and
# merges of images (channels) and of vectors (features, an image flattened among them).
IMAGE_ARCH = {
    "input_shape": [8, 8, 1],
    "layers": [
        {"id": 2, "kind": "conv2d", "filters": 3, "kernel": 3, "stride": 2, "activation": "elu"},
        {"id": 3, "kind": "conv2d", "filters": 2, "kernel": 1, "stride": 2,
         "activation": "sigmoid"},
        {"id": 4, "kind": "pool", "mode": "max"},
        {"id": 5, "kind": "pool", "mode": "average"},
        {"id": 6, "kind": "conv2d", "filters": 2, "kernel": 5, "activation": "leaky_relu"},
        {"id": 7, "kind": "global_pool"},
        {"id": 8, "units": 6, "activation": "tanh"},
        {"id": 9, "units": 5, "activation": "relu"},
    ],
    "edges": [
        [0, 2], [0, 3], [2, 4], [3, 5], [4, 6], [5, 6], [6, 7],
        [7, 8], [2, 8], [0, 9], [8, 9], [9, 1],
    ],
}  # fmt: skip
MLP_ARCH = {
    "layers": [{"id": 2, "units": 16, "activation": "relu"}, {"id": 3, "units": 8}],
    "edges": [[0, 2], [2, 3], [3, 1], [0, 3]],
}


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300]


def _round_trip(model: Any, folder: Path, task: str = "classification") -> Any:
    write_model(model, folder, {"task": task}, "onnx")
    return read_model(folder)[0]


def _assert_same(model: Any, loaded: Any, X: Any) -> None:
    assert list(loaded.predict(X)) == list(model.predict(X))
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), atol=1e-5)


def test_every_layer_kind_and_activation_exports(digits, tmp_path: Path) -> None:
    X, y = digits
    model = Pipeline([("scale", make_scaler("standard")), ("net", GraphNetClassifier(IMAGE_ARCH,
        **FIT))]).fit(X, y)  # fmt: skip
    loaded = _round_trip(model, tmp_path)
    _assert_same(model, loaded, X)
    assert list(loaded.classes_) == list(range(10))
    ops = {node.op_type for node in onnx.load(tmp_path / "model.onnx").graph.node}
    assert {"Conv", "MaxPool", "AveragePool", "ReduceMean", "Concat", "Softmax"} <= ops
    assert {"Elu", "Sigmoid", "LeakyRelu", "Tanh", "Relu"} <= ops


@pytest.mark.parametrize(
    ("precision", "prune"), [("float32", 0.0), ("float32", 0.97), ("float16", 0.5), ("int8", 0.0),
                             ("int8", 0.75), ("int4", 0.0), ("int4", 0.5)]
)  # fmt: skip
def test_every_precision_exports_the_compressed_network_as_stored(
    digits, tmp_path: Path, precision: str, prune: float
) -> None:
    X, y = digits
    net = GraphNetClassifier(MLP_ARCH, precision=precision, prune=prune, finetune_epochs=1, **FIT)
    model = Pipeline([("scale", make_scaler("standard")), ("net", net)]).fit(X, y)
    loaded = _round_trip(model, tmp_path)
    _assert_same(model, loaded, X)  # the quantised estimator's predictions
    graph = onnx.load(tmp_path / "model.onnx").graph
    stored = {t.data_type for t in graph.initializer} | {
        s.values.data_type for s in graph.sparse_initializer
    }
    kind = {"float32": onnx.TensorProto.FLOAT, "float16": onnx.TensorProto.FLOAT16,
            "int8": onnx.TensorProto.INT8, "int4": onnx.TensorProto.INT8}[precision]  # fmt: skip
    assert kind in stored
    # The file is the weight payload (the bytes objective) plus the scaler's 2 x 64 float64
    # statistics and at most ~3 KB of graph: no float32 copy of compressed weights (int4
    # values are stored as int8 there: half a byte more each).
    payload = len(net.payload())
    if precision == "int4":
        payload += sum(int(np.count_nonzero(w)) for w in net.coefs_.values()) // 2 + 2
    size = (tmp_path / "model.onnx").stat().st_size
    assert payload + 2 * 64 * 8 < size < payload + 2 * 64 * 8 + 3200


@pytest.mark.parametrize("scale", ["standard", "robust", "quantile", "none"])
def test_every_scaler_of_a_plain_matrix_exports(digits, tmp_path: Path, scale: str) -> None:
    X, y = digits
    model = Pipeline([("scale", make_scaler(scale, len(X))), ("net", GraphNetClassifier(MLP_ARCH,
        **FIT))]).fit(X, y)  # fmt: skip
    _assert_same(model, _round_trip(model, tmp_path), load_digits().data[:600])


TABLE_GENES = [
    {"impute": "mean", "encode": "onehot", "scale": "standard"},
    {"impute": "median", "encode": "ordinal", "scale": "robust"},
    {"impute": "mean_indicator", "encode": "onehot", "scale": "quantile"},
    {"impute": "median_indicator", "encode": "ordinal", "scale": "none"},
]
ALL_TABLE_GENES = [
    {"impute": i, "encode": e, "scale": s}
    for i, e, s in itertools.product(
        ["mean", "median", "mean_indicator", "median_indicator"],
        ["onehot", "ordinal"],
        ["standard", "robust", "quantile", "none"],
    )
]


def _table_rows() -> tuple[Any, Any, Any]:
    table, label = mixed_table(80)
    dataset = check_dataset(table, label)
    new = dataset.X.copy()
    new.loc[0, "color"] = "purple"  # never seen: (other) or ignored
    new.loc[1, "color"] = None
    new.loc[2, "size"] = np.nan
    new.loc[3, "size"] = 1e6  # far outside the training range
    return dataset, new, label


def _check_table(genes: dict[str, str], tmp_path: Path) -> None:
    dataset, new, _ = _table_rows()
    prep = build_preprocessor(DataProfile.of(dataset), genes)
    model = Pipeline([("prep", prep), ("net", GraphNetClassifier(MLP_ARCH, **FIT))])
    model.fit(dataset.X, dataset.y)
    loaded = _round_trip(model, tmp_path)
    _assert_same(model, loaded, new)
    names = [i.name for i in onnx.load(tmp_path / "model.onnx").graph.input]
    assert names == ["size", "weight", "color", "shiny"]


@pytest.mark.parametrize("genes", TABLE_GENES, ids=lambda g: "-".join(g.values()))
def test_every_preprocessing_choice_of_a_table_exports(genes, tmp_path: Path) -> None:
    _check_table(genes, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("genes", ALL_TABLE_GENES, ids=lambda g: "-".join(g.values()))
def test_every_combination_of_preprocessing_choices_exports(genes, tmp_path: Path) -> None:
    _check_table(genes, tmp_path)


def test_a_regressor_on_a_table_exports_within_1e5_relative(tmp_path: Path) -> None:
    dataset, new, _ = _table_rows()
    y = np.nan_to_num(dataset.X["weight"].to_numpy(dtype=float)) * 3.0 + 100.0
    genes = {"impute": "median_indicator", "scale": "quantile"}
    prep = build_preprocessor(DataProfile.of(check_dataset(dataset.X, y, task="regression")), genes)
    model = Pipeline([("prep", prep), ("net", GraphNetRegressor(MLP_ARCH, **FIT))])
    model.fit(dataset.X, y)
    loaded = _round_trip(model, tmp_path, "regression")
    expected = model.predict(new)
    assert loaded.predict(new).shape == expected.shape == (len(new),)
    np.testing.assert_allclose(loaded.predict(new), expected, rtol=1e-5)


def test_columns_named_as_the_graphs_outputs_are_read_from_inputs_of_their_own(
    tmp_path: Path,
) -> None:
    # A table column called "label" or "probabilities" cannot be an input of that name (the
    # outputs have it; onnx refused the graph): it is read from "<column>_input", numbered past
    # a column that holds that name already.
    dataset, new, _ = _table_rows()
    names = {"size": "label", "color": "probabilities", "weight": "label_input"}
    table, new = dataset.X.rename(columns=names), new.rename(columns=names)
    prep = build_preprocessor(DataProfile.of(check_dataset(table, dataset.y)), {})
    model = Pipeline([("prep", prep), ("net", GraphNetClassifier(MLP_ARCH, **FIT))])
    model.fit(table, dataset.y)
    info = write_model(model, tmp_path, {"task": "classification"}, "onnx")
    inputs = {i.get("column", i["name"]): i["name"] for i in info["onnx"]["inputs"]}
    assert inputs == {"label": "label_input_2", "label_input": "label_input",
                      "probabilities": "probabilities_input", "shiny": "shiny"}  # fmt: skip
    _assert_same(model, read_model(tmp_path)[0], new)


def test_string_class_labels_come_back_as_labels(tmp_path: Path) -> None:
    X, y = iris()
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    model = Pipeline([("scale", make_scaler("standard")), ("net", GraphNetClassifier(MLP_ARCH,
        **FIT))]).fit(X, names)  # fmt: skip
    loaded = _round_trip(model, tmp_path)
    _assert_same(model, loaded, X)
    assert list(loaded.classes_) == ["setosa", "versicolor", "virginica"]


WAVE_ARCH = {
    "layers": [{"id": 2, "kind": "wave", "omega": 2.0}, {"id": 3, "units": 4}],
    "edges": [[0, 2], [2, 3], [3, 1]],
}


def _wave(layer: onnx_layers.OnnxLayer) -> str:
    g, hint = layer.graph, layer.hint
    w = g.weight(layer.weights, layer.precision, f"{hint}_w")
    b = g.weight(layer.biases, "float32", f"{hint}_b")
    z = g.op("Add", [g.op("Mul", [layer.x, w], f"{hint}_xw"), b], f"{hint}_z")
    omega = g.const(np.float32(layer.attrs["omega"]), f"{hint}_omega")
    return str(g.op("Sin", [g.op("Mul", [z, omega], f"{hint}_wz")], f"{hint}_out"))


def test_a_plugin_kind_is_refused_in_one_line_until_it_registers_its_onnx_form(
    tmp_path: Path,
) -> None:
    X, y = iris()
    model = Pipeline([("scale", make_scaler("standard")), ("net", GraphNetClassifier(WAVE_ARCH,
        **FIT))]).fit(X, y)  # fmt: skip
    with pytest.raises(SettingsError, match=r"^layer kind 'wave' has no ONNX export") as refused:
        write_model(model, tmp_path / "a", {"task": "classification"}, "onnx")
    assert "\n" not in str(refused.value)
    with onnx_layers.ONNX_LAYERS.scratch():
        register_onnx_layer("wave", _wave)
        (tmp_path / "b").mkdir()
        _assert_same(model, _round_trip(model, tmp_path / "b"), X)


@pytest.mark.parametrize("data", ["discrete", "continuous", "mixed"])
@pytest.mark.parametrize("output", ["uniform", "normal"])
def test_the_quantile_scaler_is_scikit_learns_to_the_last_bit(data: str, output: str) -> None:
    # Private machinery on purpose: the quantile scaler is exported as numpy.interp both ways
    # (repeated quantiles stored as their distinct values), which must be scikit-learn's floats.
    import onnxruntime as ort
    from sklearn.preprocessing import QuantileTransformer

    from evosearch.deploy._onnx_graph import OnnxGraph
    from evosearch.deploy._onnx_quantile import _Table, emit_quantile

    rng = np.random.default_rng(0)
    discrete = rng.integers(0, 5, (200, 2)).astype(float)
    continuous = rng.normal(size=(200, 2))
    columns = {"discrete": [discrete], "continuous": [continuous], "mixed": [discrete, continuous]}
    train = np.column_stack([*columns[data], np.full(200, 3.0)])  # and a constant column
    outside = np.array([[-50.0], [50.0], [2.5]]) * np.ones(train.shape[1])
    rows = np.vstack([train, outside, train[:5] + 1e-9])
    scaler = QuantileTransformer(n_quantiles=100, output_distribution=output).fit(train)
    assert _Table(scaler.quantiles_).distinct == (data == "discrete")
    graph = OnnxGraph()
    x = graph.add_input("X", onnx.TensorProto.DOUBLE, ["N", train.shape[1]])
    graph.op("Identity", [emit_quantile(graph, scaler, x)], output="y")
    graph.add_output("y", onnx.TensorProto.DOUBLE, ["N", train.shape[1]])
    session = ort.InferenceSession(graph.model("", {}).SerializeToString())
    got = session.run(None, {"X": rows})[0]
    if output == "uniform":
        np.testing.assert_array_equal(got, scaler.transform(rows))
    else:  # the normal quantile function: Acklam's approximation, relative error < 1.2e-9
        np.testing.assert_allclose(got, scaler.transform(rows), rtol=1e-8, atol=1e-8)
