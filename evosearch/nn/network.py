"""GraphNet: a float32 numpy feed-forward network over a DAG of dense layers.

Vocabulary
----------
architecture
    A JSON-compatible dict ``{"layers": [...], "edges": [...]}``. Node ``0`` is the input (its width
    is the number of features), node ``1`` the output (softmax over the classes for
    classification, linear over the targets for regression). Every other node is a dense layer
    ``{"id": int >= 2, "units": int >= 1, "activation": str, "dropout": float in [0, 1)}``.
    Edges ``[u, v]`` are data flow.
invariants
    The graph is acyclic and every node lies on a path from ``0`` to ``1``. A node with several
    predecessors reads the concatenation of their outputs **in ascending predecessor id order**,
    so a dense node with input width ``d_in`` and ``units`` ``u`` owns ``d_in * u`` weights and
    ``u`` biases (see :func:`count_parameters`).

Implementation notes
--------------------
All parameters live in one contiguous float32 vector (weights of every node first, then every
bias); the per-node weight matrices are views into it. This keeps the optimiser step and the
weight penalties to a handful of vectorised operations whatever the depth of the graph, and
lets early stopping keep the best weights with a single copy. The forward and backward passes
follow an execution plan computed once per fit, and write into buffers preallocated per batch
size, so a training step allocates almost nothing. Training runs with one BLAS thread (see
``benchmarks/trainer.py``): these matrices are too small for more to pay off.
"""

from __future__ import annotations

import heapq
import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, MultiOutputMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_ARCHITECTURE",
    "OPTIMIZERS",
    "DivergenceError",
    "GraphNetClassifier",
    "GraphNetRegressor",
    "count_parameters",
]

ACTIVATIONS: tuple[str, ...] = ("relu", "tanh", "sigmoid", "elu", "leaky_relu")
"""Activations a hidden layer may use."""

OPTIMIZERS: tuple[str, ...] = (
    "sgd",
    "momentum",
    "nesterov",
    "adam",
    "adamax",
    "rmsprop",
    "adagrad",
)
"""Names accepted by the ``optimizer`` parameter."""

DEFAULT_ARCHITECTURE: dict[str, Any] = {
    "layers": [{"id": 2, "units": 100, "activation": "relu", "dropout": 0.0}],
    "edges": [[0, 2], [2, 1]],
}
"""What ``architecture=None`` means: one hidden layer of 100 relu units (like MLPClassifier)."""

INPUT_ID = 0
OUTPUT_ID = 1
_F32 = np.float32
_LEAKY_SLOPE = 0.01
# Rows per forward pass at predict time: bounds memory on large inputs.
_PREDICT_CHUNK = 4096

Array = NDArray[Any]
_Est = TypeVar("_Est", bound="_BaseGraphNet")


class DivergenceError(ArithmeticError):
    """The training loss became NaN or infinite (typically a learning rate that is too high)."""


