"""Benchmark: ELI5's Grad-CAM against ildl's on the explain benchmark's shapes CNN.

ELI5 (``eli5==0.16.0``) explains Keras 3 models only, with the TensorFlow backend, so it runs in a
separate environment (about 1.9 GB)::

    python3 -m venv eli5-env && eli5-env/bin/pip install tensorflow-cpu==2.21.0 keras==3.15.1 \\
        eli5==0.16.0 matplotlib numpy pillow
    python benchmarks/eli5_compare.py --eli5-python eli5-env/bin/python [--images 200]

This script (ildl's environment) writes the CNN of ``ildl.explain.default_task()`` and its first
``--images`` held-out images to an npz; ``eli5_gradcam.py`` (the eli5 environment, no ildl)
rebuilds the CNN in Keras with the same weights, checks that its probabilities equal ildl's and
times ``eli5.explain_prediction`` on each image; then ildl's ``explain(model, image,
method="gradcam")`` maps the same images for the same class (ildl's top class), timed the same
way (the whole call, after one untimed call). It prints one markdown table.

What eli5 0.16.0 computes (``eli5/keras/gradcam.py``): ``y`` is the model's output for the class,
here the softmax *probability* (the Grad-CAM paper uses the score before the softmax);
``A`` ``(H', W', K)`` the layer's output after its ReLU; ``a_k = mean_{h,w} dy / dA_k[h, w]``
(a TensorFlow gradient); the map is ``ReLU(sum_k a_k A_k) / (max + 1e-7)``, in [0, 1] at the
layer's ``H' x W'`` (8 x 8 here); only its drawing is resized to the image. ildl's Grad-CAM is
the same quantity (the probability's gradient, the activations after the ReLU, ReLU of the
weighted sum), not normalised, resized bilinearly to the image: the definitions match, so no
comparison on the logit is needed. Each eli5 call also builds a Keras ``Model`` from the layer to
the output and turns the input into a PIL image; that is part of its seconds. The maps are
compared at the image's size, eli5's resized with ildl's ``resize_bilinear``: Spearman's rank
correlation (blind to the scale) and the largest difference once each map is divided by its
maximum.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_ENVIRONMENT = ("python3 -m venv eli5-env && eli5-env/bin/pip install tensorflow-cpu==2.21.0 "
                    "keras==3.15.1 eli5==0.16.0 matplotlib numpy pillow")


def export_for_eli5(model, images: np.ndarray, path: str) -> None:
    """Write an ildl.nn ``Sequential``, ``images`` ``(N, H, W, C)`` and the model's probabilities
    on them ``(N, K)`` to the npz that ``eli5_gradcam.py`` reads (no pickle; its docstring gives
    the keys). Layer configs are ildl's constructor arguments, which are Keras's names.

    >>> export_for_eli5(task.model, task.images[:10], "shapes_cnn.npz")
    """
    from ildl.atomic import write_atomically

    architecture = {"input_shape": list(model.input_shape),
                    "layers": [{"class": type(layer).__name__, "config": layer.get_config(),
                                "weights": layer.weight_names()} for layer in model.layers]}
    arrays = {f"layer/{index}/{name}": weight for index, layer in enumerate(model.layers)
              for name, weight in zip(layer.weight_names(), layer.weights)}
    write_atomically(path, lambda file: np.savez(
        file, images=images, probabilities=model.predict(images),
        architecture=np.array(json.dumps(architecture)), **arrays))


def run_eli5(python: str, exported: str, out: str) -> dict:
    """Run ``eli5_gradcam.py`` with the eli5 environment's ``python`` on ``exported``; its
    results (``heatmaps``, ``seconds``, ``probabilities``, ``versions``)."""
    threads = {name: "2" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      "MKL_NUM_THREADS")}
    subprocess.run([python, os.path.join(HERE, "eli5_gradcam.py"), exported, out],
                   env={**os.environ, **threads}, check=True)
    with np.load(out, allow_pickle=False) as results:
        return {name: results[name] for name in results.files}


def ildl_heatmaps(model, images: np.ndarray, targets: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """ildl's Grad-CAM of class ``targets[i]`` on image ``i``: maps ``(N, H, W)`` and the
    seconds of each ``explain`` call ``(N,)``, after one untimed call (as for eli5)."""
    from ildl.explain import explain

    explain(model, images[0], int(targets[0]), method="gradcam")
    heatmaps, seconds = [], []
    for image, target in zip(images, targets):
        start = time.perf_counter()
        heatmaps.append(explain(model, image, int(target), method="gradcam").heatmap)
        seconds.append(time.perf_counter() - start)
    return np.stack(heatmaps), np.array(seconds)


def agreement(eli5_maps: np.ndarray, ildl_maps: np.ndarray) -> dict:
    """eli5's maps ``(N, h, w)`` resized to ildl's ``(N, H, W)``: Spearman's rank correlation per
    image, and the largest absolute difference of the two once each is divided by its maximum
    (NaN for a map without heat: nothing to rank)."""
    from ildl.explain.metrics import spearman
    from ildl.explain.resize import resize_bilinear

    resized = resize_bilinear(eli5_maps, ildl_maps.shape[1:])
    correlations = np.array([spearman(a, b) for a, b in zip(resized, ildl_maps)])
    peaks = [maps.max(axis=(1, 2), keepdims=True) for maps in (resized, ildl_maps)]
    with np.errstate(invalid="ignore", divide="ignore"):
        differences = np.abs(resized / peaks[0] - ildl_maps / peaks[1]).max(axis=(1, 2))
    return {"correlations": correlations, "differences": differences}


def print_table(count: int, ildl_seconds: np.ndarray, eli5: dict | None,
                ildl_probabilities: np.ndarray, compared: dict | None) -> None:
    """The markdown table: ildl's row, and eli5's when it ran."""
    print(f"\nGrad-CAM on the shapes CNN of ildl.explain.default_task(), last Conv2D (8x8), "
          f"{count} held-out 32x32 images, each map for ildl's top class; seconds per map: "
          f"median of the whole explain call\n")
    print("| explainer | seconds per map | rank corr. with ildl Grad-CAM (mean, min) "
          "| max abs diff of maps scaled to max 1 | max abs diff of probabilities |")
    print("|---|---:|---:|---:|---:|")
    print(f"| ildl Grad-CAM | {np.median(ildl_seconds):.4f} | 1 (itself) | 0 | 0 |")
    if eli5 is None:
        return
    versions = json.loads(str(eli5["versions"]))
    correlations, empty = compared["correlations"], np.isnan(compared["correlations"])
    probability_difference = np.abs(eli5["probabilities"] - ildl_probabilities).max()
    print(f"| ELI5 {versions['eli5']} Grad-CAM (keras {versions['keras']}, tensorflow "
          f"{versions['tensorflow']}) | {np.median(eli5['seconds']):.4f} "
          f"| {np.nanmean(correlations):.6f}, {np.nanmin(correlations):.6f} "
          f"| {np.nanmax(compared['differences']):.1e} | {probability_difference:.1e} |")
    worst = int(np.nanargmax(compared["differences"]))
    print(f"\nThe largest map difference is on image {worst}, whose top class has probability "
          f"{ildl_probabilities[worst].max():.6f}: near 1 the softmax's gradient is tiny and "
          "float32 rounding shows in it")
    if empty.any():
        print(f"\n{empty.sum()} of {count} images have a map without heat (all zero after the "
              "ReLU) in one of the two; they are left out of the correlation")


def main() -> None:
    from ildl.explain import default_task

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eli5-python", metavar="PYTHON",
                        help="python of an environment with eli5, keras 3 and TensorFlow: adds "
                             "ELI5's row")
    parser.add_argument("--images", type=int, default=200,
                        help="held-out images to explain (200: all of them)")
    args = parser.parse_args()
    if args.eli5_python and shutil.which(args.eli5_python) is None:
        parser.error(f"--eli5-python {args.eli5_python!r} is not an executable file; make the "
                     f"environment with\n    {MAKE_ENVIRONMENT}\nand pass eli5-env/bin/python")
    task = default_task()
    if not 1 <= args.images <= len(task.images):
        parser.error(f"--images must be between 1 and {len(task.images)} (the held-out images), "
                     f"got {args.images}")
    images = task.images[:args.images]
    probabilities = task.model.predict(images)
    targets = probabilities.argmax(axis=1)
    eli5 = compared = None
    if args.eli5_python:
        with tempfile.TemporaryDirectory() as folder:
            exported = os.path.join(folder, "shapes_cnn.npz")
            export_for_eli5(task.model, images, exported)
            eli5 = run_eli5(args.eli5_python, exported, os.path.join(folder, "eli5.npz"))
    else:
        print(f"ELI5's row is skipped: make its environment with\n    {MAKE_ENVIRONMENT}\n"
              f"and pass --eli5-python eli5-env/bin/python", file=sys.stderr)
    ildl_maps, ildl_seconds = ildl_heatmaps(task.model, images, targets)
    if eli5 is not None:
        compared = agreement(eli5["heatmaps"], ildl_maps)
    print_table(len(images), ildl_seconds, eli5, probabilities, compared)


if __name__ == "__main__":
    main()
