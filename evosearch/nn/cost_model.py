"""A cost model of this machine's prediction latency, calibrated once per run.

Measured timings differ from run to run, so a search that ranked genomes by measured latency
would not be reproducible (resume, ``n_jobs``). Instead a run measures, once, how long this
machine takes to predict one row with small networks (``GraphNetClassifier.predict_proba`` of one
row, input validation included, one BLAS thread; preprocessing before the network is not
counted), fits a linear cost model, records it in ``run.json``, and estimates every genome's
latency from its layer shapes with that model: the same genome then has the same latency for
the whole run, its resume and any ``n_jobs``.

The model: one prediction of one row costs ``per_network`` seconds plus, for each layer of kind
``k``, ``per_layer[k] + per_mac[k] * macs + per_output[k] * outputs`` (multiply-adds and output
values from the layer's shapes). Kinds the calibration did not time use ``dense``'s
coefficients (their multiply-adds still count).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["DEFAULT_LATENCY_MODEL", "LatencyModel", "calibrate"]

#: ``(kind, multiply-adds, output values)`` of one layer.
LayerCost = tuple[str, int, int]


@dataclass(frozen=True)
class LatencyModel:
    """Seconds to predict one row: see the module docstring.

    Examples
    --------
    >>> model = LatencyModel(1e-5, {"dense": 2e-6}, {"dense": 1e-9}, {"dense": 1e-8})
    >>> round(model.estimate([("dense", 1000, 10), ("dense", 30, 3)]) * 1e6, 3)
    15.16
    """

    per_network: float
    per_layer: dict[str, float] = field(default_factory=dict)
    per_mac: dict[str, float] = field(default_factory=dict)
    per_output: dict[str, float] = field(default_factory=dict)

    def estimate(self, layers: Iterable[LayerCost]) -> float:
        """Estimated seconds to predict one row with a network of these layers."""
        total = self.per_network
        for kind, macs, outputs in layers:
            key = kind if kind in self.per_layer else "dense"
            total += self.per_layer.get(key, 0.0)
            total += self.per_mac.get(key, 0.0) * macs + self.per_output.get(key, 0.0) * outputs
        return total

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``run.json``'s ``latency_model``)."""
        return {
            "per_network": self.per_network,
            "per_layer": dict(self.per_layer),
            "per_mac": dict(self.per_mac),
            "per_output": dict(self.per_output),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LatencyModel:
        """Read :meth:`to_dict`'s form back (``KeyError`` / ``ValueError`` if damaged)."""
        model = cls(
            float(data["per_network"]),
            {str(k): float(v) for k, v in data["per_layer"].items()},
            {str(k): float(v) for k, v in data["per_mac"].items()},
            {str(k): float(v) for k, v in data["per_output"].items()},
        )
        values = [model.per_network, *model.per_layer.values(), *model.per_mac.values()]
        if not all(math.isfinite(v) and v >= 0 for v in [*values, *model.per_output.values()]):
            raise ValueError(f"latency model coefficients must be finite and >= 0: {data}")
        return model


#: A model of the machine the defaults were measured on (2-core EPYC VM, numpy + OpenBLAS, one
#: thread): what objectives read when no run calibrated one (tests, tables of old runs).
DEFAULT_LATENCY_MODEL = LatencyModel(
    per_network=9e-5, per_layer={"dense": 8e-6}, per_mac={"dense": 3e-10},
    per_output={"dense": 5e-9},
)  # fmt: skip

# Chains of dense layers timed by the calibration: (input width, hidden widths, outputs).
_GRID = [
    (w, hidden, o)
    for w in (8, 64, 512)
    for hidden in ((), (16,), (128,), (512,), (64, 64), (256, 256))
    for o in (2, 10)
]


def _chain(widths: tuple[int, ...]) -> dict[str, Any]:
    layers = [{"id": 2 + i, "units": u, "activation": "relu"} for i, u in enumerate(widths)]
    ids = [0, *(2 + i for i in range(len(widths))), 1]
    return {"layers": layers, "edges": [[a, b] for a, b in itertools.pairwise(ids)]}


def _time_one_row(model: Any, x: np.ndarray, repeats: int) -> float:
    model.predict_proba(x)  # warm up (allocations, BLAS paths)
    best = math.inf
    # The fastest of single calls: what the machine can do, least disturbed by other load.
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_proba(x)
        best = min(best, time.perf_counter() - start)
    return best


def _measure(
    n_in: int,
    hidden: tuple[int, ...],
    n_out: int,
    rng: np.random.Generator,
    repeats: int,
    rows: list[list[float]],
    times: list[float],
) -> None:
    """Time one chain and add its cost features and seconds to ``rows`` and ``times``."""
    from evosearch.nn.estimator import GraphNetClassifier

    X, y = rng.normal(size=(40, n_in)), np.arange(40) % n_out
    # One epoch: the weights' values do not matter, only the shapes.
    model = GraphNetClassifier(_chain(hidden), max_epochs=1, early_stopping=False, random_state=0)
    model.fit(X, y)
    steps = model._steps
    macs = sum(s.kind.macs(s.attrs, s.in_shape) for s in steps)
    outputs = sum(math.prod(s.out_shape) for s in steps)
    rows.append([1.0, float(len(steps)), float(macs), float(outputs)])
    times.append(_time_one_row(model, rng.normal(size=(1, n_in)), repeats))


def calibrate(repeats: int = 40, seed: int = 0) -> LatencyModel:
    """Time one-row predictions of small dense chains here and fit :class:`LatencyModel`.

    A least-squares fit with non-negative coefficients (a negative one is dropped and the rest
    refit) over about 36 networks; takes about a second.
    """
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    rows: list[list[float]] = []
    times: list[float] = []
    with threadpool_limits(limits=1):  # as predictions run in evaluation workers and refits
        for n_in, hidden, n_out in _GRID:
            _measure(n_in, hidden, n_out, rng, repeats, rows, times)
    A, t = np.array(rows), np.array(times)
    active = list(range(4))
    while True:
        coef, *_ = np.linalg.lstsq(A[:, active], t, rcond=None)
        if (coef >= 0).all() or len(active) == 1:
            break
        active.pop(int(np.argmin(coef)))
    full = np.zeros(4)
    full[active] = np.maximum(coef, 0.0)
    return LatencyModel(
        float(full[0]), {"dense": float(full[1])}, {"dense": float(full[2])},
        {"dense": float(full[3])},
    )  # fmt: skip
