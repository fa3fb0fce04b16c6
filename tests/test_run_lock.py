"""The run-folder write lock: one holder at a time, stale locks taken over, foreign ones refused."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap

import pytest

from evosearch.errors import RunFolderError
from evosearch.runs.lock import LOCK_FILE, RunLock

HOLD = textwrap.dedent(
    """
    import sys, time
    from evosearch.runs.lock import RunLock
    lock = RunLock.acquire(sys.argv[1], "evolve")
    print("held", flush=True)
    time.sleep(60)
    """
)


def test_second_writer_is_refused_with_the_holder_named(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunFolderError) as refused:
            RunLock.acquire(tmp_path, "resume")
        message = str(refused.value)
        assert f"pid {holder.pid}" in message and socket.gethostname() in message
        assert "'evolve'" in message and "\n" not in message
        # The refusal touched nothing: the holder's record is intact.
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_killed_process_is_taken_over(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.kill()  # SIGKILL: no clean-up, the lock file stays behind
    holder.wait()
    assert (tmp_path / LOCK_FILE).exists()
    with RunLock.acquire(tmp_path, "resume") as lock:
        assert lock.taken_over is not None and lock.taken_over["pid"] == holder.pid
        assert json.loads(lock.path.read_text())["command"] == "resume"
    assert not (tmp_path / LOCK_FILE).exists()


def test_one_holder_at_a_time_within_a_process_and_release_frees_it(tmp_path):
    first = RunLock.acquire(tmp_path, "evolve")
    with pytest.raises(RunFolderError, match="is being written by 'evolve'"):
        RunLock.acquire(tmp_path, "resume")
    first.release()
    first.release()  # harmless
    assert not first.held
    with RunLock.acquire(tmp_path, "resume") as second:
        assert second.taken_over is None


def test_lock_file_of_another_host_is_refused_with_how_to_clear_it(tmp_path):
    record = {"pid": 4242, "host": "elsewhere.example", "command": "evolve", "started": "x"}
    (tmp_path / LOCK_FILE).write_text(json.dumps(record))
    with pytest.raises(RunFolderError) as refused:
        RunLock.acquire(tmp_path, "resume")
    message = str(refused.value)
    assert "elsewhere.example" in message and "another machine" in message
    assert f"delete {tmp_path / LOCK_FILE}" in message
    assert json.loads((tmp_path / LOCK_FILE).read_text()) == record  # untouched


def test_missing_folder_is_one_clear_error(tmp_path):
    with pytest.raises(RunFolderError, match="cannot lock run folder"):
        RunLock.acquire(tmp_path / "nope", "resume")
