"""What every reader of a labelling tool's format gives: one ``SourceImage`` per labelled image.

A ``SourceImage`` is an image file, its size, and its objects as pixel boxes ``xyxy`` with
class names as the tool wrote them, each with the ``Place`` it was read from (so that a later
check, such as a class missing from ``--names``, can name the file and line or element). A
reader returns them in ``Annotations``, with the ``Problem`` of every bad item it skipped and the
count of what it left out by the format's own convention (VOC's ``difficult``, COCO's crowds).

The checks shared by the readers live here too: ``check_box`` (a box must have a positive size
and lie in its image), ``find_image`` (where an annotation's image file is) and ``image_size``
(an image's upright size, read from its header).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..boxes import clip_boxes
from ..data_yaml import IMAGE_SUFFIXES
from ..labels import BOX_TOLERANCE
from ..problems import Problem

# EXIF orientations that turn the picture a quarter: its upright width is the stored height.
_QUARTER_TURNS = (5, 6, 7, 8)
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Place:
    """Where an annotation is written: a file, a 1-based line (CSV) or ``None``, and an element
    of the file (``"<object> 3"``, ``"annotations[12]"``) or ``""``."""

    file: str
    line: int | None = None
    element: str = ""

    def problem(self, reason: str, detail: str) -> Problem:
        """A ``Problem`` found here: ``labels.csv:17: box outside image: ...``."""
        return Problem(self.file, self.line, reason, f"{self.element}: {detail}"
                       if self.element else detail)


@dataclass
class SourceImage:
    """A labelled image: its file, upright size in pixels, and objects.

    ``boxes`` (n, 4) float64 ``x1 y1 x2 y2`` in pixels, inside the image; ``names`` (n,) the
    class of each as written in the source; ``places`` (n,) where each was read from.
    """

    path: Path
    width: int
    height: int
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    names: list[str] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)

    def add(self, box, name: str, place: Place) -> None:
        self.boxes = np.concatenate([self.boxes, np.asarray(box, dtype=np.float64)[None]])
        self.names.append(name)
        self.places.append(place)


@dataclass
class Annotations:
    """What a reader found: the usable images, the problems of what it skipped, and what it
    left out on purpose by the format's convention (reason -> count)."""

    images: list[SourceImage] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    left_out: Counter = field(default_factory=Counter)


class BadAnnotation(Exception):
    """One annotation that cannot be used: ``reason`` (counted in the summary) and ``detail``."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def number(text, what: str) -> float:
    """A finite number from a field (``"12"``, ``"12.5"``, 12), or ``BadAnnotation``."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise BadAnnotation("malformed annotation", f"{what} must be a number, got "
                            f"{text!r}") from None
    if not math.isfinite(value):
        raise BadAnnotation("malformed annotation", f"{what} must be finite, got {text!r}")
    return value


def check_box(box, width: int, height: int) -> np.ndarray:
    """A pixel box ``(x1, y1, x2, y2)`` checked against its image of ``width`` x ``height``:
    a positive width and height, and edges inside the image, up to ``BOX_TOLERANCE`` of its
    side (clipped, as the YOLO label reader does); else ``BadAnnotation`` saying what is wrong.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    if x2 <= x1 or y2 <= y1:
        raise BadAnnotation("non-positive size", f"box x {x1:g}..{x2:g}, y {y1:g}..{y2:g} needs "
                            "xmin < xmax and ymin < ymax")
    slack_x, slack_y = BOX_TOLERANCE * width, BOX_TOLERANCE * height
    if x1 < -slack_x or y1 < -slack_y or x2 > width + slack_x or y2 > height + slack_y:
        raise BadAnnotation("box outside image", f"box x {x1:g}..{x2:g}, y {y1:g}..{y2:g} must "
                            f"lie in the {width} x {height} image (0..{width}, 0..{height})")
    return clip_boxes(np.array([x1, y1, x2, y2]), width, height)


def image_size(path: Path) -> tuple[int, int]:
    """An image's upright (width, height) from its header, without decoding its pixels (EXIF
    orientations 5-8 swap the two, as reading it upright will); ``BadAnnotation`` when the file
    cannot be opened."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            width, height = image.size
            turned = image.getexif().get(_EXIF_ORIENTATION) in _QUARTER_TURNS
    except Exception as error:  # Pillow raises many kinds for broken files
        raise BadAnnotation("unreadable image", f"{path}: {type(error).__name__}: "
                            f"{error}") from None
    return (height, width) if turned else (width, height)


def find_image(name: str, annotation_file: Path, images: Path | None) -> Path:
    """The image file an annotation names (``name``: a file name or a path, as tools write
    them), looked for in ``images`` (``--images``) when given, else beside the annotation file,
    in its ``images`` subfolder and in a sibling ``images`` folder (CVAT's and Label Studio's
    exports); ``BadAnnotation`` listing where it looked when it is in none."""
    given = Path(name.replace("\\", "/"))
    folders = [images] if images is not None else [
        annotation_file.parent, annotation_file.parent / "images",
        annotation_file.parent.parent / "images"]
    candidates = [given] if given.is_absolute() else []
    for folder in folders:
        candidates += [] if given.is_absolute() else [folder / given]
        candidates.append(folder / given.name)
    for candidate in dict.fromkeys(candidates):  # in order, once each
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(folder) for folder in folders)
    raise BadAnnotation("missing image", f"image {name!r} not found (looked in {looked}); "
                        "pass the folder that holds the images with --images")


def image_beside(stem_file: Path, images: Path | None) -> Path | None:
    """The image named like ``stem_file`` (any of ``IMAGE_SUFFIXES``) in ``images`` or beside
    it, or None: for an annotation file that does not name its image."""
    folder = images if images is not None else stem_file.parent
    for suffix in IMAGE_SUFFIXES:
        for candidate in (folder / (stem_file.stem + suffix),
                          folder / (stem_file.stem + suffix.upper())):
            if candidate.is_file():
                return candidate
    return None

