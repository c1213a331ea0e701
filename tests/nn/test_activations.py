"""Activations: values against textbook formulas and PyTorch, derivatives and backward passes
against finite differences (softmax: its full Jacobian), dtypes, stability, lookup by name."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from nn_reference import (
    ACTIVATION_FORMULAS,
    ACTIVATION_NAMES,
    ELEMENTWISE_NAMES,
    central_difference,
)

from ildl.nn import activations

# Away from the kinks of relu / leaky_relu / elu at 0, where a finite difference straddles two
# pieces.
KINKED = {"relu", "leaky_relu", "elu"}


def inputs_away_from_zero(rng, shape, scale=2.0):
    x = rng.normal(scale=scale, size=shape)
    return np.where(np.abs(x) < 1e-3, 0.5, x)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_value_matches_textbook_formula(name, rng):
    x = rng.normal(scale=3.0, size=(6, 5))
    np.testing.assert_allclose(activations.get(name)(x), ACTIVATION_FORMULAS[name](x),
                               rtol=1e-12, atol=1e-14)


def test_module_level_instances_and_aliases():
    x = np.linspace(-4, 4, 17)
    np.testing.assert_array_equal(activations.relu(x), np.maximum(x, 0))
    np.testing.assert_allclose(activations.silu(x), activations.swish(x), rtol=0, atol=0)
    np.testing.assert_allclose(activations.leaky_relu(np.array([-1.0])), [-0.2])  # Keras slope
    np.testing.assert_allclose(activations.elu(np.array([-1.0])), [np.expm1(-1.0)])


def test_derivative_at_zero_follows_the_convention():
    zero = np.zeros(1)
    assert activations.relu.derivative(zero)[0] == 0.0  # PyTorch and TensorFlow use 0 at 0
    assert activations.sigmoid.derivative(zero)[0] == 0.25
    assert activations.tanh.derivative(zero)[0] == 1.0
    assert activations.gelu.derivative(zero)[0] == pytest.approx(0.5)
    assert activations.swish.derivative(zero)[0] == pytest.approx(0.5)
    assert activations.softplus.derivative(zero)[0] == pytest.approx(0.5)


@pytest.mark.parametrize("name", ELEMENTWISE_NAMES)
def test_derivative_matches_finite_differences(name, rng):
    fn = activations.get(name)
    x = inputs_away_from_zero(rng, (40,))
    eps = 1e-6
    numeric = (fn(x + eps) - fn(x - eps)) / (2 * eps)
    np.testing.assert_allclose(fn.derivative(x), numeric, rtol=1e-6, atol=1e-8)
    # Passing the saved output y = f(x) must not change the answer.
    np.testing.assert_allclose(fn.derivative(x, fn(x)), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_backward_matches_finite_differences(name, rng):
    """dL/dx of L = sum(f(x) * G) for a random G: for softmax this is the full Jacobian."""
    fn = activations.get(name)
    x = inputs_away_from_zero(rng, (4, 5))
    grad_y = rng.normal(size=x.shape)
    numeric = central_difference(lambda: float(np.sum(fn(x) * grad_y)), x)
    np.testing.assert_allclose(fn.backward(x, fn(x), grad_y), numeric, rtol=1e-6, atol=1e-8)


def test_softmax_backward_applies_the_full_jacobian(rng):
    x = rng.normal(size=5)
    y = activations.softmax(x)
    jacobian = np.diag(y) - np.outer(y, y)  # dy_i/dx_j
    numeric = np.stack([central_difference(lambda i=i: float(activations.softmax(x)[i]), x)
                        for i in range(5)])
    np.testing.assert_allclose(jacobian, numeric, rtol=1e-6, atol=1e-9)
    # backward with the unit vector e_i as dL/dy gives row i of the Jacobian (it is symmetric).
    rows = np.stack([activations.softmax.backward(x, y, np.eye(5)[i]) for i in range(5)])
    np.testing.assert_allclose(rows, jacobian, rtol=1e-12, atol=1e-15)
    # derivative() is documented as the diagonal only.
    np.testing.assert_allclose(activations.softmax.derivative(x), np.diag(jacobian), rtol=1e-12)


def test_softmax_rows_sum_to_one_and_survive_huge_scores():
    x = np.array([[1000.0, 1000.0, -1000.0], [-5.0, 0.0, 5.0]])
    y = activations.softmax(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(y[0], [0.5, 0.5, 0.0], atol=1e-300)


def test_sigmoid_softplus_are_stable_for_huge_inputs():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # not even a warning
        s = activations.sigmoid(x)
        sp = activations.softplus(x)
        ds = activations.sigmoid.derivative(x)
    np.testing.assert_allclose(s, [0.0, np.exp(-50.0), 0.5, 1.0, 1.0], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(sp, [0.0, np.exp(-50.0), np.log(2.0), 50.0, 1000.0], rtol=1e-12,
                               atol=1e-300)
    assert np.all(np.isfinite(ds))


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_out_changes_no_value(name, rng):
    """Given ``out`` (a layer's kept array, filled with garbage here), value and backward are
    the same bits as without it, and whatever they return is the result."""
    function = activations.get(name)
    x, grad_y = rng.normal(scale=3.0, size=(2, 6, 5))
    y = function(x)
    out = np.full_like(x, np.nan)
    np.testing.assert_array_equal(function(x, out=out), y)
    out = np.full_like(x, np.nan)
    np.testing.assert_array_equal(function.backward(x, y, grad_y, out=out),
                                  function.backward(x, y, grad_y))


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_float32_stays_float32(name, rng):
    fn = activations.get(name)
    x = rng.normal(size=(3, 4)).astype(np.float32)
    y = fn(x)
    grad_y = np.ones_like(x)
    assert y.dtype == np.float32
    assert fn.derivative(x).dtype == np.float32
    assert fn.backward(x, y, grad_y).dtype == np.float32


# --------------------------------------------------------------------------------------
# Against PyTorch
# --------------------------------------------------------------------------------------

def torch_functions(torch):
    functional = torch.nn.functional
    return {
        "linear": lambda t: t,
        "relu": functional.relu,
        "leaky_relu": lambda t: functional.leaky_relu(t, negative_slope=0.2),
        "elu": lambda t: functional.elu(t, alpha=1.0),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softmax": lambda t: functional.softmax(t, dim=-1),
        # PyTorch switches to the identity above `threshold`; 30 is beyond our inputs.
        "softplus": lambda t: functional.softplus(t, beta=1.0, threshold=30.0),
        "swish": functional.silu,
        "silu": functional.silu,
        "gelu": lambda t: functional.gelu(t, approximate="none"),
    }


def ildl_and_torch(name, torch):
    if name == "gelu_tanh":
        return (activations.GELU(approximate=True),
                lambda t: torch.nn.functional.gelu(t, approximate="tanh"))
    return activations.get(name), torch_functions(torch)[name]


ALL_WITH_GELU_TANH = ACTIVATION_NAMES + ["gelu_tanh"]


@pytest.mark.parametrize("name", ALL_WITH_GELU_TANH)
def test_value_and_gradients_equal_torch(name, torch, rng):
    ours, theirs = ildl_and_torch(name, torch)
    x = inputs_away_from_zero(rng, (7, 6), scale=4.0)
    grad_y = rng.normal(size=x.shape)
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ty = theirs(tx)
    ty.backward(torch.tensor(grad_y))
    y = ours(x)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.backward(x, y, grad_y), tx.grad.numpy(), rtol=1e-11,
                               atol=1e-13)


@pytest.mark.parametrize("name", [n for n in ALL_WITH_GELU_TANH if n != "softmax"])
def test_derivative_equals_torch_autograd(name, torch, rng):
    ours, theirs = ildl_and_torch(name, torch)
    x = inputs_away_from_zero(rng, (50,), scale=4.0)
    tx = torch.tensor(x, requires_grad=True)
    theirs(tx).sum().backward()
    np.testing.assert_allclose(ours.derivative(x), tx.grad.numpy(), rtol=1e-11, atol=1e-13)


@settings(max_examples=30, deadline=None, database=None)
@given(name=st.sampled_from(ALL_WITH_GELU_TANH), shape=array_shapes(min_dims=1, max_dims=4,
                                                                     max_side=5),
       seed=st.integers(0, 2**32 - 1))
def test_any_shape_equals_torch(name, shape, seed):
    torch = pytest.importorskip("torch")
    ours, theirs = ildl_and_torch(name, torch)
    x = np.random.default_rng(seed).normal(scale=3.0, size=shape)
    y = ours(x)
    assert y.shape == x.shape
    np.testing.assert_allclose(y, theirs(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------------------
# Lookup by name
# --------------------------------------------------------------------------------------

def test_get_accepts_names_objects_and_none():
    for name in ACTIVATION_NAMES:
        assert isinstance(activations.get(name), activations.ActivationFunction)
    relu = activations.ReLU()
    assert activations.get(relu) is relu
    x = np.array([-1.0, 2.0])
    np.testing.assert_array_equal(activations.get(None)(x), x)


def test_names_lists_every_keras_activation():
    assert set(ACTIVATION_NAMES) <= set(activations.names())


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError) as error:
        activations.get("relu6")
    message = str(error.value)
    assert "relu6" in message
    for name in ACTIVATION_NAMES:
        assert name in message


@pytest.mark.parametrize("activation", [activations.LeakyReLU(0.05), activations.ELU(0.5),
                                        activations.GELU(approximate=True), activations.Tanh()])
def test_serialize_round_trip_keeps_the_configuration(activation):
    rebuilt = activations.get(activations.serialize(activation))
    assert type(rebuilt) is type(activation)
    x = np.linspace(-3, 3, 13)
    np.testing.assert_array_equal(rebuilt(x), activation(x))
