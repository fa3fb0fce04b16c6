"""The Evolver's settings, validated when ``fit`` runs (scikit-learn's estimator rules).

``Evolver.__init__`` stores its arguments unchanged (so ``get_params``, ``set_params`` and
``clone`` work); :func:`check_settings` turns them into the values the loop uses, or raises
:class:`~evosearch.errors.SettingsError` with one line naming the first bad setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evosearch.data import Dataset
from evosearch.errors import SettingsError
from evosearch.evaluation import Evaluator, Fidelity, FitHook, check_backend, check_limits
from evosearch.objectives import Objective, resolve_objectives, scoring_name
from evosearch.preprocess import DataProfile
from evosearch.search._checkpoint import RunState
from evosearch.search._fidelity import FidelityPlan, check_fidelity
from evosearch.search.archive import ParetoArchive
from evosearch.search.strategies import get_strategy
from evosearch.space import InnovationCounter, SearchSpace

__all__ = ["Settings", "check_folds", "check_settings", "fresh_state"]


@dataclass(frozen=True)
class Settings:
    """An Evolver's parameters, checked and normalised (see the Evolver for their meaning)."""

    space: SearchSpace
    population_size: int
    generations: int
    cv: int
    n_jobs: int
    random_state: int
    crossover_rate: float
    task: str
    callbacks: tuple[Any, ...]
    out: Path | None
    eval_timeout: float | None
    max_time: float | None
    max_memory: float | None
    fit_hook: FitHook | None
    max_params: int | None
    holdout: float | None
    backend: str
    scheduler: str | None
    strategy: str
    halving: bool
    inherit_weights: bool
    #: The objectives, resolved from their names (aliases of old run folders accepted); fit
    #: sets the score's scorer and the latency's cost model (search/_objectives.py).
    objective_set: tuple[Objective, ...]
    max_bytes: int | None = None
    #: None, a scorer's name or a scorer callable (checked against the data by fit).
    scoring: Any = None
    #: With a ``latency`` objective: its calibrated cost model (a LatencyModel), set by fit.
    latency_model: Any = None
    #: ``"auto"``, ``"off"`` or a dict of plan keys (see search/_fidelity.py).
    fidelity: Any = "auto"
    #: The multi-fidelity plan on this data (None: off), set by fit from ``fidelity``.
    plan: FidelityPlan | None = None

    @property
    def n_folds(self) -> int:
        """Folds a (full-fidelity) result scores: ``cv``, or fewer with a fidelity plan."""
        return self.cv if self.plan is None else self.plan.n_folds(self.cv)

    @property
    def screen(self) -> int:
        """Children screened at low fidelity per child finished (1: no screening)."""
        return 1 if self.plan is None or self.plan.low() is None else self.plan.factor

    @property
    def refit_fidelity(self) -> Fidelity | None:
        """What a refit on all rows trains at: the plan's epoch cap (None: the genes' epochs)."""
        if self.plan is None or not self.plan.max_epochs:
            return None
        return Fidelity(max_epochs=self.plan.max_epochs)

    @property
    def objectives(self) -> tuple[str, ...]:
        """The objectives' registered names, in the order of the archive's vectors."""
        return tuple(o.name for o in self.objective_set)

    @property
    def weights(self) -> tuple[float, ...]:
        """The objectives' weights (+1 maximised, -1 minimised), in the same order."""
        return tuple(o.weight for o in self.objective_set)


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise SettingsError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))


def _check_callbacks(callbacks: Any) -> tuple[Any, ...]:
    if callbacks is None:
        return ()
    if isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__"):
        raise SettingsError(f"callbacks must be a sequence of callbacks, got {callbacks!r}")
    for callback in callbacks:
        if not callable(callback) and not hasattr(callback, "on_generation_end"):
            raise SettingsError(f"callback {callback!r} is neither callable nor a Callback")
    return tuple(callbacks)


def _check_flag(name: str, flag: Any) -> bool:
    if not isinstance(flag, (bool, np.bool_)):
        raise SettingsError(f"{name} must be True or False, got {flag!r}")
    return bool(flag)


