"""Reading a run folder back into an Evolver and its loop state, to continue the run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evosearch.data import Dataset
from evosearch.errors import RunFolderError
from evosearch.evaluation import FitHook
from evosearch.runs import RunFolder, RunRecord, load_run, load_run_dataset
from evosearch.search._checkpoint import RunState, restore_state
from evosearch.search._fidelity import plan_from_dict
from evosearch.search._objectives import prepare_objectives
from evosearch.search._results import ResultsTable
from evosearch.search._run_info import recorded_settings
from evosearch.search._settings import check_folds
from evosearch.space import Genome, SearchSpace

if TYPE_CHECKING:
    from evosearch.search.evolver import Evolver

__all__ = ["prepare_resume"]


def prepare_resume(
    evolver_class: type[Evolver],
    folder: RunFolder,
    *,
    generations: int | None,
    n_jobs: int | None,
    callbacks: Sequence[Any | Callable[..., Any]],
    X: Any,
    y: Any,
    max_time: float | None,
    fit_hook: FitHook | None,
    backend: str | None,
    scheduler: str | None,
    scoring: Any = None,
    groups: Any = None,
    sample_weight: Any = None,
) -> tuple[Evolver, Dataset, RunState]:
    """The Evolver of the run in ``path``, its search data and its restored loop state.

    See :meth:`Evolver.resume` for the parameters. Nothing in the folder changes unless all of
    it was read back (a damaged folder is refused untouched). ``folder`` is the run folder,
    opened (and so locked) by the caller.
    """
    path = folder.path
    record = load_run(path)
    info = record.info
    settings = dict(info["settings"])
    # Runs written before these settings existed evaluated locally.
    recorded_backend = settings.get("backend", "local")
    if backend is None:
        backend = recorded_backend
    if scheduler is None and backend == recorded_backend:
        scheduler = settings.get("scheduler")
    try:
        space = SearchSpace.from_dict(info["search_space"], source=f"{path}/run.json")
        recorded = recorded_settings(info)
        if generations is not None:
            recorded["generations"] = generations
        if n_jobs is not None:
            recorded["n_jobs"] = n_jobs
        if settings.get("scoring_callable"):
            if not callable(scoring):
                raise RunFolderError(
                    f"{path} was scored by the callable {recorded['scoring']!r}, which run.json "
                    "cannot hold: pass it again (Evolver.resume(..., scoring=...))"
                )
            recorded["scoring"] = scoring
        # genome is the recorded space itself (not its name): a clone can fit it again.
        evolver = evolver_class(
            genome=space,
            callbacks=callbacks,
            out=Path(path),
            max_time=max_time,
            fit_hook=fit_hook,
            backend=backend,
            scheduler=scheduler,
            **recorded,
        )
    except KeyError as exc:
        raise RunFolderError(f"{path}/run.json: settings lack {exc}") from None
    checked = evolver._configure()
    dataset = evolver._search_part(load_run_dataset(record, X, y, groups, sample_weight))
    check_folds(dataset, checked.cv, checked.scoring, checked.random_state)
    # The latency cost model is never measured again: the resume is exact.
    prepare_objectives(evolver, dataset, info.get("latency_model"))
    # The plan run.json recorded, not one resolved again: the resume is exact.
    evolver._settings = replace(evolver._settings, plan=plan_from_dict(info.get("fidelity")))
    try:
        evolver._seed_genomes = [Genome.from_json(g) for g in info.get("initial_population", [])]
    except ValueError as exc:
        raise RunFolderError(f"{path}/run.json: bad initial population: {exc}") from None
    state = _restore(evolver, record, dataset, folder)
    # Only once everything was read back: a damaged folder is refused untouched.
    if generations is not None and generations != info["settings"]["generations"]:
        folder.update_run_info(
            {**info, "settings": {**info["settings"], "generations": generations}}
        )
    evolver._folder = folder
    evolver.run_folder_ = Path(path)
    return evolver, dataset, state


def _restore(evolver: Evolver, record: RunRecord, dataset: Dataset, folder: RunFolder) -> RunState:
    """Rebuild the loop state from the checkpoint and the evaluation cache from the journal."""
    settings = evolver._settings
    state = evolver._fresh_state(dataset)
    restore_state(record, folder, state, settings.objective_set)
    if state.archive.weights != settings.weights:
        raise RunFolderError(
            f"{record.path / RunFolder.CHECKPOINT_FILE}: the archive's weights "
            f"{state.archive.weights} do not match the objectives {', '.join(settings.objectives)}"
        )
    # cv_results_ covers the whole run: the generations before this resume come from the journal.
    evolver._results = ResultsTable(settings.n_folds, settings.objective_set)
    evolver._results.add_journal(record.journal)
    evolver._weights = evolver._weight_store(folder)
    if evolver._weights is not None:
        try:
            evolver._weights.load()
        except ValueError as exc:
            raise RunFolderError(str(exc)) from None
    folder.repair(record, state.generation)
    return state
