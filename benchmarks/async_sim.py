"""Simulated worker utilisation, generational against asynchronous steady-state search (issue 36).

Replays the evaluation times of recorded journals (or synthetic heavy-tailed ones) on N simulated
worker slots, N = 2 .. 1,024, in two modes, and prints one table: worker utilisation, steady
utilisation, evaluations per hour, makespan and time to reach a hypervolume; ``--plot`` draws
utilisation against N per journal. ::

    .venv/bin/python benchmarks/async_sim.py benchmarks/results/async-sim-*.json \\
        --synthetic lognormal:sigma=1 --synthetic pareto:alpha=1.2,cap=100
    .venv/bin/python benchmarks/async_sim.py RUN_FOLDER --write-compact benchmarks/results

The model (event-driven, deterministic given ``--seed``):

* **Tasks.** An evaluation is its folds, one task each; a task occupies one worker slot for its
  seconds. The journal records a genome's *summed* fold seconds, not each fold's: a fold takes
  ``seconds / folds`` (``--fold-jitter S`` splits the sum by seeded lognormal weights of sigma
  S instead). Fold seconds are training and scoring time measured in the worker: scheduler
  latency, data transfer and the driver's breeding are taken as zero, in both modes alike,
  unless ``--task-overhead S`` holds each task's worker S seconds more, not counted as busy
  (``async_validate.py`` measures the overhead of real Dask runs: about 25 ms a task on a
  2-core machine, where driver, scheduler and workers share the cores).
* **Generational.** Each stage (a generation's full-fidelity evaluations; with multi-fidelity
  also its screening evaluations, a stage before them) is submitted at once, longest task first
  onto the earliest free worker, and the next stage starts when its last task ends. The order
  uses the *true* durations (evosearch orders by an estimate): the barrier's best case, so the
  gap to async is if anything understated. The hypervolume becomes known at each stage's end.
* **Async** (``evolve --steady-state``). ``--in-flight C`` evaluations (default N) are in
  flight; their tasks go first in, first out onto free workers; when an evaluation's last fold
  ends, the next one in journal order is submitted. After k evaluations have completed the
  archive holds the first k journalled results: at equal evaluations async is taken to search
  as well as generational (the premise; the issue checks search quality separately), so the
  time to a hypervolume measures throughput only.
* **Utilisation** = busy worker-seconds / (N x makespan). Any finite run ends with a ramp-down
  (its last evaluations finishing on a draining cluster); *steady utilisation* counts only up
  to the last submission, what a long run sees.

**A fair comparison at large N.** A journal recorded at population P has P x (G+1) evaluations,
so at N > P x cv workers a generation cannot fill the cluster and even async runs out of
evaluations to keep in flight. Neither says anything about a search sized for the cluster, so
``--population`` chooses: ``recorded`` (the journal as it is), ``auto`` (population max(P, N),
the journal resampled: each generation's stage a seeded bootstrap of the same stage, so each
generation keeps its recorded durations and scores) or ``both`` (default: both rows). The scaled
rows are the comparison the issue asks for (a user with N workers runs a population of about
N, async keeps N evaluations in flight); the recorded rows show the small-run limit (there,
async's N evaluations in flight exceed the population, and at N >= P x (G+1) every evaluation
is in flight at once). On a resampled journal the hypervolume curve is that of the bootstrap
sample, reached mostly in the first generations: compare times to hypervolume between modes on
one row pair, not across N.

Synthetic journals (``--synthetic lognormal:sigma=1`` or ``pareto:alpha=1.2,cap=100``, see
``_async_sim_inputs.synthetic``) have no objectives: utilisation and evaluations per hour only.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
if str(BENCHMARKS) not in sys.path:  # run as a script or imported by file path
    sys.path.insert(0, str(BENCHMARKS))

from _async_sim_core import MODES, Evaluation, SimResult, simulate  # noqa: E402
from _async_sim_inputs import (  # noqa: E402
    Journal,
    describe,
    hypervolume_gap,
    load_journal,
    scale_population,
    synthetic,
    write_compact,
)

__all__ = ["Evaluation", "SimResult", "main", "run_grid", "simulate"]

WORKERS = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
DEFAULT_PLOT = BENCHMARKS / "results" / "async-sim-utilisation.png"


def run_grid(
    journal: Journal,
    workers: tuple[int, ...] = WORKERS,
    modes: tuple[str, ...] = MODES,
    population: str = "both",
    in_flight: int | None = None,
    hv_fraction: float = 0.95,
    seed: int = 0,
    task_overhead: float = 0.0,
) -> list[dict[str, Any]]:
    """Simulate ``journal`` at every worker count and mode; one row each.

    Parameters
    ----------
    journal : Journal
    workers : tuple of int
    modes : tuple of str
    population : {"recorded", "auto", "both"}
        The recorded journal, or one resampled to population max(recorded, N), or both rows.
    in_flight : int, optional
        Async mode's evaluations in flight; default N.
    hv_fraction : float, default=0.95
        Time to hypervolume is measured to this fraction of the journal's final hypervolume.
    seed : int, default=0
        Seed of the resampling.
    task_overhead : float, default=0
        Seconds per task a worker is held but not training (see :func:`simulate`).

    Returns
    -------
    list of dict
        Keys ``journal``, ``population``, ``workers``, ``mode``, ``in_flight``,
        ``evaluations``, ``makespan_s``, ``utilisation``, ``steady_utilisation``,
        ``evaluations_per_hour``, ``hv_target``, ``time_to_hv_s``, ``note``.
    """
    rows = []
    cache: dict[int, tuple[Journal, list[float] | None]] = {}
    for n in workers:
        sizes = {"recorded": [journal.population], "auto": [max(journal.population, n)]}
        sizes["both"] = sorted(set(sizes["recorded"] + sizes["auto"]))
        for size in sizes[population]:
            if size not in cache:
                scaled = scale_population(journal, size, seed)
                cache[size] = (scaled, scaled.hypervolumes())
            scaled, hv = cache[size]
            target = hv_fraction * hv[-1] if hv else None
            for mode in modes:
                result = simulate(scaled.evaluations, n, mode, in_flight, hv, task_overhead)
                reached = result.time_to_hypervolume(target) if target is not None else None
                rows.append(
                    {
                        "journal": journal.name,
                        "population": size,
                        "recorded_population": journal.population,
                        "workers": n,
                        "mode": mode,
                        "in_flight": result.in_flight,
                        "evaluations": result.evaluations,
                        "makespan_s": result.makespan,
                        "utilisation": result.utilisation,
                        "steady_utilisation": result.steady_utilisation,
                        "evaluations_per_hour": result.evaluations_per_hour,
                        "hv_target": target,
                        "time_to_hv_s": reached,
                        "note": scaled.note,
                    }
                )
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| journal | population | N | mode | evaluations | makespan s | utilisation | "
        "steady util. | evaluations/h | s to HV target |\n|---|---:|---:|---|---:|---:|---:|---:|"
        "---:|---:|"
    )
    lines = [head]
    for r in rows:
        hv = "-" if r["hv_target"] is None else f"{r['time_to_hv_s']:.1f} (≥{r['hv_target']:.4f})"
        lines.append(
            f"| {r['journal']} | {r['population']} | {r['workers']} | {r['mode']} | "
            f"{r['evaluations']} | {r['makespan_s']:.1f} | {100 * r['utilisation']:.1f} % | "
            f"{100 * r['steady_utilisation']:.1f} % | {r['evaluations_per_hour']:,.0f} | {hv} |"
        )
    return "\n".join(lines)


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["journal"] for r in rows))
    columns = min(3, len(names))
    rows_ = -(-len(names) // columns)
    fig, axes = plt.subplots(rows_, columns, figsize=(4.4 * columns, 3.4 * rows_), squeeze=False)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, names, strict=False):
        mine = [r for r in rows if r["journal"] == name]
        recorded = mine[0]["recorded_population"]
        scaled_rows = any(r["population"] > recorded for r in mine)
        for mode, colour in (("generational", "tab:red"), ("async", "tab:blue")):
            for scaled, style in ((False, ":"), (True, "-")):
                points = sorted(
                    (r["workers"], 100 * r["utilisation"])
                    for r in mine
                    if r["mode"] == mode
                    and r["population"] == (max(recorded, r["workers"]) if scaled else recorded)
                )
                if points and (scaled_rows or not scaled):
                    label = f"{mode}, population {'max(P, N)' if scaled else 'P (recorded)'}"
                    ax.plot(
                        *zip(*points, strict=True),
                        style,
                        marker="o",
                        ms=3,
                        color=colour,
                        label=label,
                    )
        ax.set_xscale("log", base=2)
        ax.set_ylim(0, 102)
        ax.set_title(f"{name} (P = {recorded})", fontsize=9)
        ax.set_xlabel("workers N")
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("utilisation %")
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _compact_source(folder: Path) -> dict[str, Any]:
    info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    settings = info["settings"]
    return {
        "run_folder": str(folder),
        "dataset": {k: info["dataset"].get(k) for k in ("name", "n_samples", "n_features")},
        "settings": {
            k: settings.get(k)
            for k in ("genome", "population_size", "generations", "cv", "n_jobs", "backend")
        },
        "fidelity": info.get("fidelity"),
        "started": info.get("started"),
        "evosearch": info.get("versions", {}).get("evosearch"),
        "written_on": f"{platform.node()} {platform.machine()}",
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Command line: see the module docstring and ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sources", nargs="*", help="run folders or compact files")
    parser.add_argument(
        "--synthetic",
        action="append",
        default=[],
        metavar="SPEC",
        help="lognormal:sigma=1.5 | pareto:alpha=1.2,cap=100 (keys population, "
        "generations, cv, median, fold_sigma, seed)",
    )
    parser.add_argument("--workers", type=int, nargs="+", default=list(WORKERS))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--population", choices=("recorded", "auto", "both"), default="both")
    parser.add_argument("--in-flight", type=int, default=None, help="default: N")
    parser.add_argument(
        "--hv-fraction",
        type=float,
        default=0.95,
        help="time to this fraction of the journal's final hypervolume",
    )
    parser.add_argument(
        "--fold-jitter",
        type=float,
        default=0.0,
        help="sigma of lognormal weights splitting a genome's seconds over its "
        "folds (default 0: evenly)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--task-overhead",
        type=float,
        default=0.0,
        help="seconds per task a worker is held but not training (default 0)",
    )
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT)
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument(
        "--write-compact",
        type=Path,
        metavar="DIR",
        help="also write each run folder as DIR/async-sim-NAME.json",
    )
    args = parser.parse_args(argv)
    modes = tuple(m for m in args.modes.split(",") if m)
    if not set(modes) <= set(MODES):
        parser.error(f"--modes: one or more of {', '.join(MODES)}")
    journals = [load_journal(s, args.fold_jitter, args.seed) for s in args.sources]
    journals += [synthetic(spec, seed=args.seed) for spec in args.synthetic]
    if not journals:
        parser.error("give run folders, compact files or --synthetic")
    if args.write_compact:
        args.write_compact.mkdir(parents=True, exist_ok=True)
        for source, journal in zip(args.sources, journals, strict=False):
            if Path(source).is_dir():
                out = args.write_compact / f"async-sim-{journal.name}.json"
                write_compact(journal, out, _compact_source(Path(source)))
                print(f"wrote {out}")
    started = time.perf_counter()
    rows = []
    for source, journal in zip(args.sources, journals, strict=False):
        if Path(source).is_dir() and journal.note == "as recorded":
            gap = hypervolume_gap(journal, Path(source))
            if gap is not None:
                print(
                    f"{journal.name}: hypervolume at each generation's end within {gap:.1e} "
                    "of generations.jsonl"
                )
    for journal in journals:
        print(describe(journal))
        rows += run_grid(
            journal,
            tuple(args.workers),
            modes,
            args.population,
            args.in_flight,
            args.hv_fraction,
            args.seed,
            args.task_overhead,
        )
    print()
    print(_table(rows))
    print(
        f"\npopulation: {args.population} (scaled rows: max(recorded, N), each stage "
        f"bootstrapped from the recorded one, seed {args.seed}); in flight: "
        f"{args.in_flight or 'N'}; fold seconds = journal seconds / folds"
        f"{f' with lognormal jitter {args.fold_jitter}' if args.fold_jitter else ''}; "
        f"task overhead {args.task_overhead:g} s; "
        f"HV target = {args.hv_fraction:g} x the (resampled) journal's final hypervolume; "
        f"simulated in {time.perf_counter() - started:.1f} s"
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    if not args.no_plot:
        _plot(rows, args.plot)
        print(f"plot: {args.plot}")
    return rows


if __name__ == "__main__":
    main()
