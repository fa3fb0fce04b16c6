"""A run's report: its figures as PNG files and one self-contained HTML page.

``evosearch report RUN [--out DIR]`` calls :func:`write_report`. The run folder is only read
(through :func:`~evosearch.runs.load_run`), so a report can be made of a finished run or of one
still running; by default the files go to ``RUN/report/``:

``pareto.png``
    score against the run's size objective (parameter count by default; bytes, FLOPs or latency
    when the run's second objective is one of those), every evaluated candidate and the
    Pareto archive;
``convergence.png``
    best score, hypervolume and archive size by generation;
``objectives.png``
    the archive by each pair of objectives, when there are three or more;
``architecture-best.png``, ``architecture-smallest.png``, ``architecture-knee.png``
    the layer graphs of those archive members (see :func:`evosearch.report.pick_members`);
    none before the first generation finished;
``report.html``
    all of the above in one page (images embedded as data URIs, inline CSS, nothing fetched),
    with the run's settings, its progress and the archive as a table.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evosearch.errors import EvosearchError
from evosearch.report import _deployed, _ensembles
from evosearch.runs import RunRecord, load_run
from evosearch.space import Genome

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from evosearch.report._rundata import RunData

__all__ = ["Report", "render_html", "write_report"]

ROLES = ("best", "smallest", "knee")
_DPI = 130


@dataclass
class Report:
    """What :func:`write_report` wrote.

    Attributes
    ----------
    folder : Path
        The output folder.
    html : Path
        The HTML page.
    images : dict of str to Path
        ``{"pareto": ..., "convergence": ..., "architecture-best": ..., ...}``.
    """

    folder: Path
    html: Path
    images: dict[str, Path] = field(default_factory=dict)


def write_report(
    run: str | Path | RunRecord, out: str | Path | None = None, sizes: bool = False
) -> Report:
    """Write a run's figures and its HTML report.

    Parameters
    ----------
    run : path-like or RunRecord
        The run folder (read only; it may still be running).
    out : path-like, optional
        Output folder, created if needed; default ``RUN/report``. Files from an earlier report
        there are replaced.
    sizes : bool, default=False
        Add the chosen members' deployed sizes (``report --sizes``), see report._deployed.

    Returns
    -------
    Report
        The paths written.

    Raises
    ------
    RunFolderError
        If the run folder is missing or corrupt.
    EvosearchError
        If matplotlib is missing, ``out`` is the run folder itself, or ``out`` cannot be
        written.
    """
    from evosearch.report._rundata import run_data

    record = run if isinstance(run, RunRecord) else load_run(run)
    folder = Path(out) if out is not None else record.path / "report"
    if folder.resolve() == record.path.resolve():
        raise EvosearchError(
            f"--out {folder} is the run folder itself: the report goes to a folder of its own"
        )
    data = run_data(record)
    images = render_images(data)
    page = render_html(record, data, images, sizes)
    return write_pages(folder, images, "report.html", page, "report")


def write_pages(
    folder: Path, images: dict[str, bytes], html_name: str, page: str, what: str
) -> Report:
    """Write ``images`` (``NAME.png``) and ``page`` into ``folder``; one error line if it fails."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = {}
        for name, png in images.items():
            path = folder / f"{name}.png"
            _write(path, png)
            written[name] = path
        html_path = folder / html_name
        _write(html_path, page.encode("utf-8"))
    except OSError as exc:
        raise EvosearchError(f"cannot write the {what} to {folder}: {exc}") from None
    return Report(folder=folder, html=html_path, images=written)