# --------------------------------------------------------------------------------------------
# Architecture parsing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """One dense node of the execution plan, in topological order.

    ``preds`` are buffer indices (0 is the input, ``k + 1`` is the output of step ``k``), in
    ascending node id order; ``rows[i]`` is the row range of the weight matrix that reads
    ``preds[i]``.
    """

    node_id: int
    units: int
    activation: str  # one of ACTIVATIONS, or "output" for node 1
    dropout: float
    preds: tuple[int, ...]
    rows: tuple[tuple[int, int], ...]
    fan_in: int


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _bad(message: str) -> ValueError:
    return ValueError(f"invalid architecture: {message}")


def _parse_architecture(
    architecture: Mapping[str, Any] | None, n_inputs: int, n_outputs: int
) -> list[_Step]:
    """Validate an architecture spec and return its execution plan (output step last)."""
    if not _is_int(n_inputs) or n_inputs < 1:
        raise ValueError(f"n_inputs must be a positive int, got {n_inputs!r}")
    if not _is_int(n_outputs) or n_outputs < 1:
        raise ValueError(f"n_outputs must be a positive int, got {n_outputs!r}")
    if architecture is None:
        architecture = DEFAULT_ARCHITECTURE
    if not isinstance(architecture, Mapping):
        raise _bad(f"expected a dict with 'layers' and 'edges', got {type(architecture).__name__}")
    missing = [key for key in ("layers", "edges") if key not in architecture]
    if missing:
        raise _bad(f"missing key(s) {missing}")

    layers: dict[int, tuple[int, str, float]] = {}
    for layer in architecture["layers"]:
        if not isinstance(layer, Mapping) or "id" not in layer:
            raise _bad(f"each layer must be a dict with an 'id', got {layer!r}")
        node_id = layer["id"]
        if not _is_int(node_id) or node_id < 2:
            raise _bad(f"hidden layer ids must be ints >= 2, got {node_id!r}")
        node_id = int(node_id)
        if node_id in layers:
            raise _bad(f"duplicate layer id {node_id}")
        units: Any = layer.get("units")
        if not _is_int(units) or units < 1:
            raise _bad(f"layer {node_id} has bad units {units!r} (need an int >= 1)")
        activation = layer.get("activation", "relu")
        if activation not in ACTIVATIONS:
            raise _bad(
                f"layer {node_id} has unknown activation {activation!r} "
                f"(choose from {', '.join(ACTIVATIONS)})"
            )
        dropout: Any = layer.get("dropout", 0.0)
        if (
            not isinstance(dropout, numbers.Real)
            or isinstance(dropout, bool)
            or not 0.0 <= float(dropout) < 1.0
        ):
            raise _bad(f"layer {node_id} has bad dropout {dropout!r} (need 0 <= dropout < 1)")
        layers[node_id] = (int(units), str(activation), float(dropout))

    known = {INPUT_ID, OUTPUT_ID, *layers}
    preds: dict[int, list[int]] = {node: [] for node in known}
    succs: dict[int, list[int]] = {node: [] for node in known}
    seen_edges: set[tuple[int, int]] = set()
    for edge in architecture["edges"]:
        if len(edge) != 2 or not all(_is_int(end) for end in edge):
            raise _bad(f"each edge must be a pair of node ids, got {edge!r}")
        src, dst = int(edge[0]), int(edge[1])
        for end in (src, dst):
            if end not in known:
                raise _bad(f"edge [{src}, {dst}] refers to unknown node {end}")
        if dst == INPUT_ID:
            raise _bad(f"edge [{src}, {dst}] enters the input node 0")
        if src == OUTPUT_ID:
            raise _bad(f"edge [{src}, {dst}] leaves the output node 1")
        if (src, dst) in seen_edges:
            raise _bad(f"duplicate edge [{src}, {dst}]")
        seen_edges.add((src, dst))
        preds[dst].append(src)
        succs[src].append(dst)

    # Kahn's algorithm with a min-heap: a deterministic order and cycle detection in one pass.
    indegree = {node: len(preds[node]) for node in known}
    ready = [node for node in known if indegree[node] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for nxt in succs[node]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, nxt)
    if len(order) != len(known):
        cyclic = sorted(node for node in known if indegree[node] > 0)
        raise _bad(f"the graph has a cycle through nodes {cyclic}")

    from_input = _reachable(INPUT_ID, succs)
    to_output = _reachable(OUTPUT_ID, preds)
    if OUTPUT_ID not in from_input:
        raise _bad("there is no path from input node 0 to output node 1")
    off_path = sorted(node for node in layers if node not in from_input or node not in to_output)
    if off_path:
        raise _bad(f"layer(s) {off_path} not on a path from input node 0 to output node 1")

    # Every node is an ancestor of the output, so the output comes last in the order.
    width = {INPUT_ID: n_inputs}
    buffer_of = {INPUT_ID: 0}
    steps: list[_Step] = []
    for node in order[1:]:
        if node == OUTPUT_ID:
            units, activation, dropout = n_outputs, "output", 0.0
        else:
            units, activation, dropout = layers[node]
        rows = []
        start = 0
        for pred in sorted(preds[node]):
            rows.append((start, start + width[pred]))
            start += width[pred]
        steps.append(
            _Step(
                node_id=node,
                units=units,
                activation=activation,
                dropout=dropout,
                preds=tuple(buffer_of[pred] for pred in sorted(preds[node])),
                rows=tuple(rows),
                fan_in=start,
            )
        )
        width[node] = units
        buffer_of[node] = len(steps)
    return steps


def _reachable(start: int, neighbours: Mapping[int, list[int]]) -> set[int]:
    seen = {start}
    stack = [start]
    while stack:
        for nxt in neighbours[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def count_parameters(architecture: Mapping[str, Any] | None, n_inputs: int, n_outputs: int) -> int:
    """Number of weights and biases of the network an architecture spec decodes to.

    Parameters
    ----------
    architecture : dict or None
        The spec (see the module docstring); ``None`` means :data:`DEFAULT_ARCHITECTURE`.
    n_inputs : int
        Number of input features (width of node 0).
    n_outputs : int
        Width of the output node: the number of classes for classification (2 for a binary
        problem, the output is always a softmax) or the number of targets for regression.

    Returns
    -------
    int
        ``sum(d_in * units + units)`` over the hidden and output nodes, where ``d_in`` is the
        summed width of a node's predecessors.

    Raises
    ------
    ValueError
        If the architecture is invalid.

    Examples
    --------
    >>> count_parameters({"layers": [{"id": 2, "units": 8}], "edges": [[0, 2], [2, 1]]}, 4, 3)
    67
    """
    return sum(
        step.fan_in * step.units + step.units
        for step in _parse_architecture(architecture, n_inputs, n_outputs)
    )


# --------------------------------------------------------------------------------------------
# Forward / backward machinery
# --------------------------------------------------------------------------------------------


class _Workspace:
    """Buffers for one batch size ``m``; ``grad`` and dropout buffers only when training."""

    def __init__(
        self, steps: list[_Step], m: int, train: bool, dtype: type[np.floating[Any]] = _F32
    ) -> None:
        self.m = m
        self.pre = [np.empty((m, s.units), dtype) for s in steps]  # activation before dropout
        self.scratch = [np.empty((m, s.units), dtype) for s in steps]
        self.concat = [np.empty((m, s.fan_in), dtype) if len(s.preds) > 1 else None for s in steps]
        self.dropmask: list[Array | None] = [None] * len(steps)
        self.dropkeep: list[Array | None] = [None] * len(steps)
        self.dropped: list[Array | None] = [None] * len(steps)
        # acts[0] is the current input batch; acts[k + 1] what step k passes on.
        self.acts: list[Array] = [np.empty((m, 0), dtype)]
        for k, s in enumerate(steps):
            if train and s.dropout > 0.0:
                self.dropmask[k] = np.empty((m, s.units), _F32)
                self.dropkeep[k] = np.empty((m, s.units), np.bool_)
                self.dropped[k] = np.empty((m, s.units), _F32)
                self.acts.append(self.dropped[k])  # type: ignore[arg-type]
            else:
                self.acts.append(self.pre[k])
        self.bool_buf = [np.empty((m, s.units), np.bool_) for s in steps] if train else []
        # The output step's delta is computed in place of its (no longer needed) outputs.
        self.grad = [np.empty((m, s.units), _F32) for s in steps[:-1]] + [self.pre[-1]]
        self.ones = np.ones(m, _F32)
        self.col = np.empty(m, _F32)
        self.rows = np.arange(m)


def _activate(name: str, a: Array, scratch: Array) -> None:
    """Apply an activation in place."""
    if name == "relu":
        np.maximum(a, 0.0, out=a)
    elif name == "tanh":
        np.tanh(a, out=a)
    elif name == "sigmoid":
        expit(a, out=a)
    elif name == "elu":
        np.minimum(a, 0.0, out=scratch)
        np.expm1(scratch, out=scratch)
        np.maximum(a, 0.0, out=a)
        a += scratch
    elif name == "leaky_relu":
        np.multiply(a, _LEAKY_SLOPE, out=scratch)
        np.maximum(a, scratch, out=a)
    # "output": logits / linear outputs stay as they are.


def _activation_grad(name: str, a: Array, g: Array, scratch: Array, flags: Array) -> None:
    """Multiply ``g`` in place by the activation's derivative, expressed via its output ``a``."""
    if name == "relu":
        np.greater(a, 0.0, out=flags)
        np.multiply(g, flags, out=g)
    elif name == "tanh":
        np.multiply(a, a, out=scratch)
        np.subtract(1.0, scratch, out=scratch)
        g *= scratch
    elif name == "sigmoid":
        np.subtract(1.0, a, out=scratch)
        scratch *= a
        g *= scratch
    elif name == "elu":
        # For z <= 0, a = exp(z) - 1 so the derivative exp(z) is a + 1; for z > 0 it is 1.
        np.minimum(a, 0.0, out=scratch)
        scratch += 1.0
        g *= scratch
    elif name == "leaky_relu":
        np.greater(a, 0.0, out=flags)
        np.multiply(flags, 1.0 - _LEAKY_SLOPE, out=scratch)
        scratch += _LEAKY_SLOPE
        g *= scratch


