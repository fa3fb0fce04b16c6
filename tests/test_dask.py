"""The Dask backend: same seed, same results as the local one; worker deaths and a lost
scheduler handled like the local runner handles them (time limits and deadlines: the backend
contract suite, tests/test_backend_contract.py).

One real two-process ``LocalCluster`` serves the module (the culprit-and-bystander test starts a
one-worker, two-thread one of its own). Misbehaving folds are made with
``fit_hook`` closures (closures pickle by value, so the Dask workers need not import this file).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")

import dask  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402

from clitools import (  # noqa: E402
    TINY_TOML,
    assert_usage_error,
    evosearch,
    lines,
    outcome,
    without_timings,
)
from evosearch import Evolver  # noqa: E402
from evosearch.cli.main import main  # noqa: E402
from evosearch.errors import BackendError, SettingsError  # noqa: E402
from evosearch.evaluation import Evaluator  # noqa: E402
from evosearch.evaluation.backends import _dask_faults  # noqa: E402
from evosearch.evaluation.backends import dask as backends_module  # noqa: E402
from evosearch.evaluation.backends._dask_faults import KilledFolds  # noqa: E402
from evosearch.evaluation.failures import failure_cause  # noqa: E402
from evosearch.space import Genome  # noqa: E402
from evosearch.testing._tiny import TINY_HYPER  # noqa: E402
from evosearch.testing.backends import comparable  # noqa: E402

X, Y = load_iris(return_X_y=True)
SEARCH = {"population_size": 6, "generations": 2, "random_state": 5}


def journal(folder: Path) -> list[dict[str, Any]]:
    """Journal lines without timings, in a fixed order (completion order may differ)."""
    entries = without_timings(lines(folder / "journal.jsonl"))
    return sorted(entries, key=lambda e: (e["generation"], e["genome_hash"]))


@pytest.fixture(scope="module")
def cluster() -> Any:
    # Dask gives up on a task after its first worker death (not the fourth), so a fold that
    # kills workers kills one, not both: a loaded machine restarting workers slowly then never
    # leaves the cluster without one (and the data), and the tests stay short. The scheduler
    # runs in this process, so the setting reaches it.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        local = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    yield local
    local.close()


@pytest.fixture
def full_cluster(cluster: Any) -> Any:
    """The module's cluster with both workers up, for a test that kills them.

    A nanny whose worker fails to start again (it times out on a loaded machine) closes for
    good and the cluster shrinks; without this, repeated killing tests end on a cluster with no
    worker at all ("No valid workers found").
    """
    registered = {info.get("name") for info in cluster.scheduler_info["workers"].values()}
    lost = [name for name in list(cluster.worker_spec) if name not in registered]
    for name in lost:
        del cluster.worker_spec[name]
    if lost:
        cluster.scale(2)
    with distributed.Client(cluster, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=120)
    return cluster


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dask")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def reference(workdir: Path) -> Path:
    """The local backend's run."""
    out = workdir / "local"
    Evolver(workdir / "tiny.toml", n_jobs=2, out=out, **SEARCH).fit(X, Y)
    return out


def test_same_seed_same_results_as_local(workdir, reference, cluster):
    out = workdir / "dask"
    evolver = Evolver(
        workdir / "tiny.toml",
        backend="dask",
        scheduler=cluster.scheduler_address,
        out=out,
        **SEARCH,
    ).fit(X, Y)
    assert outcome(out) == outcome(reference)
    assert journal(out) == journal(reference)
    settings = json.loads((out / "run.json").read_text())["settings"]
    assert settings["backend"] == "dask"
    assert settings["scheduler"] == cluster.scheduler_address
    assert evolver.archive_.to_dict() is not None


def test_worker_death_loses_nothing(workdir, reference, full_cluster):
    """A worker killed mid-task: the fold runs again (on its own: it had started) and passes;
    results do not change."""
    victim = journal(reference)[0]["genome_hash"]
    marker = str(workdir / "died-once")

    def die_once(genome_hash: str, fold: int) -> None:
        if genome_hash == victim and fold == 1 and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)

    out = workdir / "dask-death"
    Evolver(
        workdir / "tiny.toml",
        backend="dask",
        scheduler=full_cluster.scheduler_address,
        out=out,
        fit_hook=die_once,
        **SEARCH,
    ).fit(X, Y)
    assert os.path.exists(marker)  # the worker did die
    assert journal(out) == journal(reference)  # one line per evaluation, all of them
    assert outcome(out) == outcome(reference)


