"""The grid of points where a 2-D classifier is asked for its answer, to draw its boundary.

``grid_points(x)`` covers the data ``x`` (N, 2) with a regular grid; ``prediction_grid(predict,
x)`` puts a model's answers on it. Both the boundary plots (``viz.boundary``) and the recorder
that takes their frames while ``fit`` runs (``viz.recording``) use the same grid.
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError


def grid_points(x: np.ndarray, resolution: int = 100, margin: float = 0.5):
    """A ``resolution x resolution`` grid covering the points ``x`` (N, 2) with ``margin`` around.

    Returns ``(grid_x, grid_y, points)``: the coordinates as two (resolution, resolution) arrays
    (``np.meshgrid`` layout: row i has y = grid_y[i, 0]) and the same points as one float32
    (resolution**2, 2) array, ready for ``model.predict``; ``predictions.reshape(grid_x.shape)``
    puts the answers back on the grid.
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ArgumentError(f"decision boundaries need 2-D points of shape (N, 2), got {x.shape}")
    low = x.min(axis=0) - margin
    high = x.max(axis=0) + margin
    grid_x, grid_y = np.meshgrid(np.linspace(low[0], high[0], resolution),
                                 np.linspace(low[1], high[1], resolution))
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()]).astype(np.float32)
    return grid_x, grid_y, points


def prediction_grid(predict, x: np.ndarray, resolution: int = 200, margin: float = 0.5):
    """Evaluate ``predict`` on a ``resolution x resolution`` grid covering ``x`` (N, 2).

    Returns ``(grid_x, grid_y, probabilities)``, each ``(resolution, resolution)``; ``predict`` maps
    (M, 2) points to (M,) or (M, 1) probabilities of class 1 (e.g. ``model.predict``).
    """
    grid_x, grid_y, points = grid_points(x, resolution, margin)
    probabilities = np.asarray(predict(points)).reshape(grid_x.shape)
    return grid_x, grid_y, probabilities
