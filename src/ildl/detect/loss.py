"""Which grid cells are responsible for which object, and how wrong their predictions are.

**Assignment** (``assign_targets``), in the spirit of FCOS with YOLOX's centre sampling: a cell is
a *positive* for an object when (1) its centre lies inside the object's box, (2) it is within
``radius`` strides of the box centre, and (3) its grid suits the object's size: the largest
distance from the cell centre to the box's edges falls in that grid's range. A cell claimed by
several objects takes the smallest one. An object that got no cell at all (tiny or oddly placed)
gets the cell nearest its centre on the grid that suits its size, so no object is ignored.

**Loss** (``DetectionLoss``), with P positives:

* box: ``1 - GIoU(predicted, true)`` averaged over positives (GIoU still has a gradient when the
  boxes do not overlap, unlike IoU);
* objectness: binary cross-entropy on every cell, the target being the (detached) IoU of the cell's
  box for positives and 0 elsewhere, summed and divided by P, so a confident score means a good
  box ("quality" objectness, as YOLOv5);
* classification: binary cross-entropy per class on positives (one-hot targets), averaged over P.

``total = box_weight * box + obj_weight * objectness + cls_weight * classification``.

The predicted boxes come from the model's decoding (``model.decode_outputs``); box areas, IoU and
GIoU from ``boxes``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .boxes import box_area_torch, cxcywh_to_xyxy_torch, paired_giou_torch, xyxy_to_cxcywh_torch
from .model import decode_boxes, decode_outputs, flatten_predictions, grid_centers  # noqa: F401

# The decoding (now in ``model``) and the box arithmetic (now in ``boxes``) used to live here; their
# old names still import from ``ildl.detect.loss``.
box_area = box_area_torch
paired_giou = paired_giou_torch

# Largest edge distance (pixels) each stride's grid is responsible for; they overlap a little so
# objects near a boundary are learned by both grids.
SIZE_RANGES = {4: (0.0, 20.0), 8: (12.0, 40.0), 16: (28.0, float("inf"))}


def assign_targets(centers: torch.Tensor, cell_strides: torch.Tensor, gt_boxes: torch.Tensor,
                   radius: float = 2.5) -> torch.Tensor:
    """For one image: the index of the object each cell is responsible for, or -1 (background).

    centers (A, 2), cell_strides (A,), gt_boxes (G, 4) xyxy pixels -> (A,) long.
    """
    num_cells = len(centers)
    if len(gt_boxes) == 0:
        return torch.full((num_cells,), -1, dtype=torch.long, device=centers.device)
    x, y = centers[:, 0:1], centers[:, 1:2]  # (A, 1), broadcast against (G,)
    edges = torch.stack([x - gt_boxes[:, 0], y - gt_boxes[:, 1],
                         gt_boxes[:, 2] - x, gt_boxes[:, 3] - y], dim=-1)  # (A, G, 4)
    inside_box = edges.min(dim=-1).values > 0
    gt_centers, gt_sizes = xyxy_to_cxcywh_torch(gt_boxes).split(2, dim=1)
    near_center = ((centers[:, None, :] - gt_centers[None]).abs()
                   < radius * cell_strides[:, None, None]).all(dim=-1)
    reach = edges.max(dim=-1).values
    low, high = _size_ranges(cell_strides)
    right_grid = (reach >= low[:, None]) & (reach <= high[:, None])
    candidate = inside_box & near_center & right_grid  # (A, G)

    areas = box_area_torch(gt_boxes).expand(num_cells, -1)
    areas = torch.where(candidate, areas, torch.full_like(areas, float("inf")))
    smallest_area, owner = areas.min(dim=1)
    owner[torch.isinf(smallest_area)] = -1
    _give_every_object_a_cell(owner, centers, cell_strides, gt_centers, gt_sizes)
    return owner


def _size_ranges(cell_strides: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    low = torch.empty_like(cell_strides)
    high = torch.empty_like(cell_strides)
    for stride, (lo, hi) in SIZE_RANGES.items():
        low[cell_strides == stride] = lo
        high[cell_strides == stride] = hi
    return low, high


def _give_every_object_a_cell(owner, centers, cell_strides, gt_centers, gt_sizes) -> None:
    """An object with no cell gets the free cell nearest its centre on the grid suiting its size."""
    half_size = (gt_sizes / 2).max(dim=1).values
    for index in range(len(gt_centers)):
        if (owner == index).any():
            continue
        suits = torch.zeros_like(cell_strides, dtype=torch.bool)
        for stride, (lo, hi) in SIZE_RANGES.items():
            if lo <= half_size[index] <= hi:
                suits |= cell_strides == stride
        distance = (centers - gt_centers[index]).pow(2).sum(dim=1)
        distance[~suits | (owner >= 0)] = float("inf")
        nearest = int(distance.argmin())
        if torch.isfinite(distance[nearest]):
            owner[nearest] = index


class DetectionLoss:
    """Loss of a batch: ``loss(raw, targets, image_size) -> (total, parts)``.

    ``raw``: the model's list of per-grid outputs; ``targets``: (M, 6) rows
    ``[image_index, class, cx, cy, w, h]`` with coordinates normalised to [0, 1] (the collate
    format of ``ildl.detect.dataset``); ``parts`` holds the detached box/obj/cls values to log.
    """

    def __init__(self, num_classes: int, strides: tuple[int, ...], box_weight: float = 5.0,
                 obj_weight: float = 1.0, cls_weight: float = 1.0):
        self.num_classes = num_classes
        self.strides = strides
        self.weights = (box_weight, obj_weight, cls_weight)

    def __call__(self, raw: list[torch.Tensor], targets: torch.Tensor, image_size: int):
        predictions, boxes, centers, cell_strides = decode_outputs(raw, self.strides)
        objectness_target = torch.zeros_like(predictions[..., 4])
        box_terms, class_terms = [], []
        for image in range(len(predictions)):
            rows = targets[targets[:, 0] == image]
            gt_boxes = cxcywh_to_xyxy_torch(rows[:, 2:6] * image_size)  # (G, 4) xyxy pixels
            owner = assign_targets(centers, cell_strides, gt_boxes)
            positive = owner >= 0
            if not positive.any():
                continue
            matched = gt_boxes[owner[positive]]
            iou, giou = paired_giou_torch(boxes[image, positive], matched)
            box_terms.append(1 - giou)
            objectness_target[image, positive] = iou.detach().clamp(min=0)
            one_hot = F.one_hot(rows[owner[positive], 1].long(), self.num_classes).float()
            class_terms.append(F.binary_cross_entropy_with_logits(
                predictions[image, positive, 5:], one_hot, reduction="none").sum(dim=1))
        positives = max(sum(len(term) for term in box_terms), 1)
        box_loss = torch.cat(box_terms).sum() / positives if box_terms else boxes.sum() * 0
        class_loss = torch.cat(class_terms).sum() / positives if class_terms else box_loss * 0
        objectness_loss = F.binary_cross_entropy_with_logits(
            predictions[..., 4], objectness_target, reduction="sum") / positives
        box_weight, obj_weight, cls_weight = self.weights
        total = box_weight * box_loss + obj_weight * objectness_loss + cls_weight * class_loss
        parts = {"box": float(box_loss.detach()), "obj": float(objectness_loss.detach()),
                 "cls": float(class_loss.detach())}
        return total, parts

