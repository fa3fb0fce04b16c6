"""The export-format contract: how a fitted model is written to a folder and read back.

A format is a stateless object registered by name (:func:`register_format`). ``evosearch
export --format NAME`` (and :meth:`~evosearch.search.Evolver.export`) refit an archive member and
hand the fitted scikit-learn pipeline (preprocessing, then the network) to the format's
:meth:`ExportFormat.write`; ``evosearch predict`` finds the format in the folder's
``model.json`` and calls :meth:`ExportFormat.load`, which returns a :class:`Predictor`. The
metadata (genome, run, CV score, package versions) is written beside the model by
:func:`evosearch.deploy.write_model` whatever the format, so a format only writes its model files.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from evosearch.errors import SettingsError
from evosearch.registry import Registry

__all__ = [
    "EXPORT_FORMATS",
    "ExportFormat",
    "Predictor",
    "format_names",
    "get_format",
    "register_format",
]


@runtime_checkable
class Predictor(Protocol):
    """What a loaded model offers ``evosearch predict``: scikit-learn's prediction methods.

    ``X`` is what the exported pipeline takes: a float matrix for a plain numeric run, a
    DataFrame of the raw columns for a table. ``classes_`` is only required of classifiers.
    """

    def predict(self, X: Any) -> np.ndarray: ...


class ExportFormat(ABC):
    """One way to write a fitted evosearch pipeline to disk and read it back.

    Attributes
    ----------
    name : str
        The ``--format`` name.
    extra : str or None
        The pip extra its dependencies come in (``pip install evosearch[onnx]``), None if the
        core dependencies suffice; :meth:`check_available` names it when they are missing.
    description : str
        One line for ``--help``.
    """

    name: ClassVar[str]
    extra: ClassVar[str | None] = None
    description: ClassVar[str] = ""
    #: Packages whose versions model.json records besides the core ones (e.g. onnxruntime).
    packages: ClassVar[tuple[str, ...]] = ()

    def check_available(self) -> None:
        """Raise :class:`~evosearch.errors.SettingsError` (one line, naming the extra) when the
        libraries this format needs are not installed. The default needs nothing."""
        return None

    #: The options :meth:`configure` takes, with their choices (``--input-dtype`` and
    #: ``Evolver.export(input_dtype=)`` for ``onnx``); empty: none.
    options: ClassVar[dict[str, tuple[str, ...]]] = {}

    def configure(self, options: Mapping[str, Any]) -> ExportFormat:
        """This format with ``options`` (names of :attr:`options`; None values left out).

        The default takes none: a format with options overrides this and returns a new,
        configured instance (the registered one stays as it was).

        Raises
        ------
        SettingsError
            One line, for an option this format does not take or a value not among its
            choices.
        """
        given = {k: v for k, v in options.items() if v is not None}
        for key, value in given.items():
            if key not in self.options:
                flag = "--" + key.replace("_", "-")
                raise SettingsError(f"the {self.name} format takes no {flag} option")
            if str(value) not in self.options[key]:
                choices = ", ".join(self.options[key])
                raise SettingsError(f"{key} {value!r}: choose from {choices}")
        return self

    def check_model(self, model: Any) -> None:
        """Raise :class:`~evosearch.errors.SettingsError` (one line) if this format cannot write
        the fitted pipeline ``model``; called before anything is written. The default takes
        every model."""
        return None

    @abstractmethod
    def write(self, model: Any, folder: Path, info: dict[str, Any]) -> list[str]:
        """Write the fitted pipeline ``model`` into the existing, empty-of-model ``folder``.

        Parameters
        ----------
        model : sklearn.pipeline.Pipeline
            Fitted: preprocessing step(s), then a GraphNetClassifier / GraphNetRegressor as the
            last step (``model[-1]``).
        folder : Path
            Where to write; ``model.json`` and ``genome.json`` are not the format's business.
        info : dict
            The metadata that will be written to ``model.json`` (task, features, columns, ...);
            a format may add keys of its own (``onnx`` records its opset and inputs there).

        Returns
        -------
        list of str
            The names of the files written, relative to ``folder`` (recorded in model.json).
        """

    @abstractmethod
    def load(self, folder: Path, info: dict[str, Any]) -> Predictor:
        """Read the model this format wrote into ``folder`` back as a :class:`Predictor`."""

    def write_ensemble(self, model: Any, folder: Path, info: dict[str, Any]) -> list[str]:
        """Write a fitted :class:`~evosearch.deploy.ensemble.WeightedEnsemble` of pipelines.

        The default writes each member with :meth:`write` into ``members/<i>/`` and records
        ``info["ensemble"]["layout"] = "members"``, so :meth:`load_ensemble` loads and averages
        them; a format that can hold the whole ensemble in one model overrides both.
        ``info["ensemble"]`` holds the members' ``weights`` (set by the caller).

        Returns
        -------
        list of str
            The names of the files written, relative to ``folder``.
        """
        files = []
        for index, member in enumerate(model.estimators):
            sub = Path("members") / str(index)
            (folder / sub).mkdir(parents=True, exist_ok=True)
            written = self.write(member, folder / sub, dict(info))
            files += [(sub / name).as_posix() for name in written]
        info["ensemble"]["layout"] = "members"
        return files

    def load_ensemble(self, folder: Path, info: dict[str, Any]) -> Predictor:
        """Read back what :meth:`write_ensemble` wrote (the default: its members, averaged)."""
        from evosearch.deploy.ensemble import WeightedEnsemble

        ensemble = info["ensemble"]
        if ensemble.get("layout") != "members":
            return self.load(folder, info)
        weights = list(ensemble["weights"])
        members = [self.load(folder / "members" / str(i), info) for i in range(len(weights))]
        loaded: Predictor = WeightedEnsemble(members, weights)
        return loaded


def target_ndim(net: Any) -> int:
    """1 or 2: the dimensions of the fitted regressor ``net``'s predictions (1 for a model fitted
    on a 1-D ``y``), asked of the model through its public ``predict`` on one row of zeros."""
    return int(np.ndim(net.predict(np.zeros((1, int(net.n_features_in_))))))


def load_failure(path: str | Path, exc: BaseException) -> SettingsError:
    """The one-line error for a model file ``path`` that failed to load with ``exc``."""
    text = str(exc).strip()
    reason = text.splitlines()[0] if text else type(exc).__name__
    return SettingsError(f"cannot load {path}: {reason}")


#: The export formats by name (``joblib``, ``onnx``, ``python`` first); a miss is a
#: SettingsError.
EXPORT_FORMATS: Registry[ExportFormat] = Registry(
    "export format", error=SettingsError, base=ExportFormat, instances=True
)


def register_format(fmt: type[ExportFormat] | ExportFormat) -> type[ExportFormat] | ExportFormat:
    """Register an export format (class or instance) under its ``name``; usable as a decorator.

    Registering a name again replaces the earlier format (a reloaded plug-in module).

    Raises
    ------
    TypeError
        If ``fmt`` is not an :class:`ExportFormat` with a name.
    """
    return EXPORT_FORMATS.register(fmt)


def format_names() -> list[str]:
    """The names of the registered export formats, in registration order (built-ins first)."""
    return EXPORT_FORMATS.names()


def get_format(name: str) -> ExportFormat:
    """The registered export format called ``name``.

    Raises
    ------
    SettingsError
        If no format has that name (one line: the choices and the closest names).
    """
    return EXPORT_FORMATS.get(name)
