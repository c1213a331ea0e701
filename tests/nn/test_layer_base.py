"""The Layer base class keeps the contract by itself: a new layer that writes only ``call`` and
``call_backward`` (no penalty call) gets its regularizers' gradients, through the plain backward
pass and through the fused softmax/sigmoid + cross-entropy path, checked against finite
differences and against the hand-computed ``2 l w``."""

import numpy as np
import pytest

from ildl import nn
from ildl.nn import regularizers

STRENGTH = 0.3


class Scale(nn.Layer):
    """``y = x * w`` elementwise, with one regularized weight; no penalty code of its own."""

    def __init__(self, regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.regularizer = regularizer

    def build(self, input_shape, rng, dtype):
        output_shape = super().build(input_shape, rng, dtype)
        self.add_weight("w", input_shape, "random_normal", rng, self.regularizer)
        return output_shape

    def call(self, inputs, training):
        self._inputs = inputs
        return inputs * self.params["w"]

    def call_backward(self, grad_pre_activation, need_input_grad=True):
        self.grads["w"][...] = np.sum(grad_pre_activation * self._inputs, axis=0)
        return grad_pre_activation * self.params["w"] if need_input_grad else None


def test_a_new_layer_passes_gradcheck_with_its_penalty(rng):
    layer = Scale(regularizers.L2(STRENGTH), activation="tanh")
    x = rng.normal(size=(6, 4))
    assert nn.gradcheck(layer, x) is True  # the checked scalar includes the penalty
    layer.forward(x)
    layer.backward(np.zeros((6, 4)))  # no data gradient: what is left is the penalty's
    np.testing.assert_allclose(layer.grads["w"], 2 * STRENGTH * layer.params["w"], rtol=1e-12)


# (layers after a Dense, loss, targets, whether the loss is fused with the last activation)
PATHS = {
    "plain": ("linear", "mse", lambda rng, n: rng.normal(size=(n, 3))),
    "fused_softmax": ("softmax", "sparse_categorical_crossentropy",
                      lambda rng, n: rng.integers(0, 3, size=n)),
    "fused_sigmoid": ("sigmoid", "binary_crossentropy",
                      lambda rng, n: rng.integers(0, 2, size=(n, 3)).astype(float)),
}


def model_with_scale(activation, loss, regularizer, weights=None):
    model = nn.Sequential([nn.Dense(3, activation="tanh", input_shape=(4,)),
                           Scale(regularizer, activation=activation)], seed=2, dtype="float64")
    model.compile(nn.optimizers.SGD(), loss)
    if weights is not None:
        model.set_weights(weights)
    return model


@pytest.mark.parametrize("path", sorted(PATHS))
def test_the_penalty_gradient_reaches_the_model_on_every_path(path, rng, monkeypatch):
    activation, loss, targets = PATHS[path]
    x, y = rng.normal(size=(7, 4)), targets(rng, 7)
    model = model_with_scale(activation, loss, regularizers.L2(STRENGTH))
    weights = [rng.normal(size=w.shape) for w in model.get_weights()]
    model.set_weights(weights)
    last = model.layers[-1]
    if path != "plain":  # the fused path must not go through the activation's backward
        monkeypatch.setattr(last, "backward", lambda *args, **kwargs: pytest.fail("not fused"))
    assert nn.gradcheck(model, x, y) is True  # finite differences of loss + penalty
    model.compute_gradients(x, y)
    with_penalty = last.grads["w"].copy()
    plain = model_with_scale(activation, loss, None, weights)
    plain.compute_gradients(x, y)
    np.testing.assert_allclose(with_penalty - plain.layers[-1].grads["w"],
                               2 * STRENGTH * weights[-1], rtol=1e-10, atol=1e-12)


def test_a_layer_that_drops_the_base_class_hook_is_caught(rng):
    """The hook the base class calls is where the penalty enters: skipping it is visible."""

    class ForgetsPenalty(Scale):
        def add_regularization_gradients(self):
            pass

    with pytest.raises(nn.GradcheckError, match="gradient of w"):
        nn.gradcheck(ForgetsPenalty(regularizers.L2(STRENGTH)), rng.normal(size=(5, 4)))


def test_pre_activation_is_every_layers_output_before_its_activation(rng):
    model = nn.Sequential([nn.Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1)),
                           nn.Flatten(), nn.Dense(3, activation="softmax")], seed=0,
                          dtype="float64")
    x = rng.normal(size=(2, 6, 6, 1))
    model.predict(x)
    conv, _, dense = model.layers
    np.testing.assert_array_equal(conv.outputs, np.maximum(conv.pre_activation, 0))
    z = dense.pre_activation
    np.testing.assert_allclose(dense.outputs, np.exp(z) / np.exp(z).sum(1, keepdims=True),
                               rtol=1e-12)


def test_training_reuses_each_layers_arrays_and_inference_returns_fresh_ones(rng):
    """A training forward writes into arrays the layer keeps (``workspace``), so a batch's
    arrays are overwritten by the next; what inference returns stays the caller's."""
    model = nn.Sequential([nn.Dense(8, activation="relu", input_shape=(3,)),
                           nn.Dense(2, activation="softmax")], seed=0, dtype="float64")
    model.compile(nn.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    x, y = rng.normal(size=(6, 3)), np.array([0, 1, 1, 0, 1, 0])
    dense = model.layers[0]
    model.train_on_batch(x, y)
    kept = dense.outputs
    assert kept is dense.workspace("outputs", kept.shape, kept.dtype)
    predicted = model.predict(x)
    probabilities = predicted.copy()
    assert dense.workspace("outputs", kept.shape, kept.dtype) is None  # after inference
    model.train_on_batch(x, y)
    assert dense.outputs is kept  # the same array, refilled
    np.testing.assert_array_equal(predicted, probabilities)  # inference results untouched
    model.train_on_batch(x[:4], y[:4])  # a smaller (last) batch gets arrays of its own shape
    assert dense.outputs.shape == (4, 8)
    gradient = model.input_gradient(x, np.ones((6, 2)))
    copy = gradient.copy()
    model.train_on_batch(x, y)
    np.testing.assert_array_equal(gradient, copy)
