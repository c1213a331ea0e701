"""``ildl gallery``: render the collection's figures into a folder with an index page.

Figures register themselves in ``FIGURES`` (see ``registry``); ``render_gallery`` renders them in
parallel, reports failures without stopping the others, and writes ``index.html``.
"""

from . import figures  # noqa: F401  (registers the figures)
from .registry import FIGURES, Figure, Outcome, RenderOptions, render_gallery

__all__ = ["FIGURES", "Figure", "Outcome", "RenderOptions", "render_gallery"]
