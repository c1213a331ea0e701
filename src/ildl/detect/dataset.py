"""Detection datasets in the YOLO/Ultralytics layout: read, validate, augment and batch them.

The layout every labelling tool exports::

    data.yaml             path: /data/shapes   train: images/train   val: images/val
                          names: {0: circle, 1: square}   (or a list: [circle, square])
    images/train/a.png    an image
    labels/train/a.txt    its objects, one line each: "class cx cy w h", all but class in [0, 1]
                          relative to the image's width and height; no file = no objects

**Finding things.** ``path`` is the dataset folder: absolute, or relative to the yaml's folder
(Ultralytics reads a relative ``path`` against its own datasets folder instead); without it, the
yaml's folder. ``train``/``val``/``test`` are relative to ``path``: a folder (searched
recursively for images), an image, a ``.txt`` list of image paths (relative ones relative to the
list's folder), or a list of these. A label file is found by replacing the last ``/images/`` of
the image path with ``/labels/`` and the extension with ``.txt``.

**Validation.** A data.yaml is checked key by key (a wrong one raises ``DatasetError`` naming
the file and the key; YAML aliases are refused: nested ones can expand to billions of entries).
Every label line is checked and every image decoded when a split is loaded. A problem names the
file and the line (``labels/train/a.txt:3: class out of range: ...``). With ``strict=True`` the
first problem raises ``DatasetError``. By default the bad item is skipped and counted: a bad
*line* (malformed, class out of range, box outside the image, zero or negative size) is dropped
and the rest of the image's objects kept; a bad *image* (unreadable, corrupt, cut short, tiny,
pixel values of no known range) or an undecodable label file drops the whole image.
``summary()`` reports what was loaded and skipped; a split left with no image, or with no
object, raises ``DatasetError`` saying what was found. Box edges up to ``BOX_TOLERANCE`` outside
[0, 1] are clipped silently (rounding in exporters); further out is an error. Polygon lines
(``class x1 y1 x2 y2 ...``, as segmentation exports write them) are read as the box around the
polygon.

**Samples.** ``DetectionDataset[i]`` is ``(image, targets)``: a float tensor (3, S, S) in [0, 1]
with ``S = imgsz``, and a float tensor (n, 5) of ``class, cx, cy, w, h`` normalised to that
square. Images are letterboxed: scaled so the longer side is S, and padded with grey to a square
(``Letterbox`` maps boxes back). ``collate`` makes batches for a ``DataLoader``. Training
augmentation (``Augment``) is mosaic, random scale/translate, HSV jitter and flips.

>>> data = DetectionDataset("shapes/data.yaml", "train", imgsz=160)  # doctest: +SKIP
>>> print(data.format_summary())                                     # doctest: +SKIP
>>> loader = torch.utils.data.DataLoader(data, batch_size=16, collate_fn=collate)  # doctest: +SKIP

Reading and validation need only NumPy, Pillow and PyYAML; torch is imported when tensors are
made.
"""

from __future__ import annotations

import os
import reprlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ArgumentError, DataError, MissingDependencyError
from .boxes import (
    clip_boxes,
    cxcywh_to_xyxy,
    normalized_to_pixels,
    pixels_to_normalized,
    xyxy_to_cxcywh,
)

if TYPE_CHECKING:
    import PIL.Image
    import yaml

IMAGE_SUFFIXES = (".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
BOX_TOLERANCE = 0.01  # box edges this far outside [0, 1] are clipped, not rejected
MIN_IMAGE_SIDE = 2  # pixels
PAD_VALUE = 114  # the grey of letterbox padding and of areas uncovered by augmentation
SPLIT_NAMES = ("train", "val", "test")
MAX_YAML_BYTES = 256_000  # a few lines; the 1203 class names of LVIS take about 25 kB
MAX_CLASSES = 100_000
_KEYS = "train:, val: and names: keys"


@dataclass(frozen=True)
class Problem:
    """Something wrong in a dataset: where (file, 1-based line or None), what kind, details."""

    path: str
    line: int | None
    reason: str  # a short category, counted in the summary
    detail: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}: {self.detail}"


class DatasetError(DataError):
    """A dataset that cannot be used as given: a bad data.yaml, or a problem in strict mode.

    ``problem`` is the ``Problem`` behind it, when there is one.
    """

    def __init__(self, message: str, problem: Problem | None = None):
        super().__init__(message)
        self.problem = problem

    @classmethod
    def of(cls, problem: Problem) -> DatasetError:
        return cls(str(problem), problem)


# --- data.yaml -------------------------------------------------------------------------------


@dataclass
class DataConfig:
    """What a ``data.yaml`` says, with every path resolved.

    ``splits`` maps "train", "val" (and "test" when given) to their image files, sorted;
    ``sources`` maps them to the folders, images and lists that the yaml names (for messages).
    """

    yaml_path: Path
    root: Path
    names: list[str]
    splits: dict[str, list[Path]]
    sources: dict[str, list[Path]] = field(default_factory=dict)


def _shown(value: object) -> str:
    """A value for a message: its repr, cut short, and its YAML type."""
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
             list: "a list", dict: "a mapping", type(None): "empty"}
    return f"{reprlib.repr(value)} ({kinds.get(type(value), type(value).__name__)})"


def _yaml_text(path: Path) -> str:
    """The text of a data.yaml, refused when missing, a folder, huge or not UTF-8 text."""
    expected = f"expected a dataset description: a short UTF-8 text file with {_KEYS}"
    try:
        size = path.stat().st_size
    except (OSError, ValueError) as error:
        what = "no such dataset file" if isinstance(error, FileNotFoundError) else \
            f"cannot be read ({error})"
        raise DatasetError(f"{path}: {what}; {expected}") from None
    if path.is_dir():
        raise DatasetError(f"{path}: is a folder; {expected} (usually its data.yaml)")
    if size > MAX_YAML_BYTES:
        raise DatasetError(f"{path}: {size / 1e6:.1f} MB is too large for a data.yaml (at most "
                           f"{MAX_YAML_BYTES // 1000} kB); {expected}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = error.object[:error.start].count(b"\n") + 1
        raise DatasetError(f"{path}:{line}: not UTF-8 text (byte {error.object[error.start]:#04x} "
                           f"at offset {error.start}): is it an image or another binary file? "
                           f"{expected}") from None
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error}); {expected}") from None


def _check_yaml_tree(root: yaml.Node, path: Path) -> None:
    """Refuse aliases and keys given twice, walking the parsed (not yet built) document.

    An alias (``*name``) repeats the value anchored with ``&name``; nested ones multiply: nine
    levels of nine aliases are 9**9 = 387 million entries from a 1 kB file ("billion laughs").
    The parser shares an anchored node rather than copying it, so an alias shows as a node met
    a second time. PyYAML keeps the last of two equal keys without a word; this says so.
    """
    import yaml

    seen: set[int] = set()
    waiting = [root]
    while waiting:  # a loop, not recursion: a file may nest deeper than Python's stack
        node = waiting.pop()
        if id(node) in seen:
            raise DatasetError(f"{path}:{node.start_mark.line + 1}: the value anchored here "
                               "(&name) is used again through an alias (*name); aliases are "
                               "refused in data.yaml (nested ones can expand to billions of "
                               "entries): write the value out where it is used")
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            lines: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                line = key.start_mark.line + 1
                if isinstance(key, yaml.ScalarNode) and (key.tag, key.value) in lines:
                    raise DatasetError(f"{path}:{line}: key {key.value!r} is given twice "
                                       f"(first on line {lines[key.tag, key.value]}); only "
                                       "the last would count: keep one")
                lines[key.tag, key.value] = line
                waiting += [key, value]
        elif isinstance(node, yaml.SequenceNode):
            waiting += node.value


