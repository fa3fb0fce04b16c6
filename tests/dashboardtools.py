"""Helpers for the dashboard's tests: a server in a thread, tiny real runs, journal lines."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from clitools import TINY_TOML, evosearch

#: A real run in seconds: iris, the tiny space, two folds, one process.
TINY_EVOLVE = ("--data", "iris", "--genome", "tiny.toml", "--n-jobs", "1", "--cv", "2")


def make_run(folder: Path, out: str, *args: str) -> Path:
    """``evosearch evolve`` a tiny run into ``folder/out`` (``folder`` is the command's cwd)."""
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    result = evosearch(
        "evolve",
        *TINY_EVOLVE,
        "--population",
        "6",
        "--generations",
        "2",
        *args,
        "--out",
        out,
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    return folder / out


def fit_run(out: Path, seed: int = 0) -> Path:
    """A tiny real run fitted in this process (no command start-up: quicker than evolve)."""
    from evosearch import Evolver
    from evosearch.testing._tiny import iris

    out.parent.mkdir(parents=True, exist_ok=True)
    space = out.parent / "tiny.toml"
    space.write_text(TINY_TOML, encoding="utf-8")
    evolver = Evolver(
        genome=str(space),
        population_size=6,
        generations=2,
        cv=2,
        n_jobs=1,
        random_state=seed,
        out=str(out),
    )
    evolver.fit(*iris())
    return out


def reseeded(source: Path, target: Path, seed: int) -> Path:
    """A copy of run ``source`` that says it ran with another seed (for a comparison)."""
    copy_run(source, target)
    info = json.loads((target / "run.json").read_text())
    info["settings"]["random_state"] = seed
    (target / "run.json").write_text(json.dumps(info))
    return target


def copy_run(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("weights", ".lock"))
    return target


def append_evaluations(run: Path, count: int, generation: int | None = None) -> None:
    """Append ``count`` copies of the journal's first line with new hashes (a run writing)."""
    journal = run / "journal.jsonl"
    first = json.loads(journal.read_text().splitlines()[0])
    with journal.open("a", encoding="utf-8") as stream:
        for number in range(count):
            record = dict(first, genome_hash=f"added{time.monotonic_ns()}{number:06d}")
            if generation is not None:
                record["generation"] = generation
            stream.write(json.dumps(record) + "\n")


@contextmanager
def dashboard_server(root: Path, interval: float = 0.1) -> Iterator[str]:
    """Serve ``root`` with uvicorn in a thread; yields the base URL (no trailing slash)."""
    import uvicorn

    from evosearch.dashboard import create_app
    from evosearch.dashboard.server import bind

    sock = bind("127.0.0.1", 0)
    app = create_app(root, interval=interval, allowed_hosts=["127.0.0.1", "localhost"])
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        app.state.watcher.stop()  # the open event streams end first
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
