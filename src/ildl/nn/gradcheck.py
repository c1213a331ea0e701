"""Gradient checking: compare a layer's or model's backward pass with finite differences.

The derivative of ``f`` along one coordinate is ``(f(w + eps) - f(w - eps)) / (2 eps)`` up to
O(eps^2); doing that for every weight and input is slow but independent of the backward code, so it
catches any mistake there. Use float64 — in float32 the rounding error swamps the difference::

    >>> layer = nn.Dense(3, activation="tanh")
    >>> nn.gradcheck(layer, np.random.default_rng(0).normal(size=(4, 5)))
    True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ArgumentError
from .layers import Layer


class GradcheckError(AssertionError):
    """Analytic and numeric gradients disagree."""


def numerical_gradient(function: Callable[[], float], array: np.ndarray,
                       eps: float = 1e-6) -> np.ndarray:
    """d function() / d array by central differences; ``array`` is perturbed in place and restored.

    ``function`` takes no argument and reads ``array`` itself (e.g. a closure over a weight).
    """
    grad = np.zeros(array.shape, dtype=np.float64)
    for index in np.ndindex(array.shape):  # works on any strides, unlike a flattened view
        original = array[index]
        array[index] = original + eps
        above = function()
        array[index] = original - eps
        below = function()
        array[index] = original
        grad[index] = (above - below) / (2 * eps)
    return grad


def _compare(name: str, analytic: np.ndarray, numeric: np.ndarray, rtol: float,
             atol: float) -> None:
    error = np.abs(analytic - numeric)
    allowed = atol + rtol * np.abs(numeric)
    if np.any(error > allowed):
        worst = np.unravel_index(np.argmax(error - allowed), error.shape)
        raise GradcheckError(
            f"gradient of {name} is wrong at index {tuple(int(i) for i in worst)}: backward gives "
            f"{analytic[worst]:.8g}, finite differences give {numeric[worst]:.8g} "
            f"(max abs error {error.max():.3g})"
        )


def gradcheck(target, inputs: np.ndarray, targets: np.ndarray | None = None, *,
              training: bool = True, eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-7,
              seed: int = 0) -> bool:
    """Check the gradients of a layer or a compiled model; True, or ``GradcheckError`` naming the
    first wrong gradient (a weight name or ``"input"``) and where.

    For a ``Layer`` the scalar checked is ``sum(output * R)`` for a fixed random R (so every output
    element matters) plus its regularization, and the layer is built in float64 if it is not
    built yet. For a ``Sequential`` it is the compiled loss on ``(inputs, targets)``. Random layers
    (dropout) see the same random numbers in every evaluation.

    Finite differences are wrong at a kink: a ReLU input within ``eps`` of 0 gets a numeric
    slope halfway between 0 and 1. A fresh ReLU network has zero biases, so a point that switches
    off a whole layer feeds exact zeros to the next one and the check fails there although the
    backward pass is right. Give the biases small random values first (``set_weights``).
    """
    if isinstance(target, Layer):
        return _check_layer(target, np.asarray(inputs, dtype=np.float64), training, eps, rtol,
                            atol, seed)
    return _check_model(target, inputs, targets, eps, rtol, atol)


def _check_layer(layer: Layer, inputs, training, eps, rtol, atol, seed) -> bool:
    rng = np.random.default_rng(seed)
    if not layer.built:
        layer.build(inputs.shape[1:], rng, np.float64)
    if layer.dtype != np.float64:
        raise ArgumentError(f"gradcheck needs a float64 layer but {layer.name!r} is {layer.dtype}")
    projection = rng.normal(size=(len(inputs), *layer.output_shape))
    # Replayed so that dropout draws the same mask in every evaluation.
    random_state = layer.rng.bit_generator.state

    def scalar() -> float:
        layer.rng.bit_generator.state = random_state
        outputs = layer.forward(inputs, training)
        return float(np.sum(outputs * projection)) + layer.regularization_loss()

    scalar()
    grad_input = layer.backward(projection)
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}
    _compare("input", grad_input, numerical_gradient(scalar, inputs, eps), rtol, atol)
    for name, param in layer.params.items():
        _compare(name, analytic[name], numerical_gradient(scalar, param, eps), rtol, atol)
    return True


def _check_model(model, inputs, targets, eps, rtol, atol) -> bool:
    if model.dtype != np.float64:
        raise ArgumentError(
            f"gradcheck needs a float64 model (Sequential(..., dtype='float64')) but "
            f"{model.name!r} is {model.dtype}")
    x, y = model._prepare_xy(inputs, targets)
    random_state = model.rng.bit_generator.state

    def loss() -> float:
        model.rng.bit_generator.state = random_state
        return model._batch_gradients(x, y)

    loss()
    analytic = [grad.copy() for grad in model.gradients]
    names = [f"{layer.name}.{name}" for layer in model.layers for name in layer.params]
    for name, param, grad in zip(names, model.trainable_weights, analytic):
        _compare(name, grad, numerical_gradient(loss, param, eps), rtol, atol)
    return True
