"""``evosearch export``: refit an archive member on all the data and save it in a format."""

from __future__ import annotations

import argparse

from evosearch.cli._output import make_console, score_name
from evosearch.runs import load_run, load_run_dataset

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Refit an archive member on all data and write it in ``args.format`` plus genome JSON."""
    from evosearch.deploy import get_format
    from evosearch.search import export_member, select_member

    console = make_console()
    # An unknown format or a missing extra is refused before the run is read or refit.
    get_format(args.format).check_available()
    record = load_run(args.run)
    index, _ = select_member(record, args.member)
    out = args.out or record.path / "models" / f"member-{index}"
    dataset = load_run_dataset(record)
    metadata = export_member(record, dataset, index, out, args.format)
    console.print(
        f"exported archive member {index} ({metadata['architecture']}; CV "
        f"{score_name(record)} {metadata['cv_score']:.4f}, {metadata['n_params']:,} parameters)"
        f" refit on all {dataset.n_samples} rows to {out} ({metadata['format']}:"
        f" {', '.join(metadata['files'])})",
        markup=False,
    )
    return 0
