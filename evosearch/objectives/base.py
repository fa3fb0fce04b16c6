"""The objective contract and the registry of objectives by name.

An objective is one coordinate of the vector the search optimises: the Pareto archive, NSGA-II
selection and successive halving see only these vectors, in the order of the run's objective
names, and read each coordinate's direction from its :class:`Objective`. Adding an objective is
one new module that subclasses :class:`Objective` and calls :func:`register_objective`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol

import numpy as np

from evosearch.errors import SettingsError
from evosearch.registry import Registry

if TYPE_CHECKING:
    from evosearch.space import Genome

__all__ = [
    "DEFAULT_OBJECTIVES",
    "OBJECTIVES",
    "Objective",
    "TrainedResult",
    "canonical_name",
    "find_objective",
    "get_objective",
    "objective_names",
    "objective_vector",
    "register_objective",
    "resolve_objectives",
]

#: The objectives of a run unless told otherwise: CV score up, parameter count down.
DEFAULT_OBJECTIVES: tuple[str, ...] = ("score", "params")

# Names older run folders recorded, read as today's objective.
_ALIASES = {"n_params": "params"}


class TrainedResult(Protocol):
    """What an objective may read of a cross-validation result (``EvaluationResult`` has it).

    Declared here because ``objectives/`` sits below ``evaluation/`` in the layer order.
    """

    @property
    def score(self) -> float: ...

    @property
    def n_params(self) -> int: ...

    @property
    def fold_scores(self) -> list[float]: ...

    @property
    def error(self) -> str | None: ...


class Objective(ABC):
    """One objective of the search.

    Contract
    --------
    - ``name`` (class attribute): the registry key, written to ``run.json``; lower case.
    - ``direction`` (class attribute): ``+1`` to maximise, ``-1`` to minimise (the DEAP weight).
    - ``known_before_training`` (class attribute): True when :meth:`value` needs only the
      genome (``result`` may be None), as for a parameter count. Such an objective can screen
      children before they are trained; its value must be the same with and without a result.
    - :meth:`value` returns a finite float for every successfully trained genome, and a float
      (any) for a failed one; it must not draw random numbers or change its arguments: the same
      genome and result always give the same value (runs are reproduced bit for bit).
    - :meth:`normalise` maps values into ``[0, 1]``, 1 the best, for the hypervolume; it must be
      monotone in the objective's direction and fixed (not depend on the other values), so that
      hypervolumes compare across generations and runs.
    - ``label`` (class attribute) names its column in tables and plots; :meth:`format` writes
      one value for them.

    Examples
    --------
    >>> class Depth(Objective):
    ...     name, direction, known_before_training, label = "depth", -1, True, "depth"
    ...     def value(self, genome, result=None):
    ...         return float(genome.depth)
    ...     def normalise(self, values):
    ...         return np.clip(1.0 - np.asarray(values, dtype=float) / 10.0, 0.0, 1.0)
    >>> Depth().weight
    -1.0
    """

    name: ClassVar[str]
    direction: ClassVar[int]
    known_before_training: ClassVar[bool] = False
    label: ClassVar[str]

    @property
    def weight(self) -> float:
        """``direction`` as the float weight of DEAP and the archive (``1.0`` or ``-1.0``)."""
        return float(self.direction)

    @abstractmethod
    def value(self, genome: Genome, result: TrainedResult | None = None) -> float:
        """The objective's value for ``genome`` (trained with outcome ``result``).

        Parameters
        ----------
        genome : Genome
            The candidate.
        result : TrainedResult or None
            Its cross-validation result; None only asks a ``known_before_training`` objective.

        Returns
        -------
        float
        """

    @abstractmethod
    def normalise(self, values: np.ndarray) -> np.ndarray:
        """Map values of this objective into ``[0, 1]`` (1 the best) for the hypervolume.

        Parameters
        ----------
        values : numpy.ndarray of float
            Values as :meth:`value` returns them (no NaN).

        Returns
        -------
        numpy.ndarray of float64, same shape
        """

    def column_label(self, task: str) -> str:
        """Column header in tables and plots for a run of ``task`` (default: ``label``)."""
        return self.label

    def format(self, value: float) -> str:
        """One value as tables show it (default: 4 significant digits)."""
        return f"{value:.4g}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _check_objective(name: str, objective: Objective) -> None:
    if objective.direction not in (1, -1):
        raise TypeError(f"objective {name!r}: direction must be +1 or -1")


#: The objectives by name (old names of run folders are aliases); a miss is a SettingsError.
OBJECTIVES: Registry[Objective] = Registry(
    "objective",
    error=SettingsError,
    base=Objective,
    instances=True,
    validate=_check_objective,
    aliases=_ALIASES,
)


def register_objective(objective: type[Objective] | Objective) -> type[Objective] | Objective:
    """Register an objective (class or instance) under its ``name``; usable as a decorator.

    Registering a name again replaces the earlier objective (a reloaded plug-in module).

    Raises
    ------
    TypeError
        If ``objective`` is not an :class:`Objective`, its name is empty or an old alias, or
        its direction is not +1 or -1.
    """
    return OBJECTIVES.register(objective)


def objective_names() -> list[str]:
    """The names of the registered objectives, in registration order (the built-ins first)."""
    return OBJECTIVES.names()


def canonical_name(name: str) -> str:
    """Today's name of objective ``name`` (``n_params`` of older run folders is ``params``)."""
    return OBJECTIVES.canonical(name)


def find_objective(name: str) -> Objective | None:
    """The registered objective called ``name`` (or an old alias), None if there is none.

    For readers of run folders, which show an objective whose plug-in is not imported by name.
    """
    return OBJECTIVES.find(name)


def get_objective(name: str) -> Objective:
    """The registered objective called ``name`` (old names such as ``n_params`` accepted).

    Raises
    ------
    SettingsError
        If no objective has that name (one line: the choices and the closest names).
    """
    return OBJECTIVES.get(name)


def resolve_objectives(names: Sequence[str] | str) -> tuple[Objective, ...]:
    """The objectives of a run, checked: known, distinct, ``score`` first.

    Parameters
    ----------
    names : sequence of str, or one comma-separated str
        Objective names (aliases of older run folders accepted).

    Returns
    -------
    tuple of Objective

    Raises
    ------
    SettingsError
        If a name is unknown or repeated, or ``score`` is not the first (the run refits the
        member with the best score; an archive entry's first value is its score).
    """
    if isinstance(names, str):
        names = [part.strip() for part in names.split(",")]
    objectives = tuple(get_objective(name) for name in names)
    resolved = [o.name for o in objectives]
    if len(set(resolved)) != len(resolved):
        raise SettingsError(f"objectives must be distinct, got {', '.join(resolved)}")
    if resolved[:1] != ["score"]:
        raise SettingsError(
            f"the first objective must be 'score' (the run refits its best-scoring model), got "
            f"{', '.join(resolved) or 'none'}"
        )
    return objectives


def objective_vector(
    objectives: Sequence[Objective], genome: Genome, result: TrainedResult | None
) -> tuple[float, ...]:
    """The values of ``objectives`` for ``genome`` (and its ``result``), in their order.

    With ``result=None`` every objective must be ``known_before_training``.
    """
    return tuple(objective.value(genome, result) for objective in objectives)
