"""``focus="accuracy"`` against ``focus="front"`` on held-back rows, and how to pick the model.

For each data set and seed, the data are split as ``peers.py`` splits them (stratified 75 % to
train, 25 % held back, by the seed); ``Evolver(max_time=BUDGET, n_jobs=1, random_state=SEED)``
runs once per focus; printed per run: the held-back accuracy of ``best_estimator_`` (the
member with the best CV score, refit as the run refits it), the generations (-1: the budget
ended the initial population) and evaluations, and for every archive member whose CV score is
within 0.03 of the best, its CV score, parameters and held-back accuracy (each refit as the run
would refit it), so other picking rules (the smallest member within one standard error of the
best, ...) can be read off.
Run with the peers' venv (its packages carry the data sets)::

    /tmp/peers-venv/bin/python benchmarks/focus.py --data weather synth20k --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers_data
from _common import machine_line
from _peers_systems import make_evolver

from evosearch import Genome
from evosearch.evaluation import Fidelity
from evosearch.search.refit import refit


def one_run(name: str, seed: int, budget: float, focus: str) -> dict[str, Any]:
    data, X_train, X_test, y_train, y_held = _peers_data.split(name, seed)
    y_test = np.asarray(y_held).astype(str)
    evolver = make_evolver(data, seed, budget, 1_000_000, focus=focus)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evolver.fit(X_train, y_train)
    fit_s = time.perf_counter() - started

    def accuracy(model: Any) -> float:
        rows = evolver._features(X_test)  # what Evolver.predict hands its model
        return float(np.mean(np.asarray(model.predict(rows)).astype(str) == y_test))

    plan = evolver.fidelity_plan_
    cap = Fidelity(max_epochs=plan.max_epochs) if plan is not None and plan.max_epochs else None
    members = sorted(evolver.archive_.members, key=lambda m: -m.objectives[0])
    best_hash = evolver.best_genome_.canonical_hash()
    near = []
    for entry in members:
        if entry.objectives[0] < members[0].objectives[0] - 0.03:
            break
        if entry.genome_hash == best_hash:
            model = evolver.best_estimator_
        else:
            start = evolver._refit_starts.get(entry.genome_hash)
            genome = Genome.from_json(entry.genome)
            initial = None if start is None else start[1]
            model = refit(genome, entry.genome_hash, evolver.dataset_, seed, evolver.cv, cap,
                          initial)  # fmt: skip
        near.append({"cv": entry.objectives[0], "params": Genome.from_json(entry.genome).n_params(),
                     "accuracy": accuracy(model)})  # fmt: skip
    return {
        "data": name, "seed": seed, "focus": focus, "fit_s": fit_s, "train_rows": len(y_train),
        "accuracy": accuracy(evolver.best_estimator_), "generations": len(evolver.history_) - 1,
        "evaluations": len(evolver.cv_results_["genome_hash"]), "near_best": near,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["fair", "weather", "diamonds20k", "mixed",
                        "synth20k"], choices=sorted(_peers_data.LOADERS))  # fmt: skip
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--focus", nargs="+", default=["front", "accuracy"])
    parser.add_argument("--json", type=Path, help="append every run's record to this file")
    args = parser.parse_args()
    print(machine_line())
    runs = []
    for name in args.data:
        for seed in args.seeds:
            for focus in args.focus:
                run = one_run(name, seed, args.budget, focus)
                runs.append(run)
                near = ", ".join(f"{m['cv']:.4f}/{m['params']}/{m['accuracy']:.4f}"
                                 for m in run["near_best"])  # fmt: skip
                print(f"{name:12} seed {seed} {focus:9} held-back {run['accuracy']:.4f}  "
                      f"gens {run['generations']:3}  evals {run['evaluations']:4}  "
                      f"near best (cv/params/held-back): {near}", flush=True)  # fmt: skip
                if args.json is not None:
                    with args.json.open("a", encoding="utf-8") as out:
                        out.write(json.dumps(run) + "\n")
    print("\nmedian held-back accuracy over seeds")
    for name in args.data:
        cells = []
        for focus in args.focus:
            values = [r["accuracy"] for r in runs if r["data"] == name and r["focus"] == focus]
            cells.append(f"{focus} {statistics.median(values):.4f}")
        print(f"  {name:12} " + "  ".join(cells))


if __name__ == "__main__":
    main()
