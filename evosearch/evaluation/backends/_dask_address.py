"""A Dask scheduler's address, checked before anything connects to it.

A malformed address (no port, an unknown scheme) is a :class:`~evosearch.errors.SettingsError`
at settings time; a scheduler that cannot be reached (nothing listening, a host that does not
answer, an unknown host name) a :class:`~evosearch.errors.BackendError` from :func:`probe`,
after at most :data:`PROBE_TIMEOUT` seconds. Either is one line naming the address. Without
them, ``distributed`` answered a malformed address with a ``ValueError`` traceback and retried
a refused connection for its whole connect timeout.

``distributed`` is imported inside the functions: the Dask backend's callers have checked it is
installed (``DaskBackend.unavailable``), the core never needs it.
"""

from __future__ import annotations

import gc
import socket

from evosearch.errors import BackendError, SettingsError

__all__ = ["PROBE_TIMEOUT", "check_address", "client_failed", "collect_client", "probe"]

#: Seconds :func:`probe` waits for a TCP connection to the scheduler.
PROBE_TIMEOUT = 10.0

# Schemes whose address is HOST:PORT (a TCP connection tells whether anything listens).
_TCP_SCHEMES = ("tcp", "tls", "ws", "wss")

_EXPECTED = "expected tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"


def _host_port(address: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of ``address``; host "" and port None where the scheme has
    none (inproc, ucx). Raises ValueError with the reason it is malformed."""
    from distributed.comm.addressing import get_address_host_port, parse_address
    from distributed.comm.registry import backends

    scheme, _ = parse_address(address)
    if scheme not in backends:
        known = ", ".join(sorted(backends))
        raise ValueError(f"unknown scheme {scheme!r} (known: {known})")
    if scheme not in _TCP_SCHEMES:
        return scheme, "", None
    try:
        host, port = get_address_host_port(address)
    except ValueError as exc:
        reason = "no port" if "missing port" in str(exc) else "not HOST:PORT"
        raise ValueError(reason) from None
    if not host:
        raise ValueError("no host")
    if not 0 < int(port) < 65536:
        raise ValueError(f"port {port} is not in 1-65535")
    return scheme, str(host), int(port)


def check_address(address: str, origin: str = "") -> str:
    """``address``, if it is a scheduler address ``distributed`` can connect to.

    Parameters
    ----------
    address : str
        ``tcp://HOST:PORT`` (``HOST:PORT`` means tcp), or another scheme ``distributed``
        knows (tls, ws, wss: HOST:PORT too; inproc, ucx: not checked further).
    origin : str, optional
        Where it came from, for the message (e.g. ``"$EVOSEARCH_DASK_SCHEDULER"``).

    Raises
    ------
    SettingsError
        One line naming the address, what is wrong and the form expected.
    """
    try:
        _host_port(address)
    except ValueError as exc:
        where = f" (from {origin})" if origin else ""
        raise SettingsError(
            f"scheduler address {address!r}{where} is malformed: {exc}; {_EXPECTED}"
        ) from None
    return address


def probe(address: str, timeout: float | None = None) -> None:
    """Check that a scheduler listens at ``address``: a TCP connection, and for ``tcp://`` the
    first byte of the handshake a Dask scheduler sends as soon as it accepts (without it,
    ``distributed``'s client waits for it forever); then the connection is closed.

    Addresses of other schemes (inproc, ucx) are not probed; tls, ws and wss only connected
    (their servers wait for the client to speak first).

    Parameters
    ----------
    address : str
    timeout : float, optional
        Seconds to wait for the connection, then for the first byte (default
        :data:`PROBE_TIMEOUT`).

    Raises
    ------
    BackendError
        Nothing listens there, the host does not answer in time, the host name is unknown,
        what listens sends nothing or hangs up, or another network error: one line naming
        the address.
    """
    try:
        scheme, host, port = _host_port(address)
    except ValueError:
        return  # check_address refuses it; distributed's own error otherwise
    if port is None:
        return
    timeout = PROBE_TIMEOUT if timeout is None else timeout
    prefix = f"cannot connect to the Dask scheduler at {address}"
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            if scheme == "tcp":
                _first_byte(connection, prefix, timeout)
    except ConnectionRefusedError:
        raise BackendError(
            f"{prefix}: nothing listens there (connection refused); is the scheduler running "
            "(dask scheduler) and is that its port?"
        ) from None
    except socket.gaierror:
        raise BackendError(f"{prefix}: unknown host {host!r}") from None
    except TimeoutError:
        raise BackendError(
            f"{prefix}: no answer in {timeout:g} s; is the host reachable from here (a "
            "firewall, a VPN)?"
        ) from None
    except OSError as exc:
        raise BackendError(f"{prefix}: {exc.strerror or exc}") from None


def _first_byte(connection: socket.socket, prefix: str, timeout: float) -> None:
    connection.settimeout(timeout)
    try:
        first = connection.recv(1)
    except TimeoutError:
        raise BackendError(
            f"{prefix}: something listens there but sent nothing in {timeout:g} s, where a "
            "Dask scheduler answers at once; is that the scheduler's port (not its dashboard's)?"
        ) from None
    if not first:
        raise BackendError(
            f"{prefix}: what listens there hung up at once; is that the scheduler's port?"
        )


def collect_client() -> None:
    """Collect a ``Client`` whose connection failed, while its event loop still runs: left to
    the interpreter's exit, its ``__del__`` waits 60 s for that loop and prints a traceback.
    Call it once nothing refers to the failure's traceback (outside the ``except`` block)."""
    gc.collect()


def client_failed(address: str, exc: BaseException) -> BackendError:
    """The error for a ``Client`` that could not connect to ``address`` (it refused us)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return BackendError(
        f"cannot connect to the Dask scheduler at {address}: {detail}; is it a Dask scheduler "
        "of a compatible version, and does it accept this client (TLS, authentication)?"
    )
