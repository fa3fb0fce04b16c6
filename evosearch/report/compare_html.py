"""The comparison of several runs as PNG files and one self-contained HTML page.

``evosearch report RUN1 RUN2 [...] [--out DIR]`` calls :func:`write_comparison`. The run
folders are only read; the runs are checked and grouped by
:func:`~evosearch.report.compare_runs` (same data and objectives, groups of runs that differ
only by seed). By default the files go to a new folder ``runs/compare-<time>``:

``compare-convergence.png``
    best score and hypervolume against cumulative wall-clock seconds and evaluations, one
    line per group (median of its seeds, min-max band);
``compare-pareto.png``
    every run's final Pareto archive on one plot, coloured by group;
``compare.html``
    both figures in one page (images embedded, inline CSS, nothing fetched), with a table of
    the final figures of every run (the settings that differ between the runs as columns), the
    same by group (median, min-max) and the settings every run shares.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from evosearch.errors import EvosearchError
from evosearch.report.compare import IGNORED_SETTINGS, ComparedRun, Comparison, compare_runs
from evosearch.report.html import (
    _CSS,
    Report,
    _duration,
    _e,
    _figure,
    _footer,
    _png,
    write_pages,
)

if TYPE_CHECKING:
    from evosearch.report.compare import RunSource

__all__ = ["default_comparison_folder", "write_comparison"]

_EXTRA_CSS = """
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px;
          margin-right: .4em; vertical-align: -.05em; }
