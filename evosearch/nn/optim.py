"""Optimisers: in-place updates of one flat float32 parameter vector.

Every parameter of a network lives in one contiguous vector (see :mod:`evosearch.nn.train`), so an
optimiser step is a handful of vectorised operations whatever the depth of the graph.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["OPTIMIZERS", "make_optimizer"]

OPTIMIZERS: tuple[str, ...] = (
    "sgd",
    "momentum",
    "nesterov",
    "adam",
    "adamax",
    "rmsprop",
    "adagrad",
)
"""Names accepted by the ``optimizer`` parameter (and by a search space's ``optimizer``)."""

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
    raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")
