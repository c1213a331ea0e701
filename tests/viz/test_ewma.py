"""Exponentially weighted averages against a loop, the closed form, and bias correction."""

import matplotlib
import numpy as np
import pytest

from ildl.viz.ewma import ewma, plot_ewma, temperature_series

matplotlib.use("Agg")
BETAS = (0.0, 0.5, 0.9, 0.98)


@pytest.mark.parametrize("beta", BETAS)
def test_equals_an_independent_loop(beta):
    x = np.random.default_rng(1).normal(size=60)
    expected, v = [], 0.0
    for value in x.tolist():
        v = beta * v + (1 - beta) * value
        expected.append(v)
    np.testing.assert_allclose(ewma(x, beta), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("beta", BETAS)
def test_equals_the_closed_form(beta):
    # v_t = (1 - beta) sum_{k <= t} beta^(t - k) x_k: a lower-triangular matrix of weights.
    x = np.random.default_rng(2).normal(size=40)
    t, k = np.indices((40, 40))
    weights = np.where(k <= t, (1 - beta) * beta ** np.clip(t - k, 0, None), 0.0)
    np.testing.assert_allclose(ewma(x, beta), weights @ x, rtol=1e-10, atol=1e-12)


def test_bias_correction_removes_the_pull_toward_zero():
    x = np.full(30, 7.0)
    beta = 0.9
    steps = np.arange(1, 31)
    np.testing.assert_allclose(ewma(x, beta), 7 * (1 - beta**steps))
    np.testing.assert_allclose(ewma(x, beta, bias_correction=True), 7.0)


def test_trailing_axes_are_averaged_independently():
    x = np.random.default_rng(3).normal(size=(25, 3))
    together = ewma(x, 0.8, bias_correction=True)
    for column in range(3):
        np.testing.assert_allclose(together[:, column],
                                   ewma(x[:, column], 0.8, bias_correction=True))


def test_beta_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="beta"):
        ewma(np.ones(3), 1.0)


def test_larger_beta_is_smoother_and_later():
    x = temperature_series()
    roughness = [np.abs(np.diff(ewma(x, beta))).mean() for beta in (0.5, 0.9, 0.98)]
    assert roughness[0] > roughness[1] > roughness[2]
    assert x.shape == (365,) and x[:30].mean() > 10  # starts far from 0: the bias shows


def test_plot_shows_one_curve_per_beta_and_both_corrections():
    import matplotlib.pyplot as plt

    x = temperature_series(100)
    figure = plot_ewma(x, betas=(0.5, 0.9), corrected_beta=0.9, start_steps=50)
    try:
        left, right = figure.axes
        assert len(left.lines) == 2 and len(right.lines) == 2
        np.testing.assert_allclose(left.lines[1].get_ydata(), ewma(x, 0.9))
        np.testing.assert_allclose(right.lines[1].get_ydata(),
                                   ewma(x, 0.9, bias_correction=True)[:50])
    finally:
        plt.close(figure)
