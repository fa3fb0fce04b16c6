"""Cross-validated evaluation of genomes on worker processes or a Dask cluster.

:class:`Evaluator` (``evaluator.py``) scores genomes; one fold's fit is in ``tasks.py``; where the
folds run is a backend (``backends/``: the :class:`~evosearch.evaluation.backends.Backend`
contract and a registry by name).
"""

from evosearch.evaluation._checks import DEFAULT_EVAL_TIMEOUT, check_limits
from evosearch.evaluation.backends import (
    SCHEDULER_ENV,
    Backend,
    DeadlineReached,
    backend_names,
    check_backend,
    get_backend,
    register_backend,
    shutdown_workers,
)
from evosearch.evaluation.evaluator import Evaluator
from evosearch.evaluation.result import FAILURE_SCORE, EvaluationResult
from evosearch.evaluation.tasks import FitHook, build_estimator, task_seed

#: The names of the backends registered when this package was imported (``local``, ``dask``);
#: :func:`backend_names` also sees backends registered later.
BACKENDS = backend_names()

__all__ = [
    "BACKENDS",
    "DEFAULT_EVAL_TIMEOUT",
    "FAILURE_SCORE",
    "SCHEDULER_ENV",
    "Backend",
    "DeadlineReached",
    "EvaluationResult",
    "Evaluator",
    "FitHook",
    "backend_names",
    "build_estimator",
    "check_backend",
    "check_limits",
    "get_backend",
    "register_backend",
    "shutdown_workers",
    "task_seed",
]
