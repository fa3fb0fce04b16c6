"""The Pareto archive: every non-dominated trade-off found so far, with its lineage.

Vocabulary
----------
entry
    One evaluated genome: its JSON dict, canonical hash, objective vector (one value per
    objective of the run, in its order; by default ``(cross-validated score, parameters)``),
    fold scores, generation and parent hashes.
dominates
    ``a`` dominates ``b`` when, after multiplying by the weights, ``a`` is at least as good in
    every objective and strictly better in one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evosearch.objectives import (
    DEFAULT_OBJECTIVES,
    Objective,
    Params,
    Score,
    canonical_name,
    get_objective,
)
from evosearch.runs.migrations import FORMAT_VERSION
from evosearch.search._hypervolume import hypervolume_2d

__all__ = ["ArchiveEntry", "ParetoArchive", "hypervolume_2d"]


_ENTRY_KEYS = ("genome", "genome_hash", "objectives", "fold_scores", "generation", "parents")


@dataclass
class ArchiveEntry:
    """One evaluated genome as the archive keeps it.

    Attributes
    ----------
    genome : dict
        The genome's JSON dict (opaque to the archive).
    genome_hash : str
        Canonical hash of the genome; identifies the entry.
    objectives : tuple of float
        Objective values, e.g. ``(score, n_params)``; converted to floats on construction.
    fold_scores : list of float
        Per-fold cross-validation scores.
    generation : int
        Generation in which the genome was evaluated.
    parents : list of str
        Hashes of the parent genomes (empty for the initial population).
    holdout_score : float or None
        Score on rows kept out of the whole search (``Evolver(holdout=...)``), else None.
    """

    genome: dict[str, Any]
    genome_hash: str
    objectives: tuple[float, ...]
    fold_scores: list[float] = field(default_factory=list)
    generation: int = 0
    parents: list[str] = field(default_factory=list)
    holdout_score: float | None = None

    def __post_init__(self) -> None:
        # Normalise so that an entry equals its JSON round trip (ints and lists become floats
        # and tuples there).
        self.objectives = tuple(float(v) for v in self.objectives)
        self.fold_scores = [float(v) for v in self.fold_scores]
        self.generation = int(self.generation)
        self.parents = [str(p) for p in self.parents]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dict of this entry.

        Returns
        -------
        dict
            Keys ``genome``, ``genome_hash``, ``objectives``, ``fold_scores``, ``generation``,
            ``parents``.
        """
        data = {
            "genome": self.genome,
            "genome_hash": self.genome_hash,
            "objectives": list(self.objectives),
            "fold_scores": list(self.fold_scores),
            "generation": self.generation,
            "parents": list(self.parents),
        }
        if self.holdout_score is not None:
            data["holdout_score"] = self.holdout_score
        return data

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ArchiveEntry:
        """Rebuild an entry from :meth:`to_dict` output.

        Parameters
        ----------
        d : dict
            As written by :meth:`to_dict`.

        Returns
        -------
        ArchiveEntry

        Raises
        ------
        ValueError
            If a key is missing or a value has the wrong type.
        """
        if not isinstance(d, dict):
            raise ValueError(f"an archive entry must be a JSON object, got {type(d).__name__}")
        missing = [key for key in _ENTRY_KEYS if key not in d]
        if missing:
            raise ValueError(f"archive entry is missing key(s): {', '.join(missing)}")
        if not isinstance(d["genome"], dict) or not isinstance(d["genome_hash"], str):
            raise ValueError("archive entry needs a dict 'genome' and a string 'genome_hash'")
        try:
            return cls(
                genome=d["genome"],
                genome_hash=d["genome_hash"],
                objectives=tuple(d["objectives"]),
                fold_scores=list(d["fold_scores"]),
                generation=d["generation"],
                parents=list(d["parents"]),
                holdout_score=None if d.get("holdout_score") is None else float(d["holdout_score"]),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"malformed archive entry {d['genome_hash']!r}: {exc}") from None


