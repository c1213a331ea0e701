"""What a training run's folder shows besides its checkpoints, in the files Ultralytics writes.

=========================  ==================================================================
``args.yaml``              the run's ``TrainConfig``, every field (written when training
                           starts): ``TrainConfig(**yaml.safe_load(file))`` makes it again
``results.csv``            one row per epoch: losses, P, R, mAPs, learning rates, time
``results.png``            those columns as curves, one small panel each
``train_batch0.jpg`` ...   the first ``TRAIN_BATCHES`` training batches as the model sees them
                           (augmented), with their labels drawn: a wrong label conversion shows
``val_batch0_labels.jpg``  the first validation images with their labels, and
``val_batch0_pred.jpg``    with the best weights' detections (drawn as ``predict`` draws them)
=========================  ==================================================================

``results.csv`` and ``results.png`` are written again, whole and atomically, after every epoch
from ``Trainer.history``, the list of epoch records that ``last.pt`` carries. So the file always
shows the epochs of the checkpoint a ``--resume`` continues from: no epoch twice and none missing,
even when a run was killed between writing ``last.pt`` and the table. The figure is redrawn every
epoch too (about half a second, measured under load), so a long run can be watched, and one
stopped by a time limit, Ctrl-C or a crash still has it. Boxes are drawn by
``predict.draw_detections``.

>>> write_results("runs/shapes", trainer.history)                  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import asdict

import numpy as np

from ..atomic import write_bytes_atomically
from .boxes import cxcywh_to_xyxy
from .config import TrainConfig
from .inference import detect_frames
from .predict import draw_detections

#: results.csv's first columns, Ultralytics' names, and the key of a ``Trainer.history`` entry
#: each is read from; then ``lr/pg0``, ``lr/pg1``, ...: entry ``lr``, the learning rate of each
#: optimizer parameter group at the epoch's last step. (Ultralytics also logs validation losses,
#: which ``evaluate`` does not compute.)
RESULTS_COLUMNS = {"epoch": "epoch", "time": "time", "train/box_loss": "box",
                   "train/obj_loss": "obj", "train/cls_loss": "cls",
                   "metrics/precision(B)": "precision", "metrics/recall(B)": "recall",
                   "metrics/mAP50(B)": "map50", "metrics/mAP50-95(B)": "map50_95"}
#: Panels of results.png, left to right and top to bottom ("lr" holds every lr/pg column).
PANELS = (("train/box_loss", "train/obj_loss", "train/cls_loss", "lr"),
          ("metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)",
           "metrics/mAP50-95(B)"))
TRAIN_BATCHES = 3  # train_batch0.jpg, train_batch1.jpg, train_batch2.jpg (as Ultralytics)
MOSAIC_IMAGES = 16  # images per mosaic, at most (a 4 x 4 grid)
# Each image of a mosaic is enlarged by a whole factor (pixels stay sharp) to at least this side,
# so that a 160-pixel input still shows its boxes' class names legibly.
SMALLEST_TILE = 320
REPORT_FILES = ("args.yaml", "results.csv", "results.png",
                *(f"train_batch{index}.jpg" for index in range(TRAIN_BATCHES)),
                "val_batch0_labels.jpg", "val_batch0_pred.jpg")


def write_args(out: str, config: TrainConfig) -> str:
    """Write ``out/args.yaml``: every field of ``config``, in its order; returns the path."""
    import yaml

    path = os.path.join(out, "args.yaml")
    write_bytes_atomically(path, yaml.safe_dump(asdict(config), sort_keys=False).encode())
    return path


# -- results.csv and results.png ---------------------------------------------------------------


def results_columns(history: list[dict]) -> dict[str, list[float | None]]:
    """The table of ``history``: column name -> one value per epoch (None where an entry lacks
    the key, as in the history of a checkpoint written before these columns existed)."""
    groups = max((len(entry.get("lr", ())) for entry in history), default=0)
    columns = {name: [entry.get(key) for entry in history]
               for name, key in RESULTS_COLUMNS.items()}
    for group in range(groups):
        columns[f"lr/pg{group}"] = [entry["lr"][group] if len(entry.get("lr", ())) > group
                                    else None for entry in history]
    return columns


def _cell(value: float | None) -> str:
    # Six significant digits, as Ultralytics writes them; an empty cell for a missing value.
    return "" if value is None else f"{value:.6g}"


def write_results(out: str, history: list[dict], theme: str = "dark") -> None:
    """Write ``out/results.csv`` and ``out/results.png`` from ``history`` (``Trainer.history``:
    one dict per epoch), each whole and atomically."""
    from ..graphics import save_figure

    columns = results_columns(history)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(zip(*([_cell(value) for value in values] for values in columns.values())))
    write_bytes_atomically(os.path.join(out, "results.csv"), text.getvalue().encode())
    save_figure(results_figure(columns, theme), os.path.join(out, "results.png"))


def results_figure(columns: dict[str, list[float | None]], theme: str = "dark"):
    """Small multiples of the ``results_columns`` table against the epoch: the training losses
    and the learning rate(s) above, validation precision, recall and mAPs below.
    Returns a matplotlib Figure (not registered with pyplot)."""
    from matplotlib.figure import Figure

    from ..graphics import SERIES_COLORS, themed

    # blue, then red: both read on the dark and the light background (the yellow does not)
    line_colors = (SERIES_COLORS[3], SERIES_COLORS[1])
    epochs = columns["epoch"]
    marker = "o" if len(epochs) <= 30 else None  # a few epochs are points, many a line
    with themed(theme):
        figure = Figure(figsize=(12, 5.5), layout="constrained")
        for axes, name in zip(figure.subplots(*np.shape(PANELS)).flat, np.ravel(PANELS)):
            names = [key for key in columns if key.startswith("lr/")] if name == "lr" \
                else [name]
            for index, key in enumerate(names):
                values = [math.nan if value is None else value for value in columns[key]]
                # dashed after the first: groups that share one rate still show both lines
                axes.plot(epochs, values, marker=marker, markersize=3, linewidth=1.5,
                          linestyle="-" if index == 0 else "--",
                          color=line_colors[index % len(line_colors)], label=key)
            if len(names) > 1:
                axes.legend(fontsize=8)
            axes.set_title("learning rate" if name == "lr" else name)
            axes.set_xlabel("epoch")
            axes.grid(alpha=0.3)
            if name.startswith("metrics/"):  # fractions: the same scale in all four
                axes.set_ylim(-0.03, 1.03)
    return figure


# -- images with their boxes -------------------------------------------------------------------


def _enlarged(image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``image`` (S, S, 3) and its pixel ``boxes`` (n, 4), enlarged by the whole factor that
    brings S to at least ``SMALLEST_TILE`` (each pixel repeated: nothing is smoothed)."""
    factor = math.ceil(SMALLEST_TILE / image.shape[0])
    if factor == 1:
        return image, boxes
    return image.repeat(factor, axis=0).repeat(factor, axis=1), boxes * factor


