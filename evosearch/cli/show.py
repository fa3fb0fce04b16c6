"""``evosearch show``: settings, progress, the archive, the best genome and the exports of a run
(read only).

Exports are the folders ``evosearch export`` wrote into the run folder by default,
``RUN/models/*/model.json`` (one written elsewhere with ``--out`` is not the run's to list).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from evosearch.cli._output import make_console, score_name
from evosearch.cli.console import archive_table, genome_text
from evosearch.runs import load_run
from evosearch.space import Genome

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``evosearch show``: settings, progress, the archive and the best genome as text."""
    from evosearch.search import ParetoArchive

    console = make_console()
    record = load_run(args.run)
    info = record.info
    settings, dataset = info["settings"], info["dataset"]
    console.print(f"run {record.path}", markup=False)
    console.print(
        f"  data      {dataset['name']} ({dataset['task']}, {dataset['n_samples']} rows x "
        f"{dataset['n_features']} features)\n"
        f"  genome    {settings['genome']} (search space '{info['search_space']['name']}')\n"
        f"  settings  population {settings['population_size']}, {settings['cv']}-fold CV, "
        f"seed {settings['random_state']}, crossover rate {settings['crossover_rate']}"
        + (f", scoring {settings['scoring']}" if settings["scoring"] else ""),
        markup=False,
    )
    if dataset.get("columns"):
        from evosearch.data import Column, describe_columns

        columns = [Column.from_json(c) for c in dataset["columns"]]
        console.print(
            f"  table     {describe_columns(columns, dataset['n_samples'])}", markup=False
        )
    if info.get("fidelity"):
        from evosearch.search import plan_from_dict

        plan = plan_from_dict(info["fidelity"])
        assert plan is not None
        console.print(f"  fidelity  {plan.describe()}", markup=False)
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
        f"{failures} failed"
        + (f", {len(record.screening)} screenings" if record.screening else "")
        + ("; last journal line cut off" if record.journal_truncated else ""),
        markup=False,
    )
    if record.archive is None:
        console.print("  no generation has finished yet: no archive", markup=False)
        _print_exports(console, record.path, score_name(record))
        return 0
    archive = ParetoArchive.from_dict(record.archive)
    console.print(archive_table(archive, score_name(record)))
    best = archive.best(archive.objective("score"))
    console.print(
        f"best {score_name(record)} {best.objectives[archive.objective('score')]:.4f} "
        f"(folds {', '.join(f'{s:.4f}' for s in best.fold_scores)}), "
        f"found in generation {best.generation}:",
        markup=False,
    )
    console.print(genome_text(Genome.from_json(best.genome)), markup=False)
    _print_exports(console, record.path, score_name(record))
    return 0


def _print_exports(console: Any, run: Path, score: str) -> None:
    """One line per export folder under ``run/models``; nothing when there is none. A
    model.json that cannot be read is one line saying so (show still succeeds)."""
    try:
        folders = sorted(p.parent for p in (run / "models").glob("*/model.json"))
    except OSError:
        return
    if not folders:
        return
    console.print("exports", markup=False)
    for folder in folders:
        name = folder.relative_to(run).as_posix()
        try:
            model = json.loads((folder / "model.json").read_text(encoding="utf-8"))
            line = (
                f"  {name}  {model['format']}, member {model['member']}, genome "
                f"{model['genome_hash']}, CV {score} {float(model['cv_score']):.4f}"
            )
        except (OSError, ValueError, TypeError, KeyError) as exc:
            reason = f"missing {exc}" if isinstance(exc, KeyError) else type(exc).__name__
            line = f"  {name}  model.json is unreadable ({reason})"
        console.print(line, markup=False)
