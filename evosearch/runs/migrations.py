"""Older run folders, read as today's: one migration step per format version and file kind.

Every file of a run folder carries a ``format_version`` (each line of ``journal.jsonl`` and
``generations.jsonl`` its own: a resumed run appends current-format lines to an older file).
:func:`~evosearch.runs.load_run` hands each file's data to this module, which brings it to
:data:`FORMAT_VERSION` one version at a time, so readers only ever see the current format and
need no fallbacks for what older runs lacked. A version newer than this code, or one that is no
version at all, is refused with one :class:`~evosearch.errors.RunFolderError` line naming the
file. Migrating never touches the files: data is changed in memory only (a resume rewrites
whole files in the current format, and appends current-format lines).

A step is frozen history: it writes the literal values runs of its source version had, never
today's defaults (which may change later without changing what an old run did).

Adding a format version: write one ``vN_to_vN+1`` function per file kind whose shape changed
(the others take :func:`_same`), append one :class:`Step` to :data:`STEPS`, and
:data:`FORMAT_VERSION` follows.

The file kinds (``KINDS``): ``"run"`` (``run.json``), ``"journal"`` (one ``journal.jsonl``
line), ``"generation"`` (one ``generations.jsonl`` line), ``"archive"`` (``archive.json``, and
the archive inside ``checkpoint.json``), ``"checkpoint"`` (``checkpoint.json``).

Format versions:

1. evosearch 0.1.0 up to the run-folder migrations: ``run.json`` records a setting only when a
   run used it (scoring, max_bytes, input_shape, fidelity) or not at all (settings newer than
   the run), objectives may carry the old name ``n_params``.
2. ``run.json``'s ``settings`` hold every setting (:data:`RUN_SETTINGS`), ``objectives``
   among them; objectives are named by their current names everywhere; every evaluation
   result (journal lines, populations) has ``peak_memory_mb`` and ``folds``.
3. ``run.json``'s ``settings`` record ``focus`` (runs before it searched the whole front:
   ``"front"``).
4. ``run.json``'s ``settings`` record ``scale_target`` (runs before it trained regressors on
   the raw target and clipped R² at -1: ``false``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from evosearch.errors import RunFolderError

__all__ = [
    "FORMAT_VERSION",
    "KINDS",
    "OLDEST_VERSION",
    "RUN_DATASET",
    "RUN_SETTINGS",
    "STEPS",
    "Step",
    "check_run_info",
    "file_version",
    "migrate",
    "migrate_archive",
    "migrate_checkpoint",
    "migrate_generation",
    "migrate_journal_line",
    "migrate_run_info",
]

Migration = Callable[[dict[str, Any]], dict[str, Any]]

#: The file kinds a run folder holds (see the module docstring).
KINDS = ("run", "journal", "generation", "archive", "checkpoint")

#: The settings every current ``run.json`` records in ``settings`` (besides
#: ``scoring_callable: true``, present only when the scorer was a callable).
RUN_SETTINGS = (
    "genome",
    "population_size",
    "generations",
    "cv",
    "n_jobs",
    "random_state",
    "crossover_rate",
    "task",
    "eval_timeout",
    "max_memory",
    "max_params",
    "max_bytes",
    "holdout",
    "backend",
    "scheduler",
    "strategy",
    "halving",
    "inherit_weights",
    "objectives",
    "scoring",
    "input_shape",
    "fidelity",
    "focus",
    "scale_target",
)

#: What every ``run.json`` records of its data in ``dataset`` (``source`` and ``target`` may be
#: null; ``options`` and ``columns`` are there only for data read with options and tables).
RUN_DATASET = ("name", "source", "task", "n_samples", "n_features", "target", "fingerprint")


# --------------------------------------------------------------------------- version 1 -> 2
#: Objective names of version 1 that have another name since.
_V1_OBJECTIVE_NAMES = {"n_params": "params"}

#: What version-1 runs had for each setting their run.json may not record: the limits, the
#: loop and the scorer of the code that wrote them.
_V1_SETTINGS = {
    "eval_timeout": 300.0,
    "max_memory": None,
    "max_params": None,
    "max_bytes": None,
    "holdout": None,
    "backend": "local",
    "scheduler": None,
    "strategy": "nsga2",
    "halving": False,
    "inherit_weights": False,
    "scoring": None,  # accuracy / R²
    "input_shape": None,
    "fidelity": "off",  # a run that records none had no fidelity plan
}


def _v1_objective(name: Any) -> Any:
    return _V1_OBJECTIVE_NAMES.get(name, name) if isinstance(name, str) else name


def run_v1_to_v2(info: dict[str, Any]) -> dict[str, Any]:
    """``run.json``: every setting recorded, objectives by their current names.

    Fills the settings a version-1 ``run.json`` left out with the values such runs had
    (:data:`_V1_SETTINGS`), adds ``settings["objectives"]`` (the names of the top-level
    ``objectives`` list, in its order) and renames ``n_params`` to ``params``.
    """
    info = copy.deepcopy(info)
    objectives = info.get("objectives")
    if isinstance(objectives, list):
        for objective in objectives:
            if isinstance(objective, dict) and "name" in objective:
                objective["name"] = _v1_objective(objective["name"])
    settings = info.get("settings")
    if isinstance(settings, dict):
        for key, value in _V1_SETTINGS.items():
            settings.setdefault(key, value)
        if isinstance(objectives, list):
            settings["objectives"] = [
                o.get("name") if isinstance(o, dict) else o for o in objectives
            ]
    return info


#: What an evaluation result of a version-1 file that lacks them had: no memory measurement,
#: and every fold scored (journals from before these fields existed).
_V1_RESULT = {"peak_memory_mb": None, "folds": None}


def _v1_result(result: Any) -> Any:
    if not isinstance(result, dict):
        return result  # refused when read (EvaluationResult.from_dict)
    # The line's own keys keep their order; the missing ones go last.
    return {**result, **{k: v for k, v in _V1_RESULT.items() if k not in result}}


def _v1_members(members: Any) -> Any:
    """A population's members (genome, result, ...) with their results completed."""
    if not isinstance(members, list):
        return members
    return [
        {**m, "result": _v1_result(m["result"])} if isinstance(m, dict) and "result" in m else m
        for m in members
    ]


