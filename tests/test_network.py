"""Tests for evosearch.nn: the GraphNet estimators and count_parameters."""

from __future__ import annotations

import copy
import itertools
import warnings
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from evosearch.nn import (
    OPTIMIZERS,
    DivergenceError,
    GraphNetClassifier,
    GraphNetRegressor,
    count_parameters,
)
from evosearch.nn.estimator import _BaseGraphNet
from evosearch.nn.graph import Workspace, parse_architecture
from evosearch.nn.train import init_network


def chain(*units: int, activation: str = "relu", dropout: float = 0.0) -> dict[str, Any]:
    """A plain chain 0 -> 2 -> 3 -> ... -> 1."""
    ids = list(range(2, 2 + len(units)))
    layers = [
        {"id": i, "units": u, "activation": activation, "dropout": dropout}
        for i, u in zip(ids, units, strict=True)
    ]
    path = [0, *ids, 1]
    return {"layers": layers, "edges": [[a, b] for a, b in itertools.pairwise(path)]}


# Skip connections: node 3 reads concat(0, 2); the output reads concat(0, 2, 3).
DAG: dict[str, Any] = {
    "layers": [
        {"id": 2, "units": 16, "activation": "elu", "dropout": 0.2},
        {"id": 3, "units": 8, "activation": "tanh", "dropout": 0.0},
    ],
    "edges": [[0, 2], [0, 3], [2, 3], [3, 1], [2, 1], [0, 1]],
}
DIRECT: dict[str, Any] = {"layers": [], "edges": [[0, 1]]}  # a linear / softmax-regression model


# ---------------------------------------------------------------------------------------------
# scikit-learn conventions
# ---------------------------------------------------------------------------------------------


@parametrize_with_checks(
    [
        GraphNetClassifier(max_epochs=40, learning_rate=0.01, random_state=0),
        GraphNetRegressor(max_epochs=40, learning_rate=0.01, random_state=0),
        GraphNetClassifier(DAG, optimizer="rmsprop", learning_rate=0.01, max_epochs=40),
        GraphNetRegressor(DAG, optimizer="rmsprop", learning_rate=0.01, max_epochs=40),
    ],
    # Minibatch training with shuffling and early stopping cannot make a weight of 2 equal to
    # a repeated row (scikit-learn's MLPs are exempted from this check for the same reason).
    expected_failed_checks=lambda estimator: {
        "check_sample_weight_equivalence_on_dense_data": "stochastic minibatch training"
    },
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ---------------------------------------------------------------------------------------------
# Parameter counts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("architecture", "expected"),
    [
        (chain(8, 6), (4 * 8 + 8) + (8 * 6 + 6) + (6 * 3 + 3)),
        # concat in ascending id order: node 3 sees 4 + 16, the output 4 + 16 + 8.
        (DAG, (4 * 16 + 16) + (20 * 8 + 8) + (28 * 3 + 3)),
        (DIRECT, 4 * 3 + 3),
        (None, (4 * 100 + 100) + (100 * 3 + 3)),
    ],
    ids=["chain", "skip-concat", "direct", "default"],
)
def test_count_parameters_matches_fitted_network(iris, architecture, expected):
    X_train, _, y_train, _ = iris
    assert count_parameters(architecture, 4, 3) == expected
    clf = GraphNetClassifier(architecture, max_epochs=1, random_state=0).fit(X_train, y_train)
    assert clf.n_params_ == expected
    real = sum(w.size for w in clf.coefs_.values()) + sum(b.size for b in clf.intercepts_.values())
    assert real == expected
    assert list(clf.coefs_)[-1] == 1  # output node last


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_count_parameters_matches_mlp(digits):
    X, y = digits
    mlp = MLPClassifier(hidden_layer_sizes=(32, 16), max_iter=1, random_state=0).fit(X, y)
    mlp_count = sum(c.size for c in mlp.coefs_) + sum(b.size for b in mlp.intercepts_)
    assert count_parameters(chain(32, 16), 64, 10) == mlp_count


def test_binary_output_has_two_units():
    X, y = make_blobs(n_samples=60, centers=2, random_state=0)
    clf = GraphNetClassifier(chain(5), max_epochs=2, random_state=0).fit(X, y)
    assert clf.n_outputs_ == 2
    assert clf.n_params_ == count_parameters(chain(5), 2, 2) == (2 * 5 + 5) + (5 * 2 + 2)
    assert clf.predict_proba(X).shape == (60, 2)