def _write(path: Path, content: bytes) -> None:
    """Replace ``path`` in one step, so a browser reloading the page never sees half of it."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    temporary.replace(path)


def render_images(data: RunData) -> dict[str, bytes]:
    """Render the report's figures as PNG bytes.

    Parameters
    ----------
    data : RunData
        From :func:`evosearch.report.run_data`.

    Returns
    -------
    dict of str to bytes
        Keys ``"pareto"``, ``"convergence"`` and, once the archive has members,
        ``"architecture-best"``, ``"architecture-smallest"`` and ``"architecture-knee"``;
        ``"objectives"`` when there are three or more objectives.
    """
    from evosearch.report._rundata import pick_members
    from evosearch.report.architecture import plot_architecture
    from evosearch.report.convergence import plot_convergence
    from evosearch.report.objective_pairs import needs_pairs, plot_objective_pairs
    from evosearch.report.pareto import plot_pareto

    images = {
        "pareto": _png(plot_pareto(data)),
        "convergence": _png(plot_convergence(data)),
    }
    if needs_pairs(data):
        images["objectives"] = _png(plot_objective_pairs(data))
    chosen = pick_members(data.archive)
    for role in ROLES:
        if role in chosen:
            entry = chosen[role]
            also = [r for r in ROLES if r != role and chosen[r] is entry]
            title = role + (f" (also {' and '.join(also)})" if also else "")
            images[f"architecture-{role}"] = _png(plot_architecture(entry, title=title))
    return images


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, facecolor="white")
    return buffer.getvalue()


# --------------------------------------------------------------------------- HTML
_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       max-width: 1180px; margin: 0 auto; padding: 1.2em 1.5em 3em; background: #fafafa; }
h1 { font-size: 1.6em; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.2em; margin: 1.8em 0 0.6em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
.sub { color: #666; margin: 0 0 1em; }
.cards { display: flex; flex-wrap: wrap; gap: 0.7em; }
.card { background: #fff; border: 1px solid #e2e2e2; border-radius: 8px; padding: .6em .9em;
        min-width: 8.5em; }
.card .v { font-size: 1.35em; font-weight: 600; }
.card .k { color: #666; font-size: .85em; }
.status { display: inline-block; padding: .1em .6em; border-radius: 1em; font-size: .85em; }
.finished { background: #dff3df; color: #1d6b1d; }
.running { background: #fff1d6; color: #8a5a00; }
.bar { height: 6px; background: #e6e6e6; border-radius: 3px; margin-top: .35em; }
.bar div { height: 6px; background: #4a8fd6; border-radius: 3px; }
figure { margin: 0; background: #fff; border: 1px solid #e2e2e2; border-radius: 8px;
         padding: .5em; }
figure img { width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: .88em; padding: .3em .4em 0; }
.plots { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.archs { display: grid; grid-template-columns: repeat(auto-fit, minmax(330px, 1fr)); gap: 1em; }
table { border-collapse: collapse; background: #fff; width: 100%; font-size: .92em; }
th, td { border-bottom: 1px solid #e8e8e8; padding: .35em .6em; text-align: right;
         vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
td.l, th.l { text-align: left; }
td.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
          font-size: .88em; }
.tag { display: inline-block; background: #fbe3e3; color: #7a1010; border-radius: 4px;
       padding: 0 .35em; margin-right: .2em; font-size: .8em; }
.settings { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.settings td:first-child { text-align: left; color: #555; width: 40%; }
.settings td { text-align: left; }
footer { margin-top: 2.5em; color: #888; font-size: .85em; }
@media (max-width: 800px) { .plots, .settings { grid-template-columns: 1fr; } }
"""


