"""The run folder: every file a run writes, written so a kill never leaves a broken one.

Layout (``runs/<run-id>/``)::

    run.json           settings, search space, seed, dataset fingerprint, package versions
    journal.jsonl      one line per finished evaluation, appended and flushed as it finishes
    generations.jsonl  one line per generation: population, statistics, hypervolume
    archive.json       the current Pareto archive
    checkpoint.json    the state needed to continue (RNG, innovation counter, population)

Everything is JSON (no pickle: opening someone else's run must not run code). Whole-file writes
are atomic: a temporary file in the same folder, fsync, then rename over the old file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import RunFolderError

__all__ = ["FORMAT_VERSION", "RunFolder", "atomic_write_json"]

FORMAT_VERSION = 1


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` so readers see the old or the new file, never half."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=1, allow_nan=False)
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class RunFolder:
    """Writes the files of one run folder.

    Parameters
    ----------
    path : path-like
        The run folder.
    """

    RUN_FILE = "run.json"
    JOURNAL_FILE = "journal.jsonl"
    GENERATIONS_FILE = "generations.jsonl"
    ARCHIVE_FILE = "archive.json"
    CHECKPOINT_FILE = "checkpoint.json"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @classmethod
    def create(cls, path: str | Path, run_info: dict[str, Any]) -> RunFolder:
        """Start a new run folder; refuses to touch a folder that already holds a run."""
        folder = cls(path)
        if folder.path.exists() and (not folder.path.is_dir() or any(folder.path.iterdir())):
            raise RunFolderError(
                f"run folder {folder.path} already exists and is not empty: "
                "choose another --out (or resume that run)"
            )
        try:
            folder.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunFolderError(f"cannot create run folder {folder.path}: {exc}") from None
        atomic_write_json(
            folder.path / cls.RUN_FILE, {"format_version": FORMAT_VERSION, **run_info}
        )
        return folder

    def _append_line(self, name: str, record: dict[str, Any]) -> None:
        line = json.dumps({"format_version": FORMAT_VERSION, **record}, allow_nan=False)
        with open(self.path / name, "a", encoding="utf-8") as stream:
            stream.write(line + "\n")
            stream.flush()
            os.fsync(stream.fileno())

    def append_journal(self, record: dict[str, Any]) -> None:
        """Journal one finished evaluation (flushed to disk before returning)."""
        self._append_line(self.JOURNAL_FILE, record)

    def append_generation(self, record: dict[str, Any]) -> None:
        """Record one finished generation."""
        self._append_line(self.GENERATIONS_FILE, record)

    def write_archive(self, archive: dict[str, Any]) -> None:
        atomic_write_json(
            self.path / self.ARCHIVE_FILE, {"format_version": FORMAT_VERSION, **archive}
        )

    def write_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        atomic_write_json(
            self.path / self.CHECKPOINT_FILE, {"format_version": FORMAT_VERSION, **checkpoint}
        )
