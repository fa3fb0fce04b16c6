"""Neural networks in numpy: layer kinds, the layer-graph network and its estimators.

``layers/`` holds the layer-kind contract, the kinds and their registry; ``graph`` the execution
plan of a layer DAG; ``optim`` the optimisers; ``train`` the training loop; ``compress``
pruning, quantisation and the weight payload; ``estimator`` the scikit-learn estimators;
``cost_model`` the latency cost model and ``latency_files`` its saved files and machine cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evosearch._lazy import lazy_exports

if TYPE_CHECKING:
    from evosearch.nn.cost_model import LatencyModel
    from evosearch.nn.estimator import GraphNetClassifier, GraphNetRegressor
    from evosearch.nn.graph import DEFAULT_ARCHITECTURE, count_parameters, parse_architecture
    from evosearch.nn.latency_files import load_latency_model, save_latency_model
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
    "LatencyModel",
    "LayerAttribute",
    "LayerKind",
    "count_parameters",
    "get_layer_kind",
    "layer_kinds",
    "load_latency_model",
    "parse_architecture",
    "register_layer_kind",
    "save_latency_model",
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
        "LatencyModel": "cost_model",
        "LayerAttribute": "layers",
        "LayerKind": "layers",
        "count_parameters": "graph",
        "get_layer_kind": "layers",
        "layer_kinds": "layers",
        "load_latency_model": "latency_files",
        "parse_architecture": "graph",
        "register_layer_kind": "layers",
        "save_latency_model": "latency_files",
    },
)
