"""The run's objectives made concrete: the score's scorer, the latency's calibrated cost model."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from evosearch.data import Dataset
from evosearch.errors import RunFolderError
from evosearch.objectives import Latency, check_scoring, scoring_name, with_scoring
from evosearch.search._fidelity import resolve_plan
from evosearch.search._settings import Settings

if TYPE_CHECKING:
    from evosearch.search.evolver import Evolver

__all__ = ["prepare_objectives"]


def prepare_objectives(
    evolver: Evolver, dataset: Dataset, latency_model: dict[str, Any] | None = None
) -> Settings:
    """Check the scorer against the data and set it in the objectives of ``evolver._settings``;
    with a ``latency`` objective, calibrate its cost model on this machine (or read
    ``latency_model``, the one run.json recorded: a resume never measures again) into the
    settings' ``latency_model``; resolve the fidelity plan on ``dataset``'s rows. Returns the
    new settings (also left in ``evolver._settings``).
    """
    from evosearch.nn.latency import LatencyModel, calibrate

    settings = evolver._settings
    check_scoring(settings.scoring, dataset.task, dataset.X, dataset.y)
    objectives = with_scoring(settings.objective_set, scoring_name(settings.scoring))
    if any(isinstance(o, Latency) for o in objectives):
        if latency_model is not None:
            try:
                model = LatencyModel.from_dict(latency_model)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise RunFolderError(f"run.json: bad latency_model ({exc!r})") from None
        else:
            model = calibrate()
        settings = replace(settings, latency_model=model)
        objectives = tuple(Latency(model) if isinstance(o, Latency) else o for o in objectives)
    # The multi-fidelity plan on this many rows (a resume replaces it with the recorded one).
    plan = resolve_plan(settings.fidelity, dataset.n_samples)
    evolver._settings = replace(settings, objective_set=objectives, plan=plan)
    return evolver._settings