figure.wide { margin-bottom: 1em; }
.note { color: #666; font-size: .88em; }
"""


def default_comparison_folder() -> Path:
    """``runs/compare-<YYYYmmdd-HHMMSS>``, with a suffix if that folder exists."""
    stem = f"compare-{time.strftime('%Y%m%d-%H%M%S')}"
    folder = Path("runs") / stem
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = Path("runs") / f"{stem}-{suffix}"
    return folder


def write_comparison(runs: Sequence[RunSource], out: str | Path | None = None) -> Report:
    """Compare two or more runs: write the comparison figures and ``compare.html``.

    Parameters
    ----------
    runs : sequence of path-like, RunRecord or Evolver
        Two or more runs on the same data with the same objectives (read only; they may still
        be running).
    out : path-like, optional
        Output folder, created if needed; default :func:`default_comparison_folder`. Files
        from an earlier comparison there are replaced.

    Returns
    -------
    Report
        The paths written; ``images`` has the keys ``"compare-convergence"`` and
        ``"compare-pareto"``.

    Raises
    ------
    RunFolderError
        If a run folder is missing or corrupt.
    EvosearchError
        If the runs ran on different data or with different objectives (nothing is written),
        matplotlib is missing, ``out`` is one of the run folders, or ``out`` cannot be
        written.
    """
    from evosearch.report.compare_plots import comparison_convergence, comparison_pareto

    comparison = compare_runs(runs)
    folder = Path(out) if out is not None else default_comparison_folder()
    for source in runs:
        if isinstance(source, (str, Path)) and Path(source).resolve() == folder.resolve():
            raise EvosearchError(
                f"--out {folder} is a run folder: the comparison goes to a folder of its own"
            )
    images = {
        "compare-convergence": _png(comparison_convergence(comparison)),
        "compare-pareto": _png(comparison_pareto(comparison)),
    }
    page = render_comparison(comparison, images)
    return write_pages(folder, images, "compare.html", page, "comparison")


def render_comparison(comparison: Comparison, images: dict[str, bytes]) -> str:
    """Assemble the self-contained comparison page.

    Parameters
    ----------
    comparison : Comparison
        From :func:`~evosearch.report.compare_runs`.
    images : dict of str to bytes
        PNG images, keys ``"compare-convergence"`` and ``"compare-pareto"``.

    Returns
    -------
    str
        An HTML document that needs no other file and fetches nothing.
    """
    from evosearch.report.compare_plots import group_colors

    colors = group_colors(comparison)
    dataset = comparison.dataset
    score = comparison.score_name
    title = f"evosearch comparison: {len(comparison.runs)} runs on {dataset.get('name', '?')}"
    shape = f"{dataset.get('n_samples', '?')} rows x {dataset.get('n_features', '?')} features"
    several = any(len(g.runs) > 1 for g in comparison.groups)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}{_EXTRA_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">{_e(dataset.get("name", "?"))} ({_e(dataset.get("task", "?"))}, '
        f"{_e(shape)}); {len(comparison.groups)} groups of runs that differ only by seed: "
        + ", ".join(
            f'<span class="swatch" style="background:{colors[g.label]}"></span>'
            f"{_e(g.label)} ({len(g.runs)})"
            for g in comparison.groups
        )
        + "</p>",
        "<h2>Convergence</h2>",
        _figure(
            images,
            "compare-convergence",
            f"Best {score} in the archive and hypervolume after each generation, against the "
            "wall-clock seconds and the evaluations spent so far (summed over generations)."
            + (
                " A group's line is the median of its runs, the band their min-max; a run "
                "that ended keeps its final value."
                if several
                else ""
            ),
        ).replace("<figure ", '<figure class="wide" ', 1),
        "<h2>Final Pareto archives</h2>",
        _figure(
            images,
            "compare-pareto",
            f"Each run's final archive ({score} against parameters, log scale) as a step front, "
            "coloured by group, a marker per seed.",
        ).replace("<figure ", '<figure class="wide" ', 1),
        _runs_table(comparison, colors),
        _groups_table(comparison, colors) if several else "",
        _common(comparison),
        _footer().replace("evosearch report</code>", "evosearch report RUN1 RUN2 ...</code>"),
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part)


def _number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _final_cells(run: ComparedRun) -> list[str]:
    final = run.final()
    done = "-" if final["generations"] is None else str(final["generations"])
    planned = f" / {final['planned']}" if final["planned"] is not None else ""
    return [
        _number(final["best_score"]),
        _number(final["hypervolume"]),
        str(final["archive_size"]),
        f"{final['evaluations']:,}",
        _duration(final["seconds"]),
        done + planned,
    ]


def _final_header(comparison: Comparison) -> str:
    names = (
        f"best {comparison.score_name}",
        "hypervolume",
        "archive size",
        "evaluations",
        "seconds",
        "generations done",
    )
    return "".join(f"<th>{_e(name)}</th>" for name in names)


def _runs_table(comparison: Comparison, colors: dict[str, str]) -> str:
    rows = []
    for group in comparison.groups:
        for run in group.runs:
            swatch = f'<span class="swatch" style="background:{colors[group.label]}"></span>'
            rows.append(
                '<tr class="run">'
                f'<td class="l" title="{_e(run.where)}">{swatch}{_e(run.name)}</td>'
                + "".join(
                    f'<td class="l mono">{_e(run.settings.get(key, "-"))}</td>'
                    for key in comparison.differing
                )
                + "".join(f"<td>{_e(cell)}</td>" for cell in _final_cells(run))
                + "</tr>"
            )
    header = (
        '<tr><th class="l">run</th>'
        + "".join(f'<th class="l setting">{_e(key)}</th>' for key in comparison.differing)
        + _final_header(comparison)
        + "</tr>"
    )
    return (
        "<h2>Final figures by run</h2>"
        '<p class="note">Settings that differ between the runs as columns; seconds is the time '
        "spent in generations.</p>"
        f'<table id="runs"><thead>{header}</thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _groups_table(comparison: Comparison, colors: dict[str, str]) -> str:
    rows = []
    for group in comparison.groups:
        finals = [run.final() for run in group.runs]
        cells = []
        for key, digits in (("best_score", 4), ("hypervolume", 4), ("evaluations", 0)):
            values = [float(f[key]) for f in finals if f[key] is not None]
            cells.append(_spread(values, digits))
        cells.append(_spread([f["seconds"] for f in finals], 1))
        swatch = f'<span class="swatch" style="background:{colors[group.label]}"></span>'
        rows.append(
            f'<tr class="group"><td class="l">{swatch}{_e(group.label)}</td>'
            f"<td>{len(group.runs)}</td>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>"
        )
    header = (
        '<tr><th class="l">group</th><th>runs</th>'
        f"<th>best {_e(comparison.score_name)}</th><th>hypervolume</th><th>evaluations</th>"
        "<th>seconds</th></tr>"
    )
    return (
        "<h2>Final figures by group</h2>"
        '<p class="note">Median over the group\'s runs, [min, max] in brackets.</p>'
        f'<table id="groups"><thead>{header}</thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _spread(values: list[float], digits: int) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    if ordered[0] == ordered[-1]:
        return f"{median:,.{digits}f}"
    return f"{median:,.{digits}f} [{ordered[0]:,.{digits}f}, {ordered[-1]:,.{digits}f}]"


def _common(comparison: Comparison) -> str:
    rows = "".join(
        f'<tr><td>{_e(key)}</td><td class="mono">{_e(value)}</td></tr>'
        for key, value in comparison.common.items()
    )
    ignored = ", ".join(IGNORED_SETTINGS)
    return (
        "<h2>Settings every run shares</h2>"
        f'<div class="settings"><div><table><tbody>{rows}</tbody></table></div>'
        f'<div><p class="note">Not compared: {_e(ignored)} (they choose where evaluations run, '
        "not what they compute). The genome is compared by the search space it loaded.</p>"
        "</div></div>"
    )