class ParetoArchive:
    """The all-time non-dominated set of evaluated genomes.

    Invariants: no member dominates another; no two members have equal objective vectors or
    equal genome hashes; no member's objectives contain NaN.

    Update rules: an entry whose genome hash is already a member is ignored; an entry that a
    member dominates is rejected, also if it arrives later than that member (the set is
    all-time, not per generation); an entry whose objectives equal a member's is rejected,
    so the older member (and its lineage) is kept; an accepted entry evicts every member it
    dominates.

    Hypervolume: each member's objective vector is mapped into ``[0, 1]^N`` by each
    objective's :meth:`~evosearch.objectives.Objective.normalise` (1 the best), and the exact
    hypervolume of those points with reference point the origin is reported. For the default
    ``(score, params)``: ``s = clip(score, 0, 1)`` (accuracy, or R² where a negative value
    counts as 0) and ``c = clip(1 - log10(max(n_params, 1)) / log10(param_reference), 0, 1)``
    (1 for a single parameter, 0 at ``param_reference`` parameters or more). It lies in
    ``[0, 1]`` and is comparable across runs on the same task with the same objectives and
    ``param_reference``.

    Parameters
    ----------
    weights : sequence of float, default=(1.0, -1.0)
        One non-zero weight per objective: positive maximises, negative minimises.
    param_reference : float, default=1e7
        Parameter count that maps to the worst size coordinate (0) of the ``params``
        objective in :meth:`hypervolume`.
    objectives : sequence of str, optional
        The objectives' registered names, in order (see :mod:`evosearch.objectives`); needed
        by :meth:`hypervolume`. Default: ``("score", "params")`` when the weights are
        ``(+, -)``, else unknown.
    scoring : str, optional
        Name of the run's scorer (see :mod:`evosearch.objectives.score`); it sets the score's
        normalisation in :meth:`hypervolume`. None: accuracy / R².

    Examples
    --------
    >>> archive = ParetoArchive()
    >>> archive.update([
    ...     ArchiveEntry({}, "a", (0.90, 1000)),
    ...     ArchiveEntry({}, "b", (0.80, 5000)),   # dominated by "a"
    ...     ArchiveEntry({}, "c", (0.95, 9000)),
    ... ])
    2
    >>> [m.genome_hash for m in archive.members]
    ['a', 'c']
    >>> archive.best().genome_hash
    'c'
    """

    def __init__(
        self,
        weights: Sequence[float] = (1.0, -1.0),
        param_reference: float = 1e7,
        objectives: Sequence[str] | None = None,
        scoring: str | None = None,
    ) -> None:
        self.weights = tuple(float(w) for w in weights)
        self.scoring = scoring
        if not self.weights or any(w == 0 or not math.isfinite(w) for w in self.weights):
            raise ValueError(f"weights must be finite, non-zero and non-empty: {self.weights}")
        if not (math.isfinite(param_reference) and param_reference > 1):
            raise ValueError(f"param_reference must be a finite number > 1, got {param_reference}")
        self.param_reference = float(param_reference)
        if objectives is None and len(self.weights) == 2 and self.weights[0] > 0 > self.weights[1]:
            # Unnamed (score, parameter count) vectors: the default objectives, whose names
            # the JSON form leaves out.
            objectives = DEFAULT_OBJECTIVES
        self.objective_names: tuple[str, ...] | None = None
        if objectives is not None:
            # Not looked up: a run folder whose objective's plug-in is not imported still loads.
            names = tuple(canonical_name(str(name)) for name in objectives)
            if len(names) != len(self.weights):
                raise ValueError(f"{len(names)} objective names for {len(self.weights)} weights")
            self.objective_names = names
        self._members: dict[str, ArchiveEntry] = {}

    # ----------------------------------------------------------------------------- contents

    @property
    def members(self) -> list[ArchiveEntry]:
        """Members sorted by objective 1 ascending (parameter count), then the others."""
        return sorted(self._members.values(), key=self._sort_key)

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[ArchiveEntry]:
        return iter(self.members)

    def __contains__(self, genome_hash: object) -> bool:
        return genome_hash in self._members

    def __repr__(self) -> str:
        return f"ParetoArchive(weights={self.weights}, members={len(self)})"

    def _sort_key(self, entry: ArchiveEntry) -> tuple[Any, ...]:
        objs = entry.objectives
        return (objs[1:2], objs, entry.genome_hash)

    # ------------------------------------------------------------------------------ updates

    def update(self, entries: Iterable[ArchiveEntry]) -> int:
        """Offer entries to the archive, in order.

        Parameters
        ----------
        entries : iterable of ArchiveEntry
            Candidates; see the class docstring for the rules.

        Returns
        -------
        int
            How many of these entries are members after the update (an entry accepted and
            then evicted by a later one in the same call does not count).

        Raises
        ------
        ValueError
            If an entry has the wrong number of objectives or a NaN objective.
        """
        accepted: list[str] = []
        for entry in entries:
            if self._offer(entry):
                accepted.append(entry.genome_hash)
        return sum(1 for h in accepted if h in self._members)

    def _offer(self, entry: ArchiveEntry) -> bool:
        self._check_objectives(entry)
        if entry.genome_hash in self._members:
            return False
        mine = self._weighted(entry.objectives)
        evicted = []
        for key, member in self._members.items():
            theirs = self._weighted(member.objectives)
            if theirs == mine or _dominates(theirs, mine):
                return False
            if _dominates(mine, theirs):
                evicted.append(key)
        for key in evicted:
            del self._members[key]
        self._members[entry.genome_hash] = entry
        return True

    def _check_objectives(self, entry: ArchiveEntry) -> None:
        if len(entry.objectives) != len(self.weights):
            raise ValueError(
                f"entry {entry.genome_hash!r} has {len(entry.objectives)} objectives, "
                f"the archive {len(self.weights)}"
            )
        if any(math.isnan(v) for v in entry.objectives):
            raise ValueError(f"entry {entry.genome_hash!r} has a NaN objective")

    def _weighted(self, objectives: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(v * w for v, w in zip(objectives, self.weights, strict=True))

    # ------------------------------------------------------------------------------ queries

    def objective(self, name: str) -> int:
        """Index of the objective called ``name`` (or an old alias of it) in the vectors.

        Raises
        ------
        ValueError
            If the archive's objectives are unknown or do not include it.
        """
        wanted = canonical_name(name)
        if self.objective_names is None or wanted not in self.objective_names:
            raise ValueError(f"the archive has no objective {name!r}: {self.objective_names}")
        return self.objective_names.index(wanted)

    def named(self, entry: ArchiveEntry) -> dict[str, float]:
        """``entry``'s objective values by objective name (``objective I`` where unnamed)."""
        names = self.objective_names or tuple(f"objective {i}" for i in range(len(self.weights)))
        return dict(zip(names, entry.objectives, strict=True))

    def _objectives(self) -> list[Objective]:
        if self.objective_names is None:
            raise ValueError(
                f"hypervolume needs the objectives' names, the archive has only weights "
                f"{self.weights}"
            )
        objectives = [get_objective(name) for name in self.objective_names]
        # param_reference and scoring (keys of the JSON form) set those objectives' scales.
        return [
            Params(self.param_reference)
            if isinstance(o, Params)
            else Score(self.scoring)
            if isinstance(o, Score)
            else o
            for o in objectives
        ]

    def hypervolume(self) -> float:
        """Return the normalised hypervolume of the members (see the class docstring).

        Returns
        -------
        float
            In ``[0, 1]``; 0 for an empty archive.

        Raises
        ------
        ValueError
            If the archive's objectives are unknown (weights without names).
        """
        objectives = self._objectives()
        if not self._members:
            return 0.0
        objs = np.array([m.objectives for m in self._members.values()], dtype=np.float64)
        points = np.column_stack([o.normalise(objs[:, i]) for i, o in enumerate(objectives)])
        if points.shape[1] == 2:
            # The exact sweep of earlier versions, so that recorded hypervolumes stay bit-equal.
            return hypervolume_2d(points, (0.0, 0.0))
        import moocore

        return float(moocore.hypervolume(points, ref=np.zeros(points.shape[1]), maximise=True))

    def best(self, objective: int = 0) -> ArchiveEntry:
        """Return the best member by one objective.

        Parameters
        ----------
        objective : int, default=0
            Index of the objective; its weight's sign says whether larger is better.

        Returns
        -------
        ArchiveEntry
            Ties are broken by the other objectives in order (so with the default weights,
            equal scores go to fewer parameters), then by genome hash.

        Raises
        ------
        ValueError
            If the archive is empty or ``objective`` is out of range.
        """
        if not 0 <= objective < len(self.weights):
            raise ValueError(f"objective must be in [0, {len(self.weights)}), got {objective}")
        if not self._members:
            raise ValueError("the archive is empty")

        def badness(entry: ArchiveEntry) -> tuple[Any, ...]:
            weighted = [-v for v in self._weighted(entry.objectives)]
            others = weighted[:objective] + weighted[objective + 1 :]
            return (weighted[objective], *others, entry.genome_hash)

        return min(self._members.values(), key=badness)

    # ---------------------------------------------------------------------------- JSON form

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dict of the archive.

        Returns
        -------
        dict
            ``{"format_version": FORMAT_VERSION, "weights": [...], "param_reference": ...,
            "members": [entry dicts, in :attr:`members` order]}``, plus ``"objectives"``
            (their names) when they are not the default ``("score", "params")`` and
            ``"scoring"`` when set.
        """
        data: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "weights": list(self.weights),
            "param_reference": self.param_reference,
        }
        if self.objective_names is not None and self.objective_names != DEFAULT_OBJECTIVES:
            # Only then: archives of default runs keep the exact form of earlier versions.
            data["objectives"] = list(self.objective_names)
        if self.scoring is not None:
            data["scoring"] = self.scoring
        data["members"] = [m.to_dict() for m in self.members]
        return data

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ParetoArchive:
        """Rebuild an archive from :meth:`to_dict` output, exactly (members are not re-offered).

        Parameters
        ----------
        d : dict
            As written by :meth:`to_dict`.

        Returns
        -------
        ParetoArchive

        Raises
        ------
        ValueError
            If the format version is not the current one (an older archive.json is read
            through :func:`evosearch.runs.load_run`, which migrates it), a key is missing, or
            the members break the archive's invariants.
        """
        if not isinstance(d, dict):
            raise ValueError(f"an archive must be a JSON object, got {type(d).__name__}")
        version = d.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(f"unsupported archive format_version {version!r}")
        for key in ("weights", "param_reference", "members"):
            if key not in d:
                raise ValueError(f"archive is missing key '{key}'")
        names = d.get("objectives")
        if names is not None and (
            not isinstance(names, list) or not all(isinstance(n, str) for n in names)
        ):
            raise ValueError(f"archive 'objectives' must be a list of names, got {names!r}")
        scoring = d.get("scoring")
        if scoring is not None and not isinstance(scoring, str):
            raise ValueError(f"archive 'scoring' must be a scorer's name, got {scoring!r}")
        archive = cls(d["weights"], d["param_reference"], names, scoring)
        for item in d["members"]:
            entry = ArchiveEntry.from_dict(item)
            archive._check_objectives(entry)
            if entry.genome_hash in archive._members:
                raise ValueError(f"archive lists genome {entry.genome_hash!r} twice")
            archive._members[entry.genome_hash] = entry
        archive._check_non_dominated()
        return archive

    def _check_non_dominated(self) -> None:
        points = [(m.genome_hash, self._weighted(m.objectives)) for m in self._members.values()]
        for i, (hash_a, a) in enumerate(points):
            for hash_b, b in points[i + 1 :]:
                if a == b or _dominates(a, b) or _dominates(b, a):
                    raise ValueError(
                        f"archive members {hash_a!r} and {hash_b!r} are not mutually non-dominated"
                    )


def _dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """True if weighted vector ``a`` is nowhere worse than ``b`` and somewhere better."""
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(
        x > y for x, y in zip(a, b, strict=True)
    )
