"""Cross-validated scoring of genomes, in parallel, with a results cache and hard limits.

One call of :meth:`Evaluator.evaluate` trains every pending ``genome x fold`` pair, longest
tasks first, on a set of worker processes, so that no core idles at the end of a generation
while one genome's last fold trains. Each task's seed derives from the run seed, the genome's
canonical hash and the fold number (:class:`numpy.random.SeedSequence`), never from worker
identity or completion order, so results are identical for any ``n_jobs``. Workers cap BLAS
threads to one so ``n_jobs`` processes do not oversubscribe the cores.

A candidate is never an error of the run. A genome whose training raises, diverges, produces a
non-finite score, runs past the per-evaluation time limit (``eval_timeout``), allocates more than
its memory budget (``max_memory``) or kills its worker process gets :data:`FAILURE_SCORE`, and
its error text is kept in the result.

How the workers are run
-----------------------
Each worker is a single-process loky executor of its own (not one shared pool). The evaluator
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
(even a SIGKILL).

Partial evaluation (``evaluate(..., folds=[0])``, for successive halving) trains some folds of
each genome now and the rest only if a later call asks for them; the complete result is the one
a single call would have given. ``keep_weights`` and ``initial_weights`` move each fold's network
weights out of and into the workers (for weight inheritance); see :class:`Evaluator`.

With ``backend="dask"`` the same tasks run on a ``dask.distributed`` cluster instead (see
:mod:`evosearch.evaluation.backends.dask`), with the same seeds and the same results.

With ``n_jobs=1`` and neither ``eval_timeout`` nor ``max_memory`` the folds train in the calling
process, without workers: fastest, and handy under a debugger or profiler, but then a crash of a
candidate ends the run and ``max_time`` can only stop between two folds.
"""

from __future__ import annotations

import copy
import os
import re
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager, nullcontext
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, NamedTuple

import numpy as np
from joblib import cpu_count
from joblib.externals.loky import BrokenProcessPool, ProcessPoolExecutor
from joblib.externals.loky.backend.reduction import dumps as loky_dumps
from joblib.externals.loky.process_executor import ShutdownExecutorError, TerminatedWorkerError
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from evosearch.errors import SettingsError
from evosearch.evaluation.backends.dask import DaskRunner, check_backend
from evosearch.nn import GraphNetClassifier, GraphNetRegressor
from evosearch.space import Genome

try:  # POSIX only; max_memory is refused where it is missing
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

__all__ = [
    "FAILURE_SCORE",
    "DeadlineReached",
    "EvaluationResult",
    "Evaluator",
    "FitHook",
    "build_estimator",
    "check_limits",
    "shutdown_workers",
    "task_seed",
]

#: Score given to a genome whose evaluation failed; valid scores are clipped to at least this
#: value for selection (the journal keeps the raw fold scores).
FAILURE_SCORE = -1.0

#: Default limit on one evaluation (one genome x fold), in seconds.
DEFAULT_EVAL_TIMEOUT = 300.0

#: ``fit_hook(genome_hash, fold)``: called in the worker right before a fold is trained.
FitHook = Callable[[str, int], None]

# A worker that has not answered its first call after this long is considered unable to start.
_STARTUP_LIMIT = 300.0

# How often a worker checks that the process that started it is still alive, in seconds.
_PARENT_POLL = 1.0

# BLAS/OpenMP pools sized to one thread before numpy loads in a worker (threadpoolctl caps them
# again at start-up); one thread per process is what keeps n_jobs processes from fighting.
_WORKER_ENV = {
    name: "1"
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    )
}

_PROC_STATUS = "/proc/self/status"
_PROC_CLEAR_REFS = "/proc/self/clear_refs"


class DeadlineReached(Exception):
    """Raised by :meth:`Evaluator.evaluate` when its ``deadline`` passes.

    Every genome that finished before the deadline has been reported to ``on_result`` (and is
    in the cache); the folds that were still training were stopped and are lost.
    """


