"""The timing and fitting behind :func:`evosearch.nn.latency_files.calibrate`.

The networks timed: 36 dense chains (the grid calibrations always timed) and 63 image networks
(``conv2d`` of every kernel and stride of the ``cnn`` space with 4 and 16 filters, ``pool`` and
``global_pool``, on 8x8x1, 16x16x3 and 28x28x1 images; pools behind a 16-filter convolution and
convolutions behind convolutions, for more channels) in front of the dense output layer. Each is
fitted for one epoch (only shapes matter), then all are timed in shuffled rounds; one
non-negative least-squares fit on relative errors gives every coefficient, each kind's from the
networks that exercise it.
"""

from __future__ import annotations

import itertools
import math
import platform
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from evosearch.nn.cost_model import LatencyModel, layer_cost

__all__ = [
    "N_DENSE",
    "N_NETWORKS",
    "fit_model",
    "fit_timings",
    "machine_description",
    "time_networks",
]

# Chains of dense layers timed by the calibration: (input width, hidden widths, outputs).
_DENSE_GRID = [
    (w, hidden, o)
    for w in (8, 64, 512)
    for hidden in ((), (16,), (128,), (512,), (64, 64), (256, 256))
    for o in (2, 10)
]

_IMAGES = ((8, 8, 1), (16, 16, 3), (28, 28, 1))


def _conv(kernel: int, stride: int, filters: int) -> dict[str, Any]:
    return {"kind": "conv2d", "filters": filters, "kernel": kernel, "stride": stride,
            "activation": "relu", "dropout": 0.0}  # fmt: skip


# Image networks: (image shape, layers in front of the output). Every kernel and stride of the
# cnn space on each image; pools on the image and behind a 16-filter convolution; two
# convolutions in a row (fitted on single ones only, deeper conv nets came out 10-20% too slow).
_IMAGE_GRID: list[tuple[tuple[int, int, int], list[dict[str, Any]]]] = [
    *(
        (shape, [_conv(k, s, f)])
        for shape in _IMAGES
        for k in (1, 3, 5)
        for s in (1, 2)
        for f in (4, 16)
    ),
    *(
        (shape, [{"kind": "pool", "mode": mode}])
        for shape in _IMAGES
        for mode in ("max", "average")
    ),
    *((shape, [_conv(1, 1, 16), {"kind": "pool", "mode": "max"}]) for shape in _IMAGES),
    *((shape, [{"kind": "global_pool", "mode": "average"}]) for shape in _IMAGES),
    *((shape, [_conv(1, 1, 16), {"kind": "global_pool", "mode": "average"}]) for shape in _IMAGES),
    # Convolutions behind convolutions: many input channels (a long patch row per product).
    *(
        (shape, [first, second])
        for shape in (_IMAGES[0], _IMAGES[2])
        for first in (_conv(3, 1, 8), _conv(5, 2, 16))
        for second in (_conv(1, 1, 16), _conv(3, 1, 8), _conv(5, 2, 16))
    ),
]


def machine_description() -> str:
    """The CPU, platform and numerical stack a model is measured on, in one line."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle
                        if line.startswith("model name")), cpu)  # fmt: skip
    except OSError:
        pass
    return (
        f"{platform.node() or 'unknown host'}: {cpu}, {platform.system()} "
        f"{platform.machine()}, numpy {np.__version__}, Python {platform.python_version()}"
    )


def _fitted(architecture: dict[str, Any], n_in: int, rng: np.random.Generator) -> Any:
    """The network fitted for one epoch on random rows: the weights' values do not matter."""
    from evosearch.nn.estimator import GraphNetClassifier

    X, y = rng.normal(size=(40, n_in)), np.arange(40) % 10
    model = GraphNetClassifier(architecture, max_epochs=1, early_stopping=False, random_state=0)
    return model.fit(X, y)


