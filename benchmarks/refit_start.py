"""Refit from the member's CV network against a refit from scratch, scored on held-out rows.

With weight inheritance a member's CV score measures networks whose training went on over
generations. Its refit (the exported model, ``best_estimator_``, the ``--holdout`` score)
continues the best-scoring fold's network on all the search rows; this script also refits
every archive member from scratch, as before, and scores both on the rows the search never saw.

Run a search with a holdout first, then point the script at its folder::

    evosearch evolve --genome cnn --data digits --generations 50 --seed 0 --n-jobs 1 \\
        --holdout 0.2 --out ho-cnn
    python benchmarks/refit_start.py ho-cnn

Printed per archive member: CV score, holdout score of the refit the run made (recorded in the
archive) and of a refit from scratch, and which fold the refit started from; then the means and
the most accurate member's figures.
"""

from __future__ import annotations

import argparse
import statistics

from _common import machine_line

from evosearch import Genome
from evosearch.evaluation import Fidelity, fold_score
from evosearch.runs import load_run
from evosearch.runs.folder import load_run_dataset
from evosearch.search import ParetoArchive
from evosearch.search._holdout import split_holdout
from evosearch.search.refit import refit, stored_start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a finished run folder made with --holdout")
    args = parser.parse_args()
    print(machine_line())
    record = load_run(args.run)
    settings = record.info["settings"]
    if not settings.get("holdout"):
        raise SystemExit(f"{args.run}: made without --holdout, nothing to score on")
    search, held = split_holdout(
        load_run_dataset(record), settings["holdout"], settings["random_state"]
    )
    assert held is not None
    archive = ParetoArchive.from_dict(record.archive or {})
    score = archive.objective("score")
    # The epochs a fidelity plan capped its refits at, as the run's own refits used.
    cap = (record.info.get("fidelity") or {}).get("max_epochs")
    fidelity = Fidelity(max_epochs=cap) if cap else None
    seed, cv, scoring = settings["random_state"], settings["cv"], settings.get("scoring")
    rows = []
    print(f"{'member':>6} {'CV':>7} {'holdout (run)':>14} {'scratch':>8} {'start fold':>10}")
    for index, entry in enumerate(archive.members):
        start = stored_start(entry, None, record.path)
        genome = Genome.from_json(entry.genome)
        cold = refit(genome, entry.genome_hash, search, seed, cv, fidelity)
        scratch = fold_score(cold, held.X, held.y, scoring, held.sample_weight)
        cv_score = entry.objectives[score]
        fold = "-" if start is None else str(start[0])
        print(f"{index:>6} {cv_score:7.4f} {entry.holdout_score:14.4f} {scratch:8.4f} {fold:>10}")
        rows.append((cv_score, entry.holdout_score, scratch))
    print(
        f"mean over {len(rows)} members: CV {statistics.mean(r[0] for r in rows):.4f}, "
        f"holdout of the run's refits {statistics.mean(r[1] for r in rows):.4f}, "
        f"of refits from scratch {statistics.mean(r[2] for r in rows):.4f}"
    )
    best = max(rows)
    print(
        f"most accurate member: CV {best[0]:.4f}, holdout of the run's refit {best[1]:.4f}, "
        f"from scratch {best[2]:.4f}"
    )


if __name__ == "__main__":
    main()
