"""A weighted ensemble of fitted models: :class:`WeightedEnsemble`, and how export formats
write one.

The ensemble averages its members' class probabilities (classifiers: the label is the class of
the largest average) or predictions (regressors) with fixed weights, as ensemble selection
chose them (:mod:`evosearch.search.ensemble`). Every export format writes it
(:meth:`~evosearch.deploy.ExportFormat.write_ensemble`): by default each member in its own
subfolder ``members/<i>/`` in the format, loaded back and averaged by a ``WeightedEnsemble``;
the built-in formats write one model instead (``joblib``: this estimator pickled; ``onnx``: one
graph; ``python``: one ``model.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags, RegressorTags, Tags

__all__ = ["WeightedEnsemble"]


class WeightedEnsemble(BaseEstimator):
    """Fitted models averaged with weights (a ``VotingClassifier(voting="soft")`` /
    ``VotingRegressor`` of already fitted models).

    Parameters
    ----------
    estimators : sequence of estimator
        Fitted models taking the same input (pipelines, or loaded exports): classifiers with
        ``predict_proba`` and the same ``classes_``, or regressors.
    weights : sequence of float
        One per estimator; normalised to sum to one.

    Attributes
    ----------
    classes_ : ndarray
        The class labels (classifiers only).
    """

    def __init__(self, estimators: Sequence[Any] = (), weights: Sequence[float] = ()) -> None:
        self.estimators = estimators
        self.weights = weights
        if estimators and hasattr(estimators[0], "classes_"):
            self.classes_ = np.asarray(estimators[0].classes_)

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        if hasattr(self, "classes_"):
            tags.estimator_type, tags.classifier_tags = "classifier", ClassifierTags()
        else:
            tags.estimator_type, tags.regressor_tags = "regressor", RegressorTags()
        return tags

    def _weights(self) -> np.ndarray:
        weights = np.asarray(self.weights, dtype=np.float64)
        return weights / weights.sum()

    def predict_proba(self, X: Any) -> np.ndarray:
        """The weighted average of the members' class probabilities (``classes_`` order)."""
        if not hasattr(self, "classes_"):
            raise AttributeError("predict_proba: this ensemble is a regressor")
        total = None
        for weight, estimator in zip(self._weights(), self.estimators, strict=True):
            proba = weight * np.asarray(estimator.predict_proba(X), dtype=np.float64)
            total = proba if total is None else total + proba
        assert total is not None
        return total

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):  # a probability of 0 is a log of -inf, as sklearn's
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The class of the largest average probability, or the weighted average prediction."""
        if hasattr(self, "classes_"):
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        total = None
        for weight, estimator in zip(self._weights(), self.estimators, strict=True):
            values = weight * np.asarray(estimator.predict(X), dtype=np.float64)
            total = values if total is None else total + values
        assert total is not None
        return total

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (classifiers) or R² (regressors) on ``X, y``."""
        from sklearn.metrics import accuracy_score, r2_score

        if hasattr(self, "classes_"):
            return float(accuracy_score(y, self.predict(X), sample_weight=sample_weight))
        return float(r2_score(y, self.predict(X), sample_weight=sample_weight))
