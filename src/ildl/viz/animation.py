"""Write animations as GIF (Pillow) or MP4 (imageio-ffmpeg) from any matplotlib figure.

An animation here is a figure plus a function ``update(frame)`` that changes its artists; each frame
is drawn, grabbed as pixels, and written. GIFs get one adaptive 255-colour palette shared by all
frames (taken from a sample of them), which keeps colours stable and files small; Pillow stores
identical consecutive frames once with their durations added, so count frames by duration. Files
are written atomically. ``save_animation`` is what every animated figure of the gallery uses::

    figure, ax = plt.subplots()
    point, = ax.plot([], [], "o")
    def update(frame):
        point.set_data([frame], [frame ** 2])
    save_animation(figure, update, frames=30, path="parabola.gif")
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable

import numpy as np

from ..atomic import write_bytes_atomically
from ..errors import ArgumentError, MissingDependencyError

FORMATS = ("gif", "mp4")


def figure_pixels(figure) -> np.ndarray:
    """The figure as an (H, W, 3) uint8 array, as it is drawn now."""
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[:, :, :3].copy()


def _gif_bytes(frames: list[np.ndarray], fps: float) -> bytes:
    from PIL import Image

    # One palette for the whole animation, from a strip of sampled frames: no flicker between
    # frames and far fewer bytes than a palette per frame.
    sample = frames[:: max(1, len(frames) // 8)]
    strip = Image.fromarray(np.concatenate(sample, axis=0))
    palette = strip.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    images = [Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE)
              for frame in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=int(round(1000 / fps)), loop=0, optimize=True, disposal=1)
    return buffer.getvalue()


def _mp4_bytes(frames: list[np.ndarray], fps: float, path: str) -> bytes:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise MissingDependencyError(
            "MP4 output needs imageio-ffmpeg: pip install imageio-ffmpeg, or use "
            "format='gif'") from None
    height, width = frames[0].shape[:2]
    even = [frame[: height - height % 2, : width - width % 2] for frame in frames]  # yuv420p
    temporary = path + ".partial.mp4"
    writer = imageio_ffmpeg.write_frames(temporary, (even[0].shape[1], even[0].shape[0]),
                                         fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                         macro_block_size=1, output_params=["-crf", "23"])
    writer.send(None)
    for frame in even:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    with open(temporary, "rb") as file:
        content = file.read()
    os.unlink(temporary)
    return content


def write_frames(frames: list[np.ndarray], path: str, fps: float = 20) -> str:
    """Write (H, W, 3) uint8 frames to ``path``; the extension (.gif or .mp4) picks the format."""
    if not frames:
        raise ArgumentError("an animation needs at least one frame")
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if extension not in FORMATS:
        raise ArgumentError(f"animation path must end in .gif or .mp4, got {path!r}")
    content = _gif_bytes(frames, fps) if extension == "gif" else _mp4_bytes(frames, fps, path)
    write_bytes_atomically(path, content)
    return path


def save_animation(figure, update: Callable[[int], object], frames: int, path: str,
                   fps: float = 20, progress: Callable[[int, int], None] | None = None) -> str:
    """Render ``frames`` frames (``update(i)`` before grabbing frame i) and write them to ``path``
    (.gif or .mp4). ``progress(done, total)`` is called after each frame. Returns ``path``."""
    pixels = []
    for index in range(frames):
        update(index)
        pixels.append(figure_pixels(figure))
        if progress:
            progress(index + 1, frames)
    return write_frames(pixels, path, fps)
