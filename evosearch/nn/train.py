"""Training a :class:`~evosearch.nn.graph.Network`: parameter layout and initialisation, the
early-stopping split, minibatch epochs, weight penalties and early stopping.

All parameters live in one contiguous float32 vector: every layer's weights first (in execution
order), then every layer's biases; the per-layer arrays are views into it. This keeps the
optimiser step and the weight penalties (on the leading weights part only) to a handful of
vectorised operations whatever the depth of the graph, and lets early stopping keep the best
weights with a single copy. The passes write into buffers preallocated per batch size, so a
training step allocates almost nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from evosearch.nn.augment import ImageShifter
from evosearch.nn.graph import Network, Step, Workspace, iter_blocks, predict_chunk
from evosearch.nn.layers.base import Array
from evosearch.nn.optim import clip_by_norm, make_optimizer, schedule_factor

__all__ = ["DivergenceError", "Settings", "init_network", "loss_weights", "split", "train"]

_F32 = np.float32

LossAndDelta = Callable[..., float]
"""``(workspace, output, targets, classes[, row_weights])``: mean batch loss; leaves
d(loss)/d(output) in the output array it is given. Row weights are passed only when the fit
has them (class or sample weights)."""


class DivergenceError(ArithmeticError):
    """The training loss became NaN or infinite (typically a learning rate that is too high)."""


@dataclass(frozen=True)
class Settings:
    """The training hyperparameters (validated by the estimator)."""

    optimizer: str
    learning_rate: float
    l1: float
    l2: float
    batch_size: int
    max_epochs: int
    early_stopping: bool
    validation_fraction: float
    patience: int
    tol: float
    # Off by default: training is then exactly what it was before these options existed.
    lr_schedule: str = "constant"
    clip_norm: float = 0.0
    # Linear learning-rate ramp over this many epochs' steps (0: off).
    warmup_epochs: int = 0
    # Random translations of training images by up to this many pixels (0: off); image_shape
    # is the (height, width, channels) of the input rows, None for flat input.
    shift: int = 0
    image_shape: tuple[int, ...] | None = None


def init_network(
    steps: list[Step],
    rng: np.random.Generator,
    initial_weights: Mapping[str, Any] | None = None,
) -> tuple[Network, Array, list[Array], list[Array], Array, int]:
    """Lay the parameters out in one vector, let each kind initialise its own, then copy the
    blocks of ``initial_weights`` whose keys and shapes match over them.

    Returns the network, the parameter vector, the per-layer weight and bias gradient views,
    the gradient vector and the number of (penalised) weights at its start.
    """
    shapes = [step.parameter_shapes() for step in steps]
    n_weights = sum(math.prod(w) for w, _ in shapes)
    n_params = n_weights + sum(math.prod(b) for _, b in shapes)
    flat = np.empty(n_params, _F32)
    grad = np.empty(n_params, _F32)
    weights, biases, grad_w, grad_b = [], [], [], []
    w_at, b_at = 0, n_weights
    for step, (w_shape, b_shape) in zip(steps, shapes, strict=True):
        w_size, b_size = math.prod(w_shape), math.prod(b_shape)
        weights.append(flat[w_at : w_at + w_size].reshape(w_shape))
        grad_w.append(grad[w_at : w_at + w_size].reshape(w_shape))
        biases.append(flat[b_at : b_at + b_size].reshape(b_shape))
        grad_b.append(grad[b_at : b_at + b_size].reshape(b_shape))
        step.kind.initialize(step.attrs, step.in_shape, weights[-1], biases[-1], rng)
        w_at += w_size
        b_at += b_size
    if initial_weights:
        # Inherited blocks overwrite the random ones only after every draw was made, so the
        # random stream (shuffling, dropout) is the same with or without inheritance.
        for key, block in iter_blocks(steps, weights, biases):
            value = initial_weights.get(key)
            if value is None:
                continue
            value = np.asarray(value)
            # A layer whose width changed since the parent cannot reuse its weights.
            if value.shape == block.shape:
                block[...] = value.astype(_F32, copy=False)
    return Network(steps, weights, biases), flat, grad_w, grad_b, grad, n_weights


def loss_weights(
    class_weight: Any, class_index: Array | None, sample_weight: Any, classes: Any = None
) -> Array | None:
    """Per-row loss weights, ``class_weight`` times ``sample_weight`` scaled to mean 1 (so the
    learning rate means what it means unweighted), float32; None when neither is given.

    ``class_weight``: None/"none", "balanced" (``n / (n_classes * class size)``) or a dict of
    class label to weight; ``class_index``: each row's class (None for a regressor).

    Raises
    ------
    ValueError
        For an unknown ``class_weight``, bad or all-zero ``sample_weight``.
    """
    cw = class_weight
    if not (cw is None or cw in ("none", "balanced") or isinstance(cw, Mapping)):
        raise ValueError(f"class_weight must be None, 'balanced' or a dict; got {cw!r}")
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        n_rows = None if class_index is None else class_index.size
        if n_rows is not None and weights.size != n_rows:
            raise ValueError(f"sample_weight has {weights.size} values for {n_rows} samples")
        if not np.all(np.isfinite(weights)) or (weights < 0).any():
            raise ValueError("sample_weight must be finite non-negative numbers")
    if cw is not None and cw != "none":
        if class_index is None:
            raise ValueError("class_weight applies to classifiers only")
        if isinstance(cw, Mapping):
            per_class = np.array([float(cw.get(c, 1.0)) for c in classes.tolist()])
        else:
            counts = np.bincount(class_index).astype(np.float64)
            per_class = class_index.size / (counts.size * np.maximum(counts, 1.0))
        weights = per_class[class_index] * (1.0 if weights is None else weights)
    if weights is None:
        return None
    if weights.sum() <= 0:
        raise ValueError("sample weights are all zero: no row counts")
    return (weights * (weights.size / weights.sum())).astype(_F32)


def split(
    settings: Settings,
    X: Array,
    targets: Array,
    class_index: Array | None,
    rng: np.random.Generator,
    weights: Array | None = None,
) -> tuple[
    Array,
    Array,
    Array | None,
    tuple[Array, Array, Array | None] | None,
    tuple[Array, Array | None] | None,
]:
    """Hold out the early-stopping validation slice (stratified for classifiers if possible).

    With fewer than 2 validation samples or no training sample left, early stopping is
    skipped and all data are used for training. Row ``weights`` (if any) come back last, as
    ``(training rows' weights, validation rows' weights or None)``.
    """
    n = X.shape[0]
    n_val = math.ceil(settings.validation_fraction * n)
    if not settings.early_stopping or n_val < 2 or n - n_val < 1:
        return X, targets, class_index, None, None if weights is None else (weights, None)
    seed = int(rng.integers(2**32 - 1))
    indices = np.arange(n)
    try:
        train_idx, val_idx = train_test_split(
            indices, test_size=n_val, random_state=seed, stratify=class_index
        )
    except ValueError:  # a class too small to stratify: fall back to a plain split
        train_idx, val_idx = train_test_split(indices, test_size=n_val, random_state=seed)
    train_idx = np.sort(train_idx)

    def take(a: Array | None, idx: Array) -> Array | None:
        return None if a is None else np.ascontiguousarray(a[idx])

    validation = (X[val_idx], targets[val_idx], take(class_index, val_idx))
    train_part = X[train_idx], targets[train_idx], take(class_index, train_idx)
    if weights is None:
        return (*train_part, validation, None)
    return (*train_part, validation, (weights[train_idx], weights[val_idx]))


def _forward_all(net: Network, ws: Workspace, x: Array) -> Array:
    """The outputs for all rows of ``x``, without training noise, in chunks of ``ws.m`` rows."""
    n = x.shape[0]
    if n <= ws.m:
        return net.forward(ws, x, None)
    out = np.empty((n, *net.steps[-1].out_shape), _F32)
    for start in range(0, n, ws.m):
        stop = min(start + ws.m, n)
        if stop - start < ws.m:
            ws = Workspace(net.steps, stop - start, train=False)
        out[start:stop] = net.forward(ws, x[start:stop], None)
    return out


def _r2(pred: Array, target: Array, ss_tot: Array) -> float:
    """Uniform-average R² (as :func:`sklearn.metrics.r2_score`, with finite fallbacks)."""
    ss_res = np.sum((target.astype(np.float64) - pred) ** 2, axis=0)
    scores = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), 0.0)
    scores = np.where((ss_tot == 0) & (ss_res == 0), 1.0, scores)
    return float(np.mean(scores))


def train(
    settings: Settings,
    loss_and_delta: LossAndDelta,
    net: Network,
    flat: Array,
    grad: Array,
    grad_w: list[Array],
    grad_b: list[Array],
    n_weights: int,
    x_train: Array,
    t_train: Array,
    c_train: Array | None,
    validation: tuple[Array, Array, Array | None] | None,
    rng: np.random.Generator,
    row_weights: tuple[Array, Array | None] | None = None,
    mask: Array | None = None,
) -> tuple[list[float], list[float] | None, list[float] | None, float | None]:
    """Run the epochs; return the loss curve, validation scores and losses, best score.

    ``row_weights``: the training rows' weights (handed to ``loss_and_delta``) and the
    validation rows' (weighting the early-stopping loss), as :func:`split` returns them.
    ``mask`` (float32, one per weight): multiplied into the weights after every step, so pruned
    weights stay 0 while the rest fine-tune (:mod:`evosearch.nn.compress`).

    Raises
    ------
    DivergenceError
        If the training loss becomes NaN or infinite.
    """
    n = x_train.shape[0]
    batch = min(int(settings.batch_size), n)
    steps = net.steps
    ws_full = Workspace(steps, batch, train=True)
    ws_last = Workspace(steps, n % batch, train=True) if n % batch else ws_full
    optimizer = make_optimizer(settings.optimizer, flat.size, settings.learning_rate)
    l1, l2 = float(settings.l1), float(settings.l2)
    w_flat, gw_flat = flat[:n_weights], grad[:n_weights]
    w_tmp = np.empty(n_weights, _F32) if (l1 or l2) else w_flat
    xs, ts = np.empty_like(x_train), np.empty_like(t_train)
    cs = None if c_train is None else np.empty_like(c_train)
    w_train, w_val = (None, None) if row_weights is None else row_weights
    wb = None if w_train is None else np.empty_like(w_train)
    shifter = None
    if settings.shift > 0:
        if settings.image_shape is None or len(settings.image_shape) != 3:
            raise ValueError("shift moves images: it needs input_shape [height, width, channels]")
        height, width, channels = settings.image_shape
        shifter = ImageShifter((height, width, channels), settings.shift, batch)

    # A network that starts from trained weights (inherited, or pruned for fine-tuning) meets
    # a fresh optimizer whose first steps are as large as the learning rate in every weight
    # (Adam's bias correction); ramping the rate up avoids knocking it out of its minimum. The
    # ramp is capped at the training's own epochs (a fidelity rung's or the fine-tuning's
    # fewer ones), so that the rate always reaches its full value.
    warmup_steps = min(settings.warmup_epochs, settings.max_epochs) * -(-n // batch)
    step_count = 0

    val_ws = None
    if validation is not None:
        x_val, t_val, c_val = validation
        if c_val is None:
            t_val64 = t_val.astype(np.float64)
            ss_tot = np.sum((t_val64 - t_val64.mean(axis=0)) ** 2, axis=0)
        # Image networks check the validation rows in chunks (their buffers are large).
        val_ws = Workspace(steps, min(x_val.shape[0], predict_chunk(steps, 4)), train=False)
        best_flat = flat.copy()
        best_score = -np.inf
        best_loss = np.inf
    scores: list[float] = []
    val_losses: list[float] = []
    losses: list[float] = []
    no_improvement = 0

    # Non-finite values are detected explicitly (DivergenceError), so numpy's warnings about
    # them would only be noise.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for epoch in range(settings.max_epochs):
            epoch_lr = settings.learning_rate
            if settings.lr_schedule != "constant":
                epoch_lr *= schedule_factor(settings.lr_schedule, epoch, settings.max_epochs)
                optimizer.lr = epoch_lr
            perm = rng.permutation(n)
            np.take(x_train, perm, axis=0, out=xs)
            np.take(t_train, perm, axis=0, out=ts)
            if cs is not None and c_train is not None:
                np.take(c_train, perm, axis=0, out=cs)
            if wb is not None and w_train is not None:
                np.take(w_train, perm, axis=0, out=wb)
            total = 0.0
            for start in range(0, n, batch):
                stop = min(start + batch, n)
                m = stop - start
                ws = ws_full if m == batch else ws_last
                x_batch = xs[start:stop] if shifter is None else shifter(xs[start:stop], rng)
                out = net.forward(ws, x_batch, rng)
                c_batch = None if cs is None else cs[start:stop]
                if wb is None:
                    loss = loss_and_delta(ws, out, ts[start:stop], c_batch)
                else:
                    loss = loss_and_delta(ws, out, ts[start:stop], c_batch, wb[start:stop])
                if l2:
                    loss += 0.5 * l2 * float(np.dot(w_flat, w_flat)) / m
                if l1:
                    loss += l1 * float(np.abs(w_flat, out=w_tmp).sum()) / m
                if not math.isfinite(loss):
                    raise DivergenceError(
                        f"training loss became {loss} in epoch {epoch + 1}; "
                        f"try a smaller learning_rate (now {settings.learning_rate})"
                    )
                total += loss * m
                net.backward(ws, grad_w, grad_b)
                # Penalties on weights only, divided by the batch size like MLP's alpha.
                if l2:
                    np.multiply(w_flat, l2 / m, out=w_tmp)
                    gw_flat += w_tmp
                if l1:
                    np.sign(w_flat, out=w_tmp)
                    w_tmp *= l1 / m
                    gw_flat += w_tmp
                if settings.clip_norm > 0.0:
                    clip_by_norm(grad, settings.clip_norm)
                if step_count < warmup_steps:  # its last step is at the full rate
                    optimizer.lr = epoch_lr * (step_count + 1) / warmup_steps
                step_count += 1
                optimizer.step(flat, grad)
                if mask is not None:
                    w_flat *= mask
            losses.append(total / n)

            if val_ws is not None:
                pred = _forward_all(net, val_ws, x_val)
                if c_val is not None:
                    score = float(np.mean(np.argmax(pred, axis=1) == c_val))
                    # forward() leaves logits: cross-entropy via a stable log-sum-exp.
                    logits = pred.astype(np.float64)
                    top = logits.max(axis=1)
                    log_norm = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
                    picked = logits[np.arange(logits.shape[0]), c_val]
                    if w_val is None:
                        val_loss = float(np.mean(log_norm - picked))
                    else:
                        val_loss = float(np.average(log_norm - picked, weights=w_val))
                else:
                    score = _r2(pred, t_val, ss_tot)
                    squared = np.sum((pred - t_val) ** 2, axis=-1)
                    if w_val is None:
                        val_loss = 0.5 * float(np.mean(squared))
                    else:
                        val_loss = 0.5 * float(np.average(squared, weights=w_val))
                scores.append(score)
                val_losses.append(val_loss)
                # Validation *loss* decides: accuracy on a small slice plateaus within a few
                # epochs, and keeping its first maximum restores an under-trained network.
                if not val_loss < best_loss - settings.tol:
                    no_improvement += 1
                else:
                    no_improvement = 0
                if val_loss < best_loss:
                    best_loss = val_loss
                    best_score = score
                    np.copyto(best_flat, flat)
                if no_improvement >= settings.patience:
                    break
    if val_ws is None:
        return losses, None, None, None
    np.copyto(flat, best_flat)
    return losses, scores, val_losses, best_score
