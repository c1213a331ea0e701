"""ildl.viz: the plots and animations of the collection, built on ildl.nn and ildl.data.

Every function works on the user's own model, function or optimizers too, e.g.
``animate_decision_boundary(model, x, y, epochs=50, path="boundary.gif")`` or
``animate_optimizers(saddle, {"adam": nn.optimizers.Adam(0.05)}, start=(1, -0.001), ...)``.
"""

from .activations import activation_curves, plot_activations
from .animation import save_animation, write_frames
from .boundary import (
    animate_decision_boundary,
    grid_points,
    plot_boundaries_snapshots,
    plot_boundary_snapshots,
    plot_decision_boundary,
    prediction_grid,
    save_boundaries_animation,
    save_boundary_animation,
    snapshot_frames,
    train_with_recorders,
)
from .convolution import KERNELS, animate_convolution, apply_kernels, plot_kernels, sample_image
from .ewma import ewma, plot_ewma, temperature_series
from .lorenz import animate_lorenz, close_starts, integrate_lorenz, lorenz_derivative, plot_lorenz
from .optimizer_paths import (
    animate_descent_3d,
    animate_optimizers,
    optimizer_path,
    optimizer_paths,
    plot_descent_3d,
    plot_optimizers,
)
from .recording import BoundaryRecorder
from .surfaces import (
    CurveFitSurface,
    Surface,
    bowl,
    curve_fit_surface,
    monkey_saddle,
    peaks,
    saddle,
)
from .theme import themed
from .training import plot_history

__all__ = [
    "KERNELS", "BoundaryRecorder", "CurveFitSurface", "Surface", "activation_curves",
    "animate_convolution", "animate_decision_boundary", "animate_descent_3d", "animate_lorenz",
    "animate_optimizers", "apply_kernels", "bowl", "close_starts", "curve_fit_surface", "ewma",
    "grid_points", "integrate_lorenz", "lorenz_derivative", "monkey_saddle", "optimizer_path",
    "optimizer_paths", "peaks", "plot_activations", "plot_boundaries_snapshots",
    "plot_boundary_snapshots", "plot_decision_boundary", "plot_descent_3d", "plot_ewma",
    "plot_history", "plot_kernels", "plot_lorenz", "plot_optimizers", "prediction_grid",
    "saddle", "sample_image", "save_animation", "save_boundaries_animation",
    "save_boundary_animation", "snapshot_frames", "temperature_series", "themed",
    "train_with_recorders", "write_frames",
]
