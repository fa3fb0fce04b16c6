"""The ``bytes`` and ``flops`` objectives, ``max_bytes``, and N-objective archives and plots."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evosearch import Evolver
from evosearch.errors import SettingsError
from evosearch.objectives import Bytes, Flops, get_objective
from evosearch.search import ArchiveEntry, ParetoArchive
from evosearch.space import Genome, InnovationCounter
from evosearch.testing._tiny import iris, tiny_space


def test_bytes_and_flops_count_from_the_graph(tmp_path) -> None:
    space = tiny_space(tmp_path)
    rng, counter = np.random.default_rng(3), InnovationCounter()
    for _ in range(5):
        genome = Genome.random(space, 4, 3, rng, counter)
        assert Bytes().value(genome) == 4 * genome.n_params()
        # A dense network multiplies each weight once per sample: two FLOPs per weight.
        weights = genome.n_params() - sum(
            genome.graph.nodes[n]["units"] for n in genome.graph if n != 0
        )
        assert Flops().value(genome) == 2 * weights
        assert get_objective("flops").known_before_training


def test_three_objective_hypervolume_is_exact() -> None:
    archive = ParetoArchive((1.0, -1.0, -1.0), objectives=("score", "bytes", "flops"))
    archive.update(
        [ArchiveEntry({}, "a", (0.5, 10.0, 1e3)), ArchiveEntry({}, "b", (0.8, 1e3, 10.0))]
    )
    size, flops = Bytes().normalise, Flops().normalise
    boxes = np.array(
        [
            [0.5, size(np.array([10.0]))[0], flops(np.array([1e3]))[0]],
            [0.8, size(np.array([1e3]))[0], flops(np.array([10.0]))[0]],
        ]
    )
    overlap = np.minimum(boxes[0], boxes[1])
    expected = boxes[0].prod() + boxes[1].prod() - overlap.prod()
    assert archive.hypervolume() == pytest.approx(expected, rel=1e-12)


def test_max_bytes_screens_before_training_and_a_three_objective_run_plots_each_pair(
    tmp_path,
) -> None:
    X, y = iris()
    out = tmp_path / "run"
    evolver = Evolver(
        tiny_space(tmp_path),
        population_size=4,
        generations=1,
        n_jobs=1,
        cv=2,
        objectives=("score", "bytes", "flops"),
        max_bytes=300,
        out=out,
    ).fit(X, y)
    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    assert journal and all(4 * line["n_params"] <= 300 for line in journal)
    assert json.loads((out / "run.json").read_text())["settings"]["max_bytes"] == 300
    for entry in evolver.archive_.members:
        genome = Genome.from_json(entry.genome)
        assert entry.objectives[1:] == (4.0 * genome.n_params(), 2.0 * genome.n_macs())
    from evosearch.report import plot_objective_pairs

    figure = plot_objective_pairs(out)
    gids = {artist.get_gid() for ax in figure.axes for artist in ax.collections}
    assert gids == {"pair-0-1", "pair-0-2", "pair-1-2"}
    unchecked = Evolver(tiny_space(tmp_path), max_bytes=0)
    assert unchecked.max_bytes == 0  # stored as given, checked when fit runs
    with pytest.raises(SettingsError, match="max_bytes must be an integer >= 1"):
        unchecked.fit(X, y)
    with pytest.raises(SettingsError, match="max_bytes=8 is below every random genome"):
        Evolver(tiny_space(tmp_path), population_size=4, generations=1, n_jobs=1, max_bytes=8).fit(
            X, y
        )
