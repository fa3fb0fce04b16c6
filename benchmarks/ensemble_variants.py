"""Ensemble selection variants, judged on held-back rows (issues 30 and 34).

Caruana's greedy selection picks the ensemble whose out-of-fold predictions score best, on
the very rows that score it, so on small tables part of its CV gain is selection bias. This
benchmark asks whether a less greedy rule holds back more: one ``Evolver(ensemble=True,
max_time=BUDGET)`` run a data set and seed (``peers.py``'s data, split and settings: a
stratified 75 % searched, 25 % held back, one core), then, from its run folder, every model
with out-of-fold predictions (the candidates) is refit on the searched rows as ``export`` refits
it and its class probabilities on the held-back rows kept, so any weighted average of
candidates is scored on held-back rows without training again. Variants:

* ``single``: the best candidate by CV (what predicts without ``ensemble``);
* ``caruana``: greedy forward selection with replacement, 50 rounds (what predicts with it);
* ``caruana_r5`` / ``caruana_r10``: the same stopped after 5 / 10 rounds;
* ``caruana_logloss``: the same 50 rounds, each pick the one that lowers the averaged
  probabilities' log loss most (classification);
* ``bag20x0.5``, ``bag20x0.7``, ``bag50x0.5``: bagged ensemble selection (Caruana et al.
  2006): greedy selection on 20 or 50 random subsets of half (0.7) of the candidates, each
  bag's weights normalised, summed;
* ``top3`` / ``top5`` / ``top10``: the plain average of the best 3 / 5 / 10 by CV.

It prints each variant's CV score / held-back accuracy per run and its mean held-back gain
over ``single`` (points). Needs the peers venv (the data sets' packages)::

    /tmp/peers-venv/bin/python benchmarks/ensemble_variants.py --data weather fair digits \\
        mixed synth20k diamonds20k --seeds 0 1 --parallel 2 \\
        --out benchmarks/results/ensemble-variants.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import run_each

HERE = Path(__file__).resolve().parent


def one_run(data_name: str, seed: int, budget: float) -> dict[str, Any]:
    """One search with ``ensemble=True`` and every variant's CV and held-back score."""
    import _peers_data
    import numpy as np
    from _peers_systems import make_evolver

    from evosearch.evaluation import Fidelity
    from evosearch.runs import load_run
    from evosearch.search._results import ResultsTable
    from evosearch.search.ensemble import PredictionScorer, _rank, select_ensemble
    from evosearch.search.ensemble_run import _candidates
    from evosearch.search.inheritance import read_weights, refit_start
    from evosearch.search.oof import read_oof
    from evosearch.search.refit import refit
    from evosearch.search.run import SearchRun

    data, X_train, X_test, y_train, y_test = _peers_data.split(data_name, seed)
    folder = Path(tempfile.mkdtemp(prefix="ensemble-variants-")) / "run"
    try:
        evolver = make_evolver(data, seed, budget, 10**6, ensemble=True, out=str(folder))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evolver.fit(X_train, y_train)
        truth = np.asarray(y_test).astype(str)
        rows = evolver._features(X_test)
        record = load_run(folder)
        run = SearchRun.recorded(record, X=X_train, y=y_train)
        results = ResultsTable(run.settings.n_folds, run.settings.objective_set)
        results.add_journal(line for line in record.journal if line.get("fidelity") != 1)
        dataset = run.dataset
        run_folds = run.state.evaluator.folds
        scorer = PredictionScorer(dataset.y, run_folds, dataset.task,
                                  run.settings.scoring, dataset.sample_weight)  # fmt: skip
        candidates = _candidates(read_oof(folder), results.member)
        classes = np.unique(dataset.y).astype(str)
        plan = evolver.fidelity_plan_
        capped = Fidelity(max_epochs=plan.max_epochs) if plan and plan.max_epochs else None
        held_proba, oof = {}, {}
        for c in candidates:
            member = results.member(c.genome_hash)
            start = refit_start(read_weights(folder, c.genome_hash), member.result.fold_scores)
            model = refit(member.genome, c.genome_hash, dataset, seed, evolver.cv, capped,
                          None if start is None else start[1])  # fmt: skip
            held_proba[c.genome_hash] = np.asarray(model.predict_proba(rows), dtype=np.float64)
            oof[c.genome_hash] = c.oof.astype(np.float64)
        run.close()
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)

    def average(weights: dict[str, float], table: dict[str, Any]) -> Any:
        total = sum(weights.values())
        return sum(w / total * table[h] for h, w in weights.items())

    variants: dict[str, dict[str, float]] = {}
    order = sorted(candidates, key=_rank)
    variants["single"] = {order[0].genome_hash: 1.0}
    for name, rounds in (("caruana", 50), ("caruana_r5", 5), ("caruana_r10", 10)):
        picked = select_ensemble(candidates, scorer, rounds=rounds)
        assert picked is not None
        variants[name] = {h: float(n) for h, n in picked[0].items()}
    # The same greedy selection steered by the log loss of the averaged probabilities: smooth
    # where accuracy moves in steps of one row, so less of its gain is picked-up noise.
    smooth = PredictionScorer(dataset.y, run_folds, dataset.task, "neg_log_loss",
                              dataset.sample_weight)  # fmt: skip
    picked = select_ensemble(candidates, smooth)
    assert picked is not None
    variants["caruana_logloss"] = {h: float(n) for h, n in picked[0].items()}
    rng = np.random.default_rng(seed)
    for bags, share in ((20, 0.5), (20, 0.7), (50, 0.5)):
        summed: dict[str, float] = {}
        for _ in range(bags):
            size = max(1, round(share * len(candidates)))
            chosen = sorted(rng.choice(len(candidates), size=size, replace=False))
            picked = select_ensemble([candidates[i] for i in chosen], scorer)
            assert picked is not None
            count = sum(picked[0].values())
            for h, n in picked[0].items():
                summed[h] = summed.get(h, 0.0) + n / count
        variants[f"bag{bags}x{share}"] = summed
    for k in (3, 5, 10):
        variants[f"top{k}"] = {c.genome_hash: 1.0 for c in order[:k]}
    scores = {}
    for name, weights in variants.items():
        held = classes[average(weights, held_proba).argmax(axis=1)]
        scores[name] = {"members": len(weights), "cv": scorer(average(weights, oof))[0],
                        "held": float(np.mean(held == truth))}  # fmt: skip
    return {"data": data_name, "seed": seed, "budget": budget,
            "candidates": len(candidates), "variants": scores}  # fmt: skip


