"""The run's objectives made concrete: the score's scorer, the latency's calibrated cost model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from evosearch.data import Dataset
from evosearch.errors import RunFolderError, SettingsError
from evosearch.objectives import Latency, check_scoring, scoring_name, with_scoring

if TYPE_CHECKING:
    from evosearch.search.evolver import Evolver

__all__ = ["prepare_objectives"]


def prepare_objectives(
    evolver: Evolver, dataset: Dataset, latency_model: dict[str, Any] | None = None
) -> None:
    """Check ``evolver.max_bytes`` and ``evolver.scoring`` (against the data) and set
    ``evolver.objective_set``'s score scorer; with a ``latency`` objective, calibrate its cost
    model on this machine (or read ``latency_model``, the one run.json recorded) into
    ``evolver.latency_model_``."""
    from evosearch.nn.latency import LatencyModel, calibrate

    budget = evolver.max_bytes
    if budget is not None and (
        isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1
    ):
        raise SettingsError(f"max_bytes must be an integer >= 1, got {budget!r}")
    check_scoring(evolver.scoring, dataset.task, dataset.X, dataset.y)
    objectives = with_scoring(evolver.objective_set, scoring_name(evolver.scoring))
    if any(isinstance(o, Latency) for o in objectives):
        if latency_model is not None:
            try:
                model = LatencyModel.from_dict(latency_model)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise RunFolderError(f"run.json: bad latency_model ({exc!r})") from None
        else:
            model = calibrate()
        evolver.latency_model_ = model
        objectives = tuple(Latency(model) if isinstance(o, Latency) else o for o in objectives)
    evolver.objective_set = objectives
