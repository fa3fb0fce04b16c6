"""A run's ensembles: built from its out-of-fold predictions, recorded in ``RUN/ensemble.json``,
refit and exported like any model.

``ensemble.json`` (format 1) holds the most accurate ensemble of the ensemble front
(``members``: hash, weight, count; ``score``, ``fold_scores``, ``objectives`` by name), the
``front`` itself (every non-dominated ensemble, smallest first, same keys), the best single
model for comparison (``best_single``), the ``models`` the ensembles use (genome, fold scores),
and how it was built (``rounds``, ``max_members``, ``max_bytes``, ``candidates``,
``scoring``). It is written when a run with ``ensemble`` ends and again by ``evosearch ensemble
RUN``; nothing else in the run folder depends on it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evosearch.data import Dataset
from evosearch.deploy import WeightedEnsemble, get_format, write_model
from evosearch.errors import RunFolderError, SettingsError
from evosearch.evaluation import Fidelity
from evosearch.objectives import model_bytes, scoring_name
from evosearch.runs import RunFolder, atomic_write_json, load_run
from evosearch.search._results import ResultsTable
from evosearch.search.archive import ParetoArchive
from evosearch.search.ensemble import (
    DEFAULT_ROUNDS,
    Candidate,
    PredictionScorer,
    _rank,
    ensemble_front,
    select_ensemble,
)
from evosearch.search.inheritance import FoldWeights, read_weights, refit_start
from evosearch.search.member import Member
from evosearch.search.oof import read_oof
from evosearch.search.refit import refit
from evosearch.search.run import SearchRun
from evosearch.space import Genome

__all__ = [
    "ENSEMBLE_FILE",
    "build_ensemble",
    "ensemble_members_now",
    "ensemble_of_run",
    "export_ensemble",
    "fit_ensemble",
    "read_ensemble",
    "rebuild_ensemble",
    "refit_ensemble",
    "write_ensemble",
]

#: The run folder's record of its ensembles.
ENSEMBLE_FILE = "ensemble.json"


def _candidates(
    oof: Mapping[str, np.ndarray], member: Callable[[str], Member | None]
) -> list[Candidate]:
    found = []
    for genome_hash in sorted(oof):
        known = member(genome_hash)
        if known is None or not known.result.ok or known.result.partial:
            continue
        found.append(
            Candidate(
                genome_hash,
                float(known.result.score),
                tuple(float(v) for v in known.objectives),
                model_bytes(known.genome),
                oof[genome_hash],
            )
        )
    return found


def build_ensemble(
    oof: Mapping[str, np.ndarray],
    member: Callable[[str], Member | None],
    scorer: PredictionScorer,
    archive: ParetoArchive,
    *,
    scoring: Any = None,
    rounds: int = DEFAULT_ROUNDS,
    max_members: int | None = None,
    max_bytes: int | None = None,
) -> dict[str, Any]:
    """``ensemble.json``'s content: the ensemble front of the models ``oof`` keeps.

    Parameters
    ----------
    oof : mapping of str to ndarray
        Out-of-fold predictions by genome hash.
    member : callable
        ``member(hash)``: the evaluated :class:`Member` (genome, result, objectives).
    scorer : PredictionScorer
    archive : ParetoArchive
        The run's archive (its members' sizes are the size limits tried; its objectives and
        weights the ensembles').
    scoring : str or callable, optional
        The run's scorer (recorded by name).
    rounds, max_members, max_bytes
        See :func:`~evosearch.search.ensemble.ensemble_front`.

    Raises
    ------
    SettingsError
        When no model has predictions, or none fits the limits.
    """
    if max_members is not None and max_members < 1:
        raise SettingsError(f"--max-members must be at least 1, got {max_members}")
    if max_bytes is not None and max_bytes < 1:
        raise SettingsError(f"--max-bytes must be a positive number of bytes, got {max_bytes}")
    candidates = _candidates(oof, member)
    if not candidates:
        raise SettingsError("no model of the run has out-of-fold predictions to ensemble")
    names = archive.objective_names or tuple(f"objective_{i}" for i in range(len(archive.weights)))
    front = ensemble_front(
        candidates,
        scorer,
        archive.weights,
        front=[e.genome_hash for e in archive],
        rounds=rounds,
        max_members=max_members,
        max_bytes=max_bytes,
    )
    if not front:
        raise SettingsError(
            f"no model fits --max-bytes {max_bytes}: the smallest has "
            f"{min(c.bytes for c in candidates):,} bytes"
        )
    # The most accurate ensemble; of equals the smallest (the front is smallest first).
    best = max(front, key=lambda e: e.score)
    single = min(candidates, key=_rank)
    used = sorted({h for e in front for h, _ in e.members} | {single.genome_hash})
    models = {}
    for genome_hash in used:
        known = member(genome_hash)
        assert known is not None
        models[genome_hash] = {
            "genome": known.genome.to_json(),
            "fold_scores": list(known.result.fold_scores),
        }
    return {
        "format_version": 1,
        **best.to_dict(names),
        "best_single": {
            "genome_hash": single.genome_hash,
            "score": single.score,
            "objectives": dict(zip(names, single.objectives, strict=True)),
        },
        "front": [e.to_dict(names) for e in front],
        "models": models,
        "scoring": scoring_name(scoring),
        "rounds": rounds,
        "max_members": max_members,
        "max_bytes": max_bytes,
        "candidates": len(candidates),
    }


def ensemble_of_run(run: SearchRun) -> dict[str, Any]:
    """Build the ensemble of a run that just ended (``ensemble=True``) and write
    ``ensemble.json`` into its folder, if it has one."""
    if run.oof is None:
        raise SettingsError("the run kept no out-of-fold predictions (ensemble=False)")
    scorer = _run_scorer(run)
    record = build_ensemble(
        run.oof.predictions,
        run.results.member,
        scorer,
        run.state.archive,
        scoring=run.settings.scoring,
    )
    if run.folder is not None:
        atomic_write_json(run.folder.path / ENSEMBLE_FILE, record)
    return record


def _run_scorer(run: SearchRun) -> PredictionScorer:
    """The run's scorer of out-of-fold predictions (its folds, scoring and row weights)."""
    dataset = run.dataset
    return PredictionScorer(dataset.y, run.state.evaluator.folds, dataset.task,
                            run.settings.scoring, dataset.sample_weight)  # fmt: skip


