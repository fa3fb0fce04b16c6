"""GraphNetClassifier and GraphNetRegressor: scikit-learn estimators over a layer DAG.

The estimators validate their parameters, decode the architecture into an execution plan
(:mod:`evosearch.nn.graph`), train it (:mod:`evosearch.nn.train`) and predict. Training runs in
float32 with one BLAS thread (see ``benchmarks/trainer.py``): these matrices are too small for
more to pay off.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, MultiOutputMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from evosearch.nn._options import ATTRS_DOC, OPTIONS_DOC, PARAMS_DOC, check_params
from evosearch.nn._target import target_scaling
from evosearch.nn.compress import encode, is_compressed, prune_finetune_quantise
from evosearch.nn.graph import Network, Workspace, input_shape_of, iter_blocks, parse_architecture
from evosearch.nn.train import Settings, init_network, loss_weights, split, train

__all__ = ["GraphNetClassifier", "GraphNetRegressor"]

_F32 = np.float32
Array = NDArray[Any]
_Opt = Array | None
_Est = TypeVar("_Est", bound="_BaseGraphNet")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class _BaseGraphNet(BaseEstimator):
    """Shared fitting machinery; subclasses define the output layer and the loss.

    Parameters are documented on :class:`GraphNetClassifier`.
    """

    _is_classifier = False

    def __init__(
        self,
        architecture: dict[str, Any] | None = None,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        l1: float = 0.0,
        l2: float = 1e-4,
        batch_size: int = 200,
        max_epochs: int = 200,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        patience: int = 10,
        tol: float = 1e-4,
        random_state: int | np.random.Generator | None = None,
        initial_weights: Mapping[str, Array] | None = None,
        class_weight: str | Mapping[Any, float] | None = None,
        lr_schedule: str = "constant",
        clip_norm: float = 0.0,
        shift: int = 0,
        warmup_epochs: int = 0,
        prune: float = 0.0,
        precision: str = "float32",
        finetune_epochs: int = 5,
        scale_target: bool = True,
    ) -> None:
        self.architecture = architecture
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.l1 = l1
        self.l2 = l2
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tol = tol
        self.random_state = random_state
        self.initial_weights = initial_weights
        self.class_weight = class_weight
        self.lr_schedule, self.clip_norm, self.shift = lr_schedule, clip_norm, shift
        self.warmup_epochs = warmup_epochs
        self.prune, self.precision, self.finetune_epochs = prune, precision, finetune_epochs
        self.scale_target = scale_target

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Pickled before scale_target existed: such a regressor trained on the raw target.
        super().__setstate__({"scale_target": False, **state})

    # ---- hooks -------------------------------------------------------------------------------

    def _encode_targets(
        self, y: Array, sample_weight: Array | None
    ) -> tuple[Array, Array | None, dict[str, Any]]:
        """Return float32 2-D training targets, int class indices (or None), and the
        target-related attributes to set once fitting succeeds."""
        raise NotImplementedError

    # ---- fitting -----------------------------------------------------------------------------

    def _check_params(self) -> None:
        check_params(self)

    def fit(self: _Est, X: Any, y: Any, sample_weight: Any = None) -> _Est:
        """Train the network on ``X``, ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; cast to float32 once.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Class labels (classifier) or targets (regressor).
        sample_weight : array-like of shape (n_samples,), optional
            Row weights of the training loss (normalised to mean 1; with ``class_weight``
            multiplied by it).

        Returns
        -------
        self
            The fitted estimator.

        Raises
        ------
        ValueError
            If a parameter or the architecture is invalid, or the data are unusable.
        DivergenceError
            If the training loss becomes NaN or infinite.
        """
        self._check_params()
        X, y = validate_data(
            self,
            X,
            y,
            dtype=_F32,
            order="C",
            y_numeric=not self._is_classifier,
            multi_output=not self._is_classifier,
        )
        if sample_weight is not None:  # scikit-learn's own checks (shape, type, finite)
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        targets, class_index, target_attrs = self._encode_targets(y, sample_weight)
        steps = parse_architecture(self.architecture, X.shape[1], targets.shape[1])
        # A Generator from default_rng, never numpy's global state. An int or None seeds a new
        # one; a Generator passed in is used (and advanced) as is.
        rng = np.random.default_rng(self.random_state)

        settings = Settings(
            optimizer=self.optimizer,
            learning_rate=self.learning_rate,
            l1=self.l1,
            l2=self.l2,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            early_stopping=self.early_stopping,
            validation_fraction=self.validation_fraction,
            patience=self.patience,
            tol=self.tol,
            lr_schedule=self.lr_schedule,
            clip_norm=float(self.clip_norm),
            shift=int(self.shift),
            warmup_epochs=int(self.warmup_epochs),
            image_shape=tuple(input_shape_of(self.architecture, X.shape[1])),
        )
        row_weights = loss_weights(
            self.class_weight, class_index, sample_weight, target_attrs.get("classes_")
        )
        x_train, t_train, c_train, validation, split_weights = split(
            settings, X, targets, class_index, rng, row_weights
        )
        net, flat, grad_w, grad_b, grad, n_weights = init_network(steps, rng, self.initial_weights)
        # One BLAS thread: at these matrix sizes (batch <= a few hundred rows, <= 512 units) a
        # second thread gains ~10% on an idle machine and, since OpenBLAS threads spin while
        # they wait, costs 10-20x when another process holds a core (an evaluation worker next
        # to a refit in the main process). It also makes a fit compute the same way wherever
        # it runs: evaluation workers use one thread too.
        with threadpool_limits(limits=1, user_api="blas"):
            losses, scores, val_losses, best = train(settings, self._loss_and_delta, net,
                flat, grad, grad_w, grad_b, n_weights, x_train, t_train, c_train, validation,
                rng, split_weights)  # fmt: skip
            if is_compressed(self.prune, self.precision):
                losses = losses + prune_finetune_quantise(settings, self._loss_and_delta, net,
                    flat, grad, grad_w, grad_b, n_weights, (x_train, t_train, c_train), rng,
                    self.prune, self.precision, self.finetune_epochs, split_weights)[1]  # fmt: skip

        # Fitted attributes are set only once training succeeded.
        self.loss_curve_ = losses
        self.validation_scores_ = scores
        self.validation_losses_ = val_losses
        self.best_validation_score_ = best
        self.n_epochs_ = len(losses)
        for name, value in target_attrs.items():
            setattr(self, name, value)
        self.n_outputs_ = int(targets.shape[1])
        self._steps = steps
        self.n_params_ = int(flat.size)
        self.coefs_ = {s.node_id: w for s, w in zip(steps, net.weights, strict=True)}
        self.intercepts_ = {s.node_id: b for s, b in zip(steps, net.biases, strict=True)}
        return self

    def payload(self) -> bytes:
        """The fitted weights as the payload an export writes (:mod:`evosearch.nn.compress`)."""
        check_is_fitted(self)
        weights, biases = self.coefs_.values(), self.intercepts_.values()
        return encode(list(weights), list(biases), float(self.prune), self.precision)

    def weight_blocks(self) -> dict[str, Array]:
        """Copies of the fitted weights, split per edge, in the ``initial_weights`` format.

        Passing the result as ``initial_weights`` to a new estimator starts its training from
        these weights wherever its architecture has the same edges and layer widths.

        Returns
        -------
        dict of str to ndarray
            ``"w:{pred_id}:{node_id}"`` is the float32 block of shape ``(units of pred, units of
            node)`` of node ``node_id``'s weight matrix that reads node ``pred_id``'s output
            (node ``0`` is the input, so its blocks have ``n_features_in_`` rows), one per edge;
            ``"b:{node_id}"`` is the float32 bias of shape ``(units,)`` of each hidden and
            output node (dense nodes; another layer kind names its own blocks). The arrays
            are copies: changing them does not change the estimator.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        """
        check_is_fitted(self)
        weights = [self.coefs_[s.node_id] for s in self._steps]
        biases = [self.intercepts_[s.node_id] for s in self._steps]
        return {key: block.copy() for key, block in iter_blocks(self._steps, weights, biases)}

    def _loss_and_delta(
        self, ws: Workspace, out: Array, targets: Array, classes: _Opt, weights: _Opt = None
    ) -> float:
        """Mean (row-weighted) batch loss; leaves d(loss)/d(output pre-activation) in ``out``."""
        raise NotImplementedError

    def __sklearn_is_fitted__(self) -> bool:
        # validate_data sets n_features_in_ before training, which may still fail.
        return hasattr(self, "_steps")

    def _raw_predict(self, X: Any) -> Array:
        """Output-layer values in float64.

        Training runs in float32, but predictions are computed in float64 from the float32
        weights and the float32-rounded inputs (what training saw): float32 matrix products
        round differently depending on how many rows they get (a single row goes through
        gemv), so float32 predictions of a sample would depend on the rest of the batch.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=_F32, order="C").astype(np.float64)
        weights = [self.coefs_[s.node_id].astype(np.float64) for s in self._steps]
        biases = [self.intercepts_[s.node_id].astype(np.float64) for s in self._steps]
        with np.errstate(over="ignore", invalid="ignore"):
            return Network(self._steps, weights, biases).predict_raw(X)


