"""Objectives of the search, one module each, in a registry by name.

The built-in objectives are ``score`` (mean CV score, maximised: accuracy or R² by default, or
any scikit-learn scorer, see :mod:`evosearch.objectives.score`) and ``params`` (parameter
count, minimised, known before training), ``bytes`` (weight payload size) and ``flops`` (FLOPs
of one prediction) and ``latency`` (one row's prediction time from the run's calibrated cost
model), minimised and known before training. A new objective subclasses
:class:`Objective` and calls :func:`register_objective`; the search, the archive, the tables and
the contract suite (:mod:`evosearch.testing.objectives`) then take it by name.
"""

from evosearch.objectives.base import (
    DEFAULT_OBJECTIVES,
    OBJECTIVES,
    Objective,
    TrainedResult,
    canonical_name,
    find_objective,
    get_objective,
    objective_names,
    objective_vector,
    register_objective,
    resolve_objectives,
)

# Registration order is the order of objective_names() (and of error messages): score first.
# isort: off
from evosearch.objectives.score import (
    Score,
    Scoring,
    check_scoring,
    get_scorer,
    scoring_label,
    scoring_name,
    with_scoring,
)
from evosearch.objectives.params import DEFAULT_PARAM_REFERENCE, Params
from evosearch.objectives.bytes import BYTES_PER_PARAMETER, Bytes, model_bytes
from evosearch.objectives.flops import Flops
from evosearch.objectives.latency import Latency

# isort: on

__all__ = [
    "BYTES_PER_PARAMETER",
    "DEFAULT_OBJECTIVES",
    "DEFAULT_PARAM_REFERENCE",
    "OBJECTIVES",
    "Bytes",
    "Flops",
    "Latency",
    "Objective",
    "Params",
    "Score",
    "Scoring",
    "TrainedResult",
    "canonical_name",
    "check_scoring",
    "find_objective",
    "get_objective",
    "get_scorer",
    "model_bytes",
    "objective_names",
    "objective_vector",
    "register_objective",
    "resolve_objectives",
    "scoring_label",
    "scoring_name",
    "with_scoring",
]
