"""The Evolver: the scikit-learn estimator that runs a search.

The Evolver is the scikit-learn face of a search: ``__init__`` only stores its parameters,
``fit`` validates them against the settings table (:mod:`evosearch.search.settings`), so it
clones, nests in ``cross_val_score``, sits in a ``Pipeline`` and is tuned by ``GridSearchCV``.
``fit``, ``fit_dataset`` and ``resume`` build a :class:`~evosearch.search.run.SearchRun` (the
run's state) and hand it to :func:`~evosearch.search._fit_run.run_search` (the generation
loop, then the refit of the best member); prediction and pickling are in
:mod:`~evosearch.search._estimator_methods`.

Half of this module is the Evolver's docstrings (parameters, attributes, resume).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from evosearch.data import Dataset
from evosearch.evaluation import FitHook
from evosearch.evaluation._limits import DEFAULT_EVAL_TIMEOUT
from evosearch.objectives import DEFAULT_OBJECTIVES, Scoring
from evosearch.runs import RunFolder
from evosearch.search._checkpoint import GenerationRecord
from evosearch.search._estimator_methods import EstimatorMethods, drop_transient
from evosearch.search._fit_run import run_search
from evosearch.search.run import WEIGHTS_FOLDER, SearchRun
from evosearch.search.settings import SETTINGS
from evosearch.space import Genome, SearchSpace

__all__ = ["WEIGHTS_FOLDER", "Callback", "Evolver", "GenerationRecord"]


class Callback(Protocol):
    """What the Evolver calls during a run; implement any subset of these methods.

    A plain function ``f(evolver, record)`` is accepted too and called at each generation's end.
    Returning True from ``on_generation_end`` stops the run after that generation.
    """

    def on_generation_end(self, evolver: Evolver, record: GenerationRecord) -> bool | None: ...


class Evolver(EstimatorMethods):
    """Evolve neural-network layer graphs on the Pareto front of their objectives.

    Parameters
    ----------
    genome : str, path or SearchSpace, default="mlp"
        A preset name (see ``evosearch genomes``), a path to a genome TOML file, or a space.
    population_size : int, default=16
        Genomes kept from one generation to the next (and children made per generation).
    generations : int, default=20
        Generations of children after the initial random population.
    cv : int, default=3
        Cross-validation folds (stratified for classification).
    n_jobs : int, default=-1
        Worker processes for evaluation; -1 uses every core. Results do not depend on it.
    random_state : int, default=0
        Seed of the run; the same seed gives the same results.
    crossover_rate : float, default=0.5
        Probability that a child comes from crossover (it is always mutated afterwards).
    task : {"auto", "classification", "regression"}, default="auto"
        ``auto`` infers it from the target when ``fit`` runs. Set it for nested
        cross-validation: scikit-learn reads it before fitting (``is_classifier``), so with
        ``"classification"`` ``cross_val_score`` stratifies its folds, as for any classifier.
    callbacks : sequence, optional
        Objects with ``on_generation_end(evolver, record)`` (and optionally
        ``on_run_start(evolver)``, ``on_evaluation_progress(done, total)``,
        ``on_run_end(evolver)``) or plain functions ``f(evolver, record)``.
    out : path, optional
        Run folder to write (run.json, journal.jsonl, generations.jsonl, archive.json,
        checkpoint.json, weights/); nothing at all is written when None. A fit never touches
        an earlier run: when ``out`` already holds anything, it writes to the first free
        sibling ``out-2``, ``out-3``, ... instead (so each clone of a nested cross-validation
        writes a folder of its own, also in parallel); ``run_folder_`` names the one written.
    eval_timeout : float or None, default=300
        Seconds one evaluation (one genome x fold) may train; a fold that runs longer is killed
        with its worker process and its genome fails with ``TimeoutError``. None or 0: no limit.
        Where the limit bites, results depend on the machine's speed.
    max_time : float, optional
        Seconds the whole run may take, the final refits included: the search's deadline is
        this less the best member's estimated refit time (journalled seconds per epoch and
        fold, scaled to all rows and the epoch budget; with ``holdout`` every member's too),
        following a better member found mid-generation. At the deadline the folds
        still training are stopped, the unfinished generation is cut (its finished
        evaluations stay in the journal, so :meth:`resume` continues it exactly, and join the
        archive unless ``ensemble``) and ``fit`` returns with the archive so far;
        ``deadline_reached_`` tells it happened. A deadline in generation 0 leaves the genomes
        that finished as the archive and returns the best of them, with a
        :class:`~evosearch.errors.BudgetWarning`. Not stored in the run folder.
    max_memory : float, optional
        MiB one evaluation may allocate on top of what its idle worker holds; going over fails
        the genome with ``MemoryError`` (Linux only). See :class:`~evosearch.evaluate.Evaluator`.
    fit_hook : callable, optional
        ``fit_hook(genome_hash, fold)``, called in the worker before each fold trains: a
        testing and extension hook (see :class:`~evosearch.evaluate.Evaluator`). Not stored
        in the run folder.
    max_params : int, optional
        Size budget. The parameter count is known before training, so a genome over the
        budget is never trained: a child over it is mutated again, like a duplicate.
    max_bytes : int, optional
        Size budget on the weight payload (objective ``bytes``), screened the same way.
    holdout : float, optional
        Fraction of the rows (stratified for classification, drawn with ``random_state``) kept
        out of the whole search. At the end every archive member is refit on the search rows
        and scored on the held-out ones (``holdout_score``), a guard against overfitting the
        CV score; ``best_estimator_`` is then fit on the search rows only.
    backend : {"local", "dask"}, default="local"
        Where evaluations run: worker processes of this machine, or a ``dask.distributed``
        cluster (needs ``pip install 'evosearch[dask]'``). Results do not depend on it.
    scheduler : str, optional
        With ``backend="dask"``: the scheduler address (``tcp://HOST:PORT``); default: the
        ``EVOSEARCH_DASK_SCHEDULER`` environment variable, else a local cluster of ``n_jobs``
        processes started for the run. See :mod:`evosearch.evaluation.backends.dask`.
    strategy : str, default="nsga2"
        A registered strategy (:func:`~evosearch.search.strategies.strategy_names`).
        ``nsga2``: parents and children compete and NSGA-II keeps the best
        ``population_size``. ``aging``: regularized evolution, where each child replaces the
        oldest member whatever its fitness (parents still chosen by Pareto tournament).
        ``random``: random search, fresh random genomes every generation (the baseline).
    halving : bool, default=False
        Successive halving over folds: twice as many children are trained on the first fold
        only, ranked by Pareto dominance (non-dominated rank, then crowding) on (fold score,
        parameter count), and only the better half is trained on the remaining folds.
    steady_state : bool, default=False
        Asynchronous steady-state search, for clusters: ``in_flight`` evaluations train at
        once; as each lands it joins the population (the strategy's ``admit``: NSGA-II's
        (μ+1) replacement, aging's oldest-out) and the archive, and one new child is bred
        from the population and submitted, so no worker waits for a generation's slowest
        fold. ``generations`` counts blocks of ``population_size`` evaluations (a
        generations.jsonl line each). Which evaluation lands first depends on timing, so two
        runs may differ (with ``n_jobs=1`` they do not); a resume replays the journalled order
        exactly before it continues. Screening (a fidelity plan's) and ``halving``'s first
        fold are rungs whose results promote children as they land.
    in_flight : int, optional
        Steady-state: evaluations in flight; default: the backend's worker slots (a Dask
        cluster's threads), fixed when the run starts.
    inherit_weights : bool, default=True
        A child starts training from its (first) parent's trained weights wherever a layer
        and its inputs match (same innovation ids and widths), fold by fold, so no fold's test
        rows are ever seen in training. Refits continue the best CV fold's network.
    input_shape : str or sequence of int, optional
        How a row of flat features reads as an image, ``"28x28"`` or ``"28x28x3"`` (channels
        last), for genomes of image layers (``genome="cnn"``); image data (bundled digits, an
        NPZ of images, 3-D or 4-D ``X``) bring their own. Checked against the data by ``fit``.
    objectives : sequence of str, default=("score", "params")
        Registered objectives (:func:`~evosearch.objectives.objective_names`), in the order of
        the archive's objective vectors; ``score`` must be the first (the run refits the
        best-scoring member). ``n_params``, the name older run folders use, means ``params``.
    scoring : str or callable, optional
        The ``score`` objective: a scikit-learn scorer name (``"f1_macro"``, ``"neg_log_loss"``,
        ...) or a callable ``scorer(estimator, X, y)``, greater is better (losses negated, as
        sklearn's ``neg_`` scorers); default accuracy / R². See :mod:`evosearch.objectives.score`.
    fidelity : {"auto", "off"}, str or dict, default="auto"
        Multi-fidelity search on large tables (docs/concepts/multi-fidelity.md): ``auto`` screens
        children on row subsamples from 10,000 rows on, leaving smaller tables as they were;
        with image layers (``genome="cnn"``) it scores every genome on one fold from 2,000
        images on.
    focus : {"auto", "accuracy", "front"}, default="auto"
        Where the budget goes. ``accuracy``: half of every population is the most accurate
        models whatever their size, NSGA-II picks the rest, so ``best_estimator_`` is as good
        as a search for accuracy alone finds and the archive still keeps small trade-offs.
        ``front``: plain NSGA-II, spread evenly. ``auto``: the strategy's own (``nsga2``:
        accuracy; ``aging``, ``random``: front), recorded resolved.
    categorical, numeric, drop, na_values : sequence of str, default=()
        For a DataFrame ``X``, as the command line's ``--categorical`` etc.: columns read as
        categorical or numeric, columns left out (an ID; ``predict`` ignores them too), cell
        texts meaning "missing" (``"?"``). Recorded with the data in run.json and model.json.
    verbose : {0, 1, 2}, default=0
        Progress ``fit`` prints on standard output, as the command line shows it: 1 a row per
        generation, 2 also a live bar of the generation's models on a terminal.
    scale_target : bool, default=True
        Regression: each model standardises the target on its training rows, R² is recorded
        unclipped; False: the raw target, R² clipped at -1, as runs before it (resumed so).
    ensemble : bool, default=False
        Keep out-of-fold predictions, build an ensemble front at the end (``ensemble.json``).
    bag_folds : bool, default=False
        ``best_estimator_`` averages one refit per CV fold network (each continued on all rows)
        instead of the one refit from the best fold's: for k times the refit's time (reserved
        by ``max_time``) and bytes, see ``benchmarks/README.md`` ("bag_folds"). Not with
        ``ensemble``; a fidelity plan that scores one fold refits once.
    warm_start : path or sequence of paths, default=()
        Earlier run folders (same search space, objectives and task) whose archives and last
        populations start generation 0 on this data, re-evaluated: spread over their
        objectives, at most three quarters of it, the rest random genomes; with
        ``inherit_weights`` their folds start from the earlier trained networks. ``False``
        or None, as scikit-learn tools set it: none.
    latency_model : path, "calibrate", LatencyModel or None, default=None
        The ``latency`` objective's cost model: a file of ``evosearch calibrate --out``, a
        :class:`~evosearch.nn.LatencyModel`, ``"calibrate"`` (measured for this run alone) or
        None, this machine's cached model (measured once). Recorded in run.json; resume uses it.

    Attributes
    ----------
    archive_ : ParetoArchive
        The all-time non-dominated set of objective vectors (by default score, parameters).
    best_estimator_ : sklearn.pipeline.Pipeline or WeightedEnsemble
        The archive's most accurate member, refit on all the data; with ``inherit_weights``
        from its best CV fold's network (``refit_start_fold_``; None: from scratch); with
        ``bag_folds`` a ``WeightedEnsemble`` of one refit per stored fold network.
    best_genome_ : Genome
        Its genome.
    cv_results_ : dict of ndarray
        One row per evaluated model, like ``GridSearchCV.cv_results_`` (``pandas.DataFrame``
        reads it): ``genome_hash``, ``genome``, ``generation``, ``splitK_test_score``,
        ``mean_test_score``, ``std_test_score``, ``rank_test_score``, ``objective_<name>``
        per objective, ``n_folds``, ``failed``, ``error``.
    classes_ : ndarray
        The class labels (classification only).
    n_features_in_ : int
        Number of features seen by ``fit``.
    feature_names_in_ : ndarray of str
        The column names, when ``fit`` got a DataFrame with string column names.
    history_ : list of GenerationRecord
        One record per generation (generation 0 is the random population).
    population_ : list of Genome
        The final population.
    space_ : SearchSpace
        The search space ``genome`` named.
    objectives_ : tuple of str
        The objectives' registered names (aliases resolved).
    task_ : str
        The task fitted, ``auto`` resolved.
    run_folder_ : Path or None
        The run folder written (see ``out``).
    deadline_reached_ : bool
        Whether ``max_time`` stopped the run before its last generation.
    fidelity_plan_ : FidelityPlan or None
        The multi-fidelity plan the run searched with (None: every evaluation at full
        fidelity); refits train at its epoch cap.
    ensemble_ : WeightedEnsemble or None
        With ``ensemble``: the most accurate ensemble, refit, what ``predict`` uses.

    Notes
    -----
    One estimator serves both tasks, its kind following ``task`` (``__sklearn_tags__`` say
    classifier or regressor once it is set), rather than ``EvolverClassifier`` and
    ``EvolverRegressor``: the command line, ``run.json`` and :meth:`resume` map one to one
    onto its parameters, and a setting added later is added in one place.

    Settings are checked by ``fit`` (a :class:`~evosearch.errors.SettingsError` naming the
    setting), never by the constructor or ``set_params``. A fitted Evolver pickles (e.g.
    ``joblib.dump``) without its run's live handles; callbacks that do not pickle are
    dropped from the copy.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> evolver = Evolver(population_size=4, generations=1, n_jobs=1).fit(X, y)
    >>> len(evolver.history_)
    2
    >>> evolver.predict(X[:3]).shape, evolver.classes_
    ((3,), array([0, 1, 2]))
    """

    def __init__(
        self,
        genome: str | Path | SearchSpace = "mlp",
        population_size: int = 16,
        generations: int = 20,
        cv: int = 3,
        n_jobs: int = -1,
        random_state: int = 0,
        crossover_rate: float = 0.5,
        task: str = "auto",
        callbacks: Sequence[Callback | Callable[..., Any]] = (),
        out: str | Path | None = None,
        eval_timeout: float | None = DEFAULT_EVAL_TIMEOUT,
        max_time: float | None = None,
        max_memory: float | None = None,
        fit_hook: FitHook | None = None,
        max_params: int | None = None,
        max_bytes: int | None = None,
        holdout: float | None = None,
        backend: str = "local",
        scheduler: str | None = None,
        strategy: str = "nsga2",
        halving: bool = False,
        steady_state: bool = False,
        in_flight: int | None = None,
        inherit_weights: bool = True,
        objectives: Sequence[str] = DEFAULT_OBJECTIVES,
        scoring: Scoring = None,
        input_shape: str | Sequence[int] | None = None,
        fidelity: str | dict[str, Any] = "auto",
        focus: str = "auto",
        categorical: Sequence[str] = (),
        numeric: Sequence[str] = (),
        drop: Sequence[str] = (),
        na_values: Sequence[str] = (),
        verbose: int = 0,
        scale_target: bool = True,
        ensemble: bool = False,
        bag_folds: bool = False,
        warm_start: str | Path | Sequence[str | Path] = (),
        latency_model: Any = None,
    ) -> None:
        # Stored unchanged (scikit-learn's rule): fit validates them (see _settings.py).
        self.genome = genome
        self.population_size = population_size
        self.generations = generations
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.crossover_rate = crossover_rate
        self.task = task
        self.callbacks = callbacks
        self.out = out
        self.eval_timeout = eval_timeout
        self.max_time = max_time
        self.max_memory = max_memory
        self.fit_hook = fit_hook
        self.max_params = max_params
        self.max_bytes = max_bytes
        self.holdout = holdout
        self.backend = backend
        self.scheduler = scheduler
        self.strategy = strategy
        self.halving = halving
        self.steady_state = steady_state
        self.in_flight = in_flight
        self.inherit_weights = inherit_weights
        self.objectives = objectives
        self.scoring = scoring
        self.input_shape = input_shape
        self.fidelity = fidelity
        self.focus = focus
        self.categorical, self.numeric, self.drop, self.na_values = (
            categorical, numeric, drop, na_values
        )  # fmt: skip
        self.verbose = verbose
        self.scale_target = scale_target
        self.ensemble = ensemble
        self.bag_folds = bag_folds
        self.warm_start = warm_start
        self.latency_model = latency_model

    # ------------------------------------------------------------------ public API
    def fit(self, X: Any, y: Any, groups: Any = None, sample_weight: Any = None) -> Evolver:
        """Run the search on ``X, y`` and refit the most accurate archive member on all of it.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric features, or a pandas DataFrame with text, boolean and category columns
            and missing cells (see :func:`~evosearch.data.check_dataset`): its preprocessing
            is searched too.
        y : array-like of shape (n_samples,)
            Class labels or regression targets.
        groups : array-like of shape (n_samples,), optional
            Group labels: cross-validation folds never split a group.
        sample_weight : array-like of shape (n_samples,), optional
            Row weights, used in the loss and the score.

        Returns
        -------
        self

        Raises
        ------
        SettingsError
            If a parameter is impossible (before any data is looked at).
        DataError
            If the data is unusable (e.g. NaN, too few rows per class for ``cv``).
        """
        settings = self._configure()
        # Sets n_features_in_, feature_names_in_; notes (e.g. rows dropped) become warnings.
        dataset = self._check_input(X, y, settings, groups=groups, sample_weight=sample_weight)
        return self._fit_run(SearchRun.start(settings, self.genome, dataset))

    def fit_dataset(
        self,
        dataset: Dataset,
        *,
        initial_population: Sequence[Genome] | None = None,
        parent: dict[str, Any] | None = None,
        new_folder_only: bool = False,
    ) -> Evolver:
        """Like :meth:`fit` for an already validated :class:`~evosearch.data.Dataset`.

        Parameters
        ----------
        dataset : Dataset
        initial_population : sequence of Genome, optional
            Genomes to start from instead of random ones (e.g. a generation of an earlier
            run); they are adapted to the data's width, genomes outside this Evolver's search
            space are dropped, and random genomes fill the population up.
        parent : dict, optional
            Where ``initial_population`` came from, recorded in ``run.json``.
        new_folder_only : bool, default=False
            Refuse an ``out`` that already holds anything (what the command line's ``--out``
            does) instead of writing to a numbered sibling.
        """
        settings = self._configure()  # also forgets feature_names_in_ from an earlier fit
        run = SearchRun.start(
            settings,
            self.genome,
            dataset,
            initial_population=initial_population or (),
            parent=parent,
            numbered=not new_folder_only,
        )
        return self._fit_run(run)

    @classmethod
    def resume(
        cls,
        path: str | Path,
        *,
        generations: int | None = None,
        n_jobs: int | None = None,
        callbacks: Sequence[Callback | Callable[..., Any]] = (),
        verbose: int = 0,
        X: Any = None,
        y: Any = None,
        max_time: float | None = None,
        fit_hook: FitHook | None = None,
        backend: str | None = None,
        scheduler: str | None = None,
        scoring: Scoring = None,
        groups: Any = None,
        sample_weight: Any = None,
    ) -> Evolver:
        """Continue the run in folder ``path`` from what it journalled.

        Every evaluation in the journal is re-used, not retrained, and the run reaches exactly
        the archive and history an uninterrupted run with the same seed reaches. A finished
        run is only loaded (and its best member refit) unless ``generations`` extends it.

        Parameters
        ----------
        path : path-like
            The run folder.
        generations : int, optional
            New total number of generations (to extend a run); default: the run's own.
        n_jobs : int, optional
            Workers for the rest of the run (results do not depend on it).
        callbacks : sequence, optional
            As for the constructor.
        verbose : {0, 1, 2}, default=0
            As for the constructor.
        X, y : array-like, optional
            The data, for runs fitted on in-memory arrays; runs started from the command line
            reload their dataset by name or path. Either way its fingerprint must match.
        max_time : float, optional
            Seconds this continuation may take (see the constructor).
        fit_hook : callable, optional
            As for the constructor.
        backend, scheduler : str, optional
            Where the rest of the run evaluates (results do not depend on it); default: the
            run's own settings (a scheduler recorded for the Dask backend is dropped when
            ``backend`` changes it to ``local``).
        scoring : callable, optional
            Only for a run scored by a callable (run.json records its name only): the same
            scorer again.
        groups, sample_weight : array-like, optional
            With ``X, y``: the ones the run was fitted with (they are part of the data's
            fingerprint).

        Returns
        -------
        Evolver
            Fitted, like after :meth:`fit`.
        """
        overrides = {
            "generations": generations,
            "n_jobs": n_jobs,
            "callbacks": callbacks,
            "verbose": verbose,
            "max_time": max_time,
            "fit_hook": fit_hook,
            "backend": backend,
            "scheduler": scheduler,
        }
        # Locked before anything is read: what another writer wrote meanwhile is seen whole.
        folder = RunFolder.open(path)
        try:
            run = SearchRun.reopen(
                folder, overrides, X=X, y=y, groups=groups, sample_weight=sample_weight,
                scoring=scoring,
            )  # fmt: skip
        except BaseException:
            folder.close()
            raise
        evolver = cls(**{row.name: run.settings.value(row.name) for row in SETTINGS})
        evolver.run_folder_ = Path(path)
        return evolver._fit_run(run)

    # ------------------------------------------------------------------ the run
    def _fit_run(self, run: SearchRun) -> Evolver:
        """Run the generations of ``run``, then refit its best member (and score the holdout)."""
        self._search_run = run  # the live run, for callbacks that look at it; never pickled
        try:
            return run_search(self, run)
        finally:
            run.close()  # the workers (a Dask cluster started for the run), the folder's lock
            drop_transient(self)
