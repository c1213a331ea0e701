"""From raw grid outputs to a short list of boxes: scores, thresholds, non-maximum suppression.

A detector predicts a box at every cell, and several neighbouring cells fire on the same object.
``decode`` reads the model's outputs as one box per cell (``model.decode_outputs``), scores every
box (``sigmoid(objectness) * sigmoid(class)``, the best class per cell), keeps the confident ones,
and ``non_max_suppression`` keeps, among boxes of one class that overlap by more than
``iou_threshold`` (``boxes.box_iou_torch``), only the highest-scoring one.
"""

from __future__ import annotations

import torch

from .boxes import box_iou_torch
from .model import decode_outputs

# Kept so that ``from ildl.detect.nms import box_iou`` still works (its home is now ``boxes``).
box_iou = box_iou_torch


def non_max_suppression(boxes: torch.Tensor, scores: torch.Tensor, classes: torch.Tensor,
                        iou_threshold: float = 0.5, max_kept: int | None = None) -> torch.Tensor:
    """Indices of the boxes to keep, best score first. boxes (K, 4), scores (K,), classes (K,).

    Greedy: take the best remaining box, drop every box of its class overlapping it by more than
    ``iou_threshold``, repeat; stop once ``max_kept`` boxes are kept (all of them by default).
    Boxes of different classes never suppress each other.
    """
    order = scores.argsort(descending=True)
    boxes, classes = boxes[order], classes[order]
    same_class = classes[:, None] == classes[None]
    overlapping = (box_iou_torch(boxes, boxes) > iou_threshold) & same_class
    # One Python step per *kept* box: each removes itself and all it suppresses from the rest.
    remaining = torch.arange(len(order), device=boxes.device)
    kept = []
    while len(remaining) and len(kept) != max_kept:
        best, rest = remaining[0], remaining[1:]
        kept.append(best)
        remaining = rest[~overlapping[best, rest]]
    return order[torch.stack(kept)] if kept else order[:0]


@torch.no_grad()
def decode(raw: list[torch.Tensor], strides: tuple[int, ...], score_threshold: float = 0.25,
           iou_threshold: float = 0.5, max_detections: int = 100,
           pre_nms_top_k: int = 1000) -> list[dict[str, torch.Tensor]]:
    """Detections per image: dicts with ``boxes`` (K, 4) xyxy pixels, ``scores`` (K,),
    ``classes`` (K,) long, sorted by score, at most ``max_detections``."""
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
        keep = non_max_suppression(image_boxes, image_scores, image_classes, iou_threshold,
                                   max_detections)
        results.append({"boxes": image_boxes[keep], "scores": image_scores[keep],
                        "classes": image_classes[keep]})
    return results
