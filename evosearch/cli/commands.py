"""The command-line commands that open an existing run folder: show, export, replay.

Each takes the parsed arguments and a rich console and returns the exit status; errors a user
can fix raise :class:`~evosearch.errors.EvosearchError` (the CLI prints them on one line).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from evosearch.cli.console import archive_table, genome_text, population_table
from evosearch.runs import RunRecord, load_run, load_run_dataset
from evosearch.space import Genome

if TYPE_CHECKING:
    from rich.console import Console

    from evosearch.space import SearchSpace

__all__ = ["export", "replay", "show"]


def _score_name(record: RunRecord) -> str:
    return "accuracy" if record.info["dataset"]["task"] == "classification" else "R²"


def show(args: argparse.Namespace, console: Console) -> int:
    """Settings, progress, the archive as a table and the best genome drawn as text."""
    from evosearch.search import ParetoArchive

    record = load_run(args.run)
    info = record.info
    settings, dataset = info["settings"], info["dataset"]
    console.print(f"run {record.path}", markup=False)
    console.print(
        f"  data      {dataset['name']} ({dataset['task']}, {dataset['n_samples']} rows x "
        f"{dataset['n_features']} features)\n"
        f"  genome    {settings['genome']} (search space '{info['search_space']['name']}')\n"
        f"  settings  population {settings['population_size']}, {settings['cv']}-fold CV, "
        f"seed {settings['random_state']}, crossover rate {settings['crossover_rate']}",
        markup=False,
    )
    if "parent" in info:
        parent = info["parent"]
        console.print(
            f"  parent    {parent['run']} generation {parent['generation']}", markup=False
        )
    failures = sum(entry["error"] is not None for entry in record.journal)
    state = "finished" if record.last_generation >= record.planned_generations else "unfinished"
    console.print(
        f"  progress  generation {max(record.last_generation, 0)} of "
        f"{record.planned_generations} ({state}); {len(record.journal)} evaluations journalled, "
        f"{failures} failed" + ("; last journal line cut off" if record.journal_truncated else ""),
        markup=False,
    )
    if record.archive is None:
        console.print("  no generation has finished yet: no archive", markup=False)
        return 0
    archive = ParetoArchive.from_dict(record.archive)
    console.print(archive_table(archive, _score_name(record)))
    best = archive.best(archive.objective("score"))
    console.print(
        f"best {_score_name(record)} {best.objectives[archive.objective('score')]:.4f} "
        f"(folds {', '.join(f'{s:.4f}' for s in best.fold_scores)}), "
        f"found in generation {best.generation}:",
        markup=False,
    )
    console.print(genome_text(Genome.from_json(best.genome)), markup=False)
    return 0


def export(args: argparse.Namespace, console: Console) -> int:
    """Refit an archive member on all data and write it as a joblib model plus genome JSON."""
    from evosearch.search import export_member, select_member

    record = load_run(args.run)
    index, _ = select_member(record, args.member)
    out = args.out or record.path / "models" / f"member-{index}"
    dataset = load_run_dataset(record)
    metadata = export_member(record, dataset, index, out)
    console.print(
        f"exported archive member {index} ({metadata['architecture']}; CV "
        f"{_score_name(record)} {metadata['cv_score']:.4f}, {metadata['n_params']:,} parameters)"
        f" refit on all {dataset.n_samples} rows to {out}/model.joblib",
        markup=False,
    )
    return 0


def replay(args: argparse.Namespace, console: Console) -> int:
    """Show generation K, re-evaluate it, or continue evolving from it into a new run."""
    from evosearch.runs import generation_members, reevaluate

    record = load_run(args.run)
    members = generation_members(record, args.generation)
    score = _score_name(record)
    rows = [
        (
            str(i),
            f"{m.recorded.score:.4f}" if m.recorded.ok else "failed",
            f"{m.recorded.n_params:,}",
            m.genome.describe(),
        )
        for i, m in enumerate(members)
    ]
    console.print(
        population_table(
            f"generation {args.generation} of {record.path} ({len(members)} members)",
            rows,
            ("#", score, "params", "architecture"),
        )
    )
    if args.evaluate:
        dataset = load_run_dataset(record)
        fresh = reevaluate(record, dataset, members, n_jobs=args.n_jobs or -1)
        differences = [abs(f.score - m.recorded.score) for f, m in zip(fresh, members, strict=True)]
        console.print(
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
        console.print(
            f"{same} of {len(members)} members reproduce their recorded score exactly; "
            f"largest difference {max(differences, default=0.0):.2g}",
            markup=False,
        )
        if record.info["settings"].get("inherit_weights") and args.generation > 0:
            console.print(
                "note: this run's children started from their parents' trained weights and a "
                "re-evaluation starts from fresh ones, so their scores can differ (members "
                "first evaluated in generation 0 reproduce exactly)",
                markup=False,
            )
    if args.continue_to is not None:
        args.run_folder = args.continue_to  # named in the message should the run be stopped
        return _continue(args, record, [m.genome for m in members], console)
    return 0


def _continue(
    args: argparse.Namespace, record: RunRecord, genomes: list[Genome], console: Console
) -> int:
    from evosearch.cli.console import ConsoleReporter
    from evosearch.data import load_dataset
    from evosearch.search import Evolver

    settings = record.info["settings"]
    if args.data is None:
        dataset = load_run_dataset(record)
    else:
        dataset = load_dataset(args.data, target=args.target, task=settings["task"])
    reporter = ConsoleReporter(console)
    evolver = Evolver(
        genome=_space_of(record),
        population_size=args.population or settings["population_size"],
        generations=args.generations or settings["generations"],
        cv=args.cv or settings["cv"],
        n_jobs=args.n_jobs or settings["n_jobs"],
        random_state=settings["random_state"] if args.seed is None else args.seed,
        crossover_rate=settings["crossover_rate"],
        task=settings["task"],
        callbacks=[] if args.quiet else [reporter],
        out=args.continue_to,
        strategy=settings.get("strategy", "nsga2"),
        halving=settings.get("halving", False),
        inherit_weights=settings.get("inherit_weights", False),
        # Older run folders name "params" "n_params", an alias.
        objectives=[o["name"] for o in record.info["objectives"]],
    )
    console.print(
        f"continuing from generation {args.generation} of {record.path} into {args.continue_to}",
        markup=False,
    )
    try:
        evolver.fit_dataset(
            dataset,
            initial_population=genomes,
            parent={"run": str(Path(record.path).resolve()), "generation": args.generation},
        )
    finally:
        reporter.on_run_end(evolver)
    console.print(archive_table(evolver.archive_, _score_name(record)))
    return 0


def _space_of(record: RunRecord) -> SearchSpace:
    from evosearch.space import SearchSpace

    return SearchSpace.from_dict(record.info["search_space"], source=f"{record.path}/run.json")
