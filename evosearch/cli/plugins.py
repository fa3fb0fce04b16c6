"""``evosearch plugins``: what each registry holds, built-ins and plug-ins alike.

Every name a command line option takes from a registry (``--objectives``, ``--strategy``,
``--backend``, ``export --format``, the layer kinds of a genome file) is listed with the first
paragraph of its class docstring; names a plug-in module registered (see
:mod:`evosearch.plugins`) say which module, so that a user can check that
``$EVOSEARCH_PLUGINS`` or an entry point took.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import shutil
import textwrap
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from evosearch.registry import Registry

__all__ = ["REGISTRIES", "registries", "registry", "run"]

_BUILT_IN = "evosearch."


#: Where each registry a command line option or a genome file takes names from lives, by its
#: kind: ``module:ATTRIBUTE`` (imported only when asked for).
REGISTRIES = {
    "layer kind": "evosearch.nn.layers:LAYER_KINDS",
    "objective": "evosearch.objectives:OBJECTIVES",
    "strategy": "evosearch.search.strategies:STRATEGIES",
    "backend": "evosearch.evaluation.backends:BACKENDS",
    "export format": "evosearch.deploy:EXPORT_FORMATS",
}

#: What ``evosearch plugins`` lists: (title, how a plug-in adds one, the registry's kind).
_LISTED = (
    ("layer kinds (genome files)", "evosearch.nn.register_layer_kind", "layer kind"),
    ("objectives (--objectives)", "evosearch.objectives.register_objective", "objective"),
    ("strategies (--strategy)", "evosearch.search.register_strategy", "strategy"),
    ("backends (--backend)", "evosearch.evaluation.register_backend", "backend"),
    ("export formats (export --format)", "evosearch.deploy.register_format", "export format"),
)


def registry(kind: str) -> Registry[Any]:
    """The registry of ``kind`` (a key of :data:`REGISTRIES`), its module (so its built-ins)
    imported."""
    module, _, attribute = REGISTRIES[kind].partition(":")
    found = getattr(importlib.import_module(module), attribute)
    assert isinstance(found, Registry), kind
    return found


def registries() -> list[tuple[str, str, Callable[[], Iterable[tuple[str, Any]]]]]:
    """(title, how a plug-in adds one, the registry's ``(name, entry)`` pairs) per registry.

    Each registry is imported only when its pairs are asked for."""
    return [(title, register, partial(_items, kind)) for title, register, kind in _LISTED]


def _items(kind: str) -> list[tuple[str, Any]]:
    return registry(kind).items()


def _summary(entry: Any) -> tuple[str, str | None]:
    """The first paragraph of ``entry``'s class docstring on one line (reST markup dropped)
    and, for a plug-in, the module that defines it (None for a built-in)."""
    cls = entry if inspect.isclass(entry) else type(entry)
    # The class's own docstring: an inherited one would describe the base class instead.
    paragraph = inspect.cleandoc(cls.__dict__.get("__doc__") or "").split("\n\n")[0]
    line = re.sub(r"``(.+?)``", r"\1", " ".join(paragraph.split()))
    module = cls.__module__
    return line, None if module.startswith(_BUILT_IN) else module


def run(args: argparse.Namespace) -> int:
    """Run ``evosearch plugins``; returns the exit status."""
    columns = max(60, min(100, shutil.get_terminal_size().columns))
    for index, (title, register, pairs) in enumerate(registries()):
        rows = [(name, *_summary(entry)) for name, entry in pairs()]
        if index:
            print()
        print(f"{title}; a plug-in adds one with {register}")
        width = max((len(name) for name, _, _ in rows), default=0)
        for name, line, module in rows:
            origin = "" if module is None else f" [plug-in {module}]"
            text = textwrap.fill(
                f"{line}{origin}",
                columns,
                initial_indent=f"  {name:<{width}}  ",
                subsequent_indent=" " * (width + 4),
                break_long_words=False,
            )
            print(text)
    return 0
