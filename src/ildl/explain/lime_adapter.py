"""LIME (Ribeiro et al. 2016) through the ``lime`` package, on explicit superpixels.

LIME cuts the image into segments, switches random subsets of them off (painted with each
segment's mean colour, or ``hide_color``), and fits a weighted linear model of the target
probability on which segments were on; each segment's coefficient becomes its value in the map.
The segments are made here with explicit parameters: lime's default (quickshift) can return a
single segment for a flat image, which explains nothing."""

from __future__ import annotations

import contextlib
import io

import numpy as np

from ..errors import ArgumentError
from ..optional import require
from ..validation import check_number
from .models import Classifier

SEGMENTATIONS = ("slic", "grid")
# SLIC's balance of space against colour (CIELAB units), scikit-image's default (see ``segment``).
COMPACTNESS = 10.0


def lime(classifier: Classifier, image: np.ndarray, target: int, samples: int = 1000,
         segments: int = 50, segmentation: str = "slic", hide_color: float | None = None,
         seed: int = 0, compactness: float = COMPACTNESS) -> np.ndarray:
    """LIME's weight of each segment for ``target``, painted over the segment's pixels.

    ``segmentation``: ``"slic"`` (scikit-image SLIC superpixels, about ``segments`` of them,
    ``compactness`` trading colour for square shapes: see ``segment``) or ``"grid"`` (a square
    grid of about ``segments`` cells). ``samples`` perturbed images, so
    ``samples`` evaluations; ``seed`` fixes lime's random draws. ``hide_color=None`` paints a
    switched-off segment with its mean colour (lime's default; RGB or grayscale images). Shapes:
    image ``(H, W, C)`` -> ``(H, W)``.

    >>> heatmap = lime(as_classifier(predict), image, target=3, samples=500, segmentation="grid")
    """
    lime_image = require("lime.lime_image", "method='lime'", extra="explain")
    labels = segment(image, segments, segmentation, compactness)
    picture, predict = _lime_view(classifier, image, hide_color)
    explainer = lime_image.LimeImageExplainer(random_state=seed)
    with contextlib.redirect_stderr(io.StringIO()):  # lime draws a progress bar on stderr
        result = explainer.explain_instance(
            picture, predict, labels=(target,), top_labels=None, hide_color=hide_color,
            num_samples=samples, batch_size=classifier.batch_size,
            segmentation_fn=lambda _: labels, random_seed=seed)
    heatmap = np.zeros(image.shape[:2])
    for label, weight in result.local_exp[target]:
        heatmap[labels == label] = weight
    return heatmap


def _lime_view(classifier: Classifier, image: np.ndarray, hide_color):
    """The image as lime wants it and the predict function it calls. lime paints segments with
    their mean colour only on RGB images; a grayscale one goes in as (H, W), lime makes it three
    equal channels, and the model gets one of them back."""
    channels = image.shape[2]
    if channels == 1:
        return image[..., 0], lambda images: classifier.predict(images[..., :1])
    if channels != 3 and hide_color is None:
        raise ArgumentError(f"lime paints switched-off segments with their mean colour only on RGB "
                            f"or grayscale images, and this image has {channels} channels; pass "
                            f"hide_color=<a number> (e.g. hide_color=0)")
    return image, classifier.predict


def segment(image: np.ndarray, segments: int = 50, segmentation: str = "slic",
            compactness: float = COMPACTNESS) -> np.ndarray:
    """Segment labels ``(H, W)``, numbered 0, 1, ... (lime indexes segments by these numbers).

    ``"slic"``: ``skimage.segmentation.slic(n_segments=segments, compactness=compactness,
    sigma=1)`` on the image rescaled to [0, 1] (so compactness means the same for any pixel
    range; SLIC measures colour in CIELAB on RGB images). A larger ``compactness`` makes
    squarer segments, a smaller one follows colours more closely. On 224-pixel photos, 50
    segments of compactness 10 give about 30 to 40 superpixels that follow an object's edges (a
    cup's rim, a motorcycle's red tank, a cat's eye) and that LIME's 1000 samples can weigh; at
    compactness 20 they are more regular but follow those edges less closely.
    ``"grid"``: ``round(sqrt(segments))`` rows and columns of equal cells.

    >>> segment(np.zeros((4, 4, 1)), segments=4, segmentation="grid")[:, 0]
    array([0, 0, 2, 2])
    """
    if segmentation not in SEGMENTATIONS:
        raise ArgumentError(f"segmentation must be one of {SEGMENTATIONS}, got {segmentation!r}")
    if not isinstance(segments, int | np.integer) or segments < 1:
        raise ArgumentError(f"segments must be a positive integer, got {segments!r}")
    check_number(compactness, "compactness", "lime's SLIC segmentation", low=0, bounds="(]")
    labels = _grid(image.shape[:2], max(1, round(segments ** 0.5))) if segmentation == "grid" \
        else _slic(image, segments, compactness)
    # consecutive numbers even when a cell or superpixel is empty
    return np.unique(labels, return_inverse=True)[1].reshape(labels.shape)


def _grid(size: tuple[int, int], cells: int) -> np.ndarray:
    rows = np.arange(size[0]) * cells // size[0]
    columns = np.arange(size[1]) * cells // size[1]
    return rows[:, None] * cells + columns[None, :]


def _slic(image: np.ndarray, segments: int, compactness: float) -> np.ndarray:
    slic = require("skimage.segmentation", "lime's segmentation='slic'", extra="explain").slic
    span = np.ptp(image)
    scaled = (image - image.min()) / (span if span > 0 else 1)
    return slic(scaled, n_segments=segments, compactness=compactness, sigma=1, start_label=0,
                channel_axis=-1)
