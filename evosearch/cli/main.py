"""The ``evosearch`` command line.

Problems a user can fix (bad data, an unknown genome, impossible settings) print one line
``evosearch: error: ...`` on standard error and exit with status 2, never a traceback.

Each command is a module of its own with a ``run(args)`` function (:mod:`evosearch.cli.evolve`,
``resume``, ``show``, ``export``, ``predict``, ``replay``, ``report``, ``calibrate``, ``genomes``,
``plugins``), imported only when that command runs; :mod:`evosearch.cli._parser` holds the
arguments of all of them.

Plug-ins (layer kinds, objectives, strategies, backends that register themselves when imported)
are loaded before any command runs: the modules named in ``$EVOSEARCH_PLUGINS`` and the
``evosearch.plugins`` entry points (see :mod:`evosearch.plugins`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import select
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from evosearch.cli._parser import EXIT_USAGE, build_parser
from evosearch.cli._signals import STOP_SIGNALS, Stopped, stop_on_signals
from evosearch.errors import BudgetWarning, EvosearchError
from evosearch.plugins import load_plugins

__all__ = ["main"]

EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        return _main(argv)
    finally:
        if argv is None:
            # The process's own command line (not a call from Python), ending: a Ctrl-C from
            # now on would only cut short the clean-up at exit (the workers' threads joined)
            # into a traceback.
            for stop in (signal.SIGINT, *STOP_SIGNALS):
                signal.signal(stop, signal.SIG_IGN)


def _main(argv: Sequence[str] | None) -> int:
    args: argparse.Namespace | None = None  # read by the handlers below once parsed
    try:
        # From the first line on: a Ctrl-C (or SIGTERM) while the heavy modules are still
        # importing, which parsing and each command do, ends in one line too.
        with stop_on_signals():
            # The command line says it in its own words (cli/_output.py, deadline_note).
            warnings.filterwarnings("ignore", category=BudgetWarning)
            load_plugins()  # before parsing: plug-ins add choices (strategies, backends)
            try:
                args = build_parser().parse_args(argv)
            except SystemExit as exc:  # --help, --version, or a bad option said in one line
                return exc.code if isinstance(exc.code, int) else EXIT_USAGE
            return _dispatch(args)
    except EvosearchError as exc:
        print(f"evosearch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        if not _reader_gone():
            raise  # some other pipe or socket: a real error
        # The reader of our output went away (``evosearch show RUN | head``): stop without a
        # traceback, as other tools do.
        _silence_stdout()
        folder = _started_run(args)
        if folder is not None:
            print(
                "evosearch: standard output was closed; the run folder keeps every finished "
                f"evaluation; continue with: evosearch resume {folder}",
                file=sys.stderr,
            )
        return 1
    except KeyboardInterrupt as exc:
        how = f"stopped by {exc.name}" if isinstance(exc, Stopped) else "interrupted"
        folder = _started_run(args)
        resume = (
            f"; the run folder keeps every finished evaluation; continue with: evosearch resume "
            f"{folder}"
            if folder is not None
            else ""
        )
        print(f"evosearch: {how}{resume}", file=sys.stderr)
        return 128 + exc.signum if isinstance(exc, Stopped) else EXIT_INTERRUPTED


def _started_run(args: argparse.Namespace | None) -> Path | None:
    """The run folder the command was writing or continuing, if it holds a run (an evolve
    stopped before its folder was made has nothing to resume)."""
    folder = getattr(args, "run_folder", None)
    if folder is not None and (Path(folder) / "run.json").is_file():
        return Path(folder)
    return None


def _dispatch(args: argparse.Namespace) -> int:
    # Each command's module is imported only when run: ``evosearch --help`` stays instant.
    command = importlib.import_module(f"evosearch.cli.{args.command}")
    status = int(command.run(args))
    if sys.stdout is not None:
        try:
            sys.stdout.flush()  # a closed pipe fails here, not in the interpreter's exit
        except BrokenPipeError:
            _silence_stdout()
            return 1
    return status


def _silence_stdout() -> None:
    """Point standard output at devnull, so that the interpreter's final flush of what is
    still buffered does not fail again on the closed pipe."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # no descriptor behind sys.stdout
        pass


def _reader_gone() -> bool:
    """Whether standard output is a pipe whose reading end is closed (poll says POLLERR)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows), no descriptor
        return False


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
