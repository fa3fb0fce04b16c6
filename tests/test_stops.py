"""Runs that end badly, through the real command: a second writer, SIGTERM/SIGHUP, a full disk.

Each ends with one line and a distinct exit status, and the folder then resumes to exactly the
result of an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clitools import (
    REPO,
    TINY_TOML,
    Result,
    assert_clean,
    assert_usage_error,
    evolve_and_signal,
    evosearch,
    lines,
    outcome,
)
from evosearch.runs.lock import LOCK_FILE

RUN = ("--genome", "tiny.toml", "--data", "iris", "--population", "8", "--seed", "3", "--quiet")


def assert_journal_has_no_duplicates(folder: Path) -> None:
    keys = [(r["genome_hash"], str(r.get("folds"))) for r in lines(folder / "journal.jsonl")]
    assert len(keys) == len(set(keys))
    generations = [r["generation"] for r in lines(folder / "generations.jsonl")]
    assert generations == sorted(set(generations))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stops")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def reference(workdir: Path) -> Path:
    """An uninterrupted 5-generation run."""
    result = evosearch(
        "evolve", *RUN, "--n-jobs", "2", "--generations", "5", "--out", "full", cwd=workdir
    )
    assert result.returncode == 0, result.stderr
    assert not (workdir / "full" / LOCK_FILE).exists()  # a clean end leaves no lock behind
    return workdir / "full"


@pytest.mark.parametrize(
    ("sig", "group"),
    [
        (signal.SIGTERM, True),
        # The same code path for another signal: in the slow run only (make test-all).
        pytest.param(signal.SIGHUP, False, marks=pytest.mark.slow),
    ],
    ids=["SIGTERM-to-process-group", "SIGHUP-to-main-process"],
)
def test_stop_signal_mid_generation_then_resume_equals_uninterrupted(
    workdir, reference, sig, group
):
    out = f"stopped-{sig.name}"
    args = (*RUN, "--n-jobs", "2", "--generations", "5")
    result = evolve_and_signal(args, workdir, out, generation=3, done=2, sig=sig, group=group)

    assert result.returncode == 128 + sig  # 143 for SIGTERM, 129 for SIGHUP
    assert_clean(result)
    stderr = [line for line in result.stderr.splitlines() if line.strip()]
    assert stderr == [
        f"evosearch: stopped by {sig.name}; the run folder keeps every finished evaluation; "
        f"continue with: evosearch resume {out}"
    ]  # nothing else: no warning from the worker machinery
    folder = workdir / out
    assert json.loads((folder / "checkpoint.json").read_text())["generation"] < 3
    assert not (folder / LOCK_FILE).exists()
    # The workers got the signal too (with the group) but left it to the run: nothing failed.
    assert all(r["error"] is None for r in lines(folder / "journal.jsonl"))

    resumed = evosearch("resume", out, cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr
    assert outcome(folder) == outcome(reference)
    assert_journal_has_no_duplicates(folder)


@pytest.mark.slow  # 14 s; tests/test_run_lock.py checks the lock itself in the fast run
def test_second_resume_of_a_live_run_is_refused_and_touches_nothing(workdir, reference):
    first = evosearch(
        "evolve", *RUN, "--n-jobs", "1", "--generations", "2", "--out", "two", cwd=workdir
    )
    assert first.returncode == 0, first.stderr
    folder = workdir / "two"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writer = subprocess.Popen(
        [sys.executable, "-m", "evosearch.cli", "resume", "two", "--generations", "5"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if json.loads((folder / LOCK_FILE).read_text())["pid"] == writer.pid:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.01)
        else:
            pytest.fail("the first resume never took the lock")

        second = evosearch("resume", "two", "--generations", "5", cwd=workdir)
        assert_usage_error(
            second, "run folder two is being written by 'resume'", f"pid {writer.pid}"
        )
        # Readers never take the lock: they work on the live run.
        shown = evosearch("show", "two", cwd=workdir)
        assert shown.returncode == 0, shown.stderr
    finally:
        _, stderr = writer.communicate(timeout=120)
    assert writer.returncode == 0, stderr

    assert outcome(folder) == outcome(reference)
    assert_journal_has_no_duplicates(folder)


class Tmpfs:
    """A small tmpfs mounted on a folder: a real disk that fills up, or turns read-only."""

    def __init__(self, where: Path) -> None:
        self.where = where

    def mount(self, options: str, remount: bool = False) -> bool:
        options = f"remount,{options}" if remount else options
        command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(self.where)]
        return subprocess.run(command, capture_output=True, check=False).returncode == 0


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Tmpfs]:
    disk = Tmpfs(tmp_path / "disk")
    disk.where.mkdir()
    # A real full disk: a tmpfs far smaller than a run (about 130 kB on disk).
    if not disk.mount("size=48k"):
        pytest.skip("mounting a tmpfs needs root (CI and the development machines have it)")
    yield disk
    subprocess.run(["umount", str(disk.where)], capture_output=True, check=False)


def evolve_into(folder: Path, workdir: Path, generations: int, n_jobs: int) -> Result:
    genome = ("--genome", str(workdir / "tiny.toml"))
    return evosearch(
        "evolve", *RUN, *genome, "--n-jobs", str(n_jobs), "--generations", str(generations),
        "--out", str(folder), cwd=workdir,
    )  # fmt: skip


def test_full_disk_ends_with_one_line_then_resumes_exactly(workdir, reference, tmpfs):
    run = tmpfs.where / "run"
    full = evolve_into(run, workdir, generations=5, n_jobs=2)
    line = assert_usage_error(full, f"cannot write run folder {run}", "No space left on device")
    assert line.endswith(f"free some space, then continue with: evosearch resume {run}")

    assert tmpfs.mount("size=8m", remount=True)
    resumed = evosearch("resume", str(run), cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr
    assert outcome(run) == outcome(reference)
    assert_journal_has_no_duplicates(run)


@pytest.mark.slow  # the full-disk test covers the same path (disk_errors) in the fast run
def test_read_only_folder_is_one_line_and_resumes_once_writable(workdir, reference, tmpfs):
    assert tmpfs.mount("size=8m", remount=True)
    run = tmpfs.where / "run"
    first = evolve_into(run, workdir, generations=2, n_jobs=1)
    assert first.returncode == 0, first.stderr
    assert tmpfs.mount("ro", remount=True)
    refused = evosearch("resume", str(run), "--generations", "5", cwd=workdir)
    assert_usage_error(
        refused, f"cannot write run folder {run}", "Read-only file system", "make it writable"
    )
    assert tmpfs.mount("rw", remount=True)
    resumed = evosearch("resume", str(run), "--generations", "5", cwd=workdir)
    assert resumed.returncode == 0, resumed.stderr
    assert outcome(run) == outcome(reference)
