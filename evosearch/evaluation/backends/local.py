"""The ``local`` backend: worker processes of this machine that can be killed one by one.

Each worker is a single-process loky executor of its own (not one shared pool). The backend
hands it one task at a time, so it always knows which task runs in which process and since
when. That makes the two hard cases exact and cheap:

* *Timeout*: only the process running the slow task is killed (SIGKILL, including any children
  it started); the other workers keep training. A fresh worker takes the killed one's place.
* *Crash* (segfault, ``os._exit``, the system's OOM killer): only that worker's executor breaks,
  so the culprit is known without re-running anything, and the other in-flight tasks are not
  disturbed. With one shared pool every in-flight task would fail with ``BrokenProcessPool`` and
  the culprit could only be found by re-running those tasks one at a time.

A task's result does not depend on which process ran it or on being re-run, so when a task has
to be re-submitted (its worker was lost while idle) the outcome is the same. Once a genome has
timed out or killed its worker, its folds still waiting are skipped: the genome has failed.

Workers start once and are reused: across the generations of a run and across evaluators in
the same Python process (a new process costs seconds of imports). An evaluator's data (and its
``fit_hook``) travels to a worker once, in a call before its first task, not with every task;
neither that nor the process's start-up counts against ``eval_timeout``. Idle workers stop at
interpreter exit, with :func:`shutdown_workers`, or within a second of their parent's death
(even a SIGKILL). Workers cap BLAS threads to one so ``n_jobs`` processes do not oversubscribe
the cores.

With ``n_jobs=1`` and neither ``eval_timeout`` nor ``max_memory`` the folds train in the calling
process, without workers: fastest, and handy under a debugger or profiler, but then a crash of a
candidate ends the run and ``max_time`` can only stop between two folds.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager
from typing import Any

from joblib import cpu_count
from joblib.externals.loky import BrokenProcessPool, ProcessPoolExecutor
from joblib.externals.loky.process_executor import ShutdownExecutorError, TerminatedWorkerError
from threadpoolctl import threadpool_limits

from evosearch.errors import SettingsError
from evosearch.evaluation._limits import ONE_THREAD_ENV
from evosearch.evaluation.backends.base import (
    Backend,
    Deadline,
    DeadlineReached,
    TaskBatch,
    TaskKey,
    deadline_at,
    register_backend,
)
from evosearch.evaluation.tasks import (
    FoldContext,
    FoldOutcome,
    error_text,
    failed_outcome,
    fit_fold,
)

__all__ = ["LocalBackend", "shutdown_workers"]

# A worker that has not answered its first call after this long is considered unable to start.
_STARTUP_LIMIT = 300.0

# How long killing a worker waits for its executor to hand a just-submitted call over to the
# process (see _wait_handed_over), in seconds; it takes milliseconds.
_HANDOVER_LIMIT = 5.0

# How often a worker checks that the process that started it is still alive, in seconds.
_PARENT_POLL = 1.0


# ------------------------------------------------------------------------------ worker side
# The evaluator context a worker process holds, keyed by the evaluator's token. Only ever set
# inside worker processes (by _worker_load); the parent never reads it.
_WORKER_CONTEXT: tuple[str, FoldContext] | None = None


# The signals that stop a run (Ctrl-C, a scheduler's SIGTERM, a closed terminal's SIGHUP).
_STOP_SIGNALS = {getattr(signal, s) for s in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, s)}


def _worker_init(parent: int) -> None:
    # Ctrl-C reaches the whole process group, and so do a scheduler's SIGTERM and a closed
    # terminal's SIGHUP; the parent handles them and stops the workers. A worker must not die of
    # one on its own: its genome would be journalled as failed (WorkerDied) and a resume would
    # not train it again. A worker still outlives its parent by at most a second.
    for stop in _STOP_SIGNALS:
        signal.signal(stop, signal.SIG_IGN)
    threadpool_limits(limits=1)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """Exit when the parent is gone (e.g. SIGKILLed: it cannot stop us then).

    Without this an idle worker of a killed run would wait for work forever, and a busy one
    would train on to the end of its fold for nobody.
    """
    while True:
        time.sleep(_PARENT_POLL)
        if os.getppid() != parent:
            os._exit(0)


def _worker_load(token: str, context: FoldContext) -> int:
    """Keep an evaluator's data (and fit_hook) in this process for its tasks."""
    global _WORKER_CONTEXT
    _WORKER_CONTEXT = (token, context)
    return os.getpid()


