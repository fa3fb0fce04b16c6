"""The checks, command-line parsers and run.json forms of single settings: the cells of the
settings table (:data:`evosearch.search.settings.SETTINGS`).

Each check takes a value as a user gives it and returns it normalised, or raises
:class:`~evosearch.errors.SettingsError` with one line naming the setting. Imports of the
layers they check against happen inside them: the command line's parser imports the table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evosearch.errors import SettingsError

if TYPE_CHECKING:
    from evosearch.evaluation import FitHook
    from evosearch.space import SearchSpace


def identity(value: Any) -> Any:
    """A value recorded as it is."""
    return value


def _is_int(value: Any) -> bool:
    import numpy as np

    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def _is_number(value: Any) -> bool:
    import numpy as np

    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))


def check_integer(name: str, low: int, optional: bool = False) -> Callable[[Any], int | None]:
    def check(value: Any) -> int | None:
        if value is None and optional:
            return None
        if not _is_int(value) or value < low:
            raise SettingsError(f"{name} must be an integer >= {low}, got {value!r}")
        return int(value)

    return check


def check_flag(name: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        import numpy as np

        if not isinstance(value, (bool, np.bool_)):
            raise SettingsError(f"{name} must be True or False, got {value!r}")
        return bool(value)

    return check


def check_verbose(value: Any) -> int:
    import numpy as np

    # bool is an int: verbose=True reads as 1, as scikit-learn's estimators take it.
    if not isinstance(value, (int, np.integer)) or not 0 <= int(value) <= 2:
        raise SettingsError(f"verbose must be 0, 1 or 2, got {value!r}")
    return int(value)


def check_genome(value: Any) -> SearchSpace:
    from evosearch.space import SearchSpace

    if isinstance(value, SearchSpace):
        return value
    if not isinstance(value, (str, Path)):
        raise SettingsError(
            f"genome must be a preset name, a genome TOML path or a SearchSpace, got {value!r}"
        )
    return SearchSpace.load(value)


def check_n_jobs(value: Any) -> int:
    if not _is_int(value) or value == 0 or value < -1:
        raise SettingsError(f"n_jobs must be a positive integer or -1, got {value!r}")
    return int(value)


def check_crossover_rate(value: Any) -> float:
    if not _is_number(value) or not 0.0 <= value <= 1.0:
        raise SettingsError(f"crossover_rate must be in [0, 1], got {value!r}")
    return float(value)


def check_task(value: Any) -> str:
    if value not in ("auto", "classification", "regression"):
        raise SettingsError(f"task must be auto, classification or regression, got {value!r}")
    return str(value)


def check_callbacks(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise SettingsError(f"callbacks must be a sequence of callbacks, got {value!r}")
    for callback in value:
        if not callable(callback) and not hasattr(callback, "on_generation_end"):
            raise SettingsError(f"callback {callback!r} is neither callable nor a Callback")
    return tuple(value)


def check_out(value: Any) -> Path | None:
    if value is not None and not isinstance(value, (str, Path)):
        raise SettingsError(f"out must be a folder path or None, got {value!r}")
    return None if value is None else Path(value)


def check_warm_start(value: Any) -> tuple[Path, ...]:
    """Run folders to start from: one path, a sequence of paths, or None / () / False for none
    (False: what scikit-learn's conventions and estimator checks set ``warm_start`` to)."""
    if value is None or value is False:
        return ()
    items = [value] if isinstance(value, (str, Path)) else value
    if not isinstance(items, (list, tuple)) or not all(
        isinstance(item, (str, Path)) for item in items
    ):
        raise SettingsError(
            f"warm_start must be a run folder's path or a sequence of them, got {value!r}"
        )
    return tuple(Path(item) for item in items)


def check_eval_timeout(value: Any) -> float | None:
    from evosearch.evaluation import check_limits

    return check_limits(value, None, None)[0]


def check_max_memory(value: Any) -> float | None:
    from evosearch.evaluation import check_limits

    return check_limits(None, value, None)[1]


def check_fit_hook(value: Any) -> FitHook | None:
    from evosearch.evaluation import check_limits

    return check_limits(None, None, value)[2]


def check_max_time(value: Any) -> float | None:
    if value is not None and (not _is_number(value) or not 0 < value < float("inf")):
        raise SettingsError(f"max_time must be a positive number of seconds, got {value!r}")
    return None if value is None else float(value)


def check_holdout(value: Any) -> float | None:
    if value is not None and (not _is_number(value) or not 0.0 < value <= 0.5):
        raise SettingsError(f"holdout must be a fraction in (0, 0.5], got {value!r}")
    return None if value is None else float(value)


def check_backend(value: Any) -> str:
    from evosearch.evaluation import get_backend

    # Only the name here: whether its dependencies are installed is checked with the
    # scheduler (check_settings), as the run's own error rather than an option's.
    if not isinstance(value, str):
        raise SettingsError(f"backend must be a registered name, got {value!r}")
    get_backend(value)
    return value


def check_scheduler(value: Any) -> str | None:
    if value is not None and (
        not isinstance(value, str) or not value.strip() or len(value.split()) > 1
    ):
        raise SettingsError(f"scheduler must be an address like tcp://HOST:PORT, got {value!r}")
    return value


def check_strategy(value: Any) -> str:
    from evosearch.search.strategies import get_strategy

    get_strategy(value)  # refuses an unknown name, listing the known ones
    return str(value)


def check_focus(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise SettingsError(f"focus must be a name such as 'front' or 'accuracy', got {value!r}")
    return value


def check_objectives(value: Any) -> tuple[str, ...]:
    from evosearch.objectives import resolve_objectives

    return tuple(o.name for o in resolve_objectives(value))


def check_scoring(value: Any) -> Any:
    if value is not None and not isinstance(value, str) and not callable(value):
        raise SettingsError(f"scoring must be a scorer name or a callable, got {value!r}")
    return value


def check_input_shape(value: Any) -> Any:
    # Checked against the data by fit (its width); here only its form.
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(value)
    raise SettingsError(f"input_shape must be like '28x28' or (28, 28, 1), got {value!r}")


def check_fidelity(value: Any) -> str | dict[str, Any]:
    from evosearch.search.fidelity_plan import check_fidelity as check_plan_keys

    return check_plan_keys(value)


# ---------------------------------------------------------------- command-line parsing
def parse_none_or_positive(text: str) -> float | None:
    if text.strip().lower() in ("none", "off"):
        return None
    return parse_positive(text)


def parse_positive(text: str) -> float:
    # On the command line a limit is a positive number ('none' for no limit), never 0.
    value = parse_number(text)
    if not 0 < value < float("inf"):
        raise SettingsError(f"must be a positive number, got {text}")
    return value


def parse_number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise SettingsError(f"expected a number, got {text!r}") from None


def parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SettingsError(f"expected an integer, got {text!r}") from None


def parse_names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(","))


def check_latency_model(value: Any) -> Any:
    """The latency objective's cost model: None (this machine's cache), ``"calibrate"`` (one
    measured for the run alone), a model file's path (read now, so a bad file is refused
    before the run starts; kept as its absolute path) or a LatencyModel."""
    from evosearch.nn.cost_model import LatencyModel
    from evosearch.nn.latency_files import CALIBRATE, load_latency_model

    if value is None or isinstance(value, LatencyModel) or value == CALIBRATE:
        return value
    if not isinstance(value, (str, Path)):
        raise SettingsError(
            f"latency_model must be a model file's path, 'calibrate', a LatencyModel or None, "
            f"got {value!r}"
        )
    load_latency_model(value)  # a one-line SettingsError naming the file
    return Path(value).expanduser().resolve()


# ---------------------------------------------------------------- how run.json records them
def genome_json(space: SearchSpace) -> str:
    # The space itself is run.json's "search_space"; here the name it was asked by.
    return space.name


def shape_json(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else list(value)


def scoring_json(value: Any) -> str | None:
    from evosearch.objectives import scoring_name

    return None if value is None else scoring_name(value)


def objectives_json(value: tuple[str, ...]) -> list[str]:
    return list(value)


def check_bag_folds(values: Mapping[str, Any]) -> None:
    """Refuse ``bag_folds`` with ``ensemble`` in one line (an ensemble's member would be a bag
    inside the ensemble, which no export format writes)."""
    if values["bag_folds"] and values["ensemble"]:
        raise SettingsError("bag_folds and ensemble cannot be combined: an ensemble averages "
                            "refits of several models already; pick one")  # fmt: skip


def check_steady_state(values: Mapping[str, Any]) -> None:
    """Refuse what the steady-state search cannot do (yet), in one line."""
    from evosearch.search.strategies import get_strategy

    if not values["steady_state"]:
        if values["in_flight"] is not None:
            raise SettingsError("in_flight is a setting of the steady-state search: add "
                                "steady_state=True (--steady-state)")  # fmt: skip
        return
    if not get_strategy(values["strategy"]).supports_steady_state():
        raise SettingsError(f"strategy {values['strategy']!r} cannot run steady-state: it "
                            "replaces whole generations (it has no admit())")  # fmt: skip