@dataclass
class EvaluationResult:
    """The outcome of cross-validating one genome (on every fold, or on some of them).

    Attributes
    ----------
    genome_hash : str
        The genome's canonical hash.
    fold_scores : list of float
        Accuracy (classification) or R² (regression) on each test fold (each fold of ``folds``
        for a partial result); empty on failure.
    score : float
        Mean of ``fold_scores`` clipped to at least :data:`FAILURE_SCORE`, or
        :data:`FAILURE_SCORE` when the evaluation failed.
    n_params : int
        Parameter count of the decoded network.
    seconds : float
        Training and scoring time summed over folds (over ``folds`` for a partial result,
        including folds trained by earlier calls).
    epochs : list of int
        Epochs trained on each fold (each fold of ``folds``); 0 for a fold that was never
        trained because the genome had already failed.
    error : str or None
        ``"ExceptionType: message"`` (one line) of the first failing fold, None on success.
        Besides the exceptions of training itself: ``TimeoutError`` (the fold ran past
        ``eval_timeout``), ``MemoryError`` (past ``max_memory``) and ``WorkerDied`` (the
        process training it died). A failure is final: once one fold of a genome failed, every
        later result of that genome (partial or complete) is that failure.
    peak_memory_mb : float or None
        The largest resident-memory growth of one fold while it trained: the process's peak
        resident set size during the fold minus its resident size when the fold started, in
        MiB (what the evaluation itself needed, without the worker's baseline). None where it
        cannot be measured (it needs Linux's ``/proc/self/clear_refs``) and in journals written
        before it existed. A measurement, like ``seconds``: it may vary between runs.
    folds : list of int or None
        None for a complete evaluation (every fold); for a partial one (``evaluate(...,
        folds=...)``) the sorted indices of the folds that ``fold_scores`` and ``epochs``
        describe. Journals written before it existed read as None.
    fold_weights : list of (dict of str to ndarray or None) or None
        With ``evaluate(..., keep_weights=True)``: the fitted network's
        :meth:`~evosearch.network.GraphNetClassifier.weight_blocks` of every fold, indexed by
        fold number (always ``cv`` entries, also for a partial result), None for a fold that
        was not trained, failed, or whose weights this evaluator no longer holds. None when
        weights were not asked for, and on results served from the cache or replayed from a
        journal (the cache does not keep weights, to bound its memory). Not part of
        :meth:`to_dict` (journals stay JSON), of ``==`` or of ``repr``.
    """

    genome_hash: str
    fold_scores: list[float]
    score: float
    n_params: int
    seconds: float
    epochs: list[int] = field(default_factory=list)
    error: str | None = None
    peak_memory_mb: float | None = None
    folds: list[int] | None = None
    fold_weights: list[dict[str, np.ndarray] | None] | None = field(
        default=None, compare=False, repr=False
    )

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def partial(self) -> bool:
        """Whether this result covers only some folds (``folds`` is not None)."""
        return self.folds is not None

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data, without ``fold_weights``."""
        # Not asdict(): that would deep-copy every weight array only to drop it.
        return {
            spec.name: copy.deepcopy(getattr(self, spec.name))
            for spec in fields(self)
            if spec.name != "fold_weights"
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationResult:
        """Rebuild a result from :meth:`to_dict` output (e.g. a journal line).

        Keys that are not fields (a journal line's ``generation``, ``genome``, ...) are ignored
        and fields added since the data was written take their defaults, so older journals load.

        Raises
        ------
        KeyError
            Naming the first required field that is missing.
        """
        known = fields(cls)
        for spec in known:
            if spec.name not in data and spec.default is MISSING:
                if spec.default_factory is MISSING:
                    raise KeyError(spec.name)
        return cls(**{spec.name: data[spec.name] for spec in known if spec.name in data})


def build_estimator(
    genome: Genome,
    task: str,
    random_state: int | None = None,
    initial_weights: Mapping[str, np.ndarray] | None = None,
) -> Pipeline:
    """Decode a genome into an unfitted scikit-learn pipeline (standardise, then GraphNet).

    Standardisation is part of the model so an exported estimator takes raw features.

    Parameters
    ----------
    genome : Genome
    task : {"classification", "regression"}
    random_state : int, optional
        Seed of the network's initialisation, shuffling and dropout.
    initial_weights : mapping of str to ndarray, optional
        Weight blocks (the format of the fitted network's ``weight_blocks()``) that training
        starts from instead of the random initialisation, where keys and shapes match.
    """
    net_class = GraphNetClassifier if task == "classification" else GraphNetRegressor
    net = net_class(
        architecture=genome.to_architecture(),
        random_state=random_state,
        initial_weights=initial_weights,
        **genome.hyperparameters,
    )
    return Pipeline([("scale", StandardScaler()), ("net", net)])


def task_seed(run_seed: int, genome_hash: str, fold: int) -> int:
    """Seed of one fold's training: a function of run seed, genome and fold only."""
    sequence = np.random.SeedSequence([int(run_seed), int(genome_hash, 16), int(fold)])
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


# ------------------------------------------------------------------------------ one fold
#: One fold's trained weights (``weight_blocks()`` of its fitted network).
FoldWeights = dict[str, np.ndarray]


class _Outcome(NamedTuple):
    """What training one fold gave (sent back from the worker)."""

    score: float
    epochs: int
    seconds: float
    error: str | None
    peak_mb: float | None
    # Only with keep_weights: otherwise None, so no arrays cross the process boundary.
    weights: FoldWeights | None = None


def _failed(seconds: float, error: str | None) -> _Outcome:
    """The outcome of a fold that failed (``error``) or was skipped (None)."""
    return _Outcome(FAILURE_SCORE, 0, seconds, error, None)


@dataclass
class _Context:
    """What every fold of one evaluator needs besides the genome (sent once per worker)."""

    X: np.ndarray
    y: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]
    task: str
    fit_hook: FitHook | None
    max_memory: float | None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _error_text(exc: BaseException) -> str:
    message = _one_line(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _proc_status() -> dict[str, int]:
    """Memory lines of /proc/self/status in KiB (empty where there is no /proc)."""
    sizes: dict[str, int] = {}
    try:
        with open(_PROC_STATUS, encoding="ascii") as stream:
            for line in stream:
                name, _, value = line.partition(":")
                if name.startswith("Vm") and value.strip().endswith("kB"):
                    sizes[name] = int(value.split()[0])
    except (OSError, ValueError):
        return {}
    return sizes


class _MemoryProbe:
    """Peak resident memory of one fold, above the process's resident size when it started.

    ``ru_maxrss`` only ever grows over a process's life, so in a reused worker it says nothing
    about the current fold. Linux lets a process reset its high-water mark instead (writing 5
    to ``/proc/self/clear_refs``), after which ``VmHWM`` is the peak of this fold alone.
    """

    def __init__(self) -> None:
        self.start_kib: int | None = None
        try:
            with open(_PROC_CLEAR_REFS, "w", encoding="ascii") as stream:
                stream.write("5")
        except OSError:
            return
        self.start_kib = _proc_status().get("VmRSS")

    def peak_mb(self) -> float | None:
        peak = _proc_status().get("VmHWM")
        if self.start_kib is None or peak is None:
            return None
        return round(max(peak - self.start_kib, 0) / 1024, 1)


def _memory_limit_supported() -> bool:
    return resource is not None and "VmSize" in _proc_status()


@contextmanager
def _address_space_limit(extra_mb: float | None) -> Iterator[None]:
    """Let the process allocate at most ``extra_mb`` MiB more address space, then restore.

    The limit is relative to what the process has mapped already: an idle worker with numpy and
    scikit-learn loaded maps hundreds of MiB (more with many cores), so an absolute limit would
    mean something different on every machine.
    """
    if extra_mb is None:
        yield
        return
    assert resource is not None
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _proc_status()["VmSize"] * 1024 + int(extra_mb * 2**20)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _fit_fold(
    context: _Context,
    genome: Genome,
    genome_hash: str,
    fold: int,
    seed: int,
    initial_weights: Mapping[str, np.ndarray] | None = None,
    keep_weights: bool = False,
    *,
    limit_threads: bool,
) -> _Outcome:
    """Train on one fold and score on its test part (in a worker, or inline)."""
    start = time.perf_counter()
    probe = _MemoryProbe()
    train, test = context.folds[fold]
    weights: FoldWeights | None = None
    try:
        with _address_space_limit(context.max_memory):
            if context.fit_hook is not None:
                context.fit_hook(genome_hash, fold)
            with threadpool_limits(limits=1) if limit_threads else nullcontext():
                model = build_estimator(genome, context.task, seed, initial_weights)
                model.fit(context.X[train], context.y[train])
                score = float(model.score(context.X[test], context.y[test]))
                if keep_weights:
                    weights = model[-1].weight_blocks()
        if not np.isfinite(score):
            raise FloatingPointError(f"non-finite test score {score}")
        epochs = int(getattr(model[-1], "n_epochs_", 0))
        seconds = time.perf_counter() - start
        return _Outcome(score, epochs, seconds, None, probe.peak_mb(), weights)
    except MemoryError as exc:  # the limit is lifted again by now, so this can allocate
        error = _error_text(exc)
        if context.max_memory is not None:
            error = (
                f"MemoryError: fold {fold} exceeded the {context.max_memory:g} MB memory limit "
                f"({_one_line(str(exc)) or 'allocation failed'})"
            )
        return _Outcome(FAILURE_SCORE, 0, time.perf_counter() - start, error, probe.peak_mb())
    except Exception as exc:  # any failure of a candidate is data, not a crash of the run
        error = _error_text(exc)
        return _Outcome(FAILURE_SCORE, 0, time.perf_counter() - start, error, probe.peak_mb())


# ------------------------------------------------------------------------------ worker side
# The evaluator context a worker process holds, keyed by the evaluator's token. Only ever set
# inside worker processes (by _worker_load); the parent never reads it.
_WORKER_CONTEXT: tuple[str, _Context] | None = None


def _worker_init(parent: int) -> None:
    # Ctrl-C reaches the whole process group; the parent handles it and stops the workers, so a
    # worker must not die of it on its own (an idle worker would take the next task down).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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


def _worker_load(token: str, context: _Context) -> int:
    """Keep an evaluator's data (and fit_hook) in this process for its tasks."""
    global _WORKER_CONTEXT
    _WORKER_CONTEXT = (token, context)
    return os.getpid()


def _worker_task(token: str, *args: Any) -> _Outcome | None:
    """Run one fold (``args`` from :meth:`_Batch.args`); None asks the parent to load the
    evaluator's data first."""
    if _WORKER_CONTEXT is None or _WORKER_CONTEXT[0] != token:
        return None  # a process that loky replaced behind our back, for instance
    return _fit_fold(_WORKER_CONTEXT[1], *args, limit_threads=False)


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
            max_workers=1, initializer=_worker_init, initargs=(os.getpid(),), env=dict(_WORKER_ENV)
        )
        self.since = time.monotonic()
        self.ready = False
        self.dead = False
        self.key: tuple[int, int] | None = None
        self.token: str | None = None  # whose data the process holds (or is receiving)
        self.future: Future | None = None
        self.pid: int | None = None  # known once the process answered its first call

    @property
    def idle(self) -> bool:
        return self.ready and not self.dead and self.future is None

    def load(self, token: str, context: _Context) -> None:
        self.future = self.executor.submit(_worker_load, token, context)
        self.token, self.ready, self.since = token, False, time.monotonic()

    def start(self, key: tuple[int, int], token: str, *args: Any) -> None:
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
                f"an evaluation worker process failed to start: {_error_text(exc)}"
            ) from exc
        self.ready, self.future = True, None

    def kill(self) -> None:
        """Stop the process now (SIGKILL to it and its children) and wait until it is gone."""
        self.executor.shutdown(wait=True, kill_workers=True)
        self.future, self.key, self.dead = None, None, True


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
                f"cannot start an evaluation worker process: {_error_text(exc)}"
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
    return f"WorkerDied: fold {fold}: {_error_text(exc)}"


