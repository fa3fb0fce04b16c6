"""Deployable models: export formats (one module each, in a registry by name) and the folder
they write.

An exported folder holds the format's model files, ``genome.json``, ``weights.bin`` (the
network's weight payload, its size the ``bytes`` objective) and ``model.json``: where the model
came from (run, member, genome hash), how well it cross-validated, the columns it takes, the
format, the files it wrote and the package versions it was written with. :func:`write_model`
writes the model files and ``model.json``; :func:`read_model` reads any format back for
``evosearch predict``. Built-in formats: ``joblib`` (the default, a pickle of the fitted
pipeline), ``onnx`` (one ONNX graph; needs ``pip install 'evosearch[onnx]'``) and ``python``
(a ``model.py`` and ``weights.npz`` that predict with numpy alone). Each also writes a
:class:`WeightedEnsemble` of fitted pipelines (``export --ensemble``). A new format subclasses
:class:`ExportFormat` and calls :func:`register_format`; a plug-in layer kind gives the ``onnx``
format its ONNX form with :func:`register_onnx_layer`.
"""

from evosearch.deploy import joblib_format as _joblib_format  # noqa: F401  (registers joblib)
from evosearch.deploy import onnx_format as _onnx_format  # noqa: F401  (registers onnx)
from evosearch.deploy import python_format as _python_format  # noqa: F401  (registers python)
from evosearch.deploy.base import (
    EXPORT_FORMATS,
    ExportFormat,
    Predictor,
    format_names,
    get_format,
    register_format,
)
from evosearch.deploy.ensemble import WeightedEnsemble
from evosearch.deploy.model_folder import DEFAULT_FORMAT, package_versions, read_model, write_model
from evosearch.deploy.onnx_format import OnnxPredictor
from evosearch.deploy.onnx_layers import (
    ONNX_LAYERS,
    OnnxLayer,
    onnx_layer_kinds,
    register_onnx_layer,
)

__all__ = [
    "DEFAULT_FORMAT",
    "EXPORT_FORMATS",
    "ONNX_LAYERS",
    "ExportFormat",
    "OnnxLayer",
    "OnnxPredictor",
    "Predictor",
    "WeightedEnsemble",
    "format_names",
    "get_format",
    "onnx_layer_kinds",
    "package_versions",
    "read_model",
    "register_format",
    "register_onnx_layer",
    "write_model",
]
