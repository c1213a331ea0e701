"""``run_benchmark``: every explainer on the same held-out images, measured for cost and quality.

For each method and image, the method explains the labelled class (the object in the image) and
is measured: seconds and model evaluations, deletion and insertion AUC, pointing game, energy in
the object's mask, and the rank correlation with its explanation of a randomised copy of the
model (``ildl.explain.metrics`` defines each number). A row of uniform noise, ``random``, is the
floor. The table goes to ``explain_bench.md`` and ``explain_bench.csv``, the mean deletion and
insertion curves to ``explain_curves.png`` (``ildl.explain.bench_report``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentError
from ..progress import ProgressBar
from .bench_report import RANDOM, BenchSettings, write_report
from .methods import METHODS, explain
from .metrics import (
    auc,
    deletion_curve,
    energy_in_mask,
    insertion_curve,
    pointing_game,
    random_heatmap,
    sanity_correlation,
)
from .models import Classifier, TorchClassifier
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
            "sanity_rank_correlation": _mean_of_numbers(self.sanity),
        }

    def mean_curves(self) -> tuple[np.ndarray, np.ndarray]:
        """The mean deletion and insertion curves over the images, each ``(steps + 1,)``."""
        return np.mean(self.deletion, axis=0), np.mean(self.insertion, axis=0)


def _mean_of_numbers(values: list) -> float:
    numbers = [value for value in values if not np.isnan(value)]
    return float(np.mean(numbers)) if numbers else float("nan")


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


class _Unsupported(Exception):
    """A method that cannot explain this kind of model."""


def run_benchmark(model=None, images: int | None = None, methods: Sequence[str] | None = None,
                  out_dir: str | os.PathLike = "explain_bench", quick: bool = False,
                  seed: int = 0, steps: int = 32, verbose: int = 1) -> list[dict]:
    """Explain ``images`` held-out shape images with each method and measure the explanations
    (default: 100, or 12 in quick mode).

    ``model``: None (the default CNN of ``shapes_task``, trained and cached on first use), an
    ildl.nn ``Sequential``, a ``torch.nn.Module`` taking NCHW images, or the path of either
    (``load_model_file``); it must take the task's 32x32 RGB images and return probabilities of
    its classes (circle, square, triangle). ``methods``: names from ``METHODS`` (default: all);
    the ``random`` floor is always added. A method that cannot run (an optional package is
    missing, shap_gradient on a model that is not a torch module) is skipped with a note in
    the report. ``quick``: the small task and fewer samples per method. ``steps``: points of
    the deletion and insertion curves after the first. Returns one dict per method, the CSV's
    columns (``bench_report.COLUMNS``).

    >>> rows = run_benchmark(images=20, methods=["gradcam", "occlusion"], out_dir="bench")
    >>> [(row["method"], round(row["insertion_auc"], 2)) for row in rows]
    [('gradcam', 0.56), ('occlusion', 0.85), ('random', 0.39)]
    """
    start = time.perf_counter()
    config = QUICK if quick else FULL
    chosen = _chosen_methods(methods) + [RANDOM]
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
            f"it on ildl.explain.shapes_task.make_shapes images with their labels")
    return classifier


def _image_count(images: int | None, available: int, quick: bool) -> int:
    if images is None:
        return 12 if quick else 100
    if isinstance(images, bool) or not isinstance(images, int | np.integer) \
            or not 1 <= images <= available:
        raise ArgumentError(f"images must be a whole number from 1 to {available} (the held-out "
                            f"images of the task), got {images!r}")
    return int(images)


def _chosen_methods(methods: Sequence[str] | None) -> list[str]:
    """The methods asked for, once each and without the floor (added anyway), or all."""
    if methods is None:
        return list(METHODS)
    unknown = [name for name in methods if name not in METHODS and name != RANDOM]
    if unknown:
        raise ArgumentError(f"unknown method(s) {unknown}; choose from {list(METHODS)} (the "
                            f"{RANDOM!r} floor is always included)")
    return [name for name in dict.fromkeys(methods) if name != RANDOM]


def _check_supported(method: str, classifier: Classifier) -> None:
    """Refuse, with the reason, a method that cannot explain this kind of model."""
    if method == "shap_gradient" and not isinstance(classifier, TorchClassifier):
        raise _Unsupported(f"shap.GradientExplainer needs a torch.nn.Module, not "
                           f"{classifier.description}")
    if method == "gradcam" and isinstance(classifier, TorchClassifier):
        import torch

        if isinstance(classifier.module, torch.jit.ScriptModule):
            raise _Unsupported("a TorchScript module runs its layers in compiled code, where no "
                               "hook can read a convolution's activations; benchmark the "
                               "torch.nn.Module itself (run_benchmark(module)) for Grad-CAM")


def _options(method: str, quick: bool, seed: int) -> dict:
    """The benchmark's settings of ``method``: its defaults, except that every method hides
    pixels with black, and every random draw is seeded; in quick mode fewer samples.

    Black is what "absent" means in the deletion and insertion curves, and what occlusion, RISE
    and integrated gradients use by default; lime's mean colours and shap's blur answer another
    question, and score far lower on those curves (shap below the random floor)."""
    black = {"lime": {"hide_color": 0.0}, "shap": {"masker": 0.0}}
    seeded = {"rise": {"seed": seed}, "lime": {"seed": seed}, "shap_gradient": {"seed": seed},
              RANDOM: {"seed": seed}}
    fewer = {"integrated_gradients": {"steps": 16}, "rise": {"samples": 250},
             "lime": {"samples": 250}, "shap": {"samples": 250}, "shap_gradient": {"samples": 50}}
    return {**black.get(method, {}), **seeded.get(method, {}),
            **(fewer.get(method, {}) if quick else {})}


def _score_methods(methods: list[str], run: _Run) -> tuple[list[MethodScores], list[str]]:
    """The scores of each method, and a note for each one that was skipped, saying why."""
    results, notes = [], []
    for method in methods:
        try:
            _check_supported(method, run.classifier)
            results.append(_score_method(method, run))
        except (_Unsupported, ImportError) as error:  # ImportError: lime, shap... are missing
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
    options = _options(scores.method, run.quick, seed)
    heatmap, seconds, evaluations = _heatmap(run.classifier, image, target, scores.method,
                                             options)
    control, _, _ = _heatmap(run.control, image, target, scores.method, options)
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


def _heatmap(classifier: Classifier, image: np.ndarray, target: int, method: str,
             options: dict) -> tuple[np.ndarray, float, int]:
    """The map of ``method`` with what it cost: ``(heatmap (H, W), seconds, evaluations)``.
    The random floor draws noise from ``options["seed"]`` and never runs the model, so its map
    is the same for the trained and the randomised model."""
    if method == RANDOM:
        start = time.perf_counter()
        heatmap = random_heatmap(image.shape[:2], **options)
        return heatmap, time.perf_counter() - start, 0
    explanation = explain(classifier, image, target, method, **options)
    return explanation.heatmap, explanation.seconds, explanation.evaluations