class GraphNetClassifier(ClassifierMixin, _BaseGraphNet):
    __doc__ = (
        """Neural network classifier over a DAG of layers (float32 numpy).

    The output layer is a softmax over ``n_classes`` units (also for binary problems) trained
    with cross-entropy.
"""
        + PARAMS_DOC
        + OPTIONS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
"""
        + ATTRS_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> arch = {"layers": [{"id": 2, "units": 16, "activation": "tanh"}],
    ...         "edges": [[0, 2], [2, 1], [0, 1]]}
    >>> clf = GraphNetClassifier(arch, learning_rate=0.01, max_epochs=50,
    ...                          early_stopping=False, random_state=0)
    >>> from evosearch.nn import count_parameters
    >>> clf.fit(X, y).n_params_ == count_parameters(arch, 4, 3)
    True
    >>> clf.score(X, y) > 0.9
    True
    """
    )

    _is_classifier = True

    def _encode_targets(
        self, y: Array, sample_weight: Array | None
    ) -> tuple[Array, Array | None, dict[str, Any]]:
        check_classification_targets(y)
        classes, class_index = np.unique(y, return_inverse=True)
        class_index = class_index.reshape(-1).astype(np.intp)
        onehot = np.zeros((class_index.size, len(classes)), _F32)
        onehot[np.arange(class_index.size), class_index] = 1.0
        return onehot, class_index, {"classes_": classes}

    def _loss_and_delta(
        self, ws: Workspace, out: Array, targets: Array, classes: _Opt, weights: _Opt = None
    ) -> float:
        # Softmax + cross-entropy fused: the delta is probabilities - onehot, and the loss is
        # log(sum(exp(z - max))) - (z_y - max), which needs no clipping.
        m = ws.m
        col = ws.col
        np.max(out, axis=1, out=col)
        out -= col[:, None]
        true_logit = out[ws.rows, classes]
        np.exp(out, out=out)
        np.sum(out, axis=1, out=col)
        if weights is None:
            loss = float(np.log(col).sum() - true_logit.sum()) / m
        else:
            loss = float(np.dot(weights, np.log(col) - true_logit)) / m
        out /= col[:, None]
        out -= targets
        out *= 1.0 / m
        if weights is not None:
            out *= weights[:, None]
        return loss

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Float64 probabilities, columns ordered as ``classes_``.
        """
        logits = self._raw_predict(X)
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits

    def predict(self, X: Any) -> Array:
        """Most probable class label for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]


