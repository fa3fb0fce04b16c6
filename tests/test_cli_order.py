"""The order of a command's checks and output: every refusal comes before anything is printed or
written, so it is the command's only line; Ctrl-C at any moment ends in one line too, even
while the command is still importing its modules."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clitools import (
    REPO,
    TINY_TOML,
    Result,
    assert_clean,
    assert_usage_error,
    evosearch,
    snapshot,
)
from evosearch.cli.main import main

LEGACY_IRIS = Path(__file__).parent / "data" / "legacy" / "iris-0.1.0"
TINY_RUN = ("--genome", "tiny.toml", "--population", "4", "--generations", "1", "--n-jobs", "1")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny genome, a run folder that holds something, and a run fitted from Python."""
    folder = tmp_path_factory.mktemp("order")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    (folder / "taken").mkdir()
    (folder / "taken" / "notes.txt").write_text("an earlier run's folder\n")
    # A run whose data was in memory (Evolver.fit(X, y)): run.json names no source.
    shutil.copytree(LEGACY_IRIS, folder / "iris-run")
    shutil.copytree(LEGACY_IRIS, folder / "from-python")
    info = json.loads((folder / "from-python" / "run.json").read_text())
    info["dataset"]["source"] = None
    (folder / "from-python" / "run.json").write_text(json.dumps(info))
    return folder


