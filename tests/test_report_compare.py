"""Tests for comparing runs: ``evosearch report RUN1 RUN2 ...``, write_comparison, compare_runs
and plot_convergence / plot_pareto given a list, on four tiny real runs (two seeds of NSGA-II
and of aging evolution) and one on other data."""

from __future__ import annotations

import base64
import dataclasses
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from clitools import TINY_TOML, assert_clean, assert_usage_error, evosearch, snapshot
from evosearch.errors import EvosearchError
from evosearch.report import (
    compare_runs,
    plot_convergence,
    plot_pareto,
    run_data,
    write_comparison,
)

pytest.importorskip("matplotlib")

LEGACY_IRIS = Path(__file__).parent / "data" / "legacy" / "iris-0.1.0"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RUNS = {  # name: (strategy, seed)
    "nsga2-s1": ("nsga2", "1"),
    "nsga2-s2": ("nsga2", "2"),
    "aging-s1": ("aging", "1"),
    "aging-s2": ("aging", "2"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Four runs on iris and one on wine, through the real command, a few at a time."""
    folder = tmp_path_factory.mktemp("compare")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    # No evaluation time limit: with one job the folds train in the command's own process.
    # One focus for all, so that the strategy is the only setting the groups differ by.
    common = ("--genome", "tiny.toml", "--population", "4", "--n-jobs", "1", "--quiet")
    common = (*common, "--focus", "front")
    common = (*common, "--eval-timeout", "none")
    commands = {
        name: ("--data", "iris", "--generations", "2", "--strategy", strategy, "--seed", seed)
        for name, (strategy, seed) in RUNS.items()
    }
    commands["wine"] = ("--data", "wine", "--generations", "1")
    with ThreadPoolExecutor(max_workers=3) as pool:
        done = {
            name: pool.submit(evosearch, "evolve", *common, *args, "--out", name, cwd=folder)
            for name, args in commands.items()
        }
        for name, future in done.items():
            result = future.result()
            assert result.returncode == 0, (name, result)
    paths = {name: folder / name for name in commands}
    before = {name: snapshot(path) for name, path in paths.items()}
    iris = [paths[name] for name in RUNS]
    report = write_comparison(iris, folder / "comparison")
    return {"folder": folder, "paths": paths, "iris": iris, "before": before, "report": report}


def _by_gid(figure: Any, gid: str) -> list[Any]:
    return [artist for artist in figure.findobj() if artist.get_gid() == gid]


# ------------------------------------------------------------------------- grouping
def test_runs_differing_only_by_seed_form_one_group(runs):
    comparison = compare_runs(runs["iris"])
    assert [(g.label, [r.name for r in g.runs]) for g in comparison.groups] == [
        ("strategy=nsga2", ["nsga2-s1", "nsga2-s2"]),
        ("strategy=aging", ["aging-s1", "aging-s2"]),
    ]
    assert comparison.differing == ["strategy", "random_state"]  # the seed last
    assert comparison.common["population_size"] == "4" and "n_jobs" not in comparison.common
    assert comparison.runs[0].settings["strategy"] == "nsga2"


def test_where_evaluations_run_is_not_a_difference(runs):
    # n_jobs, backend and scheduler choose where evaluations run, not what they compute.
    paths = runs["paths"]
    data = run_data(paths["nsga2-s2"])
    assert data.info is not None
    settings = {**data.info["settings"], "n_jobs": 8, "backend": "dask", "scheduler": "tcp://x"}
    info = {**data.info, "settings": settings}
    elsewhere = dataclasses.replace(data, name="elsewhere", info=info)
    comparison = compare_runs([paths["nsga2-s1"], elsewhere])
    assert comparison.differing == ["random_state"]
    assert [g.label for g in comparison.groups] == ["all runs"]


def test_seeds_of_the_same_settings_are_one_group_of_all_runs(runs):
    paths = runs["paths"]
    comparison = compare_runs([paths["aging-s1"], paths["aging-s2"]])
    assert [g.label for g in comparison.groups] == ["all runs"]
    assert comparison.differing == ["random_state"]


def test_final_figures_come_from_the_generations(runs):
    comparison = compare_runs(runs["iris"])
    run = comparison.runs[0]
    history = run_data(runs["paths"]["nsga2-s1"]).history
    final = run.final()
    assert final["generations"] == 2 and final["planned"] == 2
    assert final["evaluations"] == sum(g["evaluations"] for g in history)
    assert final["seconds"] == pytest.approx(sum(g["seconds"] for g in history))
    assert final["hypervolume"] == history[-1]["hypervolume"]
    assert final["best_score"] == history[-1]["best_score"]
    assert final["archive_size"] == len(run.data.archive)
    x, median, low, high = comparison.groups[0].curve("hypervolume", "evaluations")
    assert list(x) == sorted(set(x)) and len(x) >= 3
    assert all(lo <= m <= hi for lo, m, hi in zip(low, median, high, strict=True))


def test_old_run_folders_name_params_n_params_and_still_compare(runs):
    # The legacy folder's objectives are (score, n_params); the new runs' (score, params).
    comparison = compare_runs([LEGACY_IRIS, runs["paths"]["nsga2-s1"]])
    assert len(comparison.runs) == 2


# ------------------------------------------------------------------------- refusals
def test_cli_refuses_runs_on_other_data_in_one_line(runs):
    folder, out = runs["folder"], runs["folder"] / "refused"
    paths = runs["paths"]
    result = evosearch(
        "report", str(paths["nsga2-s1"]), str(paths["wine"]), "--out", str(out), cwd=folder
    )
    assert_usage_error(result, "different data", "iris vs wine", "nsga2-s1", "wine")
    assert not out.exists()


def test_refuses_other_objectives_naming_both_runs(runs):
    data = run_data(runs["paths"]["aging-s1"])
    assert data.info is not None
    info = {**data.info, "objectives": [{"name": "score", "weight": 1.0}]}
    other = dataclasses.replace(data, name="score-only", info=info)
    with pytest.raises(EvosearchError, match=r"aging-s1 and score-only: .*different objectives"):
        compare_runs([runs["paths"]["aging-s1"], other])


def test_refuses_one_run_twice_and_a_run_folder_as_output(runs, tmp_path):
    path = runs["paths"]["nsga2-s1"]
    with pytest.raises(EvosearchError, match="given twice"):
        compare_runs([path, path.parent / ".." / path.parent.name / path.name])
    with pytest.raises(EvosearchError, match="is a run folder"):
        write_comparison([path, runs["paths"]["aging-s1"]], out=path)
    with pytest.raises(EvosearchError, match="two or more runs"):
        compare_runs([path])


def test_cli_compare_of_a_missing_run_folder(runs, tmp_path):
    result = evosearch(
        "report", str(runs["paths"]["nsga2-s1"]), str(tmp_path / "missing"), cwd=tmp_path
    )
    assert_usage_error(result, "run folder not found", "missing")
    assert not (tmp_path / "runs").exists()


# ------------------------------------------------------------------------- the page
def test_cli_compare_writes_to_a_new_folder_under_runs(runs, tmp_path):
    result = evosearch("report", *map(str, runs["iris"]), cwd=tmp_path)
    assert result.returncode == 0, result
    assert_clean(result)
    assert result.stderr == "" and len(result.stdout.splitlines()) == 1
    (out,) = (tmp_path / "runs").iterdir()
    assert out.name.startswith("compare-") and "compare.html" in result.stdout
    assert {p.name for p in out.iterdir()} == {
        "compare.html",
        "compare-convergence.png",
        "compare-pareto.png",
    }
    for name, path in runs["paths"].items():
        assert snapshot(path) == runs["before"][name]


def test_compare_html_is_self_contained_with_the_figures(runs):
    report = runs["report"]
    page = report.html.read_text(encoding="utf-8")
    assert report.html.name == "compare.html"
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 2
    for encoded, name in zip(images, ("compare-convergence", "compare-pareto"), strict=True):
        png = base64.b64decode(encoded)
        assert png[:8] == PNG_MAGIC
        assert report.images[name].read_bytes() == png
    assert not re.search(r"(src|href)=\"(?!data:)", page)  # nothing fetched


def test_table_columns_are_exactly_the_differing_settings(runs):
    page = runs["report"].html.read_text(encoding="utf-8")
    table = re.search(r'<table id="runs">.*?</table>', page, re.S)
    assert table is not None
    settings = re.findall(r'<th class="l setting">([^<]+)</th>', table.group(0))
    assert settings == ["strategy", "random_state"]
    rows = re.findall(r'<tr class="run">(.*?)</tr>', table.group(0))
    assert len(rows) == 4
    cells = [re.findall(r'<td class="l mono">([^<]*)</td>', row) for row in rows]
    assert cells == [["nsga2", "1"], ["nsga2", "2"], ["aging", "1"], ["aging", "2"]]
    groups = re.findall(r'<tr class="group">', page)
    assert len(groups) == 2


# ------------------------------------------------------------------------- figures
def test_plot_convergence_of_a_list_draws_one_line_per_group(runs):
    figure = plot_convergence(runs["iris"])
    for metric in ("best_score", "hypervolume"):
        for axis in ("seconds", "evaluations"):
            lines = _by_gid(figure, f"{metric}-{axis}")
            assert [line.get_label() for line in lines] == [
                "strategy=nsga2 (2 runs)",
                "strategy=aging (2 runs)",
            ]
            assert len(_by_gid(figure, f"{metric}-{axis}-band")) == 2
    labels = [ax.get_xlabel() for ax in figure.axes]
    assert any("seconds" in label for label in labels)
    assert any("evaluations" in label for label in labels)


def test_plot_pareto_of_a_list_draws_one_front_per_run_coloured_by_group(runs):
    figure = plot_pareto(runs["iris"])
    fronts = _by_gid(figure, "archive")
    assert len(fronts) == 4
    colors = [front.get_color() for front in fronts]
    assert colors[0] == colors[1] != colors[2] == colors[3]
    assert figure.axes[0].get_xscale() == "log"
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend == ["strategy=nsga2 (2 runs)", "strategy=aging (2 runs)", "seed 1", "seed 2"]
    for front, path in zip(fronts, runs["iris"], strict=True):
        assert len(front.get_xdata()) == len(run_data(path).archive)


def test_a_single_run_keeps_its_figure(runs):
    path = runs["paths"]["nsga2-s1"]
    for source in (path, [path]):
        assert len(_by_gid(plot_convergence(source), "archive_size")) == 1
        assert len(_by_gid(plot_pareto(source), "candidates")) == 1
