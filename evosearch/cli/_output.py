"""Output shared by the commands that run a search: the console, the final summary, notes."""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from evosearch.runs import RunRecord
    from evosearch.search import Evolver, ParetoArchive

__all__ = ["RunHeader", "deadline_note", "make_console", "score_name", "summary", "watch_note"]


class RunHeader:
    """A callback that prints a run's header lines (``evolving ...``, ``resuming ...``; text or
    rich renderables) when the run starts: after everything that can refuse it (settings, data,
    scoring, the folder) was checked and the folder made, so a refusal is the command's only
    line.
    """

    def __init__(self, console: Console, lines: list[Any]) -> None:
        self.console = console
        self.lines = lines

    def on_run_start(self, evolver: Evolver) -> None:
        for line in self.lines:
            self.console.print(line, markup=False)

    def on_generation_end(self, evolver: Evolver, record: Any) -> None:
        return None


def watch_note(folder: Path) -> str:
    """The header line saying how to follow a run in the dashboard (its parent folder)."""
    parent = folder.parent.as_posix()
    return f"watch it live: evosearch dashboard {'.' if parent in ('', '.') else parent}/"


def make_console() -> Console:
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            # Rich would exit on the spot; the command line's handler (cli.main) ends the
            # command instead, and says how to continue a run that was stopped this way.
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, "standard output was closed")

    # Off a terminal rich would wrap at 80 columns; logs read better with whole lines.
    return PipeConsole(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)


def summary(console: Console, archive: ParetoArchive, task: str, seconds: float, out: Path) -> None:
    from evosearch.cli.console import archive_table, best_line
    from evosearch.objectives import scoring_label

    score_name = scoring_label(task, archive.scoring)
    console.print(archive_table(archive, score_name))
    console.print(
        f"{best_line(archive, score_name)}; "
        f"hypervolume {archive.hypervolume():.4f}; {seconds:.1f} s; run folder {out}",
        markup=False,
    )


def deadline_note(console: Console, evolver: Evolver, folder: Path) -> None:
    """Say so when --max-time stopped the run, and how to continue it."""
    if evolver.deadline_reached_ and not evolver.history_:
        console.print(
            f"stopped at the --max-time deadline ({evolver.max_time:g} s) during the initial "
            f"population: the archive holds the models it finished; continue with: "
            f"evosearch resume {folder}",
            markup=False,
        )
    elif evolver.deadline_reached_:
        last = evolver.history_[-1].generation
        # The models the cut generation finished joined the archive (not with --ensemble).
        cut = sum(1 for g in evolver.cv_results_.get("generation", ()) if g == last + 1)
        kept = f" (and {cut} model(s) of generation {last + 1})" if cut else ""
        console.print(
            f"stopped at the --max-time deadline ({evolver.max_time:g} s) after generation "
            f"{last} of {evolver.generations}{kept}; continue with: evosearch resume {folder}",
            markup=False,
        )


def score_name(record: RunRecord) -> str:
    """What the score objective is called in the run: its scorer, else accuracy / R²."""
    from evosearch.objectives import scoring_label

    info = record.info
    return scoring_label(info["dataset"]["task"], info["settings"]["scoring"])


def data_notes(dataset: Any, scoring: str | None = None) -> list[str]:
    """Lines for the run header: column kinds of a table, notes of the reading, the numeric
    columns with a point mass, and a hint when the classes are very imbalanced and the score
    is plain accuracy."""
    from evosearch.data import describe_columns

    lines = [line for line in [describe_columns(dataset.columns, dataset.n_samples)] if line]
    lines += list(dataset.notes)
    masses = dataset.point_masses
    if masses:
        numeric = (
            dataset.feature_names
            if dataset.columns is None
            else [c.name for c in dataset.columns if c.kind == "numeric"]
        )
        shown = ", ".join(f"{numeric[j]} = {value:g}" for j, value in masses[:5])
        more = f" and {len(masses) - 5} more" if len(masses) > 5 else ""
        lines.append(
            f"point masses (one value in many rows): {shown}{more}; the point_mass gene "
            "(on in the mlp presets) gives each a 0/1 column"
        )
    if dataset.task == "classification" and scoring in (None, "accuracy"):
        import numpy as np

        counts = np.unique(dataset.y, return_counts=True)[1]
        # Both: with ten or more balanced classes every class is near 10 % of the rows.
        if counts.min() < 0.1 * dataset.n_samples and counts.min() < 0.5 * counts.max():
            share = 100.0 * counts.min() / dataset.n_samples
            lines.append(
                f"note: the smallest class has {share:.1f}% of the rows; accuracy rewards "
                "ignoring it, --scoring balanced_accuracy may serve better"
            )
    return lines
