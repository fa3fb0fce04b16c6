"""``evosearch resume``: continue (or extend) the run in a folder from what it journalled."""

from __future__ import annotations

import argparse
import time

from evosearch.cli._output import RunHeader, deadline_note, make_console, summary

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``evosearch resume``; returns the exit status."""
    args.run_folder = args.run  # named in the message should the run be stopped
    from evosearch.cli.console import ConsoleReporter
    from evosearch.runs import load_run
    from evosearch.search import Evolver, ParetoArchive

    console = make_console()
    record = load_run(args.run)
    target = args.generations or record.planned_generations
    task = record.info["dataset"]["task"]
    if record.last_generation >= target:
        console.print(
            f"run {args.run} already finished its {record.last_generation} generations; "
            "nothing to do (pass --generations N to extend it)",
            markup=False,
        )
        if record.archive is not None:
            summary(console, ParetoArchive.from_dict(record.archive), task, 0.0, args.run)
        return 0
    # Printed once the run has started, so that a refusal (data that cannot be reloaded, a
    # run fitted from Python, a locked folder) is the command's only line.
    header = RunHeader(
        console,
        [
            f"resuming {args.run} after generation {record.last_generation} "
            f"({len(record.journal)} journalled evaluations re-used), up to generation {target}"
        ],
    )
    reporter = ConsoleReporter(console)
    started = time.perf_counter()
    try:
        evolver = Evolver.resume(
            args.run,
            generations=args.generations,
            n_jobs=args.n_jobs,
            callbacks=[header] if args.quiet else [header, reporter],
            max_time=args.max_time,
            backend=args.backend,
            scheduler=args.scheduler,
        )
    finally:
        reporter.on_run_end(None)  # type: ignore[arg-type]
    summary(console, evolver.archive_, task, time.perf_counter() - started, args.run)
    deadline_note(console, evolver, args.run)
    return 0
