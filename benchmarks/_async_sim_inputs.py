"""Inputs of ``benchmarks/async_sim.py``: recorded journals, their compact files, resampling to a
larger population, and synthetic heavy-tailed journals.

A :class:`Journal` is what the simulator needs of a run: its evaluations (generation, fold
seconds, objectives, screening flag) and the run's population, cv and objectives. It is read
from a run folder (``run.json`` and ``journal.jsonl``) or from a compact JSON file written by
:func:`write_compact` (``benchmarks/results/async-sim-*.json``), so that the simulator can be
re-run without the runs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from _async_sim_core import Evaluation, hypervolume_prefix

__all__ = ["COMPACT_FORMAT", "Journal", "load_journal", "scale_population", "synthetic"]

COMPACT_FORMAT = "evosearch-async-sim/1"
_HV_OBJECTIVES = {("score", "params")}  # the ones the journal records values of


@dataclass(frozen=True)
class Journal:
    """A run's evaluations as the simulator replays them.

    Attributes
    ----------
    name : str
    evaluations : tuple of Evaluation
        In journal (finishing) order.
    population : int
        The population size of the run (children per generation).
    cv : int
    objectives : tuple of str
    weights : tuple of float
    scoring : str or None
    note : str
        What was done to the recorded journal (resampled, synthetic), for the printout.
    """

    name: str
    evaluations: tuple[Evaluation, ...]
    population: int
    cv: int
    objectives: tuple[str, ...] = ("score", "params")
    weights: tuple[float, ...] = (1.0, -1.0)
    scoring: str | None = None
    note: str = "as recorded"

    @property
    def has_hypervolume(self) -> bool:
        return any(e.objectives is not None for e in self.evaluations)

    def hypervolumes(self) -> list[float] | None:
        """:func:`~_async_sim_core.hypervolume_prefix` of the evaluations, None without any
        objectives."""
        if not self.has_hypervolume:
            return None
        return hypervolume_prefix(self.evaluations, self.objectives, self.weights, self.scoring)

    def stage_sizes(self) -> dict[tuple[int, bool], int]:
        """Evaluations per ``(generation, screening)`` stage."""
        sizes: dict[tuple[int, bool], int] = {}
        for e in self.evaluations:
            sizes[(e.generation, e.fidelity)] = sizes.get((e.generation, e.fidelity), 0) + 1
        return sizes


def _fold_count(line: dict[str, Any], cv: int) -> int:
    # A partial (halving) or reduced-folds result names its folds; a failure may have no scores.
    if line.get("folds"):
        return len(line["folds"])
    return len(line.get("fold_scores") or ()) or cv


def _split(
    seconds: float, count: int, jitter: float, rng: np.random.Generator
) -> tuple[float, ...]:
    # Per-fold times are not journalled: the genome's sum split evenly, or by lognormal weights
    # (the sum kept) when jitter is asked for.
    if jitter <= 0 or count == 1:
        return (seconds / count,) * count
    weights = rng.lognormal(0.0, jitter, count)
    return tuple(float(seconds * w / weights.sum()) for w in weights)


def from_run_folder(path: Path, jitter: float = 0.0, seed: int = 0) -> Journal:
    """Read a run folder's ``run.json`` and ``journal.jsonl`` (every line, screening included).

    Parameters
    ----------
    path : Path
        The run folder.
    jitter : float, default=0
        Sigma of lognormal per-fold weights splitting each evaluation's seconds (0: equal).
    seed : int, default=0
        Seed of the jitter.

    Returns
    -------
    Journal
    """
    from evosearch.runs import load_run

    record = load_run(path)
    settings = record.info["settings"]
    objectives = tuple(str(o["name"]) for o in record.info["objectives"])
    weights = tuple(float(o["weight"]) for o in record.info["objectives"])
    cv = int(settings["cv"])
    rng = np.random.default_rng(seed)
    lines = [json.loads(raw) for raw in (path / "journal.jsonl").read_text().splitlines() if raw]
    evaluations = []
    for line in lines:
        screening = line.get("fidelity") is not None
        values = None
        if not screening and line.get("error") is None and objectives in _HV_OBJECTIVES:
            values = (float(line["score"]), float(line["n_params"]))
        folds = _split(float(line["seconds"]), _fold_count(line, cv), jitter, rng)
        evaluations.append(Evaluation(int(line["generation"]), folds, values, screening))
    note = "as recorded" + (f", fold jitter {jitter}" if jitter > 0 else "")
    return Journal(
        path.name,
        tuple(evaluations),
        int(settings["population_size"]),
        cv,
        objectives,
        weights,
        settings.get("scoring"),
        note,
    )


def write_compact(journal: Journal, path: Path, source: dict[str, Any]) -> None:
    """Write ``journal`` as a compact JSON file (what :func:`load_journal` reads back).

    Parameters
    ----------
    journal : Journal
    path : Path
    source : dict
        How the run was made (command, date, machine), kept in the file.
    """
    rows = [
        [e.generation, int(e.fidelity), [round(d, 6) for d in e.folds], e.objectives]
        for e in journal.evaluations
    ]
    data = {
        "format": COMPACT_FORMAT,
        "name": journal.name,
        "source": source,
        "population_size": journal.population,
        "cv": journal.cv,
        "objectives": list(journal.objectives),
        "weights": list(journal.weights),
        "scoring": journal.scoring,
        "columns": ["generation", "fidelity", "fold_seconds", "objectives"],
    }
    # One evaluation a line: diffable, still compact.
    head = json.dumps(data, separators=(",", ":"))[:-1]
    body = ",\n".join(json.dumps(row, separators=(",", ":")) for row in rows)
    path.write_text(f'{head},"evaluations":[\n{body}\n]}}\n', encoding="utf-8")


def load_journal(source: str, jitter: float = 0.0, seed: int = 0) -> Journal:
    """A run folder or a compact file (:func:`write_compact`).

    Parameters
    ----------
    source : str
        Path of a run folder or of a compact ``.json`` file.
    jitter, seed
        See :func:`from_run_folder` (run folders only: a compact file keeps its fold seconds).

    Returns
    -------
    Journal
    """
    path = Path(source)
    if path.is_dir():
        return from_run_folder(path, jitter, seed)
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != COMPACT_FORMAT:
        raise SystemExit(f"{path}: not a run folder nor an {COMPACT_FORMAT} file")
    evaluations = tuple(
        Evaluation(int(g), tuple(float(d) for d in folds), None if o is None else tuple(o), bool(f))
        for g, f, folds, o in data["evaluations"]
    )
    return Journal(
        data["name"],
        evaluations,
        int(data["population_size"]),
        int(data["cv"]),
        tuple(data["objectives"]),
        tuple(float(w) for w in data["weights"]),
        data.get("scoring"),
    )


def scale_population(journal: Journal, population: int, seed: int = 0) -> Journal:
    """The journal resampled to ``population`` children per generation (a seeded bootstrap).

    Each stage (a generation's screening or full-fidelity evaluations) is drawn with
    replacement from the same stage of the recorded journal, ``population / recorded`` times
    as many, in random order: the durations and objectives of each generation keep their
    recorded distribution (later generations' larger networks stay later). A population no
    larger than the recorded one returns the journal unchanged.

    Parameters
    ----------
    journal : Journal
    population : int
    seed : int, default=0

    Returns
    -------
    Journal
    """
    if population <= journal.population:
        return journal
    rng = np.random.default_rng(seed)
    factor = population / journal.population
    by_stage: dict[tuple[int, bool], list[Evaluation]] = {}
    for e in journal.evaluations:
        by_stage.setdefault((e.generation, not e.fidelity), []).append(e)
    drawn: list[Evaluation] = []
    for key in sorted(by_stage):
        pool = by_stage[key]
        picks = rng.integers(0, len(pool), size=max(1, math.ceil(len(pool) * factor)))
        drawn.extend(pool[i] for i in picks)
    note = f"population {journal.population} -> {population}: bootstrap per generation, seed {seed}"
    return replace(journal, evaluations=tuple(drawn), population=population, note=note)


def synthetic(
    spec: str, population: int = 16, generations: int = 20, cv: int = 3, seed: int = 0
) -> Journal:
    """A synthetic heavy-tailed journal: ``lognormal:sigma=S`` or ``pareto:alpha=A[,cap=C]``.

    Each genome draws a duration (median 10 s for lognormal; Pareto from a 1 s minimum, capped
    at ``cap`` times it, default 100); its folds take that duration times a small lognormal
    jitter (sigma ``fold_sigma``, default 0.1: folds of one genome train alike). Keys
    ``population``, ``generations``, ``cv`` and ``median`` override the arguments. No
    objectives: utilisation and evaluations per hour only.

    Parameters
    ----------
    spec : str
    population, generations, cv, seed : int
        Defaults of the spec's keys.

    Returns
    -------
    Journal
    """
    kind, _, rest = spec.partition(":")
    keys = {k: float(v) for k, v in (p.split("=", 1) for p in rest.split(",") if p)}
    population = int(keys.pop("population", population))
    generations = int(keys.pop("generations", generations))
    cv = int(keys.pop("cv", cv))
    fold_sigma = keys.pop("fold_sigma", 0.1)
    rng = np.random.default_rng(int(keys.pop("seed", seed)))
    count = population * (generations + 1)
    if kind == "lognormal":
        sigma = keys.pop("sigma", 1.5)
        base = keys.pop("median", 10.0) * rng.lognormal(0.0, sigma, count)
    elif kind == "pareto":
        alpha, cap = keys.pop("alpha", 1.2), keys.pop("cap", 100.0)
        base = np.minimum(1.0 + rng.pareto(alpha, count), cap)
    else:
        raise SystemExit(f"--synthetic: unknown distribution {kind!r} (lognormal, pareto)")
    if keys:
        raise SystemExit(f"--synthetic {spec}: unknown key(s) {', '.join(keys)}")
    evaluations = tuple(
        Evaluation(i // population, tuple(float(b) * rng.lognormal(0.0, fold_sigma, cv)))
        for i, b in enumerate(base)
    )
    name = f"synthetic {spec}"
    note = f"synthetic, seed {seed}"
    return Journal(name, evaluations, population, cv, note=note)


def describe(journal: Journal) -> str:
    """One line for the printout: evaluations, stages, busy seconds, spread of durations.

    Parameters
    ----------
    journal : Journal

    Returns
    -------
    str
    """
    seconds = np.array([e.seconds for e in journal.evaluations])
    screening = sum(e.fidelity for e in journal.evaluations)
    p1, p5, p50, p95, p99 = np.percentile(seconds, [1, 5, 50, 95, 99])
    return (
        f"{journal.name}: {len(seconds)} evaluations ({screening} screening), population "
        f"{journal.population}, cv {journal.cv}, {len(journal.stage_sizes())} stages, "
        f"{seconds.sum():.0f} busy s; seconds per evaluation median {p50:.2f}, spread "
        f"p95/p5 {p95 / max(p5, 1e-9):.0f}x, p99/p1 {p99 / max(p1, 1e-9):.0f}x; {journal.note}"
    )


def fold_seconds(evaluations: Sequence[Evaluation]) -> float:
    """Busy worker-seconds of ``evaluations``: every fold's seconds, summed.

    Parameters
    ----------
    evaluations : sequence of Evaluation

    Returns
    -------
    float
    """
    return float(sum(e.seconds for e in evaluations))


def hypervolume_gap(journal: Journal, folder: Path) -> float | None:
    """Largest difference between the simulator's hypervolume at each generation's end and the
    one ``generations.jsonl`` recorded (0 when the simulator reproduces the run's archive);
    None without objectives.

    Parameters
    ----------
    journal : Journal
        Read from ``folder`` as recorded.
    folder : Path
        The run folder.

    Returns
    -------
    float or None
    """
    hv = journal.hypervolumes()
    if hv is None:
        return None
    recorded = [
        json.loads(line)["hypervolume"]
        for line in (folder / "generations.jsonl").read_text(encoding="utf-8").splitlines()
        if line
    ]
    archived: dict[int, int] = {}
    for e in journal.evaluations:
        if e.objectives is not None:
            archived[e.generation] = archived.get(e.generation, 0) + 1
    gaps, count = [], 0
    for generation, value in enumerate(recorded):
        count += archived.get(generation, 0)
        gaps.append(abs(hv[count] - value))
    return max(gaps, default=0.0)
