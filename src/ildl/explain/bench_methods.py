"""How the explainer benchmarks run a method: which methods, with which settings, which ones a
model cannot support, and what each map cost. Shared by the shapes benchmark
(``ildl.explain.bench``) and the photo benchmark (``ildl.explain.bench_photos``).

>>> heatmap, seconds, evaluations = heatmap_and_cost(classifier, image, 3, "rise",
...                                                  method_options("rise", seed=0))
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from ..errors import ArgumentError
from .methods import METHODS, explain
from .metrics import random_heatmap
from .models import Classifier, TorchClassifier

RANDOM = "random"  # the name of the floor: a map of uniform noise
GRADIENT_METHODS = ("gradcam", "saliency", "integrated_gradients", "shap_gradient")


class Unsupported(Exception):
    """A method that cannot explain this kind of model."""


def chosen_methods(methods: Sequence[str] | None) -> list[str]:
    """The methods asked for, once each and without the floor (added anyway), or all."""
    if methods is None:
        return list(METHODS)
    unknown = [name for name in methods if name not in METHODS and name != RANDOM]
    if unknown:
        raise ArgumentError(f"unknown method(s) {unknown}; choose from {list(METHODS)} (the "
                            f"{RANDOM!r} floor is always included)")
    return [name for name in dict.fromkeys(methods) if name != RANDOM]


def check_supported(method: str, classifier: Classifier) -> None:
    """Refuse, with the reason, a method that cannot explain this kind of model."""
    if method in GRADIENT_METHODS and not classifier.has_gradients:
        raise Unsupported(f"it needs the model's gradients, which {classifier.description} "
                          f"cannot give")
    if method == "shap_gradient" and not isinstance(classifier, TorchClassifier):
        raise Unsupported(f"shap.GradientExplainer needs a torch.nn.Module, not "
                          f"{classifier.description}")
    if method == "gradcam" and isinstance(classifier, TorchClassifier):
        import torch

        if isinstance(classifier.module, torch.jit.ScriptModule):
            raise Unsupported("a TorchScript module runs its layers in compiled code, where no "
                              "hook can read a convolution's activations; benchmark the "
                              "torch.nn.Module itself (run_benchmark(module)) for Grad-CAM")


def method_options(method: str, seed: int, fewer: bool = False) -> dict:
    """The benchmarks' settings of ``method``: its defaults, except that every method hides
    pixels with black, and every random draw is seeded; with ``fewer``, fewer samples (quick
    runs).

    Black is what "absent" means in the deletion and insertion curves, and what occlusion, RISE
    and integrated gradients use by default; lime's mean colours and shap's blur answer another
    question, and score far lower on those curves (shap below the random floor on the shapes).
    """
    black = {"lime": {"hide_color": 0.0}, "shap": {"masker": 0.0}}
    seeded = {"rise": {"seed": seed}, "lime": {"seed": seed}, "shap_gradient": {"seed": seed},
              RANDOM: {"seed": seed}}
    samples = {"integrated_gradients": {"steps": 16}, "rise": {"samples": 250},
               "lime": {"samples": 250}, "shap": {"samples": 250},
               "shap_gradient": {"samples": 50}}
    return {**black.get(method, {}), **seeded.get(method, {}),
            **(samples.get(method, {}) if fewer else {})}


def mean_of_numbers(values) -> float:
    """The mean of the values that are numbers: a rank correlation is NaN where a map is
    constant (no ranking), and such maps are left out; NaN when none is left."""
    numbers = [value for value in values if not np.isnan(value)]
    return float(np.mean(numbers)) if numbers else float("nan")


def heatmap_and_cost(classifier: Classifier, image: np.ndarray, target: int, method: str,
                     options: dict) -> tuple[np.ndarray, float, int]:
    """The map of ``method`` with what it cost: ``(heatmap (H, W), seconds, evaluations)``.
    The random floor draws noise from ``options["seed"]`` and never runs the model, so its map
    is the same for any model."""
    if method == RANDOM:
        start = time.perf_counter()
        heatmap = random_heatmap(image.shape[:2], **options)
        return heatmap, time.perf_counter() - start, 0
    explanation = explain(classifier, image, target, method, **options)
    return explanation.heatmap, explanation.seconds, explanation.evaluations
