"""Gallery figure ``object_detection``: a detector trained on synthetic shapes, run on a video.

A nano ``ildl.detect`` detector is trained on a synthetic dataset (``ildl.data.shapes``) and then
watches a synthetic video it has never seen: shapes moving, spinning and crossing over a cluttered
background. The GIF shows its boxes frame by frame, one per object (class-agnostic NMS: a young
detector often scores one shape as a circle and as a square, and per-class NMS would keep both
boxes); the PNG shows four frames beside the validation mAP of every training epoch, titled with
the mAP on the video itself (measured the standard way, per class and at every score).

Training takes a few minutes, so the dataset and the detector are kept in
``$ILDL_CACHE/gallery/object_detection`` (``~/.cache/ildl/...``): the next gallery reuses them, and
an interrupted training resumes from its last checkpoint. Needs PyTorch (``ildl[torch]``).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict

import numpy as np

from ..cache import cache_dir
from ..graphics import SERIES_COLORS, save_figure, themed, write_frames
from .registry import Figure, RenderOptions, register

# The video's objects span 12-30% of the frame: train on that range (and a little beyond).
DATASET = {"n_train": 600, "n_val": 100, "size": 160, "min_scale": 0.1, "max_scale": 0.36,
           "max_objects": 5, "seed": 1}
# mosaic and zoom tuned on the shapes (the command's defaults are Ultralytics', for photos)
TRAINING = {"epochs": 24, "size": "n", "patience": 24, "mosaic": 0.5, "scale": 0.3}
QUICK_DATASET = {**DATASET, "n_train": 32, "n_val": 8}
QUICK_TRAINING = {"epochs": 1, "size": "n", "batch": 16}
VIDEO = {"n_frames": 72, "size": 320, "n_objects": 5, "seed": 7, "fps": 12}
QUICK_VIDEO = {**VIDEO, "n_frames": 4, "size": 160}
SHOWN_SCORE = 0.3  # boxes drawn on the video; mAP uses every score
# An epoch of TRAINING with its validation, measured on an idle 2-core machine (8.5 s + 1 s).
SECONDS_PER_EPOCH = 10
# The video's pixel noise (a standard deviation of up to 8 levels, new in every frame) would
# make every pixel of every GIF frame new: changes this small are not stored (the GIF 5.4 MB ->
# under 3, with no difference to the eye).
GIF_TOLERANCE = 10


def trained_detector(folder: str, dataset: dict, training: dict,
                     verbose: bool = False) -> tuple[str, list[dict]]:
    """Train (or reuse, or resume) a detector in ``folder``; returns (best checkpoint, history).

    The dataset is written once to ``folder/shapes``. A finished run whose configuration matches
    ``training`` is reused as it is; an unfinished one resumes from ``last.pt``.
    """
    from ..data.shapes import write_dataset
    from ..detect.train import train

    data_yaml = os.path.join(folder, "shapes", "data.yaml")
    if not os.path.exists(data_yaml):  # written last: its presence means the dataset is whole
        write_dataset(os.path.join(folder, "shapes"), overwrite=True, **dataset)
    out = os.path.join(folder, "detector")
    epochs_done, history = _run_so_far(folder, training)
    if epochs_done >= training["epochs"]:
        return os.path.join(out, "best.pt"), history
    # not resumed: a run of another configuration (or none) is replaced
    result = train(data_yaml, out=out, resume=epochs_done > 0, overwrite=epochs_done == 0,
                   verbose=verbose, **training)
    return result["best"], result["history"]


def _run_so_far(folder: str, training: dict) -> tuple[int, list[dict]]:
    """(epochs trained, their history) by the run of ``training`` in ``folder``; (0, []) when
    there is none or it was made with another configuration."""
    from ..detect.checkpoint import load_checkpoint
    from ..detect.config import TrainConfig

    data_yaml = os.path.join(folder, "shapes", "data.yaml")
    out = os.path.join(folder, "detector")
    last, best = os.path.join(out, "last.pt"), os.path.join(out, "best.pt")
    if not (os.path.exists(data_yaml) and os.path.exists(last) and os.path.exists(best)):
        return 0, []
    checkpoint = load_checkpoint(last)
    # Compared without its paths, so that a cache folder moved or copied elsewhere still counts.
    wanted = asdict(TrainConfig(data=data_yaml, out=out, **training))
    if _without_paths(checkpoint["train_config"]) != _without_paths(wanted):
        return 0, []
    return checkpoint["epoch"] + 1, list(checkpoint["history"])


def _cache_folder() -> str:
    return cache_dir(os.path.join("gallery", "object_detection"))


def _without_paths(config: dict) -> dict:
    return {name: value for name, value in config.items() if name not in ("data", "out")}


def _long_work(options: RenderOptions) -> str:
    """The training still to do before the next render, or "" once the detector is cached."""
    epochs_done, _ = _run_so_far(_cache_folder(), TRAINING)
    epochs = TRAINING["epochs"] - epochs_done
    if epochs <= 0:
        return ""
    minutes = round(epochs * SECONDS_PER_EPOCH / 60)
    duration = f"{minutes} minutes" if minutes > 1 else "a minute or less"
    return (f"trains a detector on synthetic shapes for {epochs} epoch{'s' * (epochs != 1)}: "
            f"about {duration} on an idle 2-core machine, twice that on a busy one")


def video_map50(found: list[dict], video, names: list[str]) -> float:
    """mAP@0.5 of the detections ``found`` against the video's ground truth (COCO definition)."""
    from ..detect.boxes import cxcywh_to_xyxy, normalized_to_pixels
    from ..detect.metrics import DetectionEvaluator

    evaluator = DetectionEvaluator(names)
    height, width = video.frames[0].shape[:2]
    for detections, boxes, classes in zip(found, video.boxes, video.classes):
        corners = normalized_to_pixels(cxcywh_to_xyxy(boxes), width, height)
        evaluator.add(detections, {"boxes": corners, "classes": classes})
    return evaluator.compute().map50


