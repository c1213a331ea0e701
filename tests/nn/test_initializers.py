"""Initializers: Keras definitions (limits, variances, truncation), fans, determinism, names."""

import math

import numpy as np
import pytest

from ildl import nn
from ildl.nn import initializers

SHAPE = (300, 200)  # 60 000 draws: the sample variance is within ~1% of the true one


@pytest.mark.parametrize("shape, fans", [
    ((3, 5), (3, 5)),
    ((3, 3, 4, 8), (36, 72)),          # conv kernel (kh, kw, in, out)
    ((7,), (7, 7)),                    # Keras: a 1-D shape has fan_in = fan_out = size
    ((), (1, 1)),
])
def test_fans(shape, fans):
    assert tuple(initializers.fans(shape)) == fans


# (name, scale, mode) as in Keras' VarianceScaling subclasses
VARIANCE_SCALING = [
    ("glorot_uniform", 1.0, "fan_avg", "uniform"),
    ("glorot_normal", 1.0, "fan_avg", "normal"),
    ("he_uniform", 2.0, "fan_in", "uniform"),
    ("he_normal", 2.0, "fan_in", "normal"),
    ("lecun_uniform", 1.0, "fan_in", "uniform"),
    ("lecun_normal", 1.0, "fan_in", "normal"),
]


@pytest.mark.parametrize("name, scale, mode, distribution", VARIANCE_SCALING)
def test_variance_scaling_initializers(name, scale, mode, distribution):
    fan_in, fan_out = SHAPE
    fan = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    variance = scale / fan
    values = initializers.get(name)(SHAPE, np.random.default_rng(0))
    assert values.shape == SHAPE
    assert abs(values.mean()) < 0.02 * math.sqrt(variance)
    assert values.var() == pytest.approx(variance, rel=0.03)
    if distribution == "uniform":
        limit = math.sqrt(3 * variance)  # glorot_uniform: sqrt(6 / (fan_in + fan_out))
        assert np.abs(values).max() <= limit
        assert np.abs(values).max() > 0.99 * limit
    else:
        # Truncated normal: stddev sqrt(variance) / .87962566103423978, cut at two stddevs.
        stddev = math.sqrt(variance) / 0.87962566103423978
        assert np.abs(values).max() <= 2 * stddev
        assert np.abs(values).max() > 1.95 * stddev


def test_glorot_uniform_limit_is_keras():
    values = initializers.glorot_uniform((2, 3), np.random.default_rng(0))
    assert np.abs(values).max() <= math.sqrt(6 / 5)


def test_constant_and_small_random_initializers():
    rng = np.random.default_rng(0)
    assert initializers.zeros((2, 3), rng).tolist() == [[0.0] * 3] * 2
    assert initializers.ones((4,), rng).tolist() == [1.0] * 4
    normal = initializers.random_normal(SHAPE, rng)
    assert normal.std() == pytest.approx(0.05, rel=0.02)
    uniform = initializers.random_uniform(SHAPE, rng)
    assert uniform.min() >= -0.05 and uniform.max() <= 0.05 and uniform.max() > 0.0499


@pytest.mark.parametrize("name", initializers.names())
def test_same_generator_state_gives_same_values(name):
    a = initializers.get(name)((5, 4), np.random.default_rng(7))
    b = initializers.get(name)((5, 4), np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_unknown_initializer_lists_the_valid_names():
    with pytest.raises(ValueError) as error:
        initializers.get("orthogonal_ish")
    for name in ("glorot_uniform", "he_normal", "zeros"):
        assert name in str(error.value)


def test_dense_uses_keras_default_initializers():
    model = nn.Sequential([nn.Dense(200, input_shape=(300,))], seed=0)
    kernel, bias = model.get_weights()
    assert np.abs(kernel).max() <= math.sqrt(6 / 500)  # glorot_uniform
    assert kernel.var() == pytest.approx(2 / 500, rel=0.03)
    assert not bias.any()  # zeros


def test_dense_kernel_and_bias_initializers_are_used():
    model = nn.Sequential([nn.Dense(3, input_shape=(2,), kernel_initializer="ones",
                                    bias_initializer="ones")])
    kernel, bias = model.get_weights()
    assert kernel.tolist() == [[1.0] * 3] * 2 and bias.tolist() == [1.0] * 3
