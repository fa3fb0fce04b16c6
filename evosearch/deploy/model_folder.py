"""An exported model's folder: the format's files plus ``model.json``, written and read back."""

from __future__ import annotations

import json
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from evosearch.deploy.base import ExportFormat, Predictor, get_format, target_ndim
from evosearch.deploy.ensemble import WeightedEnsemble
from evosearch.errors import SettingsError
from evosearch.runs import atomic_write_json

__all__ = ["DEFAULT_FORMAT", "package_versions", "read_model", "write_model"]

#: The format of ``evosearch export`` without ``--format`` (and of folders from before formats).
DEFAULT_FORMAT = "joblib"

_CORE_PACKAGES = ("evosearch", "numpy", "scikit-learn", "scipy", "pandas", "joblib")


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Python's and the installed packages' versions (those not installed are left out)."""
    found = {"python": platform.python_version()}
    for name in (*_CORE_PACKAGES, *extra):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def write_model(
    model: Any, folder: str | Path, info: dict[str, Any], fmt: str | ExportFormat = DEFAULT_FORMAT
) -> dict[str, Any]:
    """Write the fitted pipeline ``model`` in format ``fmt`` and ``model.json`` into ``folder``.

    Parameters
    ----------
    model : sklearn.pipeline.Pipeline or estimator
        The fitted pipeline (preprocessing, then the network), a fitted network alone, or a
        :class:`~evosearch.deploy.ensemble.WeightedEnsemble` of pipelines (written by the
        format's ``write_ensemble``; ``model.json`` gets ``ensemble.weights``).
    folder : path-like
        An existing folder.
    info : dict
        Metadata for ``model.json``; ``format``, ``files`` and ``versions`` are added, and for
        a regressor ``y_ndim`` (1: predictions are 1-D, as the ``y`` it was fitted on).
    fmt : str or ExportFormat
        The format or its registered name.

    Returns
    -------
    dict
        What was written to ``model.json``.
    """
    folder = Path(folder)
    exporter = get_format(fmt) if isinstance(fmt, str) else fmt
    exporter.check_available()
    ensemble = isinstance(model, WeightedEnsemble)
    for member in model.estimators if ensemble else [model]:
        exporter.check_model(member)
    info = dict(info)  # a format adds its own keys (onnx: opset, inputs): not to the caller's
    first = model.estimators[0] if ensemble else model
    net = first.steps[-1][1] if hasattr(first, "steps") else first
    if not hasattr(net, "classes_"):
        # A regressor's predictions are 1-D when it was fitted on a 1-D y: every format's
        # predictor returns that shape, and model.json says which it is.
        info["y_ndim"] = target_ndim(net)
    if ensemble:
        weights = [float(w) for w in model.weights]
        info["ensemble"] = {**info.get("ensemble", {}), "weights": weights}
        files = exporter.write_ensemble(model, folder, info)
    else:
        files = exporter.write(model, folder, info)
    metadata = {
        **info,
        "format": exporter.name,
        "files": files,
        "versions": package_versions(exporter.packages),
    }
    atomic_write_json(folder / "model.json", metadata)
    return metadata


def read_model(folder: str | Path) -> tuple[Predictor, dict[str, Any]]:
    """The model exported into ``folder`` and its ``model.json``, whatever the format.

    Raises
    ------
    SettingsError
        One line, if the folder is not an exported model, a file is missing or unreadable, or
        the format's libraries are not installed.
    """
    folder = Path(folder)
    info_path = folder / "model.json"
    if not info_path.is_file():
        raise SettingsError(f"{folder} is not an exported model: model.json is missing")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read {info_path}: {exc}") from None
    if not isinstance(info, dict):
        raise SettingsError(f"cannot read {info_path}: not a JSON object")
    exporter = get_format(str(info.get("format", DEFAULT_FORMAT)))
    files = info.get("files") or ["model.joblib"]
    if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
        raise SettingsError(f"cannot read {info_path}: 'files' is not a list of file names")
    for name in files:
        if not (folder / str(name)).is_file():
            raise SettingsError(f"{folder} is not an exported model: {name} is missing")
    exporter.check_available()
    if isinstance(info.get("ensemble"), dict):
        return exporter.load_ensemble(folder, info), info
    return exporter.load(folder, info), info
