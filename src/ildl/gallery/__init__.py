"""``ildl gallery``: render the collection's figures into a folder with an index page.

Figures register themselves in ``FIGURES`` (see ``registry``) when ``figures`` imports their
modules; ``render_gallery`` (see ``render``) renders them in parallel, reports failures without
stopping the others, and writes ``index.html``.
"""

from .registry import FIGURES, Figure, RenderOptions
from .render import Outcome, render_gallery

__all__ = ["FIGURES", "Figure", "Outcome", "RenderOptions", "render_gallery"]
