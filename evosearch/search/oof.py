"""Out-of-fold predictions kept for ensembles (``ensemble=True``): the run folder's ``oof/``.

Every fold of a full-fidelity evaluation predicts its own test rows; put together over the
folds they are the genome's out-of-fold predictions of every search row (float32; class
probabilities in the order of the sorted classes, or one column per target; NaN for rows no
fold tests, which only a fidelity plan with fewer folds leaves). Ensemble selection
(:mod:`evosearch.search.ensemble`) combines them without training anything again.

Storage stays bounded: after each generation the store keeps the archive's members and a pool
of the :data:`POOL_PER_GENERATION` best-scoring models of each generation, and forgets (deletes
the files of) every other genome. With a run folder each genome's predictions are written to
``oof/<hash>.npz`` before its journal line (as ``weights/`` are), and the pool is written to
``oof/pool.json`` at each generation's end, so a resume keeps exactly what the uninterrupted run
would have kept. Runs without ``ensemble`` keep none and write no ``oof/``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from evosearch.runs import atomic_write_json, disk_errors, prune_npz
from evosearch.search.member import Member

__all__ = ["OOF_FOLDER", "POOL_PER_GENERATION", "OofStore", "assemble_oof", "read_oof"]

#: Run subfolder of the out-of-fold predictions.
OOF_FOLDER = "oof"
#: How many of each generation's best-scoring new models keep their predictions for ensembles
#: besides the archive's members (diverse good models are what ensemble selection needs).
POOL_PER_GENERATION = 5
_POOL_FILE = "pool.json"


def assemble_oof(
    fold_predictions: Sequence[np.ndarray | None],
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    n_rows: int,
) -> np.ndarray | None:
    """One ``(n_rows, k)`` float32 array from each fold's test-row predictions (NaN rows no
    fold tests); None when a fold's predictions are missing (a partial or replayed result)."""
    if len(fold_predictions) != len(folds) or any(p is None for p in fold_predictions):
        return None
    width = int(np.asarray(fold_predictions[0]).reshape(len(folds[0][1]), -1).shape[1])
    oof = np.full((n_rows, width), np.nan, dtype=np.float32)
    for predictions, (_, test) in zip(fold_predictions, folds, strict=True):
        oof[test] = np.asarray(predictions, dtype=np.float32).reshape(len(test), width)
    return oof


class OofStore:
    """Out-of-fold predictions by genome hash, optionally mirrored in a folder.

    Parameters
    ----------
    folds : sequence of (train, test) index arrays
        The run's (full-fidelity) folds.
    n_rows : int
        Search rows.
    folder : path, optional
        Where ``<hash>.npz`` files and ``pool.json`` are written (a run folder's ``oof/``).
    """

    def __init__(
        self,
        folds: Sequence[tuple[np.ndarray, np.ndarray]],
        n_rows: int,
        folder: str | Path | None = None,
    ) -> None:
        self.folds = list(folds)
        self.n_rows = n_rows
        self.folder = Path(folder) if folder is not None else None
        self.predictions: dict[str, np.ndarray] = {}
        #: The best few of every generation so far (kept whether in the archive or not).
        self.pool: set[str] = set()

    def add(self, genome_hash: str, fold_predictions: Sequence[np.ndarray | None] | None) -> bool:
        """Keep ``genome_hash``'s predictions (written before its journal line); False when
        they are incomplete (nothing kept)."""
        if fold_predictions is None:
            return False
        oof = assemble_oof(fold_predictions, self.folds, self.n_rows)
        if oof is None:
            return False
        self.predictions[genome_hash] = oof
        if self.folder is not None:
            self._write(genome_hash, oof)
        return True

    def end_generation(self, offspring: Sequence[Member], archive: Iterable[str]) -> None:
        """Add the generation's best few (of those with predictions) to the pool, then forget
        every genome neither in the pool nor in the ``archive`` (hashes)."""
        ranked = sorted(
            (m for m in offspring if m.result.ok and m.result.genome_hash in self.predictions),
            key=lambda m: (-m.result.score, m.result.genome_hash),  # ties: by hash, stable
        )
        best: list[str] = []
        for member in ranked:
            if member.result.genome_hash not in best:
                best.append(member.result.genome_hash)
        self.pool.update(best[:POOL_PER_GENERATION])
        keep = self.pool | set(archive)
        for genome_hash in [h for h in self.predictions if h not in keep]:
            del self.predictions[genome_hash]
        if self.folder is None:
            return
        with disk_errors(self.folder.parent):
            self.folder.mkdir(exist_ok=True)
            atomic_write_json(self.folder / _POOL_FILE, sorted(self.pool))
        prune_npz(self.folder, keep)

    def kept(self) -> set[str]:
        """The hashes whose predictions are kept."""
        return set(self.predictions)

    def load(self) -> None:
        """Read the folder back (after a resume): every file, and the pool.

        Raises
        ------
        ValueError
            Naming a file that cannot be read.
        """
        if self.folder is None or not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*.npz")):
            self.predictions[path.stem] = _read(path)
        pool = self.folder / _POOL_FILE
        if pool.is_file():
            try:
                self.pool = set(json.loads(pool.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError) as exc:
                raise ValueError(f"{pool}: unreadable ({exc})") from None

    def _write(self, genome_hash: str, oof: np.ndarray) -> None:
        assert self.folder is not None
        target = self.folder / f"{genome_hash}.npz"
        temporary = target.with_suffix(".tmp")
        with disk_errors(self.folder.parent):
            self.folder.mkdir(exist_ok=True)
            try:
                with open(temporary, "wb") as handle:
                    np.savez(handle, oof=oof)
                    handle.flush()
                    # Durable before the journal line that makes a resume rely on it.
                    os.fsync(handle.fileno())
                os.replace(temporary, target)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise


def _read(path: Path) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as data:
            return np.asarray(data["oof"], dtype=np.float32)
    except (OSError, ValueError, EOFError, KeyError) as exc:
        raise ValueError(f"{path}: unreadable out-of-fold predictions ({exc})") from None


def read_oof(run: str | Path) -> dict[str, np.ndarray]:
    """Every out-of-fold prediction a run folder keeps, by genome hash (empty: none kept).

    Raises
    ------
    ValueError
        Naming a file that cannot be read.
    """
    folder = Path(run) / OOF_FOLDER
    if not folder.is_dir():
        return {}
    return {path.stem: _read(path) for path in sorted(folder.glob("*.npz"))}
