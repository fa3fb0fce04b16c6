"""Write failures of a run folder that the user fixes outside evosearch: a full disk, no rights.

They are not bugs, so they get one line naming the folder, the cause and the remedy instead of a
traceback, and since every write of a run folder is an append of whole lines or an atomic
replace, the folder stays resumable.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Container, Iterator
from contextlib import contextmanager
from pathlib import Path

from evosearch.errors import RunFolderError

__all__ = ["disk_errors", "file_mode", "prune_npz", "umask"]

# Write failures the user fixes outside evosearch (free space, permissions), not bugs.
_DISK_ERRORS = {
    errno.ENOSPC: "free some space",
    errno.EDQUOT: "free some space (or raise the disk quota)",
    errno.EROFS: "make it writable",
    errno.EACCES: "make it writable",
    errno.EPERM: "make it writable",
}


@contextmanager
def disk_errors(folder: str | Path) -> Iterator[None]:
    """Turn a full disk or an unwritable folder into one :class:`RunFolderError` line.

    The line names the folder, the cause and the remedy. What was written before stays valid
    (journal lines are appended whole or cut off at the end, other files replaced atomically),
    so once the cause is fixed ``evosearch resume`` continues exactly.
    """
    try:
        yield
    except OSError as exc:
        remedy = _DISK_ERRORS.get(exc.errno or 0)
        if remedy is None:
            raise
        raise RunFolderError(
            f"cannot write run folder {folder}: {exc.strerror}; {remedy}, then continue "
            f"with: evosearch resume {folder}"
        ) from None


def umask() -> int:
    """The process's umask: Linux shows it in /proc; elsewhere it is read back by setting it
    (POSIX has no other way)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode of every file evosearch writes: the one ``open()`` gives a new file, 0o666 less
    the umask (directories get 0o777 less it from ``mkdir``).

    One mode for a whole run folder (run.json, the journal, archive, checkpoint, weights, the
    lock, exports, reports): with a group-sharing umask (0o002) on a cluster filesystem the
    group reads all of it, with 0o077 nobody else reads any of it. A file made another way
    (a temporary file, 0o600) is given this mode before it takes its final name.
    """
    return 0o666 & ~umask()


def prune_npz(folder: Path, keep: Container[str]) -> None:
    """Delete ``folder``'s ``<key>.npz`` files whose key is not in ``keep``, and every
    ``.tmp`` file (a write cut short by a kill: never read, so always removable)."""
    for path in [*folder.glob("*.npz"), *folder.glob("*.tmp")]:
        if path.suffix == ".tmp" or path.stem not in keep:
            path.unlink(missing_ok=True)
