"""Train Ultralytics YOLOv8n from scratch for a time budget and write its validation detections.

Runs inside a *separate* environment that has ultralytics (it needs torch 2.14.1 and
torchvision, which ildl's environment must not have); ``detect_shapes.py --ultralytics PYTHON``
and ``detect_trees.py --ultralytics PYTHON`` call it and score the detections with ildl's COCO
evaluator, so both models are measured by the same code. Nothing here imports ildl.

    python ultralytics_train.py DATA_YAML OUT_JSON --minutes 15 --imgsz 160 [--batch 32]
        [--flipud 0.5] [--max-det 100] [--also FOLDER ...]

Writes ``OUT_JSON``: {"minutes", "epochs", "images_per_second", "detections": {image path:
{"boxes": [[x1, y1, x2, y2], ...] pixels, "scores", "classes"}}}.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("out")
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--imgsz", type=int, default=160)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--flipud", type=float, default=0.5,
                        help="up-down flips: for scenes with no 'up' (shapes, aerial photos)")
    parser.add_argument("--max-det", type=int, default=100, help="detections kept per image")
    parser.add_argument("--project", default="runs/bench/ultralytics")
    parser.add_argument("--also", nargs="*", default=[],
                        help="more image folders to detect on (not timed)")
    args = parser.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "1")  # never try to fetch weights or fonts
    os.environ.setdefault("YOLO_CONFIG_DIR", os.path.abspath(args.project))  # not in ~/.config
    import torch
    from ultralytics import YOLO

    torch.set_num_threads(2)
    model = YOLO("yolov8n.yaml")  # the architecture only: trained from scratch, as ildl's
    start = time.perf_counter()
    # ``time`` (hours) overrides epochs: Ultralytics fits its schedule to the budget.
    model.train(data=args.data, imgsz=args.imgsz, batch=args.batch, time=args.minutes / 60,
                epochs=1000, device="cpu", pretrained=False, amp=False, plots=False,
                flipud=args.flipud,
                project=args.project, name="yolov8n", exist_ok=True, seed=0, verbose=False)
    minutes = (time.perf_counter() - start) / 60
    best = Path(args.project) / "yolov8n" / "weights" / "best.pt"
    trained = YOLO(str(best))
    with open(Path(args.project) / "yolov8n" / "results.csv") as file:
        epochs = sum(1 for _ in file) - 1  # a header, then one row per epoch
    detections = {}

    def detect(folder: Path) -> int:
        images = sorted(str(path) for path in folder.iterdir())
        for result in trained.predict(images, imgsz=args.imgsz, conf=0.001, iou=0.7,
                                      max_det=args.max_det, device="cpu", verbose=False,
                                      stream=True, batch=32):
            boxes = result.boxes
            detections[os.path.abspath(result.path)] = {
                "boxes": boxes.xyxy.tolist(), "scores": boxes.conf.tolist(),
                "classes": boxes.cls.int().tolist()}
        return len(images)

    predict_start = time.perf_counter()
    rate = detect(Path(args.data).parent / "images" / "val") / (
        time.perf_counter() - predict_start)
    for folder in args.also:
        detect(Path(folder))
    with open(args.out, "w") as file:
        json.dump({"minutes": minutes, "epochs": epochs, "images_per_second": rate,
                   "detections": detections}, file)


if __name__ == "__main__":
    main()
