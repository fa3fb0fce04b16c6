"""Reliability: no candidate can hang, crash or poison a run.

Misbehaving candidates are made with the evaluator's ``fit_hook`` (called in the worker right
before a fold trains): it sleeps, raises, exits the process or allocates memory for chosen
genomes. Everything else about those genomes is ordinary.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_iris

from clitools import HYPER, REPO, TINY_TOML, assert_usage_error, evosearch
from evosearch import Evolver
from evosearch.cli._parser import build_parser
from evosearch.cli.main import main
from evosearch.errors import SettingsError
from evosearch.evaluation import (
    FAILURE_SCORE,
    DeadlineReached,
    EvaluationResult,
    Evaluator,
)
from evosearch.search import check_settings
from evosearch.space.genome import Genome

LINUX = sys.platform.startswith("linux")


class Hook:
    """A picklable fit_hook: what the folds of chosen genomes do before they train.

    ``actions`` maps a genome hash, or the last hex digit of one, to ``sleep`` (30 s),
    ``exit`` (``os._exit(1)`` in fold 1), ``raise``, ``allocate`` (2 GiB) or ``pause``
    (0.3 s). With ``pid_dir`` every call writes its process id there.
    """

    def __init__(self, actions: dict[str, str], pid_dir: Path | None = None) -> None:
        self.actions = actions
        self.pid_dir = str(pid_dir) if pid_dir else None

    def __call__(self, genome_hash: str, fold: int) -> None:
        if self.pid_dir:
            Path(self.pid_dir, f"{genome_hash}-{fold}").write_text(str(os.getpid()))
        action = self.actions.get(genome_hash, self.actions.get(genome_hash[-1]))
        if action == "sleep":
            time.sleep(30)
        elif action == "exit" and fold == 1:
            os._exit(1)
        elif action == "raise":
            raise ValueError(f"boom in fold {fold}")
        elif action == "allocate":
            np.ones(2**28)  # 2 GiB of float64
        elif action == "pause":
            time.sleep(0.3)


def dense(units: int, activation: str = "relu") -> dict:
    return {"units": units, "activation": activation, "dropout": 0.0}


def chain(units: int, activation: str = "relu") -> Genome:
    return Genome.chain(4, 3, [dense(units, activation)], HYPER)


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (nobody may reap orphans here)."""
    if LINUX:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("genomes") / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ one batch
GOOD = [chain(3), chain(5, "tanh"), chain(7)]
SLOW, DIES, RAISES = chain(9), chain(11), chain(13)
BATCH = [GOOD[0], SLOW, GOOD[1], DIES, RAISES, GOOD[2]]
LIMIT = 1.5


@pytest.fixture(scope="module")
def mixed(iris, tmp_path_factory) -> dict[int, dict[str, Any]]:
    """The batch evaluated under a time limit with one and with two workers."""
    runs = {}
    for n_jobs in (1, 2):
        pid_dir = tmp_path_factory.mktemp(f"pids{n_jobs}")
        hook = Hook(
            {
                SLOW.canonical_hash(): "sleep",
                DIES.canonical_hash(): "exit",
                RAISES.canonical_hash(): "raise",
            },
            pid_dir,
        )
        evaluator = Evaluator(*iris, "classification", cv=2, n_jobs=n_jobs, eval_timeout=LIMIT,
                              fit_hook=hook)  # fmt: skip
        Evaluator(*iris, "classification", cv=2, n_jobs=n_jobs).evaluate([chain(2)])  # warm up
        journal: list[EvaluationResult] = []
        progress: list[int] = []
        started = time.perf_counter()
        results = evaluator.evaluate(
            BATCH,
            on_result=lambda genome, result, journal=journal: journal.append(result),
            on_progress=lambda done, total, progress=progress: progress.append(done),
        )
        runs[n_jobs] = {
            "results": results,
            "seconds": time.perf_counter() - started,
            "journal": journal,
            "progress": progress,
            "evaluator": evaluator,
            "pid_dir": pid_dir,
        }
    return runs


