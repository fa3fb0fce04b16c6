"""Multi-fidelity search (the ``fidelity`` setting): screening rung, plan, journal, resume.

Tiny data throughout: the plan is switched on below its 10,000-row threshold with
``min_rows=0`` rather than by using a large table.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.datasets import make_classification

from clitools import lines, without_timings
from evosearch import Evolver
from evosearch.cli.main import main
from evosearch.errors import SettingsError
from evosearch.evaluation import Evaluator, Fidelity
from evosearch.search.fidelity_plan import check_fidelity, resolve_plan, screened
from evosearch.testing._tiny import tiny_space

X, Y = make_classification(
    n_samples=240, n_features=5, n_informative=4, n_redundant=0, n_classes=3, random_state=0
)
# rows and epochs pinned: at the defaults (0.1 of a 160-row fold, 2 epochs) a child repeats an
# earlier genome in these tiny runs, and the exact journal counts below assume none does.
ON = "min_rows=0,max_epochs=4,rows=0.25,epochs=1"


def _evolver(out: Path | None = None, **kwargs) -> Evolver:
    settings = {"population_size": 4, "generations": 2, "n_jobs": 1, "fidelity": ON, "out": out}
    settings["eval_timeout"] = None  # n_jobs=1 then trains inline (and a fit_hook runs here)
    return Evolver(**{**settings, **kwargs})


def _journal(folder: Path) -> list[str]:
    return sorted(json.dumps(without_timings(line), sort_keys=True) for line in lines(folder))


def test_screening_promotes_by_pareto_rank_not_score_alone():
    # (score, params): b and d are dominated; c (small, fair score) goes on with a.
    vectors = {"a": (0.9, 500), "b": (0.8, 900), "c": (0.5, 10), "d": (0.4, 50)}

    def make(n):
        assert n == 4
        return list(vectors), [[] for _ in vectors]

    def evaluate_low(genomes, lineage):
        ok = SimpleNamespace(ok=True)
        return [SimpleNamespace(result=ok, objectives=vectors[g]) for g in genomes]

    chosen, lineage = screened(make, evaluate_low, 2, (1.0, -1.0))(2)
    assert chosen == ["a", "c"] and lineage == [[], []]


def test_screening_fills_up_with_failures_only_when_too_few_worked():
    def make(n):
        return ["a", "b", "c", "d"], [[], [], [], []]

    def evaluate_low(genomes, lineage):
        return [
            SimpleNamespace(result=SimpleNamespace(ok=g == "c"), objectives=(0.5, 1.0))
            for g in genomes
        ]

    assert screened(make, evaluate_low, 2, (1.0, -1.0))(2)[0] == ["a", "c"]


def test_fidelity_subsample_is_seeded_stratified_and_inside_the_training_rows():
    evaluator = Evaluator(X, Y, "classification", cv=3, n_jobs=1, seed=0)
    low = Fidelity(rows=0.25, folds=1, rung=1)
    folds = low.apply(evaluator.folds, Y, "classification", 0)
    assert len(folds) == 1
    train, test = folds[0]
    full_train, full_test = evaluator.folds[0]
    assert np.array_equal(test, full_test) and set(train) <= set(full_train)
    assert len(np.unique(Y[train])) == 3 and 0.2 < len(train) / len(full_train) < 0.3
    again = low.apply(evaluator.folds, Y, "classification", 0)[0][0]
    other_seed = low.apply(evaluator.folds, Y, "classification", 1)[0][0]
    assert np.array_equal(train, again) and not np.array_equal(train, other_seed)
    assert Fidelity(max_epochs=20, epochs=0.5).epochs_for(100) == 10


def test_auto_is_off_below_the_threshold_and_records_no_plan(tmp_path):
    assert resolve_plan("auto", 9_999) is None and resolve_plan("auto", 10_000) is not None
    assert resolve_plan("off", 10**6) is None
    assert resolve_plan({"min_rows": 0}, 10) is not None
    space = tiny_space(tmp_path)
    settings = {"population_size": 2, "generations": 1, "n_jobs": 1, "eval_timeout": None}
    Evolver(space, **settings, out=tmp_path / "run").fit(X, Y)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert "fidelity" not in info and info["settings"]["fidelity"] == "auto"  # no plan
    journal = lines(tmp_path / "run" / "journal.jsonl")
    assert all("fidelity" not in line and len(line["fold_scores"]) == 3 for line in journal)


def test_archive_and_results_hold_only_full_fidelity_members(tmp_path, capsys):
    evolver = _evolver(tmp_path / "run").fit(X, Y)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["fidelity"]["folds"] == 1 and info["fidelity"]["max_epochs"] == 4
    journal = lines(tmp_path / "run" / "journal.jsonl")
    low = [line for line in journal if "fidelity" in line]
    full = {line["genome_hash"]: line for line in journal if "fidelity" not in line}
    # Generations 0, 1 and 2 each screen twice the population at low fidelity.
    assert len(low) == 3 * 2 * 4 and all(line["fidelity"] == 1 for line in low)
    assert all(line["epochs"][0] <= 4 for line in journal)
    for member in evolver.archive_.members:
        assert member.genome_hash in full
        assert member.fold_scores == full[member.genome_hash]["fold_scores"]
    assert len(evolver.cv_results_["genome_hash"]) == len(full)
    assert sum(record.evaluations for record in evolver.history_) == len(full)
    capsys.readouterr()
    assert main(["show", str(tmp_path / "run")]) == 0
    shown = capsys.readouterr().out
    assert f"{len(full)} evaluations journalled, 0 failed, {len(low)} screenings" in shown
    assert "1 fold(s) at full fidelity, at most 4 epochs" in shown


class _Stop(BaseException):
    """Stands in for a kill: not caught as a candidate's failure."""


