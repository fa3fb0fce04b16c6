"""Optimisers: in-place updates of one flat float32 parameter vector.

Every parameter of a network lives in one contiguous vector (see :mod:`evosearch.nn.train`), so an
optimiser step is a handful of vectorised operations whatever the depth of the graph.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["LR_SCHEDULES", "OPTIMIZERS", "clip_by_norm", "make_optimizer", "schedule_factor"]

OPTIMIZERS: tuple[str, ...] = (
    "sgd",
    "momentum",
    "nesterov",
    "adam",
    "adamax",
    "rmsprop",
    "adagrad",
    "adadelta",
)
"""Names accepted by the ``optimizer`` parameter (and by a search space's ``optimizer``)."""

LR_SCHEDULES: tuple[str, ...] = ("constant", "step", "cosine")
"""Learning-rate schedules (``lr_schedule``): see :func:`schedule_factor`."""


def schedule_factor(schedule: str, epoch: int, max_epochs: int) -> float:
    """The factor on the learning rate during ``epoch`` (0-based) of ``max_epochs``.

    ``constant``: 1. ``step``: 1, then 0.1 from half the epoch budget on, 0.01 from three
    quarters on. ``cosine``: ``(1 + cos(pi * epoch / max_epochs)) / 2``, from 1 towards 0.
    Early stopping may end training before the budget, the schedule still counts in budget.

    Examples
    --------
    >>> [schedule_factor("step", e, 8) for e in (0, 3, 4, 6)]
    [1.0, 1.0, 0.1, 0.01]
    >>> schedule_factor("cosine", 5, 10)
    0.5
    """
    if schedule == "constant":
        return 1.0
    if schedule == "step":
        return 1.0 if 2 * epoch < max_epochs else 0.1 if 4 * epoch < 3 * max_epochs else 0.01
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * epoch / max_epochs))
    raise ValueError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}; got {schedule!r}")


def clip_by_norm(grad: Array, max_norm: float) -> None:
    """Scale ``grad`` in place so that its Euclidean norm is at most ``max_norm`` (> 0)."""
    norm = math.sqrt(float(np.dot(grad, grad)))
    if norm > max_norm:
        grad *= _F32(max_norm / norm)


Array = NDArray[Any]
_F32 = np.float32


class _Optimizer:
    """Updates a flat float32 parameter vector in place from its gradient."""

    def __init__(self, size: int, learning_rate: float) -> None:
        self.lr = float(learning_rate)
        self.tmp = np.empty(size, _F32)

    def step(self, params: Array, grad: Array) -> None:
        raise NotImplementedError


class _SGD(_Optimizer):
    def step(self, params: Array, grad: Array) -> None:
        np.multiply(grad, self.lr, out=self.tmp)
        params -= self.tmp


class _Momentum(_Optimizer):
    """Heavy-ball momentum (0.9); ``nesterov`` uses scikit-learn's look-ahead form."""

    def __init__(self, size: int, learning_rate: float, nesterov: bool) -> None:
        super().__init__(size, learning_rate)
        self.velocity = np.zeros(size, _F32)
        self.nesterov = nesterov
        self.mu = 0.9

    def step(self, params: Array, grad: Array) -> None:
        v, tmp = self.velocity, self.tmp
        v *= self.mu
        np.multiply(grad, self.lr, out=tmp)
        v -= tmp
        if self.nesterov:
            params -= tmp
            np.multiply(v, self.mu, out=tmp)
            params += tmp
        else:
            params += v


