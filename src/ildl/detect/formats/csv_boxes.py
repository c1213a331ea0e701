"""CSV tables of boxes, one box a row, in the two layouts tools write:

- DeepForest's, with a header (its columns in any order, others ignored)::

      image_path,xmin,ymin,xmax,ymax,label
      OSBS_029.tif,203,67,227,90,Tree
      empty.png,0,0,0,0,Tree            an image without objects: all four corners 0 (or empty)

- makesense.ai's "single CSV file" export, no header, the box as corner and size::

      tree,203,67,24,23,OSBS_029.png,400,400    label, x, y, width, height, image, its size

Corners are pixels from the image's top-left. Image paths are relative to the CSV's folder, or
to ``--images``. A bad row is reported with its line (``labels.csv:17: box outside image: ...``)
and skipped; a file in neither layout, or not text, raises ``DatasetError``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ..problems import DatasetError
from .record import (
    Annotations,
    BadAnnotation,
    Place,
    SourceImage,
    check_box,
    find_image,
    image_size,
    number,
)

COLUMNS = ("image_path", "xmin", "ymin", "xmax", "ymax", "label")
_MAKESENSE_FIELDS = 8
_EXPECTED = (f"expected a header {','.join(COLUMNS)} (DeepForest) or headerless rows "
             "label,x,y,width,height,image,image_width,image_height (makesense.ai)")


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line, fields) of every non-empty row."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: the byte-order mark Excel writes
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot be read as text ({error}); {_EXPECTED}") from None
    reader = csv.reader(text.splitlines())
    try:
        return [(reader.line_num, row) for row in reader if any(f.strip() for f in row)]
    except csv.Error as error:
        raise DatasetError(f"{path}:{reader.line_num}: not valid CSV ({error}); "
                           f"{_EXPECTED}") from None


def _layout(path: Path, header: list[str]) -> dict[str, int] | None:
    """The column of each of ``COLUMNS`` in DeepForest's layout, or None for makesense.ai's."""
    fields = [field.strip().lower() for field in header]
    if set(COLUMNS) <= set(fields):
        return {column: fields.index(column) for column in COLUMNS}
    if len(fields) == _MAKESENSE_FIELDS:
        return None
    raise DatasetError(f"{path}:1: the first row {','.join(header)!r} is neither layout; "
                       f"{_EXPECTED}")


def _deepforest_row(row: list[str], columns: dict[str, int]):
    """(image, box or None for an image without objects, label)."""
    if len(row) <= max(columns.values()):
        raise BadAnnotation("malformed row", f"{len(row)} fields, the header has "
                            f"{max(columns.values()) + 1} or more")
    corners = [row[columns[name]].strip() for name in COLUMNS[1:5]]
    if all(value in ("", "0", "0.0") for value in corners):
        return row[columns["image_path"]].strip(), None, None, None
    box = [number(value, name) for value, name in zip(corners, COLUMNS[1:5])]
    return row[columns["image_path"]].strip(), box, row[columns["label"]].strip(), None


def _makesense_row(row: list[str]):
    """(image, box, label, declared (width, height))."""
    if len(row) != _MAKESENSE_FIELDS:
        raise BadAnnotation("malformed row", f"{len(row)} fields, expected {_MAKESENSE_FIELDS}: "
                            "label,x,y,width,height,image,image_width,image_height")
    x, y, w, h = (number(value, name) for value, name in zip(row[1:5], ("x", "y", "width",
                                                                        "height")))
    size = (int(number(row[6], "image_width")), int(number(row[7], "image_height")))
    return row[5].strip(), [x, y, x + w, y + h], row[0].strip(), size


def read_csv(source: str | Path, images: str | Path | None = None) -> Annotations:
    """A CSV of boxes -> ``Annotations``; ``images``: the folder the image paths are relative to
    (default: the CSV's)."""
    path = Path(source)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file; --from csv reads one .csv file ({_EXPECTED})")
    rows = _rows(path)
    if not rows:
        raise DatasetError(f"{path}: is empty; {_EXPECTED}")
    columns = _layout(path, rows[0][1])
    if columns is not None:
        rows = rows[1:]
    images = Path(images) if images is not None else None
    found = Annotations()
    records: dict[str, SourceImage | None] = {}  # image as written -> record (None: skipped)
    for line, row in rows:
        place = Place(str(path), line)
        try:
            name, box, label, size = _deepforest_row(row, columns) if columns is not None \
                else _makesense_row(row)
            if not label and box is not None:
                raise BadAnnotation("malformed row", "no label")
            if name not in records:
                records[name] = None  # until found: a missing image is reported once, at
                # its first row; its other rows are skipped without a word
                records[name] = _record(name, path, images, size)
                found.images.append(records[name])
            record = records[name]
            if record is not None and box is not None:
                record.add(check_box(box, record.width, record.height), label, place)
        except BadAnnotation as error:
            found.problems.append(place.problem(error.reason, error.detail))
    return found


def _record(name: str, path: Path, images: Path | None,
            size: tuple[int, int] | None) -> SourceImage:
    if not name:
        raise BadAnnotation("malformed row", "no image path")
    image = find_image(name, path, images)
    return SourceImage(image, *(size or image_size(image)))