def test_repeated_worker_deaths_fail_the_genome(workdir, reference, full_cluster):
    """The victim's fold 0 kills its worker (Dask gives up: KilledWorker, for the folds queued
    there too); run on its own it kills its process again and its genome fails. The folds
    queued beside it are bystanders: run again, their genomes succeed."""
    victim = journal(reference)[0]["genome_hash"]

    def always_die(genome_hash: str, fold: int) -> None:
        if genome_hash == victim and fold == 0:
            os._exit(1)

    out = workdir / "dask-deaths"
    Evolver(
        workdir / "tiny.toml",
        backend="dask",
        scheduler=full_cluster.scheduler_address,
        out=out,
        fit_hook=always_die,
        **SEARCH,
    ).fit(X, Y)
    entries = journal(out)
    failed = [e for e in entries if e["genome_hash"] == victim]
    assert len(failed) == 1
    assert failed[0]["error"].startswith(
        "WorkerDied: fold 0: the Dask workers running it died, and so did a process running it "
        "on its own (EXIT(1))"
    )
    assert failed[0]["fold_scores"] == []
    # Every genome the run trained has its line, the others succeeded.
    assert len({(e["generation"], e["genome_hash"]) for e in entries}) == len(entries)
    assert [e["error"] for e in entries if e["genome_hash"] != victim and e["error"]] == []
    assert len(lines(out / "generations.jsonl")) == SEARCH["generations"] + 1


# Slow run only: a cluster of its own, a worker restart and two child processes (each a fresh
# interpreter importing scikit-learn) make it 7 s on a quiet 2-core machine, 15-30 s on a busy
# one; the repeated-deaths test above covers the verdict (bystanders queued beside the culprit)
# in the fast run.
@pytest.mark.slow
def test_culprit_fails_and_bystander_beside_it_does_not(tmp_path):
    """Two threads of one worker: a fold kills the process while another genome's fold runs
    beside it (and more are queued there). Only the culprit fails; the bystander's result is
    that of an undisturbed run."""
    layer = {"activation": "relu", "dropout": 0.0}
    # The culprit is larger, so its folds start first (longest first); its fold 1 finishes,
    # letting a bystander fold start beside its fold 0.
    culprit = Genome.chain(4, 3, [{**layer, "units": 32}], TINY_HYPER).canonical_hash()
    bystander = Genome.chain(4, 3, [{**layer, "units": 4}], TINY_HYPER)
    folder, marked = str(tmp_path), bystander.canonical_hash()
    died = os.path.join(folder, "culprit-died")

    def crash_beside(genome_hash: str, fold: int) -> None:
        if genome_hash == marked:
            # On record, then asleep long enough for the culprit to kill the worker meanwhile.
            open(os.path.join(folder, f"bystander-{fold}-{time.time_ns()}"), "w").close()
            if not os.path.exists(died):
                time.sleep(1.0)
        elif genome_hash == culprit and fold == 0:
            give_up = time.monotonic() + 20.0
            while not os.path.exists(died) and time.monotonic() < give_up:
                if any(name.startswith("bystander-") for name in os.listdir(folder)):
                    open(died, "w").close()
                time.sleep(0.02)
            os._exit(1)

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        one = distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=2,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    try:
        evaluator = Evaluator(
            X,
            Y,
            "classification",
            cv=2,
            backend="dask",
            scheduler=one.scheduler_address,
            fit_hook=crash_beside,
        )
        genomes = [Genome.chain(4, 3, [{**layer, "units": 32}], TINY_HYPER), bystander]
        guilty, innocent = evaluator.evaluate(genomes)
        evaluator.close()
    finally:
        one.close()
    assert os.path.exists(died)  # it died with a bystander fold running beside it
    assert failure_cause(guilty.error) == "crash"
    assert guilty.error.startswith("WorkerDied: fold 0: the Dask workers running it died")
    assert innocent.error is None
    alone = Evaluator(X, Y, "classification", cv=2, n_jobs=1).evaluate([bystander])[0]
    assert comparable(innocent) == comparable(alone)


def test_killed_fold_verdicts():
    """What follows a KilledWorker: a fold never started runs again as it was (on its own after
    a few times), a started one runs on its own, and each fails only past its allowance."""
    killed = KilledFolds()
    assert [killed.verdict((0, 1), started=False, alone=False) for _ in range(3)] == [
        (False, None),
        (False, None),
        (True, None),
    ]
    assert killed.verdict((0, 0), started=True, alone=False) == (True, None)
    assert killed.verdict((0, 0), started=True, alone=True) == (True, None)
    _, error = killed.verdict((0, 0), started=True, alone=True)
    assert error is not None and error.startswith("WorkerDied: fold 0: the Dask workers running")
    for _ in range(7):
        assert killed.verdict((0, 1), started=False, alone=True) == (True, None)
    _, error = killed.verdict((0, 1), started=False, alone=True)
    assert error == "WorkerDied: fold 1: the Dask workers it was queued on kept dying (11 times)"


