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


def cielab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (..., 3) to CIELAB (D65), the space where distance is seen difference."""
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                             [0.0193, 0.1192, 0.9505]]).T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def test_cielab_of_known_colours():
    np.testing.assert_allclose(cielab(np.array([1.0, 1.0, 1.0])), [100, 0, 0], atol=0.05)
    np.testing.assert_allclose(cielab(np.array([1.0, 0.0, 0.0])), [53.24, 80.09, 67.20],
                               atol=0.05)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_path_colours_stand_out_from_the_surface_colours(theme):
    from matplotlib.colors import to_rgb

    from ildl.graphics import SURFACE_CMAP, THEMES

    # The filled contours as drawn: the colour map at alpha 0.9 over the theme's background.
    background = np.array(to_rgb(THEMES[theme]["axes.facecolor"]))
    surface = 0.9 * matplotlib.colormaps[SURFACE_CMAP](np.linspace(0, 1, 256))[:, :3] \
        + 0.1 * background
    _, methods = optimizer_paths(saddle(), [SGD(0.1), SGD(0.1, momentum=0.9),
                                            SGD(0.1, momentum=0.9, nesterov=True),
                                            RMSprop(0.1), Adam(0.1)], (1, 0), 1)
    _, rates = optimizer_paths(peaks(), [SGD(rate) for rate in (0.01, 0.02, 0.03, 0.04)],
                               (1, 0), 1)
    for label, color in {**methods, **rates}.items():
        distance = np.linalg.norm(cielab(surface) - cielab(np.array(to_rgb(color))), axis=1)
        # A difference of about 2 is just visible; Nesterov's old green was 6 from the greens.
        assert distance.min() > 12, (label, color, distance.min())


def test_the_dot_at_the_head_of_each_path_is_in_the_legend():
    # The still showed SGD's head at (0, -1.15) with nothing saying what the dot was.
    figure = plot_optimizers(saddle(), [SGD(0.02), Adam(0.02)], (1, -0.001), 30)
    try:
        (legend,) = figure.legends  # one, under the panels: off the surface and its paths
        labels = [text.get_text() for text in legend.get_texts()]
        assert labels == ["saddle point", "start", "SGD", "Adam", "current position"]
        head = legend.legend_handles[-1]
        assert head.get_marker() == "o" and head.get_linestyle() == "None"
    finally:
        matplotlib.pyplot.close(figure)
