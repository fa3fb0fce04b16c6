"""Multi-fidelity search for large tables and image sets: the ``fidelity`` setting, its plan,
the screening rung.

On a large table one full evaluation (every fold, every row, every epoch) costs seconds, so a
time budget buys few of them. The ``fidelity`` setting trades that for more, cheaper ones:

* **Screening** (a low-fidelity rung, in the spirit of successive halving / Hyperband):
  ``factor`` times the children are trained on ``rows`` of the first fold's training rows for
  ``epochs`` of their epochs; only the most promising ``1 / factor`` of them, by NSGA-II on
  their low-fidelity objective vectors (non-dominated rank, then crowding; cheap objectives
  such as params are exact at any fidelity), go on to full fidelity. The archive, hypervolume
  and final model only ever see full-fidelity results; the screening results are journalled
  (``"fidelity": 1``) so a resume replays them exactly.
* **Full fidelity made cheaper** on large tables: only the first ``folds`` of the ``cv`` folds
  (a fold of thousands of rows already scores precisely), every genome's ``max_epochs`` capped
  at ``max_epochs`` (an epoch of a large table is many updates).

``auto`` (the default) turns all of it on for tables of at least ``min_rows`` rows and leaves
smaller ones exactly as before (bit-identical runs); ``off`` never; a mapping or a
``"key=value,..."`` text sets keys of the plan (the others keep their defaults) and is on from
``min_rows`` rows (``min_rows=0``: always).

A search space with image layers has a plan of its own (:data:`IMAGE_PLAN`): a convolution
costs per image what a dense network costs per thousands of table rows, so from 2,000 images
on every genome is scored on the first fold only, with no screening and no epoch cap (its
epochs are few already). On 5,000 28x28 images in 300 s on one core that trains three times
the genomes of three folds (6 and 5 generations on seeds 0 and 1 instead of 1) and holds back
0.977 and 0.963 (0.962 before, seed 0); screening on top, or an epoch cap of 5, held back less
(benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from evosearch.errors import SettingsError
from evosearch.evaluation import Fidelity
from evosearch.search.halving import MakeChildren
from evosearch.search.member import Member
from evosearch.search.selection import select_survivors
from evosearch.space import Genome

__all__ = [
    "DEFAULT_PLAN",
    "IMAGE_PLAN",
    "FidelityPlan",
    "check_fidelity",
    "plan_from_dict",
    "resolve_plan",
    "screened",
]


@dataclass(frozen=True)
class FidelityPlan:
    """A resolved ``fidelity`` setting (see the module docstring for each key)."""

    #: Tables with fewer rows than this get no plan (``auto`` is off for them).
    min_rows: int = 10_000
    #: Screening: children trained at low fidelity per child finished (1: no screening).
    factor: int = 2
    #: Screening: fraction of the first fold's training rows (0.1 and half the epochs: a
    #: screening costs about a fifth of a full evaluation, and ranks nearly as well as 0.25
    #: and all epochs, measured on 20,000 rows: CHANGELOG.md).
    rows: float = 0.1
    #: Screening: fraction of the (capped) epochs.
    epochs: float = 0.5
    #: Full fidelity: CV folds trained and scored (0: all ``cv``).
    folds: int = 1
    #: Cap on every genome's ``max_epochs``, at both fidelities (0: no cap).
    max_epochs: int = 20

    def full(self) -> Fidelity:
        """The full-fidelity evaluator's :class:`~evosearch.evaluation.Fidelity`."""
        return Fidelity(folds=self.folds or None, max_epochs=self.max_epochs or None)

    def low(self) -> Fidelity | None:
        """The screening rung's fidelity (first fold only); None without screening."""
        if self.factor <= 1:
            return None
        return Fidelity(
            rows=self.rows, epochs=self.epochs, max_epochs=self.max_epochs or None, folds=1, rung=1
        )

    def n_folds(self, cv: int) -> int:
        """Folds a full-fidelity result scores."""
        return min(self.folds, cv) if self.folds else cv

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """One line for the console, e.g. at the start of a run."""
        parts = []
        if self.low() is not None:
            parts.append(f"{self.factor}x children screened on {self.rows:.0%} of fold 0's rows")
        if self.folds:
            parts.append(f"{self.folds} fold(s) at full fidelity")
        if self.max_epochs:
            parts.append(f"at most {self.max_epochs} epochs")
        return "multi-fidelity search: " + ", ".join(parts or ["no change"])


DEFAULT_PLAN = FidelityPlan()

