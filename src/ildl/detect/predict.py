"""Run a trained detector on images, folders, GIFs and videos; draw and save what it finds.

``predict(weights, source, out)`` accepts an image file, a folder of images, or an animation /
video (.gif, or .mp4 and friends when imageio-ffmpeg is installed). Each frame is letterboxed to
the model's square input, detected, and the boxes are mapped back to the frame's own pixels.
Outputs in ``out``: annotated images (as .png, in the source folder's subfolders) or an annotated
GIF/MP4 for an animation, and ``detections.json``, one entry per image or frame: ``{"source",
"frame", "boxes": [[x1, y1, x2, y2], ...] (pixels), "scores", "classes", "names"}``. An output
never replaces an input. ``tile=`` cuts images larger than the model's input into overlapping
tiles and merges what they find (``sliced``).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import numpy as np

from ..atomic import write_bytes_atomically
from ..errors import ArgumentError, MissingDependencyError, MissingFileError, OverwriteError
from ..graphics import SERIES_COLORS, write_frames
from ..outputs import check_out_folder, make_out_folder
from ..validation import check_integer
from .boxes import box_intersection
from .checkpoint import load_detector
from .config import PATH
from .data_yaml import IMAGE_SUFFIXES, image_files
from .images import load_image
from .inference import MAX_DETECTIONS, detect_frames  # detect_frames lived here before
from .sliced import detect_tiled
from .tiles import DEFAULT_OVERLAP, check_tiling

ANIMATIONS = (".gif", ".mp4", ".avi", ".mov", ".mkv", ".webm")
#: Images with more boxes than this are drawn with outlines only (see ``draw_detections``).
MAX_LABELLED = 100
#: Height of the labels' text on images up to 640 pixels (larger images: in proportion).
LABEL_PIXELS = 12


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


def draw_detections(frame: np.ndarray, detections: dict, names: list[str]) -> np.ndarray:
    """A copy of ``frame`` with each box outlined in its class colour and labelled
    ``name score``; ``name`` alone for ground-truth labels (``detections`` without "scores").

    Sized to be read with the image seen whole: labels of 12 pixels (Ultralytics' smallest) up
    to 640-pixel images and in proportion above (a 2472-pixel orthophoto shown on a screen is
    shrunk about four times); lines of a 160th of the image's shorter side, but never more than a
    tenth of a box's side, so they do not hide small objects. Labels are drawn over all the
    outlines, so no outline crosses a label, and where two boxes are close they do not cover
    each other: see ``label_positions``. Beyond ``MAX_LABELLED`` boxes only the outlines are
    drawn: hundreds of labels would cover what they name (names and scores are in
    detections.json).
    """
    from PIL import Image, ImageDraw

    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    font = _label_font(max(LABEL_PIXELS, round(LABEL_PIXELS * max(frame.shape[:2]) / 640)))
    line = max(1, round(min(frame.shape[:2]) / 160))
    boxes = np.asarray(detections["boxes"], dtype=float).reshape(-1, 4)
    colours = [SERIES_COLORS[int(label) % len(SERIES_COLORS)] for label in detections["classes"]]
    for (x1, y1, x2, y2), colour in zip(boxes, colours):
        width = max(1, min(line, round(min(x2 - x1, y2 - y1) / 10)))
        draw.rectangle((x1, y1, x2, y2), outline=colour, width=width)
    if len(boxes) > MAX_LABELLED:
        return np.asarray(image)
    scores = detections.get("scores")
    texts = [names[int(label)] if scores is None else f"{names[int(label)]} {scores[index]:.2f}"
             for index, label in enumerate(detections["classes"])]
    text_boxes = [draw.textbbox((0, 0), text, font=font) for text in texts]
    sizes = np.array([(right - left + 4, bottom - top + 2)  # 2 px, 1 px margins
                      for left, top, right, bottom in text_boxes], dtype=float).reshape(-1, 2)
    order = np.argsort(-np.asarray(scores), kind="stable") if scores is not None else None
    positions = label_positions(boxes, sizes, frame.shape[:2], order)
    for (x, y), (label_width, label_height), text, colour, (left, top, _, _) in zip(
            positions, sizes, texts, colours, text_boxes):
        draw.rectangle((x, y, x + label_width - 1, y + label_height - 1), fill=colour)
        draw.text((x + 2 - left, y + 1 - top), text, fill="black", font=font)
    return np.asarray(image)


def label_positions(boxes: np.ndarray, sizes: np.ndarray, image_hw: tuple[int, int],
                    order: np.ndarray | None = None) -> np.ndarray:
    """Top-left corners (N, 2) for the labels (sizes (N, 2): width, height) of xyxy ``boxes``
    (N, 4) on an image of ``image_hw``.

    A label goes on its box's top edge, else inside the box at its top, else under the box, else
    inside at its bottom: the first of these that covers no label placed before it (the spot
    that covers least when all do). Above or under the box only where the image has room for
    it; shifted left where it would run off the right side (but never off the left one).
    Labels are placed in ``order`` (the most confident first, so they get the best spots), else
    in the boxes' order.
    """
    height, width = image_hw
    placed = np.zeros((0, 4))
    positions = np.zeros((len(boxes), 2))
    for index in range(len(boxes)) if order is None else order:
        (x1, y1, _, y2), (label_width, label_height) = boxes[index], sizes[index]
        x = max(min(x1, width - label_width), 0)  # a label wider than the image: its start shows
        tops = [top for top, fits in ((y1 - label_height, y1 >= label_height), (y1, True),
                                      (y2, y2 + label_height <= height), (y2 - label_height, True))
                if fits]
        tops = [min(max(top, 0), height - label_height) for top in tops]
        spots = np.array([[x, top, x + label_width, top + label_height] for top in tops])
        covered = box_intersection(spots, placed).sum(axis=1)
        best = spots[int(np.argmin(covered))]  # the first of the least covered
        positions[index] = best[:2]
        placed = np.vstack([placed, best])
    return positions


def _label_font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow before 10.1: one bitmap font of one size
        return ImageFont.load_default()


def _record(source: str, frame: int | None, detections: dict, names: list[str]) -> dict:
    return {"source": source, "frame": frame,
            "boxes": np.round(detections["boxes"], 2).tolist(),
            "scores": np.round(detections["scores"], 4).tolist(),
            "classes": detections["classes"].astype(int).tolist(),
            "names": [names[int(c)] for c in detections["classes"]]}


def _check_threshold(value: float, name: str, option: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ArgumentError(f"{option} {value!r} is not valid: {name} must be a number from 0 "
                            "to 1")


def _annotated_names(images: list[Path], folder: Path) -> list[Path]:
    """Where each image of ``folder`` is drawn, relative to the output folder: its own relative
    path as .png (``a/x.jpg`` -> ``a/x.png``), so images of the same name in different subfolders
    stay apart; ``a/x.jpg.png`` when ``a/x.png`` is also an input."""
    relative = [image.relative_to(folder) for image in images]
    stems = Counter(path.with_suffix("") for path in relative)
    return [path.with_suffix(".png") if stems[path.with_suffix("")] == 1
            else path.with_name(path.name + ".png") for path in relative]


def _refuse_overlap(source: Path, out: Path) -> None:
    """Outputs must never land on an input: ``out`` may not be the source folder, lie inside it
    (its images would be read back as inputs next time) or contain it."""
    source, out = source.resolve(), out.resolve()
    if out == source or out.is_relative_to(source) or source.is_relative_to(out):
        where = ("is" if out == source else "is inside" if out.is_relative_to(source)
                 else "contains")
        raise OverwriteError(f"--out {out} {where} the source folder {source}: annotated "
                             "images would be written among the inputs; choose an --out "
                             "outside it")


def predict(weights: str, source: str, out: str, score_threshold: float = 0.25,
            iou_threshold: float = 0.5, tile: int | None = None, overlap: float = DEFAULT_OVERLAP,
            max_detections: int = MAX_DETECTIONS, verbose: bool = True,
            agnostic: bool = False) -> list[dict]:
    """Detect objects in ``source`` (image, folder, GIF or video) with the checkpoint
    ``weights``; write annotated files and ``detections.json`` into ``out``; return the records.

    The annotated image of ``source/a/x.jpg`` is ``out/a/x.png``. Nothing is written when an
    output would replace an input (``out`` is, is inside or contains a source folder, or an
    output file is the source file). With ``tile``, each image or frame is cut into tiles of
    ``tile`` pixels overlapping by ``overlap`` (``sliced.detect_tiled``; a progress bar over
    the tiles when ``verbose``). ``max_detections``: kept per model input (image, or tile).
    ``agnostic``: one box per object whatever its class (boxes of different classes suppress
    each other, as Ultralytics' ``agnostic_nms``), for a detector unsure between classes.

    >>> predict("runs/shapes/best.pt", "clip.gif", "runs/predict")   # doctest: +SKIP
    >>> predict("best.pt", "orthophoto.png", "runs/trees", tile=400)  # doctest: +SKIP
    """
    _check_threshold(score_threshold, "score_threshold", "--conf")
    _check_threshold(iou_threshold, "iou_threshold", "--iou")
    check_integer(max_detections, "max_detections", "--max-det", minimum=1)
    if tile is not None:
        check_tiling(tile, overlap)
    if not PATH.accepts(source):
        raise ArgumentError(f"--source {source!r} is not valid: it must be {PATH.expected}")
    check_out_folder(out, "annotated images and detections.json need a folder")
    if not os.path.exists(source):
        raise MissingFileError(f"--source {source!r}: no such image, folder or video")
    source_path, out_path = Path(source), Path(out)
    animation = source_path.is_file() and source.lower().endswith(ANIMATIONS)
    if source_path.is_dir():
        _refuse_overlap(source_path, out_path)
        images = image_files(source_path)
        if not images:
            raise MissingFileError(f"no images found in {source!r} (looked for "
                                   f"{', '.join(IMAGE_SUFFIXES)})")
        outputs = [out_path / name for name in _annotated_names(images, source_path)]
    else:
        images = [source_path]
        extension = (".gif" if source.lower().endswith(".gif") else ".mp4") if animation \
            else ".png"
        outputs = [out_path / (source_path.stem + extension)]
        if outputs[0].resolve() == source_path.resolve():
            raise OverwriteError(f"--out {out!r} would replace the source {source!r} with its "
                                 "annotated copy; choose another --out")
    model, checkpoint = load_detector(weights)
    names, imgsz = checkpoint["names"], checkpoint["train_config"]["imgsz"]

    def detect(frames: list[np.ndarray], title: str) -> list[dict]:
        if tile is None:
            return detect_frames(model, frames, imgsz, score_threshold, iou_threshold,
                                 max_detections=max_detections, agnostic=agnostic)
        return [detect_tiled(model, frame, imgsz, tile, overlap, score_threshold,
                             iou_threshold, max_detections=max_detections,
                             title=title if verbose else None, agnostic=agnostic)
                for frame in frames]

    make_out_folder(out)
    records = []
    if animation:
        frames, fps = read_frames(source)
        found = detect(frames, source_path.name)
        drawn = [draw_detections(f, d, names) for f, d in zip(frames, found)]
        write_frames(drawn, str(outputs[0]), fps)
        records = [_record(source, index, d, names) for index, d in enumerate(found)]
    else:
        for image, output in zip(images, outputs):
            frame = load_image(image)
            detections = detect([frame], image.name)[0]
            _save_png(draw_detections(frame, detections, names), output)
            records.append(_record(str(image), None, detections, names))
    write_bytes_atomically(os.path.join(out, "detections.json"),
                           json.dumps(records, indent=1).encode())
    return records


def _save_png(image: np.ndarray, path: Path) -> None:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    write_bytes_atomically(path, buffer.getvalue())
