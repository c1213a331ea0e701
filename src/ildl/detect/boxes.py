"""Box arithmetic for the detector: format conversions, areas, IoU and GIoU, in NumPy and in torch.

Boxes are rows of four numbers, so a set of N boxes is an array of shape (N, 4) (any leading shape
works for the conversions and areas).

- The plain names (``box_iou``, ``cxcywh_to_xyxy``, ...) take and return **NumPy** arrays in
  float64: datasets, augmentation and the evaluation (``metrics.py``) use them, with no torch.
- The same names ending in ``_torch`` take and return **torch** tensors, keep their dtype and
  device, and let gradients flow: the model's loss and non-maximum suppression use them. The
  suffix keeps the two families from shadowing each other, and importing this module never
  imports torch (only calling a ``_torch`` function needs it).

Box formats, all in the same units (pixels or fractions of the image size):

- ``xyxy``: corners ``(x1, y1, x2, y2)``, top-left then bottom-right. The metrics, the loss and
  the model's decoded outputs use this one.
- ``cxcywh``: centre and size ``(cx, cy, w, h)``. YOLO label files store it, normalised to [0, 1].
- ``xywh``: top-left corner and size ``(x, y, w, h)``. COCO annotation files store it, in pixels.

Areas are ``w * h`` with no "+1": coordinates are continuous positions, not pixel indices (the
Pascal VOC devkit added 1; COCO and YOLO do not, and neither do we).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import ArgumentError

if TYPE_CHECKING:  # for the type hints only: torch is imported by the functions that need it
    import torch


def _as_boxes(boxes) -> np.ndarray:
    """Boxes as a float64 array whose last axis has length 4 (an empty list gives shape (0, 4))."""
    array = np.asarray(boxes, dtype=np.float64)
    if array.size == 0:
        return array.reshape(*array.shape[:-1], 4) if array.ndim > 1 else array.reshape(0, 4)
    if array.shape[-1] != 4:
        raise ArgumentError(f"boxes need 4 numbers on their last axis, got shape {array.shape}")
    return array


def cxcywh_to_xyxy(boxes) -> np.ndarray:
    """Centre and size ``(cx, cy, w, h)`` to corners ``(x1, y1, x2, y2)``."""
    b = _as_boxes(boxes)
    half_w, half_h = b[..., 2] / 2, b[..., 3] / 2
    return np.stack([b[..., 0] - half_w, b[..., 1] - half_h,
                     b[..., 0] + half_w, b[..., 1] + half_h], axis=-1)


def xyxy_to_cxcywh(boxes) -> np.ndarray:
    """Corners ``(x1, y1, x2, y2)`` to centre and size ``(cx, cy, w, h)``."""
    b = _as_boxes(boxes)
    return np.stack([(b[..., 0] + b[..., 2]) / 2, (b[..., 1] + b[..., 3]) / 2,
                     b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]], axis=-1)


def xywh_to_xyxy(boxes) -> np.ndarray:
    """COCO's top-left corner and size ``(x, y, w, h)`` to corners ``(x1, y1, x2, y2)``."""
    b = _as_boxes(boxes)
    return np.stack([b[..., 0], b[..., 1], b[..., 0] + b[..., 2], b[..., 1] + b[..., 3]], axis=-1)


def xyxy_to_xywh(boxes) -> np.ndarray:
    """Corners ``(x1, y1, x2, y2)`` to COCO's top-left corner and size ``(x, y, w, h)``."""
    b = _as_boxes(boxes)
    return np.stack([b[..., 0], b[..., 1], b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]], axis=-1)


def normalized_to_pixels(boxes, width: float, height: float) -> np.ndarray:
    """Boxes in fractions of the image size (any of the formats above) to pixels.

    x-like numbers (columns 0 and 2) scale by ``width``, y-like ones (columns 1 and 3) by
    ``height``; this holds for xyxy, cxcywh and xywh alike, so the format is kept.
    """
    return _as_boxes(boxes) * np.array([width, height, width, height], dtype=np.float64)


def pixels_to_normalized(boxes, width: float, height: float) -> np.ndarray:
    """Boxes in pixels (any of the formats above) to fractions of the image size."""
    return _as_boxes(boxes) / np.array([width, height, width, height], dtype=np.float64)


def clip_boxes(boxes, width: float, height: float) -> np.ndarray:
    """xyxy boxes cut to the image ``[0, width] x [0, height]``."""
    b = _as_boxes(boxes)
    return np.stack([np.clip(b[..., 0], 0, width), np.clip(b[..., 1], 0, height),
                     np.clip(b[..., 2], 0, width), np.clip(b[..., 3], 0, height)], axis=-1)


def box_area(boxes) -> np.ndarray:
    """Area ``w * h`` of xyxy boxes; a box with x2 < x1 or y2 < y1 has area 0."""
    b = _as_boxes(boxes)
    return np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)