#: The ``auto`` plan of a search space with image layers (module docstring).
IMAGE_PLAN = FidelityPlan(min_rows=2_000, factor=1, folds=1, max_epochs=0)

_INTS = {"min_rows": 0, "factor": 1, "folds": 0, "max_epochs": 0}
_FRACTIONS = ("rows", "epochs")


def _parse(text: str) -> dict[str, Any]:
    items: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise SettingsError(
                f"fidelity must be auto, off, or key=value pairs (e.g. rows=0.1,factor=2), "
                f"got {text!r}"
            )
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(f"fidelity {key.strip()}= needs a number, got {value!r}") from None
        items[key.strip()] = int(number) if number.is_integer() and key.strip() in _INTS else number
    return items


def check_fidelity(value: Any) -> str | dict[str, Any]:
    """Validate the ``fidelity`` setting: ``"auto"``, ``"off"``, or keys of the plan.

    Returns ``"auto"``, ``"off"`` or a dict of the keys given (validated).

    Raises
    ------
    SettingsError
        Naming the first bad key or value.

    Examples
    --------
    >>> check_fidelity("rows=0.5, factor=3")
    {'rows': 0.5, 'factor': 3}
    >>> check_fidelity("off")
    'off'
    """
    if isinstance(value, str) and value.strip() in ("auto", "off"):
        return value.strip()
    if isinstance(value, str):
        value = _parse(value)
    if not isinstance(value, Mapping):
        raise SettingsError(f"fidelity must be 'auto', 'off' or a mapping of keys, got {value!r}")
    checked: dict[str, Any] = {}
    for key, item in value.items():
        if key in _INTS:
            low = _INTS[key]
            if isinstance(item, bool) or not isinstance(item, (int, np.integer)) or item < low:
                raise SettingsError(f"fidelity {key} must be an integer >= {low}, got {item!r}")
            checked[key] = int(item)
        elif key in _FRACTIONS:
            number = isinstance(item, (int, float, np.integer, np.floating))
            if isinstance(item, bool) or not number or not 0 < item <= 1:
                raise SettingsError(f"fidelity {key} must be a fraction in (0, 1], got {item!r}")
            checked[key] = float(item)
        else:
            known = ", ".join((*_INTS, *_FRACTIONS))
            raise SettingsError(f"unknown fidelity key {key!r} (known: {known})")
    return checked


def resolve_plan(
    setting: str | dict[str, Any], n_rows: int, images: bool = False
) -> FidelityPlan | None:
    """The plan of a checked ``fidelity`` setting on a table of ``n_rows`` rows (None: off).

    ``images``: the search space has image layers; its keys default to :data:`IMAGE_PLAN`'s.

    Examples
    --------
    >>> resolve_plan("auto", 5_000) is None, resolve_plan("auto", 5_000, images=True).folds
    (True, 1)
    """
    if setting == "off":
        return None
    keys = setting if isinstance(setting, dict) else {}
    base = IMAGE_PLAN if images else DEFAULT_PLAN
    plan = FidelityPlan(**{**asdict(base), **keys})
    return plan if n_rows >= plan.min_rows else None


def plan_from_dict(data: Mapping[str, Any] | None) -> FidelityPlan | None:
    """The plan ``run.json`` recorded (None: the run had none)."""
    if data is None:
        return None
    return FidelityPlan(**{k: data[k] for k in asdict(DEFAULT_PLAN) if k in data})


#: ``evaluate_low(genomes, lineage)``: the members at screening fidelity.
EvaluateLow = Callable[[list[Genome], list[list[str]]], list[Member]]


def screened(
    make: MakeChildren, evaluate_low: EvaluateLow, factor: int, weights: Sequence[float]
) -> MakeChildren:
    """``make`` behind a screening rung: ``make(n)`` of the result makes ``factor * n``
    children, trains them at low fidelity and hands on the ``n`` most promising.

    Promising is NSGA-II's survivor choice on their low-fidelity objective vectors
    (non-dominated rank, then crowding), like successive halving's; children that failed at
    low fidelity go on only when too few worked. The order of the children is kept.
    """

    def make_promising(n: int) -> tuple[list[Genome], list[list[str]]]:
        children, lineage = make(factor * n)
        members = evaluate_low(children, lineage)
        working = [i for i, m in enumerate(members) if m.result.ok]
        keep = select_survivors(
            [members[i].objectives for i in working], min(n, len(working)), weights
        )
        chosen = sorted(working[k] for k in keep)
        chosen += [i for i in range(len(children)) if i not in working][: n - len(chosen)]
        chosen.sort()
        return [children[i] for i in chosen], [lineage[i] for i in chosen]

    return make_promising
