"""ildl.viz: the plots and animations of the collection, built on ildl.nn and ildl.data.

Every function works on the user's own model, function or optimizers too, e.g.
``animate_decision_boundary(model, x, y, epochs=50, path="boundary.gif")`` or
``animate_optimizers(saddle, {"adam": nn.optimizers.Adam(0.05)}, start=(1, -0.001), ...)``.

``from ildl.viz import plot_history`` loads only the module that defines it (``viz.training``):
the names below are looked up on first use (PEP 562), so ``import ildl.viz.theme`` or a figure
that needs one plot does not load every other figure module and all of ``ildl.nn`` with it.
"""

from __future__ import annotations

import importlib

# The one name that is also a module's name: imported now, or importing the module ildl.viz.ewma
# (as the gallery does) would leave ``ildl.viz.ewma`` meaning the module instead of the function.
from .ewma import ewma  # noqa: F401  (in __all__)

# name -> the module of ildl.viz that defines it (theme and animation re-export ildl.graphics)
_HOMES = {
    "activations": ("activation_curves", "plot_activations"),
    "animation": ("save_animation", "write_frames"),
    "boundary": ("animate_decision_boundary", "plot_boundaries_snapshots",
                 "plot_boundary_snapshots", "plot_decision_boundary", "save_boundaries_animation",
                 "save_boundary_animation", "snapshot_frames", "train_with_recorders"),
    "convolution": ("KERNELS", "animate_convolution", "apply_kernels", "plot_kernels",
                    "sample_image"),
    "ewma": ("plot_ewma", "temperature_series"),
    "grid": ("grid_points", "prediction_grid"),
    "lorenz": ("animate_lorenz", "close_starts", "integrate_lorenz", "lorenz_derivative",
               "plot_lorenz"),
    "optimizer_paths": ("animate_descent_3d", "animate_optimizers", "optimizer_path",
                        "optimizer_paths", "plot_descent_3d", "plot_optimizers"),
    "recording": ("BoundaryRecorder",),
    "surfaces": ("CurveFitSurface", "Surface", "bowl", "curve_fit_surface", "monkey_saddle",
                 "peaks", "saddle"),
    "theme": ("themed",),
    "training": ("plot_history",),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted([*_MODULE_OF, "ewma"])


def __getattr__(name: str):
    """Import the defining module on first use of one of ``__all__``, then keep the name here."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    globals()[name] = value  # later lookups find it without calling __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
