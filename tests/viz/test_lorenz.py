"""The Lorenz integrator against independent integrations, and the animation's frames."""

import matplotlib
import numpy as np
import pytest
from PIL import Image

from ildl.viz.lorenz import (
    BETA,
    RHO,
    SIGMA,
    animate_lorenz,
    close_starts,
    integrate_lorenz,
    lorenz_derivative,
    plot_lorenz,
    spread,
)

matplotlib.use("Agg")


def rk4_by_hand(start, steps, dt):
    """One start, plain Python floats: the textbook RK4 loop, written independently."""
    def f(x, y, z):
        return (10.0 * (y - x), x * (28.0 - z) - y, x * y - 8.0 / 3.0 * z)

    state = tuple(float(v) for v in start)
    path = [state]
    for _ in range(steps):
        k1 = f(*state)
        k2 = f(*(s + dt / 2 * k for s, k in zip(state, k1)))
        k3 = f(*(s + dt / 2 * k for s, k in zip(state, k2)))
        k4 = f(*(s + dt * k for s, k in zip(state, k3)))
        state = tuple(s + dt / 6 * (a + 2 * b + 2 * c + d)
                      for s, a, b, c, d in zip(state, k1, k2, k3, k4))
        path.append(state)
    return np.array(path)


def test_vectorised_rk4_equals_a_hand_written_loop_for_every_start():
    starts = close_starts(4)
    trajectories = integrate_lorenz(starts, steps=300, dt=0.01)
    assert trajectories.shape == (301, 4, 3)
    for index, start in enumerate(starts):
        np.testing.assert_allclose(trajectories[:, index], rk4_by_hand(start, 300, 0.01),
                                   rtol=1e-12, atol=1e-10)


def test_trajectory_matches_solve_ivp_and_converges_at_fourth_order():
    integrate = pytest.importorskip("scipy.integrate")
    start = np.array([-5.0, -5.0, 20.0])
    times = np.linspace(0, 1, 101)
    reference = integrate.solve_ivp(lambda t, s: lorenz_derivative(s), (0, 1), start,
                                    method="DOP853", rtol=1e-12, atol=1e-12, t_eval=times).y.T
    coarse = integrate_lorenz(start, steps=100, dt=0.01)
    fine = integrate_lorenz(start, steps=200, dt=0.005)[::2]
    error_coarse = np.abs(coarse - reference).max()
    error_fine = np.abs(fine - reference).max()
    assert error_coarse < 1e-3  # the state itself is of size ~20
    # Halving dt divides a fourth-order method's error by about 2^4 = 16.
    assert 10 < error_coarse / error_fine < 22


def test_fixed_points_do_not_move():
    c = np.sqrt(BETA * (RHO - 1))
    points = np.array([[0.0, 0.0, 0.0], [c, c, RHO - 1], [-c, -c, RHO - 1]])
    np.testing.assert_allclose(lorenz_derivative(points), 0, atol=1e-12)
    np.testing.assert_allclose(integrate_lorenz(points, steps=50)[-1], points, atol=1e-10)


def test_derivative_is_the_lorenz_system():
    state = np.array([1.0, 2.0, 3.0])
    expected = [SIGMA * (2 - 1), 1 * (RHO - 3) - 2, 1 * 2 - BETA * 3]
    np.testing.assert_allclose(lorenz_derivative(state), expected)


def test_close_starts_diverge_yet_stay_on_the_bounded_attractor():
    trajectories = integrate_lorenz(close_starts(6, spacing=0.001), steps=1500, dt=0.01)
    distances = spread(trajectories)
    assert distances[0] == pytest.approx(0.005)
    assert distances[100] < 0.05          # together at t = 1
    assert distances[1200:].max() > 10     # on different wings by the end
    assert np.abs(trajectories).max() < 60  # but never leave the attractor
    assert (trajectories[:, :, 0] > 0).any() and (trajectories[:, :, 0] < 0).any()  # both wings


def test_one_start_gives_a_single_path_and_bad_shapes_are_refused():
    assert integrate_lorenz(np.array([1.0, 1.0, 1.0]), steps=10).shape == (11, 3)
    with pytest.raises(ValueError, match="shape"):
        integrate_lorenz(np.zeros((2, 2)))


def test_animation_has_the_frames_and_size_asked(tmp_path):
    trajectories = integrate_lorenz(close_starts(3), steps=100)
    path = animate_lorenz(trajectories, str(tmp_path / "lorenz.gif"), frames=4, size=2, dpi=60)
    with Image.open(path) as image:
        assert image.n_frames == 4
        assert image.size == (120, 120)


def test_summary_plots_every_trajectory():
    import matplotlib.pyplot as plt

    trajectories = integrate_lorenz(close_starts(3), steps=100)
    figure = plot_lorenz(trajectories)
    try:
        ax3d, ax_distance = figure.axes
        assert len(ax3d.lines) == 3
        assert len(ax_distance.lines) == 3  # two distances and the e^(0.91 t) guide
    finally:
        plt.close(figure)


def test_summary_names_the_parameters_it_was_given():
    import matplotlib.pyplot as plt

    trajectories = integrate_lorenz(close_starts(3), steps=100, rho=14.0)
    figure = plot_lorenz(trajectories, rho=14.0)
    try:
        assert "ρ = 14" in figure.texts[0].get_text()
        assert len(figure.axes[1].lines) == 2  # no e^(0.91 t) guide: 0.91 holds for rho 28 only
    finally:
        plt.close(figure)
