"""The event-driven core of ``benchmarks/async_sim.py``: evaluations, the two schedules, results.

Kept apart from the command line so that tests and ``benchmarks/async_validate.py`` import a
small module with no I/O: :func:`simulate` takes a list of :class:`Evaluation` and returns a
:class:`SimResult`. See ``async_sim.py``'s docstring for the model and its assumptions.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["MODES", "Evaluation", "SimResult", "hypervolume_prefix", "simulate", "stages"]

MODES = ("generational", "async")

# makespan, time of the last submission, every task's (start, end), (time, hypervolume) points
_Schedule = tuple[float, float, list[tuple[float, float]], list[tuple[float, float]]]


@dataclass(frozen=True)
class Evaluation:
    """One genome evaluation as the simulator replays it.

    Attributes
    ----------
    generation : int
        The generation the journal recorded it in (the barrier it belongs to in generational
        mode).
    folds : tuple of float
        Seconds of each fold task; each task occupies one worker slot.
    objectives : tuple of float or None
        The journalled objective vector (e.g. ``(score, n_params)``), None where it never
        enters the archive: a failed evaluation, or a low-fidelity screening one.
    fidelity : bool
        Whether it is a low-fidelity screening evaluation (it occupies workers, and in
        generational mode the screening of a generation is a stage of its own, ended by a
        barrier, before the full-fidelity stage).
    """

    generation: int
    folds: tuple[float, ...]
    objectives: tuple[float, ...] | None = None
    fidelity: bool = False

    @property
    def seconds(self) -> float:
        """The evaluation's busy seconds (its folds' sum, what the journal records)."""
        return float(sum(self.folds))


@dataclass
class SimResult:
    """What one simulated run measured.

    Attributes
    ----------
    mode : str
        ``"generational"`` or ``"async"``.
    n_workers : int
    in_flight : int or None
        Genome evaluations kept in flight (async mode), None in generational mode.
    evaluations : int
        Evaluations simulated (screening ones included).
    makespan : float
        Seconds from the first submission to the last fold's end.
    busy : float
        Busy worker-seconds (the sum of every fold's seconds).
    steady_utilisation : float
        Utilisation up to the moment the last evaluation was submitted (the ramp-down that
        ends any finite run left out: what a run with no end would see).
    hv_times : list of (float, float)
        ``(seconds, hypervolume)`` each time the archive's hypervolume became known (each
        completion in async mode, each generation's end in generational mode); empty when the
        evaluations carry no objectives.
    """

    mode: str
    n_workers: int
    in_flight: int | None
    evaluations: int
    makespan: float
    busy: float
    steady_utilisation: float
    hv_times: list[tuple[float, float]] = field(default_factory=list)

    @property
    def utilisation(self) -> float:
        """Busy worker-seconds over ``n_workers x makespan``."""
        return self.busy / (self.n_workers * self.makespan) if self.makespan > 0 else 1.0

    @property
    def evaluations_per_hour(self) -> float:
        """Evaluations completed per hour of makespan."""
        return 3600.0 * self.evaluations / self.makespan if self.makespan > 0 else float("inf")

    def time_to_hypervolume(self, target: float) -> float | None:
        """Seconds until the hypervolume first reached ``target``; None if it never did."""
        for seconds, hv in self.hv_times:
            if hv >= target:
                return seconds
        return None


def stages(evaluations: Sequence[Evaluation]) -> list[list[int]]:
    """Indices of the evaluations grouped into generational stages, in journal order.

    A stage is a generation's screening evaluations or its full-fidelity ones: in generational
    mode each ends with a barrier (the screening must finish before the best are promoted).
    """
    groups: dict[tuple[int, bool], list[int]] = {}
    for index, evaluation in enumerate(evaluations):
        # Screening before full fidelity within a generation, whatever the journal's order.
        groups.setdefault((evaluation.generation, not evaluation.fidelity), []).append(index)
    return [groups[key] for key in sorted(groups)]


def hypervolume_prefix(
    evaluations: Sequence[Evaluation],
    objectives: Sequence[str] = ("score", "params"),
    weights: Sequence[float] = (1.0, -1.0),
    scoring: str | None = None,
) -> list[float]:
    """Hypervolume of the archive after each of the first k archive-bound evaluations.

    ``result[k]`` is the hypervolume of :class:`~evosearch.search.archive.ParetoArchive` (the
    run's objectives, weights and scoring, so that it is the number ``generations.jsonl``
    records) holding the first ``k`` evaluations, in the given order, that carry objectives;
    ``result[0]`` is 0.

    Parameters
    ----------
    evaluations : sequence of Evaluation
    objectives, weights : sequence
        The run's objective names and weights (``run.json``).
    scoring : str, optional
        The run's scorer (``run.json`` settings).

    Returns
    -------
    list of float
    """
    from evosearch.search.archive import ArchiveEntry, ParetoArchive

    archive = ParetoArchive(weights, objectives=objectives, scoring=scoring)
    result = [0.0]
    for index, evaluation in enumerate(evaluations):
        if evaluation.objectives is None:
            continue
        accepted = archive.update([ArchiveEntry({}, str(index), evaluation.objectives)])
        # Hypervolume only changes when the archive does: the sweep is skipped otherwise.
        result.append(archive.hypervolume() if accepted else result[-1])
    return result


def _steady_busy(intervals: list[tuple[float, float]], until: float) -> float:
    return sum(max(0.0, min(end, until) - start) for start, end in intervals)


def _generational(
    evaluations: Sequence[Evaluation], n_workers: int, hv: list[float] | None, overhead: float
) -> _Schedule:
    clock = 0.0
    intervals: list[tuple[float, float]] = []
    hv_times: list[tuple[float, float]] = []
    last_submit = 0.0
    archived = 0
    for stage in stages(evaluations):
        last_submit = clock
        tasks = sorted((d for i in stage for d in evaluations[i].folds), reverse=True)
        # Longest task first onto the earliest free worker (what the evaluator does, here
        # with the true durations: the best case for the barrier).
        free = [clock] * min(n_workers, max(len(tasks), 1))
        end = clock
        for duration in tasks:
            start = heapq.heappop(free)
            heapq.heappush(free, start + overhead + duration)
            intervals.append((start + overhead, start + overhead + duration))
            end = max(end, start + overhead + duration)
        clock = end
        archived += sum(1 for i in stage if evaluations[i].objectives is not None)
        if hv is not None:
            hv_times.append((clock, hv[archived]))
    return clock, last_submit, intervals, hv_times


def _async(
    evaluations: Sequence[Evaluation],
    n_workers: int,
    in_flight: int,
    hv: list[float] | None,
    overhead: float,
) -> _Schedule:
    queue: deque[tuple[int, float]] = deque()  # (evaluation index, fold seconds)
    remaining: dict[int, int] = {}
    running: list[tuple[float, int, int]] = []  # (end, sequence, evaluation index)
    intervals: list[tuple[float, float]] = []
    hv_times: list[tuple[float, float]] = []
    free = n_workers
    submitted = archived = sequence = 0
    clock = last_submit = 0.0

    def submit(now: float) -> None:
        nonlocal submitted, last_submit
        evaluation = evaluations[submitted]
        folds = evaluation.folds or (0.0,)
        remaining[submitted] = len(folds)
        queue.extend((submitted, d) for d in folds)
        submitted += 1
        last_submit = now

    def dispatch(now: float) -> None:
        nonlocal free, sequence
        while free and queue:
            index, duration = queue.popleft()
            heapq.heappush(running, (now + overhead + duration, sequence, index))
            intervals.append((now + overhead, now + overhead + duration))
            sequence += 1
            free -= 1

    while submitted < min(in_flight, len(evaluations)):
        submit(0.0)
    dispatch(0.0)
    while running:
        clock, _, index = heapq.heappop(running)
        free += 1
        remaining[index] -= 1
        if remaining[index] == 0:
            del remaining[index]
            # The k-th completion brings the k-th journalled result: at equal evaluations the
            # archive is the recorded run's (the premise; quality is checked apart).
            if evaluations[index].objectives is not None:
                archived += 1
                if hv is not None:
                    hv_times.append((clock, hv[archived]))
            if submitted < len(evaluations):
                submit(clock)
        dispatch(clock)
    return clock, last_submit, intervals, hv_times


def simulate(
    evaluations: Sequence[Evaluation],
    n_workers: int,
    mode: str,
    in_flight: int | None = None,
    hv: list[float] | None = None,
    task_overhead: float = 0.0,
) -> SimResult:
    """Replay ``evaluations`` on ``n_workers`` simulated worker slots.

    Parameters
    ----------
    evaluations : sequence of Evaluation
        In journal order (the order async mode submits them in).
    n_workers : int
        Worker slots; each fold task occupies one.
    mode : {"generational", "async"}
        Generational: each stage's tasks (see :func:`stages`) submitted together, longest
        first, the next stage after the last one ends. Async: ``in_flight`` evaluations in
        flight, their tasks first in, first out onto free workers; each completed evaluation
        is replaced by the next one.
    in_flight : int, optional
        Async mode's evaluations in flight; default ``n_workers``.
    hv : list of float, optional
        :func:`hypervolume_prefix` of ``evaluations``, for the hypervolume timeline.
    task_overhead : float, default=0
        Seconds each task holds its worker before training starts (dispatch, data and weights
        in and out, the driver's share of the machine), not counted as busy.

    Returns
    -------
    SimResult

    Examples
    --------
    >>> evaluations = [Evaluation(0, (1.0,)), Evaluation(0, (4.0,))]
    >>> simulate(evaluations, 2, "generational").utilisation
    0.625
    """
    if n_workers < 1:
        raise ValueError(f"n_workers must be at least 1, got {n_workers}")
    if mode == "generational":
        makespan, last_submit, intervals, hv_times = _generational(
            evaluations, n_workers, hv, task_overhead
        )
        flight = None
    elif mode == "async":
        flight = n_workers if in_flight is None else int(in_flight)
        if flight < 1:
            raise ValueError(f"in_flight must be at least 1, got {flight}")
        makespan, last_submit, intervals, hv_times = _async(
            evaluations, n_workers, flight, hv, task_overhead
        )
    else:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    busy = sum(end - start for start, end in intervals)
    if last_submit > 0:
        steady = _steady_busy(intervals, last_submit) / (n_workers * last_submit)
    else:
        steady = busy / (n_workers * makespan) if makespan > 0 else 1.0
    return SimResult(mode, n_workers, flight, len(evaluations), makespan, busy, steady, hv_times)
