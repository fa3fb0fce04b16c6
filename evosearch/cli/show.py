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
    if settings.get("steady_state"):
        flying = (info.get("steady_state") or {}).get("in_flight", "the worker slots")
        console.print(
            f"  search    steady-state, {flying} evaluations in flight; a generation is a "
            f"block of {settings['population_size']} results",
            markup=False,
        )
    if info.get("fidelity"):
        from evosearch.search import plan_from_dict

        plan = plan_from_dict(info["fidelity"])
        assert plan is not None
        console.print(f"  fidelity  {plan.describe()}", markup=False)
    if info.get("latency_model") is not None:
        from evosearch.nn.latency_files import describe_recorded

        first, *rest = describe_recorded(info["latency_model"], info.get("latency_source"))
        lines = [f"  latency   {first}", *(f"            {line}" for line in rest)]
        console.print("\n".join(lines), markup=False)
    if "parent" in info:
        parent = info["parent"]
        console.print(
            f"  parent    {parent['run']} generation {parent['generation']}", markup=False
        )
    for source in (info.get("warm_start") or {}).get("runs", []):
        console.print(
            f"  warm from {source['run']} generation {source['generation']} "
            f"({source['genomes']} genomes: archive and last population)",
            markup=False,
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
    if getattr(args, "sizes", False):  # on demand: fits and exports take a second or two
        _print_deployed(console, record, archive)
    _print_ensembles(console, record.path)
    _print_exports(console, record.path, score_name(record))
    return 0


def _print_ensembles(console: Any, run: Path) -> None:
    """The run's ensemble front (``ensemble.json``), where it has one."""
    from evosearch.cli.ensemble import ensemble_lines

    path = run / "ensemble.json"
    if not path.is_file():
        return
    try:
        lines = ensemble_lines(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        lines = [f"  ensemble.json is unreadable ({type(exc).__name__})"]
    console.print("ensemble front (* the most accurate: export --ensemble)", markup=False)
    for line in lines:
        console.print(line, markup=False)


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
            which = (
                model["architecture"]
                if "ensemble" in model
                else f"member {model['member']}, genome {model['genome_hash']}"
            )
            line = (
                f"  {name}  {model['format']}, {which}, CV {score} {float(model['cv_score']):.4f}"
            )
        except (OSError, ValueError, TypeError, KeyError) as exc:
            reason = f"missing {exc}" if isinstance(exc, KeyError) else type(exc).__name__
            line = f"  {name}  model.json is unreadable ({reason})"
        console.print(line, markup=False)


def _print_deployed(console: Any, record: Any, archive: Any) -> None:
    """The deployed size of the best and the knee member beside their ``bytes`` objective
    (computed now, in a temporary folder: :mod:`evosearch.search.deployed`)."""
    from evosearch.report import pick_members
    from evosearch.search.deployed import deployed_sizes

    chosen = pick_members(archive)
    roles = [(role, chosen[role]) for role in ("best", "knee") if role in chosen]
    found = deployed_sizes(record, [entry for _, entry in roles])
    console.print("deployed size (quick fit, not written to the run folder)", markup=False)
    for role, entry in roles:
        sizes = found.sizes.get(entry.genome_hash)
        if sizes is None:
            continue
        files = ", ".join(f"{name} {sizes[name]:,} B" for name in ("onnx", "python", "joblib")
                          if name in sizes)  # fmt: skip
        console.print(
            f"  {role:5s} member {archive.members.index(entry)}: bytes objective (weights.bin) "
            f"{sizes['weights']:,} B; {files}",
            markup=False,
        )
    for note in found.notes:
        console.print(f"  {note}", markup=False)
