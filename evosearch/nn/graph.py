"""The execution plan of a layer DAG: architecture parsing, topological plan, forward/backward.

Vocabulary
----------
architecture
    A JSON-compatible dict ``{"layers": [...], "edges": [...]}``. Node ``0`` is the input (its
    shape is ``(n_features,)``), node ``1`` the output (a linear dense layer: softmax over the
    classes for classification, linear over the targets for regression). Every other node is a
    layer ``{"id": int >= 2, "kind": str, ...}`` of a registered kind (``"dense"`` if the key
    is left out) with that kind's attributes (dense: ``units``, ``activation``, ``dropout``).
    Edges ``[u, v]`` are data flow.
invariants
    The graph is acyclic and every node lies on a path from ``0`` to ``1``. A node with several
    predecessors reads the concatenation of their outputs along the last axis **in ascending
    predecessor id order** (its kind's ``merge_shapes``), so a dense node with input width
    ``d_in`` and ``units`` ``u`` owns ``d_in * u`` weights and ``u`` biases (see
    :func:`count_parameters`).

The network asks the layer registry for each node's kind; nothing here knows a particular kind
except that the output node is a linear dense layer.
"""

from __future__ import annotations

import heapq
import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from evosearch.nn.layers import Dense, LayerKind, Shape, get_layer_kind
from evosearch.nn.layers.base import Array
from evosearch.nn.layers.dense import LINEAR

__all__ = [
    "DEFAULT_ARCHITECTURE",
    "INPUT_ID",
    "OUTPUT_ID",
    "Network",
    "Step",
    "Workspace",
    "count_parameters",
    "iter_blocks",
    "output_layer",
    "parse_architecture",
]

DEFAULT_ARCHITECTURE: dict[str, Any] = {
    "layers": [{"id": 2, "units": 100, "activation": "relu", "dropout": 0.0}],
    "edges": [[0, 2], [2, 1]],
}
"""What ``architecture=None`` means: one hidden layer of 100 relu units (like MLPClassifier)."""

INPUT_ID = 0
OUTPUT_ID = 1
_F32 = np.float32
# Rows per forward pass at predict time: bounds memory on large inputs.
_PREDICT_CHUNK = 4096
PREDICT_BYTES = 64 * 2**20
"""Bytes of buffers a forward pass without gradients aims at (see :func:`predict_chunk`)."""


def output_layer(n_outputs: int) -> tuple[LayerKind, dict[str, Any]]:
    """The kind and attributes of the output node: a linear dense layer of ``n_outputs``."""
    return Dense(), {"units": int(n_outputs), "activation": LINEAR, "dropout": 0.0}


@dataclass(frozen=True, eq=False)
class Step:
    """One non-input node of the execution plan, in topological order.

    ``preds`` are buffer indices (0 is the input, ``k + 1`` is the output of step ``k``) and
    ``pred_ids`` the node ids, in ascending node id order; ``cols[i]`` is the last-axis range of
    the merged input that ``preds[i]`` fills.
    """

    node_id: int
    kind: LayerKind
    attrs: dict[str, Any]
    preds: tuple[int, ...]
    pred_ids: tuple[int, ...]
    cols: tuple[tuple[int, int], ...]
    in_shape: Shape
    out_shape: Shape
    views: tuple[Shape, ...] = ()
    """Per predecessor, the shape in which this step reads its output (its kind's
    ``input_view``: a dense layer flattens an image); empty: as the predecessor made it."""

    def parameter_shapes(self) -> tuple[Shape, Shape]:
        return self.kind.parameter_shapes(self.attrs, self.in_shape)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _bad(message: str) -> ValueError:
    return ValueError(f"invalid architecture: {message}")


def _parse_layers(architecture: Mapping[str, Any]) -> dict[int, tuple[LayerKind, dict[str, Any]]]:
    layers: dict[int, tuple[LayerKind, dict[str, Any]]] = {}
    for layer in architecture["layers"]:
        if not isinstance(layer, Mapping) or "id" not in layer:
            raise _bad(f"each layer must be a dict with an 'id', got {layer!r}")
        node_id = layer["id"]
        if not _is_int(node_id) or node_id < 2:
            raise _bad(f"hidden layer ids must be ints >= 2, got {node_id!r}")
        node_id = int(node_id)
        if node_id in layers:
            raise _bad(f"duplicate layer id {node_id}")
        try:
            kind = get_layer_kind(layer.get("kind", "dense"))
        except KeyError as exc:
            raise _bad(f"layer {node_id}: {exc.args[0]}") from None
        try:
            layers[node_id] = (kind, kind.check_attributes(layer))
        except ValueError as exc:
            raise _bad(f"layer {node_id} has {exc}") from None
    return layers


