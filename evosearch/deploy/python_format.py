"""The ``python`` export format: one ``model.py`` that predicts with numpy alone, and its
``weights.npz``.

``model.py`` imports only numpy and the standard library; it loads ``weights.npz`` from beside
itself (``numpy.load`` with ``allow_pickle=False``: no pickle anywhere) and offers
``predict(X)``, ``predict_proba(X)`` (classifiers), ``CLASSES`` and ``FEATURES``, plus a command
line (``python model.py data.csv [--proba]``). It reproduces the whole fitted pipeline: the
preprocessing (scalers, imputation, missing indicators, categorical levels and their encoding)
and the network (every layer kind that offers :meth:`~evosearch.nn.LayerKind.numpy_source`;
a model with another kind is refused with one line naming it), computed like the estimator in
float64 from the float32 weights. Compressed weights are stored as the payload stores them
(float16, or int8 with one float32 scale per output channel, 0 where pruned; the npz is
compressed) and dequantised at load exactly as the estimator's were, so predictions equal the
compressed estimator's. Written to be read, and ported to another language.
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from evosearch.deploy._python_source import model_source
from evosearch.deploy.base import ExportFormat, Predictor, register_format
from evosearch.errors import SettingsError

__all__ = ["NumpyModel", "PythonFormat"]

MODULE_FILE = "model.py"
WEIGHTS_FILE = "weights.npz"
_loaded = itertools.count()


class NumpyModel:
    """A loaded ``model.py`` as a :class:`~evosearch.deploy.Predictor`.

    Attributes
    ----------
    module : module
        The model file, imported.
    classes_ : ndarray
        Classifiers only: the class labels, in the order of ``predict_proba``'s columns.
    feature_names_in_ : ndarray of str
    """

    def __init__(self, module: Any) -> None:
        self.module = module
        self.feature_names_in_ = np.asarray(module.FEATURES, dtype=object)
        if hasattr(module, "CLASSES"):
            self.classes_ = module.CLASSES

    def predict(self, X: Any) -> np.ndarray:
        """The model file's ``predict(X)``."""
        return np.asarray(self.module.predict(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """The model file's ``predict_proba(X)`` (classifiers)."""
        if not hasattr(self.module, "predict_proba"):
            raise AttributeError("a regressor has no predict_proba")
        return np.asarray(self.module.predict_proba(X))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (classifiers) or R² (regressors) of the predictions on ``X``, as
        scikit-learn's estimators score."""
        from sklearn.metrics import accuracy_score, r2_score

        if hasattr(self, "classes_"):
            return float(accuracy_score(y, self.predict(X), sample_weight=sample_weight))
        return float(r2_score(y, self.predict(X), sample_weight=sample_weight))


@register_format
class PythonFormat(ExportFormat):
    """``model.py`` plus ``weights.npz``: predicts with numpy alone (see the module docstring)."""

    name = "python"
    description = "one model.py and weights.npz that predict with numpy alone (no pickle)"

    def write(self, model: Any, folder: Path, info: dict[str, Any]) -> list[str]:
        source, arrays = model_source(model, info)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, allow_pickle=False, **arrays)
        (folder / WEIGHTS_FILE).write_bytes(buffer.getvalue())
        (folder / MODULE_FILE).write_text(source, encoding="utf-8")
        return [MODULE_FILE, WEIGHTS_FILE]

    def load(self, folder: Path, info: dict[str, Any]) -> Predictor:
        return NumpyModel(load_module(Path(folder) / MODULE_FILE))


def load_module(path: Path) -> Any:
    """Import the model file at ``path`` (under a name of its own, so that several load)."""
    name = f"evosearch_exported_model_{next(_loaded)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SettingsError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise SettingsError(f"cannot load {path}: {exc}") from None
    return module
