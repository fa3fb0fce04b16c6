"""The backend contract (:class:`Backend`) and the registry of backends by name.

A backend is where an :class:`~evosearch.evaluation.Evaluator` trains its ``genome x fold``
tasks. It knows nothing about genomes, caches or partial folds: it gets a batch of task keys and
hands each task's outcome back through the batch (:class:`TaskBatch`) as soon as it is known.
Adding one is a new module in ``evaluation/backends/`` with a :class:`Backend` subclass and its
:func:`register_backend` call (imported by ``evaluation/backends/__init__.py``); the contract
suite in :mod:`evosearch.testing.backends` then tests it against the ``local`` one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Protocol

from joblib import cpu_count

from evosearch.errors import SettingsError
from evosearch.evaluation.tasks import FoldContext, FoldOutcome
from evosearch.registry import Registry

__all__ = [
    "BACKENDS",
    "Backend",
    "Deadline",
    "DeadlineReached",
    "TaskBatch",
    "backend_names",
    "check_backend",
    "deadline_at",
    "get_backend",
    "register_backend",
]

#: A task: ``(genome index in the batch, fold)``.
TaskKey = tuple[int, int]


class DeadlineReached(Exception):
    """Raised by :meth:`Evaluator.evaluate` when its ``deadline`` passes.

    Every genome that finished before the deadline has been reported to ``on_result`` (and is
    in the cache); the folds that were still training were stopped and are lost.
    """


class Deadline:
    """A :func:`time.monotonic` instant that its owner may move while an evaluation runs.

    The search's deadline leaves room for the final refit of its best model, and a better
    model found in the middle of a generation may need a longer refit: the search then brings
    the deadline forward from its ``on_result`` callback, and a backend that reads the deadline
    at every wait (:attr:`Backend.moving_deadline`) stops at the new time, not the old one.

    Parameters
    ----------
    at : float
        The instant, a :func:`time.monotonic` time.
    """

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = float(at)

    def __repr__(self) -> str:
        return f"Deadline(at={self.at!r})"


def deadline_at(deadline: float | Deadline | None) -> float | None:
    """The instant ``deadline`` stands at now: a :class:`Deadline`'s current ``at``, a plain
    :func:`time.monotonic` time as it is, None (no deadline) as None."""
    return deadline.at if isinstance(deadline, Deadline) else deadline


class TaskBatch(Protocol):
    """What a backend sees of one ``Evaluator.evaluate`` call (the evaluator's ``FoldBatch``)."""

    #: Canonical hash of each genome of the batch, by genome index.
    hashes: list[str]
    #: Genome indices that failed hard (timed out, killed their worker): their folds still
    #: waiting are not trained.
    lost: set[int]

    def args(self, key: TaskKey) -> tuple[Any, ...]:
        """The arguments of ``fit_fold(context, *args)`` for one task (genome, seed, ...)."""
        ...

    def finish(self, key: TaskKey, outcome: FoldOutcome) -> None:
        """Report one task's outcome (calls ``on_progress``, and ``on_result`` when a genome's
        last fold is in)."""
        ...

    def skip_if_lost(self, key: TaskKey) -> bool:
        """Finish a task of a genome in ``lost`` as skipped, without training it; False (and
        nothing done) for a genome that has not failed."""
        ...

    def take_new(self) -> list[TaskKey]:
        """Tasks added to the batch since the last call, in the order to start them (an open
        batch's: an :class:`EvaluationStream` adds genomes while it runs); [] for a batch whose
        tasks were all given to :meth:`Backend.run`."""
        ...


class Backend(ABC):
    """Runs fold tasks somewhere: the contract every evaluation backend keeps.

    An :class:`~evosearch.evaluation.Evaluator` makes one backend, the first time it has folds
    to train, and calls :meth:`run` once per ``evaluate`` call that trains something. The
    backend must:

    * **run each task with** ``fit_fold(context, *batch.args(key), limit_threads=...)`` of
      :mod:`evosearch.evaluation.tasks`, with BLAS capped to one thread per process. The
      outcome then depends on the task only (its seed comes with the arguments), so every
      backend gives the results of the ``local`` one; the contract suite checks that;
    * **start the tasks in the order given** as far as it can (the longest come first, so no
      worker idles at the end of a batch while one long fold trains);
    * **report each task as it finishes**: ``batch.finish(key, outcome)`` exactly once per task,
      from the calling thread, as soon as the outcome is known (``on_result`` journals a genome
      the moment its last fold is in, which is what makes an interrupted run resumable);
    * **kill or abandon a task past its limit**: a task running longer than ``eval_timeout``
      seconds (counted from its start, not from its submission) is stopped, or at least no
      longer waited for; its genome index goes into ``batch.lost`` and the task is finished
      with ``failed_outcome(elapsed, "TimeoutError: fold F exceeded the L s evaluation limit")``.
      The other tasks go on. A task whose process dies fails its genome the same way with a
      ``WorkerDied: ...`` error. Tasks of a lost genome not yet started are finished through
      ``batch.skip_if_lost`` instead of training;
    * **honour the deadline**: when ``deadline`` (a :func:`time.monotonic` time) passes, start
      nothing more, stop what is running and raise :class:`DeadlineReached`; what finished
      before was reported. A backend whose :attr:`moving_deadline` is True gets the caller's
      :class:`Deadline` itself and reads it (:func:`deadline_at`) every time it checks or
      waits: ``on_result`` may bring it forward; others get the instant it stood at;
    * leave nothing of the batch running when :meth:`run` returns or raises (Ctrl-C, a failing
      callback): the workers must not go on training for nobody;
    * a backend whose :attr:`streaming` is True **takes tasks added while it runs**: after
      every ``batch.finish`` (whose ``on_result`` may add genomes) it starts what
      ``batch.take_new()`` gives, after the tasks it has already queued (first added, first
      started), and returns only when nothing is queued or running and ``take_new`` gives
      nothing more. A backend that does not stream gets the added tasks as further
      :meth:`run` calls (with a barrier between them: correct, but workers idle).

    A backend that cannot reach its workers raises :class:`~evosearch.errors.BackendError`
    (after reporting what finished). :meth:`close` lets go of what the backend holds; a later
    :meth:`run` starts again.

    Parameters
    ----------
    context : FoldContext
        The evaluator's data, fold splits, ``fit_hook`` and ``max_memory``, the same for every
        task: a backend sends it to each worker once, not with every task.
    n_jobs : int
        Worker processes asked for; -1: one per core (see :attr:`n_workers`).
    eval_timeout : float or None
        Seconds one task may run; None: no limit.
    scheduler : str or None
        The address a backend connects to, as :meth:`check_settings` returned it.
    """

    #: The name the backend is registered under (``backend=NAME``, ``--backend NAME``).
    name: ClassVar[str]
    #: Whether :meth:`run` takes a :class:`Deadline` and reads it at every check and wait
    #: (False: it gets a plain time, fixed for the call).
    moving_deadline: ClassVar[bool] = False
    #: Whether :meth:`run` takes the tasks an open batch adds while it runs
    #: (``batch.take_new()``, for the steady-state search) without waiting for the others.
    streaming: ClassVar[bool] = False

    def __init__(
        self,
        context: FoldContext,
        *,
        n_jobs: int,
        eval_timeout: float | None,
        scheduler: str | None = None,
    ) -> None:
        self.context = context
        self.n_jobs = n_jobs
        self.eval_timeout = eval_timeout
        self.scheduler = scheduler

    @property
    def n_workers(self) -> int:
        """Worker processes to use: every core for ``n_jobs=-1``, else ``n_jobs`` (at least 1)."""
        return max(cpu_count(), 1) if self.n_jobs == -1 else max(int(self.n_jobs), 1)

    def slots(self) -> int:
        """Tasks the backend trains at once (the steady-state search keeps that many
        evaluations in flight by default): :attr:`n_workers`; a cluster's backend counts its
        workers' threads."""
        return self.n_workers

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this backend cannot be used here (a missing dependency), or None."""
        return None

    @classmethod
    def check_settings(cls, scheduler: str | None) -> str | None:
        """Validate the backend's settings; returns the scheduler address to use (or None).

        Called before anything runs, with a ``scheduler`` that is None or one word, once
        :meth:`unavailable` said None. Raises
        :class:`~evosearch.errors.SettingsError` for settings this backend refuses.
        """
        return scheduler

    @classmethod  # noqa: B027 - a documented no-op hook, not abstract
    def check_reachable(cls, scheduler: str | None) -> None:
        """Refuse, before a run writes anything, a ``scheduler`` (as :meth:`check_settings`
        returned it) whose workers cannot be reached: raise
        :class:`~evosearch.errors.BackendError`, one line naming it, in seconds. Default:
        nothing to check."""

    @classmethod
    def in_process(cls, n_jobs: int, eval_timeout: float | None, max_memory: float | None) -> bool:
        """Whether tasks with these settings train in the calling process (no worker)."""
        return False

    @classmethod
    @contextmanager
    def contract_settings(cls, n_workers: int) -> Iterator[dict[str, Any]]:
        """Evaluator settings for the contract suite (:mod:`evosearch.testing.backends`).

        Entered once per test module: a backend that needs something running (a cluster) starts
        it here for ``n_workers`` workers, yields the settings that reach it (for example
        ``{"scheduler": address}``) and stops it on exit. Default: nothing to start.
        """
        yield {}

    @abstractmethod
    def run(
        self, batch: TaskBatch, tasks: Sequence[TaskKey], deadline: float | Deadline | None
    ) -> None:
        """Train ``tasks`` (longest first) and report each through ``batch.finish``.

        ``deadline`` is a :class:`Deadline` only for a backend whose :attr:`moving_deadline`
        is True.

        Raises
        ------
        DeadlineReached
            When ``deadline`` passes before every task finished.
        """

    def run_batch(
        self, batch: TaskBatch, tasks: Sequence[TaskKey], deadline: float | Deadline | None
    ) -> None:
        """:meth:`run`, with ``deadline`` as this backend takes it: the :class:`Deadline`
        itself where :attr:`moving_deadline`, else the instant it stands at now."""
        self.run(batch, tasks, deadline if self.moving_deadline else deadline_at(deadline))

    def close(self) -> None:  # noqa: B027 - a documented no-op hook, not abstract
        """Let go of connections or clusters held between batches (default: nothing)."""


#: The backend classes by name (``local`` first); a miss is a SettingsError. A name taken by
#: another class cannot be registered again.
BACKENDS: Registry[type[Backend]] = Registry(
    "backend", error=SettingsError, base=Backend, replace=False
)


def register_backend(backend: type[Backend]) -> type[Backend]:
    """Make ``backend`` available under ``backend.name`` (usable as a class decorator).

    Raises
    ------
    TypeError
        When ``backend`` is not a :class:`Backend` subclass with a name.
    ValueError
        When another class is registered under that name already.
    """
    return BACKENDS.register(backend)


def backend_names() -> tuple[str, ...]:
    """The registered backends' names, in registration order (``local`` first)."""
    return tuple(BACKENDS.names())


def get_backend(name: str) -> type[Backend]:
    """The backend class registered as ``name`` (plug-ins loaded if it is missing).

    Raises
    ------
    SettingsError
        For a name that is not registered (one line: the choices and the closest names).
    """
    return BACKENDS.get(name)


def check_backend(backend: Any, scheduler: Any) -> tuple[str, str | None]:
    """Validate the backend settings; returns ``(backend, scheduler address or None)``.

    With ``backend="dask"`` and no ``scheduler``, the ``EVOSEARCH_DASK_SCHEDULER``
    environment variable names it, if set (None: a local cluster is started).

    Raises
    ------
    SettingsError
        For an unknown backend, a scheduler without the Dask backend, a scheduler that is not
        an address, and a backend whose dependency is missing (the Dask backend without
        ``dask.distributed``).
    """
    chosen = BACKENDS.get(backend)
    if scheduler is not None and (
        not isinstance(scheduler, str) or not scheduler.strip() or len(scheduler.split()) > 1
    ):
        raise SettingsError(f"scheduler must be an address like tcp://HOST:PORT, got {scheduler!r}")
    reason = chosen.unavailable()
    if reason is not None:
        raise SettingsError(reason)
    return backend, chosen.check_settings(scheduler)
