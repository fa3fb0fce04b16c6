"""Warm starts: generation 0 drawn from earlier runs' archives and last populations.

``evolve --warm-start RUN`` / ``Evolver(warm_start=RUN)`` carries what earlier runs learnt to
other data (more rows, other rows, a related table): their Pareto archives and last populations
become the new run's seed genomes, re-evaluated on the new data (they are adapted to its widths
by generation 0's rules, :func:`~evosearch.search._breeding.initial_population`, and left out
with a count where they no longer fit), topped up with random genomes. Where the new run
inherits weights and the earlier run had this run's folds (:func:`same_folds`: the same rows,
``cv``, ``holdout`` and seed), each seed's fold ``k`` starts from the earlier run's fold ``k``
network wherever layer shapes match (the training loop keeps only blocks whose keys and shapes
fit). On any other data the seeds train from fresh weights: an earlier run's fold ``k`` network
was trained on rows that this run's fold ``k`` may validate on (a sample of the same table
shares most of them), and measured on held-back rows the networks carried over from a 20 %
sample held back less than the same genomes trained afresh on digits in every seed compared (on
a regression table, either way; benchmarks/warm_weights.py, figures in benchmarks/README.md).

Which genomes come first matters when an earlier run offers more than generation 0 takes.
Best score first filled it with the accurate end of the earlier front and left out the small
models, half of what the hypervolume measures; so each run's genomes are ordered to spread
over its objectives (:func:`~evosearch.search.selection.spread_order` on the objectives'
hypervolume scales: the ends of the front first, then the points farthest from those taken).
And at most :data:`SEED_SHARE` of generation 0 is seeds (:func:`seed_limit`): the rest is
random genomes, as in a cold start, because an earlier run's last population has converged
on its own data and a search started only from it explores little else.

Only runs of the same search space, objectives and task are taken: anything else would seed
the search with genomes it could not have bred or rank them by what it does not measure.

What the run started from is recorded in ``run.json`` (``warm_start``: the runs and, per seed,
whose weights it starts from) and the seeds in ``initial_population``; the earlier runs' weights
are copied into the run's own ``weights/``: a resume never reads the earlier runs again, so it
is exact even if they are moved or deleted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evosearch.errors import SettingsError
from evosearch.space import Genome

__all__ = [
    "SEED_SHARE",
    "WARM_PREFIX",
    "WarmStart",
    "load_warm_start",
    "same_folds",
    "seed_limit",
]

#: The weight store's key of an earlier run's genome (``weights/warm-<hash>.npz``): never a
#: genome hash of this run, so it is pruned with generation 0's end like any unused entry.
WARM_PREFIX = "warm-"

#: The largest share of a warm-started generation 0 that the earlier runs' genomes fill.
SEED_SHARE = 0.75


def seed_limit(population: int) -> int:
    """How many of a warm-started generation 0's ``population`` genomes may be seeds: the
    :data:`SEED_SHARE` rounded up (so at least one), the rest random.

    Examples
    --------
    >>> seed_limit(16), seed_limit(6), seed_limit(1)
    (12, 5, 1)
    """
    return math.ceil(SEED_SHARE * population)


@dataclass
class WarmStart:
    """What generation 0 starts from.

    Attributes
    ----------
    genomes : list of Genome
        Per earlier run, in the order the runs were given, its archive's members and last
        population's, distinct, spread over the objectives (the module's docstring).
    parents : list of str or None
        Per genome, the weight store key its folds start from (None: fresh weights).
    weights : dict
        Key to per-fold weight blocks, for the store.
    runs : list of dict
        Per earlier run: its path, last generation and how many genomes it gave.
    """

    genomes: list[Genome] = field(default_factory=list)
    parents: list[str | None] = field(default_factory=list)
    weights: dict[str, dict[int, Any]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """``run.json``'s ``warm_start``."""
        return {"runs": self.runs, "parents": self.parents}


def load_warm_start(paths: Sequence[Path], info: dict[str, Any], with_weights: bool) -> WarmStart:
    """The seeds of a run whose ``run.json`` will be ``info``, from the runs in ``paths``.

    Parameters
    ----------
    paths : sequence of Path
        Run folders (read only; never locked, so a running search can be a source too).
    info : dict
        The new run's ``run.json`` content (its search space, objectives and task are compared).
    with_weights : bool
        Whether to read the seeds' trained fold weights (the new run inherits weights); only
        those of runs with the new run's folds are read (:func:`same_folds`).

    Raises
    ------
    SettingsError
        Naming the run, when it is another search space, other objectives or another task.
    RunFolderError
        When a run folder is missing or damaged.
    """
    from evosearch.objectives import objective_vector
    from evosearch.runs import generation_members, load_run
    from evosearch.search.inheritance import read_weights
    from evosearch.search.selection import spread_order

    warm = WarmStart()
    seen: set[str] = set()
    for path in paths:
        record = load_run(path)
        _check_compatible(record.path, record.info, info)
        objectives = _objectives(record)
        folds_match = same_folds(record.info, info)
        weighted = with_weights and folds_match
        archive = _archive_genomes(record)
        last = record.last_generation
        members = generation_members(record, last) if last >= 0 else []
        population = [
            (objective_vector(objectives, m.genome, m.recorded), m.genome, m.recorded.genome_hash)
            for m in members
            if m.recorded.ok
        ]
        candidates = []
        for vector, genome, trained_hash in [*archive, *population]:
            genome_hash = genome.canonical_hash()
            if genome_hash not in seen:
                seen.add(genome_hash)
                candidates.append((vector, genome, trained_hash))
        scales = [
            o.normalise(np.array([c[0][i] for c in candidates], dtype=np.float64))
            for i, o in enumerate(objectives)
        ]
        points = np.column_stack(scales) if candidates else np.empty((0, len(objectives)))
        order = spread_order(points.tolist(), [1.0] * len(objectives))  # normalised: 1 best
        for index in order:
            _, genome, trained_hash = candidates[index]
            parent = None
            if weighted:
                # Stored under the hash of the genome whose training gave the result.
                try:
                    folds = read_weights(record.path, trained_hash)
                except ValueError as exc:
                    raise SettingsError(f"warm start from {record.path}: {exc}") from None
                if folds:
                    parent = WARM_PREFIX + trained_hash
                    warm.weights[parent] = folds
            warm.genomes.append(genome)
            warm.parents.append(parent)
        given = len(order)
        warm.runs.append(
            {
                "run": str(Path(record.path).resolve()),
                "generation": last,
                "archive": len(archive),
                "population": len(population),
                "genomes": given,
                # What its genomes' folds start from: "inherited", or "fresh" where the run
                # does not inherit weights or ("other folds") the earlier run's are not ours.
                "weights": "inherited" if weighted else "fresh" if folds_match else "other folds",
            }
        )
    return warm


