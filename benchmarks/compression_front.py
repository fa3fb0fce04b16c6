"""Compare the archive of a compressed run (``--objectives score,bytes``) with the float32 front
of a default run measured in bytes (4 bytes per parameter).

For every member of the float32 front: the most accurate compressed member at most as large,
and whether it is at least as accurate. Also: the most accurate compressed model within a byte
budget (``--budget``, default 1000).

Run the two searches first (same data, population, generations and seed), for example::

    evosearch evolve --data digits --genome mlp --population 16 --generations 12 --seed 0 \\
        --n-jobs 1 --out default
    evosearch evolve --data digits --genome mlp-compressed --objectives score,bytes \\
        --population 16 --generations 12 --seed 0 --n-jobs 1 --out compressed
    python benchmarks/compression_front.py default compressed
"""

from __future__ import annotations

import argparse

from evosearch.runs import load_run
from evosearch.search import ParetoArchive


def front(path: str, size: str) -> list[tuple[float, float]]:
    archive = ParetoArchive.from_dict(load_run(path).archive or {})
    points = []
    for entry in archive.members:
        values = archive.named(entry)
        points.append((values[size] * (4 if size == "params" else 1), values["score"]))
    return sorted(points)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("default", help="run folder of the default (score, params) run")
    parser.add_argument("compressed", help="run folder of the compressed (score, bytes) run")
    parser.add_argument("--budget", type=float, default=1000.0)
    args = parser.parse_args()
    plain, small = front(args.default, "params"), front(args.compressed, "bytes")
    print(f"{'float32 bytes':>14} {'accuracy':>9} | {'compressed bytes':>16} {'accuracy':>9}")
    held = 0
    for size, score in plain:
        fits = [(s, b) for b, s in small if b <= size]
        best_score, best_size = max(fits, default=(float("nan"), float("nan")))
        ok = best_score >= score
        held += ok
        mark = "ok" if ok else "-"
        print(f"{size:14,.0f} {score:9.4f} | {best_size:16,.0f} {best_score:9.4f} {mark}")
    print(f"compressed at least as accurate at {held} of {len(plain)} float32 front sizes")
    within = [(s, b) for b, s in small if b <= args.budget]
    if within:
        score, size = max(within)
        print(f"best compressed within {args.budget:,.0f} bytes: {score:.4f} at {size:,.0f} bytes")


if __name__ == "__main__":
    main()