def test_stopped_mid_generation_then_resumed_equals_uninterrupted(tmp_path):
    whole = _evolver(tmp_path / "whole").fit(X, Y)
    calls = []

    def stop_in_generation_two(genome_hash, fold):
        calls.append(genome_hash)
        if len(calls) == 2 * (8 + 4) + 5:  # generations 0, 1, then 5 screening fits of 2
            raise _Stop

    with pytest.raises(_Stop):
        _evolver(tmp_path / "cut", fit_hook=stop_in_generation_two).fit(X, Y)
    resumed = Evolver.resume(tmp_path / "cut", X=X, y=Y)
    assert resumed.archive_.to_dict() == whole.archive_.to_dict()
    assert _journal(tmp_path / "cut" / "journal.jsonl") == _journal(
        tmp_path / "whole" / "journal.jsonl"
    )
    generations = [without_timings(g) for g in lines(tmp_path / "cut" / "generations.jsonl")]
    assert generations == [without_timings(g) for g in lines(tmp_path / "whole/generations.jsonl")]


def test_same_archive_for_one_or_two_workers(tmp_path):
    one = _evolver(generations=1).fit(X, Y)
    two = _evolver(generations=1, n_jobs=2).fit(X, Y)
    assert one.archive_.to_dict() == two.archive_.to_dict()


@pytest.mark.parametrize(
    "value, words",
    [
        ("rows=2", "fidelity rows must be a fraction"),
        ("factor=0", "fidelity factor must be an integer >= 1"),
        ("speed=3", "unknown fidelity key 'speed'"),
        ("fast", "fidelity must be auto, off, or key=value"),
        (3, "fidelity must be 'auto', 'off' or a mapping"),
    ],
)
def test_bad_fidelity_is_one_settings_error(value, words):
    with pytest.raises(SettingsError, match=words):
        Evolver(fidelity=value).fit(X, Y)


def test_cli_refuses_a_bad_fidelity_with_status_2(tmp_path, capsys):
    # In process (the command's own code path, as test_conv's bad settings).
    out = tmp_path / "run"
    assert main(["evolve", "--data", "iris", "--fidelity", "rows=0", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "fidelity rows must be a fraction" in err
    assert err.startswith("evosearch: error: ") and not out.exists()
    assert check_fidelity(" off ") == "off"


def test_evolve_header_says_how_many_folds_the_plan_scores(tmp_path, capsys):
    # With a plan scoring fold 0 only, "3-fold CV" alone would misstate what each genome trains.
    out = tmp_path / "run"
    argv = ["evolve", "--data", "iris", "--population", "4", "--generations", "1", "--n-jobs",
            "1", "--fidelity", "min_rows=0,factor=1,max_epochs=2", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "3-fold CV split, 1 fold(s) scored ->" in text
    assert "multi-fidelity search: 1 fold(s) at full fidelity, at most 2 epochs" in text
    argv[argv.index("--fidelity") + 1] = "off"
    assert main([*argv[:-1], str(tmp_path / "off")]) == 0
    assert "generations, 3-fold CV ->" in capsys.readouterr().out
