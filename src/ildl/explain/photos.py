"""Photos to explain: the user's files, and real photographs that ship inside installed wheels.

``read_photo`` reads any image file as (H, W, 3) uint8 RGB and says what it converted (a CMYK
JPEG, a grey or 16-bit PNG, an alpha channel), so nothing changes silently. ``sample_photos``
finds the photographs that scikit-image, matplotlib and scikit-learn carry in their wheels
(nothing is downloaded: scikit-image's other images come from the network and are left out).

>>> photos = sample_photos()
>>> sorted(photos)[:3]
['astronaut', 'chelsea', 'china']
>>> pixels, converted = read_photo(photos["chelsea"])
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np

from ..errors import MissingFileError
from ..images import read_rgb

# name -> (package, path inside it, what it shows). Only files inside the packages' wheels.
SAMPLE_PHOTOS = {
    "chelsea": ("skimage", "data/chelsea.png", "a tabby cat (Chelsea)"),
    "coffee": ("skimage", "data/coffee.png", "a cup of coffee"),
    "astronaut": ("skimage", "data/astronaut.png", "the astronaut Eileen Collins"),
    "rocket": ("skimage", "data/rocket.jpg", "a rocket on its launch pad"),
    "motorcycle": ("skimage", "data/motorcycle_left.png", "a motorcycle"),
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg",
                     "Rear Admiral Grace Hopper in uniform"),
    "china": ("sklearn", "datasets/images/china.jpg", "a Chinese temple"),
    "flower": ("sklearn", "datasets/images/flower.jpg", "a flower"),
}


def read_photo(path: str | os.PathLike) -> tuple[np.ndarray, str | None]:
    """A photo file as ``(H, W, 3)`` uint8 RGB (upright, by its EXIF orientation), and what was
    converted to get there (``"CMYK, converted to RGB"``, ...) or None.

    Raises ``MissingFileError`` for a path with no file, ``ImageFileError`` (a ``DataError``)
    naming the file when it cannot be decoded.

    >>> pixels, converted = read_photo("cat.png")
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        where = "a folder, not a file" if os.path.isdir(path) else "not there"
        raise MissingFileError(f"photo {path!r} is {where}; pass the path of an image file "
                               f"(JPEG, PNG, TIFF, ...)")
    return read_rgb(path)


def sample_photos() -> dict[str, str]:
    """The shipped photographs whose packages are installed: name -> file path.

    scikit-image's come with the ``explain`` extra; matplotlib is always there.
    """
    found = {}
    for name, (package, inside, _) in SAMPLE_PHOTOS.items():
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        path = os.path.join(spec.submodule_search_locations[0], *inside.split("/"))
        if os.path.isfile(path):
            found[name] = path
    return found
