"""Run a trained detector on images, folders, GIFs and videos; draw and save what it finds.

``predict(weights, source, out)`` accepts an image file, a folder of images, or an animation /
video (.gif, or .mp4 and friends when imageio-ffmpeg is installed). Each frame is letterboxed to
the model's square input, detected, and the boxes are mapped back to the frame's own pixels.
Outputs in ``out``: annotated images (or an annotated GIF/MP4 for an animation) and
``detections.json``, one entry per image or frame: ``{"source", "frame", "boxes": [[x1, y1, x2,
y2], ...] (pixels), "scores", "classes", "names"}``.
"""

from __future__ import annotations

import json
import os

import numpy as np

from ..atomic import write_bytes_atomically
from ..errors import MissingDependencyError, MissingFileError
from ..graphics import SERIES_COLORS, write_frames
from .data_yaml import image_files
from .images import load_image
from .letterbox import Letterbox, letterbox
from .nms import decode
from .train import load_detector

ANIMATIONS = (".gif", ".mp4", ".avi", ".mov", ".mkv", ".webm")


def read_frames(path: str) -> tuple[list[np.ndarray], float]:
    """Frames (H, W, 3) uint8 of a GIF or video file, and its frames per second."""
    if path.lower().endswith(".gif"):
        from PIL import Image, ImageSequence

        with Image.open(path) as animation:
            duration = animation.info.get("duration", 100) or 100
            frames = [np.asarray(frame.convert("RGB")) for frame in
                      ImageSequence.Iterator(animation)]
        return frames, 1000 / duration
    try:
        import imageio_ffmpeg
    except ImportError:
        raise MissingDependencyError(
            f"reading {path!r} needs imageio-ffmpeg (pip install imageio-ffmpeg); "
            "GIFs work without it") from None
    reader = imageio_ffmpeg.read_frames(path)
    meta = next(reader)
    width, height = meta["size"]
    frames = [np.frombuffer(chunk, np.uint8).reshape(height, width, 3).copy() for chunk in reader]
    return frames, float(meta.get("fps", 25))


def detect_frames(model, frames: list[np.ndarray], imgsz: int, score_threshold: float = 0.25,
                  iou_threshold: float = 0.5, batch: int = 16) -> list[dict[str, np.ndarray]]:
    """Detections per frame in the frame's own pixel coordinates (xyxy), sorted by score."""
    import torch

    results = []
    for start in range(0, len(frames), batch):
        squares, fits = zip(*(letterbox(frame, imgsz) for frame in frames[start:start + batch]))
        images = torch.from_numpy(np.stack(squares)).permute(0, 3, 1, 2).float() / 255
        with torch.no_grad():
            found = decode(model(images), model.strides, score_threshold, iou_threshold)
        for detections, fit in zip(found, fits):
            results.append({"boxes": _to_frame(detections["boxes"].numpy(), fit),
                            "scores": detections["scores"].numpy(),
                            "classes": detections["classes"].numpy()})
    return results


def _to_frame(boxes: np.ndarray, fit: Letterbox) -> np.ndarray:
    return fit.to_original(boxes) if len(boxes) else boxes.reshape(0, 4)


def draw_detections(frame: np.ndarray, detections: dict, names: list[str]) -> np.ndarray:
    """A copy of ``frame`` with each box outlined in its class colour and labelled
    ``name score``."""
    from PIL import Image, ImageDraw

    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    line = max(1, round(min(frame.shape[:2]) / 160))
    for box, score, label in zip(detections["boxes"], detections["scores"],
                                 detections["classes"]):
        colour = SERIES_COLORS[int(label) % len(SERIES_COLORS)]
        x1, y1, x2, y2 = (float(v) for v in box)
        draw.rectangle((x1, y1, x2, y2), outline=colour, width=line)
        text = f"{names[int(label)]} {score:.2f}"
        left, top, right, bottom = draw.textbbox((x1, y1), text)
        lift = bottom - top + 2
        draw.rectangle((x1, y1 - lift, x1 + right - left + 4, y1), fill=colour)
        draw.text((x1 + 2, y1 - lift), text, fill="black")
    return np.asarray(image)


def _record(source: str, frame: int | None, detections: dict, names: list[str]) -> dict:
    return {"source": source, "frame": frame,
            "boxes": np.round(detections["boxes"], 2).tolist(),
            "scores": np.round(detections["scores"], 4).tolist(),
            "classes": detections["classes"].astype(int).tolist(),
            "names": [names[int(c)] for c in detections["classes"]]}


def predict(weights: str, source: str, out: str, score_threshold: float = 0.25,
            iou_threshold: float = 0.5) -> list[dict]:
    """Detect objects in ``source`` (image, folder, GIF or video) with the checkpoint
    ``weights``; write annotated files and ``detections.json`` into ``out``; return the records.

    >>> predict("runs/shapes/best.pt", "clip.gif", "runs/predict")   # doctest: +SKIP
    """
    model, checkpoint = load_detector(weights)
    names, imgsz = checkpoint["names"], checkpoint["train_config"]["imgsz"]
    os.makedirs(out, exist_ok=True)
    records = []
    if os.path.isfile(source) and source.lower().endswith(ANIMATIONS):
        frames, fps = read_frames(source)
        found = detect_frames(model, frames, imgsz, score_threshold, iou_threshold)
        drawn = [draw_detections(f, d, names) for f, d in zip(frames, found)]
        extension = ".gif" if source.lower().endswith(".gif") else ".mp4"
        stem = os.path.splitext(os.path.basename(source))[0]
        write_frames(drawn, os.path.join(out, stem + extension), fps)
        records = [_record(source, index, d, names) for index, d in enumerate(found)]
    else:
        paths = [source] if os.path.isfile(source) else [str(p) for p in image_files(source)]
        if not paths:
            raise MissingFileError(f"no images found in {source!r}")
        for path in paths:
            frame = load_image(path)
            detections = detect_frames(model, [frame], imgsz, score_threshold,
                                       iou_threshold)[0]
            _save_png(draw_detections(frame, detections, names),
                      os.path.join(out, os.path.splitext(os.path.basename(path))[0] + ".png"))
            records.append(_record(path, None, detections, names))
    write_bytes_atomically(os.path.join(out, "detections.json"),
                           json.dumps(records, indent=1).encode())
    return records


def _save_png(image: np.ndarray, path: str) -> None:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    write_bytes_atomically(path, buffer.getvalue())
