"""Refit an archive member on all the data and write it out as a standalone model.

An exported folder holds the format's model files (``model.joblib`` by default: the fitted
scikit-learn pipeline, preprocessing included, so it takes raw features as the user gave them:
for a table, a DataFrame of its raw columns, text and missing cells included; ``model.onnx``
with ``--format onnx``), ``genome.json`` (the genome), ``weights.bin`` (the
network's weights as a compact payload, compressed where the genome has compression genes:
:func:`evosearch.nn.compress.decode` reads it back; its size is the ``bytes`` objective) and
``model.json`` (where it came from, how well it cross-validated, the columns it takes, and for
a regressor the ``target_scaling`` that maps the network's output back to the target's units:
``output * scale + mean``);
``evosearch predict`` applies it to a CSV file::

    import joblib
    model = joblib.load("exported/model.joblib")
    model.predict(X)

``model.joblib`` is a pickle: load only models you exported yourself or trust. Everything
evosearch itself reads back from a run folder stays JSON.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from evosearch.data import Dataset
from evosearch.deploy import DEFAULT_FORMAT, WeightedEnsemble, get_format, write_model
from evosearch.errors import RunFolderError, SettingsError
from evosearch.evaluation import Fidelity, build_estimator, task_seed
from evosearch.preprocess import DataProfile
from evosearch.runs import RunRecord, atomic_write_json
from evosearch.search.archive import ArchiveEntry, ParetoArchive
from evosearch.search.inheritance import FoldWeights, WeightStore, read_weights, refit_start
from evosearch.space import Genome

__all__ = [
    "bag_refits",
    "export_member",
    "pick_member",
    "refit",
    "refit_member",
    "refit_starts",
    "select_member",
    "stored_start",
    "write_member",
]


def refit(
    genome: Genome,
    genome_hash: str,
    dataset: Dataset,
    seed: int,
    cv: int,
    fidelity: Fidelity | None = None,
    start: Mapping[str, np.ndarray] | None = None,
    scale_target: bool = True,
) -> Pipeline:
    """Train ``genome`` on all of ``dataset`` with the seed every refit of it uses.

    The seed is the one of a virtual fold number ``cv`` (one past the last CV fold), so a refit
    is reproducible. ``fidelity``: the epochs of a run with a fidelity plan
    (:attr:`Settings.refit_fidelity`), as its evaluations trained. ``start``: the weight blocks
    training starts from (one of the member's CV networks, see
    :func:`~evosearch.search.inheritance.refit_start`); None: a fresh initialisation.
    ``scale_target``: the run's setting (a regressor standardises its target).
    """
    seed = task_seed(seed, genome_hash, cv)
    estimator = build_estimator(
        genome,
        dataset.task,
        seed,
        initial_weights=start,
        profile=DataProfile.of(dataset),
        fidelity=fidelity,
        scale_target=scale_target,
    )
    if dataset.sample_weight is not None:
        return estimator.fit(dataset.X, dataset.y, net__sample_weight=dataset.sample_weight)
    return estimator.fit(dataset.X, dataset.y)


def refit_starts(
    archive: ParetoArchive, weights: WeightStore | None
) -> dict[str, tuple[int, FoldWeights]]:
    """Per archive member's hash, the CV network its refit starts from
    (:meth:`WeightStore.start_for`); empty without stored weights (``inherit_weights=False``)."""
    if weights is None:
        return {}
    starts = {e.genome_hash: weights.start_for(e.genome_hash, e.fold_scores) for e in archive}
    return {key: start for key, start in starts.items() if start is not None}


def refit_member(
    entry: ArchiveEntry,
    dataset: Dataset,
    seed: int,
    cv: int,
    fidelity: Fidelity | None,
    start: tuple[int, FoldWeights] | None,
    scale_target: bool = True,
) -> Pipeline:
    """:func:`refit` an archive member, from the CV network ``start`` (fold, weight blocks)
    where given (:func:`refit_starts`), else from scratch."""
    genome = Genome.from_json(entry.genome)
    initial = None if start is None else start[1]
    return refit(genome, entry.genome_hash, dataset, seed, cv, fidelity, initial, scale_target)


def bag_refits(
    entry: ArchiveEntry,
    dataset: Dataset,
    seed: int,
    cv: int,
    fidelity: Fidelity | None,
    folds: Mapping[int, FoldWeights],
    scale_target: bool = True,
    fitted: Mapping[int, Pipeline] | None = None,
) -> Pipeline | WeightedEnsemble:
    """The ``bag_folds`` model of an archive member: one :func:`refit` per stored fold
    network in ``folds`` (each continuing that network on all rows), averaged with equal
    weights in fold order; the single refit where fewer than two networks are stored (a run
    without inherited weights, or a fidelity plan's one fold). ``fitted``: refits to reuse,
    by the fold they started from (the best fold's is the run's single refit).

    Averaging the folds' refits takes out much of a refit's own variance: on small tables the
    refits started from the three fold networks held back up to 3 points apart.
    """
    models = []
    for fold in sorted(folds):
        done = None if fitted is None else fitted.get(fold)
        models.append(
            done
            if done is not None
            else refit_member(entry, dataset, seed, cv, fidelity, (fold, folds[fold]), scale_target)
        )
    if len(models) < 2:
        if models:
            return models[0]
        return refit_member(entry, dataset, seed, cv, fidelity, None, scale_target)
    return WeightedEnsemble(models, [1.0] * len(models))


def stored_folds(entry: ArchiveEntry, run: Path) -> dict[int, FoldWeights]:
    """Every fold network the run folder ``run`` keeps for ``entry`` (for :func:`bag_refits`).

    Raises
    ------
    RunFolderError
        If the run folder's weights file of ``entry`` is unreadable.
    """
    try:
        return read_weights(run, entry.genome_hash)
    except ValueError as exc:
        raise RunFolderError(f"run {run} is damaged: {exc}") from None


def stored_start(
    entry: ArchiveEntry, starts: Mapping[str, tuple[int, FoldWeights]] | None, run: Path | None
) -> tuple[int, FoldWeights] | None:
    """The CV network a refit of ``entry`` starts from: ``starts``' (a fitted Evolver's, the
    ones its ``best_estimator_`` and holdout scores used), else the run folder ``run``'s
    ``weights/`` (:func:`refit_start`); None where neither keeps one. A folder written before
    archive members' weights were kept has those of its last population only: the archive
    members among them continue their CV network, the others refit from scratch.

    Raises
    ------
    RunFolderError
        If the run folder's weights file of ``entry`` is unreadable.
    """
    if starts is not None:
        return starts.get(entry.genome_hash)
    if run is None:
        return None
    return refit_start(stored_folds(entry, run), entry.fold_scores)


def select_member(record: RunRecord, member: int | None) -> tuple[int, ArchiveEntry]:
    """The archive member to export: index ``member`` (smallest first), or the best if None."""
    if record.archive is None:
        raise RunFolderError(f"run {record.path} has no archive yet: no generation finished")
    return pick_member(ParetoArchive.from_dict(record.archive), member)


def pick_member(archive: ParetoArchive, member: int | None) -> tuple[int, ArchiveEntry]:
    """Index and entry of ``archive``'s member ``member``, or of its most accurate if None."""
    members = archive.members
    if member is None:
        best = archive.best(archive.objective("score"))
        return next(i for i, m in enumerate(members) if m.genome_hash == best.genome_hash), best
    if not 0 <= member < len(members):
        raise SettingsError(
            f"--member {member} is out of range: the archive has members 0 to {len(members) - 1}"
        )
    return member, members[member]