# ------------------------------------------------------------------------------ the batch
class _Batch:
    """Bookkeeping of one :meth:`Evaluator.evaluate` call: folds in, genome results out."""

    def __init__(
        self,
        evaluator: Evaluator,
        genomes: Sequence[Genome],
        hashes: list[str],
        pending: dict[int, list[int]],
        results: list[EvaluationResult | None],
        total: int,
        on_result: Callable[[Genome, EvaluationResult], None] | None,
        on_progress: Callable[[int, int], None] | None,
        *,
        wanted: list[int] | None = None,
        needs: dict[int, list[int]] | None = None,
        known: dict[int, dict[int, _Outcome]] | None = None,
        starts: Sequence[Sequence[Mapping[str, np.ndarray] | None] | None] | None = None,
        keep_weights: bool = False,
    ) -> None:
        self.evaluator = evaluator
        self.genomes = genomes
        self.hashes = hashes
        self.pending = pending
        self.results = results
        self.total = total
        self.on_result = on_result
        self.on_progress = on_progress
        self.wanted = wanted  # the folds asked for; None: all
        all_folds = list(range(len(evaluator.folds)))
        # Folds each pending genome trains now, and what earlier calls trained of it.
        self.needs = needs if needs is not None else {index: all_folds for index in pending}
        self.known = known if known is not None else {}
        self.starts = starts
        self.keep_weights = keep_weights
        self.outcomes: dict[int, dict[int, _Outcome]] = {index: {} for index in pending}
        self.done = 0
        self.lost: set[int] = set()  # genomes that timed out or killed a worker

    def args(self, key: tuple[int, int]) -> tuple[Any, ...]:
        """What ``_fit_fold`` needs besides the context, for one ``(genome index, fold)``."""
        index, fold = key
        genome_hash = self.hashes[index]
        base = (
            self.genomes[index],
            genome_hash,
            fold,
            task_seed(self.evaluator.seed, genome_hash, fold),
        )
        start = self.starts[index] if self.starts is not None else None
        initial = start[fold] if start is not None else None
        if initial is None and not self.keep_weights:
            return base  # the defaults: nothing more to pickle for the worker
        return (*base, initial, self.keep_weights)

    def finish(self, key: tuple[int, int], outcome: _Outcome) -> None:
        index, fold = key
        self.outcomes[index][fold] = outcome
        self.done += 1
        if self.on_progress is not None:
            self.on_progress(self.done, self.total)
        if len(self.outcomes[index]) == len(self.needs[index]):
            outcomes = {**self.known.get(index, {}), **self.outcomes[index]}
            result = self.evaluator._conclude(
                self.genomes[index], self.hashes[index], outcomes, self.wanted, self.keep_weights
            )
            for duplicate in self.pending[index]:
                self.results[duplicate] = result
            if self.on_result is not None:
                self.on_result(self.genomes[index], result)

    def skip_if_lost(self, key: tuple[int, int]) -> bool:
        """Finish a fold of a genome that has already failed hard, without training it."""
        if key[0] not in self.lost:
            return False
        self.finish(key, _failed(0.0, None))
        return True


