"""One run folder as the dashboard sees it, brought up to date by :meth:`RunState.refresh`.

A refresh looks at the stamps (inode, size, mtime) of the folder's files and reads only what
changed: new journal and generation lines from the last offset, ``run.json`` and
``archive.json`` again when they were replaced. What it keeps is compact: per journalled
evaluation its generation, score and size (for the Pareto plot's cloud) and where its line
starts (a member's details are read back from the file on demand), the generations without
their populations, and the archive. A client that has seen part of it asks for the rest by a
:class:`Cursor`, so an update sends only the new records.

Damage never raises: a ``run.json`` that is not JSON, a journal line that is not a record, an
archive that cannot be read are each kept as one line in :attr:`RunState.problems`, and the
page shows the run as damaged with what could be read.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evosearch.dashboard._files import (
    JsonLines,
    Skimmer,
    Stamp,
    inside,
    lock_state,
    read_json,
    stamp,
)
from evosearch.errors import EvosearchError
from evosearch.evaluation.failures import failure_cause
from evosearch.objectives import canonical_name, find_objective, scoring_label
from evosearch.runs.migrations import (
    FORMAT_VERSION,
    migrate_archive,
    migrate_generation,
    migrate_journal_line,
    migrate_run_info,
)

__all__ = ["Cursor", "RunState", "finite"]

#: Failures kept with their error line (the newest); older ones are only counted.
MAX_FAILURES = 500


def finite(value: Any) -> float | None:
    """A float for JSON: None for a missing, NaN or infinite value."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class Cursor:
    """What a client has of a run: how many journal and generation records, which archive.

    ``epoch`` changes when a line file was rewritten (a resume's repair): the client then
    starts over from a full payload.
    """

    epoch: int = -1
    journal: int = 0
    generations: int = 0
    archive: int = -1
    info: int = -1