def _worker_task(token: str, *args: Any) -> FoldOutcome | None:
    """Run one fold (``args`` from :meth:`TaskBatch.args`); None asks the parent to load the
    evaluator's data first."""
    if _WORKER_CONTEXT is None or _WORKER_CONTEXT[0] != token:
        return None  # a process that loky replaced behind our back, for instance
    return fit_fold(_WORKER_CONTEXT[1], *args, limit_threads=False)


# ------------------------------------------------------------------------------ parent side
class _Worker:
    """One worker process in an executor of its own, so it can be killed alone.

    States: *new* (no process yet), *loading* (``ready`` False, ``future`` is the call that
    starts the process and hands it an evaluator's data), *idle* (``ready``, no ``future``)
    and *busy* (``key`` is the running ``(genome index, fold)``, ``future`` its outcome).
    Loading is never timed as an evaluation: a process's start-up (seconds of imports) and the
    data's unpickling do not count against ``eval_timeout``.
    """

    def __init__(self) -> None:
        self.executor = ProcessPoolExecutor(
            max_workers=1,
            initializer=_worker_init,
            initargs=(os.getpid(),),
            env=dict(ONE_THREAD_ENV),
        )
        self.since = time.monotonic()
        self.ready = False
        self.dead = False
        self.key: TaskKey | None = None
        self.token: str | None = None  # whose data the process holds (or is receiving)
        self.future: Future | None = None
        self.pid: int | None = None  # known once the process answered its first call

    @property
    def idle(self) -> bool:
        return self.ready and not self.dead and self.future is None

    def load(self, token: str, context: FoldContext) -> None:
        with _stop_signals_blocked():  # the first call starts the process, in this thread
            self.future = self.executor.submit(_worker_load, token, context)
        self.token, self.ready, self.since = token, False, time.monotonic()

    def start(self, key: TaskKey, token: str, *args: Any) -> None:
        self.future = self.executor.submit(_worker_task, token, *args)
        self.key, self.since = key, time.monotonic()

    def check_loaded(self) -> None:
        """Take the load call's answer; a worker that cannot start or load is not a candidate's
        fault, so it stops the evaluation."""
        assert self.future is not None
        try:
            self.pid = self.future.result(timeout=0)
        except Exception as exc:
            self.kill()
            raise RuntimeError(
                f"an evaluation worker process failed to start: {error_text(exc)}"
            ) from exc
        self.ready, self.future = True, None

    def kill(self) -> None:
        """Stop the process now (SIGKILL to it and its children) and wait until it is gone."""
        if self.future is not None:
            _wait_handed_over(self.future)
        self.executor.shutdown(wait=True, kill_workers=True)
        self.future, self.key, self.dead = None, None, True


