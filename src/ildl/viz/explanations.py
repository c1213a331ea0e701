"""Explanations side by side: the image, its top classes, and each method's heat map on top.

The collection compared explainers by eye: for each of the classifier's top predictions, the
image with every method's heat map laid over it. ``plot_explanation_grid`` draws that grid from
explanations already computed (``ildl.explain.plot_explanations`` computes them for a model and
draws them); ``overlay`` is the one-panel building block.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ArgumentError

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


def plot_explanation_grid(image: np.ndarray, rows: Sequence[Sequence],
                          probabilities: np.ndarray, class_names: Sequence[str] | None = None):
    """Draw computed explanations as a grid: one row per class, the image then one heat map per
    method. Returns the matplotlib Figure.

    ``rows[r][c]`` explains the class of row r with method c: anything with the fields of
    ``ildl.explain.Explanation`` (``heatmap`` (H, W), ``target``, ``method``, ``seconds``,
    ``evaluations``). ``probabilities`` (K,) is the model's output on ``image`` (H, W, C); each row
    is labelled with its class's name and probability. ``ildl.explain.plot_explanations``
    computes the rows for a model's top classes and calls this.
    """
    import matplotlib.pyplot as plt

    columns = len(rows[0]) if len(rows) else 0
    if not columns or any(len(row) != columns for row in rows):
        raise ArgumentError(f"plot_explanation_grid needs rows of explanations, one per method, "
                            f"all of the same length; got rows of lengths "
                            f"{[len(row) for row in rows]}")
    names = class_names or [f"class {index}" for index in range(len(probabilities))]
    figure, axes = plt.subplots(len(rows), columns + 1,
                                figsize=(2.3 * (columns + 1), 2.4 * len(rows)), squeeze=False)
    for row, found in enumerate(rows):
        target = found[0].target
        axes[row, 0].imshow(display_image(image), cmap="gray", vmin=0, vmax=1)
        axes[row, 0].set_xticks([])
        axes[row, 0].set_yticks([])
        axes[row, 0].set_ylabel(f"{names[target]}\np = {probabilities[target]:.1%}")
        for column, explanation in enumerate(found, start=1):
            overlay(axes[row, column], image, explanation.heatmap)
            if row == 0:
                axes[row, column].set_title(explanation.method)
            axes[row, column].set_xlabel(f"{explanation.seconds:.2f} s, "
                                         f"{explanation.evaluations} evals", fontsize=8)
    figure.tight_layout()
    return figure
