"""Soak: a Dask search under chaos ends with an undisturbed run's archive and a clean journal.

A ``LocalCluster`` (worker processes with nannies) runs the evaluations of a real
``evosearch evolve ... --backend dask --scheduler ADDRESS --out RUN`` while a chaos loop, for
``--minutes``:

* kills a random worker with SIGKILL every few seconds, once the driver has journalled since
  the last kill (its nanny starts a new one);
* sends SIGTERM to the driver at about a quarter and three quarters of the time, once it is
  journalling (it must exit 143 with one line), and resumes the run with ``evosearch resume
  RUN``;
* once, at about half the time, fills the disk under the run folder (a 64 MB tmpfs, which
  needs root; otherwise the folder is made read-only, the same ``disk_errors`` path) until the
  driver exits 2 with one line, frees it and resumes.

Then it stops the driver one last time and finishes the generation it was in
(``resume RUN --generations G``, no chaos), runs the same search undisturbed on the same cluster
(``evolve --generations G``, same seed and settings) and checks that:

* the two archives and generation rows are equal (measured fields aside);
* the journal has no duplicate and no missing record: the same evaluations as the undisturbed
  run's journal, each once, none failed.

It prints each chaos event as it happens and a summary; the exit status is 0 when every check
passed. ``tests/test_soak.py`` runs it for about a minute in the slow run (``make test-all``).

Run: ``.venv/bin/python benchmarks/soak.py [--minutes 30] [--seed 0] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

# A generation count the chaos run never reaches: the chaos loop decides when it ends.
_ENDLESS = 1_000_000

# Seconds a driver gets to exit after SIGTERM, and to hit the full disk.
_EXIT_WAIT = 120.0

# Seconds a cluster may lack a worker before the worker is taken for lost and replaced.
_GIVE_UP = 60.0

# Measured fields, the only ones allowed to differ between two runs of one seed.
_MEASURED = ("seconds", "peak_memory_mb")


@dataclass
class SoakReport:
    """What a soak did and found (``ok``: every check passed)."""

    minutes: float
    seed: int
    disk: str = "tmpfs"
    worker_kills: int = 0
    workers_replaced: int = 0
    sigterms: int = 0
    disk_fills: int = 0
    resumes: int = 0
    unexpected_exits: list[str] = field(default_factory=list)
    generations: int = 0
    chaos_seconds: float = 0.0
    finish_seconds: float = 0.0
    reference_seconds: float = 0.0
    journal_records: int = 0
    duplicates: int = 0
    missing: int = 0
    extra: int = 0
    failed: int = 0
    journal_equal: bool = False
    archive_equal: bool = False
    generations_equal: bool = False

    @property
    def ok(self) -> bool:
        return (
            not self.unexpected_exits
            and self.sigterms > 0
            and self.worker_kills > 0
            and self.duplicates == self.missing == self.extra == self.failed == 0
            and self.journal_equal
            and self.archive_equal
            and self.generations_equal
        )


def _measured_dropped(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _measured_dropped(v) for k, v in value.items() if k not in _MEASURED}
    if isinstance(value, list):
        return [_measured_dropped(v) for v in value]
    return value


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _journal_keys(records: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    return Counter((r["genome_hash"], str(r.get("folds"))) for r in records)


class _Disk:
    """Where the chaos run's folder lives, and how the chaos loop fills it up and frees it."""

    def __init__(self, where: Path) -> None:
        self.where = where
        where.mkdir(parents=True)
        command = ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(where)]
        mounted = subprocess.run(command, capture_output=True, check=False).returncode == 0
        self.mode = "tmpfs" if mounted else ("read-only" if os.geteuid() != 0 else "none")

    def fill(self, run: Path) -> None:
        if self.mode == "tmpfs":  # a real full disk: write until there is no byte left
            handle = os.open(self.where / "filler", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            try:
                for size in (1 << 20, 1 << 12, 1):
                    try:
                        while True:
                            os.write(handle, b"\0" * size)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
            finally:
                os.close(handle)
        elif self.mode == "read-only":  # the same disk_errors path: EACCES
            for path in [run, *run.rglob("*")]:
                path.chmod(0o555 if path.is_dir() else 0o444)

    def free(self, run: Path) -> None:
        if self.mode == "tmpfs":
            (self.where / "filler").unlink(missing_ok=True)
        elif self.mode == "read-only":
            for path in [run, *run.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)

    def close(self) -> None:
        if self.mode == "tmpfs":
            subprocess.run(["umount", str(self.where)], capture_output=True, check=False)


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "evosearch.cli", *args]


