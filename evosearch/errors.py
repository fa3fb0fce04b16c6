"""Exception types shared across evosearch.

Errors that a user can fix (bad data, a broken genome file, impossible settings, a corrupt run
folder) derive from :class:`EvosearchError`; the command line prints their message on one line
and exits with status 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "BudgetWarning",
    "DataError",
    "EvosearchError",
    "InvalidGenomeError",
    "RunFolderError",
    "SearchSpaceError",
    "SettingsError",
]


class EvosearchError(Exception):
    """A problem the user can fix; its message is one line that names the problem."""


class SearchSpaceError(EvosearchError, ValueError):
    """A genome TOML file (search space) is missing, unreadable or invalid."""


class DataError(EvosearchError, ValueError):
    """A dataset is missing, unreadable or unusable for the requested task."""


class SettingsError(EvosearchError, ValueError):
    """A setting of :class:`~evosearch.Evolver` or the command line is impossible."""


class RunFolderError(EvosearchError):
    """A run folder is missing, corrupt or incompatible."""


class BackendError(EvosearchError):
    """The evaluation backend cannot go on (e.g. the Dask scheduler cannot be reached or went
    away); every evaluation finished before it is kept in the run folder."""


class InvalidGenomeError(ValueError):
    """A genome breaks one of its invariants (a bug in an operator, not user input)."""


class BudgetWarning(UserWarning):
    """``max_time`` ran out before the initial population finished: the model returned is the
    best of those that did (the command line says so in its own words)."""
