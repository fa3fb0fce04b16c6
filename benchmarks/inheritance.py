"""Weight inheritance: epochs saved at equal accuracy, measured child by child.

A run with ``inherit_weights=True`` journals every child's per-fold epochs and scores. Each of
those children is then cross-validated again from a fresh (random) start, with the same folds
and the same per-fold training seeds, so the only difference is the starting weights. Printed:

* epochs trained, inherited vs fresh (total and median per child), and the ratio;
* paired accuracy difference (inherited - fresh): mean, median, and the share of children whose
  inherited score is at least the fresh one minus 0.005;
* training seconds, inherited vs fresh.

Run: ``python benchmarks/inheritance.py`` (digits, population 16, 6 generations, seed 0);
``--data wine --generations 4`` for a quicker look.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import machine_line

from evosearch import Evolver, Genome
from evosearch.data import load_dataset
from evosearch.evaluation import Evaluator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits")
    parser.add_argument("--generations", type=int, default=6)
    parser.add_argument("--population", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(machine_line())
    dataset = load_dataset(args.data)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        started = time.perf_counter()
        Evolver(
            population_size=args.population,
            generations=args.generations,
            random_state=args.seed,
            inherit_weights=True,
            out=out,
        ).fit_dataset(dataset)
        run_seconds = time.perf_counter() - started
        journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    children = [
        e for e in journal if e["generation"] > 0 and e["error"] is None and e["folds"] is None
    ]
    print(
        f"{args.data}: population {args.population}, {args.generations} generations, seed "
        f"{args.seed}: run {run_seconds:.1f} s, {len(children)} successful children\n"
    )
    genomes = [Genome.from_json(e["genome"]) for e in children]
    # Same seed: same folds and the same per-fold training seeds as in the run.
    evaluator = Evaluator(dataset.X, dataset.y, dataset.task, cv=3, seed=args.seed)
    fresh = evaluator.evaluate(genomes)
    evaluator.close()

    inherited_epochs = [sum(e["epochs"]) for e in children]
    fresh_epochs = [sum(r.epochs) for r in fresh]
    differences = [e["score"] - r.score for e, r in zip(children, fresh, strict=True)]
    print(f"{'':<22}{'inherited':>11}{'fresh':>11}{'ratio':>8}")
    total_i, total_f = sum(inherited_epochs), sum(fresh_epochs)
    print(f"{'epochs, total':<22}{total_i:>11}{total_f:>11}{total_i / total_f:>8.2f}")
    median_i, median_f = statistics.median(inherited_epochs), statistics.median(fresh_epochs)
    print(
        f"{'epochs, median child':<22}{median_i:>11.0f}{median_f:>11.0f}{median_i / median_f:>8.2f}"
    )
    seconds_i = sum(e["seconds"] for e in children)
    seconds_f = sum(r.seconds for r in fresh)
    print(
        f"{'training seconds':<22}{seconds_i:>11.1f}{seconds_f:>11.1f}{seconds_i / seconds_f:>8.2f}"
    )
    print(
        f"\naccuracy, inherited - fresh (paired, per child): mean {np.mean(differences):+.4f}, "
        f"median {np.median(differences):+.4f}; inherited >= fresh - 0.005 for "
        f"{np.mean([d >= -0.005 for d in differences]):.0%} of children"
    )
    best_i = max(e["score"] for e in children)
    best_f = max(r.score for r in fresh)
    print(f"best child: inherited {best_i:.4f}, fresh {best_f:.4f}")


if __name__ == "__main__":
    main()
