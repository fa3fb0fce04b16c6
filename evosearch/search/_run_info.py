"""``run.json``: what a run records about itself, and the settings a resume reads back from it."""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evosearch import __version__
from evosearch.data import Dataset
from evosearch.evaluation import DEFAULT_EVAL_TIMEOUT
from evosearch.objectives import DEFAULT_OBJECTIVES, scoring_name
from evosearch.space import SearchSpace

if TYPE_CHECKING:
    from evosearch.search._settings import Settings
    from evosearch.search.evolver import Evolver

__all__ = ["recorded_settings", "run_info"]


def run_info(evolver: Evolver, settings: Settings, dataset: Dataset) -> dict[str, Any]:
    """The content of ``run.json`` for ``evolver`` (its checked ``settings``) fitting
    ``dataset``."""
    import deap
    import networkx
    import sklearn

    info: dict[str, Any] = {
        "settings": {
            "genome": str(evolver.genome)
            if not isinstance(evolver.genome, SearchSpace)
            else settings.space.name,
            "population_size": settings.population_size,
            "generations": settings.generations,
            "cv": settings.cv,
            "n_jobs": settings.n_jobs,
            "random_state": settings.random_state,
            "crossover_rate": settings.crossover_rate,
            "task": settings.task,
            # They decide which genomes fail, so a resume keeps them.
            "eval_timeout": settings.eval_timeout,
            "max_memory": settings.max_memory,
            "max_params": settings.max_params,
            "holdout": settings.holdout,
            # Where evaluations ran; a resume goes on there unless told otherwise.
            "backend": settings.backend,
            "scheduler": settings.scheduler,
            "strategy": settings.strategy,
            "halving": settings.halving,
            "inherit_weights": settings.inherit_weights,
        },
        # A resume reads the objectives (their order is that of the archive's vectors) here.
        "objectives": [{"name": o.name, "weight": o.weight} for o in settings.objective_set],
        "search_space": settings.space.to_dict(),
        "dataset": {
            "name": dataset.name,
            # How resume finds the data again: a bundled name or an absolute file path;
            # None for in-memory arrays (resume then needs X and y).
            "source": _dataset_source(dataset),
            "task": dataset.task,
            "n_samples": dataset.n_samples,
            "n_features": dataset.n_features,
            "target": dataset.target_name,
            "fingerprint": dataset.fingerprint(),
            # Only for tables and for data read with options: other runs' run.json is unchanged.
            **({"options": dataset.options} if dataset.options else {}),
            **(
                {"columns": [c.to_json() for c in dataset.columns]}
                if dataset.columns is not None
                else {}
            ),
        },
        "versions": {
            "evosearch": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "deap": deap.__version__,
            "networkx": networkx.__version__,
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if settings.latency_model is not None:  # what the latency objective estimates with
        info["latency_model"] = settings.latency_model.to_dict()
    if settings.max_bytes is not None:  # only then: default runs keep run.json as before
        info["settings"]["max_bytes"] = settings.max_bytes
    if settings.scoring is not None:
        # Only then: default runs keep run.json as before. A callable is recorded by name;
        # resuming such a run needs it passed again.
        info["settings"]["scoring"] = scoring_name(settings.scoring)
        if not isinstance(settings.scoring, str):
            info["settings"]["scoring_callable"] = True
    if settings.plan is not None or settings.fidelity != "auto":
        # Only then: default runs on small tables keep run.json as before. The resolved plan
        # is what a resume uses (never resolved again).
        info["settings"]["fidelity"] = settings.fidelity
        if settings.plan is not None:
            info["fidelity"] = settings.plan.to_dict()
    if evolver.input_shape is not None:  # recorded only when given: older run.json unchanged
        shape = evolver.input_shape
        info["settings"]["input_shape"] = shape if isinstance(shape, str) else list(shape)
    return info


def recorded_settings(info: dict[str, Any]) -> dict[str, Any]:
    """The Evolver settings ``run.json`` recorded, as constructor keywords.

    Settings added after a run was written take the value such runs had.

    Raises
    ------
    KeyError
        If a setting every run records is missing.
    """
    settings = info["settings"]
    objectives = [o["name"] for o in info.get("objectives", [])]
    return {
        "population_size": settings["population_size"],
        "generations": settings["generations"],
        "cv": settings["cv"],
        "n_jobs": settings["n_jobs"],
        "random_state": settings["random_state"],
        "crossover_rate": settings["crossover_rate"],
        "task": settings["task"],
        # Runs written before these settings existed had the default limits.
        "eval_timeout": settings.get("eval_timeout", DEFAULT_EVAL_TIMEOUT),
        "max_memory": settings.get("max_memory"),
        "max_params": settings.get("max_params"),
        "max_bytes": settings.get("max_bytes"),
        "holdout": settings.get("holdout"),
        # Runs written before these settings existed used the plain generational loop.
        "strategy": settings.get("strategy", "nsga2"),
        "halving": settings.get("halving", False),
        "inherit_weights": settings.get("inherit_weights", False),
        # Older runs wrote "n_params", an alias of "params".
        "objectives": tuple(objectives) or DEFAULT_OBJECTIVES,
        # Runs written before scorers existed scored accuracy / R².
        "scoring": settings.get("scoring"),
        "input_shape": settings.get("input_shape"),
        # Runs that record none had no plan (older ones, and "auto" on a small table).
        "fidelity": settings.get("fidelity", "off"),
    }


def _dataset_source(dataset: Dataset) -> str | None:
    from evosearch.data import BUNDLED

    if dataset.name in BUNDLED:
        return dataset.name
    path = Path(dataset.name)
    return str(path.resolve()) if path.suffix in (".csv", ".npz") and path.is_file() else None
