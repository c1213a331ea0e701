"""The bottom layer of every picture ildl makes: how it looks, and how it is written to a file.

- The look: two themes (``"dark"``, the collection's, and ``"light"`` for print) applied with
  ``with themed("dark"): ...``, and the colours every figure takes, so that a class or an
  optimizer has the same colour everywhere.
- Still figures: ``save_figure(figure, "plot.png")`` (or .svg, .pdf, ...).
- Animations: ``save_animation(figure, update, frames, "movie.gif")`` draws a figure once per
  frame (``update(i)`` changes its artists first) and ``write_frames(frames, "movie.mp4")`` writes
  (H, W, 3) uint8 pixels. GIFs get one adaptive 255-colour palette shared by all frames (taken
  from a sample of them), which keeps colours stable and files small; Pillow stores identical
  consecutive frames once with their durations added, so count frames by duration, and a
  frame's unchanged pixels as transparent (``tolerance=`` counts small flicker as unchanged:
  ``steady_frames``). MP4 needs imageio-ffmpeg. ``freeze_layout(figure)`` keeps a
  constrained layout found once for all frames.

Every file is written atomically (``ildl.atomic``): a reader sees the old file or the new one,
never half of one. This module imports nothing of ildl above ``atomic`` and ``errors``, and
matplotlib only when a function needs it, so ``nn``, ``data``, ``detect`` and ``explain`` can all
use it without loading any plotting code they do not call::

    figure, ax = plt.subplots()
    point, = ax.plot([], [], "o")
    def update(frame):
        point.set_data([frame], [frame ** 2])
    save_animation(figure, update, frames=30, path="parabola.gif")
"""

from __future__ import annotations

import contextlib
import io
import numbers
import os
from collections.abc import Callable, Iterator

import numpy as np

from .atomic import write_bytes_atomically
from .errors import ArgumentError, MissingDependencyError

# -- the look -------------------------------------------------------------------------------------
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
#: One colour per series of a plot (curves, trajectories, detected classes).
SERIES_COLORS = ("#ffca28", "#ef5350", "#66bb6a", "#42a5f5", "#ab47bc", "#26c6da", "#ff7043",
                 "#8d6e63")
#: One colour per optimizer, by its name in ildl.nn.optimizers. They are paths drawn over
#: SURFACE_CMAP, so each keeps away from its colours (a green Nesterov vanished on its greens).
OPTIMIZER_COLORS = {"sgd": "#ffca28", "momentum": "#ef5350", "nesterov": "#f48fb1",
                    "rmsprop": "#42a5f5", "adam": "#ab47bc", "adamw": "#26c6da",
                    "adagrad": "#ff7043"}


def check_theme(name: str) -> str:
    """``name`` if it is a theme of ``THEMES``; an ``ArgumentError`` naming them otherwise."""
    if not isinstance(name, str) or name not in THEMES:
        raise ArgumentError(f"unknown theme {name!r}; expected one of {', '.join(THEMES)}")
    return name


@contextlib.contextmanager
def themed(name: str = "dark") -> Iterator[None]:
    """Matplotlib settings of a theme for the plotting code inside the ``with`` block."""
    import matplotlib

    with matplotlib.rc_context({**_COMMON, **THEMES[check_theme(name)]}):
        yield


# -- still figures --------------------------------------------------------------------------------
def _image_format(figure, path: str) -> str:
    """The file format that the extension of ``path`` names (``png`` when it has none)."""
    extension = os.path.splitext(path)[1].lower().lstrip(".") or "png"
    supported = figure.canvas.get_supported_filetypes()
    if extension not in supported:
        raise ArgumentError(f"cannot save a figure as {path!r}: the extension .{extension} is "
                            f"not an image format matplotlib writes; use one of "
                            f"{', '.join('.' + name for name in sorted(supported))}")
    return extension


def save_figure(figure, path: str | os.PathLike, dpi: float = 100, *, tight: bool = False,
                close: bool = True) -> str:
    """Write a matplotlib Figure to ``path`` atomically, in the format its extension names.

    The background is the figure's own (the theme it was drawn in). ``dpi`` sets the pixels
    per inch, ``tight`` crops the empty border, ``close`` lets pyplot forget the figure (figures
    made with ``matplotlib.figure.Figure`` are not pyplot's and need no closing). Returns ``path``.
    """
    if not hasattr(figure, "savefig"):
        raise ArgumentError(f"save_figure needs a matplotlib Figure, got "
                            f"{type(figure).__name__}; for an Axes pass its ax.figure")
    if isinstance(dpi, bool) or not isinstance(dpi, numbers.Real) or not dpi > 0:
        raise ArgumentError(f"dpi must be a positive number of pixels per inch, got {dpi!r}")
    path = os.fspath(path)
    content = io.BytesIO()
    figure.savefig(content, format=_image_format(figure, path), dpi=dpi, facecolor="auto",
                   bbox_inches="tight" if tight else None)
    write_bytes_atomically(path, content.getvalue())
    if close and figure.canvas.manager is not None:  # only pyplot's figures have a manager
        import matplotlib.pyplot as plt

        plt.close(figure)
    return path


# -- animations -----------------------------------------------------------------------------------
FORMATS = ("gif", "mp4")


def figure_pixels(figure) -> np.ndarray:
    """The figure as an (H, W, 3) uint8 array, as it is drawn now."""
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[:, :, :3].copy()


def freeze_layout(figure) -> None:
    """Keep the layout that the figure's layout engine found for the frame drawn last.

    ``layout="constrained"`` measures every label at every draw; between the frames of an
    animation nothing moves, so once is enough (it halves the time per frame).
    """
    figure.canvas.draw()
    figure.set_layout_engine("none")


