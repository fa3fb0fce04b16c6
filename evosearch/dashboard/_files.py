"""Reading a run folder's files the cheap way: from the last offset, and only when they change.

Nothing here writes, locks or creates anything: a run that is being written is read while it
grows. A JSON-lines file is read from where the last read stopped; a line without its newline
yet is left for the next read (the writer is still appending it, or a kill cut it off), and a
file that shrank or was replaced (``RunFolder.repair`` rewrites it atomically before a resume)
is read again from the start.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

from evosearch.errors import EvosearchError

__all__ = ["JsonLines", "Skimmer", "Stamp", "inside", "lock_state", "read_json", "stamp"]

Stamp = tuple[int, int, int]
"""``(inode, size, mtime_ns)`` of a file, or ``(0, -1, 0)`` when it is missing."""

MISSING: Stamp = (0, -1, 0)


def stamp(path: Path) -> Stamp:
    """The file's :data:`Stamp`: a change of any part means it must be read again."""
    try:
        st = os.stat(path)
    except OSError:
        return MISSING
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path``, symlinks resolved, lies in ``folder`` (itself resolved): a run
    folder's file that is a symlink to elsewhere is not read."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def read_json(path: Path) -> Any:
    """The JSON content of ``path``; raises ``ValueError`` with one line when it is not."""
    try:
        return json.loads(path.read_bytes())
    except OSError as exc:
        raise ValueError(f"{path.name}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name}: not valid JSON ({exc})") from None


@dataclass(frozen=True)
class Skimmer:
    """A fast reader of the lines our writer makes that leaves one large value out.

    :meth:`records` parses a chunk of complete lines without the value of key ``cut`` in
    each (up to key ``resume``, or to the end of the line when ``resume`` is None): a journal
    line's genome, a generation line's population, most of each line's bytes, which the lists
    and plots never show. Each line is cut with ``bytes.find`` and all of them are parsed by one
    ``json.loads``, so a 50,000-line journal is read mostly at C speed.

    Parameters
    ----------
    cut, resume : bytes
        Key names.
    version : int
        The format version every line must have (older lines are read whole and migrated).
    """

    cut: bytes
    resume: bytes | None
    version: int

    def records(self, lines: list[bytes]) -> list[dict[str, Any]] | None:
        """The records of ``lines`` (complete lines, without their newlines), or None when
        one of them needs reading whole (another version, an odd line)."""
        key = b', "' + self.cut + b'": '
        end = b', "' + self.resume + b'": ' if self.resume is not None else None
        prefix = b'{"format_version": ' + str(self.version).encode() + b","
        cut = []
        for line in lines:  # bytes.find: far quicker than a regular expression here
            start = line.find(key) if line.startswith(prefix) else -1
            stop = -1 if start < 0 or end is None else line.find(end, start)
            if start < 0 or (end is not None and stop < 0):
                return None
            cut.append(line[:start] + b"}" if end is None else line[:start] + line[stop:])
        try:
            records = json.loads(b"[" + b",".join(cut) + b"]")
        except ValueError:
            return None
        return records if all(isinstance(r, dict) for r in records) else None


