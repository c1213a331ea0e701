"""Compare explainers by eye: every method's heat map for each of the model's top classes.

``plot_explanations(model, image, methods, top_k)`` explains the image for its ``top_k`` most
probable classes with each method and draws them as a grid (``ildl.viz.explanations``): a row
per class, a column per method, the time and model evaluations of each map below it.
``explain_classes`` computes the grid without drawing it, and ``method_unavailable`` says why a
method cannot explain a model (an optional package missing, no gradients, ...), so that a caller
can leave it out with a note instead of failing halfway.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ArgumentError
from ..validation import did_you_mean
from ..viz.explanations import plot_explanation_grid
from .explanation import Explanation
from .methods import METHODS, explain
from .models import Classifier, TorchClassifier
from .sources import as_classifier

# Methods that differentiate the model (ildl.nn models and torch modules can be).
GRADIENT_METHODS = ("gradcam", "saliency", "integrated_gradients", "shap_gradient")
# The modules each method imports, all installed by the ``explain`` extra: lime's default
# superpixels are scikit-image's SLIC, shap's default masker blurs with OpenCV.
METHOD_MODULES = {"lime": ("lime.lime_image", "skimage.segmentation"), "shap": ("shap", "cv2"),
                  "shap_gradient": ("shap",)}


def check_methods(methods: Sequence[str]) -> list[str]:
    """``methods`` as a list without repeats, after checking every name (the closest known name
    is suggested for a misspelt one), so that no work starts on a list that fails later.

    >>> check_methods(["gradcam", "lime", "gradcam"])
    ['gradcam', 'lime']
    """
    methods = [methods] if isinstance(methods, str) else list(methods)
    if not methods:
        raise ArgumentError(f"no method given; choose one or more of {', '.join(METHODS)}")
    for method in methods:
        if method not in METHODS:
            raise ArgumentError(f"unknown method {method!r}{did_you_mean(str(method), METHODS)}; "
                                f"choose from {', '.join(METHODS)}")
    return list(dict.fromkeys(methods))


def method_unavailable(method: str, classifier: Classifier) -> str | None:
    """Why ``method`` cannot explain ``classifier`` (one sentence with the fix), or None if it
    can: a package of the ``explain`` extra is missing, the model gives no gradients (an ONNX
    file, a predict function), or it hides its layers (a TorchScript file, for Grad-CAM).

    >>> method_unavailable("gradcam", as_classifier("model.onnx"))
    'gradcam needs the gradients of the model, which the ONNX file ... cannot give'
    """
    missing = [module.split(".")[0] for module in METHOD_MODULES.get(method, ())
               if importlib.util.find_spec(module.split(".")[0]) is None]
    if missing:
        return (f"{method} needs {' and '.join(missing)}, not installed here: "
                f'pip install "ildl[explain]"')
    if method in GRADIENT_METHODS and not classifier.has_gradients:
        return (f"{method} needs the gradients of the model, which {classifier.description} "
                "cannot give; explain a torch module, a TorchScript or .ildl file instead")
    if method == "shap_gradient" and not isinstance(classifier, TorchClassifier):
        return f"shap_gradient needs a torch module, not {classifier.description}"
    if method == "gradcam" and _is_torchscript(classifier):
        return (f"gradcam reads a layer's activations, which {classifier.description} computes "
                "in compiled code where no hook can see them; explain the torch module itself")
    return None


def _is_torchscript(classifier: Classifier) -> bool:
    if not isinstance(classifier, TorchClassifier):
        return False
    import torch

    return isinstance(classifier.module, torch.jit.ScriptModule)


def import_modules(methods: Sequence[str]) -> None:
    """Import the optional modules of ``methods`` now, so that the first map of each is timed
    without the import (shap takes seconds to import)."""
    for method in methods:
        for module in METHOD_MODULES.get(method, ()):
            importlib.import_module(module)


def top_classes(probabilities: np.ndarray, top_k: int) -> list[int]:
    """The ``top_k`` most probable classes of ``probabilities`` ``(K,)``, most probable first
    (ties keep the lower index first).

    >>> top_classes(np.array([0.1, 0.6, 0.3]), 2)
    [1, 2]
    """
    return [int(index) for index in np.argsort(-probabilities, kind="stable")[:top_k]]


def explain_classes(classifier: Classifier, image: np.ndarray, targets: Sequence[int],
                    methods: Sequence[str], options: dict[str, dict] | None = None,
                    done: Callable[[Explanation], None] | None = None
                    ) -> list[list[Explanation]]:
    """Explain ``image`` (what the model sees, ``classifier.prepare``'s output) for each class
    of ``targets`` with each method: ``rows[r][c]`` is class ``targets[r]`` by ``methods[c]``.

    ``options`` maps a method name to its options; ``done(explanation)`` is called after each
    map (to show progress). The maps are made method by method, each method for every class.
    """
    options = options or {}
    found = {(target, method): _explained(classifier, image, target, method,
                                          options.get(method, {}), done)
             for method in methods for target in targets}
    return [[found[target, method] for method in methods] for target in targets]


def _explained(classifier, image, target, method, options, done) -> Explanation:
    explanation = explain(classifier, image, target, method, **options)
    if done is not None:
        done(explanation)
    return explanation


def plot_explanations(model, image: np.ndarray,
                      methods: Sequence[str] = ("gradcam", "occlusion", "lime"),
                      top_k: int = 3, class_names: Sequence[str] | None = None,
                      options: dict[str, dict] | None = None
                      ) -> tuple[object, list[list[Explanation]]]:
    """A grid: the image as the model sees it, then one row per top-k class (most probable
    first) with one heat map per method. Returns (figure, explanations) with
    ``explanations[row][column]``.

    ``model`` and ``image`` are what ``explain`` takes (a photo is cropped and resized by the
    model's preprocessing); ``class_names`` label the rows (default: the model's own names);
    ``options`` maps a method name to its options (e.g. ``{"lime": {"samples": 300}}``).

    >>> figure, found = plot_explanations(model, image, ["gradcam", "rise"], top_k=2)
    """
    methods = check_methods(methods)
    if isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) or top_k < 1:
        raise ArgumentError(f"top_k must be a positive whole number of classes, got {top_k!r}")
    classifier = as_classifier(model)  # once: a model name or file is loaded a single time
    image = classifier.prepare(image)
    probabilities = classifier.predict(image[None])[0]
    rows = explain_classes(classifier, image, top_classes(probabilities, int(top_k)), methods,
                           options)
    figure = plot_explanation_grid(image, rows, probabilities, class_names)
    return figure, rows
