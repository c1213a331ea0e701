"""Compare explainers by eye: every method's heat map for each of the model's top classes.

``plot_explanations(model, image, methods, top_k)`` explains the image for its ``top_k`` most
probable classes with each method and draws them as a grid (``ildl.viz.explanations``): a row
per class, a column per method, the time and model evaluations of each map below it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ArgumentError
from ..viz.explanations import plot_explanation_grid
from .explanation import Explanation
from .methods import explain


def plot_explanations(model, image: np.ndarray,
                      methods: Sequence[str] = ("gradcam", "occlusion", "lime"),
                      top_k: int = 3, class_names: Sequence[str] | None = None,
                      options: dict[str, dict] | None = None
                      ) -> tuple[object, list[list[Explanation]]]:
    """A grid: one row per top-k class (most probable first), the image then one heat map per
    method. Returns (figure, explanations) with ``explanations[row][column]``.

    ``model`` and ``image`` are what ``explain`` takes; ``options`` maps a method name to its
    options (e.g. ``{"lime": {"samples": 300}}``).

    >>> figure, found = plot_explanations(model, image, ["gradcam", "rise"], top_k=2)
    """
    methods = [methods] if isinstance(methods, str) else list(methods)
    if not methods:
        raise ArgumentError("plot_explanations needs at least one method, e.g. "
                            "methods=['gradcam', 'occlusion']")
    if isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) or top_k < 1:
        raise ArgumentError(f"top_k must be a positive whole number of classes, got {top_k!r}")
    options = options or {}
    first = explain(model, image, method=methods[0], **options.get(methods[0], {}))
    ranked = np.argsort(-first.probabilities, kind="stable")[:top_k]
    explanations = [[explain(model, image, int(target), method, **options.get(method, {}))
                     for method in methods] for target in ranked]
    figure = plot_explanation_grid(image, explanations, first.probabilities, class_names)
    return figure, explanations
