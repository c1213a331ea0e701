"""Convert labels from labelling tools into the YOLO layout that ``ildl detect train`` reads.

``convert_dataset("labels_voc/", "trees", "voc", mapping={"Alive": "tree", "Dead": "tree"},
tile=400, overlap=0.2)`` (``ildl detect convert --from voc labels_voc --out trees --map
Alive=tree Dead=tree --tile 400 --overlap 0.2``) runs five steps, and writes only in the last:

1. **Read** the source with its reader (``formats``): every labelled image, its pixel boxes
   and class names; a bad item is a ``Problem`` naming its file and line or element.
2. **Name the classes**: ``mapping`` renames (and so merges) classes first; ``names`` then fixes
   the list and its order (a box of a class not in it is a problem); without ``names``, the
   classes found, sorted.
3. **Check every image whole**, as training will (decoded; its size must be the one labelled).
   With ``strict`` the first problem of steps 1-3 raises ``DatasetError``, before any writing.
4. **Split by source image**, never by tile: a photo's tiles are all in train or all in val, so
   the validation score is measured on photos the model never saw. ``val`` is the share of
   images drawn at random (``seed``); ``val_images`` names them instead.
5. **Write** ``images/{train,val}``, ``labels/{train,val}`` and, last, ``data.yaml``: an
   interrupted conversion leaves a folder without ``data.yaml``, which no command takes for a
   dataset. Every file is written atomically.

**Tiling** (``tile``): an image larger than ``tile`` pixels is cut into the overlapping tiles
of ``tiles.tile_grid``, each written as a PNG with its boxes clipped to it (``boxes_in_tile``).
A box that keeps less than ``min_area`` of its area in a tile is dropped from that tile and
counted: a sliver of a crown at a tile's edge labelled as a whole object would teach the model
to box fragments, and an object smaller than the overlap is whole in the neighbouring tile.
The default, half, keeps a box that shows most of its object. Tiles without any box are kept:
they teach the background. Images no larger than a tile are copied as they are.

The returned ``Conversion`` counts images, tiles and boxes per class and split, and what was
dropped and why; ``format_summary`` prints it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import write_atomically, write_bytes_atomically
from ..errors import ArgumentError, OverwriteError
from ..outputs import check_out_folder, is_path, make_out_folder
from ..progress import ProgressBar
from ..validation import check_flag, check_integer, check_number, did_you_mean
from .boxes import pixels_to_normalized, xyxy_to_cxcywh
from .data_yaml import IMAGE_SUFFIXES
from .formats import READERS, Annotations, SourceImage
from .images import load_checked_image
from .problems import DatasetError, Problem
from .tiles import DEFAULT_OVERLAP, boxes_in_tile, check_tiling, tile_grid

DEFAULT_MIN_AREA = 0.5  # the share of a box's area a tile must hold to keep it (see above)
DEFAULT_VAL = 0.2
SPLITS = ("train", "val")
# The summary's names for what tiling drops: a part of a box at a tile's edge (its object is
# usually whole, or larger, in a neighbouring tile), and a box kept in no tile at all (lost).
SMALL_PART = "box parts < min-area at a tile edge"
LOST_BOX = "boxes in no tile (every part < min-area)"
_WHERE = "convert_dataset"


@dataclass
class Conversion:
    """What a conversion wrote and dropped. Per split: ``sources`` (source images), ``tiles``
    (image files written), ``boxes`` (class name -> boxes written); ``dropped`` (reason ->
    count: problems, conventions such as VOC's difficult, parts too small in a tile);
    ``problems`` every problem skipped; ``data_yaml`` the file written last."""

    names: list[str]
    data_yaml: Path
    sources: Counter = field(default_factory=Counter)
    tiles: Counter = field(default_factory=Counter)
    boxes: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in SPLITS})
    dropped: Counter = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)

    def format_summary(self, examples: int = 5) -> str:
        """The summary as text, with the first ``examples`` problems spelled out."""
        lines = []
        for split in SPLITS:
            counts = ", ".join(f"{name} {self.boxes[split][name]}" for name in self.names)
            lines.append(f"{split}: {self.sources[split]} source images -> {self.tiles[split]} "
                         f"images, {sum(self.boxes[split].values())} boxes ({counts})")
        if self.dropped:
            lines.append("dropped: " + ", ".join(f"{reason} {count}" for reason, count
                                                 in self.dropped.items()))
        lines += [f"  {problem}" for problem in self.problems[:examples]]
        if len(self.problems) > examples:
            lines.append(f"  ... and {len(self.problems) - examples} more")
        if not self.sources["val"]:
            lines.append(f"dataset: {self.data_yaml}, without a val split: training needs one "
                         "(add 'val: FOLDER' to it, or convert again with --val)")
        elif not self.sources["train"]:
            lines.append(f"dataset: {self.data_yaml}, a val split only: for ildl detect val "
                         "(a test set); to train, convert again with fewer --val-images")
        else:
            lines.append(f"dataset: {self.data_yaml} (ildl detect train --data "
                         f"{self.data_yaml})")
        return "\n".join(lines)


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``["Alive=tree", "Dead=tree"]`` (``--map``) -> ``{"Alive": "tree", "Dead": "tree"}``."""
    mapping = {}
    for pair in pairs:
        old, sign, new = pair.partition("=")
        if not sign or not old.strip() or not new.strip():
            raise ArgumentError(f"--map {pair!r}: expected OLD=NEW, a class as the labels name "
                                "it and its new name (--map Alive=tree Dead=tree)")
        mapping[old.strip()] = new.strip()
    return mapping


def _check_arguments(source, out, source_format, names, mapping, tile, overlap, min_area, val,
                     seed, val_images, images, strict, overwrite) -> None:
    if source_format not in READERS:
        raise ArgumentError(f"{_WHERE}: format {source_format!r} is not known; choose one of "
                            f"{', '.join(READERS)}{did_you_mean(str(source_format), READERS)}")
    for name, value in (("source", source), ("images (--images)", images)):
        if value is not None and not is_path(os.fspath(value) if isinstance(
                value, os.PathLike) else value):
            raise ArgumentError(f"{_WHERE}: {name} must be a path, got {value!r}")
    if not os.path.exists(source):
        raise ArgumentError(f"{_WHERE}: source {os.fspath(source)!r} does not exist; give the "
                            "labels' folder (voc), .json (coco), .csv (csv) or data.yaml (yolo)")
    if images is not None and not os.path.isdir(images):
        raise ArgumentError(f"{_WHERE}: --images {os.fspath(images)!r} is not a folder")
    check_out_folder(os.fspath(out) if isinstance(out, os.PathLike) else out,
                     "the dataset needs a folder for images/, labels/ and data.yaml")
    if names is not None and (not names or len(set(names)) != len(names) or not all(
            isinstance(name, str) and name.strip() for name in names)):
        raise ArgumentError(f"{_WHERE}: --names {names!r}: expected class names, each once and "
                            "non-empty, in the order of their ids (--names tree)")
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                for k, v in mapping.items()):
        raise ArgumentError(f"{_WHERE}: mapping (--map) must be a dict of old -> new class "
                            f"names, got {mapping!r}")
    if tile is not None:
        check_tiling(tile, overlap)
    check_number(min_area, "min_area (--min-area)", _WHERE, 0, 1)
    if val_images is not None and (not val_images or not all(isinstance(n, str) and n
                                                             for n in val_images)):
        raise ArgumentError(f"{_WHERE}: --val-images {val_images!r}: expected image names")
    if val is not None:
        if val_images is not None:
            raise ArgumentError(f"{_WHERE}: give --val (a share drawn at random) or "
                                "--val-images (the images named), not both")
        check_number(val, "val (--val)", _WHERE, 0, 1, bounds="[)")
    check_integer(seed, "seed (--seed)", _WHERE, minimum=0)
    check_flag(strict, "strict (--strict)", _WHERE)
    check_flag(overwrite, "overwrite (--overwrite)", _WHERE)
    _refuse_full(Path(out), overwrite)  # now, not after minutes of reading


