"""Warm starts from a sample: do the sample run's trained networks help, or only its genomes?

For each table and seed the rows are split into a stratified 75 % to search on and 25 % held
back (never seen by any run), as in ``warm_start.py``. A run on 20 % of the search rows
(``small``, ``--small-generations``) warm-starts two runs on all of them, with the same seed
and settings (``Evolver`` defaults but ``n_jobs=1``), so with the same generation 0 genomes:

- ``inherited``: each seed's fold ``k`` starts from the small run's fold ``k`` network (what
  warm starts did before they kept networks to runs with the same folds; here forced by
  patching ``evosearch.search.warm_start.same_folds``). The small run's rows are also the big
  run's, so that network has trained on some of the rows fold ``k`` now validates on;
- ``fresh``: the same seeds trained from fresh weights (what a warm start on other rows does);

and a ``cold`` run from random genomes. Printed per run: seconds, final hypervolume, the best
CV score, the mean CV score of generation 0 (the same genomes in both warm runs), the held-back
score (accuracy; R² on friedman3k) of the best model, and when the run first reached the cold
run's final hypervolume (seconds, evaluations).

    nice -n 5 .venv/bin/python benchmarks/warm_weights.py --tables digits --seeds 0 1 2 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import warm_start as bench
from _common import machine_line


def run(X: Any, y: Any, seed: int, generations: int, test: Any, **extra: Any) -> dict[str, Any]:
    """One run, as ``warm_start.run`` does, plus its best and generation 0's CV scores."""
    from evosearch import Evolver

    clock = bench.Clock()
    evolver = Evolver(
        generations=generations, n_jobs=1, random_state=seed, callbacks=[clock], **extra
    )
    evolver.fit(X, y)
    results = evolver.cv_results_
    ok = ~np.asarray(results["failed"], dtype=bool)
    generation0 = np.asarray(results["generation"]) == 0
    scores = np.asarray(results["mean_test_score"], dtype=np.float64)
    best = evolver.archive_.best(evolver.archive_.objective("score"))
    return {
        "curve": clock.rows,
        "seconds": clock.rows[-1][0],
        "hypervolume": clock.rows[-1][2],
        "best_cv": float(best.objectives[0]),
        "generation0_cv": float(np.nanmean(scores[ok & generation0])),
        "generation0": sorted(np.asarray(results["genome_hash"])[generation0].tolist()),
        "held_back": float(evolver.score(*test)),
        "folder": evolver.run_folder_,
    }


def inheriting(X: Any, y: Any, seed: int, generations: int, test: Any, **extra: Any) -> Any:
    """``run`` with the earlier run's networks carried over whatever its folds."""
    import evosearch.search.warm_start as warm_start

    same_folds = warm_start.same_folds
    warm_start.same_folds = lambda theirs, ours: True
    try:
        return run(X, y, seed, generations, test, **extra)
    finally:
        warm_start.same_folds = same_folds


def main() -> None:
    from sklearn.model_selection import train_test_split

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--tables", nargs="+", default=["digits", "friedman3k"])
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--small-generations", type=int, default=16)
    args = parser.parse_args()

    print(machine_line())
    print(
        f"{'table':10} {'seed':>4} {'run':10} {'seconds':>7} {'final HV':>8} {'best CV':>8} "
        f"{'gen 0 CV':>8} {'held-back':>9}  reach cold HV at (s, evals)"
    )
    gains: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.tables:
            X, y = bench.tables()[name]
            regression = name in bench.REGRESSION
            for seed in args.seeds:
                X_fit, X_test, y_fit, y_test = train_test_split(
                    X, y, test_size=0.25, stratify=None if regression else y, random_state=seed
                )
                X_small, _, y_small, _ = train_test_split(
                    X_fit, y_fit, train_size=0.2, stratify=None if regression else y_fit,
                    random_state=seed,
                )  # fmt: skip
                test = (X_test, y_test)
                small = run(X_small, y_small, seed, args.small_generations, test,
                            out=Path(scratch) / f"{name}-{seed}")  # fmt: skip
                runs = {
                    "small": small,
                    "cold": run(X_fit, y_fit, seed, args.generations, test),
                    "inherited": inheriting(
                        X_fit, y_fit, seed, args.generations, test, warm_start=small["folder"]
                    ),
                    "fresh": run(
                        X_fit, y_fit, seed, args.generations, test, warm_start=small["folder"]
                    ),
                }
                assert runs["inherited"]["generation0"] == runs["fresh"]["generation0"]
                target = runs["cold"]["hypervolume"]
                for label, result in runs.items():
                    at = bench.reached(result["curve"], target) if label != "small" else None
                    reach = "-" if at is None else f"{at[0]:.1f} s, {at[1]}"
                    print(
                        f"{name:10} {seed:>4} {label:10} {result['seconds']:7.1f} "
                        f"{result['hypervolume']:8.4f} {result['best_cv']:8.4f} "
                        f"{result['generation0_cv']:8.4f} {result['held_back']:9.4f}  {reach}",
                        flush=True,
                    )
                gain = runs["fresh"]["held_back"] - runs["inherited"]["held_back"]
                gains.setdefault(name, []).append(gain)
    print("\nheld-back score, fresh weights minus inherited (same generation 0 genomes):")
    for name, values in gains.items():
        listed = ", ".join(f"{v:+.4f}" for v in values)
        print(f"  {name:10} {listed}  (median {float(np.median(values)):+.4f})")


if __name__ == "__main__":
    main()