def input_shape_of(architecture: Mapping[str, Any] | None, n_inputs: int) -> Shape:
    """The shape of one input sample: the spec's ``input_shape`` (an image ``[height, width,
    channels]`` whose size is ``n_inputs``) or ``(n_inputs,)``.

    Examples
    --------
    >>> input_shape_of({"input_shape": [8, 8, 1], "layers": [], "edges": []}, 64)
    (8, 8, 1)
    """
    raw = None if architecture is None else architecture.get("input_shape")
    if raw is None:
        return (int(n_inputs),)
    if (
        not isinstance(raw, (list, tuple))
        or len(raw) != 3
        or not all(_is_int(side) and side >= 1 for side in raw)
    ):
        raise _bad(f"input_shape must be [height, width, channels] of positive ints, got {raw!r}")
    shape = tuple(int(side) for side in raw)
    if shape[0] * shape[1] * shape[2] != n_inputs:
        raise _bad(f"input_shape {list(shape)} does not hold the {n_inputs} input features")
    return shape


def parse_architecture(
    architecture: Mapping[str, Any] | None, n_inputs: int, n_outputs: int
) -> list[Step]:
    """Validate an architecture spec and return its execution plan (output step last).

    An ``input_shape`` key (``[height, width, channels]``) makes the flat input rows images.
    """
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
    layers = _parse_layers(architecture)

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
    shape: dict[int, Shape] = {INPUT_ID: input_shape_of(architecture, n_inputs)}
    buffer_of = {INPUT_ID: 0}
    steps: list[Step] = []
    for node in order[1:]:
        kind, attrs = output_layer(n_outputs) if node == OUTPUT_ID else layers[node]
        pred_ids = tuple(sorted(preds[node]))
        views = tuple(kind.input_view(shape[pred]) for pred in pred_ids)
        try:
            in_shape = kind.merge_shapes(views)
            shape[node] = kind.output_shape(attrs, in_shape)
        except ValueError as exc:
            raise _bad(f"layer {node} ({kind.name}): {exc}") from None
        cols = []
        start = 0
        for view in views:
            cols.append((start, start + view[-1]))
            start += view[-1]
        steps.append(
            Step(
                node_id=node,
                kind=kind,
                attrs=attrs,
                preds=tuple(buffer_of[pred] for pred in pred_ids),
                pred_ids=pred_ids,
                cols=tuple(cols),
                in_shape=in_shape,
                out_shape=shape[node],
                views=views,
            )
        )
        buffer_of[node] = len(steps)
    return steps


def _viewed(array: Array, view: Shape) -> Array:
    """``array`` (a batch) read in the shape ``view`` of one sample: a reshaped view of it
    when the shapes differ (an image read by a dense layer, flat input rows read as images)."""
    if not view or array.shape[1:] == view:
        return array
    return array.reshape(array.shape[0], *view)


