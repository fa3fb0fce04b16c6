"""Ensembles of the front (issue 34): out-of-fold predictions, Caruana selection, ensemble.json,
export in every registered format, predict, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

from clitools import assert_usage_error, evosearch
from evosearch import Evolver
from evosearch.deploy import WeightedEnsemble, format_names, get_format, read_model, write_model
from evosearch.errors import SettingsError
from evosearch.evaluation import Evaluator, build_estimator
from evosearch.search.ensemble import Candidate, PredictionScorer, ensemble_front, select_ensemble
from evosearch.search.oof import assemble_oof
from evosearch.space import Genome

HYPER = {"optimizer": "adam", "learning_rate": 0.01, "l1": 0.0, "l2": 1e-4, "batch_size": 32,
         "max_epochs": 8}  # fmt: skip


def _genome(n_in: int, n_out: int, units: int) -> Genome:
    layers = [{"units": units, "activation": "tanh", "dropout": 0.0}] if units else []
    return Genome.chain(n_in, n_out, layers, HYPER)


# ------------------------------------------------------------------ out-of-fold predictions
def test_oof_predictions_score_as_the_folds_did_and_are_off_by_default():
    X, y = load_iris(return_X_y=True)
    genome = _genome(4, 3, 6)
    plain = Evaluator(X, y, "classification", cv=3, n_jobs=1).evaluate([genome])[0]
    assert plain.fold_predictions is None
    evaluator = Evaluator(X, y, "classification", cv=3, n_jobs=1, keep_predictions=True)
    result = evaluator.evaluate([genome])[0]
    assert (result.fold_scores, result.epochs) == (plain.fold_scores, plain.epochs)  # unchanged
    assert "fold_predictions" not in result.to_dict()
    oof = assemble_oof(result.fold_predictions, evaluator.folds, len(y))
    assert oof is not None and oof.shape == (150, 3) and oof.dtype == np.float32
    np.testing.assert_allclose(oof.sum(axis=1), 1.0, atol=1e-5)
    score, folds = PredictionScorer(y, evaluator.folds, "classification")(oof)
    assert folds == pytest.approx(result.fold_scores) and score == pytest.approx(result.score)
    # A named scorer goes through scikit-learn's scorer on the stored probabilities.
    named = PredictionScorer(y, evaluator.folds, "classification", "neg_log_loss")(oof)[0]
    assert np.isfinite(named) and named < 0
    assert assemble_oof([None, None, None], evaluator.folds, len(y)) is None
    Xr, yr = load_diabetes(return_X_y=True)
    regression = Evaluator(Xr, yr, "regression", cv=3, n_jobs=1, keep_predictions=True)
    result = regression.evaluate([_genome(10, 1, 0)])[0]
    oof = assemble_oof(result.fold_predictions, regression.folds, len(yr))
    folds = PredictionScorer(yr, regression.folds, "regression")(oof)[1]
    assert folds == pytest.approx(result.fold_scores, abs=1e-5)  # R² of float32 predictions


# ------------------------------------------------------------------ selection
def _candidates() -> tuple[list[Candidate], np.ndarray, list]:
    # Three noisy "models" of a 2-class target whose errors fall on different rows: any one is
    # 2/3 right, the average of any two is always right.
    n = 60
    y = np.arange(n) % 2
    folds = [(np.arange(n)[np.arange(n) % 3 != k], np.arange(n)[np.arange(n) % 3 == k])
             for k in range(3)]  # fmt: skip
    candidates = []
    for index in range(3):
        wrong = (np.arange(n) // 2) % 3 == index
        p = np.where(wrong, 0.4, 0.8)
        proba = np.where(y[:, None] == np.arange(2), p[:, None], 1 - p[:, None])
        candidates.append(
            Candidate(f"{index:024x}", 2 / 3, (2 / 3, 10.0 * (index + 1)), 100, proba.astype("f4"))
        )
    return candidates, y, folds


def test_greedy_selection_finds_the_complementary_models_deterministically():
    candidates, y, folds = _candidates()
    scorer = PredictionScorer(y, folds, "classification")
    counts, score, _ = select_ensemble(candidates, scorer, rounds=10)
    assert score == 1.0 and counts == {candidates[0].genome_hash: 1, candidates[1].genome_hash: 1}
    assert select_ensemble(candidates[::-1], scorer, rounds=10) == (counts, score, _)
    one = select_ensemble(candidates, scorer, 10, lambda hashes: len(hashes) <= 1)
    assert one is not None and one[:2] == ({candidates[0].genome_hash: 1}, pytest.approx(2 / 3))
    front = ensemble_front(candidates, scorer, (1.0, -1.0), front=[candidates[0].genome_hash])
    assert [e.objectives for e in front] == [(pytest.approx(2 / 3), 10.0), (1.0, 30.0)]
    assert front[-1].weights == [0.5, 0.5]
    assert ensemble_front(candidates, scorer, (1.0, -1.0), max_bytes=50) == []


# ------------------------------------------------------------------ export
@pytest.fixture(scope="module")
def ensembles():
    X, y = load_iris(return_X_y=True)
    classifiers = [build_estimator(_genome(4, 3, u), "classification", s).fit(X, y)
                   for u, s in ((6, 0), (0, 1))]  # fmt: skip
    Xr, yr = load_diabetes(return_X_y=True)
    regressors = [build_estimator(_genome(10, 1, u), "regression", s).fit(Xr, yr)
                  for u, s in ((5, 2), (0, 3))]  # fmt: skip
    return {
        "classification": (WeightedEnsemble(classifiers, [2.0, 1.0]), X),
        "regression": (WeightedEnsemble(regressors, [1.0, 3.0]), Xr),
    }


@pytest.mark.parametrize("fmt", format_names())
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_ensemble_exports_and_predicts_alike_in_every_format(ensembles, fmt, task, tmp_path):
    try:
        get_format(fmt).check_available()
    except SettingsError as exc:
        pytest.skip(str(exc))
    model, X = ensembles[task]
    info = write_model(model, tmp_path, {"task": task}, fmt)
    assert info["ensemble"]["weights"] == list(model.weights)
    loaded, recorded = read_model(tmp_path)
    assert recorded["files"] == info["files"]
    if task == "classification":
        np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), atol=1e-5)
        assert (loaded.predict(X) == model.predict(X)).mean() > 0.99  # float32 near-ties
    else:
        np.testing.assert_allclose(loaded.predict(X), model.predict(X), rtol=1e-4, atol=1e-3)
    average = sum(w * m.predict_proba(X) if task == "classification" else w * m.predict(X)
                  for w, m in zip(np.array(model.weights) / sum(model.weights), model.estimators,
                                  strict=True))  # fmt: skip
    ours = model.predict_proba(X) if task == "classification" else model.predict(X)
    np.testing.assert_allclose(ours, average)


# ------------------------------------------------------------------ a run
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("ensembles")
    X, y = load_iris(return_X_y=True)
    small = {"population_size": 4, "generations": 1, "n_jobs": 1, "cv": 2}
    with_ensemble = Evolver(**small, ensemble=True, out=base / "with").fit(X, y)
    Evolver(**small, out=base / "without").fit(X, y)
    return base, with_ensemble


def test_a_run_with_ensemble_keeps_oof_and_records_its_ensemble(runs):
    base, evolver = runs
    folder = base / "with"
    record = json.loads((folder / "ensemble.json").read_text())
    assert record == evolver.ensemble_record_
    assert record["score"] >= record["best_single"]["score"]
    assert set(record["objectives"]) == {"score", "params"} and record["front"]
    assert json.loads((folder / "run.json").read_text())["settings"]["ensemble"] is True
    kept = {p.stem for p in (folder / "oof").glob("*.npz")}
    archive = json.loads((folder / "archive.json").read_text())
    assert {m["genome_hash"] for m in archive["members"]} <= kept
    assert len(kept) <= len(archive["members"]) + 2 * 5  # the archive and 5 per generation
    X, _ = load_iris(return_X_y=True)
    assert evolver.predict(X).shape == (150,) and evolver.ensemble_ is not None
    np.testing.assert_allclose(evolver.predict_proba(X), evolver.ensemble_.predict_proba(X))
    np.testing.assert_allclose(
        np.exp(evolver.ensemble_.predict_log_proba(X)), evolver.predict_proba(X)
    )
    from evosearch.report._ensembles import ensemble_section

    assert "<h2>Ensembles" in ensemble_section(folder, "accuracy")
    assert ensemble_section(base / "without", "accuracy") == ""


def test_a_run_without_ensemble_writes_nothing_new(runs):
    base, _ = runs
    folder = base / "without"
    assert not (folder / "oof").exists() and not (folder / "ensemble.json").exists()
    assert "ensemble" not in json.loads((folder / "run.json").read_text())["settings"]


def test_bad_ensemble_requests_are_one_line(runs, capsys):
    from evosearch.cli.main import main

    base, _ = runs
    # The real command once; the other refusals in-process (the same code, no interpreter).
    result = evosearch("ensemble", str(base / "without"), cwd=base)
    assert_usage_error(result, "out-of-fold", "--ensemble")
    capsys.readouterr()
    for argv, words in (
        (["export", str(base / "without"), "--ensemble"], ("no ensemble", "--ensemble")),
        (["ensemble", str(base / "with"), "--max-members", "0"], ("--max-members", "at least 1")),
        (["ensemble", str(base / "with"), "--max-bytes", "-5"], ("--max-bytes",)),
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("evosearch: error: "), err
        assert all(word in err[0] for word in words), err


@pytest.mark.slow
def test_cli_ensemble_rebuilds_exports_and_predicts(tmp_path):
    run = tmp_path / "run"
    result = evosearch("evolve", "--data", "iris", "--population", "4", "--generations", "2",
                       "--cv", "2", "--n-jobs", "1", "--ensemble", "--quiet", "--out", str(run),
                       cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    first = json.loads((run / "ensemble.json").read_text())
    result = evosearch("ensemble", str(run), "--max-members", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    limited = json.loads((run / "ensemble.json").read_text())
    assert all(len(e["members"]) <= 2 for e in limited["front"])
    assert not (run / ".lock").exists()  # the rebuild held the run's lock, and let it go
    assert limited["candidates"] == first["candidates"]
    assert "ensemble front" in evosearch("show", str(run), cwd=tmp_path).stdout
    X, _ = load_iris(return_X_y=True, as_frame=True)
    X.to_csv(tmp_path / "rows.csv", index=False)
    outputs = []
    for fmt in format_names():
        out = tmp_path / fmt
        result = evosearch("export", str(run), "--ensemble", "--format", fmt, "--out", str(out),
                           cwd=tmp_path)  # fmt: skip
        assert result.returncode == 0, result.stderr
        result = evosearch("predict", str(out), str(tmp_path / "rows.csv"), "--proba",
                           cwd=tmp_path)  # fmt: skip
        assert result.returncode == 0, result.stderr
        rows = [line.split(",")[1:] for line in result.stdout.splitlines()[1:]]
        outputs.append(np.asarray(rows, dtype=float))
    for other in outputs[1:]:
        np.testing.assert_allclose(other, outputs[0], atol=1e-5)


def test_resume_keeps_the_out_of_fold_predictions(tmp_path):
    X, y = load_iris(return_X_y=True)
    small = {"population_size": 4, "n_jobs": 1, "cv": 2, "ensemble": True}
    Evolver(**small, generations=1, out=tmp_path / "a").fit(X, y)
    before = {p.name for p in (tmp_path / "a" / "oof").iterdir()}
    resumed = Evolver.resume(tmp_path / "a", X=X, y=y, generations=2)
    Evolver(**small, generations=2, out=tmp_path / "b").fit(X, y)
    after = {p.name for p in (tmp_path / "a" / "oof").iterdir()}
    straight = {p.name for p in (tmp_path / "b" / "oof").iterdir()}
    assert after == straight and before  # resumed as the uninterrupted run kept them
    ensemble = json.loads((tmp_path / "b" / "ensemble.json").read_text())
    assert resumed.ensemble_record_["members"] == ensemble["members"]


def test_ensemble_score_is_a_model_score(runs):
    _, evolver = runs
    X, y = load_iris(return_X_y=True)
    assert 0 <= evolver.score(X, y) <= 1
    assert isinstance(evolver.ensemble_, WeightedEnsemble)
    assert Path(evolver.run_folder_ / "ensemble.json").is_file()


# ------------------------------------------------------------------ one writer per run folder
def test_ensemble_refuses_a_folder_being_written_and_releases_its_lock(runs, tmp_path, capsys):
    import shutil

    from evosearch.cli.main import main
    from evosearch.runs.lock import LOCK_FILE, RunLock

    base, _ = runs
    run = tmp_path / "run"
    shutil.copytree(base / "with", run)
    before = (run / "ensemble.json").read_bytes()
    with RunLock.acquire(run, "evolve"):  # a run writing the folder, as far as others can tell
        result = evosearch("ensemble", str(run), cwd=tmp_path)
        assert_usage_error(result, "is being written by 'evolve'", "pid")
    assert (run / "ensemble.json").read_bytes() == before  # refused: nothing rewritten
    # A rebuild that fails (this run was fitted on arrays) lets the lock go all the same.
    assert main(["ensemble", str(run)]) == 2
    assert "in-memory arrays" in capsys.readouterr().err
    assert not (run / LOCK_FILE).exists()
    with RunLock.acquire(run, "resume") as lock:
        assert lock.taken_over is None


# ------------------------------------------------------------------ Evolver.export(ensemble=True)
def _export_formats() -> list[str]:
    found = ["joblib"]
    try:
        get_format("onnx").check_available()
    except SettingsError:
        return found
    return [*found, "onnx"]


def test_evolver_exports_its_ensemble_as_export_ensemble_writes_it(runs, tmp_path):
    from evosearch.runs import load_run
    from evosearch.search import export_ensemble

    base, evolver = runs
    X, _ = load_iris(return_X_y=True)
    for fmt in _export_formats():
        info = evolver.export(tmp_path / fmt, format=fmt, ensemble=True)
        loaded, recorded = read_model(tmp_path / fmt)
        assert recorded == info and info["format"] == fmt
        assert info["ensemble"]["members"] == [
            m["genome_hash"] for m in evolver.ensemble_record_["members"]
        ]
        atol = 0 if fmt == "joblib" else 1e-5  # onnx computes in float32
        np.testing.assert_allclose(loaded.predict_proba(X), evolver.predict_proba(X), atol=atol)
    # What `evosearch export RUN --ensemble` writes (its members refit from the run folder).
    cli = export_ensemble(load_run(base / "with"), evolver.dataset_, tmp_path / "cli", "joblib")
    ours = json.loads((tmp_path / "joblib" / "model.json").read_text())
    assert cli == ours
    loaded, _ = read_model(tmp_path / "cli")
    np.testing.assert_allclose(loaded.predict_proba(X), evolver.predict_proba(X))


def test_evolver_without_a_run_folder_exports_its_ensemble_and_bad_requests_are_one_line(
    tmp_path,
):
    X, y = load_iris(return_X_y=True)
    small = {"population_size": 4, "generations": 1, "n_jobs": 1, "cv": 2}
    evolver = Evolver(**small, ensemble=True).fit(X, y)
    info = evolver.export(tmp_path / "ensemble", ensemble=True)
    assert info["run"] is None and evolver.run_folder_ is None
    loaded, _ = read_model(tmp_path / "ensemble")
    np.testing.assert_array_equal(loaded.predict(X), evolver.predict(X))
    np.testing.assert_allclose(loaded.predict_proba(X), evolver.predict_proba(X))
    with pytest.raises(SettingsError) as refused:
        evolver.export(tmp_path / "both", member=0, ensemble=True)
    message = str(refused.value)
    assert "member=0" in message and "ensemble=True" in message and "\n" not in message
    plain = Evolver(**small).fit(X, y)
    with pytest.raises(SettingsError) as refused:
        plain.export(tmp_path / "none", ensemble=True)
    message = str(refused.value)
    assert "no ensemble" in message and "ensemble=True" in message and "\n" not in message
    assert not (tmp_path / "both").exists() and not (tmp_path / "none").exists()
