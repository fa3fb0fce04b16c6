"""Why evaluations failed: :func:`failure_causes` sorts failures by cause, with a remedy each.

A failed :class:`~evosearch.evaluation.EvaluationResult` records its first failing fold's
error as one line ``"ExceptionType: message"``; the exception type tells the cause:

* ``timeout``: ``TimeoutError`` (the fold ran past ``eval_timeout``);
* ``memory``: ``MemoryError`` (past ``max_memory``, or the allocation failed);
* ``divergence``: ``DivergenceError`` (the training loss became NaN or infinite),
  ``FloatingPointError`` (a non-finite score) or ``OverflowError``;
* ``crash``: ``WorkerDied`` (the process training the fold died, often for lack of memory);
* ``other``: anything else (a bug in a plug-in, an exception of a ``fit_hook``, ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from evosearch.evaluation.result import EvaluationResult

__all__ = ["CAUSES", "FailureCauses", "all_failed_message", "failure_cause", "failure_causes"]

#: The causes, in the order that breaks a tie between equally frequent ones.
CAUSES = ("timeout", "memory", "divergence", "crash", "other")

_TYPES = {
    "TimeoutError": "timeout",
    "MemoryError": "memory",
    "DivergenceError": "divergence",
    "FloatingPointError": "divergence",
    "OverflowError": "divergence",
    "WorkerDied": "crash",
}

# What each cause is called in a count ("3 timeouts"): singular, plural.
_NAMES = {
    "timeout": ("timeout", "timeouts"),
    "memory": ("memory error", "memory errors"),
    "divergence": ("divergence (non-finite loss)", "divergences (non-finite loss)"),
    "crash": ("worker crash", "worker crashes"),
    "other": ("other error", "other errors"),
}

_REMEDIES = {
    "timeout": "raise --eval-timeout (Evolver: eval_timeout)",
    "memory": (
        "raise --max-memory (Evolver: max_memory) or allow smaller layers (fewer units) in the "
        "search space"
    ),
    "divergence": "use a smaller learning_rate in the search space",
    "crash": (
        "a worker process that dies is often out of memory: allow smaller layers (fewer units) "
        "in the search space, use fewer --n-jobs, or set --max-memory (Evolver: max_memory) so "
        "that oversized genomes fail cleanly"
    ),
    "other": "check the search space (e.g. a smaller learning_rate)",
}


def failure_cause(error: str) -> str:
    """The cause (one of :data:`CAUSES`) of one recorded error, ``"ExceptionType: message"``."""
    kind = error.split(":", 1)[0].strip()
    return _TYPES.get(kind, "other")


@dataclass(frozen=True)
class FailureCauses:
    """Failures counted by cause.

    Attributes
    ----------
    counts : dict of str to int
        Failures of each cause that occurred, the most frequent first (ties in the order of
        :data:`CAUSES`).
    examples : dict of str to str
        The first error of each cause, in the order the failures were given.
    """

    counts: dict[str, int]
    examples: dict[str, str]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def dominant(self) -> str | None:
        """The most frequent cause (ties: the first in :data:`CAUSES`); None without failures."""
        return next(iter(self.counts), None)

    @property
    def remedy(self) -> str:
        """What to change against the dominant cause."""
        return _REMEDIES[self.dominant or "other"]

    def describe(self) -> str:
        """The counts in words, e.g. ``"5 timeouts, 1 memory error"``."""
        return ", ".join(
            f"{count} {_NAMES[cause][count != 1]}" for cause, count in self.counts.items()
        )


def failure_causes(failures: Iterable[EvaluationResult | str | None]) -> FailureCauses:
    """Count failed evaluations by cause.

    Parameters
    ----------
    failures : iterable of EvaluationResult, str or None
        Results (those that succeeded are ignored) or their recorded errors (None and ``""``,
        a success, are ignored).
    """
    counts = dict.fromkeys(CAUSES, 0)
    examples: dict[str, str] = {}
    for failure in failures:
        error = failure.error if isinstance(failure, EvaluationResult) else failure
        if not error:
            continue
        cause = failure_cause(error)
        counts[cause] += 1
        examples.setdefault(cause, error)
    ranked = sorted((c for c in CAUSES if counts[c]), key=lambda c: -counts[c])  # stable: ties
    return FailureCauses({c: counts[c] for c in ranked}, {c: examples[c] for c in ranked})


def all_failed_message(evaluated: int, failures: Iterable[EvaluationResult | str | None]) -> str:
    """The one-line message of a run whose ``evaluated`` genomes all failed: how many failed of
    each cause, an example of the dominant cause, and the remedy for it."""
    causes = failure_causes(failures)
    if causes.dominant is None:  # nothing recorded why: say so rather than invent a cause
        detail = "no error recorded"
    else:
        example = " ".join(causes.examples[causes.dominant].split())  # one line, whatever it was
        detail = f"{causes.describe()}; e.g. {example}"
    return (
        f"all {evaluated} evaluated genomes failed ({detail}): no model to refit; {causes.remedy}"
    )
