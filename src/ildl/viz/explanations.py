"""Explanations side by side: the image, its top classes, and each method's heat map on top.

The collection compared explainers by eye: for each of the classifier's top predictions, the
image with every method's heat map laid over it. ``plot_explanations`` draws that grid for any
model ``ildl.explain`` accepts; ``overlay`` is the one-panel building block.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Heat maps: transparent where cold, bright where hot, readable over any image.
HEAT_CMAP = "inferno"


def normalised_heat(heatmap: np.ndarray) -> np.ndarray:
    """(H, W) -> (H, W) in [0, 1]: positive evidence scaled by its maximum, the rest 0.

    Methods differ in scale and sign (gradients, probabilities, Shapley values); only where each
    puts its *positive* evidence is comparable, so that is what the panels show.
    """
    positive = np.clip(np.asarray(heatmap, dtype=float), 0, None)
    peak = positive.max()
    return positive / peak if peak > 0 else positive


def display_image(image: np.ndarray) -> np.ndarray:
    """An image (H, W, C) with values in [0, 1] as something ``imshow`` shows: grey if C == 1."""
    image = np.clip(np.asarray(image, dtype=float), 0, 1)
    return image[..., 0] if image.shape[-1] == 1 else image


def overlay(ax, image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.6) -> None:
    """Draw ``image`` (H, W, C) on ``ax`` with ``heatmap`` (H, W) over it; the colour and
    opacity of the heat grow with its normalised value. The image goes under in dimmed grey, so
    that the heat stands out even on bright, colourful objects."""
    grey = np.asarray(display_image(image), dtype=float)
    grey = grey.mean(axis=-1) if grey.ndim == 3 else grey
    ax.imshow(grey, cmap="gray", vmin=0, vmax=2)  # vmax 2: at most half brightness
    heat = normalised_heat(heatmap)
    ax.imshow(heat, cmap=HEAT_CMAP, vmin=0, vmax=1, alpha=alpha * heat)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_explanations(model, image: np.ndarray,
                      methods: Sequence[str] = ("gradcam", "occlusion", "lime"),
                      top_k: int = 3, class_names: Sequence[str] | None = None,
                      options: dict[str, dict] | None = None):
    """A grid: one row per top-k class (most probable first), the image then one heat map per
    method. Returns (figure, explanations) with ``explanations[row][column]``.

    ``model`` and ``image`` are what ``ildl.explain.explain`` takes; ``options`` maps a method
    name to its options (e.g. ``{"lime": {"samples": 300}}``).

    >>> figure, found = plot_explanations(model, image, ["gradcam", "rise"], top_k=2)
    """
    import matplotlib.pyplot as plt

    from ..explain import explain

    options = options or {}
    first = explain(model, image, method=methods[0], **options.get(methods[0], {}))
    ranked = np.argsort(-first.probabilities, kind="stable")[:top_k]
    names = class_names or [f"class {index}" for index in range(len(first.probabilities))]
    figure, axes = plt.subplots(len(ranked), len(methods) + 1,
                                figsize=(2.3 * (len(methods) + 1), 2.4 * len(ranked)),
                                squeeze=False)
    explanations = []
    for row, target in enumerate(ranked):
        found = [explain(model, image, int(target), method, **options.get(method, {}))
                 for method in methods]
        explanations.append(found)
        axes[row, 0].imshow(display_image(image), cmap="gray", vmin=0, vmax=1)
        axes[row, 0].set_xticks([])
        axes[row, 0].set_yticks([])
        axes[row, 0].set_ylabel(f"{names[target]}\np = {first.probabilities[target]:.1%}")
        for column, explanation in enumerate(found, start=1):
            overlay(axes[row, column], image, explanation.heatmap)
            if row == 0:
                axes[row, column].set_title(explanation.method)
            axes[row, column].set_xlabel(f"{explanation.seconds:.2f} s, "
                                         f"{explanation.evaluations} evals", fontsize=8)
    figure.tight_layout()
    return figure, explanations