class _Network:
    """Weights plus execution plan; runs forward and backward passes on a workspace."""

    def __init__(self, steps: list[_Step], weights: list[Array], biases: list[Array]) -> None:
        self.steps = steps
        self.weights = weights
        self.biases = biases
        # For each step, the non-input predecessors that receive a gradient, with a flag saying
        # whether this is the first contribution in the backward order (then it overwrites).
        written: set[int] = set()
        back: list[list[tuple[int, int, int, bool]]] = [[] for _ in steps]
        for k in reversed(range(len(steps))):
            for pred, (r0, r1) in zip(steps[k].preds, steps[k].rows, strict=True):
                if pred == 0:
                    continue  # the input needs no gradient
                back[k].append((pred - 1, r0, r1, pred not in written))
                written.add(pred)
        self.back = back

    def forward(self, ws: _Workspace, x: Array, rng: np.random.Generator | None) -> Array:
        """Compute every node's output for the batch ``x``; dropout only when ``rng`` is given.

        Returns the output step's pre-activation (logits or regression outputs).
        """
        acts = ws.acts
        acts[0] = x
        for k, step in enumerate(self.steps):
            inp = self._gather_input(ws, k)
            out = ws.pre[k]
            np.dot(inp, self.weights[k], out=out)
            out += self.biases[k]
            _activate(step.activation, out, ws.scratch[k])
            if rng is not None and step.dropout > 0.0:
                mask, keep, dropped = ws.dropmask[k], ws.dropkeep[k], ws.dropped[k]
                assert mask is not None and keep is not None and dropped is not None
                rng.random(dtype=_F32, out=mask)
                np.greater_equal(mask, step.dropout, out=keep)
                # Inverted dropout: scale kept units so the expected activation is unchanged.
                np.multiply(keep, 1.0 / (1.0 - step.dropout), out=mask)
                np.multiply(out, mask, out=dropped)
        return ws.pre[-1]

    def _gather_input(self, ws: _Workspace, k: int) -> Array:
        step = self.steps[k]
        if len(step.preds) == 1:
            return ws.acts[step.preds[0]]
        buf = ws.concat[k]
        assert buf is not None
        for pred, (r0, r1) in zip(step.preds, step.rows, strict=True):
            buf[:, r0:r1] = ws.acts[pred]
        return buf

    def backward(self, ws: _Workspace, grad_w: list[Array], grad_b: list[Array]) -> None:
        """Backpropagate the output delta already stored in ``ws.grad[-1]``."""
        last = len(self.steps) - 1
        for k in range(last, -1, -1):
            step = self.steps[k]
            g = ws.grad[k]
            if k != last:
                mask = ws.dropmask[k]
                if mask is not None:
                    g *= mask
                _activation_grad(step.activation, ws.pre[k], g, ws.scratch[k], ws.bool_buf[k])
            inp = self._gather_input_for_backward(ws, k)
            np.dot(inp.T, g, out=grad_w[k])
            np.dot(ws.ones, g, out=grad_b[k])
            weights = self.weights[k]
            for target, r0, r1, first in self.back[k]:
                block = weights if r1 - r0 == weights.shape[0] else weights[r0:r1]
                if first:
                    np.dot(g, block.T, out=ws.grad[target])
                else:
                    np.dot(g, block.T, out=ws.scratch[target])
                    ws.grad[target] += ws.scratch[target]

    def _gather_input_for_backward(self, ws: _Workspace, k: int) -> Array:
        # The forward pass left the concatenation (or the single input) in place.
        step = self.steps[k]
        if len(step.preds) == 1:
            return ws.acts[step.preds[0]]
        buf = ws.concat[k]
        assert buf is not None
        return buf

    def predict_raw(self, x: Array) -> Array:
        """Output-layer values (logits or regression outputs) for ``x``, without dropout.

        Computed in the dtype of the weights.
        """
        n = x.shape[0]
        dtype = self.weights[0].dtype.type
        result = np.empty((n, self.steps[-1].units), dtype)
        ws: _Workspace | None = None
        for start in range(0, n, _PREDICT_CHUNK):
            stop = min(start + _PREDICT_CHUNK, n)
            if ws is None or ws.m != stop - start:
                ws = _Workspace(self.steps, stop - start, train=False, dtype=dtype)
            result[start:stop] = self.forward(ws, x[start:stop], None)
        return result


