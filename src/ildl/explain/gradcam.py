"""Grad-CAM (Selvaraju et al. 2017), the explanation ELI5 draws for image classifiers: which
places of a convolution's feature maps push the target class up.

The last convolution still knows *where* things are and already knows *what* they are, so its
channels are weighed by how much the class probability grows with each of them."""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError
from .models import Classifier
from .resize import resize_bilinear


def gradcam(classifier: Classifier, image: np.ndarray, target: int, layer=None) -> np.ndarray:
    """``ReLU(sum_k a_k A_k)``, ``a_k = mean_{h,w} d p_target / d A_k[h, w]``, resized to the image.

    ``A`` ``(H', W', K)``: the outputs of ``layer`` (a layer of the model or its name; default
    the last convolution: for an ildl model its output after its activation, for a torch module
    the last ``Conv2d``'s output, before any activation module). The ReLU keeps the places that
    raise the class; the ``(H', W')`` map is resized bilinearly to ``(H, W)``. One gradient
    evaluation.

    >>> heatmap = gradcam(as_classifier(model), image, target=3, layer="conv2d_1")
    """
    activations, grad = classifier.activations_and_gradient(image[None], target, layer)
    if activations.ndim != 4:
        raise ArgumentError(f"Grad-CAM needs a layer with image-shaped outputs (N, H', W', "
                            f"channels) but the chosen layer outputs shape {activations.shape}; "
                            f"pick a convolution layer")
    channel_weights = grad[0].mean(axis=(0, 1))  # (K,)
    cam = np.maximum(activations[0] @ channel_weights, 0)  # (H', W')
    return resize_bilinear(cam, image.shape[:2])