@dataclass
class JsonLines:
    """A JSON-lines file read incrementally.

    Parameters
    ----------
    path : Path
        The file (it may not exist yet).
    migrate : callable
        ``migrate(record, where) -> record``: brings a line to the current format; raises
        (``EvosearchError`` or ``ValueError``) on a line it cannot read.

    Attributes
    ----------
    offset : int
        Bytes read so far: every complete line before it has been handed out.
    lines : int
        Complete lines read so far.
    partial : bool
        Whether the file ends in a line without its newline (being written, or cut off).
    errors : list of str
        One line per damaged line met (it is skipped).
    skim : Skimmer, optional
        A fast partial reader tried first on each chunk of new lines.
    """

    path: Path
    migrate: Callable[[Any, str], dict[str, Any]]
    offset: int = 0
    lines: int = 0
    partial: bool = False
    errors: list[str] = field(default_factory=list)
    skim: Skimmer | None = None
    _inode: int = 0

    def read_new(self) -> tuple[list[tuple[int, int, dict[str, Any]]], bool]:
        """The records appended since the last call.

        Returns
        -------
        records : list of (offset, length, record)
            Each complete new line: where it starts in the file, its length and the migrated
            record (damaged lines are left out and named in :attr:`errors`).
        restarted : bool
            True when the file shrank or was replaced: the records are then the whole file
            again, and what was read before is to be forgotten.
        """
        try:
            st = os.stat(self.path)
        except OSError:
            restarted = self.offset > 0
            self._reset(0)
            return [], restarted
        restarted = False
        if st.st_ino != self._inode or st.st_size < self.offset:
            restarted = self.offset > 0
            self._reset(st.st_ino)
        if st.st_size == self.offset:
            self.partial = False
            return [], restarted
        with open(self.path, "rb") as stream:
            stream.seek(self.offset)
            data = stream.read(st.st_size - self.offset)  # not past the size just seen
        end = data.rfind(b"\n") + 1
        self.partial = end < len(data)
        lines = data[:end].split(b"\n")[:-1]
        lengths = [len(line) + 1 for line in lines]
        starts = list(accumulate(lengths, initial=self.offset))[:-1]
        skimmed = self.skim.records(lines) if self.skim and lines else None
        self.offset += end
        if skimmed is not None:  # every line read: no error to place
            self.lines += len(lines)
            return list(zip(starts, lengths, skimmed, strict=True)), restarted
        out = []
        for start, length, line in zip(starts, lengths, lines, strict=True):
            self.lines += 1
            record = self._parse(line)
            if isinstance(record, str):
                self.errors.append(f"{self.path.name}:{self.lines}: {record}")
            else:
                out.append((start, length, record))
        return out, restarted

    def _parse(self, line: bytes) -> dict[str, Any] | str:
        """The migrated record of one line, or what is wrong with it."""
        try:
            return self.migrate(json.loads(line), self.path.name)
        except json.JSONDecodeError as exc:
            return f"not valid JSON ({exc.msg})"
        except EvosearchError as exc:  # a migration's one-line refusal
            return str(exc)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return f"not a record of this file ({exc!r})"

    def _reset(self, inode: int) -> None:
        self.offset, self.lines, self.partial, self._inode = 0, 0, False, inode
        self.errors.clear()

    def read_line(self, offset: int, length: int) -> dict[str, Any] | None:
        """The record of the line at ``offset`` (from :meth:`read_new`), read again."""
        try:
            with open(self.path, "rb") as stream:
                stream.seek(offset)
                record = self.migrate(json.loads(stream.read(length)), self.path.name)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, EvosearchError):
            return None  # rewritten meanwhile: no detail to show
        return record


_LOCKS_READ: list[Any] = [0.0, None]  # (when, inodes): one read serves a whole poll


def _flock_inodes() -> set[int] | None:
    """Inodes of the files flock'ed on this machine (Linux's /proc/locks), None elsewhere;
    read at most every 0.2 s, since one poll asks it for every run."""
    now = time.monotonic()
    if now - _LOCKS_READ[0] < 0.2:
        return _LOCKS_READ[1]
    _LOCKS_READ[:] = [now, _read_flock_inodes()]
    return _LOCKS_READ[1]


def _read_flock_inodes() -> set[int] | None:
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as stream:
            text = stream.read()
    except OSError:
        return None
    inodes = set()
    for line in text.splitlines():
        parts = line.split()
        # "1: FLOCK  ADVISORY  WRITE 32383 fe:00:2419356 0 EOF" ("->" marks a waiter)
        if "FLOCK" in parts and "->" not in parts:
            try:
                inodes.add(int(parts[parts.index("FLOCK") + 4].rsplit(":", 1)[1]))
            except (IndexError, ValueError):
                continue
    return inodes


def lock_state(folder: Path, hostname: str) -> tuple[bool, dict[str, Any]]:
    """Whether a writer holds ``folder``'s lock, and the holder its lock file names.

    The lock is never taken, not even to test it (a reader must not race a starting writer):
    on Linux the kernel's table of flocks says whether the lock file is locked; elsewhere,
    whether the process it names still runs. A lock file naming another host counts as held:
    that host's lock cannot be seen from here.
    """
    path = folder / ".lock"
    try:
        st = os.stat(path)
        holder = json.loads(path.read_bytes() or b"{}")
    except (OSError, ValueError):
        return False, {}
    if not isinstance(holder, dict):
        holder = {}
    if holder.get("host") not in (None, hostname):
        return True, holder
    locked = _flock_inodes()
    if locked is not None:
        return st.st_ino in locked, holder
    try:
        os.kill(int(holder["pid"]), 0)
    except (KeyError, TypeError, ValueError, ProcessLookupError):
        return False, holder
    except PermissionError:
        return True, holder  # alive, someone else's
    return True, holder
