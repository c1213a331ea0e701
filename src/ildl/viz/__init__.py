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
import sys
import types

# name -> the module of ildl.viz that defines it (theme and animation re-export ildl.graphics)
_HOMES = {
    "activations": ("activation_curves", "plot_activations"),
    "animation": ("save_animation", "write_frames"),
    "boundary": ("animate_decision_boundary", "plot_boundaries_snapshots",
                 "plot_boundary_snapshots", "plot_decision_boundary", "save_boundaries_animation",
                 "save_boundary_animation", "snapshot_frames", "train_with_recorders"),
    "convolution": ("KERNELS", "animate_convolution", "apply_kernels", "plot_kernels",
                    "sample_image"),
    "ewma": ("ewma", "plot_ewma", "temperature_series"),
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

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    """Import the defining module on first use of one of ``__all__``, then keep the name here;
    a submodule's name (``ildl.viz.boundary``) imports that submodule, as the eager package did."""
    if name in _MODULE_OF:
        value = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
        globals()[name] = value  # later lookups find it without calling __getattr__
        return value
    try:
        return importlib.import_module(f"{__name__}.{name}")  # sets the attribute too
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise  # the submodule exists but needs a package that is missing
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """``ildl.viz`` itself, keeping two functions that share their module's name.

    Importing a submodule makes Python set the package's attribute of that name to the module:
    after ``import ildl.viz.ewma`` (or ``optimizer_paths``), ``ildl.viz.ewma`` would be the module
    instead of the function ``ewma`` that the package exports. This puts the function there.
    """

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and _MODULE_OF.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
