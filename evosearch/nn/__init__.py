"""Neural networks in numpy: layer kinds, the layer-graph network and its estimators.

``layers/`` holds the layer-kind contract, the kinds and their registry; ``graph`` the execution
plan of a layer DAG; ``optim`` the optimisers; ``train`` the training loop; ``compress``
pruning, quantisation and the weight payload; ``estimator`` the scikit-learn estimators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evosearch._lazy import lazy_exports

if TYPE_CHECKING:
    from evosearch.nn.estimator import GraphNetClassifier, GraphNetRegressor
    from evosearch.nn.graph import DEFAULT_ARCHITECTURE, count_parameters, parse_architecture
    from evosearch.nn.layers import (
        ACTIVATIONS,
        LayerAttribute,
        LayerKind,
        get_layer_kind,
        layer_kinds,
        register_layer_kind,
    )
    from evosearch.nn.optim import OPTIMIZERS
    from evosearch.nn.train import DivergenceError

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_ARCHITECTURE",
    "OPTIMIZERS",
    "DivergenceError",
    "GraphNetClassifier",
    "GraphNetRegressor",
    "LayerAttribute",
    "LayerKind",
    "count_parameters",
    "get_layer_kind",
    "layer_kinds",
    "parse_architecture",
    "register_layer_kind",
]

# Imported on first use (see evosearch._lazy): light commands stay light.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ACTIVATIONS": "layers",
        "DEFAULT_ARCHITECTURE": "graph",
        "OPTIMIZERS": "optim",
        "DivergenceError": "train",
        "GraphNetClassifier": "estimator",
        "GraphNetRegressor": "estimator",
        "LayerAttribute": "layers",
        "LayerKind": "layers",
        "count_parameters": "graph",
        "get_layer_kind": "layers",
        "layer_kinds": "layers",
        "parse_architecture": "graph",
        "register_layer_kind": "layers",
    },
)
