"""The comparison figures: convergence of several runs, and their Pareto fronts overlaid.

:func:`evosearch.report.plot_convergence` and :func:`evosearch.report.plot_pareto` draw these
when given a list of runs; the runs are read and grouped by :func:`evosearch.report.compare_runs`
(see :mod:`evosearch.report.compare` for the checks, the groups and how a group's median curve
is made). Figures are made by :mod:`evosearch.report._figures` (Agg canvas, no pyplot).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evosearch.report._figures import _count_format, _empty, _log_ticks, _new_figure
from evosearch.report._rundata import _point
from evosearch.report.compare import AXES, METRICS, ComparedRun, Comparison, RunGroup

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["comparison_convergence", "comparison_pareto", "group_colors"]

# Colour-blind friendly (Okabe-Ito), then matplotlib's tab10 for more groups.
_COLORS = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
    "#F0E442",
)
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")


def group_colors(comparison: Comparison) -> dict[str, str]:
    """``{group label: colour}``, the same in every comparison figure."""
    colors: dict[str, str] = {}
    for index, group in enumerate(comparison.groups):
        if index < len(_COLORS):
            colors[group.label] = _COLORS[index]
        else:
            from matplotlib.colors import to_hex

            from evosearch.report._figures import _colormap

            colors[group.label] = to_hex(_colormap("tab10")(index % 10))
    return colors


def _legend_label(group: RunGroup) -> str:
    n = len(group.runs)
    if n > 1:
        return f"{group.label} ({n} runs)"
    seed = group.runs[0].seed
    return f"{group.label} (seed {seed})" if seed is not None else group.label


def comparison_convergence(comparison: Comparison) -> Figure:
    """Best score and hypervolume against wall-clock seconds and evaluations, one line per group.

    Returns
    -------
    matplotlib.figure.Figure
        Four panels; each has one Line2D per group with ``gid`` ``"METRIC-AXIS"``
        (``"best_score-seconds"``, ``"hypervolume-evaluations"``, ...) and, for a group of
        several runs, a min-max band with ``gid`` ``"METRIC-AXIS-band"``.
    """
    figure = _new_figure(figsize=(10.5, 7.4), layout="constrained")
    axes = figure.subplots(2, 2, sharex="col", sharey="row")
    colors = group_colors(comparison)
    handles: list[Any] = []
    for row, metric in enumerate(METRICS):
        for column, axis in enumerate(AXES):
            ax = axes[row][column]
            drawn = False
            for group in comparison.groups:
                x, median, low, high = group.curve(metric, axis)
                if not len(x):
                    continue
                drawn = True
                color = colors[group.label]
                (line,) = ax.plot(
                    x,
                    median,
                    drawstyle="steps-post",
                    color=color,
                    linewidth=2.0,
                    marker="o",
                    markersize=3.2,
                    label=_legend_label(group),
                    zorder=3,
                )
                line.set_gid(f"{metric}-{axis}")
                if len(group.runs) > 1:
                    band = ax.fill_between(
                        x, low, high, step="post", color=color, alpha=0.18, linewidth=0, zorder=2
                    )
                    band.set_gid(f"{metric}-{axis}-band")
                if row == 0 and column == 0:
                    handles.append(line)
            if not drawn:
                _empty(ax, "no generation finished yet")
            ax.grid(True, alpha=0.3)
            ax.set_xlim(left=0)
            if row == len(METRICS) - 1:
                label = f"{AXES[axis]} (cumulative over generations)"
                ax.set_xlabel(label)
            if column == 0:
                name = comparison.score_name if metric == "best_score" else ""
                ax.set_ylabel(f"best {name}" if name else METRICS[metric])
    axes[1][1].xaxis.set_major_formatter(_formatter())
    _legend_below(figure, handles)
    several = any(len(group.runs) > 1 for group in comparison.groups)
    how = "; line: median of a group's seeds, band: their min-max" if several else ""
    figure.suptitle(
        f"Convergence: {len(comparison.runs)} runs on {_dataset_name(comparison)}{how}",
        fontsize=11,
    )
    figure.align_ylabels(axes[:, 0])
    return figure


def comparison_pareto(comparison: Comparison) -> Figure:
    """The runs' final Pareto archives on one plot: score against parameters (log axis).

    Returns
    -------
    matplotlib.figure.Figure
        One step front (a Line2D with ``gid`` ``"archive"``) per run with a non-empty archive,
        in the colour of its group, a marker per seed; the legend names the groups and the
        seeds.
    """
    from matplotlib.ticker import FuncFormatter

    figure = _new_figure(figsize=(9.0, 5.6), layout="constrained")
    ax = figure.add_subplot()
    colors = group_colors(comparison)
    # A marker per seed, the same in every group: seed 1 of NSGA-II and of aging look alike.
    seeds = list(dict.fromkeys(_seed_key(run) for run in comparison.runs))
    sizes: list[float] = []
    scores: list[float] = []
    for group in comparison.groups:
        color = colors[group.label]
        for run in group.runs:
            members = run.data.archive.members
            if not members:
                continue
            xs = [_point(run.data.archive, m)[1] for m in members]
            ys = [_point(run.data.archive, m)[0] for m in members]
            (front,) = ax.plot(
                xs,
                ys,
                drawstyle="steps-post",
                color=color,
                linewidth=1.6,
                alpha=0.9,
                marker=_marker(seeds, run),
                markersize=6,
                markerfacecolor=color,
                markeredgecolor="black",
                markeredgewidth=0.6,
                zorder=3,
            )
            front.set_gid("archive")
            sizes += xs
            scores += ys
    if not sizes:
        _empty(ax, "no archive has members yet")
    else:
        ax.set_xscale("log")
        ax.margins(x=0.05, y=0.08)
        ax.xaxis.set_major_formatter(FuncFormatter(_count_format))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, p: ""))
        _log_ticks(ax, sizes)
        _legend_below(figure, _pareto_handles(comparison, colors, seeds))
        if comparison.score_name == "R²" and min(scores) < -1.0:
            ax.set_ylim(bottom=-1.0)  # as the one-run plot: a diverged regressor stays readable
    ax.set_xlabel("parameters (log scale)")
    ax.set_ylabel(f"cross-validated {comparison.score_name}")
    ax.set_title(
        f"Final Pareto archives: {len(comparison.runs)} runs on {_dataset_name(comparison)}",
        fontsize=11,
    )
    ax.grid(True, which="major", alpha=0.3)
    return figure


def _seed_key(run: ComparedRun) -> str:
    return f"seed {run.seed}" if run.seed is not None else run.name


def _marker(seeds: list[str], run: ComparedRun) -> str:
    return _MARKERS[seeds.index(_seed_key(run)) % len(_MARKERS)]


def _pareto_handles(comparison: Comparison, colors: dict[str, str], seeds: list[str]) -> list[Any]:
    """Legend entries: a coloured line per group, then a grey marker per seed."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=colors[group.label], linewidth=2.0, label=_legend_label(group))
        for group in comparison.groups
    ]
    if len(seeds) > 1 and len(seeds) < len(comparison.runs):
        handles += [
            Line2D(
                [],
                [],
                linestyle="none",
                marker=_MARKERS[index % len(_MARKERS)],
                markersize=6,
                markerfacecolor="0.75",
                markeredgecolor="black",
                markeredgewidth=0.6,
                label=seed,
            )
            for index, seed in enumerate(seeds)
        ]
    return handles


def _legend_below(figure: Figure, handles: list[Any]) -> None:
    """One legend under the panels, as many columns as the labels' length lets fit."""
    if not handles:
        return
    width = figure.get_figwidth() * 72 / (9 * 0.62)  # characters of 9 pt text across
    longest = max(len(handle.get_label()) for handle in handles) + 8  # with the handle
    figure.legend(
        handles=handles,
        loc="outside lower center",
        ncols=max(1, min(len(handles), int(width // longest))),
        fontsize=9,
        frameon=False,
    )


def _dataset_name(comparison: Comparison) -> str:
    return str(comparison.dataset.get("name", "the same data"))


def _formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(_count_format)
