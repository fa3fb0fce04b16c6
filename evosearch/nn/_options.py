"""The estimators' parameters: their checks and their docs.

The optional training and compression parameters (:data:`OPTIONS_DOC`) are each off by default
(constant learning rate, no clipping, float32 weights unpruned), so an estimator that does not
set them trains exactly as before they existed. ``scale_target`` (a regressor's target
standardisation) is on: off, a regressor trains as it did before it existed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from evosearch.nn.compress import PRECISIONS
from evosearch.nn.optim import LR_SCHEDULES, OPTIMIZERS

__all__ = ["ATTRS_DOC", "OPTIONS_DOC", "PARAMS_DOC", "check_options", "check_params"]

#: The parameters every GraphNet estimator documents first (then :data:`OPTIONS_DOC`).
PARAMS_DOC = """
    Parameters
    ----------
    architecture : dict or None, default=None
        Layer graph ``{"layers": [...], "edges": [...]}`` (see :mod:`evosearch.nn.graph`);
        ``None`` is one hidden layer of 100 relu units. Validated at fit time (ValueError).
    optimizer : {"sgd", "momentum", "nesterov", "adam", "adamax", "rmsprop", "adagrad", \
"adadelta"}
        Update rule; momentum and nesterov use 0.9, adam/adamax betas (0.9, 0.999), rmsprop
        rho 0.9, epsilon 1e-8; adadelta rho 0.9, epsilon 1e-6, its step times the learning
        rate (PyTorch's form; 1.0 is the paper's rule).
    learning_rate : float, default=1e-3
        Step size (at the start of training, see ``lr_schedule``).
    l1, l2 : float, default=0.0 and 1e-4
        Penalties ``l1 * |W|_1 + l2 / 2 * ||W||^2`` on weights (not biases), divided by the batch
        size in each step as scikit-learn does (so ``l2`` means MLPClassifier's ``alpha``).
    batch_size : int, default=200
        Minibatch size (clipped to the number of training samples); data are reshuffled
        every epoch.
    max_epochs : int, default=200
        Epoch budget. Without early stopping exactly this many epochs are trained.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data (stratified for classifiers when
        possible), compute its loss (cross-entropy / squared error) after each epoch, stop after
        ``patience`` epochs without a decrease of more than ``tol``, and restore the weights of
        the lowest validation loss. Validation accuracy / R² is recorded too, but a small
        slice's accuracy plateaus early and its first maximum is an under-trained network.
        Skipped when the data cannot spare two validation samples.
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping.
    patience : int, default=10
        Epochs without improvement before stopping.
    tol : float, default=1e-4
        Minimum validation loss decrease that resets the patience counter.
    random_state : int, numpy.random.Generator or None, default=None
        Seed for ``numpy.random.default_rng`` (initialisation, shuffling, split, dropout). An
        int gives bit-identical results across fits; a Generator is used and advanced as is.
        NumPy's global random state is never touched; a legacy ``RandomState`` is not accepted.
    initial_weights : mapping of str to ndarray or None, default=None
        Weights to start training from instead of the random initialisation, e.g. a parent
        network's :meth:`weight_blocks`. For dense nodes (and the output node 1) keys are
        ``"w:{pred_id}:{node_id}"`` for the block of shape ``(units of pred, units of node)``
        of node ``node_id``'s weight matrix that reads node ``pred_id``'s output (node ``0`` is
        the input), and ``"b:{node_id}"`` for a bias of shape ``(units,)``; another layer kind
        names its blocks in its ``LayerKind.weight_blocks``. The network is first initialised
        as usual (drawing the same random numbers, so shuffling and dropout are unaffected),
        then every block whose key is present and whose shape matches is copied in as float32.
        Blocks with a missing key or another shape (a layer whose width changed) keep their
        random initialisation, and keys naming edges or nodes the architecture lacks are
        ignored. The arrays are not modified. Only the type is validated at fit time
        (ValueError if not a mapping).
    class_weight : {None, "balanced"} or dict, default=None
        Classifier only: ``"balanced"`` weights each row's loss by ``n / (n_classes * size of
        its class)``, so every class counts alike; a dict maps class labels to weights.
