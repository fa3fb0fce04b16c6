"""Conv trainer speed: GraphNetClassifier's numpy convolutions against PyTorch on CPU (one
thread), and scikit-learn's MLPClassifier on the same data for context.

Three reference nets (relu, "same" padding, softmax output), trained with adam (learning rate
1e-3, no weight penalty), batch 64, a fixed number of epochs, no early stopping, one BLAS/torch
thread:

* ``A``: conv 3x3 16 > max pool 2x2 > dense 64
* ``B``: conv 3x3 32 > conv 3x3 32 stride 2 > dense 128
* ``C``: conv 5x5 8 > max pool 2x2 > conv 3x3 16 > global average pool

Data: bundled digits (8x8, pixels / 16, stratified 2/3 train) by default, or an NPZ image set
(``--data benchmarks/digits28.npz`` from ``make_digit_images.py``). Printed per net: fit seconds
(median of ``--repeats``, interleaved rounds) and test accuracy for ours and for torch, the ratio
``torch / ours`` (above 1: ours is faster), and the MLPClassifier (one hidden layer of 64) line.

PyTorch is not a dependency: it is used if importable, or from another interpreter given with
``--torch-python`` (e.g. a scratch venv with the CPU wheel), where it runs in a subprocess of
this script; otherwise the script says torch is absent and prints the rest.

Run: ``.venv/bin/python benchmarks/conv_trainer.py [--epochs 10] [--repeats 3]
[--torch-python /tmp/venv/bin/python] [--data FILE]``
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

LR, BATCH = 1e-3, 64
NETS: dict[str, list[dict[str, Any]]] = {
    "A": [
        {"kind": "conv2d", "filters": 16, "kernel": 3, "stride": 1},
        {"kind": "pool", "mode": "max"},
        {"kind": "dense", "units": 64},
    ],
    "B": [
        {"kind": "conv2d", "filters": 32, "kernel": 3, "stride": 1},
        {"kind": "conv2d", "filters": 32, "kernel": 3, "stride": 2},
        {"kind": "dense", "units": 128},
    ],
    "C": [
        {"kind": "conv2d", "filters": 8, "kernel": 5, "stride": 1},
        {"kind": "pool", "mode": "max"},
        {"kind": "conv2d", "filters": 16, "kernel": 3, "stride": 1},
        {"kind": "global_pool", "mode": "average"},
    ],
}


def describe(layers: list[dict[str, Any]]) -> str:
    parts = []
    for layer in layers:
        if layer["kind"] == "conv2d":
            k = layer["kernel"]
            parts.append(f"conv{k}x{k}/{layer['stride']} {layer['filters']}")
        elif layer["kind"] == "pool":
            parts.append("maxpool2")
        elif layer["kind"] == "global_pool":
            parts.append("gap")
        else:
            parts.append(f"dense {layer['units']}")
    return " > ".join(parts)


def load(data: str | None) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if data is None:
        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).reshape(-1, 8, 8, 1)
    else:
        with np.load(data) as npz:
            X, y = npz["X"], npz["y"]
        X = X[..., None] if X.ndim == 3 else X
    X = X.astype(np.float32)
    return tuple(train_test_split(X, y, test_size=1 / 3, stratify=y, random_state=0))


# --------------------------------------------------------------------------- ours
def ours(layers: list[dict[str, Any]], split: tuple[np.ndarray, ...], epochs: int, seed: int):
    from threadpoolctl import threadpool_limits

    from evosearch.nn import GraphNetClassifier

    X_train, X_test, y_train, y_test = split
    spec_layers = []
    for i, layer in enumerate(layers):
        spec = {"id": i + 2, **layer}
        if layer["kind"] in ("conv2d", "dense"):
            spec.update(activation="relu", dropout=0.0)
        spec_layers.append(spec)
    ids = [0, *(i + 2 for i in range(len(layers))), 1]
    architecture = {
        "input_shape": list(X_train.shape[1:]),
        "layers": spec_layers,
        "edges": [list(pair) for pair in itertools.pairwise(ids)],
    }
    net = GraphNetClassifier(
        architecture=architecture,
        optimizer="adam",
        learning_rate=LR,
        l1=0.0,
        l2=0.0,
        batch_size=BATCH,
        max_epochs=epochs,
        early_stopping=False,
        random_state=seed,
    )
    flat_train = X_train.reshape(len(X_train), -1)
    with threadpool_limits(1):
        start = time.perf_counter()
        net.fit(flat_train, y_train)
        seconds = time.perf_counter() - start
        accuracy = net.score(X_test.reshape(len(X_test), -1), y_test)
    return seconds, float(accuracy)


def mlp(split: tuple[np.ndarray, ...], epochs: int, seed: int) -> tuple[float, float]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    X_train, X_test, y_train, y_test = split
    model = MLPClassifier(
        (64,), learning_rate_init=LR, alpha=0.0, batch_size=BATCH, max_iter=epochs,
        random_state=seed, n_iter_no_change=epochs + 1, tol=0.0,
    )  # fmt: skip
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_train.reshape(len(X_train), -1), y_train)
        seconds = time.perf_counter() - start
        accuracy = model.score(X_test.reshape(len(X_test), -1), y_test)
    return seconds, float(accuracy)


# --------------------------------------------------------------------------- torch
def torch_fit(layers: list[dict[str, Any]], arrays: dict[str, np.ndarray], epochs: int, seed: int):
    """Train the same net with PyTorch (NCHW), one thread; returns (seconds, accuracy)."""
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    X_train = torch.from_numpy(np.ascontiguousarray(arrays["X_train"].transpose(0, 3, 1, 2)))
    X_test = torch.from_numpy(np.ascontiguousarray(arrays["X_test"].transpose(0, 3, 1, 2)))
    classes, y_train = np.unique(arrays["y_train"], return_inverse=True)
    y_test = np.searchsorted(classes, arrays["y_test"])
    t_train = torch.from_numpy(y_train.astype(np.int64))
    channels, side_h, side_w = X_train.shape[1:]
    modules: list[nn.Module] = []
    flat = False
    for layer in layers:
        if layer["kind"] == "conv2d":
            k, s = layer["kernel"], layer["stride"]
            modules += [nn.Conv2d(channels, layer["filters"], k, s, padding=k // 2), nn.ReLU()]
            channels = layer["filters"]
            side_h, side_w = -(-side_h // s), -(-side_w // s)
        elif layer["kind"] == "pool":
            modules.append(nn.MaxPool2d(2))
            side_h, side_w = side_h // 2, side_w // 2
        elif layer["kind"] == "global_pool":
            modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
            flat, side_h, side_w = True, 1, 1
        else:
            if not flat:
                modules.append(nn.Flatten())
                flat = True
            modules += [nn.Linear(channels * side_h * side_w, layer["units"]), nn.ReLU()]
            channels, side_h, side_w = layer["units"], 1, 1
    if not flat:
        modules.append(nn.Flatten())
    modules.append(nn.Linear(channels * side_h * side_w, len(classes)))
    model = nn.Sequential(*modules)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    n = X_train.shape[0]
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for first in range(0, n, BATCH):
            batch = order[first : first + BATCH]
            optimizer.zero_grad()
            loss = loss_fn(model(X_train[batch]), t_train[batch])
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        predicted = model(X_test).argmax(dim=1).numpy()
    return seconds, float(np.mean(predicted == y_test))


def torch_runner(torch_python: str | None, split: tuple[np.ndarray, ...], folder: Path):
    """A callable (net name, epochs, seed) -> (seconds, accuracy), or None without torch."""
    X_train, X_test, y_train, y_test = split
    arrays = {"X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}
    try:
        import torch  # noqa: F401
    except ImportError:
        if torch_python is None:
            return None
    else:
        return lambda name, epochs, seed: torch_fit(NETS[name], arrays, epochs, seed)
    data = folder / "split.npz"
    np.savez(data, **arrays)

    def run(name: str, epochs: int, seed: int) -> tuple[float, float]:
        done = subprocess.run(
            [torch_python, __file__, "--torch-worker", name, str(epochs), str(seed), str(data)],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds, accuracy = json.loads(done.stdout.strip().splitlines()[-1])
        return seconds, accuracy

    try:
        run("A", 1, 0)  # the interpreter has torch (a warm-up round, not timed)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"torch: {torch_python} cannot run it ({exc})")
        return None
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", help="NPZ image set (default: bundled digits)")
    parser.add_argument("--torch-python", help="an interpreter with torch, if this one has none")
    parser.add_argument("--torch-worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:  # the torch subprocess: train one net, print (seconds, accuracy)
        name, epochs, seed, data = args.torch_worker
        with np.load(data) as npz:
            arrays = {key: npz[key] for key in npz.files}
        print(json.dumps(torch_fit(NETS[name], arrays, int(epochs), int(seed))))
        return

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import machine_line, median

    split = load(args.data)
    print(machine_line())
    print(
        f"data: {args.data or 'digits'}, train {split[0].shape}, test {split[1].shape[0]} rows; "
        f"adam lr {LR}, batch {BATCH}, {args.epochs} epochs, 1 thread, "
        f"median of {args.repeats} interleaved rounds"
    )
    with tempfile.TemporaryDirectory() as folder:
        torch_run = torch_runner(args.torch_python, split, Path(folder))
        if torch_run is None:
            print("torch: absent (not importable; --torch-python names an interpreter with it)")
        print(f"{'net':<42} {'ours s':>8} {'acc':>6} {'torch s':>8} {'acc':>6} {'torch/ours':>10}")
        for name, layers in NETS.items():
            times: dict[str, list[float]] = {"ours": [], "torch": []}
            accs: dict[str, list[float]] = {"ours": [], "torch": []}
            for seed in range(args.repeats):
                order = ["ours", "torch"] if seed % 2 == 0 else ["torch", "ours"]
                for who in order:
                    if who == "ours":
                        seconds, accuracy = ours(layers, split, args.epochs, seed)
                    elif torch_run is not None:
                        seconds, accuracy = torch_run(name, args.epochs, seed)
                    else:
                        continue
                    times[who].append(seconds)
                    accs[who].append(accuracy)
            line = f"{name}: {describe(layers):<39} {median(times['ours']):8.2f} "
            line += f"{np.mean(accs['ours']):6.3f} "
            if times["torch"]:
                ratio = median(times["torch"]) / median(times["ours"])
                line += f"{median(times['torch']):8.2f} {np.mean(accs['torch']):6.3f} {ratio:10.2f}"
            else:
                line += f"{'-':>8} {'-':>6} {'-':>10}"
            print(line)
        runs = [mlp(split, args.epochs, seed) for seed in range(args.repeats)]
        print(
            f"MLPClassifier (64,) for context: {median([s for s, _ in runs]):.2f} s, "
            f"accuracy {np.mean([a for _, a in runs]):.3f}"
        )


if __name__ == "__main__":
    main()
