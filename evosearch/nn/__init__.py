"""Neural networks in numpy: layer kinds, the layer-graph network and its estimators.

``layers/`` holds the layer-kind contract, the kinds and their registry; ``graph`` the execution
plan of a layer DAG; ``optim`` the optimisers; ``train`` the training loop; ``estimator`` the
scikit-learn estimators.
"""

from evosearch.nn.estimator import GraphNetClassifier, GraphNetRegressor
from evosearch.nn.graph import DEFAULT_ARCHITECTURE, count_parameters
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
    "register_layer_kind",
]
