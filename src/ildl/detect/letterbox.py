"""Letterbox: fit an image of any shape into the model's square input, and map boxes both ways.

The image is scaled so that its longer side is the square's side S, and centred on a grey
(``PAD_VALUE``) square: a 40 x 30 image in S = 80 becomes 80 x 60, with 10 grey rows above and
below. ``Letterbox`` records the fit; ``to_square`` takes a label's normalised ``cx cy w h`` to
pixel corners in the square (for training), ``to_original`` takes pixel corners predicted in the
square back to the original image (for prediction), per axis::

    square = original * resized / size + pad,   resized = round(size * S / max(width, height))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .boxes import clip_boxes, cxcywh_to_xyxy, normalized_to_pixels

PAD_VALUE = 114  # the grey of letterbox padding and of areas uncovered by augmentation


@dataclass(frozen=True)
class Letterbox:
    """How an image of ``size`` (width, height) was fitted into a square: scaled, then padded.

    The image is resized to ``resized`` (width, height), the longer side becoming the square's
    side, and pasted at (``pad_x``, ``pad_y``).
    """

    size: tuple[int, int]
    resized: tuple[int, int]
    pad_x: int
    pad_y: int

    @classmethod
    def fit(cls, size: tuple[int, int], side: int) -> Letterbox:
        width, height = size
        scale = side / max(width, height)
        # at least 1 px: a 4000 x 2 strip fitted into 160 px is 160 x 0.08
        resized = tuple(max(1, min(side, round(length * scale))) for length in (width, height))
        return cls(size, resized, (side - resized[0]) // 2, (side - resized[1]) // 2)

    def to_square(self, boxes: np.ndarray) -> np.ndarray:
        """Normalised ``cx cy w h`` (n, 4) of the original -> pixel corners in the square."""
        offset = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y])
        return normalized_to_pixels(cxcywh_to_xyxy(boxes), *self.resized) + offset

    def to_original(self, boxes_xyxy: np.ndarray) -> np.ndarray:
        """Pixel ``x0 y0 x1 y1`` (n, 4) in the square -> pixel ``x0 y0 x1 y1`` in the original."""
        offset = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y])
        ratio = np.array([*self.size, *self.size]) / np.array([*self.resized, *self.resized])
        original = (np.asarray(boxes_xyxy, dtype=np.float64) - offset) * ratio
        return clip_boxes(original, *self.size)


def letterbox(image: np.ndarray, side: int) -> tuple[np.ndarray, Letterbox]:
    """Fit (H, W, 3) uint8 into (side, side, 3): scale the longer side to ``side``, pad grey."""
    from PIL import Image

    height, width = image.shape[:2]
    fit = Letterbox.fit((width, height), side)
    new_width, new_height = fit.resized
    if (new_width, new_height) != (width, height):
        image = np.asarray(Image.fromarray(image).resize((new_width, new_height),
                                                         Image.Resampling.BILINEAR))
    square = np.full((side, side, 3), PAD_VALUE, dtype=np.uint8)
    square[fit.pad_y:fit.pad_y + new_height, fit.pad_x:fit.pad_x + new_width] = image
    return square, fit
