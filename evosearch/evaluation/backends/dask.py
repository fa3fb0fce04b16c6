"""The ``dask`` backend: the workers of a ``dask.distributed`` cluster.

An existing cluster (``scheduler``, or the ``EVOSEARCH_DASK_SCHEDULER`` environment variable) or
a :class:`~distributed.LocalCluster` started for the evaluator (one single-threaded worker process
per core, on 127.0.0.1).

It runs the same function as the ``local`` backend with the same per-task seeds and caps BLAS
threads to one inside the task, so a search gives the same archive and history on either
(timings and memory aside). The data is scattered to every worker once, one task is submitted
per fold, longest first (task priorities), and the local backend's failure rules are kept:

* a worker that dies mid-task: Dask re-runs the task elsewhere; a task Dask gives up on after
  ``distributed.scheduler.allowed-failures`` + 1 worker deaths is submitted once more (Dask
  also counts folds merely queued on the dying worker), and fails its genome with
  ``WorkerDied`` if its workers die again;
* ``eval_timeout``, counted from the moment the task started on its worker (the task reports
  its start through a Dask event): the genome fails with ``TimeoutError``, the future is
  cancelled and, because Dask cannot stop a running thread, that worker is restarted (in the
  background; it needs a nanny, which ``dask worker`` has by default);
* a scheduler that goes away: :class:`~evosearch.errors.BackendError` after the results
  already finished were handed to ``on_result``.

``dask`` is imported only when the Dask backend is used, so the core works without it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from evosearch.errors import BackendError
from evosearch.evaluation.backends.base import (
    Backend,
    DeadlineReached,
    TaskBatch,
    TaskKey,
    register_backend,
)
from evosearch.evaluation.tasks import (
    FoldContext,
    FoldOutcome,
    error_text,
    failed_outcome,
    fit_fold,
)

__all__ = ["SCHEDULER_ENV", "DaskBackend"]

#: Environment variable naming the Dask scheduler when ``scheduler`` is not given.
SCHEDULER_ENV = "EVOSEARCH_DASK_SCHEDULER"

_MISSING_DASK = "the dask backend needs dask.distributed: pip install 'evosearch[dask]'"

# Seconds to connect to a scheduler (and to reconnect to one that dropped the connection
# before the client gives up on it).
_CONNECT_TIMEOUT = 30.0

# The loop wakes at least this often (seconds) to notice a lost scheduler.
_POLL = 1.0

# How often a task whose future was cancelled by the cluster (not by us; e.g. its scattered
# data was lost with the workers holding it) is submitted again before its genome fails.
_RESUBMITS = 3

# How often a task Dask gave up on (KilledWorker) is submitted again under a fresh key: Dask
# also blames folds that were only queued on a worker another fold crashed, and those succeed.
_KILLED_RESUBMITS = 1

# Seconds close() waits for a worker restart to finish.
_RESTART_WAIT = 60.0

# Dask event topic on which a task reports that it started (for eval_timeout).
_START_TOPIC = "evosearch-task-start"


# ------------------------------------------------------------------------------ worker side
def _dask_task(context: FoldContext, key: str, *args: Any) -> FoldOutcome:
    """One fold on a Dask worker (``args`` from ``TaskBatch.args``): report the start (for the
    time limit), then train."""
    from distributed import get_worker

    try:
        worker = get_worker()
        worker.log_event(_START_TOPIC, {"key": key, "worker": worker.address})
    except ValueError:  # not on a worker (cannot happen through the runner): no time limit
        pass
    # limit_threads: Dask workers are long-lived processes we did not start, so the BLAS cap
    # is applied around each task rather than once at worker start-up.
    return fit_fold(context, *args, limit_threads=True)


# ------------------------------------------------------------------------------ client side
def _close(client: Any, cluster: Any) -> None:
    for thing in (client, cluster):
        if thing is not None:
            try:
                thing.close()
            except Exception:  # closing a half-dead connection must not hide the real error
                pass


@register_backend
class DaskBackend(Backend):
    """Runs an evaluator's tasks on a Dask cluster (connected lazily, on the first batch).

    ``scheduler`` None starts a :class:`~distributed.LocalCluster` of :attr:`n_workers`
    single-threaded processes on 127.0.0.1 (no dashboard); :meth:`close` stops it. The
    evaluator's data (``context``) is scattered to every worker once. See :class:`Backend`
    for the parameters and the contract.
    """

    name = "dask"

    def __init__(
        self,
        context: FoldContext,
        *,
        n_jobs: int,
        eval_timeout: float | None,
        scheduler: str | None = None,
    ) -> None:
        super().__init__(context, n_jobs=n_jobs, eval_timeout=eval_timeout, scheduler=scheduler)
        self._client: Any = None
        self._cluster: Any = None
        self._data: Any = None
        self._lock = threading.Lock()
        # Dask key -> (monotonic time its start was reported, worker address).
        self._starts: dict[str, tuple[float, str]] = {}
        self._finalizer: weakref.finalize | None = None
        self._serial = 0
        self._restarts: list[threading.Thread] = []

    @classmethod
    def unavailable(cls) -> str | None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            return _MISSING_DASK
        return None

    @classmethod
    def check_settings(cls, scheduler: str | None) -> str | None:
        """The scheduler address: ``scheduler``, else ``EVOSEARCH_DASK_SCHEDULER``, else None
        (a local cluster)."""
        if scheduler is None:
            scheduler = os.environ.get(SCHEDULER_ENV, "").strip() or None
        return scheduler

    @classmethod
    @contextmanager
    def contract_settings(cls, n_workers: int) -> Iterator[dict[str, Any]]:
        """One local cluster for a whole contract-suite module (starting one takes seconds)."""
        from distributed import LocalCluster

        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        try:
            yield {"scheduler": cluster.scheduler_address}
        finally:
            cluster.close()

    @property
    def address(self) -> str:
        return self.scheduler or "a local cluster"

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        from distributed import Client, LocalCluster

        try:
            if self.scheduler is None:
                self._cluster = LocalCluster(
                    n_workers=self.n_workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
                address = self._cluster.scheduler_address
            else:
                address = self.scheduler
            self._client = Client(address, timeout=_CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            _close(self._client, self._cluster)
            self._client = self._cluster = None
            raise BackendError(
                f"cannot connect to the Dask scheduler at {self.address}: {exc}"
            ) from None
        self._finalizer = weakref.finalize(self, _close, self._client, self._cluster)
        self._client.subscribe_topic(_START_TOPIC, self._on_start)
        return self._client

    def _on_start(self, event: Any) -> None:
        # Runs on the client's event-loop thread; the arrival time is close enough to the
        # start (milliseconds) for a limit of seconds.
        _, message = event
        with self._lock:
            self._starts[message["key"]] = (time.monotonic(), message["worker"])

    def close(self) -> None:
        """Disconnect (and stop the local cluster, if this runner started one).

        Waits for worker restarts still under way: closing the client would abandon them and
        leave those workers computing timed-out tasks for nobody.
        """
        for thread in self._restarts:
            thread.join(_RESTART_WAIT)
        self._restarts = []
        if self._finalizer is not None:
            self._finalizer()
        self._client = self._cluster = self._data = None

    def _scattered(self) -> Any:
        """The evaluator's data on the workers: sent once, again only if the cluster lost it."""
        if self._data is None or self._data.status != "finished":
            self._data = self._connect().scatter(self.context, broadcast=True, hash=False)
        return self._data

    def _lost(self, exc: BaseException | None = None) -> BackendError:
        detail = f" ({exc})" if exc is not None else ""
        return BackendError(
            f"lost the Dask scheduler at {self.address}{detail}; every finished evaluation is "
            "kept: resume the run folder to continue"
        )

    def run(self, batch: TaskBatch, tasks: Sequence[TaskKey], deadline: float | None) -> None:
        """Train ``tasks`` (longest first) and hand each outcome to ``batch.finish``.

        Raises
        ------
        DeadlineReached
            When ``deadline`` passes first (the tasks not finished are cancelled).
        BackendError
            When the scheduler cannot be reached or goes away.
        """
        from distributed import CancelledError, KilledWorker

        client = self._connect()
        try:
            data = self._scattered()
        except (OSError, TimeoutError, CancelledError) as exc:
            raise self._lost(exc) from None
        done: queue.SimpleQueue[Any] = queue.SimpleQueue()
        futures: dict[Any, tuple[TaskKey, str]] = {}  # future -> (task, Dask key)
        attempts: dict[TaskKey, int] = {}
        killed: dict[TaskKey, int] = {}

        def submit(task: TaskKey, priority: int) -> None:
            self._serial += 1
            dask_key = f"evosearch-fold-{self._serial}-{batch.hashes[task[0]][:12]}-{task[1]}"
            args = batch.args(task)
            future = client.submit(
                _dask_task, data, dask_key, *args, key=dask_key, pure=False, priority=priority
            )
            futures[future] = (task, dask_key)
            future.add_done_callback(done.put)

        def drop(future: Any) -> tuple[TaskKey, str]:
            task, dask_key = futures.pop(future)
            with self._lock:
                self._starts.pop(dask_key, None)
            return task, dask_key

        def lose_genome(index: int) -> None:
            """Cancel a failed genome's other folds: they are finished as skipped."""
            batch.lost.add(index)
            for future, (task, dask_key) in list(futures.items()):
                if task[0] == index:
                    with self._lock:
                        started = self._starts.get(dask_key)
                    running = started is not None and not future.done()
                    drop(future)
                    future.cancel()
                    if running and started is not None:  # Dask cannot stop its thread
                        self._restart_worker(started[1])
                    batch.skip_if_lost(task)

        priorities = {task: len(tasks) - rank for rank, task in enumerate(tasks)}
        try:
            for task in tasks:  # highest priority first: the longest tasks start first
                submit(task, priorities[task])
            while futures:
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    raise DeadlineReached("the deadline passed")
                wakeups = [now + _POLL]
                if deadline is not None:
                    wakeups.append(deadline)
                limit = self.eval_timeout
                if limit is not None:
                    with self._lock:
                        running = [
                            self._starts[key] for _, key in futures.values() if key in self._starts
                        ]
                    wakeups += [start + limit for start, _ in running]
                try:
                    finished = [done.get(timeout=max(min(wakeups) - now, 0.0))]
                except queue.Empty:
                    finished = []
                while not done.empty():
                    finished.append(done.get())
                if client.status != "running":
                    raise self._lost()
                for future in finished:
                    if future not in futures:
                        continue  # cancelled by us (timeout or a lost genome)
                    if future.status in ("pending", "lost"):
                        # Done, then its worker died before we fetched the result: Dask
                        # computes it again (same seed, same outcome); wait for that.
                        future.add_done_callback(done.put)
                        continue
                    task, _ = drop(future)
                    if future.status == "finished":
                        try:
                            outcome = future.result()
                        except CancelledError:  # lost between the check and the fetch
                            outcome = None
                        if outcome is not None:
                            batch.finish(task, outcome)
                            continue
                    if future.status in ("cancelled", "finished"):
                        # Not our doing: the cluster lost the task (or its data) or the client
                        # its scheduler. The outcome does not depend on where it runs, so re-run.
                        if client.status != "running":
                            raise self._lost()
                        attempts[task] = attempts.get(task, 0) + 1
                        if attempts[task] <= _RESUBMITS:
                            data = self._scattered()
                            submit(task, priorities[task])
                            continue
                        error = f"WorkerDied: fold {task[1]}: the cluster lost the task"
                    else:
                        failure = future.exception()
                        if isinstance(failure, KilledWorker):
                            # Dask gave up after allowed-failures deaths of workers running it
                            # (a fold queued on a dying worker counts too): once more, so a
                            # bystander runs; a fold that kills its workers again fails.
                            killed[task] = killed.get(task, 0) + 1
                            if killed[task] <= _KILLED_RESUBMITS:
                                submit(task, priorities[task])
                                continue
                            error = (
                                f"WorkerDied: fold {task[1]}: the Dask workers running it died "
                                "repeatedly (a crash in native code, os._exit(), or the system "
                                "killing them, often for lack of memory)"
                            )
                        else:
                            error = f"WorkerDied: fold {task[1]}: {error_text(failure)}"
                    batch.finish(task, failed_outcome(0.0, error))
                    lose_genome(task[0])
                if limit is not None:
                    self._check_timeouts(batch, futures, drop, lose_genome, limit)
        except (OSError, TimeoutError) as exc:  # comm errors of a scheduler going away
            raise self._lost(exc) from None
        finally:
            # Done, deadline, lost scheduler or a failing callback: nothing of this batch may
            # keep a worker busy for nobody.
            for future in list(futures):
                future.cancel()
            with self._lock:
                self._starts.clear()

    def _check_timeouts(
        self,
        batch: TaskBatch,
        futures: dict[Any, tuple[TaskKey, str]],
        drop: Callable[[Any], tuple[TaskKey, str]],
        lose_genome: Callable[[int], None],
        limit: float,
    ) -> None:
        now = time.monotonic()
        for future, (task, dask_key) in list(futures.items()):
            with self._lock:
                started = self._starts.get(dask_key)
            if future not in futures or started is None or now - started[0] < limit:
                continue
            drop(future)
            future.cancel()
            self._restart_worker(started[1])
            error = f"TimeoutError: fold {task[1]} exceeded the {limit:g} s evaluation limit"
            batch.finish(task, failed_outcome(now - started[0], error))
            lose_genome(task[0])

    def _restart_worker(self, address: str) -> None:
        """Restart the worker still computing a cancelled task, without waiting for it.

        Dask cannot interrupt a running thread; without a restart the worker would train on
        until the fold ends, for nobody. A worker without a nanny cannot be restarted and
        keeps going (the time-out is recorded all the same).
        """
        client = self._client

        def restart() -> None:
            try:
                client.restart_workers([address], timeout=_RESTART_WAIT, raise_for_error=False)
            except Exception:  # a worker that is gone already, or no nanny: nothing to do
                pass

        thread = threading.Thread(target=restart, name="evosearch-restart-worker", daemon=True)
        thread.start()
        self._restarts = [t for t in self._restarts if t.is_alive()] + [thread]
