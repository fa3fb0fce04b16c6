"""The comparison page's data: :func:`evosearch.report.compare_runs` on the runs as they are now.

The runs are handed to the report's comparison as :class:`~evosearch.report.RunData` built
from the dashboard's :class:`RunState` (nothing is read from disk again), so the page shows the
same checks, groups, curves and final figures as ``evosearch report RUN1 RUN2 ...``, live.
"""

from __future__ import annotations

import math
from typing import Any

from evosearch.dashboard._runstate import RunState, finite
from evosearch.errors import EvosearchError
from evosearch.report._rundata import RunData
from evosearch.report.compare import AXES, METRICS, compare_runs
from evosearch.search import ParetoArchive

__all__ = ["comparison"]


def _run_data(run: RunState) -> RunData:
    if run.info is None:
        raise EvosearchError(f"run {run.name} cannot be compared: {run.info_problem}")
    try:
        archive = ParetoArchive.from_dict(run.archive) if run.archive else ParetoArchive()
    except (ValueError, KeyError, TypeError) as exc:
        raise EvosearchError(f"run {run.name}: archive.json: {exc}") from None
    history = [
        {
            **g,
            "best_score": math.nan if g.get("best_score") is None else float(g["best_score"]),
            "hypervolume": float(g.get("hypervolume") or 0.0),
        }
        for g in run.history
    ]
    return RunData(
        name=run.name,
        task=str(run.info["dataset"]["task"]),
        archive=archive,
        failures=run.failure_count,
        history=history,
        planned_generations=run.planned,
        info=run.info,
        size_name=run.size_name,
    )


def _floats(values: Any) -> list[float | None]:
    return [finite(v) for v in values]


def comparison(runs: list[RunState]) -> dict[str, Any]:
    """The comparison of ``runs`` as JSON, or ``{"problem": "..."}`` when they cannot be
    compared (different data or objectives, a damaged folder)."""
    try:
        result = compare_runs([_run_data(run) for run in runs])
    except EvosearchError as exc:
        return {"problem": str(exc)}
    groups = []
    for group in result.groups:
        curves: dict[str, dict[str, Any]] = {}
        for metric in METRICS:
            curves[metric] = {}
            for axis in AXES:
                x, median, low, high = group.curve(metric, axis)
                curves[metric][axis] = {
                    "x": _floats(x),
                    "median": _floats(median),
                    "low": _floats(low),
                    "high": _floats(high),
                }
        groups.append(
            {"label": group.label, "runs": [r.name for r in group.runs], "curves": curves}
        )
    table = []
    by_name = {run.name: run for run in runs}
    for compared in result.runs:
        final = {k: (finite(v) if isinstance(v, float) else v) for k, v in compared.final().items()}
        state = by_name[compared.data.name]
        table.append(
            {
                "name": compared.name,
                "run": compared.data.name,
                "group": result.groups.index(result.group_of(compared)),
                "state": state.state,
                "settings": {key: compared.settings.get(key) for key in result.differing},
                "final": final,
                "front": [[m["size"], m["score"]] for m in state.front],
            }
        )
    return {
        "score_name": result.score_name,
        "size_name": runs[0].size_name,
        "dataset": result.dataset.get("name"),
        "differing": result.differing,
        "common": result.common,
        "metrics": METRICS,
        "axes": AXES,
        "groups": groups,
        "runs": table,
    }
