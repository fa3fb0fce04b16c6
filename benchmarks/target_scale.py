"""Regression at target scales 1, 1e4 and 1e6: the same search, the same seed, the same R²?

R² does not change when the target is rescaled, so a search whose models standardise their
target (``--scale-target``, the default since issue 32) should reach the same CV and held-back R²
whatever the target's scale, with no divergence failures. Before that, a target around 35,000
failed 7 of 32 evaluations with ``DivergenceError`` on a user's table.

For each table (``diabetes``, 442 rows x 10, scikit-learn's bundled set; ``friedman1``,
``make_friedman1(1000, noise=1.0, random_state=0)``, 1,000 rows x 10) the target is
standardised to ``z`` and written as ``scale * (z + 3.5)`` (scale 1: ``z`` itself, 1e4: around
35,000, 1e6: around 3.5 million) to a CSV file; ``evosearch evolve`` then runs on it with
``--max-time SECONDS --holdout 0.2 --n-jobs 1 --seed SEED`` (a fresh process each, one core;
``--generations N``: that many generations instead, the same work whatever the machine's load,
so that runs at different scales can be compared exactly).
Printed per run: generations finished, evaluations, failed evaluations (of them divergences),
the best CV R² (the archive's most accurate member) and that member's held-back R² (refit on
the search rows, scored on the 20 % the search never saw). ``--evosearch PATH`` runs another
checkout's code (``PYTHONPATH=PATH``), e.g. a clean clone of main for the "before" figures::

    nice -n 19 .venv/bin/python benchmarks/target_scale.py --seconds 45
    git clone -q . /tmp/before
    nice -n 19 .venv/bin/python benchmarks/target_scale.py --seconds 45 --evosearch /tmp/before
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_line

SCALES = (1.0, 1e4, 1e6)
OFFSET = 3.5  # in standard deviations: 35,000 at scale 1e4


def tables() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from sklearn.datasets import load_diabetes, make_friedman1

    return {
        "diabetes": load_diabetes(return_X_y=True),
        "friedman1": make_friedman1(1000, noise=1.0, random_state=0),
    }


def write_table(path: Path, X: np.ndarray, y: np.ndarray) -> None:
    header = ",".join([*(f"x{j}" for j in range(X.shape[1])), "target"])
    rows = [",".join(repr(float(v)) for v in (*x, t)) for x, t in zip(X, y, strict=True)]
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


REPO = str(Path(__file__).resolve().parents[1])


def one_run(
    csv: Path, out: Path, seconds: float, seed: int, checkout: str, generations: int | None = None
) -> dict[str, Any]:
    env = dict(os.environ)
    # Run from the work folder: `python -m` puts its working folder first on the path.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [checkout, env.get("PYTHONPATH")]))
    budget = ["--generations", str(generations or 100000), "--max-time", str(seconds)]
    command = [sys.executable, "-m", "evosearch.cli", "evolve", "--data", str(csv), *budget,
               "--holdout", "0.2", "--n-jobs", "1", "--seed", str(seed), "--quiet",
               "--out", str(out)]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(
        command, env=env, cwd=out.parent, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1], "wall": wall}
    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    errors = [entry["error"] for entry in journal if entry["error"]]
    archive = json.loads((out / "archive.json").read_text())
    best = max(archive["members"], key=lambda m: m["objectives"][0])
    generations = len((out / "generations.jsonl").read_text().splitlines())
    return {
        "generations": generations - 1,
        "evaluations": len(journal),
        "failed": len(errors),
        "diverged": sum(e.startswith("DivergenceError") for e in errors),
        "cv": best["objectives"][0],
        "held": best.get("holdout_score"),
        "wall": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=45.0, help="--max-time of each run")
    parser.add_argument("--generations", type=int, help="a fixed budget instead (--seconds: a cap)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--tables", nargs="+", default=["diabetes", "friedman1"])
    parser.add_argument("--scales", type=float, nargs="+", default=list(SCALES))
    parser.add_argument("--evosearch", metavar="PATH", help="a checkout whose code to run")
    parser.add_argument("--keep", metavar="DIR", help="keep the tables and run folders here")
    args = parser.parse_args()
    print(machine_line())
    budget = f"--generations {args.generations}, " if args.generations else ""
    print(
        f"code: {args.evosearch or 'this checkout'}; {budget}--max-time {args.seconds:g} s, 1 core"
    )
    data = tables()
    work = Path(args.keep or tempfile.mkdtemp(prefix="target-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{'table':<10} {'scale':>6} {'seed':>4} {'gens':>5} {'evals':>6} {'failed':>6} "
          f"{'diverged':>8} {'CV R²':>8} {'held R²':>8} {'wall s':>7}")  # fmt: skip
    for name in args.tables:
        X, y = data[name]
        z = (y - y.mean()) / y.std()
        for scale in args.scales:
            target = z if scale == 1.0 else scale * (z + OFFSET)
            csv = work / f"{name}-{scale:g}.csv"
            write_table(csv, X, target)
            for seed in args.seeds:
                out = work / f"run-{name}-{scale:g}-s{seed}-{int(time.time() * 1000)}"
                code = args.evosearch or REPO
                r = one_run(csv, out, args.seconds, seed, code, args.generations)
                if "error" in r:
                    print(f"{name:<10} {scale:>6g} {seed:>4} failed: {r['error']}")
                    continue
                held = "-" if r["held"] is None else f"{r['held']:.4f}"
                print(f"{name:<10} {scale:>6g} {seed:>4} {r['generations']:>5} "
                      f"{r['evaluations']:>6} {r['failed']:>6} {r['diverged']:>8} "
                      f"{r['cv']:>8.4f} {held:>8} {r['wall']:>7.1f}", flush=True)  # fmt: skip
    print(f"tables and run folders: {work}")


if __name__ == "__main__":
    main()
