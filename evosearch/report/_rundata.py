"""What the figures and the HTML report are drawn from: :class:`RunData` and the chosen members.

:func:`run_data` reads a *source*: a run folder path, a :class:`~evosearch.runs.RunRecord` from
:func:`~evosearch.runs.load_run`, or a fitted :class:`~evosearch.Evolver`. An Evolver that wrote
a run folder (``out=...``) is read from that folder; one without has no journal, so its Pareto
plot shows the archive only.

Which archive members are drawn (:func:`pick_members`):

best
    the highest score (ties: fewer parameters);
smallest
    the smallest by the run's size objective (its second objective: parameters by default,
    or bytes, FLOPs, latency);
knee
    the member farthest above the straight line joining *smallest* and *best* after
    normalising both axes to ``[0, 1]`` over the archive (score linearly, the size on a log
    scale, as the Pareto plot shows it): the point where extra size stops buying much score.
    With fewer than three members the knee is one of the extremes (ties: higher score).

Nothing here imports matplotlib.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evosearch.errors import RunFolderError
from evosearch.objectives import Latency, canonical_name, find_objective
from evosearch.runs import RunRecord, load_run
from evosearch.search import ArchiveEntry, ParetoArchive
from evosearch.space import Genome

if TYPE_CHECKING:
    from evosearch.search import Evolver

__all__ = ["RunData", "pick_members", "run_data"]


@dataclass
class RunData:
    """What the figures are drawn from, whatever the source.

    Attributes
    ----------
    name : str
        A short name for titles (the run folder's name, or ``"Evolver"``).
    task : str
        ``"classification"`` or ``"regression"``.
    archive : ParetoArchive
        The Pareto archive (empty before the first generation finished).
    candidates : list of (int, float, float)
        ``(generation, score, size)`` of every successful journalled evaluation, ``size`` its
        value of :attr:`size_name` (the parameter count, an int, by default); empty for an
        Evolver without a run folder, or when that objective cannot be computed from a genome.
    failures : int
        Failed evaluations in the journal.
    population : list of (float, float)
        ``(score, size)`` of the successful members of the last population, when known.
    history : list of dict
        One dict per finished generation, with at least ``generation``, ``best_score``,
        ``hypervolume`` and ``archive_size`` (``best_score`` NaN while nothing succeeded).
    planned_generations : int or None
        Generations the run was asked for (after the initial generation 0).
    info : dict or None
        ``run.json`` when the source is a run folder.
    size_name : str
        The run's size or cost objective, its second (``"params"``, ``"bytes"``, ``"flops"``,
        ``"latency"``): the Pareto plot's x axis. ``"params"`` for runs that name none.
    """

    name: str
    task: str
    archive: ParetoArchive
    candidates: list[tuple[int, float, float]] = field(default_factory=list)
    failures: int = 0
    population: list[tuple[float, float]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    planned_generations: int | None = None
    info: dict[str, Any] | None = None
    size_name: str = "params"

    @property
    def score_name(self) -> str:
        """``"accuracy"`` or ``"R²"``, or the run's scorer (``"neg_log_loss"``)."""
        from evosearch.objectives import scoring_label

        return scoring_label(self.task, self.archive.scoring)


def run_data(source: str | Path | RunRecord | Evolver | RunData) -> RunData:
    """Collect what the figures need from a run folder, a RunRecord or a fitted Evolver.

    Parameters
    ----------
    source : path-like, RunRecord, Evolver or RunData
        See the module docstring.

    Returns
    -------
    RunData

    Raises
    ------
    RunFolderError
        If a run folder is missing or corrupt.
    ValueError
        If an Evolver is not fitted yet.
    TypeError
        If ``source`` is none of the above.
    """
    if isinstance(source, RunData):
        return source
    if isinstance(source, (str, Path)):
        return _from_record(load_run(source))
    if isinstance(source, RunRecord):
        return _from_record(source)
    from evosearch.search import Evolver

    if isinstance(source, Evolver):
        folder = getattr(source, "run_folder_", None)  # the folder the fit wrote, if any
        if folder is not None:
            return _from_record(load_run(folder))
        if not hasattr(source, "archive_"):
            raise ValueError("this Evolver is not fitted yet: call fit(X, y) first")
        return RunData(
            name="Evolver",
            task=getattr(source, "task_", source.task),
            archive=source.archive_,
            history=[record.to_dict() for record in source.history_],
            planned_generations=source.generations,
            size_name=_size_name(None, source.archive_),
        )
    raise TypeError(
        "source must be a run folder path, a RunRecord or a fitted Evolver, got "
        f"{type(source).__name__}"
    )


def _from_record(record: RunRecord) -> RunData:
    if record.archive is not None:
        try:
            archive = ParetoArchive.from_dict(record.archive)
        except ValueError as exc:
            raise RunFolderError(f"{record.path / 'archive.json'}: {exc}") from None
    else:
        archive = ParetoArchive()
    size_name = _size_name(record.info, archive)
    size = _sizer(size_name, record.info)
    candidates: list[tuple[int, float, float]] = []
    population: list[tuple[float, float]] = []
    if size is not None:
        candidates = [
            (int(e["generation"]), float(e["score"]), size(e["genome_hash"], e["genome"], e))
            for e in record.journal
            if e["error"] is None
        ]
        if record.generations:
            for member in record.generations[-1]["population"]:
                result = member["result"]
                if result["error"] is None:
                    value = size(result["genome_hash"], member["genome"], result)
                    population.append((float(result["score"]), value))
    history = [
        {
            **g,
            "best_score": math.nan if g["best_score"] is None else float(g["best_score"]),
            "mean_score": math.nan if g["mean_score"] is None else float(g["mean_score"]),
        }
        for g in record.generations
    ]
    return RunData(
        name=record.path.resolve().name,
        task=str(record.info["dataset"]["task"]),
        archive=archive,
        candidates=candidates,
        failures=sum(1 for e in record.journal if e["error"] is not None),
        population=population,
        history=history,
        planned_generations=record.planned_generations,
        info=record.info,
        size_name=size_name,
    )


