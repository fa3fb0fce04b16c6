"""The run folder: atomic writes, the journal and checkpoint, reading a run back, replay."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evosearch._lazy import lazy_exports

if TYPE_CHECKING:
    from evosearch.runs.disk import disk_errors, file_mode, prune_npz
    from evosearch.runs.folder import (
        RunFolder,
        RunRecord,
        atomic_write_json,
        load_run,
        load_run_dataset,
    )
    from evosearch.runs.members import ReplayedMember, generation_members

__all__ = [
    "ReplayedMember",
    "RunFolder",
    "RunRecord",
    "atomic_write_json",
    "disk_errors",
    "file_mode",
    "generation_members",
    "load_run",
    "load_run_dataset",
    "prune_npz",
]

# Imported on first use (see evosearch._lazy): light commands stay light.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ReplayedMember": "members",
        "RunFolder": "folder",
        "RunRecord": "folder",
        "atomic_write_json": "folder",
        "disk_errors": "disk",
        "prune_npz": "disk",
        "file_mode": "disk",
        "generation_members": "members",
        "load_run": "folder",
        "load_run_dataset": "folder",
    },
)
