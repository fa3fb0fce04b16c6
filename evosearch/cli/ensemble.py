"""``evosearch ensemble``: build a run's ensemble front again from its out-of-fold predictions
(``RUN/oof/``, kept by ``evolve --ensemble``) and rewrite ``RUN/ensemble.json``."""

from __future__ import annotations

import argparse
from typing import Any

from evosearch.cli._output import make_console

__all__ = ["ensemble_lines", "run"]


def ensemble_lines(ensemble: dict[str, Any]) -> list[str]:
    """``ensemble.json`` as text: the best single model, then the ensemble front."""
    single = ensemble["best_single"]
    names = [name for name in ensemble["objectives"] if name != "score"]
    lines = [
        f"  ensembles of {ensemble['candidates']} models (out-of-fold predictions); best single "
        f"model {single['genome_hash'][:8]}: CV {single['score']:.4f}"
    ]
    header = f"  {'#':>3}  {'CV':>7}  " + "  ".join(f"{n:>12}" for n in names) + "  members"
    lines.append(header)
    for index, entry in enumerate(ensemble["front"]):
        sizes = "  ".join(f"{entry['objectives'][n]:>12,.6g}" for n in names)
        members = ", ".join(f"{m['genome_hash'][:8]} x{m['weight']:.2f}" for m in entry["members"])
        best = " *" if entry["members"] == ensemble["members"] else ""
        lines.append(f"  {index:>3}  {entry['score']:>7.4f}  {sizes}  {members}{best}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Rebuild the ensemble front of ``args.run`` and print it."""
    from evosearch.search import rebuild_ensemble

    console = make_console()
    built = rebuild_ensemble(
        args.run, max_members=args.max_members, max_bytes=args.max_bytes, rounds=args.rounds
    )
    console.print(f"wrote {args.run / 'ensemble.json'}", markup=False)
    for line in ensemble_lines(built):
        console.print(line, markup=False)
    return 0