@pytest.fixture(scope="module")
def without_bad_ones(iris) -> list[EvaluationResult]:
    """The good genomes alone, in this process, with no limit at all."""
    return Evaluator(*iris, "classification", cv=2, n_jobs=1).evaluate(GOOD)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_sleeping_evaluation_is_killed_at_the_limit(mixed, n_jobs):
    run = mixed[n_jobs]
    # The hook sleeps 30 s per fold: a run that waited for one would take over 30 s. (Not
    # tighter: on a loaded 2-core machine the run itself takes up to ~21 s.)
    assert run["seconds"] < 29
    slow = run["results"][1]
    assert not slow.ok and slow.score == FAILURE_SCORE and slow.fold_scores == []
    assert slow.error == f"TimeoutError: fold 0 exceeded the {LIMIT:g} s evaluation limit"
    assert LIMIT <= slow.seconds < LIMIT + 3
    # Killed, not abandoned: the processes that ran the sleeping folds are gone.
    pids = [int(p.read_text()) for p in run["pid_dir"].glob(f"{SLOW.canonical_hash()}-*")]
    assert pids and not any(alive(pid) for pid in pids)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_worker_that_exits_is_a_failure_and_the_others_finish(mixed, n_jobs):
    dies = mixed[n_jobs]["results"][3]
    assert not dies.ok and dies.score == FAILURE_SCORE
    assert dies.error.startswith("WorkerDied: the process training fold 1 died")
    assert "EXIT(1)" in dies.error and "\n" not in dies.error


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_exception_in_the_hook_is_a_failure_with_its_message(mixed, n_jobs):
    raises = mixed[n_jobs]["results"][4]
    assert not raises.ok and raises.error == "ValueError: boom in fold 0"


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_other_genomes_match_a_run_without_the_bad_ones(mixed, without_bad_ones, n_jobs):
    good = [mixed[n_jobs]["results"][i] for i in (0, 2, 5)]
    assert all(r.ok for r in good)
    assert [r.fold_scores for r in good] == [r.fold_scores for r in without_bad_ones]
    assert [r.epochs for r in good] == [r.epochs for r in without_bad_ones]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_failures_are_reported_counted_and_cached(mixed, n_jobs):
    run = mixed[n_jobs]
    assert sorted(r.genome_hash for r in run["journal"]) == sorted(
        g.canonical_hash() for g in BATCH
    )
    assert sum(not r.ok for r in run["journal"]) == 3
    assert run["progress"] == list(range(2 * len(BATCH) + 1))  # skipped folds count as done
    evaluator = run["evaluator"]
    assert evaluator.evaluations == len(BATCH)
    assert evaluator.lookup(SLOW).error.startswith("TimeoutError")


def test_results_are_identical_for_one_and_two_workers(mixed):
    one, two = (mixed[n]["results"] for n in (1, 2))
    for name in ("genome_hash", "fold_scores", "score", "epochs", "error"):
        assert [getattr(r, name) for r in one] == [getattr(r, name) for r in two], name


def test_peak_memory_is_recorded(mixed):
    for result in mixed[2]["results"]:
        if result.ok and LINUX:
            assert isinstance(result.peak_memory_mb, float) and result.peak_memory_mb >= 0


@pytest.mark.skipif(not LINUX, reason="max_memory needs Linux")
def test_memory_error_under_max_memory_is_a_failure(iris):
    greedy = chain(15)
    hook = Hook({greedy.canonical_hash(): "allocate"})
    evaluator = Evaluator(*iris, "classification", cv=2, n_jobs=2, max_memory=256, fit_hook=hook)
    good, bad = evaluator.evaluate([GOOD[0], greedy])
    assert good.ok
    assert bad.error.startswith("MemoryError: fold 0 exceeded the 256 MB memory limit")
    assert "Unable to allocate 2.00 GiB" in bad.error
    # The limit is lifted after the fold: the same workers train normally afterwards.
    assert evaluator.evaluate([GOOD[1]])[0].ok


def test_exception_in_the_hook_inline_too(iris):
    hook = Hook({RAISES.canonical_hash(): "raise"})
    inline = Evaluator(*iris, "classification", cv=2, n_jobs=1, fit_hook=hook)
    assert inline.inline  # n_jobs=1 and no limit: no worker process
    assert inline.evaluate([RAISES])[0].error == "ValueError: boom in fold 0"


# ------------------------------------------------------------------------------ deadlines
def test_deadline_stops_the_batch_and_kills_what_is_training(iris, tmp_path):
    # The smallest genome sleeps: longest first, the two others train before it starts.
    slow = chain(1)
    hook = Hook({slow.canonical_hash(): "sleep"}, tmp_path)
    evaluator = Evaluator(*iris, "classification", cv=2, n_jobs=2, fit_hook=hook)
    Evaluator(*iris, "classification", cv=2, n_jobs=2).evaluate([chain(2)])  # warm up
    journal: list[EvaluationResult] = []
    started = time.perf_counter()
    with pytest.raises(DeadlineReached):
        evaluator.evaluate(
            [GOOD[0], slow, GOOD[1]],
            on_result=lambda genome, result: journal.append(result),
            deadline=time.monotonic() + 3,
        )
    assert time.perf_counter() - started < 10
    # The quick genomes finished and were reported; the sleeping one was not.
    assert {r.genome_hash for r in journal} == {GOOD[0].canonical_hash(), GOOD[1].canonical_hash()}
    assert evaluator.lookup(slow) is None
    pids = [int(p.read_text()) for p in tmp_path.glob(f"{slow.canonical_hash()}-*")]
    assert pids and not any(alive(pid) for pid in pids)


