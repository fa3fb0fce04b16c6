"""The ``dask`` backend: the workers of a ``dask.distributed`` cluster.

An existing cluster (``scheduler``, or the ``EVOSEARCH_DASK_SCHEDULER`` environment variable) or
a :class:`~distributed.LocalCluster` started for the evaluator (one single-threaded worker process
per core, on 127.0.0.1).

It runs the same function as the ``local`` backend with the same per-task seeds and caps BLAS
threads to one inside the task, so a search gives the same archive and history on either
(timings and memory aside). The data is scattered to every worker once, one task is submitted
per fold, longest first (task priorities), and the local backend's failure rules are kept:

* a worker that dies mid-task: Dask re-runs the task elsewhere. Dask gives up on a task
  (``KilledWorker``) after ``distributed.scheduler.allowed-failures`` + 1 deaths of workers it
  was on, and it also counts the folds merely queued on (or running beside) the one that crashed
  them. So every task puts its start on record at the scheduler before it trains
  (:mod:`._dask_worker`), and a fold Dask gave up on is judged by it: one that never started
  was a bystander and is submitted again as it was; one that started is trained once more on
  its own, in a child process of a worker (:mod:`._isolated`). If that process dies, the fold
  killed its workers: its genome fails with ``WorkerDied``, and no worker or other fold goes
  with it; if it finishes, its outcome is the fold's (same seed, same result);
* ``eval_timeout``, counted from the moment the task started on its worker (its start
  record): the genome fails with ``TimeoutError``, the future is cancelled and, because Dask
  cannot stop a running thread, that worker is restarted (in the background; it needs a nanny,
  which ``dask worker`` has by default);
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
from evosearch.evaluation.backends._dask_address import (
    check_address,
    client_failed,
    collect_client,
    probe,
)
from evosearch.evaluation.backends._dask_faults import (
    KilledFolds,
    scatter_context,
    started_at_scheduler,
)
from evosearch.evaluation.backends._dask_worker import START_TOPIC, dask_isolated_task, dask_task
from evosearch.evaluation.backends.base import (
    Backend,
    Deadline,
    DeadlineReached,
    TaskBatch,
    TaskKey,
    deadline_at,
    register_backend,
)
from evosearch.evaluation.tasks import FoldContext, error_text, failed_outcome

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

# Seconds close() waits for a worker restart to finish.
_RESTART_WAIT = 60.0


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
    moving_deadline = True
    streaming = True

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
        (a local cluster); a malformed one (no port, an unknown scheme) is refused."""
        origin = ""
        if scheduler is None:
            scheduler = os.environ.get(SCHEDULER_ENV, "").strip() or None
            origin = f"${SCHEDULER_ENV}"
        return None if scheduler is None else check_address(scheduler, origin)

    @classmethod
    def check_reachable(cls, scheduler: str | None) -> None:
        """Refuse (BackendError) a scheduler address where nothing listens, in at most
        ``PROBE_TIMEOUT`` (10) seconds; a local cluster (None) is started later."""
        if scheduler is not None:
            probe(scheduler)

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

    def slots(self) -> int:
        """The cluster's worker threads (connecting if need be); :attr:`n_workers` while no
        worker has joined yet."""
        workers = self._connect().scheduler_info().get("workers", {})
        threads = sum(int(w.get("nthreads", 1)) for w in workers.values())
        return threads or self.n_workers

    @property
    def address(self) -> str:
        return self.scheduler or "a local cluster"

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        from distributed import Client, LocalCluster

        if self.scheduler is not None:
            probe(self.scheduler)  # nothing listening: one line now, not retries for 30 s
        failure: BackendError | None = None
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
        except Exception as exc:
            _close(self._client, self._cluster)
            self._client = self._cluster = None
            if self.scheduler is None and not isinstance(exc, (OSError, TimeoutError)):
                raise  # starting the local cluster failed: not a connection problem
            # Anything a scheduler that answers but refuses us makes Client raise (a comm
            # error, a garbled handshake): one line naming it, raised below, once the
            # traceback that holds the half-made client is gone.
            failure = client_failed(self.address, exc)
        if failure is not None:
            collect_client()
            raise failure
        self._finalizer = weakref.finalize(self, _close, self._client, self._cluster)
        self._client.subscribe_topic(START_TOPIC, self._on_start)
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

    def _scattered(self, check: bool = False) -> Any:
        """The evaluator's data on the workers: sent once, again only if the cluster lost it
        (``check``: ask the scheduler, after a task was lost)."""
        self._data = scatter_context(self._connect(), self.context, self._data, check)
        return self._data

    def _lost(self, exc: BaseException | None = None) -> BackendError:
        detail = f" ({exc})" if exc is not None else ""
        return BackendError(
            f"lost the Dask scheduler at {self.address}{detail}; every finished evaluation is "
            "kept: resume the run folder to continue"
        )

    def run(
        self, batch: TaskBatch, tasks: Sequence[TaskKey], deadline: float | Deadline | None
    ) -> None:
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
        killed = KilledFolds()
        isolated: set[str] = set()  # Dask keys of folds trained on their own
        sent: dict[str, Any] = {}  # Dask key -> the data future its task depends on

        def submit(task: TaskKey, priority: int, alone: bool = False) -> None:
            self._serial += 1
            dask_key = f"evosearch-fold-{self._serial}-{batch.hashes[task[0]][:12]}-{task[1]}"
            args = batch.args(task)
            function = dask_isolated_task if alone else dask_task
            if alone:
                isolated.add(dask_key)
            future = client.submit(
                function, data, dask_key, *args, key=dask_key, pure=False, priority=priority
            )
            futures[future] = (task, dask_key)
            sent[dask_key] = data
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

        lowest = [0]  # added tasks start after everything queued before them

        def submit_new() -> None:
            """Submit what an open batch's on_result added."""
            for task in batch.take_new():
                lowest[0] -= 1
                priorities[task] = lowest[0]
                submit(task, lowest[0])

        try:
            for task in tasks:  # highest priority first: the longest tasks start first
                submit(task, priorities[task])
            while True:
                submit_new()
                if not futures:
                    break
                now = time.monotonic()
                at = deadline_at(deadline)  # read each time: on_result may have moved it
                if at is not None and now >= at:
                    raise DeadlineReached("the deadline passed")
                wakeups = [now + _POLL]
                if at is not None:
                    wakeups.append(at)
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
                    task, dask_key = futures[future]
                    with self._lock:
                        started = dask_key in self._starts
                    drop(future)
                    alone = dask_key in isolated
                    if future.status == "finished":
                        try:
                            outcome = future.result()
                        except CancelledError:  # lost between the check and the fetch
                            outcome = None
                        if outcome is not None:
                            batch.finish(task, outcome)
                            if alone and (outcome.error or "").startswith("WorkerDied"):
                                lose_genome(task[0])  # convicted: it killed its own process
                            continue
                    if future.status in ("cancelled", "finished"):
                        # Not our doing: the cluster lost the task (or its data) or the client
                        # its scheduler. The outcome does not depend on where it runs, so re-run.
                        if client.status != "running":
                            raise self._lost()
                        used = sent.pop(dask_key, None)
                        data = self._scattered(check=True)
                        # Data lost with the workers that held it (every copy killed) is no
                        # fault of the task and costs no attempt: it is sent again.
                        if used is data:
                            attempts[task] = attempts.get(task, 0) + 1
                        if attempts.get(task, 0) <= _RESUBMITS:
                            submit(task, priorities[task], alone)
                            continue
                        error = f"WorkerDied: fold {task[1]}: the cluster lost the task"
                    else:
                        failure = future.exception()
                        if isinstance(failure, KilledWorker):
                            # Dask blames the folds queued on (or running beside) the one that
                            # crashed its workers too: the start record tells them apart.
                            started = started or started_at_scheduler(client, dask_key)
                            alone, killed_error = killed.verdict(task, started, alone)
                            if killed_error is None:
                                data = self._scattered()
                                submit(task, priorities[task], alone)
                                continue
                            error = killed_error
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
