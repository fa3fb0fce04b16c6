"""``evosearch replay``: show a generation, re-evaluate it, or evolve a new run from it.

Showing and re-evaluating only read the run; ``--continue-to`` writes a new run folder (and so
holds that folder's lock, like ``evolve``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evosearch.cli._output import RunHeader, make_console, score_name
from evosearch.cli.console import archive_table, population_table
from evosearch.runs import RunRecord, load_run, load_run_dataset
from evosearch.space import Genome

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Show generation K, re-evaluate it, or continue evolving from it into a new run."""
    from evosearch.runs import generation_members
    from evosearch.search import reevaluate

    console = make_console()
    record = load_run(args.run)
    members = generation_members(record, args.generation)
    # With --continue-to all of it is printed once the new run has started: a refusal of that
    # run (an --out that holds anything, other data that does not load) is the only line.
    shown: list[Any] = []

    def say(item: Any) -> None:
        if args.continue_to is None:
            console.print(item, markup=False)
        else:
            shown.append(item)

    score = score_name(record)
    rows = [
        (
            str(i),
            f"{m.recorded.score:.4f}" if m.recorded.ok else "failed",
            f"{m.recorded.n_params:,}",
            m.genome.describe(),
        )
        for i, m in enumerate(members)
    ]
    say(
        population_table(
            f"generation {args.generation} of {record.path} ({len(members)} members)",
            rows,
            ("#", score, "params", "architecture"),
        )
    )
    if args.evaluate:
        fresh = reevaluate(record, [m.trained for m in members], n_jobs=args.n_jobs)
        differences = [abs(f.score - m.recorded.score) for f, m in zip(fresh, members, strict=True)]
        say(
            population_table(
                "re-evaluated",
                [
                    (str(i), f"{m.recorded.score:.4f}", f"{f.score:.4f}", f"{d:.2g}")
                    for i, (m, f, d) in enumerate(zip(members, fresh, differences, strict=True))
                ],
                ("#", f"recorded {score}", f"fresh {score}", "|difference|"),
            )
        )
        same = sum(d == 0 for d in differences)
        say(
            f"{same} of {len(members)} members reproduce their recorded score exactly; "
            f"largest difference {max(differences, default=0.0):.2g}"
        )
        if record.info["settings"]["inherit_weights"] and args.generation > 0:
            say(
                "note: this run's children started from their parents' trained weights and a "
                "re-evaluation starts from fresh ones, so their scores can differ (members "
                "first evaluated in generation 0 reproduce exactly)"
            )
    if args.continue_to is not None:
        args.run_folder = args.continue_to  # named in the message should the run be stopped
        return _continue(args, record, [m.genome for m in members], console, shown)
    return 0


def _continue(
    args: argparse.Namespace,
    record: RunRecord,
    genomes: list[Genome],
    console: Console,
    shown: list[Any],
) -> int:
    from evosearch.cli.console import ConsoleReporter
    from evosearch.data import load_dataset
    from evosearch.search import SETTINGS, Evolver, recorded_params

    settings = record.info["settings"]
    if args.data is None:
        dataset = load_run_dataset(record)
    else:
        options = _table_options(record, str(args.data))
        dataset = load_dataset(args.data, target=args.target, task=settings["task"], **options)
    reporter = ConsoleReporter(console)
    # Every setting the run recorded, but those this command line overrides.
    params = recorded_params(record.info, f"{record.path}/run.json")
    for row in SETTINGS:
        if row.replay and row.flag is not None and getattr(args, row.dest) is not None:
            params[row.name] = getattr(args, row.dest)
    if record.info.get("latency_model") is not None:
        # The run's own cost model, not this machine's: its genomes keep their latency.
        from evosearch.errors import RunFolderError
        from evosearch.nn import LatencyModel

        try:
            params["latency_model"] = LatencyModel.from_dict(record.info["latency_model"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RunFolderError(f"{record.path}/run.json: bad latency_model ({exc})") from None
    shown.append(
        f"continuing from generation {args.generation} of {record.path} into {args.continue_to}"
    )
    header = RunHeader(console, shown)
    params.update(callbacks=[header] if args.quiet else [header, reporter], out=args.continue_to)
    evolver = Evolver(**params)
    try:
        evolver.fit_dataset(
            dataset,
            initial_population=genomes,
            parent={"run": str(Path(record.path).resolve()), "generation": args.generation},
            new_folder_only=True,
        )
    finally:
        reporter.on_run_end(evolver)
    console.print(archive_table(evolver.archive_, score_name(record)))
    return 0


def _table_options(record: RunRecord, data: str) -> dict[str, Any]:
    """The run's way of reading its CSV (missing-value texts, column kinds, group and weight
    columns), for other data: each column role kept where ``data`` has that column."""
    from evosearch.data import read_csv_cells
    from evosearch.data.files import is_table_file
    from evosearch.errors import DataError

    options = dict(record.info["dataset"].get("options") or {})
    if not is_table_file(data) or not options:
        return {}
    try:
        how = {k: options[k] for k in ("sep", "decimal") if k in options}
        header = {str(c) for c in read_csv_cells(data, **how).columns}
    except DataError:  # load_dataset says what is wrong with the file, in one line
        return {}
    kept: dict[str, Any] = {}
    for key, value in options.items():
        if key in ("groups", "sample_weight"):
            if value in header:
                kept[key] = value
        elif key in ("categorical", "numeric", "drop"):
            kept[key] = [c for c in value if c in header]
        else:
            kept[key] = value
    return kept
