"""Validation of the evaluation settings (limits, ``fit_hook``) and of ``evaluate`` arguments."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from joblib.externals.loky.backend.reduction import dumps as loky_dumps

from evosearch.errors import SettingsError
from evosearch.evaluation._limits import DEFAULT_EVAL_TIMEOUT
from evosearch.evaluation._memory import memory_limit_supported
from evosearch.evaluation.tasks import FitHook, error_text

__all__ = ["DEFAULT_EVAL_TIMEOUT", "check_limits"]


def _check_limit(name: str, value: Any, unit: str, zero_is_none: bool) -> float | None:
    if value is None:
        return None
    valid = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if valid and value == 0 and zero_is_none:
        return None
    if not valid or not np.isfinite(value) or value <= 0:
        allowed = (
            "a positive number of " + unit + (" (0 or None: no limit)" if zero_is_none else "")
        )
        raise SettingsError(f"{name} must be {allowed}, got {value!r}")
    return float(value)


def check_limits(
    eval_timeout: Any, max_memory: Any, fit_hook: Any
) -> tuple[float | None, float | None, FitHook | None]:
    """Validate the settings that bound one evaluation; returns them normalised.

    Raises :class:`~evosearch.errors.SettingsError` for a negative, zero (``max_memory``) or
    non-numeric limit, ``max_memory`` off Linux, and a ``fit_hook`` that is not callable or
    does not pickle (workers receive it pickled).
    """
    timeout = _check_limit("eval_timeout", eval_timeout, "seconds", True)
    memory = _check_limit("max_memory", max_memory, "MB", False)
    if memory is not None and not memory_limit_supported():
        raise SettingsError(f"max_memory needs Linux (this is {sys.platform})")
    if fit_hook is not None:
        if not callable(fit_hook):
            raise SettingsError(f"fit_hook must be callable, got {fit_hook!r}")
        try:
            loky_dumps(fit_hook)  # what the workers' pickler will have to do
        except Exception as exc:
            raise SettingsError(
                f"fit_hook must pickle to reach the workers: {error_text(exc)}"
            ) from None
    return timeout, memory, fit_hook


def check_fold_indices(folds: Sequence[int] | None, n: int) -> list[int] | None:
    """The sorted folds asked for (of ``n``); None for all of them."""
    if folds is None:
        return None
    chosen = list(folds)
    if not chosen or any(
        isinstance(f, bool) or not isinstance(f, (int, np.integer)) or not 0 <= f < n
        for f in chosen
    ):
        raise ValueError(
            f"folds must be a non-empty list of fold indices in [0, {n}), got {folds!r}"
        )
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"folds must not repeat a fold, got {folds!r}")
    ordered = sorted(int(f) for f in chosen)
    return None if len(ordered) == n else ordered


def check_initial_weights(initial_weights: Any, n_genomes: int, n_folds: int) -> Any:
    if initial_weights is None:
        return None
    if len(initial_weights) != n_genomes:
        raise ValueError(
            f"initial_weights must have one entry per genome ({n_genomes}), "
            f"got {len(initial_weights)}"
        )
    for start in initial_weights:
        if start is not None and len(start) != n_folds:
            raise ValueError(
                "each initial_weights entry must be None or a list of one weight mapping "
                f"(or None) per fold ({n_folds}), got {len(start)}"
            )
    return initial_weights
