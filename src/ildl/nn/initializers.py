"""Initial values of weights: the scale that keeps signals from vanishing or exploding.

Keras names and definitions. ``fan_in``/``fan_out`` are the inputs/outputs of one unit (for a
convolution kernel ``(kh, kw, in, out)``: ``kh*kw*in`` and ``kh*kw*out``)::

    >>> glorot_uniform((2, 3), np.random.default_rng(0)).shape
    (2, 3)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..errors import ArgumentError

Initializer = Callable[[tuple, np.random.Generator], np.ndarray]


def fans(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shape: Dense ``(in, out)`` or conv ``(..., in, out)``."""
    if len(shape) < 2:
        return (shape[0], shape[0]) if shape else (1, 1)
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _truncated_normal(shape, rng, stddev):
    # Normal draws re-drawn until within two standard deviations, as Keras' TruncatedNormal.
    values = rng.normal(0.0, stddev, size=shape)
    outside = np.abs(values) > 2 * stddev
    while outside.any():
        values[outside] = rng.normal(0.0, stddev, size=int(outside.sum()))
        outside = np.abs(values) > 2 * stddev
    return values


# A truncated normal at +-2 sd has a smaller spread; Keras divides by this to restore the variance.
_TRUNCATION_STD = 0.87962566103423978


def _variance_scaling(scale: float, mode: str, distribution: str) -> Initializer:
    def initialize(shape: tuple, rng: np.random.Generator) -> np.ndarray:
        fan_in, fan_out = fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        variance = scale / max(1.0, fan)
        if distribution == "uniform":
            limit = math.sqrt(3 * variance)
            return rng.uniform(-limit, limit, size=shape)
        return _truncated_normal(shape, rng, math.sqrt(variance) / _TRUNCATION_STD)

    return initialize


glorot_uniform = _variance_scaling(1.0, "fan_avg", "uniform")
glorot_uniform.__doc__ = "Uniform in +-sqrt(6 / (fan_in + fan_out)): Keras' default for kernels."
glorot_normal = _variance_scaling(1.0, "fan_avg", "normal")
he_uniform = _variance_scaling(2.0, "fan_in", "uniform")
he_normal = _variance_scaling(2.0, "fan_in", "normal")
lecun_uniform = _variance_scaling(1.0, "fan_in", "uniform")
lecun_normal = _variance_scaling(1.0, "fan_in", "normal")


def zeros(shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """All zeros: Keras' default for biases."""
    return np.zeros(shape)


def ones(shape: tuple, rng: np.random.Generator) -> np.ndarray:
    return np.ones(shape)


def random_normal(shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """Normal with mean 0 and standard deviation 0.05 (Keras' RandomNormal defaults)."""
    return rng.normal(0.0, 0.05, size=shape)


def random_uniform(shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """Uniform in [-0.05, 0.05] (Keras' RandomUniform defaults)."""
    return rng.uniform(-0.05, 0.05, size=shape)


_BY_NAME: dict[str, Initializer] = {
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "lecun_uniform": lecun_uniform,
    "lecun_normal": lecun_normal,
    "zeros": zeros,
    "ones": ones,
    "random_normal": random_normal,
    "random_uniform": random_uniform,
}


def names() -> list[str]:
    return sorted(_BY_NAME)


def get(name: str) -> Initializer:
    """The initializer function for a Keras name, e.g. ``get("he_normal")(shape, rng)``."""
    if name not in _BY_NAME:
        raise ArgumentError(f"unknown initializer {name!r}; expected one of {', '.join(names())}")
    return _BY_NAME[name]
