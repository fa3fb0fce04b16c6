"""The ``score`` objective: the mean cross-validated score of the run's scorer.

By default (``scoring=None``) that is the estimator's own ``score``: accuracy for
classification, R² for regression (a mean recorded as it is; runs from before the
``scale_target`` setting clipped it to at least the evaluator's failure score, -1). With
``scoring`` it is any scikit-learn
scorer, by name (:func:`sklearn.metrics.get_scorer`) or, in Python, a scorer callable
``scorer(estimator, X, y) -> float``. Scorers are greater-is-better, as scikit-learn defines
them: a loss is scored negated (``neg_log_loss`` of -0.12 is a log loss of 0.12).
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from evosearch.errors import SettingsError
from evosearch.objectives.base import Objective, TrainedResult, register_objective

if TYPE_CHECKING:
    from evosearch.space import Genome

__all__ = [
    "Score",
    "Scoring",
    "check_scoring",
    "get_scorer",
    "scoring_label",
    "scoring_name",
    "with_scoring",
]

#: What ``scoring`` may be: None (accuracy / R²), a scorer name, or a scorer callable.
Scoring = str | Callable[..., float] | None


def scoring_name(scoring: Scoring) -> str | None:
    """The name a run records for ``scoring``: the name itself, a callable's ``__name__``
    (its class name when it has none), None for the default."""
    if scoring is None or isinstance(scoring, str):
        return scoring
    name = getattr(scoring, "__name__", None)
    return name if isinstance(name, str) else type(scoring).__name__


def scoring_label(task: str, scoring: str | None = None) -> str:
    """What tables and plots call the score: ``accuracy`` / ``R²`` by default, else the
    scorer's name (``neg_log_loss``: greater is better, the negated log loss)."""
    if scoring is not None:
        return scoring
    return "R²" if task == "regression" else "accuracy"


def get_scorer(scoring: Scoring) -> Callable[..., float] | None:
    """The scorer callable of ``scoring`` (None for the estimator's own ``score``)."""
    if scoring is None or not isinstance(scoring, str):
        return scoring
    from sklearn.metrics import get_scorer as sklearn_scorer

    return sklearn_scorer(scoring)


