"""``run_benchmark``: every explainer on the same images, measured for cost and quality.

Two tasks. On the **shapes** (this module), held-out 32x32 images whose object masks are known,
each method explains the labelled class and is measured: seconds and model evaluations, deletion
and insertion AUC, pointing game, energy in the object's mask, and the rank correlation with its
explanation of a randomised copy of the model (``ildl.explain.metrics`` defines each number).
On real **photos** (``ildl.explain.bench_photos``), which have no masks, a pretrained network is
measured for cost, faithfulness under two baselines and the cascading randomisation check. A row
of uniform noise, ``random``, is the floor. The shapes table goes to ``explain_bench.md`` and
``explain_bench.csv``, the mean deletion and insertion curves to ``explain_curves.png``; the
photos' report to ``explain_photos.md`` and its companions (``ildl.explain.bench_report``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentError
from ..progress import ProgressBar
from ..validation import check_integer
from .bench_methods import (
    RANDOM,
    Unsupported,
    check_supported,
    chosen_methods,
    heatmap_and_cost,
    mean_of_numbers,
    method_options,
)
from .bench_photos import PhotoBenchOptions, run_photo_benchmark
from .bench_report import BenchSettings, write_report
from .metrics import (
    auc,
    deletion_curve,
    energy_in_mask,
    insertion_curve,
    pointing_game,
    sanity_correlation,
)
from .models import Classifier
from .randomize import randomized_copy
from .shapes_task import FULL, QUICK, TaskConfig, accuracy, cached_model, make_shapes
from .sources import as_classifier, load_model_file

# A maximum within 2 pixels of the object counts as a hit: Zhang et al.'s 15 pixels on 224-pixel
# images, scaled to 32 pixels.
TOLERANCE = 2


@dataclass
class MethodScores:
    """One method's measurements, one entry per image; ``row`` averages them.

    ``deletion`` and ``insertion`` hold the curves ``(steps + 1,)``, the other lists numbers.
    """

    method: str
    seconds: list = field(default_factory=list)
    evaluations: list = field(default_factory=list)
    deletion: list = field(default_factory=list)
    insertion: list = field(default_factory=list)
    pointing: list = field(default_factory=list)
    energy: list = field(default_factory=list)
    sanity: list = field(default_factory=list)

    def row(self) -> dict:
        """The method's line of the table: means over the images."""
        return {
            "method": self.method,
            "images": len(self.seconds),
            "seconds": float(np.mean(self.seconds)),
            "evaluations": float(np.mean(self.evaluations)),
            "deletion_auc": float(np.mean([auc(curve) for curve in self.deletion])),
            "insertion_auc": float(np.mean([auc(curve) for curve in self.insertion])),
            "pointing_game": float(np.mean(self.pointing)),
            "energy_in_mask": float(np.mean(self.energy)),
            # NaN where a map is constant (no ranking); such images are left out of the mean
            "sanity_rank_correlation": mean_of_numbers(self.sanity),
        }

    def mean_curves(self) -> tuple[np.ndarray, np.ndarray]:
        """The mean deletion and insertion curves over the images, each ``(steps + 1,)``."""
        return np.mean(self.deletion, axis=0), np.mean(self.insertion, axis=0)


@dataclass(frozen=True)
class _Run:
    """What every method is measured on: the model, its randomised copy and the images."""

    classifier: Classifier
    control: Classifier  # the same architecture with re-initialised weights
    images: np.ndarray  # (N, H, W, C) the held-out images explained
    labels: np.ndarray  # (N,) the class each explanation is for
    masks: np.ndarray  # (N, H, W) the objects' pixels
    steps: int
    seed: int
    quick: bool
    verbose: int


TASKS = ("shapes", "photos")
# Model files the shapes task reads itself (ildl.nn models, TorchScript modules); a pretrained
# name or an ONNX file takes photos.
SHAPES_MODEL_FILES = (".ildl", ".pt", ".pth", ".ts")


