"""Regression targets as tables bring them: any scale, whole numbers, stray text.

Through the real command line (``evosearch.cli.main.main``, in process) and the Evolver: a
target around 35,000 or 10⁶ searches and exports in its own units with no divergence; R² is
recorded as it is, below -1 too, and a failure still ranks below every valid score; the task
of an integer target is inferred as a person would and the run header says why; the messages
for a class too small and a target with text cells point to ``--task regression`` and
``--na-values``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine

from evosearch import Evolver, SearchSpace
from evosearch.cli.main import main
from evosearch.data import check_dataset, infer_task, load_dataset, task_reason
from evosearch.errors import DataError
from evosearch.evaluation import FAILURE_SCORE, EvaluationResult, Evaluator
from evosearch.objectives import Score, get_objective
from evosearch.search.member import Member
from evosearch.search.strategies.nsga2 import NSGA2
from evosearch.space import Genome
from evosearch.testing._tiny import TINY_TOML, tiny_toml

QUICK = ["--population", "2", "--generations", "1", "--n-jobs", "1", "--cv", "2", "--quiet"]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return path


def table(offset: float, scale: float, n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, offset + scale * (X[:, 0] - 2.0 * X[:, 1] + 0.1 * rng.normal(size=n))


def write_csv(path: Path, X: np.ndarray, y: list, target: str = "y") -> Path:
    rows = [",".join(repr(float(x)) for x in r) + f",{v}" for r, v in zip(X, y, strict=True)]
    lines = [f"a,b,c,{target}", *rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def evolve(tmp_path: Path, capsys, *args: str) -> tuple[int, str, str]:
    status = main(["evolve", *args])
    out, err = capsys.readouterr()
    return status, out, err


# ------------------------------------------------------------------------------ task inference


@pytest.mark.parametrize("loader", [load_iris, load_wine, load_digits, load_breast_cancer])
def test_the_bundled_classification_sets_stay_classification(loader):
    assert infer_task(loader(return_X_y=True)[1]) == "classification"


def test_integer_targets_with_many_values_for_their_rows_are_a_quantity():
    assert infer_task(load_diabetes(return_X_y=True)[1]) == "regression"
    assert infer_task(np.arange(1400, 1451)) == "regression"  # 51 distinct in 51 rows
    assert task_reason(np.arange(1400, 1451)) == "51 distinct integer values in 51 rows"
    years = np.random.default_rng(0).integers(1990, 2021, size=1000)  # 31 years
    assert infer_task(years) == "regression"
    assert infer_task(np.arange(40).repeat(2)) == "regression"  # codes, 2 rows each
    # Ordinary labels: a few integers, or codes 0..k-1 with many rows each (ints or floats).
    assert infer_task(np.array([3, 1, 2] * 10)) == "classification"
    assert infer_task(np.arange(26).repeat(30)) == "classification"
    assert infer_task(np.arange(26).repeat(30).astype(float)) == "classification"
    assert "the codes 0 to 25" in task_reason(np.arange(26).repeat(30))
    assert infer_task(np.array(["-1", "x"])) == "classification"
    assert infer_task(np.array([0.5, 2.0])) == "regression"


def test_the_header_says_which_task_was_inferred_and_why(tmp_path, capsys, tiny):
    X, _ = table(0.0, 1.0, n=51)
    csv = write_csv(tmp_path / "power.csv", X, [1400 + i for i in range(51)], "net_generation")
    out_folder = tmp_path / "run"
    status, out, err = evolve(
        tmp_path, capsys, "--data", str(csv), "--genome", str(tiny), *QUICK[:-1],
        "--out", str(out_folder),
    )  # fmt: skip
    assert status == 0, err
    line = next(line for line in out.splitlines() if line.startswith("task: "))
    assert line == (
        "task: regression (inferred: 51 distinct integer values in 51 rows; say --task "
        "classification to override)"
    )
    assert json.loads((out_folder / "run.json").read_text())["dataset"]["task"] == "regression"

    status, out, err = evolve(
        tmp_path, capsys, "--data", "iris", "--genome", str(tiny), *QUICK[:-1],
        "--out", str(tmp_path / "iris"),
    )  # fmt: skip
    assert status == 0, err
    assert "task: classification (inferred: 3 distinct integer values in 150 rows; say --task " \
        "regression to override)" in out  # fmt: skip
    status, out, err = evolve(
        tmp_path, capsys, "--data", "iris", "--task", "classification", "--genome", str(tiny),
        *QUICK[:-1], "--out", str(tmp_path / "given"),
    )  # fmt: skip
    assert status == 0 and "task: " not in out  # given, not inferred


def test_a_class_too_small_suggests_regression_for_a_numeric_target(tmp_path, capsys):
    X, _ = table(0.0, 1.0, n=51)
    csv = write_csv(tmp_path / "power.csv", X, [1437 - i for i in range(51)], "net_generation")
    status, out, err = evolve(
        tmp_path, capsys, "--data", str(csv), "--task", "classification", "--out", str(tmp_path)
    )
    assert status == 2 and err.count("\n") == 1 and out == ""
    assert err.strip() == (
        "evosearch: error: class 1387 has 1 rows, fewer than the 3 CV folds (if "
        "'net_generation' is a quantity, not class labels: --task regression)"
    )
    labels = write_csv(tmp_path / "labels.csv", X[:4], ["a", "a", "a", "b"])
    status, _, err = evolve(tmp_path, capsys, "--data", str(labels), "--out", str(tmp_path / "r"))
    assert status == 2 and "fewer than the 3 CV folds" in err and "--task" not in err  # text


@pytest.mark.filterwarnings("ignore:The number of unique classes:UserWarning")  # sklearn's
def test_the_evolver_names_the_python_spelling():
    X, _ = table(0.0, 1.0, n=51)
    y = np.arange(1400, 1451)
    with pytest.raises(DataError, match=r"quantity, not class labels: task=\"regression\"\)$"):
        Evolver(task="classification", n_jobs=1).fit(X, y)


def test_a_numeric_target_with_text_cells_points_to_na_values(tmp_path, capsys, tiny):
    X, y = table(35_000.0, 3000.0)
    cells = [f"{v:.1f}" for v in y]
    cells[2] = cells[7] = "-"  # lines 4 and 9 of the file
    cells[10] = "unknown"  # line 12
    csv = write_csv(tmp_path / "cars.csv", X, cells, "price")
    status, out, err = evolve(tmp_path, capsys, "--data", str(csv), "--out", str(tmp_path / "r"))
    assert status == 2 and err.count("\n") == 1 and out == ""
    assert err.strip() == (
        "evosearch: error: target 'price' holds numbers and 3 non-numeric cells ('-' on lines "
        "4, 9; 'unknown' on line 12): if they mean missing, --na-values=-,unknown drops those "
        "rows; --task classification keeps every value as a class"
    )
    status, _, err = evolve(
        tmp_path, capsys, "--data", str(csv), "--task", "regression", "--out", str(tmp_path / "r")
    )
    assert status == 2 and "--na-values=-,unknown" in err
    data = load_dataset(str(csv), na_values=["-", "unknown"])
    assert data.task == "regression" and data.n_samples == 57
    assert load_dataset(str(csv), task="classification").task == "classification"
    # Labels that are mostly text, or a few numbers with a text class, stay classes.
    few = write_csv(tmp_path / "few.csv", X, ["1", "2", "other"] * 20)
    assert load_dataset(str(few)).task == "classification"


def test_an_in_memory_target_with_text_cells_is_refused_in_python_words():
    X, y = table(35_000.0, 3000.0)
    cells = np.array([f"{v:.1f}" for v in y], dtype=object)
    cells[[2, 7]] = "-"
    cells[10] = "unknown"
    expected = (
        "target 'y' holds numbers and 3 non-numeric cells ('-' on rows 2, 7; 'unknown' on row "
        "10): if they mean missing, make them NaN (pandas.to_numeric(y, errors='coerce')) and "
        'leave those rows out; task="classification" keeps every value as a class'
    )
    for task in ("auto", "regression"):
        with pytest.raises(DataError) as caught:
            Evolver(task=task, n_jobs=1).fit(X, cells)
        assert str(caught.value) == expected
    # Text labels, and a few numbers with a text class, stay classes (checked before any fit).
    assert check_dataset(X, np.array(["a", "b"] * 30, dtype=object)).task == "classification"
    few = np.array(["1", "2", "other"] * 20, dtype=object)
    assert check_dataset(X, few).task == "classification"


# ---------------------------------------------------------------------- large-scale targets


@pytest.mark.parametrize("offset", [35_000.0, 1e6])
def test_a_large_target_searches_and_exports_in_its_units(tmp_path, capsys, offset):
    tiny = tmp_path / "tiny40.toml"  # the tiny space, 40 epochs: enough for this table
    tiny.write_text(tiny_toml(max_epochs=(40,)), encoding="utf-8")
    X, y = table(offset, offset / 10)
    csv = write_csv(tmp_path / "t.csv", X, [repr(float(v)) for v in y])
    run = tmp_path / "run"
    status, _, err = evolve(
        tmp_path, capsys, "--data", str(csv), "--genome", str(tiny), *QUICK, "--out", str(run)
    )
    assert status == 0, err
    journal = [json.loads(line) for line in (run / "journal.jsonl").read_text().splitlines()]
    assert all(entry["error"] is None for entry in journal)
    assert max(entry["score"] for entry in journal) > 0.8  # raw: R² about -100 or worse
    assert json.loads((run / "run.json").read_text())["settings"]["scale_target"] is True
    predictions = {}
    for fmt in ("joblib", "python"):
        assert main(["export", str(run), "--format", fmt, "--out", str(tmp_path / fmt)]) == 0
        info = json.loads((tmp_path / fmt / "model.json").read_text())
        assert info["target_scaling"]["mean"] == pytest.approx([np.mean(y)])
        written = tmp_path / f"{fmt}.csv"
        assert main(["predict", str(tmp_path / fmt), str(csv), "--out", str(written)]) == 0
        text = written.read_text().splitlines()
        predictions[fmt] = np.array([float(line.split(",")[-1]) for line in text[1:]])
    capsys.readouterr()
    np.testing.assert_allclose(predictions["python"], predictions["joblib"], rtol=1e-9)
    assert abs(predictions["joblib"].mean() - offset) < 0.1 * offset


def test_the_evolver_searches_a_1e6_target_as_its_standardised_form(tiny):
    X, y = table(1e6, 1e5)
    space = SearchSpace.from_toml(tiny)
    settings = {"genome": space, "population_size": 2, "generations": 1, "cv": 2, "n_jobs": 1}
    large = Evolver(**settings).fit(X, y)
    small = Evolver(**settings).fit(X, (y - y.mean()) / y.std())
    assert not large.cv_results_["failed"].any()
    # The same models, trained alike: the same R² (to float32 rounding of the targets).
    np.testing.assert_allclose(
        large.cv_results_["mean_test_score"], small.cv_results_["mean_test_score"], atol=1e-4
    )
    net = large.best_estimator_[-1]
    assert net.y_mean_ == pytest.approx([y.mean()]) and net.y_scale_ == pytest.approx([y.std()])
    assert abs(large.predict(X).mean() - 1e6) < 5e4  # the target's units
    raw = Evolver(**settings, scale_target=False).fit(X, y)
    # Raw, every model is far off within its few epochs: R² clipped at -1, as runs before.
    assert raw.cv_results_["objective_score"].max() == -1.0


# ----------------------------------------------------------------------------- R² unclipped


def overfitting() -> tuple[np.ndarray, np.ndarray, Genome]:
    """40 noise features, 30 rows: a wide network memorises its folds and scores R² < -1."""
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 40)), rng.normal(size=30) * 1000 + 35_000
    hyper = {"optimizer": "adam", "learning_rate": 0.1, "l1": 0.0, "l2": 0.0, "batch_size": 8,
             "max_epochs": 100, "early_stopping": False}  # fmt: skip
    return X, y, Genome.chain(40, 1, [{"units": 64, "activation": "relu", "dropout": 0.0}], hyper)


def test_a_valid_r2_below_minus_one_is_recorded_as_it_is():
    X, y, genome = overfitting()
    result = Evaluator(X, y, "regression", cv=3, n_jobs=1).evaluate([genome])[0]
    assert result.ok and result.score == pytest.approx(np.mean(result.fold_scores))
    assert result.score < -1.0
    # Runs from before scale_target clip R² at the failure score.
    old = Evaluator(X, y, "regression", cv=3, n_jobs=1, scale_target=False).evaluate([genome])
    assert old[0].ok and old[0].score == FAILURE_SCORE and np.mean(old[0].fold_scores) < -1


def test_a_failure_ranks_below_every_valid_score():
    genome = Genome.chain(2, 1, [{"units": 4, "activation": "relu", "dropout": 0.0}], {})
    small = Genome.chain(2, 1, [], {})
    poor = EvaluationResult("a", [-5.0, -6.0], -5.5, genome.n_params(), 1.0, [5, 5])
    failed = EvaluationResult("b", [], FAILURE_SCORE, small.n_params(), 1.0, [0, 0],
                              error="DivergenceError: training loss became inf")  # fmt: skip
    assert Score().value(small, failed) == -math.inf < Score().value(genome, poor) == -5.5
    objectives = (Score(), get_objective("params"))
    members = [Member.evaluated(small, failed, [], 0, objectives),
               Member.evaluated(genome, poor, [], 0, objectives)]  # fmt: skip
    # The failure is smaller, but the valid model survives and the failure only fills up.
    assert NSGA2(1, (1.0, -1.0)).survivors(members) == [members[1]]
    assert NSGA2(2, (1.0, -1.0)).survivors(members) == [members[1], members[0]]


# ------------------------------------------------------------------ runs from before the change


def test_a_run_from_before_scale_target_resumes_on_the_raw_target(tmp_path, capsys, tiny):
    from evosearch.preprocess import DataProfile

    X, y = table(35_000.0, 3000.0)
    csv = write_csv(tmp_path / "t.csv", X, [repr(float(v)) for v in y])
    # Children train from scratch (no inherited weights): an Evaluator can train them again.
    common = ["--data", str(csv), "--genome", str(tiny), "--n-jobs", "1", "--population", "2",
              "--no-inherit-weights"]  # fmt: skip
    old = tmp_path / "old"
    assert main(["evolve", *common, "--generations", "1", "--quiet", "--out", str(old)]) == 0
    for name in ("run.json", "archive.json", "checkpoint.json"):  # as format 3 wrote them
        data = json.loads((old / name).read_text())
        data["format_version"] = 3
        if name == "run.json":
            del data["settings"]["scale_target"]
        (old / name).write_text(json.dumps(data))
    assert main(["resume", str(old), "--generations", "2", "--quiet"]) == 0
    capsys.readouterr()
    info = json.loads((old / "run.json").read_text())
    assert info["format_version"] == 4 and info["settings"]["scale_target"] is False
    # The generation the resume added trained on the raw target, as format-3 runs did.
    journal = [json.loads(line) for line in (old / "journal.jsonl").read_text().splitlines()]
    added = [e for e in journal if e["generation"] == 2]
    genomes = [Genome.from_json(e["genome"]) for e in added]
    data = load_dataset(str(csv))
    for scaled in (False, True):
        evaluator = Evaluator(data.X, data.y, "regression", cv=3, n_jobs=1,
                              profile=DataProfile.of(data), scale_target=scaled)  # fmt: skip
        scores = [r.fold_scores for r in evaluator.evaluate(genomes)]
        assert (scores == [e["fold_scores"] for e in added]) == (not scaled)
