"""GraphNetClassifier vs scikit-learn's MLPClassifier: same architecture, same work, one thread.

Digits (StandardScaler, one stratified 2/3-1/3 split), chain 64 -> 128 -> 64 -> 10 relu, adam
with learning rate 1e-3, batch 200, L2 1e-4, exactly 50 epochs (no early stopping). Prints the
best-of-3 fit time of each, the speed ratio and the test accuracies.

Run: ``.venv/bin/python benchmarks/compare_mlp.py``
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from evosearch.network import GraphNetClassifier

EPOCHS = 50
REPEATS = 3
CHAIN = {
    "layers": [
        {"id": 2, "units": 128, "activation": "relu", "dropout": 0.0},
        {"id": 3, "units": 64, "activation": "relu", "dropout": 0.0},
    ],
    "edges": [[0, 2], [2, 3], [3, 1]],
}


def make_ours() -> GraphNetClassifier:
    return GraphNetClassifier(
        architecture=CHAIN,
        optimizer="adam",
        learning_rate=1e-3,
        l2=1e-4,
        batch_size=200,
        max_epochs=EPOCHS,
        early_stopping=False,
        random_state=0,
    )


def make_sklearn() -> MLPClassifier:
    return MLPClassifier(
        hidden_layer_sizes=(128, 64),
        activation="relu",
        solver="adam",
        learning_rate_init=1e-3,
        alpha=1e-4,
        batch_size=200,
        max_iter=EPOCHS,
        early_stopping=False,
        n_iter_no_change=10**9,
        tol=0.0,
        random_state=0,
    )


def best_fit_seconds(
    make: Callable[[], object], X: np.ndarray, y: np.ndarray
) -> tuple[float, object]:
    best, model = float("inf"), None
    for _ in range(REPEATS):
        model = make()
        start = time.perf_counter()
        model.fit(X, y)  # type: ignore[attr-defined]
        best = min(best, time.perf_counter() - start)
    return best, model


def main() -> None:
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=1 / 3, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    # MLPClassifier warns that 50 epochs did not converge: that is the point (equal work).
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours_s, ours = best_fit_seconds(make_ours, X_train, y_train)
        skl_s, skl = best_fit_seconds(make_sklearn, X_train, y_train)

    print(f"digits: {X_train.shape[0]} train / {X_test.shape[0]} test, {EPOCHS} epochs, 1 thread")
    print(f"GraphNetClassifier fit: {ours_s:.3f} s (best of {REPEATS})")
    print(f"MLPClassifier      fit: {skl_s:.3f} s (best of {REPEATS})")
    print(f"speed ratio sklearn/ours: {skl_s / ours_s:.2f}x")
    print(f"test accuracy  GraphNet: {ours.score(X_test, y_test):.4f}")  # type: ignore[attr-defined]
    print(f"test accuracy  MLP:      {skl.score(X_test, y_test):.4f}")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
