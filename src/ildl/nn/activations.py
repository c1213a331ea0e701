"""Activation functions and their derivatives.

Each activation is a small object you can call on an array and ask for its derivative, so the same
code trains a layer (``Dense(8, activation="relu")``) and draws the activation figure::

    >>> from ildl.nn import activations
    >>> activations.relu(np.array([-1.0, 2.0]))
    array([0., 2.])
    >>> activations.get("sigmoid").derivative(np.array([0.0]))
    array([0.25])

Every function keeps the input's dtype and works elementwise on any shape, except ``softmax``,
which normalises over the last axis.
"""

from __future__ import annotations

import math

import numpy as np

from ..validation import check_flag, check_number
from . import threads
from .registry import Registry


class ActivationFunction:
    """An activation ``y = f(x)`` with its derivative ``dy/dx``.

    Subclasses implement ``__call__`` and ``derivative``. ``backward`` turns the gradient of the
    loss with respect to the output into the gradient with respect to the input; it may reuse the
    saved output ``y`` (sigmoid' = y (1 - y)) so training does not compute ``f`` twice. Both take
    an optional ``out``, an array shaped and typed like their result, which ``backward`` writes
    into, and ``__call__`` too where ``writes_out`` says so (a layer passes arrays it keeps
    between training steps); the returned array is the result either way.
    """

    name = "activation"
    writes_out = False  # whether __call__ writes its result into ``out``

    def __call__(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        """Elementwise dy/dx at ``x``; ``y = f(x)`` may be passed to save work."""
        raise NotImplementedError

    def backward(self, x: np.ndarray, y: np.ndarray, grad_y: np.ndarray,
                 out: np.ndarray | None = None) -> np.ndarray:
        """dL/dx from dL/dy (chain rule, elementwise): ``grad_y * f'(x)``."""
        return np.multiply(grad_y, self.derivative(x, y), out=out)

    def get_config(self) -> dict:
        return {}

    def __repr__(self) -> str:
        return f"<activation {self.name}>"


class Linear(ActivationFunction):
    """Identity, ``f(x) = x``: the output of a layer with no activation."""

    name = "linear"

    def __call__(self, x, out=None):
        return x

    def derivative(self, x, y=None):
        return np.ones_like(x)

    def backward(self, x, y, grad_y, out=None):
        return grad_y


class ReLU(ActivationFunction):
    """Rectified linear unit, ``max(0, x)``; derivative 1 for x > 0 and 0 otherwise (0 at x = 0)."""

    name = "relu"
    writes_out = True

    def __call__(self, x, out=None):
        if np.ndim(x) == 0 or not isinstance(x, np.ndarray):
            return np.maximum(x, 0)
        y = np.empty_like(x) if out is None else out  # max(x, 0), whole images per thread
        threads.split_batch(lambda rows: np.maximum(x[rows], 0, out=y[rows]), len(x), x.size)
        return y

    def derivative(self, x, y=None):
        return (x > 0).astype(x.dtype)

    def backward(self, x, y, grad_y, out=None):
        # The unit passes the gradient where it was on (y > 0) and blocks it where it was off:
        # grad_y * (y > 0), the 0/1 mask written straight as floats (no boolean array).
        grad_x = np.empty_like(grad_y) if out is None else out

        def pass_where_on(rows):
            np.greater(y[rows], 0, out=grad_x[rows])
            np.multiply(grad_y[rows], grad_x[rows], out=grad_x[rows])

        threads.split_batch(pass_where_on, len(grad_y), grad_y.size)
        return grad_x


class LeakyReLU(ActivationFunction):
    """``x`` for x > 0 and ``negative_slope * x`` otherwise (Keras default slope 0.2)."""

    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.2):
        self.negative_slope = check_number(negative_slope, "negative_slope", "LeakyReLU")

    def __call__(self, x, out=None):
        return np.where(x > 0, x, x * self.negative_slope)

    def derivative(self, x, y=None):
        return np.where(x > 0, 1, self.negative_slope).astype(x.dtype)

    def get_config(self):
        return {"negative_slope": self.negative_slope}


class ELU(ActivationFunction):
    """Exponential linear unit: ``x`` for x > 0, ``alpha (e^x - 1)`` otherwise."""

    name = "elu"

    def __init__(self, alpha: float = 1.0):
        self.alpha = check_number(alpha, "alpha", "ELU")

    def __call__(self, x, out=None):
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def derivative(self, x, y=None):
        return np.where(x > 0, 1, self.alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)

    def get_config(self):
        return {"alpha": self.alpha}


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    # 1 / (1 + e^-x) overflows for very negative x; e^x / (1 + e^x) overflows for very positive x.
    # Using e^(-|x|) in both branches never overflows.
    exp_neg_abs = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + exp_neg_abs), exp_neg_abs / (1 + exp_neg_abs))