# ---------------------------------------------------------------------------------------------
# Correctness of the training maths
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("classification", [True, False], ids=["softmax-ce", "squared"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "elu"])
def test_backprop_matches_finite_differences(classification, activation):
    # Smooth activations only: relu kinks make central differences unreliable. The DAG has
    # concatenation, a node with several successors and a direct input -> output edge.
    arch = copy.deepcopy(DAG)
    for layer in arch["layers"]:
        layer.update(activation=activation, dropout=0.0, units=4)
    rng = np.random.default_rng(0)
    n, d, k = 6, 3, 3
    X = rng.normal(size=(n, d)).astype(np.float32)
    steps = parse_architecture(arch, d, k)
    net, flat, grad_w, grad_b, grad, _ = init_network(steps, rng)
    if classification:
        est: _BaseGraphNet = GraphNetClassifier()
        classes = rng.integers(0, k, n)
        targets = np.eye(k, dtype=np.float32)[classes]
    else:
        est, classes = GraphNetRegressor(), None
        targets = rng.normal(size=(n, k)).astype(np.float32)
    ws = Workspace(steps, n, train=True)

    def loss() -> float:
        return est._loss_and_delta(ws, net.forward(ws, X, None), targets, classes)

    loss()
    net.backward(ws, grad_w, grad_b)
    analytic = grad.astype(np.float64)
    numeric = np.empty_like(analytic)
    h = 1e-2
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + h
        up = loss()
        flat[i] = saved - h
        down = loss()
        flat[i] = saved
        numeric[i] = (up - down) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, atol=2e-3 * np.abs(analytic).max())