@contextmanager
def _stop_signals_blocked() -> Iterator[None]:
    """Block the stop signals in this thread meanwhile (a signal that comes is delivered after).

    A process started here starts with them blocked, so a Ctrl-C to the process group during
    its seconds of imports, before _worker_init ignores it, is not a traceback of its own.
    The resource trackers are started first: starting one unblocks them (multiprocessing).
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    from multiprocessing import resource_tracker

    from joblib.externals.loky.backend import resource_tracker as loky_tracker

    loky_tracker.ensure_running()
    resource_tracker.ensure_running()
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _wait_handed_over(future: Future) -> None:
    """Wait (briefly) until loky's manager thread has taken a submitted call off its queue.

    ``shutdown(kill_workers=True)`` drops the calls still pending; if a call's id is then still
    in the executor's queue of work ids, the manager thread looks it up afterwards, dies with
    ``KeyError`` (printed as "Exception in thread ExecutorManagerThread ... KeyError: 1") and
    leaves the executor's queues open. That happens when a fold is killed within a moment of
    being submitted (a tiny ``eval_timeout``, a deadline). A call that is running or done has
    left that queue; the manager thread takes it within milliseconds of its submission.
    """
    give_up = time.monotonic() + _HANDOVER_LIMIT
    while not (future.running() or future.done()) and time.monotonic() < give_up:
        time.sleep(0.001)


class _IdleWorkers:
    """Started workers not in use, kept for the next :meth:`Evaluator.evaluate` in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._pid = os.getpid()

    def take(self, n: int) -> list[_Worker]:
        with self._lock:
            if self._pid != os.getpid():  # a forked child must not use its parent's workers
                self._workers, self._pid = [], os.getpid()
            taken = self._workers[:n]
            del self._workers[:n]
        return taken + [_Worker() for _ in range(n - len(taken))]

    def give_back(self, workers: list[_Worker]) -> None:
        with self._lock:
            self._workers.extend(w for w in workers if not w.dead)
            # More idle processes than cores would only hold memory.
            extra = self._workers[max(cpu_count(), 1) :]
            del self._workers[max(cpu_count(), 1) :]
        for worker in extra:
            worker.kill()

    def shutdown(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.kill()


_IDLE = _IdleWorkers()


def shutdown_workers() -> None:
    """Stop the idle worker processes kept for reuse (they also stop when Python exits)."""
    _IDLE.shutdown()


def _submitted(worker: _Worker, call: Callable[..., None], *args: Any) -> bool:
    """Submit to a worker; False (and the worker killed) if it died while idle.

    A process can die between two tasks (the system's OOM killer may pick an idle one); its
    executor then refuses new calls. A process that never started is a real problem instead.
    """
    try:
        call(*args)
    except (BrokenProcessPool, ShutdownExecutorError, RuntimeError) as exc:
        worker.kill()
        if worker.pid is None:
            raise RuntimeError(
                f"cannot start an evaluation worker process: {error_text(exc)}"
            ) from exc
        return False
    return True


def _death_text(exc: BaseException, fold: int) -> str:
    if isinstance(exc, TerminatedWorkerError):
        codes = re.search(r"exit codes of the workers are \{(.*?)\}", str(exc))
        how = f" ({codes.group(1)})" if codes else ""  # e.g. EXIT(1), SIGKILL(-9)
        return (
            f"WorkerDied: the process training fold {fold} died{how}: a crash in native code, "
            "os._exit(), or the system killing it (often for lack of memory)"
        )
    return f"WorkerDied: fold {fold}: {error_text(exc)}"


# ------------------------------------------------------------------------------ the backend
@register_backend
class LocalBackend(Backend):
    """Worker processes of this machine (see the module notes): the default backend."""

    name = "local"
    streaming = True
    moving_deadline = True

    def __init__(
        self,
        context: FoldContext,
        *,
        n_jobs: int,
        eval_timeout: float | None,
        scheduler: str | None = None,
    ) -> None:
        super().__init__(context, n_jobs=n_jobs, eval_timeout=eval_timeout, scheduler=scheduler)
        # Identifies this evaluator's data in worker processes shared with other evaluators.
        self._token = f"{os.getpid()}-{id(self)}-{time.monotonic_ns()}"

    @classmethod
    def check_settings(cls, scheduler: str | None) -> str | None:
        if scheduler is not None:
            raise SettingsError("a scheduler address needs backend='dask' (--backend dask)")
        return None

    @classmethod
    def in_process(cls, n_jobs: int, eval_timeout: float | None, max_memory: float | None) -> bool:
        return n_jobs == 1 and eval_timeout is None and max_memory is None

    def run(
        self, batch: TaskBatch, tasks: Sequence[TaskKey], deadline: float | Deadline | None
    ) -> None:
        if self.in_process(self.n_jobs, self.eval_timeout, self.context.max_memory):
            self._run_inline(batch, tasks, deadline)
        else:
            self._run_in_workers(batch, deque(tasks), deadline)

    def _run_inline(
        self, batch: TaskBatch, tasks: Sequence[TaskKey], deadline: float | Deadline | None
    ) -> None:
        context = self.context
        queue = deque(tasks)
        while True:
            queue.extend(batch.take_new())  # an open batch's on_result may have added some
            if not queue:
                return
            key = queue.popleft()
            at = deadline_at(deadline)  # on_result may have moved it
            if at is not None and time.monotonic() >= at:
                raise DeadlineReached("the deadline passed")
            batch.finish(key, fit_fold(context, *batch.args(key), limit_threads=True))

    def _run_in_workers(
        self, batch: TaskBatch, queue: deque[TaskKey], deadline: float | Deadline | None
    ) -> None:
        """Keep every worker busy with one task until the queue is empty.

        The loop waits for the first of: a task finishing, a worker finishing its loading, the
        oldest running task reaching ``eval_timeout``, or the deadline.
        """
        context = self.context
        limit = self.eval_timeout
        workers = _IDLE.take(min(self.n_workers, len(queue)))
        try:
            while True:
                at = deadline_at(deadline)  # read each time: on_result may have moved it
                if at is not None and time.monotonic() >= at:
                    raise DeadlineReached("the deadline passed")
                queue.extend(batch.take_new())  # an open batch's on_result may have added some
                busy = sum(w.key is not None for w in workers)
                wanted = min(self.n_workers, busy + len(queue))
                if len(workers) < wanted:
                    workers += _IDLE.take(wanted - len(workers))
                for position, worker in enumerate(workers):
                    if worker.future is None and worker.token != self._token and queue:
                        if not _submitted(worker, worker.load, self._token, context):
                            workers[position] = _Worker()  # loaded on the next pass
                            continue
                    while worker.idle and worker.token == self._token and queue:
                        key = queue.popleft()
                        if batch.skip_if_lost(key):
                            continue
                        if not _submitted(worker, worker.start, key, self._token, *batch.args(key)):
                            queue.appendleft(key)
                            workers[position] = _Worker()
                            break
                if not queue and all(w.key is None for w in workers):
                    return

                now = time.monotonic()
                wakeups = [w.since + _STARTUP_LIMIT for w in workers if w.future and not w.ready]
                if limit is not None:
                    wakeups += [w.since + limit for w in workers if w.key is not None]
                if at is not None:
                    wakeups.append(at)
                timeout = max(min(wakeups) - now, 0.0) if wakeups else None
                futures = [w.future for w in workers if w.future is not None]
                wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)

                now = time.monotonic()
                for worker in list(workers):
                    if worker.future is not None and worker.future.done():
                        self._collect(worker, workers, batch, queue)
                    elif worker.future and not worker.ready and now - worker.since > _STARTUP_LIMIT:
                        worker.kill()
                        raise RuntimeError(
                            f"an evaluation worker process did not start in {_STARTUP_LIMIT:g} s"
                        )
                    elif limit is not None and worker.key is not None:
                        elapsed = now - worker.since
                        if elapsed >= limit:
                            key = worker.key
                            worker.kill()  # really stops the training, not just the waiting
                            batch.lost.add(key[0])
                            self._replace(worker, workers, queue)
                            error = (
                                f"TimeoutError: fold {key[1]} exceeded the {limit:g} s "
                                "evaluation limit"
                            )
                            batch.finish(key, failed_outcome(elapsed, error))
        except KeyboardInterrupt:
            # Ctrl-C or a stop signal: the workers still starting ignore it (they start with
            # it blocked), so they are stopped here, not left for the exit to wait for.
            for worker in workers:
                if worker.future is not None and not worker.ready:
                    worker.kill()
            raise
        finally:
            # Whatever ends the loop (done, deadline, Ctrl-C, a failing on_result callback):
            # folds still training are stopped; the other workers are kept for reuse.
            for worker in workers:
                if worker.key is not None:
                    worker.kill()
            _IDLE.give_back(workers)

    def _collect(
        self,
        worker: _Worker,
        workers: list[_Worker],
        batch: TaskBatch,
        queue: deque[TaskKey],
    ) -> None:
        """Take a finished future: a load call, a fold's outcome, or a dead worker."""
        if worker.key is None:
            worker.check_loaded()
            return
        assert worker.future is not None
        key, future, seconds = worker.key, worker.future, time.monotonic() - worker.since
        worker.key, worker.future = None, None
        try:
            outcome = future.result()
        except BrokenProcessPool as exc:  # the process died: this task killed it
            batch.lost.add(key[0])
            worker.kill()
            self._replace(worker, workers, queue)
            batch.finish(key, failed_outcome(seconds, _death_text(exc, key[1])))
            return
        except BaseException as exc:  # e.g. SystemExit from a fit_hook: the worker lives on
            batch.finish(key, failed_outcome(seconds, error_text(exc)))
            return
        if outcome is None:  # the process lacks this evaluator's data: load it, then retry
            worker.token, worker.ready = None, False
            queue.appendleft(key)
            return
        batch.finish(key, outcome)

    @staticmethod
    def _replace(worker: _Worker, workers: list[_Worker], queue: deque[TaskKey]) -> None:
        """Start a worker in a killed one's place while there is work left for it."""
        position = workers.index(worker)
        if queue:
            workers[position] = _Worker()
        else:
            del workers[position]
