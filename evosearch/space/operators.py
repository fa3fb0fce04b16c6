"""Variation operators: mutations and crossover that always return a valid genome.

Every operator is a pure function of its inputs: it never modifies a parent, takes its randomness
from an explicit :class:`numpy.random.Generator`, and returns a genome that satisfies every
invariant of :class:`~evosearch.genome.Genome` inside the given search space. An operator that
cannot apply (``mut_add_layer`` at the depth bound, say) reports so through
:func:`applicable_mutations` rather than returning an invalid genome.

Besides the structural mutations, ``hyperparameter`` and ``preprocessing`` (applicable only to
genomes that carry preprocessing genes with a choice; :data:`MUTATIONS`), every attribute a
layer kind of the space declares is a mutation of its own, named after the attribute
(``units``, ``activation``, ``dropout`` for ``dense``): :func:`mut_layer_attribute` perturbs it
in one random layer that has it.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import networkx as nx
import numpy as np

from evosearch.space import _image
from evosearch.space._nodes import INPUT, OUTPUT, _remove_node, _skip_candidates
from evosearch.space._training import OPTIONAL_TRAINING, unsearched, value_of, without_off
from evosearch.space.genome import Genome, InnovationCounter
from evosearch.space.space import SearchSpace

__all__ = [
    "MUTATIONS",
    "applicable_mutations",
    "cx_aligned",
    "layer_attribute_names",
    "mut_add_layer",
    "mut_add_skip",
    "mut_hyperparameter",
    "mut_layer_attribute",
    "mut_preprocessing",
    "mut_remove_layer",
    "mut_remove_skip",
    "mutate",
    "mutations",
]

Mutation = Callable[[Genome, SearchSpace, np.random.Generator, InnovationCounter], Genome]


def _pick(rng: np.random.Generator, items: list):
    return items[int(rng.integers(len(items)))]


# --------------------------------------------------------------------- structural mutations
def mut_add_layer(
    genome: Genome, space: SearchSpace, rng: np.random.Generator, innovations: InnovationCounter
) -> Genome:
    """Split a random edge ``u -> v`` with a new random layer ``u -> new -> v``."""
    if space.needs_image:
        return _image.image_add_layer(genome, space, rng, innovations)
    child = genome.copy()
    if child.depth >= space.max_layers:
        return child
    u, v = _pick(rng, sorted(child.graph.edges))
    node = innovations()
    child.graph.remove_edge(u, v)
    child.graph.add_node(node, **space.sample_layer(rng))
    child.graph.add_edge(u, node)
    child.graph.add_edge(node, v)
    return child


def mut_remove_layer(
    genome: Genome, space: SearchSpace, rng: np.random.Generator, innovations: InnovationCounter
) -> Genome:
    """Remove a random hidden layer, bridging its inputs to its outputs."""
    if space.needs_image:
        return _image.image_remove_layer(genome, space, rng, innovations)
    child = genome.copy()
    if child.depth <= space.min_layers:
        return child
    _remove_node(child, _pick(rng, child.hidden_layers()))
    return child


def mut_add_skip(
    genome: Genome, space: SearchSpace, rng: np.random.Generator, innovations: InnovationCounter
) -> Genome:
    """Add an edge from a layer to a later one (in topological order), keeping the graph acyclic."""
    if space.needs_image:
        return _image.image_add_skip(genome, space, rng, innovations)
    child = genome.copy()
    candidates = _skip_candidates(child) if space.skip_connections else []
    if candidates:
        child.graph.add_edge(*_pick(rng, candidates))
    return child


def mut_remove_skip(
    genome: Genome, space: SearchSpace, rng: np.random.Generator, innovations: InnovationCounter
) -> Genome:
    """Remove an edge whose ends keep another way in and out, so no layer is stranded."""
    child = genome.copy()
    candidates = child.skip_edges()
    if candidates:
        child.graph.remove_edge(*_pick(rng, candidates))
    return child


# --------------------------------------------------------------------- attribute mutations
def layer_attribute_names(space: SearchSpace) -> list[str]:
    """Names of the layer attributes of the space's kinds (kinds in order, then each kind's
    declared order; a name two kinds share once): the names of the attribute mutations."""
    return list(dict.fromkeys(key for params in space.layers.values() for key in params))


def _layers_with(genome: Genome, space: SearchSpace, key: str) -> list[int]:
    """Hidden layers (topological order) whose kind has attribute ``key`` in the space."""
    graph = genome.graph
    return [
        node
        for node in genome.hidden_layers()
        if key in space.layers.get(graph.nodes[node]["kind"], {})
    ]


def mut_layer_attribute(
    genome: Genome,
    space: SearchSpace,
    rng: np.random.Generator,
    innovations: InnovationCounter,
    key: str = "units",
) -> Genome:
    """Perturb attribute ``key`` of a random hidden layer that has it (for a choice: usually a
    neighbouring value; for a range: a Gaussian step)."""
    if space.needs_image:
        return _image.image_attribute(genome, space, rng, innovations, key)
    child = genome.copy()
    layers = _layers_with(child, space, key)
    if layers:
        node = _pick(rng, layers)
        attrs = child.graph.nodes[node]
        attrs[key] = space.layers[attrs["kind"]][key].perturb(attrs[key], rng)
    return child


def mut_hyperparameter(
    genome: Genome,
    space: SearchSpace,
    rng: np.random.Generator,
    innovations: InnovationCounter,
    key: str | None = None,
) -> Genome:
    """Perturb one training hyperparameter (``key``, or a random one)."""
    child = genome.copy()
    # Optional genes the space does not search are neither picked nor written.
    keys = sorted(set(space.training_params) - unsearched(space.training_params))
    key = key or _pick(rng, keys)
    value = space.training_params[key].perturb(value_of(child.hyperparameters, key), rng)
    child.hyperparameters = without_off({**child.hyperparameters, key: value})
    return child


def _mutable_genes(genome: Genome, space: SearchSpace) -> list[str]:
    """The genome's preprocessing genes whose domain in ``space`` has another value."""
    return sorted(
        key
        for key in genome.preprocessing
        if key in space.preprocessing and len(space.preprocessing[key].values) > 1
    )


