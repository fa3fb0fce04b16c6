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
(float16, or int8 with one float32 scale per output channel, int4 values as int8, 0 where
pruned; the npz is
compressed) and dequantised at load exactly as the estimator's were, so predictions equal the
compressed estimator's. Written to be read, and ported to another language.

``load`` imports ``model.py``, that is, runs it: like a pickle, load only exports you trust
(or read the file first).
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from evosearch.deploy._python_source import model_source
from evosearch.deploy.base import ExportFormat, Predictor, load_failure, register_format
from evosearch.errors import SettingsError

__all__ = ["NumpyClassifier", "NumpyModel", "NumpyRegressor", "PythonFormat", "load_module"]

MODULE_FILE = "model.py"
WEIGHTS_FILE = "weights.npz"
_loaded = itertools.count()


class NumpyModel(BaseEstimator):
    """A loaded ``model.py`` as a :class:`~evosearch.deploy.Predictor`: a scikit-learn
    classifier or regressor (:meth:`of` picks), so scorers and ``score`` work on it.

    Parameters
    ----------
    module : module
        The model file, imported (:func:`load_module`).
    """

    def __init__(self, module: Any = None) -> None:
        self.module = module

    @staticmethod
    def of(module: Any) -> NumpyModel:
        """The classifier or regressor wrapping ``module``."""
        return NumpyClassifier(module) if hasattr(module, "CLASSES") else NumpyRegressor(module)

    @property
    def feature_names_in_(self) -> np.ndarray:
        return np.asarray(self.module.FEATURES, dtype=object)

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def predict(self, X: Any) -> np.ndarray:
        """The model file's ``predict(X)``."""
        return np.asarray(self.module.predict(X))


class NumpyClassifier(ClassifierMixin, NumpyModel):
    """A loaded classifier ``model.py``; ``classes_`` are its ``CLASSES``."""

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.module.CLASSES)

    def predict_proba(self, X: Any) -> np.ndarray:
        """The model file's ``predict_proba(X)``: one column per class of ``classes_``."""
        return np.asarray(self.module.predict_proba(X))


class NumpyRegressor(RegressorMixin, NumpyModel):
    """A loaded regressor ``model.py``."""


@register_format
class PythonFormat(ExportFormat):
    """``model.py`` plus ``weights.npz``: predicts with numpy alone (see the module docstring)."""

    name = "python"
    description = "one model.py and weights.npz that predict with numpy alone (no pickle)"

    def check_model(self, model: Any) -> None:
        # Building the source is cheap next to the refit, and refuses what it cannot write
        # (a plug-in kind without numpy code, an unknown preprocessing step) before any file.
        model_source(model, {})

    def write(self, model: Any, folder: Path, info: dict[str, Any]) -> list[str]:
        source, arrays = model_source(model, info)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, allow_pickle=False, **arrays)
        (folder / WEIGHTS_FILE).write_bytes(buffer.getvalue())
        (folder / MODULE_FILE).write_text(source, encoding="utf-8")
        return [MODULE_FILE, WEIGHTS_FILE]

    def write_ensemble(self, model: Any, folder: Path, info: dict[str, Any]) -> list[str]:
        # members/<i>/ as the default layout writes them, then one model.py averaging them.
        from evosearch.deploy._ensemble_formats import ensemble_source

        files = super().write_ensemble(model, folder, info)
        info["ensemble"]["layout"] = "model.py"
        (folder / MODULE_FILE).write_text(ensemble_source(list(model.weights)), encoding="utf-8")
        return [MODULE_FILE, *files]

    def load_ensemble(self, folder: Path, info: dict[str, Any]) -> Predictor:
        module = load_module(Path(folder) / MODULE_FILE)
        if not callable(getattr(module, "predict", None)) or not hasattr(module, "FEATURES"):
            raise SettingsError(f"cannot load {folder / MODULE_FILE}: not an exported model file")
        return NumpyModel.of(module)

    def load(self, folder: Path, info: dict[str, Any]) -> Predictor:
        weights = Path(folder) / WEIGHTS_FILE
        if not zipfile.is_zipfile(weights):  # named here, not as an error inside model.py
            raise SettingsError(f"cannot load {weights}: not a .npz archive (damaged?)")
        module = load_module(Path(folder) / MODULE_FILE)
        if not callable(getattr(module, "predict", None)) or not hasattr(module, "FEATURES"):
            raise SettingsError(f"cannot load {folder / MODULE_FILE}: not an exported model file")
        return NumpyModel.of(module)


def load_module(path: Path) -> Any:
    """Import the model file at ``path`` (under a name of its own, so that several load)."""
    name = f"evosearch_exported_model_{next(_loaded)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SettingsError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a damaged model file can fail in any way when it runs
        raise load_failure(path, exc) from None
    return module
