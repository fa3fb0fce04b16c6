"""Write a mixed table for the tables demonstration: Palmer penguins with ~5 % missing cells.

The penguins data (text columns ``island`` and ``sex``, four measurements, ``year``; target
``species``) ships inside the ``palmerpenguins`` wheel (``pip install 'evosearch[bench]'``):
nothing is downloaded. About 0.8 % of its cells are missing; this script blanks more feature
cells at random (seeded) until about 5 % are, shuffles the rows, and writes the first 80 % to
``OUT/penguins.csv`` (the search) and the rest to ``OUT/penguins-new.csv`` (held back for
``evosearch predict``).

Usage::

    python benchmarks/penguins_table.py OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def main(out: str) -> None:
    import palmerpenguins

    table = palmerpenguins.load_penguins()
    rng = np.random.default_rng(15)
    table = table.iloc[rng.permutation(len(table))].reset_index(drop=True)
    features = [c for c in table.columns if c != "species"]
    cells = table[features].to_numpy(dtype=object)
    missing = table[features].isna().to_numpy()
    goal = 0.05 * cells.size
    candidates = np.flatnonzero(~missing.ravel())
    extra = rng.choice(candidates, size=max(0, int(goal - missing.sum())), replace=False)
    mask = missing.ravel().copy()
    mask[extra] = True
    for name, column in zip(features, mask.reshape(missing.shape).T, strict=True):
        table[name] = table[name].astype(object).where(~column, None)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    cut = int(0.8 * len(table))
    table.iloc[:cut].to_csv(folder / "penguins.csv", index=False)
    table.iloc[cut:].to_csv(folder / "penguins-new.csv", index=False)
    share = table[features].isna().to_numpy().mean()
    print(f"{len(table)} rows, {share:.1%} of the feature cells missing: {cut} to search, "
          f"{len(table) - cut} held back -> {folder}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "penguins")
