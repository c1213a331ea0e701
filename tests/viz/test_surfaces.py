"""The analytic surfaces: exact gradients agree with central differences, critical points hold."""

import numpy as np
import pytest

from ildl.viz.surfaces import (
    Surface,
    bowl,
    curve_fit_surface,
    monkey_saddle,
    peaks,
    saddle,
)

SURFACES = [saddle(), monkey_saddle(), peaks(), bowl(), curve_fit_surface()]


def central_difference(f, x, y, h=1e-5):
    """Numeric (df/dx, df/dy), independent of the surfaces' gradient code."""
    return ((f(x + h, y) - f(x - h, y)) / (2 * h), (f(x, y + h) - f(x, y - h)) / (2 * h))


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_exact_gradient_matches_central_differences(surface):
    rng = np.random.default_rng(1)
    (x_min, x_max), (y_min, y_max) = surface.domain
    x = rng.uniform(x_min, x_max, 25)
    y = rng.uniform(y_min, y_max, 25)
    exact = np.array(surface.gradient(x, y))
    numeric = np.array(central_difference(surface, x, y))
    assert exact.shape == (2, 25)
    np.testing.assert_allclose(exact, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_known_critical_points_have_zero_gradient(surface):
    for point in surface.minima + surface.saddles + surface.maxima:
        assert np.abs(surface.gradient_at(np.array(point))).max() < 2e-3, point


def test_peaks_minima_are_minima_with_the_documented_values():
    surface = peaks()
    values = [surface(*point) for point in surface.minima]
    np.testing.assert_allclose(values, [-6.551, -3.050, -0.0649], atol=2e-3)
    for point in surface.minima:  # every neighbour is higher
        for dx, dy in ((0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01)):
            assert surface(point[0] + dx, point[1] + dy) > surface(*point)


def test_surfaces_evaluate_grids_with_their_shape():
    grid_x, grid_y, grid_z = curve_fit_surface().grid(30)
    assert grid_x.shape == grid_y.shape == grid_z.shape == (30, 30)
    assert grid_x.min() == -5 and grid_y.max() == 5
    assert np.isfinite(grid_z).all() and (grid_z >= 0).all()


def test_curve_fit_loss_is_the_mean_squared_error_of_the_model():
    surface = curve_fit_surface(true_params=(2.0, 1.5), samples=200, noise=0.1, seed=0)
    assert surface.x_data.shape == surface.y_data.shape == (200,)
    a, b = 1.3, -0.7
    expected = np.mean((np.sin(b * np.cos(a * surface.x_data)) - surface.y_data) ** 2)
    assert surface(a, b) == pytest.approx(expected)
    # The true parameters fit to the noise level (MSE ~ noise^2), far better than elsewhere.
    assert surface(2.0, 1.5) == pytest.approx(0.01, rel=0.3)
    assert surface(-2.0, 1.5) == pytest.approx(surface(2.0, 1.5))  # the model is even in a


def test_a_user_surface_without_gradient_uses_central_differences():
    surface = Surface("mine", lambda x, y: np.sin(x) * y**2)
    np.testing.assert_allclose(surface.gradient_at(np.array([0.5, 2.0])),
                               [np.cos(0.5) * 4, np.sin(0.5) * 4], rtol=1e-6)
