"""One writer per run folder: an advisory exclusive lock held for the whole of a run.

Every command that writes a run folder (``evolve``, ``resume``, ``replay --continue-to``,
``ensemble``, and :class:`~evosearch.Evolver` with ``out=``) holds ``RUN/.lock`` from before it
reads the folder until it ends. Readers (``show``, ``report``, ``export``, ``replay
--generation``) never take it, so they keep working on a live run.

How it works
------------
The lock is ``flock(LOCK_EX | LOCK_NB)`` on ``RUN/.lock``, whose content names the holder (pid,
host, command, start time) for the message a second writer gets. The kernel drops a flock when
its process dies, however it dies (even SIGKILL), so a lock file left behind by a dead process
on this host is simply locked again by the next writer: a stale lock is taken over without
guessing from pids. A clean exit deletes the file; it is unlinked *before* its lock is released,
and a new holder checks, once it has the lock, that the file it locked is still the one at that
path (else it retries), so two writers can never both hold it.

A lock file naming *another host* is different: on a shared filesystem that host's lock may not
be visible here, and whether its process still runs cannot be checked from here. Such a lock is
refused with how to clear it (delete the file once that run is known to be gone).
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evosearch.errors import RunFolderError
from evosearch.runs.disk import disk_errors

try:  # POSIX; elsewhere the lock is a no-op that only records the holder
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_FILE", "RunLock"]

#: The lock file inside a run folder.
LOCK_FILE = ".lock"


def _describe(holder: dict[str, Any]) -> str:
    what = f"'{holder['command']}' " if holder.get("command") else ""
    return (
        f"{what}(pid {holder.get('pid', '?')} on host {holder.get('host', '?')}, "
        f"since {holder.get('started', '?')})"
    )


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = json.loads(os.read(fd, 65536).decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass
class RunLock:
    """The exclusive write lock of one run folder; release it (or use ``with``) when done.

    Attributes
    ----------
    path : Path
        The lock file.
    taken_over : dict or None
        The holder recorded in a lock file left by a process of this host that had died (its
        lock was free): pid, host, command, started. None when the folder was not locked.
    """

    path: Path
    taken_over: dict[str, Any] | None
    _fd: int | None

    @classmethod
    def acquire(cls, folder: str | Path, command: str) -> RunLock:
        """Lock ``folder`` (which must exist) for writing by this process.

        Parameters
        ----------
        folder : path-like
            The run folder.
        command : str
            What is writing it (``"evolve"``, ``"resume"``, ...), recorded for the message
            another writer gets.

        Raises
        ------
        RunFolderError
            If another process holds the lock (naming it), if the lock file names another
            host (with how to clear it), or if the lock file cannot be created.
        """
        path = Path(folder) / LOCK_FILE
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        while True:
            if not Path(folder).is_dir():
                raise RunFolderError(f"cannot lock run folder {folder}: it does not exist")
            with disk_errors(folder):
                # 0o666 less the umask, as every file of the folder (runs/disk.py, file_mode).
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                held = cls._try_lock(fd)
            except BaseException:
                os.close(fd)
                raise
            if not held:
                holder = _read_holder(fd)
                os.close(fd)
                raise RunFolderError(
                    f"run folder {folder} is being written by {_describe(holder)}; wait for "
                    "it to finish or stop it first"
                )
            if cls._still_linked(fd, path):
                break
            os.close(fd)  # an old holder deleted this file after we opened it: start over
        previous = _read_holder(fd)
        if previous and previous.get("host") not in (None, me["host"]):
            cls._unlock(fd)
            os.close(fd)
            raise RunFolderError(
                f"run folder {folder} is locked by {_describe(previous)}, another machine; "
                f"if no run is writing this folder any more, delete {path} and try again"
            )
        try:
            with disk_errors(folder):
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, json.dumps(me).encode("utf-8"))
                os.fsync(fd)
        except BaseException:
            cls._unlock(fd)
            os.close(fd)
            raise
        return cls(path=path, taken_over=previous or None, _fd=fd)

    @staticmethod
    def _try_lock(fd: int) -> bool:
        if fcntl is None:  # pragma: no cover - Windows
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        return True

    @staticmethod
    def _unlock(fd: int) -> None:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)

    @staticmethod
    def _still_linked(fd: int, path: Path) -> bool:
        try:
            return os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            return False

    @property
    def held(self) -> bool:
        """Whether this object still holds the lock."""
        return self._fd is not None

    def release(self) -> None:
        """Delete the lock file, then drop the lock; a second call does nothing."""
        if self._fd is None:
            return
        # Unlinked while still locked: whoever opened the old file before will see, once it
        # gets the lock, that the file is gone, and start over on a fresh one.
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass  # e.g. a read-only folder now: the kernel lock still goes with the fd
        fd, self._fd = self._fd, None
        try:
            self._unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