def mosaic(images: list[np.ndarray], drawn: list[dict], names: list[str]) -> np.ndarray:
    """The first ``MOSAIC_IMAGES`` of ``images`` (each (S, S, 3) uint8) with their boxes
    ``drawn`` (dicts of ``boxes`` (n, 4) xyxy pixels, ``classes`` and optionally ``scores``, as
    ``draw_detections`` takes them), on a grid of columns = ceil(sqrt(count)), 3-pixel white
    borders. Returns (H, W, 3) uint8."""
    tiles = []
    for image, found in zip(images[:MOSAIC_IMAGES], drawn):
        image, boxes = _enlarged(image, np.asarray(found["boxes"], dtype=np.float64))
        tiles.append(draw_detections(image, {**found, "boxes": boxes}, names))
    border, side = 3, tiles[0].shape[0]
    across = math.ceil(math.sqrt(len(tiles)))
    down = math.ceil(len(tiles) / across)
    canvas = np.full((down * (side + border) + border, across * (side + border) + border, 3),
                     255, dtype=np.uint8)
    for index, tile in enumerate(tiles):
        top, left = (border + (side + border) * place for place in divmod(index, across))
        canvas[top:top + side, left:left + side] = tile
    return canvas


def _save_jpeg(pixels: np.ndarray, path: str) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    # Full-resolution colour (no 4:2:0 subsampling), or the thin coloured box outlines blur.
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90, subsampling=0)
    write_bytes_atomically(path, buffer.getvalue())
    return path


def write_train_batch(out: str, index: int, images, targets, names: list[str]) -> str:
    """Write ``out/train_batch{index}.jpg``: a training batch as the loader gives it, images
    (B, 3, S, S) floats in [0, 1] and targets (N, 6) rows ``[image, class, cx, cy, w, h]``
    normalised (``dataset.collate``'s tensors), with every label box and class name drawn.
    Returns the path."""
    images, targets = images.detach().cpu().numpy(), targets.detach().cpu().numpy()
    side = images.shape[-1]
    pixels = list((images.transpose(0, 2, 3, 1) * 255).round().astype(np.uint8))
    labels = [{"boxes": cxcywh_to_xyxy(targets[targets[:, 0] == image, 2:6] * side),
               "classes": targets[targets[:, 0] == image, 1].astype(np.int64)}
              for image in range(len(pixels))]
    return _save_jpeg(mosaic(pixels, labels, names), os.path.join(out,
                                                                  f"train_batch{index}.jpg"))


def write_val_batch(out: str, model, dataset, names: list[str]) -> tuple[str, str]:
    """Write ``out/val_batch0_labels.jpg`` and ``out/val_batch0_pred.jpg``: the first
    ``MOSAIC_IMAGES`` images of ``dataset`` (a ``DetectionDataset`` without augmentation) with
    their labels, and with the detections of ``model`` found and drawn as ``ildl detect
    predict`` finds and draws them (its default score threshold, 0.25). Returns the two
    paths."""
    loaded = [dataset.load(index) for index in range(min(len(dataset), MOSAIC_IMAGES))]
    images = [image for image, _, _ in loaded]
    labels = [{"boxes": boxes, "classes": classes} for _, classes, boxes in loaded]
    found = detect_frames(model, images, dataset.imgsz)
    return (_save_jpeg(mosaic(images, labels, names), os.path.join(out, "val_batch0_labels.jpg")),
            _save_jpeg(mosaic(images, found, names), os.path.join(out, "val_batch0_pred.jpg")))
