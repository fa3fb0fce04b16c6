"""Warm starts: does a run on a sample (or on related data) shorten the run on the whole table?

For each table and seed the rows are split once into a stratified 75 % to search on and 25 %
held back (never seen by any run). Then, with the same settings (``Evolver`` defaults but
``n_jobs=1``, one core):

- ``small``: a run on a stratified 20 % sample of the search rows (``--small-generations``);
- ``cold``: a run on all the search rows from random genomes (``--generations``);
- ``warm``: the same run with ``warm_start=small`` (its archive and last population start
  generation 0; other rows, so their folds train from fresh weights: the small run's networks
  stay behind, see ``evosearch.search.warm_start``);
- ``related`` (where the table has several classes): a run on the search rows of the first
  half of the classes only, which then warm-starts a run on all of them (``warm-related``):
  other output widths, other rows. On a regression table: a run on other rows of the same
  generator (a fresh draw, half as many rows as the search rows, never in the table).

Tables: ``digits`` (1,797 x 64, 10 classes), ``synth8k`` (``make_classification``, 8,000 x 20,
4 classes), ``friedman3k`` (``make_friedman1``, 3,000 x 10, noise 1, regression: R²), all
seeded. Regression splits are not stratified.

Printed per run: the time and evaluations at which the warm run first reached the cold run's
final hypervolume (absent: never), the warm run's hypervolume when the cold run ended (equal
time, the small run's time not counted; a second column counts it), final hypervolumes, and the
held-back accuracy of each run's best model (refit on the search rows). Time is measured with
a callback at each generation's end (noisy on a shared machine: the evaluations column is not).

    nice -n 5 .venv/bin/python benchmarks/warm_start.py --seeds 0 1
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

from _common import machine_line


def friedman(rows: int, state: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_friedman1

    return make_friedman1(rows, n_features=10, noise=1.0, random_state=state)


#: Regression tables: their generators, so that a related run can draw other rows.
REGRESSION = {"friedman3k": (friedman, 3000)}


def tables() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from sklearn.datasets import load_digits, make_classification

    return {
        "digits": load_digits(return_X_y=True),
        "synth8k": make_classification(
            8000, n_features=20, n_informative=10, n_classes=4, random_state=0
        ),
        **{name: make(rows, 0) for name, (make, rows) in REGRESSION.items()},
    }


class Clock:
    """Callback: (seconds since fit started, evaluations so far, hypervolume) per generation."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.rows: list[tuple[float, int, float]] = []

    def on_run_start(self, evolver: Any) -> None:
        self.start = time.perf_counter()

    def on_generation_end(self, evolver: Any, record: Any) -> None:
        done = (self.rows[-1][1] if self.rows else 0) + record.evaluations
        self.rows.append((time.perf_counter() - self.start, done, record.hypervolume))


def run(X: Any, y: Any, seed: int, generations: int, test: Any, **extra: Any) -> dict[str, Any]:
    from evosearch import Evolver

    clock = Clock()
    evolver = Evolver(
        generations=generations, n_jobs=1, random_state=seed, callbacks=[clock], **extra
    )
    evolver.fit(X, y)
    X_test, y_test = test
    return {
        "curve": clock.rows,
        "seconds": clock.rows[-1][0],
        "hypervolume": clock.rows[-1][2],
        "held_back": float(evolver.score(X_test, y_test)),
        "folder": evolver.run_folder_,
    }


def reached(curve: list[tuple[float, int, float]], target: float) -> tuple[float, int] | None:
    for seconds, evaluations, hypervolume in curve:
        if hypervolume >= target - 1e-12:
            return seconds, evaluations
    return None


def at_time(curve: list[tuple[float, int, float]], seconds: float) -> float:
    """The hypervolume of the last generation that ended by ``seconds`` (nan: none did)."""
    done = [hv for t, _, hv in curve if t <= seconds]
    return done[-1] if done else float("nan")


