"""Independent references for the ildl.nn tests: finite differences, plain-NumPy formulas of the
activations and a manual forward pass, Keras' EarlyStopping rule, and the model file's digest.

Nothing here imports ildl: every expected number in the tests comes from these formulas, from
PyTorch or from hand calculation, never from ildl itself.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def central_difference(function, array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d function() / d array by central differences, perturbing ``array`` in place.

    Indexes element by element (not through a reshaped view) so it also works for
    non-contiguous arrays.
    """
    grad = np.zeros(array.shape, dtype=np.float64)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + eps
        above = function()
        array[index] = original - eps
        below = function()
        array[index] = original
        grad[index] = (above - below) / (2 * eps)
    return grad


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# Textbook definitions (Keras documentation), written without ildl.
ACTIVATION_FORMULAS = {
    "linear": lambda z: z,
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),  # Keras' default slope is 0.2
    "elu": lambda z: np.where(z > 0, z, np.exp(np.minimum(z, 0)) - 1),
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": lambda z: (np.exp(2 * z) - 1) / (np.exp(2 * z) + 1),
    "softmax": _softmax,
    "softplus": lambda z: np.log1p(np.exp(z)),
    "swish": lambda z: z / (1 + np.exp(-z)),
    "silu": lambda z: z / (1 + np.exp(-z)),
    "gelu": lambda z: 0.5 * z * (1 + _erf(z / math.sqrt(2))),
}

ACTIVATION_NAMES = sorted(ACTIVATION_FORMULAS)
# Elementwise ones (softmax mixes a row).
ELEMENTWISE_NAMES = [name for name in ACTIVATION_NAMES if name != "softmax"]


def manual_forward(x, weights, activation_names):
    """Forward pass of a Dense-only network from Keras-shaped weights [K0, b0, K1, b1, ...]."""
    out = np.asarray(x, dtype=np.float64)
    for layer, name in enumerate(activation_names):
        kernel, bias = weights[2 * layer], weights[2 * layer + 1]
        out = ACTIVATION_FORMULAS[name](out @ np.asarray(kernel, np.float64)
                                        + np.asarray(bias, np.float64))
    return out


def keras_early_stopping(values, patience, min_delta=0.0, mode="min"):
    """Keras' EarlyStopping rule over a sequence of monitored values.

    Returns (stopped_epoch or None, best_epoch), epochs 0-based: an epoch improves when it beats
    the best so far by more than min_delta; training stops at the first epoch where the count of
    epochs without improvement reaches ``patience``.
    """
    best = math.inf if mode == "min" else -math.inf
    best_epoch, wait = -1, 0
    for epoch, value in enumerate(values):
        improved = value < best - min_delta if mode == "min" else value > best + min_delta
        if improved:
            best, best_epoch, wait = value, epoch, 0
            continue
        wait += 1
        if wait >= patience:
            return epoch, best_epoch
    return None, best_epoch


def build(layer, input_shape, seed=0, dtype="float64"):
    """Build a layer on its own with a known generator; returns the generator."""
    generator = np.random.default_rng(seed)
    layer.build(tuple(input_shape), generator, np.dtype(dtype))
    return generator


def randomize_params(layer, rng):
    """Overwrite every trainable array of a built layer with standard normal draws."""
    for value in layer.params.values():
        value[...] = rng.normal(size=value.shape)


def model_file_digest(header: dict, arrays: dict) -> str:
    """The SHA-256 digest a model file records, as its format defines it: over the header without
    its digest (JSON, sorted keys), then each array in name order as ``name|dtype|shape`` and
    its bytes in C order."""
    hasher = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for name in sorted(arrays):
        array = np.asarray(arrays[name])
        hasher.update(f"{name}|{array.dtype.str}|{array.shape}".encode())
        hasher.update(array.tobytes(order="C"))
    return hasher.hexdigest()
