"""From raw grid outputs to a short list of boxes: scores, thresholds, non-maximum suppression.

A detector predicts a box at every cell, and several neighbouring cells fire on the same object.
``decode`` reads the model's outputs as one box per cell (``model.decode_outputs``), scores every
box (``sigmoid(objectness) * sigmoid(class)``, the best class per cell), keeps the confident ones,
and ``non_max_suppression`` keeps, among boxes of one class that overlap by more than
``iou_threshold`` (``boxes.box_iou_torch``), only the highest-scoring one. With ``agnostic``, boxes
of any class suppress each other (Ultralytics' ``agnostic_nms``): a young detector unsure whether
an object is a circle or a square then draws one box on it, not one per class. The mAP protocol
keeps NMS per class: the second guess of a wrong best class still finds the object there.
"""

from __future__ import annotations

import numpy as np
import torch

from .boxes import box_iou_torch
from .model import decode_outputs

# Kept so that ``from ildl.detect.nms import box_iou`` still works (its home is now ``boxes``).
box_iou = box_iou_torch


# Boxes compared at once with the others: memory grows as IOU_ROWS x K at most, not K x K (K
# boxes), so the merge of a tiled image's ten thousand boxes (``sliced``) fits.
IOU_ROWS = 256


def non_max_suppression(boxes: torch.Tensor, scores: torch.Tensor, classes: torch.Tensor,
                        iou_threshold: float = 0.5, max_kept: int | None = None) -> torch.Tensor:
    """Indices of the boxes to keep, best score first. boxes (K, 4), scores (K,), classes (K,).

    Greedy: take the best remaining box, drop every box of its class overlapping it by more than
    ``iou_threshold``, repeat; stop once ``max_kept`` boxes are kept (all of them by default).
    Boxes of different classes never suppress each other.
    """
    # Stable: equal scores keep their order, so suppressing again what NMS kept changes nothing
    # (the merge of a single tile, ``sliced``, returns the whole-image result as it was).
    order = scores.argsort(descending=True, stable=True)
    if not len(order):
        return order
    suppresses = _suppressed_later(boxes[order], classes[order], iou_threshold)
    removed = np.zeros(len(order), dtype=bool)
    kept = []
    for index, later in enumerate(suppresses):
        if removed[index]:
            continue
        kept.append(index)
        if len(kept) == max_kept:
            break
        removed[later] = True
    return order[torch.tensor(kept, dtype=torch.long, device=order.device)]


def _suppressed_later(boxes: torch.Tensor, classes: torch.Tensor,
                      iou_threshold: float) -> list[np.ndarray]:
    """For each box i of boxes (K, 4) sorted best first: the boxes j > i of its class that it
    overlaps by more than ``iou_threshold`` (an index array).

    The pairs are found along x: with the boxes sorted by left edge, each block of ``IOU_ROWS``
    boxes is compared only with the boxes after it that start left of its rightmost right edge,
    the only ones that can overlap it. For boxes spread over a large image that is a thin band
    of the IoU matrix, not the whole of it.
    """
    by_left = boxes[:, 0].argsort()
    boxes, classes = boxes[by_left], classes[by_left]
    lefts = boxes[:, 0].contiguous()
    firsts, seconds = [], []
    for start in range(0, len(boxes), IOU_ROWS):
        stop = min(start + IOU_ROWS, len(boxes))
        end = max(stop, int(torch.searchsorted(lefts, boxes[start:stop, 2].max())))
        block = box_iou_torch(boxes[start:stop], boxes[start:end]) > iou_threshold
        block &= classes[start:stop, None] == classes[None, start:end]
        row, column = block.nonzero(as_tuple=True)
        once = column > row  # the block holds both (a, b) and (b, a) of its own pairs
        firsts.append(by_left[row[once] + start])
        seconds.append(by_left[column[once] + start])
    first, second = torch.cat(firsts).cpu().numpy(), torch.cat(seconds).cpu().numpy()
    # The better-scored box of a pair (the smaller index) suppresses the other.
    better, worse = np.minimum(first, second), np.maximum(first, second)
    grouped = np.argsort(better, kind="stable")
    counts = np.bincount(better, minlength=len(boxes))
    return np.split(worse[grouped], np.cumsum(counts)[:-1])


@torch.no_grad()
def decode(raw: list[torch.Tensor], strides: tuple[int, ...], score_threshold: float = 0.25,
           iou_threshold: float = 0.5, max_detections: int = 100,
           pre_nms_top_k: int = 1000, agnostic: bool = False) -> list[dict[str, torch.Tensor]]:
    """Detections per image: dicts with ``boxes`` (K, 4) xyxy pixels, ``scores`` (K,),
    ``classes`` (K,) long, sorted by score, at most ``max_detections``; ``agnostic``: boxes of
    different classes suppress each other too."""
    predictions, boxes, _, _ = decode_outputs(raw, strides)
    class_scores = predictions[..., 5:].sigmoid() * predictions[..., 4:5].sigmoid()
    scores, classes = class_scores.max(dim=-1)
    results = []
    for image in range(len(predictions)):
        confident = scores[image] > score_threshold
        image_scores = scores[image][confident]
        top = image_scores.argsort(descending=True)[:pre_nms_top_k]
        image_boxes = boxes[image][confident][top]
        image_scores, image_classes = image_scores[top], classes[image][confident][top]
        rivals = torch.zeros_like(image_classes) if agnostic else image_classes
        keep = non_max_suppression(image_boxes, image_scores, rivals, iou_threshold,
                                   max_detections)
        results.append({"boxes": image_boxes[keep], "scores": image_scores[keep],
                        "classes": image_classes[keep]})
    return results
