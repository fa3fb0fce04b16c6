"""The size of an archive member once deployed: its exported files, beside the ``bytes``
objective (the weight payload alone).

``evosearch show`` and the HTML report ask for a few members (the best and the knee, ...) on
demand. Each is fitted quickly, not refit as ``export`` does: its preprocessing on up to
:data:`PREP_ROWS` of the run's rows (so a quantile scaler keeps as many quantiles as an export's)
and its network for one epoch on up to :data:`NET_ROWS` rows (every class among them), with its
compression; the file sizes depend on the layer graph, the preprocessing and how compressed
weights are stored, not on how long the network trained, so they are the export's within a few
bytes (a pruned tensor's stored form may differ where its dense and sparse forms are about the
same size). The files are written into a temporary folder, never into the run folder.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evosearch.errors import EvosearchError
from evosearch.runs import RunRecord
from evosearch.search.archive import ArchiveEntry
from evosearch.space import Genome

__all__ = ["NET_ROWS", "PREP_ROWS", "DeployedSizes", "deployed_sizes"]

#: Rows the preprocessing of a sized member is fitted on (at most).
PREP_ROWS = 2000
#: Rows its network trains on for one epoch (at most; every class included).
NET_ROWS = 200
#: The formats sized, in the order shown.
FORMATS = ("onnx", "python", "joblib")


@dataclass
class DeployedSizes:
    """Bytes of each sized member's export, by genome hash.

    Attributes
    ----------
    sizes : dict
        ``{genome_hash: {"weights": payload bytes (the bytes objective), "onnx": model.onnx
        bytes, "python": ..., "joblib": ...}}``; a format that could not be written is left out.
    notes : list of str
        Why a format or every member was left out (the onnx extra not installed, data that
        cannot be reloaded).
    """

    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _rows(y: np.ndarray, n: int) -> np.ndarray:
    """Up to ``n`` row indices: the first row of every class (classification) and the first
    rows after them."""
    if len(y) <= n:
        return np.arange(len(y))
    first = np.unique(y, return_index=True)[1]
    rest = np.setdiff1d(np.arange(n), first)[: max(n - len(first), 0)]
    return np.sort(np.concatenate([first.astype(np.int64), rest]))


def _take(X: Any, rows: np.ndarray) -> Any:
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _quick_fit(genome: Genome, dataset: Any) -> Any:
    """The member's pipeline fitted quickly (see the module docstring)."""
    from evosearch.evaluation import build_estimator
    from evosearch.preprocess import DataProfile

    model = build_estimator(genome, dataset.task, 0, profile=DataProfile.of(dataset))
    y = np.asarray(dataset.y)
    classify = dataset.task == "classification"
    prep_rows = _rows(y, PREP_ROWS) if classify else np.arange(min(len(y), PREP_ROWS))
    net_rows = _rows(y, NET_ROWS) if classify else np.arange(min(len(y), NET_ROWS))
    prep, net = model.steps[0][1], model.steps[-1][1]
    net.set_params(max_epochs=1)
    if isinstance(prep, str):  # "passthrough"
        net.fit(_take(dataset.X, net_rows), y[net_rows])
        return model
    prep.fit(_take(dataset.X, prep_rows), y[prep_rows])
    net.fit(prep.transform(_take(dataset.X, net_rows)), y[net_rows])
    return model


def deployed_sizes(
    record: RunRecord, entries: Sequence[ArchiveEntry], dataset: Any = None
) -> DeployedSizes:
    """The export sizes of archive members ``entries`` of run ``record``.

    Parameters
    ----------
    record : RunRecord
        The run (:func:`evosearch.runs.load_run`); read only.
    entries : sequence of ArchiveEntry
        The members to size (each once, by genome hash).
    dataset : Dataset, optional
        The run's data; None: reloaded as ``export`` reloads it.

    Returns
    -------
    DeployedSizes
        Sizes by genome hash, and notes on what was left out (never raises for missing data
        or a missing extra: show and report go on without the sizes).
    """
    from evosearch.deploy import get_format, write_model
    from evosearch.runs import load_run_dataset

    result = DeployedSizes()
    if not entries:
        return result
    if dataset is None:
        try:
            dataset = load_run_dataset(record)
        except (EvosearchError, OSError) as exc:
            result.notes.append(f"deployed sizes left out: {str(exc).splitlines()[0]}")
            return result
    formats = []
    for name in FORMATS:
        try:
            get_format(name).check_available()
            formats.append(name)
        except EvosearchError as exc:
            result.notes.append(f"{name} size left out: {exc}")
    with tempfile.TemporaryDirectory(prefix="evosearch-sizes-") as tmp:
        for entry in entries:
            if entry.genome_hash in result.sizes:
                continue
            try:
                genome = Genome.from_json(entry.genome)
                model = _quick_fit(genome, dataset)
            except Exception as exc:  # show and report go on without this member's sizes
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                result.notes.append(f"sizes of {entry.genome_hash} left out: {reason}")
                continue
            sizes = {"weights": len(model[-1].payload())}
            # What an export records that the files hold (the ONNX graph's doc string).
            info = {"task": dataset.task, "architecture": genome.describe()}
            for name in formats:
                folder = Path(tmp) / f"{entry.genome_hash}-{name}"
                folder.mkdir()
                try:
                    written = write_model(model, folder, dict(info), name)
                except Exception as exc:  # a plug-in layer kind without an ONNX form, ...
                    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    result.notes.append(f"{name} size of {entry.genome_hash} left out: {reason}")
                    continue
                sizes[name] = sum((folder / f).stat().st_size for f in written["files"])
            result.sizes[entry.genome_hash] = sizes
    return result
