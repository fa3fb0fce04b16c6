"""Engine overhead: how much of a search's wall time is not model training.

A 10-generation digits run, ``Evolver(population_size=16, generations=10, n_jobs=2, cv=3,
random_state=0)``, writing a run folder (journal, generations, archive, checkpoint) and driving
the CLI's ``ConsoleReporter`` (into a string, as if on a terminal, so the progress bar works).

Measured in two passes:

1. **timed run**: the real run. Engine functions are wrapped (within this script only) with
   timers that record *exclusive* time, so time spent in a nested wrapped call (a hash inside
   ``Evaluator.evaluate``, a journal write inside its result callback) is booked to the inner
   phase. ``evaluate`` what is left: workers training while the main process waits, plus task
   dispatch. The final refit of the best member is training too. Everything else is engine
   overhead: the target is < 3% of wall time.
2. **profiled replay** (skip with ``--no-profile``): the same seed again, under cProfile, with
   every evaluation handed back from pass 1 through ``Evaluator.replay`` (so nothing trains,
   the run takes the identical path, and the profile shows only engine work), and no refit.
   Prints the engine's hot spots.

Also reported per generation (``Evolver.history_``): evaluations, cache hits, and children that
were mutated again because they equalled an evaluated genome or a sibling (counted by wrapping
``mutate``: calls beyond one per child).

Run: ``.venv/bin/python benchmarks/overhead.py`` (2-3 minutes; ``--quick``: 3 generations)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from _common import machine_line
from rich.console import Console
from sklearn.datasets import load_digits, load_iris, load_wine

import evosearch.search._fit_run as evolver_module
import evosearch.search.strategies.breeding as breeding_module
from evosearch.cli.console import ConsoleReporter
from evosearch.evaluation import EvaluationResult, Evaluator
from evosearch.runs.folder import RunFolder
from evosearch.search.archive import ParetoArchive
from evosearch.search.evolver import Evolver
from evosearch.search.loop import GenerationLoop
from evosearch.search.strategies import NSGA2, CrossoverMutation
from evosearch.space.genome import Genome


class PhaseTimer:
    """Wraps functions with timers that record inclusive and exclusive seconds per phase."""

    def __init__(self) -> None:
        self.inclusive: dict[str, float] = defaultdict(float)
        self.exclusive: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._stack: list[float] = []
        self._originals: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, attribute: str, phase: str) -> None:
        original = (
            owner.__dict__[attribute] if isinstance(owner, type) else getattr(owner, attribute)
        )
        kind = type(original) if isinstance(original, (classmethod, staticmethod)) else None
        function = original.__func__ if kind is not None else original
        stack = self._stack

        def timed(*args: Any, **kwargs: Any) -> Any:
            stack.append(0.0)
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                nested = stack.pop()
                self.inclusive[phase] += elapsed
                self.exclusive[phase] += elapsed - nested
                self.calls[phase] += 1
                if stack:
                    stack[-1] += elapsed

        setattr(owner, attribute, kind(timed) if kind is not None else timed)
        self._originals.append((owner, attribute, original))

    def restore(self) -> None:
        for owner, attribute, original in reversed(self._originals):
            setattr(owner, attribute, original)
        self._originals.clear()


MUTATE = "variation: mutate"
TRAINING = ("evaluate: workers training + dispatch", "final refit (training)")
PHASES: list[tuple[Any, str, str]] = [
    (Evaluator, "evaluate", TRAINING[0]),
    (evolver_module, "refit_member", TRAINING[1]),
    (Genome, "canonical_hash", "canonical hashing (WL)"),
    (Genome, "equivalent", "isomorphism checks (equivalent)"),
    (breeding_module, "select_parents", "selection: parents"),
    (NSGA2, "survivors", "selection: NSGA-II survivors"),
    (breeding_module, "mutate", MUTATE),
    (breeding_module, "cx_aligned", "variation: crossover"),
    (CrossoverMutation, "vary", "variation: rest (novelty loop)"),
    (GenerationLoop, "_initial_genomes", "initial population"),
    (ParetoArchive, "update", "archive update"),
    (ParetoArchive, "hypervolume", "hypervolume"),
    (Genome, "to_json", "JSON: genome to_json"),
    (ParetoArchive, "to_dict", "JSON: archive to_dict"),
    (RunFolder, "append_journal", "JSON: journal line (fsync)"),
    (RunFolder, "append_generation", "JSON: generations line (fsync)"),
    (RunFolder, "write_archive", "JSON: archive.json (atomic)"),
    (RunFolder, "write_checkpoint", "JSON: checkpoint.json (atomic)"),
    (RunFolder, "create", "JSON: run folder + run.json"),
    (ConsoleReporter, "on_evaluation_progress", "progress: bar updates"),
    (ConsoleReporter, "on_generation_end", "progress: generation rows"),
    (GenerationLoop, "_end_generation", "end of generation: rest"),
    (Evolver, "fit", "Evolver.fit: rest (data checks, set-up)"),
]


class Recorder:
    """Evolver callback: mutate calls and cache hits per generation; every evaluated result."""

    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts
        self.mutations_per_generation: list[int] = []
        self._seen = 0

    def on_generation_end(self, evolver: Evolver, record: Any) -> None:
        calls = self.counts[MUTATE]
        self.mutations_per_generation.append(calls - self._seen)
        self._seen = calls


def make_evolver(args: argparse.Namespace, out: Path, callbacks: list[Any]) -> Evolver:
    return Evolver(
        population_size=16,
        generations=args.generations,
        cv=3,
        n_jobs=2,
        random_state=0,
        callbacks=callbacks,
        out=out,
    )


def timed_run(args: argparse.Namespace, X: Any, y: Any, tmp: Path) -> dict[str, Any]:
    timer = PhaseTimer()
    for owner, attribute, phase in PHASES:
        timer.wrap(owner, attribute, phase)
    # Keep every evaluation for the profiled replay.
    evaluated: list[tuple[Genome, EvaluationResult]] = []
    timed_evaluate = Evaluator.evaluate

    def recording_evaluate(self: Evaluator, genomes: Any, *a: Any, **k: Any) -> Any:
        results = timed_evaluate(self, genomes, *a, **k)
        evaluated.extend(zip(genomes, results, strict=True))
        return results

    Evaluator.evaluate = recording_evaluate  # type: ignore[method-assign]
    recorder = Recorder(timer.calls)
    reporter = ConsoleReporter(Console(file=io.StringIO(), force_terminal=True, width=100))
    try:
        start = time.perf_counter()
        evolver = make_evolver(args, tmp / "timed", [reporter, recorder]).fit(X, y)
        wall = time.perf_counter() - start
    finally:
        Evaluator.evaluate = timed_evaluate  # type: ignore[method-assign]
        timer.restore()
    return {
        "wall": wall,
        "timer": timer,
        "evolver": evolver,
        "recorder": recorder,
        "evaluated": evaluated,
    }


def profiled_replay(
    args: argparse.Namespace, X: Any, y: Any, tmp: Path, evaluated: list[Any]
) -> tuple[float, pstats.Stats]:
    """The same run again with every evaluation replayed from the timed run; no refit."""
    original_init = Evaluator.__init__
    original_refit = evolver_module.refit_member

    def init(self: Evaluator, *a: Any, **k: Any) -> None:
        original_init(self, *a, **k)
        for genome, result in evaluated:
            self.replay(genome, result)

    Evaluator.__init__ = init  # type: ignore[method-assign]
    evolver_module.refit_member = lambda *a, **k: None  # type: ignore[assignment]
    reporter = ConsoleReporter(Console(file=io.StringIO(), force_terminal=True, width=100))
    profiler = cProfile.Profile()
    try:
        start = time.perf_counter()
        profiler.enable()
        make_evolver(args, tmp / "replay", [reporter]).fit(X, y)
        profiler.disable()
        seconds = time.perf_counter() - start
    finally:
        Evaluator.__init__ = original_init  # type: ignore[method-assign]
        evolver_module.refit_member = original_refit
    return seconds, pstats.Stats(profiler)


def print_profile(stats: pstats.Stats, top: int) -> None:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in raw.values())
    rows = sorted(raw.items(), key=lambda item: -item[1][2])

    def name(key: tuple[str, int, str]) -> str:
        filename, line, function = key
        if filename == "~":
            return function
        return f"{Path(filename).parent.name}/{Path(filename).name}:{line}({function})"

    print(f"  top {top} by own time (total profiled {total:.2f} s):")
    for key, (_, calls, tt, ct, _) in rows[:top]:
        print(f"    {tt:7.3f} s own {ct:7.3f} s cum {calls:8d} calls  {name(key)}")
    ours = [(k, v) for k, v in raw.items() if "/evosearch/" in k[0]]
    ours.sort(key=lambda item: -item[1][3])
    print(f"  top {top} evosearch functions by cumulative time:")
    for key, (_, calls, tt, ct, _) in ours[:top]:
        print(f"    {ct:7.3f} s cum {tt:7.3f} s own {calls:8d} calls  {name(key)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generations", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="3 generations")
    parser.add_argument(
        "--data",
        choices=("digits", "iris", "wine"),
        default="digits",
        help="iris / wine: tiny data, fast training, so the worst case for relative overhead",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled replay")
    parser.add_argument("--top", type=int, default=15, help="profile rows to print")
    args = parser.parse_args(argv)
    if args.quick:
        args.generations = 3
    loaders = {"digits": load_digits, "iris": load_iris, "wine": load_wine}
    X, y = loaders[args.data](return_X_y=True)
    print(machine_line())
    print(
        f"Evolver(population_size=16, generations={args.generations}, cv=3, n_jobs=2, "
        f"random_state=0) on {args.data}, run folder + ConsoleReporter\n"
    )
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        run = timed_run(args, X, y, tmp)
        timer: PhaseTimer = run["timer"]
        wall = run["wall"]
        training = sum(timer.exclusive[p] for p in TRAINING)
        engine_in_evaluate = (
            timer.inclusive[TRAINING[0]] - timer.exclusive[TRAINING[0]]
        )  # hashing, isomorphism checks and journal writes inside evaluate
        print(f"wall time: {wall:.2f} s")
        print(
            f"inside Evaluator.evaluate (inclusive): {timer.inclusive[TRAINING[0]]:.2f} s "
            f"= {100 * timer.inclusive[TRAINING[0]] / wall:.1f}% of wall "
            f"(of which {engine_in_evaluate:.3f} s engine work booked below)"
        )
        print(
            f"training (evaluate exclusive + final refit): {training:.2f} s; everything else: "
            f"{wall - training:.3f} s = {100 * (wall - training) / wall:.2f}% of wall "
            "(target < 3%)"
        )
        trained = sum(result.seconds for _, result in run["evaluated"])
        print(
            f"training seconds summed over tasks (EvaluationResult.seconds): {trained:.2f} s = "
            f"{100 * trained / (2 * timer.inclusive[TRAINING[0]]):.0f}% of 2 workers x evaluate "
            "wall (the rest: workers idle at a generation's tail, dispatch, pool start-up)"
        )
        print("\nphases (exclusive seconds, % of wall, calls):")
        accounted = 0.0
        for _, _, phase in PHASES:
            seconds = timer.exclusive[phase]
            accounted += seconds
            print(
                f"  {phase:42s} {seconds:8.3f} s {100 * seconds / wall:6.2f}% "
                f"{timer.calls[phase]:6d}"
            )
        print(
            f"  {'not in any phase (loop glue, imports)':42s} {wall - accounted:8.3f} s "
            f"{100 * (wall - accounted) / wall:6.2f}%"
        )

        evolver: Evolver = run["evolver"]
        recorder: Recorder = run["recorder"]
        print("\nper generation (history_): evaluations, cache hits, re-mutated children:")
        print("  gen  evals  hits  fails  children  mutate calls  re-mutations  seconds")
        for record, calls in zip(evolver.history_, recorder.mutations_per_generation, strict=True):
            children = record.evaluations + record.cache_hits
            remutated = max(calls - children, 0) if record.generation else 0
            print(
                f"  {record.generation:3d}  {record.evaluations:5d}  {record.cache_hits:4d}  "
                f"{record.failures:5d}  "
                f"{children:8d}  {calls:12d}  {remutated:12d}  {record.seconds:7.2f}"
            )
        total_evals = sum(r.evaluations for r in evolver.history_)
        total_hits = sum(r.cache_hits for r in evolver.history_)
        remutations = sum(
            max(c - r.evaluations - r.cache_hits, 0)
            for r, c in zip(
                evolver.history_[1:], recorder.mutations_per_generation[1:], strict=True
            )
        )
        print(
            f"  total: {total_evals} evaluations, {total_hits} cache hits (trained nothing), "
            f"{remutations} children re-mutated as duplicates before evaluation"
        )

        if not args.no_profile:
            seconds, stats = profiled_replay(args, X, y, tmp, run["evaluated"])
            print(
                f"\nprofiled replay (no training; cProfile inflates Python-heavy code): "
                f"{seconds:.2f} s"
            )
            print_profile(stats, args.top)


if __name__ == "__main__":
    main()
