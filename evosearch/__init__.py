"""evosearch: genetic-algorithm model search over neural-network layer graphs.

The public API: :class:`Evolver` runs a search, :class:`SearchSpace` says what a genome may hold,
:class:`Genome` is one candidate, :class:`ParetoArchive` keeps the accuracy/size trade-offs,
:func:`load_run` reads a run folder back.
Names are imported on first use, so ``import evosearch.data`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Evolver", "Genome", "ParetoArchive", "SearchSpace", "__version__", "load_run"]

_LOCATIONS = {
    "Evolver": "search.evolver",
    "Genome": "space.genome",
    "ParetoArchive": "search.archive",
    "SearchSpace": "space.space",
    "load_run": "runs.folder",
}

if TYPE_CHECKING:
    from evosearch.runs.folder import load_run
    from evosearch.search.archive import ParetoArchive
    from evosearch.search.evolver import Evolver
    from evosearch.space.genome import Genome
    from evosearch.space.space import SearchSpace


def __getattr__(name: str) -> Any:
    if name in _LOCATIONS:
        return getattr(importlib.import_module(f".{_LOCATIONS[name]}", __name__), name)
    raise AttributeError(f"module 'evosearch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
