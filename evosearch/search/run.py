"""The run object: one search's state, built the same way however the run is entered.

A :class:`SearchRun` owns what a run is made of: its checked settings (objectives made
concrete, fidelity plan resolved), the rows it searches and the rows it holds out, the loop
state (generator, innovation counter, evaluators, archive, population, history), the run folder
and its journal, the inherited weights and the table of every evaluation. It is built once, by
:meth:`SearchRun.start` (``fit``), :meth:`SearchRun.reopen` (``resume``) or
:meth:`SearchRun.recorded` (``replay``), and the last two read a run folder back through the
same construction as the first: a resumed or replayed run's holdout split, fidelity plan,
groups, weights and limits are always the run's own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from evosearch.data import Dataset
from evosearch.errors import RunFolderError, SettingsError
from evosearch.evaluation import FAILURE_SCORE, EvaluationResult, Evaluator, Fidelity, get_backend
from evosearch.objectives import Latency, check_scoring, scoring_name, with_scoring
from evosearch.preprocess import DataProfile
from evosearch.runs import RunFolder, RunRecord, load_run, load_run_dataset
from evosearch.search._checkpoint import RunState, restore_state
from evosearch.search._holdout import split_holdout
from evosearch.search._results import ResultsTable
from evosearch.search._run_info import run_info
from evosearch.search.archive import ParetoArchive
from evosearch.search.fidelity_plan import plan_from_dict, resolve_plan
from evosearch.search.inheritance import WeightStore
from evosearch.search.oof import OOF_FOLDER, OofStore
from evosearch.search.settings import RunSettings, check_settings, recorded_params, setting
from evosearch.space import Genome, InnovationCounter

__all__ = ["WEIGHTS_FOLDER", "SearchRun", "check_folds", "prepare_objectives", "reevaluate"]

#: Run subfolder of the population's and archive's fold weights (``inherit_weights``).
WEIGHTS_FOLDER = "weights"


@dataclass
class SearchRun:
    """The state of one run (see the module docstring); build it with a class method.

    Attributes
    ----------
    settings : RunSettings
        Checked, with the objectives made concrete and the fidelity plan resolved.
    dataset : Dataset
        The rows the search sees.
    holdout : Dataset or None
        The rows kept out of the search (``holdout``), scored at the end.
    state : RunState
        The generation loop's state.
    folder : RunFolder or None
        The run folder (None: nothing is written).
    weights : WeightStore or None
        Trained fold weights, with ``inherit_weights``.
    results : ResultsTable
        Every evaluation of the run (the Evolver's ``cv_results_``).
    seed_genomes : list of Genome
        Genomes generation 0 starts from before random ones.
    seed_parents : list of str or None
        Per seed genome, the weight store key its folds start from (a warm start's earlier
        network; None: fresh weights).
    info : dict
        The run's ``run.json``.
    oof : OofStore or None
        Out-of-fold predictions of the archive and each generation's best (``ensemble``).
    later : list of (Genome, EvaluationResult, bool)
        A resumed steady-state run's results journalled after its checkpoint, in order (the
        flag: a screening result).
    """

    settings: RunSettings
    dataset: Dataset
    holdout: Dataset | None
    state: RunState
    folder: RunFolder | None
    weights: WeightStore | None
    results: ResultsTable
    seed_genomes: list[Genome] = field(default_factory=list)
    seed_parents: list[str | None] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    #: Out-of-fold predictions for ensembles (``ensemble``; None: not kept).
    oof: OofStore | None = None
    #: A resumed steady-state run's journalled results after its checkpoint, in journal
    #: order: replayed in that order before anything trains.
    later: list[tuple[Genome, EvaluationResult, bool]] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        settings: RunSettings,
        genome: Any,
        dataset: Dataset,
        *,
        initial_population: Sequence[Genome] = (),
        parent: dict[str, Any] | None = None,
        numbered: bool = True,
    ) -> SearchRun:
        """A new run of ``settings`` on ``dataset``; its folder (``settings.out``) is created.

        ``genome`` is the Evolver's parameter as given (run.json records a preset's name or a
        file's path). ``numbered``: an ``out`` that holds anything already becomes the first
        free sibling ``out-2``, ... (else it is refused).
        """
        from evosearch.search._breeding import image_shape

        image_shape(settings.space, dataset, settings.input_shape)  # refused before any write
        get_backend(settings.backend).check_reachable(settings.scheduler)  # before the folder
        settings = prepare_objectives(settings, dataset)
        info = run_info(settings, genome, dataset)
        search, held = split_holdout(dataset, settings.holdout, settings.random_state)
        check_folds(search, settings.cv, settings.scoring, settings.random_state)
        seeds = list(initial_population)
        parents: list[str | None] = [None] * len(seeds)
        warm = None
        if settings.warm_start:
            from evosearch.search.warm_start import load_warm_start

            warm = load_warm_start(settings.warm_start, info, settings.inherit_weights)
            seeds += warm.genomes
            parents += warm.parents
            info["warm_start"] = {**warm.record(), "parents": parents}
        if parent is not None:
            info["parent"] = parent
        if seeds:
            # Kept so that a resume of this run, killed in generation 0, starts from them too.
            info["initial_population"] = [g.to_json() for g in seeds]
        state = fresh_state(settings, search)
        folder = None
        if settings.out is not None:
            create = RunFolder.create_numbered if numbered else RunFolder.create
            folder = create(settings.out, info)
        weights = _weight_store(settings, folder)
        if warm is not None and weights is not None:
            # Into the run's own weights/: a resume in generation 0 finds them there.
            for key, folds in warm.weights.items():
                weights.add(key, [folds.get(fold) for fold in range(max(folds) + 1)])
        return cls(
            settings=settings,
            dataset=search,
            holdout=held,
            state=state,
            folder=folder,
            weights=weights,
            results=ResultsTable(settings.n_folds, settings.objective_set),
            seed_genomes=seeds,
            seed_parents=parents,
            info=info,
            oof=_oof_store(settings, state, search, folder),
        )

    @classmethod
    def reopen(
        cls,
        folder: RunFolder,
        overrides: Mapping[str, Any],
        *,
        X: Any = None,
        y: Any = None,
        groups: Any = None,
        sample_weight: Any = None,
        scoring: Any = None,
    ) -> SearchRun:
        """The run in ``folder`` (opened, so locked, by the caller), to continue it.

        ``overrides`` are settings a resume may change (``resume`` in the settings table;
        None: the run's). Every journalled evaluation is in the evaluator's cache. Nothing in
        the folder changes unless all of it was read back (a damaged folder is refused
        untouched).
        """
        record = load_run(folder.path)
        settings, dataset, holdout = _recorded_run(record, overrides, X, y, groups, sample_weight,
                                                   scoring)  # fmt: skip
        settings = replace(settings, out=folder.path)  # the Evolver's out: where it writes
        state = fresh_state(settings, dataset)
        later: list[tuple[Genome, EvaluationResult, bool]] | None = (
            [] if settings.steady_state else None
        )
        restore_state(record, folder, state, settings.objective_set, later)
        if state.archive.weights != settings.weights:
            raise RunFolderError(
                f"{record.path / RunFolder.CHECKPOINT_FILE}: the archive's weights "
                f"{state.archive.weights} do not match the objectives "
                f"{', '.join(settings.objectives)}"
            )
        # cv_results_ covers the whole run: the generations before now come from the journal.
        results = ResultsTable(settings.n_folds, settings.objective_set)
        results.add_journal(record.journal)
        weights = _weight_store(settings, folder)
        if weights is not None:
            try:
                weights.load()
            except ValueError as exc:
                raise RunFolderError(str(exc)) from None
        oof = _oof_store(settings, state, dataset, folder)
        if oof is not None:
            try:
                oof.load()
            except ValueError as exc:
                raise RunFolderError(str(exc)) from None
        info = record.info
        try:
            seeds = [Genome.from_json(g) for g in info.get("initial_population", [])]
        except ValueError as exc:
            raise RunFolderError(f"{record.path}/run.json: bad initial population: {exc}") from None
        folder.repair(record, state.generation)
        # Only once everything was read back: a damaged folder is refused untouched.
        if settings.generations != info["settings"]["generations"]:
            info = {**info, "settings": {**info["settings"], "generations": settings.generations}}
            folder.update_run_info(info)
        return cls(
            settings=settings,
            dataset=dataset,
            holdout=holdout,
            state=state,
            folder=folder,
            weights=weights,
            results=results,
            seed_genomes=seeds,
            seed_parents=_seed_parents(info, len(seeds)),
            info=info,
            oof=oof,
            later=later or [],
        )

    @classmethod
    def recorded(
        cls,
        record: RunRecord,
        overrides: Mapping[str, Any] | None = None,
        *,
        X: Any = None,
        y: Any = None,
        groups: Any = None,
        sample_weight: Any = None,
        scoring: Any = None,
    ) -> SearchRun:
        """The run of ``record`` as it was set up, read only: its settings, rows, holdout,
        fidelity plan and a fresh evaluator of its own (to re-evaluate genomes exactly as the
        run did). Writes nothing."""
        settings, dataset, holdout = _recorded_run(
            record, overrides or {}, X, y, groups, sample_weight, scoring, only_resumable=False
        )
        return cls(
            settings=settings,
            dataset=dataset,
            holdout=holdout,
            state=fresh_state(settings, dataset),
            folder=None,
            weights=None,
            results=ResultsTable(settings.n_folds, settings.objective_set),
            info=record.info,
        )

    def close(self) -> None:
        """Stop the evaluators' workers (a Dask cluster started for the run) and release the
        run folder's lock."""
        try:
            self.state.evaluator.close()
            if self.state.screening is not None:
                self.state.screening.close()
        finally:
            if self.folder is not None:
                self.folder.close()


def _recorded_run(
    record: RunRecord,
    overrides: Mapping[str, Any],
    X: Any,
    y: Any,
    groups: Any,
    sample_weight: Any,
    scoring: Any,
    only_resumable: bool = True,
) -> tuple[RunSettings, Dataset, Dataset | None]:
    """The settings (made concrete as the run made them), search rows and holdout of the run
    ``record`` holds."""
    info = record.info
    where = f"{record.path}/run.json"
    params = recorded_params(info, where)
    for name, value in overrides.items():
        if only_resumable and not setting(name).resume:
            raise SettingsError(f"a resume cannot change {name}: it is the run's")
        if value is not None:
            params[name] = value
    if info["settings"].get("scoring_callable"):
        if not callable(scoring):
            raise RunFolderError(
                f"{record.path} was scored by the callable {info['settings']['scoring']!r}, "
                "which run.json cannot hold: pass it again (Evolver.resume(..., scoring=...))"
            )
        params["scoring"] = scoring
    if overrides.get("backend") not in (None, info["settings"]["backend"]) and not overrides.get(
        "scheduler"
    ):
        params["scheduler"] = None  # the recorded scheduler belongs to the recorded backend
    settings = check_settings(params)
    full = load_run_dataset(record, X, y, groups, sample_weight)
    search, held = split_holdout(full, settings.holdout, settings.random_state)
    check_folds(search, settings.cv, settings.scoring, settings.random_state)
    # The latency cost model and the fidelity plan run.json recorded, never measured or
    # resolved again: a resume or a replay is exact.
    settings = prepare_objectives(
        settings, search, info.get("latency_model"), info.get("latency_source")
    )
    settings = replace(settings, plan=plan_from_dict(info.get("fidelity")))
    return settings, search, held


def prepare_objectives(
    settings: RunSettings,
    dataset: Dataset,
    latency_model: dict[str, Any] | None = None,
    latency_source: dict[str, Any] | None = None,
) -> RunSettings:
    """``settings`` with the objectives made concrete on ``dataset``: the scorer checked
    against the data and set in the score objective; with a ``latency`` objective, its cost
    model: ``latency_model`` and ``latency_source`` where given (what run.json recorded), else
    the one the ``latency_model`` setting chooses (a file, this machine's cache, a calibration
    for this run); the fidelity plan resolved on the data's rows."""
    from evosearch.nn.cost_model import LatencyModel
    from evosearch.nn.latency_files import choose_latency_model

    check_scoring(settings.scoring, dataset.task, dataset.X, dataset.y)
    # Where no valid score is below the evaluator's failure score (accuracy; R² clipped, as
    # runs before scale_target recorded it), a failure keeps it as its objective: such runs
    # select, crowding distances included, as they always did. Else -inf, below every score.
    bounded = settings.scoring is None and (
        dataset.task == "classification" or not settings.scale_target
    )
    failure = FAILURE_SCORE if bounded else -math.inf
    objectives = with_scoring(settings.objective_set, scoring_name(settings.scoring), failure)
    model, source = None, None  # without a latency objective the setting is not used
    if any(isinstance(o, Latency) for o in objectives):
        if latency_model is not None:
            try:
                model = LatencyModel.from_dict(latency_model)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise RunFolderError(f"run.json: bad latency_model ({exc!r})") from None
            source = latency_source
        else:
            model, source = choose_latency_model(settings.latency_model)
        objectives = tuple(Latency(model) if isinstance(o, Latency) else o for o in objectives)
    settings = replace(settings, latency_model=model, latency_source=source)
    plan = resolve_plan(settings.fidelity, dataset.n_samples, settings.space.needs_image)
    return replace(settings, objective_set=objectives, plan=plan)


def _seed_parents(info: dict[str, Any], n_seeds: int) -> list[str | None]:
    """Per recorded seed genome, the weight store key it starts from (a warm start's)."""
    parents = list((info.get("warm_start") or {}).get("parents") or [])
    return (parents + [None] * n_seeds)[:n_seeds]


def _weight_store(settings: RunSettings, folder: RunFolder | None) -> WeightStore | None:
    if not settings.inherit_weights:
        return None
    path = folder.path / WEIGHTS_FOLDER if folder is not None else None
    return WeightStore(settings.n_folds, path)


def _oof_store(
    settings: RunSettings, state: RunState, dataset: Dataset, folder: RunFolder | None
) -> OofStore | None:
    if not settings.ensemble:
        return None
    path = folder.path / OOF_FOLDER if folder is not None else None
    return OofStore(state.evaluator.folds, dataset.n_samples, path)


def fresh_state(settings: RunSettings, dataset: Dataset) -> RunState:
    """The loop's state before generation 0: seeded generator, evaluator(s), empty archive.

    With a fidelity plan, the evaluator trains at its full fidelity and a second one, the
    screening rung's, at low fidelity (the steady-state search trains its screenings on the
    first one's workers, which then holds the screening folds too).
    """
    plan = settings.plan
    low, full = (None, None) if plan is None else (plan.low(), plan.full())
    screen = low if settings.steady_state else None
    return RunState(
        rng=np.random.default_rng(np.random.SeedSequence(settings.random_state)),
        innovations=InnovationCounter(),
        evaluator=_evaluator(settings, dataset, full, settings.ensemble, screen),
        archive=ParetoArchive(
            settings.weights, objectives=settings.objectives, scoring=scoring_name(settings.scoring)
        ),
        screening=None if low is None else _evaluator(settings, dataset, low),
    )


def _evaluator(settings: RunSettings, dataset: Dataset, fidelity: Fidelity | None,
               predictions: bool = False, screen: Fidelity | None = None) -> Evaluator:  # fmt: skip
    return Evaluator(
        dataset.X,
        dataset.y,
        dataset.task,
        cv=settings.cv,
        n_jobs=settings.n_jobs,
        seed=settings.random_state,
        eval_timeout=settings.eval_timeout,
        max_memory=settings.max_memory,
        fit_hook=settings.fit_hook,
        backend=settings.backend,
        scheduler=settings.scheduler,
        profile=DataProfile.of(dataset),
        groups=dataset.groups,
        sample_weight=dataset.sample_weight,
        scoring=settings.scoring,
        fidelity=fidelity,
        scale_target=settings.scale_target,
        keep_predictions=predictions,
        screen_fidelity=screen,
    )


def check_folds(dataset: Dataset, cv: int, scoring: Any = None, seed: int = 0) -> None:
    """Refuse data too small for ``cv`` folds (per class, for classification; per group), and
    groups whose folds (``seed``'s) leave a class out of a fold's training or test rows where
    ``scoring`` needs every class's probability."""
    if dataset.task == "classification":
        counts = np.unique(dataset.y, return_counts=True)[1]
        if counts.min() < cv:
            raise SettingsError(
                f"cv={cv} needs at least {cv} rows per class; the smallest has {counts.min()}"
            )
    elif dataset.n_samples < cv:
        raise SettingsError(f"cv={cv} needs at least {cv} rows")
    groups = 0 if dataset.groups is None else np.unique(dataset.groups.astype(str)).size
    if 0 < groups < cv:  # e.g. after whole groups went to the holdout
        raise SettingsError(f"cv={cv} needs at least {cv} groups; the search has {groups}")
    if groups and dataset.task == "classification" and _needs_probabilities(scoring):
        _check_classes_in_folds(dataset, cv, scoring, seed)


def _needs_probabilities(scoring: Any) -> bool:
    if not isinstance(scoring, str):
        return False
    from sklearn.metrics import get_scorer

    method = getattr(get_scorer(scoring), "_response_method", ())
    return "predict_proba" in ((method,) if isinstance(method, str) else tuple(method))


def _check_classes_in_folds(dataset: Dataset, cv: int, scoring: str, seed: int) -> None:
    # Groups can keep a class out of a fold (stratification without groups cannot): a model
    # trained without it has no probability column for it, a log loss or AUC of test rows
    # without it is undefined, and every genome failed with scikit-learn's message.
    from evosearch.evaluation import make_folds

    labels = np.unique(dataset.y)
    folds = make_folds(dataset.X, dataset.y, dataset.task, cv, seed, dataset.groups)
    for k, (train, test) in enumerate(folds):
        for part, rows in (("training", train), ("test", test)):
            absent = np.setdiff1d(labels, dataset.y[rows])
            if absent.size:
                label = absent.tolist()[0]
                raise SettingsError(
                    f"with these groups, CV fold {k} has no {label!r} in its {part} rows, "
                    f"and scoring {scoring!r} needs every class in each fold; use other groups "
                    "or fewer folds, or a scoring of labels (e.g. balanced_accuracy)"
                )


def reevaluate(
    record: RunRecord, genomes: Sequence[Genome], n_jobs: int | None = None
) -> list[EvaluationResult]:
    """Cross-validate ``genomes`` again exactly as the run of ``record`` did: the same rows
    (its holdout kept out), folds, seeds, limits, scorer and fidelity.

    Raises
    ------
    SettingsError
        For a run scored by a callable, which run.json cannot hold.
    """
    if record.info["settings"].get("scoring_callable"):
        raise SettingsError(
            f"run {record.path} was scored by the callable {record.info['settings']['scoring']!r}"
            ": re-evaluate it in Python with SearchRun.recorded(record, scoring=...)"
        )
    run = SearchRun.recorded(record, {"n_jobs": n_jobs})
    try:
        return run.state.evaluator.evaluate(list(genomes))
    finally:
        run.close()
