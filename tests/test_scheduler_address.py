"""A Dask scheduler address that is malformed, unreachable or refuses us: one line naming it.

Malformed (no port, an unknown scheme): a SettingsError when the settings are checked.
Nothing listening, or an unknown host: a BackendError from a TCP probe, before the run folder
is made. A scheduler that answers but is not one (refuses the client): a BackendError when the
client connects, with no 60-s wait at exit for the half-made client.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

from clitools import REPO, TINY_TOML
from evosearch import Evolver
from evosearch.cli.main import main
from evosearch.errors import BackendError, SettingsError
from evosearch.evaluation import Evaluator
from evosearch.evaluation.backends import SCHEDULER_ENV
from evosearch.evaluation.backends import _dask_address as address_module
from evosearch.evaluation.backends._dask_address import check_address, probe
from evosearch.space import Genome
from evosearch.testing._tiny import TINY_HYPER

X = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.2, 0.8]] * 5
Y = [0, 1, 0, 1] * 5


def free_port() -> int:
    """A port of 127.0.0.1 where nothing listens (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def genome(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return path


class Server:
    """Accepts TCP connections on 127.0.0.1 and answers each with ``reply``, then hangs up
    (None: says nothing, the connection stays open)."""

    def __init__(self, reply: bytes | None) -> None:
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.reply is None:
                self.held.append(conn)
            else:
                conn.sendall(self.reply)
                conn.close()

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent() -> Iterator[Server]:
    server = Server(None)
    yield server
    server.close()


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("async", "'async' is malformed: no port"),
        ("tcp://127.0.0.1", "'tcp://127.0.0.1' is malformed: no port"),
        ("foo://127.0.0.1:8786", "unknown scheme 'foo'"),
        ("tcp://:8786", "no host"),
        ("tcp://127.0.0.1:99999", "not in 1-65535"),
        ("tcp://127.0.0.1:x", "not HOST:PORT"),
    ],
)
def test_a_malformed_address_is_one_settings_error(genome, address, words, tmp_path) -> None:
    with pytest.raises(SettingsError, match=words) as caught:
        Evolver(genome, backend="dask", scheduler=address, out=tmp_path / "run").fit(X, Y)
    assert "expected tcp://HOST:PORT" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "run").exists()


def test_the_environment_variables_address_is_checked_and_named(genome, monkeypatch) -> None:
    monkeypatch.setenv(SCHEDULER_ENV, "async")
    with pytest.raises(SettingsError, match=rf"'async' \(from \${SCHEDULER_ENV}\) is malformed"):
        Evolver(genome, backend="dask").fit(X, Y)


def test_nothing_listening_is_refused_at_once_before_the_run_folder(genome, tmp_path) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(BackendError, match="nothing listens there") as caught:
        Evolver(genome, backend="dask", scheduler=address, out=tmp_path / "run").fit(X, Y)
    assert time.monotonic() - started < 10  # not distributed's 30 s of retries
    assert address in str(caught.value)
    assert not (tmp_path / "run").exists()


def test_the_probe_names_an_unknown_host_and_passes_a_server_that_speaks_first() -> None:
    with pytest.raises(BackendError, match=r"unknown host 'no-such-host\.invalid'"):
        probe("tcp://no-such-host.invalid:8786")
    speaking = Server(b":")  # the first byte of a scheduler's handshake
    try:
        probe(speaking.address)
    finally:
        speaking.close()
    assert check_address("127.0.0.1:8786") == "127.0.0.1:8786"  # tcp by default


def test_something_silent_or_hanging_up_is_no_scheduler(silent, monkeypatch) -> None:
    # A Dask scheduler speaks first; distributed's client would wait for it forever.
    monkeypatch.setattr(address_module, "PROBE_TIMEOUT", 0.5)
    with pytest.raises(BackendError, match=r"sent nothing in 0\.5 s.*not its dashboard's"):
        probe(silent.address)
    hanging_up = Server(b"")
    try:
        with pytest.raises(BackendError, match="hung up at once"):
            probe(hanging_up.address)
    finally:
        hanging_up.close()


def test_a_server_that_refuses_the_client_is_one_line() -> None:
    # It answers, but not as a scheduler: the client's error, in one line naming the address.
    server = Server(b"HTTP/1.0 400 Bad Request\r\n\r\n")
    data = np.asarray(X), np.asarray(Y)
    evaluator = Evaluator(*data, "classification", cv=2, backend="dask", scheduler=server.address)
    layer = {"kind": "dense", "units": 4, "activation": "relu", "dropout": 0.0}
    try:
        with pytest.raises(BackendError, match="cannot connect to the Dask scheduler at") as caught:
            evaluator.evaluate([Genome.chain(2, 2, [layer], TINY_HYPER)])
    finally:
        evaluator.close()
        server.close()
    assert server.address in str(caught.value) and "\n" not in str(caught.value)


def test_cli_says_a_bad_scheduler_in_one_line(genome, capsys) -> None:
    common = ["evolve", "--genome", str(genome), "--data", "iris", "--backend", "dask"]
    for address, words in [
        ("tcp://127.0.0.1", "is malformed: no port"),
        (f"tcp://127.0.0.1:{free_port()}", "nothing listens there"),
    ]:
        assert main([*common, "--scheduler", address]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("evosearch: error: ") and words in err and address in err
        assert len(err.splitlines()) == 1


@pytest.mark.slow  # a fresh process (imports: seconds)
def test_cli_against_a_server_that_is_no_scheduler_exits_at_once(genome, tmp_path) -> None:
    # Garbage for a handshake: one line, exit 2, and no half-made client that makes the
    # interpreter's exit wait 60 s and print a traceback.
    server = Server(b"HTTP/1.0 400 Bad Request\r\n\r\n")
    try:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "evosearch.cli", "evolve", "--genome", str(genome),
             "--data", "iris", "--backend", "dask", "--scheduler", server.address,
             "--population", "2", "--generations", "1", "--out", str(tmp_path / "run")],
            cwd=REPO, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        server.close()
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("evosearch: error: cannot connect to the Dask scheduler at")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert time.monotonic() - started < 50
