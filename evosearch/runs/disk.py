"""Write failures of a run folder that the user fixes outside evosearch: a full disk, no rights.

They are not bugs, so they get one line naming the folder, the cause and the remedy instead of a
traceback, and since every write of a run folder is an append of whole lines or an atomic
replace, the folder stays resumable.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evosearch.errors import RunFolderError

__all__ = ["disk_errors"]

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