# --------------------------------------------------------------------------------------------
# Optimisers: in-place updates of one flat parameter vector
# --------------------------------------------------------------------------------------------


class _Optimizer:
    """Updates a flat float32 parameter vector in place from its gradient."""

    def __init__(self, size: int, learning_rate: float) -> None:
        self.lr = float(learning_rate)
        self.tmp = np.empty(size, _F32)

    def step(self, params: Array, grad: Array) -> None:
        raise NotImplementedError


class _SGD(_Optimizer):
    def step(self, params: Array, grad: Array) -> None:
        np.multiply(grad, self.lr, out=self.tmp)
        params -= self.tmp


class _Momentum(_Optimizer):
    """Heavy-ball momentum (0.9); ``nesterov`` uses scikit-learn's look-ahead form."""

    def __init__(self, size: int, learning_rate: float, nesterov: bool) -> None:
        super().__init__(size, learning_rate)
        self.velocity = np.zeros(size, _F32)
        self.nesterov = nesterov
        self.mu = 0.9

    def step(self, params: Array, grad: Array) -> None:
        v, tmp = self.velocity, self.tmp
        v *= self.mu
        np.multiply(grad, self.lr, out=tmp)
        v -= tmp
        if self.nesterov:
            params -= tmp
            np.multiply(v, self.mu, out=tmp)
            params += tmp
        else:
            params += v


class _Adam(_Optimizer):
    def __init__(self, size: int, learning_rate: float) -> None:
        super().__init__(size, learning_rate)
        self.b1, self.b2, self.eps = 0.9, 0.999, 1e-8
        self.m = np.zeros(size, _F32)
        self.v = np.zeros(size, _F32)
        self.t = 0

    def step(self, params: Array, grad: Array) -> None:
        m, v, tmp = self.m, self.v, self.tmp
        self.t += 1
        m *= self.b1
        np.multiply(grad, 1.0 - self.b1, out=tmp)
        m += tmp
        v *= self.b2
        np.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - self.b2
        v += tmp
        # Bias correction folded into the step size, as in the paper and scikit-learn.
        lr_t = self.lr * math.sqrt(1.0 - self.b2**self.t) / (1.0 - self.b1**self.t)
        np.sqrt(v, out=tmp)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= lr_t
        params -= tmp


class _Adamax(_Optimizer):
    def __init__(self, size: int, learning_rate: float) -> None:
        super().__init__(size, learning_rate)
        self.b1, self.b2, self.eps = 0.9, 0.999, 1e-8
        self.m = np.zeros(size, _F32)
        self.u = np.zeros(size, _F32)
        self.t = 0

    def step(self, params: Array, grad: Array) -> None:
        m, u, tmp = self.m, self.u, self.tmp
        self.t += 1
        m *= self.b1
        np.multiply(grad, 1.0 - self.b1, out=tmp)
        m += tmp
        u *= self.b2
        np.abs(grad, out=tmp)
        np.maximum(u, tmp, out=u)
        np.add(u, self.eps, out=tmp)
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1.0 - self.b1**self.t)
        params -= tmp


class _RMSprop(_Optimizer):
    def __init__(self, size: int, learning_rate: float, rho: float | None) -> None:
        super().__init__(size, learning_rate)
        # rho=None gives Adagrad: squared gradients accumulate without decay.
        self.rho = rho
        self.eps = 1e-8
        self.v = np.zeros(size, _F32)

    def step(self, params: Array, grad: Array) -> None:
        v, tmp = self.v, self.tmp
        np.multiply(grad, grad, out=tmp)
        if self.rho is not None:
            v *= self.rho
            tmp *= 1.0 - self.rho
        v += tmp
        np.sqrt(v, out=tmp)
        tmp += self.eps
        np.divide(grad, tmp, out=tmp)
        tmp *= self.lr
        params -= tmp


def _make_optimizer(name: str, size: int, learning_rate: float) -> _Optimizer:
    if name == "sgd":
        return _SGD(size, learning_rate)
    if name in ("momentum", "nesterov"):
        return _Momentum(size, learning_rate, nesterov=name == "nesterov")
    if name == "adam":
        return _Adam(size, learning_rate)
    if name == "adamax":
        return _Adamax(size, learning_rate)
    if name == "rmsprop":
        return _RMSprop(size, learning_rate, rho=0.9)
    if name == "adagrad":
        return _RMSprop(size, learning_rate, rho=None)
    raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")


# --------------------------------------------------------------------------------------------
# Estimators
# --------------------------------------------------------------------------------------------


def _r2(pred: Array, target: Array, ss_tot: Array) -> float:
    """Uniform-average R² (as :func:`sklearn.metrics.r2_score`, with finite fallbacks)."""
    ss_res = np.sum((target.astype(np.float64) - pred) ** 2, axis=0)
    scores = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), 0.0)
    scores = np.where((ss_tot == 0) & (ss_res == 0), 1.0, scores)
    return float(np.mean(scores))


