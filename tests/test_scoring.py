"""``scoring``: any scikit-learn scorer (or a callable) as the score objective."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from clitools import TINY_TOML, evosearch
from evosearch import Evolver
from evosearch.cli.main import main
from evosearch.errors import RunFolderError, SettingsError
from evosearch.evaluation import EvaluationResult
from evosearch.objectives import Score, check_scoring
from evosearch.search import ParetoArchive
from evosearch.testing._tiny import iris, tiny_space

TINY = {"population_size": 4, "generations": 1, "n_jobs": 1, "cv": 2}


@pytest.mark.parametrize(
    ("scoring", "task", "words"),
    [
        ("acuracy", "classification", ("unknown scoring 'acuracy'", "did you mean accuracy")),
        ("r2", "classification", ("regression metric", "classification task")),
        ("roc_auc", "regression", ("classification metric", "regression task")),
        ("f1", "classification", ("cannot score", "multiclass")),
        (3, "classification", ("a scorer name or a callable",)),
    ],
)
def test_a_scorer_that_does_not_fit_is_refused_in_one_line(scoring, task, words) -> None:
    X, y = iris() if task == "classification" else load_diabetes(return_X_y=True)
    with pytest.raises(SettingsError) as caught:
        check_scoring(scoring, task, X, y)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_negated_losses_normalise_as_one_over_one_plus_the_loss() -> None:
    losses = Score("neg_log_loss").normalise(np.array([-3.0, -1.0, 0.0]))
    assert losses.tolist() == [0.25, 0.5, 1.0]
    assert Score("f1_macro").normalise(np.array([-0.5, 0.5, 2.0])).tolist() == [0.0, 0.5, 1.0]


def test_with_a_scorer_failures_rank_below_every_score_and_means_are_not_clipped() -> None:
    failed = EvaluationResult("ab", [], -1.0, 10, 0.0, error="ValueError: boom")
    assert Score("neg_log_loss").value(None, failed) == -math.inf  # type: ignore[arg-type]
    # Without a scorer too: an R² below -1 is a valid score, still above any failure.
    assert Score().value(None, failed) == -math.inf  # type: ignore[arg-type]
    # Accuracy (and the clipped R² of older runs) is never below -1: failures stay at -1 there,
    # so those runs select as they always did.
    assert Score(None, failure=-1.0).value(None, failed) == -1.0  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def log_loss_run(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("scoring")
    evolver = Evolver(
        tiny_space(folder), **TINY, scoring="neg_log_loss", out=folder / "run", holdout=0.2
    )
    X, y = iris()
    return evolver.fit(X, y), folder / "run", (X, y)


def test_the_run_scores_and_records_its_scorer(log_loss_run) -> None:
    evolver, out, (X, y) = log_loss_run
    scores = [m.objectives[0] for m in evolver.archive_.members]
    assert all(s < 0 for s in scores), scores  # negated log losses
    for entry in evolver.archive_.members:
        assert entry.objectives[0] == pytest.approx(np.mean(entry.fold_scores))
        assert entry.holdout_score is not None and entry.holdout_score < 0
    assert evolver.score(X, y) < 0
    run = json.loads((out / "run.json").read_text())
    assert run["settings"]["scoring"] == "neg_log_loss"
    archive = ParetoArchive.from_dict(json.loads((out / "archive.json").read_text()))
    assert archive.scoring == "neg_log_loss"
    expected = np.prod(Score("neg_log_loss").normalise(np.array(scores[:1])))
    assert 0 < archive.hypervolume() <= 1
    if len(scores) == 1:
        assert archive.hypervolume() == pytest.approx(
            expected
            * archive._objectives()[1].normalise(np.array([archive.members[0].objectives[1]]))[0]
        )
    # A resume of the finished run reads the scorer back and reaches the same archive.
    again = Evolver.resume(out, X=X, y=y)
    assert again.scoring == "neg_log_loss"
    assert again.archive_.to_dict() == evolver.archive_.to_dict()


def test_show_names_the_scorer(log_loss_run, capsys) -> None:
    _, out, _ = log_loss_run
    assert main(["show", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "scoring neg_log_loss" in shown
    assert "best neg_log_loss -" in shown


def test_a_callable_scorer_is_used_and_must_be_passed_again_to_resume(tmp_path) -> None:
    def doubled_accuracy(estimator, X, y) -> float:
        return 2.0 * float(np.mean(estimator.predict(X) == y))

    X, y = iris()
    out = tmp_path / "run"
    evolver = Evolver(tiny_space(tmp_path), **TINY, scoring=doubled_accuracy, out=out).fit(X, y)
    assert max(m.objectives[0] for m in evolver.archive_.members) > 1.0
    assert json.loads((out / "run.json").read_text())["settings"]["scoring"] == "doubled_accuracy"
    with pytest.raises(RunFolderError, match="callable 'doubled_accuracy'"):
        Evolver.resume(out, X=X, y=y)
    again = Evolver.resume(out, X=X, y=y, scoring=doubled_accuracy)
    assert again.archive_.to_dict() == evolver.archive_.to_dict()


CLI_RUN = ("--genome", "tiny.toml", "--population", "4", "--generations", "1", "--n-jobs", "1")
CLI_RUN += ("--cv", "2", "--data", "iris")


def test_cli_unknown_scoring_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["evolve", *CLI_RUN, "--scoring", "f1_macr", "--out", "bad"]) == 2
    error = capsys.readouterr().err
    assert error.strip().count("\n") == 0 and "did you mean f1_macro" in error
    assert not (tmp_path / "bad").exists()


@pytest.mark.slow
def test_cli_evolve_with_a_scorer(tmp_path) -> None:
    (tmp_path / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    common = CLI_RUN
    good = evosearch(
        "evolve", *common, "--scoring", "balanced_accuracy", "--out", "good", cwd=tmp_path
    )
    assert good.returncode == 0, good.stderr
    assert "best balanced_accuracy 0." in good.stdout
    # Generation 0 (no inherited weights) re-evaluates to its recorded scores with the scorer.
    again = evosearch(
        "replay", "good", "--generation", "0", "--evaluate", "--n-jobs", "1", cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert "4 of 4 members reproduce their recorded score exactly" in again.stdout


SCORERS_BY_DATA = [
    ("iris", "balanced_accuracy"),
    ("iris", "f1_macro"),
    ("wine", "roc_auc_ovr"),
    ("wine", "neg_log_loss"),
    ("breast_cancer", "roc_auc"),
    ("breast_cancer", "f1"),
    ("diabetes", "r2"),
    ("diabetes", "neg_root_mean_squared_error"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("data", "scoring"), SCORERS_BY_DATA)
def test_each_scorer_runs_on_a_bundled_dataset(tmp_path, data, scoring) -> None:
    from evosearch.data import load_dataset

    dataset = load_dataset(data, n_splits=2)
    evolver = Evolver(tiny_space(tmp_path), **TINY, scoring=scoring).fit_dataset(dataset)
    assert len(evolver.archive_) >= 1
    best = evolver.archive_.best(0).objectives[0]
    assert math.isfinite(best)
    if scoring.startswith("neg_"):
        assert best <= 0
    assert 0 <= evolver.archive_.hypervolume() <= 1
