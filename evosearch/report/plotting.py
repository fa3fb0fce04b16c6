"""Figures of a run: the Pareto front, convergence by generation, and architecture drawings.

Every function returns a :class:`matplotlib.figure.Figure`. Figures are made without
:mod:`matplotlib.pyplot` and rendered by the Agg canvas, so no display and no GUI backend is
ever needed, the user's backend and pyplot's figure registry are left alone, and a notebook
shows a returned figure once (as a PNG, whether or not pyplot was imported). Save one with
``fig.savefig("front.png")``.

matplotlib is imported inside the functions (``pip install 'evosearch[plot]'``); the core
package never imports this module.

A *source* is a run folder path, a :class:`~evosearch.runs.RunRecord` from
:func:`~evosearch.runs.load_run`, or a fitted :class:`~evosearch.Evolver`. An Evolver that wrote
a run folder (``out=...``) is read from that folder; one without has no journal, so its Pareto
plot shows the archive only.

Which archive members are drawn (:func:`pick_members`):

best
    the highest score (ties: fewer parameters);
smallest
    the fewest parameters;
knee
    the member farthest above the straight line joining *smallest* and *best* after
    normalising both axes to ``[0, 1]`` over the archive (score linearly, parameter count on a
    log scale, as the Pareto plot shows it): the point where extra parameters stop buying much
    score. With fewer than three members the knee is one of the extremes (ties: higher score).
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from evosearch.errors import EvosearchError, RunFolderError
from evosearch.nn.layers import get_layer_kind
from evosearch.runs import RunRecord, load_run
from evosearch.search import ArchiveEntry, ParetoArchive
from evosearch.space import INPUT, OUTPUT, Genome

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from evosearch.search import Evolver

__all__ = [
    "RunData",
    "pick_members",
    "plot_architecture",
    "plot_convergence",
    "plot_pareto",
    "run_data",
]

MISSING_MATPLOTLIB = "plotting needs matplotlib: pip install 'evosearch[plot]'"

_FRONT_COLOR = "#d62728"
_CHAIN_COLOR = "#333333"
_SKIP_COLOR = "#e07b00"
# Input and output boxes, and a layer whose kind gives no colour (a dense layer's is its
# activation's: see LayerKind.colour).
_NODE_COLORS = {"input": "#cfe8cf", "output": "#d9d2ec", "layer": "#eeeeee"}


# --------------------------------------------------------------------------- the data
@dataclass
class RunData:
    """What the figures are drawn from, whatever the source.

    Attributes
    ----------
    name : str
        A short name for titles (the run folder's name, or ``"Evolver"``).
    task : str
        ``"classification"`` or ``"regression"``.
    archive : ParetoArchive
        The Pareto archive (empty before the first generation finished).
    candidates : list of (int, float, int)
        ``(generation, score, n_params)`` of every successful journalled evaluation; empty for an
        Evolver without a run folder.
    failures : int
        Failed evaluations in the journal.
    population : list of (float, int)
        ``(score, n_params)`` of the successful members of the last population, when known.
    history : list of dict
        One dict per finished generation, with at least ``generation``, ``best_score``,
        ``hypervolume`` and ``archive_size`` (``best_score`` NaN while nothing succeeded).
    planned_generations : int or None
        Generations the run was asked for (after the initial generation 0).
    info : dict or None
        ``run.json`` when the source is a run folder.
    """

    name: str
    task: str
    archive: ParetoArchive
    candidates: list[tuple[int, float, int]] = field(default_factory=list)
    failures: int = 0
    population: list[tuple[float, int]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    planned_generations: int | None = None
    info: dict[str, Any] | None = None

    @property
    def score_name(self) -> str:
        """``"accuracy"`` or ``"R²"``."""
        return "R²" if self.task == "regression" else "accuracy"


def run_data(source: str | Path | RunRecord | Evolver | RunData) -> RunData:
    """Collect what the figures need from a run folder, a RunRecord or a fitted Evolver.

    Parameters
    ----------
    source : path-like, RunRecord, Evolver or RunData
        See the module docstring.

    Returns
    -------
    RunData

    Raises
    ------
    RunFolderError
        If a run folder is missing or corrupt.
    ValueError
        If an Evolver is not fitted yet.
    TypeError
        If ``source`` is none of the above.
    """
    if isinstance(source, RunData):
        return source
    if isinstance(source, (str, Path)):
        return _from_record(load_run(source))
    if isinstance(source, RunRecord):
        return _from_record(source)
    from evosearch.search import Evolver

    if isinstance(source, Evolver):
        if source.out is not None:
            return _from_record(load_run(source.out))
        if not hasattr(source, "archive_"):
            raise ValueError("this Evolver is not fitted yet: call fit(X, y) first")
        return RunData(
            name="Evolver",
            task=getattr(source, "task_", source.task),
            archive=source.archive_,
            history=[record.to_dict() for record in source.history_],
            planned_generations=source.generations,
        )
    raise TypeError(
        "source must be a run folder path, a RunRecord or a fitted Evolver, got "
        f"{type(source).__name__}"
    )


def _from_record(record: RunRecord) -> RunData:
    if record.archive is not None:
        try:
            archive = ParetoArchive.from_dict(record.archive)
        except ValueError as exc:
            raise RunFolderError(f"{record.path / 'archive.json'}: {exc}") from None
    else:
        archive = ParetoArchive()
    candidates = [
        (int(e["generation"]), float(e["score"]), int(e["n_params"]))
        for e in record.journal
        if e["error"] is None
    ]
    population: list[tuple[float, int]] = []
    if record.generations:
        for member in record.generations[-1]["population"]:
            result = member.get("result", {})
            if result.get("error") is None and "score" in result:
                population.append((float(result["score"]), int(result["n_params"])))
    history = [
        {
            **g,
            "best_score": math.nan if g.get("best_score") is None else float(g["best_score"]),
            "mean_score": math.nan if g.get("mean_score") is None else float(g["mean_score"]),
        }
        for g in record.generations
    ]
    return RunData(
        name=record.path.resolve().name,
        task=str(record.info["dataset"].get("task", "classification")),
        archive=archive,
        candidates=candidates,
        failures=sum(1 for e in record.journal if e["error"] is not None),
        population=population,
        history=history,
        planned_generations=record.planned_generations,
        info=record.info,
    )


def pick_members(archive: ParetoArchive) -> dict[str, ArchiveEntry]:
    """Choose the archive members worth drawing: best, smallest and knee.

    Parameters
    ----------
    archive : ParetoArchive
        With objectives ``(score, n_params)``.

    Returns
    -------
    dict
        ``{"best": entry, "smallest": entry, "knee": entry}`` (the same entry may fill several
        roles); empty for an empty archive. See the module docstring for the knee.

    Examples
    --------
    >>> archive = ParetoArchive()
    >>> archive.update([ArchiveEntry({}, h, (s, p)) for h, s, p in
    ...                 [("a", 0.50, 10), ("b", 0.90, 100), ("c", 0.92, 10_000)]])
    3
    >>> {role: entry.genome_hash for role, entry in pick_members(archive).items()}
    {'best': 'c', 'smallest': 'a', 'knee': 'b'}
    """
    members = archive.members
    if not members:
        return {}
    points = {m.genome_hash: _point(archive, m) for m in members}
    best = archive.best(0)  # the score is always the first objective
    # Fewest parameters, ties to the better score, as archive.best would rank them.
    smallest = min(
        members, key=lambda m: (points[m.genome_hash][1], -m.objectives[0], m.genome_hash)
    )
    scores = [points[m.genome_hash][0] for m in members]
    sizes = [math.log10(max(points[m.genome_hash][1], 1.0)) for m in members]
    low_s, high_s = min(scores), max(scores)
    low_p, high_p = min(sizes), max(sizes)

    def lift(index: int) -> tuple[float, float]:
        s = (scores[index] - low_s) / (high_s - low_s) if high_s > low_s else 1.0
        p = (sizes[index] - low_p) / (high_p - low_p) if high_p > low_p else 0.0
        # Distance above the diagonal from (0, 0) to (1, 1), up to a constant factor.
        return (s - p, scores[index])

    knee = members[max(range(len(members)), key=lift)]
    return {"best": best, "smallest": smallest, "knee": knee}


def _point(archive: ParetoArchive, entry: ArchiveEntry) -> tuple[float, float]:
    """``(score, parameters)`` of a member, taken by objective name whatever the objectives."""
    values = archive.named(entry)
    if "params" in values:
        return entry.objectives[0], values["params"]
    return entry.objectives[0], float(Genome.from_json(entry.genome).n_params())


# --------------------------------------------------------------------------- matplotlib
def _new_figure(**kwargs: Any) -> Figure:
    """A figure on an Agg canvas, without pyplot; lazy import of matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError:
        raise EvosearchError(MISSING_MATPLOTLIB) from None
    figure = _figure_class()(**kwargs)
    FigureCanvasAgg(figure)
    return figure


@functools.cache
def _figure_class() -> type[Figure]:
    from matplotlib.figure import Figure

    class RunFigure(Figure):
        """A Figure that IPython and Jupyter show as a PNG even when pyplot was never imported."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", facecolor="white")
            return buffer.getvalue()

    return RunFigure


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")


def _integer_axis(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _count_format(value: float, _position: Any = None) -> str:
    if value >= 1e6:
        return f"{value / 1e6:g}M"
    if value >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


# --------------------------------------------------------------------------- Pareto
def plot_pareto(source: str | Path | RunRecord | Evolver | RunData) -> Figure:
    """Score against parameter count: every evaluated candidate and the Pareto archive.

    Candidates (successful evaluations from the journal) are dots coloured by the generation
    that evaluated them; the archive is a red step front (the boundary of what it dominates)
    with diamond markers, its best, smallest and knee members labelled. The x axis is
    logarithmic. For an Evolver without a run folder only the archive is drawn.

    Parameters
    ----------
    source : path-like, RunRecord or Evolver
        The run (see the module docstring).

    Returns
    -------
    matplotlib.figure.Figure
        Artists carry ``gid`` ``"candidates"`` (a PathCollection), ``"population"`` and
        ``"archive"`` (a Line2D, one point per member, smallest first).

    Raises
    ------
    EvosearchError
        If matplotlib is missing, or the run folder is missing or corrupt.
    """
    data = run_data(source)
    figure = _new_figure(figsize=(8.5, 5.4), layout="constrained")
    ax = figure.add_subplot()
    _draw_pareto(figure, ax, data)
    return figure


def _draw_pareto(figure: Figure, ax: Axes, data: RunData) -> None:
    import numpy as np
    from matplotlib.colors import BoundaryNorm
    from matplotlib.ticker import FuncFormatter

    scores_shown: list[float] = []
    if data.candidates:
        generations = np.array([c[0] for c in data.candidates])
        scores = np.array([c[1] for c in data.candidates])
        params = np.array([c[2] for c in data.candidates])
        last = int(max(generations.max(), data.planned_generations or 0, 1))
        cmap = _colormap("viridis")
        norm = BoundaryNorm(np.arange(-0.5, last + 1.5), cmap.N)
        dots = ax.scatter(
            params,
            scores,
            c=generations,
            cmap=cmap,
            norm=norm,
            s=22,
            alpha=0.75,
            linewidths=0,
            zorder=2,
            label=f"evaluated candidates ({len(data.candidates)})",
        )
        dots.set_gid("candidates")
        bar = figure.colorbar(dots, ax=ax, pad=0.01, aspect=30)
        bar.set_label("generation evaluated")
        _integer_axis(bar.ax.yaxis)
        bar.ax.minorticks_off()
        scores_shown += scores.tolist()
    if data.population:
        population = ax.scatter(
            [p for _, p in data.population],
            [s for s, _ in data.population],
            s=60,
            facecolors="none",
            edgecolors="0.25",
            linewidths=0.9,
            zorder=3,
            label=f"final population ({len(data.population)})",
        )
        population.set_gid("population")
    members = data.archive.members
    if members:
        xs = [_point(data.archive, m)[1] for m in members]
        ys = [_point(data.archive, m)[0] for m in members]
        (front,) = ax.plot(
            xs,
            ys,
            drawstyle="steps-post",
            color=_FRONT_COLOR,
            linewidth=1.8,
            marker="D",
            markersize=6.5,
            markerfacecolor=_FRONT_COLOR,
            markeredgecolor="black",
            markeredgewidth=0.7,
            zorder=4,
            label=f"Pareto archive ({len(members)})",
        )
        front.set_gid("archive")
        scores_shown += ys
    if not data.candidates and not members:
        _empty(ax, "no evaluation finished yet")
    else:
        ax.set_xscale("log")
        ax.margins(x=0.05, y=0.12)  # room for the member labels above the front
        ax.xaxis.set_major_formatter(FuncFormatter(_count_format))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, p: ""))
        sizes = [_point(data.archive, m)[1] for m in members]
        _log_ticks(ax, [c[2] for c in data.candidates] + sizes)
        ax.legend(loc="best", fontsize=9, framealpha=0.9)
        if data.task == "regression" and scores_shown and min(scores_shown) < -1.0:
            # A diverged regressor can score R² = -1e6: keep the interesting range readable.
            ax.set_ylim(bottom=-1.0)
    ax.set_xlabel("parameters (log scale)")
    ax.set_ylabel(f"cross-validated {data.score_name}")
    done = len(data.history)
    subtitle = {0: "no generation finished", 1: "initial population only"}.get(
        done, f"{done - 1} generations"
    )
    if data.failures:
        subtitle += f", {data.failures} failed evaluations not shown"
    ax.set_title(f"Pareto front: {data.name} ({subtitle})", fontsize=11)
    ax.grid(True, which="major", alpha=0.3)
    if members:
        _label_members(figure, ax, data.archive)


def _log_ticks(ax: Axes, values: list[float]) -> None:
    """Label more ticks than a log axis does when the data spans less than two decades."""
    from matplotlib.ticker import FixedLocator, MaxNLocator

    if not values:
        return
    low, high = min(values), max(values)
    if low <= 0 or high / low >= 100:
        return
    ax.set_xlim(low / 1.25, high * 1.25)
    if high / low < 3:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        return
    mantissas = (1, 2, 3, 5, 7) if high / low < 10 else (1, 2, 5)
    ticks = [
        m * 10**e
        for e in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
        for m in mantissas
    ]
    ax.xaxis.set_major_locator(FixedLocator(ticks))


def _colormap(name: str) -> Any:
    from matplotlib import colormaps

    return colormaps[name]


def _label_members(figure: Figure, ax: Axes, archive: ParetoArchive) -> None:
    """Label the best, smallest and knee members; a label that would cover another moves up."""
    from matplotlib.patheffects import withStroke

    roles: dict[str, list[str]] = {}
    entries: dict[str, ArchiveEntry] = {}
    for role, entry in pick_members(archive).items():
        roles.setdefault(entry.genome_hash, []).append(role)
        entries[entry.genome_hash] = entry
    labels = []
    for key, names in roles.items():
        entry = entries[key]
        smallest_only = names == ["smallest"]
        labels.append(
            ax.annotate(
                " / ".join(names),
                xy=_point(archive, entry)[::-1],
                xytext=(7, 9) if smallest_only else (-9, 9),
                textcoords="offset points",
                ha="left" if smallest_only else "right",
                va="bottom",
                fontsize=9,
                color="#7a1010",
                # Under the front's markers (never hide a member), haloed to stay readable.
                path_effects=[withStroke(linewidth=3, foreground="white")],
                zorder=3.5,
            )
        )
    figure.draw_without_rendering()  # final layout, so the label boxes below are final too
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    placed: list[Any] = []
    for label in labels:
        for _ in range(len(labels)):
            box = label.get_window_extent(renderer)
            clash = next((other for other in placed if box.overlaps(other)), None)
            if clash is None:
                break
            x, y = label.xyann
            label.xyann = (x, y + (clash.y1 - box.y0) * 72 / figure.dpi + 2)
        placed.append(label.get_window_extent(renderer))


# --------------------------------------------------------------------------- convergence
def plot_convergence(source: str | Path | RunRecord | Evolver | RunData) -> Figure:
    """Best score, hypervolume and archive size by generation, in three panels.

    The top panel also shows the population's mean score (dashed). When the run is not finished,
    the generations still to come are shaded.

    Parameters
    ----------
    source : path-like, RunRecord or Evolver
        The run (see the module docstring).

    Returns
    -------
    matplotlib.figure.Figure
        One Line2D per panel with ``gid`` ``"best_score"``, ``"hypervolume"`` and
        ``"archive_size"``, each with one point per finished generation.

    Raises
    ------
    EvosearchError
        If matplotlib is missing, or the run folder is missing or corrupt.
    """
    data = run_data(source)
    figure = _new_figure(figsize=(8.5, 6.6), layout="constrained")
    axes = figure.subplots(3, 1, sharex=True)
    history = data.history
    generations = [int(g["generation"]) for g in history]
    panels = (
        ("best_score", f"best {data.score_name}", "#1f77b4"),
        ("hypervolume", "hypervolume", "#2ca02c"),
        ("archive_size", "archive size", "#9467bd"),
    )
    for ax, (key, label, color) in zip(axes, panels, strict=True):
        values = [float(g[key]) if g.get(key) is not None else math.nan for g in history]
        (line,) = ax.plot(
            generations, values, marker="o", markersize=4, color=color, label=label, zorder=3
        )
        line.set_gid(key)
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    if history and any(not math.isnan(float(g.get("mean_score", math.nan))) for g in history):
        means = [float(g.get("mean_score", math.nan)) for g in history]
        axes[0].plot(
            generations,
            means,
            linestyle="--",
            color="0.45",
            linewidth=1.2,
            label=f"population mean {data.score_name}",
            zorder=2,
        )
        axes[0].legend(loc="best", fontsize=9)
    _integer_axis(axes[2].yaxis)
    sizes = [int(g["archive_size"]) for g in history if g.get("archive_size") is not None]
    if sizes and max(sizes) - min(sizes) < 2:
        # Integer ticks need at least two integers in view.
        axes[2].set_ylim(min(sizes) - 1, max(sizes) + 1)
    _integer_axis(axes[2].xaxis)
    axes[2].set_xlabel("generation")
    planned = data.planned_generations
    last = max([*generations, planned or 0, 1])
    for ax in axes:
        ax.set_xlim(-0.4, last + 0.4)
    done = max(generations) if generations else -1
    if planned is not None and done < planned:
        for ax in axes:
            ax.axvspan(done + 0.5, last + 0.4, color="0.92", zorder=0)
        axes[1].text(
            (done + 0.5 + last + 0.4) / 2,
            0.5,
            "not run yet",
            transform=axes[1].get_xaxis_transform(),
            ha="center",
            va="center",
            color="0.45",
            fontsize=9,
        )
    if not history:
        _empty(axes[1], "no generation finished yet")
    of_planned = f" of {planned}" if planned is not None else ""
    figure.suptitle(
        f"Convergence: {data.name} ({max(done, 0)}{of_planned} generations)", fontsize=11
    )
    figure.align_ylabels(axes)
    return figure


# --------------------------------------------------------------------------- architecture
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
    for node in graph.nodes:
        _draw_node(ax, node, graph.nodes[node], positions[node])
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


def _spread(fold_scores: list[float]) -> float:
    """Half the range of the fold scores, as the console's '± folds' column."""
    return (max(fold_scores) - min(fold_scores)) / 2 if len(fold_scores) > 1 else 0.0


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


def _draw_node(ax: Axes, node: int, attrs: dict[str, Any], xy: tuple[float, float]) -> None:
    from matplotlib.patches import FancyBboxPatch

    kind = attrs.get("kind")
    if kind == "input":
        text, color = f"input\n{attrs['units']} features", _NODE_COLORS["input"]
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
