"""Themes and colours shared by every figure, so a class or an optimizer looks the same everywhere.

The collection's figures are dark (``"dark"``, the default); ``"light"`` suits print. Use
``with themed("dark"): ...`` around plotting code, and take colours from the constants here.
"""

from __future__ import annotations

import contextlib

from ..errors import ArgumentError

THEMES = {
    "dark": {
        "figure.facecolor": "#111418", "axes.facecolor": "#111418", "savefig.facecolor": "#111418",
        "axes.edgecolor": "#9aa0a6", "axes.labelcolor": "#e8eaed", "text.color": "#e8eaed",
        "xtick.color": "#bdc1c6", "ytick.color": "#bdc1c6", "grid.color": "#3c4043",
        "legend.facecolor": "#202124", "legend.edgecolor": "#5f6368",
    },
    "light": {
        "figure.facecolor": "white", "axes.facecolor": "white", "savefig.facecolor": "white",
        "axes.edgecolor": "#333333", "axes.labelcolor": "#202124", "text.color": "#202124",
        "xtick.color": "#333333", "ytick.color": "#333333", "grid.color": "#d0d0d0",
        "legend.facecolor": "white", "legend.edgecolor": "#bbbbbb",
    },
}
_COMMON = {"font.size": 10, "axes.titlesize": 11, "axes.grid": False, "figure.dpi": 100}

#: The two classes of every binary dataset (class 0, class 1).
CLASS_COLORS = ("#ef5350", "#42a5f5")
#: A diverging colour map whose ends are the class colours: P(class 1) from 0 to 1.
BOUNDARY_CMAP = "RdBu"
#: Surfaces and heat maps.
SURFACE_CMAP = "viridis"
#: One colour per optimizer, by its name in ildl.nn.optimizers (and per series in other figures).
SERIES_COLORS = ("#ffca28", "#ef5350", "#66bb6a", "#42a5f5", "#ab47bc", "#26c6da", "#ff7043",
                 "#8d6e63")
OPTIMIZER_COLORS = {"sgd": "#ffca28", "momentum": "#ef5350", "nesterov": "#66bb6a",
                    "rmsprop": "#42a5f5", "adam": "#ab47bc", "adamw": "#26c6da",
                    "adagrad": "#ff7043"}


def check_theme(name: str) -> str:
    if name not in THEMES:
        raise ArgumentError(f"unknown theme {name!r}; expected one of {', '.join(THEMES)}")
    return name


@contextlib.contextmanager
def themed(name: str = "dark"):
    """Matplotlib settings of a theme for the plotting code inside the ``with`` block."""
    import matplotlib.pyplot as plt

    with plt.rc_context({**_COMMON, **THEMES[check_theme(name)]}):
        yield
