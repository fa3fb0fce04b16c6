"""``focus="accuracy"``: part of every population is the most accurate models, whatever their
size, so the front's accurate end breeds as in a search for accuracy alone."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import tomllib
from sklearn.datasets import load_iris

from clitools import assert_usage_error, evosearch, lines
from evosearch import Evolver, SearchSpace
from evosearch.errors import SettingsError
from evosearch.search.selection import select_survivors, select_survivors_focused
from evosearch.search.strategies import get_strategy
from evosearch.search.strategies.nsga2 import ACCURACY_SHARE
from evosearch.testing._tiny import tiny_toml

# (score, params): a front from tiny-and-poor to large-and-accurate, plus dominated points.
POINTS = [(0.50, 5), (0.60, 10), (0.70, 20), (0.80, 40), (0.90, 400), (0.89, 800), (0.88, 900),
          (0.65, 50), (0.55, 30)]  # fmt: skip


def test_share_zero_is_nsga2_itself():
    for k in range(len(POINTS) + 1):
        assert select_survivors_focused(POINTS, k, (1.0, -1.0), 0.0) == select_survivors(
            POINTS, k, (1.0, -1.0)
        )


def test_the_most_accurate_come_first_then_nsga2_over_the_rest():
    chosen = select_survivors_focused(POINTS, 4, (1.0, -1.0), 0.5)
    assert chosen[:2] == [4, 5]  # the two best scores, the dominated 0.89 among them
    rest = [i for i in range(len(POINTS)) if i not in (4, 5)]
    nsga = select_survivors([POINTS[i] for i in rest], 2, (1.0, -1.0))
    assert chosen[2:] == [rest[i] for i in nsga]
    # Without the focus the dominated large models never survive next to the front.
    assert 5 not in select_survivors(POINTS, 4, (1.0, -1.0))


def test_a_minimised_first_objective_keeps_its_lowest():
    losses = [(0.3, 10), (0.1, 900), (0.2, 800), (0.5, 1)]
    assert select_survivors_focused(losses, 2, (-1.0, -1.0), 0.5)[0] == 1


def test_share_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="share"):
        select_survivors_focused(POINTS, 2, (1.0, -1.0), 1.5)


def _members(points):
    return [SimpleNamespace(objectives=p, result=SimpleNamespace(ok=True)) for p in points]


def test_nsga2_with_accuracy_focus_keeps_the_most_accurate_half():
    pool = _members(POINTS)
    strategy = get_strategy("nsga2")(4, (1.0, -1.0), "accuracy")
    kept = strategy.survivors(pool)
    assert len(kept) == 4
    best = sorted(pool, key=lambda m: -m.objectives[0])[: round(ACCURACY_SHARE * 4)]
    assert all(any(k is m for k in kept) for m in best)
    front = get_strategy("nsga2")(4, (1.0, -1.0), "front").survivors(pool)
    assert [m.objectives for m in front] != [m.objectives for m in kept]


def test_aging_with_accuracy_focus_never_ages_out_the_most_accurate():
    old = _members([(0.95, 100), (0.10, 1), (0.20, 2), (0.30, 3)])  # oldest first

    def breeder():
        children = _members([(0.40, 4), (0.50, 5), (0.60, 6), (0.70, 7)])

        def breed(population, n):
            taken = children[:n]
            del children[:n]
            return taken

        return breed

    aging = get_strategy("aging")(4, (1.0, -1.0), "accuracy")
    population, _ = aging.next_generation(old, breeder())
    # The oldest (0.95) is the best: the next oldest leave instead, age order kept.
    assert [m.objectives[0] for m in population] == [0.95, 0.50, 0.60, 0.70]
    plain, _ = get_strategy("aging")(4, (1.0, -1.0)).next_generation(old, breeder())
    assert [m.objectives[0] for m in plain] == [0.40, 0.50, 0.60, 0.70]


def test_auto_is_the_strategy_s_own_focus_and_run_json_records_it_resolved(tmp_path: Path):
    assert get_strategy("nsga2")(4, (1.0, -1.0)).focus == "accuracy"
    assert get_strategy("aging")(4, (1.0, -1.0), "auto").focus == "front"
    assert get_strategy("random")(4, (1.0, -1.0)).focus == "front"
    X, y = load_iris(return_X_y=True)
    space = SearchSpace.from_dict(tomllib.loads(tiny_toml()))
    for strategy, resolved in [("nsga2", "accuracy"), ("random", "front")]:
        out = tmp_path / strategy
        Evolver(genome=space, population_size=4, generations=1, n_jobs=1, strategy=strategy,
                out=out).fit(X, y)  # fmt: skip
        assert json.loads((out / "run.json").read_text())["settings"]["focus"] == resolved


def test_a_strategy_refuses_a_focus_it_does_not_know():
    with pytest.raises(SettingsError, match="focus 'accuracy' is not one strategy 'random'"):
        get_strategy("random")(4, (1.0, -1.0), "accuracy")
    X, y = load_iris(return_X_y=True)
    with pytest.raises(SettingsError, match=r"focus 'accuracy' .* \(it knows: front\)"):
        Evolver(strategy="random", focus="accuracy").fit(X, y)
    with pytest.raises(SettingsError, match="focus 'nowhere' is not one strategy 'nsga2'"):
        Evolver(focus="nowhere").fit(X, y)


def test_a_focused_run_keeps_the_best_scores_in_every_population(tmp_path: Path):
    space = SearchSpace.from_dict(tomllib.loads(tiny_toml()))
    X, y = load_iris(return_X_y=True)
    out = tmp_path / "run"
    evolver = Evolver(genome=space, population_size=4, generations=3, n_jobs=1,
                      random_state=4, focus="accuracy", out=out).fit(X, y)  # fmt: skip
    journal = [e for e in lines(out / "journal.jsonl") if e["error"] is None]
    for record in lines(out / "generations.jsonl")[1:]:
        seen = [e for e in journal if e["generation"] <= record["generation"]]
        best = sorted((e["score"] for e in seen), reverse=True)[:2]
        kept = sorted((m["result"]["score"] for m in record["population"]), reverse=True)[:2]
        assert kept == best
    assert evolver.best_genome_ is not None


@pytest.mark.slow
def test_cli_focus_is_recorded_and_resume_keeps_it(tmp_path: Path):
    args = ["--data", "iris", "--population", "4", "--generations", "1", "--n-jobs", "1"]
    result = evosearch("evolve", *args, "--focus", "accuracy", "--out", "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "run" / "run.json").read_text())["settings"]["focus"] == (
        "accuracy"
    )
    bad = evosearch("evolve", "--data", "iris", "--strategy", "random", "--focus", "accuracy",
                    cwd=tmp_path)  # fmt: skip
    assert_usage_error(bad, "focus 'accuracy'")
