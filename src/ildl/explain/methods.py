"""``explain``: one call for every method, on any model.

Every method is a function ``method(classifier, image, target, **options) -> heatmap (H, W)``;
``explain`` wraps the model, checks the image and the target, times the method and counts the
images the model ran on."""

from __future__ import annotations

import inspect
import time

from ..errors import ArgumentError
from .checks import check_image, check_target
from .explanation import Explanation
from .gradcam import gradcam
from .gradients import integrated_gradients, saliency
from .lime_adapter import lime
from .models import as_classifier
from .perturbation import occlusion, rise
from .shap_adapter import shap, shap_gradient

# gradcam, saliency and integrated_gradients need an ildl.nn model or a torch module,
# shap_gradient a torch module; the others work on any predict function.
METHODS = {
    "gradcam": gradcam,
    "saliency": saliency,
    "integrated_gradients": integrated_gradients,
    "occlusion": occlusion,
    "rise": rise,
    "lime": lime,
    "shap": shap,
    "shap_gradient": shap_gradient,
}


def explain(model, image, target: int | None = None, method: str = "gradcam",
            **options) -> Explanation:
    """Explain the model's prediction for ``target`` on one image with ``method``.

    ``model``: an ildl.nn ``Sequential``, a ``torch.nn.Module`` (NCHW input) or a function
    ``images (N, H, W, C) -> probabilities (N, K)``, each returning probabilities; ``image``
    ``(H, W, C)``; ``target`` None explains the most probable class. ``options`` go to the
    method (e.g. ``steps`` of integrated gradients, ``samples`` and ``seed`` of rise and lime).

    >>> explanation = explain(model, image, method="integrated_gradients", steps=32)
    >>> explanation.heatmap.shape, explanation.target, explanation.evaluations
    ((32, 32), 2, 32)
    """
    function = _method(method, options)
    classifier = as_classifier(model)
    image = check_image(image, classifier.input_shape)
    probabilities = classifier.predict(image[None])[0]
    target = check_target(target, probabilities)
    classifier.evaluations = 0
    start = time.perf_counter()
    heatmap = function(classifier, image, target, **options)
    seconds = time.perf_counter() - start
    return Explanation(heatmap=heatmap.astype(float), target=target,
                       probabilities=probabilities, seconds=seconds,
                       evaluations=classifier.evaluations, method=method)


def _method(name: str, options: dict):
    """The method called ``name``, after checking that it takes every option given."""
    if name not in METHODS:
        raise ArgumentError(f"unknown method {name!r}; choose one of {list(METHODS)}")
    function = METHODS[name]
    accepted = list(inspect.signature(function).parameters)[3:]  # after classifier, image, target
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ArgumentError(f"method {name!r} has no option {', '.join(map(repr, unknown))}; its "
                            f"options are {accepted}")
    return function
