"""``evosearch dashboard``: serve the live dashboard of a directory of runs (read only).

Its arguments are declared here (:func:`add_dashboard_parser`, called by the parser); the
server (:mod:`evosearch.dashboard`, Starlette) is imported only when the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_dashboard_parser", "run"]


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: give a number from 1 to 65535")
    return port


def add_dashboard_parser(commands: Any) -> None:
    """Add the ``dashboard`` command to the parser's ``commands`` (its subparsers)."""
    dashboard = commands.add_parser(
        "dashboard",
        help="serve a live web dashboard of the runs in a folder (read only; needs the "
        "'dashboard' extra)",
    )
    dashboard.add_argument(
        "runs_dir",
        type=Path,
        nargs="?",
        default=Path("runs"),
        metavar="RUNS_DIR",
        help="the folder of run folders (default: runs)",
    )
    dashboard.add_argument(
        "--port",
        type=_port,
        help="port to listen on (default: 8765, or a free one if that is taken)",
    )
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only; any other "
        "serves the runs to whoever reaches it, with a warning)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``evosearch dashboard`` until Ctrl-C; returns the exit status."""
    from evosearch.dashboard.server import serve

    try:
        serve(args.runs_dir, port=args.port, host=args.host)
    except KeyboardInterrupt:  # Ctrl-C (or SIGTERM) is how a server is meant to stop
        print("evosearch dashboard: stopped")
    return 0