def _yaml_document(text: str, path: Path) -> object:
    """``yaml.safe_load(text)`` in its two steps, checking the parsed tree before building."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_yaml_tree(root, path)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _read_yaml(path: Path) -> dict:
    try:
        import yaml
    except ImportError:
        raise MissingDependencyError("reading data.yaml needs PyYAML: pip install pyyaml") from None
    text = _yaml_text(path)
    try:
        content = _yaml_document(text, path)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)  # or, from the reader, only a position:
        offset = mark.index if mark is not None else getattr(error, "position", None)
        line = text[:offset].count("\n") + 1 if offset is not None else None
        where = f"{path}:{line}" if line is not None else str(path)
        # PyYAML's own text spans lines (it quotes the line and marks the column): one line here
        said = [getattr(error, "context", None), getattr(error, "problem", None)]
        detail = ", ".join(filter(None, said)) or str(error).splitlines()[0]
        raise DatasetError(f"{where}: not valid YAML ({detail}); a data.yaml is lines of "
                           "'key: value'") from None
    except RecursionError:
        raise DatasetError(f"{path}: nested too deeply to read; a data.yaml holds "
                           f"{_KEYS}") from None
    if not isinstance(content, dict):
        holds = "is empty" if content is None else f"holds {_shown(content)}"
        raise DatasetError(f"{path}: {holds}; expected a mapping with {_KEYS} (lines of "
                           "'key: value')")
    return content


def _name(value: object, where: str, path: Path) -> str:
    """One class name: a non-empty string (numbers are taken as text)."""
    text = str(value) if isinstance(value, str | int | float) else ""
    if isinstance(value, bool) or not text.strip():
        hint = " (YAML reads yes/no/on/off as booleans: quote it)" if isinstance(value, bool) \
            else ""
        raise DatasetError(f"{path}: names: {where} is {_shown(value)}; each class needs a "
                           f"non-empty name{hint}")
    return text


def _class_names(content: dict, path: Path) -> list[str]:
    """``names`` as a list (from a list or a dict of ids 0..n-1), checked against ``nc``."""
    names = content.get("names")
    count = content.get("nc")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                              or not 1 <= count <= MAX_CLASSES):
        raise DatasetError(f"{path}: nc (the number of classes) is {_shown(count)}; expected a "
                           f"whole number from 1 to {MAX_CLASSES}, or leave it out and list "
                           "'names'")
    if names is None:
        if count is None:
            raise DatasetError(f"{path}: needs 'names' (a list, or a dict id: name), e.g. "
                               "names: [cat, dog]")
        return [f"class{i}" for i in range(count)]
    if isinstance(names, dict) and names:
        names = _names_by_id(names, path)
    if not isinstance(names, list) or not names:
        raise DatasetError(f"{path}: names is {_shown(names)}; expected a non-empty list "
                           "([cat, dog]) or a dict of ids 0..n-1 ({0: cat, 1: dog})")
    if len(names) > MAX_CLASSES:
        raise DatasetError(f"{path}: names lists {len(names)} classes; at most {MAX_CLASSES}")
    names = [_name(name, f"entry {i}", path) for i, name in enumerate(names)]
    first = {}
    for i, name in enumerate(names):
        if name in first:
            raise DatasetError(f"{path}: names: {name!r} is the name of classes {first[name]} "
                               f"and {i}; each class needs its own name (merge the classes "
                               "in the label files, or rename one)")
        first[name] = i
    if count is not None and count != len(names):
        raise DatasetError(f"{path}: nc is {count} but 'names' has {len(names)} entries; "
                           "correct nc or leave it out")
    return names


def _names_by_id(names: dict, path: Path) -> list:
    """``{0: cat, 1: dog}`` -> ``[cat, dog]``; the ids must be 0..n-1."""
    ids = list(names)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        wrong = next(i for i in ids if isinstance(i, bool) or not isinstance(i, int))
        raise DatasetError(f"{path}: names: id {_shown(wrong)} is not a whole number; the ids "
                           f"must be 0..{len(ids) - 1}, as in {{0: cat, 1: dog}}")
    missing = sorted(set(range(len(ids))) - set(ids))
    if missing:
        raise DatasetError(f"{path}: 'names' ids must be 0..{len(ids) - 1}, got {sorted(ids)} "
                           f"(missing {', '.join(map(str, missing[:10]))}); number the "
                           "classes from 0 without gaps, as the label files do")
    return [names[i] for i in range(len(ids))]


def _dataset_root(content: dict, path: Path) -> Path:
    folder = path.parent
    given = content.get("path")
    if given is None or given == "":
        return folder
    if not isinstance(given, str):
        raise DatasetError(f"{path}: path is {_shown(given)}; expected the dataset folder, "
                           "absolute or relative to the yaml (quote a folder named like a "
                           "number: path: '2024')")
    root = Path(os.path.expanduser(given))
    root = root if root.is_absolute() else folder / root
    # A dataset folder that was moved or copied keeps its old absolute path in data.yaml:
    # fall back to the yaml's own folder when it is the one that holds the splits.
    train = content.get("train")
    if not root.exists() and isinstance(train, str) and (folder / train).exists():
        return folder
    return root


def _split_entries(content: dict, split: str, path: Path) -> list[str]:
    """What ``train``/``val``/``test`` name, as a list of strings (empty when not given)."""
    value = content.get(split)
    if value is None or value == "" or value == []:
        return []
    entries = value if isinstance(value, list) else [value]
    for entry in entries:
        if not isinstance(entry, str) or not entry.strip():
            raise DatasetError(f"{path}: {split} is {_shown(value)}; expected a folder of "
                               "images, an image, a .txt list of images, or a list of these, "
                               f"relative to 'path' (quote a folder named like a number: "
                               f"{split}: '123')")
    return entries


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def image_files(source: str | os.PathLike | list, root: str | os.PathLike = ".") -> list[Path]:
    """The images a split entry names: a folder, an image, a .txt list, or a list of these.

    Relative entries are relative to ``root``; relative lines in a .txt list, to its folder.
    """
    if isinstance(source, list | tuple):
        return sorted({image for entry in source for image in image_files(entry, root)})
    path = Path(source)
    path = path if path.is_absolute() else Path(root) / path
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and _is_image(p))
    if path.suffix.lower() == ".txt" and path.is_file():
        lines = [line.strip() for line in _list_text(path).splitlines()]
        return sorted({Path(line) if Path(line).is_absolute() else path.parent / line
                       for line in lines if line})
    if path.is_file() and _is_image(path):
        return [path]
    if path.is_file():
        raise DatasetError(f"{path}: not an image ({', '.join(IMAGE_SUFFIXES)}), a folder of "
                           "images or a .txt list of images")
    raise DatasetError(f"{path}: no such folder, image or image list")


def _list_text(path: Path) -> str:
    """The text of a .txt list of images."""
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as error:
        raise DatasetError(f"{path}: cannot be read as a list of images, one path a line "
                           f"({type(error).__name__}: {error})") from None


def load_data_yaml(path: str | os.PathLike) -> DataConfig:
    """Read a ``data.yaml`` and find the images of each split (see the module docstring)."""
    path = Path(path)
    content = _read_yaml(path)
    names = _class_names(content, path)
    root = _dataset_root(content, path)
    entries = {split: _split_entries(content, split, path) for split in SPLIT_NAMES}
    if not entries["train"] and not entries["val"]:
        keys = reprlib.repr([str(key) for key in content]) if content else "none"
        raise DatasetError(f"{path}: needs 'train' and/or 'val' (image folders or lists, e.g. "
                           f"train: images/train); its keys are: {keys}")
    splits, sources = {}, {}
    for split, named in entries.items():
        if not named:
            continue
        try:
            splits[split] = image_files(named, root)
        except DatasetError as error:
            moved = "" if root.is_dir() else f"; the dataset folder {root} ('path') does not exist"
            raise DatasetError(f"{path}: {split}: {error}{moved} (entries are relative to "
                               "'path', or to the yaml's folder without it)") from None
        sources[split] = [Path(entry) if Path(entry).is_absolute() else root / entry
                          for entry in named]
    return DataConfig(yaml_path=path, root=root, names=names, splits=splits, sources=sources)


def label_path(image: str | os.PathLike) -> Path:
    """The label file of an image: the last ``images`` folder becomes ``labels``, and .txt.

    >>> label_path("/data/images/train/a.png").as_posix()
    '/data/labels/train/a.txt'
    """
    parts = list(Path(image).with_suffix(".txt").parts)
    for i in reversed(range(len(parts) - 1)):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts)


# --- validation ------------------------------------------------------------------------------


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
        x0, x1, y0, y1 = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
    else:
        xs, ys = values[0::2], values[1::2]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    low, high = -BOX_TOLERANCE, 1 + BOX_TOLERANCE
    if min(x0, y0) < low or max(x1, y1) > high:
        raise _BadLine("box outside image", f"edges x {x0:.4f}..{x1:.4f}, y {y0:.4f}..{y1:.4f} "
                       f"must lie in [0, 1] (tolerance {BOX_TOLERANCE})")
    if len(values) == 4 and min(x0, y0) >= 0 and max(x1, y1) <= 1:
        return tuple(values)  # inside: exactly as written (no rounding from edges and back)
    x0, y0, x1, y1 = max(x0, 0.0), max(y0, 0.0), min(x1, 1.0), min(y1, 1.0)
    if x1 <= x0 or y1 <= y0:
        raise _BadLine("non-positive size", f"nothing left inside the image: x {x0:.4f}..{x1:.4f},"
                       f" y {y0:.4f}..{y1:.4f}")
    return (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0


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


def check_image(path: str | os.PathLike) -> tuple[int, int]:
    """An image's upright (width, height), after reading it whole as training will.

    Raises ``DatasetError`` naming the file. Pillow's ``verify`` checks the file's structure
    (the checksum of every PNG chunk: a flipped bit that would still decode); decoding every
    pixel (``load_image``) finds the rest: a JPEG cut short passes ``verify`` and fails only
    there, and pixels without a known range are refused. It costs one decoding of each image:
    0.5 ms for a 160 px PNG, 2 ms for a 640 x 480 JPEG, 130 ms for a 12-megapixel photo.
    """
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.verify()
    except Exception as error:  # Pillow raises many kinds for broken files
        raise DatasetError.of(Problem(str(path), None, "unreadable image",
                                      f"{type(error).__name__}: {error}")) from None
    height, width = load_image(path).shape[:2]
    if min(width, height) < MIN_IMAGE_SIDE:
        raise DatasetError.of(Problem(str(path), None, "unreadable image",
                                      f"{width} x {height} pixels is too small"))
    return width, height


# --- a validated split -----------------------------------------------------------------------


@dataclass
class Example:
    """One usable image: its files, size (width, height) and objects (``cx cy w h`` in [0, 1])."""

    image: Path
    label: Path
    size: tuple[int, int]
    classes: np.ndarray  # (n,) int64
    boxes: np.ndarray  # (n, 4) float32


@dataclass
class Split:
    """The validated examples of one split, and what was skipped on the way."""

    name: str
    names: list[str]
    examples: list[Example] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped_images: int = 0
    missing_labels: int = 0

    def summary(self) -> dict:
        """Counts for people and logs: images, objects per class, skipped items by reason."""
        per_class = Counter(int(c) for example in self.examples for c in example.classes)
        return {
            "split": self.name,
            "images": len(self.examples),
            "background_images": sum(len(e.classes) == 0 for e in self.examples),
            "missing_label_files": self.missing_labels,
            "objects": sum(per_class.values()),
            "objects_per_class": {name: per_class[i] for i, name in enumerate(self.names)},
            "skipped_images": self.skipped_images,
            "skipped_lines": sum(p.line is not None for p in self.problems),
            "problems": dict(Counter(p.reason for p in self.problems)),
        }

    def format_summary(self, examples: int = 5) -> str:
        """The summary as text, with the first ``examples`` problems spelled out."""
        s = self.summary()
        classes = ", ".join(f"{name} {count}" for name, count in s["objects_per_class"].items())
        lines = [f"{s['split']}: {s['images']} images ({s['background_images']} without objects, "
                 f"{s['missing_label_files']} without a label file), {s['objects']} objects "
                 f"({classes})"]
        if self.problems:
            reasons = ", ".join(f"{reason} {count}" for reason, count in s["problems"].items())
            lines.append(f"skipped {s['skipped_images']} images and {s['skipped_lines']} label "
                         f"lines: {reasons}")
            lines += [f"  {problem}" for problem in self.problems[:examples]]
            if len(self.problems) > examples:
                lines.append(f"  ... and {len(self.problems) - examples} more")
        return "\n".join(lines)


def scan_split(images: list[Path], names: list[str], name: str = "train",
               strict: bool = False) -> Split:
    """Check every image and label file of a split (see the module docstring for the policy)."""
    split = Split(name=name, names=list(names))

    def report(problem: Problem) -> None:
        if strict:
            raise DatasetError.of(problem)
        split.problems.append(problem)

    for image in images:
        labels = label_path(image)
        try:
            size = check_image(image)
            classes, boxes, problems = read_labels(labels, split.names)
        except DatasetError as error:  # the whole image goes
            report(error.problem)
            split.skipped_images += 1
            continue
        for problem in problems:
            report(problem)
        split.missing_labels += not labels.exists()
        split.examples.append(Example(image, labels, size, classes, boxes))
    return split


def _require_usable(split: Split, config: DataConfig) -> None:
    """Refuse a split that can neither train nor evaluate a detector: no usable image, or no
    object at all (an epoch of nothing, a mAP of nothing). Says what was found and why."""
    where = f"{config.yaml_path}: split '{split.name}'"
    folders = ", ".join(map(str, config.sources.get(split.name, []))) or "the split's entries"
    summary = split.summary()
    reasons = ", ".join(f"{reason} {count}" for reason, count in summary["problems"].items())
    if not split.examples and not split.skipped_images:
        raise DatasetError(f"{where} has no images: {folders} holds no files ending in "
                           f"{', '.join(IMAGE_SUFFIXES)} (folders are searched with their "
                           f"subfolders); put the images there, or point '{split.name}' in "
                           "the yaml at the folder that holds them")
    if not split.examples:
        found = split.skipped_images
        raise DatasetError(f"{where} has no usable images: found {found} image files in "
                           f"{folders} and skipped all {found} ({reasons}; the first: "
                           f"{split.problems[0]}); repair or replace them, or point "
                           f"'{split.name}' at the right folder")
    if not summary["objects"]:
        example = split.examples[0]
        skipped = f"; {summary['skipped_lines']} label lines were skipped ({reasons}; the " \
            f"first: {split.problems[0]})" if split.problems else ""
        raise DatasetError(f"{where} has {summary['images']} images but no objects: "
                           f"{summary['missing_label_files']} have no label file, the others "
                           f"list no object{skipped}. The label file of an image is its path "
                           "with the last /images/ replaced by /labels/ and the extension by "
                           f".txt ({example.image} -> {example.label}): put the label files "
                           "there, one 'class cx cy w h' line per object")


# --- letterbox and augmentation (NumPy and Pillow) -------------------------------------------


@dataclass(frozen=True)
class Letterbox:
    """How an image of ``size`` (width, height) was fitted into a square: scaled, then padded.

    The image is resized to ``resized`` (width, height), the longer side becoming the square's
    side, and pasted at (``pad_x``, ``pad_y``).
    """

    size: tuple[int, int]
    resized: tuple[int, int]
    pad_x: int
    pad_y: int

    @classmethod
    def fit(cls, size: tuple[int, int], side: int) -> Letterbox:
        width, height = size
        scale = side / max(width, height)
        # at least 1 px: a 4000 x 2 strip fitted into 160 px is 160 x 0.08
        resized = tuple(max(1, min(side, round(length * scale))) for length in (width, height))
        return cls(size, resized, (side - resized[0]) // 2, (side - resized[1]) // 2)

    def to_square(self, boxes: np.ndarray) -> np.ndarray:
        """Normalised ``cx cy w h`` (n, 4) of the original -> pixel corners in the square."""
        offset = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y])
        return normalized_to_pixels(cxcywh_to_xyxy(boxes), *self.resized) + offset

    def to_original(self, boxes_xyxy: np.ndarray) -> np.ndarray:
        """Pixel ``x0 y0 x1 y1`` (n, 4) in the square -> pixel ``x0 y0 x1 y1`` in the original."""
        offset = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y])
        ratio = np.array([*self.size, *self.size]) / np.array([*self.resized, *self.resized])
        original = (np.asarray(boxes_xyxy, dtype=np.float64) - offset) * ratio
        return np.clip(original, 0, np.array([*self.size, *self.size]))


def letterbox(image: np.ndarray, side: int) -> tuple[np.ndarray, Letterbox]:
    """Fit (H, W, 3) uint8 into (side, side, 3): scale the longer side to ``side``, pad grey."""
    from PIL import Image

    height, width = image.shape[:2]
    fit = Letterbox.fit((width, height), side)
    new_width, new_height = fit.resized
    if (new_width, new_height) != (width, height):
        image = np.asarray(Image.fromarray(image).resize((new_width, new_height),
                                                         Image.Resampling.BILINEAR))
    square = np.full((side, side, 3), PAD_VALUE, dtype=np.uint8)
    square[fit.pad_y:fit.pad_y + new_height, fit.pad_x:fit.pad_x + new_width] = image
    return square, fit


def clip_and_drop(boxes: np.ndarray, classes: np.ndarray, width: int, height: int,
                  min_side: float = 2.0, min_kept: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Clip pixel boxes to the image; drop those left under ``min_side`` px wide or high, or
    with less than ``min_kept`` of their area inside (a sliver is too little to recognise)."""
    clipped = clip_boxes(boxes, width, height)
    sides = clipped[:, 2:] - clipped[:, :2]
    area = np.prod(np.maximum(boxes[:, 2:] - boxes[:, :2], 1e-9), axis=1)
    keep = (sides.min(axis=1, initial=np.inf) >= min_side) & (sides.prod(axis=1) >= min_kept * area)
    return clipped[keep], classes[keep]


