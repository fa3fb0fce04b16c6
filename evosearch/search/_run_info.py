"""``run.json``: what a run records about itself (its settings come from the settings table)."""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from evosearch import __version__
from evosearch.data import Dataset
from evosearch.search.settings import RunSettings, record_settings

__all__ = ["run_info"]


def run_info(settings: RunSettings, genome: Any, dataset: Dataset) -> dict[str, Any]:
    """The content of ``run.json`` for a run of ``settings`` (made concrete on the data: the
    latency model and fidelity plan are recorded) fitting ``dataset``; ``genome`` is the
    Evolver's parameter as given."""
    import deap
    import networkx
    import sklearn

    info: dict[str, Any] = {
        "settings": record_settings(settings, genome),
        # The objectives' directions; their order is that of the archive's vectors.
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
            # Only for tables and for data read with options.
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
        if settings.latency_source is not None:  # where it came from (a file, the cache, ...)
            info["latency_source"] = settings.latency_source
    if settings.plan is not None:  # the resolved plan is what a resume uses (never resolved again)
        info["fidelity"] = settings.plan.to_dict()
    return info


def _dataset_source(dataset: Dataset) -> str | None:
    from evosearch.data import BUNDLED
    from evosearch.data.files import DATA_FILE_TYPES, file_type

    if dataset.name in BUNDLED:
        return dataset.name
    path = Path(dataset.name)
    return (
        str(path.resolve())
        if file_type(dataset.name) in DATA_FILE_TYPES and path.is_file()
        else None
    )
