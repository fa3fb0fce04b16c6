"""Several runs side by side: the checks, the grouping by settings and the final figures.

:func:`compare_runs` reads two or more runs (run folders, RunRecords or fitted Evolvers) into a
:class:`Comparison`, which the comparison figures (:func:`evosearch.report.plot_convergence` and
:func:`evosearch.report.plot_pareto` given a list) and the comparison page
(:func:`evosearch.report.write_comparison`) are drawn from.

Refused
    runs on different data (the dataset fingerprint in ``run.json``, or its name and task
    where a fingerprint is missing) and runs with different objectives (their names, in
    order; the ``n_params`` of older run folders is ``params``). The message names both runs
    and what differs.

Settings
    those of ``run.json`` ``"settings"``; ``genome`` is compared by the search space it
    loaded (two paths to the same file are the same setting). Ignored, because they choose
    where evaluations run, never what they compute: :data:`IGNORED_SETTINGS`.

Groups
    runs whose settings are equal but for the seed (``random_state``) form one group; its
    label names the settings that tell the groups apart (``"strategy=random, halving=true"``),
    or ``"all runs"`` when only seeds differ.

Curves
    best score and hypervolume after each generation, against the cumulative generation
    ``seconds`` and ``evaluations`` of ``generations.jsonl``. A group's curve is the median of
    its runs at every point where one of them finished a generation (each run holding its last
    value until its next generation, and its final value after its end), with the min-max band;
    it starts once every run of the group finished generation 0.

Nothing here imports matplotlib.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evosearch.errors import EvosearchError
from evosearch.report._rundata import RunData, run_data
from evosearch.runs import RunRecord

if TYPE_CHECKING:
    import numpy as np

    from evosearch.search import Evolver

    RunSource = str | Path | RunRecord | Evolver | RunData
    Array = np.ndarray[Any, Any]

__all__ = ["IGNORED_SETTINGS", "ComparedRun", "Comparison", "RunGroup", "compare_runs"]

IGNORED_SETTINGS = ("n_jobs", "backend", "scheduler")
"""Settings left out of the grouping and the table: where evaluations run, not what they do."""

SEED = "random_state"
METRICS = {"best_score": "best score", "hypervolume": "hypervolume"}
AXES = {"seconds": "wall-clock seconds", "evaluations": "evaluations"}


@dataclass
class ComparedRun:
    """One run of a comparison.

    Attributes
    ----------
    data : RunData
        What the figures are drawn from.
    name : str
        A short name, unique in the comparison (the run folder's name, with its parent's
        where two folders share a name).
    where : str
        How the run was given (its path), for messages.
    settings : dict of str to str
        Every compared setting, formatted (``true``, ``none``, ``nsga2``); ignored ones left out.
    """

    data: RunData
    name: str
    where: str
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def seed(self) -> str | None:
        return self.settings.get(SEED)

    def series(self, metric: str, axis: str) -> tuple[list[float], list[float]]:
        """``(x, y)``: ``metric`` after each generation against cumulative ``axis``."""
        xs: list[float] = []
        ys: list[float] = []
        total = 0.0
        for generation in self.data.history:
            total += float(generation.get(axis) or 0.0)
            value = generation.get(metric)
            xs.append(total)
            ys.append(math.nan if value is None else float(value))
        return xs, ys

    def final(self) -> dict[str, Any]:
        """The final figures: best score, hypervolume, archive size, evaluations, seconds,
        generations done (and planned); ``None`` where no generation finished."""
        history = self.data.history
        last = history[-1] if history else {}
        best = last.get("best_score")
        return {
            "best_score": None if best is None or math.isnan(best) else float(best),
            "hypervolume": None if not history else float(last["hypervolume"]),
            "archive_size": len(self.data.archive),
            "evaluations": sum(int(g.get("evaluations") or 0) for g in history),
            "seconds": sum(float(g.get("seconds") or 0.0) for g in history),
            "generations": int(last["generation"]) if history else None,
            "planned": self.data.planned_generations,
        }


@dataclass
class RunGroup:
    """Runs whose settings are equal but for the seed.

    Attributes
    ----------
    label : str
        The settings that tell this group from the others, ``"key=value, ..."``; ``"all runs"``
        when there is one group.
    runs : list of ComparedRun
    """

    label: str
    runs: list[ComparedRun]

    def curve(
        self, metric: str, axis: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(x, median, low, high)`` of ``metric`` against cumulative ``axis`` (see the module
        docstring); empty arrays when no run of the group finished a generation."""
        import numpy as np

        # A run without a finished generation has nothing to add yet.
        series = [run.series(metric, axis) for run in self.runs if run.data.history]
        if not series:
            empty = np.array([])
            return empty, empty, empty, empty
        start = max(xs[0] for xs, _ in series)
        grid = np.array(sorted({x for xs, _ in series for x in xs if x >= start}))
        values = np.array(
            [
                np.asarray(ys)[np.searchsorted(np.asarray(xs), grid, side="right") - 1]
                for xs, ys in series
            ]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: nothing succeeded yet
            return (
                grid,
                np.nanmedian(values, axis=0),
                np.nanmin(values, axis=0),
                np.nanmax(values, axis=0),
            )


@dataclass
class Comparison:
    """Two or more runs on the same data with the same objectives, grouped by settings.

    Attributes
    ----------
    runs : list of ComparedRun
        In the order given.
    groups : list of RunGroup
        In the order of their first run.
    differing : list of str
        The settings whose values are not the same for every run (the seed included), in
        ``run.json`` order, the seed last: the columns of the comparison table.
    common : dict of str to str
        The settings every run shares.
    """

    runs: list[ComparedRun]
    groups: list[RunGroup]
    differing: list[str]
    common: dict[str, str]

    @property
    def score_name(self) -> str:
        return self.runs[0].data.score_name

    @property
    def dataset(self) -> dict[str, Any]:
        info = self.runs[0].data.info or {}
        return dict(info.get("dataset", {}))

    def group_of(self, run: ComparedRun) -> RunGroup:
        return next(group for group in self.groups if run in group.runs)


def compare_runs(sources: Sequence[RunSource]) -> Comparison:
    """Read runs and group them for a comparison.

    Parameters
    ----------
    sources : sequence of path-like, RunRecord, Evolver or RunData
        Two or more runs (see :func:`~evosearch.report.run_data`).

    Returns
    -------
    Comparison

    Raises
    ------
    RunFolderError
        If a run folder is missing or corrupt.
    EvosearchError
        If fewer than two runs are given, one is given twice, or two of them ran on different
        data or with different objectives.
    """
    if isinstance(sources, (str, Path)) or len(sources) < 2:
        raise EvosearchError("a comparison needs two or more runs")
    wheres = [_where(source, index) for index, source in enumerate(sources)]
    datas = [run_data(source) for source in sources]
    _check_distinct(sources, wheres)
    _check_comparable(datas, wheres)
    names = _unique_names(sources, datas)
    spaces = _genome_labels(datas)
    runs = [
        ComparedRun(data=data, name=name, where=where, settings=_settings(data, spaces))
        for data, name, where in zip(datas, names, wheres, strict=True)
    ]
    keys = list(dict.fromkeys(key for run in runs for key in run.settings))
    differing = [key for key in keys if len({run.settings.get(key) for run in runs}) > 1]
    differing.sort(key=lambda key: key == SEED)  # the seed last, after what tells groups apart
    common = {key: runs[0].settings[key] for key in keys if key not in differing}
    return Comparison(runs=runs, groups=_group(runs, differing), differing=differing, common=common)


def _where(source: Any, index: int) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    if isinstance(source, RunRecord):
        return str(source.path)
    if isinstance(source, RunData):
        return source.name
    out = getattr(source, "run_folder_", None)  # the folder a fitted Evolver wrote
    return str(out) if out is not None else f"run {index + 1} (an Evolver)"


def _folder(source: Any) -> Path | None:
    if isinstance(source, (str, Path)):
        return Path(source).resolve()
    if isinstance(source, RunRecord):
        return source.path.resolve()
    out = getattr(source, "run_folder_", None)
    return Path(out).resolve() if isinstance(out, (str, Path)) else None


def _check_distinct(sources: Sequence[Any], wheres: list[str]) -> None:
    seen: dict[Path, str] = {}
    for source, where in zip(sources, wheres, strict=True):
        folder = _folder(source)
        if folder is None:
            continue
        if folder in seen:
            raise EvosearchError(f"{where} is given twice (also as {seen[folder]})")
        seen[folder] = where


def _check_comparable(datas: list[RunData], wheres: list[str]) -> None:
    first, first_where = datas[0], wheres[0]
    for data, where in zip(datas[1:], wheres[1:], strict=True):
        if first.info is None or data.info is None:
            continue  # an Evolver without a run folder: nothing to check against
        a, b = _dataset(first), _dataset(data)
        if a != b:
            raise EvosearchError(
                f"cannot compare {first_where} and {where}: they ran on different data "
                f"({_data_difference(first, data)})"
            )
        if _objectives(first) != _objectives(data):
            raise EvosearchError(
                f"cannot compare {first_where} and {where}: they have different objectives "
                f"({','.join(_objectives(first))} and {','.join(_objectives(data))})"
            )


def _dataset(data: RunData) -> tuple[Any, ...]:
    dataset = (data.info or {}).get("dataset", {})
    if dataset.get("fingerprint"):
        return ("fingerprint", dataset["fingerprint"])
    return ("name", dataset.get("name"), dataset.get("task"))


def _data_difference(first: RunData, other: RunData) -> str:
    a = (first.info or {}).get("dataset", {})
    b = (other.info or {}).get("dataset", {})
    for key in ("name", "task", "n_samples", "n_features", "target"):
        if a.get(key) != b.get(key):
            what = "" if key == "name" else f"{key.replace('n_', '')} "
            return f"{what}{a.get(key, '?')} vs {b.get(key, '?')}"
    return f"{a.get('name', '?')} with other rows: the dataset fingerprints differ"


def _objectives(data: RunData) -> tuple[str, ...]:
    # A run folder's objectives, by their current names (load_run migrates older ones).
    return tuple(str(o["name"]) for o in (data.info or {}).get("objectives", []))


def _unique_names(sources: Sequence[Any], datas: list[RunData]) -> list[str]:
    names = [data.name for data in datas]
    for index, name in enumerate(names):
        folder = _folder(sources[index])
        if names.count(name) > 1 and folder is not None:
            names[index] = f"{folder.parent.name}/{folder.name}"
    for index, name in enumerate(list(names)):
        if names.count(name) > 1:
            names[index] = f"{name} #{index + 1}"
    return names


def _genome_labels(datas: list[RunData]) -> dict[str, str]:
    """``{search space as JSON: label}``: the genome setting as given, made unique."""
    labels: dict[str, str] = {}
    for data in datas:
        info = data.info or {}
        space = json.dumps(info.get("search_space"), sort_keys=True)
        if space in labels:
            continue
        label = str(info.get("settings", {}).get("genome", "?"))
        taken = set(labels.values())
        if label in taken:
            label = next(
                f"{label} ({n})" for n in range(2, len(datas) + 2) if f"{label} ({n})" not in taken
            )
        labels[space] = label
    return labels


def _settings(data: RunData, spaces: dict[str, str]) -> dict[str, str]:
    if data.info is None:
        return {}
    settings = {
        key: _format(value)
        for key, value in data.info.get("settings", {}).items()
        if key not in IGNORED_SETTINGS
    }
    if "genome" in settings:
        settings["genome"] = spaces[json.dumps(data.info.get("search_space"), sort_keys=True)]
    return settings


def _format(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _group(runs: list[ComparedRun], differing: list[str]) -> list[RunGroup]:
    keyed: dict[tuple[Any, ...], list[ComparedRun]] = {}
    for index, run in enumerate(runs):
        if run.data.info is None:
            key: tuple[Any, ...] = ("run", index)  # no settings known: a group of its own
        else:
            key = tuple((k, v) for k, v in run.settings.items() if k != SEED)
        keyed.setdefault(key, []).append(run)
    members = list(keyed.values())
    # The settings that tell the groups apart, in run.json order.
    telling = [
        key
        for key in differing
        if key != SEED and len({group[0].settings.get(key) for group in members}) > 1
    ]
    groups = []
    for group in members:
        first = group[0]
        if first.data.info is None:
            label = first.name
        else:
            parts = [f"{key}={first.settings.get(key, 'unset')}" for key in telling]
            label = ", ".join(parts) if parts else "all runs"
        groups.append(RunGroup(label=label, runs=group))
    return groups
