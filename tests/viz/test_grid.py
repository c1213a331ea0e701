"""The grid where a 2-D classifier is asked: it covers the data, answers land at their points."""

import numpy as np
import pytest

from ildl.data import make_moons
from ildl.viz.grid import grid_points, prediction_grid


def moons():
    x, y = make_moons(120, noise=0.1, random_state=1)
    return x.astype(np.float32), y


def test_grid_covers_the_data_and_matches_the_flat_points():
    x = np.array([[0.0, -1.0], [2.0, 3.0]])
    grid_x, grid_y, points = grid_points(x, resolution=5, margin=0.5)
    assert grid_x.shape == grid_y.shape == (5, 5)
    assert points.shape == (25, 2) and points.dtype == np.float32
    assert (grid_x.min(), grid_x.max(), grid_y.min(), grid_y.max()) == (-0.5, 2.5, -1.5, 3.5)
    np.testing.assert_array_equal(points[:, 0].reshape(5, 5), grid_x)
    np.testing.assert_array_equal(points[:, 1].reshape(5, 5), grid_y)


def test_prediction_grid_puts_each_answer_at_its_point():
    x, _ = moons()
    grid_x, grid_y, values = prediction_grid(lambda p: p[:, 0] + 10 * p[:, 1], x, resolution=7)
    np.testing.assert_allclose(values, grid_x + 10 * grid_y, rtol=1e-6)


def test_points_that_are_not_2d_are_refused():
    with pytest.raises(ValueError, match=r"shape \(N, 2\), got \(5, 3\)"):
        grid_points(np.zeros((5, 3)))
