"""Themes and colours shared by every figure: they live in ``ildl.graphics`` (the bottom layer
that ``detect``, ``explain`` and the CLI use too); this module keeps ``ildl.viz.theme`` working.

``with themed("dark"): ...`` around plotting code; colours from the constants.
"""

from ..graphics import (
    BOUNDARY_CMAP,
    CLASS_COLORS,
    OPTIMIZER_COLORS,
    SERIES_COLORS,
    SURFACE_CMAP,
    THEMES,
    check_theme,
    themed,
)

__all__ = ["BOUNDARY_CMAP", "CLASS_COLORS", "OPTIMIZER_COLORS", "SERIES_COLORS", "SURFACE_CMAP",
           "THEMES", "check_theme", "themed"]
