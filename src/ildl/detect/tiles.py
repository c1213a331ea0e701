"""Cutting a large image into overlapping square tiles, and boxes into the tiles' coordinates.

A detector sees a fixed-size input (``imgsz``, 320 or 640 pixels). An aerial orthophoto of
2299x2472 pixels squeezed into that loses every small object, so large images are cut into
tiles of ``size`` pixels that overlap by a share ``overlap`` of their side: an object cut by one
tile's edge appears whole in its neighbour when it is smaller than the overlap. The same grid
serves training (``ildl detect convert --tile``: labels clipped to each tile) and prediction
(``ildl detect predict --tile``: detections shifted back and merged across tiles).

Tiles start every ``stride = size - round(overlap * size)`` pixels; the last tile of a row or
column is moved back to end exactly at the image's edge (so every tile has the full size and
none pads), and an image no larger than ``size`` is one tile of its own size.

>>> tile_starts(1000, 400, 0.25)
[0, 300, 600]
>>> tile_grid(500, 300, 400, 0.2)              # (x1, y1, x2, y2) in the image's pixels
[(0, 0, 400, 300), (100, 0, 500, 300)]
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError
from .boxes import box_area, clip_boxes

#: The overlap of ``ildl detect predict --tile`` and ``val --tile`` unless told otherwise.
DEFAULT_OVERLAP = 0.2
# The largest overlap allowed: at 0.5 every pixel is in two tiles per axis; more repeats work.
MAX_OVERLAP = 0.5


def check_tiling(size: int, overlap: float) -> None:
    """Refuse a tile size below 32 pixels (the detector's largest stride) or an overlap outside
    [0, 0.5], saying what came."""
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 32:
        raise ArgumentError(f"tile size must be a whole number of pixels >= 32, got {size!r}; "
                            f"pick one near the model's input size (e.g. --tile 640)")
    if isinstance(overlap, bool) or not isinstance(overlap, int | float | np.floating) or not (
            0 <= overlap <= MAX_OVERLAP):
        raise ArgumentError(f"tile overlap must be a share of the tile between 0 and "
                            f"{MAX_OVERLAP}, got {overlap!r}; 0.2 keeps objects up to a fifth of "
                            f"a tile whole in at least one tile")


def tile_starts(length: int, size: int, overlap: float) -> list[int]:
    """Where tiles of ``size`` start along an image side of ``length`` pixels: every
    ``size - round(overlap * size)`` pixels, the last one moved back to end at ``length``."""
    check_tiling(size, overlap)
    if length <= size:
        return [0]
    stride = size - round(overlap * size)
    starts = list(range(0, length - size, stride))
    return starts + [length - size]


def tile_grid(width: int, height: int, size: int, overlap: float
              ) -> list[tuple[int, int, int, int]]:
    """The tiles of a ``width`` x ``height`` image, row by row, as pixel boxes
    ``(x1, y1, x2, y2)``; tiles of an image side shorter than ``size`` take that side."""
    return [(x, y, min(x + size, width), min(y + size, height))
            for y in tile_starts(height, size, overlap)
            for x in tile_starts(width, size, overlap)]


def boxes_in_tile(boxes, tile: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """xyxy boxes (N, 4) in image pixels -> the same boxes clipped to ``tile`` in the tile's own
    pixels (N, 4), and the share of each box's area that is inside the tile (N,): 1 for a box
    wholly inside, 0 for one outside (or of zero area)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    x1, y1, x2, y2 = tile
    clipped = clip_boxes(boxes - np.array([x1, y1, x1, y1], dtype=np.float64), x2 - x1, y2 - y1)
    area = box_area(boxes)
    kept = np.divide(box_area(clipped), area, out=np.zeros_like(area), where=area > 0)
    return clipped, kept
