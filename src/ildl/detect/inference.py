"""The detector on a batch of images of any size: letterboxed, run, decoded, mapped back.

Each image is letterboxed to the model's square input (``letterbox``), the batch goes through
the model, ``nms.decode`` keeps the confident boxes after non-maximum suppression, and each
image's boxes are mapped back to its own pixels (``Letterbox.to_original``). ``predict`` runs it
on whole frames; ``sliced`` runs it on the tiles of an image larger than the input.

>>> found = detect_frames(model, [frame], imgsz=320)   # doctest: +SKIP
>>> found[0]["boxes"].shape                            # doctest: +SKIP
(12, 4)
"""

from __future__ import annotations

import numpy as np

from .letterbox import Letterbox, letterbox

# torch is imported when detecting, so the command line reads MAX_DETECTIONS without it.

#: Detections kept per model input (an image, or a tile of one), as Ultralytics' ``max_det``.
MAX_DETECTIONS = 300


def detect_frames(model, frames: list[np.ndarray], imgsz: int, score_threshold: float = 0.25,
                  iou_threshold: float = 0.5, batch: int = 16,
                  max_detections: int = MAX_DETECTIONS,
                  agnostic: bool = False) -> list[dict[str, np.ndarray]]:
    """Detections per frame (H, W, 3) uint8, in the frame's own pixels: dicts of ``boxes``
    (K, 4) xyxy, ``scores`` (K,) and ``classes`` (K,), sorted by score, K <= ``max_detections``.
    The model sees ``batch`` frames at a time; ``agnostic``: one box per object whatever its
    class (``nms.decode``)."""
    import torch

    from .nms import decode

    results = []
    for start in range(0, len(frames), batch):
        squares, fits = zip(*(letterbox(frame, imgsz) for frame in frames[start:start + batch]))
        images = torch.from_numpy(np.stack(squares)).permute(0, 3, 1, 2).float() / 255
        with torch.no_grad():
            found = decode(model(images), model.strides, score_threshold, iou_threshold,
                           max_detections, agnostic=agnostic)
        for detections, fit in zip(found, fits):
            results.append({"boxes": _to_frame(detections["boxes"].numpy(), fit),
                            "scores": detections["scores"].numpy(),
                            "classes": detections["classes"].numpy()})
    return results


def _to_frame(boxes: np.ndarray, fit: Letterbox) -> np.ndarray:
    return fit.to_original(boxes) if len(boxes) else boxes.reshape(0, 4)