def ensemble_members_now(run: SearchRun) -> list[str]:
    """Hashes of the models the ensemble of ``run`` would be of if the run ended now: greedy
    selection, without size limits, over the predictions kept so far (what ``max_time``'s
    refit reserve counts; the front the run ends with is built only then). Empty without
    ``ensemble`` or predictions."""
    if run.oof is None or not run.oof.predictions:
        return []
    candidates = _candidates(run.oof.predictions, run.results.member)
    if not candidates:
        return []
    picked = select_ensemble(candidates, _run_scorer(run))
    return [] if picked is None else list(picked[0])


def rebuild_ensemble(
    path: str | Path,
    *,
    max_members: int | None = None,
    max_bytes: int | None = None,
    rounds: int = DEFAULT_ROUNDS,
) -> dict[str, Any]:
    """Build the ensemble front of the run folder ``path`` again (``evosearch ensemble``) and
    rewrite its ``ensemble.json``.

    It holds the run folder's write lock meanwhile (one writer per run folder), so it refuses
    a folder a run is writing, and a run refuses the folder while it rebuilds.

    Raises
    ------
    SettingsError
        For a run that kept no out-of-fold predictions (not evolved with ``--ensemble``), one
        scored by a callable, or limits no model fits.
    RunFolderError
        For a damaged run folder, or one another process writes (naming it).
    """
    # Locked before it is read: a run still writing it would change what the ensemble is of.
    folder = RunFolder.open(path, "ensemble")
    try:
        return _rebuild(path, max_members, max_bytes, rounds)
    finally:
        folder.close()