def run_benchmark(model=None, images: int | None = None, methods: Sequence[str] | None = None,
                  out_dir: str | os.PathLike = "explain_bench", quick: bool = False,
                  seed: int = 0, steps: int | None = None, verbose: int = 1, *,
                  task: str | None = None, photos: Sequence[str | os.PathLike] | None = None,
                  sanity_images: int | None = None) -> list[dict]:
    """Explain images with each method and measure the explanations; writes the report into
    ``out_dir`` and returns one dict per method (the CSV's columns).

    Two tasks (``task``; by default ``"photos"`` when ``photos`` are given or ``model`` is a
    pretrained name such as ``"efficientnet-lite0"``, an ONNX file or a classifier with
    preprocessing, else ``"shapes"``):

    - ``"shapes"``: ``images`` held-out 32x32 shape images whose object masks are known
      (default 100, 12 with ``quick``), each explained for its labelled class: cost,
      deletion/insertion AUC on black, pointing game, energy in mask, rank correlation with the
      map of a randomised copy. ``model``: None (the default CNN of ``shapes_task``, trained and
      cached on first use), an ildl.nn ``Sequential``, a ``torch.nn.Module`` taking NCHW images,
      or the path of either (``load_model_file``), giving probabilities of the task's classes
      (circle, square, triangle). ``steps`` default 32. Report: ``bench_report.SHAPES_FILES``;
      3.5 min on one core.
    - ``"photos"``: real photographs (``photos``: file paths, default ``sample_photos()``; the
      first ``images`` of them, default all, 2 with ``quick``), each explained for the model's
      top-1 class: cost, deletion and insertion AUC on black and on the blurred photo, and the
      cascading randomisation on the first ``sanity_images`` (default 1); see
      ``ildl.explain.bench_photos``. ``model``: anything ``as_classifier`` takes. ``steps``
      default 16 (8 with ``quick``). Report: ``bench_report.PHOTO_FILES``. The time of the
      whole run is printed after the first photo; with every method at its defaults on
      EfficientNet-Lite0, the 8 photos take tens of minutes on 2 cores (see the README).

    ``methods``: names from ``METHODS`` (default: all); the ``random`` floor is always added. A
    method that cannot run (an optional package is missing, a gradient method on a model without
    gradients) is skipped with a note in the report. ``quick``: fewer images and fewer samples
    per method. ``steps``: points of the deletion and insertion curves after the first.

    >>> rows = run_benchmark(images=20, methods=["gradcam", "occlusion"], out_dir="bench")
    >>> [(row["method"], round(row["insertion_auc"], 2)) for row in rows]
    [('gradcam', 0.56), ('occlusion', 0.85), ('random', 0.39)]
    >>> rows = run_benchmark("efficientnet-lite0", methods=["gradcam", "occlusion"])
    >>> rows[0]["insertion_auc_blurred"], rows[0]["cascade"]["stem"]
    """
    # Checked before any model is loaded or trained (a bad seed used to fail after the CNN trained).
    check_integer(seed, "seed", "run_benchmark", minimum=0)
    chosen = chosen_methods(methods) + [RANDOM]
    if _task(model, task, photos) == "photos":
        options = PhotoBenchOptions.chosen(images, sanity_images, steps, quick, seed)
        return run_photo_benchmark(model, chosen, photos, options, out_dir, verbose)
    if photos is not None or sanity_images is not None:
        raise ArgumentError("photos and sanity_images belong to the photo task, but the "
                            "shapes task was asked for; pass task='photos' (--task photos) "
                            "with a model that takes photos")
    steps = 32 if steps is None else check_integer(steps, "steps", "run_benchmark", minimum=1)
    return _shapes_benchmark(model, chosen, out_dir, images, quick, seed, steps, verbose)


def _task(model, task: str | None, photos) -> str:
    """The task asked for, or the one that fits ``model`` (see ``run_benchmark``)."""
    if task is not None:
        if task not in TASKS:
            raise ArgumentError(f"task must be one of {TASKS}, got {task!r}")
        return task
    if photos is not None:
        return "photos"
    if isinstance(model, str | os.PathLike):
        return "shapes" if os.fspath(model).lower().endswith(SHAPES_MODEL_FILES) else "photos"
    if isinstance(model, Classifier) and model.preprocessing is not None:
        return "photos"
    return "shapes"


def _shapes_benchmark(model, chosen: list[str], out_dir: str | os.PathLike,
                      images: int | None, quick: bool, seed: int, steps: int,
                      verbose: int) -> list[dict]:
    """The shapes task: see ``run_benchmark``."""
    start = time.perf_counter()
    config = QUICK if quick else FULL
    count = _image_count(images, config.test_images, quick)
    model, name = _benchmark_model(model, config, verbose)
    all_images, all_labels, all_masks = make_shapes(config.test_images, config)
    classifier = _task_classifier(model, all_images.shape[1:], config.classes)
    run = _Run(classifier, as_classifier(randomized_copy(model, seed)), all_images[:count],
               all_labels[:count], all_masks[:count], steps, seed, quick, verbose)
    results, notes = _score_methods(chosen, run)
    settings = BenchSettings(
        model=name or classifier.description,
        accuracy=accuracy(classifier.predict, all_images, all_labels),
        held_out=config.test_images, images=count, image_shape=all_images.shape[1:],
        class_names=config.classes, steps=steps, tolerance=TOLERANCE, quick=quick, seed=seed,
        seconds=time.perf_counter() - start, notes=notes)
    rows = [result.row() for result in results]
    write_report(rows, {result.method: result.mean_curves() for result in results}, settings,
                 out_dir)
    return rows


