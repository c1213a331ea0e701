"""Benchmark: train ildl's detector on synthetic shapes within a CPU time budget.

Writes (or reuses) a synthetic dataset of 800 train / 200 val images of 160 px with 3 classes
(``ildl.data.shapes``), trains ``ildl.detect`` (schedule of ``--epochs``, stopped at
``--minutes``) on this machine with 2 threads, and prints one table: training time, epochs,
mAP@0.5 and mAP@0.5:0.95 of the best checkpoint on the validation split, and inference images/s
(batch 32, forward + decoding + NMS). Target: mAP@0.5 >= 0.9 within 15 minutes.

    python benchmarks/detect_shapes.py [--minutes 15] [--epochs 60] [--size n]
"""

from __future__ import annotations

import argparse
import os
import time


def inference_speed(model, imgsz: int, batch: int = 32, repeats: int = 10) -> float:
    """Images per second of the forward pass plus decoding and NMS."""
    import torch

    from ildl.detect.nms import decode

    images = torch.rand(batch, 3, imgsz, imgsz)
    with torch.no_grad():
        decode(model(images), model.strides)  # warm up
        start = time.perf_counter()
        for _ in range(repeats):
            decode(model(images), model.strides)
    return batch * repeats / (time.perf_counter() - start)


def main() -> None:
    import torch

    from ildl.data.shapes import write_dataset
    from ildl.detect.dataset import DetectionDataset
    from ildl.detect.train import evaluate, load_detector, train

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--epochs", type=int, default=60, help="schedule length (60)")
    parser.add_argument("--size", default="n", choices=("n", "s", "m"))
    parser.add_argument("--data", default="runs/bench/shapes")
    args = parser.parse_args()
    torch.set_num_threads(2)
    data_yaml = os.path.join(args.data, "data.yaml")
    if not os.path.exists(data_yaml):
        write_dataset(args.data, n_train=800, n_val=200, size=160, seed=0)
    result = train(data_yaml, epochs=args.epochs, size=args.size, out="runs/bench/ildl",
                   patience=args.epochs, time_limit=args.minutes, verbose=False)
    model, _ = load_detector(result["best"])
    metrics = evaluate(model, DetectionDataset(data_yaml, "val", 160))
    print(f"ildl.detect on synthetic shapes: 800/200 images of 160 px, 3 classes, "
          f"{args.minutes:g}-minute budget, 2 threads\n")
    print("| model | training | epochs | mAP@0.5 | mAP@0.5:0.95 | inference images/s |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| ildl {args.size} | {result['minutes']:.1f} min | {len(result['history'])} | "
          f"{metrics.map50:.3f} | {metrics.map50_95:.3f} | {inference_speed(model, 160):,.0f} |")
    print("\n(An Ultralytics YOLOv8n row needs ultralytics in a separate environment with "
          "torch 2.14.1; not run here.)")


if __name__ == "__main__":
    main()