def test_sgd_step_and_loss_match_mlp_classifier(digits):
    # One full-batch SGD step from the same weights must equal MLPClassifier's, which pins
    # down the loss, the backprop and the scaling of the L2 penalty (our l2 is MLP's alpha).
    X, y = digits[0][:300], digits[1][:300]
    params: dict[str, Any] = dict(
        optimizer="sgd", l2=0.5, batch_size=300, max_epochs=1, early_stopping=False
    )
    arch = chain(16, 8)
    start = GraphNetClassifier(arch, learning_rate=1e-30, random_state=0, **params).fit(X, y)
    ours = GraphNetClassifier(arch, learning_rate=0.1, random_state=0, **params).fit(X, y)

    mlp = MLPClassifier(
        hidden_layer_sizes=(16, 8),
        solver="sgd",
        learning_rate_init=0.1,
        momentum=0.0,
        nesterovs_momentum=False,
        alpha=0.5,
        batch_size=300,
        max_iter=1,
        shuffle=False,
        warm_start=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y)  # builds the layers; the weights are replaced next
        mlp.coefs_ = [w.astype(np.float64) for w in start.coefs_.values()]
        mlp.intercepts_ = [b.astype(np.float64) for b in start.intercepts_.values()]
        mlp.fit(X, y)
    assert ours.loss_curve_[0] == pytest.approx(mlp.loss_curve_[-1], rel=1e-5)
    for w, w_mlp in zip(ours.coefs_.values(), mlp.coefs_, strict=True):
        np.testing.assert_allclose(w, w_mlp, rtol=1e-4, atol=1e-6)
    for b, b_mlp in zip(ours.intercepts_.values(), mlp.intercepts_, strict=True):
        np.testing.assert_allclose(b, b_mlp, rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Behaviour
# ---------------------------------------------------------------------------------------------


def test_deterministic_per_seed(iris):
    X_train, X_test, y_train, _ = iris

    def proba(seed: int) -> np.ndarray:
        clf = GraphNetClassifier(DAG, max_epochs=15, batch_size=16, random_state=seed)
        return clf.fit(X_train, y_train).predict_proba(X_test)

    np.testing.assert_array_equal(proba(3), proba(3))
    assert not np.array_equal(proba(3), proba(4))


LEARNING_RATES = {
    "sgd": 0.1,
    "momentum": 0.02,
    "nesterov": 0.02,
    "adam": 0.01,
    "adamax": 0.02,
    "rmsprop": 0.005,
    "adagrad": 0.1,
    "adadelta": 1.0,  # the paper's rule
}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_each_optimizer_learns_iris(iris, optimizer):
    X_train, X_test, y_train, y_test = iris
    clf = GraphNetClassifier(
        chain(16),
        optimizer=optimizer,
        learning_rate=LEARNING_RATES[optimizer],
        batch_size=16,
        max_epochs=40,
        early_stopping=False,
        random_state=0,
    ).fit(X_train, y_train)
    assert clf.n_epochs_ == 40
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.score(X_test, y_test) > 0.9


def test_adam_learns_digits(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    clf = GraphNetClassifier(DAG, learning_rate=0.01, max_epochs=20, random_state=0)
    assert clf.fit(X_train, y_train).score(X_test, y_test) > 0.9


@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_penalties_shrink_weights(iris, penalty):
    X_train, _, y_train, _ = iris
    kwargs: dict[str, Any] = dict(
        learning_rate=0.01, max_epochs=60, batch_size=16, early_stopping=False, random_state=0
    )

    def weight_norm(strength: float) -> float:
        penalties: dict[str, Any] = {"l1": 0.0, "l2": 0.0, penalty: strength}
        clf = GraphNetClassifier(chain(16), **penalties, **kwargs).fit(X_train, y_train)
        return sum(float(np.abs(w).sum()) for w in clf.coefs_.values())

    assert weight_norm(1.0) < 0.7 * weight_norm(0.0)


def test_l1_drives_weights_towards_zero(iris):
    X_train, _, y_train, _ = iris
    kwargs: dict[str, Any] = dict(
        learning_rate=0.01, max_epochs=60, early_stopping=False, random_state=0
    )
    plain = GraphNetClassifier(chain(16), l2=0.0, **kwargs).fit(X_train, y_train)
    sparse = GraphNetClassifier(chain(16), l1=2.0, l2=0.0, **kwargs).fit(X_train, y_train)

    def small(clf: GraphNetClassifier) -> int:
        return sum(int((np.abs(w) < 1e-2).sum()) for w in clf.coefs_.values())

    assert small(sparse) > small(plain)


def test_dropout_changes_training_but_not_prediction(iris):
    X_train, X_test, y_train, _ = iris
    kwargs: dict[str, Any] = dict(
        max_epochs=10, batch_size=16, early_stopping=False, random_state=0
    )
    plain = GraphNetClassifier(chain(16, dropout=0.0), **kwargs).fit(X_train, y_train)
    dropped = GraphNetClassifier(chain(16, dropout=0.5), **kwargs).fit(X_train, y_train)
    assert plain.loss_curve_ != dropped.loss_curve_
    # Inference never drops units: repeated predictions agree exactly.
    np.testing.assert_array_equal(dropped.predict_proba(X_test), dropped.predict_proba(X_test))


def test_early_stopping_stops_and_restores_best():
    X, y = make_blobs(n_samples=400, centers=3, cluster_std=0.5, random_state=0)
    clf = GraphNetClassifier(chain(8), learning_rate=0.01, max_epochs=500, patience=10, tol=1e-2)
    clf.set_params(random_state=0).fit(X, y)
    assert clf.n_epochs_ < 500
    assert clf.validation_scores_ is not None
    assert clf.validation_losses_ is not None
    assert len(clf.validation_scores_) == len(clf.loss_curve_) == clf.n_epochs_
    best = int(np.argmin(clf.validation_losses_))
    assert clf.best_validation_score_ == clf.validation_scores_[best] == 1.0
    # Stopped `patience` epochs after the lowest validation loss.
    assert clf.n_epochs_ - 1 - best <= 10

    # A noisy run (unscaled inputs, plain SGD) whose last epoch is not its best; training again
    # just up to the best epoch reaches the same weights, which the first run must restore.
    kwargs: dict[str, Any] = dict(optimizer="sgd", learning_rate=0.1, batch_size=16, random_state=1)
    X, y = load_iris(return_X_y=True)
    long = GraphNetClassifier(chain(8), max_epochs=30, patience=30, **kwargs).fit(X, y)
    assert long.validation_losses_ is not None
    best_epoch = int(np.argmin(long.validation_losses_))
    assert long.validation_losses_[-1] > long.validation_losses_[best_epoch]
    short = GraphNetClassifier(chain(8), max_epochs=best_epoch + 1, patience=30, **kwargs)
    short.fit(X, y)
    np.testing.assert_array_equal(long.predict_proba(X), short.predict_proba(X))


def test_without_early_stopping_trains_exactly_max_epochs():
    X, y = make_blobs(n_samples=100, centers=2, random_state=0)
    clf = GraphNetClassifier(chain(4), max_epochs=25, early_stopping=False, random_state=0)
    clf.fit(X, y)
    assert clf.n_epochs_ == len(clf.loss_curve_) == 25
    assert clf.validation_scores_ is None


def test_regression_on_linear_target():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    y = X @ np.array([1.5, -2.0, 0.5, 0.0, 1.0]) + 0.1 * rng.normal(size=400)
    reg = GraphNetRegressor(chain(16), learning_rate=0.01, batch_size=32, random_state=0)
    reg.fit(X[:300], y[:300])
    pred = reg.predict(X[300:])
    assert pred.shape == (100,)
    assert pred.dtype == np.float64
    assert reg.score(X[300:], y[300:]) > 0.9


def test_multioutput_regression_keeps_2d():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    Y = np.column_stack([X[:, 0], X[:, 1] - X[:, 2]])
    reg = GraphNetRegressor(DIRECT, learning_rate=0.05, batch_size=32, random_state=0).fit(X, Y)
    assert reg.n_outputs_ == 2
    assert reg.predict(X).shape == (200, 2)
    assert reg.score(X, Y) > 0.95


def test_string_class_labels(iris):
    X_train, X_test, y_train, y_test = iris
    names = np.array(["setosa", "versicolor", "virginica"])
    clf = GraphNetClassifier(chain(16), learning_rate=0.01, max_epochs=60, early_stopping=False)
    clf.set_params(random_state=0).fit(X_train, names[y_train])
    np.testing.assert_array_equal(clf.classes_, names)
    assert set(clf.predict(X_test)) <= set(names)
    assert clf.score(X_test, names[y_test]) > 0.9


def test_huge_learning_rate_diverges(digits):
    X, y = digits
    clf = GraphNetClassifier(optimizer="sgd", learning_rate=1e8, max_epochs=5, random_state=0)
    with pytest.raises(DivergenceError, match="learning_rate"):
        clf.fit(X, y)
    assert issubclass(DivergenceError, ArithmeticError)


def test_divergence_in_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    reg = GraphNetRegressor(optimizer="sgd", learning_rate=1e6, max_epochs=20, random_state=0)
    with pytest.raises(DivergenceError):
        reg.fit(X, 1000 * X[:, 0])


# ---------------------------------------------------------------------------------------------
# Validation errors
# ---------------------------------------------------------------------------------------------


def _arch(layers: list[dict[str, Any]], edges: list[list[int]]) -> dict[str, Any]:
    return {"layers": layers, "edges": edges}


@pytest.mark.parametrize(
    ("architecture", "message"),
    [
        (_arch([{"id": 2, "units": 4, "activation": "swish"}], [[0, 2], [2, 1]]), "activation"),
        (
            _arch([{"id": 2, "units": 4}, {"id": 3, "units": 4}], [[0, 2], [2, 3], [3, 2], [3, 1]]),
            "cycle",
        ),
        (_arch([{"id": 2, "units": 4}], [[0, 1]]), "not on a path"),
        (_arch([{"id": 2, "units": 4}], [[0, 2], [0, 1]]), "not on a path"),
        (_arch([{"id": 2, "units": 4}], [[2, 1], [0, 1]]), "not on a path"),
        (_arch([{"id": 2, "units": 0}], [[0, 2], [2, 1]]), "units"),
        (_arch([{"id": 2, "units": 2.5}], [[0, 2], [2, 1]]), "units"),
        (_arch([{"id": 2, "units": True}], [[0, 2], [2, 1]]), "units"),
        (_arch([{"id": 2}], [[0, 2], [2, 1]]), "units"),
        (_arch([{"id": 2, "units": 4, "dropout": 1.0}], [[0, 2], [2, 1]]), "dropout"),
        (_arch([{"id": 1, "units": 4}], [[0, 1]]), ">= 2"),
        (_arch([{"id": 2, "units": 4}, {"id": 2, "units": 3}], [[0, 2], [2, 1]]), "duplicate"),
        (_arch([], [[0, 7], [7, 1]]), "unknown node 7"),
        (_arch([], [[1, 0]]), "input node"),
        (_arch([], []), "no path"),
        (_arch([], [[0, 1], [0, 1]]), "duplicate edge"),
        ({"layers": []}, "edges"),
        ([[0, 1]], "dict"),
    ],
)
def test_invalid_architecture_raises(architecture, message):
    with pytest.raises(ValueError, match="invalid architecture") as info:
        count_parameters(architecture, 4, 3)
    assert message in str(info.value)
    X, y = make_blobs(n_samples=30, random_state=0)
    with pytest.raises(ValueError, match=message):
        GraphNetClassifier(architecture).fit(X, y)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("optimizer", "lbfgs"),
        ("learning_rate", 0.0),
        ("l1", -1.0),
        ("l2", float("nan")),
        ("batch_size", 0),
        ("max_epochs", 2.5),
        ("validation_fraction", 1.0),
        ("patience", 0),
    ],
)
def test_invalid_hyperparameters_raise(param, value):
    X, y = make_blobs(n_samples=30, random_state=0)
    with pytest.raises(ValueError, match=param):
        GraphNetClassifier(**{param: value}).fit(X, y)


def test_tiny_data_skips_early_stopping():
    X, y = np.array([[0.0], [1.0], [2.0]]), np.array([0, 1, 1])
    clf = GraphNetClassifier(chain(3), max_epochs=3, random_state=0).fit(X, y)
    assert clf.validation_scores_ is None
    assert clf.n_epochs_ == 3


def test_failed_fit_leaves_estimator_unfitted(digits):
    X, y = digits
    clf = GraphNetClassifier(optimizer="sgd", learning_rate=1e8, max_epochs=5, random_state=0)
    with pytest.raises(DivergenceError):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)
