"""The scikit-learn side of the Evolver: prediction, tags, pickling.

:class:`EstimatorMethods` is the base class of :class:`~evosearch.search.evolver.Evolver`
only (kept apart so that the loop's module stays readable); it reads ``best_estimator_``.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import ClassifierTags, RegressorTags, Tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from evosearch.data import Dataset, check_dataset, conform_table
from evosearch.errors import DataError, SettingsError
from evosearch.evaluation import fold_score
from evosearch.nn import GraphNetClassifier, GraphNetRegressor
from evosearch.search._data_options import data_options, without_dropped
from evosearch.search.settings import RunSettings, check_settings

__all__ = ["EstimatorMethods", "drop_transient"]

#: What ``fit`` sets up and ``__getstate__`` leaves out: the live run (its folder's lock, its
#: workers).
_TRANSIENT = ("_search_run",)


def _best_has(method: str) -> Callable[[Any], bool]:
    """Whether ``best_estimator_`` has ``method`` (before fit: whether it will, for the task)."""

    def check(evolver: Any) -> bool:
        if hasattr(evolver, "best_estimator_"):
            return hasattr(evolver.best_estimator_, method)
        model = GraphNetRegressor if evolver.task == "regression" else GraphNetClassifier
        return hasattr(model, method)

    return check


class EstimatorMethods(BaseEstimator):
    """Prediction with ``best_estimator_``, estimator tags that follow ``task``, pickling."""

    task: str
    best_estimator_: Any
    archive_: Any
    dataset_: Dataset
    fidelity_plan_: Any
    scoring: Any

    @property
    def _model(self) -> Any:
        """What predicts: ``ensemble_`` where the run built one (``ensemble=True``), else
        :attr:`best_estimator_`."""
        ensemble = getattr(self, "ensemble_", None)
        return self.best_estimator_ if ensemble is None else ensemble

    def predict(self, X: Any) -> np.ndarray:
        """Predict with :attr:`best_estimator_` (with ``ensemble=True``: ``ensemble_``)."""
        X = self._features(X)  # first: unfitted is NotFittedError
        return self._model.predict(X)

    @available_if(_best_has("predict_proba"))
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of :attr:`best_estimator_` (``ensemble_``'s with ``ensemble``)."""
        X = self._features(X)  # first: unfitted is NotFittedError
        return self._model.predict_proba(X)

    @available_if(_best_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log class probabilities of :attr:`best_estimator_` (where it has them; ``ensemble_``'s
        with ``ensemble``)."""
        X = self._features(X)  # first: unfitted is NotFittedError
        return self._model.predict_log_proba(X)

    @available_if(_best_has("decision_function"))
    def decision_function(self, X: Any) -> np.ndarray:
        """Decision function of :attr:`best_estimator_` (where it has one)."""
        X = self._features(X)  # first: unfitted is NotFittedError
        return self.best_estimator_.decision_function(X)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """The run's score of :attr:`best_estimator_` on ``X, y`` (``scoring``'s, else accuracy
        or R²), weighted by ``sample_weight`` where given."""
        return self._score(X, y, sample_weight)

    def _score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        # The one place that scores with the run's scoring: score() and nothing else uses it.
        X = self._features(X)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        return fold_score(self._model, X, y, self.scoring, weights)

    def _features(self, X: Any) -> Any:
        """``X`` checked against what fit saw (width, column names), as float64; new rows of
        a table typed as in training (refused naming missing or extra columns)."""
        check_is_fitted(self)
        dataset = getattr(self, "dataset_", None)
        X = X if dataset is None else without_dropped(X, dataset.options)  # drop=: ignored
        if dataset is not None and dataset.columns:
            if not hasattr(X, "columns"):
                # The pipeline picks the table's columns by name: a bare array cannot be one.
                names = ", ".join(repr(c.name) for c in dataset.columns[:5])
                more = ", ..." if len(dataset.columns) > 5 else ""
                raise DataError(
                    f"this Evolver was fitted on a table ({names}{more}): X must be a pandas "
                    f"DataFrame with those columns, got {type(X).__name__}"
                )
            return conform_table(X, dataset.columns, "X", dataset.options.get("na_values", ()))
        shape = _shape(X)
        if dataset is not None and dataset.input_shape is not None and len(shape) in (3, 4):
            # Images as fit took them, (n, H, W) or (n, H, W, C): rows of their pixels.
            if int(np.prod(shape[1:])) != dataset.n_features:
                raise DataError(
                    f"X holds images of shape {shape[1:]}, but this Evolver was fitted on "
                    f"images of {dataset.n_features} pixel values each"
                )
            X = np.asarray(X).reshape(shape[0], -1)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def export(
        self,
        path: str | Path,
        member: int | None = None,
        format: str = "joblib",
        input_dtype: str | None = None,
        ensemble: bool = False,
    ) -> dict[str, Any]:
        """Write an archive member (or the ensemble) as a deployable model folder, as
        ``evosearch export`` does.

        Parameters
        ----------
        path : path-like
            The folder to write; it must not exist yet or be empty.
        member : int or None, default=None
            Archive index (smallest first, as ``evosearch show`` numbers them); None: the most
            accurate member, i.e. :attr:`best_estimator_` as fitted. Another member is refit
            on the rows the search saw, with the seed every refit of it uses.
        format : str, default="joblib"
            A registered export format (:func:`evosearch.deploy.format_names`): ``joblib``,
            ``onnx`` (``pip install 'evosearch[onnx]'``), ...
        input_dtype : {"float32", "float64"} or None, default=None
            The ``onnx`` format's numeric input type (None: ``float32``, which most ONNX
            runtimes feed; ``float64`` preprocesses as scikit-learn does, to the last bit), as
            ``evosearch export --input-dtype``. Other formats take none.
        ensemble : bool, default=False
            Write :attr:`ensemble_` (of a fit with ``ensemble=True``) instead of a member, as
            ``evosearch export --ensemble`` does: its members as fitted, so the export predicts
            as :meth:`predict` does. Not with ``member``.

        Returns
        -------
        dict
            What was written to the folder's ``model.json``.

        Raises
        ------
        SettingsError
            For an unknown format, a format whose extra is not installed, an input dtype the
            format does not take, a member out of range or a folder that is not empty; for
            ``ensemble`` with ``member``, or without an ensemble to write.
        """
        from evosearch.search.refit import pick_member, stored_start, write_member

        check_is_fitted(self)
        if ensemble:
            return self._export_ensemble(path, member, format, input_dtype)
        index, entry = pick_member(self.archive_, member)
        settings = check_settings(self.get_params(deep=False))
        scoring = self.scoring if isinstance(self.scoring, str) else None
        recorded = {
            "random_state": settings.random_state,
            "cv": settings.cv,
            "scoring": scoring,
            "scale_target": settings.scale_target,
        }
        best = self.archive_.best(self.archive_.objective("score"))
        run = getattr(self, "run_folder_", None)
        model = self.best_estimator_ if entry.genome_hash == best.genome_hash else None
        start = stored_start(entry, getattr(self, "_refit_starts", None), run)
        # The plan the fit ran with (a resume's: the recorded one).
        fitted = replace(settings, plan=self.fidelity_plan_)
        return write_member(
            entry,
            index,
            self.archive_,
            self.dataset_,
            recorded,
            run,
            path,
            format,
            model,
            fidelity=fitted.refit_fidelity,
            start=start,
            options={"input_dtype": input_dtype},
        )

    def _export_ensemble(
        self, path: str | Path, member: int | None, format: str, input_dtype: str | None
    ) -> dict[str, Any]:
        """:meth:`export` with ``ensemble=True``: ``ensemble_`` as fitted, no refit."""
        from evosearch.search.ensemble_run import write_ensemble

        if member is not None:
            raise SettingsError(
                f"export: member={member} and ensemble=True exclude each other (the ensemble "
                "is of several members): pass one of them"
            )
        model = getattr(self, "ensemble_", None)
        record = getattr(self, "ensemble_record_", None)
        if model is None or record is None:
            raise SettingsError(
                "export: this Evolver has no ensemble for ensemble=True: fit it with "
                "ensemble=True (evosearch evolve --ensemble) on data where its models kept "
                "out-of-fold predictions"
            )
        scoring = self.scoring if isinstance(self.scoring, str) else None
        run = getattr(self, "run_folder_", None)
        options = {"input_dtype": input_dtype}
        return write_ensemble(model, record, self.dataset_, scoring, run, path, format, options)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "best_estimator_")

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        # Known before fit only when task is set; "auto" is neither until the data decides.
        if self.task == "classification":
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
        elif self.task == "regression":
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        return tags

    def _check_input(
        self,
        X: Any,
        y: Any,
        settings: RunSettings,
        *,
        groups: Any = None,
        sample_weight: Any = None,
    ) -> Dataset:
        """``X, y`` as a Dataset, refused (DataError) as scikit-learn's conventions expect.

        Besides :func:`~evosearch.data.check_dataset`: a missing ``y``, fewer rows than folds,
        labels that are no classes; a warning for a column-vector ``y``; ``n_features_in_``
        and ``feature_names_in_`` set for :meth:`predict` to check against.
        """
        if y is None:
            raise DataError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        if _shape(y)[1:] == (1,):
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is flattened",
                DataConversionWarning,
                stacklevel=3,
            )
        rows = (_shape(X) or (0,))[0]  # 0 for what check_dataset refuses anyway
        if 0 < rows < settings.cv:
            raise DataError(
                f"X has {rows} sample(s) (n_samples={rows}): fewer than cv={settings.cv}"
            )
        try:
            dataset = check_dataset(
                X,
                y,
                target_name=_target_name(y),
                task=settings.task,
                n_splits=settings.cv,
                groups=groups,
                sample_weight=sample_weight,
                **data_options(settings),  # categorical=, drop=, ...
            )
        except DataError:
            # Continuous values given with task="classification" fail on the folds first;
            # "they are no class labels" is the reason to give.
            reason = _label_problem(y) if settings.task == "classification" else None
            if reason is not None:
                raise DataError(reason) from None
            raise
        if dataset.task == "classification":
            reason = _label_problem(dataset.y)  # e.g. an object array of numbers
            if reason is not None:
                raise DataError(reason)
        for note in dataset.notes:  # e.g. rows dropped for a missing target
            warnings.warn(note, UserWarning, stacklevel=3)
        validate_data(self, without_dropped(X, dataset.options), reset=True, skip_check_array=True)
        return dataset

    def _configure(self) -> RunSettings:
        """Check the parameters (SettingsError) and forget an earlier fit's results."""
        settings = check_settings(self.get_params(deep=False))
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("_")]:
            delattr(self, name)
        return settings

    def __getstate__(self) -> dict[str, Any]:
        """What pickles: no live handle of a run, no callback that does not pickle."""

        state = dict(super().__getstate__())  # a copy: the live object keeps its handles
        for name in _TRANSIENT:
            state.pop(name, None)
        kept = []
        for callback in state.get("callbacks") or ():
            try:
                pickle.dumps(callback)
            except Exception:  # a lambda, a console, a lock: dropped from the copy
                continue
            kept.append(callback)
        if len(kept) != len(state.get("callbacks") or ()):
            state["callbacks"] = kept
        return state


def _label_problem(y: Any) -> str | None:
    """scikit-learn's reason (one line) why ``y`` holds no class labels, or None."""
    try:
        with warnings.catch_warnings():  # e.g. NaN cast to int while it looks at y
            warnings.simplefilter("ignore", RuntimeWarning)
            check_classification_targets(y)
    except ValueError as exc:
        message = " ".join(str(exc).split())
        return message if "Unknown label type" in message else None
    return None


def _target_name(y: Any) -> str:
    """The name a pandas ``y`` carries (a Series' name, a one-column frame's column), else
    ``"y"``: exports and messages call the target what the caller called it."""
    name = getattr(y, "name", None)
    columns = getattr(y, "columns", None)
    if name is None and columns is not None and len(columns) == 1:
        name = columns[0]
    return "y" if name is None else str(name)


def _shape(data: Any) -> tuple[int, ...]:
    """The shape of array-like ``data``; () where it is no array (check_dataset says why)."""
    try:
        return tuple(np.asarray(data).shape)
    except (TypeError, ValueError):
        return ()


def drop_transient(evolver: Any) -> None:
    """Forget the live handles of a finished run (its folder, evaluator, ...)."""
    for name in _TRANSIENT:
        evolver.__dict__.pop(name, None)
