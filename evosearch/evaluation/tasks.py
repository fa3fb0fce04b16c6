"""One fold task: decode a genome, train it on a fold's training rows, score it, measure it.

Every backend runs the same :func:`fit_fold` with the same per-task seed (:func:`task_seed`:
a function of the run seed, the genome's canonical hash and the fold only, never of worker
identity or completion order), so results do not depend on where or in which order the folds
train. A failure of the candidate (an exception, a non-finite score, going past ``max_memory``)
is data: it comes back as an :class:`FoldOutcome` with an error text, never as an exception.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from evosearch.data import take_rows
from evosearch.evaluation._fidelity import Fidelity
from evosearch.evaluation._memory import MemoryProbe, address_space_limit
from evosearch.evaluation.result import FAILURE_SCORE
from evosearch.nn import GraphNetClassifier, GraphNetRegressor
from evosearch.objectives import Scoring, get_scorer
from evosearch.preprocess import DataProfile, build_preprocessor, gene_values
from evosearch.space import Genome

__all__ = ["FitHook", "FoldWeights", "build_estimator", "fold_score", "task_seed"]

#: ``fit_hook(genome_hash, fold)``: called in the worker right before a fold is trained.
FitHook = Callable[[str, int], None]


def build_estimator(
    genome: Genome,
    task: str,
    random_state: int | None = None,
    initial_weights: Mapping[str, np.ndarray] | None = None,
    profile: DataProfile | None = None,
    fidelity: Fidelity | None = None,
    scale_target: bool = True,
) -> Pipeline:
    """Decode a genome into an unfitted scikit-learn pipeline (preprocess, then GraphNet).

    Preprocessing is part of the model, so it is fitted on each training fold only and an
    exported estimator takes raw features: for a plain matrix a scaler (``scale``, the
    ``StandardScaler`` unless the genome's ``scale`` gene says otherwise), for a table (a
    ``profile`` with columns) the ``ColumnTransformer`` of
    :func:`~evosearch.preprocess.build_preprocessor`.

    Parameters
    ----------
    genome : Genome
    task : {"classification", "regression"}
    random_state : int, optional
        Seed of the network's initialisation, shuffling and dropout.
    initial_weights : mapping of str to ndarray, optional
        Weight blocks (the format of the fitted network's ``weight_blocks()``) that training
        starts from instead of the random initialisation, where keys and shapes match.
    profile : DataProfile, optional
        The data's profile (:class:`~evosearch.preprocess.DataProfile`); None: a plain matrix.
    fidelity : Fidelity, optional
        Trains the epochs this fidelity gives (:meth:`Fidelity.epochs_for`); None: the gene's.
    scale_target : bool, default=True
        Regression: the network standardises the target (``GraphNetRegressor.scale_target``).
    """
    net_class = GraphNetClassifier if task == "classification" else GraphNetRegressor
    extra: dict[str, Any] = {}
    if net_class is GraphNetRegressor:
        extra["scale_target"] = scale_target
    class_weight = gene_values(genome.preprocessing, ("class_weight",))["class_weight"]
    if class_weight != "none":
        extra["class_weight"] = class_weight
    hyperparameters = genome.hyperparameters
    if fidelity is not None:
        hyperparameters = fidelity.hyperparameters(hyperparameters)
    net = net_class(
        architecture=genome.to_architecture(),
        random_state=random_state,
        initial_weights=initial_weights,
        **hyperparameters,
        **extra,
    )
    if profile is None or profile.columns is None:
        scaler = build_preprocessor(
            profile or DataProfile(None, genome.n_inputs, 0, task), genome.preprocessing
        )
        return Pipeline([("scale", scaler), ("net", net)])
    return Pipeline([("prep", build_preprocessor(profile, genome.preprocessing)), ("net", net)])


def fold_score(
    model: Pipeline,
    X: Any,
    y: np.ndarray,
    scoring: Scoring = None,
    sample_weight: np.ndarray | None = None,
) -> float:
    """``model``'s score on ``X, y``: its own ``score`` (accuracy / R²), or ``scoring``'s;
    weighted by ``sample_weight`` where given."""
    scorer = get_scorer(scoring)
    weighted = {} if sample_weight is None else {"sample_weight": sample_weight}
    if scorer is None:
        return float(model.score(X, y, **weighted))
    return float(scorer(model, X, y, **weighted))


def task_seed(run_seed: int, genome_hash: str, fold: int) -> int:
    """Seed of one fold's training: a function of run seed, genome and fold only."""
    sequence = np.random.SeedSequence([int(run_seed), int(genome_hash, 16), int(fold)])
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


#: One fold's trained weights (``weight_blocks()`` of its fitted network).
FoldWeights = dict[str, np.ndarray]


class FoldOutcome(NamedTuple):
    """What training one fold gave (sent back from the worker)."""

    score: float
    epochs: int
    seconds: float
    error: str | None
    peak_mb: float | None
    # Only with keep_weights: otherwise None, so no arrays cross the process boundary.
    weights: FoldWeights | None = None
    # Only with the context's keep_predictions: the test rows' predictions (float32).
    predictions: np.ndarray | None = None


def failed_outcome(seconds: float, error: str | None) -> FoldOutcome:
    """The outcome of a fold that failed (``error``) or was skipped (None)."""
    return FoldOutcome(FAILURE_SCORE, 0, seconds, error, None)


@dataclass
class FoldContext:
    """What every fold of one evaluator needs besides the genome (sent once per worker)."""

    X: Any  # a float32 matrix, or a table (pandas DataFrame)
    y: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]
    task: str
    fit_hook: FitHook | None
    max_memory: float | None
    profile: DataProfile | None = None
    sample_weight: np.ndarray | None = None
    # None: the estimator's own score (accuracy / R²); else a scorer name or callable.
    scoring: Scoring = None
    # None: full fidelity (the gene's epochs); the folds above are already this fidelity's.
    fidelity: Fidelity | None = None
    # Regression: each fold's network standardises the target on its training rows.
    scale_target: bool = True
    # Send back each fold's test-row predictions (out-of-fold predictions, for ensembles).
    keep_predictions: bool = False
    # A screening rung's fold (fold 0 at low fidelity) and fidelity, for tasks that ask for it
    # (the steady-state search screens on the full-fidelity evaluator's workers).
    screen_folds: list[tuple[np.ndarray, np.ndarray]] | None = None
    screen_fidelity: Fidelity | None = None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def error_text(exc: BaseException) -> str:
    message = _one_line(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def fit_and_score(
    model: Pipeline, context: FoldContext, train: np.ndarray, test: np.ndarray
) -> float:
    """Fit ``model`` on the ``train`` rows and score it on the ``test`` rows (sample weights,
    where the data has them, in the loss and the score)."""
    rows_weight = context.sample_weight
    X_train, X_test = take_rows(context.X, train), take_rows(context.X, test)
    if rows_weight is None:
        model.fit(X_train, context.y[train])
        return fold_score(model, X_test, context.y[test], context.scoring)
    model.fit(X_train, context.y[train], net__sample_weight=rows_weight[train])
    return fold_score(model, X_test, context.y[test], context.scoring, rows_weight[test])


def fold_predictions(model: Pipeline, context: FoldContext, test: np.ndarray) -> np.ndarray:
    """The fitted ``model``'s predictions of the ``test`` rows, float32: class probabilities in
    the order of every class of ``context.y`` (a class the fold never trained on gets 0), or
    the predicted targets (2-D, one column per target)."""
    X_test = take_rows(context.X, test)
    if context.task != "classification":
        values = np.asarray(model.predict(X_test), dtype=np.float32)
        return values.reshape(len(test), -1)
    proba = np.asarray(model.predict_proba(X_test), dtype=np.float32)
    classes = np.unique(context.y)
    # The fold's network knows the classes of its training rows only: place its columns.
    full = np.zeros((len(test), len(classes)), dtype=np.float32)
    full[:, np.searchsorted(classes, model.classes_)] = proba
    return full


def fit_fold(
    context: FoldContext,
    genome: Genome,
    genome_hash: str,
    fold: int,
    seed: int,
    initial_weights: Mapping[str, np.ndarray] | None = None,
    keep_weights: bool = False,
    screen: bool = False,
    *,
    limit_threads: bool,
) -> FoldOutcome:
    """Train on one fold and score on its test part (in a worker, or inline); ``screen``: on
    the context's screening fold, at its fidelity, instead."""
    start = time.perf_counter()
    probe = MemoryProbe()
    if screen:
        assert context.screen_folds is not None
        train, test = context.screen_folds[fold]
    else:
        train, test = context.folds[fold]
    fidelity = context.screen_fidelity if screen else context.fidelity
    weights: FoldWeights | None = None
    try:
        with address_space_limit(context.max_memory):
            if context.fit_hook is not None:
                context.fit_hook(genome_hash, fold)
            with threadpool_limits(limits=1) if limit_threads else nullcontext():
                model = build_estimator(
                    genome,
                    context.task,
                    seed,
                    initial_weights,
                    context.profile,
                    fidelity,
                    context.scale_target,
                )
                score = fit_and_score(model, context, train, test)
                if keep_weights:
                    weights = model[-1].weight_blocks()
                predictions = None
                if context.keep_predictions and not screen and np.isfinite(score):
                    predictions = fold_predictions(model, context, test)
        if not np.isfinite(score):
            raise FloatingPointError(f"non-finite test score {score}")
        epochs = int(getattr(model[-1], "n_epochs_", 0))
        seconds = time.perf_counter() - start
        peak = probe.peak_mb()
        return FoldOutcome(score, epochs, seconds, None, peak, weights, predictions)
    except MemoryError as exc:  # the limit is lifted again by now, so this can allocate
        error = error_text(exc)
        if context.max_memory is not None:
            error = (
                f"MemoryError: fold {fold} exceeded the {context.max_memory:g} MB memory limit "
                f"({_one_line(str(exc)) or 'allocation failed'})"
            )
        return FoldOutcome(FAILURE_SCORE, 0, time.perf_counter() - start, error, probe.peak_mb())
    except Exception as exc:  # any failure of a candidate is data, not a crash of the run
        error = error_text(exc)
        return FoldOutcome(FAILURE_SCORE, 0, time.perf_counter() - start, error, probe.peak_mb())