def render_html(
    record: RunRecord, data: RunData, images: dict[str, bytes], sizes: bool = False
) -> str:
    """Assemble the self-contained report page.

    Parameters
    ----------
    record : RunRecord
        The run, as read by :func:`~evosearch.runs.load_run`.
    data : RunData
        The same run as :func:`evosearch.report.run_data` sees it.
    images : dict of str to bytes
        PNG images from :func:`render_images`.
    sizes : bool, default=False
        Add the "Deployed size" section (:mod:`evosearch.report._deployed`).

    Returns
    -------
    str
        An HTML document that needs no other file and fetches nothing.
    """
    from evosearch.objectives import find_objective
    from evosearch.report._rundata import _point, objective_label, pick_members

    info = record.info
    dataset = info.get("dataset", {})
    score_name = data.score_name
    size = data.size_name
    size_label = "parameters" if size == "params" else objective_label(data, size)
    title = f"evosearch report: {record.path.resolve().name}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">{_e(_dataset_line(dataset))}; started {_e(info.get("started", "?"))}; '
        f"run folder <code>{_e(str(record.path))}</code></p>",
        _progress(record, data),
        "<h2>Pareto front and convergence</h2>",
        '<div class="plots">',
        _figure(
            images,
            "pareto",
            f"Every evaluated candidate ({score_name} against {size_label}, log scale), "
            "coloured by generation; the red step line is the Pareto archive.",
        ),
        _figure(
            images,
            "convergence",
            f"Best {score_name} in the archive, hypervolume and archive size by generation.",
        ),
        _figure(
            images,
            "objectives",
            "The archive by each pair of its objectives (minimised ones on a log scale), "
            "coloured by generation.",
        )
        if "objectives" in images
        else "",
        "</div>",
    ]
    chosen = pick_members(data.archive)
    if chosen:
        parts += [
            "<h2>Architectures</h2>",
            '<p class="sub">The most accurate member, the smallest, and the knee: the member '
            "farthest above the line joining those two once both axes are scaled to [0, 1] "
            f"({_e(size_label)} on a log scale).</p>",
            '<div class="archs">',
        ]
        for role in ROLES:
            entry = chosen[role]
            caption = (
                f"{role}: {score_name} {entry.objectives[0]:.4f}, "
                f"{int(_point(data.archive, entry)[1]):,} parameters"
            )
            objective = find_objective(size)
            if size != "params" and objective is not None:
                value = objective.format(_point(data.archive, entry, size)[1])
                caption += f", {size_label} {value}"
            parts.append(_figure(images, f"architecture-{role}", caption))
        parts.append("</div>")
    if sizes and chosen:  # the chosen members' export sizes (evosearch.report._deployed)
        parts.append(_deployed.deployed_section(record, data.archive, chosen))
    parts += [_archive_table(data, chosen), _ensembles.ensemble_section(record.path, score_name)]
    parts += [_settings(record), _footer(), "</body></html>"]
    return "\n".join(part for part in parts if part)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _dataset_line(dataset: dict[str, Any]) -> str:
    name = dataset.get("name", "?")
    task = dataset.get("task", "?")
    shape = f"{dataset.get('n_samples', '?')} rows x {dataset.get('n_features', '?')} features"
    return f"{name} ({task}, {shape})"


