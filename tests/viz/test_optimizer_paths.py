"""Optimizer paths on surfaces: they go where the mathematics says, and they are drawn."""

import matplotlib
import numpy as np
import pytest
from PIL import Image

from ildl.nn.optimizers import SGD, Adam, RMSprop
from ildl.viz.optimizer_paths import (
    animate_descent_3d,
    animate_optimizers,
    frame_steps,
    optimizer_path,
    optimizer_paths,
    plot_descent_3d,
    plot_optimizers,
)
from ildl.viz.surfaces import bowl, curve_fit_surface, monkey_saddle, peaks, saddle

matplotlib.use("Agg")


def test_sgd_path_equals_a_hand_written_gradient_descent_loop():
    rate, steps = 0.005, 50
    x, y = 1.0, 0.2
    expected = [(x, y)]
    for _ in range(steps):  # monkey saddle: grad = (3x^2 - 3y^2, -6xy)
        x, y = x - rate * (3 * x**2 - 3 * y**2), y - rate * (-6 * x * y)
        expected.append((x, y))
    path = optimizer_path(monkey_saddle(), SGD(rate), (1.0, 0.2), steps)
    assert path.shape == (steps + 1, 2)
    np.testing.assert_allclose(path, expected, rtol=1e-12)


@pytest.mark.parametrize("optimizer", [SGD(0.1), SGD(0.05, momentum=0.9), Adam(0.05)],
                         ids=["sgd", "momentum", "adam"])
def test_paths_on_the_bowl_reach_its_minimum(optimizer):
    path = optimizer_path(bowl(), optimizer, (-1.8, 0.8), 300)
    assert np.linalg.norm(path[-1]) < 0.02


def test_gradient_descent_in_a_basin_of_peaks_reaches_that_minimum():
    surface = peaks()
    path = optimizer_path(surface, SGD(0.01), (-0.5, 1.0), 500)
    np.testing.assert_allclose(path[-1], surface.minima[1], atol=1e-3)
    path = optimizer_path(surface, SGD(0.005), (1.0, 0.0), 400)  # the figure's start
    np.testing.assert_allclose(path[-1], surface.minima[2], atol=1e-2)


def test_gradient_descent_fits_the_curve():
    surface = curve_fit_surface()
    path = optimizer_path(surface, SGD(0.04), (3.0, -1.0), 300)
    losses = surface(path[:, 0], path[:, 1])
    assert losses[-1] < 0.1 * losses[0]
    assert losses[-1] < 1.3 * surface(*surface.true_params)
    np.testing.assert_allclose(path[-1], surface.true_params, atol=0.15)


def test_optimizers_run_off_the_saddle_of_x2_minus_y2():
    paths, _ = optimizer_paths(saddle(), [SGD(0.02), SGD(0.02, momentum=0.9), RMSprop(0.02),
                                          Adam(0.02)], (1.0, -0.001), 180)
    for label, path in paths.items():
        assert abs(path[-1, 0]) < 0.05, label  # x is pulled into the valley...
        assert path[-1, 1] < -1.0, label  # ...and y runs away downhill
        assert np.all(np.diff(np.abs(path[20:, 1])) > 0), label


def test_monkey_saddle_stalls_on_the_ridge_and_escapes_when_nudged():
    surface = monkey_saddle()
    # From (1, 0) exactly, y stays 0 (df/dy = -6xy = 0) and x creeps towards the flat saddle.
    path = optimizer_path(surface, SGD(0.005), (1.0, 0.0), 400)
    assert np.all(path[:, 1] == 0) and np.all(np.diff(path[:, 0]) < 0)
    assert 0 < path[-1, 0] < 0.15
    # A nudge off the ridge: the point leaves towards minus infinity down a valley.
    path = optimizer_path(surface, SGD(0.005), (1.0, 0.01), 400)
    values = surface(path[:, 0], path[:, 1])
    assert values[-1] < -1 and np.all(np.diff(values) < 0)


def test_list_of_optimizers_gets_unique_labels_and_method_colours():
    _, colors = optimizer_paths(saddle(), [SGD(0.1), SGD(0.1, momentum=0.9), Adam(0.1)],
                                (1, 0), 3)
    assert list(colors) == ["SGD", "Momentum", "Adam"]
    assert colors["Adam"] == "#ab47bc"
    paths, colors = optimizer_paths(saddle(), [SGD(0.1), SGD(0.2)], (1, 0), 3)
    assert list(paths) == ["SGD lr=0.1", "SGD lr=0.2"]
    assert len(set(colors.values())) == 2


def test_frame_steps_covers_every_step_range_then_holds():
    shown = frame_steps(180, 20, hold=0.2)
    assert len(shown) == 20 and shown[0] == 0 and shown[-1] == 180
    assert np.all(np.diff(shown) >= 0) and shown[-5] == 180


def gif_frames(path):
    """(frame count as written, total duration in ms): Pillow merges identical frames into one
    longer frame, so the duration counts the frames that were asked for."""
    with Image.open(path) as image:
        durations = []
        for index in range(image.n_frames):
            image.seek(index)
            durations.append(image.info["duration"])
        return image.size, sum(durations)


def test_animate_optimizers_writes_a_gif_of_the_asked_frames(tmp_path):
    path = tmp_path / "race.gif"
    paths = animate_optimizers(saddle(), {"SGD": SGD(0.02), "Adam": Adam(0.02)}, (1, -0.001),
                               20, str(path), frames=5, fps=10, size=(4, 2), dpi=50)
    assert set(paths) == {"SGD", "Adam"} and paths["SGD"].shape == (21, 2)
    size, duration = gif_frames(path)
    assert size == (200, 100) and duration == 5 * 100


def test_animate_descent_3d_writes_a_gif_and_the_stills_write_pngs(tmp_path):
    path = tmp_path / "descent.gif"
    animate_descent_3d(peaks(), SGD(0.01), (1, 0), 20, str(path), frames=4, fps=10,
                       size=(3, 2.5), dpi=60)
    size, duration = gif_frames(path)
    assert size == (180, 150) and duration == 4 * 100
    for plot, name in ((plot_descent_3d, "still3d.png"), (plot_optimizers, "still2d.png")):
        figure = plot(peaks(), [SGD(0.01), Adam(0.05)], (1, 0), 20, str(tmp_path / name))
        matplotlib.pyplot.close(figure)
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and image.size[0] > 200