def journal_v1_to_v2(line: dict[str, Any]) -> dict[str, Any]:
    """A ``journal.jsonl`` line (an evaluation result): the result fields it lacks filled."""
    return _v1_result(line)


def generation_v1_to_v2(line: dict[str, Any]) -> dict[str, Any]:
    """A ``generations.jsonl`` line: its population's results completed as journal lines."""
    if "population" not in line:
        return line  # refused as it is (a line without its population)
    return {**line, "population": _v1_members(line["population"])}


def archive_v1_to_v2(archive: dict[str, Any]) -> dict[str, Any]:
    """``archive.json``: objective names (when it names them) by their current names."""
    archive = copy.deepcopy(archive)
    if isinstance(archive.get("objectives"), list):
        archive["objectives"] = [_v1_objective(name) for name in archive["objectives"]]
    return archive


def checkpoint_v1_to_v2(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """``checkpoint.json``: its archive migrated as ``archive.json`` is, its population's
    results as journal lines are."""
    checkpoint = dict(checkpoint)
    if "population" in checkpoint:
        checkpoint["population"] = _v1_members(checkpoint["population"])
    if isinstance(checkpoint.get("archive"), dict):
        checkpoint["archive"] = _migrate_nested(
            "archive", checkpoint["archive"], checkpoint["format_version"]
        )
    return checkpoint


# --------------------------------------------------------------------------- version 2 -> 3
def run_v2_to_v3(info: dict[str, Any]) -> dict[str, Any]:
    """``run.json``: ``settings["focus"]``, ``"front"`` (NSGA-II over the whole front), which
    every run before the setting searched with."""
    info = copy.deepcopy(info)
    settings = info.get("settings")
    if isinstance(settings, dict):
        settings.setdefault("focus", "front")
    return info


def checkpoint_v2_to_v3(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """``checkpoint.json``: its archive migrated as ``archive.json`` is (unchanged in shape
    by this step, but it carries its own version)."""
    checkpoint = dict(checkpoint)
    if isinstance(checkpoint.get("archive"), dict):
        checkpoint["archive"] = _migrate_nested(
            "archive", checkpoint["archive"], checkpoint["format_version"]
        )
    return checkpoint


# --------------------------------------------------------------------------- version 3 -> 4
def run_v3_to_v4(info: dict[str, Any]) -> dict[str, Any]:
    """``run.json``: ``settings["scale_target"]``, ``false``: every run before the setting
    trained its regressors on the raw target and clipped R² at -1 (classifiers: no change)."""
    info = copy.deepcopy(info)
    settings = info.get("settings")
    if isinstance(settings, dict):
        settings.setdefault("scale_target", False)
    return info


def _same(data: dict[str, Any]) -> dict[str, Any]:
    """A file kind whose shape did not change in this step."""
    return data


@dataclass(frozen=True)
class Step:
    """The migrations from format version ``source`` to ``source + 1``, one per file kind."""

    source: int
    run: Migration
    journal: Migration
    generation: Migration
    archive: Migration
    checkpoint: Migration

    def of(self, kind: str) -> Migration:
        migration: Migration = getattr(self, kind)
        return migration


#: The migration steps, oldest first: ``STEPS[i]`` turns version ``OLDEST_VERSION + i`` into
#: the next one.
STEPS: tuple[Step, ...] = (
    Step(
        source=1,
        run=run_v1_to_v2,
        journal=journal_v1_to_v2,
        generation=generation_v1_to_v2,
        archive=archive_v1_to_v2,
        checkpoint=checkpoint_v1_to_v2,
    ),
    Step(source=2, run=run_v2_to_v3, journal=_same, generation=_same, archive=_same,
         checkpoint=checkpoint_v2_to_v3),
    # The checkpoint's step is version 2's again: only its nested archive's version moves.
    Step(source=3, run=run_v3_to_v4, journal=_same, generation=_same, archive=_same,
         checkpoint=checkpoint_v2_to_v3),
)  # fmt: skip

#: The oldest format version this code reads.
OLDEST_VERSION = 1

#: The format version this code writes: one past the last migration step.
FORMAT_VERSION = OLDEST_VERSION + len(STEPS)


# --------------------------------------------------------------------------- applying them
def file_version(data: Any, where: str) -> int:
    """The ``format_version`` of one file's (or line's) data, checked readable.

    Raises
    ------
    RunFolderError
        One line naming ``where``: not a JSON object, or a version that is not an integer from
        :data:`OLDEST_VERSION` to :data:`FORMAT_VERSION`.
    """
    if not isinstance(data, dict):
        raise RunFolderError(f"{where}: expected a JSON object")
    version = data.get("format_version")
    if type(version) is int and OLDEST_VERSION <= version <= FORMAT_VERSION:
        return version
    if type(version) is int and version > FORMAT_VERSION:
        why = "written by a newer evosearch: upgrade evosearch to read it"
    else:
        why = "not a format version"
    raise RunFolderError(
        f"{where}: format version {version!r} is not supported ({why}; this evosearch reads "
        f"versions {OLDEST_VERSION} to {FORMAT_VERSION})"
    )


def migrate(kind: str, data: Any, where: str) -> dict[str, Any]:
    """``data`` of file kind ``kind`` in the current format (a new dict when it was older).

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    data : Any
        The file's (or line's) parsed JSON.
    where : str
        The file (``path`` or ``path:line``) named in errors.

    Raises
    ------
    RunFolderError
        If the data is not an object or its version cannot be read (see :func:`file_version`).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown run-folder file kind {kind!r}; one of {', '.join(KINDS)}")
    version = file_version(data, where)
    for step in STEPS[version - OLDEST_VERSION :]:
        data = {**step.of(kind)(data), "format_version": step.source + 1}
    return data


def _migrate_nested(kind: str, data: dict[str, Any], version: int) -> dict[str, Any]:
    """``data`` embedded in a file of ``version`` (the checkpoint's archive), migrated one
    step: it carries its own version, normally the file's."""
    nested = data.get("format_version", version)
    if type(nested) is not int or nested > version:
        return data  # refused when read as the current format (ParetoArchive.from_dict)
    for step in STEPS[nested - OLDEST_VERSION : version - OLDEST_VERSION + 1]:
        data = {**step.of(kind)(data), "format_version": step.source + 1}
    return data


def migrate_run_info(info: Any, where: str = "run.json") -> dict[str, Any]:
    """``run.json`` in the current format (see :func:`migrate`), then checked to hold every
    setting (:func:`check_run_info`)."""
    info = migrate("run", info, where)
    check_run_info(info, where)
    return info


def migrate_journal_line(line: Any, where: str = "journal.jsonl") -> dict[str, Any]:
    """One ``journal.jsonl`` line in the current format (see :func:`migrate`)."""
    return migrate("journal", line, where)


def migrate_generation(line: Any, where: str = "generations.jsonl") -> dict[str, Any]:
    """One ``generations.jsonl`` line in the current format (see :func:`migrate`)."""
    return migrate("generation", line, where)


def migrate_archive(archive: Any, where: str = "archive.json") -> dict[str, Any]:
    """``archive.json`` in the current format (see :func:`migrate`)."""
    return migrate("archive", archive, where)


def migrate_checkpoint(checkpoint: Any, where: str = "checkpoint.json") -> dict[str, Any]:
    """``checkpoint.json`` in the current format, its archive included (see :func:`migrate`)."""
    return migrate("checkpoint", checkpoint, where)


def check_run_info(info: dict[str, Any], where: str = "run.json") -> None:
    """Refuse, in one line naming ``where``, a current-format ``run.json`` that lacks a part,
    a setting (:data:`RUN_SETTINGS`) or a description of its data (:data:`RUN_DATASET`)."""
    missing = [
        key for key in ("settings", "search_space", "dataset", "objectives") if key not in info
    ]
    if missing:
        raise RunFolderError(f"{where}: missing {', '.join(missing)}")
    settings = info["settings"]
    if not isinstance(settings, dict):
        raise RunFolderError(f"{where}: settings must be a JSON object")
    missing = [key for key in RUN_SETTINGS if key not in settings]
    if missing:
        raise RunFolderError(f"{where}: settings lack {', '.join(missing)}")
    dataset = info["dataset"]
    if not isinstance(dataset, dict):
        raise RunFolderError(f"{where}: dataset must be a JSON object")
    missing = [key for key in RUN_DATASET if key not in dataset]
    if missing:
        raise RunFolderError(f"{where}: dataset lacks {', '.join(missing)}")