def report(runs: list[dict[str, Any]]) -> str:
    names = list(runs[0]["variants"])
    lines = ["CV score / held-back accuracy (candidates in brackets):",
             "| run | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]  # fmt: skip
    for run in runs:
        cells = [f"{v['cv']:.3f} / {v['held']:.3f}" for v in run["variants"].values()]
        lines.append(f"| {run['data']} {run['seed']} ({run['candidates']}) | "
                     + " | ".join(cells) + " |")  # fmt: skip
    lines += ["", "held-back gain over `single`, points:",
              "| variant | mean | median | min | max |", "|---|---:|---:|---:|---:|"]  # fmt: skip
    for name in names:
        gains = [100 * (r["variants"][name]["held"] - r["variants"]["single"]["held"])
                 for r in runs]  # fmt: skip
        mean, median = statistics.mean(gains), statistics.median(gains)
        lines.append(f"| {name} | {mean:+.2f} | {median:+.2f} | {min(gains):+.1f} | "
                     f"{max(gains):+.1f} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["weather", "fair", "digits", "mixed"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "ensemble-variants.json")
    parser.add_argument("--from-json", type=Path, help="print the tables of an earlier file")
    parser.add_argument("--one", nargs=2, metavar=("DATA", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(args.one[0], int(args.one[1]), args.budget)))
        return 0
    if args.from_json:
        print(report(json.loads(args.from_json.read_text())))
        return 0

    jobs = [(data, seed) for data in args.data for seed in args.seeds]
    runs = run_each(__file__, jobs, ["--budget", str(args.budget)], args.parallel)
    args.out.write_text(json.dumps(runs, indent=1))
    print(report(runs))
    print(f"\nraw results: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