def check_scoring(scoring: Any, task: str, X: Any = None, y: Any = None) -> Scoring:
    """Check that ``scoring`` names a scorer (or is one) that fits ``task`` (and ``X, y``).

    A name is tried on a trivial model of the data (predicting the class priors or the mean),
    so a scorer that cannot score this target (``f1`` on more than two classes, ``roc_auc`` on
    a regression) is refused before any training.

    Returns
    -------
    None, str or callable
        ``scoring`` unchanged.

    Raises
    ------
    SettingsError
        One line: an unknown name (with close matches), a scorer for the other task, a scorer
        that fails on this target, or something that is neither a name nor a callable.
    """
    if scoring is None:
        return None
    if callable(scoring) and not isinstance(scoring, str):
        return scoring
    if not isinstance(scoring, str):
        raise SettingsError(f"scoring must be a scorer name or a callable, got {scoring!r}")
    from sklearn.metrics import get_scorer_names

    names = get_scorer_names()
    if scoring not in names:
        close = difflib.get_close_matches(scoring, names, n=4, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else " (see sklearn get_scorer_names)"
        raise SettingsError(f"unknown scoring {scoring!r}{hint}")
    scorer = get_scorer(scoring)
    module = getattr(getattr(scorer, "_score_func", None), "__module__", "") or ""
    if task == "classification" and module.endswith("_regression"):
        raise SettingsError(
            f"scoring {scoring!r} is a regression metric and this is a classification task"
        )
    if task == "regression" and not module.endswith("_regression"):
        kind = "clustering" if ".cluster" in module else "classification"
        raise SettingsError(f"scoring {scoring!r} is a {kind} metric and this is a regression task")
    if X is not None and y is not None:
        _probe(scoring, task, X, y)
    return scoring


def _probe(scoring: str, task: str, X: Any, y: Any) -> None:
    """Score a trivial model of the data, so a scorer that cannot score it fails now."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    model = DummyClassifier(strategy="prior") if task == "classification" else DummyRegressor()
    X = np.zeros((len(y), 1))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
            value = get_scorer(scoring)(model, X, y)  # type: ignore[misc]
            float(value)
    except Exception as exc:
        message = " ".join(str(exc).split()).split(". ")[0]
        raise SettingsError(
            f"scoring {scoring!r} cannot score this {task} target: {message}"
            f"{_multiclass_hint(scoring, task, y)}"
        ) from None


def _multiclass_hint(scoring: str, task: str, y: Any) -> str:
    """For a two-class scorer on more classes: its multiclass sibling (roc_auc_ovr, f1_macro)."""
    from sklearn.metrics import get_scorer_names

    n_classes = np.unique(np.asarray(y).astype(str)).size if task == "classification" else 0
    for sibling in (f"{scoring}_ovr", f"{scoring}_macro"):
        if n_classes > 2 and sibling in get_scorer_names():
            return f"; this target has {n_classes} classes: try {sibling}"
    return ""


class Score(Objective):
    """Mean CV score of the run's scorer, maximised.

    Parameters
    ----------
    scoring : str, optional
        The scorer's name (for a callable: the name :func:`scoring_name` gives it); None for
        accuracy / R².
    failure : float, default=-inf
        A failed genome's value. The run sets the evaluator's failure score (-1) where no
        valid score is below it (accuracy, and R² of runs from before ``scale_target``, which
        clipped it), so those runs select as they always did.

    Notes
    -----
    *Failures.* A failed genome's value is ``-inf``, below every valid score: an R² of -5 (or
    a negated loss, which has no lower bound) is a poor model, still better than none. Its
    recorded result keeps the evaluator's failure score (-1) and its error; runs from before
    ``scale_target`` clipped a valid R² to at least -1.

    *Hypervolume normalisation* (fixed, monotone, 1 the best): scores clipped to ``[0, 1]``
    (accuracy, R² with a negative value counted as 0, F1, ROC AUC, ...), except for the
    negated losses and errors (names starting ``neg_``: log loss, RMSE, ...), whose loss
    ``L = -score >= 0`` maps to ``1 / (1 + L)``: 1 for a perfect model, 0.5 at a loss of 1,
    towards 0 as the loss grows. The scale of such a loss is the data's, so hypervolumes of
    ``neg_`` scorers compare only between runs on the same data.
    """

    name = "score"
    direction = 1
    known_before_training = False
    label = "score"

    def __init__(self, scoring: str | None = None, failure: float = -math.inf) -> None:
        self.scoring = scoring
        self.failure = failure

    @property
    def is_loss(self) -> bool:
        """Whether the scorer is a negated loss (``neg_...``), unbounded below."""
        return self.scoring is not None and self.scoring.startswith("neg_")

    def value(self, genome: Genome, result: TrainedResult | None = None) -> float:
        if result is None:
            raise ValueError("the score is only known after training")
        if result.error is not None:
            return self.failure
        return result.score

    def normalise(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        if self.is_loss:
            return 1.0 / (1.0 + np.maximum(-values, 0.0))
        return np.clip(values, 0.0, 1.0)

    def column_label(self, task: str) -> str:
        return scoring_label(task, self.scoring)

    def __repr__(self) -> str:
        return "Score()" if self.scoring is None else f"Score(scoring={self.scoring!r})"


def with_scoring(
    objectives: Sequence[Objective], scoring: str | None, failure: float = -math.inf
) -> tuple[Objective, ...]:
    """``objectives`` with the ``score`` objective scored by ``scoring`` (a scorer's name),
    a failed genome's value ``failure``."""
    return tuple(Score(scoring, failure) if isinstance(o, Score) else o for o in objectives)


register_objective(Score)
