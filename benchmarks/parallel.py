"""Parallel efficiency of one generation: ``Evaluator.evaluate`` with n_jobs=1 against n_jobs=2.

One generation of 32 distinct random genomes (``Genome.random(SearchSpace.load("mlp"), ...)``,
seed 0) on digits, ``cv=3``. Every round creates a fresh ``Evaluator`` for each ``n_jobs``, warms
it up (two evaluations of tiny genomes: the first pays the worker pool's start-up, the second
shows whether a started pool is reused), then times the 32 genomes. Rounds alternate the order
(1, 2, 2, 1, ...). Printed:

* wall seconds of each, speed-up ``n_jobs=1 / n_jobs=2`` (target >= 1.8x on 2 cores);
* the summed training seconds of the tasks (``EvaluationResult.seconds``) in each mode: when
  other processes load the machine, tasks of the parallel run get less than a core each and this
  sum grows; the ``load-corrected`` speed-up divides that inflation out, and ``busy`` is the share
  of the two workers' wall time spent training (1.0 = no idle worker at the end of the batch);
* machine capacity: how many cores' worth two spinning processes got just before and after
  each n_jobs=2 timing (2.0 when both cores are free), to tell a slow machine from a slow pool;
* pool start-up: first warm-up call minus second (same work, pool already running);
* worker reuse: the PIDs of this process's child processes after each call (``/proc``), and
  whether the second call and the timed generation ran on the same processes;
* whether the results (fold scores, epochs, errors) are identical for both ``n_jobs``.

Uses only the public API (``Evaluator(X, y, task, cv=, n_jobs=, seed=)``, ``.evaluate``), so it
keeps working whatever executor sits inside.

Run: ``.venv/bin/python benchmarks/parallel.py`` (3-4 minutes; ``--quick``: 8 genomes, 1 round)
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine_line, median, parallel_capacity, random_genomes
from sklearn.datasets import load_digits

from evosearch.evaluation import EvaluationResult, Evaluator
from evosearch.space.genome import Genome


def tiny_genome(units: int) -> Genome:
    """A cheap warm-up genome (one small layer, 2 epochs); distinct from any random genome."""
    hp = {
        "optimizer": "sgd",
        "learning_rate": 0.01,
        "l1": 1e-6,
        "l2": 1e-4,
        "batch_size": 256,
        "max_epochs": 2,
    }
    return Genome.chain(64, 10, [{"units": units, "activation": "relu", "dropout": 0.0}], hp)


def child_pids() -> dict[int, str]:
    """Live child processes of this process: pid -> short command line."""
    me = os.getpid()
    children: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != me:
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        children[int(entry.name)] = "resource tracker" if "resource_tracker" in cmd else "worker"
    return children


def workers() -> set[int]:
    return {pid for pid, kind in child_pids().items() if kind == "worker"}


def one_mode(
    X: np.ndarray, y: np.ndarray, genomes: list[Genome], n_jobs: int, cv: int
) -> dict[str, Any]:
    evaluator = Evaluator(X, y, "classification", cv=cv, n_jobs=n_jobs, seed=0)
    start = time.perf_counter()
    evaluator.evaluate([tiny_genome(8)])
    first = time.perf_counter() - start
    pids_first = workers()
    start = time.perf_counter()
    evaluator.evaluate([tiny_genome(9)])
    second = time.perf_counter() - start
    pids_second = workers()
    start = time.perf_counter()
    results = evaluator.evaluate(genomes)
    wall = time.perf_counter() - start
    pids_after = workers()
    return {
        "wall": wall,
        "task_seconds": sum(r.seconds for r in results),
        "warmup_first": first,
        "warmup_second": second,
        "pids": (pids_first, pids_second, pids_after),
        "results": results,
    }


def same_results(a: list[EvaluationResult], b: list[EvaluationResult]) -> bool:
    return all(
        (x.genome_hash, x.fold_scores, x.score, x.n_params, x.epochs, x.error)
        == (z.genome_hash, z.fold_scores, z.score, z.n_params, z.epochs, z.error)
        for x, z in zip(a, b, strict=True)
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--genomes", type=int, default=32, help="genomes in the generation")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="8 genomes, 1 round")
    args = parser.parse_args(argv)
    count, rounds = (8, 1) if args.quick else (args.genomes, args.rounds)

    X, y = load_digits(return_X_y=True)
    genomes = random_genomes(count)
    print(machine_line())
    print(
        f"digits {X.shape}, cv={args.cv}, {count} distinct random mlp genomes (seed 0), "
        f"{rounds} round(s) alternating n_jobs=1 / n_jobs=2, a fresh Evaluator each time\n"
    )
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    for round_ in range(rounds):
        for n_jobs in (1, 2) if round_ % 2 == 0 else (2, 1):
            capacity = parallel_capacity() if n_jobs == 2 else None
            run = one_mode(X, y, genomes, n_jobs, args.cv)
            if capacity is not None:
                run["capacity"] = (capacity + parallel_capacity()) / 2
            runs[n_jobs].append(run)
            first, second, after = run["pids"]
            print(
                f"round {round_ + 1} n_jobs={n_jobs}: {run['wall']:6.2f} s wall, "
                f"{run['task_seconds']:6.2f} s of training in tasks; warm-up calls "
                f"{run['warmup_first']:.3f} s then {run['warmup_second']:.3f} s; worker pids "
                f"{sorted(first)} -> {sorted(second)} -> {sorted(after)}"
                + (f"; machine capacity {run['capacity']:.2f} cores" if n_jobs == 2 else "")
            )

    ratios = [a["wall"] / b["wall"] for a, b in zip(runs[1], runs[2], strict=True)]
    serial = median([r["wall"] for r in runs[1]])
    parallel = median([r["wall"] for r in runs[2]])
    inflation = median(
        [b["task_seconds"] / a["task_seconds"] for a, b in zip(runs[1], runs[2], strict=True)]
    )
    busy = median([r["task_seconds"] / (2 * r["wall"]) for r in runs[2]])
    cold = runs[2][0]
    startup = cold["warmup_first"] - cold["warmup_second"]
    later_first = [r["warmup_first"] for r in runs[2][1:]]
    reused_calls = all(
        r["pids"][1] and r["pids"][1] == r["pids"][2] and r["pids"][0] == r["pids"][1]
        for r in runs[2]
    )
    reused_evaluators = all(r["pids"][2] == cold["pids"][2] for r in runs[2])
    identical = all(same_results(runs[1][0]["results"], r["results"]) for r in runs[1] + runs[2])
    failures = sum(not r.ok for r in runs[1][0]["results"])

    print()
    print(f"n_jobs=1: {serial:.2f} s (median), n_jobs=2: {parallel:.2f} s (median)")
    print(
        f"speed-up n_jobs=2 vs 1: {serial / parallel:.2f}x (medians), "
        f"{min(r['wall'] for r in runs[1]) / min(r['wall'] for r in runs[2]):.2f}x (bests), "
        f"{median(ratios):.2f}x (median of per-round ratios); target >= 1.8x"
    )
    capacity = median([r["capacity"] for r in runs[2]])
    print(
        f"machine capacity around the n_jobs=2 runs (2 spinning processes vs 1, just before "
        f"and after): {capacity:.2f} cores, median (2.00 = both cores free; context only, the "
        "load can change during a run)"
    )
    print(
        f"task training seconds, n_jobs=2 / n_jobs=1: x{inflation:.2f} (> 1: the parallel tasks "
        f"ran slower, i.e. the 2 cores were not both free); load-corrected speed-up "
        f"{median(ratios) * inflation:.2f}x; workers busy {100 * busy:.0f}% of the parallel wall "
        "time"
    )
    print(
        f"pool start-up (first n_jobs=2 Evaluator: first warm-up call minus second): "
        f"{startup:.3f} s; the same workers run consecutive evaluate calls: "
        f"{'yes' if reused_calls else 'no'}"
    )
    if later_first:
        print(
            f"later fresh n_jobs=2 Evaluators: first warm-up call {median(later_first):.3f} s "
            f"(median); they reuse the first one's worker processes: "
            f"{'yes' if reused_evaluators else 'no'}"
        )
    print(
        f"results identical for n_jobs=1 and 2 (and across rounds): "
        f"{'yes' if identical else 'NO'} ({count} genomes, {failures} failed evaluations)"
    )


if __name__ == "__main__":
    main()
