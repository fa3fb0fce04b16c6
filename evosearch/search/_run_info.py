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
from evosearch.objectives import DEFAULT_OBJECTIVES
from evosearch.space import SearchSpace

if TYPE_CHECKING:
    from evosearch.search.evolver import Evolver

__all__ = ["recorded_settings", "run_info"]


def run_info(evolver: Evolver, dataset: Dataset) -> dict[str, Any]:
    """The content of ``run.json`` for ``evolver`` fitting ``dataset``."""
    import deap
    import networkx
    import sklearn

    info: dict[str, Any] = {
        "settings": {
            "genome": str(evolver.genome)
            if not isinstance(evolver.genome, SearchSpace)
            else evolver.space.name,
            "population_size": evolver.population_size,
            "generations": evolver.generations,
            "cv": evolver.cv,
            "n_jobs": evolver.n_jobs,
            "random_state": evolver.random_state,
            "crossover_rate": evolver.crossover_rate,
            "task": evolver.task,
            # They decide which genomes fail, so a resume keeps them.
            "eval_timeout": evolver.eval_timeout,
            "max_memory": evolver.max_memory,
            "max_params": evolver.max_params,
            "holdout": evolver.holdout,
            # Where evaluations ran; a resume goes on there unless told otherwise.
            "backend": evolver.backend,
            "scheduler": evolver.scheduler,
            "strategy": evolver.strategy,
            "halving": evolver.halving,
            "inherit_weights": evolver.inherit_weights,
        },
        # A resume reads the objectives (their order is that of the archive's vectors) here.
        "objectives": [{"name": o.name, "weight": o.weight} for o in evolver.objective_set],
        "search_space": evolver.space.to_dict(),
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
        "holdout": settings.get("holdout"),
        # Runs written before these settings existed used the plain generational loop.
        "strategy": settings.get("strategy", "nsga2"),
        "halving": settings.get("halving", False),
        "inherit_weights": settings.get("inherit_weights", False),
        # Older runs wrote "n_params", an alias of "params".
        "objectives": tuple(objectives) or DEFAULT_OBJECTIVES,
        "input_shape": settings.get("input_shape"),
    }


def _dataset_source(dataset: Dataset) -> str | None:
    from evosearch.data import BUNDLED

    if dataset.name in BUNDLED:
        return dataset.name
    path = Path(dataset.name)
    return str(path.resolve()) if path.suffix in (".csv", ".npz") and path.is_file() else None
