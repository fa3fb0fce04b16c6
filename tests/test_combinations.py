"""Where the merged features meet: tables (issue 15) x estimator (issue 19) x scoring (issue 14).

Each test here failed on the first merge of the three and names what broke.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clitools import evosearch_reader_leaves
from evosearch import Evolver
from evosearch.errors import DataError, SettingsError
from evosearch.testing._tables import mixed_table
from evosearch.testing._tiny import TINY_TOML


@pytest.fixture(scope="module")
def tiny_space(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("space") / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def table_fit(tiny_space: str) -> tuple[Evolver, object, object]:
    X, y = mixed_table(40)
    evolver = Evolver(genome=tiny_space, population_size=2, generations=1, cv=2, n_jobs=1)
    return evolver.fit(X, y), X, y


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
def test_a_table_model_refuses_a_bare_array_in_one_line(table_fit, method) -> None:
    # Fitted on a table with text columns, predict(ndarray) was scikit-learn's ValueError
    # "Specifying the columns using strings is only supported for dataframes".
    evolver, X, y = table_fit
    args = (X.to_numpy(),) if method != "score" else (X.to_numpy(), y)
    with pytest.raises(DataError, match=r"fitted on a table.*'size'.*DataFrame"):
        getattr(evolver, method)(*args)
    # A DataFrame still predicts.
    assert len(evolver.predict(X.head(3))) == 3


@pytest.mark.parametrize("scoring", ["neg_log_loss", "roc_auc"])
def test_a_class_in_one_group_is_refused_before_training_with_a_probability_scorer(
    tiny_space: str, scoring: str
) -> None:
    # Every 'yes' row in group 'A': the folds testing 'A' train without 'yes', and a scorer of
    # probabilities failed every genome ("Got predict_proba of shape (n, 1)") with the hint
    # "check the search space (e.g. a smaller learning_rate)".
    X, y = mixed_table(40)
    groups = np.where(y == "yes", "A", np.where(np.arange(40) % 2, "B", "C"))
    evolver = Evolver(genome=tiny_space, population_size=2, generations=1, cv=2, n_jobs=1)
    evolver.set_params(scoring=scoring)
    with pytest.raises(SettingsError, match=r"CV fold \d has no 'yes' in its (training|test) rows"):
        evolver.fit(X, y, groups=groups)


def test_a_class_in_one_group_is_fine_with_a_label_scorer(tiny_space: str, tmp_path: Path) -> None:
    X, y = mixed_table(40)
    groups = np.where(y == "yes", "A", np.where(np.arange(40) % 2, "B", "C"))
    evolver = Evolver(genome=tiny_space, population_size=2, generations=1, cv=2, n_jobs=1)
    evolver.fit(X, y, groups=groups)
    assert len(evolver.archive_)


def test_predict_scores_known_rows_with_the_runs_scoring_and_weights(
    tiny_space: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    # predict's note on rows with a known target said plain accuracy, unweighted, for a run
    # searched with --scoring balanced_accuracy and --sample-weight.
    from sklearn.metrics import balanced_accuracy_score

    from evosearch.cli.main import main

    X, y = mixed_table(40)
    weights = np.linspace(0.5, 2.0, 40)
    X.assign(w=weights, label=y).to_csv(tmp_path / "t.csv", index=False)
    monkeypatch.chdir(tmp_path)
    evolve = ["evolve", "--data", "t.csv", "--target", "label", "--genome", tiny_space,
              "--population", "2", "--generations", "1", "--cv", "2", "--n-jobs", "1",
              "--quiet", "--scoring", "balanced_accuracy", "--sample-weight", "w",
              "--out", "run"]  # fmt: skip
    assert main(evolve) == 0
    assert main(["export", "run", "--out", "model"]) == 0
    capsys.readouterr()
    assert main(["predict", "model", "t.csv", "--out", "p.csv"]) == 0
    note = capsys.readouterr().out
    import pandas as pd

    predicted = pd.read_csv("p.csv")["label"].to_numpy()
    expected = balanced_accuracy_score(y, predicted, sample_weight=weights)
    assert f"balanced_accuracy {expected:.4f} (weighted by 'w') on the 40 rows" in note, note

    # `evosearch predict MODEL DATA | head`: the closed pipe was a BrokenPipeError traceback.
    closed = evosearch_reader_leaves("predict", "model", "t.csv", cwd=tmp_path)
    assert closed.returncode == 1
    assert "Traceback" not in closed.stderr and "Error" not in closed.stderr, closed.stderr


def test_an_in_memory_run_with_groups_and_weights_resumes_to_the_uninterrupted_result(
    tiny_space: str, tmp_path: Path
) -> None:
    # Evolver.resume took X and y only: a run fitted with groups or sample_weight could not be
    # resumed at all ("fingerprint mismatch"), and nothing could pass them again.
    X, y = mixed_table(40)
    extra = {"groups": np.arange(40) % 5, "sample_weight": np.linspace(0.5, 2.0, 40)}
    kw = {"genome": tiny_space, "population_size": 2, "cv": 2, "n_jobs": 1}
    whole = Evolver(generations=2, out=tmp_path / "whole", **kw).fit(X, y, **extra)
    Evolver(generations=1, out=tmp_path / "part", **kw).fit(X, y, **extra)
    with pytest.raises(Exception, match="groups and sample_weight"):
        Evolver.resume(tmp_path / "part", X=X, y=y, generations=2)
    resumed = Evolver.resume(tmp_path / "part", X=X, y=y, generations=2, **extra)
    assert resumed.archive_.to_dict() == whole.archive_.to_dict()


@pytest.mark.parametrize(("scoring", "hint"), [("roc_auc", "roc_auc_ovr"), ("f1", "f1_macro")])
def test_a_two_class_scoring_on_three_classes_names_the_multiclass_one(
    tiny_space: str, scoring: str, hint: str
) -> None:
    # A 3-class table with --scoring roc_auc said only "multi_class must be in ('ovo', 'ovr')".
    X, y = mixed_table(40)
    y = np.where(np.arange(40) % 5 == 0, "maybe", y)
    evolver = Evolver(genome=tiny_space, population_size=2, generations=1, cv=2, scoring=scoring)
    with pytest.raises(SettingsError, match=rf"3 classes: try {hint}\b"):
        evolver.fit(X, y)


def test_replay_continue_to_other_data_keeps_the_runs_table_roles_and_budgets(
    tiny_space: str, tmp_path: Path, monkeypatch
) -> None:
    # replay --continue-to --data NEW.csv dropped --groups/--sample-weight (their columns became
    # features) and --max-params/--max-bytes (the continuation trained genomes over budget).
    import json

    from evosearch.cli.main import main

    X, y = mixed_table(40)
    table = X.assign(g=np.arange(40) % 5, w=np.linspace(0.5, 2.0, 40), label=y)
    table.to_csv(tmp_path / "t.csv", index=False)
    table.iloc[::-1].to_csv(tmp_path / "new.csv", index=False)
    monkeypatch.chdir(tmp_path)
    evolve = ["evolve", "--data", "t.csv", "--target", "label", "--genome", tiny_space,
              "--population", "2", "--generations", "1", "--cv", "2", "--n-jobs", "1",
              "--quiet", "--groups", "g", "--sample-weight", "w", "--max-params", "5000",
              "--max-bytes", "20000", "--out", "run"]  # fmt: skip
    assert main(evolve) == 0
    replay = ["replay", "run", "--generation", "1", "--continue-to", "next", "--generations",
              "1", "--data", "new.csv", "--target", "label", "--quiet"]  # fmt: skip
    assert main(replay) == 0
    info = json.loads((tmp_path / "next" / "run.json").read_text())
    assert info["dataset"]["options"] == {"groups": "g", "sample_weight": "w"}
    assert info["dataset"]["n_features"] == 4
    assert (info["settings"]["max_params"], info["settings"]["max_bytes"]) == (5000, 20000)


def test_evolver_export_writes_a_deployable_folder_in_any_format(table_fit, tmp_path: Path) -> None:
    # Evolver.export is `evosearch export` from Python: the best member as fitted, or another
    # member refit, in any registered format, read back by evosearch.deploy.read_model.
    from evosearch.deploy import read_model

    evolver, X, _ = table_fit
    info = evolver.export(tmp_path / "best", format="joblib")
    assert (
        info["format"] == "joblib" and info["genome_hash"] == evolver.best_genome_.canonical_hash()
    )
    loaded, _ = read_model(tmp_path / "best")
    assert list(loaded.predict(X)) == list(evolver.predict(X))
    assert evolver.export(tmp_path / "first", member=0)["member"] == 0
    with pytest.raises(SettingsError, match="out of range"):
        evolver.export(tmp_path / "none", member=99)
    with pytest.raises(SettingsError, match="unknown export format 'pmml'"):
        evolver.export(tmp_path / "none", format="pmml")
    assert not (tmp_path / "none").exists()
    (tmp_path / "a-file").write_text("")
    with pytest.raises(SettingsError, match="is a file"):
        evolver.export(tmp_path / "a-file")
    with pytest.raises(SettingsError, match=r"^cannot make export folder .*a-file.model: "):
        evolver.export(tmp_path / "a-file" / "model")
    evolver.export(tmp_path / "python", format="python")
    numpy_model, _ = read_model(tmp_path / "python")
    assert list(numpy_model.predict(X)) == list(evolver.predict(X))
    pytest.importorskip("onnxruntime")
    evolver.export(tmp_path / "onnx", format="onnx")
    onnx_model, _ = read_model(tmp_path / "onnx")
    assert list(onnx_model.predict(X)) == list(evolver.predict(X))
    np.testing.assert_allclose(onnx_model.predict_proba(X), evolver.predict_proba(X), atol=1e-5)
    # The onnx format's input dtype from Python, as `export --input-dtype`; others refuse it.
    info = evolver.export(tmp_path / "onnx64", format="onnx", input_dtype="float64")
    assert info["onnx"]["input_dtype"] == "float64"
    with pytest.raises(SettingsError, match=r"^the python format takes no --input-dtype option"):
        evolver.export(tmp_path / "none", format="python", input_dtype="float64")


def test_a_failed_export_leaves_no_half_folder(table_fit, tmp_path: Path, monkeypatch) -> None:
    # weights.bin and genome.json are written before the format's files: a format failing
    # (here a full disk) must not leave them as a folder that looks like an export.
    import errno

    from evosearch.deploy import get_format

    def full_disk(*args: object) -> list[str]:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(type(get_format("python")), "write", full_disk)
    evolver, _, _ = table_fit
    with pytest.raises(SettingsError, match=r"^cannot write export folder .*: No space left"):
        evolver.export(tmp_path / "new", format="python")
    assert not (tmp_path / "new").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(SettingsError):
        evolver.export(tmp_path / "empty", format="python")
    assert (tmp_path / "empty").is_dir() and not any((tmp_path / "empty").iterdir())
