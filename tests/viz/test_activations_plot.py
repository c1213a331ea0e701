"""The activation figure draws the very functions and derivatives of ildl.nn.activations."""

import matplotlib
import numpy as np
import pytest

from ildl.nn import activations
from ildl.viz.activations import DEFAULT_ACTIVATIONS, activation_curves, plot_activations

matplotlib.use("Agg")
X = np.linspace(-4, 4, 161)


def test_every_activation_of_ildl_nn_is_shown():
    # silu is another name of swish; a new activation in ildl.nn must appear in the figure.
    assert set(DEFAULT_ACTIVATIONS) == set(activations.names()) - {"silu"}


@pytest.mark.parametrize("name", [n for n in DEFAULT_ACTIVATIONS if n != "softmax"])
def test_curves_are_the_layer_activation_and_its_derivative(name):
    y, dy = activation_curves(name, X)
    layer_activation = activations.get(name)
    np.testing.assert_array_equal(y, layer_activation(X))
    np.testing.assert_array_equal(dy, layer_activation.derivative(X))


@pytest.mark.parametrize("name", DEFAULT_ACTIVATIONS)
def test_derivative_matches_finite_differences_away_from_kinks(name):
    x = X[np.abs(X) > 0.05]  # ReLU and friends have a kink at 0
    h = 1e-5
    y_plus, _ = activation_curves(name, x + h)
    y_minus, _ = activation_curves(name, x - h)
    _, dy = activation_curves(name, x)
    np.testing.assert_allclose(dy, (y_plus - y_minus) / (2 * h), atol=1e-6)


def test_softmax_curve_is_the_two_class_case_which_is_the_sigmoid():
    y, dy = activation_curves("softmax", X)
    np.testing.assert_allclose(y, activations.sigmoid(X), atol=1e-12)
    np.testing.assert_allclose(dy, activations.sigmoid.derivative(X), atol=1e-12)


def test_plot_has_a_panel_per_activation_with_function_and_derivative():
    import matplotlib.pyplot as plt

    names = ("relu", "tanh", "gelu")
    figure = plot_activations(names, x=X, columns=2)
    try:
        visible = [ax for ax in figure.axes if ax.get_visible()]
        assert len(visible) == 3
        for ax, name in zip(visible, names):
            y, dy = activation_curves(name, X)
            drawn = [line.get_ydata() for line in ax.lines if len(line.get_ydata()) == len(X)]
            np.testing.assert_array_equal(drawn[0], y)
            np.testing.assert_array_equal(drawn[1], dy)
    finally:
        plt.close(figure)