def _start(args: list[str], cwd: Path, log: Callable[[str], None], what: str) -> Any:
    log(what)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def _ended(process: Any, timeout: float | None) -> tuple[int, str]:
    """Wait for ``process``; its exit status and last stderr line."""
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    tail = [line for line in stderr.splitlines() if line.strip()][-1:]
    return process.returncode, tail[0] if tail else ""


def _worker_pids(cluster: Any) -> dict[str, int]:
    """Address -> pid of the cluster's live worker processes (through their nannies: asking
    the workers themselves waits on one that is restarting)."""
    pids = {}
    for nanny in list(cluster.workers.values()):
        process = getattr(getattr(nanny, "process", None), "process", None)
        pid = getattr(process, "pid", None)
        if pid is not None and nanny.worker_address is not None:
            pids[nanny.worker_address] = pid
    return pids


def _replace_lost_workers(cluster: Any, workers: int) -> int:
    """Replace the workers that are not registered (their nanny gave up: a worker killed while
    it was starting, on a loaded machine); how many."""
    registered = {info.get("name") for info in cluster.scheduler_info["workers"].values()}
    lost = [name for name in list(cluster.worker_spec) if name not in registered]
    for name in lost:
        del cluster.worker_spec[name]
    if lost:
        cluster.scale(workers)
    return len(lost)


def _journal_size(run: Path) -> int:
    try:
        return (run / "journal.jsonl").stat().st_size
    except OSError:
        return -1


def _working(run: Path, since: int) -> bool:
    """Whether the driver journalled something since it started (so a stop interrupts work)."""
    return _journal_size(run) > max(since, 0)


def _finished_generation(run: Path) -> int:
    """The last generation the run's checkpoint holds (-1: none yet)."""
    try:
        return int(json.loads((run / "checkpoint.json").read_text())["generation"])
    except (OSError, ValueError, KeyError):
        return -1


