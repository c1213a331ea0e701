"""Reading image files: any file Pillow opens, as ``(H, W, 3)`` uint8 RGB, upright.

Pixels are converted by the range of the file's format, not by the image's own values: 8-bit
modes as Pillow converts them, 16-bit grey by its high byte, 32-bit floats in [0, 1] times 255;
floats outside [0, 1] and 32-bit integers (no agreed range) are refused with the fix
(``rgb_pixels`` has the table). Photos are turned upright as their EXIF orientation says.
``read_rgb`` also says what it converted (CMYK, grey, alpha, 16 bits), so a caller can tell
the user. The detector's datasets (``ildl.detect.images``) and the explainers' photos
(``ildl.explain.photos``) both read images here.

    >>> pixels, converted = read_rgb("photo.png")
    >>> pixels.shape, pixels.dtype, converted      # doctest: +SKIP
    ((480, 640, 3), dtype('uint8'), 'RGBA: the alpha channel was dropped')
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from .errors import DataError

if TYPE_CHECKING:
    import PIL.Image

# What converting each Pillow mode to RGB does, said to the user (modes not listed are RGB
# already, or lossless palettes).
_CONVERSIONS = {
    "CMYK": "CMYK, converted to RGB",
    "YCbCr": "YCbCr, converted to RGB",
    "LAB": "CIELAB, converted to RGB",
    "HSV": "HSV, converted to RGB",
    "1": "black and white, repeated on three channels",
    "L": "grey, repeated on three channels",
    "LA": "grey with alpha: the alpha channel was dropped, grey repeated on three channels",
    "PA": "palette with alpha: the alpha channel was dropped",
    "RGBA": "RGBA: the alpha channel was dropped",
    "RGBa": "RGBA: the alpha channel was dropped",
    "I;16": "16-bit grey, reduced to 8 bits (the high byte) on three channels",
    "F": "32-bit float grey in [0, 1], scaled to 0..255 on three channels",
}


class ImageFileError(DataError):
    """An image file that cannot be used: ``reason`` is a short category ("unreadable image",
    "unsupported pixel values"), ``detail`` the rest; the message names the file."""

    def __init__(self, path: str, reason: str, detail: str):
        super().__init__(f"{path}: {reason}: {detail}")
        self.path, self.reason, self.detail = path, reason, detail


def rgb_pixels(image: PIL.Image.Image, file_format: str | None, path: str) -> np.ndarray:
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
    if _is_16_bit_grey(image, file_format):
        grey = (np.asarray(image).astype(np.uint32) >> 8).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        finite = np.isfinite(values).all()
        levels = np.rint(values * 255)
        if not finite or not 0 <= levels.min() <= levels.max() <= 255:
            held = f"from {values.min():g} to {values.max():g}" if finite else \
                "that are NaN or infinite"
            raise ImageFileError(path, "unsupported pixel values",
                                 f"32-bit float pixels {held}; float images must hold [0, 1] "
                                 "(0 black, 1 white): divide by the brightest possible value, "
                                 "or save the image as 8-bit")
        return np.repeat(levels.astype(np.uint8)[..., None], 3, axis=2)
    if image.mode == "I":
        values = np.asarray(image)
        raise ImageFileError(path, "unsupported pixel values",
                             f"32-bit integer pixels from {values.min()} to {values.max()}: "
                             "their range is not defined (0..255? 0..65535? signed?); save the "
                             "image as 8-bit, or as 16-bit for more levels")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")  # Pillow warns when a palette's transparency is dropped
    return np.asarray(image.convert("RGB"))


def _is_16_bit_grey(image: PIL.Image.Image, file_format: str | None) -> bool:
    # older Pillows open 16-bit grey PNGs as 32-bit "I"; a PNG holds at most 16 bits
    return image.mode in ("I;16", "I;16L", "I;16B", "I;16N") or (
        image.mode == "I" and file_format == "PNG")


def read_rgb(path: str | os.PathLike) -> tuple[np.ndarray, str | None]:
    """An image file as (H, W, 3) uint8 RGB, turned upright as its EXIF data says, and what was
    converted to get there (None for a plain RGB or lossless palette file).

    Raises ``ImageFileError`` naming the file when it cannot be decoded or its pixels have no
    known range (see ``rgb_pixels``).
    """
    from PIL import Image, ImageOps

    path = os.fspath(path)
    try:
        with Image.open(path) as image:
            converted = conversion_note(image)  # before loading: Pillow then forgets the bit depth
            upright = ImageOps.exif_transpose(image)
            return rgb_pixels(upright, image.format, path), converted
    except ImageFileError:
        raise
    except Exception as error:  # Pillow raises many kinds for broken files
        raise ImageFileError(path, "unreadable image",
                             f"{type(error).__name__}: {error}") from None


def conversion_note(image: PIL.Image.Image) -> str | None:
    """What ``rgb_pixels`` changes in an opened (not yet loaded) image, in words for the user:
    ``"RGBA: the alpha channel was dropped; 16 bits per channel, reduced to 8 (the high
    byte)"``, or None when nothing is lost (8-bit RGB, a palette without transparency)."""
    if _is_16_bit_grey(image, image.format):
        return _CONVERSIONS["I;16"]
    notes = [_CONVERSIONS.get(image.mode)]
    if _has_16_bit_colour(image):
        notes.append("16 bits per channel, reduced to 8 (the high byte)")
    if "transparency" in image.info and image.mode not in ("RGBA", "LA", "PA"):
        notes.append("its transparency was dropped (transparent pixels keep their colour)")
    return "; ".join(note for note in notes if note) or None


def _has_16_bit_colour(image: PIL.Image.Image) -> bool:
    # Pillow opens a 48-bit PNG or TIFF as "RGB" (keeping the high bytes); only the decoder's
    # raw mode ("RGB;16B") still says how many bits the file held, until the pixels are loaded.
    for tile in image.tile:
        args = tile[3]  # (decoder, extents, offset, args): args is the raw mode or starts with it
        rawmode = args if isinstance(args, str) else args[0] if args else ""
        if isinstance(rawmode, str) and ";16" in rawmode:
            return True
    return False
