"""Validate ``async_sim.py`` against real runs on a local Dask cluster (issue 36).

For each worker count W (default 2 and 4) and mode (``generational``; ``async`` is
``evolve --steady-state``) it runs ::

    evosearch evolve --backend dask --n-jobs W --data digits --genome mlp ... [--steady-state]

(no ``--scheduler``: evosearch starts a local Dask cluster of W single-threaded workers), then
compares

* **measured** utilisation: busy fold-seconds (the journal's ``seconds``, summed over every
  line, screening included) / (W x the search's wall seconds), the wall seconds being the sum of
  ``generations.jsonl``'s ``seconds`` (steady-state: its blocks'), so that the cluster's
  start-up and the final refit are outside it; with
* **predicted** utilisation: :func:`async_sim.simulate` fed the same journal on W workers in the
  same mode (async: as many evaluations in flight as ``evolve`` keeps, W by default).

The simulator counts only training seconds, so the difference is what a real run spends
outside them: Dask's task latency, scattering data, the driver breeding and writing the run
folder. The issue asks for it within 5 points. On a 2-core machine W=4 is oversubscribed (four
workers share two cores, each fold's seconds stretch accordingly): its figure is reported but
says less about a cluster than W=2's. ::

    nice -n 19 .venv/bin/python benchmarks/async_validate.py [--workers 2 4]
        [--modes generational,async] [--generations 15] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

from _async_sim_core import Evaluation, simulate  # noqa: E402
from _async_sim_inputs import fold_seconds, load_journal  # noqa: E402

__all__ = ["main", "measure"]

DEFAULT_CLI = Path(sys.executable).with_name("evosearch")


def _has_steady_state(cli: Path) -> bool:
    text = subprocess.run(
        [str(cli), "evolve", "--help"], capture_output=True, text=True, check=False
    ).stdout
    return "--steady-state" in text


def _implied_overhead(
    evaluations: list[Evaluation], workers: int, mode: str, search: float
) -> float:
    # The per-task overhead at which the simulated makespan equals the measured one (makespan
    # grows with the overhead): bisection, 40 halvings of an interval of seconds.
    low, high = 0.0, 1.0
    if simulate(evaluations, workers, mode).makespan >= search:
        return 0.0
    for _ in range(40):
        middle = (low + high) / 2
        if simulate(evaluations, workers, mode, task_overhead=middle).makespan < search:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def measure(
    folder: Path,
    workers: int,
    mode: str,
    in_flight: int | None = None,
    task_overhead: float = 0.0,
    skip_first: bool = False,
) -> dict[str, Any]:
    """Measured and predicted utilisation of a finished run folder.

    Parameters
    ----------
    folder : Path
        A run of ``workers`` Dask workers in ``mode``.
    workers : int
    mode : {"generational", "async"}
    in_flight : int, optional
        The run's evaluations in flight (async); default ``workers``.
    task_overhead : float, default=0
        Also predict with this per-task overhead (seconds; see ``async_sim.simulate``).
    skip_first : bool, default=False
        Leave generation (block) 0 out of both figures: its seconds include starting the local
        Dask cluster (evosearch connects when the first evaluation is due), which is no
        utilisation of the workers' either way.

    Returns
    -------
    dict
        ``evaluations``, ``tasks``, ``busy_s``, ``search_s``, ``measured``, ``predicted``,
        ``predicted_makespan_s``, ``difference_points``, ``implied_overhead_s`` (the per-task
        overhead that would explain the difference), ``predicted_with_overhead``.
    """
    journal = load_journal(str(folder))
    if in_flight is None:  # what the run kept in flight (run.json records it)
        info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        in_flight = (info.get("steady_state") or {}).get("in_flight")
    lines = (folder / "generations.jsonl").read_text(encoding="utf-8").splitlines()
    first = 1 if skip_first else 0
    records = [json.loads(line) for line in lines if line]
    search = sum(float(r["seconds"]) for r in records if r["generation"] >= first)
    evaluations = [e for e in journal.evaluations if e.generation >= first]
    busy = fold_seconds(evaluations)
    result = simulate(evaluations, workers, mode, in_flight)
    loaded = simulate(evaluations, workers, mode, in_flight, task_overhead=task_overhead)
    measured = busy / (workers * search)
    return {
        "evaluations": len(evaluations),
        "tasks": sum(len(e.folds) for e in evaluations),
        "busy_s": busy,
        "search_s": search,
        "measured": measured,
        "predicted": result.utilisation,
        "predicted_makespan_s": result.makespan,
        "difference_points": 100 * (result.utilisation - measured),
        "implied_overhead_s": _implied_overhead(evaluations, workers, mode, search),
        "task_overhead_s": task_overhead,
        "predicted_with_overhead": loaded.utilisation,
    }


def _run(cli: Path, out: Path, workers: int, mode: str, args: argparse.Namespace) -> float:
    command = [str(cli), "evolve", "--backend", "dask", "--n-jobs", str(workers), "--quiet"]
    command += ["--data", args.data, "--genome", args.genome, "--seed", str(args.seed)]
    command += ["--population", str(args.population), "--generations", str(args.generations)]
    command += ["--out", str(out), *shlex.split(args.evolve_args)]
    if mode == "async":
        command.append("--steady-state")
    print("$", " ".join(command), flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"evolve failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Command line: see the module docstring and ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--modes", default="generational,async")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--genome", default="mlp")
    parser.add_argument("--population", type=int, default=16)
    parser.add_argument("--generations", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--evolve-args", default="", help="more evolve options, e.g. '--target y'")
    parser.add_argument("--evosearch", type=Path, default=DEFAULT_CLI, help="the CLI to run")
    parser.add_argument("--keep", type=Path, help="keep the run folders here")
    parser.add_argument("--runs", type=Path, help="measure these existing runs (W-MODE folders)")
    parser.add_argument("--skip-first", action="store_true",
                        help="leave generation/block 0 (the cluster's start) out")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument(
        "--task-overhead",
        type=float,
        default=0.0,
        help="also predict with this per-task overhead in seconds (e.g. one measured at W=2)",
    )
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    if "async" in modes and args.runs is None and not _has_steady_state(args.evosearch):
        print("evolve has no --steady-state here: async left out")
        modes.remove("async")
    print(
        f"{platform.node()}: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
        f"{args.data} {args.genome}, population {args.population}, "
        f"{args.generations} generations, seed {args.seed} {args.evolve_args}"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="async-validate-") as tmp:
        base = args.runs or args.keep or Path(tmp)
        for workers in args.workers:
            for mode in modes:
                folder = base / f"{workers}-{mode}"
                wall = None if args.runs else _run(args.evosearch, folder, workers, mode, args)
                row = {"workers": workers, "mode": mode, "process_s": wall}
                row.update(measure(folder, workers, mode, task_overhead=args.task_overhead,
                                   skip_first=args.skip_first))  # fmt: skip
                rows.append(row)
                print(json.dumps(row), flush=True)
    print(
        "\n| W | mode | evaluations | busy fold-s | search s | process s | measured | "
        "predicted | predicted - measured | implied overhead per task | predicted with "
        f"{1000 * args.task_overhead:g} ms per task |\n"
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    for r in rows:
        process = "-" if r["process_s"] is None else f"{r['process_s']:.1f}"
        print(
            f"| {r['workers']} | {r['mode']} | {r['evaluations']} | {r['busy_s']:.1f} | "
            f"{r['search_s']:.1f} | {process} | {100 * r['measured']:.1f} % | "
            f"{100 * r['predicted']:.1f} % | {r['difference_points']:+.1f} points | "
            f"{1000 * r['implied_overhead_s']:.0f} ms | "
            f"{100 * r['predicted_with_overhead']:.1f} % |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return rows


if __name__ == "__main__":
    main()