def predict_chunk(steps: list[Step], itemsize: int) -> int:
    """Rows per forward pass without gradients: 4096, fewer for a network with image layers
    whose rows' buffers are large, so that a pass stays near :data:`PREDICT_BYTES`."""
    if not any(s.kind.image_input for s in steps):
        return _PREDICT_CHUNK
    per_row = sum(math.prod(s.in_shape) * _width_factor(s) + math.prod(s.out_shape) for s in steps)
    return int(max(1, min(_PREDICT_CHUNK, PREDICT_BYTES // max(1, per_row * itemsize))))


def _width_factor(step: Step) -> int:
    # A convolution's unfolded input holds kernel * kernel copies of each input value.
    kernel = step.attrs.get("kernel", 1) if step.kind.image_input else 1
    return 1 + int(kernel) ** 2


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
        The sum of every layer kind's parameter count; for dense nodes ``d_in * units +
        units``, where ``d_in`` is the summed width of a node's predecessors.

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
        step.kind.n_params(step.attrs, step.in_shape)
        for step in parse_architecture(architecture, n_inputs, n_outputs)
    )


def iter_blocks(
    steps: list[Step], weights: list[Array], biases: list[Array]
) -> Iterator[tuple[str, Array]]:
    """``(key, view)`` for every weight block and bias, keyed as ``initial_weights``."""
    for s, w, b in zip(steps, weights, biases, strict=True):
        yield from s.kind.weight_blocks(s.node_id, s.pred_ids, s.cols, w, b)


class Workspace:
    """Buffers for one batch size ``m``: each layer's own (its kind's ``workspace``), the merged
    inputs of nodes with several predecessors, and when training the output gradients."""

    def __init__(
        self, steps: list[Step], m: int, train: bool, dtype: type[np.floating[Any]] = _F32
    ) -> None:
        self.m = m
        self.layer = [s.kind.workspace(s.attrs, s.in_shape, m, train, dtype) for s in steps]
        self.concat = [
            np.empty((m, *s.in_shape), dtype) if len(s.preds) > 1 else None for s in steps
        ]
        # acts[0] is the current input batch; acts[k + 1] what step k passes on.
        self.acts: list[Array] = [np.empty((m, 0), dtype)] * (len(steps) + 1)
        # grad[k]: d(loss)/d(output of step k). The output step's is computed in place of its
        # (no longer needed) outputs, so forward() points grad[-1] at them.
        self.grad: list[Array] = (
            [np.empty((m, *s.out_shape), dtype) for s in steps[:-1]] if train else []
        )
        self.grad.append(self.acts[-1])
        self.scratch = [np.empty((m, *s.out_shape), dtype) for s in steps] if train else []
        self.col = np.empty(m, _F32)
        self.rows = np.arange(m)


class Network:
    """Weights plus execution plan; runs forward and backward passes on a workspace."""

    def __init__(self, steps: list[Step], weights: list[Array], biases: list[Array]) -> None:
        self.steps = steps
        self.weights = weights
        self.biases = biases
        # For each step, the non-input predecessors that receive a gradient, with a flag saying
        # whether this is the first contribution in the backward order (then it overwrites).
        written: set[int] = set()
        back: list[list[tuple[int, Shape, tuple[int, int], bool]]] = [[] for _ in steps]
        for k in reversed(range(len(steps))):
            step = steps[k]
            for pred, view, cols in zip(step.preds, step.views, step.cols, strict=True):
                if pred == 0:
                    continue  # the input needs no gradient
                back[k].append((pred - 1, view, cols, pred not in written))
                written.add(pred)
        self.back = back

    def forward(self, ws: Workspace, x: Array, rng: np.random.Generator | None) -> Array:
        """Compute every node's output for the batch ``x``; dropout only when ``rng`` is given.

        Returns the output step's values (logits or regression outputs).
        """
        acts = ws.acts
        acts[0] = x
        for k, step in enumerate(self.steps):
            inp = self._gather_input(ws, k)
            acts[k + 1] = step.kind.forward(
                step.attrs, self.weights[k], self.biases[k], inp, ws.layer[k], rng
            )
        ws.grad[-1] = acts[-1]
        return acts[-1]

    def _gather_input(self, ws: Workspace, k: int) -> Array:
        step = self.steps[k]
        if len(step.preds) == 1:
            return _viewed(ws.acts[step.preds[0]], step.views[0])
        buf = ws.concat[k]
        assert buf is not None
        for pred, view, (c0, c1) in zip(step.preds, step.views, step.cols, strict=True):
            buf[..., c0:c1] = _viewed(ws.acts[pred], view)
        return buf

    def backward(self, ws: Workspace, grad_w: list[Array], grad_b: list[Array]) -> None:
        """Backpropagate the output delta already stored in ``ws.grad[-1]``."""
        for k in range(len(self.steps) - 1, -1, -1):
            step = self.steps[k]
            g = ws.grad[k]
            # The forward pass left the merged input (or the single input) in place.
            inp = (
                _viewed(ws.acts[step.preds[0]], step.views[0])
                if len(step.preds) == 1
                else ws.concat[k]
            )
            assert inp is not None
            kind, attrs, w, buffers = step.kind, step.attrs, self.weights[k], ws.layer[k]
            kind.backward(attrs, w, inp, g, buffers, grad_w[k], grad_b[k])
            for target, view, cols, first in self.back[k]:
                if first:
                    out = _viewed(ws.grad[target], view)
                    kind.input_grad_buffered(attrs, w, g, buffers, cols, out)
                else:
                    scratch = ws.scratch[target]
                    kind.input_grad_buffered(attrs, w, g, buffers, cols, _viewed(scratch, view))
                    ws.grad[target] += scratch

    def predict_raw(self, x: Array) -> Array:
        """Output-layer values (logits or regression outputs) for ``x``, without dropout.

        Computed in the dtype of the biases.
        """
        n = x.shape[0]
        dtype = self.biases[-1].dtype.type
        result = np.empty((n, *self.steps[-1].out_shape), dtype)
        ws: Workspace | None = None
        chunk = predict_chunk(self.steps, np.dtype(dtype).itemsize)
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            if ws is None or ws.m != stop - start:
                ws = Workspace(self.steps, stop - start, train=False, dtype=dtype)
            result[start:stop] = self.forward(ws, x[start:stop], None)
        return result