def _iter_blocks(
    steps: list[_Step], weights: list[Array], biases: list[Array]
) -> Iterator[tuple[str, Array]]:
    """``(key, view)`` for every per-edge weight block and bias, keyed as ``initial_weights``."""
    node_of_buffer = [INPUT_ID, *(s.node_id for s in steps)]
    for s, w, b in zip(steps, weights, biases, strict=True):
        for pred, (r0, r1) in zip(s.preds, s.rows, strict=True):
            yield f"w:{node_of_buffer[pred]}:{s.node_id}", w[r0:r1]
        yield f"b:{s.node_id}", b


class _BaseGraphNet(BaseEstimator):
    """Shared fitting machinery; subclasses define the output layer and the loss.

    Parameters are documented on :class:`GraphNetClassifier`.
    """

    _is_classifier = False

    def __init__(
        self,
        architecture: dict[str, Any] | None = None,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        l1: float = 0.0,
        l2: float = 1e-4,
        batch_size: int = 200,
        max_epochs: int = 200,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        patience: int = 10,
        tol: float = 1e-4,
        random_state: int | np.random.Generator | None = None,
        initial_weights: Mapping[str, Array] | None = None,
    ) -> None:
        self.architecture = architecture
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.l1 = l1
        self.l2 = l2
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tol = tol
        self.random_state = random_state
        self.initial_weights = initial_weights

    # ---- hooks -------------------------------------------------------------------------------

    def _encode_targets(self, y: Array) -> tuple[Array, Array | None, dict[str, Any]]:
        """Return float32 2-D training targets, int class indices (or None), and the
        target-related attributes to set once fitting succeeds."""
        raise NotImplementedError

    # ---- fitting -----------------------------------------------------------------------------

    def _check_params(self) -> None:
        if self.initial_weights is not None and not isinstance(self.initial_weights, Mapping):
            raise ValueError(
                "initial_weights must be None or a mapping of block keys ('w:{pred}:{node}', "
                f"'b:{{node}}') to arrays; got {type(self.initial_weights).__name__}"
            )
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}"
            )
        checks = [
            ("learning_rate", self.learning_rate, lambda v: v > 0, "> 0"),
            ("l1", self.l1, lambda v: v >= 0, ">= 0"),
            ("l2", self.l2, lambda v: v >= 0, ">= 0"),
            ("tol", self.tol, lambda v: v >= 0, ">= 0"),
            ("validation_fraction", self.validation_fraction, lambda v: 0 < v < 1, "in (0, 1)"),
        ]
        for name, value, ok, rule in checks:
            if (
                not isinstance(value, numbers.Real)
                or isinstance(value, bool)
                or not math.isfinite(value)
                or not ok(value)
            ):
                raise ValueError(f"{name} must be a finite number {rule}; got {value!r}")
        for name, value in (
            ("batch_size", self.batch_size),
            ("max_epochs", self.max_epochs),
            ("patience", self.patience),
        ):
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name} must be an int >= 1; got {value!r}")

    def fit(self: _Est, X: Any, y: Any) -> _Est:
        """Train the network on ``X``, ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; cast to float32 once.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Class labels (classifier) or targets (regressor).

        Returns
        -------
        self
            The fitted estimator.

        Raises
        ------
        ValueError
            If a parameter or the architecture is invalid, or the data are unusable.
        DivergenceError
            If the training loss becomes NaN or infinite.
        """
        self._check_params()
        X, y = validate_data(
            self,
            X,
            y,
            dtype=_F32,
            order="C",
            y_numeric=not self._is_classifier,
            multi_output=not self._is_classifier,
        )
        targets, class_index, target_attrs = self._encode_targets(y)
        steps = _parse_architecture(self.architecture, X.shape[1], targets.shape[1])
        # A Generator from default_rng, never numpy's global state. An int or None seeds a new
        # one; a Generator passed in is used (and advanced) as is.
        rng = np.random.default_rng(self.random_state)

        x_train, t_train, c_train, validation = self._split(X, targets, class_index, rng)
        net, flat, grad_w, grad_b, grad = self._init_network(steps, rng, self.initial_weights)
        n_weights = sum(w.size for w in net.weights)
        # One BLAS thread: at these matrix sizes (batch <= a few hundred rows, <= 512 units) a
        # second thread gains ~10% on an idle machine and, since OpenBLAS threads spin while
        # they wait, costs 10-20x when another process holds a core (an evaluation worker next
        # to a refit in the main process). It also makes a fit compute the same way wherever
        # it runs: evaluation workers use one thread too.
        with threadpool_limits(limits=1, user_api="blas"):
            losses, scores, val_losses, best = self._train(net, flat, grad, grad_w, grad_b,
                n_weights, x_train, t_train, c_train, validation, rng)  # fmt: skip

        # Fitted attributes are set only once training succeeded.
        self.loss_curve_ = losses
        self.validation_scores_ = scores
        self.validation_losses_ = val_losses
        self.best_validation_score_ = best
        self.n_epochs_ = len(losses)
        for name, value in target_attrs.items():
            setattr(self, name, value)
        self.n_outputs_ = int(targets.shape[1])
        self._steps = steps
        self.n_params_ = int(flat.size)
        self.coefs_ = {s.node_id: w for s, w in zip(steps, net.weights, strict=True)}
        self.intercepts_ = {s.node_id: b for s, b in zip(steps, net.biases, strict=True)}
        return self

    def _split(
        self, X: Array, targets: Array, class_index: Array | None, rng: np.random.Generator
    ) -> tuple[Array, Array, Array | None, tuple[Array, Array, Array | None] | None]:
        """Hold out the early-stopping validation slice (stratified for classifiers if possible).

        With fewer than 2 validation samples or no training sample left, early stopping is
        skipped and all data are used for training.
        """
        n = X.shape[0]
        n_val = math.ceil(self.validation_fraction * n)
        if not self.early_stopping or n_val < 2 or n - n_val < 1:
            return X, targets, class_index, None
        seed = int(rng.integers(2**32 - 1))
        indices = np.arange(n)
        try:
            train_idx, val_idx = train_test_split(
                indices, test_size=n_val, random_state=seed, stratify=class_index
            )
        except ValueError:  # a class too small to stratify: fall back to a plain split
            train_idx, val_idx = train_test_split(indices, test_size=n_val, random_state=seed)
        train_idx = np.sort(train_idx)

        def take(a: Array | None, idx: Array) -> Array | None:
            return None if a is None else np.ascontiguousarray(a[idx])

        validation = (X[val_idx], targets[val_idx], take(class_index, val_idx))
        return X[train_idx], targets[train_idx], take(class_index, train_idx), validation

    @staticmethod
    def _init_network(
        steps: list[_Step],
        rng: np.random.Generator,
        initial_weights: Mapping[str, Any] | None = None,
    ) -> tuple[_Network, Array, list[Array], list[Array], Array]:
        """Glorot-uniform initialisation as scikit-learn's MLP (factor 2 for sigmoid, else 6),
        then the blocks of ``initial_weights`` whose keys and shapes match copied over it."""
        n_weights = sum(s.fan_in * s.units for s in steps)
        n_params = n_weights + sum(s.units for s in steps)
        flat = np.empty(n_params, _F32)
        grad = np.empty(n_params, _F32)
        weights, biases, grad_w, grad_b = [], [], [], []
        w_at, b_at = 0, n_weights
        for s in steps:
            size = s.fan_in * s.units
            weights.append(flat[w_at : w_at + size].reshape(s.fan_in, s.units))
            grad_w.append(grad[w_at : w_at + size].reshape(s.fan_in, s.units))
            biases.append(flat[b_at : b_at + s.units])
            grad_b.append(grad[b_at : b_at + s.units])
            factor = 2.0 if s.activation == "sigmoid" else 6.0
            bound = math.sqrt(factor / (s.fan_in + s.units))
            weights[-1][...] = rng.uniform(-bound, bound, (s.fan_in, s.units))
            biases[-1][...] = rng.uniform(-bound, bound, s.units)
            w_at += size
            b_at += s.units
        if initial_weights:
            # Inherited blocks overwrite the random ones only after every draw was made, so the
            # random stream (shuffling, dropout) is the same with or without inheritance.
            for key, block in _iter_blocks(steps, weights, biases):
                value = initial_weights.get(key)
                if value is None:
                    continue
                value = np.asarray(value)
                # A layer whose width changed since the parent cannot reuse its weights.
                if value.shape == block.shape:
                    block[...] = value.astype(_F32, copy=False)
        return _Network(steps, weights, biases), flat, grad_w, grad_b, grad

    def weight_blocks(self) -> dict[str, Array]:
        """Copies of the fitted weights, split per edge, in the ``initial_weights`` format.

        Passing the result as ``initial_weights`` to a new estimator starts its training from
        these weights wherever its architecture has the same edges and layer widths.

        Returns
        -------
        dict of str to ndarray
            ``"w:{pred_id}:{node_id}"`` is the float32 block of shape ``(units of pred, units of
            node)`` of node ``node_id``'s weight matrix that reads node ``pred_id``'s output
            (node ``0`` is the input, so its blocks have ``n_features_in_`` rows), one per edge;
            ``"b:{node_id}"`` is the float32 bias of shape ``(units,)`` of each hidden and
            output node. The arrays are copies: changing them does not change the estimator.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        """
        check_is_fitted(self)
        weights = [self.coefs_[s.node_id] for s in self._steps]
        biases = [self.intercepts_[s.node_id] for s in self._steps]
        return {key: block.copy() for key, block in _iter_blocks(self._steps, weights, biases)}

    def _train(
        self,
        net: _Network,
        flat: Array,
        grad: Array,
        grad_w: list[Array],
        grad_b: list[Array],
        n_weights: int,
        x_train: Array,
        t_train: Array,
        c_train: Array | None,
        validation: tuple[Array, Array, Array | None] | None,
        rng: np.random.Generator,
    ) -> tuple[list[float], list[float] | None, list[float] | None, float | None]:
        """Run the epochs; return the loss curve, validation scores and losses, best score."""
        n = x_train.shape[0]
        batch = min(int(self.batch_size), n)
        steps = net.steps
        ws_full = _Workspace(steps, batch, train=True)
        ws_last = _Workspace(steps, n % batch, train=True) if n % batch else ws_full
        optimizer = _make_optimizer(self.optimizer, flat.size, self.learning_rate)
        l1, l2 = float(self.l1), float(self.l2)
        w_flat, gw_flat = flat[:n_weights], grad[:n_weights]
        w_tmp = np.empty(n_weights, _F32) if (l1 or l2) else w_flat
        xs, ts = np.empty_like(x_train), np.empty_like(t_train)
        cs = None if c_train is None else np.empty_like(c_train)

        val_ws = None
        if validation is not None:
            x_val, t_val, c_val = validation
            if c_val is None:
                t_val64 = t_val.astype(np.float64)
                ss_tot = np.sum((t_val64 - t_val64.mean(axis=0)) ** 2, axis=0)
            val_ws = _Workspace(steps, x_val.shape[0], train=False)
            best_flat = flat.copy()
            best_score = -np.inf
            best_loss = np.inf
        scores: list[float] = []
        val_losses: list[float] = []
        losses: list[float] = []
        no_improvement = 0

        # Non-finite values are detected explicitly (DivergenceError), so numpy's warnings about
        # them would only be noise.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for epoch in range(self.max_epochs):
                perm = rng.permutation(n)
                np.take(x_train, perm, axis=0, out=xs)
                np.take(t_train, perm, axis=0, out=ts)
                if cs is not None and c_train is not None:
                    np.take(c_train, perm, axis=0, out=cs)
                total = 0.0
                for start in range(0, n, batch):
                    stop = min(start + batch, n)
                    m = stop - start
                    ws = ws_full if m == batch else ws_last
                    out = net.forward(ws, xs[start:stop], rng)
                    loss = self._loss_and_delta(
                        ws, out, ts[start:stop], None if cs is None else cs[start:stop]
                    )
                    if l2:
                        loss += 0.5 * l2 * float(np.dot(w_flat, w_flat)) / m
                    if l1:
                        loss += l1 * float(np.abs(w_flat, out=w_tmp).sum()) / m
                    if not math.isfinite(loss):
                        raise DivergenceError(
                            f"training loss became {loss} in epoch {epoch + 1}; "
                            f"try a smaller learning_rate (now {self.learning_rate})"
                        )
                    total += loss * m
                    net.backward(ws, grad_w, grad_b)
                    # Penalties on weights only, divided by the batch size like MLP's alpha.
                    if l2:
                        np.multiply(w_flat, l2 / m, out=w_tmp)
                        gw_flat += w_tmp
                    if l1:
                        np.sign(w_flat, out=w_tmp)
                        w_tmp *= l1 / m
                        gw_flat += w_tmp
                    optimizer.step(flat, grad)
                losses.append(total / n)

                if val_ws is not None:
                    pred = net.forward(val_ws, x_val, None)
                    if c_val is not None:
                        score = float(np.mean(np.argmax(pred, axis=1) == c_val))
                        # forward() leaves logits: cross-entropy via a stable log-sum-exp.
                        logits = pred.astype(np.float64)
                        top = logits.max(axis=1)
                        log_norm = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
                        picked = logits[np.arange(logits.shape[0]), c_val]
                        val_loss = float(np.mean(log_norm - picked))
                    else:
                        score = _r2(pred, t_val, ss_tot)
                        val_loss = 0.5 * float(np.mean(np.sum((pred - t_val) ** 2, axis=-1)))
                    scores.append(score)
                    val_losses.append(val_loss)
                    # Validation *loss* decides: accuracy on a small slice plateaus within a few
                    # epochs, and keeping its first maximum restores an under-trained network.
                    if not val_loss < best_loss - self.tol:
                        no_improvement += 1
                    else:
                        no_improvement = 0
                    if val_loss < best_loss:
                        best_loss = val_loss
                        best_score = score
                        np.copyto(best_flat, flat)
                    if no_improvement >= self.patience:
                        break
        if val_ws is None:
            return losses, None, None, None
        np.copyto(flat, best_flat)
        return losses, scores, val_losses, best_score

    def _loss_and_delta(
        self, ws: _Workspace, out: Array, targets: Array, classes: Array | None
    ) -> float:
        """Mean batch loss; leaves d(loss)/d(output pre-activation) in ``out``."""
        raise NotImplementedError

    def __sklearn_is_fitted__(self) -> bool:
        # validate_data sets n_features_in_ before training, which may still fail.
        return hasattr(self, "_steps")

    def _raw_predict(self, X: Any) -> Array:
        """Output-layer values in float64.

        Training runs in float32, but predictions are computed in float64 from the float32
        weights and the float32-rounded inputs (what training saw): float32 matrix products
        round differently depending on how many rows they get (a single row goes through
        gemv), so float32 predictions of a sample would depend on the rest of the batch.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=_F32, order="C").astype(np.float64)
        weights = [self.coefs_[s.node_id].astype(np.float64) for s in self._steps]
        biases = [self.intercepts_[s.node_id].astype(np.float64) for s in self._steps]
        with np.errstate(over="ignore", invalid="ignore"):
            return _Network(self._steps, weights, biases).predict_raw(X)


_PARAMS_DOC = """
    Parameters
    ----------
    architecture : dict or None, default=None
        Layer graph ``{"layers": [...], "edges": [...]}`` (see :mod:`evosearch.nn.network`);
        ``None`` is one hidden layer of 100 relu units. Validated at fit time (ValueError).
    optimizer : {"sgd", "momentum", "nesterov", "adam", "adamax", "rmsprop", "adagrad"}
        Update rule; momentum and nesterov use 0.9, adam/adamax betas (0.9, 0.999), rmsprop
        rho 0.9, epsilon 1e-8.
    learning_rate : float, default=1e-3
        Step size, constant during training.
    l1, l2 : float, default=0.0 and 1e-4
        Penalties ``l1 * |W|_1 + l2 / 2 * ||W||^2`` on weights (not biases), divided by the batch
        size in each step as scikit-learn does (so ``l2`` means MLPClassifier's ``alpha``).
    batch_size : int, default=200
        Minibatch size (clipped to the number of training samples); data are reshuffled
        every epoch.
    max_epochs : int, default=200
        Epoch budget. Without early stopping exactly this many epochs are trained.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data (stratified for classifiers when
        possible), compute its loss (cross-entropy / squared error) after each epoch, stop after
        ``patience`` epochs without a decrease of more than ``tol``, and restore the weights of
        the lowest validation loss. Validation accuracy / R² is recorded too, but a small
        slice's accuracy plateaus early and its first maximum is an under-trained network.
        Skipped when the data cannot spare two validation samples.
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping.
    patience : int, default=10
        Epochs without improvement before stopping.
    tol : float, default=1e-4
        Minimum validation loss decrease that resets the patience counter.
    random_state : int, numpy.random.Generator or None, default=None
        Seed for ``numpy.random.default_rng`` (initialisation, shuffling, split, dropout). An
        int gives bit-identical results across fits; a Generator is used and advanced as is.
        NumPy's global random state is never touched; a legacy ``RandomState`` is not accepted.
    initial_weights : mapping of str to ndarray or None, default=None
        Weights to start training from instead of the random initialisation, e.g. a parent
        network's :meth:`weight_blocks`. Keys are ``"w:{pred_id}:{node_id}"`` for the block of
        shape ``(units of pred, units of node)`` of node ``node_id``'s weight matrix that reads
        node ``pred_id``'s output (node ``0`` is the input, node ``1`` the output), and
        ``"b:{node_id}"`` for a bias of shape ``(units,)``. The network is first initialised
        as usual (drawing the same random numbers, so shuffling and dropout are unaffected),
        then every block whose key is present and whose shape matches is copied in as float32.
        Blocks with a missing key or another shape (a layer whose width changed) keep their
        random initialisation, and keys naming edges or nodes the architecture lacks are
        ignored. The arrays are not modified. Only the type is validated at fit time
        (ValueError if not a mapping).
"""

_ATTRS_DOC = """
    n_features_in_ : int
        Number of input features.
    n_outputs_ : int
        Width of the output layer.
    n_params_ : int
        Number of weights and biases (equals :func:`count_parameters`).
    coefs_, intercepts_ : dict of int to ndarray
        Weight matrix ``(fan_in, units)`` and bias vector of each node, keyed by node id, in
        execution order (the output node 1 last). Float32.
    loss_curve_ : list of float
        Mean training loss (including the penalties) per epoch.
    validation_scores_ : list of float or None
        Validation accuracy / R² per epoch when early stopping was used, else None.
    validation_losses_ : list of float or None
        Validation loss per epoch when early stopping was used, else None.
    best_validation_score_ : float or None
        Validation score of the restored (lowest validation loss) epoch, else None.
    n_epochs_ : int
        Epochs trained.
"""


class GraphNetClassifier(ClassifierMixin, _BaseGraphNet):
    __doc__ = (
        """Neural network classifier over a DAG of dense layers (float32 numpy).

    The output layer is a softmax over ``n_classes`` units (also for binary problems) trained
    with cross-entropy.
"""
        + _PARAMS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
"""
        + _ATTRS_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> arch = {"layers": [{"id": 2, "units": 16, "activation": "tanh"}],
    ...         "edges": [[0, 2], [2, 1], [0, 1]]}
    >>> clf = GraphNetClassifier(arch, learning_rate=0.01, max_epochs=50,
    ...                          early_stopping=False, random_state=0)
    >>> clf.fit(X, y).n_params_ == count_parameters(arch, 4, 3)
    True
    >>> clf.score(X, y) > 0.9
    True
    """
    )

    _is_classifier = True

    def _encode_targets(self, y: Array) -> tuple[Array, Array | None, dict[str, Any]]:
        check_classification_targets(y)
        classes, class_index = np.unique(y, return_inverse=True)
        class_index = class_index.reshape(-1).astype(np.intp)
        onehot = np.zeros((class_index.size, len(classes)), _F32)
        onehot[np.arange(class_index.size), class_index] = 1.0
        return onehot, class_index, {"classes_": classes}

    def _loss_and_delta(
        self, ws: _Workspace, out: Array, targets: Array, classes: Array | None
    ) -> float:
        # Softmax + cross-entropy fused: the delta is probabilities - onehot, and the loss is
        # log(sum(exp(z - max))) - (z_y - max), which needs no clipping.
        m = ws.m
        col = ws.col
        np.max(out, axis=1, out=col)
        out -= col[:, None]
        true_logit = out[ws.rows, classes]
        np.exp(out, out=out)
        np.sum(out, axis=1, out=col)
        loss = float(np.log(col).sum() - true_logit.sum()) / m
        out /= col[:, None]
        out -= targets
        out *= 1.0 / m
        return loss

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Float64 probabilities, columns ordered as ``classes_``.
        """
        logits = self._raw_predict(X)
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits

    def predict(self, X: Any) -> Array:
        """Most probable class label for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]


class GraphNetRegressor(MultiOutputMixin, RegressorMixin, _BaseGraphNet):
    __doc__ = (
        """Neural network regressor over a DAG of dense layers (float32 numpy).

    The output layer is linear with one unit per target, trained with half squared error.
    A 1-D ``y`` gives 1-D predictions.
"""
        + _PARAMS_DOC
        + """
    Attributes
    ----------
"""
        + _ATTRS_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X @ [1.0, -2.0, 0.5]
    >>> reg = GraphNetRegressor(learning_rate=0.01, batch_size=32, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    >>> reg.score(X, y) > 0.9
    True
    """
    )

    def _encode_targets(self, y: Array) -> tuple[Array, Array | None, dict[str, Any]]:
        targets = np.ascontiguousarray(y.reshape(y.shape[0], -1), dtype=_F32)
        return targets, None, {"_y_ndim": y.ndim}

    def _loss_and_delta(
        self, ws: _Workspace, out: Array, targets: Array, classes: Array | None
    ) -> float:
        out -= targets
        flat = out.reshape(-1)
        loss = 0.5 * float(np.dot(flat, flat)) / ws.m
        out *= 1.0 / ws.m
        return loss

    def predict(self, X: Any) -> Array:
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
            Float64; 1-D when the model was fitted on a 1-D ``y``.
        """
        pred = self._raw_predict(X)
        return pred.ravel() if self._y_ndim == 1 else pred