def soak(
    minutes: float,
    workdir: Path,
    *,
    seed: int = 0,
    chaos_seed: int = 0,
    workers: int = 2,
    population: int = 8,
    data: str = "digits",
    kill_every: tuple[float, float] = (4.0, 10.0),
    log: Callable[[str], None] | None = None,
) -> SoakReport:
    """Run the soak in ``workdir`` (see the module notes) for ``minutes`` of chaos.

    Parameters
    ----------
    minutes : float
        How long the chaos lasts; the finish and the undisturbed run come on top.
    workdir : Path
        An empty folder for the runs (a tmpfs is mounted on ``workdir/disk`` when possible).
    seed : int
        The runs' seed.
    chaos_seed : int
        Seed of the chaos loop's choices (which worker, when); the timing still varies.
    workers : int
        Single-threaded worker processes of the cluster.
    population : int
        The runs' population size.
    data : str
        A bundled data set (``--data``).
    kill_every : tuple of float
        A worker is killed every ``uniform(*kill_every)`` seconds.
    log : callable, optional
        Where event lines go (default: printed as they happen).

    Returns
    -------
    SoakReport
    """
    from distributed import LocalCluster

    from evosearch.testing._tiny import tiny_toml

    started = time.monotonic()
    rng = random.Random(chaos_seed)
    report = SoakReport(minutes=minutes, seed=seed)

    def note(text: str) -> None:
        line = f"[{time.monotonic() - started:7.1f} s] {text}"
        if log is None:
            print(line, flush=True)
        else:
            log(line)

    (workdir / "space.toml").write_text(tiny_toml((10, 20)), encoding="utf-8")
    disk = _Disk(workdir / "disk")
    report.disk = disk.mode
    run = disk.where / "run"
    search: tuple[str, ...] = ("--genome", "space.toml", "--data", data)
    search += ("--population", str(population), "--seed", str(seed), "--quiet")
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        # Above CRITICAL: the scheduler logs its writes to every driver SIGTERM stopped.
        silence_logs=logging.CRITICAL + 10,
    )
    backend = ("--backend", "dask", "--scheduler", cluster.scheduler_address)
    evolve = _command(
        "evolve", *search, *backend, "--generations", str(_ENDLESS), "--out", str(run)
    )
    resume = _command("resume", str(run), "--quiet")
    driver: Any = None
    try:
        driver = _start(evolve, workdir, note, "driver: evolve")
        since = -1  # the journal's size when the driver started: stop it once it has grown
        chaos_end = started + minutes * 60
        span = chaos_end - started
        # SIGTERMs at a quarter and three quarters of the time, the full disk at the half.
        sigterms = [
            started + span * share + rng.uniform(-0.05, 0.05) * span for share in (0.25, 0.75)
        ]
        fill_at: float | None = started + span * 0.5
        next_kill = started + rng.uniform(*kill_every)
        journal_at_kill = -2  # the journal's size at the last kill (-1: no journal yet)
        short_since: float | None = None  # since when the cluster lacks a worker
        while time.monotonic() < chaos_end:
            now = time.monotonic()
            if driver.poll() is not None:
                code, line = _ended(driver, 0)
                report.unexpected_exits.append(f"{code}: {line}")
                note(f"driver exited on its own ({code}): {line}")
                driver = _start(resume, workdir, note, "driver: resume")
                since = _journal_size(run)
                report.resumes += 1
            if len(cluster.scheduler_info["workers"]) >= workers:
                short_since = None
            elif short_since is None:
                short_since = now
            elif now - short_since > _GIVE_UP:
                short_since = None
                report.workers_replaced += _replace_lost_workers(cluster, workers)
                note(f"replaced workers whose nanny gave up ({report.workers_replaced} so far)")
            # A kill waits for progress since the last one (a journal that grew): the chaos
            # must not outpace the search on a loaded machine, and a cluster that stops
            # making progress after a kill shows as a run without its SIGTERMs.
            if now >= next_kill and _journal_size(run) > journal_at_kill:
                journal_at_kill = _journal_size(run)
                next_kill = now + rng.uniform(*kill_every)
                pids = _worker_pids(cluster)
                # Only a full cluster loses a worker: a worker killed while its nanny is still
                # starting it can take the nanny down for good (no worker left at all).
                if len(pids) == workers and set(pids) <= set(cluster.scheduler_info["workers"]):
                    victim = rng.choice(sorted(pids))
                    try:
                        os.kill(pids[victim], signal.SIGKILL)
                    except ProcessLookupError:  # dead already, its nanny not done restarting
                        continue
                    report.worker_kills += 1
                    note(f"killed worker {victim} (pid {pids[victim]})")
            if sigterms and now >= sigterms[0] and _working(run, since):
                sigterms.pop(0)
                driver.send_signal(signal.SIGTERM)
                code, line = _ended(driver, _EXIT_WAIT)
                note(f"SIGTERM to the driver: exit {code}: {line}")
                report.sigterms += 1
                if code != 128 + signal.SIGTERM:
                    report.unexpected_exits.append(f"{code}: {line}")
                driver = _start(resume, workdir, note, "driver: resume")
                since = _journal_size(run)
                report.resumes += 1
            if (
                fill_at is not None
                and now >= fill_at
                and disk.mode != "none"
                and _working(run, since)
            ):
                fill_at = None
                disk.fill(run)
                note(f"disk full ({disk.mode})")
                code, line = _ended(driver, _EXIT_WAIT)
                note(f"driver exit {code}: {line}")
                report.disk_fills += 1
                if code != 2 or "cannot write run folder" not in line:
                    report.unexpected_exits.append(f"{code}: {line}")
                disk.free(run)
                note("disk freed")
                driver = _start(resume, workdir, note, "driver: resume")
                since = _journal_size(run)
                report.resumes += 1
            time.sleep(0.1)
        report.chaos_seconds = time.monotonic() - started

        # The end: stop the driver and finish the generation it was in, undisturbed.
        driver.send_signal(signal.SIGTERM)
        code, line = _ended(driver, _EXIT_WAIT)
        note(f"chaos over; SIGTERM to the driver: exit {code}: {line}")
        if code not in (0, 128 + signal.SIGTERM):
            report.unexpected_exits.append(f"{code}: {line}")
        report.generations = max(_finished_generation(run) + 1, 1)  # 1 at least: gen 0 and 1
        finish = time.monotonic()
        final = _start(
            [*resume, "--generations", str(report.generations)], workdir, note, "driver: finish"
        )
        code, line = _ended(final, None)
        report.finish_seconds = time.monotonic() - finish
        if code != 0:
            report.unexpected_exits.append(f"{code}: {line}")
        note(f"finished {report.generations} generations: exit {code}")

        reference = workdir / "reference"
        begin = time.monotonic()
        straight = _command(
            "evolve", *search, *backend, "--generations", str(report.generations),
            "--out", str(reference),
        )  # fmt: skip
        code, line = _ended(_start(straight, workdir, note, "undisturbed run"), None)
        report.reference_seconds = time.monotonic() - begin
        if code != 0:
            report.unexpected_exits.append(f"reference {code}: {line}")
        note(f"undisturbed run: exit {code}")
        _compare(run, reference, report)
    finally:
        if driver is not None and driver.poll() is None:  # interrupted: no orphan driver
            driver.send_signal(signal.SIGTERM)
            _ended(driver, _EXIT_WAIT)
        cluster.close()
        if run.exists():  # off the tmpfs, for a look afterwards
            shutil.copytree(run, workdir / "run", dirs_exist_ok=True)
        disk.close()
    return report


