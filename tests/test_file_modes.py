"""One mode for everything in a run folder: the umask's, as ``open()`` and ``mkdir`` give.

A run folder on a shared cluster filesystem was half unreadable to the group: the whole files
(written through a temporary file, 0o600) and the lock (0o644 whatever the umask) did not follow
the umask the journal followed. After evolve, resume, export and report, every file is
``0o666 & ~umask`` and every folder ``0o777 & ~umask``, under 0o022 and under 0o002.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from evosearch.cli.main import main
from evosearch.runs import file_mode
from evosearch.runs.lock import RunLock
from evosearch.testing._tiny import tiny_toml


# 0o022 (the usual umask, which every other test runs under) in the slow run: two whole runs
# with a report cost the fast run too much.
@pytest.fixture(params=[pytest.param(0o022, marks=pytest.mark.slow), 0o002], ids=["022", "002"])
def mask(request: pytest.FixtureRequest) -> Iterator[int]:
    before = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(before)


def modes(folder: Path) -> dict[str, set[str]]:
    """Paths under ``folder`` by their mode (octal), files and folders apart."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*"):
        kind = "dir" if path.is_dir() else "file"
        found.setdefault(f"{kind} {path.stat().st_mode & 0o777:o}", set()).add(
            str(path.relative_to(folder))
        )
    return found


def test_every_file_of_a_run_folder_has_the_umasks_mode(mask: int, tmp_path: Path) -> None:
    genome = tmp_path / "tiny.toml"
    genome.write_text(tiny_toml(max_epochs=(3,)), encoding="utf-8")
    run = tmp_path / "run"
    evolve = ["evolve", "--genome", str(genome), "--data", "iris", "--population", "2"]
    evolve += ["--generations", "1", "--n-jobs", "1", "--holdout", "0.2", "--quiet"]
    assert main([*evolve, "--out", str(run)]) == 0
    assert main(["resume", str(run), "--generations", "2", "--quiet"]) == 0
    assert main(["export", str(run)]) == 0
    assert main(["export", str(run), "--format", "python", "--out", str(run / "models/py")]) == 0
    assert main(["report", str(run)]) == 0
    with RunLock.acquire(run, "test") as lock:  # the lock exists only while a writer runs
        assert lock.path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert {"weights", "models", "report", "archive.json", "checkpoint.json", "run.json"} <= {
        path.name for path in run.iterdir()
    }
    assert file_mode() == 0o666 & ~mask
    expected = {f"file {0o666 & ~mask:o}", f"dir {0o777 & ~mask:o}"}
    found = modes(run)
    assert set(found) == expected, {mode: sorted(paths)[:5] for mode, paths in found.items()}
