"""The Pareto plot and the report follow the run's objectives: score against its size objective."""

from __future__ import annotations

import json

import pytest

from evosearch import Evolver
from evosearch.objectives import Bytes
from evosearch.report import RunData, pick_members, plot_pareto, write_report
from evosearch.search import ArchiveEntry, ParetoArchive
from evosearch.space import Genome
from evosearch.testing._tiny import TINY_TOML, iris

pytest.importorskip("matplotlib")

# int8 always: every genome's bytes differ from 4 bytes per parameter.
COMPRESSED = TINY_TOML + '\n[compression]\nprune = [0.0, 0.5]\nprecision = ["int8"]\n'


def _by_gid(figure, gid):
    return [artist for artist in figure.findobj() if artist.get_gid() == gid]


def test_a_score_bytes_run_plots_score_against_bytes(tmp_path) -> None:
    path = tmp_path / "compressed.toml"
    path.write_text(COMPRESSED, encoding="utf-8")
    out = tmp_path / "run"
    X, y = iris()
    evolver = Evolver(
        path, population_size=4, generations=1, n_jobs=1, cv=2, objectives=("score", "bytes"),
        out=out,
    ).fit(X, y)  # fmt: skip
    members = evolver.archive_.members
    figure = plot_pareto(out)
    ax = figure.axes[0]
    assert ax.get_xlabel() == "bytes (log scale)"
    assert "accuracy" in ax.get_ylabel()
    (front,) = _by_gid(figure, "archive")
    assert list(front.get_xdata()) == [m.objectives[1] for m in members]
    assert list(front.get_ydata()) == [m.objectives[0] for m in members]
    assert front.get_linestyle() == "-" and not _by_gid(figure, "front")
    # Every journalled candidate sits at its bytes (the journal records parameter counts only).
    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    ok = [e for e in journal if e["error"] is None]
    (dots,) = _by_gid(figure, "candidates")
    expected = [Bytes().value(Genome.from_json(e["genome"])) for e in ok]
    assert dots.get_offsets()[:, 0].tolist() == expected
    assert all(x != 4.0 * e["n_params"] for x, e in zip(expected, ok, strict=True))
    smallest = pick_members(evolver.archive_)["smallest"]
    assert smallest.objectives[1] == min(m.objectives[1] for m in members)
    report = write_report(out, tmp_path / "report")
    assert (tmp_path / "report" / "pareto.png").is_file()
    # Two objectives: pareto.png is score against bytes already, no pairs figure repeats it.
    assert not (tmp_path / "report" / "objectives.png").exists()
    page = report.html.read_text(encoding="utf-8")
    assert "accuracy against bytes, log scale" in page
    assert "(bytes on a log scale)" in page


def test_three_objectives_step_through_the_members_the_projection_keeps() -> None:
    archive = ParetoArchive((1.0, -1.0, -1.0), objectives=("score", "bytes", "latency"))
    archive.update(
        [
            ArchiveEntry({}, "a", (0.5, 10.0, 100.0)),
            ArchiveEntry({}, "b", (0.8, 1000.0, 10.0)),
            ArchiveEntry({}, "c", (0.6, 2000.0, 5.0)),  # beaten by b on score and bytes
        ]
    )
    data = RunData(name="three", task="classification", archive=archive, size_name="bytes")
    figure = plot_pareto(data)
    (markers,) = _by_gid(figure, "archive")
    assert list(markers.get_xdata()) == [10.0, 1000.0, 2000.0]
    assert markers.get_linestyle() == "None"
    (step,) = _by_gid(figure, "front")
    assert list(step.get_xdata()) == [10.0, 1000.0]
    assert list(step.get_ydata()) == [0.5, 0.8]
    assert figure.axes[0].get_xlabel() == "bytes (log scale)"


def test_a_maximised_second_objective_keeps_params_on_the_pareto_axis(tmp_path):
    # A plug-in objective to maximise is no size: pareto.png keeps parameters on its log axis
    # and objectives.png shows the pair instead. A scratch registry keeps it to this test.
    import numpy as np

    from evosearch.objectives import OBJECTIVES, Objective, register_objective
    from evosearch.report import run_data
    from evosearch.report.objective_pairs import needs_pairs

    class Width(Objective):
        name = "width"
        direction = 1
        known_before_training = True
        label = "width"

        def value(self, genome, result=None):  # type: ignore[no-untyped-def]
            return float(genome.n_params())

        def normalise(self, values):  # type: ignore[no-untyped-def]
            return np.clip(np.asarray(values, dtype=np.float64) / 1000.0, 0.0, 1.0)

        def format(self, value: float) -> str:
            return str(int(value))

    with OBJECTIVES.scratch():  # the plug-in objective stays in this test
        register_objective(Width)
        path = tmp_path / "tiny.toml"
        path.write_text(TINY_TOML, encoding="utf-8")
        out = tmp_path / "run"
        X, y = iris()
        Evolver(
            path, population_size=4, generations=1, n_jobs=1, cv=2, objectives=("score", "width"),
            out=out,
        ).fit(X, y)  # fmt: skip
        data = run_data(out)
        assert data.size_name == "params" and needs_pairs(data)
        write_report(out, tmp_path / "report")
        assert (tmp_path / "report" / "objectives.png").is_file()
