"""The objective-pairs plot: the archive seen through every pair of its objectives.

With two objectives the Pareto plot (:mod:`evosearch.report.pareto`) says it all; with three or
more (or two other than score and parameters) a front is a surface, and one scatter plot per
pair of objectives shows how its members trade each against each.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING

from evosearch.objectives import canonical_name
from evosearch.report._figures import _colormap, _empty, _new_figure
from evosearch.report._rundata import RunData, objective_label, run_data
from evosearch.runs import RunRecord

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from evosearch.search import Evolver

__all__ = ["needs_pairs", "plot_objective_pairs"]


def needs_pairs(data: RunData) -> bool:
    """Whether the report draws :func:`plot_objective_pairs` too: with three or more
    objectives, or two whose second is not the size ``pareto.png`` plots (a maximised or
    unknown plug-in objective)."""
    names = data.archive.objective_names
    if names is None:
        return False
    return len(names) > 2 or (len(names) == 2 and canonical_name(names[1]) != data.size_name)


def plot_objective_pairs(source: str | Path | RunRecord | Evolver | RunData) -> Figure:
    """One scatter plot of the archive's members per pair of objectives.

    Objectives that are minimised (sizes, FLOPs, latency) are drawn on a log scale; members are
    coloured by the generation that found them.

    Parameters
    ----------
    source : path-like, RunRecord, Evolver or RunData
        The run (see :func:`~evosearch.report.run_data`).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per pair ``(i, j)``, ``i < j``, with ``gid`` ``"pair-I-J"`` on its points.
    """
    data = run_data(source)
    archive = data.archive
    names = list(archive.objective_names or [f"objective {i}" for i in range(len(archive.weights))])
    pairs = list(itertools.combinations(range(len(names)), 2))
    columns = min(3, max(len(pairs), 1))
    rows = max(1, -(-len(pairs) // columns))
    figure = _new_figure(figsize=(4.2 * columns, 3.6 * rows), layout="constrained")
    members = archive.members

    for number, (i, j) in enumerate(pairs, start=1):
        ax = figure.add_subplot(rows, columns, number)
        if not members:
            _empty(ax, "no archive yet")
            continue
        xs = [m.objectives[j] for m in members]
        ys = [m.objectives[i] for m in members]
        points = ax.scatter(
            xs,
            ys,
            c=[m.generation for m in members],
            cmap=_colormap("viridis"),
            s=36,
            edgecolors="black",
            linewidths=0.5,
        )
        points.set_gid(f"pair-{i}-{j}")
        for index, axis in ((j, "x"), (i, "y")):
            if archive.weights[index] < 0 and min(xs if axis == "x" else ys) > 0:
                (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        ax.set_xlabel(objective_label(data, names[j]))
        ax.set_ylabel(objective_label(data, names[i]))
        ax.grid(True, alpha=0.3)
    figure.suptitle(f"Archive by pairs of objectives: {data.name} ({len(members)} members)")
    return figure
