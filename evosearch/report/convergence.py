"""The convergence plot: best score, hypervolume and archive size by generation.

The figure is made by :mod:`evosearch.report._figures` (Agg canvas, no pyplot; matplotlib
imported on first use).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from evosearch.report._figures import _empty, _integer_axis, _new_figure
from evosearch.report._rundata import RunData, run_data
from evosearch.runs import RunRecord

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from evosearch.report.compare import RunSource
    from evosearch.search import Evolver

__all__ = ["plot_convergence"]


def plot_convergence(
    source: str | Path | RunRecord | Evolver | RunData | list[RunSource] | tuple[RunSource, ...],
) -> Figure:
    """Best score, hypervolume and archive size by generation, in three panels.

    The top panel also shows the population's mean score (dashed). When the run is not finished,
    the generations still to come are shaded.

    Parameters
    ----------
    source : path-like, RunRecord or Evolver, or a list of them
        The run (see :func:`~evosearch.report.run_data`). A list (or tuple) of two or more
        runs draws their comparison instead (see below); a list of one run draws that run.

    Returns
    -------
    matplotlib.figure.Figure
        One Line2D per panel with ``gid`` ``"best_score"``, ``"hypervolume"`` and
        ``"archive_size"``, each with one point per finished generation.

        For several runs: best score and hypervolume against cumulative wall-clock seconds
        and evaluations (four panels), one line per group of runs that differ only by seed
        (their median, with a min-max band); each panel has one Line2D per group with ``gid``
        ``"best_score-seconds"``, ``"best_score-evaluations"``, ``"hypervolume-seconds"`` or
        ``"hypervolume-evaluations"``. See :mod:`evosearch.report.compare`.

    Raises
    ------
    EvosearchError
        If matplotlib is missing, a run folder is missing or corrupt, or runs to compare ran
        on different data or with different objectives.
    """
    if isinstance(source, (list, tuple)):
        if len(source) != 1:
            from evosearch.report.compare import compare_runs
            from evosearch.report.compare_plots import comparison_convergence

            return comparison_convergence(compare_runs(source))
        source = source[0]
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
