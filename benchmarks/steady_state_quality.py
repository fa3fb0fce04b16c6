"""Steady-state against generational search at equal evaluations: is async buying speed with
worse search?

For each bundled table and seed, the same settings (``mlp`` preset, ``--population``,
``--generations``, 3-fold CV, a stratified quarter of the rows held back) run:

- ``generational``: the default NSGA-II generations;
- ``steady-K``: ``steady_state=True, in_flight=K`` for each K of ``--in-flight`` (default 2 and
  8). With ``n_jobs=2`` only two folds train at once, but K evaluations are outstanding when
  each child is bred: the selection sees the population a K-worker cluster would (K results
  behind), which is what costs an asynchronous search quality, if anything does.

Both do ``population x (generations + 1)`` evaluations (less cache hits). Printed: per table and
mode, the median over seeds of the final hypervolume (score against parameters, the runs'
reference), the best CV score, the held-back accuracy of the best model, evaluations and wall
seconds; a plot of hypervolume against evaluations (median over seeds) per table.

    nice -n 5 .venv/bin/python benchmarks/steady_state_quality.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_line, median

from evosearch import Evolver
from evosearch.data import load_dataset

RESULTS = Path(__file__).resolve().parent / "results"


def run_one(table: str, seed: int, mode: str, args: argparse.Namespace, folder: Path) -> dict:
    """One run; its final figures and its hypervolume after each block/generation."""
    dataset = load_dataset(table)
    steady = mode.startswith("steady")
    extra: dict[str, Any] = (
        {"steady_state": True, "in_flight": int(mode.split("-")[1])} if steady else {}
    )
    evolver = Evolver(
        "mlp", population_size=args.population, generations=args.generations, cv=3,
        n_jobs=args.n_jobs, random_state=seed, holdout=0.25, out=folder / f"{table}-{seed}-{mode}",
        **extra,
    )  # fmt: skip
    started = time.perf_counter()
    evolver.fit_dataset(dataset)
    seconds = time.perf_counter() - started
    history = evolver.history_
    evaluated = np.cumsum([r.evaluations + r.cache_hits for r in history])
    score = evolver.archive_.objective("score")
    best = evolver.archive_.best(score)
    return {
        "table": table, "seed": seed, "mode": mode,
        "hypervolume": history[-1].hypervolume,
        "curve": [[int(e), r.hypervolume] for e, r in zip(evaluated, history, strict=True)],
        "best_cv": best.objectives[score],
        "held_back": best.holdout_score,
        "evaluations": int(evaluated[-1]),
        "seconds": seconds,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=["wine", "breast_cancer", "digits"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--in-flight", nargs="+", type=int, default=[2, 8])
    parser.add_argument("--population", type=int, default=16)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, default=RESULTS / "steady-state-quality.json")
    parser.add_argument("--plot", type=Path, default=RESULTS / "steady-state-quality.png")
    args = parser.parse_args()
    modes = ["generational", *[f"steady-{k}" for k in args.in_flight]]
    print(machine_line())
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for table in args.tables:
            for seed in args.seeds:
                for mode in modes:
                    row = run_one(table, seed, mode, args, Path(scratch))
                    rows.append(row)
                    print(f"  {table:14} seed {seed} {mode:13} hv {row['hypervolume']:.4f} "
                          f"best CV {row['best_cv']:.4f} held-back {row['held_back']:.4f} "
                          f"{row['evaluations']} evals {row['seconds']:.0f} s",
                          flush=True)  # fmt: skip
    args.json.write_text(json.dumps({"settings": vars(args) | {"json": None, "plot": None},
                                     "runs": rows}, indent=1, default=str))  # fmt: skip
    print(f"\nmedian over seeds {args.seeds} (population {args.population}, generations "
          f"{args.generations}, n_jobs {args.n_jobs}):")  # fmt: skip
    print(f"{'table':14} {'mode':13} {'hypervolume':>11} {'best CV':>8} {'held-back':>9} "
          f"{'evals':>6} {'seconds':>8}")  # fmt: skip
    for table in args.tables:
        for mode in modes:
            mine = [r for r in rows if r["table"] == table and r["mode"] == mode]
            print(f"{table:14} {mode:13} {median([r['hypervolume'] for r in mine]):11.4f} "
                  f"{median([r['best_cv'] for r in mine]):8.4f} "
                  f"{median([r['held_back'] for r in mine]):9.4f} "
                  f"{median([r['evaluations'] for r in mine]):6.0f} "
                  f"{median([r['seconds'] for r in mine]):8.0f}")  # fmt: skip
    plot(rows, args.tables, modes, args.plot)
    print(f"wrote {args.json} and {args.plot}")


def plot(rows: list[dict], tables: list[str], modes: list[str], path: Path) -> None:
    """Hypervolume against evaluations, median over seeds, one panel per table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(tables), figsize=(4.5 * len(tables), 3.6), squeeze=False)
    for axis, table in zip(axes[0], tables, strict=True):
        for mode in modes:
            curves = [r["curve"] for r in rows if r["table"] == table and r["mode"] == mode]
            steps = min(len(c) for c in curves)
            x = [median([c[i][0] for c in curves]) for i in range(steps)]
            y = [median([c[i][1] for c in curves]) for i in range(steps)]
            axis.plot(x, y, marker="o", label=mode)
        axis.set_title(table)
        axis.set_xlabel("evaluations")
        axis.set_ylabel("hypervolume (median over seeds)")
        axis.grid(alpha=0.3)
    axes[0][0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
