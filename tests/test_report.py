"""Tests for evosearch.report (plots, HTML) and ``evosearch report``, on one real run."""

from __future__ import annotations

import base64
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from sklearn.datasets import load_iris

from clitools import REPO, RUN_FILES, assert_clean, assert_usage_error, evosearch, snapshot
from evosearch import Evolver, Genome, ParetoArchive
from evosearch.errors import EvosearchError
from evosearch.report import (
    RunData,
    pick_members,
    plot_architecture,
    plot_convergence,
    plot_pareto,
    run_data,
    write_report,
)
from evosearch.runs.folder import load_run
from evosearch.search.archive import ArchiveEntry

pytest.importorskip("matplotlib")
from matplotlib.text import Text

SPACE_TOML = """
name = "report-tiny"
description = "small and quick, with skip connections"

[architecture]
min_layers = 1
max_layers = 3
initial_layers = [1, 2]
skip_connections = true

[layers.dense]
units = [4, 8]
activation = ["relu", "tanh"]
dropout = [0.0, 0.2]

[training]
optimizer = ["adam", "rmsprop"]
learning_rate = { low = 3e-3, high = 3e-2, log = true }
l1 = 0.0
l2 = 1e-4
batch_size = [32]
max_epochs = [5]
"""

GENERATIONS = 3
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
IMAGES = (
    "pareto",
    "convergence",
    "architecture-best",
    "architecture-smallest",
    "architecture-knee",
)


