"""Sliced inference: detection in an image larger than the model's input, tile by tile.

A 2299x2472 aerial photo fitted whole into a 320-pixel input shrinks a 40-pixel tree crown to
5 pixels, and the detector loses it. ``detect_tiled`` cuts the image into overlapping square
tiles of ``tile`` pixels (``tiles.tile_grid``), detects in each tile as in a whole image
(``inference.detect_frames``: letterboxed to the input, ``batch`` tiles at a time, so memory
depends on the batch and not on the image), shifts each tile's boxes by the tile's top-left
corner back into the image's pixels, and merges the tiles' detections (``merge_tiles``).

**The merge.** An object in the overlap of two tiles is found in both; an object cut by a
tile's edge is found there as a *partial* box, and whole in the neighbouring tile when it is
smaller than the overlap. A box is *cut* when it reaches (within ``EDGE_MARGIN`` pixels of the
model's input) an edge of its tile that lies inside the image; the image's own border cuts
nothing. Per class, in two steps:

1. a cut box is dropped when a box of another tile that is not cut covers at least
   ``iou_threshold`` of the cut box's own area (intersection / area of the cut box): the
   neighbour saw the object whole;
2. non-maximum suppression at ``iou_threshold`` (``nms.non_max_suppression``) on what is left:
   the same object found whole by two tiles.

Why not NMS alone: the IoU of a partial box with the whole one is the share of the object it
holds, so a crown cut in half (IoU 0.5) keeps both boxes, and a partial box that scores higher
would suppress the whole one. Why not NMS on intersection over the smaller box: it would also
merge a small object with a larger neighbour that covers most of it, anywhere in a tile. Why
not drop every cut box: an object larger than the overlap is cut in every tile that holds it
and would vanish; here a cut box goes only when its whole box was found. Such an object keeps
its partial boxes (step 2 merges them when they overlap enough): choose an overlap larger than
the objects (``--overlap 0.2`` of a 400-pixel tile is 80 pixels).

An image no larger than a tile is one tile: the result is then the whole-image detection's.

>>> found = detect_tiled(model, orthophoto, imgsz=320, tile=400)   # doctest: +SKIP
>>> found["boxes"].shape                                           # doctest: +SKIP
(574, 4)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from ..errors import DataError
from ..progress import ProgressBar
from ..validation import check_integer
from .boxes import box_area, box_intersection, cxcywh_to_xyxy, normalized_to_pixels
from .images import load_image
from .inference import MAX_DETECTIONS, detect_frames
from .metrics import DetectionEvaluator, DetectionMetrics
from .nms import non_max_suppression
from .tiles import DEFAULT_OVERLAP, check_tiling, tile_grid

if TYPE_CHECKING:
    from .dataset import DetectionDataset

#: How close to a tile's inner edge a box must come to count as cut, in pixels of the model's
#: input: one cell of the finest grid (stride 4), where a box cut by the edge stops.
EDGE_MARGIN = 4


def cut_by_tile_edge(boxes: np.ndarray, tile: tuple[int, int, int, int], image_size:
                     tuple[int, int], margin: float) -> np.ndarray:
    """Which boxes (K, 4), xyxy in the image's pixels, come within ``margin`` pixels of an edge
    of ``tile`` (x1, y1, x2, y2) that is inside the image of ``image_size`` (width, height):
    (K,) bool. Such an edge may have cut the object."""
    x1, y1, x2, y2 = tile
    width, height = image_size
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return (((boxes[:, 0] <= x1 + margin) & (x1 > 0))
            | ((boxes[:, 1] <= y1 + margin) & (y1 > 0))
            | ((boxes[:, 2] >= x2 - margin) & (x2 < width))
            | ((boxes[:, 3] >= y2 - margin) & (y2 < height)))


def merge_tiles(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray,
                tile_of_box: np.ndarray, cut: np.ndarray, iou_threshold: float = 0.5,
                agnostic: bool = False) -> np.ndarray:
    """Indices of the boxes to keep, best score first (see the module docstring for the two
    steps). boxes (K, 4) xyxy in the image's pixels; scores, classes, ``tile_of_box`` (the
    index of the tile that found each box) and ``cut`` (``cut_by_tile_edge``): (K,).
    ``agnostic``: boxes of any class stand for and suppress each other (``nms.decode``)."""
    rivals = np.zeros_like(classes) if agnostic else classes
    covered = _covered_by_a_whole_box(boxes, rivals, tile_of_box, cut, iou_threshold)
    left = np.flatnonzero(~covered)
    kept = non_max_suppression(torch.as_tensor(boxes[left]), torch.as_tensor(scores[left]),
                               torch.as_tensor(rivals[left]), iou_threshold)
    return left[kept.numpy()]


def _covered_by_a_whole_box(boxes: np.ndarray, classes: np.ndarray, tile_of_box: np.ndarray,
                            cut: np.ndarray, share: float) -> np.ndarray:
    """(K,) bool: the cut boxes of which at least ``share`` of the area lies inside one box of
    their class, found by another tile and not cut. One tile's cut boxes at a time, against
    the whole boxes of other tiles that reach into their area: memory grows with a tile's
    boxes, not the image's."""
    covered = np.zeros(len(boxes), dtype=bool)
    whole = np.flatnonzero(~cut)
    for tile in np.unique(tile_of_box[cut]):
        mine = np.flatnonzero(cut & (tile_of_box == tile))
        left, top = boxes[mine, :2].min(axis=0)
        right, bottom = boxes[mine, 2:].max(axis=0)
        others = whole[(tile_of_box[whole] != tile)
                       & (boxes[whole, 0] < right) & (boxes[whole, 2] > left)
                       & (boxes[whole, 1] < bottom) & (boxes[whole, 3] > top)]
        inside = box_intersection(boxes[mine], boxes[others])
        same_class = classes[mine][:, None] == classes[others][None]
        area = box_area(boxes[mine])[:, None]
        covered[mine] = ((inside >= share * area) & (area > 0) & same_class).any(axis=1)
    return covered


