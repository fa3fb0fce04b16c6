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
from evosearch.nn.layers import Shape, get_layer_kind
from evosearch.space.genome import INPUT, OUTPUT, Genome, InnovationCounter
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


def check_image_shape(space: SearchSpace, input_shape: Any, n_inputs: int) -> Shape:
    """``input_shape`` as a ``(height, width, channels)`` tuple of ``n_inputs`` values, or
    ``ValueError`` saying that the space needs one."""
    if input_shape is None or len(tuple(input_shape)) != 3:
        raise ValueError(
            f"search space {space.name!r} has image layers: it needs data with an image shape "
            f"(height, width, channels), got {input_shape!r}"
        )
    shape = tuple(int(side) for side in input_shape)
    if shape[0] * shape[1] * shape[2] != n_inputs or min(shape) < 1:
        raise ValueError(f"image shape {shape} does not hold {n_inputs} features")
    return shape


def _fits(kind_name: str, attrs: dict[str, Any], in_shape: Shape) -> Shape | None:
    """The output shape of a layer on ``in_shape``, or None if the kind refuses it."""
    kind = get_layer_kind(kind_name)
    try:
        return kind.output_shape(attrs, kind.merge_shapes([kind.input_view(in_shape)]))
    except ValueError:
        return None


def sample_layer_for(
    space: SearchSpace,
    in_shape: Shape,
    rng: np.random.Generator,
    image_out: bool = False,
    learns: bool = False,
) -> tuple[dict[str, Any], Shape] | None:
    """A random layer of the space that accepts ``in_shape`` (an image output only, with
    ``image_out``; a layer with parameters only, with ``learns``) and its output shape; None
    when no kind fits."""
    kinds = list(space.layers)
    while kinds:
        name = kinds[int(rng.integers(len(kinds)))]
        for _ in range(3):
            layer = {"kind": name, **{k: p.sample(rng) for k, p in space.layers[name].items()}}
            out = _fits(name, layer, in_shape)
            if out is None or (image_out and len(out) != 3):
                continue
            if learns and not _learns(name, layer, in_shape):
                break
            return layer, out
        kinds.remove(name)
    return None


def _learns(name: str, layer: dict[str, Any], in_shape: Shape) -> bool:
    kind = get_layer_kind(name)
    return kind.n_params(layer, kind.merge_shapes([kind.input_view(in_shape)])) > 0


def random_image_layers(
    space: SearchSpace, input_shape: Shape, n_layers: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """The layers of a random chain on ``input_shape``: each accepts the shape before it (a
    shorter chain when no kind fits any more). Layers that make images come first: only the
    last layer may turn the image into a vector (the output, a dense layer, reads an image
    flattened), so a random genome is a conv net, not an MLP behind one layer; and a layer
    without parameters (a pool) follows one with parameters, not the input or another pool."""
    layers: list[dict[str, Any]] = []
    shape = input_shape
    learned = False  # whether the layer before has parameters
    for position in range(n_layers):
        last = position == n_layers - 1
        drawn = (
            None
            if last
            else sample_layer_for(space, shape, rng, image_out=True, learns=not learned)
        ) or sample_layer_for(space, shape, rng)
        if drawn is None:
            break
        layers.append(drawn[0])
        learned = _learns(drawn[0]["kind"], drawn[0], shape)
        shape = drawn[1]
    return layers


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
    from evosearch.space.operators import _remove_node

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
    from evosearch.space.operators import _skip_candidates

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
