"""``explain``: one call for every method, on any model.

Every method is a function ``method(classifier, image, target, **options) -> heatmap (H, W)``;
``explain`` wraps the model, checks the image and the target, times the method and counts the
images the model ran on."""

from __future__ import annotations

import inspect
import time

from ..errors import ArgumentError
from .checks import check_target
from .explanation import Explanation
from .gradcam import gradcam
from .gradients import integrated_gradients, saliency
from .lime_adapter import lime
from .perturbation import occlusion, rise
from .shap_adapter import shap, shap_gradient
from .sources import as_classifier

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

    ``model``: a pretrained name (``"efficientnet-lite0"``), a model file, a ``Classifier``, an
    ildl.nn ``Sequential``, a ``torch.nn.Module`` (NCHW input) or a function ``images (N, H, W,
    C) -> probabilities (N, K)`` (see ``ildl.explain.sources``); ``image`` ``(H, W, C)``: for a
    model with preprocessing, any photo (cropped and resized to the model's input, and
    ``explanation.image`` is what the model saw); ``target`` None explains the most probable
    class (pass one classifier from ``as_classifier`` to explain many images without loading
    the model each time). ``options`` go to the
    method (e.g. ``steps`` of integrated gradients, ``samples`` and ``seed`` of rise and lime).

    >>> explanation = explain(model, image, method="integrated_gradients", steps=32)
    >>> explanation.heatmap.shape, explanation.target, explanation.evaluations
    ((32, 32), 2, 32)
    """
    function = _method(method, options)
    classifier = as_classifier(model)
    image = classifier.prepare(image)
    probabilities = classifier.predict(image[None])[0]
    target = check_target(target, probabilities)
    classifier.evaluations = 0
    start = time.perf_counter()
    heatmap = function(classifier, image, target, **options)
    seconds = time.perf_counter() - start
    return Explanation(heatmap=heatmap.astype(float), target=target,
                       probabilities=probabilities, seconds=seconds,
                       evaluations=classifier.evaluations, method=method, image=image,
                       class_name=classifier.class_name(target))


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