"""

#: The fitted attributes both estimators have.
ATTRS_DOC = """
    n_features_in_ : int
        Number of input features.
    n_outputs_ : int
        Width of the output layer.
    n_params_ : int
        Number of weights and biases (equals :func:`~evosearch.nn.count_parameters`).
    coefs_, intercepts_ : dict of int to ndarray
        Weights and biases of each node, keyed by node id, in execution order (the output node 1
        last); for a dense node the ``(fan_in, units)`` matrix and the ``(units,)`` vector.
        Float32.
    loss_curve_ : list of float
        Mean training loss (including the penalties) per epoch.
    validation_scores_ : list of float or None
        Validation accuracy / R² per epoch when early stopping was used, else None.
    validation_losses_ : list of float or None
        Validation loss per epoch when early stopping was used, else None.
    best_validation_score_ : float or None
        Validation score of the restored (lowest validation loss) epoch, else None.
    n_epochs_ : int
        Epochs trained.
"""

OPTIONS_DOC = """    lr_schedule : {"constant", "step", "cosine"}, default="constant"
        Learning rate by epoch (:func:`evosearch.nn.optim.schedule_factor`).
    clip_norm : float, default=0.0
        When > 0, each step's whole gradient is scaled down to at most this Euclidean norm.
    shift : int, default=0
        When > 0 (image input only), each training batch is moved by random offsets of up to
        this many pixels per axis, zero-filled (:mod:`evosearch.nn.augment`); 0 is off.
    warmup_epochs : int, default=0
        When > 0, the learning rate ramps up linearly over the steps of the first
        ``warmup_epochs`` epochs (at most all of them; also in the fine-tuning after pruning)
        to reach its full value on the ramp's last step; 0 is off.
    prune, precision, finetune_epochs : float, str, int, default=0.0, "float32", 5
        Compression after training (:mod:`evosearch.nn.compress`): zero the ``prune`` fraction
        of each layer's weights of smallest magnitude, fine-tune ``finetune_epochs`` epochs
        with them held at 0, store the weights as float32, float16, int8 or int4
        (per-output-channel scales); the fitted weights are the stored ones, read back.
    scale_target : bool, default=True
        Regressor only (a classifier ignores it): train on each target column standardised
        with the mean and standard deviation of the rows ``fit`` gets (weighted by
        ``sample_weight``; a constant column gets scale 1) and predict in the target's units
        (``y_mean_``, ``y_scale_``). The network then trains alike whatever the target's
        scale (a target around 35,000 would start with squared errors of 10⁹). False: the
        raw target, as before this parameter existed (and as an unpickled older model does).
"""


def check_options(estimator: Any) -> None:
    """Raise ``ValueError`` naming the first optional parameter of ``estimator`` that is bad."""
    for name, allowed in (("lr_schedule", LR_SCHEDULES), ("precision", PRECISIONS)):
        value = getattr(estimator, name)
        if value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    for name, low, high in (("clip_norm", 0.0, math.inf), ("prune", 0.0, 1.0)):
        value = getattr(estimator, name)
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not (ok and math.isfinite(value) and low <= value < high):
            rule = f"in [{low:g}, {high:g})"
            raise ValueError(f"{name} must be a finite number {rule}; got {value!r}")
    for name in ("early_stopping", "scale_target"):
        value = getattr(estimator, name)
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False; got {value!r}")
    for name in ("finetune_epochs", "shift", "warmup_epochs"):
        value = getattr(estimator, name)
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be an int >= 0; got {value!r}")


def check_params(estimator: Any) -> None:
    """Raise ``ValueError`` naming the first bad parameter of a GraphNet ``estimator``."""
    if estimator.initial_weights is not None and not isinstance(estimator.initial_weights, Mapping):
        raise ValueError(
            "initial_weights must be None or a mapping of block keys ('w:{pred}:{node}', "
            f"'b:{{node}}') to arrays; got {type(estimator.initial_weights).__name__}"
        )
    if estimator.optimizer not in OPTIMIZERS:
        raise ValueError(
            f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {estimator.optimizer!r}"
        )
    check_options(estimator)
    checks = [
        ("learning_rate", estimator.learning_rate, lambda v: v > 0, "> 0"),
        ("l1", estimator.l1, lambda v: v >= 0, ">= 0"),
        ("l2", estimator.l2, lambda v: v >= 0, ">= 0"),
        ("tol", estimator.tol, lambda v: v >= 0, ">= 0"),
        ("validation_fraction", estimator.validation_fraction, lambda v: 0 < v < 1, "in (0, 1)"),
    ]
    for name, value, ok, rule in checks:
        if (
            not isinstance(value, numbers.Real)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or not ok(value)
        ):
            raise ValueError(f"{name} must be a finite number {rule}; got {value!r}")
    for name, value in (
        ("batch_size", estimator.batch_size),
        ("max_epochs", estimator.max_epochs),
        ("patience", estimator.patience),
    ):
        if not _is_int(value) or value < 1:
            raise ValueError(f"{name} must be an int >= 1; got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
