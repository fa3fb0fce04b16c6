"""Restarting trained networks with and without a learning-rate warmup (``warmup_epochs``).

With weight inheritance a child continues its parent's trained fold networks with a fresh
optimizer; Adam's first steps then move every weight by about the learning rate. This script
takes a finished run's most accurate archive members, continues each stored fold network for
the genome's own epochs as a child that changed nothing would, once as the run trains
(``warmup_epochs = 0``) and once with a warmup, and scores both on the fold's test rows, for
several training seeds (the same seed for both arms: a paired comparison)::

    evosearch evolve --genome cnn --data digits --generations 50 --out cnn-run
    python benchmarks/warmup_restart.py cnn-run --warmup 1 --seeds 4

Printed per member and seed: the rows right out of all the folds' test rows, without and with
the warmup; then the mean accuracy of each arm and the pairs won, tied and lost.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
from _common import machine_line

from evosearch import Genome
from evosearch.evaluation import build_estimator
from evosearch.evaluation.evaluator import make_folds
from evosearch.runs import load_run
from evosearch.runs.folder import load_run_dataset
from evosearch.search import ParetoArchive
from evosearch.search._holdout import split_holdout
from evosearch.search.inheritance import read_weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a finished run folder made with weight inheritance")
    parser.add_argument("--warmup", type=int, default=1, help="warmup_epochs of the second arm")
    parser.add_argument("--seeds", type=int, default=4, help="training seeds per member")
    parser.add_argument("--top", type=int, default=4, help="most accurate members to restart")
    args = parser.parse_args()
    if args.warmup < 1:
        parser.error("--warmup must be at least 1 (the other arm is 0)")
    print(machine_line())
    record = load_run(args.run)
    settings = record.info["settings"]
    # The folds were made on the search rows: without the held-out ones, if any.
    data, _ = split_holdout(
        load_run_dataset(record), settings.get("holdout"), settings["random_state"]
    )
    if not isinstance(data.X, np.ndarray) or data.task != "classification":
        raise SystemExit(f"{args.run}: this script takes classification runs on a feature matrix")
    if data.sample_weight is not None:
        raise SystemExit(f"{args.run}: a run with sample weights; this script counts rows")
    folds = make_folds(
        data.X, data.y, data.task, settings["cv"], settings["random_state"], data.groups
    )
    archive = ParetoArchive.from_dict(record.archive or {})
    score = archive.objective("score")
    ranked = sorted(archive.members, key=lambda e: -e.objectives[score])
    members = [e for e in ranked if len(read_weights(args.run, e.genome_hash)) == len(folds)]
    arms: dict[int, list[int]] = {0: [], args.warmup: []}
    print(f"{'CV':>7} {'seed':>4} {'rows right: no warmup':>22} {f'warmup {args.warmup}':>9}")
    for entry in members[: args.top]:
        genome = Genome.from_json(entry.genome)
        weights = read_weights(args.run, entry.genome_hash)
        for seed in range(args.seeds):
            right = {}
            for warmup in arms:
                right[warmup] = 0
                for k, (train, test) in enumerate(folds):
                    model = build_estimator(genome, data.task, 1000 + seed, weights[k])
                    model.set_params(net__warmup_epochs=warmup)
                    model.fit(data.X[train], data.y[train])
                    right[warmup] += int(np.sum(model.predict(data.X[test]) == data.y[test]))
                arms[warmup].append(right[warmup])
            print(f"{entry.objectives[score]:7.4f} {seed:4} {right[0]:22} {right[args.warmup]:9}")
    n = len(data.y)
    pairs = list(zip(arms[0], arms[args.warmup], strict=True))
    print(
        f"mean accuracy over {len(pairs)} restarts: no warmup "
        f"{statistics.mean(arms[0]) / n:.5f}, warmup {args.warmup} "
        f"{statistics.mean(arms[args.warmup]) / n:.5f}; warmup better / equal / worse: "
        f"{sum(b > a for a, b in pairs)} / {sum(b == a for a, b in pairs)} / "
        f"{sum(b < a for a, b in pairs)}"
    )


if __name__ == "__main__":
    main()