def main() -> None:
    from sklearn.model_selection import train_test_split

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--tables", nargs="+", default=list(tables()))
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--small-generations", type=int, default=6)
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args()
    print(machine_line())
    rows: list[dict[str, Any]] = []
    header = (
        f"{'table':10} {'seed':>4} {'run':13} {'seconds':>8} {'evals':>6} {'final HV':>9} "
        f"{'held-back':>9} {'reach cold HV at (s, evals)':>28} {'HV at cold end':>15} "
        f"{'(+small run)':>13}"
    )
    print(header)
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.tables:
            X, y = tables()[name]
            for seed in args.seeds:
                regression = name in REGRESSION
                X_fit, X_test, y_fit, y_test = train_test_split(
                    X, y, test_size=0.25, stratify=None if regression else y, random_state=seed
                )
                test = (X_test, y_test)
                X_small, _, y_small, _ = train_test_split(
                    X_fit, y_fit, train_size=0.2, stratify=None if regression else y_fit,
                    random_state=seed,
                )  # fmt: skip
                out = Path(scratch) / f"{name}-{seed}"
                small = run(X_small, y_small, seed, args.small_generations, test,
                            out=out / "small")  # fmt: skip
                cold = run(X_fit, y_fit, seed, args.generations, test)
                warm = run(X_fit, y_fit, seed, args.generations, test,
                           warm_start=small["folder"])  # fmt: skip
                results = {"small": small, "cold": cold, "warm": warm}
                classes = np.unique(y_fit)
                if regression:
                    make, _ = REGRESSION[name]
                    X_other, y_other = make(len(y_fit) // 2, 1000 + seed)
                    related = run(X_other, y_other, seed, args.small_generations, test,
                                  out=out / "related")  # fmt: skip
                    results["related"] = related
                    results["warm-related"] = run(X_fit, y_fit, seed, args.generations, test,
                                                  warm_start=related["folder"])  # fmt: skip
                elif len(classes) >= 4:
                    keep = np.isin(y_fit, classes[: len(classes) // 2])
                    related = run(X_fit[keep], y_fit[keep], seed, args.small_generations,
                                  (X_test[np.isin(y_test, classes[: len(classes) // 2])],
                                   y_test[np.isin(y_test, classes[: len(classes) // 2])]),
                                  out=out / "related")  # fmt: skip
                    results["related"] = related
                    results["warm-related"] = run(X_fit, y_fit, seed, args.generations, test,
                                                  warm_start=related["folder"])  # fmt: skip
                for label, result in results.items():
                    hit = reached(result["curve"], cold["hypervolume"])
                    source = {"warm": small, "warm-related": results.get("related")}.get(label)
                    equal = at_time(result["curve"], cold["seconds"])
                    with_source = (
                        at_time(result["curve"], cold["seconds"] - source["seconds"])
                        if source is not None
                        else float("nan")
                    )
                    row = {
                        "table": name, "seed": seed, "run": label,
                        "seconds": result["seconds"], "evaluations": result["curve"][-1][1],
                        "hypervolume": result["hypervolume"], "held_back": result["held_back"],
                        "reached_cold_at": hit, "hv_at_cold_end": equal,
                        "hv_at_cold_end_with_source": with_source,
                    }  # fmt: skip
                    rows.append(row)
                    hit_text = "-" if hit is None else f"{hit[0]:.1f} s, {hit[1]}"
                    print(
                        f"{name:10} {seed:>4} {label:13} {row['seconds']:>8.1f} "
                        f"{row['evaluations']:>6} {row['hypervolume']:>9.4f} "
                        f"{row['held_back']:>9.4f} {hit_text:>28} {equal:>15.4f} "
                        f"{with_source:>13.4f}",
                        flush=True,
                    )
    print("\nmedians over seeds (warm vs cold):")
    for name in args.tables:
        for label in ("warm", "warm-related"):
            mine = [r for r in rows if r["table"] == name and r["run"] == label]
            if not mine:
                continue
            colds = {r["seed"]: r for r in rows if r["table"] == name and r["run"] == "cold"}
            fractions = [
                r["reached_cold_at"][0] / colds[r["seed"]]["seconds"]
                if r["reached_cold_at"] is not None
                else float("inf")
                for r in mine
            ]
            gain = [r["hv_at_cold_end"] - colds[r["seed"]]["hypervolume"] for r in mine]
            held = [r["held_back"] - colds[r["seed"]]["held_back"] for r in mine]
            print(
                f"  {name:10} {label:13} time to the cold run's final HV: "
                f"{np.median(fractions):.2f} of the cold run's time; HV at equal time "
                f"{np.median(gain):+.4f}; held-back score {np.median(held):+.4f}"
            )
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