def export_member(
    record: RunRecord,
    dataset: Dataset,
    member: int | None,
    out: str | Path,
    fmt: str = DEFAULT_FORMAT,
    options: Mapping[str, Any] | None = None,
    bag: bool = False,
) -> dict[str, Any]:
    """Refit one archive member on all data and write it in format ``fmt`` with genome.json,
    weights.bin and model.json.

    Parameters
    ----------
    record : RunRecord
        The run (see :func:`evosearch.runs.load_run`).
    dataset : Dataset
        The run's data (see :func:`evosearch.runs.load_run_dataset`).
    member : int or None
        Archive index (as ``evosearch show`` numbers them), or None for the most accurate.
    out : path-like
        Folder to write; it must not exist yet or be empty.
    fmt : str
        A registered export format (:func:`evosearch.deploy.format_names`).
    options : mapping or None
        The format's options (:meth:`~evosearch.deploy.ExportFormat.configure`), e.g.
        ``{"input_dtype": "float64"}`` for ``onnx``; None values are left out.
    bag : bool
        Write the member's ``bag_folds`` model (:func:`bag_refits`: one refit per fold network
        the run folder keeps, averaged) instead of the one refit from its best fold.

    Returns
    -------
    dict
        The metadata written to ``model.json``.
    """
    index, entry = select_member(record, member)
    archive = ParetoArchive.from_dict(record.archive) if record.archive else None
    cap = (record.info.get("fidelity") or {}).get("max_epochs")
    fidelity = Fidelity(max_epochs=cap) if cap else None
    model = None
    if bag:
        _check_folder(out)  # refused before the refits, as write_member would
        settings = record.info["settings"]
        folds = stored_folds(entry, record.path)
        model = bag_refits(entry, dataset, settings["random_state"], settings["cv"], fidelity,
                           folds, settings.get("scale_target", True))  # fmt: skip
    return write_member(
        entry,
        index,
        archive,
        dataset,
        record.info["settings"],
        record.path.resolve(),
        out,
        fmt,
        model=model,
        fidelity=fidelity,
        start=stored_start(entry, None, record.path),
        options=options,
    )