def _rebuild(
    path: str | Path, max_members: int | None, max_bytes: int | None, rounds: int
) -> dict[str, Any]:
    record = load_run(path)
    try:
        oof = read_oof(record.path)
    except ValueError as exc:
        raise RunFolderError(f"run {record.path} is damaged: {exc}") from None
    if not oof:
        raise SettingsError(
            f"run {record.path} kept no out-of-fold predictions: ensembles need a run evolved "
            "with --ensemble"
        )
    if record.archive is None:
        raise RunFolderError(f"run {record.path} has no archive yet: no generation finished")
    if record.info["settings"].get("scoring_callable"):
        raise SettingsError(
            f"run {record.path} was scored by the callable "
            f"{record.info['settings']['scoring']!r}: build its ensemble in Python"
        )
    run = SearchRun.recorded(record)
    try:
        results = ResultsTable(run.settings.n_folds, run.settings.objective_set)
        results.add_journal(line for line in record.journal if line.get("fidelity") != 1)
        dataset = run.dataset
        scorer = PredictionScorer(
            dataset.y,
            run.state.evaluator.folds,
            dataset.task,
            run.settings.scoring,
            dataset.sample_weight,
        )
        built = build_ensemble(
            oof,
            results.member,
            scorer,
            ParetoArchive.from_dict(record.archive),
            scoring=run.settings.scoring,
            rounds=rounds,
            max_members=max_members,
            max_bytes=max_bytes,
        )
    finally:
        run.close()
    atomic_write_json(record.path / ENSEMBLE_FILE, built)
    return built


def read_ensemble(path: str | Path) -> dict[str, Any]:
    """A run folder's ``ensemble.json``.

    Raises
    ------
    SettingsError
        When the run has none (one line naming the remedy) or it cannot be read.
    """
    file = Path(path) / ENSEMBLE_FILE
    if not file.is_file():
        raise SettingsError(
            f"run {path} has no ensemble: evolve it with --ensemble, or run "
            f"'evosearch ensemble {path}' on a run evolved with --ensemble"
        )
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not data.get("members"):
            raise ValueError("no members")
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read {file}: {exc}") from None
    return data


def refit_ensemble(
    record: Mapping[str, Any],
    dataset: Dataset,
    seed: int,
    cv: int,
    fidelity: Fidelity | None,
    start: Callable[[str, Sequence[float]], tuple[int, FoldWeights] | None],
    scale_target: bool = True,
    fitted: Mapping[str, Any] | None = None,
) -> WeightedEnsemble:
    """Refit the members of ``ensemble.json``'s ensemble ``record`` on all of ``dataset``, as
    an archive member is refit (:func:`~evosearch.search.refit.refit`; ``start(hash,
    fold_scores)``: the CV network it continues, or None); ``fitted``: refits to reuse, by
    hash (the same refit gives the same model)."""
    models, estimators, weights = record["models"], [], []
    for entry in record["members"]:
        genome_hash = entry["genome_hash"]
        weights.append(float(entry["weight"]))
        if fitted is not None and genome_hash in fitted:
            estimators.append(fitted[genome_hash])
            continue
        model = models[genome_hash]
        begin = start(genome_hash, model["fold_scores"])
        genome = Genome.from_json(model["genome"])
        initial = None if begin is None else begin[1]
        estimators.append(
            refit(genome, genome_hash, dataset, seed, cv, fidelity, initial, scale_target)
        )
    return WeightedEnsemble(estimators, weights)


