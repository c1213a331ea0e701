"""Benchmark: ildl's detector against Ultralytics YOLOv8n on real aerial photos of trees.

The data are DeepForest's NEON photos with hand-drawn tree-crown boxes (``pip install --no-deps
deepforest==2.1.0``: only its data folder is used, never imported, never copied into ildl):

- **train**: ``2019_YELL_2_528000_4978000_image_crop2`` (2299x2472, 574 crowns) cut by
  ``ildl detect convert --tile 400 --overlap 0.2`` into 56 tiles;
- **val**: the other Yellowstone image ``2019_YELL_2_541000_4977000_image_crop`` (1249x1035,
  279 crowns), 12 tiles: the same site, a photo never trained on (the split is by image);
- **other sites**: ``OSBS_029`` (Florida, 61 crowns) and ``SOAP_061`` (California, 37, its
  Alive/Dead merged into one class by ``--map``), 400x400 each: never trained on.

Both detectors train from scratch at ``--imgsz 320`` for the same wall-clock minutes with 2
threads on the 2-core machine (ildl's ``--time-limit``, Ultralytics' ``time``), with the same
batch (16, Ultralytics' default) and up-down flips (aerial photos have no "up"), otherwise at
their defaults; both sets of detections are scored by ildl's COCO evaluator (``score_threshold
0.001``, up to 300 detections per image). Columns: mAP@0.5 and mAP@0.5:0.95 on the val tiles
and on the other sites; recall of small crowns (COCO's "small": area below 32x32 pixels) at IoU
0.5 among detections scoring at least 0.25 (predict's default), on the val tiles; inference
images/s on the val tiles; and ildl's seconds for the whole 2299x2472 orthophoto with ``--tile
400`` (56 tiles). It also writes ``OUT/crowns.png``: ildl's crowns on the whole val photo.

    python benchmarks/detect_trees.py [--minutes 15] [--ultralytics /path/to/venv/bin/python]
        [--out runs/bench/trees] [--reuse-ultralytics]

``--reuse-ultralytics`` scores the YOLOv8n run of an earlier call with the same ``--out``
(``OUT/ultralytics.json``: its minutes, epochs, speed and detections) instead of training it
again: the conversion writes the same files, so its detections still name them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from detection import ildl_detections, run_ultralytics, score, truth_by_path

TRAIN_IMAGE = "2019_YELL_2_528000_4978000_image_crop2"
VAL_IMAGE = "2019_YELL_2_541000_4977000_image_crop"
OTHER_SITES = ("OSBS_029", "SOAP_061")
IMGSZ, TILE, OVERLAP, BATCH = 320, 400, 0.2, 16
MAX_DETECTIONS = 300  # per image, as both detectors report (Ultralytics' max_det)
SMALL_AREA = 32 * 32  # COCO's "small" objects, in pixels of the photo
REPORTED_SCORE = 0.25  # predict's default threshold: what a user sees


def deepforest_data() -> str:
    """DeepForest's data folder, found without importing the package (its dependencies are
    heavy and not installed); exits with the install command when it is absent."""
    spec = importlib.util.find_spec("deepforest")
    if spec is None:
        sys.exit("this benchmark needs DeepForest's labelled photos: pip install --no-deps "
                 "deepforest==2.1.0")
    return os.path.join(spec.submodule_search_locations[0], "data")


def linked_sources(data: str, folder: str, stems: list[str]) -> str:
    """A folder of links to the VOC files and photos of ``stems``, so one conversion reads
    exactly those (the data folder holds others)."""
    os.makedirs(folder, exist_ok=True)
    for stem in stems:
        for suffix in (".xml", ".png"):
            link = os.path.join(folder, stem + suffix)
            if not os.path.lexists(link):
                os.symlink(os.path.join(data, stem + suffix), link)
    return folder


def convert(data: str, out: str) -> tuple[str, str]:
    """The two datasets, converted by ``convert_dataset`` as a user would: the tiled Yellowstone
    photos (train, val) and the other sites (val only). Returns both data.yaml paths."""
    from ildl.detect.convert import convert_dataset

    yellowstone = convert_dataset(
        linked_sources(data, f"{out}/sources/yellowstone", [TRAIN_IMAGE, VAL_IMAGE]),
        f"{out}/yellowstone", "voc", mapping={"Tree": "tree"}, tile=TILE, overlap=OVERLAP,
        val_images=[VAL_IMAGE + ".png"], overwrite=True)
    print(yellowstone.format_summary())
    sites = convert_dataset(linked_sources(data, f"{out}/sources/sites", list(OTHER_SITES)),
                            f"{out}/sites", "voc",
                            mapping={"Tree": "tree", "Alive": "tree", "Dead": "tree"},
                            val_images=[stem + ".png" for stem in OTHER_SITES], overwrite=True)
    print(sites.format_summary())
    return str(yellowstone.data_yaml), str(sites.data_yaml)


def small_recall(detections: dict[str, dict], truth: dict[str, dict]) -> float:
    """Share of the small crowns (area < ``SMALL_AREA``) matched at IoU >= 0.5 by a detection
    scoring at least ``REPORTED_SCORE``: COCO's greedy matching (``metrics.match_detections``)
    on the small crowns alone, so detections of large crowns cannot claim them."""
    from ildl.detect.boxes import box_area, box_iou
    from ildl.detect.metrics import match_detections

    found = total = 0
    for path, target in truth.items():
        small = target["boxes"][box_area(target["boxes"]) < SMALL_AREA]
        total += len(small)
        boxes = np.asarray(detections.get(path, {}).get("boxes", np.zeros((0, 4)))).reshape(-1, 4)
        scores = np.asarray(detections.get(path, {}).get("scores", np.zeros(0)))
        shown = scores >= REPORTED_SCORE
        kept = boxes[shown][np.argsort(-scores[shown], kind="mergesort")]
        if len(small) and len(kept):
            matches = match_detections(box_iou(kept, small), np.array([0.5]))[0]
            found += int((matches >= 0).sum())
    return found / max(total, 1)


def orthophoto_seconds(model, data: str) -> tuple[float, int]:
    """Seconds to detect in the whole 2299x2472 photo with 400-pixel tiles, and crowns found."""
    from ildl.detect.images import load_image
    from ildl.detect.sliced import detect_tiled

    photo = load_image(os.path.join(data, TRAIN_IMAGE + ".png"))
    start = time.perf_counter()
    found = detect_tiled(model, photo, IMGSZ, TILE, OVERLAP, score_threshold=REPORTED_SCORE)
    return time.perf_counter() - start, len(found["boxes"])


def crowns_figure(model, data: str, out: str) -> None:
    """The val photo (never trained on) twice, as a PNG: its labelled crowns, and ildl's
    (score >= 0.25, found in 400-pixel tiles)."""
    import matplotlib.pyplot as plt

    from ildl.detect.formats import READERS
    from ildl.detect.images import load_image
    from ildl.detect.predict import draw_detections
    from ildl.detect.sliced import detect_tiled
    from ildl.graphics import save_figure, themed

    photo = load_image(os.path.join(data, VAL_IMAGE + ".png"))
    (labelled,) = [image for image in READERS["voc"](Path(data), None).images
                   if image.path.stem == VAL_IMAGE]
    labels = {"boxes": labelled.boxes, "classes": np.zeros(len(labelled.boxes), int)}
    found = detect_tiled(model, photo, IMGSZ, TILE, OVERLAP, score_threshold=REPORTED_SCORE)
    with themed("light"):
        figure, axes = plt.subplots(1, 2, figsize=(14, 6.2))
        for axis, boxes, title in (
                (axes[0], labels, f"labelled: {len(labels['boxes'])} crowns"),
                (axes[1], found, f"ildl: {len(found['boxes'])} crowns at score >= "
                                 f"{REPORTED_SCORE}, tiles of {TILE} px")):
            axis.imshow(draw_detections(photo, boxes, ["tree"]))
            axis.set_title(title, fontsize=12)
            axis.axis("off")
        figure.suptitle(f"DeepForest's {VAL_IMAGE}, a photo the detector never trained on",
                        fontsize=12)
        save_figure(figure, os.path.join(out, "crowns.png"), tight=True)
        plt.close(figure)


def main() -> None:
    import torch

    from ildl.detect.checkpoint import load_detector
    from ildl.detect.dataset import DetectionDataset
    from ildl.detect.train import train

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--out", default="runs/bench/trees")
    parser.add_argument("--ultralytics", metavar="PYTHON",
                        help="python of an environment with ultralytics: adds a YOLOv8n row")
    parser.add_argument("--reuse-ultralytics", action="store_true",
                        help="score OUT/ultralytics.json of an earlier run, not a new one")
    args = parser.parse_args()
    torch.set_num_threads(2)
    data = deepforest_data()
    out = os.path.abspath(args.out)
    yellowstone_yaml, sites_yaml = convert(data, out)
    val = DetectionDataset(yellowstone_yaml, "val", IMGSZ)
    sites = DetectionDataset(sites_yaml, "val", IMGSZ)
    truth, sites_truth = truth_by_path(val), truth_by_path(sites)
    rows = []
    result = train(yellowstone_yaml, epochs=1000, imgsz=IMGSZ, batch=BATCH, flipud=0.5,
                   time_limit=args.minutes, out=f"{out}/ildl", overwrite=True, verbose=False)
    model, _ = load_detector(result["best"])
    detections, rate = ildl_detections(model, val, IMGSZ)
    sites_detections, _ = ildl_detections(model, sites, IMGSZ)
    seconds, crowns = orthophoto_seconds(model, data)
    rows.append(("ildl n", result["minutes"], len(result["history"]), detections,
                 sites_detections, rate, f"{seconds:.1f} s ({crowns} crowns)"))
    crowns_figure(model, data, out)
    if args.reuse_ultralytics:
        with open(f"{out}/ultralytics.json") as file:
            other = json.load(file)
    elif args.ultralytics:
        sites_folder = os.path.dirname(sites.split.examples[0].image)
        other = run_ultralytics(args.ultralytics, yellowstone_yaml, args.minutes, IMGSZ,
                                [sites_folder], project=f"{out}/ultralytics",
                                options=("--batch", str(BATCH), "--max-det", str(MAX_DETECTIONS)))
    if args.ultralytics or args.reuse_ultralytics:
        rows.append(("Ultralytics YOLOv8n", other["minutes"], other["epochs"],
                     other["detections"], other["detections"], other["images_per_second"], ""))
    print(f"\nDeepForest trees: {len(result['history'])} ildl epochs; train 56 tiles of one "
          f"Yellowstone photo, val 12 tiles of another, other sites OSBS_029 and SOAP_061; "
          f"{args.minutes:g}-minute budget each, imgsz {IMGSZ}, batch {BATCH}, 2 threads, "
          f"load average {os.getloadavg()[0]:.1f}, torch {torch.__version__}\n")
    print("| model | training | epochs | val mAP@0.5 | val mAP@0.5:0.95 | other sites mAP@0.5 "
          "| other sites mAP@0.5:0.95 | small-crown recall (val) | inference tiles/s "
          "| whole orthophoto, --tile 400 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, minutes, epochs, found, found_elsewhere, images_per_second, whole in rows:
        here = score(found, truth, val.names, MAX_DETECTIONS)
        elsewhere = score(found_elsewhere, sites_truth, val.names, MAX_DETECTIONS)
        print(f"| {name} | {minutes:.1f} min | {epochs} | {here.map50:.3f} | "
              f"{here.map50_95:.3f} | {elsewhere.map50:.3f} | {elsewhere.map50_95:.3f} | "
              f"{small_recall(found, truth):.3f} | {images_per_second:,.1f} | {whole} |")
    print(f"\nildl's crowns on the val photo: {out}/crowns.png")


if __name__ == "__main__":
    main()
