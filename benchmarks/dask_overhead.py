"""Dask backend overhead: evaluations per second via Dask against the local backend.

The same 32 distinct random ``mlp`` genomes (``Genome.random``, seed 0) on digits, 3-fold CV,
cross-validated by ``Evaluator.evaluate`` on two worker processes each way:

* **local**: ``Evaluator(n_jobs=2)``, the loky workers of this machine;
* **dask**: ``Evaluator(backend="dask", scheduler=...)`` on a ``LocalCluster`` of two
  single-threaded worker processes on 127.0.0.1 (started once, before timing).

Each timed call uses a fresh evaluator (no cache), so the Dask side pays its per-evaluator
costs (connect, scatter the data once) in every round, like one generation of a new run would.
Both sides are warmed up once first (process start-up and imports are not timed), then timed
interleaved (see ``_common.interleaved``). Also checks that both give identical results.

Run: ``.venv/bin/python benchmarks/dask_overhead.py [--repeats N] [--genomes N]``
"""

from __future__ import annotations

import argparse
import logging
import time

from _common import interleaved, machine_line, median, paired_ratios, random_genomes
from distributed import LocalCluster
from sklearn.datasets import load_digits

from evosearch.evaluation import EvaluationResult, Evaluator


def strip(results: list[EvaluationResult]) -> list[tuple]:
    return [(r.genome_hash, r.fold_scores, r.epochs, r.error) for r in results]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--genomes", type=int, default=32)
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    genomes = random_genomes(args.genomes)
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    outputs: dict[str, list[EvaluationResult]] = {}

    def run(name: str, **backend: str) -> float:
        evaluator = Evaluator(X, y, "classification", cv=3, n_jobs=2, seed=0, **backend)
        start = time.perf_counter()
        outputs[name] = evaluator.evaluate(genomes)
        seconds = time.perf_counter() - start
        evaluator.close()
        return seconds

    variants = {
        "local": lambda: run("local"),
        "dask": lambda: run("dask", backend="dask", scheduler=cluster.scheduler_address),
    }
    try:
        for variant in variants.values():  # warm-up: worker start-up and imports
            variant()
        times = interleaved(variants, args.repeats)
    finally:
        cluster.close()

    print(machine_line())
    print(f"{args.genomes} mlp genomes x 3 folds on digits, 2 worker processes each")
    for name, seconds in times.items():
        rate = args.genomes / median(seconds)
        print(
            f"{name:>5}: median {median(seconds):6.2f} s  ({rate:5.2f} evaluations/s; "
            f"runs {', '.join(f'{s:.2f}' for s in seconds)})"
        )
    ratios = paired_ratios(times["dask"], times["local"])
    rounds = ", ".join(f"{r:.3f}" for r in ratios)
    print(f"dask / local time: median {median(ratios):.3f} (rounds {rounds})")
    print(f"identical results: {strip(outputs['dask']) == strip(outputs['local'])}")


if __name__ == "__main__":
    main()