class GraphNetRegressor(MultiOutputMixin, RegressorMixin, _BaseGraphNet):
    __doc__ = (
        """Neural network regressor over a DAG of layers (float32 numpy).

    The output layer is linear with one unit per target, trained with half squared error.
    A 1-D ``y`` gives 1-D predictions.
"""
        + PARAMS_DOC
        + OPTIONS_DOC
        + """
    Attributes
    ----------
    y_mean_, y_scale_ : ndarray of shape (n_targets,) or None
        With ``scale_target``: the mean and scale of each target column on the training rows;
        the network (``coefs_``, ``loss_curve_``, :meth:`weight_blocks`, :meth:`payload`)
        works in ``(y - y_mean_) / y_scale_`` and :meth:`predict` maps back. None without.
"""
        + ATTRS_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X @ [1.0, -2.0, 0.5]
    >>> reg = GraphNetRegressor(learning_rate=0.01, batch_size=32, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    >>> reg.score(X, y) > 0.9
    True
    """
    )

    def _encode_targets(
        self, y: Array, sample_weight: Array | None
    ) -> tuple[Array, Array | None, dict[str, Any]]:
        columns = y.reshape(y.shape[0], -1)
        attrs: dict[str, Any] = {"_y_ndim": y.ndim, "y_mean_": None, "y_scale_": None}
        if self.scale_target:
            mean, scale = target_scaling(columns, sample_weight)
            columns = (columns - mean) / scale
            attrs.update(y_mean_=mean, y_scale_=scale)
        return np.ascontiguousarray(columns, dtype=_F32), None, attrs

    def _loss_and_delta(
        self, ws: Workspace, out: Array, targets: Array, classes: _Opt, weights: _Opt = None
    ) -> float:
        out -= targets
        if weights is not None:
            loss = 0.5 * float(np.dot(weights, np.sum(out * out, axis=1))) / ws.m
            out *= weights[:, None] / ws.m
            return loss
        flat = out.reshape(-1)
        loss = 0.5 * float(np.dot(flat, flat)) / ws.m
        out *= 1.0 / ws.m
        return loss

    def predict(self, X: Any) -> Array:
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
            Float64; 1-D when the model was fitted on a 1-D ``y``.
        """
        pred = self._raw_predict(X)
        # Absent from a model pickled before scale_target existed: it predicts raw outputs.
        mean, scale = getattr(self, "y_mean_", None), getattr(self, "y_scale_", None)
        if mean is not None:
            pred = pred * scale + mean
        return pred.ravel() if self._y_ndim == 1 else pred
