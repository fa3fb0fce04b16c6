"""Latency models saved and reused: model files and this machine's cache.

A :class:`~evosearch.nn.cost_model.LatencyModel` is measured once and then only read, so that
runs agree on every genome's ``latency``:

- a **model file** (``evosearch calibrate --out FILE``, :func:`save_latency_model`) is used by
  runs given it (``evolve --latency-model FILE``, ``Evolver(latency_model=FILE)``): two runs
  with one file estimate alike on any machine, with any ``n_jobs``;
- the **machine cache** holds one model per machine (CPU, platform, numpy and Python versions,
  host name: :func:`machine_key`), in ``latency-<key>.json`` under ``$EVOSEARCH_CACHE_DIR``, else
  ``$XDG_CACHE_HOME/evosearch``, else the platform's cache folder (``~/.cache/evosearch`` on
  Linux). A fresh run with a ``latency`` objective and no model uses it, measuring it first when
  it is missing, so two fresh runs on one machine agree. ``evosearch calibrate --clear`` empties
  it.

A run records the model it used and where it came from (:func:`choose_latency_model`'s
source) in ``run.json``; a resume uses what the run recorded, never a file or the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evosearch.errors import SettingsError
from evosearch.nn._latency_calibration import fit_model
from evosearch.nn.cost_model import LatencyModel

__all__ = [
    "CACHE_ENV",
    "FILE_FORMAT",
    "cache_dir",
    "cache_path",
    "cached_latency_model",
    "calibrate",
    "choose_latency_model",
    "clear_cache",
    "describe_recorded",
    "describe_source",
    "load_latency_model",
    "machine_key",
    "save_latency_model",
]

#: The environment variable that moves evosearch's cache folder (tests, shared machines).
CACHE_ENV = "EVOSEARCH_CACHE_DIR"

#: What a model file says it is (its ``"format"``), and the version of that form.
FILE_FORMAT = "evosearch-latency-model"
FILE_VERSION = 1

#: The calibration's own version: a new grid or cost form gives a new machine key, so a
#: cache measured the old way is not read as the new one.
CALIBRATION_VERSION = 2

#: ``choose_latency_model``'s value that measures a model for one run, neither read from nor
#: written to the cache (what every run did before models could be saved).
CALIBRATE = "calibrate"


def calibrate(repeats: int = 40, seed: int = 0) -> LatencyModel:
    """Time one-row predictions of small networks here and fit :class:`LatencyModel`.

    Dense chains first (``per_network`` and ``dense``'s coefficients), then networks of one
    ``conv2d``, ``pool`` or ``global_pool`` layer in front of the output, whose time beyond the
    dense part fits those kinds' coefficients. Least squares with non-negative coefficients;
    takes a few seconds. The model says when and where it was measured.
    """
    return fit_model(repeats, seed)


def machine_key() -> str:
    """A short key of this machine and numerical stack (the cache's file name)."""
    from evosearch.nn._latency_calibration import machine_description

    text = f"{machine_description()}|calibration {CALIBRATION_VERSION}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def cache_dir() -> Path:
    """evosearch's cache folder: ``$EVOSEARCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/evosearch``,
    else the platform's (``~/.cache/evosearch``; macOS ``~/Library/Caches/evosearch``; Windows
    ``%LOCALAPPDATA%\\evosearch\\Cache``)."""
    own = os.environ.get(CACHE_ENV)
    if own:
        return Path(own).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():  # the XDG rule: a relative value is ignored
        return Path(xdg) / "evosearch"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "evosearch"
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "evosearch" / "Cache"
    return Path.home() / ".cache" / "evosearch"


def cache_path() -> Path:
    """This machine's cached model file."""
    return cache_dir() / f"latency-{machine_key()}.json"


def _file_data(model: LatencyModel) -> dict[str, Any]:
    return {"format": FILE_FORMAT, "format_version": FILE_VERSION, "model": model.to_dict()}


def save_latency_model(model: LatencyModel, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` to a JSON model file, atomically; returns its absolute path.

    Raises
    ------
    SettingsError
        One line, if the file cannot be written.
    """
    target = Path(path).expanduser().resolve()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = _temporary(target, model)
        os.replace(temporary, target)
    except OSError as exc:
        raise SettingsError(f"cannot write latency model file {target}: {exc.strerror}") from None
    return target


def _temporary(target: Path, model: LatencyModel) -> Path:
    """The model written, fsynced, into a temporary file beside ``target``."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(_file_data(model), out, indent=2)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    return Path(name)


def load_latency_model(path: str | os.PathLike[str]) -> LatencyModel:
    """Read a model file written by :func:`save_latency_model` (``evosearch calibrate``).

    Raises
    ------
    SettingsError
        One line naming the file, if it is missing, unreadable, not JSON, not a latency model
        or its coefficients are damaged.
    """
    where = Path(path).expanduser()
    try:
        text = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"latency model file {where} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise SettingsError(f"cannot read latency model file {where}: {reason}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(
            f"latency model file {where} is not JSON (line {exc.lineno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
        raise SettingsError(
            f"{where} is not a latency model file (evosearch calibrate --out writes one)"
        )
    if data.get("format_version") != FILE_VERSION:
        raise SettingsError(
            f"latency model file {where} has format version {data.get('format_version')!r}; "
            f"this evosearch reads version {FILE_VERSION}"
        )
    try:
        return LatencyModel.from_dict(data["model"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0]
        raise SettingsError(f"latency model file {where} is damaged: {reason}") from None


def cached_latency_model() -> tuple[LatencyModel, Path, bool]:
    """This machine's cached model, measured and stored first if there is none (or it is
    damaged): ``(model, its file, measured now)``.

    Two runs starting together may both measure; the first to store its model wins and the
    other uses that one, so they still agree. A cache that cannot be written is not an error:
    the model measured is used (and measured again by the next run).
    """
    path = cache_path()
    try:
        return load_latency_model(path), path, False
    except SettingsError:
        pass  # missing or damaged: measure (a damaged file is replaced)
    model = calibrate()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = _temporary(path, model)
    except OSError:
        return model, path, True
    try:
        for _ in range(2):
            try:
                os.link(temporary, path)  # only if none is there: the first one stored wins
                return model, path, True
            except FileExistsError:
                try:
                    return load_latency_model(path), path, False
                except SettingsError:
                    with contextlib.suppress(OSError):
                        path.unlink()  # damaged: replace it
        return model, path, True
    except OSError:  # no hard links here (some file systems): replace
        with contextlib.suppress(OSError):
            os.replace(temporary, path)
        return model, path, True
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


def clear_cache() -> list[Path]:
    """Remove every cached latency model (of any machine) from the cache folder; returns the
    files removed."""
    folder = cache_dir()
    removed = []
    for path in sorted(folder.glob("latency-*.json")) if folder.is_dir() else []:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def choose_latency_model(choice: Any) -> tuple[LatencyModel, dict[str, Any]]:
    """The model a fresh run uses, and where it came from (``run.json``'s
    ``latency_source``).

    Parameters
    ----------
    choice : None, "calibrate", path or LatencyModel
        None: this machine's cache (measured into it first if missing); ``"calibrate"``: a
        model measured for this run alone; a path: that model file; a LatencyModel: itself.

    Returns
    -------
    model : LatencyModel
    source : dict
        ``{"kind": "file", "path": ...}``, ``{"kind": "cache", "path": ..., "measured_now":
        bool}``, ``{"kind": "run"}`` or ``{"kind": "given"}``.
    """
    if isinstance(choice, LatencyModel):
        return choice, {"kind": "given"}
    if choice == CALIBRATE:
        return calibrate(), {"kind": "run"}
    if choice is None:
        model, path, measured = cached_latency_model()
        return model, {"kind": "cache", "path": str(path), "measured_now": measured}
    path = Path(choice).expanduser().resolve()
    return load_latency_model(path), {"kind": "file", "path": str(path)}


def describe_source(source: Mapping[str, Any] | None) -> str:
    """Where a run's latency model came from, in words (None: a run from before models were
    saved, which calibrated its own).

    Examples
    --------
    >>> describe_source({"kind": "file", "path": "/models/lab.json"})
    'model file /models/lab.json'
    >>> describe_source(None)
    'calibrated for this run'
    """
    kind = (source or {}).get("kind", "run")
    if kind == "file":
        return f"model file {source['path']}"  # type: ignore[index]
    if kind == "cache":
        now = " (stored there by this run)" if source.get("measured_now") else ""  # type: ignore[union-attr]
        return f"machine cache {source['path']}{now}"  # type: ignore[index]
    if kind == "given":
        return "a LatencyModel given to the Evolver (replay --continue-to: the parent run's)"
    return "calibrated for this run"


def describe_recorded(model: Mapping[str, Any], source: Mapping[str, Any] | None) -> list[str]:
    """How ``show`` and ``report`` describe the latency model run.json recorded: where it came
    from and when and where it was measured, then its coefficients (one line per kind)."""
    try:
        parsed = LatencyModel.from_dict(model)
    except (KeyError, TypeError, ValueError, AttributeError):
        return [f"{describe_source(source)} (unreadable coefficients)"]
    when = f", measured {parsed.measured}" if parsed.measured else ""
    where = f" on {parsed.machine}" if parsed.machine else ""
    return [f"{describe_source(source)}{when}{where}", *parsed.describe().splitlines()]
