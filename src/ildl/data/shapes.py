"""Synthetic shapes for object detection and segmentation: scenes, YOLO datasets and videos.

A scene is a cluttered background with a few coloured shapes on it (circles, squares, triangles,
and optionally stars, crosses and hexagons). Everything a detector should cope with is there:

- **scale**: object diameters from about 7% to 50% of the image side (log-uniform, so small
  objects are as common as large ones);
- **colour**: every object gets a random colour, independent of its class, so only the *shape*
  tells the classes apart; fills are solid, gradient, striped or outlined;
- **rotation and mild squash**: shapes are rotated and squeezed a little (a cheap perspective);
- **occlusion**: objects overlap; later objects hide earlier ones; an object's box and mask
  describe its *visible* part, and an object more than 70% hidden is not drawn at all;
- **clutter**: gradient and noisy backgrounds, stripes, lines, scribbles, arcs, irregular blobs and
  specks (none of them is an object), pixel noise and blur;
- **empty images** (8% by default): a detector must learn to say "nothing here".

Shapes are drawn as polygons with Pillow and painted with NumPy; no torch is needed.

>>> rng = np.random.default_rng(0)
>>> scene = make_scene(rng, size=160)
>>> scene.image.shape, scene.boxes.shape[1], scene.masks.shape[1:]
((160, 160, 3), 4, (160, 160))

``write_dataset`` writes scenes in the YOLO/Ultralytics layout (see its docstring for the files
and the mask format); ``make_video`` renders shapes moving, bouncing and crossing each other, with
the ground truth of every frame.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..atomic import write_bytes_atomically
from ..errors import ArgumentError, OverwriteError

DEFAULT_CLASSES = ("circle", "square", "triangle")
SPLITS = ("train", "val")
MAX_SIDE = 4096  # pixels: a larger scene (48 MB and up) is a typo, not a dataset


# --- shape outlines: polygons around (0, 0) with circumradius about 1 ------------------------


def _regular(corners: int, rng: np.random.Generator, jitter: float = 0.0) -> np.ndarray:
    """A regular polygon with ``corners`` vertices on the unit circle, each moved by ``jitter``."""
    angles = np.arange(corners) * 2 * np.pi / corners
    points = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return points + rng.uniform(-jitter, jitter, size=points.shape)


def _circle(rng: np.random.Generator) -> np.ndarray:
    return _regular(48, rng)  # 48 sides: round at every size we draw


def _square(rng: np.random.Generator) -> np.ndarray:
    return _regular(4, rng, jitter=0.04)


def _triangle(rng: np.random.Generator) -> np.ndarray:
    return _regular(3, rng, jitter=0.08)


def _hexagon(rng: np.random.Generator) -> np.ndarray:
    return _regular(6, rng, jitter=0.03)


def _star(rng: np.random.Generator) -> np.ndarray:
    outer = _regular(10, rng, jitter=0.03)
    outer[1::2] *= rng.uniform(0.38, 0.5)  # every other vertex pulled in: the star's notches
    return outer


def _cross(rng: np.random.Generator) -> np.ndarray:
    arm = rng.uniform(0.25, 0.4)  # half the arm's thickness
    quarter = np.array([[1, -arm], [1, arm], [arm, arm]])  # one arm's tip and the inner corner
    turns = [quarter @ np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
             for t in np.arange(4) * np.pi / 2]
    return np.concatenate(turns)


SHAPES: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "circle": _circle,
    "square": _square,
    "triangle": _triangle,
    "star": _star,
    "cross": _cross,
    "hexagon": _hexagon,
}


# --- objects and scenes ----------------------------------------------------------------------


@dataclass
class Shape:
    """One object to draw: its class, outline, pose and look (all lengths in pixels)."""

    label: int  # class index into the scene's class names
    outline: np.ndarray  # (k, 2) polygon around (0, 0), circumradius about 1
    x: float  # centre
    y: float
    radius: float
    angle: float  # radians
    squash: float  # <= 1: the outline is squeezed along its own y axis
    colour: np.ndarray  # (3,) RGB in [0, 255]
    style: str  # "solid", "gradient", "striped" or "outlined"
    second: np.ndarray  # (3,) the other colour of gradients, stripes and outlines
    direction: float  # radians: direction of the gradient or stripes

    def polygon(self) -> np.ndarray:
        """The outline placed in the image: (k, 2) pixel coordinates (x, y)."""
        points = self.outline * np.array([1.0, self.squash]) * self.radius
        cos, sin = np.cos(self.angle), np.sin(self.angle)
        return points @ np.array([[cos, sin], [-sin, cos]]) + np.array([self.x, self.y])


class Scene(NamedTuple):
    """One scene; unpack it as ``image, boxes, classes, masks = scene`` or use the names."""

    image: np.ndarray  # (H, W, 3) uint8
    boxes: np.ndarray  # (n, 4) float32: normalised cx, cy, w, h of each object's visible pixels
    classes: np.ndarray  # (n,) int64 class indices
    masks: np.ndarray  # (n, H, W) bool: each object's visible pixels (masks never overlap)


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    """One HSV colour (all in [0, 1]) as RGB in [0, 255]."""
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return np.array(rgb) * 255


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    # A tenth of the colours are greys: colour is never needed to find an object.
    saturation = 0.0 if rng.random() < 0.1 else rng.uniform(0.3, 1.0)
    return _hsv_to_rgb(rng.random(), saturation, rng.uniform(0.2, 1.0))


def _random_shape(rng: np.random.Generator, label: int, kind: str, width: int, height: int,
                  min_scale: float, max_scale: float) -> Shape:
    side = min(width, height)
    # log-uniform diameter: as many small objects as large ones
    diameter = side * np.exp(rng.uniform(np.log(min_scale), np.log(max_scale)))
    return Shape(
        label=label, outline=SHAPES[kind](rng),
        x=rng.uniform(0.05, 0.95) * width, y=rng.uniform(0.05, 0.95) * height,
        radius=diameter / 2, angle=rng.uniform(0, 2 * np.pi),
        squash=rng.uniform(0.8, 1.0), colour=_random_colour(rng),
        style=str(rng.choice(["solid", "solid", "gradient", "striped", "outlined"])),
        second=_random_colour(rng), direction=rng.uniform(0, 2 * np.pi))


def _polygon_mask(polygon: np.ndarray, width: int, height: int) -> np.ndarray:
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (width, height), 0)
    ImageDraw.Draw(canvas).polygon([tuple(p) for p in polygon], fill=1)
    return np.asarray(canvas, dtype=bool)


def _fill(shape: Shape, mask: np.ndarray) -> np.ndarray:
    """The colours of the object's pixels ``mask``: (m, 3) float, for its fill style."""
    ys, xs = np.nonzero(mask)
    if shape.style == "solid":
        return np.broadcast_to(shape.colour, (len(xs), 3))
    along = ((xs - shape.x) * np.cos(shape.direction) + (ys - shape.y) * np.sin(shape.direction))
    if shape.style == "gradient":
        t = np.clip(along / (2 * shape.radius) + 0.5, 0, 1)[:, None]
        return (1 - t) * shape.colour + t * shape.second
    if shape.style == "striped":
        period = max(3.0, shape.radius / 2)
        stripe = (np.floor(along / period) % 2).astype(bool)[:, None]
        return np.where(stripe, shape.second, shape.colour)
    # outlined: a border 1-2 px thick in the second colour
    from PIL import Image, ImageFilter

    inner = Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MinFilter(3))
    border = ~np.asarray(inner, dtype=bool)[ys, xs][:, None]
    return np.where(border, shape.second, shape.colour)


