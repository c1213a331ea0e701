"""The registry of the gallery's figures: ``FIGURES``, by name.

A figure is registered once (``register(Figure(...))``, when its module is imported) with its
name, caption, the Python call that makes it, and a ``render(out_dir, options)`` function that
writes its files into ``out_dir`` (stills through ``ildl.graphics.save_figure``, animations
through ``save_animation``/``write_frames``) and returns their names. ``ildl.gallery.render``
renders them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from ..graphics import check_animation_format, check_theme


@dataclass(frozen=True)
class RenderOptions:
    """How to render: ``quick`` (few small frames, for tests), ``theme`` ("dark" or "light") and
    the animation ``format`` ("gif" or "mp4")."""

    quick: bool = False
    theme: str = "dark"
    format: str = "gif"

    def __post_init__(self):
        check_theme(self.theme)
        check_animation_format(self.format)  # before any figure is drawn

    @property
    def still_dpi(self) -> int:
        """Pixels per inch of the summary PNGs: 100, or 55 for quick renders."""
        return 55 if self.quick else 100


@dataclass
class Figure:
    """A figure of the gallery: ``render(out_dir, options)`` writes files, returns their names."""

    name: str
    caption: str
    code: str  # the Python call that makes it, shown in the index
    render: Callable[[str, RenderOptions], list[str]]
    requires: tuple[str, ...] = ()  # optional packages it needs, e.g. ("torch",)
    # What its next render must compute before drawing and about how long ("trains a detector:
    # about 4 minutes"), or "" once that is cached; None for figures that draw in seconds.
    long_work: Callable[[RenderOptions], str] | None = None

    def missing(self) -> list[str]:
        """The packages of ``requires`` that are not installed."""
        return [package for package in self.requires if importlib.util.find_spec(package) is None]


FIGURES: dict[str, Figure] = {}


def register(figure: Figure) -> Figure:
    """Add ``figure`` to ``FIGURES`` under its name (a figure module does it on import)."""
    FIGURES[figure.name] = figure
    return figure