class Sigmoid(ActivationFunction):
    """Logistic function ``1 / (1 + e^-x)`` in (0, 1); derivative ``y (1 - y)``."""

    name = "sigmoid"

    def __call__(self, x, out=None):
        return _stable_sigmoid(x)

    def derivative(self, x, y=None):
        y = self(x) if y is None else y
        return y * (1 - y)


class Tanh(ActivationFunction):
    """Hyperbolic tangent in (-1, 1); derivative ``1 - y^2``."""

    name = "tanh"

    def __call__(self, x, out=None):
        return np.tanh(x)

    def derivative(self, x, y=None):
        y = np.tanh(x) if y is None else y
        return 1 - y * y


class Softplus(ActivationFunction):
    """Smooth ReLU ``log(1 + e^x)``; its derivative is the sigmoid."""

    name = "softplus"

    def __call__(self, x, out=None):
        return np.logaddexp(0, x).astype(x.dtype, copy=False)

    def derivative(self, x, y=None):
        return _stable_sigmoid(x)


class Swish(ActivationFunction):
    """Swish / SiLU ``x * sigmoid(x)``; derivative ``s + x s (1 - s)`` with ``s = sigmoid(x)``."""

    name = "swish"

    def __call__(self, x, out=None):
        return x * _stable_sigmoid(x)

    def derivative(self, x, y=None):
        s = _stable_sigmoid(x)
        return s + x * s * (1 - s)


_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _erf(x: np.ndarray) -> np.ndarray:
    # NumPy has no vectorised erf; math.erf through frompyfunc is exact and fast enough for GELU
    # on the sizes ildl trains.
    return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype)


class GELU(ActivationFunction):
    """Gaussian error linear unit ``x Phi(x)`` (``approximate=True``: the tanh formula).

    Keras and PyTorch default to the exact form with the normal CDF ``Phi``.
    """

    name = "gelu"

    def __init__(self, approximate: bool = False):
        self.approximate = check_flag(approximate, "approximate", "GELU")

    def __call__(self, x, out=None):
        if self.approximate:
            inner = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
            return 0.5 * x * (1 + np.tanh(inner))
        return 0.5 * x * (1 + _erf(x / _SQRT_2))

    def derivative(self, x, y=None):
        if self.approximate:
            inner = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
            tanh_inner = np.tanh(inner)
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x**2)
            return 0.5 * (1 + tanh_inner) + 0.5 * x * (1 - tanh_inner**2) * d_inner
        cdf = 0.5 * (1 + _erf(x / _SQRT_2))
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return (cdf + x * pdf).astype(x.dtype, copy=False)

    def get_config(self):
        return {"approximate": self.approximate}


class Softmax(ActivationFunction):
    """``e^x_i / sum_j e^x_j`` over the last axis: turns scores into class probabilities.

    Its Jacobian is not diagonal, so ``derivative`` returns only its diagonal ``y (1 - y)`` (what
    the activation figure plots) while ``backward`` applies the full Jacobian:
    ``dL/dx = y * (dL/dy - sum(dL/dy * y))``.
    """

    name = "softmax"
    writes_out = True

    def __call__(self, x, out=None):
        shifted = np.subtract(x, x.max(axis=-1, keepdims=True), out=out)  # no overflow in exp
        exp = np.exp(shifted, out=shifted)
        exp /= exp.sum(axis=-1, keepdims=True)
        return exp

    def derivative(self, x, y=None):
        y = self(x) if y is None else y
        return y * (1 - y)

    def backward(self, x, y, grad_y, out=None):
        return np.multiply(y, grad_y - (grad_y * y).sum(axis=-1, keepdims=True), out=out)


linear = Linear()
relu = ReLU()
leaky_relu = LeakyReLU()
elu = ELU()
sigmoid = Sigmoid()
tanh = Tanh()
softmax = Softmax()
softplus = Softplus()
swish = Swish()
silu = swish
gelu = GELU()

_REGISTRY = Registry("activation", ActivationFunction,
                     [Linear, ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Softmax, Softplus, Swish, GELU],
                     aliases={"silu": "swish"})
names = _REGISTRY.names
serialize = _REGISTRY.serialize
deserialize = _REGISTRY.deserialize


def get(identifier: str | dict | ActivationFunction | None) -> ActivationFunction:
    """The activation for a name (``"relu"``, any case), a ``serialize`` dict, an activation
    object (returned as it is), or None (linear).

    >>> get("tanh")(np.zeros(2))
    array([0., 0.])
    """
    return Linear() if identifier is None else _REGISTRY.get(identifier)
