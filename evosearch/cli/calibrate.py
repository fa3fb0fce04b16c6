"""``evosearch calibrate``: measure the latency objective's cost model, save it, show or clear
this machine's cache (:mod:`evosearch.nn.latency_files`).

Without an option it measures and shows the model, writing nothing; ``--out FILE`` writes a
model file (for ``evolve --latency-model FILE``), ``--cache`` replaces this machine's cached
model, ``--show`` shows the cache without measuring and ``--clear`` empties it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["add_command", "run"]


def add_command(commands: Any, count: Callable[[str], int]) -> None:
    """Add ``evosearch calibrate`` and its options to the parser's ``commands`` (``count``:
    the parser's integer type)."""
    command = commands.add_parser(
        "calibrate",
        help="measure this machine's prediction latency for the latency objective's cost "
        "model; save it to a file or to this machine's cache",
    )
    what = command.add_mutually_exclusive_group()
    what.add_argument(
        "--out", type=Path, metavar="FILE", help="write the model to this JSON file (for "
        "evolve --latency-model FILE, on this machine or any other)",
    )  # fmt: skip
    what.add_argument(
        "--cache", action="store_true", help="measure again and replace this machine's cached "
        "model (what fresh runs use by default)",
    )  # fmt: skip
    what.add_argument(
        "--show", action="store_true", help="only say where the cache is and what it holds"
    )
    what.add_argument(
        "--clear", action="store_true", help="remove the cached models (the next run with a "
        "latency objective measures again)",
    )  # fmt: skip
    command.add_argument(
        "--repeats", type=count, default=40, metavar="N",
        help="timed predictions per network (default: 40)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Run ``evosearch calibrate``; returns the exit status."""
    from evosearch.errors import SettingsError
    from evosearch.nn.latency_files import (
        cache_dir,
        cache_path,
        calibrate,
        clear_cache,
        load_latency_model,
        save_latency_model,
    )

    if args.clear:
        removed = clear_cache()
        print(f"removed {len(removed)} cached latency model(s) from {cache_dir()}")
        return 0
    if args.show:
        path = cache_path()
        try:
            model = load_latency_model(path)
        except SettingsError as exc:
            print(f"this machine's cache: {path}\n  no model there ({exc})")
            return 0
        print(f"this machine's cache: {path}")
        _print_model(model)
        return 0
    from evosearch.nn._latency_calibration import N_NETWORKS

    print(f"timing one-row predictions of {N_NETWORKS} small networks (one thread) ...", flush=True)
    started = time.perf_counter()
    model = calibrate(repeats=args.repeats)
    print(f"measured in {time.perf_counter() - started:.1f} s")
    _print_model(model)
    if args.out is not None:
        print(f"wrote {save_latency_model(model, args.out)}")
    elif args.cache:
        print(f"wrote this machine's cache {save_latency_model(model, cache_path())}")
    else:
        print("nothing written: --out FILE saves it, --cache makes it this machine's default")
    return 0


def _print_model(model: object) -> None:
    from evosearch.nn.cost_model import LatencyModel

    assert isinstance(model, LatencyModel)
    print(f"  measured {model.measured or 'at an unknown time'} on {model.machine or 'unknown'}")
    for line in model.describe().splitlines():
        print(f"  {line}")
