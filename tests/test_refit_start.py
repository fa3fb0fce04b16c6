"""Refits start from the member's own CV network when weights are inherited.

With weight inheritance a member's CV score measures networks whose training went on over
generations; the final model, the holdout check and ``export`` continue the best-scoring
fold's network on all the rows instead of training the genome from scratch.
"""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest
import tomllib
from sklearn.datasets import load_iris

from clitools import TINY_TOML, assert_clean, evosearch
from evosearch import Evolver, Genome, SearchSpace
from evosearch.search.inheritance import read_weights, refit_start
from evosearch.search.refit import refit

X, Y = load_iris(return_X_y=True)
RUN = ("--genome", "tiny.toml", "--data", "iris", "--population", "6", "--n-jobs", "2")
RUN += ("--seed", "5", "--quiet", "--generations", "4")


@pytest.fixture(scope="module")
def tiny() -> SearchSpace:
    return SearchSpace.from_dict(tomllib.loads(TINY_TOML))


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory, tiny: SearchSpace) -> Evolver:
    out = tmp_path_factory.mktemp("refit") / "run"
    # Aging drops elites, so that the archive holds members the population no longer has.
    settings = {"population_size": 6, "generations": 4, "n_jobs": 1, "random_state": 2}
    return Evolver(genome=tiny, eval_timeout=None, out=out, strategy="aging", **settings).fit(X, Y)


def _best(evolver: Evolver):
    return evolver.archive_.best(evolver.archive_.objective("score"))


def _probabilities(model) -> np.ndarray:
    return model.predict_proba(X)


# ---------------------------------------------------------------------------- the choice
@pytest.mark.parametrize(
    ("stored", "scores", "expected"),
    [
        ({0, 1, 2}, [0.90, 0.97, 0.95], 1),
        ({0, 1, 2}, [0.95, 0.90, 0.95], 0),  # a tie: the lowest fold
        ({0, 2}, [0.90, 0.99, 0.95], 2),  # fold 1 not stored (halving, a failed fold)
        ({0, 1}, [float("nan"), 0.5], 1),  # a failed fold's NaN never wins
        ({0, 1, 2}, [0.9], 0),  # scores missing: the lowest stored fold
    ],
)
def test_refit_starts_from_the_best_scoring_stored_fold(stored, scores, expected):
    folds = {fold: {"b0": np.full(2, float(fold))} for fold in stored}
    fold, weights = refit_start(folds, scores)
    assert fold == expected
    assert weights is folds[expected]


def test_nothing_stored_means_a_refit_from_scratch():
    assert refit_start({}, [0.9, 0.8, 0.7]) is None


# ---------------------------------------------------------------------------- the run
def test_run_folder_keeps_the_weights_of_population_and_archive(fitted):
    files = {p.stem for p in (fitted.run_folder_ / "weights").glob("*.npz")}
    population = {g.canonical_hash() for g in fitted.population_}
    archive = {e.genome_hash for e in fitted.archive_}
    assert files == population | archive
    assert archive - population, "no archive member outside the population: the test is weak"


def test_best_estimator_continues_its_best_fold_network(fitted):
    best = _best(fitted)
    folds = read_weights(fitted.run_folder_, best.genome_hash)
    expected = int(np.argmax(best.fold_scores))
    assert fitted.refit_start_fold_ == expected
    genome = Genome.from_json(best.genome)
    seed, cv = fitted.random_state, fitted.cv
    warm = refit(genome, best.genome_hash, fitted.dataset_, seed, cv, start=folds[expected])
    cold = refit(genome, best.genome_hash, fitted.dataset_, seed, cv)
    np.testing.assert_array_equal(_probabilities(fitted.best_estimator_), _probabilities(warm))
    assert not np.array_equal(_probabilities(warm), _probabilities(cold))


def test_without_inheritance_the_refit_is_from_scratch(tmp_path, tiny):
    settings = {"population_size": 4, "generations": 2, "n_jobs": 1, "random_state": 2}
    evolver = Evolver(genome=tiny, eval_timeout=None, inherit_weights=False, **settings)
    evolver.fit(X, Y)
    assert evolver.refit_start_fold_ is None
    best = _best(evolver)
    genome, seed, cv = Genome.from_json(best.genome), evolver.random_state, evolver.cv
    cold = refit(genome, best.genome_hash, evolver.dataset_, seed, cv)
    np.testing.assert_array_equal(_probabilities(evolver.best_estimator_), _probabilities(cold))
    exported = evolver.export(tmp_path / "model")
    assert exported["refit_start_fold"] is None


def test_every_member_exports_from_its_own_best_fold(fitted, tmp_path):
    for index, entry in enumerate(fitted.archive_.members):
        metadata = fitted.export(tmp_path / f"m{index}", member=index)
        stored = read_weights(fitted.run_folder_, entry.genome_hash)
        assert metadata["refit_start_fold"] == refit_start(stored, entry.fold_scores)[0]


# ---------------------------------------------------------------------------- the command
@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("refit-cli")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    result = evosearch("evolve", *RUN, "--out", "full", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder


def _export(workdir: Path, run: str, out: str) -> tuple[dict, np.ndarray]:
    result = evosearch("export", run, "--out", out, cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert_clean(result)
    metadata = json.loads((workdir / out / "model.json").read_text())
    return metadata, joblib.load(workdir / out / "model.joblib").predict_proba(X)


def test_cli_export_continues_the_network_the_run_scored(workdir):
    metadata, _ = _export(workdir, "full", "exported")
    archive = json.loads((workdir / "full" / "archive.json").read_text())
    member = next(m for m in archive["members"] if m["genome_hash"] == metadata["genome_hash"])
    assert metadata["refit_start_fold"] == int(np.argmax(member["fold_scores"]))


def test_damaged_weights_file_is_one_line_and_writes_nothing(workdir, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(workdir / "full", run)
    archive = json.loads((run / "archive.json").read_text())
    best = max(archive["members"], key=lambda m: m["objectives"][0])
    (run / "weights" / f"{best['genome_hash']}.npz").write_bytes(b"not an npz")
    result = evosearch("export", str(run), "--out", str(tmp_path / "model"), cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "weights" in result.stderr and best["genome_hash"] in result.stderr
    assert not (tmp_path / "model").exists()