def test_scatter_is_tried_again_when_a_worker_leaves_mid_scatter(monkeypatch):
    """The scheduler raises KeyError(address) when a worker it listed for the copies is gone
    (a SIGKILLed worker in the soak test ended the driver so): the scatter is tried again."""

    class Client:
        status, calls = "running", 0

        def scatter(self, data, hash):
            self.calls += 1
            if self.calls == 1:
                raise KeyError("tcp://127.0.0.1:45511")
            return ("future of", data)

    monkeypatch.setattr(_dask_faults.time, "sleep", lambda seconds: None)
    client = Client()
    assert _dask_faults.scatter_context(client, "rows") == ("future of", "rows")
    assert client.calls == 2
    client.status = "closed"  # a client no longer connected does not try again
    client.calls = 0
    with pytest.raises(KeyError):
        _dask_faults.scatter_context(client, "rows")


# A second cluster's scheduler moves its HTTP endpoint off the first one's port (loopback only).
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Port .* is already in use")
def test_lost_scheduler_stops_cleanly_and_resume_continues(workdir, reference, monkeypatch):
    monkeypatch.setattr(backends_module, "_CONNECT_TIMEOUT", 3.0)
    doomed = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )

    def close_cluster(evolver: Evolver, record: Any) -> None:
        if record.generation == 0:
            doomed.close()

    out = workdir / "dask-lost"
    started = time.monotonic()
    try:
        with pytest.raises(BackendError, match="lost the Dask scheduler"):
            Evolver(
                workdir / "tiny.toml",
                backend="dask",
                scheduler=doomed.scheduler_address,
                out=out,
                callbacks=[close_cluster],
                **SEARCH,
            ).fit(X, Y)
    finally:
        doomed.close()
    assert time.monotonic() - started < 40
    assert len(lines(out / "generations.jsonl")) == 1
    # The rest of the run, on this machine: the same result as the reference.
    Evolver.resume(out, X=X, y=Y, backend="local")
    assert outcome(out) == outcome(reference)
    assert journal(out) == journal(reference)


def test_missing_dask_is_one_clear_error(workdir, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    message = "the dask backend needs dask.distributed: pip install 'evosearch[dask]'"
    with pytest.raises(SettingsError) as caught:
        Evolver(workdir / "tiny.toml", backend="dask").fit([[0.0], [1.0]], [0, 1])
    assert str(caught.value) == message
    status = main(["evolve", "--genome", str(workdir / "tiny.toml"), "--backend", "dask"])
    assert status == 2
    assert capsys.readouterr().err.strip() == f"evosearch: error: {message}"


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"backend": "spark"}, "unknown backend 'spark': choose from local, dask"),
        ({"scheduler": "tcp://127.0.0.1:8786"}, "needs backend='dask'"),
        ({"backend": "dask", "scheduler": "tcp://a b"}, "scheduler must be an address"),
        ({"backend": "dask", "scheduler": 8786}, "scheduler must be an address"),
    ],
)
def test_backend_settings_are_validated_at_fit(workdir, settings, words):
    with pytest.raises(SettingsError, match=words):
        Evolver(workdir / "tiny.toml", **settings).fit([[0.0], [1.0]], [0, 1])


@pytest.mark.slow  # a CLI run on the cluster (15 s); the Python API's runs cover it in the fast run
def test_cli_flags(workdir, cluster):
    bad = evosearch("evolve", "--backend", "spark", cwd=workdir)
    assert_usage_error(bad, "--backend", "spark")
    alone = evosearch("evolve", "--scheduler", "tcp://127.0.0.1:1", cwd=workdir)
    assert_usage_error(alone, "--backend dask")
    run = evosearch(
        "evolve",
        "--genome",
        "tiny.toml",
        "--data",
        "iris",
        "--population",
        "4",
        "--generations",
        "1",
        "--quiet",
        "--backend",
        "dask",
        "--scheduler",
        cluster.scheduler_address,
        "--out",
        "cli",
        cwd=workdir,
    )
    assert run.returncode == 0, run.stderr
    settings = json.loads((workdir / "cli" / "run.json").read_text())["settings"]
    assert (settings["backend"], settings["scheduler"]) == ("dask", cluster.scheduler_address)
    # Resume takes the recorded backend unless told otherwise.
    more = evosearch(
        "resume", "cli", "--generations", "2", "--quiet", "--backend", "local", cwd=workdir
    )
    assert more.returncode == 0, more.stderr
    assert len(lines(workdir / "cli" / "generations.jsonl")) == 3
