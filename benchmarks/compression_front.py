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
    python benchmarks/compression_front.py default compressed --plot front.png

Issue 14's yardstick is the default run itself, ``make run``'s command (digits, population 16,
seed 0, 50 generations), against which a compressed search of any preset and budget is held::

    evosearch evolve --genome mlp --generations 50 --out default
    evosearch evolve --genome cnn-compressed --objectives score,bytes --population 32 \
        --generations 60 --seed 0 --out compressed
    python benchmarks/compression_front.py default compressed

``--plot`` draws both fronts, accuracy against bytes on a log scale, as step lines (needs
matplotlib, the ``plot`` extra).
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
    parser.add_argument("--plot", metavar="PNG", help="also draw both fronts into this file")
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
    if args.plot:
        draw(plain, small, args.budget, args.plot)
        print(f"plot: {args.plot}")


def draw(
    plain: list[tuple[float, float]], small: list[tuple[float, float]], budget: float, path: str
) -> None:
    """Both fronts as step lines (the best accuracy at most that many bytes), log bytes."""
    import matplotlib

    matplotlib.use("Agg")  # files only, whatever the display
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for points, label, colour in (
        (plain, "float32 front (4 bytes per parameter)", "tab:gray"),
        (small, "compressed run (weight payload)", "tab:blue"),
    ):
        best, steps = float("-inf"), []
        for size, score in points:
            best = max(best, score)
            steps.append((size, best))
        axes.step(*zip(*steps, strict=True), where="post", color=colour, label=label)
        axes.scatter(*zip(*points, strict=True), s=12, color=colour)
    axes.axvline(budget, color="tab:red", linestyle=":", label=f"{budget:,.0f} bytes")
    axes.axhline(0.97, color="tab:red", linestyle="--", linewidth=0.8, label="0.97 (digits mark)")
    axes.set_xscale("log")
    # The upper part of the fronts, where they differ; all of it for runs that never get there.
    scores = [s for _, s in plain + small]
    good = [s for s in scores if s > 0.8] or scores
    axes.set_ylim(min(good) - 0.02, max(scores) + 0.01)
    axes.set_xlabel("bytes")
    axes.set_ylabel("mean CV score")
    axes.legend(loc="lower right")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    main()
