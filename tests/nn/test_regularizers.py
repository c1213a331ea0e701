"""Regularizers: Keras meaning (l * sum(w^2), l * sum|w|), gradients by finite differences, and
the penalty reaching the model loss and the weight gradients."""

import numpy as np
import pytest
from nn_reference import central_difference

from ildl import nn
from ildl.nn import regularizers


def weights_away_from_zero(rng, shape):
    w = rng.normal(size=shape)
    return np.where(np.abs(w) < 1e-3, 0.1, w)


@pytest.mark.parametrize("regularizer, l1, l2", [
    (regularizers.L1(0.3), 0.3, 0.0),
    (regularizers.L2(0.2), 0.0, 0.2),
    (regularizers.L1L2(l1=0.05, l2=0.7), 0.05, 0.7),
    (regularizers.L1(), 0.01, 0.0),       # Keras defaults
    (regularizers.L2(), 0.0, 0.01),
    (regularizers.L1L2(), 0.0, 0.0),
])
def test_penalty_and_gradient(regularizer, l1, l2, rng):
    w = weights_away_from_zero(rng, (4, 3))
    expected = l1 * np.sum(np.abs(w)) + l2 * np.sum(w**2)
    assert regularizer.penalty(w) == pytest.approx(expected, rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(regularizer.gradient(w), l1 * np.sign(w) + 2 * l2 * w,
                               rtol=1e-12, atol=0)
    numeric = central_difference(lambda: regularizer.penalty(w), w)
    np.testing.assert_allclose(regularizer.gradient(w), numeric, rtol=1e-6, atol=1e-9)


def test_l1_gradient_at_zero_is_zero():
    assert regularizers.L1(0.5).gradient(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


def test_get_and_serialize():
    assert regularizers.get(None) is None
    l2 = regularizers.L2(0.5)
    assert regularizers.get(l2) is l2
    assert regularizers.get("l2").penalty(np.array([2.0])) == pytest.approx(0.04)  # 0.01 * 4
    assert regularizers.get("l1").penalty(np.array([-2.0])) == pytest.approx(0.02)
    assert regularizers.get("l1_l2").penalty(np.array([-2.0])) == 0.0  # Keras: L1L2() is 0, 0
    rebuilt = regularizers.get(regularizers.serialize(regularizers.L1L2(0.1, 0.2)))
    assert rebuilt.penalty(np.array([1.0, -3.0])) == pytest.approx(0.1 * 4 + 0.2 * 10)
    assert regularizers.serialize(None) is None


def test_invalid_regularizers_are_refused():
    with pytest.raises(ValueError, match=">= 0"):
        regularizers.L2(-0.1)
    with pytest.raises(ValueError) as error:
        regularizers.get("l3")
    assert "l3" in str(error.value) and "l1" in str(error.value) and "l2" in str(error.value)


def test_model_loss_and_gradients_include_the_kernel_penalty(rng):
    """train_on_batch returns data loss + penalty; evaluate too; bias is not penalised."""
    x = rng.normal(size=(8, 3))
    y = rng.normal(size=(8, 2))
    model = nn.Sequential([nn.Dense(4, activation="tanh", input_shape=(3,),
                                    kernel_regularizer=regularizers.L1L2(l1=0.01, l2=0.1)),
                           nn.Dense(2, kernel_regularizer=regularizers.L2(0.3))],
                          seed=0, dtype="float64")
    model.compile(nn.optimizers.SGD(learning_rate=0.1), "mse")
    k0, b0, k1, b1 = model.get_weights()
    prediction = np.tanh(x @ k0 + b0) @ k1 + b1
    penalty = 0.01 * np.abs(k0).sum() + 0.1 * (k0**2).sum() + 0.3 * (k1**2).sum()
    expected = np.mean((prediction - y) ** 2) + penalty
    assert model.evaluate(x, y)["loss"] == pytest.approx(expected, rel=1e-12)
    assert model.train_on_batch(x, y) == pytest.approx(expected, rel=1e-12)
    # One SGD step moved each weight by -lr * dL/dw; the penalty part of dL/dw is known exactly,
    # so compare with a model trained without regularizers from the same weights.
    plain = nn.Sequential([nn.Dense(4, activation="tanh", input_shape=(3,)), nn.Dense(2)],
                          dtype="float64")
    plain.set_weights([k0, b0, k1, b1])
    plain.compile(nn.optimizers.SGD(learning_rate=0.1), "mse")
    plain.train_on_batch(x, y)
    penalty_grads = [0.01 * np.sign(k0) + 0.2 * k0, 0 * b0, 0.6 * k1, 0 * b1]
    for after, after_plain, penalty_grad in zip(model.get_weights(), plain.get_weights(),
                                                penalty_grads):
        np.testing.assert_allclose(after, after_plain - 0.1 * penalty_grad, rtol=1e-12,
                                   atol=1e-14)


def test_bias_regularizer(rng):
    model = nn.Sequential([nn.Dense(3, input_shape=(2,), bias_initializer="ones",
                                    bias_regularizer=regularizers.L2(0.5))], dtype="float64")
    model.compile("sgd", "mse")
    x, y = rng.normal(size=(4, 2)), rng.normal(size=(4, 3))
    kernel, bias = model.get_weights()
    expected = np.mean((x @ kernel + bias - y) ** 2) + 0.5 * 3.0
    assert model.evaluate(x, y)["loss"] == pytest.approx(expected, rel=1e-12)