@dataclass(frozen=True)
class Augment:
    """Training augmentation; each step can be switched off with 0. Applied in this order:

    mosaic     probability of a mosaic: 4 images meet at a random centre, each cropped to its
               quarter (more objects per image, objects cut by the crop, varied context)
    scale      zoom by a factor drawn from [1 - scale, 1 + scale] about the centre (every time)
    translate  shift by up to this fraction of the side, in x and y (every time)
    hsv_h      hue shift, up to this fraction of the colour circle (every time)
    hsv_s      saturation gain, from 1 - hsv_s to 1 + hsv_s (every time)
    hsv_v      value (brightness) gain, from 1 - hsv_v to 1 + hsv_v (every time)
    fliplr     probability of a left-right flip
    flipud     probability of an up-down flip (off: most scenes have an "up")

    Boxes follow the pixels: after zoom, shift and mosaic they are clipped to the image, and
    dropped when under 2 px or with under 10% of their area left. Clipped boxes are exact
    for rectangles and slightly loose for other shapes (a cut triangle's box is the cut box).
    """

    mosaic: float = 1.0
    scale: float = 0.5
    translate: float = 0.1
    hsv_h: float = 0.015
    hsv_s: float = 0.7
    hsv_v: float = 0.4
    fliplr: float = 0.5
    flipud: float = 0.0


