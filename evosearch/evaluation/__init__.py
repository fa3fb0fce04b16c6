"""Cross-validated evaluation of genomes on worker processes or a Dask cluster."""

from evosearch.evaluation.backends.dask import BACKENDS, SCHEDULER_ENV, check_backend
from evosearch.evaluation.evaluator import (
    DEFAULT_EVAL_TIMEOUT,
    FAILURE_SCORE,
    DeadlineReached,
    EvaluationResult,
    Evaluator,
    FitHook,
    build_estimator,
    check_limits,
    shutdown_workers,
    task_seed,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_EVAL_TIMEOUT",
    "FAILURE_SCORE",
    "SCHEDULER_ENV",
    "DeadlineReached",
    "EvaluationResult",
    "Evaluator",
    "FitHook",
    "build_estimator",
    "check_backend",
    "check_limits",
    "shutdown_workers",
    "task_seed",
]
