"""Restarting a run's trained networks as they train and with one setting changed, paired.

With weight inheritance a child continues its parent's trained fold networks, so what a
training setting does to a search shows in how those networks fare when trained on. This
script takes a finished run's most accurate archive members, continues each stored fold
network for the genome's own epochs as a child that changed nothing would, once as the run
trains it and once with ``--set PARAM=VALUE`` (an estimator parameter: ``warmup_epochs=1``,
the default, ``early_stopping=false``, ``lr_schedule="cosine"``, ...), and scores both on the
fold's test rows, for several training seeds (the same seed for both arms: a paired
comparison)::

    evosearch evolve --genome cnn --data digits --generations 50 --out cnn-run
    python benchmarks/restart_paired.py cnn-run --set warmup_epochs=1 --seeds 4

Printed per member and seed: the rows right out of all the folds' test rows, as trained and
with the change; then the mean accuracy of each arm and the pairs won, tied and lost.
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

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


def parse_setting(text: str) -> tuple[str, Any]:
    """``PARAM=VALUE`` with a JSON value (``1``, ``false``, ``"cosine"``)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected PARAM=VALUE, got {text!r}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        raise argparse.ArgumentTypeError(f"{text!r}: the value must be JSON") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a finished run folder made with weight inheritance")
    parser.add_argument(
        "--set", type=parse_setting, default=("warmup_epochs", 1), metavar="PARAM=VALUE",
        help="the estimator setting of the second arm (default: warmup_epochs=1)",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, default=4, help="training seeds per member")
    parser.add_argument("--top", type=int, default=4, help="most accurate members to restart")
    args = parser.parse_args()
    param, value = args.set
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
    changed = f"{param}={json.dumps(value)}"
    arms: dict[str, list[int]] = {"as trained": [], changed: []}
    print(f"{'CV':>7} {'seed':>4} {'rows right: as trained':>23} {changed:>{max(len(changed), 8)}}")
    for entry in members[: args.top]:
        genome = Genome.from_json(entry.genome)
        weights = read_weights(args.run, entry.genome_hash)
        for seed in range(args.seeds):
            right = {}
            for arm in arms:
                right[arm] = 0
                for k, (train, test) in enumerate(folds):
                    model = build_estimator(genome, data.task, 1000 + seed, weights[k])
                    if arm == changed:
                        model.set_params(**{f"net__{param}": value})
                    model.fit(data.X[train], data.y[train])
                    right[arm] += int(np.sum(model.predict(data.X[test]) == data.y[test]))
                arms[arm].append(right[arm])
            line = f"{entry.objectives[score]:7.4f} {seed:4} {right['as trained']:23}"
            print(f"{line} {right[changed]:>{max(len(changed), 8)}}")
    n = len(data.y)
    pairs = list(zip(arms["as trained"], arms[changed], strict=True))
    print(
        f"mean accuracy over {len(pairs)} restarts: as trained "
        f"{statistics.mean(arms['as trained']) / n:.5f}, {changed} "
        f"{statistics.mean(arms[changed]) / n:.5f}; changed better / equal / worse: "
        f"{sum(b > a for a, b in pairs)} / {sum(b == a for a, b in pairs)} / "
        f"{sum(b < a for a, b in pairs)}"
    )


if __name__ == "__main__":
    main()