def _name_classes(found: Annotations, names: list[str] | None,
                  mapping: dict[str, str]) -> list[str]:
    """Apply ``mapping`` to every box's class, then fix the class list (``names``, or those
    found, sorted); boxes of a class not in ``names`` become problems and are removed."""
    seen = {name for image in found.images for name in image.names}
    unused = [old for old in mapping if old not in seen]
    if unused:
        raise ArgumentError(f"--map {unused[0]}=...: no box has class {unused[0]!r}"
                            f"{did_you_mean(unused[0], seen)}; the classes found are "
                            f"{', '.join(sorted(seen)) or 'none'}")
    for image in found.images:
        image.names = [mapping.get(name, name) for name in image.names]
    classes = list(names) if names is not None else sorted(
        {name for image in found.images for name in image.names})
    if not classes:
        raise DatasetError("the source holds no boxes, so no class names: give them with "
                           "--names, or check the source (problems are listed above)")
    for image in found.images:
        known = [name in classes for name in image.names]
        for keep, name, place in zip(known, image.names, image.places):
            if not keep:
                found.problems.append(place.problem(
                    "class not in --names", f"class {name!r} is not one of "
                    f"{', '.join(classes)}{did_you_mean(name, classes)}; add it to --names, "
                    f"or rename it with --map {name}=NEW"))
        image.boxes = image.boxes[np.array(known, dtype=bool)].reshape(-1, 4)
        image.names = [name for name, keep in zip(image.names, known) if keep]
        image.places = [place for place, keep in zip(image.places, known) if keep]
    return classes


