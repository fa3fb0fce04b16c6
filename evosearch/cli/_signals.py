"""SIGTERM and SIGHUP stop a run the way Ctrl-C does.

Batch schedulers (SLURM, systemd, container runtimes) stop a job with SIGTERM and, after a grace
period, SIGKILL; a closed terminal sends SIGHUP. Python's default for both is to die on the spot,
leaving the worker machinery to complain about leaked semaphores. Here the first such signal
raises :class:`Stopped`, a :class:`KeyboardInterrupt`, so the run ends through exactly the code
path of Ctrl-C: the folds training are stopped, the workers shut down, and every finished
evaluation is already in the journal. Later signals are ignored so that this clean-up, which
takes well under a second, is not itself interrupted before the scheduler's grace period ends.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["STOP_SIGNALS", "Stopped", "stop_on_signals"]

#: The signals that stop a run cleanly besides SIGINT (Ctrl-C).
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Stopped(KeyboardInterrupt):
    """Raised in the main thread when a stop signal arrives.

    Attributes
    ----------
    signum : int
        The signal; the command exits with ``128 + signum`` (143 for SIGTERM, 129 for SIGHUP),
        the shell's convention for a process ended by a signal.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within this block, a stop signal raises :class:`Stopped`; handlers restored after."""
    previous: dict[int, Any] = {}

    def stop(signum: int, _frame: FrameType | None) -> None:
        for other in STOP_SIGNALS:
            signal.signal(other, signal.SIG_IGN)
        raise Stopped(signum)

    for stop_signal in STOP_SIGNALS:
        previous[stop_signal] = signal.signal(stop_signal, stop)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
