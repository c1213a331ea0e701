"""Benchmark: train ildl's detector on synthetic shapes within a CPU time budget.

Writes (or reuses) a synthetic dataset of 800 train / 200 val images of 160 px with 3 classes
(``ildl.data.shapes``), trains ``ildl.detect`` for ``--minutes`` (the schedule fitted to the
time, at most ``--epochs``; up-down flips on, as shapes have no "up") with 2 threads, and
prints one table: training time, epochs, mAP@0.5 and mAP@0.5:0.95 of the best checkpoint on the
validation split, and inference images/s (the 200 validation files read, detected and decoded,
batches of 32). Target: mAP@0.5 >= 0.9
within 15 minutes.

With ``--ultralytics PYTHON`` (the interpreter of a separate environment that has ultralytics),
``ultralytics_train.py`` trains YOLOv8n from scratch on the same data for the same minutes; its
detections are scored by the same evaluator (COCO definition) and printed as a second row.
The last columns score the same models on 200 scenes of ``other_shapes.py``, a generator that
shares no code with ``ildl.data.shapes`` (never trained on): does the detector know shapes, or
only one generator's habits?

    python benchmarks/detect_shapes.py [--minutes 15] [--epochs 100] [--size n]
        [--ultralytics /path/to/venv/bin/python]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from detection import ildl_detections, run_ultralytics, score, truth_by_path


def main() -> None:
    import torch

    import other_shapes
    from ildl.data.shapes import write_dataset
    from ildl.detect.checkpoint import load_detector
    from ildl.detect.dataset import DetectionDataset
    from ildl.detect.train import train

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--epochs", type=int, default=100,
                        help="longest schedule (100); the time limit shortens it to fit")
    parser.add_argument("--size", default="n", choices=("n", "s", "m"))
    parser.add_argument("--imgsz", type=int, default=192,
                        help="model input side (192: the 160-px images are enlarged so the "
                        "smallest objects cover more cells)")
    parser.add_argument("--data", default="runs/bench/shapes")
    parser.add_argument("--ultralytics", metavar="PYTHON",
                        help="python of an environment with ultralytics: adds a YOLOv8n row")
    args = parser.parse_args()
    torch.set_num_threads(2)
    data_yaml = os.path.abspath(os.path.join(args.data, "data.yaml"))
    if not os.path.exists(data_yaml):
        write_dataset(args.data, n_train=800, n_val=200, size=160, seed=0)
    other_yaml = os.path.abspath("runs/bench/other_shapes/data.yaml")
    if not os.path.exists(other_yaml):
        other_shapes.write("runs/bench/other_shapes", images=200)
    val = DetectionDataset(data_yaml, "val", args.imgsz)
    other_val = DetectionDataset(other_yaml, "val", args.imgsz)
    truth, other_truth = truth_by_path(val), truth_by_path(other_val)
    rows = []
    # Shapes have no "up": up-down flips are as valid as left-right ones (both models get them).
    result = train(data_yaml, epochs=args.epochs, size=args.size, imgsz=args.imgsz,
                   out="runs/bench/ildl", overwrite=True,
                   patience=args.epochs, time_limit=args.minutes, flipud=0.5, verbose=False,
                   mosaic=0.5, scale=0.3)  # tuned on shapes; the defaults are for photos
    model, _ = load_detector(result["best"])
    detections, rate = ildl_detections(model, val, args.imgsz)
    other_detections, _ = ildl_detections(model, other_val, args.imgsz)
    rows.append((f"ildl {args.size}", result["minutes"], len(result["history"]),
                 score(detections, truth, val.names), rate,
                 score(other_detections, other_truth, val.names)))
    if args.ultralytics:
        try:
            other = run_ultralytics(args.ultralytics, data_yaml, args.minutes, args.imgsz,
                                    [os.path.dirname(other_val.split.examples[0].image)])
        except subprocess.CalledProcessError as error:  # keep ildl's row; say what failed
            print(f"the Ultralytics run failed ({error}); its output is above")
            other = None
    if args.ultralytics and other:
        rows.append(("Ultralytics YOLOv8n", other["minutes"], other["epochs"],
                     score(other["detections"], truth, val.names), other["images_per_second"],
                     score(other["detections"], other_truth, val.names)))
    print(f"\nSynthetic shapes: 800/200 images of 160 px, 3 classes, {args.minutes:g}-minute "
          f"budget, 2 threads, python {sys.version.split()[0]}, torch {torch.__version__}\n")
    print("| model | training | epochs | mAP@0.5 | mAP@0.5:0.95 | inference images/s "
          "| other generator: mAP@0.5 | mAP@0.5:0.95 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, minutes, epochs, found, images_per_second, elsewhere in rows:
        print(f"| {name} | {minutes:.1f} min | {epochs} | {found.map50:.3f} | "
              f"{found.map50_95:.3f} | {images_per_second:,.0f} | {elsewhere.map50:.3f} | "
              f"{elsewhere.map50_95:.3f} |")


if __name__ == "__main__":
    main()
