"""Tests for weight inheritance in the GraphNet estimators: initial_weights and weight_blocks."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_regression
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler

from evosearch.nn import GraphNetClassifier, GraphNetRegressor

# Skip connections, so node 3 and the output read several predecessors (several row blocks).
DAG: dict[str, Any] = {
    "layers": [
        {"id": 2, "units": 16, "activation": "elu", "dropout": 0.2},
        {"id": 3, "units": 8, "activation": "tanh", "dropout": 0.0},
    ],
    "edges": [[0, 2], [0, 3], [2, 3], [3, 1], [2, 1], [0, 1]],
}
DAG_KEYS = {"w:0:2", "w:0:3", "w:2:3", "w:0:1", "w:2:1", "w:3:1", "b:2", "b:3", "b:1"}

# A fit that leaves the starting weights as they are (to float32 resolution), so the fitted
# network shows what it was initialised with.
FROZEN: dict[str, Any] = {
    "optimizer": "sgd",
    "learning_rate": 1e-12,
    "max_epochs": 1,
    "early_stopping": False,
}


def layer(node_id: int, units: int, activation: str = "relu") -> dict[str, Any]:
    return {"id": node_id, "units": units, "activation": activation, "dropout": 0.0}


def with_units(architecture: dict[str, Any], node_id: int, units: int) -> dict[str, Any]:
    changed = copy.deepcopy(architecture)
    for spec in changed["layers"]:
        if spec["id"] == node_id:
            spec["units"] = units
    return changed


@pytest.fixture(scope="module")
def iris_parent(iris):
    X_train, _, y_train, _ = iris
    return GraphNetClassifier(DAG, learning_rate=0.01, max_epochs=60, random_state=0).fit(
        X_train, y_train
    )


# ---------------------------------------------------------------------------------------------
# weight_blocks
# ---------------------------------------------------------------------------------------------


def test_weight_blocks_has_one_block_per_edge_and_node(iris_parent):
    blocks = iris_parent.weight_blocks()
    assert set(blocks) == DAG_KEYS
    n_features, n_classes = iris_parent.n_features_in_, iris_parent.n_outputs_
    assert blocks["w:0:2"].shape == (n_features, 16)
    assert blocks["w:2:3"].shape == (16, 8)
    assert blocks["w:3:1"].shape == (8, n_classes)
    assert blocks["b:1"].shape == (n_classes,)
    assert all(block.dtype == np.float32 for block in blocks.values())
    assert sum(block.size for block in blocks.values()) == iris_parent.n_params_


def test_weight_blocks_returns_copies(iris, iris_parent):
    _, X_test, _, _ = iris
    before = iris_parent.predict_proba(X_test)
    for block in iris_parent.weight_blocks().values():
        block[...] = 0.0
    np.testing.assert_array_equal(iris_parent.predict_proba(X_test), before)


def test_weight_blocks_needs_a_fitted_estimator():
    with pytest.raises(NotFittedError):
        GraphNetClassifier().weight_blocks()


# ---------------------------------------------------------------------------------------------
# (a) round trip
# ---------------------------------------------------------------------------------------------


def test_round_trip_reproduces_iris_parent(iris, iris_parent):
    X_train, X_test, y_train, _ = iris
    child = GraphNetClassifier(
        DAG, initial_weights=iris_parent.weight_blocks(), random_state=5, **FROZEN
    ).fit(X_train, y_train)
    np.testing.assert_allclose(
        child.predict_proba(X_test), iris_parent.predict_proba(X_test), atol=1e-5
    )


def test_round_trip_reproduces_digits_parent(digits):
    X, y = digits
    arch = {"layers": [layer(2, 32), layer(7, 16, "tanh")], "edges": [[0, 2], [2, 7], [7, 1]]}
    parent = GraphNetClassifier(arch, max_epochs=20, random_state=1).fit(X, y)
    child = GraphNetClassifier(arch, initial_weights=parent.weight_blocks(), **FROZEN).fit(X, y)
    np.testing.assert_allclose(child.predict_proba(X), parent.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(child.predict(X), parent.predict(X))


def test_float64_blocks_are_accepted(iris, iris_parent):
    X_train, X_test, y_train, _ = iris
    blocks = {key: block.astype(np.float64) for key, block in iris_parent.weight_blocks().items()}
    child = GraphNetClassifier(DAG, initial_weights=blocks, **FROZEN).fit(X_train, y_train)
    assert all(block.dtype == np.float32 for block in child.weight_blocks().values())
    np.testing.assert_allclose(
        child.predict_proba(X_test), iris_parent.predict_proba(X_test), atol=1e-5
    )


# ---------------------------------------------------------------------------------------------
# (b) partial inheritance "where layers match"
# ---------------------------------------------------------------------------------------------


def check_partial(
    parent: GraphNetClassifier, child_arch: dict[str, Any], X: Any, y: Any, inherited: set[str]
) -> None:
    """The child keeps exactly the ``inherited`` blocks of the parent; the others are the
    random initialisation a fresh fit (same seed) gets."""
    parent_blocks = parent.weight_blocks()
    child = GraphNetClassifier(
        child_arch, initial_weights=parent_blocks, random_state=11, **FROZEN
    ).fit(X, y)
    fresh = GraphNetClassifier(child_arch, random_state=11, **FROZEN).fit(X, y)
    child_blocks, fresh_blocks = child.weight_blocks(), fresh.weight_blocks()
    assert set(child_blocks) == set(fresh_blocks)
    for key, block in child_blocks.items():
        if key in inherited:
            np.testing.assert_allclose(block, parent_blocks[key], atol=1e-6, err_msg=key)
            assert not np.allclose(block, fresh_blocks[key], atol=1e-3), key
        else:
            np.testing.assert_allclose(block, fresh_blocks[key], atol=1e-6, err_msg=key)
            if key in parent_blocks and block.shape == parent_blocks[key].shape:
                pytest.fail(f"{key} has the parent's shape but was not inherited")


def test_changed_width_inherits_only_matching_blocks(iris, iris_parent):
    X_train, _, y_train, _ = iris
    # Widening node 3 changes every block touching it; the output's other row blocks still fit.
    child_arch = with_units(DAG, 3, 12)
    inherited = {"w:0:2", "b:2", "w:0:1", "w:2:1", "b:1"}
    check_partial(iris_parent, child_arch, X_train, y_train, inherited)


def test_extra_hidden_layer_inherits_surrounding_blocks(digits):
    X, y = digits
    parent_arch = {"layers": [layer(2, 24)], "edges": [[0, 2], [2, 1]]}
    parent = GraphNetClassifier(parent_arch, max_epochs=10, random_state=2).fit(X, y)
    # Node 5 is inserted on the edge 2 -> 1, which the child no longer has.
    child_arch = {"layers": [layer(2, 24), layer(5, 12)], "edges": [[0, 2], [2, 5], [5, 1]]}
    check_partial(parent, child_arch, X, y, inherited={"w:0:2", "b:2", "b:1"})


# ---------------------------------------------------------------------------------------------
# (c) no inheritance changes nothing, including the random stream
# ---------------------------------------------------------------------------------------------


def assert_same_fit(a: GraphNetClassifier, b: GraphNetClassifier, X: Any) -> None:
    assert a.loss_curve_ == b.loss_curve_
    assert a.validation_losses_ == b.validation_losses_
    for key, block in a.weight_blocks().items():
        np.testing.assert_array_equal(block, b.weight_blocks()[key], err_msg=key)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize(
    "initial_weights",
    [
        None,
        {},
        # Unknown nodes / edges, and known keys with the wrong shape, are all ignored.
        {"w:0:9": np.ones((4, 16)), "b:9": np.ones(3), "w:3:2": np.ones((8, 16))},
        {"w:0:2": np.ones((4, 15)), "b:2": np.ones((1, 16)), "b:1": np.ones(4)},
    ],
    ids=["none", "empty", "unknown-keys", "wrong-shapes"],
)
def test_nothing_to_inherit_is_bit_identical_to_omitting_it(iris, initial_weights):
    X_train, X_test, y_train, _ = iris
    params: dict[str, Any] = {"learning_rate": 0.01, "max_epochs": 30, "random_state": 3}
    omitted = GraphNetClassifier(DAG, **params).fit(X_train, y_train)
    given = GraphNetClassifier(DAG, initial_weights=initial_weights, **params).fit(X_train, y_train)
    assert_same_fit(omitted, given, X_test)


# ---------------------------------------------------------------------------------------------
# (d) inheritance pays off
# ---------------------------------------------------------------------------------------------


def test_inherited_start_stops_sooner_than_fresh_start(digits):
    X, y = digits
    arch = {"layers": [layer(2, 32)], "edges": [[0, 2], [2, 1]]}
    parent = GraphNetClassifier(arch, patience=5, random_state=0).fit(X, y)
    # Another seed, hence another validation split: the gain is not a replay of the parent.
    fresh = GraphNetClassifier(arch, patience=5, random_state=1).fit(X, y)
    child = GraphNetClassifier(
        arch, patience=5, random_state=1, initial_weights=parent.weight_blocks()
    ).fit(X, y)
    # Measured: fresh ~127 epochs, inherited ~17 (about 4x margin across seeds at least).
    assert child.n_epochs_ < fresh.n_epochs_ / 2
    assert child.best_validation_score_ >= fresh.best_validation_score_ - 0.02


# ---------------------------------------------------------------------------------------------
# (e) regressor
# ---------------------------------------------------------------------------------------------


def test_regressor_round_trip_and_partial_match():
    X, y = make_regression(n_samples=300, n_features=6, n_targets=2, noise=1.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    y = y / y.std()
    arch = {"layers": [layer(2, 16, "tanh")], "edges": [[0, 2], [2, 1], [0, 1]]}
    parent = GraphNetRegressor(arch, learning_rate=0.01, max_epochs=50, random_state=0).fit(X, y)
    blocks = parent.weight_blocks()
    assert set(blocks) == {"w:0:2", "b:2", "w:2:1", "w:0:1", "b:1"}
    assert blocks["w:0:1"].shape == (6, 2)

    child = GraphNetRegressor(arch, initial_weights=blocks, **FROZEN).fit(X, y)
    np.testing.assert_allclose(child.predict(X), parent.predict(X), atol=1e-5)
    assert child.predict(X).shape == (300, 2)

    wider = GraphNetRegressor(with_units(arch, 2, 20), initial_weights=blocks, **FROZEN).fit(X, y)
    wider_blocks = wider.weight_blocks()
    for key in ("w:0:1", "b:1"):
        np.testing.assert_allclose(wider_blocks[key], blocks[key], atol=1e-6)
    assert wider_blocks["w:0:2"].shape == (6, 20)


# ---------------------------------------------------------------------------------------------
# (f) validation, (g) the caller's arrays, scikit-learn plumbing
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "initial_weights",
    [[("b:1", np.zeros(3))], "w:0:1", np.zeros(3), 0],
    ids=lambda value: type(value).__name__,
)
def test_initial_weights_of_the_wrong_type_raise(iris, initial_weights):
    X_train, _, y_train, _ = iris
    net = GraphNetClassifier(initial_weights=initial_weights, max_epochs=1)
    with pytest.raises(ValueError, match="initial_weights must be None or a mapping"):
        net.fit(X_train, y_train)
    assert not hasattr(net, "coefs_")


def test_passed_arrays_are_not_modified(iris, iris_parent):
    X_train, _, y_train, _ = iris
    blocks = iris_parent.weight_blocks()
    snapshot = {key: block.copy() for key, block in blocks.items()}
    child = GraphNetClassifier(
        DAG, initial_weights=blocks, learning_rate=0.05, max_epochs=20, random_state=0
    ).fit(X_train, y_train)
    for key, block in blocks.items():
        np.testing.assert_array_equal(block, snapshot[key], err_msg=key)
    # The child did train, so its weights are its own and not views of the caller's arrays.
    assert not np.allclose(child.weight_blocks()["w:0:2"], blocks["w:0:2"])


def test_get_params_and_clone_carry_initial_weights(iris, iris_parent):
    X_train, X_test, y_train, _ = iris
    blocks = iris_parent.weight_blocks()
    net = GraphNetClassifier(DAG, initial_weights=blocks, **FROZEN)
    assert net.get_params()["initial_weights"] is blocks
    twin = clone(net)
    assert set(twin.get_params()["initial_weights"]) == DAG_KEYS
    np.testing.assert_allclose(
        twin.fit(X_train, y_train).predict_proba(X_test),
        iris_parent.predict_proba(X_test),
        atol=1e-5,
    )
    assert GraphNetRegressor().get_params()["initial_weights"] is None
