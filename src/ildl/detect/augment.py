"""Training augmentation on NumPy images and pixel boxes: mosaic, zoom and shift, colours, flips.

The steps work on a square image (S, S, 3) uint8 and its objects' pixel corners ``x0 y0 x1 y1``
(n, 4), with their classes (n,) where objects can be dropped, and move the boxes exactly as they
move the pixels (colour jitter moves neither).
``Augment`` holds the strengths (the defaults of Ultralytics) and its docstring the order;
``dataset.DetectionDataset`` draws the random numbers and applies the steps. After a step that
can push objects out of the image, ``clip_and_drop`` clips the boxes to it and drops the slivers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .boxes import box_area, clip_boxes
from .letterbox import PAD_VALUE


def clip_and_drop(boxes: np.ndarray, classes: np.ndarray, width: int, height: int,
                  min_side: float = 2.0, min_kept: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Clip pixel boxes to the image; drop those left under ``min_side`` px wide or high, or
    with less than ``min_kept`` of their area inside (a sliver is too little to recognise)."""
    clipped = clip_boxes(boxes, width, height)
    sides = clipped[:, 2:] - clipped[:, :2]
    # floored: with min_side=0, a box of no area must not pass the test as 0 >= 0.1 * 0
    area = np.prod(np.maximum(boxes[:, 2:] - boxes[:, :2], 1e-9), axis=1)
    keep = (sides.min(axis=1, initial=np.inf) >= min_side) & (box_area(clipped) >= min_kept * area)
    return clipped[keep], classes[keep]


@dataclass(frozen=True)
class Augment:
    """Training augmentation; each step can be switched off with 0. Applied in this order:

    mosaic     probability of a mosaic: 4 images meet at a random centre, each cropped to its
               quarter (more objects per image, objects cut by the crop, varied context)
    scale      zoom by a factor drawn from [1 - scale, 1 + scale] about the centre (every time)
    translate  shift by up to this fraction of the side, in x and y (every time)
    hsv_h      hue shift, up to this fraction of the colour circle (every time)
    hsv_s      saturation gain, from 1 - hsv_s to 1 + hsv_s (every time)
    hsv_v      value (brightness) gain, from 1 - hsv_v to 1 + hsv_v (every time)
    fliplr     probability of a left-right flip
    flipud     probability of an up-down flip (off: most scenes have an "up")

    Boxes follow the pixels: after zoom, shift and mosaic they are clipped to the image, and
    dropped when under 2 px or with under 10% of their area left. Clipped boxes are exact
    for rectangles and slightly loose for other shapes (a cut triangle's box is the cut box).
    """

    mosaic: float = 1.0
    scale: float = 0.5
    translate: float = 0.1
    hsv_h: float = 0.015
    hsv_s: float = 0.7
    hsv_v: float = 0.4
    fliplr: float = 0.5
    flipud: float = 0.0


def mosaic(tiles: list[tuple[np.ndarray, np.ndarray, np.ndarray]], rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Four (square image (S, S, 3), classes (n,), pixel boxes (n, 4)) into one S x S image.

    A centre is drawn in the middle half of the square; image k has a corner on it: the first
    fills the top left (its bottom-right part shows), then top right, bottom left, bottom right.
    """
    side = tiles[0][0].shape[0]
    cx, cy = (int(v) for v in rng.integers(side // 4, 3 * side // 4 + 1, size=2))
    canvas = np.full((side, side, 3), PAD_VALUE, dtype=np.uint8)
    all_classes, all_boxes = [], []
    # where each image's top-left corner goes, so that its inner corner touches the centre
    offsets = [(cx - side, cy - side), (cx, cy - side), (cx - side, cy), (cx, cy)]
    for (image, classes, boxes), (dx, dy) in zip(tiles, offsets):
        x0, y0 = max(dx, 0), max(dy, 0)
        x1, y1 = min(dx + side, side), min(dy + side, side)
        canvas[y0:y1, x0:x1] = image[y0 - dy:y1 - dy, x0 - dx:x1 - dx]
        shifted = boxes + np.array([dx, dy, dx, dy])
        # clip to this image's own quarter: the parts outside it were not pasted
        shifted = shifted - np.array([x0, y0, x0, y0])
        kept, kept_classes = clip_and_drop(shifted, classes, x1 - x0, y1 - y0)
        all_boxes.append(kept + np.array([x0, y0, x0, y0]))
        all_classes.append(kept_classes)
    return canvas, np.concatenate(all_classes), np.concatenate(all_boxes).reshape(-1, 4)


def random_affine(image: np.ndarray, classes: np.ndarray, boxes: np.ndarray, scale: float,
                  shift: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zoom a square image by ``scale`` about its centre and move it by ``shift`` pixels.

    A point p goes to ``scale * (p - centre) + centre + shift``; boxes go the same way and are
    then clipped (``clip_and_drop``). Uncovered areas are grey.
    """
    from PIL import Image

    side = image.shape[0]
    centre = side / 2
    tx, ty = shift
    # Pillow wants the inverse map: for each output pixel, where to read in the input.
    inverse = (1 / scale, 0, centre - (centre + tx) / scale,
               0, 1 / scale, centre - (centre + ty) / scale)
    moved = Image.fromarray(image).transform((side, side), Image.Transform.AFFINE, inverse,
                                             Image.Resampling.BILINEAR,
                                             fillcolor=(PAD_VALUE,) * 3)
    boxes = scale * (boxes - centre) + centre + np.array([tx, ty, tx, ty])
    kept, kept_classes = clip_and_drop(boxes, classes, side, side)
    return np.asarray(moved), kept_classes, kept


def colour_jitter(image: np.ndarray, hue: float, saturation: float, value: float
                  ) -> np.ndarray:
    """Jitter colours with one 3x3 matrix applied to every RGB pixel: (H, W, 3) -> (H, W, 3).

    In RGB space the greys lie on the axis r = g = b. Rotating a colour about that axis by
    ``hue`` of a full turn changes its hue; scaling its distance from the axis by ``saturation``
    changes its saturation; scaling it all by ``value`` its brightness:
    ``M = value * (P + saturation * R (I - P))``, P the projection on the grey axis, R the
    rotation. It approximates jitter in HSV space (what ``hsv_h``, ``hsv_s``, ``hsv_v`` of
    Ultralytics do) at a tenth of the cost of converting to HSV and back; greys stay grey.
    """
    axis = np.full(3, 1 / np.sqrt(3))
    onto_grey = np.outer(axis, axis)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    angle = 2 * np.pi * hue
    rotation = np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross  # Rodrigues
    matrix = value * (onto_grey + saturation * rotation @ (np.eye(3) - onto_grey))
    mapped = image.reshape(-1, 3).astype(np.float32) @ matrix.T.astype(np.float32)
    return np.clip(mapped, 0, 255).round().astype(np.uint8).reshape(image.shape)


def flip_left_right(image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror an image (H, W, 3) and its pixel boxes (n, 4) left to right."""
    width = image.shape[1]
    return image[:, ::-1], np.stack([width - boxes[:, 2], boxes[:, 1],
                                     width - boxes[:, 0], boxes[:, 3]], axis=1)


def flip_up_down(image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror an image (H, W, 3) and its pixel boxes (n, 4) top to bottom."""
    height = image.shape[0]
    return image[::-1], np.stack([boxes[:, 0], height - boxes[:, 3],
                                  boxes[:, 2], height - boxes[:, 1]], axis=1)
