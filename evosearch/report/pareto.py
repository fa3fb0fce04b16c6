"""The Pareto plot: score against the run's size, every candidate and the archive.

The size is the run's second objective: the parameter count by default, bytes, FLOPs or
latency in a run with ``--objectives score,bytes`` and the like.

The figure is made by :mod:`evosearch.report._figures` (Agg canvas, no pyplot; matplotlib
imported on first use).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from evosearch.report._figures import (
    _colormap,
    _count_format,
    _empty,
    _integer_axis,
    _log_ticks,
    _new_figure,
)
from evosearch.report._rundata import RunData, _point, objective_label, pick_members, run_data
from evosearch.runs import RunRecord
from evosearch.search import ArchiveEntry, ParetoArchive

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from evosearch.report.compare import RunSource
    from evosearch.search import Evolver

__all__ = ["plot_pareto"]

_FRONT_COLOR = "#d62728"

#: R² is drawn from here up: a diverged regressor can score -1e6 and squash the rest. The plot
#: says how many points it drew at this edge (the records keep their real R²).
R2_FLOOR = -1.0


def plot_pareto(
    source: str | Path | RunRecord | Evolver | RunData | list[RunSource] | tuple[RunSource, ...],
) -> Figure:
    """Score against size: every evaluated candidate and the Pareto archive.

    The size (x axis, logarithmic) is the run's second objective: the parameter count by
    default, or bytes, FLOPs, latency (labelled as in tables, e.g. ``"bytes (log scale)"``).
    Candidates (successful evaluations from the journal) are dots coloured by the generation
    that evaluated them; the archive is a red step front (the boundary of what it dominates)
    with diamond markers, its best, smallest and knee members labelled. An R² below -1 is
    drawn at -1, and the title says how many were. With three or more
    objectives the front steps through the members that no other member beats on both axes,
    the others are markers only. For an Evolver without a run folder only the archive is drawn.

    Parameters
    ----------
    source : path-like, RunRecord or Evolver, or a list of them
        The run (see :func:`~evosearch.report.run_data`). A list (or tuple) of two or more
        runs draws their comparison instead (see below); a list of one run draws that run.

    Returns
    -------
    matplotlib.figure.Figure
        Artists carry ``gid`` ``"candidates"`` (a PathCollection), ``"population"`` and
        ``"archive"`` (a Line2D, one point per member, smallest first), with three or more
        objectives also ``"front"`` (the step line of the members non-dominated on the axes).

        For several runs: their final archives overlaid, one step front (``gid``
        ``"archive"``) per run, coloured by group of runs that differ only by seed. See
        :mod:`evosearch.report.compare`.

    Raises
    ------
    EvosearchError
        If matplotlib is missing, a run folder is missing or corrupt, or runs to compare ran
        on different data or with different objectives.
    """
    if isinstance(source, (list, tuple)):
        if len(source) != 1:
            from evosearch.report.compare import compare_runs
            from evosearch.report.compare_plots import comparison_pareto

            return comparison_pareto(compare_runs(source))
        source = source[0]
    data = run_data(source)
    figure = _new_figure(figsize=(8.5, 5.4), layout="constrained")
    ax = figure.add_subplot()
    _draw_pareto(figure, ax, data)
    return figure


def _draw_pareto(figure: Figure, ax: Axes, data: RunData) -> None:
    import numpy as np
    from matplotlib.colors import BoundaryNorm
    from matplotlib.ticker import FuncFormatter

    floor = R2_FLOOR if data.score_name in ("R²", "r2") else -np.inf
    clipped = 0

    def drawn(values: Any, count: bool = False) -> Any:
        """``values`` as drawn; ``count``: add those drawn at the floor to the title's count
        (the candidates, or the archive where there are none: the others are among them)."""
        nonlocal clipped
        values = np.asarray(values, dtype=float)
        clipped += int(np.sum(values < floor)) if count else 0
        return np.maximum(values, floor)

    if data.candidates:
        generations = np.array([c[0] for c in data.candidates])
        scores = drawn([c[1] for c in data.candidates], count=True)
        sizes = np.array([c[2] for c in data.candidates])
        last = int(max(generations.max(), data.planned_generations or 0, 1))
        cmap = _colormap("viridis")
        norm = BoundaryNorm(np.arange(-0.5, last + 1.5), cmap.N)
        dots = ax.scatter(
            sizes,
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
    if data.population:
        population = ax.scatter(
            [p for _, p in data.population],
            drawn([s for s, _ in data.population]),
            s=60,
            facecolors="none",
            edgecolors="0.25",
            linewidths=0.9,
            zorder=3,
            label=f"final population ({len(data.population)})",
        )
        population.set_gid("population")
    members = data.archive.members
    size = data.size_name
    several = len(data.archive.objective_names or ()) > 2
    if members:
        xs = [_point(data.archive, m, size)[1] for m in members]
        ys = drawn([_point(data.archive, m, size)[0] for m in members], not data.candidates)
        ys = ys.tolist()
        if several:
            # The members form a surface: step only through those this projection keeps.
            edge = _projected_front(xs, ys)
            (step,) = ax.plot(
                [xs[i] for i in edge],
                [ys[i] for i in edge],
                drawstyle="steps-post",
                color=_FRONT_COLOR,
                linewidth=1.8,
                zorder=4,
            )
            step.set_gid("front")
        (front,) = ax.plot(
            xs,
            ys,
            linestyle="none" if several else "-",
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
    if not data.candidates and not members:
        _empty(ax, "no evaluation finished yet")
    else:
        ax.set_xscale("log")
        ax.margins(x=0.05, y=0.12)  # room for the member labels above the front
        ax.xaxis.set_major_formatter(FuncFormatter(_count_format))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, p: ""))
        shown = [_point(data.archive, m, size)[1] for m in members]
        _log_ticks(ax, [c[2] for c in data.candidates] + shown)
        ax.legend(loc="best", fontsize=9, framealpha=0.9)
        if clipped:
            ax.axhline(floor, color="0.6", linestyle=":", linewidth=0.8, zorder=1)
    axis = "parameters" if size == "params" else objective_label(data, size)
    ax.set_xlabel(f"{axis} (log scale)")
    ax.set_ylabel(f"cross-validated {data.score_name}")
    done = len(data.history)
    subtitle = {0: "no generation finished", 1: "initial population only"}.get(
        done, f"{done - 1} generations"
    )
    if data.failures:
        subtitle += f", {data.failures} failed evaluations not shown"
    if clipped:
        subtitle += f", {clipped} with {data.score_name} below {floor:g} drawn at {floor:g}"
    ax.set_title(f"Pareto front: {data.name} ({subtitle})", fontsize=11)
    ax.grid(True, which="major", alpha=0.3)
    if members:
        _label_members(figure, ax, data.archive, size)


def _projected_front(xs: list[float], ys: list[float]) -> list[int]:
    """Indices of the points no other point beats on both axes (smaller x, higher y), by x."""
    order = sorted(range(len(xs)), key=lambda i: (xs[i], -ys[i]))
    kept: list[int] = []
    for i in order:
        if not kept or ys[i] > ys[kept[-1]]:
            kept.append(i)
    return kept


def _label_members(figure: Figure, ax: Axes, archive: ParetoArchive, size: str) -> None:
    """Label the best, smallest and knee members; a label that would cover another moves up."""
    from matplotlib.patheffects import withStroke

    roles: dict[str, list[str]] = {}
    entries: dict[str, ArchiveEntry] = {}
    for role, entry in pick_members(archive, size).items():
        roles.setdefault(entry.genome_hash, []).append(role)
        entries[entry.genome_hash] = entry
    labels = []
    for key, names in roles.items():
        entry = entries[key]
        smallest_only = names == ["smallest"]
        labels.append(
            ax.annotate(
                " / ".join(names),
                xy=_point(archive, entry, size)[::-1],
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
