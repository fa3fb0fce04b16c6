"""``evosearch export``: refit an archive member on all the data and save it (joblib + JSON)."""

from __future__ import annotations

import argparse

from evosearch.cli._output import make_console, score_name
from evosearch.runs import load_run, load_run_dataset

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Refit an archive member on all data and write it as a joblib model plus genome JSON."""
    from evosearch.search import export_member, select_member

    console = make_console()
    record = load_run(args.run)
    index, _ = select_member(record, args.member)
    out = args.out or record.path / "models" / f"member-{index}"
    dataset = load_run_dataset(record)
    metadata = export_member(record, dataset, index, out)
    console.print(
        f"exported archive member {index} ({metadata['architecture']}; CV "
        f"{score_name(record)} {metadata['cv_score']:.4f}, {metadata['n_params']:,} parameters)"
        f" refit on all {dataset.n_samples} rows to {out}/model.joblib",
        markup=False,
    )
    return 0
