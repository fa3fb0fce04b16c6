"""The architecture plot: a genome's layer graph, laid out in columns, with routed edges.

The figure is made by :mod:`evosearch.report._figures` (Agg canvas, no pyplot; matplotlib
imported on first use).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx

from evosearch.nn.layers import get_layer_kind
from evosearch.report._figures import _new_figure
from evosearch.report._rundata import _spread
from evosearch.search import ArchiveEntry
from evosearch.space import INPUT, OUTPUT, Genome

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_architecture"]

_CHAIN_COLOR = "#333333"
_SKIP_COLOR = "#e07b00"
# Input and output boxes, and a layer whose kind gives no colour (a dense layer's is its
# activation's: see LayerKind.colour).
_NODE_COLORS = {"input": "#cfe8cf", "output": "#d9d2ec", "layer": "#eeeeee"}

_ROW = 1.5  # vertical distance between rows, in column widths
_BOX = (0.72, 0.62)  # node box width and height
_INCH = 1.7  # inches per data unit


@dataclass
class _Edge:
    source: int
    target: int
    skip: bool
    vertices: list[tuple[float, float]]
    codes: list[int]


def plot_architecture(
    genome_or_entry: Genome | ArchiveEntry | dict[str, Any], *, title: str | None = None
) -> Figure:
    """Draw a genome's layer graph from left to right.

    Layers sit in columns by their longest-path depth from the input; the longest input-output
    path runs straight along the middle row. Each box shows a layer's label from its kind
    (dense: units, activation and dropout) and its innovation id. Solid arrows are the graph's
    essential data flow; a *skip* edge (one whose target is also reachable from its source
    through other layers) is a dashed orange arc. A layer with several inputs concatenates them.

    Parameters
    ----------
    genome_or_entry : Genome, ArchiveEntry or dict
        A genome, an archive member (its score, fold spread and generation go into the title)
        or a genome's JSON dict.
    title : str, optional
        The first words of the title (default ``"architecture"``).

    Returns
    -------
    matplotlib.figure.Figure
        One box patch per genome node with ``gid`` ``"node-<id>"``, and one arrow per edge with
        ``gid`` ``"edge-<u>-<v>"`` or, for a skip, ``"skip-<u>-<v>"``.

    Raises
    ------
    EvosearchError
        If matplotlib is missing.
    """
    entry = genome_or_entry if isinstance(genome_or_entry, ArchiveEntry) else None
    if isinstance(genome_or_entry, Genome):
        genome = genome_or_entry
    elif entry is not None:
        genome = Genome.from_json(entry.genome)
    else:
        genome = Genome.from_json(genome_or_entry)
    graph = genome.graph
    positions = _layout(graph)
    edges = _route_edges(graph, positions)

    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    reach = [v[1] for e in edges for v in e.vertices]
    top = max(max(ys) + _BOX[1] / 2, *reach) + 0.2
    bottom = min(min(ys) - _BOX[1] / 2, *reach) - 0.2
    left, right = min(xs) - _BOX[0] / 2 - 0.15, max(xs) + _BOX[0] / 2 + 0.15
    figure = _new_figure(
        figsize=(max(6.5, _INCH * (right - left)), _INCH * (top - bottom) + 1.1),
        layout="constrained",
    )
    ax = figure.add_subplot()
    ax.set_axis_off()
    for edge in edges:
        _draw_edge(ax, edge)
    # An image genome's boxes also show each layer's output shape (height x width x channels).
    shapes = genome.shapes() if "shape" in graph.nodes[0] else {}
    for node in graph.nodes:
        _draw_node(ax, node, graph.nodes[node], positions[node], shapes.get(node, (None, None))[1])
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal")

    skips = sum(edge.skip for edge in edges)
    hp = genome.hyperparameters
    layers = "hidden layer" if genome.depth == 1 else "hidden layers"
    details = [f"{genome.n_params():,} parameters", f"{genome.depth} {layers}"]
    if skips:
        details.append(f"{skips} skip" + ("s" if skips != 1 else ""))
    if "optimizer" in hp:
        details.append(f"{hp['optimizer']} lr={float(hp['learning_rate']):.3g}")
    if "batch_size" in hp:
        details.append(f"batch {hp['batch_size']}")
    if "max_epochs" in hp:
        details.append(f"≤{hp['max_epochs']} epochs")
    heading = title or "architecture"
    if entry is not None:
        spread = _spread(entry.fold_scores)
        heading += (
            f": score {entry.objectives[0]:.4f} ± {spread:.4f} (generation {entry.generation})"
        )
    figure.suptitle(heading + "\n" + ", ".join(details), fontsize=10)
    notes = []
    if skips:
        notes.append("dashed orange: skip connection")
    if any(degree > 1 for _, degree in graph.in_degree()):
        notes.append("a layer with several inputs concatenates them")
    if notes:
        figure.supxlabel("; ".join(notes), fontsize=8, color="0.4")
    return figure


def _layout(graph: nx.DiGraph) -> dict[int, tuple[float, float]]:
    """Column = longest-path depth from the input; the longest path on row 0, others around."""
    depth: dict[int, int] = {}
    for node in nx.lexicographical_topological_sort(graph):
        depth[node] = max((depth[p] + 1 for p in graph.predecessors(node)), default=0)
    depth[OUTPUT] = max(depth.values())
    on_main = set(_longest_path(graph, depth))
    columns: dict[int, list[int]] = {}
    for node, column in depth.items():
        columns.setdefault(column, []).append(node)
    positions: dict[int, tuple[float, float]] = {}
    for column in sorted(columns):
        others = [n for n in columns[column] if n not in on_main]
        for node in columns[column]:
            if node in on_main:
                positions[node] = (float(column), 0.0)

        def barycentre(node: int) -> tuple[float, int]:
            ys = [positions[p][1] for p in graph.predecessors(node) if p in positions]
            return (sum(ys) / len(ys) if ys else 0.0, node)

        # Slots 1, -1, 2, -2, ... sorted, filled in order of the inputs' mean height, so a
        # layer fed from above sits above.
        others.sort(key=barycentre)
        slots = sorted((i // 2 + 1) * (1 if i % 2 == 0 else -1) for i in range(len(others)))
        for node, slot in zip(others, slots, strict=True):
            positions[node] = (float(column), slot * _ROW)
    return positions


def _longest_path(graph: nx.DiGraph, depth: dict[int, int]) -> list[int]:
    """The longest input-output path; ties go to the lowest innovation ids."""
    path = [OUTPUT]
    while path[-1] != INPUT:
        predecessors = list(graph.predecessors(path[-1]))
        if not predecessors:
            break
        path.append(max(predecessors, key=lambda p: (depth[p], -p)))
    return path[::-1]


def _route_edges(graph: nx.DiGraph, positions: dict[int, tuple[float, float]]) -> list[_Edge]:
    """Paths for the arrows: skips on a row arc over (or under) it, long edges avoid boxes."""
    from matplotlib.path import Path as MplPath

    move, line, curve = int(MplPath.MOVETO), int(MplPath.LINETO), int(MplPath.CURVE4)
    skips = set(graph.edges) - set(nx.transitive_reduction(graph).edges)
    occupied = set(positions.values())
    half_w, half_h = _BOX[0] / 2, _BOX[1] / 2
    edges: list[_Edge] = []
    # Arcs over a row stack by span: shorter arcs inside, longer ones above them.
    lanes: dict[tuple[float, int], list[tuple[float, float, int]]] = {}
    for u, v in sorted(graph.edges, key=lambda e: (positions[e[1]][0] - positions[e[0]][0], e)):
        (x0, y0), (x1, y1) = positions[u], positions[v]
        skip = (u, v) in skips
        if y0 == y1 and x1 - x0 > 1:
            side = 1 if y0 >= 0 else -1
            taken = lanes.setdefault((y0, side), [])
            level = 1 + max((lvl for a, b, lvl in taken if a < x1 and x0 < b), default=0)
            taken.append((x0, x1, level))
            height = 0.16 + 0.14 * (level - 1)
            inset = min(0.08 + 0.07 * (level - 1), half_w - 0.05)
            start = (x0 + inset, y0 + side * half_h)
            end = (x1 - inset, y1 + side * half_h)
            lift = side * height * 4 / 3
            vertices = [start, (start[0], start[1] + lift), (end[0], end[1] + lift), end]
            codes = [move, curve, curve, curve]
        else:
            start, end = (x0 + half_w, y0), (x1 - half_w, y1)
            between = [float(c) for c in range(int(x0) + 1, int(x1))]
            if between and all((c, y0) not in occupied for c in between):
                # Run along the source's row, then turn into the target.
                bend = (x1 - 1 + half_w + 0.1, y0)
                vertices, codes = [start, bend, end], [move, line, line]
            elif between and all((c, y1) not in occupied for c in between):
                bend = (x0 + 1 - half_w - 0.1, y1)
                vertices, codes = [start, bend, end], [move, line, line]
            else:
                vertices, codes = [start, end], [move, line]
        edges.append(_Edge(u, v, skip, vertices, codes))
    return edges


def _draw_node(
    ax: Axes,
    node: int,
    attrs: dict[str, Any],
    xy: tuple[float, float],
    shape: tuple[int, ...] | None = None,
) -> None:
    from matplotlib.patches import FancyBboxPatch

    kind = attrs.get("kind")
    if kind == "input":
        text, color = f"input\n{attrs['units']} features", _NODE_COLORS["input"]
        if "shape" in attrs:
            text = "input\n" + "x".join(str(side) for side in attrs["shape"]) + " image"
    elif kind == "output":
        text, color = f"output\n{attrs['units']} units", _NODE_COLORS["output"]
    else:
        # The layer's kind labels and colours its box; a kind this process has not registered
        # (a plug-in not imported) still gets a box with its name.
        try:
            layer_kind = get_layer_kind(kind)  # type: ignore[arg-type]
        except KeyError:
            text, color = str(kind), None
        else:
            text, color = layer_kind.box_label(attrs), layer_kind.colour(attrs)
        color = color or _NODE_COLORS["layer"]
        if shape is not None:
            text += "\n→ " + "x".join(str(side) for side in shape)
    (x, y), (width, height) = xy, _BOX
    box = FancyBboxPatch(
        (x - width / 2, y - height / 2),
        width,
        height,
        boxstyle="round,pad=0.0,rounding_size=0.08",
        facecolor=color,
        edgecolor="#444444",
        linewidth=1.0,
        zorder=3,
    )
    box.set_gid(f"node-{node}")
    ax.add_patch(box)
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5, zorder=4, linespacing=1.25)
    if kind not in ("input", "output"):
        ax.text(
            x + width / 2 - 0.04,
            y - height / 2 + 0.03,
            f"#{node}",
            ha="right",
            va="bottom",
            fontsize=6.5,
            color="0.45",
            zorder=4,
        )


def _draw_edge(ax: Axes, edge: _Edge) -> None:
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path as MplPath

    arrow = FancyArrowPatch(
        path=MplPath(edge.vertices, edge.codes),
        arrowstyle="-|>",
        mutation_scale=11,
        linewidth=1.3,
        linestyle="--" if edge.skip else "-",
        color=_SKIP_COLOR if edge.skip else _CHAIN_COLOR,
        shrinkA=0,
        shrinkB=0,
        joinstyle="round",
        zorder=1 if edge.skip else 2,
    )
    arrow.set_gid(("skip" if edge.skip else "edge") + f"-{edge.source}-{edge.target}")
    ax.add_patch(arrow)
