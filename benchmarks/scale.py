"""Scaling with the number of rows: time and peak memory of one evaluation, 1k to 100k rows.

Data: ``make_classification`` with 64 features (32 informative), 10 classes. One fixed
mid-size genome: chain 64-128-64-10 relu, adam lr 1e-3, L1 1e-6, L2 1e-4, batch 128.

Two measurements per size, each in a fresh subprocess (so peak memory is that size's alone):

``cv``
    ``Evaluator(X, y, "classification", cv=3, n_jobs=1).evaluate([genome])``: what a search
    pays per genome (max_epochs 50 with the early stopping the evaluation uses, so the number
    of epochs varies with the data; seconds per 1k row-epochs corrects for that).
``fit``
    ``GraphNetClassifier`` on all rows (standardised, float32), exactly 10 epochs, no early
    stopping: the clean per-row cost of training.

For each: seconds, seconds per 1k rows (per 1k row-epochs), and peak resident memory of the
measurement (the subprocess's VmHWM, reset after the data are generated when the kernel allows
it, and of any worker process it reaped), with its increase over the process before the data
existed, per 1k rows. Seconds per 1k rows must not grow with the size (at most linear time) and
memory per 1k rows must stay bounded.

Run: ``.venv/bin/python benchmarks/scale.py`` (2-3 minutes; ``--quick``: 1k and 10k rows, once)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SIZES = (1_000, 10_000, 100_000)
FIT_EPOCHS = 10
HIDDEN = (128, 64)
HYPERPARAMETERS: dict[str, Any] = {
    "optimizer": "adam",
    "learning_rate": 1e-3,
    "l1": 1e-6,
    "l2": 1e-4,
    "batch_size": 128,
    "max_epochs": 50,
}


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not allowed."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def child(rows: int, mode: str) -> dict[str, Any]:
    """One measurement in this (fresh) process; returns what the parent prints."""
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    from evosearch.evaluation import Evaluator
    from evosearch.nn import GraphNetClassifier
    from evosearch.space.genome import Genome

    before_data_kb = _status_kb("VmRSS")
    X, y = make_classification(
        n_samples=rows,
        n_features=64,
        n_informative=32,
        n_redundant=16,
        n_classes=10,
        class_sep=1.5,
        random_state=0,
    )
    layers = [{"units": u, "activation": "relu", "dropout": 0.0} for u in HIDDEN]
    genome = Genome.chain(64, 10, layers, HYPERPARAMETERS)
    if mode == "fit":
        X = StandardScaler().fit_transform(X).astype(np.float32)
    reset = _reset_peak()
    start_kb = _status_kb("VmRSS")
    cpu_start = time.process_time()
    start = time.perf_counter()
    if mode == "cv":
        result = Evaluator(X, y, "classification", cv=3, n_jobs=1, seed=0).evaluate([genome])[0]
        if result.error:
            raise RuntimeError(result.error)
        epochs = list(result.epochs)
        score = result.score
        # Each fold trains on 2/3 of the rows, 90% of them (10% hold out for early stopping).
        row_epochs = sum(e * rows * 2 / 3 * 0.9 for e in epochs)
    else:
        hp = {k: v for k, v in HYPERPARAMETERS.items() if k != "max_epochs"}
        with threadpool_limits(1):
            model = GraphNetClassifier(
                genome.to_architecture(),
                max_epochs=FIT_EPOCHS,
                early_stopping=False,
                random_state=0,
                **hp,
            ).fit(X, y)
        epochs = [model.n_epochs_]
        score = float(model.score(X, y))
        row_epochs = rows * FIT_EPOCHS
    seconds = time.perf_counter() - start
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "cpu_seconds": time.process_time() - cpu_start + workers.ru_utime + workers.ru_stime,
        "rows": rows,
        "mode": mode,
        "seconds": seconds,
        "epochs": epochs,
        "score": score,
        "row_epochs": row_epochs,
        "before_data_mb": before_data_kb / 1024,
        "start_mb": start_kb / 1024,
        "peak_mb": _status_kb("VmHWM") / 1024,
        "peak_reset": reset,
        # Worker processes the measurement started and reaped (a process-pool evaluator).
        "workers_peak_mb": workers.ru_maxrss / 1024,
        "data_mb": X.nbytes / 2**20,
    }


def measure(rows: int, mode: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(rows), mode],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k rows, one round")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--child", nargs=2, metavar=("ROWS", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(int(args.child[0]), args.child[1])))
        return

    from _common import machine_line, median

    sizes = SIZES[:2] if args.quick else SIZES
    rounds = 1 if args.quick else args.rounds
    print(machine_line())
    print(
        f"genome: 64-{'-'.join(map(str, HIDDEN))}-10 relu, "
        + ", ".join(f"{k} {v}" for k, v in HYPERPARAMETERS.items())
    )
    print(
        f"each measurement in a fresh subprocess, 1 thread (n_jobs=1); {rounds} rounds, sizes "
        "interleaved (order reversed every round); seconds: best (median) of the rounds\n"
    )
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for round_ in range(rounds):
        for mode in ("fit", "cv"):
            for rows in sizes if round_ % 2 == 0 else sizes[::-1]:
                runs.setdefault((mode, rows), []).append(measure(rows, mode))

    header = (
        f"{'mode':4} {'rows':>7} {'epochs':>9} {'seconds (median)':>17} {'cpu s':>6} "
        f"{'s/1k rows':>9} {'ms/1k row-ep':>12} {'peak MB':>7} {'+MB':>5} {'+MB/1k':>6} "
        f"{'+MB run':>7} {'score':>5}"
    )
    per_row_epoch: dict[str, list[tuple[int, float, float]]] = {"fit": [], "cv": []}
    for mode in ("fit", "cv"):
        print(
            f"fit: GraphNetClassifier.fit, all rows, exactly {FIT_EPOCHS} epochs"
            if mode == "fit"
            else "cv: Evaluator(cv=3, n_jobs=1).evaluate([genome]), early stopping, max 50 epochs"
        )
        print(header)
        for rows in sizes:
            rs = runs[(mode, rows)]
            r = rs[0]
            seconds = min(x["seconds"] for x in rs)
            cpu = min(x["cpu_seconds"] for x in rs)
            peak = max(max(x["peak_mb"], x["workers_peak_mb"]) for x in rs)
            grown = peak - min(x["before_data_mb"] for x in rs)
            grown_run = peak - min(x["start_mb"] for x in rs)
            per_row_epoch[mode].append((rows, seconds / r["row_epochs"], r["data_mb"]))
            timing = f"{seconds:.2f} ({median([x['seconds'] for x in rs]):.2f})"
            print(
                f"{mode:4} {rows:7d} {'/'.join(map(str, r['epochs'])):>9} {timing:>17} "
                f"{cpu:6.2f} {1000 * seconds / rows:9.4f} "
                f"{1e6 * seconds / r['row_epochs']:12.3f} {peak:7.0f} {grown:5.0f} "
                f"{1000 * grown / rows:6.3f} {grown_run:7.0f} {r['score']:5.3f}"
            )
        print()
    for mode, entries in per_row_epoch.items():
        (rows0, first, _), (rows1, last, data_mb) = entries[0], entries[-1]
        print(
            f"{mode}: {rows1 // rows0}x the rows -> time per row-epoch x{last / first:.2f} "
            f"(<= 1: at most linear); the data alone: {data_mb:.1f} MB at {rows1} rows"
        )
    print(
        "peak MB: the measurement's VmHWM (reset after the data were generated: "
        f"{all(x['peak_reset'] for rs in runs.values() for x in rs)}) or its workers'; "
        "+MB: over the process before the data existed (+MB/1k: per 1k rows); +MB run: over "
        "the process holding the data, just before the measurement"
    )


if __name__ == "__main__":
    main()
