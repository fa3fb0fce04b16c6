"""The Dask backend's verdict on a fold Dask gave up on (``KilledWorker``).

Dask gives up on a task after ``distributed.scheduler.allowed-failures`` + 1 deaths of workers
it was on, and it counts every task on a dying worker: the fold that crashed it, and the folds
merely queued there or running beside it. :class:`KilledFolds` tells them apart by each task's
start record (:mod:`._dask_worker`): a fold never started cannot have crashed anything and runs
again as it was; a started one is trained again on its own, in a child process of a worker
(:mod:`._isolated`), whose death convicts it without taking a worker or another fold with it.
"""

from __future__ import annotations

import time
from typing import Any

from evosearch.evaluation.backends._dask_worker import START_TOPIC, crash_error

__all__ = ["KilledFolds", "scatter_context", "started_at_scheduler"]

#: A task: ``(genome index in the batch, fold)``.
TaskKey = tuple[int, int]

# How often a fold Dask gave up on after it had started is trained again on its own before its
# genome fails: the first time gives the verdict, a second allows for a worker killed from
# outside while it ran (by the system, an operator) rather than by the fold.
_STARTED_RESUBMITS = 2

# How often a fold Dask gave up on that never started (a bystander queued on workers another fold
# crashed) is submitted again: so often only while other folds keep killing workers.
_QUEUED_RESUBMITS = 10

# After this many of those it is trained on its own too: its start may have gone unrecorded.
_QUEUED_PLAIN = 2


class KilledFolds:
    """Counts, per fold, how often Dask gave up on it, and decides what comes next."""

    def __init__(self) -> None:
        self.started: dict[TaskKey, int] = {}
        self.queued: dict[TaskKey, int] = {}

    def verdict(self, task: TaskKey, started: bool, alone: bool) -> tuple[bool, str | None]:
        """``(alone, None)``: submit ``task`` again, on its own or not; ``(_, error)``: fail it.

        Parameters
        ----------
        task : tuple of int
            The fold Dask gave up on.
        started : bool
            Whether its task was on record as started (it ran on a worker that died).
        alone : bool
            Whether that task was already a run on its own.
        """
        if started:
            self.started[task] = self.started.get(task, 0) + 1
            if self.started[task] <= _STARTED_RESUBMITS:
                return True, None
            return True, crash_error(task[1], "also while it ran on its own")
        self.queued[task] = self.queued.get(task, 0) + 1
        if self.queued[task] <= _QUEUED_RESUBMITS:
            return alone or self.queued[task] > _QUEUED_PLAIN, None
        error = (
            f"WorkerDied: fold {task[1]}: the Dask workers it was queued on kept dying "
            f"({self.queued[task]} times)"
        )
        return alone, error


def started_at_scheduler(client: Any, dask_key: str) -> bool:
    """Whether the scheduler has the start of task ``dask_key`` on record.

    The client's copy of a start event now and then arrives after the task's end; the scheduler
    had it before the task trained (a task reports its start with a round trip).
    """
    try:
        events = client.get_events(START_TOPIC)
    except Exception:  # no answer: taken as never started, which costs a re-run at most
        return False
    return any(isinstance(m, dict) and m.get("key") == dask_key for _, m in events)


# How often scattering the data is tried when a worker dies during it, waiting 1, 2, 4, ...
# seconds in between for the scheduler to notice the death (slow on a loaded machine).
_SCATTER_TRIES = 5


def scatter_context(client: Any, context: Any, known: Any = None, check: bool = False) -> Any:
    """The future of ``context`` on the cluster: ``known`` while the cluster holds it.

    The data goes to one worker; the others fetch it from there (or from any worker that has
    it since) before their first task, and keep it while the future lives. Not
    ``broadcast=True``: the scheduler copies a broadcast to the workers it listed when the
    copying began and tries a worker that died meanwhile again and again, 30 s a time, until
    the copy lands, which it never does (a restarted worker has a new address); the client's
    scatter waited on it, and a whole generation with it (a single SIGKILLed worker stalled the
    soak test for over a minute).

    ``check`` asks the scheduler whether a copy is left (after a task was cancelled: its data
    can be gone with the workers that held it while our future still says "finished"). A
    worker that dies while the data is sent breaks the scheduler's connection mid-scatter, or
    leaves the scheduler's list of workers between its listing and its copying (the scheduler
    then raises KeyError naming the worker's address): either is tried again while the client
    is still connected.
    """
    if known is not None and known.status == "finished" and check:
        try:
            if not client.who_has(known).get(known.key):
                known = None
        except (OSError, TimeoutError):  # no answer: keep it; the scheduler loss shows later
            pass
    if known is not None and known.status == "finished":
        return known
    for attempt in range(_SCATTER_TRIES):
        try:
            return client.scatter(context, hash=False)
        except (OSError, TimeoutError, KeyError):
            if client.status != "running" or attempt == _SCATTER_TRIES - 1:
                raise
            time.sleep(2.0**attempt)
    raise AssertionError("unreachable")
