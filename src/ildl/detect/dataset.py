"""Detection datasets in the YOLO/Ultralytics layout: a validated split, served to PyTorch.

``DetectionDataset("data.yaml", "train", imgsz=160)`` reads the yaml (``data_yaml``), checks
every label line (``labels``) and decodes every image (``images``) of the split
(``scan_split``; with ``cache=True`` the scan keeps each image letterboxed, so no image is
decoded twice), then serves samples: letterboxed (``letterbox``) and, for training, augmented
(``augment``).

**Validation.** A problem names the file and the line (``labels/train/a.txt:3: class out of
range: ...``). With ``strict=True`` the first problem raises ``DatasetError``. By default the
bad item is skipped and counted: a bad *line* (malformed, class out of range, box outside the
image, zero or negative size) is dropped and the rest of the image's objects kept; a bad *image*
(unreadable, corrupt, cut short, tiny, pixel values of no known range) or an undecodable label
file drops the whole image. ``summary()`` reports what was loaded and skipped; a split left with
no image, or with no object, raises ``DatasetError`` saying what was found.

**Samples.** ``DetectionDataset[i]`` is ``(image, targets)``: a float tensor (3, S, S) in [0, 1]
with ``S = imgsz``, and a float tensor (n, 5) of ``class, cx, cy, w, h`` normalised to that
square. Images are letterboxed: scaled so the longer side is S, and padded with grey to a square
(``Letterbox`` maps boxes back). ``collate`` makes batches for a ``DataLoader``. Training
augmentation (``Augment``) is mosaic, random scale/translate, HSV jitter and flips.

>>> data = DetectionDataset("shapes/data.yaml", "train", imgsz=160)  # doctest: +SKIP
>>> print(data.format_summary())                                     # doctest: +SKIP
>>> loader = torch.utils.data.DataLoader(data, batch_size=16, collate_fn=collate)  # doctest: +SKIP

Reading and validation need only NumPy, Pillow and PyYAML; torch is imported when tensors are
made. The names of the modules above are importable from here too, as they were when this
module held them all.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ArgumentError
from .augment import (
    Augment,
    clip_and_drop,
    colour_jitter,
    flip_left_right,
    flip_up_down,
    mosaic,
    random_affine,
)
from .boxes import pixels_to_normalized, xyxy_to_cxcywh
from .data_yaml import (
    IMAGE_SUFFIXES,
    MAX_CLASSES,
    MAX_YAML_BYTES,
    SPLIT_NAMES,
    DataConfig,
    image_files,
    label_path,
    load_data_yaml,
)
from .images import MIN_IMAGE_SIDE, check_image, load_checked_image, load_image
from .labels import BOX_TOLERANCE, parse_label_line, read_labels
from .letterbox import PAD_VALUE, Letterbox, letterbox
from .problems import DatasetError, Problem


@dataclass
class Example:
    """One usable image: its files, size (width, height) and objects (``cx cy w h`` in [0, 1]);
    ``square`` is the image letterboxed, when the scan kept it (``scan_split``'s ``cache_side``).
    """

    image: Path
    label: Path
    size: tuple[int, int]
    classes: np.ndarray  # (n,) int64
    boxes: np.ndarray  # (n, 4) float32
    square: np.ndarray | None = None  # (S, S, 3) uint8, S = cache_side


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
               strict: bool = False, cache_side: int | None = None) -> Split:
    """Check every image and label file of a split (see the module docstring for the policy).

    The check decodes every image; with ``cache_side`` each example keeps its image letterboxed
    to that side (``Example.square``), so a dataset that caches need not decode it again.
    """
    split = Split(name=name, names=list(names))

    def report(problem: Problem) -> None:
        if strict:
            raise DatasetError.of(problem)
        split.problems.append(problem)

    for image in images:
        labels = label_path(image)
        try:
            pixels = load_checked_image(image)
            classes, boxes, problems = read_labels(labels, split.names)
        except DatasetError as error:  # the whole image goes
            report(error.problem)
            split.skipped_images += 1
            continue
        for problem in problems:
            report(problem)
        split.missing_labels += not labels.exists()
        height, width = pixels.shape[:2]
        square = letterbox(pixels, cache_side)[0] if cache_side else None
        split.examples.append(Example(image, labels, (width, height), classes, boxes, square))
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

    ``cache=True`` keeps every image letterboxed in memory (S * S * 3 bytes each: 77 kB at
    160 px), as the scan that checks them decodes them, instead of decoding them at every use; a
    mosaic uses four images.
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
        self.split = scan_split(config.splits[split], config.names, split, strict,
                                cache_side=self.imgsz if cache else None)
        _require_usable(self.split, config)
        self.names = config.names
        # filled before any DataLoader worker starts, so the workers share it
        self._cache = [(example.square, example.classes,
                        self.letterbox_of(i).to_square(example.boxes))
                       for i, example in enumerate(self.split.examples)] if cache else None

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


__all__ = [
    # defined here
    "DetectionDataset", "Example", "Split", "collate", "scan_split",
    # problems
    "DatasetError", "Problem",
    # data_yaml
    "IMAGE_SUFFIXES", "MAX_CLASSES", "MAX_YAML_BYTES", "SPLIT_NAMES", "DataConfig",
    "image_files", "label_path", "load_data_yaml",
    # labels
    "BOX_TOLERANCE", "parse_label_line", "read_labels",
    # images
    "MIN_IMAGE_SIDE", "check_image", "load_checked_image", "load_image",
    # letterbox
    "PAD_VALUE", "Letterbox", "letterbox",
    # augment
    "Augment", "clip_and_drop", "colour_jitter", "flip_left_right", "flip_up_down", "mosaic",
    "random_affine",
]
