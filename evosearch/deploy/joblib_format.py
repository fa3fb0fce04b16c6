"""The ``joblib`` export format: the fitted scikit-learn pipeline as a pickle.

``model.joblib`` needs evosearch, scikit-learn and a compatible Python to load, and is a pickle:
load only models you exported yourself or trust.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from evosearch.deploy.base import ExportFormat, Predictor, load_failure, register_format
from evosearch.deploy.ensemble import WeightedEnsemble
from evosearch.errors import SettingsError

__all__ = ["ImageRows", "JoblibFormat"]


class ImageRows(TransformerMixin, BaseEstimator):
    """First step of an exported image model: images ``(n, H, W[, C])`` as rows of pixels.

    Rows that are already flat pass unchanged, so the model takes both shapes, as the
    Evolver it came from does.
    """

    def fit(self, X: Any, y: Any = None) -> ImageRows:
        return self

    def transform(self, X: Any) -> Any:
        array = np.asarray(X)
        return array.reshape(len(array), -1) if array.ndim > 2 else X


def _with_image_rows(model: Any) -> Pipeline:
    """``model`` (a fitted pipeline or network) behind an :class:`ImageRows` step."""
    steps = list(model.steps) if isinstance(model, Pipeline) else [("network", model)]
    return Pipeline([("image_rows", ImageRows()), *steps])


@register_format
class JoblibFormat(ExportFormat):
    """The pipeline pickled with joblib (``model.joblib``); the default format."""

    name = "joblib"
    description = "the scikit-learn pipeline pickled (needs evosearch to load; trusted files only)"

    def write(self, model: Any, folder: Path, info: dict[str, Any]) -> list[str]:
        if info.get("input_shape"):
            model = _with_image_rows(model)
        joblib.dump(model, folder / "model.joblib")
        return ["model.joblib"]

    def write_ensemble(self, model: Any, folder: Path, info: dict[str, Any]) -> list[str]:
        # One pickled WeightedEnsemble of the members' pipelines (load() reads it as any model).
        if info.get("input_shape"):
            members = [_with_image_rows(member) for member in model.estimators]
            model = WeightedEnsemble(members, model.weights)
        joblib.dump(model, folder / "model.joblib")
        return ["model.joblib"]

    def load(self, folder: Path, info: dict[str, Any]) -> Predictor:
        path = folder / "model.joblib"
        try:
            model = joblib.load(path)
        except Exception as exc:  # unpickling a damaged file can raise almost anything
            raise load_failure(path, exc) from None
        if not hasattr(model, "predict"):
            raise SettingsError(f"cannot load {path}: it holds no model (no predict method)")
        loaded: Predictor = model
        return loaded