def box_intersection(boxes_a, boxes_b) -> np.ndarray:
    """Area of the overlap of every box of ``boxes_a`` (N, 4) with every box of ``boxes_b``
    (M, 4), both xyxy: an (N, M) matrix (0 where they do not overlap)."""
    a, b = _as_boxes(boxes_a).reshape(-1, 4), _as_boxes(boxes_b).reshape(-1, 4)
    # The intersection is the box between the larger top-left and the smaller bottom-right corner;
    # broadcasting an (N, 1) column against a (1, M) row gives every pair at once.
    left = np.maximum(a[:, None, 0], b[None, :, 0])
    top = np.maximum(a[:, None, 1], b[None, :, 1])
    right = np.minimum(a[:, None, 2], b[None, :, 2])
    bottom = np.minimum(a[:, None, 3], b[None, :, 3])
    return np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)


def box_iou(boxes_a, boxes_b) -> np.ndarray:
    """Intersection over union of every box of ``boxes_a`` (N, 4) with every box of ``boxes_b``
    (M, 4), both xyxy: an (N, M) matrix of numbers in [0, 1].

    IoU = area(A ∩ B) / area(A ∪ B), with area(A ∪ B) = area(A) + area(B) - area(A ∩ B). It is 1
    for identical boxes and 0 for boxes that do not overlap (or when both have zero area, where
    the ratio would be 0/0).
    """
    a, b = _as_boxes(boxes_a).reshape(-1, 4), _as_boxes(boxes_b).reshape(-1, 4)
    intersection = box_intersection(a, b)
    union = box_area(a)[:, None] + box_area(b)[None, :] - intersection
    # Where the union is 0 the intersection is 0 too: report IoU 0 instead of dividing by zero.
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)


# --- torch twins, used by the model's loss and by non-maximum suppression -----------------------


def cxcywh_to_xyxy_torch(boxes: torch.Tensor) -> torch.Tensor:
    """Centre and size ``(cx, cy, w, h)`` to corners ``(x1, y1, x2, y2)``: (..., 4) -> (..., 4)."""
    import torch

    centre, half_size = boxes[..., :2], boxes[..., 2:] / 2
    return torch.cat([centre - half_size, centre + half_size], dim=-1)


def xyxy_to_cxcywh_torch(boxes: torch.Tensor) -> torch.Tensor:
    """Corners ``(x1, y1, x2, y2)`` to centre and size ``(cx, cy, w, h)``: (..., 4) -> (..., 4)."""
    import torch

    top_left, bottom_right = boxes[..., :2], boxes[..., 2:]
    return torch.cat([(top_left + bottom_right) / 2, bottom_right - top_left], dim=-1)


def box_area_torch(boxes: torch.Tensor) -> torch.Tensor:
    """Area ``w * h`` of xyxy boxes (..., 4) -> (...); a box with x2 < x1 or y2 < y1 has area 0."""
    return (boxes[..., 2:] - boxes[..., :2]).clamp(min=0).prod(dim=-1)


def _intersection_over_union_torch(a: torch.Tensor,
                                   b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """IoU and union of xyxy boxes ``a`` and ``b`` (..., 4) whose leading shapes broadcast.

    Where the union is 0 the intersection is 0 too; dividing by at least 1e-9 makes that IoU 0
    and keeps its gradient finite (a masked division, as in ``box_iou``, would give NaN
    gradients). Only unions under 1e-9 (boxes far below a pixel) differ from the NumPy result.
    """
    top_left = a[..., :2].maximum(b[..., :2])
    bottom_right = a[..., 2:].minimum(b[..., 2:])
    intersection = (bottom_right - top_left).clamp(min=0).prod(dim=-1)
    union = box_area_torch(a) + box_area_torch(b) - intersection
    return intersection / union.clamp(min=1e-9), union


def box_iou_torch(boxes_a: torch.Tensor, boxes_b: torch.Tensor) -> torch.Tensor:
    """IoU of every box of ``boxes_a`` (N, 4) with every box of ``boxes_b`` (M, 4), both xyxy:
    an (N, M) matrix, as ``box_iou``. Non-maximum suppression uses it."""
    iou, _ = _intersection_over_union_torch(boxes_a[:, None, :], boxes_b[None, :, :])
    return iou


def paired_giou_torch(boxes_a: torch.Tensor,
                      boxes_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """IoU and generalised IoU of matching rows (row i with row i) of two (P, 4) xyxy tensors:
    two (P,) tensors. The box loss uses them.

    ``GIoU = IoU - (area(C) - area(A u B)) / area(C)``, C the smallest box enclosing both: it
    falls below 0 as boxes that do not overlap move apart, so it still has a gradient where IoU
    is flat at 0. Boxes of zero area give 0 rather than 0/0 (both divisions are by at least 1e-9).
    """
    iou, union = _intersection_over_union_torch(boxes_a, boxes_b)
    enclosing = (boxes_a[..., 2:].maximum(boxes_b[..., 2:])
                 - boxes_a[..., :2].minimum(boxes_b[..., :2])).prod(dim=-1)
    return iou, iou - (enclosing - union) / enclosing.clamp(min=1e-9)
