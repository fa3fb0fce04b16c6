"""--max-params (never train over the size budget) and --holdout (a test split kept out)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_wine

from clitools import TINY_TOML, assert_usage_error, evosearch
from evosearch import Evolver
from evosearch.errors import SettingsError


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("budget") / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return path


def test_no_genome_over_the_budget_is_ever_trained(tiny, tmp_path):
    X, y = load_wine(return_X_y=True)
    # wine: 13 features, 3 classes. One hidden layer of 4 units has (13+1)*4 + (4+1)*3 = 71
    # parameters; of 8 units, 139. The budget admits the first and not two layers of 8.
    evolver = Evolver(
        genome=tiny, population_size=6, generations=3, n_jobs=2, max_params=100, out=tmp_path / "r"
    ).fit(X, y)
    journal = [json.loads(x) for x in (tmp_path / "r" / "journal.jsonl").read_text().splitlines()]
    assert journal and max(e["n_params"] for e in journal) <= 100
    assert all(m.objectives[1] <= 100 for m in evolver.archive_)
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert info["settings"]["max_params"] == 100


def test_a_budget_no_genome_can_meet_is_a_clear_error(tiny):
    X, y = load_wine(return_X_y=True)
    with pytest.raises(SettingsError, match="max_params=10 is below every random genome"):
        Evolver(genome=tiny, population_size=4, generations=1, n_jobs=1, max_params=10).fit(X, y)
    with pytest.raises(SettingsError, match="max_params"):
        Evolver(max_params=0).fit(X, y)


def test_holdout_is_kept_out_of_the_search_and_scored_per_member(tiny, tmp_path):
    X, y = load_wine(return_X_y=True)
    evolver = Evolver(
        genome=tiny, population_size=6, generations=2, n_jobs=2, holdout=0.25, out=tmp_path / "h"
    ).fit(X, y)
    assert evolver.dataset_.n_samples == len(y) - int(np.ceil(0.25 * len(y)))
    scores = [m.holdout_score for m in evolver.archive_]
    assert scores and all(s is not None and 0.0 <= s <= 1.0 for s in scores)
    archive = json.loads((tmp_path / "h" / "archive.json").read_text())
    assert [m["holdout_score"] for m in archive["members"]] == [
        m.holdout_score for m in evolver.archive_.members
    ]
    # The split is drawn from the seed, so a second run sees the same rows.
    again = Evolver(genome=tiny, population_size=6, generations=2, n_jobs=1, holdout=0.25)
    assert again.fit(X, y).archive_.to_dict() == evolver.archive_.to_dict()
    with pytest.raises(SettingsError, match="holdout"):
        Evolver(holdout=0.9).fit(X, y)


@pytest.mark.slow
def test_cli_holdout_column_and_bad_values(tiny):
    workdir = tiny.parent
    result = evosearch(
        "evolve", "--genome", "tiny.toml", "--data", "wine", "--population", "4",
        "--generations", "1", "--n-jobs", "1", "--holdout", "0.2", "--out", "cli-h", cwd=workdir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "holdout" in result.stdout
    assert "holdout" in evosearch("show", "cli-h", cwd=workdir).stdout
    assert_usage_error(
        evosearch("evolve", "--holdout", "0.7", cwd=workdir), "--holdout", "(0, 0.5]"
    )
    assert_usage_error(evosearch("evolve", "--max-params", "0", cwd=workdir), "--max-params")