def mosaic(tiles: list[tuple[np.ndarray, np.ndarray, np.ndarray]], rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Four (square image (S, S, 3), classes (n,), pixel boxes (n, 4)) into one S x S image.

    A centre is drawn in the middle half of the square; image k has a corner on it: the first
    fills the top left (its bottom-right part shows), then top right, bottom left, bottom right.
    """
    side = tiles[0][0].shape[0]
    cx, cy = (int(v) for v in rng.integers(side // 4, 3 * side // 4 + 1, size=2))
    canvas = np.full((side, side, 3), PAD_VALUE, dtype=np.uint8)
    all_classes, all_boxes = [], []
    # where each image's top-left corner goes, so that its inner corner touches the centre
    offsets = [(cx - side, cy - side), (cx, cy - side), (cx - side, cy), (cx, cy)]
    for (image, classes, boxes), (dx, dy) in zip(tiles, offsets):
        x0, y0 = max(dx, 0), max(dy, 0)
        x1, y1 = min(dx + side, side), min(dy + side, side)
        canvas[y0:y1, x0:x1] = image[y0 - dy:y1 - dy, x0 - dx:x1 - dx]
        shifted = boxes + np.array([dx, dy, dx, dy])
        # clip to this image's own quarter: the parts outside it were not pasted
        shifted = shifted - np.array([x0, y0, x0, y0])
        kept, kept_classes = clip_and_drop(shifted, classes, x1 - x0, y1 - y0)
        all_boxes.append(kept + np.array([x0, y0, x0, y0]))
        all_classes.append(kept_classes)
    return canvas, np.concatenate(all_classes), np.concatenate(all_boxes).reshape(-1, 4)


def random_affine(image: np.ndarray, classes: np.ndarray, boxes: np.ndarray, scale: float,
                  shift: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zoom a square image by ``scale`` about its centre and move it by ``shift`` pixels.

    A point p goes to ``scale * (p - centre) + centre + shift``; boxes go the same way and are
    then clipped (``clip_and_drop``). Uncovered areas are grey.
    """
    from PIL import Image

    side = image.shape[0]
    centre = side / 2
    tx, ty = shift
    # Pillow wants the inverse map: for each output pixel, where to read in the input.
    inverse = (1 / scale, 0, centre - (centre + tx) / scale,
               0, 1 / scale, centre - (centre + ty) / scale)
    moved = Image.fromarray(image).transform((side, side), Image.Transform.AFFINE, inverse,
                                             Image.Resampling.BILINEAR,
                                             fillcolor=(PAD_VALUE,) * 3)
    boxes = scale * (boxes - centre) + centre + np.array([tx, ty, tx, ty])
    kept, kept_classes = clip_and_drop(boxes, classes, side, side)
    return np.asarray(moved), kept_classes, kept


def colour_jitter(image: np.ndarray, hue: float, saturation: float, value: float
                  ) -> np.ndarray:
    """Jitter colours with one 3x3 matrix applied to every RGB pixel: (H, W, 3) -> (H, W, 3).

    In RGB space the greys lie on the axis r = g = b. Rotating a colour about that axis by
    ``hue`` of a full turn changes its hue; scaling its distance from the axis by ``saturation``
    changes its saturation; scaling it all by ``value`` its brightness:
    ``M = value * (P + saturation * R (I - P))``, P the projection on the grey axis, R the
    rotation. It approximates jitter in HSV space (what ``hsv_h``, ``hsv_s``, ``hsv_v`` of
    Ultralytics do) at a tenth of the cost of converting to HSV and back; greys stay grey.
    """
    axis = np.full(3, 1 / np.sqrt(3))
    onto_grey = np.outer(axis, axis)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    angle = 2 * np.pi * hue
    rotation = np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross  # Rodrigues
    matrix = value * (onto_grey + saturation * rotation @ (np.eye(3) - onto_grey))
    mapped = image.reshape(-1, 3).astype(np.float32) @ matrix.T.astype(np.float32)
    return np.clip(mapped, 0, 255).round().astype(np.uint8).reshape(image.shape)


def flip_left_right(image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror an image (H, W, 3) and its pixel boxes (n, 4) left to right."""
    width = image.shape[1]
    return image[:, ::-1], np.stack([width - boxes[:, 2], boxes[:, 1],
                                     width - boxes[:, 0], boxes[:, 3]], axis=1)


def flip_up_down(image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror an image (H, W, 3) and its pixel boxes (n, 4) top to bottom."""
    height = image.shape[0]
    return image[::-1], np.stack([boxes[:, 0], height - boxes[:, 3],
                                  boxes[:, 2], height - boxes[:, 1]], axis=1)


# --- the dataset -----------------------------------------------------------------------------


class DetectionDataset:
    """A split of a YOLO-layout dataset, ready for ``torch.utils.data.DataLoader``.

    ``source`` is a ``data.yaml`` path or a ``DataConfig``; ``split`` is "train", "val" or
    "test". ``augment``: an ``Augment``, ``True`` (= ``Augment()``), ``False``, or ``None`` (the
    default: ``Augment()`` for "train", none otherwise). Item i is ``(image (3, S, S) float in
    [0, 1], targets (n, 5) float [class, cx, cy, w, h])`` (see ``sample`` for NumPy arrays).

    Augmentation is random but reproducible: item i in epoch e always gets the same draws
    (a generator seeded with ``(seed, e, i)``), whichever DataLoader worker makes it. Call
    ``set_epoch`` before each epoch's loop (the workers copy the dataset when the loop starts,
    so with ``persistent_workers=True`` they would keep the first epoch's draws).

    It is not a subclass of ``torch.utils.data.Dataset`` (so reading needs no torch), but has
    everything a ``DataLoader`` asks of one: ``len`` and indexing.

    ``cache=True`` decodes and letterboxes every image once, up front (S * S * 3 bytes each:
    77 kB at 160 px), instead of at every use; a mosaic uses four images.
    """

    def __init__(self, source: str | os.PathLike | DataConfig, split: str = "train",
                 imgsz: int = 640, augment: Augment | bool | None = None, strict: bool = False,
                 seed: int = 0, cache: bool = False):
        if isinstance(imgsz, bool) or not isinstance(imgsz, int | np.integer) or imgsz < 32:
            raise ArgumentError(f"imgsz must be a whole number of pixels, at least 32, got "
                                f"{imgsz!r}")
        config = source if isinstance(source, DataConfig) else load_data_yaml(source)
        if split not in config.splits:
            raise DatasetError(f"{config.yaml_path}: no '{split}' split (has: "
                               f"{', '.join(config.splits) or 'none'}); add '{split}:' to "
                               "the yaml, or use one of those")
        if augment is None:
            augment = split == "train"
        self.augment = Augment() if augment is True else (augment or None)
        self.config, self.imgsz, self.seed, self.epoch = config, int(imgsz), seed, 0
        self.split = scan_split(config.splits[split], config.names, split, strict)
        _require_usable(self.split, config)
        self.names = config.names
        # filled before any DataLoader worker starts, so the workers share it
        self._cache = [self._load(i) for i in range(len(self))] if cache else None

    def __len__(self) -> int:
        return len(self.split.examples)

    def set_epoch(self, epoch: int) -> None:
        """Choose the augmentation draws of this epoch (see the class docstring)."""
        self.epoch = int(epoch)

    def summary(self) -> dict:
        """See ``Split.summary``."""
        return self.split.summary()

    def format_summary(self, examples: int = 5) -> str:
        return self.split.format_summary(examples)

    def letterbox_of(self, index: int) -> Letterbox:
        """How image ``index`` is fitted into the square (to map predictions back)."""
        return Letterbox.fit(self.split.examples[index].size, self.imgsz)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Image ``index`` letterboxed: (S, S, 3) uint8, classes (n,), pixel boxes (n, 4)."""
        if self._cache is not None:
            return self._cache[index]
        return self._load(index)

    def _load(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        example = self.split.examples[index]
        image, fit = letterbox(load_image(example.image), self.imgsz)
        if fit.size != example.size:  # the file changed since the scan
            raise DatasetError(f"{example.image}: size changed from {example.size} to {fit.size}")
        return image, example.classes, fit.to_square(example.boxes)

    def sample(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Item ``index`` as NumPy: image (S, S, 3) uint8, targets (n, 5) float32."""
        augment = self.augment
        if augment is None:
            image, classes, boxes = self.load(index)
        else:
            image, classes, boxes = self._augmented(index, augment)
        targets = np.concatenate([classes[:, None].astype(np.float32),
                                  pixels_to_normalized(xyxy_to_cxcywh(boxes), self.imgsz,
                                                       self.imgsz).astype(np.float32)], axis=1)
        return np.array(image), targets.reshape(-1, 5)  # a writable copy: tensors share it

    def _augmented(self, index: int, augment: Augment
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        if rng.random() < augment.mosaic:
            others = rng.integers(0, len(self), size=3)
            image, classes, boxes = mosaic([self.load(i) for i in (index, *others)], rng)
        else:
            image, classes, boxes = self.load(index)
        if augment.scale or augment.translate:
            zoom = rng.uniform(1 - augment.scale, 1 + augment.scale)
            shift = rng.uniform(-augment.translate, augment.translate, size=2) * self.imgsz
            image, classes, boxes = random_affine(image, classes, boxes, zoom, tuple(shift))
        if augment.hsv_h or augment.hsv_s or augment.hsv_v:
            image = colour_jitter(image, rng.uniform(-augment.hsv_h, augment.hsv_h),
                               rng.uniform(1 - augment.hsv_s, 1 + augment.hsv_s),
                               rng.uniform(1 - augment.hsv_v, 1 + augment.hsv_v))
        if rng.random() < augment.fliplr:
            image, boxes = flip_left_right(image, boxes)
        if rng.random() < augment.flipud:
            image, boxes = flip_up_down(image, boxes)
        return image, classes, boxes

    def __getitem__(self, index: int):
        import torch

        image, targets = self.sample(index)
        pixels = torch.from_numpy(image).permute(2, 0, 1).float().div_(255)
        return pixels, torch.from_numpy(targets)


def collate(batch: list) -> tuple:
    """Batch ``(image, targets)`` items: images (B, 3, S, S) and targets (N, 6).

    The targets of all images are stacked, each row ``[image_index, class, cx, cy, w, h]``:
    images hold different numbers of objects, so a column says whose each row is. N is the
    total object count (0 is fine).
    """
    import torch

    images = torch.stack([image for image, _ in batch])
    rows = [torch.cat([torch.full((len(targets), 1), float(i)), targets], dim=1)
            for i, (_, targets) in enumerate(batch)]
    return images, torch.cat(rows).reshape(-1, 6)


__all__ = ["Augment", "BOX_TOLERANCE", "DataConfig", "DatasetError", "DetectionDataset",
           "Example", "Letterbox", "Problem", "Split", "check_image", "clip_and_drop", "collate",
           "flip_left_right", "flip_up_down", "colour_jitter", "image_files",
           "label_path", "letterbox", "load_data_yaml", "load_image", "mosaic",
           "parse_label_line", "random_affine", "read_labels", "scan_split"]
