"""Helpers shared by the benchmark scripts: machine description and interleaved timing.

The benchmark machines are shared and noisy, so every script compares variants measured in the
same run, interleaved (A, B, B, A, A, B, ...) so that a burst of load from elsewhere hits both
sides, and reports medians and best-of values rather than single timings.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evosearch.space.genome import Genome


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def machine_line() -> str:
    """One line naming the machine: CPU model, usable cores, load average, Python."""
    return (
        f"machine: {cpu_model()}, {cores()} cores (nproc), load average {load_average()}, "
        f"Python {platform.python_version()}"
    )


def interleaved(
    variants: dict[str, Callable[[], float | None]], repeats: int
) -> dict[str, list[float]]:
    """Run each variant ``repeats`` times, interleaved, alternating the order every round.

    A variant returns its own measured seconds, or None to be timed as a whole call.
    """
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        order = names if round_ % 2 == 0 else names[::-1]
        for name in order:
            start = time.perf_counter()
            measured = variants[name]()
            times[name].append(time.perf_counter() - start if measured is None else measured)
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def best(values: Sequence[float]) -> float:
    return min(values)


def paired_ratios(numerator: Sequence[float], denominator: Sequence[float]) -> list[float]:
    """Ratio of each round's timings (both taken under the same load)."""
    return [a / b for a, b in zip(numerator, denominator, strict=True)]


_SPIN = (
    "import time\n"
    "start = time.perf_counter()\n"
    "total = 0\n"
    "for i in range({n}):\n"
    "    total += i\n"
    "print(time.perf_counter() - start)\n"
)


def parallel_capacity(iterations: int = 8_000_000) -> float:
    """How many cores' worth of throughput two processes get right now (2.0 on an idle 2-core
    machine, about 1.0 when other work keeps one core busy).

    Times a pure-Python loop in one process alone, then in two processes at once.
    """
    code = _SPIN.format(n=iterations)

    def run(count: int) -> list[float]:
        processes = [
            subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
            for _ in range(count)
        ]
        return [float(process.communicate()[0]) for process in processes]

    alone = run(1)[0]
    together = run(2)
    return 2 * alone / max(together)


def random_genomes(count: int, seed: int = 0) -> list[Genome]:
    """``count`` distinct random ``mlp`` genomes for digits (64 features, 10 classes)."""
    import numpy as np

    from evosearch.space.genome import Genome
    from evosearch.space.space import SearchSpace

    space = SearchSpace.load("mlp")
    rng = np.random.default_rng(seed)
    genomes: list[Genome] = []
    seen: set[str] = set()
    while len(genomes) < count:
        genome = Genome.random(space, 64, 10, rng)
        if genome.canonical_hash() not in seen:
            seen.add(genome.canonical_hash())
            genomes.append(genome)
    return genomes


#: One thread for every math library: a run per core, as the benchmark of record runs them.
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def run_each(script: str, jobs: Sequence[tuple[str, int]], extra: Sequence[str],
             parallel: int = 1) -> list[dict]:  # fmt: skip
    """Run ``python script --one DATA SEED *extra`` for every (data set, seed) of ``jobs``, each
    in a process of its own with one math thread, ``parallel`` at a time; each prints its
    result as the last line of JSON. Returns the results in ``jobs``' order."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    def launch(job: tuple[str, int]) -> dict:
        command = [sys.executable, script, "--one", job[0], str(job[1]), *extra]
        env = {**os.environ, **ONE_THREAD, "PYTHONWARNINGS": "ignore"}
        done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
        print(f"  {job[0]} seed {job[1]} done", flush=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(launch, jobs))
