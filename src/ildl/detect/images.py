"""Reading images for detection: any file Pillow opens, as (H, W, 3) uint8 RGB, upright.

The pixels are read by ``ildl.images`` (by the range of the file's format; photos turned upright
as their EXIF orientation says); here a file that cannot be used becomes a dataset ``Problem``.

``load_checked_image`` is what a split's scan runs on every image: it verifies the file and
decodes it whole (a file cut short or damaged, or under ``MIN_IMAGE_SIDE`` pixels, raises
``DatasetError`` naming it) and returns its pixels, so a dataset that caches its images need not
decode them again; ``check_image`` returns only the upright (width, height).
"""

from __future__ import annotations

import os

import numpy as np

from ..images import ImageFileError, read_rgb
from .problems import DatasetError, Problem

MIN_IMAGE_SIDE = 2  # pixels


def load_image(path: str | os.PathLike) -> np.ndarray:
    """An image file as (H, W, 3) uint8 RGB, turned upright as its EXIF data says.

    Pixels are mapped from the range of the file's format (``ildl.images.rgb_pixels``): 16-bit
    grey by its high byte, floats in [0, 1] times 255; floats outside [0, 1] and 32-bit
    integers raise ``DatasetError``, as does a file that cannot be decoded.
    """
    try:
        return read_rgb(path)[0]
    except ImageFileError as error:
        raise DatasetError.of(Problem(error.path, None, error.reason, error.detail)) from None


def load_checked_image(path: str | os.PathLike) -> np.ndarray:
    """``load_image``, after checking the file as training needs it: (H, W, 3) uint8 RGB.

    Raises ``DatasetError`` naming the file. Pillow's ``verify`` checks the file's structure
    (the checksum of every PNG chunk: a flipped bit that would still decode); decoding every
    pixel (``load_image``) finds the rest: a JPEG cut short passes ``verify`` and fails only
    there, and pixels without a known range are refused. Images under ``MIN_IMAGE_SIDE``
    pixels are refused too. It costs one decoding of each image: 0.5 ms for a 160 px PNG,
    2 ms for a 640 x 480 JPEG, 130 ms for a 12-megapixel photo.
    """
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.verify()
    except Exception as error:  # Pillow raises many kinds for broken files
        raise DatasetError.of(Problem(str(path), None, "unreadable image",
                                      f"{type(error).__name__}: {error}")) from None
    pixels = load_image(path)
    height, width = pixels.shape[:2]
    if min(width, height) < MIN_IMAGE_SIDE:
        raise DatasetError.of(Problem(str(path), None, "unreadable image",
                                      f"{width} x {height} pixels is too small"))
    return pixels


def check_image(path: str | os.PathLike) -> tuple[int, int]:
    """An image's upright (width, height), after reading it whole as training will
    (``load_checked_image``; raises ``DatasetError`` naming the file)."""
    height, width = load_checked_image(path).shape[:2]
    return width, height
