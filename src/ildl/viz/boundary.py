"""Decision boundaries: what a classifier predicts over the whole plane of a 2-D dataset."""

from __future__ import annotations

import numpy as np


def prediction_grid(predict, x: np.ndarray, resolution: int = 200, margin: float = 0.5):
    """Evaluate ``predict`` on a ``resolution x resolution`` grid covering ``x`` (N, 2).

    Returns ``(grid_x, grid_y, probabilities)``, each ``(resolution, resolution)``; ``predict`` maps
    (M, 2) points to (M,) or (M, 1) probabilities of class 1 (e.g. ``model.predict``).
    """
    low = x.min(axis=0) - margin
    high = x.max(axis=0) + margin
    grid_x, grid_y = np.meshgrid(np.linspace(low[0], high[0], resolution),
                                 np.linspace(low[1], high[1], resolution))
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()]).astype(np.float32)
    probabilities = np.asarray(predict(points)).reshape(grid_x.shape)
    return grid_x, grid_y, probabilities


def plot_decision_boundary(model, x: np.ndarray, y: np.ndarray, ax=None, title: str = "",
                           resolution: int = 200):
    """Shade the plane by the predicted probability of class 1 and draw the points of (x, y).

    ``model`` is anything with ``predict`` (an ildl ``Sequential``) or a function of points.
    Returns the matplotlib Axes.

    >>> ax = plot_decision_boundary(model, x_test, y_test, title="test set")   # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    predict = model.predict if hasattr(model, "predict") else model
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    grid_x, grid_y, probabilities = prediction_grid(predict, x, resolution)
    shading = ax.contourf(grid_x, grid_y, probabilities, levels=np.linspace(0, 1, 21),
                          cmap="RdBu_r", alpha=0.75)
    ax.contour(grid_x, grid_y, probabilities, levels=[0.5], colors="black", linewidths=1.5)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu_r", edgecolors="white", linewidths=0.6, s=22)
    ax.figure.colorbar(shading, ax=ax, label="P(class 1)")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax
