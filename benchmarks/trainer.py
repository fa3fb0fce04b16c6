"""Trainer speed: GraphNetClassifier against scikit-learn's MLPClassifier, one thread.

Both train the same chain (relu hidden layers, softmax output) with adam (learning rate 1e-3,
L2 1e-4), batch 200, a fixed number of epochs, no early stopping, BLAS capped to one thread.
Each configuration is fitted ``--repeats`` times, interleaved (ours, sklearn, sklearn, ours,
...), round ``r`` using seed ``r`` for both, so the timing repeats also give a seed-averaged test
accuracy. Printed per configuration: median and best fit seconds, the speed-up
``sklearn / ours`` (ratio of medians, of bests, and median of the per-round ratios), the mean
test accuracies and their difference in points.

Configurations: digits (StandardScaler, stratified 2/3 train) with 1, 2 (64-128-64-10, the
headline: target >= 2x at accuracy within 1 point) and 4 hidden layers; and the 2-layer chain on
a generated dataset with ~10x the rows (``make_classification``, 18k rows, 64 features, 10
classes).

It then reports the achieved GFLOP/s of our training: the matmul FLOPs of forward + backward
(``2*m*n*k`` per matmul; per dense layer and step: forward, weight gradient and input gradient,
none for the first layer's input) divided by fit time, against this machine's single-thread
float32 matmul rate (numpy, square 512 and 1024, best of several) and against a loop of only the
training step's matmuls at their real shapes (the ceiling for this network and batch size).

Run: ``.venv/bin/python benchmarks/trainer.py`` (about 35 s; ``--breakdown`` adds 10 s;
``--quick`` for a smoke run)
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from _common import best, interleaved, machine_line, median, paired_ratios
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from evosearch.nn import GraphNetClassifier

BATCH = 200


@dataclass
class Config:
    name: str
    data: str  # "digits" or "generated"
    hidden: tuple[int, ...]
    epochs: int


CONFIGS = [
    Config("digits 64-128-64-10 (headline)", "digits", (128, 64), 50),
    Config("digits 1 hidden: 64-128-10", "digits", (128,), 50),
    Config("digits 4 hidden: 64-128-128-64-64-10", "digits", (128, 128, 64, 64), 50),
    Config("generated 18k rows: 64-128-64-10", "generated", (128, 64), 20),
]


def load(data: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if data == "digits":
        X, y = load_digits(return_X_y=True)
    else:
        X, y = make_classification(
            n_samples=18_000,
            n_features=64,
            n_informative=32,
            n_redundant=16,
            n_classes=10,
            n_clusters_per_class=2,
            class_sep=1.5,
            random_state=0,
        )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=1 / 3, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def chain(hidden: tuple[int, ...]) -> dict[str, Any]:
    ids = list(range(2, 2 + len(hidden)))
    path = [0, *ids, 1]
    return {
        "layers": [
            {"id": i, "units": u, "activation": "relu", "dropout": 0.0}
            for i, u in zip(ids, hidden, strict=True)
        ],
        "edges": [[a, b] for a, b in itertools.pairwise(path)],
    }


def make_ours(config: Config, seed: int) -> GraphNetClassifier:
    return GraphNetClassifier(
        architecture=chain(config.hidden),
        optimizer="adam",
        learning_rate=1e-3,
        l2=1e-4,
        batch_size=BATCH,
        max_epochs=config.epochs,
        early_stopping=False,
        random_state=seed,
    )


def make_sklearn(config: Config, seed: int) -> MLPClassifier:
    return MLPClassifier(
        hidden_layer_sizes=config.hidden,
        activation="relu",
        solver="adam",
        learning_rate_init=1e-3,
        alpha=1e-4,
        batch_size=BATCH,
        max_iter=config.epochs,
        early_stopping=False,
        n_iter_no_change=10**9,
        tol=0.0,
        random_state=seed,
    )


def training_flops(widths: list[int], rows: int, epochs: int) -> float:
    """Matmul FLOPs of training: forward, weight gradient, input gradient (not for layer 1)."""
    per_row = sum(
        2 * fan_in * units * (2 if layer == 0 else 3)
        for layer, (fan_in, units) in enumerate(itertools.pairwise(widths))
    )
    return float(per_row) * rows * epochs


def square_matmul_gflops(size: int, repeats: int) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    out = np.empty((size, size), np.float32)
    np.dot(a, b, out=out)
    fastest = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.dot(a, b, out=out)
        fastest = min(fastest, time.perf_counter() - start)
    return 2.0 * size**3 / fastest / 1e9


def shape_matmul_gflops(widths: list[int], batch: int, steps: int, repeats: int) -> float:
    """GFLOP/s of a loop doing only one training step's matmuls, at the real shapes."""
    rng = np.random.default_rng(0)
    pairs = list(itertools.pairwise(widths))
    xs = [rng.standard_normal((batch, fi), dtype=np.float32) for fi, _ in pairs]
    ws = [rng.standard_normal((fi, u), dtype=np.float32) for fi, u in pairs]
    gs = [rng.standard_normal((batch, u), dtype=np.float32) for _, u in pairs]
    outs = [np.empty((batch, u), np.float32) for _, u in pairs]
    gws = [np.empty((fi, u), np.float32) for fi, u in pairs]
    gins = [np.empty((batch, fi), np.float32) for fi, _ in pairs]

    def step() -> None:
        for layer in range(len(pairs)):
            np.dot(xs[layer], ws[layer], out=outs[layer])
        for layer in reversed(range(len(pairs))):
            np.dot(xs[layer].T, gs[layer], out=gws[layer])
            if layer:
                np.dot(gs[layer], ws[layer].T, out=gins[layer])

    step()
    fastest = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        fastest = min(fastest, time.perf_counter() - start)
    return training_flops(widths, batch, steps) / fastest / 1e9