def in_process(
    args: list[str], folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> Result:
    """The command ``evosearch ARGS`` run in this process (its code, without a process's
    second or two of imports), in ``folder``."""
    monkeypatch.chdir(folder)
    status = main(args)
    out, err = capsys.readouterr()
    return Result(status, out, err)


REFUSALS = {
    "an --out that holds something": (
        ["evolve", *TINY_RUN, "--data", "iris", "--out", "taken"],
        ["run folder taken already exists and is not empty"],
    ),
    "a misspelled scoring": (
        ["evolve", *TINY_RUN, "--data", "iris", "--out", "new", "--scoring", "acuracy"],
        ["unknown scoring 'acuracy'", "did you mean accuracy"],
    ),
    "a scoring of the other task": (
        ["evolve", *TINY_RUN, "--data", "iris", "--out", "new", "--scoring", "r2"],
        ["'r2' is a regression metric"],
    ),
    "more folds than a class has rows": (
        ["evolve", *TINY_RUN, "--data", "iris", "--out", "new", "--cv", "60"],
        ["fewer than the 60 CV folds"],
    ),
    "an unknown genome": (
        ["evolve", "--genome", "nope", "--data", "iris", "--out", "new"],
        ["unknown genome 'nope'"],
    ),
    "an unknown objective": (
        ["evolve", *TINY_RUN, "--data", "iris", "--out", "new", "--objectives", "score,bogus"],
        ["unknown objective 'bogus'"],
    ),
    "bad data": (
        ["evolve", *TINY_RUN, "--data", "absent.csv", "--out", "new"],
        ["data file not found: absent.csv"],
    ),
    "a replay continued into a folder that holds something": (
        ["replay", "iris-run", "--generation", "1", "--continue-to", "taken"],
        ["run folder taken already exists and is not empty"],
    ),
    "a resume of a run fitted from Python": (
        ["resume", "from-python", "--generations", "4"],
        ["run from-python was fitted on in-memory arrays", "Evolver.resume(path, X=X, y=y)"],
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_refusal_is_the_only_line_and_writes_nothing(workdir, capsys, monkeypatch, case):
    args, words = REFUSALS[case]
    before = {name: snapshot(workdir / name) for name in ("taken", "iris-run", "from-python")}
    result = in_process(args, workdir, capsys, monkeypatch)
    assert_usage_error(result, *words)
    assert result.stdout == ""  # no header ("evolving ...", "resuming ...", a table) before it
    assert not (workdir / "new").exists()
    assert {name: snapshot(workdir / name) for name in before} == before


def test_the_real_command_refuses_before_its_header(workdir):
    before = snapshot(workdir / "taken")
    result = evosearch("evolve", *TINY_RUN, "--data", "iris", "--out", "taken", cwd=workdir)
    assert_usage_error(result, "run folder taken already exists and is not empty")
    assert result.stdout == ""
    assert snapshot(workdir / "taken") == before


def _importing(pid: int) -> bool:
    """Whether process ``pid`` has started importing the heavy modules (numpy is mapped):
    past the interpreter's own start, inside the command line."""
    try:
        return "numpy" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/PID/maps")
def test_ctrl_c_while_the_command_is_still_importing_is_one_line(tmp_path):
    """SIGINT once numpy is loaded, while scikit-learn and the rest are still importing."""
    (tmp_path / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "evosearch.cli", "evolve", *TINY_RUN, "--data", "iris",
         "--out", "run"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not _importing(process.pid) and process.poll() is None:
        assert time.monotonic() < deadline, "the command never imported numpy"
        time.sleep(0.002)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    result = Result(process.returncode, stdout, stderr)
    assert_clean(result)
    assert result.returncode == 130, result
    assert stderr == "evosearch: interrupted\n" and stdout == ""
    assert not (tmp_path / "run").exists()


def _worker_importing(pid: int) -> bool:
    """Whether process ``pid`` has an evaluation worker (a loky process) as a child that has
    started Python (SIGINT caught: the KeyboardInterrupt handler) and is importing: the moment
    a Ctrl-C would be a traceback of the worker's own."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return False
    for child in children:
        try:
            if b"loky" not in Path(f"/proc/{child}/cmdline").read_bytes():
                continue
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:  # gone meanwhile
            continue
        caught = int(status.split("SigCgt:")[1].split()[0], 16)
        if caught & (1 << (signal.SIGINT - 1)):
            return True
    return False


def _interrupt_the_group(cwd: Path, when: str, times: int) -> Result:
    """Start ``evosearch evolve`` in a process group of its own (as a terminal does), wait
    until ``when`` (``"worker"``: a worker process started, still importing; ``"journal"``: an
    evaluation journalled), and send the whole group (workers included) SIGINT ``times`` times,
    0.15 s apart: Ctrl-C pressed."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = (*TINY_RUN[:-2], "--n-jobs", "2", "--data", "iris", "--generations", "3", "--quiet")
    process = subprocess.Popen(
        [sys.executable, "-m", "evosearch.cli", "evolve", *args, "--out", "run"],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    journal, deadline = cwd / "run" / "journal.jsonl", time.monotonic() + 120

    def ready() -> bool:
        if when == "worker":
            return _worker_importing(process.pid)
        return journal.is_file() and "\n" in journal.read_text()

    while not ready():
        assert time.monotonic() < deadline and process.poll() is None, "the run never got there"
        time.sleep(0.002)
    if when == "worker":
        time.sleep(0.1)  # into the worker's imports (they take a second or so)
    for _ in range(times):
        try:
            os.killpg(process.pid, signal.SIGINT)
        except ProcessLookupError:  # already ended
            break
        time.sleep(0.15)
    stdout, stderr = process.communicate(timeout=120)
    return Result(process.returncode, stdout, stderr)


@pytest.mark.slow  # an evolve until its workers start or its first evaluation, 3-6 s each
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc/PID/task")
@pytest.mark.parametrize(
    ("when", "times"),
    [("worker", 1), ("journal", 2)],
    ids=["while-a-worker-imports", "twice-during-the-run"],
)
def test_ctrl_c_during_the_run_is_one_line_that_says_how_to_continue(tmp_path, when, times):
    """Ctrl-C reaches the workers too: while one still imports (before it can ignore it) and
    again while the run cleans up, the command still ends in its one line."""
    (tmp_path / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    result = _interrupt_the_group(tmp_path, when, times)
    assert_clean(result)
    assert result.returncode == 130, result
    assert result.stderr == (
        "evosearch: interrupted; the run folder keeps every finished evaluation; continue "
        "with: evosearch resume run\n"
    )