def _benchmark_model(model, config: TaskConfig, verbose: int) -> tuple[object, str | None]:
    """The model to explain and how the report names it (None: by its description)."""
    if model is None:
        return cached_model(config, verbose), "the default ildl.nn CNN (ildl.explain.shapes_task)"
    if isinstance(model, str | os.PathLike):
        return load_model_file(model), os.fspath(model)
    return model, None


def _task_classifier(model, image_shape: tuple, class_names: tuple) -> Classifier:
    """``model`` as a classifier, checked to take the task's images and give its classes."""
    classifier = as_classifier(model)
    if any(size not in (None, actual) for size, actual in zip(classifier.input_shape,
                                                                 image_shape)):
        raise ArgumentError(f"{classifier.description} takes images of shape "
                            f"{classifier.input_shape} but the benchmark's images have shape "
                            f"{image_shape} (height, width, channels); train the model on "
                            f"ildl.explain.shapes_task.make_shapes images")
    classes = classifier.predict(np.zeros((1, *image_shape))).shape[1]
    if classes != len(class_names):
        raise ArgumentError(
            f"{classifier.description} gives probabilities of {classes} classes but "
            f"the benchmark's images hold {len(class_names)} {class_names}; train "
            f"it on ildl.explain.shapes_task.make_shapes images with their labels, or, for "
            f"a classifier of photos, run the photo task (task='photos', --task photos)")
    return classifier


def _image_count(images: int | None, available: int, quick: bool) -> int:
    if images is None:
        return 12 if quick else 100
    if isinstance(images, bool) or not isinstance(images, int | np.integer) \
            or not 1 <= images <= available:
        raise ArgumentError(f"images must be a whole number from 1 to {available} (the held-out "
                            f"images of the task), got {images!r}")
    return int(images)


def _score_methods(methods: list[str], run: _Run) -> tuple[list[MethodScores], list[str]]:
    """The scores of each method, and a note for each one that was skipped, saying why."""
    results, notes = [], []
    for method in methods:
        try:
            check_supported(method, run.classifier)
            results.append(_score_method(method, run))
        except (Unsupported, ImportError) as error:  # ImportError: lime, shap... are missing
            notes.append(f"{method} was skipped: {error}")
            if run.verbose:
                print(f"note: {notes[-1]}")
    return results, notes


def _score_method(method: str, run: _Run) -> MethodScores:
    """Explain every image of the run with ``method`` and measure each explanation."""
    scores = MethodScores(method)
    count = len(run.images)
    bar = ProgressBar(count, title=f"{method:>20}", interactive=None if run.verbose else False)
    for index in range(count):
        _score_image(scores, run, index)
        bar.update(index + 1, index + 1, _running_means(scores))
    if run.verbose:
        bar.finish(count, count, _running_means(scores))
    return scores


def _score_image(scores: MethodScores, run: _Run, index: int) -> None:
    """Explain image ``index`` with the trained and the randomised model and add the
    measurements to ``scores``. Both explanations get the same settings and seed, so only the
    weights differ between the two maps of the sanity check."""
    image, target, mask = run.images[index], int(run.labels[index]), run.masks[index]
    seed = run.seed + index  # new random draws for each image
    options = method_options(scores.method, seed, fewer=run.quick)
    heatmap, seconds, evaluations = heatmap_and_cost(run.classifier, image, target,
                                                     scores.method, options)
    control, _, _ = heatmap_and_cost(run.control, image, target, scores.method, options)
    predict = run.classifier.predict
    scores.seconds.append(seconds)
    scores.evaluations.append(evaluations)
    scores.deletion.append(deletion_curve(predict, image, heatmap, target, run.steps, seed=seed))
    scores.insertion.append(insertion_curve(predict, image, heatmap, target, run.steps,
                                            seed=seed))
    scores.pointing.append(pointing_game(heatmap, mask, TOLERANCE))
    scores.energy.append(energy_in_mask(heatmap, mask))
    scores.sanity.append(sanity_correlation(heatmap, control))


def _running_means(scores: MethodScores) -> dict:
    row = scores.row()
    return {"deletion": row["deletion_auc"], "insertion": row["insertion_auc"],
            "pointing": row["pointing_game"]}
