"""Search-quality techniques: aging evolution, successive halving, weight inheritance."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import tomllib
from sklearn.datasets import load_iris

from clitools import (
    TINY_TOML,
    assert_clean,
    assert_usage_error,
    evolve_and_kill,
    evosearch,
    lines,
    outcome,
    snapshot,
    without_timings,
)
from evosearch import Evolver, SearchSpace
from evosearch.errors import SettingsError
from evosearch.search.strategies import (
    NSGA2,
    FreshGenomes,
    NoParents,
    RandomSearch,
    Strategy,
    get_strategy,
)
from evosearch.space import Genome

X, Y = load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def tiny() -> SearchSpace:
    return SearchSpace.from_dict(tomllib.loads(TINY_TOML))


def fit(tmp_path: Path, space: SearchSpace, **settings) -> tuple[Evolver, list[dict]]:
    out = tmp_path / "run"
    settings = {"population_size": 4, "generations": 3, "n_jobs": 1, "random_state": 1} | settings
    evolver = Evolver(genome=space, eval_timeout=None, out=out, **settings).fit(X, Y)
    return evolver, lines(out / "journal.jsonl")


# ---------------------------------------------------------------------------- aging
def test_aging_population_is_the_newest_children(tmp_path, tiny):
    evolver, journal = fit(tmp_path, tiny, strategy="aging")
    last = [e for e in journal if e["generation"] == 3 and e["error"] is None]
    assert len(last) == 4  # every child of the last generation succeeded ...
    final = {g.canonical_hash() for g in evolver.population_}
    # ... so aging replaced the whole population by them, whatever their fitness.
    assert final == {e["genome_hash"] for e in last}
    assert len(evolver.population_) == 4


def test_nsga2_keeps_elites_that_aging_would_drop(tmp_path, tiny):
    evolver, journal = fit(tmp_path, tiny, strategy="nsga2", generations=4)
    final = {g.canonical_hash() for g in evolver.population_}
    older = {e["genome_hash"] for e in journal if e["generation"] < 4}
    assert final & older  # elitism: some survivors are older than the last generation


def test_aging_is_independent_of_workers(tmp_path, tiny):
    one, _ = fit(tmp_path / "a", tiny, strategy="aging", n_jobs=1)
    two, _ = fit(tmp_path / "b", tiny, strategy="aging", n_jobs=2)
    assert without_timings(one.archive_.to_dict()) == without_timings(two.archive_.to_dict())


def test_unknown_strategy_is_refused(tiny):
    expected = r"^unknown strategy 'steady': choose from nsga2, aging, random"
    with pytest.raises(SettingsError, match=expected):
        Evolver(genome=tiny, strategy="steady").fit([[0.0], [1.0]], [0, 1])


# ---------------------------------------------------------------------------- random search
def test_random_search_samples_fresh_genomes_without_parents(tmp_path, tiny):
    evolver, journal = fit(tmp_path, tiny, strategy="random", generations=3)
    assert [r.generation for r in evolver.history_] == [0, 1, 2, 3]
    members = [
        m
        for e in [json.loads((tmp_path / "run" / "archive.json").read_text())]
        for m in e["members"]
    ]
    assert all(m["parents"] == [] for m in members)
    children = [e for e in journal if e["generation"] > 0]
    assert len(children) == 12  # population_size fresh genomes per generation

    # Not bred: no child shares an innovation id with a genome of an earlier generation.
    def hidden(entry):
        return {n["id"] for n in entry["genome"]["graph"]["nodes"]} - {0, 1}

    for generation in (1, 2, 3):
        earlier = set().union(*(hidden(e) for e in journal if e["generation"] < generation))
        assert all(not hidden(e) & earlier for e in journal if e["generation"] == generation)
    # Fresh genomes are screened like children: none equals a genome evaluated before.
    hashes = [e["genome_hash"] for e in journal]
    assert len(hashes) == len(set(hashes))


def test_random_search_respects_the_size_budget_and_halving(tmp_path, tiny):
    _, journal = fit(tmp_path, tiny, strategy="random", max_params=60, halving=True)
    assert all(e["n_params"] <= 60 for e in journal)
    for generation in (1, 2, 3):
        rung = {e["genome_hash"] for e in journal if e["generation"] == generation and e["folds"]}
        done = {
            e["genome_hash"] for e in journal if e["generation"] == generation and not e["folds"]
        }
        # Halving: more genomes on the first fold than finished, and only those finished.
        assert done <= rung and 0 < len(done) <= 4 < len(rung)


# ---------------------------------------------------------------------------- breeding parts
def test_random_search_is_a_composition_of_breeding_parts():
    assert isinstance(RandomSearch.parent_selection, NoParents)
    assert isinstance(RandomSearch.variation, FreshGenomes)
    assert not hasattr(Strategy, "breeds_from_parents")


def test_the_old_breeds_from_parents_flag_is_refused_with_the_new_way():
    with pytest.raises(TypeError, match=r"variation = FreshGenomes\(\)"):

        class Old(NSGA2):
            name = "old"
            breeds_from_parents = False


def test_a_one_file_toy_strategy_with_its_own_mutation_runs_in_the_evolver(tmp_path, tiny):
    import toy_strategy

    assert get_strategy("hyperparameters") is toy_strategy.HyperparameterSearch
    # No crossover: every child is its one parent with other training hyperparameters.
    evolver, journal = fit(tmp_path, tiny, strategy="hyperparameters", crossover_rate=0.0)
    assert [r.generation for r in evolver.history_] == [0, 1, 2, 3]
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["settings"]["strategy"] == "hyperparameters"

    def graph(entry: dict) -> str:
        return json.dumps(Genome.from_json(entry["genome"]).to_json()["graph"], sort_keys=True)

    # Every architecture evaluated later is one of generation 0's.
    first = {graph(e) for e in journal if e["generation"] == 0}
    later = {graph(e) for e in journal if e["generation"] > 0}
    assert later and later <= first
    genomes = {e["genome_hash"]: e for e in journal}
    archive = json.loads((tmp_path / "run" / "archive.json").read_text())["members"]
    for member in archive:
        for parent in member["parents"]:  # one at most
            assert graph(member) == graph(genomes[parent])
            hyperparameters = genomes[parent]["genome"]["hyperparameters"]
            assert member["genome"]["hyperparameters"] != hyperparameters


# ---------------------------------------------------------------------------- halving
def test_halving_trains_twice_the_children_on_one_fold_and_finishes_half(tmp_path, tiny):
    evolver, journal = fit(tmp_path, tiny, halving=True)
    for generation in (1, 2, 3):
        partial = [e for e in journal if e["generation"] == generation and e["folds"] == [0]]
        full = [e for e in journal if e["generation"] == generation and e["folds"] is None]
        assert 4 < len(partial) <= 8  # a child whose genome is cached needs no first rung
        assert len(full) <= 4
        # (A child met in an earlier generation's first rung is not trained on fold 0 again.)
        by_hash = {e["genome_hash"]: e for e in journal if e["folds"] == [0]}
        for entry in full:
            # Promoted children were first scored on fold 0; that fold was not trained again.
            assert entry["genome_hash"] in by_hash
            first = by_hash[entry["genome_hash"]]
            assert entry["fold_scores"][0] == first["fold_scores"][0]
    assert all(len(e.fold_scores) == 3 for e in evolver.archive_)


def test_halving_promotes_by_pareto_rank_not_accuracy_alone(tmp_path, tiny):
    _, journal = fit(tmp_path, tiny, halving=True, generations=4)
    for generation in (1, 2, 3, 4):
        this = [e for e in journal if e["generation"] == generation]
        promoted = {e["genome_hash"] for e in this if e["folds"] is None}
        rung = [(e["score"], e["n_params"], e["genome_hash"]) for e in this if e["folds"] == [0]]
        rung = [point for point in rung if point[0] > -1]
        # NSGA-II truncation: a child left behind never dominates one that went on ...
        for score, size, genome_hash in rung:
            if genome_hash in promoted:
                continue
            for other_score, other_size, other_hash in rung:
                if other_hash in promoted:
                    assert not (score >= other_score and size <= other_size)
        # ... and the smallest working child goes on even when it is not the most accurate.
        smallest = min(rung, key=lambda p: (p[1], -p[0]))
        assert smallest[2] in promoted


# ---------------------------------------------------------------------------- inheritance
def test_inherited_weights_live_in_the_run_folder_for_population_and_archive(tmp_path, tiny):
    evolver, _ = fit(tmp_path, tiny, inherit_weights=True)
    files = {p.stem for p in (tmp_path / "run" / "weights").glob("*.npz")}
    archive = {e.genome_hash for e in evolver.archive_}
    assert files == {g.canonical_hash() for g in evolver.population_} | archive
    with np.load(next((tmp_path / "run" / "weights").glob("*.npz"))) as data:
        folds = {name.split("/")[0] for name in data.files}
    assert folds == {"f0", "f1", "f2"}


@pytest.mark.slow
def test_children_that_inherit_train_fewer_epochs(tmp_path):
    # A space where a child usually keeps its parent's layers: hyperparameter-only changes.
    space = SearchSpace.from_dict(
        tomllib.loads(
            TINY_TOML.replace("units = [4, 8]", "units = [8]")
            .replace('["relu", "tanh"]', '["tanh"]')
            .replace("max_epochs = [5, 10]", "max_epochs = [200]")
        )
    )
    settings = {"population_size": 6, "generations": 3, "crossover_rate": 0.0}
    _, fresh = fit(tmp_path / "fresh", space, inherit_weights=False, **settings)
    _, inherited = fit(tmp_path / "inherit", space, inherit_weights=True, **settings)

    def child_epochs(journal: list[dict]) -> float:
        return float(np.mean([sum(e["epochs"]) for e in journal if e["generation"] > 0]))

    assert child_epochs(inherited) < 0.8 * child_epochs(fresh)


# ---------------------------------------------------------------------------- all together
TECHNIQUES = ("--strategy", "aging", "--halving", "--inherit-weights")
RUN = ("--genome", "tiny.toml", "--data", "iris", "--population", "6", "--n-jobs", "2")
RUN += ("--seed", "5", "--quiet", "--generations", "4", *TECHNIQUES)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("techniques")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def full(workdir: Path) -> Path:
    """A real run with every technique on: aging, halving, weight inheritance."""
    result = evosearch("evolve", *RUN, "--out", "full", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert_clean(result)
    return workdir / "full"


def test_cli_run_with_every_technique_records_them_and_replays(full, workdir):
    info = json.loads((full / "run.json").read_text())["settings"]
    assert (info["strategy"], info["halving"], info["inherit_weights"]) == ("aging", True, True)

    replay = evosearch("replay", "full", "--generation", "2", "--evaluate", cwd=workdir)
    assert replay.returncode == 0, replay.stderr
    assert "started from their parents' trained weights" in replay.stdout


# Slow (10 s): the strategy contract suite resumes every strategy, halving on and off, exactly,
# and tests/test_resume.py and test_stops.py SIGKILL the real command.
@pytest.mark.slow
def test_cli_run_with_every_technique_resumes_after_sigkill_to_the_same_result(full, workdir):
    # Killed inside generation 3, past its first aging cycle.
    evolve_and_kill(RUN, workdir, "killed", generation=3, done=5)
    assert json.loads((workdir / "killed" / "checkpoint.json").read_text())["generation"] < 3

    result = evosearch("resume", "killed", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert outcome(workdir / "killed") == outcome(full)
    # Nothing was trained twice: each (genome, folds) evaluation is journalled once.
    keys = Counter(
        (e["genome_hash"], str(e["folds"])) for e in lines(workdir / "killed" / "journal.jsonl")
    )
    assert max(keys.values()) == 1
    assert set(keys) == {(e["genome_hash"], str(e["folds"])) for e in lines(full / "journal.jsonl")}


def test_cli_refuses_an_unknown_strategy(workdir):
    assert_usage_error(evosearch("evolve", "--strategy", "steady", cwd=workdir), "--strategy")


def test_damaged_weights_file_is_refused_naming_it_and_left_alone(full, workdir):
    damaged = workdir / "damaged"
    shutil.copytree(full, damaged)
    victim = next((damaged / "weights").glob("*.npz"))
    victim.write_bytes(b"not a zip file")
    before = snapshot(damaged)
    result = evosearch("resume", "damaged", "--generations", "5", cwd=workdir)
    assert_usage_error(result, victim.name, "unreadable weights file")
    assert snapshot(damaged) == before