def _merge_same_files(found: Annotations) -> None:
    """One record per image file: records naming the same file another way (``a.png`` and
    ``./a.png`` in a CSV, two XML files with one ``<filename>``) become one, with all their
    boxes; otherwise the split could send one photo to both sides, each copy with part of its
    boxes and the rest taught as background."""
    first_of: dict[Path, SourceImage] = {}
    merged = []
    for image in found.images:
        first = first_of.setdefault(image.path.resolve(), image)
        if first is image or (first.width, first.height) != (image.width, image.height):
            merged.append(image)  # sizes that disagree stay apart: _check_images says which
        else:
            first.boxes = np.concatenate([first.boxes, image.boxes])
            first.names += image.names
            first.places += image.places
    found.images = merged


def _check_images(found: Annotations) -> None:
    """Decode every image whole as training will; an unreadable one, or one whose size is not
    the labelled one, is a problem and leaves."""
    usable = []
    for image in found.images:
        try:
            height, width = load_checked_image(image.path).shape[:2]
        except DatasetError as error:
            found.problems.append(error.problem)
            continue
        if (width, height) != (image.width, image.height):
            found.problems.append(Problem(str(image.path), None, "size mismatch", (
                f"the labels are for {image.width} x {image.height} pixels, the image (turned "
                f"upright as its EXIF says) is {width} x {height}; relabel it, or fix the "
                "size the labels give")))
            continue
        usable.append(image)
    found.images = usable


def split_sources(images: list[SourceImage], val: float | None, seed: int,
                  val_images: list[str] | None) -> list[str]:
    """The split ("train" or "val") of each source image: ``val_images`` (file names, with or
    without extension, or paths) go to val; else ``round(val * n)`` images drawn with ``seed``
    (at least one when ``val > 0``, and at least one left to train)."""
    count = len(images)
    if val_images is not None:
        keys = [{image.path.name, image.path.stem, str(image.path)} for image in images]
        for name in val_images:
            if not any(name in key for key in keys):
                known = [image.path.name for image in images]
                raise ArgumentError(f"--val-images {name!r} is not one of the source images"
                                    f"{did_you_mean(name, known)}: {', '.join(known[:8])}"
                                    f"{' ...' if count > 8 else ''}")
        return ["val" if set(val_images) & key else "train" for key in keys]
    chosen = round(val * count)
    if val > 0:
        if count < 2:
            raise ArgumentError(f"--val {val:g} needs two source images or more to split by "
                                f"image, and there is {count}; label another image for "
                                "validation (a photo the model never trains on), or pass "
                                "--val 0 and add a val split to data.yaml yourself")
        chosen = min(max(chosen, 1), count - 1)
    order = np.random.default_rng(seed).permutation(count)[:chosen]
    return ["val" if index in set(order.tolist()) else "train" for index in range(count)]


