"""``evosearch export``: refit an archive member on all the data and save it in a format."""

from __future__ import annotations

import argparse
from typing import Any

from evosearch.cli._output import make_console, score_name
from evosearch.errors import SettingsError
from evosearch.runs import load_run, load_run_dataset

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Refit an archive member on all data and write it in ``args.format`` plus genome JSON."""
    from evosearch.deploy import get_format
    from evosearch.search import export_member, select_member

    console = make_console()
    # An unknown format or a missing extra is refused before the run is read or refit.
    get_format(args.format).configure({"input_dtype": args.input_dtype}).check_available()
    record = load_run(args.run)
    if getattr(args, "ensemble", False):
        if args.bag_folds:
            raise SettingsError("--bag-folds and --ensemble cannot be combined: pick one")
        return _export_ensemble(args, record, console)
    index, _ = select_member(record, args.member)
    # A run evolved with --bag-folds deploys its best member so: export it the same way.
    bag = args.bag_folds or (args.member is None and record.info["settings"].get("bag_folds"))
    out = args.out or record.path / "models" / f"member-{index}"
    dataset = load_run_dataset(record)
    options = {"input_dtype": args.input_dtype}
    metadata = export_member(record, dataset, index, out, args.format, options, bool(bag))
    refit = (
        f"refit from each of its {metadata['bag_folds']} fold networks, averaged,"
        if metadata.get("bag_folds")
        else "refit"
    )
    console.print(
        f"exported archive member {index} ({metadata['architecture']}; CV "
        f"{score_name(record)} {metadata['cv_score']:.4f}, {metadata['n_params']:,} parameters)"
        f" {refit} on all {dataset.n_samples} rows to {out} ({metadata['format']}:"
        f" {', '.join(metadata['files'])})",
        markup=False,
    )
    coarse = metadata.get("onnx", {}).get("float32_coarse")
    if coarse:  # the input's own precision: no graph restores it, float64 inputs keep it
        console.print(
            f"note: float32 inputs resolve column(s) {', '.join(coarse)} to about "
            f"{max(coarse.values()):.1g} of their spread; --input-dtype float64 feeds them exactly",
            markup=False,
        )
    return 0


def _export_ensemble(args: argparse.Namespace, record: Any, console: Any) -> int:
    """``export RUN --ensemble``: the run's most accurate ensemble, members refit."""
    from evosearch.search import export_ensemble, read_ensemble

    read_ensemble(record.path)  # no ensemble: refused before the data is read
    out = args.out or record.path / "models" / "ensemble"
    dataset = load_run_dataset(record)
    options = {"input_dtype": args.input_dtype}
    metadata = export_ensemble(record, dataset, out, args.format, options)
    console.print(
        f"exported the run's {metadata['architecture']} (CV {score_name(record)} "
        f"{metadata['cv_score']:.4f}) refit on all {dataset.n_samples} rows to {out} "
        f"({metadata['format']}: {', '.join(metadata['files'])})",
        markup=False,
    )
    return 0
