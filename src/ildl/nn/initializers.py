"""Initial values of weights: the scale that keeps signals from vanishing or exploding.

Keras names and definitions. An initializer is called with a weight's shape and a random
generator and returns the starting values; ``fan_in``/``fan_out`` are the inputs/outputs of one
unit (for a convolution kernel ``(kh, kw, in, out)``: ``kh*kw*in`` and ``kh*kw*out``)::

    >>> glorot_uniform((2, 3), np.random.default_rng(0)).shape
    (2, 3)
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ArgumentError
from ..validation import check_number
from .registry import Registry


def fans(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shape: Dense ``(in, out)`` or conv ``(..., in, out)``."""
    if len(shape) < 2:
        return (shape[0], shape[0]) if shape else (1, 1)
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class Initializer:
    """Draws the initial values of one weight: ``initializer(shape, rng)`` -> array of ``shape``."""

    name = "initializer"

    def __call__(self, shape: tuple, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    def __repr__(self) -> str:
        return f"<initializer {self.name}>"


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
_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "uniform")


class VarianceScaling(Initializer):
    """Values of variance ``scale / fan`` (``fan`` by ``mode``): uniform in ``+-sqrt(3 var)`` or a
    normal truncated at two standard deviations. The Glorot, He and LeCun initializers are its
    presets."""

    name = "variance_scaling"

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal"):
        self.scale = check_number(scale, "scale", "VarianceScaling", low=0, bounds="(]")
        for label, value, choices in (("mode", mode, _MODES),
                                      ("distribution", distribution, _DISTRIBUTIONS)):
            if value not in choices:
                raise ArgumentError(f"VarianceScaling: {label} must be one of {choices}, got "
                                    f"{value!r}")
        self.mode = mode
        self.distribution = distribution

    def __call__(self, shape, rng):
        fan_in, fan_out = fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = math.sqrt(3 * variance)
            return rng.uniform(-limit, limit, size=shape)
        return _truncated_normal(shape, rng, math.sqrt(variance) / _TRUNCATION_STD)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution}


class _Preset(VarianceScaling):
    """A ``VarianceScaling`` with fixed arguments ``preset`` = (scale, mode, distribution)."""

    preset: tuple[float, str, str]

    def __init__(self):
        super().__init__(*self.preset)

    def get_config(self):
        return {}


class GlorotUniform(_Preset):
    """Uniform in +-sqrt(6 / (fan_in + fan_out)): Keras' default for kernels."""

    name = "glorot_uniform"
    preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Truncated normal of variance 2 / (fan_in + fan_out)."""

    name = "glorot_normal"
    preset = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_Preset):
    """Uniform of variance 2 / fan_in, which keeps the signal's scale through ReLU layers."""

    name = "he_uniform"
    preset = (2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    """Truncated normal of variance 2 / fan_in."""

    name = "he_normal"
    preset = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_Preset):
    """Uniform of variance 1 / fan_in."""

    name = "lecun_uniform"
    preset = (1.0, "fan_in", "uniform")


class LecunNormal(_Preset):
    """Truncated normal of variance 1 / fan_in."""

    name = "lecun_normal"
    preset = (1.0, "fan_in", "truncated_normal")


class Zeros(Initializer):
    """All zeros: Keras' default for biases."""

    name = "zeros"

    def __call__(self, shape, rng):
        return np.zeros(shape)


class Ones(Initializer):
    name = "ones"

    def __call__(self, shape, rng):
        return np.ones(shape)


class RandomNormal(Initializer):
    """Normal with mean 0 and standard deviation 0.05 by default (Keras' RandomNormal)."""

    name = "random_normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05):
        self.mean = check_number(mean, "mean", "RandomNormal")
        self.stddev = check_number(stddev, "stddev", "RandomNormal", low=0)

    def __call__(self, shape, rng):
        return rng.normal(self.mean, self.stddev, size=shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev}


class RandomUniform(Initializer):
    """Uniform in [-0.05, 0.05] by default (Keras' RandomUniform)."""

    name = "random_uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05):
        self.minval = check_number(minval, "minval", "RandomUniform")
        self.maxval = check_number(maxval, "maxval", "RandomUniform", low=self.minval)

    def __call__(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, size=shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval}


glorot_uniform = GlorotUniform()
glorot_normal = GlorotNormal()
he_uniform = HeUniform()
he_normal = HeNormal()
lecun_uniform = LecunUniform()
lecun_normal = LecunNormal()
zeros = Zeros()
ones = Ones()
random_normal = RandomNormal()
random_uniform = RandomUniform()

_REGISTRY = Registry("initializer", Initializer,
                     [VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal,
                      LecunUniform, LecunNormal, Zeros, Ones, RandomNormal, RandomUniform])
names = _REGISTRY.names
get = _REGISTRY.get
serialize = _REGISTRY.serialize
deserialize = _REGISTRY.deserialize
