"""Check that a change did not change results: the same seeded runs, before and after.

A refactor must leave every result as it was: for the same seed and settings, the same
``archive.json``, ``generations.jsonl``, ``journal.jsonl`` and ``checkpoint.json`` (every field
but wall-clock seconds and peak memory, which are measurements). This script makes seven small
runs that together exercise both tasks, both strategies, halving, weight inheritance, the
holdout, the size budget, conv genomes, three objectives and a fidelity plan on a 12,000-row
table, and compares two sets of them field by field::

    git worktree add /tmp/old <revision-before>
    PYTHONPATH=/tmp/old .venv/bin/python benchmarks/same_results.py make /tmp/before
    .venv/bin/python benchmarks/same_results.py make /tmp/after
    .venv/bin/python benchmarks/same_results.py compare /tmp/before /tmp/after

``make`` takes a few minutes on 2 cores (``make --default`` adds the default run of ``make run``,
about 6 minutes more). ``compare`` exits 1 if any run differs. Journal lines are compared as a
multiset, since with two workers they are written in completion order; ``run.json`` differences
(versions, new settings) are printed as notes, not failures; ``format_version`` is ignored.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

#: Name -> command-line arguments of ``evosearch evolve``.
RUNS: dict[str, list[str]] = {
    "digits": ["--data", "digits", "--population", "8", "--generations", "3", "--seed", "0"],
    "diabetes": ["--data", "diabetes", "--population", "8", "--generations", "3", "--seed", "1"],
    "wine-aging": [
        "--data", "wine", "--population", "8", "--generations", "4", "--seed", "2",
        "--strategy", "aging", "--halving",
    ],
    "bc": [
        "--data", "breast_cancer", "--population", "8", "--generations", "2", "--seed", "3",
        "--no-inherit-weights", "--holdout", "0.2", "--max-params", "3000",
    ],
    "cnn": ["--genome", "cnn", "--population", "8", "--generations", "2", "--seed", "4"],
    "three-objectives": [
        "--genome", "mlp-compressed", "--objectives", "score,bytes,flops", "--data", "iris",
        "--population", "8", "--generations", "3", "--seed", "5",
    ],
    # A table past the fidelity plan's 10,000 rows: children are screened on row subsamples.
    "fidelity": [
        "--data", "{data}/synth12k.csv", "--population", "8", "--generations", "2", "--seed", "6",
    ],
}  # fmt: skip

#: The default run itself (``make run``), only with ``make --default``: about 6 min on 2 cores.
DEFAULT_RUN: dict[str, list[str]] = {"default": ["--genome", "mlp", "--generations", "50"]}

# Measurements, not results: they differ from run to run.
# format_version: a new run-folder format is not a new result.
VOLATILE = {"seconds", "peak_memory_mb", "started", "format_version"}


def _synthetic_table(folder: Path) -> None:
    """A 12,000-row classification CSV (the fidelity case's data), the same on every call."""
    from sklearn.datasets import make_classification

    folder.mkdir(parents=True, exist_ok=True)
    X, y = make_classification(12_000, 12, n_informative=8, n_classes=3, random_state=0)
    rows = [",".join(f"{v:.6g}" for v in x) + f",{c}" for x, c in zip(X, y, strict=True)]
    header = ",".join(f"x{i}" for i in range(X.shape[1])) + ",label"
    (folder / "synth12k.csv").write_text("\n".join([header, *rows]) + "\n")


def make(out: Path, runs: dict[str, list[str]]) -> None:
    """Run every case of ``runs`` into ``out/<name>``, two at a time."""
    out.mkdir(parents=True, exist_ok=True)
    data = out / "_data"
    _synthetic_table(data)
    names = list(runs)
    for pair in (names[i : i + 2] for i in range(0, len(names), 2)):
        commands = [
            [sys.executable, "-m", "evosearch.cli", "evolve",
             *(a.format(data=data) for a in runs[name]), "--n-jobs", "2",
             "--quiet", "--out", str(out / name)]
            for name in pair
        ]  # fmt: skip
        running = [subprocess.Popen(c, stdout=subprocess.DEVNULL) for c in commands]
        if any(process.wait() for process in running):
            raise SystemExit("an evolve run failed")


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _json(path: Path) -> Any:
    return _scrub(json.loads(path.read_text()))


def _lines(path: Path) -> list[Any]:
    return [_scrub(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def differences(a: Path, b: Path) -> list[str]:
    """What differs between run folders ``a`` and ``b`` (empty: the same results)."""
    found = [
        f"{name} differs"
        for name in ("archive.json", "checkpoint.json")
        if _json(a / name) != _json(b / name)
    ]
    if _lines(a / "generations.jsonl") != _lines(b / "generations.jsonl"):
        found.append("generations.jsonl differs")
    journals = [
        sorted(json.dumps(x, sort_keys=True) for x in _lines(r / "journal.jsonl")) for r in (a, b)
    ]
    if journals[0] != journals[1]:
        found.append(f"journal.jsonl differs ({len(journals[0])} vs {len(journals[1])} lines)")
    weights = [sorted(p.name for p in (r / "weights").glob("*.npz")) for r in (a, b)]
    if weights[0] != weights[1]:
        found.append("weights/ holds other files")
    info_a, info_b = _json(a / "run.json"), _json(b / "run.json")
    for key in sorted(set(info_a) | set(info_b)):
        if key != "versions" and info_a.get(key) != info_b.get(key):
            print(f"  note: run.json {key!r}: {info_a.get(key)!r} -> {info_b.get(key)!r}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    maker = commands.add_parser("make", help="make the runs")
    maker.add_argument("out", type=Path)
    maker.add_argument("--default", action="store_true", help="also the default run (make run)")
    compare = commands.add_parser("compare", help="compare two sets of runs")
    compare.add_argument("before", type=Path)
    compare.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "make":
        make(args.out, {**RUNS, **(DEFAULT_RUN if args.default else {})})
        return 0
    failed = 0
    for name in [*RUNS, *DEFAULT_RUN]:
        if name in DEFAULT_RUN and not (args.before / name).exists():
            continue
        found = differences(args.before / name, args.after / name)
        print(f"{name}: {'same' if not found else '; '.join(found)}")
        failed += bool(found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