def _unique_stems(images: list[SourceImage]) -> list[str]:
    """A file name stem per source image, unique in the dataset (``a``, ``a-2``, ...) even on
    file systems that ignore case (``A.png`` and ``a.png`` would be one file there)."""
    used, stems = set(), []
    for image in images:
        stem, count = image.path.stem, 1
        while stem.casefold() in used:
            count += 1
            stem = f"{image.path.stem}-{count}"
        used.add(stem.casefold())
        stems.append(stem)
    return stems


def _label_text(boxes: np.ndarray, classes: list[int], width: int, height: int) -> str:
    """YOLO lines ``class cx cy w h`` (fractions of the image) for pixel xyxy ``boxes``."""
    relative = pixels_to_normalized(xyxy_to_cxcywh(boxes), width, height)
    return "".join(f"{label} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n"
                   for label, (cx, cy, w, h) in zip(classes, relative))


def _write_png(pixels: np.ndarray, path: Path) -> None:
    from PIL import Image

    write_atomically(path, lambda file: Image.fromarray(pixels).save(file, format="PNG"))


def _copy(source: Path, path: Path) -> None:
    with open(source, "rb") as original:
        write_atomically(path, lambda file: shutil.copyfileobj(original, file))


def _write_source(image: SourceImage, stem: str, split: str, out: Path, classes: list[str],
                  tile: int | None, overlap: float, min_area: float,
                  result: Conversion) -> None:
    """Write one source image's tiles (or the image itself) and their label files."""
    ids = [classes.index(name) for name in image.names]
    grid = tile_grid(image.width, image.height, tile, overlap) if tile else \
        [(0, 0, image.width, image.height)]
    pixels = load_checked_image(image.path) if len(grid) > 1 else None
    in_some_tile = np.zeros(len(image.boxes), dtype=bool)
    for x1, y1, x2, y2 in grid:
        clipped, kept = boxes_in_tile(image.boxes, (x1, y1, x2, y2))
        keep = kept >= max(min_area, np.nextafter(0, 1))  # a box outside the tile keeps 0
        in_some_tile |= keep
        small = int(((kept > 0) & ~keep).sum())
        if small:
            result.dropped[SMALL_PART] += small
        name = stem if len(grid) == 1 else f"{stem}_x{x1}_y{y1}"
        if pixels is not None:
            _write_png(pixels[y1:y2, x1:x2], out / "images" / split / f"{name}.png")
        elif image.path.suffix.lower() in IMAGE_SUFFIXES:
            _copy(image.path, out / "images" / split / (name + image.path.suffix.lower()))
        else:
            _write_png(load_checked_image(image.path), out / "images" / split / f"{name}.png")
        labels = [ids[i] for i in np.flatnonzero(keep)]
        text = _label_text(clipped[keep], labels, x2 - x1, y2 - y1)
        write_bytes_atomically(out / "labels" / split / f"{name}.txt", text.encode())
        result.tiles[split] += 1
        result.boxes[split].update(classes[label] for label in labels)
    if not in_some_tile.all():
        result.dropped[LOST_BOX] += int((~in_some_tile).sum())


def _data_yaml_text(out: Path, classes: list[str], splits: set[str]) -> str:
    names = "".join(f"  {i}: {json.dumps(name)}\n" for i, name in enumerate(classes))
    folders = "".join(f"{split}: images/{split}\n" for split in SPLITS if split in splits)
    return (f"# Written by ildl detect convert.\npath: {json.dumps(str(out.resolve()))}\n"
            f"{folders}nc: {len(classes)}\nnames:\n{names}")