def mut_preprocessing(
    genome: Genome,
    space: SearchSpace,
    rng: np.random.Generator,
    innovations: InnovationCounter,
) -> Genome:
    """Change one of the genome's preprocessing genes to another value of its domain.

    The input width the new value gives is set by whoever knows the data (the search's
    breeder); here the genome keeps its width.
    """
    child = genome.copy()
    keys = _mutable_genes(child, space)
    if keys:
        key = _pick(rng, keys)
        child.preprocessing[key] = space.preprocessing[key].perturb(child.preprocessing[key], rng)
    return child


MUTATIONS: dict[str, Mutation] = {
    "add_layer": mut_add_layer,
    "remove_layer": mut_remove_layer,
    "add_skip": mut_add_skip,
    "remove_skip": mut_remove_skip,
    "hyperparameter": mut_hyperparameter,
    "preprocessing": mut_preprocessing,
}
"""The mutations every space has; :func:`mutations` adds one per layer attribute."""


def mutations(space: SearchSpace) -> dict[str, Mutation]:
    """Every mutation of ``space`` by name: the structural ones, one per layer attribute
    (:func:`layer_attribute_names`), and ``hyperparameter``."""
    structural = {
        name: fn
        for name, fn in MUTATIONS.items()
        if name not in ("hyperparameter", "preprocessing")
    }
    attributes = {
        key: functools.partial(mut_layer_attribute, key=key) for key in layer_attribute_names(space)
    }
    return {
        **structural,
        **attributes,
        "hyperparameter": mut_hyperparameter,
        "preprocessing": mut_preprocessing,
    }


def _mutable(param: object) -> bool:
    # A range always moves; a choice only when it has another value.
    return len(getattr(param, "values", (0, 1))) > 1


def applicable_mutations(genome: Genome, space: SearchSpace) -> list[str]:
    """Names of the mutations that can change ``genome`` inside ``space``, in the order of
    :func:`mutations`."""
    names = []
    if genome.depth < space.max_layers:
        names.append("add_layer")
    if genome.depth > space.min_layers:
        names.append("remove_layer")
    if space.skip_connections and (
        _image.skip_candidates(genome, _skip_candidates(genome))
        if space.needs_image
        else _skip_candidates(genome)
    ):
        names.append("add_skip")
    if genome.skip_edges():
        names.append("remove_skip")
    if genome.depth:
        kinds = {genome.graph.nodes[node]["kind"] for node in genome.hidden_layers()}
        domains = [space.layers[kind] for kind in kinds if kind in space.layers]
        names += [
            key
            for key in layer_attribute_names(space)
            if any(key in params and _mutable(params[key]) for params in domains)
        ]
    names.append("hyperparameter")
    if _mutable_genes(genome, space):  # only genomes that carry searched genes
        names.append("preprocessing")
    return names


