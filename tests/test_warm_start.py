"""Warm starts: generation 0 drawn from earlier runs' archives and last populations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine

from clitools import (
    TINY_TOML,
    assert_clean,
    assert_usage_error,
    evolve_and_kill,
    evosearch,
    lines,
    outcome,
)
from evosearch import Evolver
from evosearch.errors import RunFolderError, SettingsError
from evosearch.space import Genome

SMALL = ("--genome", "tiny.toml", "--population", "6", "--n-jobs", "1", "--quiet")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("warm")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def source(workdir: Path) -> Path:
    """A finished 2-generation run on iris: the run the others start from."""
    result = evosearch(
        "evolve", "--data", "iris", *SMALL, "--generations", "2", "--out", "source", cwd=workdir
    )
    assert result.returncode == 0, result.stderr
    return workdir / "source"


def source_genomes(source: Path) -> set[str]:
    """Canonical hashes of the source's archive members and last population."""
    archive = json.loads((source / "archive.json").read_text())["members"]
    population = lines(source / "generations.jsonl")[-1]["population"]
    genomes = [m["genome"] for m in archive] + [m["genome"] for m in population]
    return {Genome.from_json(g).canonical_hash() for g in genomes}


@pytest.mark.slow
def test_a_warm_start_on_other_data_adapts_the_genomes_and_records_its_origin(workdir, source):
    result = evosearch(
        "evolve", "--data", "wine", "--genome", "tiny.toml", "--population", "6",
        "--n-jobs", "1", "--generations", "1", "--warm-start", "source", "--out", "wine",
        cwd=workdir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert_clean(result)
    note = [line for line in result.stdout.splitlines() if line.startswith("warm start:")]
    assert len(note) == 1 and "from source" in note[0], result.stdout
    info = json.loads((workdir / "wine" / "run.json").read_text())
    (run,) = info["warm_start"]["runs"]
    assert run["run"] == str(source.resolve()) and run["generation"] == 2
    seeds = [Genome.from_json(g) for g in info["initial_population"]]
    assert len(seeds) == run["genomes"] == len(info["warm_start"]["parents"]) > 0
    # The seeds are the source's genomes, as they were there (iris widths) ...
    assert {g.canonical_hash() for g in seeds} <= source_genomes(source)
    # ... and generation 0 trained them at wine's widths: 13 inputs, 3 classes.
    generation0 = lines(workdir / "wine" / "journal.jsonl")
    first = [Genome.from_json(r["genome"]) for r in generation0 if r["generation"] == 0]
    assert all(g.graph.nodes[0]["units"] == 13 for g in first)
    widened = set()
    for seed in seeds:
        seed.graph.nodes[0]["units"] = 13
        widened.add(seed.canonical_hash())
    assert widened & {g.canonical_hash() for g in first}
    # Other rows: the earlier networks trained on rows this run's folds may validate on.
    assert run["weights"] == "other folds"
    assert info["warm_start"]["parents"] == [None] * len(seeds)
    assert "fresh weights for those of source (other rows or folds" in note[0], note[0]
    shown = evosearch("show", "wine", cwd=workdir)
    assert f"warm from {source.resolve()} generation 2" in shown.stdout, shown.stdout
    assert not list((workdir / "wine" / "weights").glob("warm-*.npz"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (("--data", "diabetes"), ("source", "classification run", "regression")),
        (("--data", "wine", "--objectives", "score,bytes"), ("source", "objectives")),
        (("--data", "wine", "--genome", "mlp"), ("source", "search space")),
    ],
    ids=["task", "objectives", "space"],
)
def test_an_incompatible_run_is_refused_in_one_line(workdir, source, extra, words):
    args = ["--genome", "tiny.toml", "--population", "6", "--n-jobs", "1", "--generations", "1"]
    if "--genome" in extra:
        args = args[2:]
    result = evosearch(
        "evolve", *args, *extra, "--warm-start", "source", "--out", "refused", cwd=workdir
    )
    assert_usage_error(result, *words)
    assert not (workdir / "refused").exists()


def test_a_missing_run_is_one_line(workdir):
    result = evosearch(
        "evolve", "--data", "iris", *SMALL, "--warm-start", "nothere", "--out", "x", cwd=workdir
    )
    assert_usage_error(result, "nothere")


@pytest.mark.slow
def test_warm_started_run_killed_in_generation_0_resumes_exactly(workdir, source):
    # The source's data and seed: its folds, so the seeds start from its trained networks,
    # which the run copies into its own weights/ for a resume.
    args = ("--data", "iris", *SMALL, "--generations", "2",
            "--warm-start", "source")  # fmt: skip
    reference = evosearch("evolve", *args, "--out", "warm-full", cwd=workdir)
    assert reference.returncode == 0, reference.stderr
    info = json.loads((workdir / "warm-full" / "run.json").read_text())
    assert info["warm_start"]["runs"][0]["weights"] == "inherited"
    assert any(info["warm_start"]["parents"])
    killed = evolve_and_kill(args, workdir, "warm-killed", generation=0, done=2)
    assert not (killed / "checkpoint.json").exists()  # really killed inside generation 0
    result = evosearch("resume", "warm-killed", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert outcome(killed) == outcome(workdir / "warm-full")


def test_evolver_warm_start_from_paths(tmp_path):
    X, y = load_iris(return_X_y=True)
    small = dict(population_size=6, generations=1, n_jobs=1, genome="mlp", max_params=300)
    first = Evolver(**small, out=tmp_path / "a").fit(X[::2], y[::2])
    warm = Evolver(**small, warm_start=first.run_folder_, random_state=1).fit(X, y)
    cold = Evolver(**small, random_state=1).fit(X, y)
    seeds = {Genome.from_json(m.genome).canonical_hash() for m in first.archive_.members}
    results = warm.cv_results_
    generation0 = set(np.asarray(results["genome_hash"])[np.asarray(results["generation"]) == 0])
    assert seeds and seeds <= generation0  # same widths: the archive's genomes as they were
    assert warm.get_params()["warm_start"] == first.run_folder_
    assert not np.array_equal(warm.cv_results_["genome_hash"], cold.cv_results_["genome_hash"])
    with pytest.raises(RunFolderError, match="nothere"):
        Evolver(**small, warm_start=tmp_path / "nothere").fit(X, y)
    with pytest.raises(SettingsError, match="warm_start"):
        Evolver(**small, warm_start=3).fit(X, y)
    wine = load_wine(return_X_y=True)
    with pytest.raises(SettingsError, match="objectives"):
        Evolver(**small, warm_start=first.run_folder_, objectives=("score", "bytes")).fit(*wine)


def test_warm_seeds_spread_over_the_front_and_leave_room_for_random_genomes(tmp_path):
    from evosearch.runs import load_run
    from evosearch.search.warm_start import load_warm_start, seed_limit

    X, y = load_iris(return_X_y=True)
    small = dict(population_size=6, n_jobs=1, genome="mlp", max_params=300)
    first = Evolver(**small, generations=1, out=tmp_path / "a", random_state=3).fit(X, y)
    record = load_run(first.run_folder_)
    warm = load_warm_start([first.run_folder_], record.info, with_weights=False)
    again = load_warm_start([first.run_folder_], record.info, with_weights=False)
    assert [g.canonical_hash() for g in warm.genomes] == [g.canonical_hash() for g in again.genomes]
    members = first.archive_.members
    ends = {
        max(members, key=lambda m: m.objectives[0]).genome_hash,
        min(members, key=lambda m: m.objectives[1]).genome_hash,
    }
    # Both ends of the earlier front come first, whatever their scores.
    assert {g.canonical_hash() for g in warm.genomes[: len(ends)]} == ends
    offered = {g.canonical_hash() for g in warm.genomes}
    assert len(offered) > seed_limit(6)  # more than generation 0 takes: the share applies
    second = Evolver(**small, generations=1, warm_start=first.run_folder_, random_state=1)
    results = second.fit(X, y).cv_results_
    generation0 = np.asarray(results["genome_hash"])[np.asarray(results["generation"]) == 0]
    seeded = [h for h in generation0 if h in offered]
    assert len(seeded) == seed_limit(6) and len(generation0) == 6
    assert set(seeded) == {g.canonical_hash() for g in warm.genomes[: seed_limit(6)]}


def test_warm_start_false_means_none_as_scikit_learn_tools_set_it():
    from evosearch.search import check_settings

    assert check_settings({"warm_start": False}).warm_start == ()
    assert check_settings({"warm_start": None}).warm_start == ()
    with pytest.raises(SettingsError, match="warm_start must be a run folder"):
        check_settings({"warm_start": True})


def test_weights_carry_over_only_from_a_run_with_the_same_folds(tmp_path):
    """An earlier run's fold k network trained on rows that another run's fold k may validate
    on (a sample of the same table shares most rows): its weights follow only where the data,
    cv, holdout and seed, so the folds, are the same; the genomes follow either way."""
    from evosearch.runs import load_run
    from evosearch.search.warm_start import load_warm_start, same_folds

    X, y = load_iris(return_X_y=True)
    small = dict(population_size=6, n_jobs=1, genome="mlp", max_params=300, generations=1)
    first = Evolver(**small, out=tmp_path / "a", random_state=3).fit(X, y)
    info = load_run(first.run_folder_).info
    same = load_warm_start([first.run_folder_], info, with_weights=True)
    assert same.runs[0]["weights"] == "inherited"
    assert all(same.parents) and set(same.weights) == set(same.parents)
    assert load_warm_start([first.run_folder_], info, with_weights=False).runs[0]["weights"] == (
        "fresh"
    )
    changes = {
        "seed": {"settings": {**info["settings"], "random_state": 4}},
        "cv": {"settings": {**info["settings"], "cv": 5}},
        "holdout": {"settings": {**info["settings"], "holdout": 0.2}},
        "rows": {"dataset": {**info["dataset"], "fingerprint": "0" * 64}},
    }
    for what, change in changes.items():
        other = {**info, **change}
        assert not same_folds(info, other), what
        warm = load_warm_start([first.run_folder_], other, with_weights=True)
        assert warm.runs[0]["weights"] == "other folds", what
        assert warm.parents == [None] * len(warm.genomes) and not warm.weights, what
        assert [g.canonical_hash() for g in warm.genomes] == [
            g.canonical_hash() for g in same.genomes
        ]
