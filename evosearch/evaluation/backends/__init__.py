"""Where fold tasks run: the :class:`Backend` contract, its registry, and the backends.

``local`` (this machine's killable worker processes) and ``dask`` (a ``dask.distributed``
cluster) register themselves when their modules are imported, here, in that order.
"""

from evosearch.evaluation.backends.base import (
    BACKENDS,
    Backend,
    Deadline,
    DeadlineReached,
    TaskBatch,
    backend_names,
    check_backend,
    deadline_at,
    get_backend,
    register_backend,
)

# Registration order is the order of backend_names(): local, the default, first.
# isort: off
from evosearch.evaluation.backends.local import LocalBackend, shutdown_workers
from evosearch.evaluation.backends.dask import SCHEDULER_ENV, DaskBackend

# isort: on

__all__ = [
    "BACKENDS",
    "SCHEDULER_ENV",
    "Backend",
    "DaskBackend",
    "Deadline",
    "DeadlineReached",
    "LocalBackend",
    "TaskBatch",
    "backend_names",
    "check_backend",
    "deadline_at",
    "get_backend",
    "register_backend",
    "shutdown_workers",
]