class RunState:
    """The dashboard's view of one run folder.

    Parameters
    ----------
    name : str
        The folder's path relative to the dashboard's directory (``/``-separated).
    path : Path
        The folder.
    hostname : str
        This machine's name (a lock file naming another host counts as running).
    """

    def __init__(self, name: str, path: Path, hostname: str) -> None:
        self.name = name
        self.path = path
        self.hostname = hostname
        self.info: dict[str, Any] | None = None
        self.info_problem: str | None = None
        self.archive: dict[str, Any] | None = None
        self.archive_problem: str | None = None
        self.front: list[dict[str, Any]] = []
        self.journal = JsonLines(path / "journal.jsonl", migrate_journal_line)
        self.generation_lines = JsonLines(
            path / "generations.jsonl",
            migrate_generation,
            skim=Skimmer(b"population", None, FORMAT_VERSION),
        )
        self.running = False
        self.holder: dict[str, Any] = {}
        self.version = 0  # bumped on any change a client could see
        self.epoch = 0
        self.info_version = 0
        self.archive_version = 0
        self._stamps: dict[str, Stamp] = {}
        self._sizer: Callable[[str | None, dict[str, Any], dict[str, Any]], float] | None = None
        self._params = True  # the x axis is the parameter count, read from each line
        self._clear_journal()
        self.history: list[dict[str, Any]] = []

    def _clear_journal(self) -> None:
        self.generation_of: list[int] = []
        self.score_of: list[float | None] = []
        self.size_of: list[float | None] = []
        self.lines: dict[str, tuple[int, int]] = {}
        self.failures: list[dict[str, Any]] = []
        self.failure_count = 0
        self.causes: dict[str, int] = {}
        self.evaluations = 0
        self.screened = 0

    # ------------------------------------------------------------------ reading
    def refresh(self) -> bool:
        """Read what changed on disk since the last call; True if anything did."""
        before = self.version
        self._refresh_info()
        self._refresh_lines()
        self._refresh_archive()
        running, holder = lock_state(self.path, self.hostname)
        if (running, holder) != (self.running, self.holder):
            self.running, self.holder = running, holder
            self.version += 1
        return self.version != before

    def _changed(self, name: str) -> bool:
        now = stamp(self.path / name)
        if self._stamps.get(name) == now:
            return False
        self._stamps[name] = now
        return True

    def _refresh_info(self) -> None:
        if not self._changed("run.json"):
            return
        self.version += 1
        self.info_version += 1
        path = self.path / "run.json"
        try:
            if not path.exists():
                raise ValueError("run.json is missing: not a run folder, or a damaged one")
            if not inside(path, self.path):
                raise ValueError("run.json: a link out of the run folder, not read")
            self.info = migrate_run_info(read_json(path), "run.json")
            self.info_problem = None
        except (ValueError, EvosearchError, KeyError, TypeError, AttributeError) as exc:
            self.info, self.info_problem = None, str(exc) or "run.json: unreadable"
        self._sizer = self._make_sizer()
        self._params = self.size_name == "params"
        # The parameter count is in the line; other sizes are computed from the genome.
        params = self.size_name == "params"
        self.journal.skim = Skimmer(b"genome", b"genome_hash", FORMAT_VERSION) if params else None

    def _refresh_lines(self) -> None:
        for name, lines in (
            ("journal.jsonl", self.journal),
            ("generations.jsonl", self.generation_lines),
        ):
            if not self._changed(name):
                continue
            if not inside(lines.path, self.path):
                continue  # a link out of the folder: never read
            records, restarted = lines.read_new()
            if restarted:
                self.epoch += 1
                if lines is self.journal:
                    self._clear_journal()
                else:
                    self.history = []
            if lines is self.journal:
                self._add_evaluations(records)
            else:
                for offset, length, record in records:
                    self._add_generation(offset, length, record)
            self.version += 1

    def _add_evaluations(self, records: list[tuple[int, int, dict[str, Any]]]) -> None:
        # One loop with local names: a 50,000-line journal is read in one call.
        params = self._params
        lines, generations = self.lines, self.generation_of
        scores, sizes = self.score_of, self.size_of
        for offset, length, record in records:
            if record.get("fidelity") is not None:
                self.screened += 1  # a screening rung's line: not a full-fidelity result
                continue
            self.evaluations += 1
            genome_hash = record.get("genome_hash")
            if isinstance(genome_hash, str):
                lines[genome_hash] = (offset, length)
            error = record.get("error")
            if error is not None:
                self._add_failure(record, genome_hash, str(error))
                continue
            generations.append(int(record.get("generation") or 0))
            scores.append(finite(record.get("score")))
            sizes.append(finite(record.get("n_params")) if params else self._size(record))

    def _add_failure(self, record: dict[str, Any], genome_hash: Any, error: str) -> None:
        self.failure_count += 1
        cause = failure_cause(error)
        self.causes[cause] = self.causes.get(cause, 0) + 1
        self.failures.append(
            {
                "generation": int(record.get("generation") or 0),
                "hash": genome_hash,
                "cause": cause,
                "error": error.splitlines()[0][:300] if error else "",
            }
        )
        del self.failures[:-MAX_FAILURES]

    def _size(self, record: dict[str, Any]) -> float | None:
        """A size other than the parameter count, computed from the genome (or None)."""
        if self._sizer is None:
            return None
        try:
            return finite(
                self._sizer(record.get("genome_hash"), record.get("genome") or {}, record)
            )
        except (KeyError, TypeError, ValueError, EvosearchError):
            return None

    def _add_generation(self, offset: int, length: int, record: dict[str, Any]) -> None:
        self.history.append(
            {
                key: (finite(value) if isinstance(value, float) else value)
                for key, value in record.items()
                if key not in ("population", "rng_state", "innovation_counter", "format_version")
                and not isinstance(value, (dict, list))
            }
        )

    def _refresh_archive(self) -> None:
        if not self._changed("archive.json"):
            return
        self.version += 1
        self.archive_version += 1
        path = self.path / "archive.json"
        if not path.exists():
            self.archive, self.archive_problem, self.front = None, None, []
            return
        try:
            if not inside(path, self.path):
                raise ValueError("archive.json: a link out of the run folder, not read")
            self.archive = migrate_archive(read_json(path), "archive.json")
            self.front = self._front(self.archive)
            self.archive_problem = None
        except (ValueError, EvosearchError, KeyError, TypeError, AttributeError) as exc:
            self.archive, self.front = None, []
            self.archive_problem = str(exc) or "archive.json: unreadable"

    # ------------------------------------------------------------------ what it means
    @property
    def objective_names(self) -> list[str]:
        objectives = (self.info or {}).get("objectives") or []
        return [canonical_name(str(o["name"])) for o in objectives]

    @property
    def size_name(self) -> str:
        """The Pareto plot's x axis: the run's second objective when it is a minimised size
        or cost this process knows, else the parameter count (as the report draws it)."""
        names = self.objective_names
        if len(names) > 1:
            objective = find_objective(names[1])
            if objective is not None and objective.weight < 0:
                return names[1]
        return "params"

    @property
    def score_name(self) -> str:
        info = self.info or {}
        task = str((info.get("dataset") or {}).get("task", "classification"))
        return scoring_label(task, (info.get("settings") or {}).get("scoring"))

    def _make_sizer(self) -> Callable[[str | None, dict[str, Any], dict[str, Any]], float] | None:
        if self.size_name == "params":
            return None  # in every journal line: nothing to compute (nor to import)
        from evosearch.report._rundata import _sizer

        return _sizer(self.size_name, self.info)

    def _front(self, archive: dict[str, Any]) -> list[dict[str, Any]]:
        from evosearch.space import Genome

        names = self.objective_names
        size_name = self.size_name
        front = []
        for index, member in enumerate(archive.get("members", [])):
            objectives = [float(v) for v in member["objectives"]]
            named = dict(zip(names, objectives, strict=False))
            genome = Genome.from_json(member["genome"])
            size = named.get(size_name, named.get("params", float(genome.n_params())))
            front.append(
                {
                    "hash": member["genome_hash"],
                    "index": index,  # as `evosearch show` and `export --member` number it
                    "score": finite(objectives[0]),
                    "size": finite(size),
                    "objectives": {k: finite(v) for k, v in named.items()},
                    "folds": [finite(s) for s in member.get("fold_scores", [])],
                    "generation": member.get("generation"),
                    "parents": member.get("parents", []),
                    "describe": genome.describe(),
                }
            )
        front.sort(key=lambda m: (m["size"] is None, m["size"] or 0.0))
        return front

    @property
    def problems(self) -> list[str]:
        """One line per damaged part; empty for a healthy folder."""
        found = [p for p in (self.info_problem, self.archive_problem) if p]
        found += self.journal.errors[:5] + self.generation_lines.errors[:5]
        if self.journal.partial and not self.running:
            found.append(
                "journal.jsonl: the last line was cut off (a killed run; a resume drops it)"
            )
        return found

    @property
    def damaged(self) -> bool:
        """Whether something could not be read (a cut-off last line alone is no damage)."""
        return bool(
            self.info_problem
            or self.archive_problem
            or self.journal.errors
            or self.generation_lines.errors
        )

    @property
    def planned(self) -> int | None:
        try:
            return int((self.info or {})["settings"]["generations"])
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def last_generation(self) -> int | None:
        return int(self.history[-1]["generation"]) if self.history else None

    @property
    def state(self) -> str:
        """``running``, ``finished``, ``failed`` (ended with nothing evaluated successfully),
        ``stopped`` (ended before its last generation: resumable) or ``damaged``."""
        if self.running:
            return "running"
        if self.damaged:
            return "damaged"
        if self.evaluations and self.evaluations == self.failure_count:
            return "failed"  # even with its generations done: it has no model
        last, planned = self.last_generation, self.planned
        if last is not None and planned is not None and last >= planned:
            return "finished"
        return "stopped"

    def summary(self) -> dict[str, Any]:
        """One row of the run list (also the head of the run page)."""
        info = self.info or {}
        dataset = info.get("dataset") or {}
        settings = info.get("settings") or {}
        last = self.history[-1] if self.history else {}
        seconds = sum(float(g.get("seconds") or 0.0) for g in self.history)
        if self.running:
            since = self._stamps.get("generations.jsonl", (0, -1, 0))[2] / 1e9 or None
            seconds += max(0.0, time.time() - since) if since else 0.0
        best = last.get("best_score")
        if best is None and self.front:
            best = max((m["score"] for m in self.front if m["score"] is not None), default=None)
        planned, done = self.planned, self.last_generation
        eta = None
        if self.running and self.history and planned is not None and done is not None:
            per = sum(float(g.get("seconds") or 0.0) for g in self.history) / len(self.history)
            eta = per * max(0, planned - done)
        return {
            "name": self.name,
            "state": self.state,
            "problems": self.problems,
            "data": dataset.get("name"),
            "task": dataset.get("task"),
            "rows": dataset.get("n_samples"),
            "features": dataset.get("n_features"),
            "genome": settings.get("genome"),
            "strategy": settings.get("strategy"),
            "objectives": self.objective_names,
            "score_name": self.score_name,
            "size_name": self.size_name,
            "best_score": finite(best),
            "hypervolume": finite(last.get("hypervolume")),
            "archive_size": len(self.front),
            "generation": done,
            "planned": planned,
            "evaluations": self.evaluations,
            "failures": self.failure_count,
            "screened": self.screened,
            "started": info.get("started"),
            "seconds": seconds,
            "eta_seconds": eta,
            "host": self.holder.get("host") or None,
            "pid": self.holder.get("pid") if self.running else None,
            "command": self.holder.get("command") if self.running else None,
        }

    def payload(self, cursor: Cursor) -> tuple[dict[str, Any], Cursor]:
        """What a client with ``cursor`` lacks, and its cursor after taking it."""
        full = cursor.epoch != self.epoch
        start_j = 0 if full else min(cursor.journal, len(self.score_of))
        start_g = 0 if full else min(cursor.generations, len(self.history))
        data: dict[str, Any] = {
            "reset": full,
            "summary": self.summary(),
            "candidates": {
                "generation": self.generation_of[start_j:],
                "score": self.score_of[start_j:],
                "size": self.size_of[start_j:],
            },
            "history": self.history[start_g:],
        }
        if full or cursor.archive != self.archive_version:
            data["front"] = self.front
        if full or cursor.info != self.info_version or cursor.archive != self.archive_version:
            data["settings"] = (self.info or {}).get("settings")
            data["info"] = _info_head(self.info)
        # Failures are few and capped: sent whole when their count moved.
        data["failures"] = {"causes": self.causes, "count": self.failure_count}
        data["failures"]["recent"] = self.failures[-50:]
        new = Cursor(
            self.epoch,
            len(self.score_of),
            len(self.history),
            self.archive_version,
            self.info_version,
        )
        return data, new


def _info_head(info: dict[str, Any] | None) -> dict[str, Any] | None:
    """run.json without the search space (large, and shown only as the genome's name)."""
    if info is None:
        return None
    return {k: v for k, v in info.items() if k not in ("search_space", "settings")}