def check_settings(params: Mapping[str, Any]) -> Settings:
    """Validate an Evolver's parameters (``evolver.get_params(deep=False)``).

    Parameters
    ----------
    params : mapping
        Every constructor parameter of :class:`~evosearch.Evolver` by name.

    Returns
    -------
    Settings

    Raises
    ------
    SettingsError
        With one line naming the first impossible setting.
    SearchSpaceError
        If ``genome`` names no preset or a broken genome file.
    """
    genome = params["genome"]
    space = genome if isinstance(genome, SearchSpace) else _load_space(genome)
    population_size = _check_int("population_size", params["population_size"], 2)
    generations = _check_int("generations", params["generations"], 1)
    cv = _check_int("cv", params["cv"], 2)
    n_jobs = params["n_jobs"]
    if (
        isinstance(n_jobs, bool)
        or not isinstance(n_jobs, (int, np.integer))
        or n_jobs == 0
        or n_jobs < -1
    ):
        raise SettingsError(f"n_jobs must be a positive integer or -1, got {n_jobs!r}")
    random_state = _check_int("random_state", params["random_state"], 0)
    crossover_rate = params["crossover_rate"]
    if not _check_number(crossover_rate) or not 0.0 <= crossover_rate <= 1.0:
        raise SettingsError(f"crossover_rate must be in [0, 1], got {crossover_rate!r}")
    task = params["task"]
    if task not in ("auto", "classification", "regression"):
        raise SettingsError(f"task must be auto, classification or regression, got {task!r}")
    callbacks = _check_callbacks(params["callbacks"])
    out = params["out"]
    if out is not None and not isinstance(out, (str, Path)):
        raise SettingsError(f"out must be a folder path or None, got {out!r}")
    eval_timeout, max_memory, fit_hook = check_limits(
        params["eval_timeout"], params["max_memory"], params["fit_hook"]
    )
    backend, scheduler = check_backend(params["backend"], params["scheduler"])
    max_time = params["max_time"]
    if max_time is not None and (not _check_number(max_time) or not 0 < max_time < float("inf")):
        raise SettingsError(f"max_time must be a positive number of seconds, got {max_time!r}")
    max_params = params["max_params"]
    if max_params is not None:
        max_params = _check_int("max_params", max_params, 1)
    max_bytes = params.get("max_bytes")
    if max_bytes is not None:
        max_bytes = _check_int("max_bytes", max_bytes, 1)
    scoring = params.get("scoring")
    if scoring is not None and not isinstance(scoring, str) and not callable(scoring):
        raise SettingsError(f"scoring must be a scorer name or a callable, got {scoring!r}")
    holdout = params["holdout"]
    if holdout is not None and (not _check_number(holdout) or not 0.0 < holdout <= 0.5):
        raise SettingsError(f"holdout must be a fraction in (0, 0.5], got {holdout!r}")
    strategy = params["strategy"]
    get_strategy(strategy)  # refuses an unknown name, listing the known ones
    halving = _check_flag("halving", params["halving"])
    inherit_weights = _check_flag("inherit_weights", params["inherit_weights"])
    objective_set = resolve_objectives(params["objectives"])
    fidelity = check_fidelity(params.get("fidelity", "auto"))
    return Settings(
        space=space,
        population_size=population_size,
        generations=generations,
        cv=cv,
        n_jobs=int(n_jobs),
        random_state=random_state,
        crossover_rate=float(crossover_rate),
        task=task,
        callbacks=callbacks,
        out=None if out is None else Path(out),
        eval_timeout=eval_timeout,
        max_time=None if max_time is None else float(max_time),
        max_memory=max_memory,
        fit_hook=fit_hook,
        max_params=max_params,
        holdout=None if holdout is None else float(holdout),
        backend=backend,
        scheduler=scheduler,
        strategy=strategy,
        halving=halving,
        inherit_weights=inherit_weights,
        max_bytes=max_bytes,
        scoring=scoring,
        objective_set=objective_set,
        fidelity=fidelity,
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


def _load_space(genome: Any) -> SearchSpace:
    if not isinstance(genome, (str, Path)):
        raise SettingsError(
            f"genome must be a preset name, a genome TOML path or a SearchSpace, got {genome!r}"
        )
    return SearchSpace.load(genome)


def fresh_state(settings: Settings, dataset: Dataset) -> RunState:
    """The loop's state before generation 0: seeded generator, evaluator(s), empty archive.

    With a fidelity plan, the evaluator trains at its full fidelity and a second one, the
    screening rung's, at low fidelity.
    """
    plan = settings.plan
    low = None if plan is None else plan.low()
    return RunState(
        rng=np.random.default_rng(np.random.SeedSequence(settings.random_state)),
        innovations=InnovationCounter(),
        evaluator=_evaluator(settings, dataset, None if plan is None else plan.full()),
        archive=ParetoArchive(
            settings.weights, objectives=settings.objectives, scoring=scoring_name(settings.scoring)
        ),
        screening=None if low is None else _evaluator(settings, dataset, low),
    )


def _evaluator(settings: Settings, dataset: Dataset, fidelity: Fidelity | None) -> Evaluator:
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
    )