def _contrast(colour: np.ndarray, image: np.ndarray, mask: np.ndarray) -> float:
    """RGB distance between a colour and the mean of the image under the mask."""
    return float(np.linalg.norm(colour - image[mask].mean(axis=0)))


def mask_boxes(masks: np.ndarray) -> np.ndarray:
    """Boxes around masks: (n, H, W) bool -> (n, 4) normalised ``cx, cy, w, h`` (float32).

    A box spans pixel edges: a mask covering columns 3..5 gives x from 3 to 6.
    """
    n, height, width = masks.shape
    boxes = np.zeros((n, 4), dtype=np.float32)
    for i, mask in enumerate(masks):
        columns = np.flatnonzero(mask.any(axis=0))
        rows = np.flatnonzero(mask.any(axis=1))
        x0, x1, y0, y1 = columns[0], columns[-1] + 1, rows[0], rows[-1] + 1
        boxes[i] = ((x0 + x1) / 2 / width, (y0 + y1) / 2 / height,
                    (x1 - x0) / width, (y1 - y0) / height)
    return boxes


def render(shapes: Sequence[Shape], background: np.ndarray, occlusion_limit: float = 0.7,
           min_pixels: int = 12, paint_hidden: bool = False, rng: np.random.Generator | None = None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Paint ``shapes`` (first = bottom) on a copy of ``background`` (H, W, 3).

    Returns the image (float, H, W, 3), the visible masks (n, H, W) of the objects that count,
    their class indices (n,) and their positions in ``shapes``. An object counts when at most
    ``occlusion_limit`` of its in-image area is hidden by objects above it and it keeps at least
    ``min_pixels`` visible pixels, 3 px wide and high. Objects that do not count are not painted
    (no unlabelled object is ever visible), unless ``paint_hidden`` (videos, where an object
    passing behind another must not blink). ``rng`` (optional) resamples colours that would
    hardly differ from the background under the object.
    """
    height, width = background.shape[:2]
    full = [_polygon_mask(shape.polygon(), width, height) for shape in shapes]
    # From the top down: what is above an object is decided before the object itself, and
    # dropping an object only uncovers objects below it, which are looked at later.
    cover = np.zeros((height, width), dtype=bool)
    kept = []
    for index in reversed(range(len(shapes))):
        area = full[index].sum()
        visible = full[index] & ~cover
        rows, columns = visible.any(axis=1).sum(), visible.any(axis=0).sum()
        counts = (area > 0 and visible.sum() >= max(min_pixels, (1 - occlusion_limit) * area)
                  and rows >= 3 and columns >= 3)
        if counts:
            kept.append(index)
        if counts or paint_hidden:
            cover |= full[index]
    kept.reverse()
    painted = kept if not paint_hidden else [i for i in range(len(shapes)) if full[i].any()]
    image = background.astype(np.float64)
    for index in painted:
        shape = shapes[index]
        if rng is not None:
            for _ in range(8):  # a visible object: try a few colours against what is below it
                if _contrast(shape.colour, image, full[index]) > 60:
                    break
                shape.colour = _random_colour(rng)
        image[full[index]] = _fill(shape, full[index])
    # visible mask = own pixels minus those of every painted object above it
    above = np.zeros((height, width), dtype=bool)
    visible_masks = {}
    for index in reversed(range(len(shapes))):
        if index in painted:
            visible_masks[index] = full[index] & ~above
            above |= full[index]
    masks = np.array([visible_masks[i] for i in kept], dtype=bool).reshape(-1, height, width)
    labels = np.array([shapes[i].label for i in kept], dtype=np.int64)
    return image, masks, labels, kept


# --- backgrounds and clutter -----------------------------------------------------------------


def _smooth_noise(rng: np.random.Generator, width: int, height: int, cells: int,
                  channels: int = 3) -> np.ndarray:
    """Noise that varies over about ``cells`` cells across: (H, W, channels) float in [0, 1]."""
    from PIL import Image

    grid = (rng.random((cells, cells, channels)) * 255).astype(np.uint8)
    mode = "RGB" if channels == 3 else "L"
    image = Image.fromarray(grid.squeeze(), mode=mode).resize((width, height),
                                                                Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.float64).reshape(height, width, channels) / 255


def _background(rng: np.random.Generator, width: int, height: int, clutter: bool) -> np.ndarray:
    """A gradient between two colours, plus (with clutter) texture and distractors."""
    ys, xs = np.mgrid[0:height, 0:width]
    direction = rng.uniform(0, 2 * np.pi)
    t = (xs * np.cos(direction) + ys * np.sin(direction)) / max(width, height)
    t = ((t - t.min()) / max(np.ptp(t), 1e-9))[..., None]
    image = (1 - t) * _random_colour(rng) + t * _random_colour(rng)
    if not clutter:
        return image
    texture = rng.choice(["none", "noise", "stripes"], p=[0.3, 0.5, 0.2])
    if texture == "noise":
        cells = int(rng.integers(3, 24))
        image += (_smooth_noise(rng, width, height, cells) - 0.5) * rng.uniform(30, 120)
    elif texture == "stripes":
        angle, period = rng.uniform(0, np.pi), rng.uniform(4, 20)
        wave = np.sin((xs * np.cos(angle) + ys * np.sin(angle)) * 2 * np.pi / period)
        image += wave[..., None] * rng.uniform(10, 40)
    return _distractors(rng, np.clip(image, 0, 255))


def _distractors(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """Lines, scribbles, arcs, irregular blobs and specks: things that are not objects."""
    from PIL import Image, ImageDraw

    height, width = image.shape[:2]
    canvas = Image.fromarray(image.astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    side = min(width, height)

    def colour() -> tuple[int, ...]:
        return tuple(int(c) for c in _random_colour(rng))

    def point() -> tuple[float, float]:
        return (float(rng.uniform(-0.1, 1.1) * width), float(rng.uniform(-0.1, 1.1) * height))

    for _ in range(int(rng.integers(0, 7))):
        kind = rng.choice(["line", "scribble", "arc", "specks"])
        thickness = int(rng.integers(1, 4))
        if kind == "line":
            draw.line([point(), point()], fill=colour(), width=thickness)
        elif kind == "scribble":
            start = np.array(point())
            steps = rng.normal(0, side / 8, size=(int(rng.integers(3, 8)), 2)).cumsum(axis=0)
            draw.line([tuple(p) for p in start + steps], fill=colour(), width=thickness,
                      joint="curve")
        elif kind == "arc":
            x, y = point()
            r = rng.uniform(0.05, 0.3) * side
            start = rng.uniform(0, 360)
            draw.arc([x - r, y - r, x + r, y + r], start, start + rng.uniform(40, 200),
                     fill=colour(), width=thickness)
        else:
            for _ in range(int(rng.integers(5, 40))):
                x, y = point()
                r = rng.uniform(0.5, 1.5)  # specks stay far smaller than the smallest object
                draw.ellipse([x - r, y - r, x + r, y + r], fill=colour())
    image = np.asarray(canvas, dtype=np.float64).copy()
    if rng.random() < 0.5:
        # irregular blobs: smooth noise plus finer noise, thresholded, so edges are ragged and
        # never the clean outline of a shape
        field = _smooth_noise(rng, width, height, int(rng.integers(4, 9)), 1)[..., 0]
        field += 0.35 * _smooth_noise(rng, width, height, int(rng.integers(20, 40)), 1)[..., 0]
        blobs = field > np.quantile(field, rng.uniform(0.85, 0.97))
        alpha = rng.uniform(0.4, 1.0)
        image[blobs] = (1 - alpha) * image[blobs] + alpha * _random_colour(rng)
    return image


def _finish(rng: np.random.Generator, image: np.ndarray, clutter: bool) -> np.ndarray:
    """Pixel noise and a little blur (with clutter), then uint8."""
    from PIL import Image, ImageFilter

    if clutter:
        image = image + rng.normal(0, rng.uniform(0, 8), size=image.shape)
    result = Image.fromarray(np.clip(image, 0, 255).round().astype(np.uint8))
    if clutter and rng.random() < 0.3:
        result = result.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8)))
    return np.asarray(result)


def _check_classes(classes: Sequence[str]) -> tuple[str, ...]:
    unknown = [name for name in classes if name not in SHAPES]
    if not classes or unknown:
        raise ArgumentError(f"classes must be names from {sorted(SHAPES)}, got {list(classes)!r}")
    if len(set(classes)) != len(classes):
        raise ArgumentError(f"classes must not repeat, got {list(classes)!r}")
    return tuple(classes)


def _image_size(size: int | tuple[int, int]) -> tuple[int, int]:
    """``size`` (side, or (height, width)) as (width, height)."""
    height, width = (size, size) if isinstance(size, int | np.integer) else size
    if not (32 <= height <= MAX_SIDE and 32 <= width <= MAX_SIDE):
        raise ArgumentError(f"image sides must be from 32 to {MAX_SIDE} pixels, got {size!r}")
    return int(width), int(height)


def make_scene(rng: np.random.Generator, size: int | tuple[int, int] = 160,
               classes: Sequence[str] = DEFAULT_CLASSES, max_objects: int = 6,
               min_scale: float = 0.07, max_scale: float = 0.5, empty_probability: float = 0.08,
               occlusion_limit: float = 0.7, clutter: bool = True) -> Scene:
    """One random scene: ``(image, boxes, classes, masks)`` (see ``Scene``).

    ``size`` is the side, or (height, width). Objects: 1 to ``max_objects`` (none with
    ``empty_probability``), classes drawn uniformly from ``classes`` (names of ``SHAPES``),
    diameters from ``min_scale`` to ``max_scale`` of the shorter side. Objects hidden more than
    ``occlusion_limit`` are left out; the returned count can be below the drawn one.
    """
    classes = _check_classes(classes)
    width, height = _image_size(size)
    if not 0 < min_scale <= max_scale <= 2:
        raise ArgumentError(f"need 0 < min_scale <= max_scale <= 2, got {min_scale}, {max_scale}")
    if not 1 <= max_objects <= 255:
        raise ArgumentError(f"max_objects (--max-objects) must be in 1..255, got {max_objects}")
    background = _background(rng, width, height, clutter)
    count = 0 if rng.random() < empty_probability else int(rng.integers(1, max_objects + 1))
    labels = rng.integers(0, len(classes), size=count)
    shapes = [_random_shape(rng, int(label), classes[label], width, height, min_scale, max_scale)
              for label in labels]
    image, masks, labels, _ = render(shapes, background, occlusion_limit, rng=rng)
    return Scene(_finish(rng, image, clutter), mask_boxes(masks), labels, masks)


# --- datasets in the YOLO layout -------------------------------------------------------------


def _label_text(boxes: np.ndarray, classes: np.ndarray) -> str:
    return "".join(f"{c} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n"
                   for c, (cx, cy, w, h) in zip(classes.tolist(), boxes.tolist()))


def instance_map(masks: np.ndarray) -> np.ndarray:
    """Disjoint masks (n, H, W) -> (H, W) uint8: 0 background, k = object k (1-based)."""
    result = np.zeros(masks.shape[1:], dtype=np.uint8)
    for k, mask in enumerate(masks, start=1):
        result[mask] = k
    return result


def read_masks(path: str | os.PathLike) -> np.ndarray:
    """A mask PNG written by ``write_dataset`` -> (n, H, W) bool, in label-file line order.

    The object count comes from the largest value; an object hidden completely (impossible in
    written scenes) would give an empty mask.
    """
    from PIL import Image

    with Image.open(path) as image:
        instances = np.asarray(image)
    return np.stack([instances == k for k in range(1, int(instances.max(initial=0)) + 1)]
                    ).reshape(-1, *instances.shape)


def _data_yaml(root: Path, classes: Sequence[str], counts: dict[str, int]) -> str:
    names = "".join(f"  {i}: {name}\n" for i, name in enumerate(classes))
    return ("# Synthetic shapes written by ildl.data.shapes.write_dataset "
            f"({counts['train']} train, {counts['val']} val images).\n"
            "# masks/<split>/<stem>.png: uint8 instance map, 0 = background, k = the object on\n"
            "# line k of labels/<split>/<stem>.txt (visible pixels only; masks never overlap).\n"
            f"path: {root.resolve()}\n"
            "train: images/train\n"
            "val: images/val\n"
            f"nc: {len(classes)}\n"
            f"names:\n{names}")


def _write_image(array: np.ndarray, path: Path, image_format: str) -> None:
    from PIL import Image

    if image_format == "png":
        Image.fromarray(array).save(path, compress_level=1)  # fast; files stay small enough
    else:
        Image.fromarray(array).save(path, quality=92)


def _write_example(root: Path, split: str, index: int, seed: int, image_format: str,
                   scene_options: dict) -> None:
    # One generator per image, from (seed, split, index): the validation images do not change
    # when n_train does, and any image can be regenerated on its own.
    rng = np.random.default_rng([seed, SPLITS.index(split), index])
    image, boxes, classes, masks = make_scene(rng, **scene_options)
    stem = f"{index:06d}"
    _write_image(image, root / "images" / split / f"{stem}.{image_format}", image_format)
    (root / "labels" / split / f"{stem}.txt").write_text(_label_text(boxes, classes),
                                                          encoding="utf-8")
    _write_image(instance_map(masks), root / "masks" / split / f"{stem}.png", "png")


def write_dataset(root: str | os.PathLike, n_train: int = 800, n_val: int = 200,
                  size: int | tuple[int, int] = 160, classes: Sequence[str] = DEFAULT_CLASSES,
                  seed: int = 0, image_format: str = "png", overwrite: bool = False,
                  workers: int = 2, **scene_options) -> Path:
    """Write a synthetic dataset in the YOLO/Ultralytics layout; returns the ``data.yaml`` path.

    Files (``<stem>`` = ``000000``, ``000001``, ...)::

        root/images/{train,val}/<stem>.png   the scenes (or .jpg with image_format="jpg")
        root/labels/{train,val}/<stem>.txt   one "class cx cy w h" line per object, normalised
                                             to [0, 1], 6 decimals; empty file = no objects
        root/masks/{train,val}/<stem>.png    8-bit instance map: 0 background, k = the object
                                             on line k of the label file (visible pixels)
        root/data.yaml                       path (absolute), train, val, nc, names (id: name)

    ``data.yaml`` is written last and atomically: a folder without it is an unfinished dataset
    (and an existing one is removed first, before any image is rewritten). With ``overwrite``
    the split folders are emptied first, so no image of an earlier, larger dataset survives;
    without it, a ``root`` that already holds a dataset raises ``FileExistsError``.
    ``scene_options`` go to ``make_scene`` (max_objects, min_scale, ...). ``workers`` threads
    render in parallel (Pillow and NumPy release the GIL for most of the work).

    >>> write_dataset("shapes", n_train=800, n_val=200)  # doctest: +SKIP
    PosixPath('shapes/data.yaml')
    """
    root = Path(root)
    classes = _check_classes(classes)
    if image_format not in ("png", "jpg"):
        raise ArgumentError(f"image_format must be 'png' or 'jpg', got {image_format!r}")
    # named as in Python and as on the command line (ildl detect make-dataset)
    for name, count in (("n_train (--train)", n_train), ("n_val (--val)", n_val),
                        ("seed", seed)):
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise ArgumentError(f"{name} must be a non-negative integer, got {count!r}")
    if n_train + n_val == 0:  # one split may be empty (a test set of val images only), not both
        raise ArgumentError("n_train (--train) and n_val (--val) are both 0: the dataset would "
                            "hold no image; ask for at least one (defaults: 800 and 200)")
    options = dict(scene_options, size=size, classes=classes)
    make_scene(np.random.default_rng(0), **options)  # bad options fail now, before any deletion
    folders = [root / kind / split for kind in ("images", "labels", "masks") for split in SPLITS]
    existing = (root / "data.yaml").exists() or any(f.exists() and any(f.iterdir())
                                                    for f in folders)
    if existing and not overwrite:
        raise OverwriteError(f"{root} already holds a dataset; pass overwrite=True "
                             "(ildl detect make-dataset --overwrite) to replace it")
    (root / "data.yaml").unlink(missing_ok=True)
    for folder in folders:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    jobs = [(split, index) for split, count in zip(SPLITS, (n_train, n_val))
            for index in range(count)]

    def write(job: tuple[str, int]) -> None:
        _write_example(root, job[0], job[1], seed, image_format, options)

    if workers > 1 and len(jobs) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(write, jobs))  # list(): re-raises the first error
    else:
        for job in jobs:
            write(job)
    path = root / "data.yaml"
    text = _data_yaml(root, classes, {"train": n_train, "val": n_val})
    write_bytes_atomically(path, text.encode())
    return path


# --- videos ----------------------------------------------------------------------------------


@dataclass
class Video:
    """Frames of moving shapes and the ground truth of every frame.

    frames:  list of (H, W, 3) uint8
    boxes:   per frame, (n, 4) normalised ``cx, cy, w, h`` of the visible objects
    classes: per frame, (n,) class indices
    tracks:  per frame, (n,) which object (0..n_objects-1) each box belongs to
    """

    frames: list[np.ndarray]
    boxes: list[np.ndarray]
    classes: list[np.ndarray]
    tracks: list[np.ndarray]
    names: tuple[str, ...]


def _reflect(position: float, speed: float, low: float, high: float) -> tuple[float, float]:
    """One coordinate after a step: past ``low`` or ``high`` it stops there and turns back."""
    if position < low:
        return low, abs(speed)
    if position > high:
        return high, -abs(speed)
    return position, speed


def _bounce(shape: Shape, velocity: np.ndarray, width: int, height: int) -> None:
    """Move one step; the centre stays half a radius inside the image, bouncing off the edges."""
    margin = 0.5 * shape.radius
    shape.x, velocity[0] = _reflect(shape.x + velocity[0], velocity[0], margin, width - margin)
    shape.y, velocity[1] = _reflect(shape.y + velocity[1], velocity[1], margin, height - margin)


def make_video(path: str | os.PathLike | None = None, n_frames: int = 48,
               size: int | tuple[int, int] = 160, n_objects: int = 4,
               classes: Sequence[str] = DEFAULT_CLASSES, seed: int = 0, fps: float = 12,
               clutter: bool = True) -> Video:
    """Shapes moving over a still, cluttered background: they bounce off the borders, spin,
    and cross each other (a fixed depth order, so crossings occlude).

    Writes a GIF or MP4 to ``path`` (by its extension) when given. In each frame an object
    hidden more than 70% is left out of the ground truth (it stays drawn: it cannot blink out
    of the video), and so is an object smaller than 12 visible pixels. Same seed, same video.

    >>> video = make_video(n_frames=10, seed=1)
    >>> len(video.frames), video.frames[0].shape
    (10, (160, 160, 3))
    """
    # ildl.graphics writes the frames: media I/O that sits below data (data never imports viz)
    from ..graphics import animation_format, write_frames

    classes = _check_classes(classes)
    width, height = _image_size(size)
    if n_frames < 1 or n_objects < 1:
        raise ArgumentError(f"need n_frames >= 1 and n_objects >= 1, got {n_frames}, {n_objects}")
    if path is not None:
        animation_format(path)  # a wrong extension is refused before any frame is drawn
    rng = np.random.default_rng(seed)
    background = _background(rng, width, height, clutter)
    # every class appears when there are enough objects; the order of depth is random
    labels = rng.permutation(np.arange(n_objects) % len(classes))
    shapes = [_random_shape(rng, int(label), classes[label], width, height, 0.12, 0.3)
              for label in labels]
    for shape in shapes:
        shape.x = rng.uniform(0.2, 0.8) * width
        shape.y = rng.uniform(0.2, 0.8) * height
    speed = rng.uniform(0.01, 0.025, size=n_objects) * min(width, height)
    heading = rng.uniform(0, 2 * np.pi, size=n_objects)
    velocities = np.stack([speed * np.cos(heading), speed * np.sin(heading)], axis=1)
    spins = rng.uniform(-0.08, 0.08, size=n_objects)
    noise_rng = np.random.default_rng([seed, 1])  # pixel noise: its own stream
    video = Video([], [], [], [], classes)
    for frame in range(n_frames):
        # colours are checked against the background once, on the first frame: an object
        # must not change colour mid-video
        image, masks, frame_labels, kept = render(shapes, background, paint_hidden=True,
                                                  rng=rng if frame == 0 else None)
        video.frames.append(_finish(noise_rng, image, clutter))
        video.boxes.append(mask_boxes(masks))
        video.classes.append(frame_labels)
        video.tracks.append(np.array(kept, dtype=np.int64))
        for shape, velocity, spin in zip(shapes, velocities, spins):
            _bounce(shape, velocity, width, height)
            shape.angle += spin
    if path is not None:
        write_frames(video.frames, path, fps=fps)
    return video


__all__ = ["DEFAULT_CLASSES", "SHAPES", "Scene", "Shape", "Video", "instance_map", "make_scene",
           "make_video", "mask_boxes", "read_masks", "render", "write_dataset"]