def _size_name(info: dict[str, Any] | None, archive: ParetoArchive) -> str:
    """The run's second objective (run.json's list, else the archive's names) when it is a
    minimised one this process knows (the x axis is a size, on a log scale); else params."""
    names = [str(o["name"]) for o in info["objectives"]] if info is not None else []
    if len(names) < 2:
        names = list(archive.objective_names or ())
    if len(names) < 2:
        return "params"
    objective = find_objective(names[1])
    return canonical_name(names[1]) if objective is not None and objective.weight < 0 else "params"


def _sizer(
    name: str, info: dict[str, Any] | None
) -> Callable[[str | None, dict[str, Any], dict[str, Any]], float] | None:
    """``size(genome_hash, genome_json, result)``: a journalled genome's value of objective
    ``name``. The journal records parameter counts only; other sizes known before training
    (bytes, FLOPs, latency) are computed from the genome, latency with the cost model run.json
    recorded. None when the objective is unknown here or needs training."""
    if name == "params":
        return lambda _hash, _genome, result: int(result["n_params"])
    objective = find_objective(name)
    if objective is None or not objective.known_before_training:
        return None
    if isinstance(objective, Latency):
        from evosearch.nn.cost_model import LatencyModel

        try:
            objective = Latency(LatencyModel.from_dict((info or {})["latency_model"]))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # no (readable) cost model: the archive's values are all there is
    cache: dict[str, float] = {}

    def size(genome_hash: str | None, genome: dict[str, Any], result: dict[str, Any]) -> float:
        if genome_hash is None:
            return objective.value(Genome.from_json(genome))
        if genome_hash not in cache:
            cache[genome_hash] = objective.value(Genome.from_json(genome))
        return cache[genome_hash]

    return size


def objective_label(data: RunData, name: str) -> str:
    """How tables and plots name objective ``name`` of the run: its plug-in's ``label``
    (``"bytes"``, ``"latency µs"``), the score as ``cross-validated <scorer>``."""
    if name == "score":
        return f"cross-validated {data.score_name}"
    objective = find_objective(name)
    return objective.label if objective else name


def pick_members(archive: ParetoArchive, size: str | None = None) -> dict[str, ArchiveEntry]:
    """Choose the archive members worth drawing: best, smallest and knee.

    Parameters
    ----------
    archive : ParetoArchive
        Its first objective is the score.
    size : str, optional
        The objective *smallest* and the knee measure size by; default: the archive's second
        objective (``params`` for archives that name none).

    Returns
    -------
    dict
        ``{"best": entry, "smallest": entry, "knee": entry}`` (the same entry may fill several
        roles); empty for an empty archive. See the module docstring for the knee.

    Examples
    --------
    >>> archive = ParetoArchive()
    >>> archive.update([ArchiveEntry({}, h, (s, p)) for h, s, p in
    ...                 [("a", 0.50, 10), ("b", 0.90, 100), ("c", 0.92, 10_000)]])
    3
    >>> {role: entry.genome_hash for role, entry in pick_members(archive).items()}
    {'best': 'c', 'smallest': 'a', 'knee': 'b'}
    """
    members = archive.members
    if not members:
        return {}
    if size is None:
        names = archive.objective_names
        size = names[1] if names is not None and len(names) > 1 else "params"
    points = {m.genome_hash: _point(archive, m, size) for m in members}
    best = archive.best(0)  # the score is always the first objective
    # Smallest, ties to the better score, as archive.best would rank them.
    smallest = min(
        members, key=lambda m: (points[m.genome_hash][1], -m.objectives[0], m.genome_hash)
    )
    scores = [points[m.genome_hash][0] for m in members]
    sizes = [math.log10(max(points[m.genome_hash][1], 1.0)) for m in members]
    low_s, high_s = min(scores), max(scores)
    low_p, high_p = min(sizes), max(sizes)

    def lift(index: int) -> tuple[float, float]:
        s = (scores[index] - low_s) / (high_s - low_s) if high_s > low_s else 1.0
        p = (sizes[index] - low_p) / (high_p - low_p) if high_p > low_p else 0.0
        # Distance above the diagonal from (0, 0) to (1, 1), up to a constant factor.
        return (s - p, scores[index])

    knee = members[max(range(len(members)), key=lift)]
    return {"best": best, "smallest": smallest, "knee": knee}


def _point(
    archive: ParetoArchive, entry: ArchiveEntry, size: str = "params"
) -> tuple[float, float]:
    """``(score, size)`` of a member, taken by objective name whatever the objectives; the
    size is objective ``size`` when the archive has it, else the parameter count."""
    values = archive.named(entry)
    if size != "params" and size in values:
        return entry.objectives[0], values[size]
    if "params" in values:
        return entry.objectives[0], values["params"]
    return entry.objectives[0], float(Genome.from_json(entry.genome).n_params())


def _spread(fold_scores: list[float]) -> float:
    """Half the range of the fold scores, as the console's '± folds' column."""
    return (max(fold_scores) - min(fold_scores)) / 2 if len(fold_scores) > 1 else 0.0
