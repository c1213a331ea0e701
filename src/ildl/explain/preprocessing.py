"""From a photo to what an ImageNet classifier was trained on: a centred square crop, resized to
the network's input size, then normalised per channel.

The explainers work on the cropped and resized image with pixels in [0, 1] (what a person sees,
so "black" is 0 and a heat map lies over it); the normalisation ``(x - mean) / std`` happens
inside the classifier, so gradients are taken with respect to those pixels.

>>> preprocessing = Preprocessing(size=224)
>>> image = preprocessing.crop_and_resize(photo)      # (480, 640, 3) uint8 -> (224, 224, 3)
>>> image.min() >= 0 and image.max() <= 1
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentError
from ..validation import check_integer, check_number

# torchvision's ImageNet statistics (pixels in [0, 1]): what most exported ImageNet models expect.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# The share of the shorter side kept by the centre crop: 224 of 256, the usual evaluation crop
# of ImageNet models (TensorFlow's EfficientNet writes it as a padding of 32 pixels).
CENTRE_CROP = 224 / 256


@dataclass(frozen=True)
class Preprocessing:
    """How a classifier wants its images: ``size`` x ``size`` pixels (None: any size, images
    taken as they are), cut from the centre ``crop`` share of the photo's shorter side, and
    normalised as ``(x - mean) / std`` per channel (x in [0, 1]).

    >>> Preprocessing(size=224, mean=(127 / 255,) * 3, std=(128 / 255,) * 3)  # EfficientNet-Lite
    """

    size: int | None = 224
    crop: float = CENTRE_CROP
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD

    def __post_init__(self):
        where = "Preprocessing"
        if self.size is not None:
            check_integer(self.size, "size (pixels, or None for any size)", where, minimum=1)
        check_number(self.crop, "crop (the share of the shorter side kept)", where, 0, 1, "(]")
        if not isinstance(self.mean, tuple | list) or not isinstance(self.std, tuple | list) \
                or not self.mean or len(self.mean) != len(self.std):
            raise ArgumentError(f"{where}: mean and std need one value per channel, e.g. "
                                f"mean={IMAGENET_MEAN}, std={IMAGENET_STD}; got "
                                f"mean={self.mean!r}, std={self.std!r}")
        # tuples of floats, so that equal preprocessings compare and hash equal
        object.__setattr__(self, "mean", tuple(check_number(mean, "each mean", where)
                                               for mean in self.mean))
        object.__setattr__(self, "std", tuple(check_number(std, "each std", where, low=0,
                                                           bounds="()") for std in self.std))

    def crop_and_resize(self, photo: np.ndarray) -> np.ndarray:
        """A photo ``(H, W, 3)`` (uint8 0..255, or floats in [0, 1]) -> the model's image
        ``(size, size, 3)`` float64 in [0, 1].

        The centred square of side ``crop * min(H, W)`` is resized with bicubic interpolation
        (Pillow's, in one step from the crop box). A photo already ``size`` x ``size`` is taken
        as it is: it is a crop someone made on purpose.
        """
        pixels = _as_unit_float(photo)
        if self.size is None or pixels.shape[:2] == (self.size, self.size):
            return pixels
        from PIL import Image

        height, width = pixels.shape[:2]
        side = self.crop * min(height, width)
        box = ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
        channels = [Image.fromarray(pixels[..., channel].astype(np.float32), mode="F")
                    .resize((self.size, self.size), Image.Resampling.BICUBIC, box=box)
                    for channel in range(pixels.shape[2])]
        # bicubic overshoots a little at sharp edges; pixels stay in [0, 1]
        return np.clip(np.stack([np.asarray(channel) for channel in channels], axis=-1),
                       0, 1).astype(np.float64)

    def normalize(self, images: np.ndarray) -> np.ndarray:
        """``(x - mean) / std`` on images ``(N, H, W, C)`` in [0, 1] (channels last)."""
        return (images - np.asarray(self.mean)) / np.asarray(self.std)


def _as_unit_float(photo: np.ndarray) -> np.ndarray:
    """uint8 pixels / 255, or floats already in [0, 1]; anything else is refused."""
    photo = np.asarray(photo)
    if photo.ndim != 3 or photo.shape[2] not in (1, 3):
        raise ArgumentError(f"a photo must be an (H, W, 3) RGB array (or (H, W, 1) grey) but "
                            f"has shape {photo.shape}; read files with "
                            f"ildl.explain.read_photo(path)")
    if photo.size == 0:
        raise ArgumentError(f"a photo must have pixels, but this one has shape {photo.shape}")
    if photo.dtype == np.uint8:
        return photo.astype(np.float64) / 255
    if not np.issubdtype(photo.dtype, np.floating) or not np.isfinite(photo).all() \
            or photo.min() < 0 or photo.max() > 1:
        raise ArgumentError(f"a photo must hold uint8 pixels (0..255) or floats in [0, 1], but "
                            f"this one is {photo.dtype} from {photo.min()} to {photo.max()}; "
                            f"divide by the brightest possible value (e.g. 255 or 65535)")
    return photo.astype(np.float64)
