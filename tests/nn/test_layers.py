"""Layers (Dense, Activation, Dropout): forward against hand computation, every gradient against
finite differences (own helper) and nn.gradcheck, shapes, configs and argument errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_reference import (
    ACTIVATION_FORMULAS,
    ACTIVATION_NAMES,
    build,
    central_difference,
    randomize_params,
)

from ildl import nn
from ildl.nn import regularizers


def check_layer_gradients(layer, x, rng, replay=None, training=True):
    """Own finite-difference check of dL/dx and dL/d(every param) for L = sum(y * R) + penalty.

    ``replay`` is called before each forward pass (to restore a random generator's state).
    """
    replay = replay or (lambda: None)
    projection = rng.normal(size=(len(x), *layer.output_shape))

    def scalar():
        replay()
        return float(np.sum(layer.forward(x, training=training) * projection)) \
            + layer.regularization_loss()

    scalar()
    grad_x = layer.backward(projection)
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}
    assert set(analytic) == set(layer.params)
    np.testing.assert_allclose(grad_x, central_difference(scalar, x), rtol=1e-6, atol=1e-8,
                               err_msg="input gradient")
    for name, param in layer.params.items():
        np.testing.assert_allclose(analytic[name], central_difference(scalar, param),
                                   rtol=1e-6, atol=1e-8, err_msg=f"gradient of {name}")


# --------------------------------------------------------------------------------------
# Dense
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_dense_forward_and_gradients(activation, use_bias, rng):
    layer = nn.Dense(4, activation=activation, use_bias=use_bias)
    build(layer, (5,))
    randomize_params(layer, rng)
    x = rng.normal(size=(3, 5))
    expected = x @ layer.params["kernel"] + (layer.params["bias"] if use_bias else 0)
    np.testing.assert_allclose(layer.forward(x), ACTIVATION_FORMULAS[activation](expected),
                               rtol=1e-12, atol=1e-14)
    check_layer_gradients(layer, x, rng)
    assert nn.gradcheck(layer, x) is True


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("regularizer", [regularizers.L1(0.3), regularizers.L2(0.2),
                                         regularizers.L1L2(l1=0.1, l2=0.4)],
                         ids=["l1", "l2", "l1l2"])
def test_dense_regularized_gradients(regularizer, use_bias, rng):
    layer = nn.Dense(3, activation="tanh", use_bias=use_bias, kernel_regularizer=regularizer,
                     bias_regularizer=regularizer if use_bias else None)
    build(layer, (4,))
    randomize_params(layer, rng)
    x = rng.normal(size=(5, 4))
    expected_penalty = sum(regularizer.l1 * np.abs(p).sum() + regularizer.l2 * (p**2).sum()
                           for p in layer.params.values())
    assert layer.regularization_loss() == pytest.approx(expected_penalty, rel=1e-12)
    check_layer_gradients(layer, x, rng)
    assert nn.gradcheck(layer, x) is True


@settings(max_examples=25, deadline=None, database=None)
@given(n=st.integers(1, 6), n_in=st.integers(1, 6), units=st.integers(1, 5),
       activation=st.sampled_from(["tanh", "sigmoid", "softmax", "gelu", "linear"]),
       seed=st.integers(0, 2**32 - 1))
def test_dense_gradients_for_random_shapes(n, n_in, units, activation, seed):
    rng = np.random.default_rng(seed)
    layer = nn.Dense(units, activation=activation, kernel_regularizer=regularizers.L2(0.1))
    build(layer, (n_in,))
    randomize_params(layer, rng)
    x = rng.normal(size=(n, n_in))
    assert layer.forward(x).shape == (n, units)
    check_layer_gradients(layer, x, rng)


def test_dense_keras_weight_shapes_and_dtype():
    layer = nn.Dense(7)
    build(layer, (3,), dtype="float32")
    assert layer.params["kernel"].shape == (3, 7)
    assert layer.params["bias"].shape == (7,)
    assert layer.output_shape == (7,)
    assert layer.count_params() == 3 * 7 + 7
    assert [w.dtype for w in layer.weights] == [np.float32, np.float32]
    no_bias = nn.Dense(7, use_bias=False)
    build(no_bias, (3,))
    assert list(no_bias.params) == ["kernel"]
    assert no_bias.count_params() == 21


def test_dense_backward_without_input_gradient(rng):
    layer = nn.Dense(2)
    build(layer, (3,))
    x = rng.normal(size=(4, 3))
    layer.forward(x, training=True)
    assert layer.backward(np.ones((4, 2)), need_input_grad=False) is None
    np.testing.assert_allclose(layer.grads["kernel"], x.T @ np.ones((4, 2)), rtol=1e-12)
    np.testing.assert_allclose(layer.grads["bias"], [4.0, 4.0])


@pytest.mark.parametrize("units", [0, -3, 2.5, "8"])
def test_dense_refuses_bad_units(units):
    with pytest.raises(ValueError, match="units"):
        nn.Dense(units)


def test_dense_refuses_non_flat_inputs():
    with pytest.raises(ValueError) as error:
        build(nn.Dense(4), (2, 3))
    message = str(error.value)
    assert "(N, features)" in message and "(N, 2, 3)" in message and "Flatten" in message


def test_dense_config_rebuilds_the_same_layer():
    layer = nn.Dense(5, activation=nn.activations.LeakyReLU(0.1), use_bias=False,
                     kernel_initializer="he_normal", kernel_regularizer=regularizers.L2(0.3),
                     name="hidden", input_shape=(4,))
    rebuilt = nn.Dense(**layer.get_config())
    build(layer, (4,), seed=1)
    build(rebuilt, (4,), seed=1)
    np.testing.assert_array_equal(layer.params["kernel"], rebuilt.params["kernel"])
    x = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_array_equal(layer.forward(x), rebuilt.forward(x))
    assert rebuilt.name == "hidden" and rebuilt.input_shape == (4,)
    assert rebuilt.regularization_loss() == pytest.approx(layer.regularization_loss())


# --------------------------------------------------------------------------------------
# Activation layer
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_activation_layer(activation, rng):
    layer = nn.Activation(activation)
    build(layer, (4,))
    x = rng.normal(size=(3, 4))
    np.testing.assert_allclose(layer.forward(x), ACTIVATION_FORMULAS[activation](x),
                               rtol=1e-12, atol=1e-14)
    assert layer.params == {} and layer.count_params() == 0
    check_layer_gradients(layer, np.where(np.abs(x) < 1e-3, 0.5, x), rng)
    assert nn.gradcheck(layer, x) is True


def test_activation_layer_keeps_any_shape(rng):
    layer = nn.Activation("relu")
    build(layer, (2, 3, 4))
    x = rng.normal(size=(5, 2, 3, 4))
    np.testing.assert_array_equal(layer.forward(x), np.maximum(x, 0))
    assert layer.output_shape == (2, 3, 4)


def test_dense_then_activation_equals_dense_with_activation(rng):
    x, y = rng.normal(size=(6, 3)), rng.integers(0, 4, size=6)
    fused = nn.Sequential([nn.Dense(5, activation="relu", input_shape=(3,)),
                           nn.Dense(4, activation="softmax")], seed=1, dtype="float64")
    split = nn.Sequential([nn.Dense(5, input_shape=(3,)), nn.Activation("relu"), nn.Dense(4),
                           nn.Activation("softmax")], seed=1, dtype="float64")
    split.set_weights(fused.get_weights())
    for model in (fused, split):
        model.compile(nn.optimizers.SGD(learning_rate=0.5), "sparse_categorical_crossentropy")
    np.testing.assert_allclose(split.predict(x), fused.predict(x), rtol=1e-14)
    for _ in range(3):
        assert split.train_on_batch(x, y) == pytest.approx(fused.train_on_batch(x, y),
                                                           rel=1e-13)
    for a, b in zip(split.get_weights(), fused.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------------------

def test_dropout_training_drops_the_rate_and_rescales():
    layer = nn.Dropout(0.3)
    build(layer, (1000,), dtype="float64")
    x = np.ones((50, 1000))
    y = layer.forward(x, training=True)
    kept = y != 0
    assert kept.mean() == pytest.approx(0.7, abs=0.01)      # 50 000 draws
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-12)  # inverted dropout
    assert y.mean() == pytest.approx(1.0, abs=0.02)          # expectation unchanged
    grad = layer.backward(np.full_like(x, 2.0))
    np.testing.assert_array_equal(grad == 0, ~kept)
    np.testing.assert_allclose(grad[kept], 2 / 0.7, rtol=1e-12)


def test_dropout_is_the_identity_at_inference_and_for_rate_zero(rng):
    x = rng.normal(size=(4, 6))
    layer = nn.Dropout(0.5)
    build(layer, (6,))
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))
    zero = nn.Dropout(0.0)
    build(zero, (6,))
    np.testing.assert_array_equal(zero.forward(x, training=True), x)


def test_dropout_masks_differ_between_calls(rng):
    layer = nn.Dropout(0.5)
    build(layer, (100,))
    x = np.ones((2, 100))
    assert not np.array_equal(layer.forward(x, True), layer.forward(x, True))


def test_dropout_gradients_with_replayed_generator(rng):
    layer = nn.Dropout(0.4)
    generator = build(layer, (5,))
    state = generator.bit_generator.state

    def replay():
        generator.bit_generator.state = state

    check_layer_gradients(layer, rng.normal(size=(6, 5)), rng, replay=replay)
    check_layer_gradients(layer, rng.normal(size=(6, 5)), rng, training=False)


@pytest.mark.parametrize("training", [True, False])
def test_dropout_gradcheck(training, rng):
    assert nn.gradcheck(nn.Dropout(0.5), rng.normal(size=(8, 6)), training=training) is True


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_refuses_bad_rates(rate):
    with pytest.raises(ValueError) as error:
        nn.Dropout(rate)
    assert "[0, 1)" in str(error.value) and str(rate) in str(error.value)


def test_dropout_in_a_model_is_repeatable_with_a_seed(rng):
    x = rng.normal(size=(10, 4))
    outputs = []
    for _ in range(2):
        model = nn.Sequential([nn.Dense(8, input_shape=(4,)), nn.Dropout(0.5), nn.Dense(2)],
                              seed=5)
        outputs.append(model(x, training=True))
        np.testing.assert_array_equal(model.predict(x), model.predict(x))  # no dropout
    np.testing.assert_array_equal(outputs[0], outputs[1])
