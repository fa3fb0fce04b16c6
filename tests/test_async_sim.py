"""The cluster simulator of issue 36 (benchmarks/async_sim.py) on inputs with known answers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def sim(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import async_sim

    yield async_sim
    for name in ("async_sim", "_async_sim_core", "_async_sim_inputs"):
        sys.modules.pop(name, None)


def _evaluations(sim, durations_by_generation, folds=1):
    return [
        sim.Evaluation(g, (d,) * folds)
        for g, durations in enumerate(durations_by_generation)
        for d in durations
    ]


@pytest.mark.parametrize("mode", ["generational", "async"])
def test_equal_durations_fill_every_worker(sim, mode):
    evaluations = _evaluations(sim, [[1.0] * 4, [1.0] * 4], folds=2)  # 16 tasks of 1 s
    result = sim.simulate(evaluations, 4, mode)
    assert result.makespan == pytest.approx(4.0)
    assert result.utilisation == pytest.approx(1.0)
    assert result.busy == pytest.approx(16.0)
    assert result.evaluations_per_hour == pytest.approx(3600 * 8 / 4.0)


def test_one_long_task_per_generation(sim):
    # Per generation 4, 1, 1, 1 s on 2 workers: the barrier waits for the 4 s task while the
    # other worker idles 1 s of 4, so 7 of 8 worker-seconds are busy.
    evaluations = _evaluations(sim, [[4.0, 1.0, 1.0, 1.0]] * 2)
    generational = sim.simulate(evaluations, 2, "generational")
    assert generational.makespan == pytest.approx(8.0)
    assert generational.utilisation == pytest.approx(14 / 16)
    # Async fills the idle worker with the next generation's evaluations: 14 s on 2 workers.
    asynchronous = sim.simulate(evaluations, 2, "async")
    assert asynchronous.makespan == pytest.approx(7.0)
    assert asynchronous.utilisation == pytest.approx(1.0)
    assert asynchronous.in_flight == 2 and generational.in_flight is None


def test_async_never_below_generational_on_heavy_tails(sim):
    journal = sim.synthetic("lognormal:sigma=1.5", population=8, generations=5, cv=3, seed=3)
    for n in (2, 8, 32):
        gen = sim.simulate(journal.evaluations, n, "generational")
        asy = sim.simulate(journal.evaluations, n, "async")
        assert asy.utilisation >= gen.utilisation - 1e-9
        assert asy.busy == pytest.approx(gen.busy)
        assert 0 < gen.utilisation <= 1 and 0 < asy.utilisation <= 1
    one = sim.simulate(journal.evaluations, 1, "async")
    assert one.makespan == pytest.approx(one.busy) and one.steady_utilisation == pytest.approx(1)


def test_in_flight_limits_async(sim):
    evaluations = _evaluations(sim, [[1.0] * 8])
    # One evaluation in flight on 4 workers: one task at a time.
    result = sim.simulate(evaluations, 4, "async", in_flight=1)
    assert result.makespan == pytest.approx(8.0) and result.utilisation == pytest.approx(0.25)
    with pytest.raises(ValueError, match="in_flight"):
        sim.simulate(evaluations, 4, "async", in_flight=0)
    with pytest.raises(ValueError, match="mode"):
        sim.simulate(evaluations, 4, "barrier")


def test_screening_is_a_stage_of_its_own(sim):
    from _async_sim_core import stages

    evaluations = [
        sim.Evaluation(0, (1.0,)),
        sim.Evaluation(1, (1.0,), fidelity=True),
        sim.Evaluation(1, (1.0,)),
        sim.Evaluation(1, (1.0,), fidelity=True),
    ]
    assert stages(evaluations) == [[0], [1, 3], [2]]
    assert sim.simulate(evaluations, 4, "generational").makespan == pytest.approx(3.0)


def test_hypervolume_timeline(sim):
    from _async_sim_core import hypervolume_prefix

    from evosearch.search.archive import ArchiveEntry, ParetoArchive

    scores = [0.5, 0.4, 0.9, 0.95, 0.6, 0.97]
    evaluations = [
        sim.Evaluation(i // 3, (1.0 + i,), (s, 10.0 ** (1 + i % 3))) for i, s in enumerate(scores)
    ] + [sim.Evaluation(2, (1.0,), None)]  # a failure: never archived
    hv = hypervolume_prefix(evaluations)
    assert len(hv) == len(scores) + 1 and hv[0] == 0.0
    assert hv == sorted(hv)
    archive = ParetoArchive()
    archive.update([ArchiveEntry({}, str(i), e.objectives) for i, e in enumerate(evaluations[:6])])
    assert hv[-1] == archive.hypervolume()
    for mode in ("generational", "async"):
        result = sim.simulate(evaluations, 2, mode, hv=hv)
        times = [t for t, _ in result.hv_times]
        values = [v for _, v in result.hv_times]
        assert times == sorted(times) and values == sorted(values)
        assert values[-1] == hv[-1]
        assert result.time_to_hypervolume(hv[-1]) <= result.makespan
        assert result.time_to_hypervolume(2.0) is None
    # Generational learns the hypervolume at each generation's end only.
    assert len(sim.simulate(evaluations, 2, "generational", hv=hv).hv_times) == 3


def test_scaled_population_and_compact_round_trip(sim, tmp_path):
    from _async_sim_inputs import load_journal, scale_population, write_compact

    journal = sim.synthetic("pareto:alpha=1.2,cap=100", population=4, generations=2, cv=2)
    seconds = [e.seconds for e in journal.evaluations]
    assert max(seconds) / min(seconds) < 2 * 100  # the cap, and a little fold jitter
    scaled = scale_population(journal, 12, seed=1)
    assert scaled.population == 12 and len(scaled.evaluations) == 36
    for g in range(3):
        recorded = {e.folds for e in journal.evaluations if e.generation == g}
        assert {e.folds for e in scaled.evaluations if e.generation == g} <= recorded
    assert scale_population(journal, 4) is journal
    write_compact(scaled, tmp_path / "j.json", {"made": "test"})
    again = load_journal(str(tmp_path / "j.json"))
    assert again.population == 12 and len(again.evaluations) == 36
    assert [e.generation for e in again.evaluations] == [e.generation for e in scaled.evaluations]


def test_command_line(sim, tmp_path, capsys):
    rows = sim.main(
        [
            "--synthetic",
            "lognormal:sigma=1,population=4,generations=3",
            "--workers",
            "2",
            "16",
            "--no-plot",
            "--json",
            str(tmp_path / "rows.json"),
        ]
    )
    # N=2: one population (4 >= 2); N=16: recorded and scaled; two modes each.
    assert len(rows) == 2 + 4
    assert {r["population"] for r in rows if r["workers"] == 16} == {4, 16}
    for r in rows:
        assert r["evaluations_per_hour"] == pytest.approx(3600 * r["evaluations"] / r["makespan_s"])
    assert "| synthetic lognormal:sigma=1,population=4,generations=3 | 16 | 16 | async |" in (
        capsys.readouterr().out
    )


def test_task_overhead_holds_workers_without_busy_time(sim, monkeypatch):
    evaluations = _evaluations(sim, [[1.0] * 4] * 2)  # 8 tasks of 1 s on 4 workers
    for mode in ("generational", "async"):
        result = sim.simulate(evaluations, 4, mode, task_overhead=0.25)
        assert result.makespan == pytest.approx(2.5)
        assert result.busy == pytest.approx(8.0) and result.utilisation == pytest.approx(0.8)
    # The validation finds the overhead back from a makespan.
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from async_validate import _implied_overhead

    journal = sim.synthetic("lognormal:sigma=1", population=6, generations=3, cv=3, seed=2)
    makespan = sim.simulate(journal.evaluations, 3, "async", task_overhead=0.02).makespan
    assert _implied_overhead(list(journal.evaluations), 3, "async", makespan) == pytest.approx(
        0.02, abs=1e-6
    )
    sys.modules.pop("async_validate", None)
