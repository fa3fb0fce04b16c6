"""Cross-validated evaluation of genomes on worker processes or a Dask cluster.

:class:`Evaluator` (``evaluator.py``) scores genomes; one fold's fit is in ``tasks.py``; where the
folds run is a backend (``backends/``: the :class:`~evosearch.evaluation.backends.Backend`
contract and a registry by name).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evosearch._lazy import lazy_exports

if TYPE_CHECKING:
    from evosearch.evaluation._arguments import DEFAULT_EVAL_TIMEOUT, check_limits
    from evosearch.evaluation._fidelity import Fidelity
    from evosearch.evaluation._stream import EvaluationStream
    from evosearch.evaluation.backends import (
        SCHEDULER_ENV,
        Backend,
        Deadline,
        DeadlineReached,
        backend_names,
        check_backend,
        deadline_at,
        get_backend,
        register_backend,
        shutdown_workers,
    )
    from evosearch.evaluation.evaluator import Evaluator, make_folds
    from evosearch.evaluation.failures import FailureCauses, all_failed_message, failure_causes
    from evosearch.evaluation.result import FAILURE_SCORE, EvaluationResult
    from evosearch.evaluation.tasks import FitHook, build_estimator, fold_score, task_seed

__all__ = [
    "DEFAULT_EVAL_TIMEOUT",
    "FAILURE_SCORE",
    "SCHEDULER_ENV",
    "Backend",
    "Deadline",
    "DeadlineReached",
    "EvaluationResult",
    "EvaluationStream",
    "Evaluator",
    "FailureCauses",
    "Fidelity",
    "FitHook",
    "all_failed_message",
    "backend_names",
    "build_estimator",
    "check_backend",
    "check_limits",
    "deadline_at",
    "failure_causes",
    "fold_score",
    "get_backend",
    "make_folds",
    "register_backend",
    "shutdown_workers",
    "task_seed",
]

# Imported on first use (see evosearch._lazy): light commands stay light.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DEFAULT_EVAL_TIMEOUT": "_arguments",
        "FAILURE_SCORE": "result",
        "SCHEDULER_ENV": "backends",
        "Backend": "backends",
        "Deadline": "backends",
        "DeadlineReached": "backends",
        "EvaluationResult": "result",
        "EvaluationStream": "_stream",
        "Fidelity": "_fidelity",
        "Evaluator": "evaluator",
        "FailureCauses": "failures",
        "FitHook": "tasks",
        "all_failed_message": "failures",
        "backend_names": "backends",
        "build_estimator": "tasks",
        "check_backend": "backends",
        "check_limits": "_arguments",
        "deadline_at": "backends",
        "failure_causes": "failures",
        "fold_score": "tasks",
        "get_backend": "backends",
        "make_folds": "evaluator",
        "register_backend": "backends",
        "shutdown_workers": "backends",
        "task_seed": "tasks",
    },
)
