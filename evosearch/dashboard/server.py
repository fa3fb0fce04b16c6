"""Starting the dashboard: the listening socket, the warning for a public address, uvicorn.

:func:`serve` binds the socket itself (so the address is known, and a port in use is one
line, before anything starts), then runs uvicorn on it until Ctrl-C.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import sys
from pathlib import Path
from typing import Any, TextIO

from evosearch.errors import EvosearchError

__all__ = ["DEFAULT_PORT", "bind", "serve"]

#: Tried first when no port is given; if it is taken, the system picks a free one.
DEFAULT_PORT = 8765


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int | None) -> socket.socket:
    """A listening socket on ``host``: on ``port``, or on :data:`DEFAULT_PORT` or else any
    free port when ``port`` is None; a port in use or an unknown host is one line."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise EvosearchError(f"cannot listen on host {host!r}: {exc.strerror}") from None
    family = infos[0][0]
    for candidate in [port] if port is not None else [DEFAULT_PORT, 0]:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            if port is None and exc.errno == errno.EADDRINUSE:
                continue
            why = "it is in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise EvosearchError(f"cannot listen on {host} port {candidate}: {why}") from None
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    raise EvosearchError(f"cannot listen on {host}: no free port")  # pragma: no cover


def url_of(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    path: str | Path = "runs",
    port: int | None = None,
    host: str = "127.0.0.1",
    *,
    interval: float = 0.5,
    out: TextIO | None = None,
) -> None:
    """Serve the live dashboard of the runs under ``path`` until interrupted (Ctrl-C).

    Parameters
    ----------
    path : path-like, default="runs"
        The directory of run folders (it may be empty; runs started later appear).
    port : int, optional
        The port; default :data:`DEFAULT_PORT`, or a free one if that is taken.
    host : str, default="127.0.0.1"
        The address to listen on. Anything but a loopback address serves the runs to
        whoever can reach this machine, with no login: a warning says so.
    interval : float, default=0.5
        Seconds between two looks at the run folders.
    out : text stream, optional
        Where the address (and any warning) is printed; default standard output.

    Raises
    ------
    EvosearchError
        If ``path`` is not a directory, the host is unknown or the port is in use, or the
        ``dashboard`` extra is not installed.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise EvosearchError(
            f"runs directory {folder} not found"
            + (": it is a file" if folder.exists() else " (evosearch evolve writes runs/)")
        )
    try:
        import uvicorn

        from evosearch.dashboard.app import create_app
    except ImportError as exc:
        raise EvosearchError(
            f"the dashboard needs {exc.name or 'its libraries'}: pip install 'evosearch[dashboard]'"
        ) from None
    out = out or sys.stdout
    sock = bind(host, port)
    allowed = None
    if is_loopback(host):
        # A page of another site could otherwise reach this server through a DNS name made
        # to point at 127.0.0.1; loopback names only.
        allowed = ["127.0.0.1", "localhost", "::1", "[::1]"]
    else:
        print(
            f"warning: listening on {host}: anyone who can reach this machine can read these "
            "runs (the dashboard has no login)",
            file=out,
            flush=True,
        )
    app = create_app(folder, interval=interval, allowed_hosts=allowed, label=str(path))
    print(
        f"evosearch dashboard: {folder} at {url_of(sock, host)} (Ctrl-C to stop)",
        file=out,
        flush=True,
    )
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        # Open event streams never end on their own: do not wait for them at Ctrl-C.
        timeout_graceful_shutdown=1,
        lifespan="on",
    )
    watcher = app.state.watcher

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            watcher.stop()  # open event streams end now, so no connection is cut mid-way
            super().handle_exit(sig, frame)

    try:
        Server(config).run(sockets=[sock])
    finally:
        sock.close()
