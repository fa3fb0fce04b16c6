"""A recorded generation's members, read back (:func:`evosearch.search.reevaluate` trains them)."""

from __future__ import annotations

from dataclasses import dataclass

from evosearch.errors import RunFolderError, SettingsError
from evosearch.evaluation import EvaluationResult
from evosearch.runs.folder import RunRecord
from evosearch.space import Genome

__all__ = ["ReplayedMember", "generation_members"]


@dataclass
class ReplayedMember:
    """One population member of a recorded generation.

    Attributes
    ----------
    genome : Genome
        The member as it was in the population.
    recorded : EvaluationResult
        Its recorded evaluation.
    trained : Genome
        The genome whose training produced ``recorded``: the member itself, or an equivalent
        genome evaluated earlier (the cache hands its result to every equivalent one). It is
        what a re-evaluation trains, so fresh scores can match the recorded ones exactly.
    """

    genome: Genome
    recorded: EvaluationResult
    trained: Genome


def generation_members(record: RunRecord, generation: int) -> list[ReplayedMember]:
    """The population recorded at the end of ``generation``."""
    lines = {g["generation"]: g for g in record.generations}
    if generation not in lines:
        done = max(lines) if lines else -1
        raise SettingsError(
            f"--generation {generation} is not in run {record.path} "
            f"(it has generations 0 to {done})"
        )
    trained_by_hash = {entry["genome_hash"]: entry["genome"] for entry in record.journal}
    members = []
    for number, member in enumerate(lines[generation]["population"]):
        try:
            genome = Genome.from_json(member["genome"])
            recorded = EvaluationResult.from_dict(member["result"])
            trained = Genome.from_json(trained_by_hash.get(recorded.genome_hash, member["genome"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise RunFolderError(
                f"{record.path}/generations.jsonl: generation {generation}, member {number}: {exc}"
            ) from None
        members.append(ReplayedMember(genome, recorded, trained))
    return members