def _best_of(model: Any, x: np.ndarray, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_proba(x)
        best = min(best, time.perf_counter() - start)
    return best


def _chain(layers: list[dict[str, Any]], shape: tuple[int, ...] | None = None) -> dict[str, Any]:
    specs = [{"id": 2 + i, **layer} for i, layer in enumerate(layers)]
    ids = [0, *(2 + i for i in range(len(layers))), 1]
    spec: dict[str, Any] = {"layers": specs, "edges": [[a, b] for a, b in itertools.pairwise(ids)]}
    if shape is not None:
        spec["input_shape"] = list(shape)
    return spec


def _networks(images: bool) -> list[tuple[dict[str, Any], int]]:
    """Every calibration network's architecture and input width (the image ones too)."""
    dense = [
        (_chain([{"units": u, "activation": "relu"} for u in hidden]), n_in)
        for n_in, hidden, _ in _DENSE_GRID
    ]
    if not images:
        return dense
    return dense + [(_chain(layers, shape), math.prod(shape)) for shape, layers in _IMAGE_GRID]


def _timings(
    repeats: int, rng: np.random.Generator, images: bool
) -> tuple[list[list[Any]], list[float]]:
    """Each network's layer costs and one-row prediction seconds: the fastest call of all,
    what the machine can do, least disturbed by other load. The calls come in rounds, the
    networks in a shuffled order each round, so that a slow spell of a shared machine (they
    last about a second) spreads over all networks instead of skewing a few."""
    fitted = [_fitted(spec, n_in, rng) for spec, n_in in _networks(images)]
    rows = [rng.normal(size=(1, model.n_features_in_)) for model in fitted]
    rounds = 10
    per_round = max(1, repeats // rounds)
    seconds: list[list[float]] = [[] for _ in fitted]
    for model, x in zip(fitted, rows, strict=True):
        model.predict_proba(x)  # warm up (allocations, BLAS paths)
    for _ in range(rounds):
        for i in rng.permutation(len(fitted)):
            seconds[i].append(_best_of(fitted[i], rows[i], per_round))
    costs = [[layer_cost(s.kind, s.attrs, s.in_shape) for s in m._steps] for m in fitted]
    return costs, [min(s) for s in seconds]


#: The model's columns: ``(kind, coefficient)`` (None: ``per_network``). Pools' and a global
#: pool's multiply-adds are fixed multiples of their outputs or inputs: one of each pair.
_COLUMNS: list[tuple[str | None, str]] = [
    (None, "per_network"),
    *(("dense", name) for name in ("per_layer", "per_mac", "per_output")),
    *(("conv2d", name) for name in ("per_layer", "per_mac", "per_output", "per_copy")),
    ("pool", "per_layer"), ("pool", "per_output"),
    ("global_pool", "per_layer"), ("global_pool", "per_mac"),
]  # fmt: skip


def _features(costs: list[Any]) -> list[float]:
    row = [0.0] * len(_COLUMNS)
    row[0] = 1.0
    for kind, macs, outputs, copies in costs:
        values = {"per_layer": 1, "per_mac": macs, "per_output": outputs, "per_copy": copies}
        for name, value in values.items():
            if (kind, name) in _COLUMNS:
                row[_COLUMNS.index((kind, name))] += float(value)
    return row


def _fit(costs: list[list[Any]], seconds: list[float], images: bool) -> LatencyModel:
    """Non-negative least squares on relative errors (times span two orders of magnitude)."""
    from scipy.optimize import nnls

    A, t = np.array([_features(c) for c in costs]), np.array(seconds)
    kept = [i for i, (kind, _) in enumerate(_COLUMNS) if images or kind in (None, "dense")]
    A = A[:, kept]
    A, t = A / t[:, None], np.ones_like(t)
    norms = np.maximum(np.abs(A).max(axis=0), 1e-30)  # comparable columns for the solver
    coef = nnls(A / norms, t)[0] / norms
    tables: dict[str, dict[str, float]] = {name: {} for name in _COEFFICIENT_TABLES}
    for i, value in zip(kept[1:], coef[1:], strict=True):
        kind, name = _COLUMNS[i]
        tables[name][str(kind)] = float(value)
    for kind in ("pool", "global_pool") if images else ():
        for name in ("per_mac", "per_output"):
            tables[name].setdefault(kind, 0.0)
    return LatencyModel(
        float(coef[0]), tables["per_layer"], tables["per_mac"], tables["per_output"],
        tables["per_copy"],
    )  # fmt: skip


_COEFFICIENT_TABLES = ("per_layer", "per_mac", "per_output", "per_copy")


def time_networks(
    repeats: int = 40, seed: int = 0, images: bool = True
) -> tuple[list[list[Any]], list[float]]:
    """Each calibration network's layer costs and its one-row prediction seconds here (one
    BLAS thread); the dense chains first (``N_DENSE`` of them), then the image networks."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # as predictions run in evaluation workers and refits
        return _timings(repeats, np.random.default_rng(seed), images)


def fit_timings(costs: list[list[Any]], seconds: list[float], images: bool = True) -> LatencyModel:
    """The model fitted on :func:`time_networks`' timings; ``images=False``: ``dense``'s
    coefficients alone (the form of a model from before image kinds had their own)."""
    return _fit(costs, seconds, images)


#: How many of the timed networks are dense chains (they come first).
N_DENSE = len(_DENSE_GRID)
#: How many networks a calibration times in all.
N_NETWORKS = N_DENSE + len(_IMAGE_GRID)


def fit_model(repeats: int = 40, seed: int = 0) -> LatencyModel:
    """Time the networks here and fit the model (see the module docstring)."""
    from dataclasses import replace

    costs, seconds = time_networks(repeats, seed)
    model = fit_timings(costs, seconds)
    measured = datetime.now(UTC).replace(microsecond=0).isoformat()
    return replace(model, measured=measured, machine=machine_description())