def detect_tiled(model, image: np.ndarray, imgsz: int, tile: int, overlap: float = DEFAULT_OVERLAP,
                 score_threshold: float = 0.25, iou_threshold: float = 0.5, batch: int = 16,
                 max_detections: int = MAX_DETECTIONS, title: str | None = None,
                 agnostic: bool = False) -> dict[str, np.ndarray]:
    """Detections in ``image`` (H, W, 3) uint8 cut into tiles of ``tile`` pixels overlapping
    by ``overlap`` of a tile: ``boxes`` (K, 4) xyxy in the image's pixels, ``scores`` (K,),
    ``classes`` (K,), best first. ``agnostic``: one box per object whatever its class, in each
    tile and across them.

    At most ``max_detections`` per tile are kept before the merge, so the image keeps at most
    that many per tile. The model sees ``batch`` tiles at a time; with ``title``, a progress
    bar over the tiles (rate and time left) is printed for an image of more than one tile.
    """
    check_tiling(tile, overlap)
    batch = check_integer(batch, "batch", "detect_tiled", minimum=1)
    height, width = image.shape[:2]
    tiles = tile_grid(width, height, tile, overlap)
    bar = ProgressBar(len(tiles), title, unit="tiles") if title and len(tiles) > 1 else None
    parts = []
    for start in range(0, len(tiles), batch):
        group = tiles[start:start + batch]
        crops = [image[y1:y2, x1:x2] for x1, y1, x2, y2 in group]
        found = detect_frames(model, crops, imgsz, score_threshold, iou_threshold, batch,
                              max_detections, agnostic)
        for index, (corners, detections) in enumerate(zip(group, found), start):
            x1, y1, x2, y2 = corners
            boxes = detections["boxes"] + np.array([x1, y1, x1, y1], dtype=np.float64)
            margin = EDGE_MARGIN * max(x2 - x1, y2 - y1) / imgsz  # input pixels -> tile's
            parts.append((boxes, detections["scores"], detections["classes"],
                          np.full(len(boxes), index),
                          cut_by_tile_edge(boxes, corners, (width, height), margin)))
        if bar:
            bar.update(start + len(group), start + len(group), {})
    if bar:
        bar.finish(len(tiles), len(tiles), {})
    boxes, scores, classes, tile_of_box, cut = (np.concatenate(column) for column in zip(*parts))
    keep = merge_tiles(boxes, scores, classes, tile_of_box, cut, iou_threshold, agnostic)
    return {"boxes": boxes[keep], "scores": scores[keep], "classes": classes[keep]}


def evaluate_tiled(model, dataset: DetectionDataset, tile: int, overlap: float = DEFAULT_OVERLAP,
                   batch: int = 16, max_detections: int = MAX_DETECTIONS,
                   score_threshold: float = 0.001, verbose: bool = True) -> DetectionMetrics:
    """COCO metrics (``metrics.py``) of the tiled prediction (``detect_tiled``) of each
    full-size image of ``dataset`` against its full-image labels.

    The low score threshold gives mAP the whole precision-recall curve, as ``train.evaluate``
    does. COCO counts at most 100 detections per image and class; a tiled image may hold
    hundreds of objects, so here every detection the merge keeps counts (at most
    ``max_detections`` per tile).
    """
    check_tiling(tile, overlap)
    model.eval()
    evaluator = DetectionEvaluator(dataset.names, max_detections=None)
    for example in dataset.split.examples:
        image = load_image(example.image)
        width, height = example.size
        if image.shape[:2] != (height, width):
            raise DataError(f"{example.image}: size changed from {example.size} to "
                            f"{image.shape[1::-1]} since the dataset was read; run val again")
        found = detect_tiled(model, image, dataset.imgsz, tile, overlap, score_threshold,
                             batch=batch, max_detections=max_detections,
                             title=example.image.name if verbose else None)
        truth = {"boxes": normalized_to_pixels(cxcywh_to_xyxy(example.boxes), width, height),
                 "classes": example.classes}
        evaluator.add(found, truth)
    return evaluator.compute()
