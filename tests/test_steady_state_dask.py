"""The steady-state search on a local Dask cluster: it finishes with every result journalled
once, is exactly its journal's order, resumes after the driver is killed (SIGKILL or SIGTERM)
while the cluster lives on, and survives a worker killed in the middle of a fold."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")

import dask  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402

from clitools import (  # noqa: E402
    TINY_TOML,
    evolve_and_kill,
    evolve_and_signal,
    evosearch,
    from_journal,
    journalled_once,
    lines,
    outcome,
)
from evosearch import Evolver  # noqa: E402

X, Y = load_iris(return_X_y=True)
SEARCH = {"population_size": 6, "generations": 3, "random_state": 8, "cv": 2}


@pytest.fixture(scope="module")
def cluster() -> Any:
    # As tests/test_dask.py: Dask gives up on a task after its first worker death, so a fold
    # that kills workers kills one; the scheduler runs in this process and sees the setting.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        local = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None,
        )  # fmt: skip
    yield local
    local.close()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("steady-dask")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    return folder


def test_a_run_on_the_cluster_keeps_its_workers_busy_and_is_its_journal(workdir, cluster):
    out = workdir / "run"
    evolver = Evolver(
        workdir / "tiny.toml", steady_state=True, backend="dask",
        scheduler=cluster.scheduler_address, out=out, **SEARCH,
    ).fit(X, Y)  # fmt: skip
    # In flight by default: the cluster's worker threads.
    assert json.loads((out / "run.json").read_text())["steady_state"] == {"in_flight": 2}
    hashes = journalled_once(out)
    assert len(hashes) == sum(r.evaluations for r in evolver.history_)
    assert len(evolver.history_) == 4
    assert from_journal(out, workdir / "run-replayed", X, Y) == outcome(out)


@pytest.mark.parametrize(
    "sig",
    [signal.SIGKILL, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)],
    ids=["sigkill", "sigterm"],
)
def test_the_driver_killed_then_resumed_continues_exactly(workdir, cluster, sig):
    name = f"driver-{sig.name.lower()}"
    args = ("--genome", "tiny.toml", "--data", "iris", "--population", "6", "--generations", "3",
            "--seed", "8", "--cv", "2", "--quiet", "--steady-state", "--backend", "dask",
            "--scheduler", cluster.scheduler_address)  # fmt: skip
    if sig == signal.SIGKILL:
        evolve_and_kill(args, workdir, name, generation=2, done=1)
    else:
        ended = evolve_and_signal(args, workdir, name, 2, 1, sig)
        assert ended.returncode != 0 and "resume" in ended.stderr
    folder = workdir / name
    before = (folder / "journal.jsonl").read_text().splitlines()[:-1]
    result = evosearch("resume", name, "--quiet", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert (folder / "journal.jsonl").read_text().splitlines()[: len(before)] == before
    journalled_once(folder)
    assert len(lines(folder / "generations.jsonl")) == 4
    assert from_journal(folder, workdir / f"{name}-replayed", X, Y) == outcome(folder)


@pytest.mark.slow
def test_a_worker_killed_mid_fold_loses_nothing(workdir, cluster):
    marker = str(workdir / "died-once")

    def die_once(genome_hash: str, fold: int) -> None:
        if fold == 1 and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)

    out = workdir / "worker-death"
    evolver = Evolver(
        workdir / "tiny.toml", steady_state=True, backend="dask", fit_hook=die_once,
        scheduler=cluster.scheduler_address, out=out, **SEARCH,
    ).fit(X, Y)  # fmt: skip
    assert os.path.exists(marker)  # a worker really died
    entries = lines(out / "journal.jsonl")
    journalled_once(out)
    assert len(evolver.history_) == 4
    # The fold ran again on its own, passed, and nobody was blamed.
    assert all(e["error"] is None for e in entries), [e["error"] for e in entries if e["error"]]
