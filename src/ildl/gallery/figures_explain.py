"""Gallery figure ``explaining_images``: why did the classifier say that? Heat maps side by side.

The collection compared Grad-CAM (what ELI5 draws), LIME and SHAP on a ResNet by eye. Here the
classifier is the explainer benchmark's default CNN (``ildl.explain.shapes_task``: which shape is
in a small cluttered picture, trained in seconds and cached), so the object's true outline is
known: a good map lights up the shape, not the clutter. The GIF cycles through held-out images,
each with every method's map for the predicted class; the PNG shows one image's top-3 classes.
lime and shap appear when the ``explain`` extra is installed.
"""

from __future__ import annotations

import importlib.util
import os

from ..graphics import figure_pixels, save_figure, themed, write_frames
from .registry import Figure, RenderOptions, register

GRADIENT_AND_PERTURBATION = ("gradcam", "saliency", "integrated_gradients", "occlusion", "rise")
PACKAGES = {"lime": "lime", "shap": "shap"}  # method -> the package it needs
# Cheaper settings than the methods' defaults: the gallery explains many images.
OPTIONS = {"rise": {"samples": 500}, "lime": {"samples": 400}, "shap": {"samples": 300},
           "integrated_gradients": {"steps": 32}}
QUICK_OPTIONS = {"rise": {"samples": 40}, "lime": {"samples": 40}, "shap": {"samples": 40},
                 "integrated_gradients": {"steps": 4}}


def available_methods() -> list[str]:
    """The methods shown: all gradient and perturbation ones, lime and shap when installed."""
    return [*GRADIENT_AND_PERTURBATION,
            *(method for method, package in PACKAGES.items()
              if importlib.util.find_spec(package) is not None)]


def _explained_frame(task, index: int, methods: list[str], options: dict):
    """One frame: image ``index`` with its label and prediction, then each method's map."""
    import matplotlib.pyplot as plt

    from ..explain import explain
    from ..viz.explanations import display_image, overlay

    image = task.images[index]
    found = [explain(task.model, image, method=method, **options.get(method, {}))
             for method in methods]
    predicted = found[0].target
    figure, axes = plt.subplots(1, len(methods) + 1, figsize=(1.9 * (len(methods) + 1), 2.3))
    axes[0].imshow(display_image(image))
    axes[0].set_title(f"{task.class_names[task.labels[index]]}\nsaid: "
                      f"{task.class_names[predicted]} {found[0].probabilities[predicted]:.0%}",
                      fontsize=9)
    axes[0].axis("off")
    for ax, explanation in zip(axes[1:], found):
        overlay(ax, image, explanation.heatmap)
        ax.set_title(explanation.method.replace("_", "\n"), fontsize=9)
    figure.tight_layout()
    pixels = figure_pixels(figure)
    plt.close(figure)
    return pixels


def _render_explaining_images(out_dir: str, options: RenderOptions) -> list[str]:
    from ..explain import default_task, plot_explanations

    task = default_task(quick=options.quick, verbose=0)
    methods = available_methods()
    method_options = QUICK_OPTIONS if options.quick else OPTIONS
    count = 2 if options.quick else 8
    animation = f"explaining_images.{options.format}"
    with themed(options.theme):
        frames = [_explained_frame(task, index, methods, method_options)
                  for index in range(count)]
        write_frames(frames, os.path.join(out_dir, animation), fps=0.8)
        figure, _ = plot_explanations(task.model, task.images[0], methods, top_k=3,
                                      class_names=task.class_names, options=method_options)
        figure.suptitle(f"ildl.explain on the shapes CNN ({task.accuracy:.0%} accurate on "
                        "held-out images): top-3 classes, one map per method", y=1.02)
        save_figure(figure, os.path.join(out_dir, "explaining_images.png"), options.still_dpi,
                    tight=True)
    return [animation, "explaining_images.png"]


register(Figure(
    "explaining_images",
    "Why did the classifier say that? A small ildl.nn CNN names the shape in cluttered pictures; "
    "Grad-CAM (what ELI5 draws), vanilla gradients, integrated gradients, occlusion, RISE, LIME "
    "and SHAP each paint the pixels that support its answer. The GIF cycles through held-out "
    "images (true label, then what the model said); the still shows one image's top-3 classes.",
    "from ildl.explain import default_task, plot_explanations\n"
    "task = default_task()   # trained in seconds, then cached\n"
    "figure, found = plot_explanations(task.model, task.images[0],\n"
    "    ['gradcam', 'saliency', 'integrated_gradients', 'occlusion', 'rise', 'lime', 'shap'],\n"
    "    top_k=3, class_names=task.class_names)",
    _render_explaining_images,
))
