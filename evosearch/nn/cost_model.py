"""A cost model of a machine's prediction latency, calibrated once and then only read.

Measured timings differ from run to run, so a search that ranked genomes by measured latency
would not be reproducible (resume, ``n_jobs``). Instead the machine is timed once, predicting one
row with small networks (``GraphNetClassifier.predict_proba`` of one row, input validation
included, one BLAS thread; preprocessing before the network is not counted), a linear cost model
is fitted to the timings, and every genome's latency is estimated from its layer shapes with that
model. A run records the model it used in ``run.json``; the model itself comes from a file
(``evosearch calibrate --out FILE``, :mod:`evosearch.nn.latency_files`), from the machine's cache
(so two fresh runs on one machine agree) or from a calibration for that run alone.

The model: one prediction of one row costs ``per_network`` seconds plus, for each layer of kind
``k``, ``per_layer[k] + per_mac[k] * macs + per_output[k] * outputs + per_copy[k] * copies``
(multiply-adds, output values and the array copies the layer makes besides its product, from the
layer's shapes: :func:`layer_cost`). ``dense``, ``conv2d``, ``pool`` and ``global_pool`` are
calibrated on networks of their own; kinds a model has no coefficients for use ``dense``'s (their
multiply-adds still count), as every kind did in models from before conv and pool coefficients,
whose estimates are therefore unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CALIBRATED_KINDS", "DEFAULT_LATENCY_MODEL", "LatencyModel", "layer_cost"]

#: ``(kind, multiply-adds, output values[, copies])`` of one layer (copies: 0 when left out).
LayerCost = tuple[Any, ...]

#: The layer kinds a calibration times on networks of their own.
CALIBRATED_KINDS = ("dense", "conv2d", "pool", "global_pool")

_COEFFICIENTS = ("per_layer", "per_mac", "per_output", "per_copy")


@dataclass(frozen=True)
class LatencyModel:
    """Seconds to predict one row: see the module docstring.

    ``measured`` (when the timings were taken, ISO 8601 UTC) and ``machine`` (a description of
    where) say where a model comes from; they do not change an estimate.

    Examples
    --------
    >>> model = LatencyModel(1e-5, {"dense": 2e-6}, {"dense": 1e-9}, {"dense": 1e-8})
    >>> round(model.estimate([("dense", 1000, 10), ("dense", 30, 3)]) * 1e6, 3)
    15.16
    >>> conv = LatencyModel(1e-5, {"dense": 2e-6, "conv2d": 4e-6}, per_copy={"conv2d": 1e-6})
    >>> round(conv.estimate([("conv2d", 0, 0, 10), ("dense", 0, 0)]) * 1e6, 3)
    26.0
    """

    per_network: float
    per_layer: dict[str, float] = field(default_factory=dict)
    per_mac: dict[str, float] = field(default_factory=dict)
    per_output: dict[str, float] = field(default_factory=dict)
    per_copy: dict[str, float] = field(default_factory=dict)
    measured: str | None = None
    machine: str | None = None

    def estimate(self, layers: Iterable[LayerCost]) -> float:
        """Estimated seconds to predict one row with a network of these layers."""
        total = self.per_network
        for kind, macs, outputs, *rest in layers:
            key = kind if kind in self.per_layer else "dense"
            total += self.per_layer.get(key, 0.0)
            total += self.per_mac.get(key, 0.0) * macs + self.per_output.get(key, 0.0) * outputs
            if rest and rest[0]:
                total += self.per_copy.get(key, 0.0) * rest[0]
        return total

    def kinds(self) -> tuple[str, ...]:
        """The layer kinds with coefficients of their own (others use ``dense``'s)."""
        return tuple(self.per_layer)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``run.json``'s ``latency_model``, a model file's coefficients).

        ``per_copy``, ``measured`` and ``machine`` only where set, so a model of the old form
        writes what it always did."""
        data: dict[str, Any] = {
            "per_network": self.per_network,
            "per_layer": dict(self.per_layer),
            "per_mac": dict(self.per_mac),
            "per_output": dict(self.per_output),
        }
        if self.per_copy:
            data["per_copy"] = dict(self.per_copy)
        if self.measured is not None:
            data["measured"] = self.measured
        if self.machine is not None:
            data["machine"] = self.machine
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LatencyModel:
        """Read :meth:`to_dict`'s form back (``KeyError`` / ``ValueError`` if damaged)."""

        def table(name: str) -> dict[str, float]:
            return {str(k): float(v) for k, v in data[name].items()}

        model = cls(
            float(data["per_network"]),
            table("per_layer"),
            table("per_mac"),
            table("per_output"),
            table("per_copy") if "per_copy" in data else {},
            None if data.get("measured") is None else str(data["measured"]),
            None if data.get("machine") is None else str(data["machine"]),
        )
        values = [model.per_network]
        for name in _COEFFICIENTS:
            values.extend(getattr(model, name).values())
        if not all(math.isfinite(v) and v >= 0 for v in values):
            raise ValueError(f"latency model coefficients must be finite and >= 0: {data}")
        return model

    def describe(self) -> str:
        """One line per calibrated kind, in microseconds and nanoseconds, for people."""
        lines = [f"network: {self.per_network * 1e6:.1f} µs per prediction"]
        for kind in self.kinds():
            parts = [f"{self.per_layer[kind] * 1e6:.2f} µs per layer"]
            parts.append(f"{self.per_mac.get(kind, 0.0) * 1e9:.3f} ns per multiply-add")
            parts.append(f"{self.per_output.get(kind, 0.0) * 1e9:.2f} ns per output value")
            if kind in self.per_copy:
                parts.append(f"{self.per_copy[kind] * 1e6:.2f} µs per copy")
            lines.append(f"{kind}: {', '.join(parts)}")
        return "\n".join(lines)