class _ReportMidRun:
    """Callback that writes a report while the run is still going (after generation 1)."""

    def __init__(self, out: Path) -> None:
        self.out = out

    def on_generation_end(self, evolver: Evolver, record: Any) -> None:
        if record.generation == 1:
            write_report(evolver.out, self.out)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real run on iris (a few seconds), its report, and a report written mid-run."""
    folder = tmp_path_factory.mktemp("report")
    (folder / "tiny.toml").write_text(SPACE_TOML, encoding="utf-8")
    X, y = load_iris(return_X_y=True)
    evolver = Evolver(
        genome=folder / "tiny.toml",
        population_size=6,
        generations=GENERATIONS,
        n_jobs=1,
        random_state=1,
        callbacks=[_ReportMidRun(folder / "mid-run")],
        out=folder / "run",
    ).fit(X, y)
    before = snapshot(folder / "run")
    report = write_report(folder / "run", folder / "report")
    return {
        "folder": folder,
        "path": folder / "run",
        "evolver": evolver,
        "record": load_run(folder / "run"),
        "report": report,
        "before": before,
    }


def _by_gid(figure: Any, gid: str) -> list[Any]:
    return [artist for artist in figure.findobj() if artist.get_gid() == gid]


def _one(figure: Any, gid: str) -> Any:
    found = _by_gid(figure, gid)
    assert len(found) == 1, (gid, found)
    return found[0]


# ------------------------------------------------------------------------- report files
def test_report_writes_valid_pngs(run):
    from matplotlib.image import imread

    report = run["report"]
    assert set(report.images) == set(IMAGES)
    for name in IMAGES:
        path = run["folder"] / "report" / f"{name}.png"
        assert report.images[name] == path
        assert path.read_bytes()[:8] == PNG_MAGIC
        pixels = imread(path)
        assert pixels.ndim == 3 and pixels.shape[0] > 200 and pixels.shape[1] > 300


def test_report_leaves_the_run_folder_alone(run):
    assert snapshot(run["path"]) == run["before"]
    assert {p.name for p in run["path"].iterdir()} == RUN_FILES


def test_html_is_self_contained_and_complete(run):
    page = run["report"].html.read_text(encoding="utf-8")
    assert run["report"].html == run["folder"] / "report" / "report.html"
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == len(IMAGES)
    assert all(base64.b64decode(data)[:8] == PNG_MAGIC for data in images)
    # Nothing is fetched: no scripts, stylesheets or remote addresses.
    assert "<script" not in page and "<link" not in page and "http" not in page
    archive = run["evolver"].archive_
    assert page.count('<tr class="member">') == len(archive)
    for entry in archive.members:
        described = Genome.from_json(entry.genome).describe()
        assert described.replace(">", "&gt;") in page
        assert f"{entry.objectives[0]:.4f}" in page
    # Settings, dataset and progress.
    for text in ("population_size", "crossover_rate", "150 rows", "report-tiny", "classification"):
        assert text in page, text
    assert f"{GENERATIONS} / {GENERATIONS}" in page
    assert "finished" in page and "not finished" not in page
    journal = run["record"].journal
    assert f'<div class="v">{len(journal)}</div><div class="k">models evaluated' in page


def test_report_of_a_run_still_going(run):
    page = (run["folder"] / "mid-run" / "report.html").read_text(encoding="utf-8")
    assert f"1 / {GENERATIONS}" in page
    assert "not finished" in page
    assert "evosearch resume" in page
    assert page.count("data:image/png;base64,") == len(IMAGES)


def test_report_of_a_run_before_its_first_generation(run, tmp_path):
    started = tmp_path / "started"
    started.mkdir()
    shutil.copy(run["path"] / "run.json", started / "run.json")
    lines = (run["path"] / "journal.jsonl").read_text().splitlines(keepends=True)
    (started / "journal.jsonl").write_text("".join(lines[:2]))
    report = write_report(started)
    assert report.folder == started / "report"
    assert set(report.images) == {"pareto", "convergence"}
    page = report.html.read_text(encoding="utf-8")
    assert "no generation finished yet" in page
    assert page.count('<tr class="member">') == 0
    figure = plot_pareto(started)
    assert len(_one(figure, "candidates").get_offsets()) == sum(
        1 for line in lines[:2] if '"error": null' in line
    )
    assert not _by_gid(figure, "archive")


def test_report_refuses_the_run_folder_as_output(run):
    with pytest.raises(EvosearchError, match="run folder itself"):
        write_report(run["path"], run["path"])


# ------------------------------------------------------------------------- figures
@pytest.mark.parametrize("kind", ["path", "str", "record", "evolver"])
def test_pareto_series(run, kind):
    source = {
        "path": run["path"],
        "str": str(run["path"]),
        "record": run["record"],
        "evolver": run["evolver"],
    }[kind]
    figure = plot_pareto(source)
    archive = run["evolver"].archive_
    front = _one(figure, "archive")
    assert list(front.get_xdata()) == [m.objectives[1] for m in archive.members]
    assert list(front.get_ydata()) == [m.objectives[0] for m in archive.members]
    assert front.get_drawstyle() == "steps-post"
    ok = [e for e in run["record"].journal if e["error"] is None]
    candidates = _one(figure, "candidates")
    assert len(candidates.get_offsets()) == len(ok)
    assert sorted(candidates.get_array().tolist()) == sorted(e["generation"] for e in ok)
    # A default (score, params) run: candidates at their parameter counts, as always.
    assert candidates.get_offsets()[:, 0].tolist() == [e["n_params"] for e in ok]
    assert front.get_linestyle() == "-" and not _by_gid(figure, "front")
    ax = figure.axes[0]
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "parameters (log scale)"
    assert "accuracy" in ax.get_ylabel()
    assert ax.get_legend() is not None
    assert figure.axes[1].get_ylabel() == "generation evaluated"  # the colorbar


def test_pareto_of_an_evolver_without_a_run_folder(tmp_path):
    (tmp_path / "tiny.toml").write_text(SPACE_TOML, encoding="utf-8")
    X, y = load_iris(return_X_y=True)
    evolver = Evolver(
        genome=tmp_path / "tiny.toml", population_size=4, generations=1, n_jobs=1
    ).fit(X, y)
    figure = plot_pareto(evolver)
    assert list(_one(figure, "archive").get_xdata()) == [
        m.objectives[1] for m in evolver.archive_.members
    ]
    assert not _by_gid(figure, "candidates")
    convergence = plot_convergence(evolver)
    assert list(_one(convergence, "hypervolume").get_xdata()) == [0, 1]
    assert list(tmp_path.iterdir()) == [tmp_path / "tiny.toml"]


def test_plotting_an_unfitted_evolver_says_so():
    with pytest.raises(ValueError, match="not fitted"):
        plot_pareto(Evolver(n_jobs=1))


def test_convergence_has_one_point_per_generation(run):
    figure = plot_convergence(run["path"])
    generations = [g["generation"] for g in run["record"].generations]
    assert generations == list(range(GENERATIONS + 1))
    for gid, key in (
        ("best_score", "best_score"),
        ("hypervolume", "hypervolume"),
        ("archive_size", "archive_size"),
    ):
        line = _one(figure, gid)
        assert list(line.get_xdata()) == generations
        assert list(line.get_ydata()) == [g[key] for g in run["record"].generations]
    assert len(figure.axes) == 3
    assert figure.axes[2].get_xlabel() == "generation"


def test_architecture_draws_every_node_and_marks_skips(run):
    for entry in run["evolver"].archive_.members:
        genome = Genome.from_json(entry.genome)
        figure = plot_architecture(entry)
        nodes = {a.get_gid() for a in figure.findobj() if str(a.get_gid()).startswith("node-")}
        assert nodes == {f"node-{n}" for n in genome.graph.nodes}
        arrows = [a for a in figure.findobj() if re.match(r"(edge|skip)-", str(a.get_gid()))]
        assert len(arrows) == genome.graph.number_of_edges()


def test_architecture_of_a_graph_with_skips_and_branches():
    graph = nx.DiGraph()
    graph.add_node(0, kind="input", units=4)
    graph.add_node(1, kind="output", units=3)
    for node, units in ((2, 8), (3, 4), (4, 8)):
        graph.add_node(node, kind="dense", units=units, activation="relu", dropout=0.2)
    # Chain 0-2-3-1, a skip 0->3, a parallel branch 0-4-1.
    graph.add_edges_from([(0, 2), (2, 3), (3, 1), (0, 3), (0, 4), (4, 1)])
    genome = Genome(graph, {"optimizer": "adam", "learning_rate": 0.01})
    genome.validate()
    for source in (genome, genome.to_json()):
        figure = plot_architecture(source, title="hand-made")
        skips = [a for a in figure.findobj() if str(a.get_gid()).startswith("skip-")]
        assert [a.get_gid() for a in skips] == ["skip-0-3"]
        assert skips[0].get_linestyle() != _one(figure, "edge-0-2").get_linestyle()
        nodes = [a for a in figure.findobj() if str(a.get_gid()).startswith("node-")]
        assert len(nodes) == 5
        # Layered left to right by longest-path depth: input, {2, 4}, 3, output.
        x = {int(a.get_gid()[5:]): a.get_x() + a.get_width() / 2 for a in nodes}
        assert x[2] == pytest.approx(x[4])
        assert x[0] < x[2] < x[3] < x[1]
        assert any("hand-made" in t.get_text() for t in figure.findobj(Text))


def test_pick_members_best_smallest_knee(run):
    archive = run["evolver"].archive_
    chosen = pick_members(archive)
    assert chosen["best"].objectives[0] == max(m.objectives[0] for m in archive)
    assert chosen["smallest"].objectives[1] == min(m.objectives[1] for m in archive)
    assert chosen["knee"] in archive.members
    assert pick_members(ParetoArchive()) == {}


def test_regression_axis_says_r2_and_keeps_a_readable_range():
    archive = ParetoArchive()
    archive.update([ArchiveEntry({}, "a", (0.3, 50)), ArchiveEntry({}, "b", (0.6, 500))])
    data = RunData(
        name="diabetes",
        task="regression",
        archive=archive,
        candidates=[(0, 0.3, 50), (0, 0.6, 500), (1, -1e6, 200)],
        history=[{"generation": 0, "best_score": 0.6, "hypervolume": 0.2, "archive_size": 2}],
        planned_generations=4,
    )
    figure = plot_pareto(data)
    ax = figure.axes[0]
    assert "R²" in ax.get_ylabel()
    # The diverged candidate is drawn at -1, and the title says so.
    assert -1.5 < ax.get_ylim()[0] <= -1.0
    offsets = _one(figure, "candidates").get_offsets()
    assert len(offsets) == 3 and min(offsets[:, 1]) == -1.0
    assert "1 with R² below -1 drawn at -1" in ax.get_title()
    assert math.isclose(_one(plot_convergence(data), "best_score").get_ydata()[0], 0.6)


def test_bad_source_is_a_type_error():
    with pytest.raises(TypeError, match="run folder path"):
        plot_pareto(42)  # type: ignore[arg-type]


def test_run_data_of_a_missing_folder_is_a_run_folder_error(tmp_path):
    with pytest.raises(EvosearchError, match="run folder not found"):
        run_data(tmp_path / "nope")


# ------------------------------------------------------------------------- matplotlib
def test_missing_matplotlib_is_one_clear_error(monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(EvosearchError, match=re.escape("pip install 'evosearch[plot]'")):
        plot_architecture(Genome.chain(4, 3, [], {"optimizer": "adam", "learning_rate": 0.1}))


def test_core_never_imports_plotting_and_plotting_never_imports_pyplot():
    code = (
        "import sys, evosearch, evosearch.search.evolver, evosearch.cli.main, "
        "evosearch.runs.folder, evosearch.cli.console, evosearch.report.html\n"
        "plots = ('_figures', 'pareto', 'convergence', 'architecture')\n"
        "bad = [m for m in ('matplotlib', *(f'evosearch.report.{p}' for p in plots))\n"
        "       if m in sys.modules]\n"
        "assert not bad, bad\n"
        # Figures need no pyplot (no backend, no display) and still show in notebooks.
        "from evosearch.report import plot_architecture\n"
        "figure = plot_architecture(evosearch.Genome.chain(4, 3, [], {}))\n"
        "assert figure._repr_png_()[:8] == b'\\x89PNG\\r\\n\\x1a\\n'\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------------------- command line
def test_cli_report_writes_the_files(run, tmp_path):
    out = tmp_path / "cli-report"
    result = evosearch("report", str(run["path"]), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result
    assert_clean(result)
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 1 and "report.html" in result.stdout
    assert {p.name for p in out.iterdir()} == {f"{n}.png" for n in IMAGES} | {"report.html"}
    assert snapshot(run["path"]) == run["before"]


def test_cli_report_defaults_to_run_report(run, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run["path"], copy)
    result = evosearch("report", str(copy), cwd=tmp_path)
    assert result.returncode == 0, result
    assert (copy / "report" / "report.html").is_file()
    assert {p.name for p in copy.iterdir()} == RUN_FILES | {"report"}


def test_cli_report_of_a_missing_run_folder(tmp_path):
    result = evosearch("report", str(tmp_path / "missing"), cwd=tmp_path)
    assert_usage_error(result, "run folder not found", "missing")


def test_cli_report_of_a_corrupt_run_folder(run, tmp_path):
    copy = tmp_path / "corrupt"
    shutil.copytree(run["path"], copy)
    (copy / "archive.json").write_text("{ not json")
    result = evosearch("report", str(copy), cwd=tmp_path)
    assert_usage_error(result, "archive.json", "not valid JSON")
    assert not (copy / "report").exists()


def test_cli_report_without_matplotlib(run, tmp_path, monkeypatch):
    fake = tmp_path / "no-matplotlib" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('matplotlib is blocked by a test')\n")
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))
    result = evosearch("report", str(run["path"]), "--out", str(tmp_path / "r"), cwd=tmp_path)
    assert_usage_error(result, "plotting needs matplotlib", "pip install 'evosearch[plot]'")
