"""``evosearch genomes``: list the bundled search-space presets."""

from __future__ import annotations

import argparse

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``evosearch genomes``; returns the exit status."""
    from evosearch.space import SearchSpace, list_presets

    for name, path in sorted(list_presets().items()):
        space = SearchSpace.from_toml(path)
        print(f"{name}\t{space.description}")
    return 0