def layer_cost(kind: Any, attrs: Mapping[str, Any], in_shape: tuple[int, ...]) -> LayerCost:
    """``(kind name, multiply-adds, output values, copies)`` of one layer on ``in_shape``.

    Copies are the array copies a layer makes besides its arithmetic, each costing a call
    whatever its size: a ``conv2d`` layer unfolds its patches with one strided copy per kernel
    offset (``kernel**2``), plus one into its zero-padded input when ``kernel > 1``; a 1x1
    convolution of stride 1 reads its input as it is (no copy). Other kinds make none.

    Examples
    --------
    >>> from evosearch.nn.layers import get_layer_kind
    >>> conv = get_layer_kind("conv2d")
    >>> attrs = {"filters": 4, "kernel": 3, "stride": 1, "activation": "relu", "dropout": 0.0}
    >>> layer_cost(conv, attrs, (8, 8, 1))
    ('conv2d', 2304, 256, 10)
    """
    out_shape = kind.output_shape(attrs, in_shape)
    copies = 0
    if kind.name == "conv2d":
        k, s = int(attrs["kernel"]), int(attrs["stride"])
        copies = 0 if k == 1 and s == 1 else k * k + (1 if k > 1 else 0)
    return (kind.name, int(kind.macs(attrs, in_shape)), int(math.prod(out_shape)), copies)


#: A model of the machine the defaults were measured on (2-core EPYC VM, numpy + OpenBLAS, one
#: thread): what a ``Latency`` objective made without a model reads (tests, plug-in code). A
#: run never uses it: it uses a model file, the machine cache or its own calibration.
DEFAULT_LATENCY_MODEL = LatencyModel(
    per_network=9e-5,
    per_layer={"dense": 8e-6, "conv2d": 1.9e-5, "pool": 1.5e-5, "global_pool": 1.5e-5},
    per_mac={"dense": 3e-10, "conv2d": 1.9e-10, "pool": 0.0, "global_pool": 0.0},
    per_output={"dense": 5e-9, "conv2d": 2.2e-9, "pool": 0.0, "global_pool": 0.0},
    per_copy={"conv2d": 1e-6},
)
