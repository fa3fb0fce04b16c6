"""How well the latency cost model ranks genomes against their measured prediction latency.

A search that ranks by measured latency could not be reproduced (timings differ from run to
run), so ``--objectives ...,latency`` estimates each genome's one-row prediction time from a cost
model that the run calibrates once and records (:mod:`evosearch.nn.cost_model`). This script
calibrates that model here, then measures ``count`` random ``mlp`` genomes for digits (64
features, 10 classes): the median over ``rounds`` rounds (genomes in a shuffled order each
round, so a burst of load hits them all) of the best of ``repeats`` one-row predictions of the
fitted estimator (``GraphNetClassifier.predict_proba`` on random weights: latency does not
depend on their values). Printed: Spearman's and Kendall's rank correlations between estimate
and measurement, and the median and spread of estimate / measured.

Run: ``python benchmarks/latency_rank.py`` (~1 min; ``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _common import machine_line, random_genomes
from scipy.stats import kendalltau, spearmanr
from threadpoolctl import threadpool_limits

from evosearch.nn import GraphNetClassifier
from evosearch.nn.cost_model import calibrate
from evosearch.objectives import Latency


def fitted(genome) -> GraphNetClassifier:  # type: ignore[no-untyped-def]
    """The genome's estimator fitted for one epoch on random data (weights are irrelevant)."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 64)), np.arange(40) % 10
    hyper = {**genome.hyperparameters, "max_epochs": 1, "early_stopping": False}
    return GraphNetClassifier(genome.to_architecture(), random_state=0, **hyper).fit(X, y)


def one_row_seconds(model: GraphNetClassifier, x: np.ndarray, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_proba(x)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.count, args.rounds, args.repeats = 10, 2, 5
    print(machine_line())
    started = time.perf_counter()
    model = calibrate()
    print(f"calibration: {time.perf_counter() - started:.2f} s -> {model}")
    genomes = random_genomes(args.count, seed=1)
    estimator = Latency(model)
    estimates = [estimator.value(g) for g in genomes]
    models = [fitted(g) for g in genomes]
    x = np.random.default_rng(1).normal(size=(1, 64))
    order = np.random.default_rng(2)
    timings: list[list[float]] = [[] for _ in genomes]
    with threadpool_limits(limits=1):
        for _ in range(args.rounds):
            for i in order.permutation(len(genomes)):
                timings[i].append(one_row_seconds(models[i], x, args.repeats) * 1e6)
    measured = [statistics.median(t) for t in timings]
    rho = spearmanr(estimates, measured).statistic
    tau = kendalltau(estimates, measured).statistic
    ratios = sorted(e / m for e, m in zip(estimates, measured, strict=True))
    print(
        f"{len(genomes)} genomes, estimate {min(estimates):.1f}-{max(estimates):.1f} µs, "
        f"measured {min(measured):.1f}-{max(measured):.1f} µs (one row, predict_proba)"
    )
    print(f"rank correlation: Spearman {rho:.3f}, Kendall {tau:.3f}")
    print(
        f"estimate / measured: median {statistics.median(ratios):.2f} "
        f"(10%-90%: {ratios[len(ratios) // 10]:.2f}-{ratios[(9 * len(ratios)) // 10]:.2f})"
    )


if __name__ == "__main__":
    main()
