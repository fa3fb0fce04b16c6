"""Trained weights that children inherit from their parents (``inherit_weights=True``).

The store holds, per genome hash, the weight blocks of each cross-validation fold's trained
network (the key format of :meth:`~evosearch.nn.GraphNetClassifier.weight_blocks`). A
child's fold ``k`` starts from its parent's fold ``k`` network: that network was trained on
exactly the rows the child's fold ``k`` trains on, so no test row of the fold leaks into it.

After every generation the store is pruned to what can still be inherited (the population)
and what can still be refitted (the Pareto archive). With a run folder each genome's weights
also live in ``weights/<hash>.npz`` (written before the genome's journal line), so a resumed run
inherits exactly what the uninterrupted run would have.

A refit (the run's final model, holdout scores, ``export``) starts from the archive member's own
trained network (:func:`refit_start`): with inheritance a CV score is that of a network whose
training went on over many generations, and a refit from scratch for the genome's few epochs
was measured several points less accurate on held-out rows than that network (digits, cnn).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from evosearch.runs import disk_errors, prune_npz

__all__ = ["FoldWeights", "WeightStore", "read_weights", "refit_start"]

FoldWeights = dict[str, np.ndarray]


class WeightStore:
    """Per-genome, per-fold trained weights, optionally mirrored in a folder.

    Parameters
    ----------
    n_folds : int
        Cross-validation folds of the run.
    folder : path, optional
        Where ``<hash>.npz`` files are written and read (a run folder's ``weights/``).
    """

    def __init__(self, n_folds: int, folder: str | Path | None = None) -> None:
        self.n_folds = n_folds
        self.folder = Path(folder) if folder is not None else None
        self._weights: dict[str, dict[int, FoldWeights]] = {}

    def add(
        self, genome_hash: str, fold_weights: Sequence[Mapping[str, np.ndarray] | None]
    ) -> None:
        """Keep the trained weights of ``genome_hash``'s folds (None entries are skipped).

        Folds trained at different times (successive halving) are merged.
        """
        folds = {
            fold: dict(weights)
            for fold, weights in enumerate(fold_weights)
            if weights is not None and fold < self.n_folds
        }
        if not folds:
            return
        merged = {**self._weights.get(genome_hash, {}), **folds}
        self._weights[genome_hash] = merged
        if self.folder is not None:
            self._write(genome_hash, merged)

    def initial_weights(self, parent_hash: str | None) -> list[FoldWeights | None] | None:
        """What a child of ``parent_hash`` starts from, fold by fold (None: nothing known)."""
        known = self._weights.get(parent_hash) if parent_hash is not None else None
        if not known:
            return None
        return [known.get(fold) for fold in range(self.n_folds)]

    def start_for(
        self, genome_hash: str, fold_scores: Sequence[float]
    ) -> tuple[int, FoldWeights] | None:
        """What a refit of ``genome_hash`` starts from (:func:`refit_start`)."""
        return refit_start(self._weights.get(genome_hash, {}), fold_scores)

    def folds(self, genome_hash: str) -> dict[int, FoldWeights]:
        """Every stored fold network of ``genome_hash`` by fold (empty if none)."""
        return dict(self._weights.get(genome_hash, {}))

    def keep_only(self, genome_hashes: Iterable[str]) -> None:
        """Forget (and delete the files of) every genome not in ``genome_hashes``."""
        keep = set(genome_hashes)
        for genome_hash in [h for h in self._weights if h not in keep]:
            del self._weights[genome_hash]
        if self.folder is not None and self.folder.is_dir():
            prune_npz(self.folder, keep)

    def load(self) -> None:
        """Read every ``<hash>.npz`` of the folder (after a resume).

        Raises
        ------
        ValueError
            Naming the file that cannot be read.
        """
        if self.folder is None or not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*.npz")):
            self._weights[path.stem] = _read(path)

    def _write(self, genome_hash: str, folds: dict[int, FoldWeights]) -> None:
        assert self.folder is not None
        target = self.folder / f"{genome_hash}.npz"
        temporary = target.with_suffix(".tmp")
        arrays = {
            f"f{fold}/{key}": value
            for fold, blocks in folds.items()
            for key, value in blocks.items()
        }
        # The weights folder lives in the run folder: a full disk is reported as the run's.
        with disk_errors(self.folder.parent):
            self.folder.mkdir(exist_ok=True)
            try:
                with open(temporary, "wb") as handle:
                    np.savez(handle, **arrays)  # type: ignore[arg-type]
                    handle.flush()
                    # Durable before the journal line that makes a resume rely on it.
                    os.fsync(handle.fileno())
                os.replace(temporary, target)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise


def _read(path: Path) -> dict[int, FoldWeights]:
    try:
        with np.load(path, allow_pickle=False) as data:
            folds: dict[int, FoldWeights] = {}
            for name in data.files:
                fold_text, _, key = name.partition("/")
                folds.setdefault(int(fold_text.removeprefix("f")), {})[key] = data[name]
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{path}: unreadable weights file ({exc})") from None
    return folds


def read_weights(folder: str | Path, genome_hash: str) -> dict[int, FoldWeights]:
    """The fold networks a run folder's ``weights/`` keeps for ``genome_hash`` (empty if none:
    inheritance off, or a run written before archive members' weights were kept).

    Raises
    ------
    ValueError
        Naming the file, if it cannot be read.
    """
    path = Path(folder) / "weights" / f"{genome_hash}.npz"
    return _read(path) if path.is_file() else {}


def refit_start(
    folds: Mapping[int, FoldWeights], fold_scores: Sequence[float]
) -> tuple[int, FoldWeights] | None:
    """The fold network a refit starts from: the stored one that scored best on its own test
    rows (the lowest fold on a tie), or None where none is stored.

    Examples
    --------
    >>> w = {"b": np.zeros(1)}
    >>> refit_start({0: w, 2: w}, [0.90, 0.97, 0.95])[0]
    2
    >>> refit_start({}, [0.9]) is None
    True
    """

    def score(fold: int) -> float:
        value = fold_scores[fold] if fold < len(fold_scores) else float("nan")
        return value if np.isfinite(value) else -np.inf

    if not folds:
        return None
    fold = max(sorted(folds), key=score)  # max keeps the first of equals: the lowest fold
    return fold, folds[fold]
