"""What a dataset asks of the training options, said before training starts.

Synthetic shapes never needed it; real photos do. Before the first epoch ``ildl detect train``
looks at the training split as the model will see it (every image letterboxed to ``imgsz``) and
says which option to change when the data call for it:

- **objects too small**: a box a few pixels wide at ``imgsz`` covers less than two cells of the
  finest grid (stride 4), and the detector cannot place it. Fix: a larger ``--imgsz``, or cut the
  images into tiles (``ildl detect convert --tile``), which keeps the objects' pixels;
- **more objects in an image than the detector reports** (``MAX_DETECTIONS``, 300): the rest can
  never be found. Fix: tiles;
- **a batch larger than the dataset**: one optimizer step per epoch sees every image, and
  training takes few steps. Fix: a smaller ``--batch``;
- **classes of very different counts**: mAP averages the classes, so a rare class weighs as
  much as a common one while the loss sees it rarely. Said, so the per-class AP is read with it.

After training (and when ``val`` or ``predict`` find nothing), ``young_model_advice`` says when a
detector is too young to detect: trained from scratch, it finds next to nothing in its first
epochs.

>>> sizes = np.array([[4.0, 5.0], [6.0, 3.0]])         # (N, 2) object sides at imgsz, pixels
>>> small_objects_advice(sizes, imgsz=320).split(" or less")[0]
'half the training objects are 3.5 pixels'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .dataset import Split
from .inference import MAX_DETECTIONS

# Below this median side (pixels at imgsz) an object spans under two cells of the stride-4 grid.
SMALL_OBJECT_SIDE = 8.0
# A class this many times rarer than the commonest is worth a word.
IMBALANCE_RATIO = 10
# Below this best validation mAP@0.5 a detector finds next to nothing at predict's threshold.
YOUNG_MAP50 = 0.05


def object_sides(split: Split, imgsz: int) -> np.ndarray:
    """Width and height (N, 2) of every object of ``split`` in pixels of the model's input:
    labels are fractions of their image, and the letterbox scales the image's longer side to
    ``imgsz``."""
    sides = [example.boxes[:, 2:4] * np.array(example.size) * imgsz / max(example.size)
             for example in split.examples if len(example.boxes)]
    return np.concatenate(sides) if sides else np.zeros((0, 2))


def small_objects_advice(sides: np.ndarray, imgsz: int) -> str | None:
    """Advice when the median shorter side of the objects is below ``SMALL_OBJECT_SIDE``."""
    if not len(sides):
        return None
    # to a tenth of a pixel, as said: float32 labels put 8.0 a hair below 8
    median = round(float(np.median(sides.min(axis=1))), 1)
    if median >= SMALL_OBJECT_SIDE:
        return None
    larger = int(np.ceil(round(imgsz * SMALL_OBJECT_SIDE / median / 32, 3)) * 32)
    return (f"half the training objects are {median:.1f} pixels or less on their shorter side "
            f"at --imgsz {imgsz}, too small for the finest grid (cells of 4 pixels): train at "
            f"--imgsz {larger}, or cut the images into tiles first (ildl detect convert --tile "
            f"{imgsz})")


def crowded_images_advice(counts: Sequence[int]) -> str | None:
    """Advice when an image holds more objects than the detector reports per image."""
    most = max(counts, default=0)
    if most <= MAX_DETECTIONS:
        return None
    crowded = sum(count > MAX_DETECTIONS for count in counts)
    return (f"{crowded} training image(s) hold more than {MAX_DETECTIONS} objects (up "
            f"to {most}), more than the detector reports per image: cut them into tiles "
            f"(ildl detect convert --tile)")


def batch_advice(images: int, batch: int) -> str | None:
    """Advice when a batch (of more than one image) is larger than half the training images."""
    if batch == 1 or 2 * batch <= images:
        return None
    smaller = max(1, images // 4)
    return (f"--batch {batch} with {images} training images gives {max(1, images // batch)} "
            f"optimizer step(s) per epoch: few steps per minute of training; try --batch "
            f"{smaller}")


def imbalance_advice(objects_per_class: dict[str, int]) -> str | None:
    """A word when the rarest class present is ``IMBALANCE_RATIO`` times rarer than the
    commonest."""
    present = {name: count for name, count in objects_per_class.items() if count}
    if len(present) < 2:
        return None
    rarest, commonest = min(present, key=present.get), max(present, key=present.get)
    if present[commonest] < IMBALANCE_RATIO * present[rarest]:
        return None
    return (f"class '{rarest}' has {present[rarest]} training objects and '{commonest}' "
            f"{present[commonest]}: mAP weighs every class the same, so read the per-class AP "
            f"(ildl detect val) before trusting the mean")


def training_advice(split: Split, imgsz: int, batch: int) -> list[str]:
    """Every piece of advice the training ``split`` calls for at these options (may be empty)."""
    counts = [len(example.classes) for example in split.examples]
    advice = [small_objects_advice(object_sides(split, imgsz), imgsz),
              crowded_images_advice(counts),
              batch_advice(len(split.examples), batch),
              imbalance_advice(split.summary()["objects_per_class"])]
    return [line for line in advice if line]


def young_model_advice(history: Sequence[dict]) -> str | None:
    """Advice for a detector whose best validation mAP@0.5 over its ``history`` (one dict per
    epoch, with "map50") is below ``YOUNG_MAP50``: it needs more epochs, not other options."""
    scores = [entry["map50"] for entry in history if np.isfinite(entry.get("map50", np.nan))]
    if not scores or max(scores) >= YOUNG_MAP50:  # unmeasured (no labelled val images): unknown
        return None
    return (f"the best validation mAP50 after {len(history)} epoch(s) is {max(scores):.3f}: "
            "this detector "
            "is too young to detect (trained from scratch, it finds next to nothing in its first "
            "epochs; the synthetic shapes reach mAP50 0.3 after about 5 epochs and 0.8 after 24, "
            "photos need 100 or more); train longer from the start, e.g. --epochs 100 "
            "--overwrite")
