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
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Largest edge distance (pixels) each stride's grid is responsible for; they overlap a little so
# objects near a boundary are learned by both grids.
SIZE_RANGES = {4: (0.0, 20.0), 8: (12.0, 40.0), 16: (28.0, float("inf"))}


def grid_centers(shapes: list[tuple[int, int]], strides: tuple[int, ...],
                 device: torch.device | str = "cpu"):
    """Centres (A, 2) in pixels (x, y) of all cells of all grids, and each cell's stride (A,).

    Cells are ordered grid by grid, row by row: the order of ``flatten_predictions``.
    """
    centers, cell_strides = [], []
    for (height, width), stride in zip(shapes, strides):
        ys, xs = torch.meshgrid(torch.arange(height, device=device),
                                torch.arange(width, device=device), indexing="ij")
        centers.append((torch.stack([xs, ys], dim=-1).reshape(-1, 2) + 0.5) * stride)
        cell_strides.append(torch.full((height * width,), float(stride), device=device))
    return torch.cat(centers).float(), torch.cat(cell_strides)


def flatten_predictions(raw: list[torch.Tensor]) -> torch.Tensor:
    """Per-grid outputs (N, 5 + C, H, W) -> one tensor (N, A, 5 + C) over all cells."""
    return torch.cat([level.flatten(2).transpose(1, 2) for level in raw], dim=1)


def decode_boxes(distances: torch.Tensor, centers: torch.Tensor,
                 cell_strides: torch.Tensor) -> torch.Tensor:
    """Raw edge distances (..., A, 4) -> boxes (..., A, 4) xyxy in pixels.

    ``left, top, right, bottom = softplus(raw) * stride`` (positive, in pixels).
    """
    ltrb = F.softplus(distances) * cell_strides[:, None]
    return torch.cat([centers - ltrb[..., :2], centers + ltrb[..., 2:]], dim=-1)


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """(..., 4) xyxy -> (...,) areas (0 for degenerate boxes)."""
    return (boxes[..., 2:] - boxes[..., :2]).clamp(min=0).prod(dim=-1)


def paired_giou(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """IoU and generalised IoU of matching rows of two (P, 4) xyxy tensors.

    ``GIoU = IoU - (area(C) - area(A u B)) / area(C)``, C the smallest box enclosing both.
    """
    top_left = torch.maximum(a[:, :2], b[:, :2])
    bottom_right = torch.minimum(a[:, 2:], b[:, 2:])
    intersection = (bottom_right - top_left).clamp(min=0).prod(dim=1)
    union = box_area(a) + box_area(b) - intersection
    iou = intersection / union.clamp(min=1e-9)
    enclosing = (torch.maximum(a[:, 2:], b[:, 2:]) - torch.minimum(a[:, :2], b[:, :2])).prod(1)
    return iou, iou - (enclosing - union) / enclosing.clamp(min=1e-9)


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
    gt_centers = (gt_boxes[:, :2] + gt_boxes[:, 2:]) / 2
    near_center = ((centers[:, None, :] - gt_centers[None]).abs()
                   < radius * cell_strides[:, None, None]).all(dim=-1)
    reach = edges.max(dim=-1).values
    low, high = _size_ranges(cell_strides)
    right_grid = (reach >= low[:, None]) & (reach <= high[:, None])
    candidate = inside_box & near_center & right_grid  # (A, G)

    areas = box_area(gt_boxes).expand(num_cells, -1)
    areas = torch.where(candidate, areas, torch.full_like(areas, float("inf")))
    smallest_area, owner = areas.min(dim=1)
    owner[torch.isinf(smallest_area)] = -1
    _give_every_object_a_cell(owner, centers, cell_strides, gt_boxes, gt_centers)
    return owner


def _size_ranges(cell_strides: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    low = torch.empty_like(cell_strides)
    high = torch.empty_like(cell_strides)
    for stride, (lo, hi) in SIZE_RANGES.items():
        low[cell_strides == stride] = lo
        high[cell_strides == stride] = hi
    return low, high


def _give_every_object_a_cell(owner, centers, cell_strides, gt_boxes, gt_centers) -> None:
    """An object with no cell gets the free cell nearest its centre on the grid suiting its size."""
    half_size = ((gt_boxes[:, 2:] - gt_boxes[:, :2]) / 2).max(dim=1).values
    for index in range(len(gt_boxes)):
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
        predictions = flatten_predictions(raw)  # (N, A, 5 + C)
        centers, cell_strides = grid_centers([level.shape[-2:] for level in raw], self.strides,
                                             predictions.device)
        boxes = decode_boxes(predictions[..., :4], centers, cell_strides)
        objectness_target = torch.zeros_like(predictions[..., 4])
        box_terms, class_terms = [], []
        for image in range(len(predictions)):
            rows = targets[targets[:, 0] == image]
            gt_boxes = _to_pixels_xyxy(rows[:, 2:6], image_size)
            owner = assign_targets(centers, cell_strides, gt_boxes)
            positive = owner >= 0
            if not positive.any():
                continue
            matched = gt_boxes[owner[positive]]
            iou, giou = paired_giou(boxes[image, positive], matched)
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


def _to_pixels_xyxy(cxcywh: torch.Tensor, image_size: int) -> torch.Tensor:
    """(G, 4) normalised centre/size -> (G, 4) corner coordinates in pixels."""
    centre, size = cxcywh[:, :2] * image_size, cxcywh[:, 2:] * image_size
    return torch.cat([centre - size / 2, centre + size / 2], dim=1)
