"""Finding plug-ins: the modules that register layer kinds, objectives, strategies or backends.

A plug-in is a module that registers what it defines when it is imported
(:func:`~evosearch.nn.register_layer_kind`, :func:`~evosearch.objectives.register_objective`,
:func:`~evosearch.search.register_strategy`, :func:`~evosearch.evaluation.register_backend`).
In a script, importing it is all it takes. A process that did not import it (the ``evosearch``
command, a resumed run) finds it in two places, both read by :func:`load_plugins`:

* the ``EVOSEARCH_PLUGINS`` environment variable: comma-separated module names, e.g.
  ``EVOSEARCH_PLUGINS=my_layers,my_objectives evosearch evolve --objectives score,params,depth``;
* the entry-point group ``evosearch.plugins`` of installed packages, one module per entry::

      [project.entry-points."evosearch.plugins"]
      my_layers = "my_package.layers"

The command line loads them before any command runs; each registry loads them the first time a
name it is asked for is missing. Evaluation workers need nothing of this: a genome travels to
them pickled with its layer kinds' classes by reference, so unpickling it imports their modules.
"""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points

from evosearch.errors import EvosearchError

__all__ = ["ENTRY_POINT_GROUP", "PLUGINS_ENV", "load_plugins"]

#: Environment variable naming plug-in modules, comma-separated.
PLUGINS_ENV = "EVOSEARCH_PLUGINS"

#: Entry-point group of installed plug-in packages (each entry names a module).
ENTRY_POINT_GROUP = "evosearch.plugins"

_loaded: set[str] = set()


def load_plugins() -> list[str]:
    """Import every plug-in module not imported yet; returns the names it imported now.

    Raises
    ------
    EvosearchError
        Naming a module of ``$EVOSEARCH_PLUGINS`` or an entry point that fails to import.
    """
    imported = []
    named = (part.strip() for part in os.environ.get(PLUGINS_ENV, "").split(","))
    for name in filter(None, named):
        if name in _loaded:
            continue
        _loaded.add(name)
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise EvosearchError(
                f"cannot import plug-in module {name!r} named in ${PLUGINS_ENV}: {exc}"
            ) from None
        imported.append(name)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        key = f"{entry.name}={entry.value}"
        if key in _loaded:
            continue
        _loaded.add(key)
        try:
            entry.load()
        except Exception as exc:
            raise EvosearchError(
                f"cannot load plug-in {entry.value!r} (entry point {entry.name!r} of group "
                f"{ENTRY_POINT_GROUP}): {exc}"
            ) from None
        imported.append(entry.value)
    return imported
