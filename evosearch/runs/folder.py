"""The run folder: every file a run writes, written so a kill never leaves a broken one.

Layout (``runs/<run-id>/``)::

    run.json           settings, search space, seed, dataset fingerprint, package versions
    journal.jsonl      one line per finished evaluation, appended and flushed as it finishes
    generations.jsonl  one line per generation: population, statistics, hypervolume
    archive.json       the current Pareto archive
    checkpoint.json    the state needed to continue (RNG, innovation counter, population)
    .lock              while a writer holds the folder (runs/lock.py)
    weights/           trained fold weights of the population and archive (inheritance)
    models/, report/   what ``export`` and ``report`` write

Everything is JSON (no pickle: opening someone else's run must not run code). Whole-file writes
are atomic: a temporary file in the same folder, fsync, then rename over the old file.

Every file (every line of the two line files) carries the :data:`FORMAT_VERSION` that wrote it.
:func:`load_run` reads versions 1 to :data:`FORMAT_VERSION` through
:mod:`evosearch.runs.migrations`, so what it hands out is always in the current format; an
unknown or newer version is refused with one line naming the file. A resume appends
current-format lines to an older journal (each line is migrated by its own version) and
rewrites the whole files in the current format.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from evosearch.errors import RunFolderError
from evosearch.runs.disk import disk_errors, file_mode
from evosearch.runs.lock import LOCK_FILE, RunLock
from evosearch.runs.migrations import (
    FORMAT_VERSION,
    migrate_archive,
    migrate_checkpoint,
    migrate_generation,
    migrate_journal_line,
    migrate_run_info,
)

if TYPE_CHECKING:
    from evosearch.data import Dataset

__all__ = [
    "FORMAT_VERSION",
    "RunFolder",
    "RunRecord",
    "atomic_write_json",
    "disk_errors",
    "load_run",
    "load_run_dataset",
]

# FORMAT_VERSION (2) is one past the last step of evosearch.runs.migrations, which reads the
# older versions: a new version is a new migration step there.


@contextmanager
def _atomic_file(path: Path) -> Iterator[TextIO]:
    """Write a file so readers see the old or the new one, never half of it.

    The content goes to a temporary file in the same folder, is fsync'ed, then renamed over
    ``path`` (an atomic replace on POSIX); on any error the temporary file is removed.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file 0600; give it the mode open() would (0666 less the umask), so
        # a run's or an export's JSON files are as readable as the files written beside them.
        os.chmod(temporary, file_mode())
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (see :func:`_atomic_file`)."""
    with _atomic_file(Path(path)) as stream:
        json.dump(data, stream, indent=1, allow_nan=False)
        stream.write("\n")


def _versioned(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` marked as written in the current format (the version first, for a reader's
    eye; the version of data read from an older file and written back is replaced)."""
    return {
        "format_version": FORMAT_VERSION,
        **{k: v for k, v in data.items() if k != "format_version"},
    }


