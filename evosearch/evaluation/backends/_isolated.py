"""One fold trained in a child process of its own: the Dask backend's verdict on a suspect.

When Dask gives up on a fold whose workers died while it ran (``KilledWorker``), the fold may
have crashed them, or it may have been running beside the fold that did, or its worker may have
been killed from outside. The Dask backend then trains it once more *on its own*: the Dask task
starts this module as a child process (``python -m``), hands it the evaluator's data and the
fold's arguments (cloudpickled, on stdin) and waits. A child that dies convicts the fold (its
genome fails with ``WorkerDied``) without taking the worker, or any other fold, with it; a child
that finishes gives the fold's outcome, the same as any worker would have given (same seed).

The child exits within a second of its parent's death (a worker restarted for a time-out), and
BLAS is capped to one thread in it, as in every worker.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evosearch.evaluation._limits import ONE_THREAD_ENV
from evosearch.evaluation.tasks import FoldContext, FoldOutcome, fit_fold

__all__ = ["IsolationUnavailable", "run_isolated"]

# How often the child checks that its parent (the Dask worker) is alive, in seconds.
_PARENT_POLL = 1.0

# How often the parent looks whether the child started training or ended, in seconds.
_WATCH = 0.05

# Exit status of a child that could not even load its task (not the fold's doing).
_LOAD_FAILED = 97


class IsolationUnavailable(RuntimeError):
    """The child could not start or load its task: no verdict on the fold."""


def _how(returncode: int) -> str:
    """``EXIT(1)``, ``SIGSEGV(-11)``: how a process ended, as the local backend words it."""
    if returncode < 0:
        try:
            return f"{signal.Signals(-returncode).name}({returncode})"
        except ValueError:
            return f"signal {-returncode}"
    return f"EXIT({returncode})"


def run_isolated(
    context: FoldContext,
    args: tuple[Any, ...],
    fold: int,
    on_start: Callable[[], None] | None = None,
) -> FoldOutcome | str:
    """Train one fold (``fit_fold(context, *args)``) in a child process and wait for it.

    ``on_start`` is called once the child has loaded the task and starts training (so a time
    limit does not count the child's start-up: seconds of imports).

    Returns
    -------
    FoldOutcome or str
        The fold's outcome, or how the child died (``"SIGSEGV(-11)"``) when it died training.

    Raises
    ------
    IsolationUnavailable
        When the child could not start or load the task (a broken environment, not the fold).
    """
    import cloudpickle  # a dependency of dask.distributed; fit hooks may be closures

    payload = cloudpickle.dumps((context, args), protocol=pickle.HIGHEST_PROTOCOL)
    env = {**os.environ, **ONE_THREAD_ENV}
    # The child must import what this worker imports (a fit hook's module, a plug-in).
    env["PYTHONPATH"] = os.pathsep.join(entry for entry in sys.path if entry)
    with tempfile.TemporaryDirectory(prefix="evosearch-isolated-") as folder:
        result = Path(folder) / "outcome.pkl"
        errors = Path(folder) / "stderr.txt"
        started = Path(folder) / "started"
        with errors.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(result), str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=env,
            )
            assert process.stdin is not None
            try:
                process.stdin.write(payload)
                process.stdin.close()
            except BrokenPipeError:  # it died loading; its status says how
                pass
            reported = False
            while process.poll() is None:
                if on_start is not None and not reported and started.exists():
                    reported = True
                    on_start()
                time.sleep(_WATCH)
        if process.returncode == 0 and result.exists():
            with result.open("rb") as stream:
                outcome: FoldOutcome = pickle.load(stream)
            return outcome
        if process.returncode == _LOAD_FAILED or not started.exists():
            tail = errors.read_text(errors="replace").strip().splitlines()[-1:]
            raise IsolationUnavailable(
                f"a process to train fold {fold} on its own failed to start "
                f"({_how(process.returncode or 0)}{': ' + tail[0] if tail else ''})"
            )
        return _how(process.returncode or 0)


def _exit_with_parent(parent: int) -> None:
    # A worker restarted for a time-out cannot stop this process: it stops itself.
    while True:
        time.sleep(_PARENT_POLL)
        if os.getppid() != parent:
            os._exit(0)


def _main(result: str, parent: int) -> None:
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    try:
        context, args = pickle.loads(sys.stdin.buffer.read())
    except Exception:
        import traceback

        traceback.print_exc()
        sys.exit(_LOAD_FAILED)
    # From here on, a death is the fold's own doing (the parent tells the two apart by this).
    (Path(result).parent / "started").touch()
    outcome = fit_fold(context, *args, limit_threads=True)
    partial = Path(result + ".part")
    with partial.open("wb") as stream:
        pickle.dump(outcome, stream, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(result)


if __name__ == "__main__":
    _main(sys.argv[1], int(sys.argv[2]))
