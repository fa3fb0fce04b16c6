"""``bag_folds``: the best model averages one refit per CV fold network.

Each refit continues one fold's network on all rows (the run's usual refit continues the best
fold's alone); averaging them takes out much of a refit's own variance. The bag is what
``predict`` uses, what ``Evolver.export`` and ``evosearch export`` write (as an ensemble of
the refits, in every format), and what ``max_time`` leaves room for.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tomllib
from sklearn.datasets import load_iris

from clitools import TINY_TOML, assert_clean, assert_usage_error, evosearch
from evosearch import Evolver, SearchSpace
from evosearch.deploy import WeightedEnsemble, read_model
from evosearch.errors import SettingsError

X, Y = load_iris(return_X_y=True)
SETTINGS = {"population_size": 4, "generations": 2, "n_jobs": 1, "random_state": 3}


@pytest.fixture(scope="module")
def tiny() -> SearchSpace:
    return SearchSpace.from_dict(tomllib.loads(TINY_TOML))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, tiny: SearchSpace) -> tuple[Evolver, Evolver]:
    """The same seed and settings without and with ``bag_folds``."""
    folder = tmp_path_factory.mktemp("bag")
    single = Evolver(genome=tiny, out=folder / "single", **SETTINGS).fit(X, Y)
    bagged = Evolver(genome=tiny, out=folder / "bagged", bag_folds=True, **SETTINGS).fit(X, Y)
    return single, bagged


def test_the_best_model_averages_a_refit_from_every_fold(runs) -> None:
    single, bagged = runs
    # The search is the same; only the final model differs.
    assert bagged.archive_.to_dict() == single.archive_.to_dict()
    bag = bagged.best_estimator_
    assert isinstance(bag, WeightedEnsemble)
    assert len(bag.estimators) == bagged.cv == 3
    # One of the refits is the run's usual one (from the best fold), reused, not refit again.
    usual = single.best_estimator_.predict_proba(X)
    assert any(np.array_equal(m.predict_proba(X), usual) for m in bag.estimators)
    # The refits start from different networks, so they differ, and predict averages them.
    probabilities = [m.predict_proba(X) for m in bag.estimators]
    assert not all(np.array_equal(p, probabilities[0]) for p in probabilities[1:])
    np.testing.assert_allclose(bagged.predict_proba(X), np.mean(probabilities, axis=0))
    assert list(bagged.classes_) == list(single.classes_)


def test_the_setting_is_recorded_only_where_it_is_on(runs) -> None:
    single, bagged = runs
    recorded = json.loads((bagged.run_folder_ / "run.json").read_text(encoding="utf-8"))
    plain = json.loads((single.run_folder_ / "run.json").read_text(encoding="utf-8"))
    assert recorded["settings"]["bag_folds"] is True
    assert "bag_folds" not in plain["settings"]  # runs without it: run.json as before


def test_the_export_writes_the_bag_and_predicts_as_the_evolver(runs, tmp_path: Path) -> None:
    _, bagged = runs
    for fmt in ("joblib", "python"):
        metadata = bagged.export(tmp_path / fmt, format=fmt)
        assert metadata["bag_folds"] == 3
        assert metadata["ensemble"]["members"] == [metadata["genome_hash"]] * 3
        # weights.bin holds one network: a bag of three has none.
        assert not (tmp_path / fmt / "weights.bin").exists()
        model, _ = read_model(tmp_path / fmt)
        np.testing.assert_allclose(model.predict_proba(X), bagged.predict_proba(X), atol=1e-6)
    # Another member is refit alone, as before.
    smallest = bagged.export(tmp_path / "member", member=0)
    assert "bag_folds" not in smallest and (tmp_path / "member" / "weights.bin").is_file()


def test_without_stored_fold_networks_the_best_model_is_the_usual_refit(tiny) -> None:
    settings = {**SETTINGS, "inherit_weights": False}
    bagged = Evolver(genome=tiny, bag_folds=True, **settings).fit(X, Y)
    single = Evolver(genome=tiny, **settings).fit(X, Y)
    assert not isinstance(bagged.best_estimator_, WeightedEnsemble)
    np.testing.assert_array_equal(
        bagged.best_estimator_.predict_proba(X), single.best_estimator_.predict_proba(X)
    )


def test_bag_folds_with_ensemble_is_refused_in_one_line(tiny) -> None:
    with pytest.raises(SettingsError, match="bag_folds and ensemble cannot be combined"):
        Evolver(genome=tiny, bag_folds=True, ensemble=True, **SETTINGS).fit(X, Y)


def test_the_command_line_evolves_and_exports_bags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from evosearch.cli.main import main

    (tmp_path / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    run = ("--genome", "tiny.toml", "--data", "iris", "--population", "4", "--n-jobs", "1")
    done = evosearch("evolve", *run, "--generations", "1", "--quiet", "--bag-folds",
                     "--out", "bagged", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert_clean(done)
    # The exports and the prediction call the command's main in-process (the evolve above and
    # the refusal below are the real processes), which keeps this test to a few seconds.
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    # The best member of a run evolved with --bag-folds is exported as that run deploys it.
    assert main(["export", "bagged", "--out", "best"]) == 0
    assert "refit from each of its 3 fold networks, averaged" in capsys.readouterr().out
    assert json.loads((tmp_path / "best" / "model.json").read_text())["bag_folds"] == 3
    # Any member on request; another member otherwise alone.
    assert main(["export", "bagged", "--member", "0", "--out", "m0"]) == 0
    assert "fold networks" not in capsys.readouterr().out
    assert main(["export", "bagged", "--member", "0", "--bag-folds", "--out", "m0-bag"]) == 0
    assert "averaged" in capsys.readouterr().out
    (tmp_path / "rows.csv").write_text(
        "sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n5.1,3.5,1.4,0.2\n"
    )
    assert main(["predict", "best", "rows.csv"]) == 0
    refused = evosearch("export", "bagged", "--ensemble", "--bag-folds", cwd=tmp_path)
    assert_usage_error(refused, "--bag-folds", "--ensemble")