def comparable(evolver: Evolver) -> tuple[Any, Any]:
    history = [{k: v for k, v in r.to_dict().items() if k != "seconds"} for r in evolver.history_]
    return evolver.archive_.to_dict(), history


@pytest.mark.slow
def test_max_time_stops_early_and_resume_reaches_the_uninterrupted_result(iris, tiny, tmp_path):
    settings = dict(genome=tiny, population_size=4, generations=8, cv=2, n_jobs=2, random_state=2)
    Evaluator(*iris, "classification", cv=2, n_jobs=2).evaluate([chain(2)])  # warm up
    folder = tmp_path / "run"
    pause = Hook({c: "pause" for c in "0123456789abcdef"})
    started = time.perf_counter()
    stopped = Evolver(**settings, out=folder, max_time=3, fit_hook=pause).fit(*iris)
    assert time.perf_counter() - started < 8
    assert stopped.deadline_reached_
    finished = len(stopped.history_)
    assert 1 <= finished < 9
    assert len(stopped.archive_) >= 1
    assert stopped.predict(iris[0][:3]).shape == (3,)  # best_estimator_ refit as usual
    checkpoint = json.loads((folder / "checkpoint.json").read_text())
    assert checkpoint["generation"] == finished - 1  # the unfinished generation is not recorded

    resumed = Evolver.resume(folder, X=iris[0], y=iris[1])
    assert not resumed.deadline_reached_
    straight = Evolver(**settings).fit(*iris)
    assert comparable(resumed) == comparable(straight)
    hashes = [json.loads(line)["genome_hash"] for line in (folder / "journal.jsonl").open()]
    assert len(hashes) == len(set(hashes))  # nothing journalled was trained twice


def test_cli_says_it_stopped_at_the_deadline(tiny, tmp_path, capsys):
    Evaluator(*load_iris(return_X_y=True), "classification", cv=2, n_jobs=2).evaluate([chain(2)])
    out = tmp_path / "cli-run"
    args = ["evolve", "--genome", str(tiny), "--data", "iris", "--population", "4", "--cv", "2"]
    args += ["--n-jobs", "2", "--generations", "500", "--max-time", "2", "--out", str(out)]
    assert main([*args, "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "stopped at the --max-time deadline (2 s) after generation" in text
    assert f"evosearch resume {out}" in text
    assert main(["resume", str(out), "--max-time", "1", "--quiet"]) == 0
    assert "stopped at the --max-time deadline (1 s)" in capsys.readouterr().out


def test_failures_are_counted_in_the_generation_rows(iris, tiny, tmp_path):
    # Genomes whose hash ends in 0-3 raise, in 4 kill their worker: about a third of them.
    hook = Hook({"0": "raise", "1": "raise", "2": "raise", "3": "raise", "4": "exit"})
    evolver = Evolver(genome=tiny, population_size=4, generations=2, cv=2, n_jobs=2,
                      fit_hook=hook, out=tmp_path / "run")  # fmt: skip
    evolver.fit(*iris)
    journal = [json.loads(line) for line in (tmp_path / "run" / "journal.jsonl").open()]
    for record in evolver.history_:
        errors = [e["error"] for e in journal if e["generation"] == record.generation]
        assert record.failures == sum(error is not None for error in errors)
    errors = [e["error"] for e in journal if e["error"]]
    assert errors and all(e.startswith(("ValueError: boom", "WorkerDied: ")) for e in errors)


# ------------------------------------------------------------------------------ settings
@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("eval_timeout", -1),
        ("eval_timeout", "60"),
        ("eval_timeout", True),
        ("eval_timeout", float("nan")),
        ("max_time", 0),
        ("max_time", -5),
        ("max_time", float("inf")),
        ("max_memory", 0),
        ("max_memory", -100),
        ("fit_hook", 42),
    ],
)
def test_bad_limits_fail_at_fit(tiny, setting, value):
    with pytest.raises(SettingsError, match=setting) as info:
        Evolver(genome=tiny, **{setting: value}).fit([[0.0], [1.0]], [0, 1])
    assert "\n" not in str(info.value)