def mutate(
    genome: Genome,
    space: SearchSpace,
    rng: np.random.Generator,
    innovations: InnovationCounter,
) -> tuple[Genome, str]:
    """Apply one mutation drawn uniformly among the applicable ones.

    Returns
    -------
    child : Genome
        The mutated copy.
    name : str
        Which mutation was applied (a key of :func:`mutations`).
    """
    name = _pick(rng, applicable_mutations(genome, space))
    if name in MUTATIONS:
        return MUTATIONS[name](genome, space, rng, innovations), name
    return mut_layer_attribute(genome, space, rng, innovations, key=name), name


# --------------------------------------------------------------------- crossover
def cx_aligned(
    primary: Genome, secondary: Genome, space: SearchSpace, rng: np.random.Generator
) -> Genome:
    """NEAT-style crossover aligned on innovation ids, followed by repair.

    The child keeps every layer and edge of ``primary``. Layers both parents share (same
    innovation id) take their attributes from either parent with equal probability. Each layer
    only ``secondary`` has joins with probability 1/2, together with its edges to layers the child
    has; each edge of ``secondary`` between shared layers joins with probability 1/2 unless it
    would close a cycle. Every hyperparameter comes from either parent with equal probability.
    Repair then drops layers left off every input-output path, straightens the graph into a
    chain when the space forbids skips, and removes random layers only ``secondary`` gave while
    the child has more than ``max_layers``, so the child keeps every layer of ``primary``.
    """
    child = primary.copy()
    graph = child.graph
    for node in sorted(set(primary.graph) & set(secondary.graph) - {INPUT, OUTPUT}):
        if rng.random() < 0.5:
            graph.nodes[node].update(secondary.graph.nodes[node])
    extra = [n for n in sorted(secondary.graph) if n not in primary.graph and rng.random() < 0.5]
    for node in extra:
        graph.add_node(node, **secondary.graph.nodes[node])
    for u, v in sorted(secondary.graph.edges):
        if u not in graph or v not in graph or graph.has_edge(u, v):
            continue
        if u in extra or v in extra or rng.random() < 0.5:
            if not nx.has_path(graph, v, u):
                graph.add_edge(u, v)
    mine, theirs = child.hyperparameters, secondary.hyperparameters
    for key in sorted(set(mine) | set(theirs)):
        # An optional gene a genome leaves out is off; another missing key is not inherited.
        if key not in OPTIONAL_TRAINING and not (key in mine and key in theirs):
            continue
        if rng.random() < 0.5:
            mine[key] = value_of(theirs, key)
    child.hyperparameters = without_off(mine)
    for key in sorted(child.preprocessing):  # none (and no draw) for data that needs none
        if key in secondary.preprocessing and rng.random() < 0.5:
            child.preprocessing[key] = secondary.preprocessing[key]
    _repair(child, space, rng, keep=set(primary.graph))
    if space.needs_image:
        _image.cx_repair(child, primary)
    return child


def _repair(
    genome: Genome, space: SearchSpace, rng: np.random.Generator, keep: set[int] | None = None
) -> None:
    """Restore the invariants in place after crossover added foreign layers and edges.

    Layers above ``max_layers`` are trimmed from those not in ``keep`` first.
    """
    graph = genome.graph
    on_path = (nx.descendants(graph, INPUT) | {INPUT}) & (nx.ancestors(graph, OUTPUT) | {OUTPUT})
    graph.remove_nodes_from([n for n in list(graph) if n not in on_path])
    if not space.skip_connections:
        order = list(nx.lexicographical_topological_sort(graph))
        graph.remove_edges_from(list(graph.edges))
        graph.add_edges_from(itertools.pairwise(order))
    while genome.depth > space.max_layers:
        layers = genome.hidden_layers()
        foreign = [n for n in layers if n not in (keep or ())]
        _remove_node(genome, _pick(rng, foreign or layers))
