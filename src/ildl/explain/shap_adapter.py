"""SHAP (Lundberg and Lee 2017) through the ``shap`` package: Shapley values of image regions.

Two estimators: ``shap`` is the Partition explainer with an image masker, a black box that hides
nested halves of the image (blurred or inpainted) and needs only predictions; ``shap_gradient``
is ``shap.GradientExplainer``, expected gradients on a torch module."""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError
from ..optional import require
from .models import Classifier, TorchClassifier


def shap(classifier: Classifier, image: np.ndarray, target: int, samples: int = 500,
         masker: str | float | np.ndarray | None = None) -> np.ndarray:
    """Partition-explainer SHAP values of ``target``, summed over channels.

    Hidden pixels take the value of ``masker``, handed to ``shap.maskers.Image``: ``"blur(kx,ky)"``
    (default: a box blur a quarter of the image wide, 56 pixels on a 224-pixel photo, which
    leaves the top class of the sample photos below 0.02 while keeping their colours),
    ``"inpaint_telea"``, ``"inpaint_ns"``, a number or an ``(H, W, C)`` image. At most
    ``samples`` evaluations: the explainer halves the image region by region until they are
    spent (500 on a 224-pixel photo: about 50 regions, 20 to 40 pixels wide). The map is signed
    and sums to ``p_target(x) - p_target(everything hidden)``. Shapes: image ``(H, W, C)`` ->
    ``(H, W)``.

    >>> heatmap = shap(as_classifier(predict), image, target=3, samples=1000)
    """
    shap_package = require("shap", "method='shap'", extra="explain")
    if masker is None:
        masker = f"blur({max(1, image.shape[0] // 4)},{max(1, image.shape[1] // 4)})"
    if isinstance(masker, str):
        # shap blurs and inpaints with OpenCV
        require("cv2", f"shap's masker {masker!r}", extra="explain")
    explainer = shap_package.Explainer(classifier.predict,
                                       shap_package.maskers.Image(masker, image.shape),
                                       algorithm="partition")
    result = explainer(image[None], max_evals=samples, batch_size=classifier.batch_size,
                       outputs=[target], silent=True)
    return result.values[0, ..., 0].sum(axis=-1)


def shap_gradient(classifier: Classifier, image: np.ndarray, target: int, samples: int = 200,
                  background: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """Expected gradients through ``shap.GradientExplainer`` (torch modules only), summed over
    channels: ``phi = E[(x - x') * d p_target / dx at x' + a (x - x')]`` over background images
    x' and ``a ~ U(0, 1)``, estimated from ``samples`` draws (``seed`` fixes them).

    ``background`` ``(B, H, W, C)``: the reference images (default: one black image, which makes
    it integrated gradients with random points on the path). About ``samples`` evaluations.
    Shapes: image ``(H, W, C)`` -> ``(H, W)``.

    >>> heatmap = shap_gradient(as_classifier(module), image, target=3, background=train[:50])
    """
    if not isinstance(classifier, TorchClassifier):
        raise ArgumentError(f"method='shap_gradient' runs shap.GradientExplainer, which needs a "
                            f"torch.nn.Module, not {classifier.description}; use method='shap' "
                            f"(any model) or 'integrated_gradients'")
    import torch

    if classifier.dtype != torch.float32:
        raise ArgumentError(f"shap.GradientExplainer feeds float32 inputs, but "
                            f"{classifier.description} has {classifier.dtype} weights; explain "
                            f"module.float() instead")
    shap_package = require("shap", "method='shap_gradient'", extra="explain")
    background = _background(background, image)
    picked = torch.nn.Sequential(classifier.module,
                                 _pick(torch, classifier, image, target))

    def count(_module, _inputs, outputs) -> None:  # shap runs the module itself
        classifier.evaluations += len(outputs)

    hook = picked.register_forward_hook(count)
    try:
        explainer = shap_package.GradientExplainer(picked, classifier.tensor(background),
                                                   batch_size=classifier.batch_size)
        values = explainer.shap_values(classifier.tensor(image[None]), nsamples=samples,
                                       rseed=seed)
    finally:
        hook.remove()
    channels_first = np.asarray(values).reshape(image.shape[2], *image.shape[:2])
    return channels_first.sum(axis=0)


def _pick(torch, classifier: TorchClassifier, image: np.ndarray, target: int):
    """A fixed linear layer keeping only ``p_target``: shap then differentiates one output
    instead of all K (K times less work)."""
    classes = classifier.predict(image[None]).shape[1]
    pick = torch.nn.Linear(classes, 1, bias=False, dtype=classifier.dtype,
                           device=classifier.device).requires_grad_(False)
    pick.weight.zero_()
    pick.weight[0, target] = 1
    return pick


def _background(background, image: np.ndarray) -> np.ndarray:
    if background is None:
        return np.zeros((1, *image.shape))
    background = np.asarray(background, dtype=np.float64)
    if background.ndim != 4 or background.shape[1:] != image.shape:
        raise ArgumentError(f"background must be a batch of images (B, H, W, C) shaped like the "
                            f"explained image {image.shape}, but has shape {background.shape}")
    return background