def test_unpicklable_hook_fails_at_fit(tiny):
    import threading

    lock = threading.Lock()
    with pytest.raises(SettingsError, match="fit_hook must pickle"):
        Evolver(genome=tiny, fit_hook=lambda h, f: lock.acquire()).fit([[0.0], [1.0]], [0, 1])


def test_no_limit_is_an_explicit_option(tiny, iris):
    def checked(evolver: Evolver) -> Any:
        return check_settings(evolver.get_params()).eval_timeout

    assert checked(Evolver(genome=tiny)) == 300.0
    assert checked(Evolver(genome=tiny, eval_timeout=0)) is None
    assert checked(Evolver(genome=tiny, eval_timeout=None)) is None
    assert Evaluator(*iris, "classification", eval_timeout=0).eval_timeout is None


@pytest.mark.parametrize(
    "args",
    [
        ["evolve", "--eval-timeout", "0"],
        ["evolve", "--eval-timeout", "-3"],
        ["evolve", "--eval-timeout", "soon"],
        ["evolve", "--max-time", "0"],
        ["evolve", "--max-time", "-1"],
        ["evolve", "--max-memory", "0"],
        ["evolve", "--max-memory", "-512"],
        ["resume", "somewhere", "--max-time", "0"],
    ],
)
def test_cli_limits_are_validated(tmp_path, args):
    assert_usage_error(evosearch(*args, cwd=tmp_path), args[-2])


def test_cli_eval_timeout_none_means_no_limit():
    parser = build_parser()
    assert parser.parse_args(["evolve"]).eval_timeout == 300.0
    assert parser.parse_args(["evolve", "--eval-timeout", "none"]).eval_timeout is None
    parsed = parser.parse_args(["evolve", "--max-time", "90", "--max-memory", "512"])
    assert (parsed.max_time, parsed.max_memory) == (90.0, 512.0)


# ------------------------------------------------------------------------------ run folders
def test_run_json_keeps_the_limits_and_old_journals_still_resume(iris, tiny, tmp_path):
    folder = tmp_path / "old"
    settings = dict(genome=tiny, population_size=4, cv=2, n_jobs=1, random_state=4)
    Evolver(**settings, generations=1, eval_timeout=None, out=folder).fit(*iris)
    info = json.loads((folder / "run.json").read_text())
    assert info["settings"]["eval_timeout"] is None and info["settings"]["max_memory"] is None
    # Make it look like a run folder from before peak_memory_mb and these settings existed.
    for name in ("eval_timeout", "max_memory"):
        del info["settings"][name]
    info["format_version"] = 1  # read through the migration from format 1
    (folder / "run.json").write_text(json.dumps(info))
    journal = folder / "journal.jsonl"
    lines = [json.loads(line) for line in journal.open()]
    assert all("peak_memory_mb" in line for line in lines)
    journal.write_text("".join(
        json.dumps({**{k: v for k, v in line.items() if k != "peak_memory_mb"},
                    "format_version": 1}) + "\n"
        for line in lines
    ))  # fmt: skip
    resumed = Evolver.resume(folder, generations=2, X=iris[0], y=iris[1])
    assert resumed.eval_timeout == 300.0  # the default for runs that did not record it
    assert len(resumed.history_) == 3


def test_result_from_an_old_journal_line_loads():
    line = {"generation": 3, "genome": {}, "genome_hash": "ab", "fold_scores": [0.5],
            "score": 0.5, "n_params": 7, "seconds": 0.1, "epochs": [2], "error": None}  # fmt: skip
    result = EvaluationResult.from_dict(line)
    assert result.peak_memory_mb is None and result.n_params == 7
    with pytest.raises(KeyError, match="score"):
        EvaluationResult.from_dict({k: v for k, v in line.items() if k != "score"})


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_workers_exit_when_their_run_is_killed(tmp_path):
    """A SIGKILLed run cannot stop its workers; they notice and exit on their own."""
    import signal
    import subprocess

    (tmp_path / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = ["evolve", "--genome", "tiny.toml", "--data", "iris", "--generations", "500"]
    process = subprocess.Popen(
        [sys.executable, "-m", "evosearch.cli", *args, "--n-jobs", "1", "--out", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def children() -> list[int]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == process.pid and "popen_loky" in (
                stat.parent / "cmdline"
            ).read_text(errors="replace"):
                found.append(int(stat.parent.name))
        return found

    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "run" / "journal.jsonl").exists():
            assert time.monotonic() < deadline, "the run never journalled anything"
            time.sleep(0.05)
        workers = children()
        assert workers
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)
