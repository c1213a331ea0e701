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


def test_a_training_step_reuses_each_layers_arrays_and_nothing_else_does(rng):
    """Inside fit's steps a layer writes into arrays it keeps (``workspace``); what any other
    call returns (predict, input_gradient, ``model(x, training=True)``) is the caller's."""
    model = nn.Sequential([nn.Dense(8, activation="relu", input_shape=(3,)), nn.Dropout(0.5),
                           nn.Dense(2, activation="softmax")], seed=0, dtype="float64")
    model.compile(nn.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    x, y = rng.normal(size=(6, 3)), np.array([0, 1, 1, 0, 1, 0])
    dense = model.layers[0]
    model.train_on_batch(x, y)
    kept = dense.outputs
    model.train_on_batch(x, y)
    assert np.shares_memory(dense.outputs, kept)  # the same array, refilled
    model.train_on_batch(x[:4], y[:4])  # a smaller (last) batch: the first rows of it
    assert dense.outputs.shape == (4, 8) and np.shares_memory(dense.outputs, kept)
    assert dense.workspace("outputs", (6, 8), np.float64) is None  # outside a training step

    results = [model.predict(x), model.input_gradient(x, np.ones((6, 2))),
               model(x, training=True), model(x, training=True)]  # two Monte Carlo samples
    copies = [result.copy() for result in results]
    assert not np.array_equal(copies[2], copies[3])  # dropout drew two masks
    model.train_on_batch(x, y)
    model.input_gradient(x, np.full((6, 2), 2.0))
    kept_arrays = [array for layer in model.layers for array in layer._workspaces.values()]
    for result, copy in zip(results, copies):
        np.testing.assert_array_equal(result, copy)
        assert not any(np.shares_memory(result, array) for array in kept_arrays)


def test_training_steps_on_kept_arrays_equal_steps_on_fresh_ones(rng):
    """train_on_batch (kept arrays) against compute_gradients + update (fresh ones), through
    every kind of layer that keeps arrays or sits between them: the same weights, bit for bit."""
    def build():
        model = nn.Sequential([nn.Dense(8, activation="relu", input_shape=(3,)),
                               nn.BatchNormalization(), nn.Dropout(0.3),
                               nn.Dense(8, activation="relu"), nn.Dense(8),
                               nn.Activation("tanh"), nn.Dense(4), nn.Activation("softmax")],
                              seed=1, dtype="float64")  # equal widths: no shape tells arrays apart
        model.compile(nn.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
        return model

    kept, fresh = build(), build()
    for step in range(4):
        rows = slice(0, 6 if step % 2 else 4)  # alternating batch sizes
        x, y = rng.normal(size=(6, 3))[rows], np.array([0, 1, 2, 3, 1, 0])[rows]
        kept.train_on_batch(x, y)
        fresh.compute_gradients(x, y)
        fresh.optimizer.update(fresh.trainable_weights, fresh.gradients)
    for ours, theirs in zip(kept.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
