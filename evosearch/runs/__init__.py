"""The run folder: atomic writes, the journal and checkpoint, reading a run back, replay."""

from evosearch.runs.disk import disk_errors
from evosearch.runs.folder import (
    RunFolder,
    RunRecord,
    atomic_write_json,
    load_run,
    load_run_dataset,
)
from evosearch.runs.replay import ReplayedMember, generation_members, reevaluate

__all__ = [
    "ReplayedMember",
    "RunFolder",
    "RunRecord",
    "atomic_write_json",
    "disk_errors",
    "generation_members",
    "load_run",
    "load_run_dataset",
    "reevaluate",
]
