"""Lazy public names for package ``__init__`` modules (PEP 562).

A subpackage's ``__init__`` exports its public names, but importing them all eagerly would make
every light use pay for the heaviest: ``evosearch show`` reading a run would import
scikit-learn through the evaluator. Each name is imported from its module on first access
instead, and cached in the package.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, locations: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose name ``N`` lives in
    ``package.locations[N]``.

    Examples
    --------
    >>> getattr_, dir_ = lazy_exports("evosearch.search", {"ParetoArchive": "archive"})
    >>> getattr_("ParetoArchive").__name__
    'ParetoArchive'
    """

    def __getattr__(name: str) -> Any:
        module = locations.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(locations) | set(vars(sys.modules[package])))

    return __getattr__, __dir__
