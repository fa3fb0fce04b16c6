"""How well the latency cost model ranks genomes against their measured prediction latency.

A search that ranks by measured latency could not be reproduced (timings differ from run to
run), so ``--objectives ...,latency`` estimates each genome's one-row prediction time from a cost
model calibrated once (:mod:`evosearch.nn.cost_model`; ``evosearch calibrate`` saves one). This
script calibrates that model here (or reads ``--model FILE``), then measures ``count`` random
``mlp`` genomes for digits (64 features, 10 classes) and ``count`` random ``cnn`` genomes (half on
digits' 8x8x1 images, half on 28x28x1 ones): the median over ``rounds`` rounds (genomes in a
shuffled order each round, so a burst of load hits them all) of the best of ``repeats`` one-row
predictions of the fitted estimator (``GraphNetClassifier.predict_proba`` on random weights:
latency does not depend on their values). Printed, for the dense genomes, the conv genomes and
all together: Spearman's and Kendall's rank correlations between estimate and measurement, and
the median and spread of estimate / measured; both for the model as calibrated and for a model
calibrated on the dense chains alone (the form of the model before conv and pool had
coefficients of their own: every kind used ``dense``'s), against the same measurements.

Run: ``python benchmarks/latency_rank.py`` (~1-2 min; ``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
from _common import machine_line, random_genomes
from scipy.stats import kendalltau, spearmanr
from threadpoolctl import threadpool_limits

from evosearch.nn import GraphNetClassifier
from evosearch.nn._latency_calibration import N_DENSE, fit_timings, time_networks
from evosearch.objectives import Latency
from evosearch.space import Genome, SearchSpace

#: Image shapes the conv genomes are drawn for (digits' own, then an MNIST-sized one).
IMAGE_SHAPES = ((8, 8, 1), (28, 28, 1))


def conv_genomes(count: int, seed: int = 0) -> list[Genome]:
    """``count`` distinct random ``cnn`` genomes, half for each of :data:`IMAGE_SHAPES`."""
    space = SearchSpace.load("cnn")
    rng = np.random.default_rng(seed)
    genomes: list[Genome] = []
    seen: set[str] = set()
    while len(genomes) < count:
        shape = IMAGE_SHAPES[0] if len(genomes) < count // 2 else IMAGE_SHAPES[1]
        genome = Genome.random(space, int(np.prod(shape)), 10, rng, input_shape=shape)
        if genome.canonical_hash() not in seen:
            seen.add(genome.canonical_hash())
            genomes.append(genome)
    return genomes


def fitted(genome: Genome) -> GraphNetClassifier:
    """The genome's estimator fitted for one epoch on random data (weights are irrelevant)."""
    rng = np.random.default_rng(0)
    n_in = genome.n_inputs
    X, y = rng.normal(size=(40, n_in)), np.arange(40) % 10
    hyper = {**genome.hyperparameters, "max_epochs": 1, "early_stopping": False}
    return GraphNetClassifier(genome.to_architecture(), random_state=0, **hyper).fit(X, y)


def one_row_seconds(model: GraphNetClassifier, x: np.ndarray, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_proba(x)
        best = min(best, time.perf_counter() - start)
    return best


def figures(label: str, estimates: list[float], measured: list[float]) -> str:
    rho = spearmanr(estimates, measured).statistic
    tau = kendalltau(estimates, measured).statistic
    ratios = sorted(e / m for e, m in zip(estimates, measured, strict=True))
    return (
        f"  {label:<6} Spearman {rho:.3f}, Kendall {tau:.3f}; estimate / measured median "
        f"{statistics.median(ratios):.2f} (10%-90%: {ratios[len(ratios) // 10]:.2f}-"
        f"{ratios[(9 * len(ratios)) // 10]:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="genomes of each family")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--model", help="a latency model file (evosearch calibrate --out)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.count, args.rounds, args.repeats = 10, 2, 5
    print(machine_line())
    started = time.perf_counter()
    costs, seconds = time_networks()
    print(f"calibration: {time.perf_counter() - started:.2f} s")
    if args.model:
        from evosearch.nn.latency_files import load_latency_model

        model = load_latency_model(args.model)
        print(f"model: {args.model}")
    else:
        model = fit_timings(costs, seconds)
    print(model.describe())
    # The same timings' dense chains alone, fitted as models were before conv and pool had
    # coefficients of their own: a paired comparison of the two forms.
    dense_model = fit_timings(costs[:N_DENSE], seconds[:N_DENSE], images=False)
    print("dense-only: " + dense_model.describe().replace("\n", "; "))
    families = {"dense": random_genomes(args.count, seed=1), "conv": conv_genomes(args.count, 1)}
    genomes = [g for group in families.values() for g in group]
    models = [fitted(g) for g in genomes]
    rows = [np.random.default_rng(1).normal(size=(1, g.n_inputs)) for g in genomes]
    order = np.random.default_rng(2)
    timings: list[list[float]] = [[] for _ in genomes]
    with threadpool_limits(limits=1):
        for _ in range(args.rounds):
            for i in order.permutation(len(genomes)):
                timings[i].append(one_row_seconds(models[i], rows[i], args.repeats) * 1e6)
    measured = [statistics.median(t) for t in timings]
    spans: dict[str, Any] = {}
    start = 0
    for name, group in families.items():
        spans[name] = slice(start, start + len(group))
        start += len(group)
    spans["all"] = slice(0, len(genomes))
    for name, span in spans.items():
        print(
            f"{name}: {len(measured[span])} genomes, measured {min(measured[span]):.1f}-"
            f"{max(measured[span]):.1f} µs (one row, predict_proba)"
        )
    for title, used in (("with conv and pool coefficients", model), ("dense-only", dense_model)):
        estimates = [Latency(used).value(g) for g in genomes]
        print(f"model {title}: estimate {min(estimates):.1f}-{max(estimates):.1f} µs")
        for name, span in spans.items():
            print(figures(name, estimates[span], measured[span]))


if __name__ == "__main__":
    main()