@dataclass(eq=False)
class _Partial:
    """The folds trained so far of a genome evaluated partially (``evaluate(folds=...)``)."""

    genome: Genome
    outcomes: dict[int, _Outcome]
    used: int = 0  # the evaluate call that last asked for this genome

    @property
    def failed(self) -> bool:
        return any(outcome.error is not None for outcome in self.outcomes.values())

    @property
    def has_weights(self) -> bool:
        return any(outcome.weights is not None for outcome in self.outcomes.values())


# ------------------------------------------------------------------------------ evaluator
def _check_limit(name: str, value: Any, unit: str, zero_is_none: bool) -> float | None:
    if value is None:
        return None
    valid = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if valid and value == 0 and zero_is_none:
        return None
    if not valid or not np.isfinite(value) or value <= 0:
        allowed = (
            "a positive number of " + unit + (" (0 or None: no limit)" if zero_is_none else "")
        )
        raise SettingsError(f"{name} must be {allowed}, got {value!r}")
    return float(value)


def check_limits(
    eval_timeout: Any, max_memory: Any, fit_hook: Any
) -> tuple[float | None, float | None, FitHook | None]:
    """Validate the settings that bound one evaluation; returns them normalised.

    Raises :class:`~evosearch.errors.SettingsError` for a negative, zero (``max_memory``) or
    non-numeric limit, ``max_memory`` off Linux, and a ``fit_hook`` that is not callable or
    does not pickle (workers receive it pickled).
    """
    timeout = _check_limit("eval_timeout", eval_timeout, "seconds", True)
    memory = _check_limit("max_memory", max_memory, "MB", False)
    if memory is not None and not _memory_limit_supported():
        raise SettingsError(f"max_memory needs Linux (this is {sys.platform})")
    if fit_hook is not None:
        if not callable(fit_hook):
            raise SettingsError(f"fit_hook must be callable, got {fit_hook!r}")
        try:
            loky_dumps(fit_hook)  # what the workers' pickler will have to do
        except Exception as exc:
            raise SettingsError(
                f"fit_hook must pickle to reach the workers: {_error_text(exc)}"
            ) from None
    return timeout, memory, fit_hook