def steady_frames(frames: list[np.ndarray], tolerance: int) -> list[np.ndarray]:
    """Frames (H, W, 3) uint8 in which a pixel that differs from the previous frame (as
    returned) by at most ``tolerance`` levels in every channel keeps the previous colour.

    A GIF stores a pixel that did not change as "unchanged" (transparent over the last frame),
    which costs almost nothing; pixel noise that flickers by a few levels changes every pixel of
    every frame and makes a video GIF several times larger, though no eye follows it. Comparing
    with the frame as returned, not as given, keeps every shown colour within ``tolerance`` of
    its true one.
    """
    steady = [np.asarray(frames[0])]
    for frame in frames[1:]:
        previous = steady[-1]
        moved = np.abs(frame.astype(np.int16) - previous).max(axis=-1) > tolerance
        steady.append(np.where(moved[..., None], frame, previous))
    return steady


def _gif_bytes(frames: list[np.ndarray], fps: float, tolerance: int = 0) -> bytes:
    from PIL import Image

    if tolerance:
        frames = steady_frames(frames, tolerance)
    # One palette for the whole animation, from a strip of sampled frames: no flicker between
    # frames and far fewer bytes than a palette per frame.
    sample = frames[:: max(1, len(frames) // 8)]
    strip = Image.fromarray(np.concatenate(sample, axis=0))
    palette = strip.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    images = [Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE)
              for frame in frames]
    buffer = io.BytesIO()
    # optimize: Pillow writes each frame's pixels equal to the last frame's as transparent (the
    # palette's 256th entry, left free for it)
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=int(round(1000 / fps)), loop=0, optimize=True, disposal=1)
    return buffer.getvalue()


def check_animation_format(name: str) -> str:
    """``name`` if it is one of ``FORMATS`` and can be written here: MP4 needs imageio-ffmpeg,
    and saying so before any frame is drawn saves the time of drawing them."""
    if name not in FORMATS:
        raise ArgumentError(f"format must be one of {', '.join(FORMATS)}, got {name!r}")
    if name == "mp4":
        _imageio_ffmpeg()
    return name


def _imageio_ffmpeg():
    try:
        import imageio_ffmpeg
    except ImportError:
        raise MissingDependencyError(
            "MP4 output needs imageio-ffmpeg: pip install imageio-ffmpeg (or \"ildl[video]\"); "
            "GIF needs nothing more (a .gif path, or the gallery's --format gif)") from None
    return imageio_ffmpeg


def _mp4_bytes(frames: list[np.ndarray], fps: float, path: str) -> bytes:
    imageio_ffmpeg = _imageio_ffmpeg()
    height, width = frames[0].shape[:2]
    even = [frame[: height - height % 2, : width - width % 2] for frame in frames]  # yuv420p
    temporary = path + ".partial.mp4"  # ffmpeg writes to a file; ours moves atomically
    try:
        writer = imageio_ffmpeg.write_frames(temporary, (even[0].shape[1], even[0].shape[0]),
                                             fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                             macro_block_size=1, output_params=["-crf", "23"])
        writer.send(None)
        for frame in even:
            writer.send(np.ascontiguousarray(frame))
        writer.close()
        with open(temporary, "rb") as file:
            return file.read()
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _check_frames(frames: list[np.ndarray], fps: float) -> None:
    if not len(frames):
        raise ArgumentError("an animation needs at least one frame")
    first = np.asarray(frames[0])
    for index, frame in enumerate(frames):
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3 \
                or frame.shape != first.shape:
            raise ArgumentError(
                f"frame {index} of the animation is a {frame.dtype} array of shape "
                f"{frame.shape}; every frame must be (H, W, 3) uint8 of the first frame's shape "
                f"{first.shape}: convert with (np.clip(frame, 0, 1) * 255).astype(np.uint8)")
    if not fps > 0:
        raise ArgumentError(f"fps must be a positive number of frames per second, got {fps!r}")


def animation_format(path: str | os.PathLike) -> str:
    """``"gif"`` or ``"mp4"``, the format that the extension of ``path`` names."""
    extension = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if extension not in FORMATS:
        raise ArgumentError(f"animation path must end in .gif or .mp4, got {os.fspath(path)!r}")
    return extension


def write_frames(frames: list[np.ndarray], path: str | os.PathLike, fps: float = 20,
                 tolerance: int = 0) -> str:
    """Write (H, W, 3) uint8 frames to ``path``; the extension (.gif or .mp4) picks the format.
    ``tolerance`` (GIF only, levels of 0-255): pixels that change less keep their last colour
    (``steady_frames``), for videos with pixel noise. Returns ``path``."""
    path = os.fspath(path)
    extension = animation_format(path)
    _check_frames(frames, fps)
    content = (_gif_bytes(frames, fps, tolerance) if extension == "gif" else
               _mp4_bytes(frames, fps, path))
    write_bytes_atomically(path, content)
    return path


def save_animation(figure, update: Callable[[int], object], frames: int, path: str,
                   fps: float = 20, progress: Callable[[int, int], None] | None = None) -> str:
    """Render ``frames`` frames (``update(i)`` before grabbing frame i) and write them to ``path``
    (.gif or .mp4). ``progress(done, total)`` is called after each frame. Returns ``path``."""
    check_animation_format(animation_format(path))  # before the frames take their time
    pixels = []
    for index in range(frames):
        update(index)
        pixels.append(figure_pixels(figure))
        if progress:
            progress(index + 1, frames)
    return write_frames(pixels, path, fps)
