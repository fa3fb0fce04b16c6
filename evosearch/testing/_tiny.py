"""A search space and data small enough for contract suites to run in seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evosearch.space import SearchSpace

__all__ = ["TINY_HYPER", "TINY_TOML", "iris", "tiny_space", "tiny_toml"]


def tiny_toml(max_epochs: tuple[int, ...] = (3, 5)) -> str:
    """A search space of one or two 4- or 8-unit layers that trains in milliseconds."""
    return f"""
name = "tiny"
description = "a tiny space that trains in milliseconds"

[architecture]
min_layers = 1
max_layers = 2
initial_layers = [1, 2]

[layers.dense]
units = [4, 8]
activation = ["relu", "tanh"]
dropout = [0.0]

[training]
optimizer = ["adam", "rmsprop"]
learning_rate = {{ low = 1e-3, high = 3e-2, log = true }}
l1 = 0.0
l2 = 1e-4
batch_size = [32]
max_epochs = {list(max_epochs)}
"""


TINY_TOML = tiny_toml()

#: Training settings of hand-built genomes that train in milliseconds.
TINY_HYPER = {
    "optimizer": "adam",
    "learning_rate": 0.01,
    "l1": 0.0,
    "l2": 1e-4,
    "batch_size": 32,
    "max_epochs": 5,
}


def tiny_space(folder: Path) -> SearchSpace:
    """The tiny space, written to ``folder/tiny.toml`` and loaded from there."""
    path = Path(folder) / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return SearchSpace.from_toml(path)


def iris() -> tuple[np.ndarray, np.ndarray]:
    """Iris, standardised."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y
