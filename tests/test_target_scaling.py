"""A regressor standardises its target inside the model and predicts in the target's units.

The network trains on ``(y - y_mean_) / y_scale_`` (per column, fitted on the rows ``fit``
gets), so a target around 35,000 or 10⁶ trains like one of scale 1; predictions, every export
format and scores are in the target's units. Models pickled before this existed (and
``scale_target=False``) train and predict on the raw target as before.
"""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import r2_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from evosearch.deploy import read_model, write_model
from evosearch.nn import DivergenceError, GraphNetRegressor
from evosearch.nn.compress import decode

LEGACY_MODEL = Path(__file__).parent / "data" / "legacy" / "regressor-4ce4263"
ARCH = {"layers": [{"id": 2, "units": 8, "activation": "tanh"}], "edges": [[0, 2], [2, 1]]}
FAST = {"learning_rate": 0.01, "batch_size": 32, "max_epochs": 60, "random_state": 0}
HAS_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))


def data(scale: float = 1.0, offset: float = 0.0, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + 0.1 * rng.normal(size=n)
    return X, scale * y + offset


@pytest.mark.parametrize("offset", [35_000.0, 1e6])
def test_a_large_target_trains_like_a_standardised_one(offset):
    X, y = data()
    X, big = data(scale=offset / 10, offset=offset)
    small = GraphNetRegressor(ARCH, **FAST).fit(X, y)
    large = GraphNetRegressor(ARCH, **FAST).fit(X, big)
    np.testing.assert_allclose(large.y_mean_, [big.mean()])
    np.testing.assert_allclose(large.y_scale_, [big.std()])
    # The standardised targets agree to float32 rounding, so training takes the same path and
    # the predictions are the small model's in the large target's units.
    assert large.n_epochs_ == small.n_epochs_
    expected = small.predict(X) * (offset / 10) + offset
    np.testing.assert_allclose(large.predict(X), expected, rtol=1e-5)
    assert large.score(X, big) == pytest.approx(small.score(X, y), abs=1e-4)
    assert large.score(X, big) > 0.95


def test_a_target_that_diverges_raw_trains_standardised():
    X, y = data(scale=3000.0, offset=35_000.0)
    relu = {"layers": [{"id": 2, "units": 8, "activation": "relu"}], "edges": [[0, 2], [2, 1]]}
    settings = {**FAST, "optimizer": "sgd", "learning_rate": 0.01}
    with pytest.raises(DivergenceError):
        GraphNetRegressor(relu, scale_target=False, **settings).fit(X, y)
    model = GraphNetRegressor(relu, **settings).fit(X, y)
    assert model.score(X, y) > 0.95
    assert np.all(np.isfinite(model.loss_curve_))


def test_each_target_column_gets_its_own_scale():
    X, y = data()
    Y = np.column_stack([y, 1e5 * y + 7.0, np.full_like(y, 3.0)])
    model = GraphNetRegressor(ARCH, **FAST).fit(X, Y)
    np.testing.assert_allclose(model.y_mean_, Y.mean(axis=0))
    np.testing.assert_allclose(model.y_scale_, [y.std(), 1e5 * y.std(), 1.0])  # constant: 1
    pred = model.predict(X)
    assert pred.shape == Y.shape
    np.testing.assert_allclose(pred[:, 2], 3.0, atol=0.2)  # trained towards 0 + 3
    assert r2_score(Y[:, :2], pred[:, :2], multioutput="raw_values").min() > 0.95


def test_rows_of_weight_zero_do_not_move_the_mean_or_the_scale():
    X, y = data()
    weights = np.ones_like(y)
    weighted = y.copy()
    weighted[:20], weights[:20] = 1e9, 0.0  # outliers the weights exclude
    model = GraphNetRegressor(ARCH, **FAST).fit(X, weighted, sample_weight=weights)
    np.testing.assert_allclose(model.y_mean_, [y[20:].mean()])
    np.testing.assert_allclose(model.y_scale_, [y[20:].std()])
    ones = GraphNetRegressor(ARCH, **FAST).fit(X, y, sample_weight=np.ones_like(y))
    plain = GraphNetRegressor(ARCH, **FAST).fit(X, y)
    assert ones.y_mean_.tolist() == plain.y_mean_.tolist()
    assert ones.y_scale_.tolist() == plain.y_scale_.tolist()


def test_weight_blocks_are_in_standardised_units_so_a_warm_start_fits_any_scale():
    X, y = data()
    parent = GraphNetRegressor(ARCH, **FAST).fit(X, y)
    X, big = data(scale=1e4, offset=5e5)
    child = GraphNetRegressor(
        ARCH, **{**FAST, "max_epochs": 1}, initial_weights=parent.weight_blocks()
    ).fit(X, big)
    assert child.score(X, big) > 0.95  # one epoch on from the parent's weights


def test_scale_target_false_trains_the_raw_target_as_the_code_before_it():
    expected = np.load(LEGACY_MODEL / "expected.npz")
    rng = np.random.default_rng(7)  # the data the legacy model was fitted on
    X = rng.normal(size=(60, 3))
    y = 2.0 * X[:, 0] - X[:, 1] + 0.1 * rng.normal(size=60) + 5.0
    arch = {"layers": [{"id": 2, "units": 4, "activation": "tanh"}], "edges": [[0, 2], [2, 1]]}
    net = GraphNetRegressor(arch, learning_rate=0.01, max_epochs=20, random_state=0)
    model = Pipeline([("scale", StandardScaler()), ("net", net.set_params(scale_target=False))])
    model.fit(X, y)
    # To rounding: another numpy's BLAS sums in another order (1e-9 apart with numpy 2.4),
    # while a scaled target would move the predictions by far more than this tolerance.
    np.testing.assert_allclose(model.predict(expected["X"]), expected["predictions"], rtol=1e-6)
    assert model[-1].y_mean_ is None and model[-1].y_scale_ is None


def test_a_model_pickled_before_target_scaling_loads_and_predicts_the_same():
    expected = np.load(LEGACY_MODEL / "expected.npz")
    model = joblib.load(LEGACY_MODEL / "model.joblib")
    assert model.predict(expected["X"]).tolist() == expected["predictions"].tolist()
    net = model[-1]
    assert net.get_params()["scale_target"] is False
    assert clone(net).scale_target is False  # refitting it trains as it was trained
    again = pickle.loads(pickle.dumps(model))
    assert again.predict(expected["X"]).tolist() == expected["predictions"].tolist()


def test_scale_target_must_be_a_bool():
    X, y = data()
    with pytest.raises(ValueError, match="scale_target must be True or False"):
        GraphNetRegressor(ARCH, scale_target="yes").fit(X, y)


def _exported(model: Any, folder: Path, fmt: str) -> Any:
    folder.mkdir()
    info = {"task": "regression", "features": [f"x{i}" for i in range(4)], "target": "y",
            "columns": None, "options": {}}  # fmt: skip
    write_model(model, folder, info, fmt)
    return read_model(folder)[0]


FORMATS = ["joblib", "python", pytest.param("onnx", marks=pytest.mark.skipif(
    not HAS_ONNX, reason="needs onnx and onnxruntime"))]  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("precision", ["float32", "int8"])
def test_every_export_predicts_in_the_targets_units(tmp_path, fmt, precision):
    X, y = data(scale=1e5, offset=1e6)
    net = GraphNetRegressor(ARCH, precision=precision, **FAST)
    model = Pipeline([("scale", StandardScaler()), ("net", net)]).fit(X, y)
    expected = model.predict(X)
    assert r2_score(y, expected) > 0.9
    loaded = _exported(model, tmp_path / "model", fmt)
    got = loaded.predict(X)
    assert got.shape == expected.shape
    # ONNX computes in float32 (about 1e-7 of the magnitude), the others in float64.
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_the_payload_is_the_standardised_network_and_counts_no_more_bytes():
    X, y = data(scale=1e5, offset=1e6)
    model = GraphNetRegressor(ARCH, **FAST).fit(X, y)
    unscaled = GraphNetRegressor(ARCH, scale_target=False, **FAST).fit(X, y)
    assert len(model.payload()) == len(unscaled.payload()) == 4 * model.n_params_
    shapes = [
        (w.shape, b.shape)
        for w, b in zip(model.coefs_.values(), model.intercepts_.values(), strict=True)
    ]
    weights, biases = decode(shapes, model.payload(), 0.0, "float32")
    raw = np.tanh(X @ weights[0] + biases[0]) @ weights[1] + biases[1]
    np.testing.assert_allclose(raw[:, 0] * model.y_scale_[0] + model.y_mean_[0],
                               model.predict(X), rtol=1e-6)  # fmt: skip
