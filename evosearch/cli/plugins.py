"""``evosearch plugins``: what each registry holds, built-ins and plug-ins alike.

Every name a command line option takes from a registry (``--objectives``, ``--strategy``,
``--backend``, ``export --format``, the layer kinds of a genome file) is listed with the first
paragraph of its class docstring; names a plug-in module registered (see
:mod:`evosearch.plugins`) say which module, so that a user can check that
``$EVOSEARCH_PLUGINS`` or an entry point took.
"""

from __future__ import annotations

import argparse
import inspect
import re
import shutil
import textwrap
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["registries", "run"]

_BUILT_IN = "evosearch."


def registries() -> list[tuple[str, str, Callable[[], Iterable[tuple[str, Any]]]]]:
    """(title, how a plug-in adds one, the registry's ``(name, entry)`` pairs) per registry.

    Each registry is imported only when its pairs are asked for."""

    def layers() -> Iterable[tuple[str, Any]]:
        from evosearch.nn.layers import layer_kinds

        return layer_kinds().items()

    def objectives() -> Iterable[tuple[str, Any]]:
        from evosearch.objectives import get_objective, objective_names

        return ((name, get_objective(name)) for name in objective_names())

    def strategies() -> Iterable[tuple[str, Any]]:
        from evosearch.search.strategies import get_strategy, strategy_names

        return ((name, get_strategy(name)) for name in strategy_names())

    def backends() -> Iterable[tuple[str, Any]]:
        from evosearch.evaluation import backend_names, get_backend

        return ((name, get_backend(name)) for name in backend_names())

    def formats() -> Iterable[tuple[str, Any]]:
        from evosearch.deploy import format_names, get_format

        return ((name, get_format(name)) for name in format_names())

    return [
        ("layer kinds (genome files)", "evosearch.nn.register_layer_kind", layers),
        ("objectives (--objectives)", "evosearch.objectives.register_objective", objectives),
        ("strategies (--strategy)", "evosearch.search.register_strategy", strategies),
        ("backends (--backend)", "evosearch.evaluation.register_backend", backends),
        ("export formats (export --format)", "evosearch.deploy.register_format", formats),
    ]


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