class RunFolder:
    """Writes the files of one run folder.

    Parameters
    ----------
    path : path-like
        The run folder.
    """

    RUN_FILE = "run.json"
    JOURNAL_FILE = "journal.jsonl"
    GENERATIONS_FILE = "generations.jsonl"
    ARCHIVE_FILE = "archive.json"
    CHECKPOINT_FILE = "checkpoint.json"

    def __init__(self, path: str | Path, lock: RunLock | None = None) -> None:
        self.path = Path(path)
        self.lock = lock

    @classmethod
    def create(cls, path: str | Path, run_info: dict[str, Any]) -> RunFolder:
        """Start a new run folder, locked for writing (see :meth:`close`).

        Refuses a folder that already holds anything, and one another process is creating.
        """
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise RunFolderError(
                f"run folder {path} already exists and is not empty: "
                "choose another --out (or resume that run)"
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunFolderError(f"cannot create run folder {path}: {exc.strerror}") from None
        lock = RunLock.acquire(path, "evolve")
        try:
            # Checked again under the lock: another evolve may have started it meanwhile.
            if any(p.name != LOCK_FILE for p in path.iterdir()):
                raise RunFolderError(f"run folder {path} was started by another process")
            atomic_write_json(path / cls.RUN_FILE, _versioned(run_info))
        except OSError as exc:
            lock.release()
            raise RunFolderError(
                f"cannot create run folder {path}: {exc.strerror or exc}"
            ) from None
        except BaseException:
            lock.release()
            raise
        return cls(path, lock)

    @classmethod
    def create_numbered(cls, path: str | Path, run_info: dict[str, Any]) -> RunFolder:
        """Like :meth:`create`, at ``path`` or, if that already holds anything, at the first
        free sibling ``path-2``, ``path-3``, ... (see :attr:`path` for the one written).

        Several processes may call it with the same ``path`` at once (the clones of one
        estimator in a parallel cross-validation): each gets a folder of its own.
        """
        path = Path(path)
        number = 1
        while True:
            candidate = path if number == 1 else path.with_name(f"{path.name}-{number}")
            number += 1
            if candidate == path and candidate.exists() and not candidate.is_dir():
                return cls.create(candidate, run_info)  # a file, not a run: refused
            if candidate.exists() and (not candidate.is_dir() or any(candidate.iterdir())):
                continue
            try:
                return cls.create(candidate, run_info)
            except RunFolderError:
                # Taken by another process meanwhile (its lock or its run.json appeared).
                if candidate.is_dir() and any(candidate.iterdir()):
                    continue
                raise

    @classmethod
    def open(cls, path: str | Path, command: str = "resume") -> RunFolder:
        """Lock an existing run folder for writing; call before reading it to continue it.

        Raises
        ------
        RunFolderError
            If the folder does not exist, or another process writes it (naming that process).
        """
        path = Path(path)
        if not path.is_dir():
            raise RunFolderError(f"run folder not found: {path}")
        return cls(path, RunLock.acquire(path, command))

    def close(self) -> None:
        """Release the write lock (if this object holds it); the folder stays as it is."""
        if self.lock is not None:
            self.lock.release()

    @property
    def journal_path(self) -> Path:
        return self.path / self.JOURNAL_FILE

    def update_run_info(self, info: dict[str, Any]) -> None:
        """Rewrite run.json (e.g. when a resume extends the number of generations)."""
        with disk_errors(self.path):
            atomic_write_json(self.path / self.RUN_FILE, _versioned(info))

    def repair(self, record: RunRecord, last_generation: int) -> None:
        """Make the line files safe to append to before a resume continues writing them.

        A journal line cut off by a kill is dropped, and generation lines written after the
        checkpoint (a kill between the two writes) are removed: the resumed run writes them
        again. Both rewrites are atomic.
        """
        if record.journal_truncated:
            # In the order written: a steady-state run's resume replays that order.
            self._rewrite_lines(
                self.JOURNAL_FILE, record.lines or record.journal + record.screening
            )
        kept = [g for g in record.generations if g["generation"] <= last_generation]
        generations_file = self.path / self.GENERATIONS_FILE
        if len(kept) != len(record.generations) or (
            generations_file.exists()
            and not generations_file.read_bytes().endswith(b"\n")
            and generations_file.stat().st_size
        ):
            self._rewrite_lines(self.GENERATIONS_FILE, kept)

    def _rewrite_lines(self, name: str, records: list[dict[str, Any]]) -> None:
        with disk_errors(self.path), _atomic_file(self.path / name) as stream:
            for record in records:
                stream.write(json.dumps(record, allow_nan=False) + "\n")

    def _append_line(self, name: str, record: dict[str, Any]) -> None:
        line = json.dumps(_versioned(record), allow_nan=False)
        with disk_errors(self.path), open(self.path / name, "a", encoding="utf-8") as stream:
            stream.write(line + "\n")
            stream.flush()
            os.fsync(stream.fileno())

    def append_journal(self, record: dict[str, Any]) -> None:
        """Journal one finished evaluation (flushed to disk before returning)."""
        self._append_line(self.JOURNAL_FILE, record)

    def append_generation(self, record: dict[str, Any]) -> None:
        """Record one finished generation."""
        self._append_line(self.GENERATIONS_FILE, record)

    def write_archive(self, archive: dict[str, Any]) -> None:
        with disk_errors(self.path):
            atomic_write_json(self.path / self.ARCHIVE_FILE, _versioned(archive))

    def write_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        with disk_errors(self.path):
            atomic_write_json(self.path / self.CHECKPOINT_FILE, _versioned(checkpoint))


# --------------------------------------------------------------------------- reading
_JOURNAL_KEYS = ("generation", "genome", "genome_hash", "fold_scores", "score", "n_params", "error")
_GENERATION_KEYS = ("generation", "best_score", "archive_size", "hypervolume", "population")
_CHECKPOINT_KEYS = (
    "generation",
    "rng_state",
    "innovation_counter",
    "population",
    "archive",
    "history",
)


@dataclass
class RunRecord:
    """Everything a run folder holds, read back, checked and in the current format (older
    files are migrated in memory, see :mod:`evosearch.runs.migrations`).

    Attributes
    ----------
    path : Path
    info : dict
        ``run.json``: settings (every one of
        :data:`~evosearch.runs.migrations.RUN_SETTINGS`), search space, dataset description,
        versions.
    journal : list of dict
        One record per finished evaluation, in the order they finished.
    generations : list of dict
        One record per finished generation.
    archive : dict or None
        ``archive.json`` (None before the first generation finished).
    checkpoint : dict or None
        ``checkpoint.json`` (None before the first generation finished).
    journal_truncated : bool
        Whether the journal's last line was cut off (a run killed while writing it).
    screening : list of dict
        The journal's low-fidelity lines (a ``"fidelity"`` key: multi-fidelity screening),
        kept out of ``journal``, which holds the full-fidelity evaluations only.
    lines : list of dict
        Every journal line, both kinds, in the order they were written.
    """

    path: Path
    info: dict[str, Any]
    journal: list[dict[str, Any]]
    generations: list[dict[str, Any]]
    archive: dict[str, Any] | None
    checkpoint: dict[str, Any] | None
    journal_truncated: bool = False
    screening: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last_generation(self) -> int:
        """The last generation the checkpoint covers, -1 if none finished."""
        return int(self.checkpoint["generation"]) if self.checkpoint else -1

    @property
    def planned_generations(self) -> int:
        return int(self.info["settings"]["generations"])

    @property
    def finished(self) -> bool:
        """Whether the checkpoint covers every planned generation."""
        return self.last_generation >= self.planned_generations


def _require(data: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    missing = [key for key in keys if key not in data]
    if missing:
        raise RunFolderError(f"{where}: missing {', '.join(missing)}")


def _read_json(
    path: Path, required: bool, migrate: Callable[[Any, str], dict[str, Any]]
) -> dict[str, Any] | None:
    if not path.exists():
        if required:
            raise RunFolderError(f"{path} is missing: not a run folder, or a damaged one")
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RunFolderError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}") from None
    return migrate(data, str(path))


def _read_jsonl(
    path: Path, keys: tuple[str, ...], migrate: Callable[[Any, str], dict[str, Any]]
) -> tuple[list[dict[str, Any]], bool]:
    """Read a JSON-lines file, each line migrated by its own version (a resume appends
    current-format lines to an older file); a cut-off last line (a kill while writing) is
    dropped."""
    if not path.exists():
        return [], False
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RunFolderError(f"{path}: cannot read: {exc}") from None
    lines = text.split("\n")
    truncated = False
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        # Every complete record ends with a newline, so a last line without one is a write
        # interrupted by a kill: it is not data yet.
        lines.pop()
        truncated = True
    records = []
    for number, line in enumerate(lines, start=1):
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RunFolderError(f"{where}: not valid JSON: {exc.msg}") from None
        record = migrate(record, where)
        _require(record, keys, where)
        records.append(record)
    return records, truncated


def load_run(path: str | Path) -> RunRecord:
    """Read and check a run folder; corruption raises :class:`RunFolderError` naming the file.

    Only JSON is read, so opening a run folder from someone else cannot execute code. A
    journal or generations file whose last line was cut off by a kill is accepted without that
    line; any other damage is refused.
    """
    path = Path(path)
    if not path.is_dir():
        raise RunFolderError(f"run folder not found: {path}")
    info = _read_json(path / RunFolder.RUN_FILE, True, migrate_run_info)
    assert info is not None
    journal, truncated = _read_jsonl(
        path / RunFolder.JOURNAL_FILE, _JOURNAL_KEYS, migrate_journal_line
    )
    generations, _ = _read_jsonl(
        path / RunFolder.GENERATIONS_FILE, _GENERATION_KEYS, migrate_generation
    )
    archive = _read_json(path / RunFolder.ARCHIVE_FILE, False, migrate_archive)
    checkpoint = _read_json(path / RunFolder.CHECKPOINT_FILE, False, migrate_checkpoint)
    if checkpoint is not None:
        _require(checkpoint, _CHECKPOINT_KEYS, str(path / RunFolder.CHECKPOINT_FILE))
    lines = journal
    screening = [line for line in lines if line.get("fidelity") is not None]
    journal = [line for line in lines if line.get("fidelity") is None]
    _check_consistency(path, info, journal)
    return RunRecord(
        path, info, journal, generations, archive, checkpoint, truncated, screening, lines
    )


def _check_consistency(path: Path, info: dict[str, Any], journal: list[dict[str, Any]]) -> None:
    """Refuse a journal that cannot belong to this run.json (e.g. copied from another run)."""
    dataset = info["dataset"]
    cv = info["settings"]["cv"]
    # A fidelity plan may score fewer folds (run.json records it when it was on).
    planned = (info.get("fidelity") or {}).get("folds")
    if planned and isinstance(cv, int):
        cv = min(cv, planned)
    for number, record in enumerate(journal, start=1):
        where = f"{path / RunFolder.JOURNAL_FILE}:{number}"
        try:
            nodes = {node["id"]: node for node in record["genome"]["graph"]["nodes"]}
            n_inputs = nodes[0]["units"]
        except (KeyError, TypeError):
            raise RunFolderError(f"{where}: malformed genome") from None
        # A table's genomes take the width their encoding gives, not the raw column count; a
        # plain matrix's its columns, plus one per point mass where the genome flags them.
        flagged = (record["genome"].get("preprocessing") or {}).get("point_mass") == "indicator"
        width = dataset["n_features"]
        fits = n_inputs == width or (flagged and width < n_inputs <= 2 * width)
        if "columns" not in dataset and not fits:
            raise RunFolderError(
                f"{where}: genome takes {n_inputs} features but run.json's data has "
                f"{dataset['n_features']}: this journal belongs to another run"
            )
        # A successive-halving line ("folds") scores only the folds it names.
        folds = record["folds"]
        expected = cv if folds is None else len(folds) if isinstance(folds, list) else -1
        if (
            isinstance(folds, list)
            and cv is not None
            and any(not isinstance(f, int) or not 0 <= f < cv for f in folds)
        ):
            raise RunFolderError(f"{where}: folds {folds} outside run.json's cv={cv}")
        if record["error"] is None and len(record["fold_scores"]) != expected:
            raise RunFolderError(
                f"{where}: {len(record['fold_scores'])} fold scores but run.json says cv={cv}"
                + ("" if folds is None else f" and the line names folds {folds!r}")
            )


def load_run_dataset(
    record: RunRecord, X: Any = None, y: Any = None, groups: Any = None, sample_weight: Any = None
) -> Dataset:
    """The data a run was started on: reloaded by name or path, or checked from ``X, y`` (and
    the ``groups`` and ``sample_weight`` the run was fitted with, if any).

    Raises :class:`RunFolderError` when the run used in-memory arrays and none are given, or
    when the data's fingerprint differs from the one in ``run.json``.
    """
    from evosearch.data import check_dataset, load_dataset
    from evosearch.data.files import is_table_file

    described = record.info["dataset"]
    options = described.get("options", {})
    if X is not None and y is not None:
        dataset = check_dataset(
            X,
            y,
            task=described["task"],
            name="data",
            groups=groups,
            sample_weight=sample_weight,
            **{k: options.get(k, ()) for k in ("categorical", "numeric", "drop", "na_values")},
        )
    elif described["source"]:
        source = described["source"]
        target = described["target"] if is_table_file(source) else None
        # Read the way the run read it (missing-value markers, column kinds, groups, weights).
        dataset = load_dataset(source, target=target, task=described["task"], **options)
    else:
        raise RunFolderError(
            f"run {record.path} was fitted on in-memory arrays: pass X and y from Python "
            "(Evolver.resume(path, X=X, y=y))"
        )
    if dataset.fingerprint() != described["fingerprint"]:
        # In-memory groups and weights are part of the fingerprint and not in run.json.
        hint = (
            "; a run fitted with groups and sample_weight needs the same again "
            "(Evolver.resume(path, X=X, y=y, groups=..., sample_weight=...))"
            if X is not None and not described["source"]
            else ""
        )
        raise RunFolderError(
            f"the data ({dataset.name}) differs from the data run {record.path} was started on "
            f"(fingerprint mismatch){hint}"
        )
    return dataset
