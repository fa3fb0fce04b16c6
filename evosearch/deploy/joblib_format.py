"""The ``joblib`` export format: the fitted scikit-learn pipeline as a pickle.

``model.joblib`` needs evosearch, scikit-learn and a compatible Python to load, and is a pickle:
load only models you exported yourself or trust.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib

from evosearch.deploy.base import ExportFormat, Predictor, load_failure, register_format
from evosearch.errors import SettingsError

__all__ = ["JoblibFormat"]


@register_format
class JoblibFormat(ExportFormat):
    """The pipeline pickled with joblib (``model.joblib``); the default format."""

    name = "joblib"
    description = "the scikit-learn pipeline pickled (needs evosearch to load; trusted files only)"

    def write(self, model: Any, folder: Path, info: dict[str, Any]) -> list[str]:
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
