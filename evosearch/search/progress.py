"""A run's progress on a console: a live progress bar and one row per generation.

The command line shows it on standard output; ``Evolver(verbose=1)`` shows the rows and
``verbose=2`` the bar too. When the output is not a terminal (CI logs, ``nohup``, a pipe, a
notebook cell's text) there is no bar and no control characters: each generation prints one
plain line.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from evosearch.search._checkpoint import GenerationRecord
    from evosearch.search.evolver import Evolver

__all__ = ["ConsoleReporter", "verbose_reporters"]

_COLUMNS = (
    ("gen", 4),
    ("best", 7),
    ("archive", 7),
    ("hypervol", 8),
    ("evals", 5),
    ("hits", 4),
    ("fails", 5),
    ("seconds", 7),
)


def _row(values: list[str]) -> str:
    return "  ".join(value.rjust(width) for value, (_, width) in zip(values, _COLUMNS, strict=True))


class ConsoleReporter:
    """Evolver callback that shows progress on a console.

    Parameters
    ----------
    console : rich.console.Console, optional
        Where to write (standard output by default).
    live : bool, default=True
        Show the progress bar of the generation's models where the console is a terminal
        (False: the generation rows only).
    """

    def __init__(self, console: Console | None = None, *, live: bool = True) -> None:
        self.console = console or Console(highlight=False)
        self.live = live
        self._progress: Progress | None = None
        self._task: Any = None
        self._generation = 0
        self._total_generations = 0

    def on_run_start(self, evolver: Evolver) -> None:
        self._total_generations = evolver.generations
        self.console.print(_row([name for name, _ in _COLUMNS]), markup=False)
        if self.live and self.console.is_terminal:
            self._progress = Progress(
                TextColumn("generation {task.fields[generation]}/{task.fields[generations]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("fits"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(
                "fits", total=None, generation=0, generations=self._total_generations
            )

    def on_note(self, text: str) -> None:
        """A line the run has to say (e.g. what a warm start gave generation 0)."""
        self.console.print(text, markup=False)

    def on_evaluation_progress(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress.update(
                self._task,
                completed=done,
                total=max(total, 1),
                generation=self._generation,
            )

    def on_generation_end(self, evolver: Evolver, record: GenerationRecord) -> None:
        best = "-" if math.isnan(record.best_score) else f"{record.best_score:.4f}"
        line = _row(
            [
                str(record.generation),
                best,
                str(record.archive_size),
                f"{record.hypervolume:.4f}",
                str(record.evaluations),
                str(record.cache_hits),
                str(record.failures),
                f"{record.seconds:.1f}",
            ]
        )
        self.console.print(line, markup=False)
        # Off a terminal stdout is block-buffered: flush so logs show each generation as it ends.
        self.console.file.flush()
        self._generation = record.generation + 1

    def on_run_end(self, evolver: Evolver) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def verbose_reporters(verbose: int) -> tuple[ConsoleReporter, ...]:
    """The callbacks ``Evolver(verbose=...)`` adds: none for 0, the generation rows for 1,
    the rows and the live bar (on a terminal) for 2, on standard output as the CLI prints."""
    if not verbose:
        return ()
    import sys

    # The stream at fit time (not at import): pytest's capture and notebooks swap it.
    console = Console(file=sys.stdout, highlight=False)
    return (ConsoleReporter(console, live=verbose >= 2),)
