"""Failures by cause: the all-failed message names the dominant cause and its remedy, and a
fold killed for time leaves no traceback behind (issue 29, item 8)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from clitools import TINY_TOML, assert_usage_error, evosearch
from evosearch.evaluation import EvaluationResult, all_failed_message, failure_causes

TIMEOUT = "TimeoutError: fold 0 exceeded the 0.001 s evaluation limit"
MEMORY = "MemoryError: fold 1 exceeded the 64 MB memory limit (allocation failed)"
DIVERGED = "DivergenceError: training loss became nan in epoch 3; try a smaller learning_rate"
NON_FINITE = "FloatingPointError: non-finite test score inf"
DIED = "WorkerDied: the process training fold 0 died (SIGKILL(-9)): a crash in native code"
OTHER = "ValueError: boom in fold 0"


def failed(error: str | None) -> EvaluationResult:
    return EvaluationResult("h", [], -1.0, 10, 0.1, error=error)


# ------------------------------------------------------------------------------ classification
@pytest.mark.parametrize(
    ("errors", "cause"),
    [
        ([TIMEOUT, TIMEOUT], "timeout"),
        ([MEMORY], "memory"),
        ([DIVERGED, NON_FINITE], "divergence"),
        ([DIED], "crash"),
        ([OTHER, "KeyError", "RuntimeError: TimeoutError in the message"], "other"),
    ],
)
def test_each_cause_is_recognised_by_its_exception_type(errors, cause):
    causes = failure_causes(errors)
    assert causes.dominant == cause
    assert causes.counts == {cause: len(errors)} and causes.total == len(errors)
    assert causes.examples == {cause: errors[0]}


def test_mixed_failures_name_the_most_frequent_cause():
    errors = [OTHER, MEMORY, TIMEOUT, DIVERGED, TIMEOUT, MEMORY, TIMEOUT]
    causes = failure_causes(errors)
    assert causes.dominant == "timeout"
    assert list(causes.counts.items()) == [
        ("timeout", 3),
        ("memory", 2),
        ("divergence", 1),
        ("other", 1),
    ]
    described = "3 timeouts, 2 memory errors, 1 divergence (non-finite loss), 1 other error"
    assert causes.describe() == described
    assert "--eval-timeout" in causes.remedy


def test_a_tie_goes_to_a_named_cause_whatever_the_order():
    assert failure_causes([OTHER, MEMORY]).dominant == "memory"
    assert failure_causes([DIVERGED, TIMEOUT]).dominant == "timeout"
    assert failure_causes([TIMEOUT, DIVERGED]).dominant == "timeout"


def test_results_and_successes_are_accepted():
    causes = failure_causes([failed(MEMORY), failed(None), None, "", failed(MEMORY)])
    assert causes.counts == {"memory": 2}
    assert failure_causes([]).dominant is None


MESSAGES = {
    "timeout": ([TIMEOUT] * 3, ["3 timeouts; e.g. " + TIMEOUT, "raise --eval-timeout (Evolver: "]),
    "memory": (
        [MEMORY, OTHER, MEMORY],
        ["2 memory errors, 1 other error; e.g. " + MEMORY, "--max-memory", "smaller layers"],
    ),
    "divergence": ([DIVERGED], ["1 divergence (non-finite loss); e.g. Diverg", "learning_rate"]),
    "crash": ([DIED, DIED], ["2 worker crashes", "out of memory", "--n-jobs"]),
    "other": ([OTHER, "KeyError: 'x'"], ["e.g. " + OTHER, "check the search space"]),
}


@pytest.mark.parametrize("cause", sorted(MESSAGES))
def test_the_all_failed_message_names_the_cause_and_its_remedy(cause):
    errors, words = MESSAGES[cause]
    message = all_failed_message(len(errors), errors)
    assert message.startswith(f"all {len(errors)} evaluated genomes failed (")
    assert "no model to refit" in message and "\n" not in message
    for word in words:
        assert word in message, (word, message)


def test_the_message_stays_one_line():
    message = all_failed_message(1, ["RuntimeError: first line\nsecond line"])
    assert "\n" not in message and "first line second line" in message
    assert all_failed_message(2, []).startswith("all 2 evaluated genomes failed (no error")


# ------------------------------------------------------------------------------ killed folds
@pytest.mark.slow
def test_a_worker_killed_right_after_a_submission_stops_without_a_traceback(monkeypatch):
    # loky's shutdown(kill_workers=True) right after a submit: its manager thread died with
    # "Exception in thread ExecutorManagerThread ... KeyError: 1" (most of the time).
    from evosearch.evaluation.backends.local import _Worker

    crashes: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", crashes.append)
    for _ in range(3):
        worker = _Worker()
        worker.future = worker.executor.submit(os.getpid)
        worker.future.result(timeout=120)  # the process is up
        worker.future = worker.executor.submit(time.sleep, 30)
        started = time.monotonic()
        worker.kill()
        assert time.monotonic() - started < 10
    assert [str(c.exc_value) for c in crashes] == []


# 13 s of worker restarts; the timeout message's unit checks stay in the default run.
@pytest.mark.slow
def test_a_run_whose_every_fold_times_out_says_so_in_one_line(tmp_path: Path):
    (tmp_path / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    result = evosearch(
        "evolve", "--genome", "tiny.toml", "--data", "iris", "--population", "2",
        "--generations", "1", "--cv", "2", "--n-jobs", "2", "--eval-timeout", "0.001",
        "--out", str(tmp_path / "run"), cwd=tmp_path,
    )  # fmt: skip
    line = assert_usage_error(result, "timeouts", "TimeoutError", "--eval-timeout")
    assert "all 4 evaluated genomes failed (4 timeouts; e.g. TimeoutError: fold" in line
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream and "Exception in thread" not in stream
        assert "KeyError" not in stream and "Warning" not in stream
