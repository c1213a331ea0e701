"""Explanations side by side: the image, its top classes, and each method's heat map on top.

The collection compared explainers by eye: for each of the classifier's top predictions, the
image with every method's heat map laid over it. ``plot_explanation_grid`` draws that grid from
explanations already computed (``ildl.explain.plot_explanations`` computes them for a model and
draws them); ``overlay`` is the one-panel building block, ``draw_heat_scale`` the colour scale
beside the maps (``heat_scale`` its colours) and ``cost_label`` the line under each map.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np

from ..errors import ArgumentError
from ..progress import format_seconds

#: Heat maps: transparent where cold, bright where hot, readable over any image.
HEAT_CMAP = "inferno"
#: Opacity of the hottest pixel; colder pixels are proportionally more transparent.
HEAT_ALPHA = 0.6
#: The percentile of a map's positive values drawn at full heat (the hottest 1% saturate).
SATURATE_AT = 99
# Size of one panel of the grid, in inches (at the 100-120 dpi figures are saved with, about
# 250 pixels: a 224-pixel network input shown at its own size).
PANEL_INCHES = 2.3
# Text sizes (points) of the grid: a grid of four methods is 1300 pixels wide at 100 dpi, and
# must still read when a page shows it 1000 pixels wide.
TITLE_POINTS, LABEL_POINTS, NOTE_POINTS = 13, 12, 11


def normalised_heat(heatmap: np.ndarray) -> np.ndarray:
    """(H, W) -> (H, W) in [0, 1]: positive evidence divided by the ``SATURATE_AT`` percentile
    of the positive values (capped at 1), the rest 0.

    Methods differ in scale and sign (gradients, probabilities, Shapley values); only where each
    puts its *positive* evidence is comparable, so that is what the panels show. A percentile
    rather than the maximum: integrated gradients on a real network puts its largest values on a
    few pixels, and scaled by the maximum the rest of its map would be invisible.
    """
    positive = np.clip(np.asarray(heatmap, dtype=float), 0, None)
    hot = positive[positive > 0]
    if not hot.size:
        return positive
    return np.minimum(positive / np.percentile(hot, SATURATE_AT), 1)


def display_image(image: np.ndarray) -> np.ndarray:
    """An image (H, W, C) with values in [0, 1] as something ``imshow`` shows: grey if C == 1."""
    image = np.clip(np.asarray(image, dtype=float), 0, 1)
    return image[..., 0] if image.shape[-1] == 1 else image


def overlay(ax, image: np.ndarray, heatmap: np.ndarray, alpha: float = HEAT_ALPHA) -> None:
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


def heat_scale(levels: int = 256, alpha: float = HEAT_ALPHA) -> np.ndarray:
    """The colours ``overlay`` gives a mid-grey pixel under heat 0 to 1: ``(levels, 3)`` RGB in
    [0, 1], coldest first. ``c = (1 - alpha h) g + alpha h cmap(h)`` with ``g`` the dimmed grey
    (0.25) that ``overlay`` draws a 0.5 pixel as: what the maps show, not the bare colour map."""
    import matplotlib

    heat = np.linspace(0, 1, levels)[:, None]
    colours = matplotlib.colormaps[HEAT_CMAP](heat[:, 0])[:, :3]
    return (1 - alpha * heat) * 0.25 + alpha * heat * colours


def plot_explanation_grid(image: np.ndarray, rows: Sequence[Sequence],
                          probabilities: np.ndarray, class_names: Sequence[str] | None = None,
                          title: str | None = None, note: str | None = None):
    """Draw computed explanations: the image as the model saw it, then one row per class with
    one heat map per method, and the colour scale of the maps. Returns the matplotlib Figure.

    ``rows[r][c]`` explains the class of row r with method c: anything with the fields of
    ``ildl.explain.Explanation`` (``heatmap`` (H, W), ``target``, ``method``, ``seconds``,
    ``evaluations``, ``class_name``). ``probabilities`` (K,) is the model's output on ``image``
    (H, W, C). Each row is labelled with its class's name (``class_names[target]``, else the
    explanation's ``class_name``) and probability, each map with its seconds and evaluations;
    ``title`` goes above the grid and ``note`` under the image (e.g. how the file was
    converted). ``ildl.explain.plot_explanations`` computes the rows for a model's top classes
    and calls this.

    >>> figure = plot_explanation_grid(image, [[gradcam_map, lime_map]], probabilities)
    """
    import matplotlib.pyplot as plt

    columns = len(rows[0]) if len(rows) else 0
    if not columns or any(len(row) != columns for row in rows):
        raise ArgumentError(f"plot_explanation_grid needs rows of explanations, one per method, "
                            f"all of the same length; got rows of lengths "
                            f"{[len(row) for row in rows]}")
    # width: the image, the maps, the scale and the row labels; height: each row with its
    # captions, the method names and the title
    figure = plt.figure(figsize=(PANEL_INCHES * (columns + 1) + 1.3,
                                 (PANEL_INCHES + 0.1) * len(rows) + 0.6 + 0.4 * bool(title)),
                        layout="constrained")
    grid = figure.add_gridspec(len(rows), columns + 2, width_ratios=[1] * (columns + 1) + [0.08])
    _draw_image(figure.add_subplot(grid[0, 0]), image, note)
    for row, found in enumerate(rows):
        for column, explanation in enumerate(found, start=1):
            ax = figure.add_subplot(grid[row, column])
            overlay(ax, image, explanation.heatmap)
            if row == 0:
                ax.set_title(explanation.method.replace("_", " "), fontsize=LABEL_POINTS)
            ax.set_xlabel(cost_label(explanation.seconds, explanation.evaluations),
                          fontsize=NOTE_POINTS)
            if column == 1:
                ax.set_ylabel(_row_label(found[0], probabilities, class_names),
                              fontsize=LABEL_POINTS)
    draw_heat_scale(figure.add_subplot(grid[:, -1]), "the row's class", NOTE_POINTS)
    if title:
        figure.suptitle(title, fontsize=TITLE_POINTS)
    return figure


def _draw_image(ax, image: np.ndarray, note: str | None) -> None:
    ax.imshow(display_image(image), cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"as the model saw it\n{image.shape[1]} x {image.shape[0]} pixels",
                 fontsize=NOTE_POINTS)
    if note:
        ax.set_xlabel(textwrap.fill(note, 30), fontsize=NOTE_POINTS)


def _row_label(explanation, probabilities: np.ndarray, class_names) -> str:
    target = explanation.target
    name = (class_names[target] if class_names is not None else
            getattr(explanation, "class_name", None) or f"class {target}")
    return f"{textwrap.fill(name, 24)}\np = {probabilities[target]:.1%}"


def map_seconds(seconds: float) -> str:
    """The time a map took, to two digits: ``"0.041 s"``, ``"4.5 s"``, ``"21 s"``, ``"2:05"``
    (Grad-CAM takes hundredths of a second, LIME tens of seconds)."""
    if seconds >= 60:
        return format_seconds(seconds)
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.2g} s"


def cost_label(seconds: float, evaluations: int, separator: str = ", ") -> str:
    """What a map cost: ``"0.041 s, 1 evaluation"``, ``"21 s, 1,000 evaluations"`` (images the
    model ran on); ``separator`` ``"\n"`` puts the two on lines of their own."""
    return (f"{map_seconds(seconds)}{separator}{evaluations:,} "
            f"evaluation{'' if evaluations == 1 else 's'}")


def draw_heat_scale(ax, subject: str = "the class", fontsize: float = 10) -> None:
    """The colour scale of the maps on ``ax`` (a tall, narrow axes), in the colours ``overlay``
    gives a mid-grey pixel: from no evidence for ``subject`` (bottom) to each map's hottest."""
    ax.imshow(heat_scale()[:, None, :], origin="lower", aspect="auto", extent=(0, 1, 0, 1))
    ax.set_xticks([])
    ax.yaxis.tick_right()
    ax.yaxis.set_label_position("right")
    ax.set_yticks([0, 0.5, 1], ["0", "half", "max"], fontsize=fontsize)
    # The label runs along the scale: lines no longer than the scale is tall (its height before
    # the layout, a little less than after; a character is about 0.6 of the font size wide).
    points = ax.get_position().height * ax.figure.get_figheight() * 72
    note = "(each map scaled to its own: its hottest 1% at max; evidence against is not drawn)"
    ax.set_ylabel(f"evidence for {subject}\n{textwrap.fill(note, int(points / (0.6 * fontsize)))}",
                  fontsize=fontsize)