def _refuse_full(out: Path, overwrite: bool) -> None:
    if not overwrite and out.is_dir() and any(out.iterdir()):
        raise OverwriteError(f"--out {out} is not empty; pass --overwrite to replace the "
                             "dataset in it, or choose another --out")


def _prepare_out(out: Path, found: Annotations, inputs: list, overwrite: bool) -> None:
    """Refuse an ``out`` that holds an input (an image, the labels, the images' folder) or,
    without ``overwrite``, anything; with it, remove the earlier dataset (``data.yaml`` first,
    so a half-removed one never looks complete)."""
    folder = os.path.realpath(out) + os.sep
    inside = [path for path in [*inputs, *(image.path for image in found.images)]
              if os.path.realpath(path).startswith(folder)]
    if inside:
        raise OverwriteError(f"--out {out}: holds an input ({inside[0]}); choose a new "
                             "folder, outside the source")
    if out.is_dir() and any(out.iterdir()):
        _refuse_full(out, overwrite)
        (out / "data.yaml").unlink(missing_ok=True)
        for folder in ("images", "labels"):
            shutil.rmtree(out / folder, ignore_errors=True)
    make_out_folder(str(out))


def convert_dataset(source: str | os.PathLike, out: str | os.PathLike, source_format: str,
                    names: list[str] | None = None, mapping: dict[str, str] | None = None,
                    tile: int | None = None, overlap: float = DEFAULT_OVERLAP,
                    min_area: float = DEFAULT_MIN_AREA, val: float | None = None, seed: int = 0,
                    val_images: list[str] | None = None, images: str | os.PathLike | None = None,
                    strict: bool = False, overwrite: bool = False) -> Conversion:
    """Convert ``source`` (``source_format``: voc, coco, csv or yolo) into a YOLO dataset in
    ``out``; see the module docstring for the steps and options. ``val`` defaults to 0.2
    unless ``val_images`` names the validation images. Returns the ``Conversion``.

    >>> result = convert_dataset("xml/", "trees", "voc", mapping={"Dead": "tree"})  # doctest: +SKIP
    >>> print(result.format_summary())                                           # doctest: +SKIP
    """
    mapping = {} if mapping is None else mapping
    _check_arguments(source, out, source_format, names, mapping, tile, overlap, min_area, val,
                     seed, val_images, images, strict, overwrite)
    val = DEFAULT_VAL if val is None and val_images is None else val
    found = READERS[source_format](Path(source), images)
    classes = _name_classes(found, names, mapping)
    _merge_same_files(found)
    _check_images(found)
    if strict and found.problems:
        raise DatasetError.of(found.problems[0])
    if not found.images:
        first = f" (the first: {found.problems[0]})" if found.problems else ""
        raise DatasetError(f"{source}: no usable labelled image; {len(found.problems)} "
                           f"problems{first}")
    found.images.sort(key=lambda image: str(image.path))
    splits = split_sources(found.images, val, seed, val_images)
    out = Path(out)
    _prepare_out(out, found, [source, *([images] if images is not None else [])], overwrite)
    result = Conversion(classes, out / "data.yaml", problems=found.problems)
    result.dropped.update(found.left_out)
    result.dropped.update(problem.reason for problem in found.problems)
    progress = ProgressBar(len(found.images), "convert", unit="images")
    for done, (image, stem, split) in enumerate(zip(found.images, _unique_stems(found.images),
                                                    splits), start=1):
        result.sources[split] += 1
        _write_source(image, stem, split, out, classes, tile, overlap, min_area, result)
        progress.update(done, done, {})
    progress.finish(len(found.images), len(found.images), {})
    write_bytes_atomically(result.data_yaml,
                           _data_yaml_text(out, classes, set(splits)).encode())
    return result
