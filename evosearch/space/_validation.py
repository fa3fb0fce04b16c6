"""The invariants of a genome (:meth:`~evosearch.space.genome.Genome.validate`).

Kept apart from the Genome so that its module stays about the genome itself: structure (ids,
kinds, acyclic, every node on an input-output path, consistent shapes) and membership of a
search space (depth, skip connections, every attribute and gene inside its domain).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import networkx as nx

from evosearch.errors import InvalidGenomeError
from evosearch.space._nodes import INPUT, OUTPUT, _kind_of
from evosearch.space._training import OPTIONAL_TRAINING, value_of

if TYPE_CHECKING:
    from evosearch.space.genome import Genome
    from evosearch.space.space import SearchSpace

__all__ = ["check_in_space", "check_structure"]


def check_structure(genome: Genome) -> None:
    """Raise InvalidGenomeError unless ``genome``'s graph is a valid layer graph."""
    graph = genome.graph
    for node, kind in ((INPUT, "input"), (OUTPUT, "output")):
        if node not in graph or graph.nodes[node].get("kind") != kind:
            raise InvalidGenomeError(f"node {node} must be the {kind}")
    for node, attrs in graph.nodes(data=True):
        if not isinstance(node, int) or isinstance(node, bool):
            raise InvalidGenomeError(f"node id {node!r} is not an integer innovation number")
        if node in (INPUT, OUTPUT):
            units = attrs.get("units")
            if not isinstance(units, int) or isinstance(units, bool) or units < 1:
                raise InvalidGenomeError(f"node {node} has invalid units {units!r}")
            if node == INPUT and "shape" in attrs:
                _check_input_shape(attrs["shape"], units)
            continue
        layer_kind = _kind_of(attrs)
        if layer_kind is None:
            raise InvalidGenomeError(f"node {node} has kind {attrs.get('kind')!r}")
        try:
            layer_kind.check_attributes(attrs, complete=True)
        except ValueError as exc:
            raise InvalidGenomeError(f"node {node} ({layer_kind.name}) has {exc}") from None
    if nx.number_of_selfloops(graph) or not nx.is_directed_acyclic_graph(graph):
        raise InvalidGenomeError("the layer graph has a cycle")
    on_path = (nx.descendants(graph, INPUT) | {INPUT}) & (nx.ancestors(graph, OUTPUT) | {OUTPUT})
    stranded = set(graph.nodes) - on_path
    if stranded:
        raise InvalidGenomeError(f"nodes {sorted(stranded)} are not on an input-output path")
    try:
        genome.shapes()
    except ValueError as exc:
        raise InvalidGenomeError(str(exc)) from None


def check_in_space(genome: Genome, space: SearchSpace) -> None:
    """Raise InvalidGenomeError unless every layer and gene of ``genome`` is in ``space``."""
    graph = genome.graph
    if not space.min_layers <= genome.depth <= space.max_layers:
        raise InvalidGenomeError(
            f"{genome.depth} hidden layers, outside [{space.min_layers}, {space.max_layers}]"
        )
    if not space.skip_connections and any(d > 1 for _, d in graph.out_degree()):
        raise InvalidGenomeError("skip connections are not allowed in this space")
    for node in genome.hidden_layers():
        kind = graph.nodes[node].get("kind")
        if kind not in space.layers:
            raise InvalidGenomeError(f"layer {node}: kind {kind!r} is not in the space")
        for key, param in space.layers[kind].items():
            if not param.contains(graph.nodes[node].get(key)):
                raise InvalidGenomeError(
                    f"layer {node}: {key}={graph.nodes[node].get(key)!r} is outside the space"
                )
    # Optional genes that are off are left out (see evosearch.space._training).
    required = set(space.training_params) - set(OPTIONAL_TRAINING)
    if not required <= set(genome.hyperparameters) <= set(space.training_params):
        raise InvalidGenomeError(
            f"hyperparameters {sorted(genome.hyperparameters)} do not match the space's "
            f"{sorted(space.training_params)}"
        )
    for key, param in space.training_params.items():
        value = value_of(genome.hyperparameters, key)
        if not param.contains(value):
            raise InvalidGenomeError(f"{key}={value!r} is outside the space")
    for key, value in genome.preprocessing.items():
        domain = space.preprocessing.get(key)
        if domain is None or not domain.contains(value):
            raise InvalidGenomeError(f"preprocessing {key}={value!r} is outside the space")


def _check_input_shape(shape: Any, units: int) -> None:
    ok = (
        isinstance(shape, list)
        and len(shape) == 3
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape)
    )
    if not ok or math.prod(shape) != units:
        raise InvalidGenomeError(
            f"input shape {shape!r} is not [height, width, channels] of {units} features"
        )
