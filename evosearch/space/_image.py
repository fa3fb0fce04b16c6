"""Genomes of image layers: random chains and the variation operators, kept shape-consistent.

A search space with an image kind (``conv2d``, ``pool``, ``global_pool``: ``image_input``)
cannot draw its layers blindly: an image layer needs an image before it, a node with several
inputs needs equal spatial sizes, and a 2x2 pool needs at least 2x2. Every operator here draws
a change, applies it to a copy and keeps it only if the genome's shapes still work out
(:meth:`~evosearch.space.Genome.shapes`), trying a few draws before it returns the parent
unchanged. :mod:`evosearch.space.operators` sends image spaces here and leaves dense spaces on
their own (unchanged) path, so their random streams stay as they were.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from evosearch.errors import InvalidGenomeError
from evosearch.space._image_layers import (
    check_image_shape,
    random_image_layers,
    sample_layer_for,
)
from evosearch.space._nodes import INPUT, OUTPUT, _remove_node, _skip_candidates
from evosearch.space.genome import Genome, InnovationCounter
from evosearch.space.space import SearchSpace

__all__ = [
    "check_image_shape",
    "cx_repair",
    "image_add_layer",
    "image_add_skip",
    "image_attribute",
    "image_remove_layer",
    "random_image_layers",
    "sample_layer_for",
]

_TRIES = 8


def _valid(genome: Genome) -> bool:
    try:
        genome.shapes()
    except ValueError:
        return False
    return True


def _pick(rng: np.random.Generator, items: list) -> Any:
    return items[int(rng.integers(len(items)))]


def image_add_layer(
    genome: Genome, space: SearchSpace, rng: np.random.Generator, innovations: InnovationCounter
) -> Genome:
    """Split a random edge ``u -> v`` with a new layer that accepts ``u``'s output and keeps
    the shapes after it consistent."""
    if genome.depth >= space.max_layers:
        return genome.copy()
    shapes = genome.shapes()
    edges = sorted(genome.graph.edges)
    for _ in range(_TRIES):
        u, v = _pick(rng, edges)
        in_shape = genome.input_shape if u == INPUT else shapes[u][1]
        drawn = sample_layer_for(space, in_shape, rng)
        if drawn is None:
            continue
        child = genome.copy()
        node = innovations()
        child.graph.remove_edge(u, v)
        child.graph.add_node(node, **drawn[0])
        child.graph.add_edge(u, node)
        child.graph.add_edge(node, v)
        if _valid(child):
            return child
    return genome.copy()


def image_remove_layer(
    genome: Genome, space: SearchSpace, rng: np.random.Generator, innovations: InnovationCounter
) -> Genome:
    """Remove a random hidden layer (bridging its inputs to its outputs) whose removal keeps
    the shapes consistent."""
    if genome.depth <= space.min_layers:
        return genome.copy()
    layers = genome.hidden_layers()
    for _ in range(min(_TRIES, len(layers))):
        node = layers.pop(int(rng.integers(len(layers))))
        child = genome.copy()
        _remove_node(child, node)
        if _valid(child):
            return child
    return genome.copy()


def image_add_skip(
    genome: Genome, space: SearchSpace, rng: np.random.Generator, innovations: InnovationCounter
) -> Genome:
    """Add an edge from a layer to a later one whose input it fits (equal spatial size for an
    image layer; anything for a dense layer, which reads it flattened)."""
    child = genome.copy()
    if not space.skip_connections:
        return child
    candidates = skip_candidates(genome, _skip_candidates(genome))
    if candidates:
        child.graph.add_edge(*_pick(rng, candidates))
    return child


def skip_candidates(genome: Genome, pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The ``pairs`` whose edge keeps the genome's shapes consistent."""
    found = []
    trial = genome.copy()
    for u, v in pairs:
        trial.graph.add_edge(u, v)
        if _valid(trial):
            found.append((u, v))
        trial.graph.remove_edge(u, v)
    return found


def image_attribute(
    genome: Genome,
    space: SearchSpace,
    rng: np.random.Generator,
    innovations: InnovationCounter,
    key: str,
) -> Genome:
    """Perturb attribute ``key`` of a random layer that has it, keeping the shapes consistent
    (a stride that would break a merge, say, is not taken)."""
    graph = genome.graph
    layers = [
        n for n in genome.hidden_layers() if key in space.layers.get(graph.nodes[n]["kind"], {})
    ]
    for _ in range(_TRIES if layers else 0):
        child = genome.copy()
        attrs = child.graph.nodes[_pick(rng, layers)]
        attrs[key] = space.layers[attrs["kind"]][key].perturb(attrs[key], rng)
        if _valid(child):
            return child
    return genome.copy()


def cx_repair(child: Genome, primary: Genome) -> None:
    """After crossover: if the child's shapes do not work out, fall back to ``primary``'s
    graph, first with the attributes the child took from the other parent, then without."""
    if _valid(child):
        return
    graph = primary.graph.copy()
    for node in graph:
        if node not in (INPUT, OUTPUT) and node in child.graph:
            graph.nodes[node].update(child.graph.nodes[node])
    candidate = Genome(graph, child.hyperparameters)
    if not _valid(candidate):
        graph = primary.graph.copy()
    child.graph = graph
    if not nx.is_directed_acyclic_graph(graph):  # pragma: no cover - primary is valid
        raise InvalidGenomeError("crossover repair produced a cycle")
