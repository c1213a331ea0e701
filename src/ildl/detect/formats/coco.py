"""COCO JSON, as CVAT, Label Studio and makesense.ai export it: one file for all the images.

::

    {"images":      [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}, ...],
     "categories":  [{"id": 3, "name": "tree"}, ...],          (ids need not be 0..n-1)
     "annotations": [{"id": 7, "image_id": 1, "category_id": 3, "bbox": [x, y, w, h],
                      "iscrowd": 0, "segmentation": [[x1, y1, x2, y2, ...]]}, ...]}

``bbox`` is the top-left corner and size in pixels. Categories are matched by id and named by
their ``name``; an image that no annotation names is an image without objects (it teaches the
background).

**Crowds** (``"iscrowd": 1``, one region around many objects) are left out and counted: COCO's
evaluation treats them as regions where detections are neither right nor wrong, and detectors
are not trained on them (Ultralytics' and Detectron2's COCO loaders skip them too).
**Segmentation only** (no ``bbox``, or an empty one): the box is the polygons' bounds; a mask
given as RLE without a box is reported (export with boxes).

**The images** are looked for with ``--images``, or beside the JSON file and in the ``images``
folders CVAT and Label Studio write (``find_image``). A file that is not JSON, or not COCO,
raises ``DatasetError`` with its line: nothing in it can be trusted. A bad entry is reported as
``instances.json: annotations[12] (id 57): ...`` and skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..boxes import xywh_to_xyxy
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

CROWD = "crowd (COCO iscrowd)"  # the summary's name for the annotations left out
_EXPECTED = ("expected COCO JSON: an object with lists 'images', 'annotations' and "
             "'categories' (CVAT's and Label Studio's 'COCO' export)")


def _load(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot be read ({error}); {_EXPECTED}") from None
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path}:{error.lineno}: not valid JSON ({error.msg}, column "
                           f"{error.colno}); {_EXPECTED}") from None
    if not isinstance(content, dict) or not isinstance(content.get("images"), list):
        raise DatasetError(f"{path}: has no list 'images'; {_EXPECTED}")
    for key in ("annotations", "categories"):
        if not isinstance(content.get(key, []), list):
            raise DatasetError(f"{path}: '{key}' is not a list; {_EXPECTED}")
    return content


def _entry(entry, keys: tuple[str, ...]) -> dict:
    if not isinstance(entry, dict):
        raise BadAnnotation("malformed annotation", f"expected an object, got {entry!r:.60}")
    missing = [key for key in keys if key not in entry]
    if missing:
        raise BadAnnotation("malformed annotation", f"lacks {', '.join(missing)}")
    return entry


def _categories(content: dict, path: Path, found: Annotations) -> dict:
    """Category id (as text: JSON ids may be numbers or strings) -> name."""
    names = {}
    for index, entry in enumerate(content.get("categories", [])):
        try:
            entry = _entry(entry, ("id", "name"))
            names[str(entry["id"])] = str(entry["name"])
        except BadAnnotation as error:
            found.problems.append(Place(str(path), None, f"categories[{index}]").problem(
                error.reason, error.detail))
    return names


def _image(entry, path: Path, images: Path | None) -> SourceImage:
    entry = _entry(entry, ("id", "file_name"))
    image = find_image(str(entry["file_name"]), path, images)
    width, height = entry.get("width"), entry.get("height")
    if width and height:  # some tools write 0 or leave them out
        width, height = number(width, "width"), number(height, "height")
        return SourceImage(image, int(width), int(height))
    return SourceImage(image, *image_size(image))


def _segmentation_box(segmentation) -> list[float]:
    """The bounds ``[x, y, w, h]`` of polygons ``[[x1, y1, x2, y2, ...], ...]``."""
    if isinstance(segmentation, dict):
        raise BadAnnotation("no box", "a mask given as RLE and no 'bbox'; export the "
                            "annotations with boxes")
    points = [value for polygon in segmentation or [] for value in polygon] \
        if isinstance(segmentation, list) and all(isinstance(p, list) for p in segmentation) \
        else []
    if len(points) < 6 or len(points) % 2:
        raise BadAnnotation("no box", "no 'bbox' and no polygon of 3 points or more in "
                            "'segmentation'")
    xs = [number(x, "segmentation x") for x in points[0::2]]
    ys = [number(y, "segmentation y") for y in points[1::2]]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def _annotation_box(entry: dict, record: SourceImage):
    bbox = entry.get("bbox")
    if not bbox:
        bbox = _segmentation_box(entry.get("segmentation"))
    if not isinstance(bbox, list) or len(bbox) != 4:
        raise BadAnnotation("malformed annotation", f"bbox must be [x, y, width, height], got "
                            f"{bbox!r:.60}")
    xywh = [number(value, "bbox") for value in bbox]
    return check_box(xywh_to_xyxy(xywh), record.width, record.height)


def read_coco(source: str | Path, images: str | Path | None = None) -> Annotations:
    """A COCO JSON file -> ``Annotations``; ``images``: where the images are when they are
    not where the file names them."""
    path = Path(source)
    if path.is_dir():
        raise DatasetError(f"{path}: is a folder; --from coco reads one .json file "
                           "(CVAT: annotations/instances_default.json)")
    content = _load(path)
    images = Path(images) if images is not None else None
    found = Annotations()
    categories = _categories(content, path, found)
    by_id = {}
    for index, entry in enumerate(content["images"]):
        place = Place(str(path), None, f"images[{index}]")
        try:
            record = _image(entry, path, images)
            by_id[str(entry["id"])] = record
            found.images.append(record)
        except BadAnnotation as error:
            found.problems.append(place.problem(error.reason, error.detail))
    for index, entry in enumerate(content.get("annotations", [])):
        ident = f" (id {entry['id']})" if isinstance(entry, dict) and "id" in entry else ""
        place = Place(str(path), None, f"annotations[{index}]{ident}")
        try:
            _add_annotation(entry, by_id, categories, place, found)
        except BadAnnotation as error:
            found.problems.append(place.problem(error.reason, error.detail))
    return found


def _add_annotation(entry, by_id: dict, categories: dict, place: Place,
                    found: Annotations) -> None:
    entry = _entry(entry, ("image_id", "category_id"))
    if entry.get("iscrowd"):
        found.left_out[CROWD] += 1
        return
    if str(entry["category_id"]) not in categories:
        raise BadAnnotation("unknown category", f"category_id {entry['category_id']!r} is not "
                            f"in 'categories' (ids: {', '.join(map(str, categories)) or 'none'})")
    record = by_id.get(str(entry["image_id"]))
    if record is None:
        raise BadAnnotation("unknown image", f"image_id {entry['image_id']!r} is not in "
                            "'images' (or its image was skipped, reported above)")
    record.add(_annotation_box(entry, record), categories[str(entry["category_id"])], place)
