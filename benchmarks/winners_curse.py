"""Does re-scoring the top candidates on a second CV split pick a better model? (issue 30)

The winner's curse: the best of hundreds of noisy CV scores is biased upwards, so the member
a search picks by CV may hold back less than a near-tie. The remedy the issue names is to
re-evaluate the top candidates on more folds before choosing. This benchmark measures it on
the benchmark of record's data (``_peers_data.py``) and split (a stratified 75 % searched, 25 %
held back, by the seed): ``Evolver`` with its defaults and ``max_time=BUDGET`` on one core, as
``peers.py`` runs it; then the ``--top`` most accurate archive members by CV are

* re-scored by a fresh 3-fold CV (another split and other initial weights: the evaluator's seed
  is the run's plus 1,000; a fidelity plan's epoch cap is kept), and
* each refit on the searched rows as ``export --member`` refits it and scored on the held-back
  rows.

It prints, per run, every candidate's CV score, re-scored CV, their mean and held-back accuracy,
and, for K = 2, 3, 4 and ``--top``, the held-back accuracy gained (or lost) by picking the best
of the top K by the mean of both CV scores instead of the best by CV. Results go to
``--out`` (JSON, one object a run; ``--from-json`` prints the tables of an earlier file).

Needs the peers venv (its data sets' packages)::

    /tmp/peers-venv/bin/python benchmarks/winners_curse.py --data weather digits fair mixed \\
        --seeds 0 1 --budget 120 --parallel 2 --out benchmarks/results/winners-curse.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import run_each

HERE = Path(__file__).resolve().parent
RESCORE_SEED_OFFSET = 1_000
RESCORE_FOLDS = 3


def one_run(data_name: str, seed: int, budget: float, top: int) -> dict[str, Any]:
    """Search, re-score and hold back the top ``top`` members of one run (in this process)."""
    import _peers_data
    import numpy as np
    from _peers_systems import make_evolver

    from evosearch.evaluation import Evaluator, Fidelity
    from evosearch.objectives.bytes import model_bytes
    from evosearch.preprocess import DataProfile
    from evosearch.search.refit import refit_member
    from evosearch.space import Genome

    data, X_train, X_test, y_train, y_test = _peers_data.split(data_name, seed)
    evolver = make_evolver(data, seed, budget, 10**6)
    evolver.fit(X_train, y_train)
    score = evolver.archive_.objective("score")
    entries = sorted(evolver.archive_, key=lambda e: -e.objectives[score])[:top]
    dataset, plan = evolver.dataset_, evolver.fidelity_plan_
    capped = Fidelity(max_epochs=plan.max_epochs) if plan is not None and plan.max_epochs else None
    evaluator = Evaluator(dataset.X, dataset.y, dataset.task, cv=RESCORE_FOLDS, n_jobs=1,
                          seed=seed + RESCORE_SEED_OFFSET, profile=DataProfile.of(dataset),
                          fidelity=capped)  # fmt: skip
    started = time.perf_counter()
    rescored = evaluator.evaluate([Genome.from_json(e.genome) for e in entries])
    rescore_s = time.perf_counter() - started
    rows, truth = evolver._features(X_test), np.asarray(y_test).astype(str)
    candidates = []
    for entry, again in zip(entries, rescored, strict=True):
        start = evolver._refit_starts.get(entry.genome_hash)  # private: fit's CV networks
        model = refit_member(entry, dataset, seed, evolver.cv, capped, start)
        candidates.append({
            "cv": float(entry.objectives[score]),
            "recv": float(again.score),
            "held": float(np.mean(np.asarray(model.predict(rows)).astype(str) == truth)),
            "bytes": int(model_bytes(Genome.from_json(entry.genome))),
        })  # fmt: skip
    evaluations = len(evolver.cv_results_["mean_test_score"])
    return {"data": data_name, "seed": seed, "budget": budget, "rescore_s": rescore_s,
            "evaluations": evaluations, "candidates": candidates}  # fmt: skip


def pick(candidates: list[dict[str, Any]], k: int) -> int:
    """Index of the best of the top ``k`` by the mean of both CV scores (fewer bytes on a tie)."""
    return max(range(min(k, len(candidates))), key=lambda i: (
        (candidates[i]["cv"] + candidates[i]["recv"]) / 2, -candidates[i]["bytes"]))  # fmt: skip


def pick_gain(candidates: list[dict[str, Any]], k: int) -> float:
    """Held-back accuracy of :func:`pick`'s choice less that of the best by CV (the first)."""
    return candidates[pick(candidates, k)]["held"] - candidates[0]["held"]


def report(runs: list[dict[str, Any]], top: int) -> str:
    lines = []
    for run in runs:
        lines.append(f"{run['data']} seed {run['seed']}: {run['evaluations']} evaluations, "
                     f"re-scoring took {run['rescore_s']:.1f} s")  # fmt: skip
        for c in run["candidates"]:
            mean = (c["cv"] + c["recv"]) / 2
            lines.append(f"  cv {c['cv']:.3f}  re-scored {c['recv']:.3f}  mean {mean:.3f}  "
                         f"held back {c['held']:.3f}  {c['bytes']:>8,} B")  # fmt: skip
    lines += ["", "held-back gain of picking by the mean of both CV scores among the top K:",
              "| K | per run (points) | mean | runs changed |", "|---:|---|---:|---:|"]  # fmt: skip
    for k in sorted({2, 3, 4, top}):
        gains = [100 * pick_gain(run["candidates"], k) for run in runs]
        changed = sum(1 for run in runs if pick(run["candidates"], k) != 0)
        lines.append(f"| {k} | {' '.join(f'{g:+.1f}' for g in gains)} | "
                     f"{statistics.mean(gains):+.2f} | {changed} of {len(runs)} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["weather", "digits", "fair", "mixed"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--top", type=int, default=6)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "winners-curse.json")
    parser.add_argument("--from-json", type=Path, help="print the tables of an earlier file")
    parser.add_argument("--one", nargs=2, metavar=("DATA", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(args.one[0], int(args.one[1]), args.budget, args.top)))
        return 0
    if args.from_json:
        print(report(json.loads(args.from_json.read_text()), args.top))
        return 0

    jobs = [(data, seed) for data in args.data for seed in args.seeds]
    extra = ["--budget", str(args.budget), "--top", str(args.top)]
    runs = run_each(__file__, jobs, extra, args.parallel)
    args.out.write_text(json.dumps(runs, indent=1))
    print(report(runs, args.top))
    print(f"\nraw results: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
