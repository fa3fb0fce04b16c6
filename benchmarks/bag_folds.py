"""How the best member's final model is made, judged on held-back rows: why ``bag_folds``.

Each run is ``peers.py``'s evosearch run (its split: stratified 75 % to train, 25 % held
back, by the seed; ``Evolver`` defaults but ``max_time=BUDGET``, one job, the seed; here with a
run folder, whose ``weights/`` keeps every fold network of the archive's members), in a
process of its own with one math thread. After the search, the run's most accurate member
(best CV score) is made into a model four ways and each is scored on the held-back rows:

* ``base``: the run's ``best_estimator_``, one refit continuing the best fold's network on all
  rows (the default);
* ``refit_bag``: one such refit per fold network, their class probabilities averaged (what
  ``bag_folds=True`` makes);
* ``direct_bag``: the fold networks as cross-validation trained them (each with its fold's
  preprocessing, no refit), averaged: a "CV ensemble", no training after the search;
* ``direct_plus_base``: ``direct_bag``'s networks and ``base``, averaged.

Also printed: each single refit's and each fold network's held-back accuracy (how far apart
refits from different starts land), and a check that the fold networks rebuilt here score
their own fold's test rows as the search recorded. Run with the peers' venv::

    /tmp/peers-venv/bin/python benchmarks/bag_folds.py --data weather fair mixed \\
        --seeds 0 1 2 3 --parallel 2 --json benchmarks/results/bag-folds-120s.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers_data
from _common import machine_line, run_each
from _peers_systems import make_evolver

WAYS = ("refit_bag", "direct_bag", "direct_plus_base")


def _rows(X: Any, index: np.ndarray) -> Any:
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


def one_run(name: str, seed: int, budget: float) -> dict[str, Any]:
    from evosearch.evaluation import Fidelity, build_estimator, task_seed
    from evosearch.evaluation._folds import make_folds
    from evosearch.objectives.bytes import model_bytes
    from evosearch.preprocess import DataProfile
    from evosearch.search.inheritance import read_weights
    from evosearch.search.refit import refit
    from evosearch.space import Genome

    data, X_train, X_test, y_train, y_test = _peers_data.split(name, seed)
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evolver = make_evolver(data, seed, budget, 10**6, out=str(Path(folder) / "run"))
        evolver.fit(X_train, y_train)
        truth = np.asarray(y_test).astype(str)
        rows = evolver._features(X_test)  # what predict does to X first
        dataset, plan = evolver.dataset_, evolver.fidelity_plan_
        capped = Fidelity(max_epochs=plan.max_epochs) if plan and plan.max_epochs else None
        score = evolver.archive_.objective("score")
        best = max(evolver.archive_, key=lambda entry: entry.objectives[score])
        genome = Genome.from_json(best.genome)
        folds = read_weights(evolver.run_folder_, best.genome_hash)
        splits = make_folds(dataset.X, dataset.y, dataset.task, evolver.cv, seed, dataset.groups)
        classes = evolver.best_estimator_.classes_

        def accuracy(probabilities: np.ndarray) -> float:
            return float(np.mean(classes[probabilities.argmax(1)].astype(str) == truth))

        base = evolver.best_estimator_.predict_proba(rows)
        refits, direct, check = [], [], []
        for fold in sorted(folds):
            model = refit(genome, best.genome_hash, dataset, seed, evolver.cv, capped, folds[fold])
            refits.append(model.predict_proba(rows))
            # The fold network as CV left it: its fold's preprocessing fitted again (the same
            # rows give the same transform) and one epoch at a vanishing learning rate, which
            # only sets the fitted attributes.
            net = build_estimator(genome, dataset.task, task_seed(seed, best.genome_hash, fold),
                                  initial_weights=folds[fold], profile=DataProfile.of(dataset),
                                  fidelity=capped)  # fmt: skip
            net.set_params(net__learning_rate=1e-15, net__max_epochs=1, net__early_stopping=False)
            train, test = splits[fold]
            net.fit(_rows(dataset.X, train), dataset.y[train])
            direct.append(net.predict_proba(rows))
            held = np.asarray(net.predict(_rows(dataset.X, test))).astype(str)
            check.append(float(np.mean(held == np.asarray(dataset.y[test]).astype(str))))
    return {
        "data": name, "seed": seed, "budget": budget,
        "evaluations": len(evolver.cv_results_["genome_hash"]),
        "generations": len(evolver.history_) - 1, "cv": float(best.objectives[score]),
        "fold_scores": [float(s) for s in best.fold_scores], "fold_check": check,
        "bytes": int(model_bytes(genome)), "folds": len(folds), "base": accuracy(base),
        "refit_bag": accuracy(np.mean(refits, axis=0)),
        "direct_bag": accuracy(np.mean(direct, axis=0)),
        "direct_plus_base": accuracy(np.mean([*direct, base], axis=0)),
        "refit_single": [accuracy(p) for p in refits],
        "direct_single": [accuracy(p) for p in direct],
    }  # fmt: skip


def report(runs: list[dict[str, Any]]) -> str:
    lines = []
    for run in sorted(runs, key=lambda r: (r["data"], r["seed"])):
        cells = "  ".join(f"{way} {run[way]:.4f}" for way in WAYS)
        lines.append(
            f"{run['data']:12} seed {run['seed']}  evals {run['evaluations']:4}  "
            f"cv {run['cv']:.4f}  base {run['base']:.4f}  {cells}  refits "
            + " ".join(f"{a:.4f}" for a in run["refit_single"])
        )
    lines.append("\nheld-back gain over base, points (mean; runs ahead / behind / equal):")
    for way in WAYS:
        gains = [100 * (r[way] - r["base"]) for r in runs]
        ahead, behind = sum(g > 0 for g in gains), sum(g < 0 for g in gains)
        lines.append(f"  {way:17} {statistics.mean(gains):+.2f}  ({ahead} / {behind} / "
                     f"{len(gains) - ahead - behind} of {len(gains)})")  # fmt: skip
    for name in dict.fromkeys(r["data"] for r in runs):
        mine = [r for r in runs if r["data"] == name]
        gains = [100 * (r["refit_bag"] - r["base"]) for r in mine]
        lines.append(f"  refit_bag on {name:12} {statistics.mean(gains):+.2f} over {len(mine)}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["weather", "fair", "mixed"],
                        choices=sorted(_peers_data.LOADERS))  # fmt: skip
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3])
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--parallel", type=int, default=1, help="runs at once (one core each)")
    parser.add_argument("--json", type=Path, help="write every run's record to this file")
    parser.add_argument("--from-json", type=Path, nargs="+", help="report earlier --json runs")
    parser.add_argument("--one", nargs=2, metavar=("DATA", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one[0], int(args.one[1]), args.budget)))
        return
    if args.from_json:
        runs = [run for path in args.from_json for run in json.loads(path.read_text())]
        print(report(runs))
        return
    print(machine_line())
    jobs = [(name, seed) for name in args.data for seed in args.seeds]
    runs = run_each(__file__, jobs, ["--budget", str(args.budget)], args.parallel)
    if args.json is not None:
        args.json.write_text(json.dumps(runs, indent=1) + "\n", encoding="utf-8")
    print(report(runs))


if __name__ == "__main__":
    main()