def timed_fit(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def run_config(config: Config, repeats: int) -> dict[str, Any]:
    X_train, X_test, y_train, y_test = load(config.data)
    accuracy: dict[str, list[float]] = {"ours": [], "sklearn": []}
    seeds = {"ours": 0, "sklearn": 0}

    def variant(name: str, make: Callable[[Config, int], Any]) -> Callable[[], float]:
        def fit_once() -> float:
            model = make(config, seeds[name])
            seconds = timed_fit(model, X_train, y_train)
            accuracy[name].append(float(model.score(X_test, y_test)))
            seeds[name] += 1
            return seconds

        return fit_once

    times = interleaved(
        {"ours": variant("ours", make_ours), "sklearn": variant("sklearn", make_sklearn)},
        repeats,
    )
    widths = [X_train.shape[1], *config.hidden, len(np.unique(y_train))]
    return {
        "config": config,
        "rows": X_train.shape[0],
        "test_rows": X_test.shape[0],
        "times": times,
        "accuracy": {k: float(np.mean(v)) for k, v in accuracy.items()},
        "flops": training_flops(widths, X_train.shape[0], config.epochs),
        "widths": widths,
    }


def step_breakdown(config: Config, fits: int) -> None:
    """Where one fit's time goes: forward, loss, backward, optimiser step, the rest.

    Wraps private methods of :mod:`evosearch.nn` (this script only); prints nothing useful if
    they were renamed.
    """
    from evosearch.nn import estimator, graph, optim

    targets = [
        (graph.Network, "forward"),
        (graph.Network, "backward"),
        (estimator.GraphNetClassifier, "_loss_and_delta"),
        (optim._Adam, "step"),
    ]
    if not all(hasattr(owner, name) for owner, name in targets):
        print("  (breakdown unavailable: evosearch.nn's internals changed)")
        return
    spent: dict[str, float] = {f"{owner.__name__}.{name}": 0.0 for owner, name in targets}
    originals = [(owner, name, owner.__dict__[name]) for owner, name in targets]

    def timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - start

        return wrapper

    X_train, _, y_train, _ = load(config.data)
    make_ours(config, 0).fit(X_train, y_train)
    for owner, name, function in originals:
        setattr(owner, name, timed(f"{owner.__name__}.{name}", function))
    try:
        start = time.perf_counter()
        for seed in range(fits):
            make_ours(config, seed).fit(X_train, y_train)
        total = time.perf_counter() - start
    finally:
        for owner, name, function in originals:
            setattr(owner, name, function)
    print(f"  {config.name}: {1000 * total / fits:.1f} ms per fit (timers add a little)")
    for label, seconds in spent.items():
        print(f"    {label:38s} {1000 * seconds / fits:7.1f} ms {100 * seconds / total:5.1f}%")
    rest = total - sum(spent.values())
    print(f"    {'rest (shuffle, penalties, loop)':38s} {1000 * rest / fits:7.1f} ms "
          f"{100 * rest / total:5.1f}%")  # fmt: skip


def busy_core_check(repeats: int) -> None:
    """Our fit called without a caller-side BLAS limit, with one core held by another process.

    GraphNet caps BLAS to one thread itself; without that, OpenBLAS's default threads spin
    against the busy core and a fit takes several times longer (what a refit in the main
    process next to evaluation workers used to do).
    """
    X_train, _, y_train, _ = load("digits")
    config = CONFIGS[0]
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:

        def default_threads() -> None:
            make_ours(config, 0).fit(X_train, y_train)

        def one_thread() -> None:
            with threadpool_limits(1):
                make_ours(config, 0).fit(X_train, y_train)

        times = interleaved(
            {"default BLAS threads": default_threads, "threadpool_limits(1)": one_thread},
            repeats,
        )
    finally:
        spinner.kill()
        spinner.wait()
    blas = [info.get("num_threads") for info in threadpool_info() if info["user_api"] == "blas"]
    default, capped = times["default BLAS threads"], times["threadpool_limits(1)"]
    print(
        f"\none core busy with another process, BLAS threads by default {blas}: GraphNet fit "
        f"(headline) median {median(default):.3f} s called as is, {median(capped):.3f} s inside "
        f"threadpool_limits(1): ratio {median(default) / median(capped):.2f} (1.00: the "
        "estimator caps its own BLAS threads)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--quick", action="store_true", help="2 rounds, headline config only")
    parser.add_argument(
        "--breakdown", action="store_true", help="also time the phases of our training step"
    )
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else args.repeats
    configs = CONFIGS[:1] if args.quick else CONFIGS

    print(machine_line())
    print(f"adam lr 1e-3, L2 1e-4, batch {BATCH}, fixed epochs, no early stopping, 1 BLAS thread;")
    print(f"{repeats} interleaved rounds per configuration (round r: seed r for both)\n")
    results = []
    # MLPClassifier warns that the fixed epochs did not converge: that is the point (equal work).
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for config in configs:
            result = run_config(config, repeats)
            results.append(result)
            ours, skl = result["times"]["ours"], result["times"]["sklearn"]
            acc = result["accuracy"]
            print(
                f"{config.name}: {result['rows']} train / {result['test_rows']} test rows, "
                f"{config.epochs} epochs"
            )
            print(f"  GraphNet fit  median {median(ours):7.3f} s   best {best(ours):7.3f} s")
            print(f"  MLP      fit  median {median(skl):7.3f} s   best {best(skl):7.3f} s")
            print(
                f"  speed-up sklearn/ours: {median(skl) / median(ours):.2f}x (medians), "
                f"{best(skl) / best(ours):.2f}x (bests), "
                f"{median(paired_ratios(skl, ours)):.2f}x (median of per-round ratios)"
            )
            print(
                f"  test accuracy (mean of {repeats} seeds): GraphNet {acc['ours']:.4f}, "
                f"MLP {acc['sklearn']:.4f}, difference "
                f"{100 * (acc['ours'] - acc['sklearn']):+.2f} points"
            )

        print("\nachieved matmul throughput of GraphNet training (1 thread, float32):")
        square = {n: square_matmul_gflops(n, 3 if args.quick else 8) for n in (512, 1024)}
        print(
            f"  numpy square matmul peak: {square[512]:.1f} GFLOP/s (512), "
            f"{square[1024]:.1f} GFLOP/s (1024)"
        )
        peak = max(square.values())
        for result in results:
            config = result["config"]
            achieved = result["flops"] / best(result["times"]["ours"]) / 1e9
            steps = -(-result["rows"] // BATCH)
            ceiling = shape_matmul_gflops(result["widths"], BATCH, steps, 3)
            print(
                f"  {config.name}: {result['flops'] / 1e9:.2f} GFLOP in best "
                f"{best(result['times']['ours']):.3f} s = {achieved:.1f} GFLOP/s = "
                f"{100 * achieved / peak:.0f}% of square peak; the same matmuls alone at batch "
                f"{BATCH}: {ceiling:.1f} GFLOP/s (training reaches {100 * achieved / ceiling:.0f}%)"
            )
    busy_core_check(2 if args.quick else 4)
    with threadpool_limits(1):
        if args.breakdown:
            print("\nGraphNet training time by phase (one timed pass of 10 fits, seeds 0-9):")
            for config in configs:
                step_breakdown(config, 10)


if __name__ == "__main__":
    main()