def _compare(run: Path, reference: Path, report: SoakReport) -> None:
    """Fill ``report``'s checks: ``run`` against the undisturbed ``reference``."""
    if not (run / "archive.json").exists() or not (reference / "archive.json").exists():
        return
    records, wanted = _lines(run / "journal.jsonl"), _lines(reference / "journal.jsonl")
    keys, reference_keys = _journal_keys(records), _journal_keys(wanted)
    report.journal_records = len(records)
    report.duplicates = sum(count - 1 for count in keys.values())
    report.missing = len(set(reference_keys) - set(keys))
    report.extra = len(set(keys) - set(reference_keys))
    report.failed = sum(1 for r in records if r.get("error"))

    def ordered(entries: list[dict[str, Any]]) -> list[Any]:
        entries = _measured_dropped(entries)
        return sorted(
            entries, key=lambda e: (e["generation"], e["genome_hash"], str(e.get("folds")))
        )

    report.journal_equal = ordered(records) == ordered(wanted)
    archive = [
        _measured_dropped(json.loads((f / "archive.json").read_text())) for f in (run, reference)
    ]
    report.archive_equal = archive[0] == archive[1]
    rows = [_measured_dropped(_lines(f / "generations.jsonl")) for f in (run, reference)]
    report.generations_equal = rows[0] == rows[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="chaos duration (30)")
    parser.add_argument("--seed", type=int, default=0, help="the runs' seed (0)")
    parser.add_argument("--chaos-seed", type=int, default=0, help="the chaos loop's seed (0)")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (2)")
    parser.add_argument("--population", type=int, default=8, help="population size (8)")
    parser.add_argument("--data", default="digits", help="bundled data set (digits)")
    parser.add_argument("--keep", type=Path, help="keep the runs in this new folder")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.workers < 1 or args.population < 2:
        parser.error("--minutes must be > 0, --workers >= 1, --population >= 2")
    if args.keep is not None and args.keep.exists():
        parser.error(f"--keep {args.keep}: exists already")
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="evosearch-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        report = soak(
            args.minutes,
            workdir,
            seed=args.seed,
            chaos_seed=args.chaos_seed,
            workers=args.workers,
            population=args.population,
            data=args.data,
        )
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
    print("soak: PASSED" if report.ok else "soak: FAILED")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
