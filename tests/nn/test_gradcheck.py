"""nn.numerical_gradient and nn.gradcheck: they agree with an independent finite-difference
helper, pass correct layers and models, and fail loudly on deliberately broken ones."""

import numpy as np
import pytest
from nn_reference import central_difference

from ildl import nn


def test_numerical_gradient_of_known_functions(rng):
    a = rng.normal(size=(3, 4))
    np.testing.assert_allclose(nn.numerical_gradient(lambda: float(np.sum(a**2)), a), 2 * a,
                               rtol=1e-7, atol=1e-9)
    b = rng.normal(size=5)
    np.testing.assert_allclose(nn.numerical_gradient(lambda: float(np.prod(b)), b),
                               np.prod(b) / b, rtol=1e-6)
    before = a.copy()
    nn.numerical_gradient(lambda: float(np.sum(np.sin(a))), a)
    np.testing.assert_array_equal(a, before)  # restored after perturbing


def test_numerical_gradient_agrees_with_own_helper(rng):
    w = rng.normal(size=(4, 2))
    x = rng.normal(size=(6, 4))

    def f():
        return float(np.sum(np.tanh(x @ w) ** 2))

    np.testing.assert_allclose(nn.numerical_gradient(f, w), central_difference(f, w),
                               rtol=1e-9, atol=1e-12)


def test_numerical_gradient_of_a_non_contiguous_array(rng):
    a = rng.normal(size=(3, 4)).T  # a transposed view: not C-contiguous
    np.testing.assert_allclose(nn.numerical_gradient(lambda: float(np.sum(a**2)), a), 2 * a,
                               rtol=1e-7, atol=1e-9)


def test_gradcheck_accepts_non_contiguous_inputs(rng):
    x = rng.normal(size=(5, 4)).T  # (4, 5), F-ordered
    assert nn.gradcheck(nn.Dense(3, activation="tanh"), x) is True


@pytest.mark.parametrize("layer", [
    nn.Dense(3, activation="tanh"),
    nn.Dense(3, activation="softmax", use_bias=False),
    nn.Dense(2, kernel_regularizer=nn.regularizers.L1L2(0.1, 0.2)),
    nn.Activation("gelu"),
    nn.Dropout(0.3),
], ids=["dense_tanh", "dense_softmax_nobias", "dense_l1l2", "activation", "dropout"])
def test_gradcheck_passes_correct_layers(layer, rng):
    assert nn.gradcheck(layer, rng.normal(size=(4, 5))) is True


class KernelGradTooBig(nn.Dense):
    def call_backward(self, grad_logits, need_input_grad=True):
        result = super().call_backward(grad_logits, need_input_grad)
        self.grads["kernel"] *= 1.001
        return result


class BiasGradDropped(nn.Dense):
    def call_backward(self, grad_logits, need_input_grad=True):
        result = super().call_backward(grad_logits, need_input_grad)
        self.grads["bias"][0] = 0.0
        return result


class InputGradTransposeMistake(nn.Dense):
    def call_backward(self, grad_logits, need_input_grad=True):
        super().call_backward(grad_logits, need_input_grad)
        return -grad_logits @ self.params["kernel"].T  # wrong sign


class ForgetsRegularizer(nn.Dense):
    def add_regularization_gradients(self):
        pass


class DropoutWithoutMask(nn.Dropout):
    def call_backward(self, grad_logits, need_input_grad=True):
        return grad_logits  # forgets to apply the mask


@pytest.mark.parametrize("layer, where", [
    (KernelGradTooBig(3, activation="tanh"), "kernel"),
    (BiasGradDropped(3, activation="sigmoid"), "bias"),
    (InputGradTransposeMistake(3), "input"),
    (ForgetsRegularizer(3, kernel_regularizer=nn.regularizers.L2(0.5)), "kernel"),
    (DropoutWithoutMask(0.5), "input"),
], ids=["kernel", "bias", "input", "regularizer", "dropout"])
def test_gradcheck_catches_broken_layers(layer, where, rng):
    with pytest.raises(nn.GradcheckError) as error:
        nn.gradcheck(layer, rng.normal(size=(4, 5)))
    message = str(error.value)
    assert f"gradient of {where}" in message
    assert "backward gives" in message and "finite differences give" in message
    assert issubclass(nn.GradcheckError, AssertionError)


