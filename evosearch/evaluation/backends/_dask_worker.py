"""The Dask backend's worker side: the task that trains one fold, plain or on its own.

Both put their start on record at the scheduler (:data:`START_TOPIC`) with a round trip, before
training (the isolated one once its child process trains): the client times ``eval_timeout``
from it, and a fold that Dask gives up on (``KilledWorker``) is judged by it. One never started
was only queued on the workers that died and is run again as it was; one that started runs again
through :func:`dask_isolated_task`, in a child process of the worker (:mod:`._isolated`), where a
crash convicts the fold without killing the worker.
"""

from __future__ import annotations

from typing import Any

from evosearch.evaluation.tasks import FoldContext, FoldOutcome, failed_outcome, fit_fold

__all__ = ["START_TOPIC", "crash_error", "dask_isolated_task", "dask_task"]

#: Dask event topic on which a task reports that it started.
START_TOPIC = "evosearch-task-start"

# Seconds a task waits for the scheduler to put its start on record.
_START_WAIT = 10.0


def _report_start(key: str) -> None:
    """Put the task's start on record at the scheduler (for the time limit and for telling a
    fold that crashed its worker from the folds only queued there)."""
    from distributed import get_worker
    from distributed.utils import sync

    try:
        worker = get_worker()
    except ValueError:  # not on a worker (cannot happen through the runner): no record
        return
    message = {"key": key, "worker": worker.address}
    try:
        # A round trip, not the worker's batched log_event: a fold that kills its worker at
        # once must still be on record as started, or it would pass for a bystander.
        sync(
            worker.loop,
            worker.scheduler.log_event,
            topic=START_TOPIC,
            msg=message,
            callback_timeout=_START_WAIT,
        )
    except Exception:  # a slow or flaky scheduler: the batched event, which may come late
        worker.log_event(START_TOPIC, message)


def dask_task(context: FoldContext, key: str, *args: Any) -> FoldOutcome:
    """One fold on a Dask worker (``args`` from ``TaskBatch.args``): report the start, then
    train."""
    _report_start(key)
    # limit_threads: Dask workers are long-lived processes we did not start, so the BLAS cap
    # is applied around each task rather than once at worker start-up.
    return fit_fold(context, *args, limit_threads=True)


def dask_isolated_task(context: FoldContext, key: str, *args: Any) -> FoldOutcome:
    """One fold suspected of killing its workers, trained in a child process of the worker
    (:mod:`._isolated`): if the child dies, the fold fails and the worker lives on."""
    from evosearch.evaluation.backends._isolated import IsolationUnavailable, run_isolated

    fold = int(args[2])
    try:
        # The start goes on record once the child trains: its start-up is not the fold's time.
        verdict = run_isolated(context, args, fold, on_start=lambda: _report_start(key))
    except IsolationUnavailable:  # no child process here: train in the worker after all
        _report_start(key)
        return fit_fold(context, *args, limit_threads=True)
    if isinstance(verdict, str):
        return failed_outcome(
            0.0, crash_error(fold, f"and so did a process running it on its own ({verdict})")
        )
    return verdict


def crash_error(fold: int, detail: str) -> str:
    """The ``WorkerDied`` error of a fold that killed the processes training it."""
    return (
        f"WorkerDied: fold {fold}: the Dask workers running it died, {detail}: a crash in "
        "native code, os._exit(), or the system killing it (often for lack of memory)"
    )
