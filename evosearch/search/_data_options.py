"""The Evolver's data options: ``categorical``, ``numeric``, ``drop`` and ``na_values``.

They mean what the command line's ``--categorical``, ``--numeric``, ``--drop`` and
``--na-values`` mean, for a DataFrame given to ``fit``, and are recorded where those are: in
the dataset's ``options`` (run.json's ``"dataset"``, an export's model.json), not among the
run's settings. So a resume, an export and ``evosearch predict`` read the data as the fit did,
whichever way the run was started. This module is imported by the settings table (and so by
the command line's parser): it imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from evosearch.errors import SettingsError

__all__ = [
    "DATA_OPTIONS",
    "check_columns",
    "data_options",
    "recorded_data_options",
    "without_dropped",
]

#: The Evolver's data options, in its parameter order.
DATA_OPTIONS = ("categorical", "numeric", "drop", "na_values")


def check_columns(name: str) -> Callable[[Any], tuple[str, ...]]:
    """A setting's check: a sequence of texts (one text alone is one) as a tuple."""

    def check(value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        try:
            items = tuple(value)
        except TypeError:
            raise SettingsError(
                f"{name} must be a sequence of {'texts' if name == 'na_values' else 'column names'}"
                f", got {value!r}"
            ) from None
        if not all(isinstance(item, str) for item in items):
            raise SettingsError(f"{name} must hold strings only, got {list(items)!r}")
        return items

    check.__name__ = f"check_{name}"
    return check


def data_options(settings: Any) -> dict[str, Any]:
    """The keywords of :func:`~evosearch.data.check_dataset` a run's settings give (tuples of
    texts)."""
    return {name: getattr(settings, name) for name in DATA_OPTIONS}


def recorded_data_options(info: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """The data options a run recorded (run.json's dataset ``options``), as the Evolver's
    parameters: those the run did not give are empty."""
    options = (info.get("dataset") or {}).get("options") or {}
    return {name: tuple(str(v) for v in options.get(name) or ()) for name in DATA_OPTIONS}


def without_dropped(X: Any, options: Mapping[str, Any]) -> Any:
    """``X`` without the columns the data's ``options`` drop (those it has)."""
    drop = list(options.get("drop") or ())
    if not drop or not hasattr(X, "columns"):
        return X
    present = [name for name in X.columns if str(name) in drop]
    return X.drop(columns=present) if present else X
