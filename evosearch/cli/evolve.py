"""``evosearch evolve``: start a search, writing a new run folder."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from evosearch.cli._output import (
    RunHeader,
    data_notes,
    deadline_note,
    make_console,
    summary,
    watch_note,
)

__all__ = ["run"]


def _default_run_folder(genome: str, seed: int) -> Path:
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{Path(genome).stem}-s{seed}"
    folder = Path("runs") / stem
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = Path("runs") / f"{stem}-{suffix}"
    return folder


def _check_image_shape(space: Any, dataset: Any, input_shape: str | None) -> None:
    """Refuse a bad ``--input-shape``, or an image genome on data without one, in one line
    before the run starts."""
    from evosearch.data import parse_input_shape
    from evosearch.errors import SettingsError

    if input_shape is not None:
        parse_input_shape(input_shape, dataset.n_features)
    elif space.needs_image and dataset.input_shape is None:
        raise SettingsError(
            f"--genome {space.name} has image layers but {dataset.name} "
            f"({dataset.n_features} features) has no image shape: give --input-shape HxW or HxWxC"
        )


def run(args: argparse.Namespace) -> int:
    """Run ``evosearch evolve``; returns the exit status."""
    from evosearch.cli.console import ConsoleReporter
    from evosearch.data import load_dataset, task_reason
    from evosearch.search import SETTINGS, Evolver, check_settings, resolve_plan

    console = make_console()
    out = args.out or _default_run_folder(args.genome, args.seed)
    args.run_folder = out  # named in the message should the run be stopped
    reporter = ConsoleReporter(console)
    callbacks = [] if args.quiet else [reporter]
    # Every option of the settings table, as parsed (and checked) by the parser.
    given = {row.name: getattr(args, row.dest) for row in SETTINGS if row.flag is not None}
    evolver = Evolver(**{**given, "callbacks": callbacks, "out": out})
    # Checked before the data is loaded, as fit would: a bad setting is one line, exit 2.
    checked = check_settings(evolver.get_params(deep=False))
    space = checked.space
    dataset = load_dataset(
        args.data,
        target=args.target,
        task=args.task,
        n_splits=args.cv,
        na_values=args.na_values,
        categorical=args.categorical,
        numeric=args.numeric,
        groups=args.groups,
        sample_weight=args.sample_weight,
        sep=args.sep,
        decimal=args.decimal,
        drop=args.drop,
    )
    _check_image_shape(space, dataset, args.input_shape)
    plan = resolve_plan(checked.fidelity, dataset.n_samples, space.needs_image)
    folds = f"{args.cv}-fold CV"
    if plan is not None and 0 < plan.folds < args.cv:  # the plan scores only the first folds
        folds = f"{args.cv}-fold CV split, {plan.folds} fold(s) scored"
    header = [
        f"evolving {space.name} genomes on {dataset.name} ({dataset.task}, "
        f"{dataset.n_samples} rows x {dataset.n_features} features), population "
        f"{args.population}, {args.generations} generations, {folds} -> {out}"
    ]
    if args.task == "auto":  # which task the target suggested, and why
        other = "classification" if dataset.task == "regression" else "regression"
        numbers = dataset.y.dtype.kind in "iuf"  # text labels are no quantity to override to
        override = f"; say --task {other} to override" if numbers else ""
        header.append(f"task: {dataset.task} (inferred: {task_reason(dataset.y)}{override})")
    if plan is not None:
        header.append(plan.describe() + " (--fidelity off: none)")
    header += data_notes(dataset, getattr(args, "scoring", None))
    header.append(watch_note(Path(out)))
    # Printed once the run has started: the checks of the start (scoring, folds, an --out
    # that holds anything) refuse it before anything is printed or written.
    evolver.set_params(callbacks=[RunHeader(console, header), *callbacks])
    started = time.perf_counter()
    try:
        evolver.fit_dataset(dataset, new_folder_only=True)  # --out never names an old run
    finally:
        reporter.on_run_end(evolver)  # restores the terminal if the run stopped early
    summary(console, evolver.archive_, dataset.task, time.perf_counter() - started, out)
    if getattr(evolver, "ensemble_record_", None) is not None:  # --ensemble
        built = evolver.ensemble_record_
        console.print(
            f"ensemble: CV {built['score']:.4f} with {len(built['members'])} models (best single "
            f"{built['best_single']['score']:.4f}); {len(built['front'])} on the ensemble front "
            f"in {Path(out) / 'ensemble.json'}",
            markup=False,
        )
    deadline_note(console, evolver, out)
    return 0
