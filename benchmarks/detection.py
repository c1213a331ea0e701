"""Shared by the detection benchmarks: ground truth and detections keyed by image path, scored
by ildl's COCO evaluator, and the Ultralytics run in its own environment."""

from __future__ import annotations

import json
import os
import subprocess
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def truth_by_path(dataset) -> dict[str, dict]:
    """Ground truth of every image of a split in its own pixels (xyxy), keyed by absolute path."""
    from ildl.detect.boxes import cxcywh_to_xyxy

    truth = {}
    for example in dataset.split.examples:
        width, height = example.size
        boxes = cxcywh_to_xyxy(example.boxes * np.array([width, height, width, height]))
        truth[os.path.abspath(example.image)] = {"boxes": boxes, "classes": example.classes}
    return truth


def score(detections: dict[str, dict], truth: dict[str, dict], names: list[str],
          max_detections: int | None = 100):
    """COCO metrics of detections keyed by image path against ``truth_by_path``, counting the
    ``max_detections`` best per image and class (COCO's 100; None: all)."""
    from ildl.detect.metrics import DetectionEvaluator

    evaluator = DetectionEvaluator(names, max_detections=max_detections)
    empty = {"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "classes": np.zeros(0, int)}
    for path, target in truth.items():
        found = detections.get(path, empty)
        evaluator.add({name: np.asarray(value) for name, value in found.items()}, target)
    return evaluator.compute()


def ildl_detections(model, dataset, imgsz: int) -> tuple[dict[str, dict], float]:
    """Detections of every image of ``dataset`` read from its file, and images per second."""
    from ildl.detect.dataset import load_image
    from ildl.detect.inference import detect_frames

    paths = [os.path.abspath(example.image) for example in dataset.split.examples]
    start = time.perf_counter()
    found = detect_frames(model, [load_image(path) for path in paths], imgsz,
                          score_threshold=0.001, batch=32)
    rate = len(paths) / (time.perf_counter() - start)
    return dict(zip(paths, found)), rate


def run_ultralytics(python: str, data_yaml: str, minutes: float, imgsz: int, also: list[str],
                    project: str = "runs/bench/ultralytics", options: tuple = ()) -> dict:
    """Train YOLOv8n in the environment of ``python`` (``ultralytics_train.py``, its
    ``options`` passed on) and return what it wrote: minutes, epochs, images/s, detections."""
    out = os.path.abspath(project) + ".json"
    os.makedirs(os.path.dirname(out), exist_ok=True)
    subprocess.run([python, os.path.join(HERE, "ultralytics_train.py"), data_yaml, out,
                    "--minutes", str(minutes), "--imgsz", str(imgsz), "--project",
                    os.path.abspath(project), *options, "--also", *also], check=True)
    with open(out) as file:
        return json.load(file)
