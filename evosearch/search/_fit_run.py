"""The body of a fit: run a :class:`SearchRun`'s generations, then refit its best member.

Kept apart from :mod:`evosearch.search.evolver` (the estimator's face: parameters, docstrings,
``fit`` / ``resume``), which calls :func:`run_search` once its run is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evosearch.errors import EvosearchError
from evosearch.search._holdout import score_holdout
from evosearch.search.ensemble_run import fit_ensemble
from evosearch.search.loop import GenerationLoop
from evosearch.search.refit import bag_refits, refit_member, refit_starts
from evosearch.search.steady_state import SteadyStateLoop
from evosearch.space import Genome

if TYPE_CHECKING:
    from evosearch.search.run import SearchRun

__all__ = ["run_search"]


def run_search(evolver: Any, run: SearchRun) -> Any:
    """Run ``run`` for ``evolver`` (an :class:`~evosearch.search.Evolver`), set its fitted
    attributes, refit the best member (and the holdout's), build the ensemble if asked.

    Returns
    -------
    Evolver
        ``evolver``, fitted.
    """
    settings, state, dataset = run.settings, run.state, run.dataset
    evolver.run_folder_ = None if run.folder is None else run.folder.path
    evolver.dataset_ = dataset
    evolver.task_ = dataset.task
    evolver.space_ = settings.space
    evolver.objectives_ = settings.objectives
    evolver.n_features_in_ = dataset.n_features
    evolver.fidelity_plan_ = settings.plan
    evolver.deadline_reached_ = False
    evolver.archive_, evolver.history_ = state.archive, state.history
    loop = (SteadyStateLoop if settings.steady_state else GenerationLoop)(run, evolver)
    loop.notify("on_run_start", evolver)
    loop.run_generations()
    evolver.deadline_reached_ = loop.deadline_reached
    if state.population is None:  # max_time ran out in generation 0
        loop.warn_short_budget()
    members = state.members if state.population is not None else loop.partial
    evolver.population_ = [m.genome for m in members]
    if not len(evolver.archive_):
        from evosearch.evaluation import all_failed_message

        # Every genome of the run (not just the last population) counts towards the cause.
        errors = [e for e in run.results.as_dict()["error"] if e]
        errors = errors or [m.result.error for m in state.members]
        raise EvosearchError(all_failed_message(state.evaluator.evaluations, errors))
    best = evolver.archive_.best(evolver.archive_.objective("score"))
    seed, cv, capped = settings.random_state, settings.cv, settings.refit_fidelity
    evolver._refit_starts = refit_starts(evolver.archive_, run.weights)
    start = evolver._refit_starts.get(best.genome_hash)
    scaled = settings.scale_target
    evolver.best_estimator_ = refit_member(best, dataset, seed, cv, capped, start, scaled)
    if settings.bag_folds and run.weights is not None:
        reuse = {} if start is None else {start[0]: evolver.best_estimator_}
        folds = run.weights.folds(best.genome_hash)
        evolver.best_estimator_ = bag_refits(best, dataset, seed, cv, capped, folds, scaled, reuse)
    evolver.refit_start_fold_ = None if start is None else start[0]
    evolver.best_genome_ = Genome.from_json(best.genome)
    if dataset.task == "classification":
        evolver.classes_ = evolver.best_estimator_.classes_
    evolver.cv_results_ = run.results.as_dict()
    evolver.ensemble_ = fit_ensemble(evolver, run) if settings.ensemble else None
    if loop.cut and run.folder is not None and run.holdout is None:
        # archive.json shows what the search ended with, the cut generation's models too; the
        # checkpoint keeps the last finished generation's archive, which a resume continues.
        run.folder.write_archive(evolver.archive_.to_dict())
    if run.holdout is not None:
        held, starts, scoring = run.holdout, evolver._refit_starts, settings.scoring
        score_holdout(evolver.archive_, dataset, held, seed, cv, scoring, capped, starts, scaled)
        if run.folder is not None:
            run.folder.write_archive(evolver.archive_.to_dict())
    loop.notify("on_run_end", evolver)
    return evolver
