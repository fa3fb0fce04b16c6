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
