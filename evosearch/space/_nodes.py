"""Node ids and graph edits shared by the genome, its validation and the operators.

Kept below :mod:`evosearch.space.genome` so that the modules working on a genome's graph
(validation, the dense and the image operators) do not import one another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import networkx as nx

from evosearch.nn.layers import LayerKind, get_layer_kind

if TYPE_CHECKING:
    from evosearch.space.genome import Genome

__all__ = ["INPUT", "OUTPUT"]

#: Node ids of every genome's input and output (hidden layers get innovation numbers from 2).
INPUT = 0
OUTPUT = 1


def _kind_of(attrs: dict[str, Any]) -> LayerKind | None:
    """The registered kind of a hidden node, or None."""
    try:
        return get_layer_kind(attrs.get("kind"))  # type: ignore[arg-type]
    except KeyError:
        return None


def _remove_node(genome: Genome, node: int) -> None:
    """Remove a hidden layer in place, wiring each predecessor to each successor."""
    graph = genome.graph
    predecessors = list(graph.predecessors(node))
    successors = list(graph.successors(node))
    graph.remove_node(node)
    for p in predecessors:
        for s in successors:
            graph.add_edge(p, s)


def _skip_candidates(genome: Genome) -> list[tuple[int, int]]:
    order = list(nx.lexicographical_topological_sort(genome.graph))
    return [
        (u, v)
        for i, u in enumerate(order)
        for v in order[i + 1 :]
        if u != OUTPUT and v != INPUT and not genome.graph.has_edge(u, v)
    ]