def _check_folder(out: str | Path) -> Path:
    """``out`` as an export may write it: absent or an empty folder, else SettingsError."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SettingsError(f"export folder {out} is a file")
    if out.exists() and any(out.iterdir()):
        raise SettingsError(f"export folder {out} already exists and is not empty")
    return out


def _target_scaling(net: Any) -> dict[str, list[float]] | None:
    """A regressor's standardisation of its target (``y_mean_``, ``y_scale_``) as model.json
    records it, None for a classifier or a raw target."""
    mean, scale = getattr(net, "y_mean_", None), getattr(net, "y_scale_", None)
    if mean is None or scale is None:
        return None
    return {"mean": [float(v) for v in mean], "scale": [float(v) for v in scale]}


def write_member(
    entry: ArchiveEntry,
    index: int,
    archive: ParetoArchive | None,
    dataset: Dataset,
    settings: dict[str, Any],
    run: Path | None,
    out: str | Path,
    fmt: str = DEFAULT_FORMAT,
    model: Pipeline | WeightedEnsemble | None = None,
    fidelity: Fidelity | None = None,
    start: tuple[int, FoldWeights] | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write archive member ``index`` (``entry``) of ``archive`` into the folder ``out``:
    refit on ``dataset`` (unless its fitted ``model`` is given), in format ``fmt``, with
    genome.json, weights.bin and model.json (see :func:`export_member`).

    ``settings`` holds the run's ``random_state``, ``cv``, ``scoring`` and ``scale_target``
    (absent: True); ``run`` is the run
    folder recorded in model.json (None: a run that wrote none); ``fidelity`` what a refit
    trains at (the run's fidelity plan's epoch cap, see :attr:`Settings.refit_fidelity`);
    ``start``: the CV fold and its network the refit starts from (:func:`stored_start`),
    recorded in model.json as ``refit_start_fold`` (with a given ``model``, refitted from that
    fold's network, only the fold is read); ``options``: the format's (see
    :func:`export_member`). A ``model`` that is a bag of the member's fold refits
    (:func:`bag_refits`) is written as an ensemble of them, without weights.bin; model.json
    says ``bag_folds`` (how many).
    """
    out = _check_folder(out)
    exporter = get_format(fmt).configure(options or {})
    exporter.check_available()
    genome = Genome.from_json(entry.genome)
    if model is None:
        seed, cv = settings["random_state"], settings["cv"]
        initial = None if start is None else start[1]
        scaled = settings.get("scale_target", True)
        model = refit(genome, entry.genome_hash, dataset, seed, cv, fidelity, initial, scaled)
    bagged = isinstance(model, WeightedEnsemble)
    nets = model.estimators if bagged else [model]
    for net in nets:
        exporter.check_model(net)  # refused before the folder is made
    # The weights as the bytes objective counts them (compressed where the genome says so).
    payloads = [net[-1].payload() for net in nets]
    values = archive.named(entry) if archive is not None else {}
    metadata = {
        "format_version": 1,
        "run": None if run is None else str(run),
        "member": index,
        "genome_hash": entry.genome_hash,
        "task": dataset.task,
        "cv_score": values.get("score", entry.objectives[0]),
        "scoring": settings["scoring"],
        "fold_scores": entry.fold_scores,
        # Which CV network the refit went on training (None: from scratch), see refit_start.
        "refit_start_fold": None if start is None else start[0],
        "n_params": int(values.get("params", genome.n_params())),
        "payload_bytes": sum(len(payload) for payload in payloads),
        "objectives": values,
        "architecture": genome.describe(),
        "features": dataset.feature_names,
        "target": dataset.target_name,
        # weights.bin's network predicts (target - mean) / scale: None for a raw target.
        "target_scaling": _target_scaling(nets[0][-1]),
        # What `evosearch predict` checks a new table against and reads it with.
        "columns": [c.to_json() for c in dataset.columns] if dataset.columns is not None else None,
        "options": dataset.options,
    }
    if dataset.input_shape is not None:
        # Images: the predictors also take rows shaped as fit took them, (n, H, W[, C]).
        metadata["input_shape"] = list(dataset.input_shape)
    if bagged:
        # bag_folds: the member's refits from each fold network, averaged; weights.bin would
        # hold one network, so the members' payloads live in the format's files only.
        metadata["ensemble"] = {"members": [entry.genome_hash] * len(nets)}
        metadata["bag_folds"] = len(nets)
        metadata["refit_start_fold"] = metadata["target_scaling"] = None
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a missing drive, a read-only place: the user's to fix
        raise SettingsError(f"cannot make export folder {out}: {exc.strerror or exc}") from None
    try:
        if not bagged:
            (out / "weights.bin").write_bytes(payloads[0])
        atomic_write_json(out / "genome.json", genome.to_json())
        return write_model(model, out, metadata, exporter)
    except BaseException as exc:
        # Half an export is none (predict would refuse it): remove what was written; the
        # folder was empty or absent before.
        for path in out.iterdir():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        if created:
            out.rmdir()
        if isinstance(exc, OSError):  # a full disk, a lost permission: the user's to fix
            raise SettingsError(
                f"cannot write export folder {out}: {exc.strerror or exc}"
            ) from None
        raise
