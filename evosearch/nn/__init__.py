"""Neural networks in numpy: layer kinds, the layer-graph network and its estimators."""

from evosearch.nn.network import DivergenceError, GraphNetClassifier, GraphNetRegressor

__all__ = ["DivergenceError", "GraphNetClassifier", "GraphNetRegressor"]