def write_annotated_video(frames: list[np.ndarray], found: list[dict], names: list[str],
                          path: str, fps: float) -> list[np.ndarray]:
    """Draw the detections ``found`` (one dict per frame) on ``frames`` (H, W, 3) uint8 and
    write them to ``path`` (.gif or .mp4); returns the drawn frames."""
    from ..detect.predict import draw_detections

    drawn = [draw_detections(frame, detections, names)
             for frame, detections in zip(frames, found)]
    write_frames(drawn, path, fps, tolerance=GIF_TOLERANCE)
    return drawn


def _plot_summary(frames: list[np.ndarray], history: list[dict], title: str):
    """Four frames in two rows at their own size (320 pixels at 100 dpi), the validation mAP
    per epoch beside them."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    height, width = frames[0].shape[:2]
    frame_inches = width / 100, height / 100
    figure = plt.figure(figsize=(2 * frame_inches[0] + 3.6, 2 * frame_inches[1] + 0.6),
                        layout="constrained")
    grid = figure.add_gridspec(2, 3, width_ratios=[frame_inches[0]] * 2 + [3.4])
    for index, frame in enumerate(frames):
        ax = figure.add_subplot(grid[index // 2, index % 2])
        ax.imshow(frame)
        ax.axis("off")
    curve = figure.add_subplot(grid[:, 2])
    epochs = [row["epoch"] for row in history]
    curve.plot(epochs, [row["map50"] for row in history], marker="o", color=SERIES_COLORS[0],
               label="mAP@0.5")
    curve.plot(epochs, [row["map50_95"] for row in history], marker="o", color=SERIES_COLORS[3],
               label="mAP@0.5:0.95")
    curve.set_xlabel("epoch")
    curve.xaxis.set_major_locator(MaxNLocator(integer=True))
    curve.set_title("validation mAP per epoch")
    curve.set_ylim(0, 1)
    curve.grid(alpha=0.3)
    curve.legend(loc="lower right")
    figure.suptitle(title, fontsize=12)
    return figure


def _render_object_detection(out_dir: str, options: RenderOptions) -> list[str]:
    from ..data.shapes import make_video
    from ..detect.checkpoint import load_detector
    from ..detect.inference import detect_frames

    if options.quick:  # a throw-away detector: the figure's plumbing, not its quality
        with tempfile.TemporaryDirectory() as folder:
            best, history = trained_detector(folder, QUICK_DATASET, QUICK_TRAINING)
            model, checkpoint = load_detector(best)
        video_options = QUICK_VIDEO
    else:
        best, history = trained_detector(_cache_folder(), DATASET, TRAINING, verbose=True)
        model, checkpoint = load_detector(best)
        video_options = VIDEO
    video = make_video(**video_options)
    imgsz = checkpoint["train_config"]["imgsz"]
    scored = detect_frames(model, video.frames, imgsz, score_threshold=0.001)
    shown = detect_frames(model, video.frames, imgsz, score_threshold=SHOWN_SCORE, agnostic=True)
    names = checkpoint["names"]
    animation = f"object_detection.{options.format}"
    drawn = write_annotated_video(video.frames, shown, names, os.path.join(out_dir, animation),
                                  video_options["fps"])
    with themed(options.theme):
        figure = _plot_summary(drawn[:: max(1, len(drawn) // 4)][:4], history, (
            f"ildl.detect ({model.size}) after {len(history)} epochs on "
            f"{DATASET['n_train'] if not options.quick else QUICK_DATASET['n_train']} synthetic "
            f"scenes: mAP@0.5 {video_map50(scored, video, names):.2f} on a video it never saw"))
        save_figure(figure, os.path.join(out_dir, "object_detection.png"), options.still_dpi)
    return [animation, "object_detection.png"]


register(Figure(
    "object_detection",
    "A nano YOLO-style detector (ildl.detect), trained in a few minutes on synthetic shapes, "
    "watches a video it has never seen: circles, squares and triangles moving, spinning and "
    "crossing over clutter. Boxes scored 0.3 and above are drawn, one per object (class-agnostic "
    "NMS); the summary gives its validation mAP per epoch and its mAP on the video. Trained "
    "once, then cached.",
    "from ildl.data.shapes import make_video, write_dataset\n"
    "from ildl.detect.predict import detect_frames, draw_detections\n"
    "from ildl.detect.checkpoint import load_detector\n"
    "from ildl.detect.train import train\n"
    "from ildl.graphics import write_frames\n"
    "data = write_dataset('shapes', n_train=600, n_val=100, min_scale=0.1, max_scale=0.36)\n"
    "model, checkpoint = load_detector(train(data, epochs=24)['best'])\n"
    "video = make_video(n_frames=72, size=320, n_objects=5, seed=7)\n"
    "found = detect_frames(model, video.frames, imgsz=160, score_threshold=0.3, agnostic=True)\n"
    "write_frames([draw_detections(f, d, checkpoint['names'])\n"
    "              for f, d in zip(video.frames, found)], 'object_detection.gif', fps=12,\n"
    "             tolerance=10)",
    _render_object_detection,
    requires=("torch",),
    long_work=_long_work,
))
