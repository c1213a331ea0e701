"""Animations as GIF or MP4 from any matplotlib figure: they live in ``ildl.graphics`` (below
``data`` and ``detect``, which write frames too); this module keeps ``ildl.viz.animation``
working. ``save_animation(figure, update, frames, "movie.gif")`` draws and writes the frames,
``write_frames(frames, "movie.mp4")`` writes (H, W, 3) uint8 pixels.
"""

from ..graphics import FORMATS, figure_pixels, save_animation, write_frames

__all__ = ["FORMATS", "figure_pixels", "save_animation", "write_frames"]
