"""The dashboard's view of a directory of runs, kept up to date by polling.

:class:`Watcher` finds the run folders under its directory (its children and grandchildren
holding a ``run.json``, a journal or a lock), keeps one :class:`RunState` per folder and, every
``interval`` seconds, refreshes them all in a worker thread: a refresh stats each file and
reads only what grew, so a poll of an idle directory costs a few ``stat`` calls per run.
Coroutines wait for the next change with :meth:`Watcher.changed`.

Folders are only served from under the directory: a symlink that resolves outside it is
skipped, and names are looked up among the folders found, never joined to a path.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

from evosearch.dashboard._runstate import RunState

__all__ = ["Watcher"]

T = TypeVar("T")

#: Folders inside a run folder (or beside runs) that are never runs themselves.
_NOT_RUNS = {"weights", "models", "report", "__pycache__"}
_MARKERS = ("run.json", "journal.jsonl", ".lock")


class Watcher:
    """Every run folder under ``root``, refreshed every ``interval`` seconds.

    Parameters
    ----------
    root : Path
        The directory of runs.
    interval : float, default=0.5
        Seconds between two polls.
    """

    def __init__(self, root: Path, interval: float = 0.5) -> None:
        self.root = Path(root)
        self.resolved = self.root.resolve()
        self.interval = interval
        self.runs: dict[str, RunState] = {}
        self.version = 0
        self.lock = threading.Lock()  # the poll thread writes what the handlers read
        self.hostname = socket.gethostname()
        self.scanned = False
        self.stopping = False  # set at shutdown: the event streams end
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ finding runs
    def _inside(self, path: Path) -> bool:
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):
            return False
        return resolved != self.resolved and resolved.is_relative_to(self.resolved)

    def find(self) -> dict[str, Path]:
        """``{name: folder}`` of the run folders under the directory, names ``/``-separated
        relative paths (a run may sit in a sub-folder: ``runs/ablation/seed-1``)."""
        found: dict[str, Path] = {}
        self._find_in(self.root, "", 0, found)
        return found

    def _find_in(self, folder: Path, prefix: str, depth: int, found: dict[str, Path]) -> None:
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith(".") or entry.name in _NOT_RUNS:
                continue
            path = Path(entry.path)
            try:
                if not entry.is_dir():
                    continue
            except OSError:
                continue
            if entry.is_symlink() and not self._inside(path):
                continue  # a link out of the directory is never served
            name = prefix + entry.name
            if any((path / marker).exists() for marker in _MARKERS):
                found[name] = path
            elif depth == 0:
                self._find_in(path, name + "/", depth + 1, found)

    def get(self, name: str) -> RunState | None:
        """The run called ``name``, if the directory holds it (else None: a 404)."""
        if not name or "\x00" in name or any(p in ("", ".", "..") for p in name.split("/")):
            return None
        run = self.runs.get(name)
        if run is None or not self._inside(run.path):
            return None
        return run

    def exists(self, name: str) -> bool:
        """Whether ``name`` is a run folder under the directory, known or not yet read (a
        page can then load while the first poll still reads a large journal)."""
        if self.get(name) is not None:
            return True
        if not name or any(p in ("", ".", "..") for p in name.split("/")):
            return False
        return name in self.find()

    # ------------------------------------------------------------------ polling
    def poll(self) -> bool:
        """Find the runs and refresh each (blocking; a worker thread runs it); True if
        anything changed."""
        found = self.find()
        changed = False
        with self.lock:
            for name in list(self.runs):
                if name not in found:
                    del self.runs[name]
                    changed = True
            for name, path in found.items():
                if name not in self.runs:
                    self.runs[name] = RunState(name, path, self.hostname)
                    changed = True
            for run in self.runs.values():
                try:
                    changed |= run.refresh()
                except OSError:
                    continue  # removed or unreadable mid-read: the next poll sees it
            if changed:
                self.version += 1
            self.scanned = True
        return changed

    async def read(self, function: Callable[[], T]) -> T:
        """Call ``function`` under the lock in a worker thread (it may slice large lists)."""

        def locked() -> T:
            with self.lock:
                return function()

        return await anyio.to_thread.run_sync(locked)

    async def run_forever(self) -> None:
        """Poll until cancelled, waking :meth:`changed` waiters after each change."""
        self._event = self._event or asyncio.Event()
        self._loop = asyncio.get_running_loop()
        while True:
            if await anyio.to_thread.run_sync(self.poll):
                self._notify()
            await asyncio.sleep(self.interval)

    async def ready(self) -> None:
        """Wait for the first poll (the first page of a large run waits for its journal)."""
        while not self.scanned:
            await self.changed(timeout=0.05)

    def stop(self) -> None:
        """End the event streams (from any thread, a signal handler included): the server can
        then close their connections at once instead of cancelling them."""
        self.stopping = True
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._notify)

    def _notify(self) -> None:
        old, self._event = self._event, asyncio.Event()
        if old is not None:
            old.set()

    def token(self) -> asyncio.Event:
        """What :meth:`changed` waits on: taken before looking at the runs, so a change made
        while a client's update was being sent is not missed."""
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    async def changed(self, timeout: float, token: asyncio.Event | None = None) -> None:
        """Wait until a poll found a change (since ``token`` was taken, if given), or
        ``timeout`` seconds."""
        event = token or self.token()
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass
