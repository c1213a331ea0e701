"""YOLO label files: one object a line, ``class cx cy w h``, checked line by line.

A line holds a class id (0 .. number of classes - 1) and the object's box, centre and size
relative to the image's width and height, all in [0, 1]::

    1 0.5 0.4 0.2 0.3        class 1, centre (0.5, 0.4), 20% of the width, 30% of the height

Polygon lines (``class x1 y1 x2 y2 x3 y3 ...``, as segmentation exports write them) are read as
the box around the polygon. Box edges up to ``BOX_TOLERANCE`` outside [0, 1] are clipped
silently (rounding in exporters); further out is an error.

``parse_label_line`` checks one line and raises ``ArgumentError`` (a ``ValueError``) saying what
is wrong. In a file, ``read_labels`` turns a bad line (malformed, class out of range, box outside
the image, zero or negative size) into a ``Problem`` naming the file and the line
(``labels/train/a.txt:3: class out of range: ...``), leaves it out, keeps the file's other
objects and returns the problems. A label
file that cannot be decoded raises ``DatasetError``: none of its lines can be trusted.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import ArgumentError
from .boxes import clip_boxes, cxcywh_to_xyxy, xyxy_to_cxcywh
from .problems import DatasetError, Problem

BOX_TOLERANCE = 0.01  # box edges this far outside [0, 1] are clipped, not rejected


class _BadLine(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _numbers(fields: list[str]) -> list[float]:
    try:
        values = [float(f) for f in fields]
    except ValueError:
        raise _BadLine("malformed line", f"not all numbers: {' '.join(fields)!r}") from None
    if not all(np.isfinite(values)):
        raise _BadLine("malformed line", f"not finite: {' '.join(fields)!r}")
    return values


def _class_id(value: float, names: list[str]) -> int:
    if value != int(value):
        raise _BadLine("malformed line", f"class id must be an integer, got {value}")
    if not 0 <= value < len(names):
        listed = ", ".join(f"{i} {name}" for i, name in enumerate(names[:10]))
        more = ", ..." if len(names) > 10 else ""
        raise _BadLine("class out of range", f"class id {int(value)}; valid ids are "
                       f"0..{len(names) - 1} ({listed}{more})")
    return int(value)


def _box(values: list[float]) -> tuple[float, float, float, float]:
    """``cx cy w h`` or a polygon ``x1 y1 x2 y2 ...`` -> a checked, clipped ``cx cy w h``."""
    if len(values) == 4:
        cx, cy, w, h = values
        if w <= 0 or h <= 0:
            raise _BadLine("non-positive size", f"width and height must be > 0, got w={w:g}, "
                           f"h={h:g}")
        x0, y0, x1, y1 = cxcywh_to_xyxy(values).tolist()
    else:
        xs, ys = values[0::2], values[1::2]
        x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
    low, high = -BOX_TOLERANCE, 1 + BOX_TOLERANCE
    if min(x0, y0) < low or max(x1, y1) > high:
        raise _BadLine("box outside image", f"edges x {x0:.4f}..{x1:.4f}, y {y0:.4f}..{y1:.4f} "
                       f"must lie in [0, 1] (tolerance {BOX_TOLERANCE})")
    if len(values) == 4 and min(x0, y0) >= 0 and max(x1, y1) <= 1:
        return tuple(values)  # inside: exactly as written (no rounding from edges and back)
    x0, y0, x1, y1 = clip_boxes([x0, y0, x1, y1], 1, 1).tolist()
    if x1 <= x0 or y1 <= y0:
        raise _BadLine("non-positive size", f"nothing left inside the image: x {x0:.4f}..{x1:.4f},"
                       f" y {y0:.4f}..{y1:.4f}")
    return tuple(xyxy_to_cxcywh([x0, y0, x1, y1]).tolist())


def parse_label_line(text: str, names: list[str]) -> tuple[int, tuple[float, float, float, float]]:
    """One label line -> (class id, (cx, cy, w, h)); raises ``ValueError`` saying what is wrong.

    >>> parse_label_line("1 0.5 0.5 0.2 0.4", ["circle", "square"])
    (1, (0.5, 0.5, 0.2, 0.4))
    """
    try:
        return _parse_line(text, names)
    except _BadLine as error:
        raise ArgumentError(f"{error.reason}: {error.detail}") from None


def _parse_line(text: str, names: list[str]) -> tuple[int, tuple[float, float, float, float]]:
    fields = text.split()
    if len(fields) != 5 and (len(fields) < 7 or len(fields) % 2 == 0):
        raise _BadLine("malformed line", f"expected 5 numbers 'class cx cy w h' (or a polygon "
                       f"'class x1 y1 x2 y2 x3 y3 ...'), got {len(fields)} values: {text!r}")
    values = _numbers(fields)
    return _class_id(values[0], names), _box(values[1:])


def read_labels(path: str | os.PathLike, names: list[str]
                ) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    """A label file -> classes (n,) int64, boxes (n, 4) float32 ``cx cy w h``, problems.

    Bad lines are left out and reported. A missing file is an image without objects. A file
    that cannot be decoded raises ``DatasetError`` (its image cannot be trusted at all).
    """
    path = Path(path)
    classes, boxes, problems = [], [], []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (UnicodeDecodeError, OSError) as error:
        raise DatasetError.of(Problem(str(path), None, "unreadable label file",
                                      str(error))) from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            label, box = _parse_line(line, names)
        except _BadLine as error:
            problems.append(Problem(str(path), number, error.reason, error.detail))
            continue
        classes.append(label)
        boxes.append(box)
    return (np.array(classes, dtype=np.int64),
            np.array(boxes, dtype=np.float32).reshape(-1, 4), problems)