def fit_ensemble(evolver: Any, run: SearchRun) -> WeightedEnsemble | None:
    """The Evolver's ``ensemble_`` at the end of a run with ``ensemble``: the ensemble front
    built (``ensemble.json`` written where the run has a folder; ``evolver.ensemble_record_``)
    and its most accurate ensemble refit, reusing ``best_estimator_`` for the best member.
    None, with a warning, where no model kept complete predictions (the run's best model is
    then what predicts)."""
    try:
        record = ensemble_of_run(run)
    except SettingsError as exc:
        # The search itself succeeded: its best model stays usable, the ensemble is missing.
        warnings.warn(f"no ensemble: {exc}", UserWarning, stacklevel=4)
        evolver.ensemble_record_ = None
        return None
    evolver.ensemble_record_ = record
    settings, weights = run.settings, run.weights

    def start(genome_hash: str, fold_scores: Sequence[float]) -> tuple[int, FoldWeights] | None:
        return None if weights is None else weights.start_for(genome_hash, fold_scores)

    best = run.state.archive.best(run.state.archive.objective("score")).genome_hash
    return refit_ensemble(
        record,
        run.dataset,
        settings.random_state,
        settings.cv,
        settings.refit_fidelity,
        start,
        settings.scale_target,
        fitted={best: evolver.best_estimator_},
    )


def export_ensemble(
    record: Any,
    dataset: Dataset,
    out: str | Path,
    fmt: str,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Refit the run's ensemble (``RUN/ensemble.json``) and write it in format ``fmt`` with
    ``model.json`` into ``out`` (``evosearch export RUN --ensemble``).

    ``record`` is the run's :class:`~evosearch.runs.RunRecord`; ``options`` the format's
    (:meth:`~evosearch.deploy.ExportFormat.configure`).
    """
    _check_out(out, fmt, options)
    ensemble = read_ensemble(record.path)
    settings = record.info["settings"]
    cap = (record.info.get("fidelity") or {}).get("max_epochs")

    def start(genome_hash: str, fold_scores: Sequence[float]) -> tuple[int, FoldWeights] | None:
        try:
            return refit_start(read_weights(record.path, genome_hash), fold_scores)
        except ValueError as exc:
            raise RunFolderError(f"run {record.path} is damaged: {exc}") from None

    model = refit_ensemble(
        ensemble,
        dataset,
        settings["random_state"],
        settings["cv"],
        Fidelity(max_epochs=cap) if cap else None,
        start,
        settings.get("scale_target", True),
    )
    return write_ensemble(
        model, ensemble, dataset, settings["scoring"], record.path, out, fmt, options
    )


def _check_out(out: str | Path, fmt: str, options: Mapping[str, Any] | None) -> None:
    """Refuse a folder in use, an unknown format or a missing extra before anything is refit."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SettingsError(f"export folder {out} already exists and is not empty")
    get_format(fmt).configure(options or {}).check_available()


def write_ensemble(
    model: WeightedEnsemble,
    ensemble: Mapping[str, Any],
    dataset: Dataset,
    scoring: str | None,
    run: Path | None,
    out: str | Path,
    fmt: str,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the refit ensemble ``model`` of ``ensemble.json``'s ``ensemble`` in format ``fmt``
    with ``model.json`` into ``out`` (:func:`export_ensemble`, and
    :meth:`Evolver.export(ensemble=True) <evosearch.Evolver.export>` with its ``ensemble_``).

    ``scoring``: the run's scorer by name; ``run``: the run folder model.json names (None: a
    run that wrote none).
    """
    _check_out(out, fmt, options)
    out = Path(out)
    exporter = get_format(fmt).configure(options or {})
    metadata: dict[str, Any] = {
        "format_version": 1,
        "run": None if run is None else str(Path(run).resolve()),
        "ensemble": {"members": [m["genome_hash"] for m in ensemble["members"]]},
        "task": dataset.task,
        "cv_score": ensemble["score"],
        "scoring": scoring,
        "fold_scores": ensemble["fold_scores"],
        "objectives": ensemble["objectives"],
        "architecture": f"ensemble of {len(ensemble['members'])} models",
        "features": dataset.feature_names,
        "target": dataset.target_name,
        "columns": [c.to_json() for c in dataset.columns] if dataset.columns is not None else None,
        "options": dataset.options,
    }
    if dataset.input_shape is not None:
        metadata["input_shape"] = list(dataset.input_shape)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"cannot make export folder {out}: {exc.strerror or exc}") from None
    return write_model(model, out, metadata, exporter)
