"""The live dashboard: a local web server following the run folders of a directory.

``evosearch dashboard [RUNS_DIR]`` or :func:`serve` from Python. Pages: the list of runs, one
run (progress, convergence, the Pareto front, members, archive, failures, settings) and several
runs compared; they update as the runs write, through server-sent events. Read only: it never
takes a run's lock or writes a run folder. Needs the ``dashboard`` extra (Starlette, uvicorn).

Modules: ``_files`` (incremental reading, the lock seen from outside), ``_runstate`` (one run),
``_watch`` (the directory, polled), ``_members``, ``_compare`` (JSON for the pages),
``_pages`` (HTML), :mod:`~evosearch.dashboard.app` (routes and event streams),
:mod:`~evosearch.dashboard.server` (:func:`serve`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evosearch._lazy import lazy_exports

if TYPE_CHECKING:
    from evosearch.dashboard.app import create_app
    from evosearch.dashboard.server import serve

__all__ = ["create_app", "serve"]

# Imported on first use: the command line's parser does not load Starlette.
__getattr__, __dir__ = lazy_exports(__name__, {"create_app": "app", "serve": "server"})
