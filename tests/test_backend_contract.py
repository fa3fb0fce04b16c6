"""Every registered evaluation backend keeps the backend contract (see
:mod:`evosearch.testing.backends`): the same results as the local one, each result reported as
it finishes, eval_timeout and deadlines honoured."""

from __future__ import annotations

from evosearch.testing.backends import BackendContract


class TestBackendContract(BackendContract):
    pass
