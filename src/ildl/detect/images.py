"""Reading images for detection: any file Pillow opens, as (H, W, 3) uint8 RGB, upright.

Pixels are converted by the range of the file's format, not by the image's own values: 8-bit
modes as Pillow converts them, 16-bit grey by its high byte, 32-bit floats in [0, 1] times 255;
floats outside [0, 1] and 32-bit integers (no agreed range) are refused with the fix
(``_rgb_pixels`` has the table). Photos are turned upright as their EXIF orientation says.

``load_checked_image`` is what a split's scan runs on every image: it verifies the file and
decodes it whole (a file cut short or damaged, or under ``MIN_IMAGE_SIDE`` pixels, raises
``DatasetError`` naming it) and returns its pixels, so a dataset that caches its images need not
decode them again; ``check_image`` returns only the upright (width, height).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from .problems import DatasetError, Problem

if TYPE_CHECKING:
    import PIL.Image

MIN_IMAGE_SIDE = 2  # pixels


def _rgb_pixels(image: PIL.Image.Image, file_format: str | None, path: str) -> np.ndarray:
    """An opened image's pixels as (H, W, 3) uint8 RGB, mapped from the range of its format.

    ========================  ===========================================================
    8-bit modes               as Pillow converts them (grey, palette, RGB; alpha dropped)
    16-bit grey (PNG, TIFF)   the high byte, ``v // 256``: what Pillow does with 16-bit
                              colour and libpng (under OpenCV's ``imread``) with 16-bit PNGs,
                              so a grey and a colour file of one scene agree (the nearest
                              level, ``round(v / 257)``, would differ by at most 1)
    32-bit float (TIFF)       ``round(255 v)`` when every ``v`` is in [0, 1]; else refused
    32-bit or signed integer  refused: no range is agreed on (0..255? 0..65535? signed?)
    ========================  ===========================================================

    The format's range, not the image's own maximum: stretching each image to its brightest
    pixel would make a dark scene as bright as a sunny one, and the same object look
    different in two pictures. Pillow alone would clip 16-bit and integer values at 255 (a
    white picture) and scale floats not at all (black).
    """
    def refuse(detail: str) -> DatasetError:
        return DatasetError.of(Problem(path, None, "unsupported pixel values", detail))

    # older Pillows open 16-bit grey PNGs as 32-bit "I"; a PNG holds at most 16 bits
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N") or (image.mode == "I"
                                                             and file_format == "PNG"):
        grey = (np.asarray(image).astype(np.uint32) >> 8).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        finite = np.isfinite(values).all()
        levels = np.rint(values * 255)
        if not finite or not 0 <= levels.min() <= levels.max() <= 255:
            held = f"from {values.min():g} to {values.max():g}" if finite else \
                "that are NaN or infinite"
            raise refuse(f"32-bit float pixels {held}; float images must hold [0, 1] (0 "
                         "black, 1 white): divide by the brightest possible value, or save "
                         "the image as 8-bit")
        return np.repeat(levels.astype(np.uint8)[..., None], 3, axis=2)
    if image.mode == "I":
        values = np.asarray(image)
        raise refuse(f"32-bit integer pixels from {values.min()} to {values.max()}: their "
                     "range is not defined (0..255? 0..65535? signed?); save the image as "
                     "8-bit, or as 16-bit for more levels")
    return np.asarray(image.convert("RGB"))


def load_image(path: str | os.PathLike) -> np.ndarray:
    """An image file as (H, W, 3) uint8 RGB, turned upright as its EXIF data says.

    Pixels are mapped from the range of the file's format (see ``_rgb_pixels``): 16-bit grey
    by its high byte, floats in [0, 1] times 255; floats outside [0, 1] and 32-bit integers
    raise ``DatasetError``, as does a file that cannot be decoded.
    """
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as image:
            return _rgb_pixels(ImageOps.exif_transpose(image), image.format, str(path))
    except DatasetError:
        raise
    except Exception as error:  # Pillow raises many kinds for broken files
        raise DatasetError.of(Problem(str(path), None, "unreadable image",
                                      f"{type(error).__name__}: {error}")) from None


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