class Evaluator:
    """Scores genomes by k-fold cross-validation on one dataset.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    task : {"classification", "regression"}
    cv : int, default=3
        Number of folds (stratified for classification).
    n_jobs : int, default=-1
        Worker processes; -1 uses every core. With 1 and no ``eval_timeout`` or
        ``max_memory``, folds train in the calling process instead (see the module notes).
    seed : int, default=0
        Run seed; fold splits and per-task training seeds derive from it.
    eval_timeout : float, optional
        Seconds one fold (one ``genome x fold`` task) may train. A fold that runs longer is
        killed with its process and its genome fails with ``TimeoutError``. None or 0: no limit.
        A limit makes results depend on the machine's speed where it bites.
    max_memory : float, optional
        MiB of memory one fold may allocate on top of what its idle worker already holds
        (an address-space limit, ``RLIMIT_AS``, set in the worker around the fit and lifted
        after). Going over it fails the genome with ``MemoryError`` instead of exhausting the
        machine. Linux only.
    fit_hook : callable, optional
        ``fit_hook(genome_hash, fold)``, called in the worker right before each fold trains,
        under the memory limit and the time limit; what it raises fails the genome like a
        training error. A testing and extension hook (tests use it to sleep, raise, exit or
        allocate); it must pickle (loky uses cloudpickle: lambdas and closures are fine).
    backend : {"local", "dask"}, default="local"
        Where the folds train: worker processes of this machine, or a ``dask.distributed``
        cluster (:mod:`evosearch.evaluation.backends.dask`). Results do not depend on it.
    scheduler : str, optional
        With ``backend="dask"``: the scheduler's address (``tcp://HOST:PORT``); default: the
        ``EVOSEARCH_DASK_SCHEDULER`` environment variable, else a local cluster of ``n_jobs``
        processes started for this evaluator (stopped by :meth:`close`).

    Attributes
    ----------
    evaluations : int
        Complete evaluations made (trained, or replayed from a journal): a genome evaluated
        partially first counts here once, when its last fold is done.
    partial_evaluations : int
        Partial evaluations made (``evaluate(..., folds=...)`` that trained at least one fold,
        or handed back a replayed partial result).
    cache_hits : int
        Results served without training: cached results, duplicates within a call, and
        partial requests whose folds were all trained already.

    Notes
    -----
    *Partial evaluation.* ``evaluate(genomes, folds=[0])`` trains only fold 0 (successive
    halving). The folds trained are kept per genome (matched like the cache: canonical hash,
    then :meth:`~evosearch.genome.Genome.equivalent`), outside the cache: :meth:`lookup` never
    returns a partial result. A later request for more folds trains only the missing ones and
    the complete result equals that of a one-shot evaluation (each fold's seed depends on the
    run seed, the genome and the fold only). A failure is final: a genome that failed on a
    fold trains no further fold.

    *Weights.* With ``keep_weights=True`` every trained fold also sends back its network's
    weights (``fold_weights`` of the result). They are kept on the returned results only: the
    cache drops them. The folds of partially evaluated genomes keep theirs until the genome is
    complete, or until another partial ``evaluate`` call with ``keep_weights`` that does not ask
    for that genome, so memory holds at most about one batch of weights.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from evosearch.space.genome import Genome
    >>> X, y = load_iris(return_X_y=True)
    >>> hyper = {"optimizer": "adam", "learning_rate": 0.01, "l1": 0.0, "l2": 1e-4,
    ...          "batch_size": 32, "max_epochs": 5}
    >>> genome = Genome.chain(4, 3, [{"units": 8, "activation": "relu", "dropout": 0.0}], hyper)
    >>> result = Evaluator(X, y, "classification", cv=2, n_jobs=1).evaluate([genome])[0]
    >>> result.ok, len(result.fold_scores)
    (True, 2)
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        task: str,
        cv: int = 3,
        n_jobs: int = -1,
        seed: int = 0,
        eval_timeout: float | None = None,
        max_memory: float | None = None,
        fit_hook: FitHook | None = None,
        backend: str = "local",
        scheduler: str | None = None,
    ) -> None:
        self.X = np.ascontiguousarray(X, dtype=np.float32)
        self.y = np.asarray(y)
        self.task = task
        self.cv = cv
        self.n_jobs = n_jobs
        self.seed = seed
        self.eval_timeout, self.max_memory, self.fit_hook = check_limits(
            eval_timeout, max_memory, fit_hook
        )
        self.backend, self.scheduler = check_backend(backend, scheduler)
        splitter = (
            StratifiedKFold(cv, shuffle=True, random_state=seed)
            if task == "classification"
            else KFold(cv, shuffle=True, random_state=seed)
        )
        self.folds = list(splitter.split(self.X, self.y))
        self._cache: dict[str, list[tuple[Genome, EvaluationResult]]] = {}
        self._replay: dict[str, list[tuple[Genome, EvaluationResult]]] = {}
        self._partials: dict[str, list[_Partial]] = {}
        self._replay_partial: dict[str, list[tuple[Genome, EvaluationResult]]] = {}
        self._weighted: list[_Partial] = []  # partial entries that may hold weights
        self._calls = 0  # evaluate calls so far (marks which partial entries a call used)
        self.cache_hits = 0
        self.evaluations = 0
        self.partial_evaluations = 0
        # Identifies this evaluator's data in worker processes shared with other evaluators.
        self._token = f"{os.getpid()}-{id(self)}-{time.monotonic_ns()}"
        self._context: _Context | None = None
        self._dask: DaskRunner | None = None

    @property
    def inline(self) -> bool:
        """Whether folds train in this process (n_jobs=1 and no limit that needs a worker)."""
        return (
            self.backend == "local"
            and self.n_jobs == 1
            and self.eval_timeout is None
            and self.max_memory is None
        )

    def close(self) -> None:
        """Let go of the Dask cluster (a local one stops); a later ``evaluate`` reconnects.

        Local worker processes are shared between evaluators and stay (see
        :func:`shutdown_workers`).
        """
        if self._dask is not None:
            self._dask.close()
            self._dask = None

    def _n_workers(self) -> int:
        return max(cpu_count(), 1) if self.n_jobs == -1 else max(int(self.n_jobs), 1)

    def _get_context(self) -> _Context:
        if self._context is None:
            self._context = _Context(
                X=self.X,
                y=self.y,
                folds=self.folds,
                task=self.task,
                fit_hook=self.fit_hook,
                max_memory=self.max_memory,
            )
        return self._context

    def remember(self, genome: Genome, result: EvaluationResult) -> None:
        """Put a known result into the cache (used when resuming from a journal).

        A partial result (``result.folds`` not None) joins the folds known of that genome
        instead: a later :meth:`evaluate` trains only the folds it lacks. Weights
        (``fold_weights``) of a complete result are not cached; those of a partial one are
        kept like the weights of partially trained folds (see the class notes).
        """
        if result.folds is not None:
            if self.lookup(genome, result.genome_hash) is not None:
                return  # the complete result supersedes it
            entry = self._partial_entry(genome, result.genome_hash, create=True)
            assert entry is not None
            self._absorb(entry, result)
            return
        if result.fold_weights is not None:
            result = replace(result, fold_weights=None)
        self._cache.setdefault(result.genome_hash, []).append((genome, result))
        self._drop_partial(genome, result.genome_hash)

    def replay(self, genome: Genome, result: EvaluationResult) -> None:
        """Hold a journalled result that :meth:`evaluate` hands back instead of training.

        Unlike :meth:`remember`, the result stays invisible to :meth:`lookup` until an
        ``evaluate`` call asks for that genome, and it then counts as an evaluation rather
        than a cache hit: a resumed run sees the same cache and counts as an uninterrupted one.

        A partial result (``result.folds`` not None) is handed back by an ``evaluate`` call that
        asks for exactly those folds of the genome (counted in ``partial_evaluations``); its
        folds then count as trained, so completing the genome trains only the others (unless a
        complete result of it was replayed too: that one is handed back).
        """
        store = self._replay if result.folds is None else self._replay_partial
        store.setdefault(result.genome_hash, []).append((genome, result))

    def _take_replay(
        self, genome: Genome, genome_hash: str, wanted: list[int] | None = None
    ) -> EvaluationResult | None:
        """The journalled result that answers this request, if any (removed from the store).

        For a partial request: a replayed partial result of exactly those folds, else a
        complete one (a complete result answers any request, as the cache does).
        """
        if wanted is not None:
            partials = self._replay_partial.get(genome_hash, [])
            for position, (known, result) in enumerate(partials):
                if result.folds == wanted and known.equivalent(genome):
                    del partials[position]
                    return result
        for position, (known, result) in enumerate(self._replay.get(genome_hash, ())):
            if known.equivalent(genome):
                del self._replay[genome_hash][position]
                self._take_partial_replays(genome, genome_hash)  # superseded
                return result
        return None

    def _take_partial_replays(self, genome: Genome, genome_hash: str) -> list[EvaluationResult]:
        partials = self._replay_partial.get(genome_hash, [])
        taken = [result for known, result in partials if known.equivalent(genome)]
        if taken:
            partials[:] = [(k, r) for k, r in partials if not k.equivalent(genome)]
        return taken

    def lookup(self, genome: Genome, genome_hash: str | None = None) -> EvaluationResult | None:
        """The cached (complete) result of an equivalent genome, if any.

        Partial results are never returned; cached results have no ``fold_weights``.
        """
        genome_hash = genome_hash or genome.canonical_hash()
        for known, result in self._cache.get(genome_hash, ()):
            if known.equivalent(genome):
                return result
        return None

    # ---------------------------------------------------------------- the partial store
    def _partial_entry(self, genome: Genome, genome_hash: str, create: bool) -> _Partial | None:
        for entry in self._partials.get(genome_hash, ()):
            if entry.genome.equivalent(genome):
                return entry
        if not create:
            return None
        entry = _Partial(genome, {}, self._calls)
        self._partials.setdefault(genome_hash, []).append(entry)
        return entry

    def _drop_partial(self, genome: Genome, genome_hash: str) -> None:
        entries = self._partials.get(genome_hash)
        if not entries:
            return
        for entry in [e for e in entries if e.genome.equivalent(genome)]:
            entries.remove(entry)
            entry.outcomes = {}  # frees its weights now, even while _weighted lists it
        if not entries:
            del self._partials[genome_hash]

    def _absorb(self, entry: _Partial, result: EvaluationResult) -> None:
        """Add a partial result's folds to those known of its genome (known ones stay).

        A result keeps only totals of some measurements, so the first new fold gets the
        seconds that the known folds do not explain, and the error (a failure is final, so
        which fold carries it does not change any later result).
        """
        assert result.folds is not None
        folds = list(result.folds)
        new = [fold for fold in folds if fold not in entry.outcomes]
        if not new:
            return
        n = len(folds)
        scores = list(result.fold_scores) if len(result.fold_scores) == n else [FAILURE_SCORE] * n
        epochs = list(result.epochs) if len(result.epochs) == n else [0] * n
        weights = result.fold_weights
        if weights is not None and len(weights) != len(self.folds):
            weights = None
        seconds = result.seconds - sum(
            entry.outcomes[fold].seconds for fold in folds if fold in entry.outcomes
        )
        for position, fold in enumerate(folds):
            if fold in new:
                first = fold == new[0]
                entry.outcomes[fold] = _Outcome(
                    float(scores[position]),
                    int(epochs[position]),
                    max(seconds, 0.0) if first else 0.0,
                    result.error if first else None,
                    result.peak_memory_mb,
                    weights[fold] if weights is not None else None,
                )
        self._note_weights(entry)

    def _note_weights(self, entry: _Partial) -> None:
        if entry.has_weights and all(e is not entry for e in self._weighted):
            self._weighted.append(entry)

    def _prune_weights(self) -> None:
        """Drop the weights of partial entries that the current call did not ask for."""
        kept = []
        for entry in self._weighted:
            if entry.used == self._calls:
                kept.append(entry)
            else:
                entry.outcomes = {f: o._replace(weights=None) for f, o in entry.outcomes.items()}
        self._weighted = kept

    # ---------------------------------------------------------------- evaluate
    def _check_folds(self, folds: Sequence[int] | None) -> list[int] | None:
        """The sorted folds asked for; None for all of them."""
        if folds is None:
            return None
        n = len(self.folds)
        chosen = list(folds)
        if not chosen or any(
            isinstance(f, bool) or not isinstance(f, (int, np.integer)) or not 0 <= f < n
            for f in chosen
        ):
            raise ValueError(
                f"folds must be a non-empty list of fold indices in [0, {n}), got {folds!r}"
            )
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"folds must not repeat a fold, got {folds!r}")
        ordered = sorted(int(f) for f in chosen)
        return None if len(ordered) == n else ordered

    def _check_initial_weights(self, initial_weights: Any, n_genomes: int) -> Any:
        if initial_weights is None:
            return None
        if len(initial_weights) != n_genomes:
            raise ValueError(
                f"initial_weights must have one entry per genome ({n_genomes}), "
                f"got {len(initial_weights)}"
            )
        for start in initial_weights:
            if start is not None and len(start) != len(self.folds):
                raise ValueError(
                    "each initial_weights entry must be None or a list of one weight mapping "
                    f"(or None) per fold ({len(self.folds)}), got {len(start)}"
                )
        return initial_weights

    def evaluate(
        self,
        genomes: Sequence[Genome],
        on_result: Callable[[Genome, EvaluationResult], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        *,
        deadline: float | None = None,
        folds: Sequence[int] | None = None,
        initial_weights: Sequence[Sequence[Mapping[str, np.ndarray] | None] | None] | None = None,
        keep_weights: bool = False,
    ) -> list[EvaluationResult]:
        """Cross-validate ``genomes``; cached and duplicate genomes are trained once.

        Parameters
        ----------
        genomes : sequence of Genome
        on_result : callable, optional
            Called in this process as ``on_result(genome, result)`` when a genome's last fold
            finishes (in completion order), e.g. to journal it. Partial results are reported
            too, and so is the complete result of a genome completed from folds trained before.
        on_progress : callable, optional
            Called as ``on_progress(done, total)`` after every finished fold.
        deadline : float, optional
            A :func:`time.monotonic` time. When it passes, no further fold starts, the folds
            training are stopped and :class:`DeadlineReached` is raised.
        folds : sequence of int, optional
            The fold indices to evaluate now (successive halving); None (or every fold): a
            complete evaluation. A genome asked for a strict subset gets a partial result
            (``result.folds``, the sorted indices, with the scores of those folds only). Folds
            trained by earlier calls are not trained again, and a genome whose complete result
            is cached gets that complete result whatever ``folds`` says.
        initial_weights : sequence, optional
            One entry per genome (aligned with ``genomes``): None, or a list of one weight
            mapping per fold (``cv`` entries, each None or the ``weight_blocks()`` format) that
            the fold's training starts from instead of its random initialisation. Used only
            for the folds trained by this call (a duplicate genome takes the first occurrence's
            entry); results are deterministic given the weights.
        keep_weights : bool, default=False
            Send every trained fold's network weights back and set ``fold_weights`` on the
            results this call returns (folds trained by earlier calls contribute theirs if
            they were kept; see the class notes). Off, no weights cross process boundaries.

        Returns
        -------
        list of EvaluationResult
            One per genome, in input order.

        Raises
        ------
        DeadlineReached
            When ``deadline`` passed before every genome finished.
        ValueError
            For ``folds`` that are not distinct fold indices, or ``initial_weights`` of the
            wrong length.
        """
        wanted = self._check_folds(folds)
        starts = self._check_initial_weights(initial_weights, len(genomes))
        self._calls += 1
        chosen = list(range(len(self.folds))) if wanted is None else wanted
        hashes = [g.canonical_hash() for g in genomes]
        results: list[EvaluationResult | None] = [None] * len(genomes)
        pending: dict[int, list[int]] = {}  # first index of a new genome -> duplicate indices
        needs: dict[int, list[int]] = {}  # first index -> the folds it trains now
        known: dict[int, dict[int, _Outcome]] = {}  # first index -> its folds trained before
        for index, (genome, genome_hash) in enumerate(zip(genomes, hashes, strict=True)):
            cached = self.lookup(genome, genome_hash)
            if cached is not None:
                results[index] = cached
                self.cache_hits += 1
                continue
            twin = next(
                (
                    first
                    for first in pending
                    if hashes[first] == genome_hash and genomes[first].equivalent(genome)
                ),
                None,
            )
            if twin is not None:
                pending[twin].append(index)
                self.cache_hits += 1
                continue
            replayed = self._take_replay(genome, genome_hash, wanted)
            if replayed is not None:
                results[index] = replayed
                if replayed.folds is None:
                    self.evaluations += 1
                else:
                    self.partial_evaluations += 1
                self.remember(genome, replayed)
                entry = self._partial_entry(genome, genome_hash, create=False)
                if entry is not None:
                    entry.used = self._calls
                continue
            entry = self._partial_entry(genome, genome_hash, create=False)
            # Journalled folds that no request matched exactly (a run that went differently
            # from the journal's): known folds all the same, never trained twice.
            for leftover in self._take_partial_replays(genome, genome_hash):
                entry = entry or self._partial_entry(genome, genome_hash, create=True)
                assert entry is not None
                self._absorb(entry, leftover)
            stored = entry.outcomes if entry is not None else {}
            if entry is not None:
                entry.used = self._calls
            failed = entry is not None and entry.failed
            need = [] if failed else [fold for fold in chosen if fold not in stored]
            if need:
                pending[index] = [index]
                needs[index] = need
                known[index] = dict(stored)
            elif wanted is None:  # every fold known (or failed): complete it without training
                result = self._conclude(genome, genome_hash, dict(stored), None, keep_weights)
                results[index] = result
                if on_result is not None:
                    on_result(genome, result)
            else:  # nothing new to train for this partial request
                results[index] = self._combine(genome, genome_hash, stored, wanted, keep_weights)
                self.cache_hits += 1

        tasks = [(index, fold) for index in pending for fold in needs[index]]
        # Longest first: parameter count times epochs is a good proxy for training time.
        tasks.sort(
            key=lambda t: -genomes[t[0]].n_params() * genomes[t[0]].hyperparameters["max_epochs"]
        )
        batch = _Batch(
            self,
            genomes,
            hashes,
            pending,
            results,
            len(tasks),
            on_result,
            on_progress,
            wanted=wanted,
            needs=needs,
            known=known,
            starts=starts,
            keep_weights=keep_weights,
        )
        if on_progress is not None:
            on_progress(0, len(tasks))
        if tasks and self.inline:
            self._run_inline(batch, tasks, deadline)
        elif tasks and self.backend == "dask":
            if self._dask is None:
                self._dask = DaskRunner(
                    self.scheduler, self._n_workers(), self._get_context(), self.eval_timeout
                )
            self._dask.run(batch, tasks, deadline)
        elif tasks:
            self._run_in_workers(batch, deque(tasks), deadline)
        if wanted is not None and keep_weights:
            self._prune_weights()
        return [r for r in results if r is not None]

    def _run_inline(
        self, batch: _Batch, tasks: list[tuple[int, int]], deadline: float | None
    ) -> None:
        context = self._get_context()
        for key in tasks:
            if deadline is not None and time.monotonic() >= deadline:
                raise DeadlineReached("the deadline passed")
            batch.finish(key, _fit_fold(context, *batch.args(key), limit_threads=True))

    def _run_in_workers(
        self, batch: _Batch, queue: deque[tuple[int, int]], deadline: float | None
    ) -> None:
        """Keep every worker busy with one task until the queue is empty.

        The loop waits for the first of: a task finishing, a worker finishing its loading, the
        oldest running task reaching ``eval_timeout``, or the deadline.
        """
        context = self._get_context()
        limit = self.eval_timeout
        workers = _IDLE.take(min(self._n_workers(), len(queue)))
        try:
            while True:
                if deadline is not None and time.monotonic() >= deadline:
                    raise DeadlineReached("the deadline passed")
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
                if deadline is not None:
                    wakeups.append(deadline)
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
                            batch.finish(key, _failed(elapsed, error))
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
        batch: _Batch,
        queue: deque[tuple[int, int]],
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
            batch.finish(key, _failed(seconds, _death_text(exc, key[1])))
            return
        except BaseException as exc:  # e.g. SystemExit from a fit_hook: the worker lives on
            batch.finish(key, _failed(seconds, _error_text(exc)))
            return
        if outcome is None:  # the process lacks this evaluator's data: load it, then retry
            worker.token, worker.ready = None, False
            queue.appendleft(key)
            return
        batch.finish(key, outcome)

    @staticmethod
    def _replace(worker: _Worker, workers: list[_Worker], queue: deque[tuple[int, int]]) -> None:
        """Start a worker in a killed one's place while there is work left for it."""
        position = workers.index(worker)
        if queue:
            workers[position] = _Worker()
        else:
            del workers[position]

    def _conclude(
        self,
        genome: Genome,
        genome_hash: str,
        outcomes: dict[int, _Outcome],
        wanted: list[int] | None,
        keep_weights: bool,
    ) -> EvaluationResult:
        """The result of a genome whose asked-for folds are all done; counted and kept."""
        result = self._combine(genome, genome_hash, outcomes, wanted, keep_weights)
        if wanted is None:
            self.evaluations += 1
            self.remember(genome, result)
        else:
            self.partial_evaluations += 1
            entry = self._partial_entry(genome, genome_hash, create=True)
            assert entry is not None
            entry.outcomes.update(outcomes)
            entry.used = self._calls
            self._note_weights(entry)
        return result

    def _combine(
        self,
        genome: Genome,
        genome_hash: str,
        outcomes: Mapping[int, _Outcome],
        wanted: list[int] | None = None,
        keep_weights: bool = False,
    ) -> EvaluationResult:
        """One result from fold outcomes: of every fold (``wanted`` None) or of ``wanted``."""
        chosen = range(len(self.folds)) if wanted is None else wanted
        # A failure is final: it decides every result of the genome, and the folds it kept
        # from training count as skipped (0 epochs).
        errors = [outcomes[f].error for f in sorted(outcomes) if outcomes[f].error is not None]
        ordered = [outcomes[fold] if fold in outcomes else _failed(0.0, None) for fold in chosen]
        fold_scores = [] if errors else [outcome.score for outcome in ordered]
        score = max(float(np.mean(fold_scores)), FAILURE_SCORE) if fold_scores else FAILURE_SCORE
        peaks = [outcome.peak_mb for outcome in ordered if outcome.peak_mb is not None]
        fold_weights: list[FoldWeights | None] | None = None
        if keep_weights:
            fold_weights = [None] * len(self.folds)
            for fold, outcome in zip(chosen, ordered, strict=True):
                fold_weights[fold] = outcome.weights
        return EvaluationResult(
            genome_hash=genome_hash,
            fold_scores=fold_scores,
            score=score,
            n_params=genome.n_params(),
            seconds=float(sum(outcome.seconds for outcome in ordered)),
            epochs=[outcome.epochs for outcome in ordered],
            error=errors[0] if errors else None,
            peak_memory_mb=max(peaks) if peaks else None,
            folds=None if wanted is None else list(wanted),
            fold_weights=fold_weights,
        )
