"""``Explanation``: what an explainer says about one prediction, and what saying it cost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Explanation:
    """A heat map over the image for one class, the prediction it explains, and its cost.

    - ``heatmap`` ``(H, W)``: how much each pixel counts for the ``target`` class, larger meaning
      more; the scale (and whether it can be negative) depends on the ``method``.
    - ``target``: the explained class; ``probabilities`` ``(K,)``: the model's output on the image.
    - ``seconds`` and ``evaluations`` (images the model ran on, forward or forward and backward)
      measure the method alone, not the one prediction that gave ``probabilities``.
    - ``image`` ``(H, W, C)``: the image explained, as the model saw it before normalisation (a
      photo cropped and resized by the model's preprocessing); ``class_name`` the target's name
      (``"class 3"`` when the model has no names).

    >>> explanation = explain(model, image, method="occlusion")
    >>> explanation.heatmap.shape, explanation.target, explanation.evaluations
    ((32, 32), 2, 226)
    """

    heatmap: np.ndarray
    target: int
    probabilities: np.ndarray
    seconds: float
    evaluations: int
    method: str
    image: np.ndarray | None = None
    class_name: str | None = None