def same_folds(theirs: dict[str, Any], ours: dict[str, Any]) -> bool:
    """Whether two runs (their ``run.json`` contents) cross-validate on the same folds: the
    same data (fingerprint: rows, order, target, groups and weights), ``cv``, ``holdout`` and
    seed, from which the folds are drawn."""
    fingerprint = theirs.get("dataset", {}).get("fingerprint")
    if not fingerprint or fingerprint != ours.get("dataset", {}).get("fingerprint"):
        return False
    mine, other = ours.get("settings", {}), theirs.get("settings", {})
    keys = ("cv", "holdout", "random_state")
    return all(key in other and other[key] == mine.get(key) for key in keys)


def _archive_genomes(record: Any) -> list[tuple[tuple[float, ...], Genome, str]]:
    """(objective vector, genome, trained genome's hash) of the archive's members, in its
    order."""
    from evosearch.errors import RunFolderError

    members = (record.archive or {}).get("members", [])
    entries = []
    for number, member in enumerate(members):
        try:
            genome = Genome.from_json(member["genome"])
            vector = tuple(float(value) for value in member["objectives"])
            entries.append((vector, genome, str(member["genome_hash"])))
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise RunFolderError(
                f"{record.path}/archive.json: member {number} is unreadable ({exc})"
            ) from None
    return entries


def _objectives(record: Any) -> list[Any]:
    """The earlier run's objectives with the scales its archive's hypervolume used (its
    parameter reference, scorer and latency model)."""
    from evosearch.nn.cost_model import LatencyModel
    from evosearch.objectives import get_objective
    from evosearch.objectives.latency import Latency
    from evosearch.objectives.params import Params
    from evosearch.objectives.score import Score

    archive = record.archive or {}
    model = record.info.get("latency_model")
    objectives: list[Any] = []
    for entry in record.info["objectives"]:
        objective = get_objective(entry["name"])
        if isinstance(objective, Params) and "param_reference" in archive:
            objective = Params(float(archive["param_reference"]))
        elif isinstance(objective, Score):
            objective = Score(archive.get("scoring"))
        elif isinstance(objective, Latency) and model is not None:
            objective = Latency(LatencyModel.from_dict(model))
        objectives.append(objective)
    return objectives


def _check_compatible(path: Path, theirs: dict[str, Any], ours: dict[str, Any]) -> None:
    """One line naming what differs between the earlier run and the new one."""
    if theirs["search_space"] != ours["search_space"]:
        raise SettingsError(
            f"warm start from {path}: its search space "
            f"{theirs['search_space'].get('name', '?')!r} differs from this run's "
            f"{ours['search_space'].get('name', '?')!r} (same preset and settings needed)"
        )
    their_objectives = [o["name"] for o in theirs["objectives"]]
    our_objectives = [o["name"] for o in ours["objectives"]]
    if their_objectives != our_objectives:
        raise SettingsError(
            f"warm start from {path}: its objectives {','.join(their_objectives)} differ from "
            f"this run's {','.join(our_objectives)}"
        )
    their_task, our_task = theirs["dataset"]["task"], ours["dataset"]["task"]
    if their_task != our_task:
        raise SettingsError(
            f"warm start from {path}: it is a {their_task} run and this one is {our_task}"
        )


def warm_start_note(record: dict[str, Any], use: Any, population: int) -> str:
    """One line saying what generation 0 made of a warm start (``use``: a
    :class:`~evosearch.search._breeding.SeedUse`), for the console."""
    runs = record.get("runs", [])
    offered = sum(int(run.get("genomes", 0)) for run in runs)
    names = ", ".join(Path(run["run"]).name for run in runs)
    parents = record.get("parents", [])
    with_weights = sum(
        1 for origin in use.origins if 0 <= origin < len(parents) and parents[origin]
    )
    left = [
        (use.unfit, "no longer fit this data or the size limits"),
        (use.duplicates, "duplicates"),
        (use.surplus, f"beyond the {seed_limit(population)} places of {population} for seeds"),
    ]
    reasons = "; ".join(f"{count} {why}" for count, why in left if count)
    other_folds = [Path(run["run"]).name for run in runs if run.get("weights") == "other folds"]
    return (
        f"warm start: {use.used} of {offered} genomes from {names}"
        + (f" ({reasons})" if reasons else "")
        + (f", {with_weights} starting from their trained weights" if with_weights else "")
        + (
            f", fresh weights for those of {', '.join(other_folds)} (other rows or folds: "
            "its networks trained on rows this run validates on)"
            if other_folds
            else ""
        )
        + f"; {population - use.used} random"
    )
