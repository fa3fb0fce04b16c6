"""Large tables at a fixed budget: ``--fidelity off`` (the evaluation of earlier versions)
against ``--fidelity auto`` (multi-fidelity: screening, one fold, an epoch cap).

Data: ``make_classification(n_samples=ROWS, n_features=30, n_informative=12, n_classes=3,
random_state=0)`` written to a CSV file. For each seed and setting, one ``evosearch evolve
--max-time SECONDS`` run (one at a time, so that they do not share cores), then from its run
folder: full-fidelity evaluations journalled, screening evaluations, generations finished, best
score and hypervolume of the last finished generation (none and 0 for a run whose generation 0
did not finish in time: no model), median seconds of one evaluation and median epochs of one
fold; and the CPU seconds the run got (``cpu_s``, per full-fidelity evaluation ``cpu/full``,
screening included: a load-robust figure on a shared machine) and the 1-minute load average.
Medians over seeds and the ratio of evaluations are printed last.

Run: ``.venv/bin/python benchmarks/large_table.py`` (about 3 minutes per seed;
``--rows 50000 --seconds 300 --seeds 0 1 2`` for longer ones).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def make_data(path: Path, rows: int) -> None:
    import pandas as pd
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=rows, n_features=30, n_informative=12, n_classes=3, random_state=0
    )
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["target"] = y
    frame.to_csv(path, index=False)


def summarise(folder: Path) -> dict[str, Any]:
    journal = [json.loads(line) for line in (folder / "journal.jsonl").read_text().splitlines()]
    full = [e for e in journal if e.get("fidelity") is None and e.get("folds") is None]
    generations_file = folder / "generations.jsonl"
    generations = (
        [json.loads(line) for line in generations_file.read_text().splitlines()]
        if generations_file.exists()
        else []
    )
    last = generations[-1] if generations else {}
    return {
        "full": len(full),
        "screened": sum(e.get("fidelity") is not None for e in journal),
        "generations": len(generations) - 1,
        "best": last.get("best_score"),
        "hypervolume": last.get("hypervolume"),
        "s/eval": statistics.median(e["seconds"] for e in full) if full else None,
        "epochs": statistics.median(x for e in full for x in e["epochs"]) if full else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--fidelity", nargs="+", default=["off", "auto"])
    args = parser.parse_args()
    rows: dict[str, list[dict[str, Any]]] = {f: [] for f in args.fidelity}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / f"classification-{args.rows}.csv"
        make_data(data, args.rows)
        for seed in args.seeds:
            for fidelity in args.fidelity:
                out = Path(tmp) / f"{fidelity}-{seed}".replace("=", "").replace(",", "-")
                command = [sys.executable, "-m", "evosearch.cli", "evolve", "--data", str(data)]
                command += ["--max-time", str(args.seconds), "--seed", str(seed), "--quiet"]
                command += ["--fidelity", fidelity, "--out", str(out)]
                # Exit status 2 when max_time ran out before generation 0 finished: no model.
                # CPU seconds the run got (user + sys of the CLI and its workers) and the
                # load average: the machine may be shared, and then wall-clock counts mislead.
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                done = subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if done.returncode not in (0, 2):
                    return done.returncode
                row = summarise(out)
                cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
                row["cpu_s"] = round(cpu, 1)
                row["cpu/full"] = round(cpu / row["full"], 2) if row["full"] else None
                row["load"] = round(os.getloadavg()[0], 2)
                rows[fidelity].append(row)
                print(f"seed {seed} fidelity {fidelity}: {row}", flush=True)
    print(f"\nmedians over seeds {args.seeds}, {args.rows} rows, --max-time {args.seconds:g}")
    reference = statistics.median(r["full"] for r in rows[args.fidelity[0]])
    for fidelity, found in rows.items():
        full = statistics.median(r["full"] for r in found)
        # A run without a model (generation 0 unfinished) scores nothing: hypervolume 0.
        scores = [r["best"] for r in found if r["best"] is not None]
        best = f"{statistics.median(scores):.4f}" if scores else "no model"
        volume = statistics.median(r["hypervolume"] or 0.0 for r in found)
        ratio = f"{full / reference:.1f}x" if reference else "n/a"
        cpu = statistics.median(r["cpu_s"] for r in found)
        costs = [r["cpu/full"] for r in found if r["cpu/full"] is not None]
        per_eval = f"{statistics.median(costs):.2f}" if costs else "n/a"
        print(
            f"{fidelity:>12}: full-fidelity evaluations {full:g} ({ratio}), "
            f"best score {best} ({len(scores)} of {len(found)} runs with a model), "
            f"hypervolume {volume:.4f}, CPU seconds {cpu:.1f} ({per_eval} per full evaluation)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
