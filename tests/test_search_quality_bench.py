"""Smoke test of the search-quality yardstick (benchmarks/search_quality.py): baselines only."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def search_quality(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import search_quality

    yield search_quality
    for name in ("search_quality", "_yardstick", "_bench_data", "_mlp_baselines", "_common"):
        sys.modules.pop(name, None)


def test_baselines_score_on_evosearch_folds_and_time_out(search_quality, tmp_path, capsys):
    out = tmp_path / "runs.json"
    runs = search_quality.main(["--quick", "--methods", "svc", "--json", str(out)])
    (run,) = runs
    assert run["status"] == "ok" and run["dataset"] == "breast_cancer" and run["budget"] == 10
    # SVC on standardised breast_cancer, evosearch's 3 stratified folds of seed 0.
    assert len(run["fold_scores"]) == 3 and 0.95 < run["score"] < 1.0
    assert json.loads(out.read_text())["runs"] == runs
    assert "| breast_cancer | 569 | 10 | svc | 1 | " in capsys.readouterr().out

    from _bench_data import get
    from _yardstick import run_baseline

    late = run_baseline("rf", get("breast_cancer").load(), 0, budget=0.01, jobs=1, cv=3)
    assert late["status"] == "timeout" and late["score"] is None


def test_settings_become_cli_flags(search_quality):
    from _yardstick import cli_flags

    assert cli_flags("population_size=32,halving=true,inherit_weights=false,max_epochs=5") == [
        "--population", "32", "--halving", "--no-inherit-weights", "--max-epochs", "5"
    ]  # fmt: skip
    assert cli_flags('fidelity="rows=0.1,factor=4",seed=3') == [
        "--fidelity", "rows=0.1,factor=4", "--seed", "3"
    ]  # fmt: skip


def test_run_folder_figures_count_full_fidelity_only(search_quality, tmp_path):
    from _yardstick import read_run

    def line(score: float, n_params: int, **extra: object) -> str:
        entry = {"score": score, "n_params": n_params, "error": None, "folds": None, **extra}
        return json.dumps(entry)

    (tmp_path / "journal.jsonl").write_text(
        "\n".join([
            line(0.9, 1000),
            line(0.99, 10, fidelity=1),  # a screening: never the best score
            line(0.95, 10, folds=[0]),  # successive halving's first fold
            line(0.5, 10, error="diverged"),
        ]) + "\n"
    )  # fmt: skip
    (tmp_path / "generations.jsonl").write_text(json.dumps({"hypervolume": 0.4}) + "\n")
    figures = read_run(tmp_path)
    assert figures["score"] == 0.9 and figures["run_hypervolume"] == 0.4
    assert (figures["full_evaluations"], figures["partial_evaluations"]) == (2, 2)
    assert figures["failed_evaluations"] == 1 and figures["generations"] == 1
    # Issue 8's hypervolume of the one point (0.9, 1,000 params): 0.9 x (1 - 3 / 6).
    assert abs(figures["hypervolume"] - 0.45) < 1e-12
