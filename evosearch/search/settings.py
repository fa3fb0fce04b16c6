"""The settings table: every setting of a run, declared once.

Each :class:`Setting` row says a setting's name, default, how it is checked, its help text,
its command-line flag, whether ``resume`` and ``replay --continue-to`` may override it, and
how ``run.json`` records it. Everything else is derived from :data:`SETTINGS` (scikit-learn's
``_parameter_constraints`` in spirit): :func:`check_settings`, the options of ``evosearch
evolve``, ``resume`` and ``replay`` (:mod:`evosearch.cli._parser`), the ``"settings"`` of
``run.json`` (:func:`record_settings`) and what a resume or a replay reads back from it
(:func:`recorded_params`). The :class:`~evosearch.Evolver` keeps an explicit signature
(scikit-learn reads it); a test checks it against this table.

Adding a setting is one row here, a field of :class:`RunSettings`, the Evolver's parameter and
the code that uses it.

This module is imported by the command line's parser: it imports nothing heavy at module level
(the checks import what they need when they run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evosearch.errors import RunFolderError
from evosearch.evaluation._limits import DEFAULT_EVAL_TIMEOUT
from evosearch.search._data_options import check_columns, recorded_data_options
from evosearch.search._setting_values import (
    check_backend,
    check_bag_folds,
    check_callbacks,
    check_crossover_rate,
    check_eval_timeout,
    check_fidelity,
    check_fit_hook,
    check_flag,
    check_focus,
    check_genome,
    check_holdout,
    check_input_shape,
    check_integer,
    check_latency_model,
    check_max_memory,
    check_max_time,
    check_n_jobs,
    check_objectives,
    check_out,
    check_scheduler,
    check_scoring,
    check_steady_state,
    check_strategy,
    check_task,
    check_verbose,
    check_warm_start,
    genome_json,
    identity,
    objectives_json,
    parse_int,
    parse_names,
    parse_none_or_positive,
    parse_number,
    parse_positive,
    scoring_json,
    shape_json,
)

if TYPE_CHECKING:
    from evosearch.evaluation import Fidelity, FitHook
    from evosearch.objectives import Objective
    from evosearch.search.fidelity_plan import FidelityPlan
    from evosearch.space import SearchSpace

__all__ = [
    "SETTINGS",
    "RunSettings",
    "Setting",
    "check_settings",
    "record_settings",
    "recorded_params",
    "setting",
]


@dataclass(frozen=True)
class Setting:
    """One row of the settings table.

    Attributes
    ----------
    name : str
        The Evolver's parameter (and ``run.json``'s key).
    default : object
        The Evolver's default.
    check : callable
        ``check(value) -> normalised value``; raises SettingsError with one line naming the
        setting.
    help : str
        One line for ``--help`` and the docs.
    flag : str or None
        The option of ``evosearch evolve`` (None: not on the command line).
    parse : callable or None
        Command-line text to a value (before ``check``); None: the text itself.
    metavar : str or None
        The option's placeholder in ``--help``.
    switch : bool
        A ``--flag / --no-flag`` pair instead of an option with a value.
    repeat : bool
        An option given once per value (``--warm-start A --warm-start B``).
    resume : bool
        ``Evolver.resume`` / ``evosearch resume`` may override it (the rest is the run's).
    replay : bool
        ``evosearch replay --continue-to`` may override it for the new run.
    recorded : bool
        Written to ``run.json`` (False: a property of one session, like ``max_time``).
    omit_default : bool
        Recorded only when not the default; a ``run.json`` without it had the default, so a
        setting added this way needs no new run-folder format (runs that leave it at its
        default write the files they wrote before it existed).
    to_json : callable
        The checked value as ``run.json`` records it.
    """

    name: str
    default: Any
    check: Callable[[Any], Any]
    help: str
    flag: str | None = None
    parse: Callable[[str], Any] | None = None
    metavar: str | None = None
    switch: bool = False
    repeat: bool = False
    resume: bool = False
    replay: bool = False
    recorded: bool = True
    omit_default: bool = False
    to_json: Callable[[Any], Any] = field(default=identity)

    @property
    def dest(self) -> str:
        """The attribute of the parsed command-line arguments."""
        assert self.flag is not None
        return self.flag.removeprefix("--").replace("-", "_")

    def from_text(self, text: str) -> Any:
        """A command-line value, parsed and checked (SettingsError names the setting)."""
        return self.check(self.parse(text) if self.parse is not None else text)


#: Every setting of a run, in the Evolver's parameter order.
SETTINGS: tuple[Setting, ...] = (
    Setting("genome", "mlp", check_genome, "preset name or path to a search-space .toml file",
            flag="--genome", metavar="NAME|PATH", to_json=genome_json),
    Setting("population_size", 16, check_integer("population_size", 2),
            "genomes kept per generation (and children made per generation)",
            flag="--population", parse=parse_int, metavar="N", replay=True),
    Setting("generations", 20, check_integer("generations", 1),
            "generations of children after the random initial population (resume, replay: "
            "the new total)", flag="--generations", parse=parse_int, metavar="N", resume=True,
            replay=True),
    Setting("cv", 3, check_integer("cv", 2), "cross-validation folds", flag="--cv", parse=parse_int,
            metavar="K", replay=True),
    Setting("n_jobs", -1, check_n_jobs, "worker processes; -1: every core (results do not "
            "depend on it)", flag="--n-jobs", parse=parse_int, metavar="N", resume=True,
            replay=True),
    Setting("random_state", 0, check_integer("random_state", 0), "seed of the run",
            flag="--seed", parse=parse_int, metavar="SEED", replay=True),
    Setting("crossover_rate", 0.5, check_crossover_rate,
            "probability that a child comes from crossover", flag="--crossover-rate",
            parse=parse_number, metavar="P", replay=True),
    Setting("task", "auto", check_task, "auto, classification or regression (auto: from the "
            "target)", flag="--task", metavar="TASK"),
    Setting("callbacks", (), check_callbacks, "objects told of the run's progress",
            resume=True, recorded=False),
    Setting("out", None, check_out, "run folder (default: runs/<time>-<genome>-s<seed>)",
            flag="--out", parse=Path, metavar="FOLDER", recorded=False),
    Setting("eval_timeout", DEFAULT_EVAL_TIMEOUT, check_eval_timeout,
            "kill an evaluation (one genome x fold) running longer; 'none': no limit",
            flag="--eval-timeout", parse=parse_none_or_positive, metavar="SECONDS", replay=True),
    Setting("max_time", None, check_max_time,
            "stop the run cleanly at this deadline, refit included (resume continues it)",
            flag="--max-time", parse=parse_positive, metavar="SECONDS", resume=True, replay=True,
            recorded=False),
    Setting("max_memory", None, check_max_memory,
            "memory one evaluation may allocate in its worker (Linux); more fails the genome",
            flag="--max-memory", parse=parse_positive, metavar="MB", replay=True),
    Setting("fit_hook", None, check_fit_hook, "called in the worker before each fold trains",
            resume=True, recorded=False),
    Setting("max_params", None, check_integer("max_params", 1, optional=True),
            "size budget: genomes with more parameters are never trained",
            flag="--max-params", parse=parse_int, metavar="N", replay=True),
    Setting("max_bytes", None, check_integer("max_bytes", 1, optional=True),
            "size budget on the weight payload (objective bytes): larger genomes never train",
            flag="--max-bytes", parse=parse_int, metavar="N", replay=True),
    Setting("holdout", None, check_holdout,
            "keep this share of rows out of the search; report each archive member's score on it",
            flag="--holdout", parse=parse_number, metavar="FRACTION", replay=True),
    Setting("backend", "local", check_backend,
            "where evaluations run: this machine's worker processes or a cluster",
            flag="--backend", metavar="NAME", resume=True, replay=True),
    Setting("scheduler", None, check_scheduler,
            "Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: $EVOSEARCH_DASK_SCHEDULER, "
            "else a local Dask cluster)", flag="--scheduler", metavar="ADDRESS", resume=True,
            replay=True),
    Setting("strategy", "nsga2", check_strategy,
            "how each generation's parents, children and survivors are chosen ('evosearch "
            "plugins' describes each)",
            flag="--strategy", metavar="NAME", replay=True),
    Setting("halving", False, check_flag("halving"),
            "successive halving over folds: train 2x children on one fold, finish the best half",
            flag="--halving", switch=True, replay=True),
    Setting("steady_state", False, check_flag("steady_state"),
            "asynchronous steady-state search: a fixed number of evaluations in flight; as each "
            "lands it joins the population and one child is bred, with no generation barrier "
            "(for clusters; 'generations' counts blocks of a population's evaluations)",
            flag="--steady-state", switch=True, replay=True, omit_default=True),
    Setting("in_flight", None, check_integer("in_flight", 1, optional=True),
            "steady-state: evaluations in flight (default: the backend's worker slots, "
            "fixed when the run starts)", flag="--in-flight", parse=parse_int, metavar="N",
            replay=True, omit_default=True),
    Setting("inherit_weights", True, check_flag("inherit_weights"),
            "children start from their parent's trained weights where layers match",
            flag="--inherit-weights", switch=True, replay=True),
    Setting("objectives", ("score", "params"), check_objectives,
            "comma-separated objectives, 'score' first ('evosearch plugins' describes each)",
            flag="--objectives", parse=parse_names, metavar="NAMES", to_json=objectives_json),
    Setting("scoring", None, check_scoring,
            "what 'score' is: a scikit-learn scorer name (balanced_accuracy, f1_macro, "
            "roc_auc_ovr, neg_log_loss, r2, neg_root_mean_squared_error, ...; default: "
            "accuracy / R²)", flag="--scoring", metavar="NAME", to_json=scoring_json),
    Setting("input_shape", None, check_input_shape,
            "read each row of flat features as an image (e.g. 28x28, 28x28x3; channels last) "
            "for --genome cnn; digits and NPZ image sets bring their own",
            flag="--input-shape", metavar="HxW[xC]", to_json=shape_json),
    Setting("fidelity", "auto", check_fidelity,
            "multi-fidelity search on large data: auto (on from 10,000 rows; image layers: one "
            "fold from 2,000 rows), off, or plan keys, e.g. "
            "'rows=0.1,factor=2,folds=1,max_epochs=20,min_rows=10000'",
            flag="--fidelity", metavar="SPEC", replay=True),
    Setting("focus", "auto", check_focus,
            "where on the front the budget goes: accuracy (half of every population the most "
            "accurate models, the rest spread over the front), front (spread evenly, plain "
            "NSGA-II); auto: the strategy's own (nsga2: accuracy; aging, random: front)",
            flag="--focus", metavar="WHERE", replay=True),
    # The data options: recorded with the data (run.json's dataset "options"), as the command
    # line's --categorical, --numeric, --drop and --na-values are (search/_data_options.py).
    Setting("categorical", (), check_columns("categorical"),
            "columns of a DataFrame read as categorical", recorded=False),
    Setting("numeric", (), check_columns("numeric"), "columns of a DataFrame read as numeric",
            recorded=False),
    Setting("drop", (), check_columns("drop"), "columns of a DataFrame left out",
            recorded=False),
    Setting("na_values", (), check_columns("na_values"),
            "cell texts of a DataFrame meaning 'missing'", recorded=False),
    Setting("verbose", 0, check_verbose, "progress fit prints on standard output: 0 none, 1 a "
            "row per generation, 2 also a live bar of its models (on a terminal)", resume=True,
            recorded=False),
    Setting("scale_target", True, check_flag("scale_target"),
            "regression: each model standardises the target on its training rows (predictions, "
            "exports and scores in the target's units); off: the raw target and R² clipped at "
            "-1, as runs before it", flag="--scale-target", switch=True),
    Setting("ensemble", False, check_flag("ensemble"),
            "keep out-of-fold predictions of the archive and each generation's best, and build "
            "a weighted ensemble front of them when the run ends (RUN/ensemble.json)",
            flag="--ensemble", switch=True, omit_default=True),
    Setting("bag_folds", False, check_flag("bag_folds"),
            "the best model averages k refits, each continuing one of its CV fold networks on "
            "all rows (k times the refit's time and bytes; not with ensemble)",
            flag="--bag-folds", switch=True, omit_default=True),
    Setting("warm_start", (), check_warm_start,
            "start generation 0 from this earlier run's archive and last population (same "
            "search space, objectives and task; repeat for several runs)", flag="--warm-start",
            metavar="RUN", repeat=True, recorded=False),
    # The model itself, and where it came from, are run.json's "latency_model" and
    # "latency_source": a resume uses them, never this setting.
    Setting("latency_model", None, check_latency_model,
            "the latency objective's cost model: a file of 'evosearch calibrate --out FILE', or "
            "'calibrate' (measured for this run alone); default: this machine's cached one",
            flag="--latency-model", metavar="FILE", recorded=False),
)  # fmt: skip

_BY_NAME = {row.name: row for row in SETTINGS}


def setting(name: str) -> Setting:
    """The table's row of setting ``name``."""
    return _BY_NAME[name]


@dataclass(frozen=True)
class RunSettings:
    """A run's settings, checked and normalised (see :data:`SETTINGS` for their meaning).

    The settings with defaults here (``warm_start``, ``latency_model``) come last only because
    dataclass fields with defaults must; ``latency_model`` is made concrete by ``fit``. The
    fields after them are not settings but what ``fit`` derives from them on the data (the
    latency model's source, the fidelity plan).
    """

    space: SearchSpace
    population_size: int
    generations: int
    cv: int
    n_jobs: int
    random_state: int
    crossover_rate: float
    task: str
    callbacks: tuple[Any, ...]
    out: Path | None
    eval_timeout: float | None
    max_time: float | None
    max_memory: float | None
    fit_hook: FitHook | None
    max_params: int | None
    max_bytes: int | None
    holdout: float | None
    backend: str
    scheduler: str | None
    strategy: str
    halving: bool
    #: Asynchronous steady-state search (search/steady_state.py).
    steady_state: bool
    #: Steady-state: evaluations in flight; None: the backend's slots when the run starts.
    in_flight: int | None
    inherit_weights: bool
    #: The objectives, resolved from their names; fit sets the score's scorer and the
    #: latency's cost model (search/_objectives.py).
    objective_set: tuple[Objective, ...]
    #: None, a scorer's name or a scorer callable (checked against the data by fit).
    scoring: Any
    #: As given: ``"28x28"``, a tuple of ints, or None.
    input_shape: Any
    #: ``"auto"``, ``"off"`` or a dict of plan keys (see search/fidelity_plan.py).
    fidelity: Any
    #: A focus the strategy knows (``Strategy.focuses``), ``auto`` resolved to its first.
    focus: str
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    drop: tuple[str, ...]
    na_values: tuple[str, ...]
    verbose: int
    #: Regression: the target standardised in each model, R² recorded unclipped (False: the
    #: raw target and R² clipped at -1, as runs before the setting).
    scale_target: bool
    #: Out-of-fold predictions kept, an ensemble built at the end (search/ensemble.py).
    ensemble: bool
    #: ``best_estimator_`` averages a refit from each CV fold network (search/refit.py).
    bag_folds: bool
    #: Run folders generation 0 starts from (search/warm_start.py); run.json's ``warm_start``.
    warm_start: tuple[Path, ...] = ()
    #: The ``latency_model`` setting as checked (None, ``"calibrate"``, a model file's path or a
    #: LatencyModel); with a ``latency`` objective, fit makes it the LatencyModel the run uses
    #: (None without one).
    latency_model: Any = None
    #: Where fit's latency model came from (nn/latency_files.py), run.json's
    #: ``latency_source``; None where no latency objective.
    latency_source: dict[str, Any] | None = None
    #: The multi-fidelity plan on this data (None: off), set by fit from ``fidelity``.
    plan: FidelityPlan | None = None

    @property
    def n_folds(self) -> int:
        """Folds a (full-fidelity) result scores: ``cv``, or fewer with a fidelity plan."""
        return self.cv if self.plan is None else self.plan.n_folds(self.cv)

    @property
    def screen(self) -> int:
        """Children screened at low fidelity per child finished (1: no screening)."""
        return 1 if self.plan is None or self.plan.low() is None else self.plan.factor

    @property
    def refit_fidelity(self) -> Fidelity | None:
        """What a refit on all rows trains at: the plan's epoch cap (None: the genes' epochs)."""
        if self.plan is None or not self.plan.max_epochs:
            return None
        from evosearch.evaluation import Fidelity

        return Fidelity(max_epochs=self.plan.max_epochs)

    @property
    def objectives(self) -> tuple[str, ...]:
        """The objectives' registered names, in the order of the archive's vectors."""
        return tuple(o.name for o in self.objective_set)

    @property
    def weights(self) -> tuple[float, ...]:
        """The objectives' weights (+1 maximised, -1 minimised), in the same order."""
        return tuple(o.weight for o in self.objective_set)

    def value(self, name: str) -> Any:
        """The checked value of setting ``name`` (``genome``: the space)."""
        if name == "genome":
            return self.space
        if name == "objectives":
            return self.objectives
        return getattr(self, name)


def check_settings(params: Mapping[str, Any]) -> RunSettings:
    """Validate an Evolver's parameters (``evolver.get_params(deep=False)``), row by row.

    Parameters
    ----------
    params : mapping
        Constructor parameters of :class:`~evosearch.Evolver` by name; a missing one takes its
        default.

    Returns
    -------
    RunSettings

    Raises
    ------
    SettingsError
        With one line naming the first impossible setting.
    SearchSpaceError
        If ``genome`` names no preset or a broken genome file.
    """
    from evosearch.evaluation import check_backend
    from evosearch.objectives import resolve_objectives

    values = {row.name: row.check(params.get(row.name, row.default)) for row in SETTINGS}
    # Checked together: a scheduler needs the Dask backend (or $EVOSEARCH_DASK_SCHEDULER
    # names one), and the backend's own dependencies must be installed.
    values["backend"], values["scheduler"] = check_backend(values["backend"], values["scheduler"])
    from evosearch.search.strategies import get_strategy

    # Recorded resolved ("auto" made the strategy's own), so a later default cannot move it.
    values["focus"] = get_strategy(values["strategy"]).resolve_focus(values["focus"])
    check_steady_state(values)
    check_bag_folds(values)
    values["space"] = values.pop("genome")
    values["objective_set"] = resolve_objectives(values.pop("objectives"))
    return RunSettings(**values)


def record_settings(settings: RunSettings, genome: Any) -> dict[str, Any]:
    """``run.json``'s ``"settings"``: every recorded setting as the table records it.

    ``genome`` is the Evolver's parameter as given (a preset name or path is recorded as
    given; a SearchSpace by its name).
    """
    from evosearch.space import SearchSpace

    recorded = {
        row.name: row.to_json(settings.value(row.name))
        for row in SETTINGS
        if row.recorded and not (row.omit_default and settings.value(row.name) == row.default)
    }
    if not isinstance(genome, SearchSpace):
        recorded["genome"] = str(genome)
    if settings.scoring is not None and not isinstance(settings.scoring, str):
        # run.json holds a callable's name only: a resume needs it passed again.
        recorded["scoring_callable"] = True
    return recorded


def recorded_params(info: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The Evolver parameters of the run whose ``run.json`` is ``info`` (current format).

    ``genome`` is the recorded search space itself (not its name), so the run's space is
    used even where the preset changed since. Settings run.json does not record (callbacks,
    ``max_time``, ...) take their defaults, but the data options (``categorical``, ``drop``,
    ...), which run.json records with the data. A scorer recorded as a callable is None here.

    Raises
    ------
    RunFolderError
        Naming ``where`` if a recorded setting is missing or the search space is broken.
    """
    from evosearch.errors import SearchSpaceError
    from evosearch.space import SearchSpace

    recorded = info["settings"]
    params: dict[str, Any] = {}
    for row in SETTINGS:
        if not row.recorded or (row.omit_default and row.name not in recorded):
            params[row.name] = row.default
        elif row.name not in recorded:
            raise RunFolderError(f"{where}: settings lack {row.name!r}")
        else:
            params[row.name] = recorded[row.name]
    try:
        params["genome"] = SearchSpace.from_dict(info["search_space"], source=where)
    except KeyError:
        raise RunFolderError(f"{where}: no search_space") from None
    except SearchSpaceError as exc:
        raise RunFolderError(str(exc)) from None
    params["objectives"] = tuple(params["objectives"])
    if isinstance(params["input_shape"], list):
        params["input_shape"] = tuple(params["input_shape"])
    if recorded.get("scoring_callable"):
        params["scoring"] = None
    params.update(recorded_data_options(info))  # recorded with the data, not as settings
    return params
