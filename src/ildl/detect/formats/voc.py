"""Pascal VOC XML, as labelImg, makesense.ai and DeepForest write it: one file per image.

::

    <annotation>
      <filename>SOAP_061.png</filename>
      <size><width>400</width><height>400</height></size>
      <object>
        <name>Dead</name> <difficult>0</difficult>
        <bndbox><xmin>149</xmin><ymin>105</ymin><xmax>173</xmax><ymax>129</ymax></bndbox>
      </object>
      ...

**Coordinates** are taken as written, pixel positions from the image's top-left corner, as
labelImg, makesense.ai and DeepForest write them (the VOC2012 files themselves count from 1:
their boxes come out one pixel right and down, which training does not notice).

**The image** is ``<filename>`` looked for with ``--images``, or beside the XML (``find_image``),
then the absolute ``<path>`` labelImg writes, then the image named like the XML file.
**The size** is ``<size>``; a missing or zero one (some tools write 0) is read from the image.

**difficult**: objects marked ``<difficult>1</difficult>`` are left out and counted, as VOC's
own evaluation ignores them and Ultralytics' VOC conversion drops them; any other value
(0, ``Unspecified`` from makesense.ai) is an ordinary object.

A file that is not XML, or not an ``<annotation>``, is reported with its line and skipped; a bad
``<object>`` is reported as ``file.xml: <object> 3 ('Dead'): ...`` and skipped, the file's other
objects kept.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

from ..problems import DatasetError, Problem
from .record import (
    Annotations,
    BadAnnotation,
    Place,
    SourceImage,
    check_box,
    find_image,
    image_beside,
    image_size,
    number,
)

DIFFICULT = "difficult (VOC)"  # the summary's name for the objects left out
_CORNERS = ("xmin", "ymin", "xmax", "ymax")


def annotation_files(source: Path) -> list[Path]:
    """The XML files of ``source``: the file itself, or a folder's ``*.xml`` (subfolders
    too), sorted; ``DatasetError`` when there are none."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise DatasetError(f"{source}: no such file or folder; --from voc reads a folder of "
                           "Pascal VOC .xml files (or one .xml file)")
    files = sorted(path for path in source.rglob("*") if path.suffix.lower() == ".xml")
    if not files:
        raise DatasetError(f"{source}: holds no .xml files; --from voc reads Pascal VOC XML "
                           "(labelImg's 'PascalVOC' save, makesense.ai's 'VOC XML' export)")
    return files


def read_voc(source: str | Path, images: str | Path | None = None) -> Annotations:
    """A folder of VOC XML files (or one file) -> ``Annotations``; ``images``: where the
    images are when they are not beside the XML files."""
    found = Annotations()
    images = Path(images) if images is not None else None
    for path in annotation_files(Path(source)):
        try:
            found.images.append(_read_file(path, images, found))
        except BadAnnotation as error:
            found.problems.append(Problem(str(path), None, error.reason, error.detail))
        except _BadFile as error:
            found.problems.append(error.problem)
    return found


class _BadFile(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def _root(path: Path) -> ElementTree.Element:
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        line = error.position[0]
        raise _BadFile(Problem(str(path), line, "malformed XML", f"{error}; a VOC file is "
                               "XML (<annotation> ... </annotation>)")) from None
    except OSError as error:
        raise _BadFile(Problem(str(path), None, "unreadable file", str(error))) from None
    if root.tag != "annotation":
        raise _BadFile(Problem(str(path), None, "not a VOC annotation", f"its root element is "
                               f"<{root.tag}>, expected <annotation>"))
    return root


def _text(element: ElementTree.Element, tag: str) -> str | None:
    found = element.find(tag)
    return found.text.strip() if found is not None and found.text else None


def _image_path(root: ElementTree.Element, path: Path, images: Path | None) -> Path:
    filename, written_path = _text(root, "filename"), _text(root, "path")
    if filename:
        try:
            return find_image(filename, path, images)
        except BadAnnotation:
            if written_path and Path(written_path).is_file():
                return Path(written_path)
            if image_beside(path, images) is None:
                raise
    beside = image_beside(path, images)
    if beside is None:
        raise BadAnnotation("missing image", "no <filename>, and no image named like the XML "
                            "file beside it; add <filename>, or pass the images' folder with "
                            "--images")
    return beside


def _size(root: ElementTree.Element, image: Path) -> tuple[int, int]:
    """``<size>``'s width and height, or the image's when they are missing or zero."""
    size = root.find("size")
    if size is not None:
        width, height = _text(size, "width"), _text(size, "height")
        if width and height:
            width, height = number(width, "<size><width>"), number(height, "<size><height>")
            if width > 0 and height > 0 and width == int(width) and height == int(height):
                return int(width), int(height)
    try:
        return image_size(image)
    except BadAnnotation as error:
        raise BadAnnotation("no image size", f"no usable <size> and the image cannot be read "
                            f"({error.detail}); add <size><width>..</width><height>..</height>"
                            "</size>") from None


def _read_file(path: Path, images: Path | None, found: Annotations) -> SourceImage:
    root = _root(path)
    image = _image_path(root, path, images)
    width, height = _size(root, image)
    record = SourceImage(image, width, height)
    for index, element in enumerate(root.findall("object"), start=1):
        name = _text(element, "name")
        place = Place(str(path), None, f"<object> {index}" + (f" ({name!r})" if name else ""))
        if _text(element, "difficult") == "1":
            found.left_out[DIFFICULT] += 1
            continue
        try:
            record.add(_box(element, width, height, name), name, place)
        except BadAnnotation as error:
            found.problems.append(place.problem(error.reason, error.detail))
    return record


def _box(element: ElementTree.Element, width: int, height: int, name: str | None):
    if not name:
        raise BadAnnotation("malformed annotation", "no <name> (the class)")
    bndbox = element.find("bndbox")
    if bndbox is None:
        raise BadAnnotation("malformed annotation", "no <bndbox> (xmin, ymin, xmax, ymax)")
    corners = [_text(bndbox, corner) for corner in _CORNERS]
    missing = [corner for corner, value in zip(_CORNERS, corners) if value is None]
    if missing:
        raise BadAnnotation("malformed annotation", f"<bndbox> lacks {', '.join(missing)}")
    return check_box([number(value, f"<{corner}>") for corner, value in zip(_CORNERS, corners)],
                     width, height)