def test_gradcheck_refuses_float32(rng):
    layer = nn.Dense(2)
    layer.build((3,), np.random.default_rng(0), np.float32)
    with pytest.raises(ValueError, match="float64"):
        nn.gradcheck(layer, rng.normal(size=(2, 3)))
    model = nn.Sequential([nn.Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="float64"):
        nn.gradcheck(model, rng.normal(size=(2, 3)), rng.normal(size=(2, 2)))


# --------------------------------------------------------------------------------------
# Whole models
# --------------------------------------------------------------------------------------

MODEL_CASES = {
    "softmax_sparse_ce": ([nn.Dense(6, activation="tanh"), nn.Dense(5, activation="elu"),
                           nn.Dense(3, activation="softmax")],
                          "sparse_categorical_crossentropy"),
    "softmax_ce": ([nn.Dense(4, activation="swish"), nn.Dense(3, activation="softmax")],
                   "categorical_crossentropy"),
    "sigmoid_bce": ([nn.Dense(5, activation="softplus"), nn.Dense(2, activation="sigmoid")],
                    "binary_crossentropy"),
    "tanh_mse_l1l2": ([nn.Dense(5, activation="tanh",
                                kernel_regularizer=nn.regularizers.L1L2(0.01, 0.02)),
                       nn.Dense(2, activation="tanh")], "mse"),
    "linear_mae": ([nn.Dense(4, activation="gelu"), nn.Dense(2)], "mae"),
}


def model_case(name, rng):
    layers, loss = MODEL_CASES[name]
    layers = [type(layer)(**layer.get_config()) for layer in layers]  # fresh copies
    model = nn.Sequential(layers, seed=2, dtype="float64")
    model.build((3,))
    model.compile("sgd", loss)
    x = rng.normal(size=(7, 3))
    units = layers[-1].units
    if loss == "sparse_categorical_crossentropy":
        y = rng.integers(0, units, size=7)
    elif loss == "categorical_crossentropy":
        y = np.eye(units)[rng.integers(0, units, size=7)]
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, size=(7, units)).astype(float)
    else:
        y = rng.normal(size=(7, units))
    return model, x, y


@pytest.mark.parametrize("name", sorted(MODEL_CASES))
def test_model_gradients_match_finite_differences_of_evaluate(name, rng):
    """Analytic gradients (the fused training path) against finite differences of the loss that
    ``evaluate`` reports (probabilities, no fusion)."""
    model, x, y = model_case(name, rng)
    assert nn.gradcheck(model, x, y) is True
    model.compute_gradients(x, y)  # x, y are already float64 / int64 in the output's shape
    analytic = [g.copy() for g in model.gradients]
    for weight, grad in zip(model.trainable_weights, analytic):
        numeric = central_difference(lambda: model.evaluate(x, y)["loss"], weight)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_model_gradcheck_with_dropout(rng):
    model = nn.Sequential([nn.Dense(6, activation="tanh", input_shape=(3,)), nn.Dropout(0.5),
                           nn.Dense(2, activation="sigmoid")], seed=0, dtype="float64")
    model.compile("sgd", "binary_crossentropy")
    assert nn.gradcheck(model, rng.normal(size=(5, 3)),
                        rng.integers(0, 2, size=(5, 2)).astype(float)) is True


def test_model_gradcheck_catches_a_broken_layer(rng):
    model = nn.Sequential([nn.Dense(4, activation="tanh", input_shape=(3,)),
                           KernelGradTooBig(2)], seed=0, dtype="float64")
    model.compile("sgd", "mse")
    with pytest.raises(nn.GradcheckError, match="kernel"):
        nn.gradcheck(model, rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))


def test_gradcheck_of_an_already_built_dropout(rng):
    layer = nn.Dropout(0.5)
    layer.build((6,), np.random.default_rng(1), np.dtype("float64"))
    assert nn.gradcheck(layer, rng.normal(size=(4, 6))) is True
