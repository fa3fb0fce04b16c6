"""Shared helpers for tests that run the real ``evosearch`` command."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evosearch.testing._tiny import TINY_HYPER, tiny_toml

REPO = Path(__file__).resolve().parents[1]

TINY_TOML = tiny_toml(max_epochs=(5, 10))

# Every genome of this space diverges: plain SGD at learning rate 10 through wide leaky ReLUs.
DIVERGING_TOML = """
name = "diverging"

[architecture]
min_layers = 2
max_layers = 2
initial_layers = [2, 2]
skip_connections = true

[layers.dense]
units = [64]
activation = ["leaky_relu"]
dropout = [0.0]

[training]
optimizer = ["sgd"]
learning_rate = 10.0
l1 = 0.0
l2 = 0.0
batch_size = [32]
max_epochs = [5, 10]
"""

# Training settings of hand-built genomes that train in milliseconds.
HYPER = TINY_HYPER

RUN_FILES = {"run.json", "journal.jsonl", "generations.jsonl", "archive.json", "checkpoint.json"}
# With weight inheritance (the default) the population's trained weights live here too.
RUN_FILES |= {"weights"}
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # anything but tab and newline


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def _command_env() -> dict[str, str]:
    """This environment without colour forcing, with the repository importable."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE")
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def evosearch(*args: str, cwd: Path) -> Result:
    """Run ``python -m evosearch.cli ARGS`` with pipes (so stdout is not a terminal)."""
    done = subprocess.run(
        [sys.executable, "-m", "evosearch.cli", *args],
        cwd=cwd,
        env=_command_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def evosearch_reader_leaves(*args: str, cwd: Path, lines: int = 0) -> Result:
    """Run ``python -m evosearch.cli ARGS`` whose output's reader reads ``lines`` lines, then
    closes the pipe (``| head -n LINES``); ``stdout`` holds the lines read."""
    process = subprocess.Popen(
        [sys.executable, "-m", "evosearch.cli", *args],
        cwd=cwd,
        env=_command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    read = "".join(process.stdout.readline() for _ in range(lines))
    process.stdout.close()  # the command's next write fails with a broken pipe
    stderr = process.stderr.read()
    return Result(process.wait(timeout=120), read, stderr)


def assert_clean(result: Result) -> None:
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream
        assert "\x1b" not in stream and "\r" not in stream
        assert not CONTROL.search(stream), repr(CONTROL.search(stream))


def assert_usage_error(result: Result, *words: str) -> str:
    assert result.returncode == 2, result
    assert_clean(result)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("evosearch: error: "), line
    for word in words:
        assert word in line, f"{word!r} not in {line!r}"
    return line


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def without_timings(value: Any) -> Any:
    """Drop measured fields (wall-clock time, memory), the only ones allowed to differ."""
    if isinstance(value, dict):
        return {
            k: without_timings(v)
            for k, v in value.items()
            if k not in ("seconds", "peak_memory_mb")
        }
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def outcome(folder: Path) -> tuple[Any, Any]:
    """A run's result: its archive and generation rows, without measured fields."""
    archive = json.loads((folder / "archive.json").read_text())
    return without_timings(archive), without_timings(lines(folder / "generations.jsonl"))


def evolve_and_kill(args: tuple[str, ...], cwd: Path, out: str, generation: int, done: int) -> Path:
    """Start a real ``evosearch evolve ARGS --out OUT`` and SIGKILL it once ``done`` evaluations
    of ``generation`` are journalled (the last, possibly half-written, line not counted)."""
    evolve_and_signal(args, cwd, out, generation, done, signal.SIGKILL)
    return cwd / out


def evolve_and_signal(
    args: tuple[str, ...],
    cwd: Path,
    out: str,
    generation: int,
    done: int,
    sig: int,
    group: bool = False,
) -> Result:
    """Like :func:`evolve_and_kill` with signal ``sig``; returns how the command ended.

    With ``group`` the signal goes to the command's whole process group, workers included, as
    a batch scheduler or a closing terminal sends it.
    """
    import pytest

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "evosearch.cli", "evolve", *args, "--out", out],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=group,
    )
    journal = cwd / out / "journal.jsonl"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if journal.exists():
                finished = [
                    json.loads(x)["generation"] for x in journal.read_text().splitlines()[:-1]
                ]
                if finished.count(generation) >= done:
                    break
            time.sleep(0.005)
        else:
            pytest.fail(f"the run never reached generation {generation}")
    finally:
        if group:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=60)
    return Result(process.returncode, stdout, stderr)


def from_journal(folder: Path, copy: Path, X: Any = None, y: Any = None) -> tuple[Any, Any]:
    """The outcome of taking ``folder``'s journal in again from nothing (its checkpoint,
    archive and generation lines removed): a resume replays every line in order."""
    shutil.copytree(folder, copy)
    for name in ("checkpoint.json", "archive.json", "generations.jsonl"):
        (copy / name).unlink()
    if json.loads((copy / "run.json").read_text())["dataset"]["source"] is None:  # arrays
        from evosearch import Evolver

        Evolver.resume(copy, X=X, y=y)
    else:
        result = evosearch("resume", str(copy), "--quiet", cwd=copy.parent)
        assert result.returncode == 0, result.stderr
    assert len(lines(copy / "journal.jsonl")) == len(lines(folder / "journal.jsonl"))  # none new
    return outcome(copy)


def journalled_once(folder: Path) -> list[str]:
    hashes = [r["genome_hash"] for r in lines(folder / "journal.jsonl")]
    assert len(hashes) == len(set(hashes))
    return hashes
