"""The loop's state between generations, and its (de)serialisation to the run folder.

What a generation writes (a ``generations.jsonl`` line, ``checkpoint.json``) and how a resume
reads it back (checkpoint, then the journal into the evaluation cache) live here, next to each
other, so that the two stay in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evosearch.errors import RunFolderError
from evosearch.evaluation import EvaluationResult, Evaluator
from evosearch.objectives import Objective
from evosearch.runs import RunFolder, RunRecord
from evosearch.search.archive import ArchiveEntry, ParetoArchive
from evosearch.search.member import Member
from evosearch.space import Genome, InnovationCounter

__all__ = [
    "GenerationRecord",
    "RunState",
    "SteadyQueue",
    "checkpoint_data",
    "finish_generation",
    "generation_line",
    "offer_to_archive",
    "restore_state",
]


@dataclass
class GenerationRecord:
    """Statistics of one finished generation (one row of ``Evolver.history_``)."""

    generation: int
    best_score: float
    archive_size: int
    hypervolume: float
    evaluations: int
    cache_hits: int
    failures: int
    seconds: float
    mean_score: float
    median_params: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SteadyQueue:
    """The steady-state search's queue (search/steady_state.py), checkpointed with the state.

    Attributes
    ----------
    in_flight : int
        Evaluations kept in flight (resolved when the run started).
    submitted : int
        Children made so far (trained, or served from the cache).
    consumed : int
        Results taken into the population so far (journal order, cache hits included).
    waiting : list of (Genome, list of str)
        Initial genomes not yet submitted, with their parents' hashes.
    flying : list of (Genome, list of str)
        Genomes submitted whose result has not been taken in, in submission order.
    stages : dict of str to int
        With rungs before the full evaluation (screening, halving's first fold): the rung each
        genome in flight was promoted to (absent: the first).
    windows : dict of str to list of list of float
        Per rung, the objective vectors of its latest results, which a new one is ranked
        against.
    """

    in_flight: int
    submitted: int = 0
    consumed: int = 0
    waiting: list[tuple[Genome, list[str]]] = field(default_factory=list)
    flying: list[tuple[Genome, list[str]]] = field(default_factory=list)
    stages: dict[str, int] = field(default_factory=dict)
    windows: dict[str, list[list[float]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def genomes(pairs: list[tuple[Genome, list[str]]]) -> list[dict[str, Any]]:
            return [{"genome": g.to_json(), "parents": list(p)} for g, p in pairs]

        return {
            "in_flight": self.in_flight,
            "submitted": self.submitted,
            "consumed": self.consumed,
            "waiting": genomes(self.waiting),
            "flying": genomes(self.flying),
            "stages": dict(self.stages),
            "windows": {name: [list(v) for v in w] for name, w in self.windows.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SteadyQueue:
        def genomes(items: list[dict[str, Any]]) -> list[tuple[Genome, list[str]]]:
            return [(Genome.from_json(i["genome"]), [str(p) for p in i["parents"]]) for i in items]

        return cls(
            in_flight=int(data["in_flight"]),
            submitted=int(data["submitted"]),
            consumed=int(data["consumed"]),
            waiting=genomes(data["waiting"]),
            flying=genomes(data["flying"]),
            stages={str(h): int(k) for h, k in data.get("stages", {}).items()},
            windows={
                str(name): [[float(x) for x in v] for v in w]
                for name, w in data.get("windows", {}).items()
            },
        )


@dataclass
class RunState:
    """What the generation loop carries from one generation to the next."""

    rng: np.random.Generator
    innovations: InnovationCounter
    evaluator: Evaluator
    archive: ParetoArchive
    history: list[GenerationRecord] = field(default_factory=list)
    population: list[Member] | None = None
    generation: int = -1
    #: With a fidelity plan that screens: the screening rung's (low-fidelity) evaluator.
    screening: Evaluator | None = None
    #: The steady-state search's queue (None: a generational run, or none started yet).
    steady: SteadyQueue | None = None

    @property
    def members(self) -> list[Member]:
        assert self.population is not None
        return self.population


def offer_to_archive(archive: ParetoArchive, members: Sequence[Member]) -> None:
    """Offer the successful ``members`` to ``archive`` (which keeps the non-dominated)."""
    archive.update(
        ArchiveEntry(
            genome=m.genome.to_json(),
            genome_hash=m.result.genome_hash,
            objectives=m.objectives,
            fold_scores=list(m.result.fold_scores),
            generation=m.generation,
            parents=list(m.parents),
        )
        for m in members
        if m.result.ok
    )


def finish_generation(
    state: RunState, offspring: list[Member], evaluations: int, cache_hits: int, seconds: float
) -> GenerationRecord:
    """Offer the successful ``offspring`` to the archive; return and keep the generation's record.

    ``state.generation`` and ``state.population`` are already the finished generation's.
    """
    population = state.members
    offer_to_archive(state.archive, offspring)
    scores = [m.result.score for m in population if m.result.ok]
    score = state.archive.objective("score")
    record = GenerationRecord(
        generation=state.generation,
        best_score=max((e.objectives[score] for e in state.archive), default=float("nan")),
        archive_size=len(state.archive),
        hypervolume=state.archive.hypervolume() if len(state.archive) else 0.0,
        evaluations=evaluations,
        cache_hits=cache_hits,
        failures=sum(not m.result.ok for m in offspring),
        seconds=seconds,
        mean_score=float(np.mean(scores)) if scores else float("nan"),
        median_params=float(np.median([m.result.n_params for m in population])),
    )
    state.history.append(record)
    return record


def _json_record(record: GenerationRecord) -> dict[str, Any]:
    # NaN (no successful genome yet) is not JSON: write null instead.
    return {
        key: None if isinstance(value, float) and not np.isfinite(value) else value
        for key, value in record.to_dict().items()
    }


def _record_from_json(data: dict[str, Any]) -> GenerationRecord:
    fields = {name: data[name] for name in GenerationRecord.__dataclass_fields__}
    for name in ("best_score", "mean_score", "median_params"):
        if fields[name] is None:
            fields[name] = float("nan")
    return GenerationRecord(**fields)


def generation_line(state: RunState, record: GenerationRecord) -> dict[str, Any]:
    """The ``generations.jsonl`` line of the generation that ``record`` describes."""
    return {
        **_json_record(record),
        "population": [m.to_dict() for m in state.members],
        "rng_state": state.rng.bit_generator.state,
        "innovation_counter": state.innovations.next_id,
    }


def checkpoint_data(state: RunState) -> dict[str, Any]:
    """``checkpoint.json``: enough to continue (archive and history live in it too, so a kill
    between two of a generation's writes cannot leave them out of step)."""
    data = {
        "generation": state.generation,
        "rng_state": state.rng.bit_generator.state,
        "innovation_counter": state.innovations.next_id,
        "population": [m.to_dict() for m in state.members],
        "archive": state.archive.to_dict(),
        "history": [_json_record(r) for r in state.history],
    }
    if state.steady is not None:
        data["steady_state"] = state.steady.to_dict()
    return data


def restore_state(
    record: RunRecord,
    folder: RunFolder,
    state: RunState,
    objectives: Sequence[Objective],
    later: list[tuple[Genome, EvaluationResult, bool]] | None = None,
) -> None:
    """Fill a fresh ``state`` from the checkpoint, and its evaluator's cache from the journal.

    The journal's results after the checkpoint are held for the interrupted generation to
    ask for again (:meth:`Evaluator.replay`), or, where ``later`` is given (the steady-state
    search, which replays them in their order), appended to it in the order written, each
    with whether it is a screening result.

    Raises
    ------
    RunFolderError
        If the checkpoint or a journal line is damaged.
    """
    checkpoint = record.checkpoint
    where = record.path / RunFolder.CHECKPOINT_FILE
    if checkpoint is not None:
        try:
            state.rng.bit_generator.state = checkpoint["rng_state"]
            state.innovations = InnovationCounter(checkpoint["innovation_counter"])
            state.population = [Member.from_dict(m, objectives) for m in checkpoint["population"]]
            state.generation = int(checkpoint["generation"])
            state.archive = ParetoArchive.from_dict(checkpoint["archive"])
            state.history = [_record_from_json(r) for r in checkpoint["history"]]
            if "steady_state" in checkpoint:
                state.steady = SteadyQueue.from_dict(checkpoint["steady_state"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RunFolderError(f"{where}: damaged checkpoint ({exc!r})") from None
    lines: list[tuple[Evaluator | None, int, dict[str, Any]]]
    lines = [(state.evaluator, n, e) for n, e in enumerate(record.journal, start=1)]
    if state.screening is not None:  # a run without one has no screening lines to read
        lines += [(state.screening, 0, e) for e in record.screening]
    if later is not None:  # the order written, which the steady-state replay follows
        lines = [
            (state.screening if "fidelity" in e else state.evaluator, n, e)
            for n, e in enumerate(record.lines or record.journal, start=1)
            if "fidelity" not in e or state.screening is not None
        ]
    for evaluator, number, entry in lines:
        assert evaluator is not None
        try:
            genome = Genome.from_json(entry["genome"])
            # from_dict ignores the line's other keys and fills fields newer than it.
            result = EvaluationResult.from_dict(entry)
        except (KeyError, TypeError, ValueError) as exc:
            raise RunFolderError(f"{folder.journal_path}:{number}: {exc}") from None
        if genome.canonical_hash() != result.genome_hash:
            raise RunFolderError(
                f"{folder.journal_path}:{number}: the genome does not match its hash"
            )
        if entry["generation"] <= state.generation:
            evaluator.remember(genome, result)
        elif later is not None:
            later.append((genome, result, evaluator is state.screening))
        else:
            # Finished in the generation the kill interrupted: handed back, not retrained,
            # when that generation asks for it again.
            evaluator.replay(genome, result)