class _Adam(_Optimizer):
    def __init__(self, size: int, learning_rate: float) -> None:
        super().__init__(size, learning_rate)
        self.b1, self.b2, self.eps = 0.9, 0.999, 1e-8
        self.m = np.zeros(size, _F32)
        self.v = np.zeros(size, _F32)
        self.t = 0

    def step(self, params: Array, grad: Array) -> None:
        m, v, tmp = self.m, self.v, self.tmp
        self.t += 1
        m *= self.b1
        np.multiply(grad, 1.0 - self.b1, out=tmp)
        m += tmp
        v *= self.b2
        np.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - self.b2
        v += tmp
        # Bias correction folded into the step size, as in the paper and scikit-learn.
        lr_t = self.lr * math.sqrt(1.0 - self.b2**self.t) / (1.0 - self.b1**self.t)
        np.sqrt(v, out=tmp)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= lr_t
        params -= tmp


class _Adamax(_Optimizer):
    def __init__(self, size: int, learning_rate: float) -> None:
        super().__init__(size, learning_rate)
        self.b1, self.b2, self.eps = 0.9, 0.999, 1e-8
        self.m = np.zeros(size, _F32)
        self.u = np.zeros(size, _F32)
        self.t = 0

    def step(self, params: Array, grad: Array) -> None:
        m, u, tmp = self.m, self.u, self.tmp
        self.t += 1
        m *= self.b1
        np.multiply(grad, 1.0 - self.b1, out=tmp)
        m += tmp
        u *= self.b2
        np.abs(grad, out=tmp)
        np.maximum(u, tmp, out=u)
        np.add(u, self.eps, out=tmp)
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1.0 - self.b1**self.t)
        params -= tmp


class _RMSprop(_Optimizer):
    def __init__(self, size: int, learning_rate: float, rho: float | None) -> None:
        super().__init__(size, learning_rate)
        # rho=None gives Adagrad: squared gradients accumulate without decay.
        self.rho = rho
        self.eps = 1e-8
        self.v = np.zeros(size, _F32)

    def step(self, params: Array, grad: Array) -> None:
        v, tmp = self.v, self.tmp
        np.multiply(grad, grad, out=tmp)
        if self.rho is not None:
            v *= self.rho
            tmp *= 1.0 - self.rho
        v += tmp
        np.sqrt(v, out=tmp)
        tmp += self.eps
        np.divide(grad, tmp, out=tmp)
        tmp *= self.lr
        params -= tmp


class _Adadelta(_Optimizer):
    """Adadelta (Zeiler 2012), rho 0.9, epsilon 1e-6, its step scaled by the learning rate as
    in PyTorch and Keras (the paper's rule is a learning rate of 1)."""

    def __init__(self, size: int, learning_rate: float) -> None:
        super().__init__(size, learning_rate)
        self.rho, self.eps = 0.9, 1e-6
        self.v = np.zeros(size, _F32)  # running mean of squared gradients
        self.u = np.zeros(size, _F32)  # running mean of squared updates
        self.delta = np.empty(size, _F32)

    def step(self, params: Array, grad: Array) -> None:
        v, u, tmp, delta = self.v, self.u, self.tmp, self.delta
        v *= self.rho
        np.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - self.rho
        v += tmp
        # delta = sqrt(u + eps) / sqrt(v + eps) * grad
        np.add(u, self.eps, out=delta)
        np.add(v, self.eps, out=tmp)
        np.divide(delta, tmp, out=delta)
        np.sqrt(delta, out=delta)
        delta *= grad
        u *= self.rho
        np.multiply(delta, delta, out=tmp)
        tmp *= 1.0 - self.rho
        u += tmp
        delta *= self.lr
        params -= delta


def make_optimizer(name: str, size: int, learning_rate: float) -> _Optimizer:
    if name == "sgd":
        return _SGD(size, learning_rate)
    if name in ("momentum", "nesterov"):
        return _Momentum(size, learning_rate, nesterov=name == "nesterov")
    if name == "adam":
        return _Adam(size, learning_rate)
    if name == "adamax":
        return _Adamax(size, learning_rate)
    if name == "rmsprop":
        return _RMSprop(size, learning_rate, rho=0.9)
    if name == "adagrad":
        return _RMSprop(size, learning_rate, rho=None)
    if name == "adadelta":
        return _Adadelta(size, learning_rate)
    raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")