def _figure(images: dict[str, bytes], name: str, caption: str) -> str:
    if name not in images:
        return ""
    encoded = base64.b64encode(images[name]).decode("ascii")
    return (
        f'<figure id="{_e(name)}"><img alt="{_e(name)}" src="data:image/png;base64,{encoded}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _progress(record: RunRecord, data: RunData) -> str:
    planned = record.planned_generations
    done = max(record.last_generation, 0)
    generations = record.generations
    trained = len(record.journal)
    hits = sum(int(g.get("cache_hits", 0)) for g in generations)
    seconds = sum(float(g.get("seconds", 0.0)) for g in generations)
    if record.finished or (record.last_generation >= planned):
        status = '<span class="status finished">finished</span>'
    elif record.last_generation < 0:
        status = '<span class="status running">started: no generation finished yet</span>'
    else:
        status = (
            '<span class="status running">not finished: still running, or stopped '
            f"(<code>evosearch resume {_e(str(record.path))}</code> continues it)</span>"
        )
    share = min(done / planned, 1.0) if planned else 0.0
    best = data.history[-1]["best_score"] if data.history else math.nan
    cards = [
        (
            f"{max(record.last_generation, 0)} / {planned}",
            "generations done / planned",
            f'<div class="bar"><div style="width:{100 * share:.0f}%"></div></div>',
        ),
        (f"{trained:,}", "models evaluated", ""),
        (f"{hits:,}", "cache hits", ""),
        (f"{data.failures:,}", "failed evaluations", ""),
        ("-" if math.isnan(best) else f"{best:.4f}", f"best {data.score_name}", ""),
        (f"{len(data.archive)}", "archive members", ""),
        (
            f"{data.history[-1]['hypervolume']:.4f}" if data.history else "-",
            "hypervolume",
            "",
        ),
        (_duration(seconds), "time in generations", ""),
    ]
    body = "".join(
        f'<div class="card"><div class="v">{_e(v)}</div><div class="k">{_e(k)}</div>{extra}</div>'
        for v, k, extra in cards
    )
    return f'<p>{status}</p><div class="cards">{body}</div>'


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _archive_table(data: RunData, chosen: dict[str, Any]) -> str:
    from evosearch.objectives import find_objective
    from evosearch.report._rundata import _point, _spread

    members = data.archive.members
    head = (
        f"<h2>Pareto archive ({len(members)} members, smallest first)</h2>"
        if members
        else "<h2>Pareto archive</h2><p>Empty: no generation has finished yet.</p>"
    )
    if not members:
        return head
    # Columns for the objectives beyond score and parameters (a plug-in not imported here
    # still shows, by name).
    others = []
    for i, name in enumerate(data.archive.objective_names or ()):
        if name not in ("score", "params"):
            objective = find_objective(name)
            label = objective.label if objective else name
            others.append((i, label, objective.format if objective else "{:.4g}".format))
    rows = []
    for index, entry in enumerate(members):
        tags = "".join(
            f'<span class="tag">{role}</span>' for role in ROLES if chosen.get(role) is entry
        )
        folds = ", ".join(f"{s:.4f}" for s in entry.fold_scores)
        try:
            described = Genome.from_json(entry.genome).describe()
        except (KeyError, TypeError, ValueError):
            described = "(unreadable genome)"
        rows.append(
            '<tr class="member">'
            f"<td>{index}</td>"
            f"<td>{entry.objectives[0]:.4f}</td>"
            f'<td title="fold scores: {_e(folds)}">± {_spread(entry.fold_scores):.4f}</td>'
            f"<td>{int(_point(data.archive, entry)[1]):,}</td>"
            + "".join(f"<td>{_e(fmt(entry.objectives[i]))}</td>" for i, _, fmt in others)
            + f"<td>{entry.generation}</td>"
            f'<td class="l">{tags}</td>'
            f'<td class="l mono">{_e(described)}</td>'
            "</tr>"
        )
    header = (
        f"<tr><th>#</th><th>{_e(data.score_name)}</th>"
        '<th title="half the range of the fold scores">± folds</th><th>params</th>'
        + "".join(f"<th>{_e(label)}</th>" for _, label, _ in others)
        + '<th>generation</th><th class="l">role</th><th class="l">architecture</th></tr>'
    )
    return f"{head}<table><thead>{header}</thead><tbody>{''.join(rows)}</tbody></table>"


def _settings(record: RunRecord) -> str:
    info = record.info

    def table(title: str, items: dict[str, Any]) -> str:
        rows = "".join(
            f'<tr><td>{_e(k)}</td><td class="mono">{_e(_value(v))}</td></tr>'
            for k, v in items.items()
        )
        return f'<div><table><thead><tr><th class="l" colspan="2">{_e(title)}</th></tr>' + (
            f"</thead><tbody>{rows}</tbody></table></div>"
        )

    space = info.get("search_space", {})
    flat_space: dict[str, Any] = {}
    for section, content in space.items():
        if not isinstance(content, dict):
            flat_space[section] = content
            continue
        for key, value in content.items():
            if isinstance(value, dict) and section == "layers":
                for inner, choice in value.items():
                    flat_space[f"{section}.{key}.{inner}"] = choice
            else:
                flat_space[f"{section}.{key}"] = value
    objectives = ", ".join(
        f"{o.get('name')} ({'max' if o.get('weight', 0) > 0 else 'min'})"
        for o in info.get("objectives", [])
    )
    dataset = {k: v for k, v in info.get("dataset", {}).items() if k != "fingerprint"}
    latency = ""
    if info.get("latency_model") is not None:
        from evosearch.nn.latency_files import describe_recorded

        first, *rest = describe_recorded(info["latency_model"], info.get("latency_source"))
        kinds = dict(line.split(": ", 1) for line in rest)  # "kind: coefficients"
        latency = table("latency model", {"model": first, **kinds})
    return (
        '<h2>Settings</h2><div class="settings">'
        + table("run", {**info.get("settings", {}), "objectives": objectives})
        + latency
        + table("dataset", dataset)
        + table("search space", flat_space)
        + table("versions", info.get("versions", {}))
        + "</div>"
    )


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) >= {"low", "high"}:
        scale = " (log)" if value.get("log") else ""
        return f"{value['low']:g} to {value['high']:g}{scale}"
    return json.dumps(value)


def _footer() -> str:
    from evosearch import __version__

    return (
        f"<footer>Made by evosearch {_e(__version__)} on "
        f"{_e(time.strftime('%Y-%m-%d %H:%M'))} with <code>evosearch report</code>.</footer>"
    )
